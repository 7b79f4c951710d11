// `hie-node pki`: a node set up entirely with the development CA.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include "auth/identity/certificate_identity.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

std::string devpkiRead(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DevPki, BuildsANetworkTheNodeAccepts) {
  NodeFixture f;
  const std::string ca = f.dir.path() + "/dev-ca";
  auto pki = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "pki");
    return runNode(args);
  };
  auto init = pki({"init", "--dir", ca});
  ASSERT_EQ(init.exitCode, 0) << init.output;
  EXPECT_TRUE(contains(init.output, "NOT FOR PRODUCTION")) << init.output;
  EXPECT_EQ(pki({"init", "--dir", ca}).exitCode, 1) << "an existing CA is never overwritten";
  ASSERT_EQ(pki({"issue", "--dir", ca, "--name", "node-a", "--org", kNodeOrg, "--dns", "localhost", "--ip",
                 "127.0.0.1"}).exitCode, 0);
  ASSERT_EQ(pki({"issue", "--dir", ca, "--name", "lakeside", "--org", kLakeside, "--profile", "client"}).exitCode, 0);
  ASSERT_EQ(pki({"issue", "--dir", ca, "--name", "stolen", "--org", kLakeside, "--profile", "client"}).exitCode, 0);
  ASSERT_EQ(pki({"revoke", "--dir", ca, "stolen"}).exitCode, 0);
  auto crl = pki({"crl", "--dir", ca});
  ASSERT_EQ(crl.exitCode, 0) << crl.output;
  EXPECT_TRUE(contains(crl.output, "1 revoked")) << crl.output;
  // Bad input changes nothing.
  EXPECT_EQ(pki({"issue", "--dir", ca, "--name", "../x", "--org", kLakeside}).exitCode, 2);
  EXPECT_EQ(pki({"issue", "--dir", ca, "--name", "x", "--org", "Lakeside"}).exitCode, 2);
  EXPECT_EQ(pki({"issue", "--dir", ca, "--name", "x", "--org", kLakeside, "--profile", "root"}).exitCode, 2);
  EXPECT_EQ(pki({"issue", "--dir", ca, "--name", "lakeside", "--org", kLakeside}).exitCode, 1);
  EXPECT_EQ(pki({"revoke", "--dir", ca, "nobody"}).exitCode, 1);
  EXPECT_EQ(pki({"crl", "--dir", f.dir.path() + "/nothing-here"}).exitCode, 1);

  f.config["tls.certificate"] = ca + "/node-a.crt";
  f.config["tls.privateKey"] = ca + "/node-a.key";
  f.config["tls.trustBundle"] = ca + "/network-ca.pem";
  f.config["tls.crl"] = ca + "/network.crl";
  f.writeConfig();
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic");
  f.start();
  auto root = Credential::fromPem(devpkiRead(ca + "/root.crt"), "");
  auto chainOf = [&](const std::string& name) {
    return Credential::fromPem(devpkiRead(ca + "/" + name + ".crt"), devpkiRead(ca + "/" + name + ".key"));
  };
  auto intermediate = Credential::fromPem(devpkiRead(ca + "/intermediate.crt"), "");
  Credential lakeside = chainOf("lakeside"), stolen = chainOf("stolen");
  auto ok = tlsGet(f.node()->port(), root, ClientIdentity{&lakeside, {&intermediate}}, "/fhir/metadata");
  EXPECT_EQ(ok.status, 200) << ok.tlsError << f.node()->log();
  EXPECT_TRUE(tlsGet(f.node()->port(), root, ClientIdentity{&stolen, {&intermediate}}, "/fhir/metadata").tlsRefused);
}

// pki issue --uri and --key (issue 17: a UDAP server's certificate carries its FHIR base URL as a SAN
// URI; RS256 needs an RSA key).
TEST(DevPki, IssuesExtraSanUrisAndRsaKeys) {
  TempDir dir;
  const std::string ca = dir.path() + "/dev-ca";
  auto pki = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "pki");
    return runNode(args);
  };
  ASSERT_EQ(pki({"init", "--dir", ca}).exitCode, 0);
  const std::string fhirBase = "https://node-b.example:8443/fhir";
  auto rsa = pki({"issue", "--dir", ca, "--name", "node-b", "--org", kLakeside, "--uri", fhirBase, "--uri",
                  "urn:example:udap", "--uri", kLakeside, "--key", "rsa", "--dns", "localhost"});
  ASSERT_EQ(rsa.exitCode, 0) << rsa.output;
  EXPECT_TRUE(contains(rsa.output, "RSA-3072")) << rsa.output;
  auto cert = Credential::fromPem(devpkiRead(ca + "/node-b.crt"), devpkiRead(ca + "/node-b.key"));
  EXPECT_EQ(EVP_PKEY_get_base_id(cert.key()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(cert.key()), 3072);
  auto identity = auth::extractIdentity(cert.cert());
  ASSERT_TRUE(identity);
  EXPECT_EQ(identity->sanUris, (std::vector<std::string>{kLakeside, fhirBase, "urn:example:udap"}))
      << "the --org URI first, each --uri once";

  ASSERT_EQ(pki({"issue", "--dir", ca, "--name", "node-c", "--org", kLakeside, "--key", "ec"}).exitCode, 0);
  auto ec = Credential::fromPem(devpkiRead(ca + "/node-c.crt"), devpkiRead(ca + "/node-c.key"));
  EXPECT_EQ(EVP_PKEY_get_base_id(ec.key()), EVP_PKEY_EC);

  const std::vector<std::string> malformed{
        "http://node-b.example/fhir", "https://", "https:///x", "file:///etc/passwd", "https://a b/fhir", "urn:",
        "mailto:a@b.example", "https://node-b.example:99999/fhir", "https://node-b.example:0/fhir",
        "https://user@node-b.example/fhir", "https://node-b.example/fhir?x=1", "https://node-b.example/fhir#f",
        "https://node-b.example/%66hir", "https://node-b.example/fhir/", "https://node-b.example//fhir",
        "https://node-b.example/a/../fhir", "https://node-b.example/./fhir", "https://node-b.example/fhir\x01",
        "https://node_b.example/fhir", "https://[::1/fhir", "https://-node.example/fhir", "HTTPS://node-b.example/fhir",
        "urn:x:y", "urn:-ab:c", "urn:ab-:c", "urn:example:", "urn:example", "urn:example:a?+r", "urn:example:a?=q",
        "urn:example:a#f", "urn:example:%zz", "urn:example:%4", "urn:example:a\"b", "urn:example:a<b",
        "urn:oid:1.2.x", "urn:oid:01.2", "urn:oid:1", "urn:OID:1.2.3", "urn:oid:1..2", "urn:" + std::string(600, 'a')};
  for (const std::string& bad : malformed) {
    auto refused = pki({"issue", "--dir", ca, "--name", "x", "--org", kLakeside, "--uri", bad});
    EXPECT_EQ(refused.exitCode, 2) << bad << ": " << refused.output;
    EXPECT_TRUE(contains(refused.output, "--uri")) << bad << ": " << refused.output;
    EXPECT_TRUE(contains(refused.output, "nothing was written")) << bad << ": " << refused.output;
  }
  // Well-formed ones, with a malformed one last: nothing is issued.
  EXPECT_EQ(pki({"issue", "--dir", ca, "--name", "x", "--org", kLakeside, "--uri", "https://node-b.example/fhir",
                 "--uri", "https://node-b.example/fhir/"})
                .exitCode,
            2);
  auto fine = pki({"issue", "--dir", ca, "--name", "node-d", "--org", kLakeside, "--uri", "https://[::1]:8443/fhir",
                   "--uri", "https://node-d.example", "--uri", "urn:ietf:rfc:3986", "--uri", "urn:example:a%2Fb:c@d",
                   "--uri", "urn:oid:2.16.840.1.113883.3.7001.9"});
  EXPECT_EQ(fine.exitCode, 0) << fine.output;
  EXPECT_EQ(pki({"issue", "--dir", ca, "--name", "x", "--org", kLakeside, "--key", "dsa"}).exitCode, 2);
  EXPECT_FALSE(std::ifstream(ca + "/x.crt").good()) << "a refused issue writes nothing";
}

}  // namespace
}  // namespace hie::testing
