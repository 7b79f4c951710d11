#include "auth/identity/certificate_identity.h"

#include <cstdio>

#include <gtest/gtest.h>

#include "tests/support/test_pki.h"

namespace hie::auth {
namespace {

using hie::testing::CertSpec;
using hie::testing::TestPki;

std::string shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  return out;
}

TEST(CertificateIdentity, ExtractsEveryField) {
  TestPki pki = TestPki::create();
  CertSpec spec;
  spec.commonName = "Lakeside Gateway";
  spec.organization = "Lakeside Clinic";
  spec.sanUris = {"urn:oid:2.16.840.1.113883.3.7001", "https://lakeside.example/fhir"};
  spec.sanDns = {"gw.lakeside.example"};
  spec.sanIps = {"127.0.0.1"};
  spec.extendedKeyUsage = {"clientAuth"};
  spec.serial = 0x1234ABCD;
  auto leaf = pki.leaf(spec);

  auto id = extractIdentity(leaf.cert());
  ASSERT_TRUE(id) << id.error().internal;
  EXPECT_EQ(id->subjectDn, "CN=Lakeside Gateway,O=Lakeside Clinic");  // RFC 2253: last RDN first
  EXPECT_NE(id->issuerDn.find("CN=Test Network Issuing CA"), std::string::npos) << id->issuerDn;
  EXPECT_EQ(id->serialHex, "1234ABCD");
  EXPECT_EQ(id->sanUris, (std::vector<std::string>{spec.sanUris}));
  EXPECT_EQ(id->sanDns, (std::vector<std::string>{"gw.lakeside.example"}));
  EXPECT_EQ(id->certSha256, leaf.sha256Fingerprint());
  EXPECT_EQ(id->certSha256.size(), 64u);
  const std::int64_t now = std::time(nullptr);
  EXPECT_NEAR(static_cast<double>(id->notBefore), static_cast<double>(now - 3600), 120);
  EXPECT_NEAR(static_cast<double>(id->notAfter), static_cast<double>(now + 30L * 86400), 120);
}

TEST(CertificateIdentity, SpkiHashMatchesTheOpensslCommandLine) {
  TestPki pki = TestPki::create();
  CertSpec spec;
  spec.commonName = "x";
  auto leaf = pki.leaf(spec);
  hie::testing::TempDir dir;
  const std::string path = hie::testing::writeFile(dir.path(), "leaf.pem", leaf.certPem());
  const std::string cli =
      shell("openssl x509 -in " + path + " -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum");
  auto id = extractIdentity(leaf.cert());
  ASSERT_TRUE(id);
  EXPECT_EQ(cli.substr(0, 64), id->spkiSha256);
  EXPECT_NE(id->spkiSha256, id->certSha256);
}

TEST(CertificateIdentity, NoSanMeansNoUris) {
  TestPki pki = TestPki::create();
  CertSpec spec;
  spec.commonName = "urn:oid:2.16.840.1.113883.3.7001";
  auto id = extractIdentity(pki.leaf(spec).cert());
  ASSERT_TRUE(id);
  EXPECT_TRUE(id->sanUris.empty());
  EXPECT_TRUE(id->sanDns.empty());
}

TEST(CertificateIdentity, NullCertificateIsAnError) { EXPECT_FALSE(extractIdentity(nullptr)); }

TEST(CertificatePem, ParsesOneCertificateAndRefusesEverythingElse) {
  TestPki pki = TestPki::create();
  CertSpec spec;
  spec.commonName = "x";
  auto leaf = pki.leaf(spec);
  EXPECT_TRUE(parseCertificatePem(leaf.certPem()));
  EXPECT_FALSE(parseCertificatePem(""));
  EXPECT_FALSE(parseCertificatePem("hello"));
  EXPECT_FALSE(parseCertificatePem(leaf.keyPem()));
  EXPECT_FALSE(parseCertificatePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  EXPECT_FALSE(parseCertificatePem(leaf.certPem() + pki.intermediate.certPem()));
  auto truncated = leaf.certPem().substr(0, leaf.certPem().size() / 2);
  EXPECT_FALSE(parseCertificatePem(truncated));
}

TEST(CertificatePem, ParsesAChainInOrder) {
  TestPki pki = TestPki::create();
  CertSpec spec;
  spec.commonName = "x";
  auto chain = parseCertificateChainPem(pki.chainPem(pki.leaf(spec)));
  ASSERT_TRUE(chain);
  ASSERT_EQ(sk_X509_num(chain->get()), 2);
  auto second = extractIdentity(sk_X509_value(chain->get(), 1));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->certSha256, pki.intermediate.sha256Fingerprint());
}

}  // namespace
}  // namespace hie::auth
