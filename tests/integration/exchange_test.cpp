// Three nodes on loopback (one PostgreSQL, a database each): A's own system
// asks A, A asks B and C over mTLS, and merges what comes back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include <pqxx/pqxx>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kLocalA = "urn:oid:2.16.840.1.113883.3.7101";
const std::string kOrgB = "urn:oid:2.16.840.1.113883.3.7200";
const std::string kOrgC = "urn:oid:2.16.840.1.113883.3.7300";
const std::string kOrgD = "urn:oid:2.16.840.1.113883.3.7400";
const std::string kNet = "urn:oid:2.16.840.1.113883.3.7000.1";

long long count(const NodeFixture& f, const std::string& where) {
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  return tx.exec1("SELECT count(*) FROM audit_entries WHERE " + where)[0].as<long long>();
}

void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

// Accepts TCP connections and never answers: a peer that hangs.
class SilentPeer {
 public:
  SilentPeer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentPeer() {
    ::close(fd_);  // the kernel's backlog held the connections; closing ends them
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class Exchange : public ::testing::Test {
 protected:
  void SetUp() override {
    a.config["exchange.deadline"] = "3000";
    a.config["client.readTimeout"] = "3000";
    a.writeConfig();
    for (NodeFixture* n : {&a, &b, &c}) {
      n->migrate();
      for (const auto& [org, name] : std::vector<std::pair<std::string, std::string>>{
               {kOrgA, "Node A Hospital"}, {kOrgB, "Node B Clinic"}, {kOrgC, "Node C Lab"}}) {
        n->addOrg(org, name);
      }
    }
    a.addOrg(kLocalA, "Node A clinical system", {"--role", "local"});
    a.addOrg(kOrgD, "Node D (silent)");
    ok(b.cli({"grant", "add", "--org", kOrgA, "--resource", "Patient,Observation,DocumentReference", "--action",
              "read,search", "--purpose", "TREAT"}));
    for (NodeFixture* n : {&b, &c}) ok(n->cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}));
    b.start();
    c.start();
    ok(a.cli({"peer", "add", "--org", kOrgB, "--url", "https://127.0.0.1:" + std::to_string(b.node()->port())}));
    ok(a.cli({"peer", "add", "--org", kOrgC, "--url", "https://localhost:" + std::to_string(c.node()->port())}));
    local = a.memberCert({kLocalA});
  }

  HttpResult ask(const std::string& type, const std::string& requestId, const std::string& purpose = "TREAT") {
    return a.get(local, "/exchange/" + type + "?patient.identifier=" + kNet + "%7CNET-1001",
                 {"X-Purpose-Of-Use: " + purpose, "X-Request-Id: " + requestId});
  }

  TestPki pki = TestPki::create();
  NodeFixture a{pki, "node-a", kOrgA};
  NodeFixture b{pki, "node-b", kOrgB};
  NodeFixture c{pki, "node-c", kOrgC};
  Credential local;
};

TEST_F(Exchange, MergesGrantedResultsAndReportsRefusals) {
  a.start();
  auto r = ask("Observation", "x-1");
  ASSERT_EQ(r.status, 200) << r.body << a.node()->log();
  EXPECT_TRUE(contains(r.body, "\"total\":3")) << r.body;
  EXPECT_TRUE(contains(r.body, "p-ava-obs-1")) << r.body;
  EXPECT_TRUE(contains(r.body, "\"source\":\"" + kOrgB + "\"")) << r.body;
  EXPECT_TRUE(contains(r.body, "\"resourceType\":\"OperationOutcome\"")) << r.body;
  EXPECT_TRUE(contains(r.body, "peer " + kOrgC + ": http_403")) << r.body;
  EXPECT_FALSE(contains(r.body, "\"source\":\"" + kOrgC + "\"")) << "C has not granted A: " << r.body;

  // Both sides audited the cross-node request, matched by the request id.
  EXPECT_EQ(count(a, "request_id = 'x-1' AND action = 'query'"), 1);
  EXPECT_EQ(count(a, "request_id = 'x-1' AND action = 'peer-call'"), 2);
  EXPECT_EQ(count(a, "request_id = 'x-1' AND action = 'peer-call' AND canonical LIKE '%\"causedBy\":\"x-1\"%' AND "
                     "canonical LIKE '%\"peerOrganization\":\"" + kOrgB + "\"%' AND outcome = 'success'"),
            1);
  EXPECT_EQ(count(b, "request_id = 'x-1' AND organization = '" + kOrgA + "' AND outcome = 'success'"), 1);
  EXPECT_EQ(count(c, "request_id = 'x-1' AND organization = '" + kOrgA + "' AND outcome = 'denied'"), 1);
  {
    Poco::Net::HTTPClientSession admin("127.0.0.1", static_cast<Poco::UInt16>(a.node()->adminPort()));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/metrics", Poco::Net::HTTPMessage::HTTP_1_1);
    admin.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(admin.receiveResponse(response), body);
    EXPECT_TRUE(contains(body, "hie_peer_calls_total{peer=\"" + kOrgB + "\"} 1")) << body;
    EXPECT_TRUE(contains(body, "hie_peer_calls_failed_total{peer=\"" + kOrgC + "\"} 1")) << body;
    EXPECT_TRUE(contains(body, "hie_peer_call_duration_microseconds_total{peer=\"" + kOrgB + "\"}")) << body;
  }
  for (NodeFixture* n : {&a, &b, &c}) {
    ASSERT_EQ(n->node()->stop(), 0) << n->node()->log();
    auto v = n->cli({"audit", "verify"});
    EXPECT_EQ(v.exitCode, 0) << v.output;
  }
}

TEST_F(Exchange, APeerWithAnotherMembersCertificateIsRefusedAsImpersonation) {
  // The directory says C answers at B's address: B's valid certificate is not C's.
  ok(a.cli({"peer", "add", "--org", kOrgC, "--url", "https://127.0.0.1:" + std::to_string(b.node()->port())}));
  a.start();
  auto r = ask("Patient", "x-imp");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.body, "peer " + kOrgC + ": impersonation")) << r.body;
  EXPECT_TRUE(contains(r.body, "belongs to " + kOrgB)) << r.body;
  EXPECT_TRUE(contains(r.body, "\"source\":\"" + kOrgB + "\"")) << "B's own answer still arrives: " << r.body;
  // B saw only the genuine call: the impersonated one never got past the handshake.
  EXPECT_EQ(count(b, "request_id = 'x-imp'"), 1);
  EXPECT_EQ(count(a, "request_id = 'x-imp' AND outcome = 'denied' AND canonical LIKE '%impersonation%'"), 1);
  auto fetched = a.cli({"fetch", "--peer", kOrgC, "--patient-identifier", kNet + "|NET-1001"});
  EXPECT_EQ(fetched.exitCode, 1) << fetched.output;
  EXPECT_TRUE(contains(fetched.output, "impersonation")) << fetched.output;
}

TEST_F(Exchange, ASilentPeerIsCutAtTheDeadlineWhileOthersAnswer) {
  SilentPeer silent;
  ok(a.cli({"peer", "add", "--org", kOrgD, "--url", "https://127.0.0.1:" + std::to_string(silent.port())}));
  a.start();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = ask("Observation", "x-slow");
  std::cerr << "exchange with a silent peer answered after "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.body, "p-ava-obs-1")) << r.body;
  EXPECT_TRUE(contains(r.body, "peer " + kOrgD + ": timeout")) << r.body;
  EXPECT_EQ(count(a, "request_id = 'x-slow' AND action = 'peer-call' AND canonical LIKE '%timeout%'"), 1);
}

TEST_F(Exchange, NewConnectionsResumeTheTlsSession) {
  // B closes every connection after one request, so each call needs a new handshake: it should resume.
  b.node()->stop();
  b.config["server.maxKeepAliveRequests"] = "1";
  b.writeConfig();
  b.start();
  ok(a.cli({"peer", "add", "--org", kOrgB, "--url", "https://127.0.0.1:" + std::to_string(b.node()->port())}));
  ok(a.cli({"peer", "remove", kOrgC}));
  a.start();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(ask("Patient", "r-" + std::to_string(i)).status, 200);
  ASSERT_NE(b.node()->adminPort(), 0) << b.node()->log();
  Poco::Net::HTTPClientSession admin("127.0.0.1", static_cast<Poco::UInt16>(b.node()->adminPort()));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/metrics", Poco::Net::HTTPMessage::HTTP_1_1);
  admin.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(admin.receiveResponse(response), body);
  EXPECT_TRUE(std::regex_search(body, std::regex("hie_tls_sessions_resumed_total [1-9]"))) << body;
}

TEST_F(Exchange, OnlyLocalSystemsMayAskAndMustSayWhy) {
  a.start();
  Credential member = a.memberCert({kOrgB});
  auto r = a.get(member, "/exchange/Observation?patient.identifier=" + kNet + "%7CNET-1001", {"X-Purpose-Of-Use: TREAT"});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ask("Observation", "x-np", "").status, 400);
  EXPECT_EQ(a.get(local, "/exchange/Observation?patient=p-ava", {"X-Purpose-Of-Use: TREAT"}).status, 400);
  EXPECT_EQ(a.get(local, "/exchange/Spaceship?patient.identifier=a%7Cb", {"X-Purpose-Of-Use: TREAT"}).status, 404);
}

TEST_F(Exchange, FetchRunsOneOutboundQuery) {
  auto r = a.cli({"fetch", "--peer", kOrgB, "--patient-identifier", kNet + "|NET-1001", "--purpose", "TREAT"});
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "p-ava")) << r.output;
  auto refused = a.cli({"fetch", "--peer", kOrgC, "--patient-identifier", kNet + "|NET-1001"});
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_TRUE(contains(refused.output, "HTTP 403")) << refused.output;
  EXPECT_EQ(a.cli({"fetch", "--peer", kOrgB}).exitCode, 2);
  auto unknown = a.cli({"fetch", "--peer", "urn:oid:1.2.3", "--patient-identifier", "a|b"});
  EXPECT_EQ(unknown.exitCode, 1);
  EXPECT_TRUE(contains(unknown.output, "no peer entry")) << unknown.output;
  // The operator's calls are audited on A too.
  EXPECT_EQ(count(a, "action = 'peer-call'"), 2);
}

TEST_F(Exchange, PeerDirectoryRefusesBadEntries) {
  EXPECT_EQ(a.cli({"peer", "add", "--org", kOrgB, "--url", "http://127.0.0.1:1"}).exitCode, 2);
  EXPECT_EQ(a.cli({"peer", "add", "--org", kOrgB, "--url", "https://user@host:1"}).exitCode, 2);
  EXPECT_EQ(a.cli({"peer", "add", "--org", kOrgB, "--url", "https://host:99999"}).exitCode, 2);
  EXPECT_EQ(a.cli({"peer", "add", "--org", kOrgB, "--url", "https://host:1/?q"}).exitCode, 2);
  auto unknown = a.cli({"peer", "add", "--org", "urn:oid:1.2.3", "--url", "https://host:1"});
  EXPECT_EQ(unknown.exitCode, 1);
  EXPECT_TRUE(contains(unknown.output, "no organization")) << unknown.output;
  auto list = a.cli({"peer", "list"});
  EXPECT_TRUE(contains(list.output, kOrgB) && contains(list.output, kOrgC)) << list.output;
  ok(a.cli({"peer", "remove", kOrgC}));
  EXPECT_FALSE(contains(a.cli({"peer", "list"}).output, kOrgC));
  EXPECT_EQ(a.cli({"peer", "remove", kOrgC}).exitCode, 1);
}

}  // namespace
}  // namespace hie::testing
