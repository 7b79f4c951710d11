// The ATNA feed's loop over fakes: batches in index order with the cursor moved only past what
// the transport confirmed, a failed batch sent again whole, a cursor held by another process
// skipped, the backlog measured, and stop() prompt during a backoff.
#include "exchange/atna/atna_feed.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "audit/canonical_form.h"

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

}  // namespace
}  // namespace hie::exchange
