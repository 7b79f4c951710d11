#include "auth/tls/tls_material.h"

#include <ctime>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "auth/identity/certificate_identity.h"
#include "common/file.h"

namespace hie::auth {
namespace {

// Refuses to prompt for a passphrase: hie-node never reads stdin.
int noPassphrase(char*, int, int, void*) { return -1; }

}  // namespace

Result<TlsMaterial> loadTlsMaterial(const TlsFiles& files) {
  TlsMaterial m;

  auto certText = readFile(files.certificate, "certificate file");
  if (!certText) return tl::make_unexpected(certText.error());
  auto chain = parseCertificateChainPem(*certText);
  if (!chain) {
    return tl::make_unexpected(fileError("certificate file", files.certificate, chain.error().internal));
  }
  m.leaf.reset(sk_X509_shift(chain->get()));
  m.intermediates = std::move(*chain);
  if (X509_cmp_current_time(X509_get0_notAfter(m.leaf.get())) <= 0) {
    return tl::make_unexpected(
        fileError("certificate file", files.certificate, "the node's own certificate has expired"));
  }

  auto keyText = readFile(files.privateKey, "private key file");
  if (!keyText) return tl::make_unexpected(keyText.error());
  {
    ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(keyText->data(), static_cast<int>(keyText->size())));
    ERR_clear_error();
    m.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &noPassphrase, nullptr));
    if (!m.key) {
      const bool encrypted = keyText->find("ENCRYPTED") != std::string::npos;
      ossl::drainErrors();
      return tl::make_unexpected(fileError(
          "private key file", files.privateKey,
          encrypted ? "the key is encrypted; hie-node needs an unencrypted PEM key protected by file permissions"
                    : "no readable PEM private key"));
    }
  }
  if (X509_check_private_key(m.leaf.get(), m.key.get()) != 1) {
    ossl::drainErrors();
    return tl::make_unexpected(fileError("private key file", files.privateKey,
                                         "the key does not match the certificate in " + files.certificate));
  }

  auto bundleText = readFile(files.trustBundle, "trust bundle");
  if (!bundleText) return tl::make_unexpected(bundleText.error());
  auto anchors = parseCertificateChainPem(*bundleText);
  if (!anchors) return tl::make_unexpected(fileError("trust bundle", files.trustBundle, anchors.error().internal));
  m.anchors = std::move(*anchors);

  if (!files.crl.empty()) {
    auto crlText = readFile(files.crl, "CRL file");
    if (!crlText) return tl::make_unexpected(crlText.error());
    ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(crlText->data(), static_cast<int>(crlText->size())));
    ERR_clear_error();
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, &noPassphrase, nullptr)) {
      m.crls.emplace_back(crl);
    }
    unsigned long err = ERR_peek_last_error();
    const bool cleanEnd = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
    if ((err != 0 && !cleanEnd) || m.crls.empty()) {
      ossl::drainErrors();
      return tl::make_unexpected(fileError("CRL file", files.crl, "no readable PEM CRL"));
    }
    ERR_clear_error();
    for (const auto& crl : m.crls) {
      CrlInfo info;
      info.issuerDn = ossl::nameOneLine(X509_CRL_get_issuer(crl.get()));
      info.nextUpdate = ossl::epochSeconds(X509_CRL_get0_nextUpdate(crl.get())).value_or(0);
      m.crlInfo.push_back(std::move(info));
    }
  }
  return m;
}

STACK_OF(X509_NAME) * clientCaNames(const TlsMaterial& material) {
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (int i = 0; names != nullptr && i < sk_X509_num(material.anchors.get()); ++i) {
    ossl::UniquePtr<X509_NAME> dup(X509_NAME_dup(X509_get_subject_name(sk_X509_value(material.anchors.get(), i))));
    if (dup && sk_X509_NAME_push(names, dup.get()) != 0) dup.release();  // the stack owns it now
  }
  return names;
}

Result<ossl::UniquePtr<X509_STORE>> makeVerifyStore(const TlsMaterial& material) {
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (!store) return fail(ErrorCode::kInternal, "X509_STORE_new failed", "internal error");
  for (int i = 0; i < sk_X509_num(material.anchors.get()); ++i) {
    if (X509_STORE_add_cert(store.get(), sk_X509_value(material.anchors.get(), i)) != 1) {
      ossl::drainErrors();  // a duplicate anchor is harmless
    }
  }
  unsigned long flags = X509_V_FLAG_X509_STRICT;
  if (!material.crls.empty()) {
    for (const auto& crl : material.crls) {
      if (X509_STORE_add_crl(store.get(), crl.get()) != 1) ossl::drainErrors();
    }
    flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  }
  X509_STORE_set_flags(store.get(), flags);
  return store;
}

}  // namespace hie::auth
