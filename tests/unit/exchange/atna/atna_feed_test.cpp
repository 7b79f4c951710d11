// The ATNA feed's loop over fakes: batches in index order with the cursor moved only past what
// the transport confirmed, a failed batch sent again whole, a cursor held by another process
// skipped, the backlog measured, and stop() prompt during a backoff. Then the real TLS transport
// against small repositories written here: only the repository's close_notify confirms a batch.
#include "exchange/atna/atna_feed.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <openssl/ssl.h>

#include "audit/canonical_form.h"
#include "exchange/atna/syslog_tls_transport.h"
#include "tests/support/loopback_listener.h"
#include "tests/support/test_pki.h"

namespace hie::exchange {
namespace {

std::string leafAt(std::uint64_t index) {
  audit::AuditEvent e;
  e.time = "2026-11-26T10:00:00.123Z";
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.requestId = "req-" + std::to_string(index);
  return audit::canonicalJson(audit::leafObject(e, "node-a", index));
}

class FakeStore : public AtnaCursorStore {
 public:
  std::map<std::string, std::uint64_t> committed;  // origin -> size
  std::map<std::string, std::uint64_t> cursors;    // origin -> next index
  std::set<std::uint64_t> missing;                 // leaves below the checkpoint that are not stored
  bool heldElsewhere = false;
  bool down = false;

  Result<std::vector<std::string>> origins() override {
    if (down) return fail(ErrorCode::kUnavailable, "down");
    std::vector<std::string> out;
    for (const auto& [origin, size] : committed) out.push_back(origin);
    return out;
  }
  Result<Batch> sendNext(const std::string&, const std::string& origin, std::size_t limit,
                         const std::function<std::size_t(const std::vector<FeedLeaf>&)>& deliver) override {
    if (down) return fail(ErrorCode::kUnavailable, "down");
    Batch b;
    if (heldElsewhere) return b;
    b.held = true;
    std::vector<FeedLeaf> leaves;
    for (std::uint64_t i = cursors[origin]; i < committed[origin] && leaves.size() < limit; ++i) {
      if (missing.count(i) != 0) {
        b.gap = true;
        b.missingIndex = i;
        break;
      }
      leaves.push_back(FeedLeaf{i, leafAt(i)});
    }
    b.read = leaves.size();
    if (leaves.empty()) return b;
    b.delivered = deliver(leaves);
    cursors[origin] += b.delivered;
    return b;
  }
  Result<std::uint64_t> backlog(const std::string&) override {
    if (down) return fail(ErrorCode::kUnavailable, "down");
    std::uint64_t n = 0;
    for (const auto& [origin, size] : committed) n += size - cursors[origin];
    return n;
  }
};

class FakeTransport : public SyslogTransport {
 public:
  bool failing = false;
  std::vector<std::vector<std::string>> batches;
  Result<void> deliver(const std::vector<std::string>& frames) override {
    if (failing) return fail(ErrorCode::kUnavailable, "repository down");
    batches.push_back(frames);
    return {};
  }
};

AtnaFeedOptions options() {
  AtnaFeedOptions o;
  o.repository = "audit.example.org:6514";
  o.batchSize = 4;
  o.idlePoll = std::chrono::milliseconds(10);
  o.retryMin = std::chrono::milliseconds(10);
  o.retryMax = std::chrono::milliseconds(40);
  return o;
}

TEST(AtnaFeed, SendsEveryCommittedLeafInBatchesAndMovesTheCursor) {
  FakeStore store;
  store.committed = {{"log-a", 10}, {"log-b", 3}};
  FakeTransport transport;
  Counters counters;
  AtnaFeed feed(store, transport, counters, options());
  const AtnaRound round = feed.runRound();
  EXPECT_FALSE(round.failed);
  EXPECT_EQ(round.sent, 13u);
  EXPECT_EQ(store.cursors["log-a"], 10u);
  EXPECT_EQ(store.cursors["log-b"], 3u);
  ASSERT_EQ(transport.batches.size(), 4u);  // 4 + 4 + 2 of log-a, 3 of log-b
  EXPECT_EQ(transport.batches[0].size(), 4u);
  EXPECT_EQ(transport.batches[2].size(), 2u);
  // Octet-counted frames naming origin and index, in order.
  const std::string& first = transport.batches[0][0];
  const auto space = first.find(' ');
  EXPECT_EQ(std::stoul(first.substr(0, space)), first.size() - space - 1);
  EXPECT_NE(first.find("origin=\"log-a\" index=\"0\""), std::string::npos) << first;
  EXPECT_NE(transport.batches[3][2].find("origin=\"log-b\" index=\"2\""), std::string::npos);
  EXPECT_EQ(counters.atnaMessagesSent.value(), 13u);
  EXPECT_EQ(feed.runRound().sent, 0u);  // nothing new
}

TEST(AtnaFeed, AFailedBatchLeavesTheCursorAndIsSentAgainWhole) {
  FakeStore store;
  store.committed = {{"log-a", 6}};
  FakeTransport transport;
  Counters counters;
  AtnaFeed feed(store, transport, counters, options());
  transport.failing = true;
  AtnaRound round = feed.runRound();
  EXPECT_TRUE(round.failed);
  EXPECT_EQ(store.cursors["log-a"], 0u);
  EXPECT_EQ(counters.atnaFailures.value({"transport"}), 1u);
  transport.failing = false;
  round = feed.runRound();
  EXPECT_FALSE(round.failed);
  EXPECT_EQ(round.sent, 6u);
  EXPECT_NE(transport.batches[0][0].find("index=\"0\""), std::string::npos);
}

TEST(AtnaFeed, ACursorHeldByAnotherProcessIsSkippedAndTheDatabaseDownIsAFailure) {
  FakeStore store;
  store.committed = {{"log-a", 6}};
  store.heldElsewhere = true;
  FakeTransport transport;
  Counters counters;
  AtnaFeed feed(store, transport, counters, options());
  AtnaRound round = feed.runRound();
  EXPECT_FALSE(round.failed);
  EXPECT_EQ(round.sent, 0u);
  EXPECT_TRUE(transport.batches.empty());
  store.down = true;
  round = feed.runRound();
  EXPECT_TRUE(round.failed);
  EXPECT_EQ(counters.atnaFailures.value({"database"}), 1u);
}

TEST(AtnaFeed, TheThreadCatchesUpAfterAnOutageMeasuresTheBacklogAndStopsDuringABackoff) {
  FakeStore store;
  store.committed = {{"log-a", 9}};
  FakeTransport transport;
  transport.failing = true;
  Counters counters;
  AtnaFeed feed(store, transport, counters, options());
  EXPECT_EQ(feed.backlog(), -1);
  feed.start();
  // The fakes are read by the feed's thread: only counters and the gauge are read here while it runs.
  for (int i = 0; i < 500 && (counters.atnaFailures.value({"transport"}) < 3 || feed.backlog() != 9); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(counters.atnaFailures.value({"transport"}), 3u);
  EXPECT_EQ(feed.backlog(), 9);
  feed.stop();  // during a backoff: returns within one idle poll
  transport.failing = false;
  AtnaFeed again(store, transport, counters, options());
  again.start();
  for (int i = 0; i < 500 && again.backlog() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  again.stop();
  EXPECT_EQ(again.backlog(), 0);
  EXPECT_EQ(store.cursors["log-a"], 9u);
}

TEST(AtnaFeed, TheRepositoryKeyIgnoresTheHostsCaseAndBracketsIpv6) {
  EXPECT_EQ(atnaRepositoryKey("Audit.Example.ORG", 6514), "audit.example.org:6514");
  EXPECT_EQ(atnaRepositoryKey("127.0.0.1", 6514), "127.0.0.1:6514");
  EXPECT_EQ(atnaRepositoryKey("::1", 6514), "[::1]:6514");
  EXPECT_EQ(atnaRepositoryKey("2001:DB8::7", 10514), "[2001:db8::7]:10514");
}

TEST(AtnaFeed, AGapStopsItsLogLoudlyAndTheOthersGoOn) {
  FakeStore store;
  store.committed = {{"log-a", 10}, {"log-b", 3}};
  store.missing = {6};
  FakeTransport transport;
  Counters counters;
  AtnaFeed feed(store, transport, counters, options());
  AtnaRound round = feed.runRound();
  EXPECT_EQ(store.cursors["log-a"], 6u);  // up to the missing leaf, never past it
  EXPECT_EQ(store.cursors["log-b"], 3u);
  EXPECT_EQ(round.sent, 9u);
  EXPECT_EQ(counters.atnaFailures.value({"gap"}), 1u);
  round = feed.runRound();
  EXPECT_EQ(round.sent, 0u);
  EXPECT_EQ(counters.atnaFailures.value({"gap"}), 1u);  // reported once
  EXPECT_EQ(*store.backlog(""), 4u);
}

class RecordingTransport : public SyslogTransport {
 public:
  std::function<void()> onDeliver;
  Result<void> deliver(const std::vector<std::string>&) override {
    onDeliver();
    return {};
  }
};

TEST(AtnaFeed, TheBacklogIsMeasuredBetweenBatchesOfALongCatchUp) {
  FakeStore store;
  store.committed = {{"log-a", 20}};
  RecordingTransport transport;
  Counters counters;
  AtnaFeedOptions o = options();
  o.idlePoll = std::chrono::milliseconds(0);  // measure after every batch
  AtnaFeed feed(store, transport, counters, o);
  std::vector<std::int64_t> seen;
  transport.onDeliver = [&] { seen.push_back(feed.backlog()); };
  EXPECT_EQ(feed.backlogMeasuredAt(), 0);
  const AtnaRound round = feed.runRound();  // one round: 5 batches of 4
  EXPECT_EQ(round.sent, 20u);
  // Not measured before the first batch here (the thread measures when it starts), then after each.
  EXPECT_EQ(seen, (std::vector<std::int64_t>{-1, 16, 12, 8, 4}));
  EXPECT_EQ(feed.backlog(), 0);
  EXPECT_GT(feed.backlogMeasuredAt(), 1700000000);
  // The database down: the value stays, its timestamp does not move.
  store.down = true;
  const auto at = feed.backlogMeasuredAt();
  EXPECT_TRUE(feed.runRound().failed);
  EXPECT_EQ(feed.backlog(), 0);
  EXPECT_EQ(feed.backlogMeasuredAt(), at);
}

// An audit record repository over TLS (certificate for 127.0.0.1 from the test PKI): takes one
// connection at a time, reads every byte until the client's close_notify, then either answers
// with its own close_notify (clean) or closes the TCP connection without one (as a repository
// that crashed after reading, or a FIN from anyone on the path, would).
class TlsRepository {
 public:
  TlsRepository(const testing::Credential& server, const testing::Credential& intermediate)
      : ctx_(SSL_CTX_new(TLS_server_method())) {
    SSL_CTX_use_certificate(ctx_.get(), server.cert());
    SSL_CTX_use_PrivateKey(ctx_.get(), server.key());
    SSL_CTX_add1_chain_cert(ctx_.get(), intermediate.cert());
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    const auto listener = testing::listenOnLoopback(16, "tls repository:");
    fd_ = listener.fd;
    port_ = listener.port;
    thread_ = std::thread([this] { run(); });
  }
  ~TlsRepository() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::atomic<bool> cleanClose{true};
  std::atomic<bool> chatty{false};
  std::atomic<int> connectionsRead{0};  // connections read to the client's close_notify
  std::string received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

 private:
  void run() {
    while (!stop_) {
      const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ossl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
      SSL_set_fd(ssl.get(), fd);
      if (SSL_accept(ssl.get()) == 1) {
        std::string got;
        char buf[4096];
        int n;
        while ((n = SSL_read(ssl.get(), buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
        const bool all = SSL_get_error(ssl.get(), n) == SSL_ERROR_ZERO_RETURN;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          received_ += got;
        }
        if (all) ++connectionsRead;
        // Chatty: keeps writing, a byte every 20 ms, and never closes (until the client goes away).
        while (chatty && !stop_ && SSL_write(ssl.get(), "x", 1) == 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (cleanClose) SSL_shutdown(ssl.get());
      }
      ::close(fd);
    }
  }
  ossl::UniquePtr<SSL_CTX> ctx_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string received_;
  std::thread thread_;
};

class AtnaTransport : public ::testing::Test {
 protected:
  AtnaTransport() : pki(testing::TestPki::create()) {
    testing::CertSpec spec;
    spec.commonName = "audit-repository";
    spec.sanIps = {"127.0.0.1"};
    spec.extendedKeyUsage = {"serverAuth"};
    repoCert = pki.leaf(spec);
    testing::CertSpec node;
    node.commonName = "node-a";
    node.extendedKeyUsage = {"clientAuth"};
    nodeCert = pki.leaf(node);
    auto m = std::make_shared<auth::TlsMaterial>();
    X509_up_ref(nodeCert.cert());
    m->leaf.reset(nodeCert.cert());
    EVP_PKEY_up_ref(nodeCert.key());
    m->key.reset(nodeCert.key());
    material = m;
    bundle = testing::writeFile(dir.path(), "anchors.pem", pki.root.certPem());
  }

  std::unique_ptr<SyslogTlsTransport> transport(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto t = SyslogTlsTransport::create(SyslogTlsOptions{"127.0.0.1", static_cast<std::uint16_t>(port), "", bundle, timeout},
                                        [this] { return material; });
    EXPECT_TRUE(t) << t.error().internal;
    return std::move(*t);
  }

  testing::TempDir dir;
  testing::TestPki pki;
  testing::Credential repoCert;
  testing::Credential nodeCert;
  std::shared_ptr<const auth::TlsMaterial> material;
  std::string bundle;
};

TEST_F(AtnaTransport, ACloseWithoutCloseNotifyIsNotADeliveryAndTheCursorStays) {
  TlsRepository crashing(repoCert, pki.intermediate);
  crashing.cleanClose = false;
  FakeStore store;
  store.committed = {{"log-a", 3}};
  auto tls = transport(crashing.port());
  Counters counters;
  AtnaFeed feed(store, *tls, counters, options());
  AtnaRound round = feed.runRound();
  // The repository read every frame (up to the node's close_notify), then closed without its own.
  EXPECT_EQ(crashing.connectionsRead.load(), 1);
  EXPECT_NE(crashing.received().find("index=\"2\""), std::string::npos) << crashing.received();
  EXPECT_TRUE(round.failed);
  EXPECT_EQ(round.sent, 0u);
  EXPECT_EQ(store.cursors["log-a"], 0u);
  EXPECT_EQ(counters.atnaFailures.value({"transport"}), 1u);
  EXPECT_EQ(counters.atnaMessagesSent.value(), 0u);

  // A repository that closes cleanly gets the same entries, and the cursor moves past them.
  TlsRepository good(repoCert, pki.intermediate);
  auto tls2 = transport(good.port());
  AtnaFeed again(store, *tls2, counters, options());
  round = again.runRound();
  EXPECT_FALSE(round.failed);
  EXPECT_EQ(round.sent, 3u);
  EXPECT_EQ(store.cursors["log-a"], 3u);
  for (const char* index : {"index=\"0\"", "index=\"1\"", "index=\"2\""}) {
    EXPECT_NE(good.received().find(index), std::string::npos) << good.received();
  }
}

TEST_F(AtnaTransport, ARepositoryThatNeverClosesIsCutAtTheDeliveryDeadline) {
  // Every read returns within atna.timeout (the repository keeps talking), so only the delivery's
  // own deadline ends it: 3 x 300 ms here.
  TlsRepository chatty(repoCert, pki.intermediate);
  chatty.chatty = true;
  auto tls = transport(chatty.port(), std::chrono::milliseconds(300));
  EXPECT_EQ(deliveryBudget(std::chrono::milliseconds(300), 100), std::chrono::milliseconds(900));
  EXPECT_EQ(deliveryBudget(std::chrono::milliseconds(300), 5 * 1024 * 1024 + 1), std::chrono::milliseconds(2400));
  std::atomic<bool> done{false};
  Result<void> result;
  std::thread sender([&] {
    result = tls->deliver({"3 abc", "3 def"});
    done = true;
  });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);  // generous: not a timing check
  while (!done && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!done) tls->cancel();
  sender.join();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().internal.find("took longer than 900 ms"), std::string::npos) << result.error().internal;
  EXPECT_EQ(chatty.received(), "3 abc3 def");
}

TEST_F(AtnaTransport, FramesOfAnySizeArriveWholeAndInOrder) {
  TlsRepository repo(repoCert, pki.intermediate);
  auto tls = transport(repo.port());
  std::vector<std::string> frames;
  std::string expected;
  for (std::size_t size : {10u, 70000u, 60000u, 5u, 65536u, 200000u, 1u}) {
    frames.push_back(std::string(size, static_cast<char>('a' + frames.size())));
    expected += frames.back();
  }
  auto r = tls->deliver(frames);
  ASSERT_TRUE(r) << r.error().internal;
  EXPECT_TRUE(repo.received() == expected) << repo.received().size() << " bytes of " << expected.size();
}

// Sockets on this host still sending their SYN to 127.0.0.1:port (state SYN_SENT in /proc/net/tcp).
int synSentTo(int port) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  char remote[32];
  std::snprintf(remote, sizeof remote, "0100007F:%04X", port);
  int n = 0;
  while (std::getline(tcp, line)) {
    if (line.find(std::string(" ") + remote + " 02 ") != std::string::npos) ++n;
  }
  return n;
}

template <class F>
bool within(std::chrono::seconds limit, F condition) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST_F(AtnaTransport, CancelCutsAConnectThatIsNotAnswered) {
  // A repository that never accepts, its accept queue full: the kernel drops further SYNs, as a
  // firewall dropping packets would, and a connect waits for its whole timeout.
  const auto listener = testing::listenOnLoopback(0, "full backlog:");
  std::vector<int> fillers;
  bool full = false;
  for (int i = 0; i < 64 && !full; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(listener.port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 500) == 0) {
      full = true;  // this one's SYN was dropped
      ::close(fd);
    } else {
      fillers.push_back(fd);
    }
  }
  ASSERT_TRUE(full);
  ASSERT_TRUE(within(std::chrono::seconds(10), [&] { return synSentTo(listener.port) == 0; }));
  auto tls = transport(listener.port, std::chrono::seconds(120));
  std::atomic<bool> done{false};
  Result<void> result;
  std::thread sender([&] {
    result = tls->deliver({"3 abc"});
    done = true;
  });
  // The transport is waiting for its connection when the node stops.
  EXPECT_TRUE(within(std::chrono::seconds(10), [&] { return synSentTo(listener.port) == 1; }));
  EXPECT_FALSE(done.load());
  tls->cancel();
  // Well within the 120 s connect timeout (a generous bound, not a timing measurement).
  const bool returned = within(std::chrono::seconds(30), [&] { return done.load(); });
  EXPECT_TRUE(returned);
  if (!returned) ::shutdown(listener.fd, SHUT_RDWR);
  sender.join();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().internal.find("cancelled"), std::string::npos) << result.error().internal;
  // Later deliveries fail at once.
  auto again = tls->deliver({"3 abc"});
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().internal.find("cancelled"), std::string::npos) << again.error().internal;
  for (int fd : fillers) ::close(fd);
  ::close(listener.fd);
}

}  // namespace
}  // namespace hie::exchange
