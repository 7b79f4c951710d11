// The mTLS gate end to end: the real `hie-node serve`, a PKI made at test
// time, the throwaway PostgreSQL, and real TLS clients on loopback.
#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kRiver = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kClosed = "urn:oid:2.16.840.1.113883.3.7003";
const std::string kPinned = "urn:oid:2.16.840.1.113883.3.7004";

class MtlsGate : public ::testing::Test {
 protected:
  void SetUp() override {
    revoked = f.memberCert({kLakeside}, "revoked");
    CrlSpec intermediateCrl;
    intermediateCrl.revoked = {&revoked};
    writeFile(f.dir.path(), "network.crl",
              makeCrlPem(f.pki.root, CrlSpec{}) + makeCrlPem(f.pki.intermediate, intermediateCrl));
    f.config["tls.crl"] = "network.crl";
    f.writeConfig();
    f.migrate();
    f.addOrg(kLakeside, "Lakeside Clinic");
    f.addOrg(kRiver, "River Hospital");
    f.addOrg(kClosed, "Closed Practice");
    auto r = f.cli({"org", "suspend", kClosed});
    ASSERT_EQ(r.exitCode, 0) << r.output;
    f.start();
  }

  void expectHandshakeRefusal(const HttpResult& r) {
    EXPECT_TRUE(r.tlsRefused) << "expected a TLS-level refusal, got HTTP " << r.status << "\n" << r.head;
    EXPECT_EQ(r.status, 0);
  }

  void expectForbidden(const HttpResult& r) {
    ASSERT_FALSE(r.tlsRefused) << r.tlsError;
    EXPECT_EQ(r.status, 403) << r.head;
    EXPECT_NE(r.body.find("\"resourceType\":\"OperationOutcome\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"code\":\"forbidden\""), std::string::npos) << r.body;
    EXPECT_FALSE(r.header("X-Request-Id").empty());
  }

  NodeFixture f;
  Credential revoked;
};

TEST_F(MtlsGate, RegisteredOrganizationGetsCapabilityStatement) {
  auto r = f.get(f.memberCert({kLakeside}));
  ASSERT_FALSE(r.tlsRefused) << r.tlsError << "\n" << f.node()->log();
  EXPECT_EQ(r.status, 200) << r.head << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/fhir+json");
  EXPECT_NE(r.body.find("\"resourceType\":\"CapabilityStatement\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"fhirVersion\":\"4.0.1\""), std::string::npos) << r.body;
  EXPECT_EQ(r.header("X-Request-Id").size(), 32u) << r.head;
}

TEST_F(MtlsGate, EchoesAPlainRequestIdAndReplacesAnOddOne) {
  auto lakeside = f.memberCert({kLakeside});
  EXPECT_EQ(f.get(lakeside, "/fhir/metadata", {"X-Request-Id: trace-42.a:b_c"}).header("X-Request-Id"),
            "trace-42.a:b_c");
  auto odd = f.get(lakeside, "/fhir/metadata", {"X-Request-Id: " + std::string(65, 'x')});
  EXPECT_EQ(odd.header("X-Request-Id").size(), 32u);
  auto spaced = f.get(lakeside, "/fhir/metadata", {"X-Request-Id: a b"});
  EXPECT_NE(spaced.header("X-Request-Id"), "a b");
  EXPECT_EQ(spaced.header("X-Request-Id").size(), 32u);
}

TEST_F(MtlsGate, ErrorRepliesCarryRequestIdToo) {
  auto r = f.get(f.memberCert({kLakeside}), "/fhir/nothing-here", {"X-Request-Id: err-1"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("X-Request-Id"), "err-1");
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
}

TEST_F(MtlsGate, RefusesAClientWithoutCertificate) {
  expectHandshakeRefusal(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{}, "/fhir/metadata"));
}

TEST_F(MtlsGate, RefusesACertificateFromAnUnrelatedCa) {
  TestPki other = TestPki::create();
  CertSpec spec;
  spec.commonName = "impostor";
  spec.sanUris = {kLakeside};
  spec.extendedKeyUsage = {"clientAuth"};
  Credential impostor = other.leaf(spec);
  expectHandshakeRefusal(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{&impostor, {&other.intermediate}},
                                "/fhir/metadata"));
}

TEST_F(MtlsGate, RefusesASelfSignedCertificate) {
  CertSpec spec;
  spec.commonName = "self";
  spec.sanUris = {kLakeside};
  spec.extendedKeyUsage = {"clientAuth"};
  Credential self = issue(spec, nullptr);
  expectHandshakeRefusal(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{&self, {}}, "/fhir/metadata"));
}

TEST_F(MtlsGate, RefusesAnExpiredCertificate) {
  CertSpec spec;
  spec.commonName = "expired";
  spec.sanUris = {kLakeside};
  spec.extendedKeyUsage = {"clientAuth"};
  spec.notBeforeOffsetSeconds = -10 * 86400;
  spec.notAfterOffsetSeconds = -86400;
  expectHandshakeRefusal(f.get(f.pki.leaf(spec)));
}

TEST_F(MtlsGate, RefusesANotYetValidCertificate) {
  CertSpec spec;
  spec.commonName = "future";
  spec.sanUris = {kLakeside};
  spec.extendedKeyUsage = {"clientAuth"};
  spec.notBeforeOffsetSeconds = 86400;
  spec.notAfterOffsetSeconds = 10 * 86400;
  expectHandshakeRefusal(f.get(f.pki.leaf(spec)));
}

TEST_F(MtlsGate, RefusesACertificateRevokedByTheCrl) {
  expectHandshakeRefusal(f.get(revoked));
  // The same organization with an unrevoked certificate is served.
  EXPECT_EQ(f.get(f.memberCert({kLakeside})).status, 200);
}

TEST_F(MtlsGate, RefusesAServerAuthOnlyCertificate) {
  CertSpec spec;
  spec.commonName = "server-only";
  spec.sanUris = {kLakeside};
  spec.extendedKeyUsage = {"serverAuth"};
  expectHandshakeRefusal(f.get(f.pki.leaf(spec)));
}

TEST_F(MtlsGate, RefusesACaCertificateUsedAsClient) {
  CertSpec spec;
  spec.commonName = "sub-ca";
  spec.sanUris = {kLakeside};
  spec.isCa = true;
  // Usable for client signatures in every other respect: only CA:TRUE is wrong.
  spec.keyUsage = "critical,digitalSignature,keyCertSign,cRLSign";
  spec.extendedKeyUsage = {"clientAuth"};
  expectHandshakeRefusal(f.get(f.pki.leaf(spec)));
}

TEST_F(MtlsGate, RefusesALeafSentWithoutItsIntermediate) {
  Credential lakeside = f.memberCert({kLakeside});
  expectHandshakeRefusal(tlsGet(f.node()->port(), f.pki.root, ClientIdentity{&lakeside, {}}, "/fhir/metadata"));
}

TEST_F(MtlsGate, RefusesWeakKeysAndSha1Signatures) {
  CertSpec weak;
  weak.commonName = "weak";
  weak.sanUris = {kLakeside};
  weak.extendedKeyUsage = {"clientAuth"};
  weak.keyType = KeyType::kRsa1024;
  TlsClientOptions lenient;
  lenient.securityLevel = 0;  // the client is willing; the node must not be
  Credential weakCert = f.pki.leaf(weak);
  expectHandshakeRefusal(
      tlsGet(f.node()->port(), f.pki.root, f.as(weakCert), "/fhir/metadata", {}, lenient));

  CertSpec sha1 = weak;
  sha1.commonName = "sha1";
  sha1.keyType = KeyType::kEcP256;
  sha1.digest = Digest::kSha1;
  Credential sha1Cert = f.pki.leaf(sha1);
  expectHandshakeRefusal(
      tlsGet(f.node()->port(), f.pki.root, f.as(sha1Cert), "/fhir/metadata", {}, lenient));
}

TEST_F(MtlsGate, RefusesProtocolsBelowTls12) {
  TlsClientOptions old;
  old.securityLevel = 0;
  old.maxVersion = TLS1_1_VERSION;
  Credential lakeside = f.memberCert({kLakeside});
  expectHandshakeRefusal(tlsGet(f.node()->port(), f.pki.root, f.as(lakeside), "/fhir/metadata", {}, old));
}

TEST_F(MtlsGate, ServesBothTls12AndTls13) {
  Credential lakeside = f.memberCert({kLakeside});
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsClientOptions o;
    o.minVersion = version;
    o.maxVersion = version;
    EXPECT_EQ(tlsGet(f.node()->port(), f.pki.root, f.as(lakeside), "/fhir/metadata", {}, o).status, 200) << version;
  }
}

TEST_F(MtlsGate, UnregisteredOrganizationGets403) { expectForbidden(f.get(f.memberCert({"urn:oid:1.2.3.4.5"}))); }

TEST_F(MtlsGate, SuspendedOrganizationGets403) { expectForbidden(f.get(f.memberCert({kClosed}))); }

TEST_F(MtlsGate, CommonNameAloneIsNoIdentity) {
  CertSpec spec;
  spec.commonName = kLakeside;
  spec.organization = "Lakeside Clinic";
  spec.extendedKeyUsage = {"clientAuth"};
  expectForbidden(f.get(f.pki.leaf(spec)));
}

TEST_F(MtlsGate, CertificateNamingTwoOrganizationsIsRefused) {
  expectForbidden(f.get(f.memberCert({kLakeside, kRiver})));
}

TEST_F(MtlsGate, SuspensionAndReactivationTakeEffectWithoutRestart) {
  Credential closed = f.memberCert({kClosed});
  expectForbidden(f.get(closed));
  auto r = f.cli({"org", "reactivate", kClosed});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(waitFor([&] { return f.get(closed).status == 200; }, std::chrono::seconds(2)))
      << "reactivation not effective within 2 s";
  r = f.cli({"org", "suspend", kClosed});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(waitFor([&] { return f.get(closed).status == 403; }, std::chrono::seconds(2)))
      << "suspension not effective within 2 s";
}

TEST_F(MtlsGate, PinnedFingerprintMapsACertificateWithoutSanUri) {
  CertSpec spec;
  spec.commonName = "legacy system";
  spec.extendedKeyUsage = {"clientAuth"};
  Credential legacy = f.pki.leaf(spec);
  expectForbidden(f.get(legacy));
  const std::string pem = writeFile(f.dir.path(), "legacy.crt", legacy.certPem());
  auto r = f.cli({"org", "add", "--identifier", kPinned, "--name", "Legacy Lab", "--pin-cert", pem});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(waitFor([&] { return f.get(legacy).status == 200; }, std::chrono::seconds(2)));
  // A pin naming one organization and a SAN URI naming another: refused.
  CertSpec both = spec;
  both.sanUris = {kLakeside};
  Credential conflicting = f.pki.leaf(both);
  const std::string pem2 = writeFile(f.dir.path(), "conflicting.crt", conflicting.certPem());
  r = f.cli({"org", "pin-cert", kRiver, pem2});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(waitFor([&] { return f.get(conflicting).status == 403; }, std::chrono::seconds(2)));
}

// tls.verifyDepth bounds the intermediates between a client certificate and the trust anchor:
// with 1, the network's usual chain (one intermediate) passes and a chain through a second CA
// is refused in the handshake as chain_too_long.
TEST(MtlsGateDepth, AChainLongerThanVerifyDepthIsRefused) {
  NodeFixture f;
  f.config["tls.verifyDepth"] = "1";
  f.writeConfig();
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  f.start();
  Credential usual = f.memberCert({kLakeside});
  EXPECT_EQ(f.get(usual).status, 200);

  CertSpec subCa;
  subCa.commonName = "Lakeside issuing CA";
  subCa.isCa = true;
  subCa.pathLen = 0;
  Credential sub = issue(subCa, &f.pki.intermediate);
  CertSpec leafSpec;
  leafSpec.commonName = "lakeside deep";
  leafSpec.sanUris = {kLakeside};
  leafSpec.extendedKeyUsage = {"clientAuth"};
  Credential deep = issue(leafSpec, &sub);
  auto r = tlsGet(f.node()->port(), f.pki.root, ClientIdentity{&deep, {&sub, &f.pki.intermediate}}, "/fhir/metadata");
  EXPECT_TRUE(r.tlsRefused) << "expected a TLS-level refusal, got HTTP " << r.status << "\n" << r.head;
  EXPECT_TRUE(waitFor([&] { return f.node()->counter("hie_tls_handshake_failures_total{reason=\"chain_too_long\"}") == 1; },
                      std::chrono::seconds(5)))
      << f.node()->metrics();
}

}  // namespace
}  // namespace hie::testing
