// A UDAP access token at the FHIR API of a real node (docs/api.md, "Bearer tokens (UDAP)"):
// a granted patient read with the token answers 200 and its audit leaf (34 keys) says
// authentication "mtls+udap" and the token's client_id; the same token over a connection with
// another certificate of the same organization is 401 (token_binding_mismatch); Bearer on
// /exchange is 400; a purpose header that differs is 403; an expired token or one of a cancelled
// client is 401. The tokens are minted here with issueAccessToken and the node's own key (as /oauth/token would),
// the client registered by a row in udap_clients (as /oauth/register would).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <pqxx/pqxx>

#include "auth/udap/access_token.h"
#include "auth/udap/jws.h"
#include "common/base64.h"
#include "common/hex.h"
#include "tests/support/fhir_validator.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kBase = "https://udap.test:8443";
const std::string kClinic = "urn:oid:2.16.840.1.113883.3.7001";
const std::string kAuditorOrg = "urn:oid:2.16.840.1.113883.3.7009";
const std::string kClientId = "bearer-test-client-1";

std::string thumbprintOf(const Credential& c) {
  std::string bytes;
  const std::string hex = c.sha256Fingerprint();
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return base64UrlEncode(bytes);
}

class UdapBearer : public ::testing::Test {
 protected:
  void SetUp() override {
    f.migrate();
    f.addOrg(kClinic, "Lakeside Clinic");
    f.addOrg(kAuditorOrg, "Network Audit Office", {"--role", "auditor"});
    ASSERT_EQ(f.cli({"grant", "add", "--org", kClinic, "--resource", "Patient", "--action", "read", "--purpose", "TREAT"})
                  .exitCode,
              0);
    auto imported = f.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"});
    ASSERT_EQ(imported.exitCode, 0) << imported.output;
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
    f.config["udap.enabled"] = "true";
    f.writeConfig();
    clinic = f.memberCert({kClinic}, "clinic");
    clinicOther = f.memberCert({kClinic}, "clinic-2");  // another certificate of the same organization
    auditor = f.memberCert({kAuditorOrg}, "auditor");
    // The registration /oauth/register would have made.
    pqxx::connection c(f.db.uri());
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO udap_clients (client_id, organization_id, san_uri, status, client_name, contacts, scope, "
                   "software_statement, cert_sha256) SELECT $1, id, $2, 'active', 'test', 'mailto:ops@clinic.test', "
                   "'system/*.read', 'x.y.z', $3 FROM organizations WHERE identifier = $2",
                   kClientId, kClinic, clinic.sha256Fingerprint());
    tx.commit();
    f.start();
  }

  // Signed with f.serverCert's key; iat = now + issuedIn (default 5 s ago).
  std::string token(const Credential& boundTo, const std::string& purpose = "TREAT", std::int64_t lifetime = 300,
                    const std::string& clientId = kClientId, std::int64_t issuedIn = -5) const {
    auth::udap::AccessTokenClaims claims;
    claims.issuer = kBase + "/fhir";
    claims.clientId = clientId;
    claims.organizationId = kClinic;
    claims.purposeOfUse = purpose;
    claims.scope = "system/*.read";
    claims.certificateThumbprint = thumbprintOf(boundTo);
    claims.issuedAt = static_cast<std::int64_t>(std::time(nullptr)) + issuedIn;
    claims.expiresAt = claims.issuedAt + lifetime;
    claims.jti = randomHex(16);
    auto t = auth::udap::issueAccessToken(claims, f.serverCert.key());
    EXPECT_TRUE(t) << (t ? "" : t.error().internal);
    return t ? *t : "";
  }

  // The first read waits (bounded) for the registry to see the client row.
  HttpResult readWith(const Credential& leaf, const std::string& bearer, std::vector<std::string> headers = {},
                      const std::string& path = "/fhir/Patient/p-ava") const {
    headers.push_back("Authorization: Bearer " + bearer);
    return f.get(leaf, path, headers);
  }

  long long count(const std::string& where) const {
    pqxx::connection c(f.db.uri());
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT count(*) FROM audit_log_leaves WHERE " + where)[0].as<long long>();
  }

  NodeFixture f;
  Credential clinic, clinicOther, auditor;
};

TEST_F(UdapBearer, AGrantedReadWithATokenIsServedAndAuditedAsMtlsPlusUdap) {
  const std::string t = token(clinic);
  HttpResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  do {
    r = readWith(clinic, t);
    if (r.status != 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the registry poll (200 ms) picks up the client
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(r.status, 200) << r.head << r.body << f.node()->log();
  EXPECT_TRUE(contains(r.body, "\"id\": \"p-ava\"")) << r.body;

  // The leaf: 34 keys, authentication and clientId, the token's purpose (no X-Purpose-Of-Use was sent).
  const std::string served = "audit_leaf_text(leaf, 'action') = 'read' AND audit_leaf_text(leaf, 'outcome') = 'success'";
  EXPECT_EQ(count(served + " AND audit_leaf_text(leaf, 'authentication') = 'mtls+udap' AND "
                           "audit_leaf_text(leaf, 'clientId') = '" + kClientId + "' AND audit_leaf_text(leaf, 'purpose') = 'TREAT'"),
            1);
  EXPECT_EQ(count(served + " AND (SELECT count(*) FROM jsonb_object_keys(leaf::jsonb)) = 34"), 1);
  // The token never reaches the node's log.
  EXPECT_FALSE(contains(f.node()->log(), t.substr(t.rfind('.') + 1))) << "the token's signature is in the log";
  EXPECT_TRUE(contains(f.node()->log(), "client_id=" + kClientId)) << f.node()->log();

  // A plain mTLS read stays "mtls" with no client.
  ASSERT_EQ(f.get(clinic, "/fhir/Patient/p-ava", {"X-Purpose-Of-Use: TREAT"}).status, 200);
  EXPECT_EQ(count(served + " AND audit_leaf_text(leaf, 'authentication') = 'mtls' AND audit_leaf_text(leaf, 'clientId') = ''"), 1);

  // The same token over a connection with another certificate of the same organization: 401.
  HttpResult other = readWith(clinicOther, t);
  EXPECT_EQ(other.status, 401) << other.body;
  EXPECT_TRUE(contains(other.header("WWW-Authenticate"), "Bearer realm=\"hie-node\", error=\"invalid_token\""))
      << other.head;
  EXPECT_TRUE(contains(other.body, "\"resourceType\":\"OperationOutcome\"")) << other.body;
  // Refused after its signature verified: audited as the token's client, mtls+udap.
  const std::string asTheClient =
      " AND audit_leaf_text(leaf, 'authentication') = 'mtls+udap' AND audit_leaf_text(leaf, 'clientId') = '" + kClientId + "'";
  EXPECT_EQ(count("audit_leaf_text(leaf, 'outcomeReason') = 'token_binding_mismatch' AND "
                  "audit_leaf_text(leaf, 'outcome') = 'denied'" + asTheClient),
            1);

  // Another purpose in the header: 403; a token on /exchange: 400; an expired token: 401.
  EXPECT_EQ(readWith(clinic, t, {"X-Purpose-Of-Use: HPAYMT"}).status, 403);
  EXPECT_EQ(readWith(clinic, t, {}, "/exchange/Patient?identifier=urn:x|1").status, 400);
  HttpResult expired = readWith(clinic, token(clinic, "TREAT", 1));
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(count("audit_leaf_text(leaf, 'outcomeReason') = 'purpose_mismatch'" + asTheClient), 1);
  EXPECT_EQ(count("audit_leaf_text(leaf, 'outcomeReason') = 'bearer_not_accepted'"), 1);
  EXPECT_EQ(count("audit_leaf_text(leaf, 'outcomeReason') = 'token_expired'" + asTheClient), 1);
  // A token this node did not sign proves no client: plain mtls.
  std::string forged = t;
  char& inSignature = forged[forged.rfind('.') + 10];
  inSignature = inSignature == 'A' ? 'B' : 'A';
  EXPECT_EQ(readWith(clinic, forged).status, 401);
  EXPECT_EQ(count("audit_leaf_text(leaf, 'outcomeReason') = 'token_signature' AND "
                  "audit_leaf_text(leaf, 'authentication') = 'mtls' AND audit_leaf_text(leaf, 'clientId') = ''"),
            1);
  // No read was served by any of them.
  EXPECT_EQ(count(served), 2);

  // The trail verifies (34-key leaves next to the others), and the AuditEvent of the token's read is
  // valid R4 and BALP with the client as the requestor's altId.
  auto verified = f.cli({"audit", "verify"});
  EXPECT_EQ(verified.exitCode, 0) << verified.output;
  auto trail = f.get(auditor, "/audit/AuditEvent?patient=p-ava&_count=50");
  ASSERT_EQ(trail.status, 200) << trail.body;
  EXPECT_TRUE(contains(trail.body, "\"altId\":\"" + kClientId + "\"")) << trail.body;
  auto r4 = validateFhirR4({{"udap-trail", trail.body}}, f.dir.path());
  EXPECT_EQ(r4.exitCode, 0) << r4.output;
  const std::string file = writeFile(f.dir.path(), "udap-trail.json", trail.body);
  auto balp = runFhirTool("balp-check.js", {file});
  EXPECT_EQ(balp.exitCode, 0) << balp.output;
  EXPECT_TRUE(contains(balp.output, " 0 problems")) << balp.output;
}

TEST_F(UdapBearer, ATlsReloadDuringUdapUseKeepsEarlierTokensAndRefusesMaterialUnfitForUdap) {
  const std::string early = token(clinic);
  HttpResult r;
  ASSERT_TRUE(waitFor([&] { return (r = readWith(clinic, early)).status == 200; }, std::chrono::seconds(15)))
      << r.status << r.body << f.node()->log();
  const Credential old = f.serverCert;
  auto install = [&](const Credential& c) {
    writeFile(f.dir.path(), "node.key", c.keyPem());
    writeFile(f.dir.path(), "node.crt", f.pki.chainPem(c));
    f.node()->signal(SIGHUP);
  };
  CertSpec spec;
  spec.commonName = "node-a";
  spec.sanDns = {"localhost"};
  spec.sanIps = {"127.0.0.1"};
  spec.extendedKeyUsage = {"serverAuth", "clientAuth"};
  spec.keyType = KeyType::kRsa2048;

  // Without the SAN URI of the FHIR base: refused (log and counter), the old material stays.
  spec.sanUris = {kNodeOrg};
  install(f.pki.leaf(spec));
  ASSERT_TRUE(waitFor([&] { return contains(f.node()->log(), "has no SAN URI " + kBase + "/fhir"); },
                      std::chrono::seconds(10)))
      << f.node()->log();
  EXPECT_GE(f.node()->counter("hie_tls_reload_failures_total"), 1u);
  EXPECT_EQ(f.node()->counter("hie_tls_reloads_total"), 0u);
  EXPECT_EQ(f.get(clinic).serverCertSha256, old.sha256Fingerprint());
  EXPECT_EQ(readWith(clinic, early).status, 200);

  // A certificate fit for UDAP: taken. Tokens the old key signed before the reload stay valid.
  spec.sanUris = {kNodeOrg, kBase + "/fhir"};
  const Credential fresh = f.pki.leaf(spec);
  install(fresh);
  ASSERT_TRUE(waitFor([&] { return f.get(clinic).serverCertSha256 == fresh.sha256Fingerprint(); },
                      std::chrono::seconds(10)))
      << f.node()->log();
  EXPECT_EQ(readWith(clinic, early).status, 200);
  // The old key signing after the reload is not this node: refused, and the audit entry names no
  // client (whoever holds a replaced key can write any client_id into a token).
  f.serverCert = old;
  const std::string lateOld = token(clinic, "TREAT", 300, kClientId, 30);  // iat: now + 30, after the reload
  f.serverCert = fresh;
  HttpResult retired = readWith(clinic, lateOld);
  EXPECT_EQ(retired.status, 401) << retired.body;
  EXPECT_EQ(count("audit_leaf_text(leaf, 'outcomeReason') = 'token_key_retired' AND "
                  "audit_leaf_text(leaf, 'authentication') = 'mtls' AND audit_leaf_text(leaf, 'clientId') = ''"),
            1);
  EXPECT_EQ(readWith(clinic, token(clinic)).status, 200);  // the new key's token
  // New answers are signed with the new key: the discovery's signed_metadata carries the new chain.
  const HttpResult metadata = f.get(clinic, "/fhir/.well-known/udap");
  ASSERT_EQ(metadata.status, 200) << metadata.body;
  const std::size_t at = metadata.body.find("\"signed_metadata\":\"") + 19;
  auto jws = auth::udap::parseJws(metadata.body.substr(at, metadata.body.find('"', at) - at));
  ASSERT_TRUE(jws) << metadata.body;
  EXPECT_EQ(jws->x5cDer.front(), fresh.certDer());
  EXPECT_EQ(count("audit_leaf_text(leaf, 'action') = 'read' AND audit_leaf_text(leaf, 'outcome') = 'success'"), 4);
}

TEST_F(UdapBearer, ACancelledClientsTokenIsRefused) {
  const std::string cancelled = "bearer-test-client-2";
  {
    pqxx::connection c(f.db.uri());
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO udap_clients (client_id, organization_id, san_uri, status, client_name, contacts, scope, "
                   "software_statement, cert_sha256) SELECT $1, id, $2, 'cancelled', 'test', 'mailto:ops@clinic.test', "
                   "'system/*.read', 'x.y.z', $3 FROM organizations WHERE identifier = $2",
                   cancelled, kClinic, clinic.sha256Fingerprint());
    tx.commit();
  }
  const std::string t = token(clinic, "TREAT", 300, cancelled);
  // Never served, whether the registry has seen the row yet or not: unknown and cancelled are alike.
  HttpResult r = readWith(clinic, t);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(count("audit_leaf_text(leaf, 'outcomeReason') = 'token_client_cancelled' AND "
                  "audit_leaf_text(leaf, 'authentication') = 'mtls+udap' AND audit_leaf_text(leaf, 'clientId') = '" +
                  cancelled + "'"),
            1);
  EXPECT_EQ(count("audit_leaf_text(leaf, 'action') = 'read' AND audit_leaf_text(leaf, 'outcome') = 'success'"), 0);
}

}  // namespace
}  // namespace hie::testing
