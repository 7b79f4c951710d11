#include "exchange/peers/tls_signing_key.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "common/ossl.h"

namespace hie::exchange {
namespace {

std::string contents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

Result<auth::MessageSigningKey> tlsSigningKey(const auth::TlsMaterial& material) {
  if (!material.key || !material.leaf) return fail(ErrorCode::kInvalidInput, "no TLS key and certificate to sign with");
  ossl::UniquePtr<BIO> keyPem(BIO_new(BIO_s_mem()));
  ossl::UniquePtr<BIO> chainPem(BIO_new(BIO_s_mem()));
  if (!keyPem || !chainPem ||
      PEM_write_bio_PrivateKey(keyPem.get(), material.key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(chainPem.get(), material.leaf.get()) != 1) {
    return fail(ErrorCode::kInvalidInput, "cannot encode the TLS key for signing: " + ossl::drainErrors());
  }
  if (material.intermediates) {
    for (int i = 0; i < sk_X509_num(material.intermediates.get()); ++i) {
      if (PEM_write_bio_X509(chainPem.get(), sk_X509_value(material.intermediates.get(), i)) != 1) {
        return fail(ErrorCode::kInvalidInput, "cannot encode the TLS certificate chain: " + ossl::drainErrors());
      }
    }
  }
  std::string key = contents(keyPem.get());
  auto signing = auth::MessageSigningKey::fromPem(key, contents(chainPem.get()));
  OPENSSL_cleanse(key.data(), key.size());  // the key's only copy outside OpenSSL's own memory
  return signing;
}

}  // namespace hie::exchange
