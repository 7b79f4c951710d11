#include "auth/signatures/tls_signing_key.h"

#include <openssl/crypto.h>

#include "auth/tls/development_ca.h"

namespace hie::auth {

Result<MessageSigningKey> tlsSigningKey(const TlsMaterial& material) {
  if (!material.key || !material.leaf) return fail(ErrorCode::kInvalidInput, "no TLS key and certificate to sign with");
  auto chain = certificateChainPem(material.leaf.get(), material.intermediates.get());
  if (!chain) return tl::make_unexpected(chain.error());
  auto key = privateKeyPem(material.key.get());
  if (!key) return tl::make_unexpected(key.error());
  auto signing = MessageSigningKey::fromPem(*key, *chain);
  OPENSSL_cleanse(key->data(), key->size());  // the key's only copy outside OpenSSL's own memory
  return signing;
}

}  // namespace hie::auth
