// Cross-check with an independent JOSE implementation: the npm package `jose`
// (tests/tools/jose-check.js, Node.js) verifies what signJws makes and signs
// what verifyJwsSignature must accept; and the fuzz seeds, signed once by
// Node's own crypto, verify here.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <openssl/x509.h>

#include "auth/udap/jws.h"
#include "auth/udap/jws_crypto.h"
#include "auth/udap/udap_claims.h"
#include "tests/support/fhir_validator.h"
#include "tests/support/test_pki.h"

namespace hie::auth::udap {
namespace {

using hie::testing::CertSpec;
using hie::testing::Credential;
using hie::testing::TestPki;

const std::string kClaims =
    R"({"iss":"https://client.example.org/udap","sub":"https://client.example.org/udap","jti":"j-1","n":[1,"\u00e9"]})";

class JoseInterop : public ::testing::Test {
 protected:
  Credential credential(hie::testing::KeyType type) const {
    CertSpec spec;
    spec.commonName = "client";
    spec.sanUris = {"https://client.example.org/udap"};
    spec.extendedKeyUsage = {"clientAuth"};
    spec.keyType = type;
    return pki.leaf(spec);
  }
  std::string write(const std::string& name, const std::string& content) {
    return hie::testing::writeFile(dir.path(), name, content);
  }

  TestPki pki = TestPki::create();
  hie::testing::TempDir dir;
};

TEST_F(JoseInterop, JoseVerifiesWhatSignJwsMakes) {
  struct Case {
    hie::testing::KeyType type;
    const char* alg;
  };
  for (const Case& c : {Case{hie::testing::KeyType::kEcP256, "ES256"}, Case{hie::testing::KeyType::kRsa2048, "RS256"}}) {
    const Credential client = credential(c.type);
    auto token = signJws(client.key(), {client.certDer(), pki.intermediate.certDer()}, "", kClaims);
    ASSERT_TRUE(token) << c.alg;
    const std::string file = write(std::string(c.alg) + ".jwt", *token);
    auto verified = hie::testing::runFhirTool("jose-check.js", {"verify", file, c.alg});
    EXPECT_EQ(verified.exitCode, 0) << c.alg << ": " << verified.output;
    EXPECT_EQ(verified.output, kClaims) << c.alg;

    // One signature bit flipped: jose refuses it as well.
    std::string tampered = *token;
    tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
    auto refused = hie::testing::runFhirTool("jose-check.js", {"verify", write("tampered.jwt", tampered), c.alg});
    EXPECT_EQ(refused.exitCode, 1) << c.alg << ": " << refused.output;
  }
}

TEST_F(JoseInterop, WhatJoseSignsVerifiesHere) {
  struct Case {
    hie::testing::KeyType type;
    const char* alg;
    JwsAlgorithm algorithm;
  };
  for (const Case& c : {Case{hie::testing::KeyType::kEcP256, "ES256", JwsAlgorithm::kES256},
                        Case{hie::testing::KeyType::kRsa2048, "RS256", JwsAlgorithm::kRS256},
                        Case{hie::testing::KeyType::kRsa2048, "RS384", JwsAlgorithm::kRS384}}) {
    const Credential client = credential(c.type);
    auto signedByJose = hie::testing::runFhirTool(
        "jose-check.js", {"sign", c.alg, write("key.pem", client.keyPem()), write("cert.pem", client.certPem()),
                          write("claims.json", kClaims)});
    ASSERT_EQ(signedByJose.exitCode, 0) << c.alg << ": " << signedByJose.output;
    auto jws = parseJws(signedByJose.output);
    ASSERT_TRUE(jws) << c.alg << ": " << jws.error().reason << " " << signedByJose.output;
    EXPECT_EQ(jws->algorithm, c.algorithm);
    EXPECT_EQ(jws->claimsJson, kClaims);
    auto chain = decodeX5c(*jws);
    ASSERT_TRUE(chain) << chain.error().reason;
    EXPECT_EQ(verifyJwsSignature(*jws, X509_get0_pubkey(chain->leaf.get())), std::nullopt) << c.alg;
    EXPECT_EQ(verifyJwsSignature(*jws, client.key()), std::nullopt) << c.alg;
  }
}

std::string seed(const std::string& name) {
  std::ifstream in(std::string(HIE_SOURCE_DIR) + "/tests/fuzz/corpus/udap_jwt/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The fuzz seeds were signed once by Node.js crypto with throwaway keys (only the certificates remain).
TEST(UdapFuzzSeeds, ValidSeedsVerifyAndPassTheClaimChecks) {
  constexpr std::int64_t kSeedNow = 1767225600;
  for (const char* name : {"es256_client_assertion.jwt", "rs256_software_statement.jwt"}) {
    auto jws = parseJws(seed(name));
    ASSERT_TRUE(jws) << name << ": " << jws.error().reason;
    auto chain = decodeX5c(*jws);
    ASSERT_TRUE(chain) << name;
    EXPECT_EQ(verifyJwsSignature(*jws, X509_get0_pubkey(chain->leaf.get())), std::nullopt) << name;
  }
  auto assertion = checkClientAssertion(parseJws(seed("es256_client_assertion.jwt"))->claimsJson,
                                        "https://node-a.example.org/oauth/token", kSeedNow);
  ASSERT_TRUE(assertion) << assertion.error().reason;
  EXPECT_EQ(assertion->b2b->purposeOfUse, "TREAT");
  auto statement = checkSoftwareStatement(parseJws(seed("rs256_software_statement.jwt"))->claimsJson,
                                          "https://node-a.example.org/oauth/register", kSeedNow);
  EXPECT_TRUE(statement) << statement.error().reason;

  EXPECT_EQ(parseJws(seed("alg_none.jwt")).error().reason, "jws_malformed");  // empty signature part
  EXPECT_EQ(parseJws(seed("alg_none_with_signature.jwt")).error().reason, "jws_algorithm");
  EXPECT_EQ(parseJws(seed("duplicate_keys.jwt")).error().reason, "jws_duplicate_key");
  EXPECT_EQ(parseJws(seed("x5c_six.jwt")).error().reason, "jws_x5c_too_many");
  EXPECT_EQ(parseJws(seed("padding.jwt")).error().reason, "jws_base64url");
  JwsLimits noX5c;
  noX5c.requireX5c = false;
  EXPECT_TRUE(parseJws(seed("access_token.jwt"), noX5c));
}

}  // namespace
}  // namespace hie::auth::udap
