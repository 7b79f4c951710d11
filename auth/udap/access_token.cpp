#include "auth/udap/access_token.h"

#include <limits>

#include <Poco/JSON/Object.h>

#include "auth/udap/jose_json.h"
#include "auth/udap/jws_crypto.h"
#include "common/json_writer.h"

namespace hie::auth::udap {

namespace {

constexpr const char* kAccessTokenType = "at+jwt";  // RFC 9068 section 2.1
constexpr std::int64_t kIssuedAtSkewSeconds = 60;

tl::unexpected<JwsRefusal> refuse(std::string reason, std::string detail, std::string clientId = "") {
  return tl::make_unexpected(JwsRefusal{std::move(reason), std::move(detail), std::move(clientId)});
}

bool verifiesWith(const ParsedJws& jws, EVP_PKEY* key) {
  return key != nullptr && !verifyJwsSignature(jws, key).has_value();
}

}  // namespace

Result<std::string> issueAccessToken(const AccessTokenClaims& claims, EVP_PKEY* signingKey) {
  JsonWriter json;
  json.beginObject()
      .member("iss", claims.issuer)
      .member("aud", claims.issuer)
      .member("sub", claims.clientId)
      .member("client_id", claims.clientId)
      .member("iat", claims.issuedAt)
      .member("exp", claims.expiresAt)
      .member("jti", claims.jti)
      .member("scope", claims.scope)
      .member("organization_id", claims.organizationId)
      .member("purpose_of_use", claims.purposeOfUse);
  if (!claims.subjectName.empty()) json.member("subject_name", claims.subjectName);
  if (!claims.subjectId.empty()) json.member("subject_id", claims.subjectId);
  if (!claims.subjectRole.empty()) json.member("subject_role", claims.subjectRole);
  if (!claims.certificateThumbprint.empty()) {
    json.key("cnf").beginObject().member("x5t#S256", claims.certificateThumbprint).endObject();
  }
  json.endObject();
  return signJwsWithoutX5c(signingKey, kAccessTokenType, "", json.take());
}

tl::expected<AccessTokenClaims, JwsRefusal> verifyAccessToken(const std::string& token,
                                                              const std::string& expectedIssuer, std::int64_t now,
                                                              EVP_PKEY* currentKey, EVP_PKEY* previousKey) {
  JwsLimits limits;
  limits.requireX5c = false;
  auto jws = parseJws(token, limits);
  if (!jws) return refuse("token_malformed", "The access token is not a well-formed JWS: " + jws.error().detail);
  if (!verifiesWith(*jws, currentKey) && !verifiesWith(*jws, previousKey)) {
    return refuse("token_signature", "The access token was not signed by this node.");
  }
  if (jws->typ != kAccessTokenType) return refuse("token_type", "The token's typ is not at+jwt.");

  auto object = parseJsonObject(jws->claimsJson);
  if (!object) return refuse("token_malformed", "The access token's claims are not a JSON object.");
  const Poco::JSON::Object& c = **object;
  AccessTokenClaims out;
  struct Text {
    const char* name;
    std::string* target;
  };
  std::string aud, sub;
  for (const Text& t : {Text{"iss", &out.issuer}, Text{"aud", &aud}, Text{"sub", &sub}, Text{"client_id", &out.clientId},
                        Text{"jti", &out.jti}, Text{"scope", &out.scope}, Text{"organization_id", &out.organizationId},
                        Text{"purpose_of_use", &out.purposeOfUse}}) {
    std::optional<std::string> v = jsonString(c, t.name);
    if (!v) return refuse("token_malformed", std::string("The access token has no string ") + t.name + " claim.");
    *t.target = *v;
  }
  for (const Text& t : {Text{"subject_name", &out.subjectName}, Text{"subject_id", &out.subjectId},
                        Text{"subject_role", &out.subjectRole}}) {
    if (!c.has(t.name)) continue;
    std::optional<std::string> v = jsonString(c, t.name);
    if (!v) return refuse("token_malformed", std::string("The access token's ") + t.name + " is not a string.");
    *t.target = *v;
  }
  std::optional<std::int64_t> iat = jsonInteger(c, "iat");
  std::optional<std::int64_t> exp = jsonInteger(c, "exp");
  if (!iat || !exp) return refuse("token_malformed", "The access token's iat or exp is not an integer.");
  out.issuedAt = *iat;
  out.expiresAt = *exp;
  if (c.has("cnf")) {
    Poco::JSON::Object::Ptr cnf = c.getObject("cnf");
    std::optional<std::string> thumbprint = cnf.isNull() ? std::nullopt : jsonString(*cnf, "x5t#S256");
    if (!thumbprint || thumbprint->empty()) {
      return refuse("token_malformed", "The access token's cnf has no x5t#S256 string.");
    }
    out.certificateThumbprint = *thumbprint;
  }
  if (sub != out.clientId || out.clientId.empty()) {
    return refuse("token_malformed", "The access token's sub and client_id differ.");
  }
  // From here on the token is this node's own (its signature verified) and names its client: a
  // refusal carries the client_id for the audit entry (authentication mtls+udap).
  if (out.issuer != expectedIssuer || aud != expectedIssuer) {
    return refuse("token_issuer", "The access token was issued for another server.", out.clientId);
  }
  if (*exp <= now) return refuse("token_expired", "The access token has expired.", out.clientId);
  if (*iat > now + kIssuedAtSkewSeconds) {
    return refuse("token_not_yet_valid", "The access token's iat is in the future.", out.clientId);
  }
  // Never longer than the longest lifetime this node issues (udap.tokenLifetime <= 3600 s), however
  // it was signed: a misissued or forged long-lived token is refused, not honoured until its exp.
  // After the two checks above (an expired token is token_expired, whatever its lifetime); iat is at
  // most now + 60 here, so iat + max cannot overflow.
  if (*exp > *iat + kMaxAccessTokenLifetimeSeconds || *iat < now - kMaxAccessTokenLifetimeSeconds) {
    return refuse("token_lifetime_too_long", "The access token's lifetime or age is over 3600 seconds.", out.clientId);
  }
  return out;
}

}  // namespace hie::auth::udap
