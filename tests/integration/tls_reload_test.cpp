// Certificate lifecycle without downtime: SIGHUP and changed files reload
// the node's certificate, key, trust bundle and CRLs; broken material is
// refused and the old stays in use.
#include <csignal>

#include <gtest/gtest.h>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

class TlsReload : public ::testing::Test {
 protected:
  void SetUp() override {
    writeCrl({});
    f.config["tls.crl"] = "network.crl";
    f.writeConfig();
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    x = f.memberCert({kLakeside}, "x");
    y = f.memberCert({kLakeside}, "y");
    f.start();
  }
  void writeCrl(std::vector<const Credential*> revoked) {
    CrlSpec spec;
    spec.revoked = std::move(revoked);
    writeFile(f.dir.path(), "network.crl.tmp", makeCrlPem(f.pki.root, CrlSpec{}) + makeCrlPem(f.pki.intermediate, spec));
    std::rename((f.dir.path() + "/network.crl.tmp").c_str(), (f.dir.path() + "/network.crl").c_str());
  }
  NodeFixture f;
  Credential x, y;
};

TEST_F(TlsReload, ACertificateRevokedInANewCrlIsRefusedAfterSighup) {
  ASSERT_EQ(f.get(x).status, 200);
  writeCrl({&x});
  f.node()->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return f.get(x).tlsRefused; }, std::chrono::seconds(10))) << f.node()->log();
  EXPECT_EQ(f.get(y).status, 200);
  EXPECT_TRUE(waitFor([&] { return contains(f.node()->log(), "TLS material reloaded (SIGHUP)"); },
                      std::chrono::seconds(5)))
      << f.node()->log();
}

TEST_F(TlsReload, AChangedFileIsPickedUpWithoutASignal) {
  ASSERT_EQ(f.get(x).status, 200);
  writeCrl({&x});
  EXPECT_TRUE(waitFor([&] { return f.get(x).tlsRefused; }, std::chrono::seconds(10))) << f.node()->log();
  // No signal was sent: the reload (counted a moment after the swap) was the file watch's.
  EXPECT_TRUE(waitFor([&] { return f.node()->counter("hie_tls_reloads_total") >= 1; }, std::chrono::seconds(5)))
      << f.node()->metrics();
  EXPECT_EQ(f.node()->counter("hie_tls_reload_failures_total"), 0u) << f.node()->metrics();
}

TEST_F(TlsReload, BrokenNewMaterialIsRefusedAndTheOldStaysInUse) {
  writeCrl({&x});
  f.node()->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return f.get(x).tlsRefused; }, std::chrono::seconds(10)));
  const std::string before = f.get(y).serverCertSha256;

  writeFile(f.dir.path(), "network.crl", "-----BEGIN X509 CRL-----\ngarbage\n-----END X509 CRL-----\n");
  f.node()->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return f.node()->counter("hie_tls_reload_failures_total") >= 1; }, std::chrono::seconds(10)))
      << f.node()->metrics();
  EXPECT_TRUE(f.get(x).tlsRefused) << "the old CRL must stay in force";
  EXPECT_EQ(f.get(y).status, 200);

  // A CRL from an unknown issuer.
  TestPki other = TestPki::create();
  writeFile(f.dir.path(), "network.crl", makeCrlPem(other.root, CrlSpec{}) + makeCrlPem(other.intermediate, CrlSpec{}));
  f.node()->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return contains(f.node()->log(), "unknown issuer"); }, std::chrono::seconds(10)))
      << f.node()->log();
  EXPECT_TRUE(f.get(x).tlsRefused);

  // A key that does not match the certificate, and an expired certificate.
  writeFile(f.dir.path(), "node.key", f.memberCert({}).keyPem());
  f.node()->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return contains(f.node()->log(), "does not match"); }, std::chrono::seconds(10)));
  CertSpec expired;
  expired.commonName = "node-a";
  expired.extendedKeyUsage = {"serverAuth", "clientAuth"};
  expired.notBeforeOffsetSeconds = -10 * 86400;
  expired.notAfterOffsetSeconds = -60;
  Credential old = f.pki.leaf(expired);
  writeFile(f.dir.path(), "node.crt", f.pki.chainPem(old));
  writeFile(f.dir.path(), "node.key", old.keyPem());
  f.node()->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return contains(f.node()->log(), "has expired"); }, std::chrono::seconds(10)));
  auto still = f.get(y);
  EXPECT_EQ(still.status, 200);
  EXPECT_EQ(still.serverCertSha256, before) << "the node must keep presenting its old, valid certificate";
}

TEST_F(TlsReload, ANewNodeCertificateIsPresentedToNewHandshakes) {
  const std::string before = f.get(y).serverCertSha256;
  ASSERT_EQ(before, f.serverCert.sha256Fingerprint());
  CertSpec spec;
  spec.commonName = "node-a";
  spec.sanUris = {kNodeOrg};
  spec.sanDns = {"localhost"};
  spec.sanIps = {"127.0.0.1"};
  spec.extendedKeyUsage = {"serverAuth", "clientAuth"};
  Credential renewed = f.pki.leaf(spec);
  writeFile(f.dir.path(), "node.key", renewed.keyPem());
  writeFile(f.dir.path(), "node.crt", f.pki.chainPem(renewed));
  f.node()->signal(SIGHUP);
  EXPECT_TRUE(waitFor([&] { return f.get(y).serverCertSha256 == renewed.sha256Fingerprint(); },
                      std::chrono::seconds(10)))
      << f.node()->log();
  EXPECT_EQ(f.get(y).status, 200);
}

}  // namespace
}  // namespace hie::testing
