// ClientRecheck without sockets: a verified client stands until the earliest
// date its verification depended on, is verified again after it or after a
// reload, and an unverified (resumed) client is verified before it is served.
#include "auth/tls/client_standing.h"

#include <ctime>

#include <gtest/gtest.h>

#include "auth/tls/expiry.h"
#include "auth/tls/server_tls_context.h"
#include "tests/support/test_pki.h"

namespace hie::auth {
namespace {

using testing::CertSpec;
using testing::Credential;
using testing::CrlSpec;
using testing::TestPki;

class ClientStandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CertSpec node;
    node.commonName = "node-a";
    node.extendedKeyUsage = {"serverAuth", "clientAuth"};
    const Credential nodeCert = pki.leaf(node);
    files.certificate = testing::writeFile(dir.path(), "node.crt", pki.chainPem(nodeCert));
    files.privateKey = testing::writeFile(dir.path(), "node.key", nodeCert.keyPem());
    files.trustBundle = testing::writeFile(dir.path(), "ca.pem", pki.root.certPem());
    files.crl = dir.path() + "/network.crl";
    writeCrl(7L * 86400);
    auto opened = TlsMaterialStore::open(files);
    ASSERT_TRUE(opened) << opened.error().internal;
    store = std::move(*opened);
    auto made = makeServerContext(*store->current()->material, ServerTlsOptions{});
    ASSERT_TRUE(made) << made.error().internal;
    context = *made;
    recheck = std::make_unique<ClientRecheck>(*store, nullptr);
    recheck->attachTo(context->sslContext());
  }
  void writeCrl(long intermediateNextUpdateIn, std::vector<const Credential*> revoked = {}) {
    CrlSpec spec;
    spec.revoked = std::move(revoked);
    spec.nextUpdateOffsetSeconds = intermediateNextUpdateIn;
    testing::writeFile(dir.path(), "network.crl",
                       testing::makeCrlPem(pki.root, CrlSpec{}) + testing::makeCrlPem(pki.intermediate, spec));
  }
  Credential member(long notAfterIn) const {
    CertSpec spec;
    spec.commonName = "member";
    spec.extendedKeyUsage = {"clientAuth"};
    spec.notAfterOffsetSeconds = notAfterIn;
    return pki.leaf(spec);
  }
  // As a resumed session leaves it: the client's certificates, not yet verified in this process.
  static ClientStanding unverified(const Credential& leaf, const Credential& intermediate) {
    ClientStanding s;
    X509_up_ref(leaf.cert());
    s.leaf.reset(leaf.cert());
    s.untrusted.reset(sk_X509_new_null());
    X509_up_ref(intermediate.cert());
    sk_X509_push(s.untrusted.get(), intermediate.cert());
    s.resumed = true;
    return s;
  }
  std::int64_t crlNextUpdate() const {
    for (const auto& info : store->current()->material->crlInfo) {
      if (info.issuerDn.find("Issuing") != std::string::npos) return info.nextUpdate;
    }
    return 0;
  }

  TestPki pki = TestPki::create();
  testing::TempDir dir;
  TlsFiles files;
  std::unique_ptr<TlsMaterialStore> store;
  Poco::Net::Context::Ptr context;
  std::unique_ptr<ClientRecheck> recheck;
  const std::int64_t now = std::time(nullptr);
};

TEST_F(ClientStandingTest, AClientStandsUntilItsCertificateExpires) {
  const Credential leaf = member(3600);
  ClientStanding s = unverified(leaf, pki.intermediate);
  EXPECT_EQ(recheck->check(s, now), std::nullopt);
  EXPECT_EQ(s.verifiedWith, store->current());
  EXPECT_EQ(s.validUntil, certificateNotAfter(leaf.cert()));
  EXPECT_EQ(recheck->check(s, s.validUntil - 1), std::nullopt);
  const auto gone = recheck->check(s, certificateNotAfter(leaf.cert()));
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, "certificate_expired") << gone->detail;
  EXPECT_EQ(s.verifiedWith, nullptr);
  ASSERT_TRUE(recheck->check(s, now + 7200)) << "a refused client stays refused";
}

TEST_F(ClientStandingTest, AClientStandsUntilACrlOfItsChainRunsOut) {
  writeCrl(600);
  ASSERT_TRUE(store->reload());
  ClientStanding s = unverified(member(3600), pki.intermediate);
  EXPECT_EQ(recheck->check(s, now), std::nullopt);
  EXPECT_EQ(s.validUntil, crlNextUpdate());
  const auto gone = recheck->check(s, crlNextUpdate());
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, "crl_expired") << gone->detail;
}

TEST_F(ClientStandingTest, AReloadIsCheckedAgainstAtTheNextRequest) {
  const Credential x = member(3600);
  const Credential y = member(3600);
  ClientStanding sx = unverified(x, pki.intermediate);
  ClientStanding sy = unverified(y, pki.intermediate);
  ASSERT_EQ(recheck->check(sx, now), std::nullopt);
  ASSERT_EQ(recheck->check(sy, now), std::nullopt);
  writeCrl(7L * 86400, {&x});
  ASSERT_TRUE(store->reload());
  const auto gone = recheck->check(sx, now);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, "certificate_revoked");
  EXPECT_EQ(recheck->check(sy, now), std::nullopt);
  EXPECT_EQ(sy.verifiedWith, store->current());
}

TEST_F(ClientStandingTest, AnUnverifiedClientIsVerifiedLikeAHandshake) {
  TestPki other = TestPki::create();
  CertSpec spec;
  spec.commonName = "someone";
  spec.extendedKeyUsage = {"clientAuth"};
  ClientStanding stranger = unverified(other.leaf(spec), other.intermediate);
  auto gone = recheck->check(stranger, now);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, "unknown_issuer");

  spec.extendedKeyUsage = {"serverAuth"};
  ClientStanding serverOnly = unverified(pki.leaf(spec), pki.intermediate);
  gone = recheck->check(serverOnly, now);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, "wrong_purpose") << gone->detail;

  ClientStanding withoutIntermediate = unverified(member(3600), pki.intermediate);
  withoutIntermediate.untrusted.reset(sk_X509_new_null());
  gone = recheck->check(withoutIntermediate, now);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, "unknown_issuer") << gone->detail;

  spec.extendedKeyUsage = {"clientAuth"};
  spec.commonName.clear();  // X509_V_FLAG_X509_STRICT: no subject and no subjectAltName
  ClientStanding nameless = unverified(pki.leaf(spec), pki.intermediate);
  gone = recheck->check(nameless, now);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, "certificate_invalid") << gone->detail;
}

TEST_F(ClientStandingTest, VerifiedUntilTakesTheEarliestDate) {
  const Credential leaf = member(3600);
  ossl::X509Stack chain(sk_X509_new_null());
  for (const Credential* c : std::vector<const Credential*>{&leaf, &pki.intermediate, &pki.root}) {
    X509_up_ref(c->cert());
    sk_X509_push(chain.get(), c->cert());
  }
  const TlsMaterial& material = *store->current()->material;
  EXPECT_EQ(verifiedUntil(chain.get(), material, OcspChecker::kNoLimit), certificateNotAfter(leaf.cert()));
  EXPECT_EQ(verifiedUntil(chain.get(), material, now + 5), now + 5);
  TlsMaterial noCrls;
  EXPECT_EQ(verifiedUntil(chain.get(), noCrls, OcspChecker::kNoLimit), certificateNotAfter(leaf.cert()));
  writeCrl(60);
  ASSERT_TRUE(store->reload());
  EXPECT_EQ(verifiedUntil(chain.get(), *store->current()->material, OcspChecker::kNoLimit), crlNextUpdate());
}

TEST_F(ClientStandingTest, NoHandshakeRecordedIsNoStanding) {
  auto taken = recheck->takeHandshake(nullptr);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kUnauthenticated);
  ossl::UniquePtr<SSL> fresh(SSL_new(context->sslContext()));
  ASSERT_TRUE(fresh);
  taken = recheck->takeHandshake(fresh.get());
  ASSERT_FALSE(taken) << "a connection whose handshake has not completed";
  EXPECT_EQ(taken.error().code, ErrorCode::kUnauthenticated);
}

// ChainVerifier (a JWT's x5c, no connection): the same rules as a connection's client.
TEST_F(ClientStandingTest, VerifyChainDecidesAsCheckDoes) {
  const ChainVerifier& verifier = *recheck;
  const Credential ok = member(3600);
  ossl::X509Stack untrusted(sk_X509_new_null());
  X509_up_ref(pki.intermediate.cert());
  sk_X509_push(untrusted.get(), pki.intermediate.cert());
  EXPECT_EQ(verifier.verifyChain(ok.cert(), untrusted.get(), now), std::nullopt);

  const auto expired = verifier.verifyChain(ok.cert(), untrusted.get(), certificateNotAfter(ok.cert()) + 1);
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->reason, "certificate_expired");

  const auto noIntermediate = verifier.verifyChain(ok.cert(), nullptr, now);
  ASSERT_TRUE(noIntermediate);
  ClientStanding alone;
  X509_up_ref(ok.cert());
  alone.leaf.reset(ok.cert());
  const auto aloneRefused = recheck->check(alone, now);
  ASSERT_TRUE(aloneRefused);
  EXPECT_EQ(noIntermediate->reason, aloneRefused->reason);

  TestPki foreign = TestPki::create();
  CertSpec spec;
  spec.commonName = "stranger";
  spec.extendedKeyUsage = {"clientAuth"};
  const Credential stranger = foreign.leaf(spec);
  ossl::X509Stack foreignChain(sk_X509_new_null());
  X509_up_ref(foreign.intermediate.cert());
  sk_X509_push(foreignChain.get(), foreign.intermediate.cert());
  const auto unknown = verifier.verifyChain(stranger.cert(), foreignChain.get(), now);
  ASSERT_TRUE(unknown);
  ClientStanding s = unverified(stranger, foreign.intermediate);
  EXPECT_EQ(unknown->reason, recheck->check(s, now)->reason);

  const Credential revoked = member(3600);
  writeCrl(7L * 86400, {&revoked});
  ASSERT_TRUE(store->reload());
  const auto gone = verifier.verifyChain(revoked.cert(), untrusted.get(), now);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->reason, "certificate_revoked");
  EXPECT_EQ(verifier.verifyChain(ok.cert(), untrusted.get(), now), std::nullopt);

  CertSpec serverOnly;
  serverOnly.commonName = "server-only";
  serverOnly.extendedKeyUsage = {"serverAuth"};
  const auto purpose = verifier.verifyChain(pki.leaf(serverOnly).cert(), untrusted.get(), now);
  ASSERT_TRUE(purpose) << "a certificate not for clientAuth is refused";

  EXPECT_TRUE(verifier.verifyChain(nullptr, nullptr, now));
}

TEST(ClientRecheckWithoutContext, VerifyChainRefusesBeforeAttach) {
  testing::TempDir dir;
  TestPki pki = TestPki::create();
  CertSpec node;
  node.commonName = "node-a";
  node.extendedKeyUsage = {"serverAuth", "clientAuth"};
  const Credential nodeCert = pki.leaf(node);
  TlsFiles files;
  files.certificate = testing::writeFile(dir.path(), "node.crt", pki.chainPem(nodeCert));
  files.privateKey = testing::writeFile(dir.path(), "node.key", nodeCert.keyPem());
  files.trustBundle = testing::writeFile(dir.path(), "ca.pem", pki.root.certPem());
  auto store = TlsMaterialStore::open(files);
  ASSERT_TRUE(store) << store.error().internal;
  ClientRecheck recheck(**store, nullptr);
  const auto refused = recheck.verifyChain(nodeCert.cert(), nullptr, std::time(nullptr));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "certificate_invalid");
}

}  // namespace
}  // namespace hie::auth
