// This node as a UDAP client (issue 17, docs/udap.md "This node as a client"): three nodes on
// loopback. A's clinical system asks A; A fans out to B (udap.enabled and udap.requireToken; A's peer entry auth=udap; B's
// certificate carries its FHIR base URL as a SAN URI) and to C (plain mTLS). A discovers B, registers,
// gets a token and sends it; B audits one registration and one token; a second query reuses the
// token; after B cancels A's registration, A registers again by itself.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kLocalA = "urn:oid:2.16.840.1.113883.3.7101";
const std::string kOrgB = "urn:oid:2.16.840.1.113883.3.7200";
const std::string kOrgC = "urn:oid:2.16.840.1.113883.3.7300";
const std::string kNet = "urn:oid:2.16.840.1.113883.3.7000.1";

void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

// A loopback port free right now: B's public URL (and so its certificate's SAN URI) names its port
// before B starts.
int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

long long countWhere(const NodeFixture& f, const std::string& where) {
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  return tx.exec1("SELECT count(*) FROM audit_log_leaves WHERE " + where)[0].as<long long>();
}

// A's peer-call entry of one request to one peer: {authentication, clientId, outcome}.
std::vector<std::string> peerCall(const NodeFixture& f, const std::string& requestId, const std::string& peer) {
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  auto r = tx.exec_params(
      "SELECT audit_leaf_text(leaf, 'authentication'), audit_leaf_text(leaf, 'clientId'), "
      "audit_leaf_text(leaf, 'outcome') FROM audit_log_leaves WHERE audit_leaf_text(leaf, 'action') = 'peer-call' "
      "AND audit_leaf_text(leaf, 'causedBy') = $1 AND audit_leaf_text(leaf, 'peerOrganization') = $2",
      requestId, peer);
  if (r.size() != 1) return {"<" + std::to_string(r.size()) + " entries>"};
  return {r[0][0].c_str(), r[0][1].c_str(), r[0][2].c_str()};
}

class UdapExchange : public ::testing::Test {
 protected:
  void SetUp() override {
    baseB = "https://127.0.0.1:" + std::to_string(freePort());
    // B: UDAP server; an RSA certificate (signed_metadata RS256) with SAN URI = its FHIR base URL.
    CertSpec server;
    server.commonName = "node-b";
    server.sanUris = {kOrgB, baseB + "/fhir"};
    server.sanDns = {"localhost"};
    server.sanIps = {"127.0.0.1"};
    server.extendedKeyUsage = {"serverAuth", "clientAuth"};
    server.keyType = KeyType::kRsa2048;
    // An OCSP responder nobody answers at: unused while A's tls.ocsp is off (the default), it makes
    // the chain of B's signed metadata unverifiable by OCSP when A requires it (FetchAsksOcspAsServeDoes).
    server.ocspUrl = "http://127.0.0.1:" + std::to_string(freePort()) + "/";
    b.serverCert = b.pki.leaf(server);
    writeFile(b.dir.path(), "node.crt", b.pki.chainPem(b.serverCert));
    writeFile(b.dir.path(), "node.key", b.serverCert.keyPem());
    b.config["server.baseUrl"] = baseB;
    b.config["server.port"] = baseB.substr(baseB.rfind(':') + 1);
    b.config["udap.enabled"] = "true";
    b.config["udap.requireToken"] = "true";  // B requires UDAP: a token-less read is 401
    b.writeConfig();
    // A: the UDAP client (EC key: its JWTs are ES256).
    a.config["exchange.deadline"] = "5000";
    a.config["client.readTimeout"] = "5000";
    a.config["udap.contact"] = "mailto:security@node-a.example";
    a.config["udap.clientName"] = "Node A exchange";
    a.writeConfig();
    for (NodeFixture* n : {&a, &b, &c}) {
      n->migrate();
      for (const auto& [org, name] : std::vector<std::pair<std::string, std::string>>{
               {kOrgA, "Node A Hospital"}, {kOrgB, "Node B Clinic"}, {kOrgC, "Node C Lab"}}) {
        n->addOrg(org, name);
      }
    }
    a.addOrg(kLocalA, "Node A clinical system", {"--role", "local"});
    for (NodeFixture* n : {&b, &c}) {
      ok(n->cli({"grant", "add", "--org", kOrgA, "--resource", "Patient,Observation", "--action", "read,search",
                 "--purpose", "TREAT"}));
      ok(n->cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}));
    }
    b.start();
    c.start();
    ok(a.cli({"peer", "add", "--org", kOrgB, "--url", baseB, "--auth", "udap"}));
    ok(a.cli({"peer", "add", "--org", kOrgC, "--url", "https://localhost:" + std::to_string(c.node()->port())}));
    auto listed = a.cli({"peer", "list"});
    EXPECT_TRUE(contains(listed.output, baseB + "  active  auth udap")) << listed.output;
    EXPECT_TRUE(contains(listed.output, "  active  auth mtls")) << listed.output;
    a.start();
    local = a.memberCert({kLocalA});
  }

  HttpResult ask(const std::string& requestId) {
    return a.get(local, "/exchange/Observation?patient.identifier=" + kNet + "%7CNET-1001",
                 {"X-Purpose-Of-Use: TREAT", "X-Request-Id: " + requestId});
  }
  long long onB(const std::string& action) const {
    return countWhere(b, "audit_leaf_text(leaf, 'action') = '" + action + "' AND audit_leaf_text(leaf, 'outcome') = 'success'");
  }

  TestPki pki = TestPki::create();
  NodeFixture a{pki, "node-a", kOrgA};
  NodeFixture b{pki, "node-b", kOrgB};
  NodeFixture c{pki, "node-c", kOrgC};
  std::string baseB;
  Credential local;
};

TEST_F(UdapExchange, TokenForTheUdapPeerMtlsForTheOther) {
  auto r = ask("udap-x-1");
  ASSERT_EQ(r.status, 200) << r.body << a.node()->log() << b.node()->log();
  EXPECT_TRUE(contains(r.body, "\"source\":\"" + kOrgB + "\"")) << r.body << a.node()->log();
  EXPECT_TRUE(contains(r.body, "\"source\":\"" + kOrgC + "\"")) << r.body;
  EXPECT_FALSE(contains(r.body, "OperationOutcome")) << "both peers answered: " << r.body;

  const auto callB = peerCall(a, "udap-x-1", kOrgB);
  ASSERT_EQ(callB.size(), 3u) << callB[0];
  EXPECT_EQ(callB[0], "mtls+udap");
  EXPECT_FALSE(callB[1].empty()) << "A's client_id at B";
  EXPECT_EQ(callB[2], "success");
  EXPECT_EQ(peerCall(a, "udap-x-1", kOrgC), (std::vector<std::string>{"mtls", "", "success"}));
  // B audited one registration and one token, and a read with the token's client.
  EXPECT_EQ(onB("udap-register"), 1);
  EXPECT_EQ(onB("udap-token"), 1);
  EXPECT_EQ(countWhere(b, "audit_leaf_text(leaf, 'clientId') = '" + callB[1] + "' AND audit_leaf_text(leaf, "
                          "'authentication') = 'mtls+udap' AND audit_leaf_text(leaf, 'requestId') = 'udap-x-1'"),
            1)
      << b.node()->log();
  // The client_id A keeps for B.
  {
    pqxx::connection conn(a.db.uri());
    pqxx::read_transaction tx(conn);
    auto row = tx.exec1("SELECT client_id, registration_endpoint FROM udap_peer_registrations");
    EXPECT_EQ(row[0].as<std::string>(), callB[1]);
    EXPECT_EQ(row[1].as<std::string>(), baseB + "/oauth/register");
  }

  // The second query reuses the token: no new registration or token on B.
  auto second = ask("udap-x-2");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(peerCall(a, "udap-x-2", kOrgB), (std::vector<std::string>{"mtls+udap", callB[1], "success"}));
  EXPECT_EQ(onB("udap-register"), 1);
  EXPECT_EQ(onB("udap-token"), 1);

  // B cancels A's registration: A's token is refused (401), its token request is invalid_client,
  // A registers again and the call succeeds with a new client_id. (B's gate sees the cancellation
  // at its next registry refresh: bounded polling.)
  // "--" is harmless: client_ids never begin with '-' (UdapStore.ClientIdsAre22Base64url...).
  ok(runNode({"udap", "clients", "cancel", "--config", b.configPath, "--", callB[1]}));
  std::vector<std::string> after;
  int n = 0;
  const bool reregistered = waitFor(
      [&] {
        const std::string id = "udap-x-3-" + std::to_string(++n);
        auto again = ask(id);
        if (again.status != 200) return false;
        after = peerCall(a, id, kOrgB);
        return after.size() == 3 && after[1] != callB[1];
      },
      std::chrono::seconds(20));
  ASSERT_TRUE(reregistered) << (after.size() == 3 ? after[0] + " " + after[1] + " " + after[2] : "")
                            << b.cli({"udap", "clients", "list"}).output << b.node()->log();
  EXPECT_EQ(after[0], "mtls+udap");
  EXPECT_EQ(after[2], "success");
  EXPECT_EQ(onB("udap-register"), 2);
  EXPECT_EQ(onB("udap-token"), 2);
  EXPECT_TRUE(contains(a.node()->log(), "registering again")) << a.node()->log();
}

TEST_F(UdapExchange, FetchUsesTheSameClient) {
  auto fetched = a.cli({"fetch", "--peer", kOrgB, "--patient-identifier", kNet + "|NET-1001"});
  ASSERT_EQ(fetched.exitCode, 0) << fetched.output;
  EXPECT_TRUE(contains(fetched.output, "\"resourceType\":\"Bundle\"")) << fetched.output;
  EXPECT_EQ(countWhere(a, "audit_leaf_text(leaf, 'action') = 'peer-call' AND audit_leaf_text(leaf, "
                          "'authentication') = 'mtls+udap' AND audit_leaf_text(leaf, 'clientId') <> ''"),
            1);
  // The fetch's registration is kept: serve uses it without registering again.
  auto r = ask("udap-f-1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(onB("udap-register"), 1);
  EXPECT_EQ(onB("udap-token"), 2);
}

// `hie-node fetch` checks the chain of the peer's signed metadata with OCSP as serve does (tls.ocsp):
// with require, a leaf whose responder does not answer is refused before anything is registered;
// with prefer, it is admitted.
TEST_F(UdapExchange, FetchAsksOcspAsServeDoes) {
  a.config["tls.ocsp"] = "require";
  a.config["tls.ocspTimeout"] = "500";
  a.writeConfig();
  auto refused = a.cli({"fetch", "--peer", kOrgB, "--patient-identifier", kNet + "|NET-1001"});
  EXPECT_NE(refused.exitCode, 0) << refused.output;
  EXPECT_TRUE(contains(refused.output, "udap_metadata_invalid")) << refused.output;
  EXPECT_EQ(countWhere(b, "audit_leaf_text(leaf, 'action') = 'udap-register'"), 0) << "nothing registered";
  EXPECT_EQ(countWhere(a, "audit_leaf_text(leaf, 'action') = 'peer-call' AND audit_leaf_text(leaf, 'outcome') = "
                          "'denied' AND audit_leaf_text(leaf, 'outcomeReason') = 'udap_metadata_invalid'"),
            1);
  a.config["tls.ocsp"] = "prefer";
  a.writeConfig();
  auto admitted = a.cli({"fetch", "--peer", kOrgB, "--patient-identifier", kNet + "|NET-1001"});
  EXPECT_EQ(admitted.exitCode, 0) << admitted.output;
  EXPECT_EQ(onB("udap-register"), 1);
}

// A's registration at B belongs to A's directory entry for B: a new URL or auth, or removing the entry,
// forgets it, and the entry's `since` (what A's in-memory cache is keyed by) changes; an unchanged
// `peer add` keeps both.
TEST_F(UdapExchange, ChangingOrRemovingTheEntryForgetsTheRegistration) {
  auto registrationsOnA = [&] {
    pqxx::connection conn(a.db.uri());
    pqxx::read_transaction tx(conn);
    return tx.exec1("SELECT count(*) FROM udap_peer_registrations")[0].as<long long>();
  };
  auto sinceOnA = [&] {
    pqxx::connection conn(a.db.uri());
    pqxx::read_transaction tx(conn);
    return tx.exec1("SELECT p.created_at::text FROM peers p JOIN organizations o ON o.id = p.organization_id "
                    "WHERE o.identifier = '" + kOrgB + "'")[0].as<std::string>();
  };
  auto fetch = [&] {
    auto fetched = a.cli({"fetch", "--peer", kOrgB, "--patient-identifier", kNet + "|NET-1001"});
    EXPECT_EQ(fetched.exitCode, 0) << fetched.output;
  };
  fetch();
  ASSERT_EQ(registrationsOnA(), 1);
  std::string since = sinceOnA();
  ok(a.cli({"peer", "add", "--org", kOrgB, "--url", baseB, "--auth", "udap"}));  // unchanged
  EXPECT_EQ(registrationsOnA(), 1);
  EXPECT_EQ(sinceOnA(), since);
  ok(a.cli({"peer", "add", "--org", kOrgB, "--url", baseB, "--auth", "mtls"}));
  EXPECT_EQ(registrationsOnA(), 0) << "auth changed";
  EXPECT_NE(sinceOnA(), since);
  ok(a.cli({"peer", "add", "--org", kOrgB, "--url", baseB, "--auth", "udap"}));
  fetch();
  EXPECT_EQ(onB("udap-register"), 2) << "registered anew after the auth change";
  ASSERT_EQ(registrationsOnA(), 1);
  since = sinceOnA();
  ok(a.cli({"peer", "add", "--org", kOrgB, "--url", "https://localhost:" + baseB.substr(baseB.rfind(':') + 1)}));
  EXPECT_EQ(registrationsOnA(), 0) << "URL changed";
  EXPECT_NE(sinceOnA(), since);
  ok(a.cli({"peer", "add", "--org", kOrgB, "--url", baseB}));
  fetch();
  ASSERT_EQ(registrationsOnA(), 1);
  since = sinceOnA();
  ok(a.cli({"peer", "remove", kOrgB}));
  EXPECT_EQ(registrationsOnA(), 0) << "removed";
  ok(a.cli({"peer", "add", "--org", kOrgB, "--url", baseB, "--auth", "udap"}));
  EXPECT_NE(sinceOnA(), since) << "a re-added entry is another entry";
}

}  // namespace
}  // namespace hie::testing
