// nodeAccessTokenVerifier (bearer_check.h), apart from BearerCheck: the one piece that needs the
// node's TLS material and the access token code of auth/udap.
#include <utility>

#include "auth/tls/tls_material_store.h"
#include "exchange/http/bearer_check.h"

namespace hie::exchange {

AccessTokenVerifier nodeAccessTokenVerifier(const auth::TlsMaterialStore& tls, std::string issuer) {
  return [&tls, issuer = std::move(issuer)](const std::string& token, std::int64_t now) {
    const auto current = tls.current();
    const auto previous = tls.previous();
    EVP_PKEY* currentKey = current && current->material ? current->material->key.get() : nullptr;
    EVP_PKEY* previousKey = previous && previous->material ? previous->material->key.get() : nullptr;
    return auth::udap::verifyAccessToken(token, issuer, now, currentKey, previousKey);
  };
}

}  // namespace hie::exchange
