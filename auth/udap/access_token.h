// The access tokens this node's token endpoint issues and its FHIR API
// accepts (docs/udap.md, "Access tokens"): a JWT (RFC 9068, typ "at+jwt")
// signed with the node's TLS key, so any process of the node can check one
// without a database lookup. It names the registered client, its
// organization and one purpose of use, and is bound (RFC 8705 cnf.x5t#S256)
// to the client certificate of the TLS connection the token was asked for on.
#pragma once

#include <cstdint>
#include <string>

#include <openssl/evp.h>

#include "auth/udap/jws.h"
#include "common/result.h"

namespace hie::auth::udap {

struct AccessTokenClaims {
  std::string issuer;          // iss == aud: this node's FHIR base URL (server.baseUrl + "/fhir")
  std::string clientId;        // sub == client_id
  std::string organizationId;  // the registered organization's identifier (hl7-b2b organization_id)
  std::string purposeOfUse;    // one PurposeOfUse code, e.g. "TREAT"
  std::string scope;           // the granted scope, space-separated
  std::string certificateThumbprint;  // cnf.x5t#S256 (base64url SHA-256 of the client certificate's DER); "" = unbound
  std::string subjectName, subjectId, subjectRole;  // from hl7-b2b, when sent
  std::int64_t issuedAt = 0;   // iat
  std::int64_t expiresAt = 0;  // exp
  std::string jti;
};

// The signed token (compact JWS, header {"alg","typ":"at+jwt"}; alg from the key, jws_crypto.h).
Result<std::string> issueAccessToken(const AccessTokenClaims& claims, EVP_PKEY* signingKey);

// The longest an access token of this node may live (exp - iat) and be used after its iat: the
// largest udap.tokenLifetime.
constexpr std::int64_t kMaxAccessTokenLifetimeSeconds = 3600;

// Checks token at `now` for this node (expectedIssuer): the signature with one of the node's keys
// (current, then previous: tokens survive one TLS reload; previous may be null), typ "at+jwt",
// iss == aud == expectedIssuer, exp - iat <= 3600 and now - iat <= 3600, exp > now, iat <= now + 60,
// every claim present and of its type. Refusal reasons: token_malformed, token_signature,
// token_type, token_issuer, token_lifetime_too_long, token_expired, token_not_yet_valid.
// token_issuer, token_lifetime_too_long, token_expired and token_not_yet_valid carry the token's
// client_id (JwsRefusal::clientId): the token is this node's own, refused on its claims.
tl::expected<AccessTokenClaims, JwsRefusal> verifyAccessToken(const std::string& token,
                                                              const std::string& expectedIssuer, std::int64_t now,
                                                              EVP_PKEY* currentKey, EVP_PKEY* previousKey);

}  // namespace hie::auth::udap
