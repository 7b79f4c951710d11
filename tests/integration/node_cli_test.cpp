// The command line against the throwaway PostgreSQL: migrations, the
// organization registry commands, and startup refusals.
#include <gtest/gtest.h>

#include <fstream>

#include <pqxx/pqxx>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kLakeside = "urn:oid:2.16.840.1.113883.3.7001";

class NodeCli : public ::testing::Test {
 protected:
  NodeFixture f;
};

TEST_F(NodeCli, MigrateAppliesOnceThenIsANoOp) {
  auto first = f.cli({"migrate"});
  ASSERT_EQ(first.exitCode, 0) << first.output;
  EXPECT_TRUE(contains(first.output, "applied migration 1")) << first.output;
  auto second = f.cli({"migrate"});
  ASSERT_EQ(second.exitCode, 0) << second.output;
  EXPECT_TRUE(contains(second.output, "already up to date")) << second.output;
  EXPECT_FALSE(contains(second.output, "applied migration")) << second.output;
}

TEST_F(NodeCli, ServeRefusesAnUnmigratedDatabase) {
  auto r = runNode({"serve", "--config", f.configPath});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "hie-node migrate")) << r.output;
}

TEST_F(NodeCli, ServeRefusesASchemaBehindTheBinary) {
  f.migrate();
  f.db.exec("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)");
  auto r = runNode({"serve", "--config", f.configPath});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "hie-node migrate")) << r.output;
}

TEST_F(NodeCli, ServeRefusesASchemaAheadOfTheBinary) {
  f.migrate();
  f.db.exec("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')");
  auto r = runNode({"serve", "--config", f.configPath});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "newer than this binary")) << r.output;
}

// audit verify and audit report say what is wrong with the database, not which table they failed on.
TEST_F(NodeCli, AuditVerifyAndReportNameAnUnmigratedOrUnreachableDatabase) {
  const std::string report = f.dir.path() + "/report.html";
  for (const auto& args : std::vector<std::vector<std::string>>{{"audit", "verify"},
                                                                {"audit", "report", "--html", report}}) {
    auto r = f.cli(args);
    EXPECT_EQ(r.exitCode, 1) << r.output;
    EXPECT_TRUE(contains(r.output, "run `hie-node migrate`")) << r.output;
    EXPECT_FALSE(contains(r.output, "relation")) << r.output;
  }
  EXPECT_FALSE(std::ifstream(report).good());
  f.config["db.uri"] = "postgresql://hie_app@127.0.0.1:1/hie?connect_timeout=5";
  f.writeConfig();
  for (const auto& args : std::vector<std::vector<std::string>>{{"audit", "verify"},
                                                                {"audit", "report", "--html", report}}) {
    auto r = f.cli(args);
    EXPECT_EQ(r.exitCode, 1) << r.output;
    EXPECT_TRUE(contains(r.output, "the database is unreachable")) << r.output;
    EXPECT_FALSE(contains(r.output, "witness keys")) << r.output;
  }
  EXPECT_FALSE(std::ifstream(report).good());
}

TEST_F(NodeCli, MigrateRefusesAnEditedMigration) {
  f.migrate();
  f.db.exec("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
  auto r = f.cli({"migrate"});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "never be edited")) << r.output;
}

TEST_F(NodeCli, OrgAddListSuspendReactivate) {
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic", {"--role", "member", "--role=auditor"});
  auto list = f.cli({"org", "list"});
  ASSERT_EQ(list.exitCode, 0) << list.output;
  EXPECT_TRUE(contains(list.output, kLakeside)) << list.output;
  EXPECT_TRUE(contains(list.output, "member,auditor")) << list.output;
  EXPECT_TRUE(contains(list.output, "active")) << list.output;
  auto suspend = f.cli({"org", "suspend", kLakeside});
  ASSERT_EQ(suspend.exitCode, 0) << suspend.output;
  EXPECT_TRUE(contains(f.cli({"org", "list"}).output, "suspended"));
  auto again = f.cli({"org", "suspend", kLakeside});
  EXPECT_EQ(again.exitCode, 0);
  EXPECT_TRUE(contains(again.output, "already suspended")) << again.output;
  EXPECT_EQ(f.cli({"org", "reactivate", kLakeside}).exitCode, 0);
}

TEST_F(NodeCli, OrgAddRejectsBadInputAndChangesNothing) {
  f.migrate();
  struct Case {
    std::vector<std::string> args;
    int exit;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"org", "add", "--identifier", "urn:oid:1.02.3", "--name", "X"}, 2, "not an organization identifier"},
      {{"org", "add", "--identifier", "Lakeside", "--name", "X"}, 2, "not an organization identifier"},
      {{"org", "add", "--identifier", kLakeside}, 2, "--name"},
      {{"org", "add", "--name", "X"}, 2, "--identifier"},
      {{"org", "add", "--identifier", kLakeside, "--name", ""}, 2, "--name"},
      {{"org", "add", "--identifier", kLakeside, "--name", "X", "--role", "admin"}, 2, "unknown role"},
      {{"org", "add", "--identifier", kLakeside, "--name", "X", "--colour", "red"}, 2, "unknown option"},
      {{"org", "add", "--identifier", kLakeside, "--name", "X", "--pin-cert", "/nonexistent.pem"}, 1,
       "/nonexistent.pem"},
      {{"org", "frobnicate"}, 2, "unknown org subcommand"},
      {{"org", "suspend", "urn:oid:1.2.3.999"}, 1, "no organization urn:oid:1.2.3.999"},
      {{"org", "suspend"}, 2, "exactly one"},
  };
  for (const auto& c : cases) {
    auto r = f.cli(c.args);
    EXPECT_EQ(r.exitCode, c.exit) << r.output;
    EXPECT_TRUE(contains(r.output, c.says)) << "expected '" << c.says << "' in: " << r.output;
  }
  // A file that is PEM but not a certificate.
  const std::string keyFile = writeFile(f.dir.path(), "not-a-cert.pem", f.serverCert.keyPem());
  auto notCert = f.cli({"org", "add", "--identifier", kLakeside, "--name", "X", "--pin-cert", keyFile});
  EXPECT_EQ(notCert.exitCode, 1) << notCert.output;
  EXPECT_TRUE(contains(notCert.output, keyFile)) << notCert.output;
  const std::string garbage = writeFile(f.dir.path(), "garbage.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  auto bad = f.cli({"org", "add", "--identifier", kLakeside, "--name", "X", "--pin-cert", garbage});
  EXPECT_EQ(bad.exitCode, 1) << bad.output;
  // Nothing was stored by any of the refused commands.
  auto list = f.cli({"org", "list"});
  EXPECT_FALSE(contains(list.output, kLakeside)) << list.output;
}

TEST_F(NodeCli, OrgAddRefusesADuplicateAndAPinOwnedByAnother) {
  f.migrate();
  const std::string pem = writeFile(f.dir.path(), "m.crt", f.memberCert({}).certPem());
  f.addOrg(kLakeside, "Lakeside Clinic", {"--pin-cert", pem});
  auto dup = f.cli({"org", "add", "--identifier", kLakeside, "--name", "Other"});
  EXPECT_EQ(dup.exitCode, 1) << dup.output;
  EXPECT_TRUE(contains(dup.output, "already exists")) << dup.output;
  auto pinned = f.cli({"org", "add", "--identifier", "urn:oid:1.2.3.4", "--name", "Other", "--pin-cert", pem});
  EXPECT_EQ(pinned.exitCode, 1) << pinned.output;
  EXPECT_TRUE(contains(pinned.output, "already pinned")) << pinned.output;
  // The failed add left no organization behind (one transaction).
  EXPECT_FALSE(contains(f.cli({"org", "list"}).output, "urn:oid:1.2.3.4"));
  f.addOrg("urn:oid:1.2.3.5", "Third");
  auto pin = f.cli({"org", "pin-cert", "urn:oid:1.2.3.5", pem});
  EXPECT_EQ(pin.exitCode, 1) << pin.output;
  EXPECT_TRUE(contains(pin.output, kLakeside)) << pin.output;
}

TEST_F(NodeCli, OrgSignaturePolicyIsSetShownAndCleared) {
  f.migrate();
  f.addOrg(kLakeside, "Lakeside Clinic", {"--signatures", "require"});
  f.addOrg("urn:oid:1.2.3.5", "Third");
  auto list = f.cli({"org", "list"});
  ASSERT_EQ(list.exitCode, 0) << list.output;
  EXPECT_TRUE(contains(list.output, "SIGNATURES")) << list.output;
  EXPECT_TRUE(contains(list.output, "require")) << list.output;
  EXPECT_TRUE(contains(list.output, "default")) << list.output;
  auto off = f.cli({"org", "signatures", kLakeside, "off"});
  ASSERT_EQ(off.exitCode, 0) << off.output;
  EXPECT_TRUE(contains(off.output, "is now off")) << off.output;
  EXPECT_TRUE(contains(f.cli({"org", "signatures", kLakeside, "off"}).output, "was already off"));
  pqxx::connection c(f.db.uri());
  auto policy = [&c](const std::string& id) {
    pqxx::read_transaction tx(c);
    auto v = tx.exec_params1("SELECT coalesce(signature_policy, 'NULL') FROM organizations WHERE identifier = $1", id);
    return v[0].as<std::string>();
  };
  EXPECT_EQ(policy(kLakeside), "off");
  EXPECT_EQ(f.cli({"org", "signatures", kLakeside, "default"}).exitCode, 0);
  EXPECT_EQ(policy(kLakeside), "NULL");
  EXPECT_EQ(policy("urn:oid:1.2.3.5"), "NULL");

  struct Case {
    std::vector<std::string> args;
    int exit;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"org", "signatures", kLakeside, "sometimes"}, 2, "unknown signature policy 'sometimes'"},
      {{"org", "signatures", kLakeside}, 2, "usage: hie-node org signatures ID"},
      {{"org", "signatures", "Lakeside", "off"}, 2, "not an organization identifier"},
      {{"org", "signatures", "urn:oid:1.2.3.999", "off"}, 1, "no organization urn:oid:1.2.3.999"},
      {{"org", "add", "--identifier", "urn:oid:1.2.3.6", "--name", "X", "--signatures", "always"}, 2,
       "unknown signature policy 'always'"},
  };
  for (const auto& c : cases) {
    auto r = f.cli(c.args);
    EXPECT_EQ(r.exitCode, c.exit) << r.output;
    EXPECT_TRUE(contains(r.output, c.says)) << "expected '" << c.says << "' in: " << r.output;
  }
  EXPECT_EQ(policy(kLakeside), "NULL");
  EXPECT_FALSE(contains(f.cli({"org", "list"}).output, "urn:oid:1.2.3.6"));
}

TEST_F(NodeCli, ServeRefusesABadSignaturePolicyNamingTheKey) {
  f.migrate();
  f.config["signatures.requests"] = "sometimes";
  f.writeConfig();
  auto r = runNode({"serve", "--config", f.configPath});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "signatures.requests")) << r.output;
}

TEST_F(NodeCli, CommandsWithoutADatabaseSaySo) {
  f.config["db.uri"] = testClusterUri("no_such_database_here");
  f.writeConfig();
  auto r = f.cli({"org", "list"});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "no_such_database_here")) << r.output;
}

TEST_F(NodeCli, ImportRefusesBundlesThatAreNotStorableText) {
  f.migrate();
  auto rows = [this] {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT (SELECT count(*) FROM fhir_resources) + (SELECT count(*) FROM patient_identifiers)")[0]
        .as<long long>();
  };
  auto good = f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"});
  ASSERT_EQ(good.exitCode, 0) << good.output;
  const long long before = rows();
  ASSERT_GT(before, 0);
  // (Truncated JSON and a JSON that is not a Bundle: RecordsApi.ImportRejectsBadBundlesAndChangesNothing.)
  const std::string head = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  const std::string patient = R"({"resource":{"resourceType":"Patient","id":"p-new","identifier":[{"system":"urn:x","value":")";
  struct Case {
    const char* name;
    std::string json;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"invalid UTF-8 in a value", head + patient + "NET-\xff\xfe\"}]}}]}", "not valid UTF-8"},
           {"truncated UTF-8 sequence", head + patient + "NET-\xe2\x82\"}]}}]}", "not valid UTF-8"},
           {"invalid UTF-8 in a name", head + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p-new\",\"\xc0\xaf\":1}}]}",
            "not valid UTF-8"},
           {"lone surrogate escape", head + patient + R"(NET-\ud800"}]}}]})", "not valid JSON"},
           {"NUL escape", head + patient + R"(NET-1\u0000X"}]}}]})", "entry 0: contains a NUL"},
           {"deeply nested arrays", std::string(100000, '['), "not valid JSON"},
           {"deeply nested resource", head + R"({"resource":{"resourceType":"Patient","id":"p-new","extension":)" +
                                          std::string(100000, '[') + std::string(100000, ']') + "}}]}",
            "not valid JSON"},
           // Valid JSON, but not R4: the new Patient of entry 0 is not stored either.
           {"a DocumentReference without the content R4 requires",
            head + patient + R"(NET-9"}]}},{"resource":{"resourceType":"DocumentReference","id":"d-new",)"
                             R"("status":"current","subject":{"reference":"Patient/p-new"}}}]})",
            "entry 1: DocumentReference.content is missing; FHIR R4 requires DocumentReference.content (min 1)"},
           {"an empty string", head + patient + R"(NET-9"}],"gender":""}}]})",
            "entry 0: Patient.gender is an empty string"},
       }) {
    const std::string path = writeFile(f.dir.path(), "hostile.json", c.json);
    auto r = f.cli({"records", "import", path});
    EXPECT_EQ(r.exitCode, 1) << c.name << ": " << r.output;
    EXPECT_TRUE(contains(r.output, c.says)) << c.name << ": " << r.output;
    EXPECT_TRUE(contains(r.output, "nothing was stored")) << c.name << ": " << r.output;
    EXPECT_FALSE(contains(r.output, "Sanitizer")) << c.name << ": " << r.output;
    EXPECT_EQ(rows(), before) << c.name;
  }
}

TEST_F(NodeCli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(runNode({}).exitCode, 2);
  EXPECT_EQ(runNode({"launch"}).exitCode, 2);
  EXPECT_EQ(runNode({"serve", "--config"}).exitCode, 2);
  EXPECT_EQ(runNode({"serve", "extra"}).exitCode, 2);
  EXPECT_EQ(runNode({"--help"}).exitCode, 0);
}

class ServeStartup : public ::testing::Test {
 protected:
  void SetUp() override { f.migrate(); }
  CommandResult serve() { return runNode({"serve", "--config", f.configPath}, {}, std::chrono::seconds(30)); }
  NodeFixture f;
};

TEST_F(ServeStartup, MissingRequiredKeyIsNamed) {
  f.config.erase("tls.trustBundle");
  f.writeConfig();
  auto r = serve();
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "tls.trustBundle")) << r.output;
  EXPECT_TRUE(contains(r.output, "HIE_TLS_TRUSTBUNDLE")) << r.output;
}

TEST_F(ServeStartup, UnknownKeyIsRefused) {
  f.config["tls.crll"] = "network.crl";
  f.writeConfig();
  auto r = serve();
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "tls.crll")) << r.output;
}

TEST_F(ServeStartup, EnvironmentOverridesTheFile) {
  f.config["server.port"] = "not-a-port";
  f.writeConfig();
  auto bad = serve();
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_TRUE(contains(bad.output, "server.port")) << bad.output;
  NodeProcess node({"serve", "--config", f.configPath}, {{"HIE_SERVER_PORT", "0"}}, f.dir.path() + "/env.log");
  EXPECT_TRUE(node.waitUntilListening()) << node.log();
}

TEST_F(ServeStartup, WrongKeyPathIsNamed) {
  f.config["tls.privateKey"] = "missing.key";
  f.writeConfig();
  auto r = serve();
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "missing.key")) << r.output;
}

TEST_F(ServeStartup, KeyThatDoesNotMatchTheCertificateIsNamed) {
  writeFile(f.dir.path(), "other.key", f.memberCert({}).keyPem());
  f.config["tls.privateKey"] = "other.key";
  f.writeConfig();
  auto r = serve();
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "other.key")) << r.output;
  EXPECT_TRUE(contains(r.output, "does not match")) << r.output;
}

TEST_F(ServeStartup, EncryptedKeyIsRefusedWithoutPrompting) {
  // An encrypted key must be a clear error, never a passphrase prompt (stdin is /dev/null here).
  writeFile(f.dir.path(), "enc.key",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiVkU4d9ud1sQICCAAw\n"
            "-----END ENCRYPTED PRIVATE KEY-----\n");
  f.config["tls.privateKey"] = "enc.key";
  f.writeConfig();
  auto r = serve();
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "enc.key")) << r.output;
}

TEST_F(ServeStartup, UnreadableTrustBundleIsNamed) {
  writeFile(f.dir.path(), "bundle.pem", "this is not PEM\n");
  f.config["tls.trustBundle"] = "bundle.pem";
  f.writeConfig();
  auto r = serve();
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "bundle.pem")) << r.output;
}

TEST_F(ServeStartup, MissingCrlFileIsNamed) {
  f.config["tls.crl"] = "nowhere.crl";
  f.writeConfig();
  auto r = serve();
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "nowhere.crl")) << r.output;
}

TEST_F(ServeStartup, ExpiredOwnCertificateIsRefused) {
  CertSpec spec;
  spec.commonName = "node-a";
  spec.extendedKeyUsage = {"serverAuth", "clientAuth"};
  spec.notBeforeOffsetSeconds = -10 * 86400;
  spec.notAfterOffsetSeconds = -60;
  Credential old = f.pki.leaf(spec);
  writeFile(f.dir.path(), "old.crt", f.pki.chainPem(old));
  writeFile(f.dir.path(), "old.key", old.keyPem());
  f.config["tls.certificate"] = "old.crt";
  f.config["tls.privateKey"] = "old.key";
  f.writeConfig();
  auto r = serve();
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "expired")) << r.output;
}

TEST_F(ServeStartup, ExpiredCrlRefusesEveryClient) {
  f.addOrg(kLakeside, "Lakeside Clinic");
  CrlSpec stale;
  stale.lastUpdateOffsetSeconds = -10 * 86400;
  stale.nextUpdateOffsetSeconds = -86400;
  writeFile(f.dir.path(), "stale.crl", makeCrlPem(f.pki.root, CrlSpec{}) + makeCrlPem(f.pki.intermediate, stale));
  f.config["tls.crl"] = "stale.crl";
  f.writeConfig();
  f.start();
  auto r = f.get(f.memberCert({kLakeside}));
  EXPECT_TRUE(r.tlsRefused) << "HTTP " << r.status;
  EXPECT_TRUE(contains(f.node()->log(), "(nextUpdate) expired at")) << f.node()->log();
}

TEST_F(ServeStartup, CrlCoveringOnlyTheLeafIssuerRefusesClients) {
  // With a CRL configured, every CA in the chain must be covered (fail closed).
  f.addOrg(kLakeside, "Lakeside Clinic");
  writeFile(f.dir.path(), "partial.crl", makeCrlPem(f.pki.intermediate, CrlSpec{}));
  f.config["tls.crl"] = "partial.crl";
  f.writeConfig();
  f.start();
  EXPECT_TRUE(f.get(f.memberCert({kLakeside})).tlsRefused);
}

TEST_F(ServeStartup, WarnsBeforeTheNodeCertificateExpires) {
  CertSpec spec;
  spec.commonName = "node-a";
  spec.sanIps = {"127.0.0.1"};
  spec.extendedKeyUsage = {"serverAuth", "clientAuth"};
  spec.notAfterOffsetSeconds = 5 * 86400;
  Credential soon = f.pki.leaf(spec);
  writeFile(f.dir.path(), "soon.crt", f.pki.chainPem(soon));
  writeFile(f.dir.path(), "soon.key", soon.keyPem());
  f.config["tls.certificate"] = "soon.crt";
  f.config["tls.privateKey"] = "soon.key";
  f.config["tls.expiryWarningDays"] = "14, 3";
  f.writeConfig();
  f.start();
  EXPECT_TRUE(contains(f.node()->log(), "node certificate /CN=node-a expires within 14 days")) << f.node()->log();
  f.config["tls.expiryWarningDays"] = "soon";
  f.writeConfig();
  auto bad = serve();
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_TRUE(contains(bad.output, "tls.expiryWarningDays")) << bad.output;
}

TEST_F(ServeStartup, SigtermStopsTheNodeCleanly) {
  f.start();
  EXPECT_EQ(f.node()->stop(), 0) << f.node()->log();
}

}  // namespace
}  // namespace hie::testing
