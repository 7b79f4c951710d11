// AuditWriter against a scripted in-memory chain store: group commit, cancel on
// timeout, resync after a commit in doubt, confirmation of a commit that
// reported an error, backlog refusal. No database.
#include "audit/audit_writer.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/support/fake_audit_chain_store.h"

namespace hie::audit {
namespace {

using hie::testing::FakeAuditChainStore;
using Step = FakeAuditChainStore::Append;
using namespace std::chrono_literals;

AuditEvent event(const std::string& requestId) {
  AuditEvent e;
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.organization = "urn:oid:2.16.840.1.113883.3.7001";
  e.requestId = requestId;
  return e;
}

class AuditWriterTest : public ::testing::Test {
 protected:
  void start(WriterOptions options = {}) {
    auto fake = std::make_unique<FakeAuditChainStore>();
    store = fake->state();
    options.retryDelay = 5ms;
    writer = std::make_unique<AuditWriter>(std::move(fake), *key, "node-a", "node-a/test/000000000001", options,
                                           counters);
    ASSERT_TRUE(writer->start());
  }
  void TearDown() override {
    if (store) store->hold(false);  // never leave the writer thread waiting
    if (writer) writer->stop();
  }

  // The request ids of the stored entries, in order.
  std::vector<std::string> storedRequests() {
    std::vector<std::string> ids;
    for (const auto& r : store->records()) ids.push_back(r.event.requestId);
    return ids;
  }
  // Every problem ChainVerifier finds in the stored chain.
  std::vector<ChainVerifier::Problem> verifyStored() {
    ChainVerifier verifier(*VerifyKey::fromPem(key->publicPem()));
    for (const auto& r : store->records()) verifier.feed(r.entry);
    return verifier.problems();
  }
  // Runs record() on another thread, once the writer is inside the (held) append of it.
  std::future<Result<std::int64_t>> recordHeld(const std::string& requestId) {
    int before = 0;
    store->waitFor([&before](auto& s) {
      before = s.appendCalls;
      return true;
    });
    auto f = std::async(std::launch::async, [this, requestId] { return writer->record(event(requestId)); });
    EXPECT_TRUE(store->waitFor([before](auto& s) { return s.appendsWaiting == 1 && s.appendCalls > before; }));
    return f;
  }

  Result<SigningKey> key = SigningKey::generate();
  Counters counters;
  std::shared_ptr<FakeAuditChainStore::State> store;
  std::unique_ptr<AuditWriter> writer;
};

TEST_F(AuditWriterTest, CommitsEntriesInOneVerifiableChainAndChecksPointsAtStop) {
  start();
  auto first = writer->record(event("r1"));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 1);
  ASSERT_TRUE(writer->recordAll({event("r2"), event("r3")}));
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"r1", "r2", "r3"}));
  EXPECT_TRUE(verifyStored().empty());
  EXPECT_EQ(counters.auditEntriesCommitted.value(), 3u);
  writer->stop();
  ASSERT_EQ(store->checkpoints.size(), 1u);  // the final checkpoint covers the last entry
  EXPECT_EQ(store->checkpoints[0].seq, 3);
  EXPECT_EQ(store->checkpoints[0].hash, store->records().back().entry.hash);
}

TEST_F(AuditWriterTest, AWaiterThatTimesOutCancelsItsQueuedEntrySoItIsNeverStored) {
  WriterOptions options;
  options.commitTimeout = 200ms;
  start(options);
  store->hold(true);
  auto inFlight = recordHeld("taken");  // the writer is inside this commit
  // Queued behind the held commit: its caller gives up after commitTimeout and cancels it.
  auto queued = std::async(std::launch::async, [this] { return writer->record(event("cancelled")); });
  const bool gaveUp = queued.wait_for(20s) == std::future_status::ready;
  if (!gaveUp) store->hold(false);  // lets the test end instead of waiting for the store's own bound
  ASSERT_TRUE(gaveUp) << "the waiter did not give up";
  auto cancelled = queued.get();
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, ErrorCode::kUnavailable);
  store->hold(false);
  // The entry already in the commit is waited for past the timeout: its outcome decides.
  ASSERT_EQ(inFlight.wait_for(20s), std::future_status::ready);
  auto taken = inFlight.get();
  ASSERT_TRUE(taken);
  EXPECT_EQ(*taken, 1);
  auto next = writer->record(event("next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 2);  // the cancelled entry took no number
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"taken", "next"}));
  EXPECT_TRUE(verifyStored().empty());
  EXPECT_GE(counters.auditCommitTimeouts.value(), 1u);
}

TEST_F(AuditWriterTest, AFailedCommitFailsItsCallersAndTheWriterRecovers) {
  start();
  store->plan({Step::kFail});
  auto failed = writer->record(event("lost"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(writer->healthy());
  EXPECT_EQ(counters.auditCommitFailures.value(), 1u);
  auto next = writer->record(event("next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 1);
  EXPECT_TRUE(writer->healthy());
  EXPECT_EQ(storedRequests(), std::vector<std::string>{"next"});
  EXPECT_TRUE(verifyStored().empty());
}

TEST_F(AuditWriterTest, ACommitInDoubtThatTheStoredHeadConfirmsIsReportedCommitted) {
  start();
  store->plan({Step::kStoreThenFail});  // stored, but the connection broke before the reply
  auto committed = writer->record(event("in-doubt"));
  ASSERT_TRUE(committed) << committed.error().internal;
  EXPECT_EQ(*committed, 1);
  EXPECT_EQ(counters.auditCommitsConfirmedAfterError.value(), 1u);
  EXPECT_EQ(counters.auditCommitFailures.value(), 0u);
  EXPECT_TRUE(writer->healthy());
  auto next = writer->record(event("next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 2);
  EXPECT_TRUE(verifyStored().empty());
}

TEST_F(AuditWriterTest, AfterACommitInDoubtThatCannotBeCheckedTheWriterContinuesFromTheStoredHead) {
  start();
  store->plan({Step::kStoreThenFail});
  store->setHeadDown(true);  // the confirmation cannot be read either
  auto unknown = writer->record(event("in-doubt"));
  ASSERT_FALSE(unknown);  // fail closed: the caller cannot know
  EXPECT_EQ(counters.auditCommitFailures.value(), 1u);
  // While the head cannot be read, nothing is committed (it would fork the chain).
  auto refused = writer->record(event("refused"));
  ASSERT_FALSE(refused);
  store->setHeadDown(false);
  auto next = writer->record(event("next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 2);  // continues after the entry that was stored after all
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"in-doubt", "next"}));
  EXPECT_TRUE(verifyStored().empty());
}

TEST_F(AuditWriterTest, AsyncEventsSurviveAFailedCommitAndAreStoredOnceInOrder) {
  start();
  store->plan({Step::kFail, Step::kFail});
  writer->recordAsync(event("a1"));
  writer->recordAsync(event("a2"));
  ASSERT_TRUE(store->waitFor([](auto& s) { return s.stored.size() == 2; }));
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_GE(counters.auditCommitFailures.value(), 1u);
  EXPECT_TRUE(verifyStored().empty());
}

TEST_F(AuditWriterTest, AFullBacklogRefusesAtOnceAndStoresNothingOfTheRefused) {
  WriterOptions options;
  options.maxBacklog = 2;
  start(options);
  store->hold(true);
  auto inFlight = recordHeld("taken");
  writer->recordAsync(event("q1"));
  writer->recordAsync(event("q2"));
  EXPECT_EQ(writer->queueDepth(), 2u);
  auto refused = writer->record(event("refused"));  // returns without waiting for the held commit
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(counters.auditRefusedBacklogFull.value(), 1u);
  EXPECT_FALSE(writer->recordAll({event("refused-too")}));
  EXPECT_EQ(counters.auditRefusedBacklogFull.value(), 2u);
  writer->recordAsync(event("dropped"));
  EXPECT_EQ(counters.auditDroppedAsync.value(), 1u);
  store->hold(false);
  ASSERT_EQ(inFlight.wait_for(20s), std::future_status::ready);
  EXPECT_TRUE(inFlight.get());
  ASSERT_TRUE(store->waitFor([](auto& s) { return s.stored.size() == 3; }));
  writer->stop();
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"taken", "q1", "q2"}));
}

TEST_F(AuditWriterTest, AfterStopNothingIsAcceptedOrStored) {
  start();
  ASSERT_TRUE(writer->record(event("before")));
  writer->stop();
  auto refused = writer->record(event("after"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(writer->recordAll({event("after-too")}));
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"before"}));
}

}  // namespace
}  // namespace hie::audit
