#include "auth/udap/access_token.h"

#include <gtest/gtest.h>

#include <limits>

#include <openssl/evp.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "auth/udap/jws_crypto.h"
#include "common/base64.h"
#include "tests/support/test_pki.h"
#include "tests/unit/auth/udap/udap_test_keys.h"

namespace hie::auth::udap {
namespace {

using namespace hie::testing::udap;

constexpr std::int64_t kNow = 1767225600;
const std::string kIssuer = "https://node-a.example.org:8443/fhir";

AccessTokenClaims sampleClaims() {
  AccessTokenClaims c;
  c.issuer = kIssuer;
  c.clientId = "c-4f1e";
  c.organizationId = "urn:oid:2.16.840.1.113883.3.1234";
  c.purposeOfUse = "TREAT";
  c.scope = "system/Patient.read";
  c.certificateThumbprint = "";
  c.issuedAt = kNow;
  c.expiresAt = kNow + 300;
  c.jti = "t-1";
  return c;
}

Poco::JSON::Object::Ptr claimsOf(const std::string& token) {
  JwsLimits limits;
  limits.requireX5c = false;
  auto jws = parseJws(token, limits);
  if (!jws) throw std::runtime_error(jws.error().reason);
  return Poco::JSON::Parser().parse(jws->claimsJson).extract<Poco::JSON::Object::Ptr>();
}

TEST(AccessToken, RoundTripsWithEveryClaim) {
  ossl::UniquePtr<EVP_PKEY> key = ecKey("P-256");
  AccessTokenClaims c = sampleClaims();
  c.subjectName = "Dr. B";
  c.subjectId = "urn:oid:2.16.840.1.113883.4.6#1234567890";
  c.subjectRole = "207Q00000X";
  c.certificateThumbprint = "abc";
  auto token = issueAccessToken(c, key.get());
  ASSERT_TRUE(token);
  auto back = verifyAccessToken(*token, kIssuer, kNow + 10, key.get(), nullptr);
  ASSERT_TRUE(back) << back.error().reason;
  EXPECT_EQ(back->issuer, c.issuer);
  EXPECT_EQ(back->clientId, c.clientId);
  EXPECT_EQ(back->organizationId, c.organizationId);
  EXPECT_EQ(back->purposeOfUse, c.purposeOfUse);
  EXPECT_EQ(back->scope, c.scope);
  EXPECT_EQ(back->certificateThumbprint, "abc");
  EXPECT_EQ(back->subjectName, c.subjectName);
  EXPECT_EQ(back->subjectId, c.subjectId);
  EXPECT_EQ(back->subjectRole, c.subjectRole);
  EXPECT_EQ(back->issuedAt, c.issuedAt);
  EXPECT_EQ(back->expiresAt, c.expiresAt);
  EXPECT_EQ(back->jti, c.jti);

  Poco::JSON::Object::Ptr claims = claimsOf(*token);
  EXPECT_EQ(claims->getValue<std::string>("aud"), kIssuer);
  EXPECT_EQ(claims->getValue<std::string>("sub"), "c-4f1e");
  EXPECT_EQ(claims->getObject("cnf")->getValue<std::string>("x5t#S256"), "abc");
}

TEST(AccessToken, ClaimsAreExactlyTheDocumentedOnes) {
  ossl::UniquePtr<EVP_PKEY> key = rsaKey(2048);
  auto token = issueAccessToken(sampleClaims(), key.get());
  ASSERT_TRUE(token);
  JwsLimits limits;
  limits.requireX5c = false;
  auto jws = parseJws(*token, limits);
  ASSERT_TRUE(jws);
  EXPECT_EQ(jws->headerJson, R"({"alg":"RS256","typ":"at+jwt"})");
  EXPECT_EQ(jws->claimsJson,
            R"({"iss":"https://node-a.example.org:8443/fhir","aud":"https://node-a.example.org:8443/fhir",)"
            R"("sub":"c-4f1e","client_id":"c-4f1e","iat":1767225600,"exp":1767225900,"jti":"t-1",)"
            R"("scope":"system/Patient.read","organization_id":"urn:oid:2.16.840.1.113883.3.1234",)"
            R"("purpose_of_use":"TREAT"})");
  EXPECT_TRUE(verifyAccessToken(*token, kIssuer, kNow, key.get(), nullptr));
}

TEST(AccessToken, Refusals) {
  ossl::UniquePtr<EVP_PKEY> key = ecKey("P-256");
  ossl::UniquePtr<EVP_PKEY> other = ecKey("P-256");
  ossl::UniquePtr<EVP_PKEY> rsa = rsaKey(2048);
  const std::string token = *issueAccessToken(sampleClaims(), key.get());
  auto reason = [&](const std::string& t, const std::string& issuer, std::int64_t now, EVP_PKEY* current,
                    EVP_PKEY* previous) {
    auto r = verifyAccessToken(t, issuer, now, current, previous);
    return r ? std::string("accepted") : r.error().reason;
  };
  EXPECT_EQ(reason(token, kIssuer, kNow, key.get(), nullptr), "accepted");
  EXPECT_EQ(reason(token, kIssuer, kNow + 299, key.get(), nullptr), "accepted");
  EXPECT_EQ(reason(token, kIssuer, kNow + 300, key.get(), nullptr), "token_expired");
  EXPECT_EQ(reason(token, kIssuer, kNow - 60, key.get(), nullptr), "accepted");
  EXPECT_EQ(reason(token, kIssuer, kNow - 61, key.get(), nullptr), "token_not_yet_valid");
  EXPECT_EQ(reason(token, "https://node-b.example.org:8443/fhir", kNow, key.get(), nullptr), "token_issuer");
  // Foreign key (another node's token), and keys of another kind.
  EXPECT_EQ(reason(token, kIssuer, kNow, other.get(), nullptr), "token_signature");
  EXPECT_EQ(reason(token, kIssuer, kNow, rsa.get(), other.get()), "token_signature");
  EXPECT_EQ(reason(token, kIssuer, kNow, nullptr, nullptr), "token_signature");
  // The previous key (one TLS reload ago) still verifies; the current one is tried first.
  EXPECT_EQ(reason(token, kIssuer, kNow, other.get(), key.get()), "accepted");
  EXPECT_EQ(reason(token, kIssuer, kNow, rsa.get(), key.get()), "accepted");
  // Malformed.
  EXPECT_EQ(reason("", kIssuer, kNow, key.get(), nullptr), "token_malformed");
  EXPECT_EQ(reason("a.b.c", kIssuer, kNow, key.get(), nullptr), "token_malformed");
  EXPECT_EQ(reason(token + "x", kIssuer, kNow, key.get(), nullptr), "token_malformed");
  // A JWS this key signed that is not an access token: wrong typ, missing claims, claims of the wrong type.
  auto signedClaims = [&](const std::string& typ, const std::string& claims) {
    return *signJwsWithoutX5c(key.get(), typ, "", claims);
  };
  JwsLimits noX5c;
  noX5c.requireX5c = false;
  const std::string good = parseJws(token, noX5c)->claimsJson;
  EXPECT_EQ(reason(signedClaims("JWT", good), kIssuer, kNow, key.get(), nullptr), "token_type");
  EXPECT_EQ(reason(signedClaims("", good), kIssuer, kNow, key.get(), nullptr), "token_type");
  EXPECT_EQ(reason(signedClaims("at+jwt", good), kIssuer, kNow, key.get(), nullptr), "accepted");
  EXPECT_EQ(reason(signedClaims("at+jwt", R"({"iss":"x"})"), kIssuer, kNow, key.get(), nullptr), "token_malformed");
  std::string stringExp = good;
  stringExp.replace(stringExp.find("\"exp\":1767225900"), 16, "\"exp\":\"1767225900\"");
  EXPECT_EQ(reason(signedClaims("at+jwt", stringExp), kIssuer, kNow, key.get(), nullptr), "token_malformed");
  std::string otherSub = good;
  otherSub.replace(otherSub.find("\"sub\":\"c-4f1e\""), 14, "\"sub\":\"c-xxxx\"");
  EXPECT_EQ(reason(signedClaims("at+jwt", otherSub), kIssuer, kNow, key.get(), nullptr), "token_malformed");
  std::string otherAud = good;
  otherAud.replace(otherAud.find("\"aud\":\"https://node-a"), 21, "\"aud\":\"https://node-b");
  EXPECT_EQ(reason(signedClaims("at+jwt", otherAud), kIssuer, kNow, key.get(), nullptr), "token_issuer");
  std::string badCnf = good;
  badCnf.insert(badCnf.size() - 1, R"(,"cnf":{"x5t":"abc"})");
  EXPECT_EQ(reason(signedClaims("at+jwt", badCnf), kIssuer, kNow, key.get(), nullptr), "token_malformed");
}

TEST(AccessToken, NoTokenLivesOrIsUsedLongerThanAnHour) {
  // Signed with the node's key all the same (misissued, or the key misused): refused on its times.
  ossl::UniquePtr<EVP_PKEY> key = ecKey("P-256");
  auto reasonFor = [&](std::int64_t iat, std::int64_t exp, std::int64_t now) {
    AccessTokenClaims c = sampleClaims();
    c.issuedAt = iat;
    c.expiresAt = exp;
    auto r = verifyAccessToken(*issueAccessToken(c, key.get()), kIssuer, now, key.get(), nullptr);
    return r ? std::string("accepted") : r.error().reason + " " + r.error().clientId;
  };
  EXPECT_EQ(reasonFor(kNow, kNow + 3600, kNow + 3599), "accepted");
  EXPECT_EQ(reasonFor(kNow, kNow + 3601, kNow), "token_lifetime_too_long c-4f1e");
  EXPECT_EQ(reasonFor(kNow, kNow + 86400 * 365, kNow + 10), "token_lifetime_too_long c-4f1e");
  // Age: now - iat over an hour, whatever exp says.
  EXPECT_EQ(reasonFor(kNow - 3601, kNow + 10, kNow), "token_lifetime_too_long c-4f1e");
  EXPECT_EQ(reasonFor(kNow - 3600, kNow + 10, kNow), "token_lifetime_too_long c-4f1e");  // lifetime 3610
  EXPECT_EQ(reasonFor(kNow - 3590, kNow + 10, kNow), "accepted");
  // Expired or not yet valid comes first: a stale 300 s token is expired, not "too long".
  EXPECT_EQ(reasonFor(kNow, kNow + 300, kNow + 7200), "token_expired c-4f1e");
  EXPECT_EQ(reasonFor(kNow + 3700, kNow + 3700 + 7200, kNow), "token_not_yet_valid c-4f1e");
  // Extremes do not overflow.
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(reasonFor(min, max, kNow), "token_lifetime_too_long c-4f1e");
  EXPECT_EQ(reasonFor(max - 10, max, kNow), "token_not_yet_valid c-4f1e");
  EXPECT_EQ(reasonFor(kNow, min, kNow), "token_expired c-4f1e");
}

TEST(AccessToken, ARefusalAfterTheSignatureNamesTheClient) {
  // For the audit entry (authentication mtls+udap): a token this node signed names its client even
  // when refused on its claims; one whose signature did not verify names nobody.
  ossl::UniquePtr<EVP_PKEY> key = ecKey("P-256");
  ossl::UniquePtr<EVP_PKEY> other = ecKey("P-256");
  const std::string token = *issueAccessToken(sampleClaims(), key.get());
  auto clientOf = [&](const std::string& issuer, std::int64_t now, EVP_PKEY* current) {
    auto r = verifyAccessToken(token, issuer, now, current, nullptr);
    return r ? std::string("accepted") : r.error().reason + " " + r.error().clientId;
  };
  EXPECT_EQ(clientOf(kIssuer, kNow + 300, key.get()), "token_expired c-4f1e");
  EXPECT_EQ(clientOf(kIssuer, kNow - 61, key.get()), "token_not_yet_valid c-4f1e");
  EXPECT_EQ(clientOf("https://node-b.example.org:8443/fhir", kNow, key.get()), "token_issuer c-4f1e");
  EXPECT_EQ(clientOf(kIssuer, kNow, other.get()), "token_signature ");
  EXPECT_EQ(verifyAccessToken("a.b.c", kIssuer, kNow, key.get(), nullptr).error().clientId, "");
}

TEST(AccessToken, BoundTokenCarriesTheCertificateThumbprint) {
  hie::testing::TestPki pki = hie::testing::TestPki::create();
  hie::testing::CertSpec spec;
  spec.commonName = "client";
  spec.extendedKeyUsage = {"clientAuth"};
  hie::testing::Credential client = pki.leaf(spec);
  ossl::UniquePtr<EVP_PKEY> key = ecKey("P-384");
  AccessTokenClaims c = sampleClaims();
  c.certificateThumbprint = certificateThumbprintS256(client.cert());
  auto back = verifyAccessToken(*issueAccessToken(c, key.get()), kIssuer, kNow, key.get(), nullptr);
  ASSERT_TRUE(back);
  // Computed here independently: SHA-256 of the DER, base64url without padding.
  const std::string der = client.certDer();
  unsigned char md[32];
  unsigned int len = 0;
  ASSERT_EQ(EVP_Digest(der.data(), der.size(), md, &len, EVP_sha256(), nullptr), 1);
  std::string expected = base64Encode(std::string(reinterpret_cast<char*>(md), len));
  expected.erase(expected.find_last_not_of('=') + 1);
  for (char& ch : expected) ch = ch == '+' ? '-' : ch == '/' ? '_' : ch;
  EXPECT_EQ(back->certificateThumbprint, expected);
}

TEST(AccessToken, UnusableKeyIsAnError) {
  ossl::UniquePtr<EVP_PKEY> ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  EXPECT_FALSE(issueAccessToken(sampleClaims(), ed.get()));
}

}  // namespace
}  // namespace hie::auth::udap
