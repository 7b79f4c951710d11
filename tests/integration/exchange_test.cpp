// Three nodes on loopback (one PostgreSQL, a database each): A's own system
// asks A, A asks B and C over mTLS, and merges what comes back.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

#include <pqxx/pqxx>


#include "tests/support/fhir_validator.h"
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
  return tx.exec1("SELECT count(*) FROM audit_log_entries WHERE " + where)[0].as<long long>();
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
  {
    // The merged Bundle (B's resources, C's refusal as an OperationOutcome) and A's AuditEvents
    // of the query and of both peer calls (success, denied) are valid FHIR R4.
    auto exported = a.cli({"audit", "export", "--format", "fhir"});
    ASSERT_EQ(exported.exitCode, 0) << exported.output;
    EXPECT_TRUE(contains(exported.output, "denied: http_403")) << exported.output;
    const auto open = exported.output.find('{'), close = exported.output.rfind('}');
    auto valid = validateFhirR4(
        {{"exchange-answer", r.body}, {"audit-export-peer-calls", exported.output.substr(open, close - open + 1)}},
        a.dir.path());
    EXPECT_EQ(valid.exitCode, 0) << valid.output;
    // The query follows BALP's PatientQuery (the patient named by the identifier searched for), and
    // what B returned is a logical reference of B's organization, never "<organization>#Type/id"
    // (a '#' would name a contained resource).
    const std::string events = exported.output.substr(open, close - open + 1);
    const std::string file = a.dir.path() + "/exchange-audit-events.json";
    std::ofstream(file, std::ios::trunc) << events;
    auto balp = runFhirTool("balp-check.js", {file});
    EXPECT_EQ(balp.exitCode, 0) << balp.output;
    EXPECT_TRUE(contains(events, "IHE.BasicAudit.PatientQuery")) << events;
    EXPECT_TRUE(contains(events, R"({"identifier":{"system":")" + kOrgB + R"(","value":"Observation/)")) << events;
    EXPECT_FALSE(contains(events, kOrgB + "#")) << events;
  }

  // Both sides audited the cross-node request, matched by the request id.
  EXPECT_EQ(count(a, "request_id = 'x-1' AND action = 'query'"), 1);
  EXPECT_EQ(count(a, "request_id = 'x-1' AND action = 'peer-call'"), 2);
  {
    // Both peer-call entries and the request's own were committed together (one transaction: one
    // xmin of their leaf rows), not one after the other: the answer waits for one commit.
    pqxx::connection conn(a.db.uri());
    pqxx::read_transaction tx(conn);
    EXPECT_EQ(tx.exec1("SELECT count(DISTINCT l.xmin::text) FROM audit_log_leaves l JOIN audit_log_entries e "
                       "USING (origin, idx) WHERE e.request_id = 'x-1' AND e.action IN ('peer-call', 'query')")[0]
                  .as<long long>(),
              1);
  }
  EXPECT_EQ(count(a, "request_id = 'x-1' AND action = 'peer-call' AND leaf LIKE '%\"causedBy\":\"x-1\"%' AND "
                     "leaf LIKE '%\"peerOrganization\":\"" + kOrgB + "\"%' AND outcome = 'success'"),
            1);
  EXPECT_EQ(count(b, "request_id = 'x-1' AND organization = '" + kOrgA + "' AND outcome = 'success'"), 1);
  EXPECT_EQ(count(c, "request_id = 'x-1' AND organization = '" + kOrgA + "' AND outcome = 'denied'"), 1);
  {
    const std::string body = a.node()->metrics();
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

TEST_F(Exchange, AnAnswerAboveTheSizeLimitIsCutAndReported) {
  a.config["client.maxResponseKiB"] = "1";  // B's three Observations are larger than 1 KiB
  a.writeConfig();
  a.start();
  for (const std::string id : {"big-1", "big-2"}) {  // the dropped connection does not spoil the next call
    auto r = ask("Observation", id);
    ASSERT_EQ(r.status, 200) << r.body << a.node()->log();
    EXPECT_TRUE(contains(r.body, "peer " + kOrgB + ": response_too_large")) << r.body;
    EXPECT_FALSE(contains(r.body, "p-ava-obs-1")) << "nothing of the cut answer is passed on: " << r.body;
    EXPECT_EQ(count(a, "request_id = '" + id + "' AND action = 'peer-call' AND outcome = 'error' AND "
                       "leaf LIKE '%response_too_large%' AND leaf LIKE '%\"peerOrganization\":\"" + kOrgB +
                       "\"%'"),
              1);
  }
  ASSERT_EQ(a.node()->stop(), 0) << a.node()->log();
}

TEST_F(Exchange, APeerWhoseCertificateDoesNotNameItsAddressIsRefused) {
  // D holds a valid network certificate for its own organization, but it names only "localhost";
  // the directory says 127.0.0.1. The outbound client checks the address inside the handshake.
  NodeFixture d{pki, "node-d", kOrgD};
  CertSpec server;
  server.commonName = "node-d";
  server.sanUris = {kOrgD};
  server.sanDns = {"localhost"};
  server.extendedKeyUsage = {"serverAuth", "clientAuth"};
  Credential nameOnly = pki.leaf(server);
  writeFile(d.dir.path(), "node.crt", pki.chainPem(nameOnly));
  writeFile(d.dir.path(), "node.key", nameOnly.keyPem());
  d.migrate();
  d.addOrg(kOrgA, "Node A Hospital");
  ok(d.cli({"grant", "add", "--org", kOrgA, "--resource", "Patient,Observation", "--action", "read,search",
            "--purpose", "TREAT"}));
  ok(d.cli({"records", "import", std::string(HIE_SOURCE_DIR) + "/config/demo/bundle.json"}));
  d.start();
  ok(a.cli({"peer", "add", "--org", kOrgD, "--url", "https://127.0.0.1:" + std::to_string(d.node()->port())}));
  a.start();
  auto r = ask("Observation", "host-1");
  ASSERT_EQ(r.status, 200) << r.body << a.node()->log();
  EXPECT_TRUE(contains(r.body, "peer " + kOrgD + ": tls_hostname_mismatch")) << r.body;
  EXPECT_FALSE(contains(r.body, "\"source\":\"" + kOrgD + "\"")) << r.body;
  EXPECT_EQ(count(a, "request_id = 'host-1' AND action = 'peer-call' AND outcome = 'denied' AND "
                     "leaf LIKE '%tls_hostname_mismatch%'"),
            1);
  // D never saw a request: the handshake ended before any HTTP.
  EXPECT_EQ(count(d, "request_id = 'host-1'"), 0);
  ASSERT_EQ(a.node()->stop(), 0) << a.node()->log();
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
  EXPECT_EQ(count(a, "request_id = 'x-imp' AND outcome = 'denied' AND leaf LIKE '%impersonation%'"), 1);
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
  EXPECT_EQ(count(a, "request_id = 'x-slow' AND action = 'peer-call' AND leaf LIKE '%timeout%'"), 1);
}

TEST_F(Exchange, APeerKilledMidFanOutIsReportedAsUnavailableWhileTheOthersAnswer) {
  // C grants A as well here, so that a surviving peer's results are there to be merged.
  ok(c.cli({"grant", "add", "--org", kOrgA, "--resource", "Patient,Observation,DocumentReference", "--action",
            "read,search", "--purpose", "TREAT"}));
  a.start();
  const std::string fromB = "\"source\":\"" + kOrgB + "\"";
  const std::string fromC = "\"source\":\"" + kOrgC + "\"";
  int warmups = 0;
  ASSERT_TRUE(waitFor([&] {
    auto r = ask("Observation", "w-" + std::to_string(warmups++));
    return r.status == 200 && contains(r.body, fromB) && contains(r.body, fromC);
  }, std::chrono::seconds(15))) << "C's grant did not take effect";

  // A bounded stream of queries from a few local clients; B is SIGKILLed while it runs. Each answer is
  // waited for at most 10 s (deadline 3 s plus margin): an answer that does not come fails the test.
  struct Answer {
    std::string id;
    bool afterKill = false;  // sent after B had died
    HttpResult r;
  };
  std::mutex mutex;
  std::vector<Answer> answers;
  std::atomic<int> answered{0}, answeredAfterKill{0};
  std::atomic<bool> killed{false};
  constexpr int kThreads = 3, kMaxEach = 40, kWantAfterKill = 6;
  TlsClientOptions patience;
  patience.timeoutSeconds = 10;
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kMaxEach && answeredAfterKill < kWantAfterKill; ++i) {
        Answer answer;
        answer.id = "k-" + std::to_string(t) + "-" + std::to_string(i);
        answer.afterKill = killed;
        try {
          answer.r = tlsGet(a.node()->port(), pki.root, a.as(local),
                            "/exchange/Observation?patient.identifier=" + kNet + "%7CNET-1001",
                            {"X-Purpose-Of-Use: TREAT", "X-Request-Id: " + answer.id}, patience);
        } catch (const std::exception& e) {
          answer.r.tlsError = e.what();  // A stopped listening: reported below as a missing answer
        }
        ++answered;
        if (answer.afterKill) ++answeredAfterKill;
        std::lock_guard<std::mutex> lock(mutex);
        answers.push_back(std::move(answer));
      }
    });
  }
  const bool loaded = waitFor([&] { return answered >= 6; }, std::chrono::seconds(60));
  const int bPort = b.node()->port();
  b.node()->signal(SIGKILL);
  const int bStatus = b.node()->waitExit(std::chrono::seconds(10));
  killed = true;
  for (auto& th : clients) th.join();
  ASSERT_TRUE(loaded) << a.node()->log();
  ASSERT_EQ(bStatus, 128 + SIGKILL);
  ASSERT_GE(answeredAfterKill.load(), kWantAfterKill) << "the stream ended before enough queries ran without B";
  ASSERT_TRUE(a.node()->running()) << a.node()->log();

  // Every query was answered 200 with C's results; B either answered (before its death) or is reported
  // as unreachable by an OperationOutcome entry — never both, never a 5xx.
  const std::string bFailed = "peer " + kOrgB + ": ";
  std::map<std::string, int> bSeen;  // what the answers said of B: for the log, not asserted
  for (const auto& answer : answers) {
    const HttpResult& r = answer.r;
    const auto at = r.body.find(bFailed);
    ++bSeen[(answer.afterKill ? "after kill: " : "around kill: ") +
            (at == std::string::npos ? std::string("results")
                                     : r.body.substr(at + bFailed.size(), r.body.find(':', at + bFailed.size()) -
                                                                               at - bFailed.size()))];
    ASSERT_EQ(r.status, 200) << answer.id << " " << r.tlsError << " " << r.head << r.body;
    EXPECT_EQ(r.header("X-Request-Id"), answer.id);
    EXPECT_TRUE(contains(r.body, fromC)) << answer.id << ": " << r.body;
    EXPECT_FALSE(contains(r.body, "peer " + kOrgC + ": ")) << answer.id << ": " << r.body;
    EXPECT_NE(contains(r.body, fromB), contains(r.body, bFailed)) << answer.id << ": " << r.body;
    if (answer.afterKill) {
      // A dead process refuses connections: that is what A reports, also when it held pooled ones to it.
      EXPECT_TRUE(contains(r.body, bFailed + "connect: ")) << answer.id << ": " << r.body;
      EXPECT_TRUE(contains(r.body, "\"mode\":\"outcome\"")) << answer.id << ": " << r.body;
    }
  }

  for (const auto& [what, n] : bSeen) std::cerr << "B in " << n << " answers " << what << "\n";

  // A's audit trail: per query one 'query' entry and one 'peer-call' entry per peer, linked by the request id.
  std::map<std::string, std::map<std::string, int>> audited;  // request id -> kind -> entries
  {
    pqxx::connection conn(a.db.uri());
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec("SELECT request_id, action, outcome, leaf FROM audit_log_entries "
                                   "WHERE request_id LIKE 'k-%'")) {
      const std::string action = row[1].as<std::string>();
      const std::string leaf = row[3].as<std::string>();
      std::string kind = action;
      if (action == "peer-call") {
        kind += contains(leaf, "\"peerOrganization\":\"" + kOrgB + "\"")   ? " B "
                : contains(leaf, "\"peerOrganization\":\"" + kOrgC + "\"") ? " C "
                                                                                : " ? ";
        kind += row[2].as<std::string>();
      }
      ++audited[row[0].as<std::string>()][kind];
    }
  }
  EXPECT_EQ(audited.size(), answers.size()) << "an entry for a query nobody was answered, or a query without one";
  for (const auto& answer : answers) {
    auto& kinds = audited[answer.id];
    EXPECT_EQ(kinds["query"], 1) << answer.id;
    EXPECT_EQ(kinds["peer-call C success"], 1) << answer.id;
    EXPECT_EQ(kinds["peer-call B success"] + kinds["peer-call B error"], 1) << answer.id;
    if (answer.afterKill) {
      EXPECT_EQ(kinds["peer-call B error"], 1) << answer.id;
    }
  }

  // B comes back at the same address: the very next query has its results again. Whatever A still
  // pooled to the dead process must not spoil it.
  b.config["server.port"] = std::to_string(bPort);
  b.writeConfig();
  b.start();
  auto back = ask("Observation", "k-back");
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_TRUE(contains(back.body, fromB)) << back.body;
  EXPECT_TRUE(contains(back.body, fromC)) << back.body;
  EXPECT_FALSE(contains(back.body, "\"mode\":\"outcome\"")) << back.body;

  // Once more with A's pool to B full of live keep-alive connections when B dies, and B back at once:
  // the first query after B is up must not be spent on the dead connections. (Pooled connections idle
  // for 2 s are reconnected anyway, so this bites when B is back sooner, as it is here.)
  {
    std::vector<std::thread> fill;
    for (int t = 0; t < kThreads; ++t) fill.emplace_back([&, t] { ask("Observation", "k-fill-" + std::to_string(t)); });
    for (auto& th : fill) th.join();
  }
  const auto t0 = std::chrono::steady_clock::now();
  b.node()->signal(SIGKILL);
  ASSERT_EQ(b.node()->waitExit(std::chrono::seconds(10)), 128 + SIGKILL);
  b.start();
  std::cerr << "B restarted in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  auto again = ask("Observation", "k-again");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(contains(again.body, fromB)) << again.body;
  EXPECT_FALSE(contains(again.body, "\"mode\":\"outcome\"")) << again.body;

  ASSERT_EQ(a.node()->stop(), 0) << a.node()->log();
  auto v = a.cli({"audit", "verify"});
  EXPECT_EQ(v.exitCode, 0) << v.output;
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
  EXPECT_GE(b.node()->counter("hie_tls_sessions_resumed_total"), 1u) << b.node()->metrics();
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
  // The operator's calls are audited on A too; C's 403 is denied, as in the /exchange fan-out.
  EXPECT_EQ(count(a, "action = 'peer-call'"), 2);
  EXPECT_EQ(count(a, "action = 'peer-call' AND outcome = 'denied' AND outcome_reason = 'http_403'"), 1);
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
