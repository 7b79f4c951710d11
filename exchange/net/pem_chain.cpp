#include "exchange/net/pem_chain.h"

#include <openssl/pem.h>

#include "common/ossl.h"

namespace hie::exchange {
namespace {

template <class Write>
Result<std::string> written(Write write, const char* what) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) {
    return fail(ErrorCode::kInternal, std::string(what) + " failed: " + ossl::drainErrors(), "internal error");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

}  // namespace

Result<std::string> pemChain(const X509* leaf, const STACK_OF(X509) * more) {
  std::string out;
  auto add = [&out](const X509* cert) -> Result<void> {
    auto pem = written([cert](BIO* bio) { return PEM_write_bio_X509(bio, const_cast<X509*>(cert)); },
                       "PEM_write_bio_X509");
    if (!pem) return tl::make_unexpected(pem.error());
    out += *pem;
    return {};
  };
  if (auto r = add(leaf); !r) return tl::make_unexpected(r.error());
  for (int i = 0; more != nullptr && i < sk_X509_num(more); ++i) {
    const X509* cert = sk_X509_value(more, i);
    if (X509_cmp(cert, leaf) == 0) continue;  // a client's chain as OpenSSL keeps it may start with the leaf
    if (auto r = add(cert); !r) return tl::make_unexpected(r.error());
  }
  return out;
}

Result<std::string> privateKeyPem(EVP_PKEY* key) {
  return written(
      [key](BIO* bio) { return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); },
      "PEM_write_bio_PrivateKey");
}

}  // namespace hie::exchange
