#include "auth/tls/tls_material_store.h"

#include <sys/stat.h>

#include <ctime>

#include <openssl/err.h>

namespace hie::auth {
namespace {

int useCurrentMaterial(SSL* ssl, void* arg) {
  const auto loaded = static_cast<const TlsMaterialStore*>(arg)->current();
  const TlsMaterial& m = *loaded->material;
  if (SSL_use_cert_and_key(ssl, m.leaf.get(), m.key.get(), m.intermediates.get(), 1) != 1) return 0;
  if (SSL_set1_verify_cert_store(ssl, loaded->verifyStore.get()) != 1) return 0;
  if (STACK_OF(X509_NAME)* names = clientCaNames(m)) SSL_set_client_CA_list(ssl, names);  // takes it
  return 1;
}

}  // namespace

Result<bool> checkCrlIssuers(const TlsMaterial& material, const std::string& crlFile) {
  for (const auto& crl : material.crls) {
    bool known = false;
    auto tryIssuers = [&](STACK_OF(X509) * certs) {
      for (int i = 0; !known && certs != nullptr && i < sk_X509_num(certs); ++i) {
        X509* ca = sk_X509_value(certs, i);
        if (X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl.get())) != 0) continue;
        EVP_PKEY* key = X509_get0_pubkey(ca);
        known = key != nullptr && X509_CRL_verify(crl.get(), key) == 1;
      }
    };
    tryIssuers(material.anchors.get());
    tryIssuers(material.intermediates.get());
    ERR_clear_error();
    if (!known) {
      const std::string issuer = ossl::nameOneLine(X509_CRL_get_issuer(crl.get()));
      return fail(ErrorCode::kInvalidInput, "CRL file " + crlFile + ": a CRL from an unknown issuer (" + issuer +
                                                "): it is signed by neither a trust anchor nor the node's own CA chain");
    }
  }
  return true;
}

Result<std::shared_ptr<LoadedTls>> TlsMaterialStore::load(const TlsFiles& files) {
  auto material = loadTlsMaterial(files);
  if (!material) return tl::make_unexpected(material.error());
  if (auto issuers = checkCrlIssuers(*material, files.crl); !issuers) return tl::make_unexpected(issuers.error());
  auto store = makeVerifyStore(*material);
  if (!store) return tl::make_unexpected(store.error());
  auto loaded = std::make_shared<LoadedTls>();
  loaded->material = std::make_shared<const TlsMaterial>(std::move(*material));
  loaded->verifyStore = std::move(*store);
  loaded->loadedAt = static_cast<std::int64_t>(std::time(nullptr));
  return loaded;
}

Result<std::unique_ptr<TlsMaterialStore>> TlsMaterialStore::open(const TlsFiles& files) {
  std::unique_ptr<TlsMaterialStore> store(new TlsMaterialStore(files));
  auto loaded = load(files);
  if (!loaded) return tl::make_unexpected(loaded.error());
  store->current_ = *loaded;
  store->stamps_ = store->stamps();
  return store;
}

std::shared_ptr<const LoadedTls> TlsMaterialStore::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

std::shared_ptr<const LoadedTls> TlsMaterialStore::previous() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return previous_;
}

std::vector<std::pair<long long, long long>> TlsMaterialStore::stamps() const {
  std::vector<std::pair<long long, long long>> out;
  for (const std::string* path : {&files_.certificate, &files_.privateKey, &files_.trustBundle, &files_.crl}) {
    struct stat st {};
    if (path->empty() || ::stat(path->c_str(), &st) != 0) {
      out.emplace_back(-1, -1);
    } else {
      out.emplace_back(static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec,
                       static_cast<long long>(st.st_size));
    }
  }
  return out;
}

bool TlsMaterialStore::filesChanged() const {
  const auto now = stamps();
  std::lock_guard<std::mutex> lock(mutex_);
  return now != stamps_;
}

void TlsMaterialStore::requireOnReload(MaterialCheck check) {
  std::lock_guard<std::mutex> lock(mutex_);
  reloadCheck_ = std::move(check);
}

Result<bool> TlsMaterialStore::reload() {
  MaterialCheck check;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    check = reloadCheck_;
  }
  const auto seen = stamps();
  auto loaded = load(files_);
  // Outside the lock: handshakes read current() meanwhile.
  const std::optional<std::string> problem =
      loaded && check ? check(*(*loaded)->material) : std::optional<std::string>();
  std::lock_guard<std::mutex> lock(mutex_);
  stamps_ = seen;  // a broken file is reported once, not on every poll
  if (!loaded) return tl::make_unexpected(loaded.error());
  if (problem) return fail(ErrorCode::kInvalidInput, *problem, *problem);
  // Taking over now: what the previous key signed after this moment is not this node's (see loadedAt).
  (*loaded)->loadedAt = static_cast<std::int64_t>(std::time(nullptr));
  previous_ = std::move(current_);
  current_ = *loaded;
  return true;
}

void TlsMaterialStore::attachTo(SSL_CTX* serverContext) { SSL_CTX_set_cert_cb(serverContext, &useCurrentMaterial, this); }

}  // namespace hie::auth
