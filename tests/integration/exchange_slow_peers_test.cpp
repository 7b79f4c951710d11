// /exchange against peers that send their answer one byte every 200 ms:
// every answer comes by its deadline with those peers reported, the slow
// connections are cut at the deadline instead of being read to the end, the
// node's outbound calls run on one bounded pool (its thread count stays
// bounded however many requests come), and a SIGTERM in the middle of it
// all exits cleanly.
#include <dirent.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <pqxx/pqxx>

#include "tests/support/node_fixture.h"
#include "tests/support/slow_tls_peer.h"
#include "tests/support/slowdown.h"

namespace hie::testing {
namespace {

const std::string kOrgA = "urn:oid:2.16.840.1.113883.3.7100";
const std::string kLocalA = "urn:oid:2.16.840.1.113883.3.7101";
const std::string kNet = "urn:oid:2.16.840.1.113883.3.7000.1";

constexpr int kSlowPeers = 5;
constexpr int kRequests = 20;
constexpr int kDeadlineMs = 1000;
constexpr int kPoolSize = 8;         // client.maxConcurrentCalls: fewer than the 100 calls asked for
constexpr int kServerThreads = 24;   // server.threads: every one of the requests is served at once
constexpr std::chrono::milliseconds kGap{200};

std::string slowOrganization(int i) { return "urn:oid:2.16.840.1.113883.3.76" + std::to_string(i) + "0"; }

// A valid searchset that takes about 4 minutes to arrive at one byte per 200 ms.
std::string slowAnswer() {
  std::string body = R"({"resourceType":"Bundle","type":"searchset","total":0})";
  body.append(1200, ' ');
  return "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// Threads of a running process (entries of /proc/PID/task); -1 when it is gone.
int threadCount(pid_t pid) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

long long count(const NodeFixture& f, const std::string& where) {
  pqxx::connection c(f.db.uri());
  pqxx::read_transaction tx(c);
  return tx.exec1("SELECT count(*) FROM audit_log_entries WHERE " + where)[0].as<long long>();
}

void ok(const CommandResult& r) { ASSERT_EQ(r.exitCode, 0) << r.output; }

void expectCleanExit(const std::string& log) {
  EXPECT_FALSE(contains(log, "AddressSanitizer")) << log;
  EXPECT_FALSE(contains(log, "LeakSanitizer")) << log;
  EXPECT_FALSE(contains(log, "runtime error:")) << log;
  EXPECT_TRUE(contains(log, "stopped")) << log;
}

class SlowPeers : public ::testing::Test {
 protected:
  void SetUp() override {
    a.config["exchange.deadline"] = std::to_string(kDeadlineMs);
    a.config["server.threads"] = std::to_string(kServerThreads);
    a.writeConfig();
    a.migrate();
    a.addOrg(kLocalA, "Node A clinical system", {"--role", "local"});
    for (int i = 0; i < kSlowPeers; ++i) {
      a.addOrg(slowOrganization(i), "Slow peer " + std::to_string(i));
      CertSpec spec;
      spec.commonName = "slow-" + std::to_string(i);
      spec.sanUris = {slowOrganization(i)};
      spec.sanIps = {"127.0.0.1"};
      spec.extendedKeyUsage = {"serverAuth"};
      peers.push_back(std::make_unique<SlowTlsPeer>(pki.leaf(spec), pki.intermediate, slowAnswer(), kGap));
      ok(a.cli({"peer", "add", "--org", slowOrganization(i), "--url",
                "https://127.0.0.1:" + std::to_string(peers.back()->port())}));
    }
    local = a.memberCert({kLocalA});
  }

  struct Answer {
    std::string id;
    HttpResult r;
    std::string error;  // the connection failed (e.g. the node had stopped listening)
  };

  // kRequests /exchange requests at once from as many clients, released together; `during`
  // runs on this thread while they are under way.
  std::vector<Answer> askAll(const std::string& prefix, const std::function<void()>& during = {}) {
    std::vector<Answer> answers(kRequests);
    std::mutex mutex;
    std::condition_variable go;
    bool released = false;
    std::vector<std::thread> clients;
    TlsClientOptions patience;
    patience.timeoutSeconds = 15;
    // TLS 1.2: the client's handshake ends only once the node has checked its certificate, so
    // answeredAfter starts when the node has the request, not while it still verifies the client.
    patience.maxVersion = TLS1_2_VERSION;
    for (int i = 0; i < kRequests; ++i) {
      answers[i].id = prefix + std::to_string(i);
      clients.emplace_back([&, i] {
        {
          std::unique_lock<std::mutex> lock(mutex);
          go.wait(lock, [&] { return released; });
        }
        try {
          answers[i].r = tlsGet(a.node()->port(), pki.root, a.as(local),
                                "/exchange/Observation?patient.identifier=" + kNet + "%7CNET-1001",
                                {"X-Purpose-Of-Use: TREAT", "X-Request-Id: " + answers[i].id}, patience);
        } catch (const std::exception& e) {
          answers[i].error = e.what();
        }
      });
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      released = true;
    }
    go.notify_all();
    if (during) during();
    for (auto& t : clients) t.join();
    return answers;
  }

  // client.maxConcurrentCalls through the environment, as an operator may set any key.
  void startA() { a.start({{"HIE_CLIENT_MAXCONCURRENTCALLS", std::to_string(kPoolSize)}}); }

  int handshakesAtPeers() const {
    int n = 0;
    for (const auto& p : peers) n += p->handshakes();
    return n;
  }
  int openAtPeers() const {
    int n = 0;
    for (const auto& p : peers) n += p->open();
    return n;
  }

  TestPki pki = TestPki::create();
  NodeFixture a{pki, "node-a", kOrgA};
  std::vector<std::unique_ptr<SlowTlsPeer>> peers;
  Credential local;
};

TEST_F(SlowPeers, AnswersComeByTheDeadlineAndTheOutboundThreadsStayBounded) {
  startA();
  const pid_t pid = a.node()->pid();
  const int idle = threadCount(pid);
  ASSERT_GT(idle, 0);
  std::atomic<bool> sampling{true};
  std::atomic<int> most{idle};
  std::thread sampler([&] {
    while (sampling) {
      const int n = threadCount(pid);
      if (n > most) most = n;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a sampling rate, not a wait for anything
    }
  });
  const auto answers = askAll("slow-");
  sampling = false;
  sampler.join();

  int timeouts = 0, busy = 0;
  long long slowest = 0;
  for (const auto& answer : answers) {
    const HttpResult& r = answer.r;
    slowest = std::max<long long>(slowest, r.answeredAfter.count());
    ASSERT_EQ(r.status, 200) << answer.id << " " << answer.error << " " << r.tlsError << r.body;
    // By the deadline, with room for a loaded machine: without the bound it took ~13 s.
    EXPECT_LE(r.answeredAfter.count(), kDeadlineMs + 1000 * kSlowdown) << answer.id;
    EXPECT_FALSE(contains(r.body, "\"mode\":\"match\"")) << r.body;
    int timedOutHere = 0;
    for (int i = 0; i < kSlowPeers; ++i) {
      // Each slow peer is reported once: cut at the deadline, or never asked because every
      // outbound worker of the node was taken until then.
      const bool timedOut = contains(r.body, "peer " + slowOrganization(i) + ": timeout: ");
      const bool notAsked = contains(r.body, "peer " + slowOrganization(i) + ": busy: ");
      EXPECT_TRUE(timedOut != notAsked) << answer.id << ": " << r.body;
      timedOutHere += timedOut ? 1 : 0;
      busy += notAsked ? 1 : 0;
    }
    timeouts += timedOutHere;
    // One audit entry per peer, saying the same.
    const std::string calls = "request_id = '" + answer.id + "' AND action = 'peer-call'";
    EXPECT_EQ(count(a, calls), kSlowPeers) << answer.id;
    EXPECT_EQ(count(a, calls + " AND outcome = 'error' AND leaf LIKE '%\"outcomeReason\":\"timeout\"%'"),
              timedOutHere)
        << answer.id;
    EXPECT_EQ(count(a, calls + " AND outcome = 'error' AND leaf LIKE '%\"outcomeReason\":\"busy\"%'"),
              kSlowPeers - timedOutHere)
        << answer.id;
  }
  std::cerr << kRequests * kSlowPeers << " calls: " << timeouts << " cut at the deadline, " << busy
            << " not asked (busy); node threads " << idle << " idle, at most " << most << " under load; "
            << handshakesAtPeers() << " connections reached the slow peers; slowest answer " << slowest << " ms\n";
  // The pool's workers were all taken by slow calls (those time out), and the calls beyond them were
  // refused rather than given threads of their own.
  EXPECT_GE(timeouts, kPoolSize);
  EXPECT_GE(busy, 1);
  EXPECT_LE(handshakesAtPeers(), timeouts);
  // Bounded: the listener's request threads (server.threads, plus one) and the pool's workers.
  EXPECT_LE(most - idle, kServerThreads + 1 + kPoolSize) << "idle " << idle << ", under load " << most;

  // The node closed every slow connection at its deadline instead of reading on.
  EXPECT_TRUE(waitFor([&] { return openAtPeers() == 0; }, std::chrono::seconds(3 * kSlowdown)))
      << openAtPeers() << " connections to the slow peers still open";

  ASSERT_EQ(a.node()->stop(std::chrono::seconds(10)), 0) << a.node()->log();
  expectCleanExit(a.node()->log());
  auto v = a.cli({"audit", "verify"});
  EXPECT_EQ(v.exitCode, 0) << v.output;
}

TEST_F(SlowPeers, ASigtermInTheMiddleOfTheFanOutExitsCleanly) {
  startA();
  int exitStatus = -2;
  const auto answers = askAll("term-", [&] {
    // Once slow calls occupy the pool, stop the node.
    if (!waitFor([&] { return handshakesAtPeers() >= kPoolSize; }, std::chrono::seconds(10 * kSlowdown))) return;
    a.node()->signal(SIGTERM);
    exitStatus = a.node()->waitExit(std::chrono::seconds(10 * kSlowdown));
  });
  ASSERT_GE(handshakesAtPeers(), kPoolSize) << "the fan-out never got under way:\n" << a.node()->log();
  EXPECT_EQ(exitStatus, 0) << a.node()->log();
  expectCleanExit(a.node()->log());

  // Every request the node had taken was answered and audited with its peer calls; the others found
  // the node no longer listening.
  int answered = 0;
  for (const auto& answer : answers) {
    if (answer.r.status == 0) continue;
    ++answered;
    EXPECT_EQ(answer.r.status, 200) << answer.id << answer.r.body;
    EXPECT_EQ(count(a, "request_id = '" + answer.id + "' AND action = 'query'"), 1) << answer.id;
    EXPECT_EQ(count(a, "request_id = '" + answer.id + "' AND action = 'peer-call'"), kSlowPeers) << answer.id;
  }
  EXPECT_GE(answered, 1);
  EXPECT_EQ(count(a, "action = 'peer-call'"), answered * kSlowPeers);
  EXPECT_TRUE(waitFor([&] { return openAtPeers() == 0; }, std::chrono::seconds(3 * kSlowdown)))
      << openAtPeers() << " connections to the slow peers still open";
  auto v = a.cli({"audit", "verify"});
  EXPECT_EQ(v.exitCode, 0) << v.output;
}

TEST_F(SlowPeers, FetchFromASlowPeerEndsAtTheDeadline) {
  // Without a deadline on the whole answer, this would read for about 4 minutes.
  auto r = a.cli({"fetch", "--peer", slowOrganization(0), "--patient-identifier", kNet + "|NET-1001"});
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "failed (timeout)")) << r.output;
  EXPECT_EQ(peers[0]->handshakes(), 1);
  EXPECT_TRUE(waitFor([&] { return peers[0]->open() == 0; }, std::chrono::seconds(3 * kSlowdown)));
  EXPECT_EQ(count(a, "action = 'peer-call' AND outcome = 'error' AND leaf LIKE '%\"outcomeReason\":\"timeout\"%'"), 1);
}

}  // namespace
}  // namespace hie::testing
