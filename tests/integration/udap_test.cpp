// UDAP B2B against a real node and database, driven by an independent client
// (tests/tools/udap-client.js: jose + node:crypto + node:https): discovery and
// signed_metadata, registration, modification, cancellation, tokens, and every
// refusal of registration and token requests with its OAuth error, HTTP
// status and audit entry (docs/udap.md).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <pqxx/pqxx>

#include "tests/support/fhir_validator.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kBase = "https://udap.test:8443";  // server.baseUrl: the public URL, not the test port
const std::string kClinic = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kOther = "urn:oid:2.16.840.1.113883.3.7002";
const std::string kSuspended = "urn:oid:2.16.840.1.113883.3.7003";

std::map<std::string, std::string> stepsOf(const std::string& output) {
  std::map<std::string, std::string> steps;
  std::istringstream in(output);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, std::regex("^\\{\"step\":\"([a-z0-9-]+)\""))) steps[m[1]] = line;
  }
  return steps;
}

// The first ```sh block under the heading line `heading` of docs/udap.md; "" when none.
std::string docShellBlock(const std::string& heading) {
  std::ifstream in(std::string(HIE_SOURCE_DIR) + "/docs/udap.md");
  std::string line, block;
  bool inSection = false, inCode = false;
  while (std::getline(in, line)) {
    if (!inSection) {
      inSection = line == heading;
      continue;
    }
    if (!inCode && line.rfind("#", 0) == 0) break;
    if (line.rfind("```", 0) == 0) {
      if (inCode) return block;
      inCode = line == "```sh";
      continue;
    }
    if (inCode) block += line + "\n";
  }
  return "";
}

std::string fileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string field(const std::string& line, const std::string& name) {
  std::smatch m;
  if (std::regex_search(line, m, std::regex("\"" + name + "\":\"([^\"]*)\""))) return m[1];
  return "";
}

class Udap : public ::testing::Test {
 protected:
  void SetUp() override { setUpNode(true); }

  void setUpNode(bool enabled) {
    f.migrate();
    f.addOrg(kClinic, "Lakeside Clinic");
    f.addOrg(kOther, "Other Clinic");
    f.addOrg(kSuspended, "Suspended Clinic");
    ASSERT_EQ(f.cli({"org", "suspend", kSuspended}).exitCode, 0);
    ASSERT_EQ(f.cli({"grant", "add", "--org", kClinic, "--resource", "Patient", "--action", "read,search", "--purpose",
                     "TREAT"})
                  .exitCode,
              0);
    ASSERT_EQ(f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}).exitCode, 0);
    // The node's certificate: RSA (signed_metadata RS256, discovery.md 2.3) with the SAN URI of its FHIR base.
    CertSpec server;
    server.commonName = "node-a";
    server.sanUris = {kNodeOrg, kBase + "/fhir"};
    server.sanDns = {"localhost"};
    server.sanIps = {"127.0.0.1"};
    server.extendedKeyUsage = {"serverAuth", "clientAuth"};
    server.keyType = KeyType::kRsa2048;
    f.serverCert = f.pki.leaf(server);
    writeFile(f.dir.path(), "node.crt", f.pki.chainPem(f.serverCert));
    writeFile(f.dir.path(), "node.key", f.serverCert.keyPem());
    f.config["server.baseUrl"] = kBase;
    f.config["udap.enabled"] = enabled ? "true" : "false";
    f.writeConfig();
    clinic = f.memberCert({kClinic}, "clinic");
    cert = writeFile(files.path(), "clinic.crt", f.pki.chainPem(clinic));
    key = writeFile(files.path(), "clinic.key", clinic.keyPem());
    ca = writeFile(files.path(), "ca.crt", f.pki.root.certPem());
    f.start();
    url = "https://127.0.0.1:" + std::to_string(f.node()->port());
  }

  CommandResult client(const std::string& mode, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{mode, "--url", url, "--base", kBase, "--cert", cert, "--key", key, "--ca", ca,
                               "--iss", kClinic};
    a.insert(a.end(), extra.begin(), extra.end());
    return runFhirTool("udap-client.js", a);
  }
  std::map<std::string, std::string> steps(const std::string& mode, std::vector<std::string> extra = {}) const {
    const CommandResult r = client(mode, std::move(extra));
    EXPECT_EQ(r.exitCode, 0) << r.output;
    return stepsOf(r.output);
  }
  std::string registerClinic() {
    auto s = steps("register");
    const std::string id = field(s["register"], "client_id");
    EXPECT_FALSE(id.empty()) << s["register"] << f.node()->log();
    return id;
  }
  // A signing credential other than the clinic's TLS one, as files.
  std::vector<std::string> signWith(const Credential& leaf, const std::string& chainPem, const std::string& name) const {
    return {"--sign-cert", writeFile(files.path(), name + ".crt", chainPem), "--sign-key",
            writeFile(files.path(), name + ".key", leaf.keyPem())};
  }
  long long auditCount(const std::string& action, const std::string& reason) const {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec_params1("SELECT count(*) FROM audit_log_leaves WHERE audit_leaf_text(leaf, 'action') = $1 AND "
                           "audit_leaf_text(leaf, 'outcomeReason') = $2",
                           action, reason)[0]
        .as<long long>();
  }
  long long tokensIssued() const {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT count(*) FROM audit_log_leaves WHERE audit_leaf_text(leaf, 'action') = 'udap-token' AND "
                    "audit_leaf_text(leaf, 'outcome') = 'success'")[0]
        .as<long long>();
  }
  // One crafted case: its step shows `status` and `error`, the audit has an entry with `reason`,
  // and no token was issued by it.
  void expectRefused(const std::string& name, int status, const std::string& error, const std::string& action,
                     const std::string& reason, std::vector<std::string> extra = {}) {
    const long long before = tokensIssued();
    extra.insert(extra.begin(), {"--case", name});
    auto s = steps("case", extra);
    const std::string& line = s[name];
    EXPECT_TRUE(contains(line, "\"status\":" + std::to_string(status))) << name << ": " << line;
    if (!error.empty()) {
      EXPECT_TRUE(contains(line, "\"error\":\"" + error + "\"")) << name << ": " << line;
      EXPECT_TRUE(contains(line, "\"cacheControl\":\"no-store\"")) << name << ": " << line;
    }
    EXPECT_GE(auditCount(action, reason), 1) << name << ": no audit entry " << action << "/" << reason << "\n" << line;
    EXPECT_EQ(tokensIssued(), before + (name == "tok-replay" ? 1 : 0)) << name;
  }

  NodeFixture f;
  TempDir files;
  Credential clinic;
  std::string cert, key, ca, url;
};

TEST_F(Udap, DiscoveryRegistrationAndTokenByAnIndependentClient) {
  auto s = steps("flow", {"--patient", "p-ava"});
  EXPECT_TRUE(contains(s["discover"], "\"status\":200")) << s["discover"];
  EXPECT_TRUE(contains(s["discover"], "\"signedMetadata\":\"valid\"")) << s["discover"];
  EXPECT_TRUE(contains(s["discover"], "\"alg\":\"RS256\"")) << s["discover"];
  EXPECT_TRUE(contains(s["discover"], "\"token_endpoint\":\"" + kBase + "/oauth/token\"")) << s["discover"];
  EXPECT_TRUE(contains(s["discover"], "\"registration_endpoint\":\"" + kBase + "/oauth/register\"")) << s["discover"];
  EXPECT_TRUE(contains(s["discover"], "\"udap_authorization_extensions_required\":[\"hl7-b2b\"]")) << s["discover"];
  EXPECT_TRUE(contains(s["register"], "\"status\":201")) << s["register"];
  EXPECT_TRUE(contains(s["register"], "\"cacheControl\":\"no-store\"")) << s["register"];
  EXPECT_TRUE(contains(s["register"], "\"grant_types\":[\"client_credentials\"]")) << s["register"];
  EXPECT_FALSE(contains(s["register"], "\"iss\"")) << s["register"];
  EXPECT_TRUE(contains(s["token"], "\"status\":200")) << s["token"];
  EXPECT_TRUE(contains(s["token"], "\"token_type\":\"Bearer\"")) << s["token"];
  EXPECT_TRUE(contains(s["token"], "\"scope\":\"system/*.read\"")) << s["token"];
  EXPECT_TRUE(contains(s["token"], "\"cacheControl\":\"no-store\"")) << s["token"];
  // The token reads at the FHIR API (the Bearer check), for the purpose it was issued for. The
  // Bearer check knows clients from the registry snapshot: a client registered a moment ago is known
  // there within registry.pollInterval (until then its token is refused as token_client_cancelled).
  const std::string token = field(s["token"], "access_token");
  ASSERT_FALSE(token.empty()) << s["token"];
  std::string read = s["read"];
  EXPECT_TRUE(waitFor(
      [&] {
        if (contains(read, "\"status\":200")) return true;
        read = steps("read", {"--token", token, "--patient", "p-ava"})["read"];
        return contains(read, "\"status\":200");
      },
      std::chrono::seconds(10)))
      << read << f.node()->log();
  EXPECT_TRUE(contains(read, "\"id\":\"p-ava\"")) << read;
  EXPECT_EQ(auditCount("udap-metadata", ""), 1);
  EXPECT_EQ(auditCount("udap-register", ""), 1);
  EXPECT_EQ(tokensIssued(), 1);
  {
    // The registration's and the token's entries name the client and the connection's organization.
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM audit_log_leaves WHERE audit_leaf_text(leaf, 'action') IN "
                              "('udap-register', 'udap-token') AND audit_leaf_text(leaf, 'clientId') = $1 AND "
                              "audit_leaf_text(leaf, 'organization') = $2",
                              field(s["register"], "client_id"), kClinic)[0]
                  .as<int>(),
              2);
    // The token's entry names the purpose it was issued for (the client assertion's hl7-b2b).
    EXPECT_EQ(tx.exec1("SELECT audit_leaf_text(leaf, 'purpose') FROM audit_log_leaves WHERE "
                       "audit_leaf_text(leaf, 'action') = 'udap-token' AND audit_leaf_text(leaf, 'outcome') = 'success'")[0]
                  .as<std::string>(),
              "TREAT");
  }
  // The operator sees the client.
  const CommandResult list = f.cli({"udap", "clients", "list"});
  EXPECT_EQ(list.exitCode, 0) << list.output;
  EXPECT_TRUE(contains(list.output, field(s["register"], "client_id") + "  active  " + kClinic)) << list.output;
}

TEST_F(Udap, ModificationKeepsTheClientIdAndCancellationEndsTokens) {
  const std::string id = registerClinic();
  auto again = steps("register");
  EXPECT_TRUE(contains(again["register"], "\"status\":200")) << again["register"];
  EXPECT_EQ(field(again["register"], "client_id"), id);
  auto cancel = steps("case", {"--case", "reg-cancel"});
  EXPECT_TRUE(contains(cancel["reg-cancel"], "\"status\":200")) << cancel["reg-cancel"];
  EXPECT_TRUE(contains(cancel["reg-cancel"], "\"grant_types\":[]")) << cancel["reg-cancel"];
  auto t = steps("token", {"--client-id", id});
  EXPECT_TRUE(contains(t["token"], "\"status\":401")) << t["token"];
  EXPECT_TRUE(contains(t["token"], "\"error\":\"invalid_client\"")) << t["token"];
  EXPECT_EQ(auditCount("udap-token", "client_cancelled"), 1);
  // Cancelling again: nothing active.
  auto twice = steps("case", {"--case", "reg-cancel"});
  EXPECT_TRUE(contains(twice["reg-cancel"], "\"error\":\"invalid_client_metadata\"")) << twice["reg-cancel"];
  // A new registration after the cancellation: a new client_id.
  auto fresh = steps("register");
  EXPECT_TRUE(contains(fresh["register"], "\"status\":201")) << fresh["register"];
  EXPECT_NE(field(fresh["register"], "client_id"), id);
  // The operator cancels it.
  const std::string second = field(fresh["register"], "client_id");
  EXPECT_EQ(f.cli({"udap", "clients", "cancel", second}).exitCode, 0);
  EXPECT_EQ(f.cli({"udap", "clients", "cancel", second}).exitCode, 1);
  EXPECT_EQ(f.cli({"udap", "clients", "cancel"}).exitCode, 2);
  auto after = steps("token", {"--client-id", second});
  EXPECT_TRUE(contains(after["token"], "\"error\":\"invalid_client\"")) << after["token"];
}

TEST_F(Udap, AnUnknownCommunityGetsTheDefaultMetadata) {
  const HttpResult r = f.get(clinic, "/fhir/.well-known/udap?community=urn:oid:1.2.3.4.5");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.body, "\"signed_metadata\":\"")) << r.body;
  // Discovery needs no registered organization: any client whose TLS chain verified.
  const Credential stranger = f.memberCert({"urn:oid:2.16.840.1.113883.3.7777"}, "stranger");
  EXPECT_EQ(f.get(stranger, "/fhir/.well-known/udap").status, 200);
  EXPECT_EQ(f.get(stranger, "/fhir/metadata").status, 403);
}

TEST_F(Udap, RegistrationRefusals) {
  expectRefused("reg-alg-none", 400, "invalid_software_statement", "udap-register", "jws_algorithm");
  expectRefused("reg-hs256-cert-key", 400, "invalid_software_statement", "udap-register", "jws_algorithm");
  expectRefused("reg-exp-301", 400, "invalid_software_statement", "udap-register", "lifetime_too_long");
  expectRefused("reg-wrong-aud", 400, "invalid_software_statement", "udap-register", "aud_mismatch");
  expectRefused("reg-33k", 400, "invalid_software_statement", "udap-register", "jws_too_large");
  expectRefused("reg-x5c-6", 400, "invalid_software_statement", "udap-register", "jws_x5c_too_many");
  expectRefused("reg-x5c-9k", 400, "invalid_software_statement", "udap-register", "jws_x5c_too_large");
  expectRefused("reg-body-malformed", 400, "invalid_software_statement", "udap-register", "body_json_malformed");
  expectRefused("reg-body-duplicate", 400, "invalid_software_statement", "udap-register", "body_json_duplicate_key");
  expectRefused("reg-header-malformed", 400, "invalid_software_statement", "udap-register", "jws_json");
  expectRefused("reg-header-duplicate", 400, "invalid_software_statement", "udap-register", "jws_duplicate_key");
  expectRefused("reg-claims-malformed", 400, "invalid_software_statement", "udap-register", "jws_json");
  expectRefused("reg-claims-duplicate", 400, "invalid_software_statement", "udap-register", "jws_duplicate_key");
  expectRefused("reg-replay", 400, "invalid_software_statement", "udap-register", "jti_replayed");
  expectRefused("reg-udap-missing", 400, "invalid_software_statement", "udap-register", "udap_version");
  expectRefused("reg-authorization-code", 400, "invalid_client_metadata", "udap-register", "grant_type_authorization_code");
}

TEST_F(Udap, RegistrationRefusesCertificatesThatDoNotStand) {
  auto refusedWith = [&](std::vector<std::string> extra, const std::string& reason, const std::string& iss = kClinic) {
    extra.insert(extra.end(), {"--iss", iss});
    auto s = steps("register", extra);
    EXPECT_TRUE(contains(s["register"], "\"status\":400")) << s["register"];
    EXPECT_TRUE(contains(s["register"], "\"error\":\"unapproved_software_statement\"")) << s["register"];
    EXPECT_EQ(auditCount("udap-register", reason), 1) << reason << " " << s["register"] << "\n" << f.node()->log();
  };
  // Expired.
  CertSpec expired;
  expired.commonName = "expired";
  expired.sanUris = {kClinic};
  expired.extendedKeyUsage = {"clientAuth"};
  expired.notBeforeOffsetSeconds = -7200;
  expired.notAfterOffsetSeconds = -3600;
  const Credential old = f.pki.leaf(expired);
  refusedWith(signWith(old, f.pki.chainPem(old), "expired"), "x5c_certificate_expired");
  // Foreign CA.
  const TestPki foreign = TestPki::create();
  CertSpec spec;
  spec.commonName = "foreign";
  spec.sanUris = {kClinic};
  spec.extendedKeyUsage = {"clientAuth"};
  const Credential stranger = foreign.leaf(spec);
  refusedWith(signWith(stranger, foreign.chainPem(stranger), "foreign"), "x5c_unknown_issuer");
  // iss not a SAN URI of the leaf (the leaf names the clinic, iss another organization).
  refusedWith({}, "iss_not_in_san", kOther);
  // The SAN of an organization that is not registered here.
  const Credential unknown = f.memberCert({"urn:oid:2.16.840.1.113883.3.7777"}, "unknown");
  refusedWith(signWith(unknown, f.pki.chainPem(unknown), "unknown"), "x5c_unknown_organization",
              "urn:oid:2.16.840.1.113883.3.7777");
  // A suspended organization.
  const Credential suspended = f.memberCert({kSuspended}, "suspended");
  refusedWith(signWith(suspended, f.pki.chainPem(suspended), "suspended"), "x5c_suspended_organization", kSuspended);
}

TEST_F(Udap, RegistrationRefusesARevokedCertificate) {
  const Credential revoked = f.memberCert({kClinic}, "revoked");
  writeFile(f.dir.path(), "crl.pem",
            makeCrlPem(f.pki.intermediate, CrlSpec{{&revoked}}) + makeCrlPem(f.pki.root, CrlSpec{}));
  f.node()->stop();
  f.config["tls.crl"] = "crl.pem";
  f.writeConfig();
  f.start();
  url = "https://127.0.0.1:" + std::to_string(f.node()->port());
  auto s = steps("register", signWith(revoked, f.pki.chainPem(revoked), "revoked"));
  EXPECT_TRUE(contains(s["register"], "\"error\":\"unapproved_software_statement\"")) << s["register"];
  EXPECT_EQ(auditCount("udap-register", "x5c_certificate_revoked"), 1) << s["register"] << f.node()->log();
}

TEST_F(Udap, TokenRefusals) {
  const std::string id = registerClinic();
  const std::vector<std::string> c{"--client-id", id};
  expectRefused("tok-alg-none", 401, "invalid_client", "udap-token", "jws_algorithm", c);
  expectRefused("tok-hs256-cert-key", 401, "invalid_client", "udap-token", "jws_algorithm", c);
  expectRefused("tok-exp-301", 401, "invalid_client", "udap-token", "lifetime_too_long", c);
  expectRefused("tok-wrong-aud", 401, "invalid_client", "udap-token", "aud_mismatch", c);
  expectRefused("tok-replay", 401, "invalid_client", "udap-token", "jti_replayed", c);
  expectRefused("tok-x5c-6", 401, "invalid_client", "udap-token", "jws_x5c_too_many", c);
  expectRefused("tok-x5c-9k", 401, "invalid_client", "udap-token", "jws_x5c_too_large", c);
  expectRefused("tok-claims-duplicate", 401, "invalid_client", "udap-token", "jws_duplicate_key", c);
  expectRefused("tok-b2b-missing", 400, "invalid_grant", "udap-token", "b2b_missing", c);
  expectRefused("tok-org-other", 400, "invalid_grant", "udap-token", "b2b_organization_mismatch", c);
  expectRefused("tok-purpose-unknown", 400, "invalid_grant", "udap-token", "purpose_of_use_unknown", c);
  expectRefused("tok-grant-authorization-code", 400, "unsupported_grant_type", "udap-token", "grant_type_unsupported", c);
  expectRefused("tok-udap-missing", 400, "invalid_request", "udap-token", "udap_version", c);
  expectRefused("tok-udap-2", 400, "invalid_request", "udap-token", "udap_version", c);
  expectRefused("tok-body-duplicate", 400, "invalid_request", "udap-token", "form_duplicate_parameter", c);
  expectRefused("tok-client-secret", 400, "invalid_request", "udap-token", "client_secret", c);
  // Larger than the endpoint's 32 KiB: refused by the listener before any parsing.
  expectRefused("tok-33k", 413, "", "rest", "request_body_too_large", c);
}

TEST_F(Udap, ATokenRequestOverAnotherOrganizationsConnectionIsRefused) {
  const std::string id = registerClinic();
  const Credential other = f.memberCert({kOther}, "other");
  // TLS as the other clinic, the assertion signed with the registered clinic's certificate.
  const std::string otherCert = writeFile(files.path(), "other.crt", f.pki.chainPem(other));
  const std::string otherKey = writeFile(files.path(), "other.key", other.keyPem());
  const CommandResult r = runFhirTool("udap-client.js", {"token", "--url", url, "--base", kBase, "--cert", otherCert,
                                                         "--key", otherKey, "--ca", ca, "--iss", kClinic, "--client-id",
                                                         id, "--sign-cert", cert, "--sign-key", key});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  auto s = stepsOf(r.output);
  EXPECT_TRUE(contains(s["token"], "\"status\":401")) << s["token"];
  EXPECT_TRUE(contains(s["token"], "\"error\":\"invalid_client\"")) << s["token"];
  EXPECT_EQ(auditCount("udap-token", "tls_organization_mismatch"), 1);
  EXPECT_EQ(tokensIssued(), 0);
}

TEST_F(Udap, TheOpensslWorkedExampleRegistersGetsATokenAndReads) {
  // The sh block of docs/udap.md's worked example, as written, run by /bin/sh (dash on Debian: POSIX
  // sh, no bash), in a directory holding the files the text names.
  const std::string example = docShellBlock("## Worked example: registration, a token and a read with openssl");
  ASSERT_TRUE(contains(example, "openssl dgst")) << "no sh block under the worked example in docs/udap.md";
  auto runWith = [&](const std::string& chainPem, const std::string& keyPem, const std::string& alg) {
    TempDir work;
    writeFile(work.path(), "clinic.crt", chainPem);
    writeFile(work.path(), "clinic.key", keyPem);
    writeFile(work.path(), "ca.crt", f.pki.root.certPem());
    const std::string script = "cd '" + work.path() + "'\n" + example;
    return runProgram({"/bin/sh", "-c", script},
                      {{"BASE", kBase}, {"NODE", url}, {"ORG", kClinic}, {"PATIENT", "p-ava"}, {"ALG", alg}},
                      std::chrono::seconds(60));
  };
  auto run = [&](const Credential& leaf, const std::string& alg) {
    return runWith(f.pki.chainPem(leaf), leaf.keyPem(), alg);
  };
  auto clientIdOf = [](const std::string& output) {
    std::smatch m;
    return std::regex_search(output, m, std::regex("client_id: ([A-Za-z0-9_-]+)")) ? std::string(m[1]) : "";
  };
  auto tokenReads = [&](const std::string& clientId) {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec_params1("SELECT count(*) FROM audit_log_leaves WHERE audit_leaf_text(leaf, 'action') = 'read' AND "
                           "audit_leaf_text(leaf, 'outcome') = 'success' AND "
                           "audit_leaf_text(leaf, 'authentication') = 'mtls+udap' AND "
                           "audit_leaf_text(leaf, 'clientId') = $1 AND audit_leaf_text(leaf, 'purpose') = 'TREAT'",
                           clientId)[0]
        .as<long long>();
  };

  // EC P-256 (ES256, the default): registers (201), gets a token, reads p-ava with it.
  const CommandResult ec = run(clinic, "ES256");
  EXPECT_EQ(ec.exitCode, 0) << ec.output << f.node()->log();
  const std::string id = clientIdOf(ec.output);
  ASSERT_FALSE(id.empty()) << ec.output << f.node()->log();
  EXPECT_TRUE(contains(ec.output, "token: scope system/*.read")) << ec.output;
  EXPECT_TRUE(std::regex_search(ec.output, std::regex("\"resourceType\": *\"Patient\""))) << ec.output;
  EXPECT_TRUE(std::regex_search(ec.output, std::regex("\"id\": *\"p-ava\""))) << ec.output;
  EXPECT_EQ(auditCount("udap-register", ""), 1);
  EXPECT_EQ(tokensIssued(), 1);
  EXPECT_EQ(tokenReads(id), 1);

  // RSA (RS256, RS384): the same organization's other certificate modifies the registration (the
  // same client_id) and reads again.
  CertSpec rsa;
  rsa.commonName = "clinic-rsa";
  rsa.sanUris = {kClinic};
  rsa.extendedKeyUsage = {"clientAuth"};
  rsa.keyType = KeyType::kRsa2048;
  const Credential rsaLeaf = f.pki.leaf(rsa);
  int runs = 1;
  for (const char* alg : {"RS256", "RS384"}) {
    const CommandResult rs = run(rsaLeaf, alg);
    ++runs;
    EXPECT_EQ(rs.exitCode, 0) << alg << "\n" << rs.output << f.node()->log();
    EXPECT_EQ(clientIdOf(rs.output), id) << alg << "\n" << rs.output;
    EXPECT_TRUE(std::regex_search(rs.output, std::regex("\"id\": *\"p-ava\""))) << alg << "\n" << rs.output;
  }

  // EC P-384 (ES384): a certificate the test network's issuing CA signs here with the openssl command.
  TempDir p384;
  writeFile(p384.path(), "ca.crt", f.pki.intermediate.certPem());
  writeFile(p384.path(), "ca.key", f.pki.intermediate.keyPem());
  writeFile(p384.path(), "ext.cnf",
            "subjectAltName = URI:" + kClinic +
                "\nextendedKeyUsage = clientAuth\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n");
  const CommandResult issued = runProgram(
      {"/bin/sh", "-c",
       "set -e; cd '" + p384.path() + "'; openssl ecparam -name secp384r1 -genkey -noout -out leaf.key; "
       "openssl req -new -key leaf.key -subj /CN=clinic-p384 -out leaf.csr; "
       "openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 7384 -days 1 -sha384 "
       "-extfile ext.cnf -out leaf.crt"});
  ASSERT_EQ(issued.exitCode, 0) << issued.output;
  const CommandResult es384 = runWith(fileText(p384.path() + "/leaf.crt") + f.pki.intermediate.certPem(),
                                      fileText(p384.path() + "/leaf.key"), "ES384");
  ++runs;
  EXPECT_EQ(es384.exitCode, 0) << es384.output << f.node()->log();
  EXPECT_EQ(clientIdOf(es384.output), id) << es384.output;
  EXPECT_TRUE(std::regex_search(es384.output, std::regex("\"id\": *\"p-ava\""))) << es384.output;

  EXPECT_EQ(auditCount("udap-register", ""), runs);
  EXPECT_EQ(tokensIssued(), runs);
  EXPECT_EQ(tokenReads(id), runs);
}

class UdapDisabled : public Udap {
 protected:
  void SetUp() override { setUpNode(false); }
};

TEST_F(UdapDisabled, TheEndpointsAreNotFound) {
  EXPECT_EQ(f.get(clinic, "/fhir/.well-known/udap").status, 404);
  auto s = steps("register");
  EXPECT_TRUE(contains(s["register"], "\"status\":404")) << s["register"];
  EXPECT_EQ(auditCount("udap-register", ""), 0);
}

TEST_F(UdapDisabled, EveryClientGets404AndNoBodyIsRead) {
  // A non-member (its chain verifies, it maps to no organization) gets the same 404 as a member: the
  // paths are answered before identity mapping whether UDAP is on or off.
  const Credential stranger = f.memberCert({"urn:oid:2.16.840.1.113883.3.7777"}, "stranger");
  EXPECT_EQ(f.get(stranger, "/fhir/.well-known/udap").status, 404);
  for (const Credential* who : std::vector<const Credential*>{&clinic, &stranger}) {
    for (const char* path : {"/oauth/register", "/oauth/token"}) {
      SCOPED_TRACE(std::string(path) + (who == &clinic ? " member" : " non-member"));
      // A body announced and never sent: reading it would wait for server.timeout (408), a limit
      // would answer 413. The 404 comes at once, and the connection closes.
      const HttpResult r = tlsExchange(f.node()->port(), f.pki.root, f.as(*who),
                                       std::string("POST ") + path +
                                           " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                           "Content-Length: 1000000\r\n\r\n");
      EXPECT_EQ(r.status, 404) << r.head << r.body;
    }
  }
  EXPECT_EQ(auditCount("rest", "no_route"), 5);
}

}  // namespace
}  // namespace hie::testing
