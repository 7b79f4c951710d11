// `hie-node pki`: a node set up entirely with the development CA.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hie::testing
