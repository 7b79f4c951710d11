// nodeAccessTokenVerifier (bearer_check.h), apart from BearerCheck: the one piece that needs the
// node's TLS material and the access token code of auth/udap.
#include <utility>

#include "auth/tls/tls_material_store.h"
#include "exchange/http/bearer_check.h"

namespace hie::exchange {

AccessTokenVerifier nodeAccessTokenVerifier(const auth::TlsMaterialStore& tls, std::string issuer) {
  return [&tls, issuer = std::move(issuer)](const std::string& token,
                                            std::int64_t now) -> tl::expected<auth::udap::AccessTokenClaims, auth::udap::JwsRefusal> {
    const auto current = tls.current();
    const auto previous = tls.previous();
    EVP_PKEY* currentKey = current && current->material ? current->material->key.get() : nullptr;
    EVP_PKEY* previousKey = previous && previous->material ? previous->material->key.get() : nullptr;
    auto checked = auth::udap::verifyAccessToken(token, issuer, now, currentKey, nullptr);
    if (checked || checked.error().reason != "token_signature" || previousKey == nullptr) return checked;
    // The key before the last reload: only for what it signed before the reload (iat up to the moment
    // the current material took over), and then for the token's lifetime as any token.
    auto old = auth::udap::verifyAccessToken(token, issuer, now, previousKey, nullptr);
    if (!old) {
      // Whoever still holds a replaced key (it may have been replaced because it leaked) can sign any
      // client_id: a refused token of that key names none in the audit (authentication mtls).
      old.error().clientId.clear();
      return old;
    }
    if (old->issuedAt > current->loadedAt) {
      return tl::make_unexpected(auth::udap::JwsRefusal{
          "token_key_retired", "The access token was signed with a key this node had already replaced.", ""});
    }
    return old;
  };
}

}  // namespace hie::exchange
