// nodeAccessTokenVerifier across a TLS reload (TlsMaterialStore over real files): a token of the
// previous key stays valid only when issued before the reload; new tokens are the new key's; a
// reload that fails the check serve installs with udap.enabled is refused and the old key stays.
#include <gtest/gtest.h>

#include <ctime>

#include "auth/identity/certificate_identity.h"
#include "auth/tls/tls_material_store.h"
#include "auth/udap/access_token.h"
#include "exchange/http/bearer_check.h"
#include "tests/support/test_pki.h"

namespace hie::exchange {
namespace {

using testing::CertSpec;
using testing::Credential;
using testing::TempDir;
using testing::TestPki;

const std::string kFhir = "https://node-a.example.org/fhir";

class NodeTokenVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    first = nodeCert();
    install(first);
    auth::TlsFiles files;
    files.certificate = dir.path() + "/node.crt";
    files.privateKey = dir.path() + "/node.key";
    files.trustBundle = testing::writeFile(dir.path(), "ca.pem", pki.root.certPem());
    auto opened = auth::TlsMaterialStore::open(files);
    ASSERT_TRUE(opened) << opened.error().internal;
    tls = std::move(*opened);
    verify = nodeAccessTokenVerifier(*tls, kFhir);
  }
  Credential nodeCert(std::vector<std::string> uris = {kFhir}) {
    CertSpec spec;
    spec.commonName = "node-a";
    spec.sanUris = std::move(uris);
    spec.extendedKeyUsage = {"serverAuth", "clientAuth"};
    return pki.leaf(spec);
  }
  void install(const Credential& c) {
    testing::writeFile(dir.path(), "node.crt", pki.chainPem(c));
    testing::writeFile(dir.path(), "node.key", c.keyPem());
  }
  static std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }
  static std::string token(const Credential& signer, std::int64_t iat) {
    auth::udap::AccessTokenClaims c;
    c.issuer = kFhir;
    c.clientId = "client-1";
    c.organizationId = "urn:oid:1.2.3";
    c.purposeOfUse = "TREAT";
    c.scope = "system/*.read";
    c.issuedAt = iat;
    c.expiresAt = iat + 300;
    c.jti = "t";
    return *auth::udap::issueAccessToken(c, signer.key());
  }
  std::string outcome(const std::string& t) {
    auto r = verify(t, now());
    return r ? "accepted" : r.error().reason + " " + r.error().clientId;
  }

  TestPki pki = TestPki::create();
  TempDir dir;
  Credential first;
  std::unique_ptr<auth::TlsMaterialStore> tls;
  AccessTokenVerifier verify;
};

TEST_F(NodeTokenVerifierTest, ThePreviousKeyCountsOnlyForWhatItSignedBeforeTheReload) {
  const std::string before = token(first, now() - 5);
  EXPECT_EQ(outcome(before), "accepted");
  const Credential second = nodeCert();
  install(second);
  ASSERT_TRUE(tls->reload());
  EXPECT_EQ(outcome(before), "accepted");  // issued before the reload, within its lifetime
  EXPECT_EQ(outcome(token(second, now())), "accepted");
  // Signed with the replaced key but dated after the reload: not this node's, and it names no client
  // (whoever holds a replaced key can write any client_id into it).
  EXPECT_EQ(outcome(token(first, now() + 30)), "token_key_retired ");
  // Any refusal of a token of the replaced key names no client either.
  EXPECT_EQ(outcome(token(first, now() - 4000)), "token_expired ");
  // Two reloads on, the first key is gone altogether.
  install(nodeCert());
  ASSERT_TRUE(tls->reload());
  EXPECT_EQ(outcome(before), "token_signature ");
}

TEST_F(NodeTokenVerifierTest, AReloadThatFailsTheInstalledCheckIsRefusedAndTheOldKeyStays) {
  // As serve installs it with udap.enabled: the SAN URI of the FHIR base must stay.
  tls->requireOnReload([](const auth::TlsMaterial& m) -> std::optional<std::string> {
    auto identity = auth::extractIdentity(m.leaf.get());
    for (const auto& uri : identity ? identity->sanUris : std::vector<std::string>{}) {
      if (uri == kFhir) return std::nullopt;
    }
    return "no SAN URI " + kFhir;
  });
  const std::string before = token(first, now() - 5);
  install(nodeCert({"urn:oid:1.2.3"}));  // no FHIR base URI
  auto refused = tls->reload();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().internal.find("no SAN URI"), std::string::npos) << refused.error().internal;
  EXPECT_EQ(X509_cmp(tls->current()->material->leaf.get(), first.cert()), 0);
  EXPECT_EQ(tls->previous(), nullptr);
  EXPECT_EQ(outcome(before), "accepted");
  EXPECT_EQ(outcome(token(first, now())), "accepted");  // the old key still signs and is current
  // A certificate that passes is taken.
  const Credential good = nodeCert();
  install(good);
  ASSERT_TRUE(tls->reload());
  EXPECT_EQ(X509_cmp(tls->current()->material->leaf.get(), good.cert()), 0);
}

}  // namespace
}  // namespace hie::exchange
