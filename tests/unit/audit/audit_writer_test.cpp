// AuditWriter against a scripted in-memory log store: leaves and one signed
// checkpoint per group commit, cancel on timeout, resync after a commit in
// doubt, confirmation of a commit that reported an error, another writer
// appending first, refusal of a stored log that does not extend its checkpoint,
// backlog refusal. No database.
#include "audit/audit_writer.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/support/fake_audit_log_store.h"

namespace hie::audit {
namespace {

using hie::testing::FakeAuditLogStore;
using Step = FakeAuditLogStore::Append;
using namespace std::chrono_literals;

const std::string kOrigin = "hie-node/node-a/audit";

AuditEvent event(const std::string& requestId) {
  AuditEvent e;
  e.eventType = "rest";
  e.action = "read";
  e.outcome = "success";
  e.organization = "urn:oid:2.16.840.1.113883.3.7001";
  e.requestId = requestId;
  return e;
}

std::string requestIdOf(const std::string& leaf) {
  const std::string key = "\"requestId\":\"";
  const auto at = leaf.find(key);
  if (at == std::string::npos) return "<" + leaf + ">";
  return leaf.substr(at + key.size(), leaf.find('"', at + key.size()) - at - key.size());
}

class AuditWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<FakeAuditLogStore>();
    store = fake->state();
    store->otherWriterKey = *key;  // another process of the same node signs with the same key
    fakeStore = std::move(fake);
  }
  Result<bool> start(WriterOptions options = {}) {
    options.retryDelay = 5ms;
    writer = std::make_unique<AuditWriter>(std::move(fakeStore), *key, "node-a", kOrigin, options, counters);
    return writer->start();
  }
  void TearDown() override {
    if (store) store->hold(false);  // never leave the writer thread waiting
    if (writer) writer->stop();
  }

  std::vector<std::string> storedRequests() {
    std::vector<std::string> ids;
    for (const auto& l : store->storedLeaves()) ids.push_back(requestIdOf(l.leaf));
    return ids;
  }
  // Every stored leaf: index in place, hash of its bytes, included in the newest checkpoint; every
  // checkpoint signed by the key and consistent with the next.
  void expectVerifiableLog() {
    auto leaves = store->storedLeaves();
    auto checkpoints = store->storedCheckpoints();
    ASSERT_FALSE(checkpoints.empty());
    const auto vkey = note::VerifierKey::of(kOrigin, note::kEd25519, *VerifyKey::fromPem(key->publicPem()));
    std::vector<merkle::Hash> hashes;
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      EXPECT_EQ(leaves[i].index, i);
      EXPECT_EQ(leaves[i].hash, merkle::leafHash(leaves[i].leaf));
      hashes.push_back(leaves[i].hash);
    }
    merkle::MemoryHashSource source(hashes);
    const TreeHead* previous = nullptr;
    for (const auto& cp : checkpoints) {
      auto opened = openCheckpoint(cp.note, vkey);
      ASSERT_TRUE(opened) << opened.error().internal;
      EXPECT_EQ(*merkle::rootHash(cp.head.size, source), cp.head.root);
      if (previous != nullptr) {
        auto proof = merkle::consistencyProof(previous->size, cp.head.size, source);
        EXPECT_TRUE(merkle::verifyConsistency(previous->size, cp.head.size, *proof, previous->root, cp.head.root));
      }
      previous = &cp.head;
    }
    EXPECT_EQ(checkpoints.back().head.size, leaves.size());
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      auto proof = merkle::inclusionProof(i, leaves.size(), source);
      EXPECT_TRUE(merkle::verifyInclusion(leaves[i].hash, i, leaves.size(), *proof, checkpoints.back().head.root));
    }
  }
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
  std::unique_ptr<FakeAuditLogStore> fakeStore;
  std::shared_ptr<FakeAuditLogStore::State> store;
  std::unique_ptr<AuditWriter> writer;
};

TEST_F(AuditWriterTest, CommitsLeavesWithOneSignedCheckpointPerCommit) {
  ASSERT_TRUE(start());
  auto first = writer->record(event("r1"));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 0);
  ASSERT_TRUE(writer->recordAll({event("r2"), event("r3")}));
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"r1", "r2", "r3"}));
  EXPECT_EQ(store->storedCheckpoints().size(), counters.auditBatchesCommitted.value());
  EXPECT_LE(store->storedCheckpoints().size(), 3u);
  expectVerifiableLog();
  EXPECT_EQ(counters.auditEntriesCommitted.value(), 3u);
  // Each leaf is the canonical v2 entry with its own index and no chain.
  const auto leaves = store->storedLeaves();
  EXPECT_NE(leaves[2].leaf.find("\"index\":2,"), std::string::npos);
  EXPECT_EQ(leaves[2].leaf.find("\"chain\""), std::string::npos);
}

TEST_F(AuditWriterTest, ARestartContinuesTheSameLog) {
  ASSERT_TRUE(start());
  ASSERT_TRUE(writer->record(event("before")));
  writer->stop();
  // A second writer (a restart) over the same stored log.
  auto fake = std::make_unique<FakeAuditLogStore>();
  auto shared = fake->state();
  {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->leaves = store->storedLeaves();
    shared->checkpoints = store->storedCheckpoints();
  }
  store = shared;
  fakeStore = std::move(fake);
  ASSERT_TRUE(start());
  auto next = writer->record(event("after"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 1);
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"before", "after"}));
  expectVerifiableLog();
}

TEST_F(AuditWriterTest, AnotherWriterAppendingFirstIsTakenIntoTheTreeAndTheBatchRetried) {
  ASSERT_TRUE(start());
  ASSERT_TRUE(writer->record(event("r1")));
  store->plan({Step::kConflict, Step::kConflict});
  auto mine = writer->record(event("r2"));
  ASSERT_TRUE(mine) << mine.error().internal;
  EXPECT_EQ(*mine, 3);  // after the two leaves the other writer appended
  EXPECT_EQ(counters.auditSequencingConflicts.value(), 2u);
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"r1", "<{\"foreign\":1}>", "<{\"foreign\":2}>", "r2"}));
  expectVerifiableLog();
}

TEST_F(AuditWriterTest, AStoredLogThatDoesNotExtendItsSignedCheckpointIsRefused) {
  ASSERT_TRUE(start());
  ASSERT_TRUE(writer->recordAll({event("r1"), event("r2"), event("r3")}));
  writer->stop();
  writer.reset();
  auto fake = std::make_unique<FakeAuditLogStore>();
  auto shared = fake->state();
  {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->leaves = store->storedLeaves();
    shared->checkpoints = store->storedCheckpoints();
    // Someone with the database rewrites leaf 1 (and its stored hash).
    shared->leaves[1].leaf = "{\"rewritten\":true}";
    shared->leaves[1].hash = merkle::leafHash(shared->leaves[1].leaf);
  }
  fakeStore = std::move(fake);
  auto started = start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().internal.find("history rewritten"), std::string::npos) << started.error().internal;
}

TEST_F(AuditWriterTest, ATruncatedLogIsRefused) {
  ASSERT_TRUE(start());
  ASSERT_TRUE(writer->recordAll({event("r1"), event("r2")}));
  writer->stop();
  writer.reset();
  auto fake = std::make_unique<FakeAuditLogStore>();
  auto shared = fake->state();
  {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->leaves = store->storedLeaves();
    shared->leaves.pop_back();
    shared->checkpoints = store->storedCheckpoints();
  }
  fakeStore = std::move(fake);
  auto started = start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().internal.find("truncated"), std::string::npos) << started.error().internal;
}

// Leaves no checkpoint covers were stored by something else (this writer commits leaves and their
// checkpoint together): the writer refuses the log rather than sign over them, and stores nothing.
TEST_F(AuditWriterTest, LeavesStoredWithoutACheckpointAreRefusedNotSigned) {
  {
    merkle::Frontier f;
    for (int i = 0; i < 2; ++i) {
      LogLeaf l;
      l.index = static_cast<std::uint64_t>(i);
      l.leaf = "{\"orphan\":" + std::to_string(i) + "}";
      l.hash = merkle::leafHash(l.leaf);
      l.completed = f.append(l.hash);
      store->leaves.push_back(l);
    }
  }
  auto started = start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().internal.find("2 leaves past its newest signed checkpoint (of 0 leaves)"), std::string::npos)
      << started.error().internal;
  EXPECT_TRUE(store->storedCheckpoints().empty());
}

// The same past a checkpoint the writer signed: the leaves it wrote stay covered, the inserted one is refused.
TEST_F(AuditWriterTest, ALeafInsertedPastTheNewestCheckpointIsRefusedAtStart) {
  ASSERT_TRUE(start());
  ASSERT_TRUE(writer->recordAll({event("r1"), event("r2")}));
  writer->stop();
  writer.reset();
  auto fake = std::make_unique<FakeAuditLogStore>();
  auto shared = fake->state();
  std::size_t checkpoints = 0;
  {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->leaves = store->storedLeaves();
    shared->checkpoints = store->storedCheckpoints();
    checkpoints = shared->checkpoints.size();
    // Someone with the database appends a leaf (and its hashes) but cannot sign a checkpoint over it.
    merkle::MemoryHashSource source(shared->leafHashes());
    auto frontier = *merkle::Frontier::load(shared->leaves.size(), source);
    LogLeaf l;
    l.index = shared->leaves.size();
    l.leaf = "{\"forged\":true}";
    l.hash = merkle::leafHash(l.leaf);
    l.completed = frontier.append(l.hash);
    shared->leaves.push_back(l);
  }
  fakeStore = std::move(fake);
  store = shared;
  auto again = start();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().internal.find("1 leaves past its newest signed checkpoint (of 2 leaves)"), std::string::npos)
      << again.error().internal;
  EXPECT_EQ(shared->storedCheckpoints().size(), checkpoints);
}

TEST_F(AuditWriterTest, AWaiterThatTimesOutCancelsItsQueuedEntrySoItIsNeverStored) {
  WriterOptions options;
  options.commitTimeout = 200ms;
  ASSERT_TRUE(start(options));
  store->hold(true);
  auto inFlight = recordHeld("taken");  // the writer is inside this commit
  auto queued = std::async(std::launch::async, [this] { return writer->record(event("cancelled")); });
  const bool gaveUp = queued.wait_for(20s) == std::future_status::ready;
  if (!gaveUp) store->hold(false);
  ASSERT_TRUE(gaveUp) << "the waiter did not give up";
  auto cancelled = queued.get();
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, ErrorCode::kUnavailable);
  store->hold(false);
  ASSERT_EQ(inFlight.wait_for(20s), std::future_status::ready);
  auto taken = inFlight.get();
  ASSERT_TRUE(taken);
  EXPECT_EQ(*taken, 0);
  auto next = writer->record(event("next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 1);  // the cancelled entry took no index
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"taken", "next"}));
  expectVerifiableLog();
  EXPECT_GE(counters.auditCommitTimeouts.value(), 1u);
}

TEST_F(AuditWriterTest, AFailedCommitFailsItsCallersAndTheWriterRecovers) {
  ASSERT_TRUE(start());
  store->plan({Step::kFail});
  auto failed = writer->record(event("lost"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(writer->healthy());
  EXPECT_EQ(counters.auditCommitFailures.value(), 1u);
  auto next = writer->record(event("next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 0);
  EXPECT_TRUE(writer->healthy());
  EXPECT_EQ(storedRequests(), std::vector<std::string>{"next"});
  expectVerifiableLog();
}

TEST_F(AuditWriterTest, ACommitInDoubtWhoseCheckpointIsStoredIsReportedCommitted) {
  ASSERT_TRUE(start());
  store->plan({Step::kStoreThenFail});  // stored, but the connection broke before the reply
  auto committed = writer->record(event("in-doubt"));
  ASSERT_TRUE(committed) << committed.error().internal;
  EXPECT_EQ(*committed, 0);
  EXPECT_EQ(counters.auditCommitsConfirmedAfterError.value(), 1u);
  EXPECT_EQ(counters.auditCommitFailures.value(), 0u);
  EXPECT_TRUE(writer->healthy());
  auto next = writer->record(event("next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 1);
  expectVerifiableLog();
}

TEST_F(AuditWriterTest, AfterACommitInDoubtThatCannotBeCheckedTheWriterContinuesFromTheStoredTree) {
  ASSERT_TRUE(start());
  store->plan({Step::kStoreThenFail});
  store->setReadsDown(true);  // the confirmation cannot be read either
  auto unknown = writer->record(event("in-doubt"));
  ASSERT_FALSE(unknown);  // fail closed: the caller cannot know
  EXPECT_EQ(counters.auditCommitFailures.value(), 1u);
  // While the stored tree cannot be read, nothing is committed (it could fork the log).
  auto refused = writer->record(event("refused"));
  ASSERT_FALSE(refused);
  store->setReadsDown(false);
  auto next = writer->record(event("next"));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 1);  // continues after the entry that was stored after all
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"in-doubt", "next"}));
  expectVerifiableLog();
}

TEST_F(AuditWriterTest, AsyncEventsSurviveAFailedCommitAndAreStoredOnceInOrder) {
  ASSERT_TRUE(start());
  store->plan({Step::kFail, Step::kFail});
  writer->recordAsync(event("a1"));
  writer->recordAsync(event("a2"));
  ASSERT_TRUE(store->waitFor([](auto& s) { return s.leaves.size() == 2; }));
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_GE(counters.auditCommitFailures.value(), 1u);
  expectVerifiableLog();
}

TEST_F(AuditWriterTest, AFullBacklogRefusesAtOnceAndStoresNothingOfTheRefused) {
  WriterOptions options;
  options.maxBacklog = 2;
  ASSERT_TRUE(start(options));
  store->hold(true);
  auto inFlight = recordHeld("taken");
  writer->recordAsync(event("q1"));
  writer->recordAsync(event("q2"));
  EXPECT_EQ(writer->queueDepth(), 2u);
  auto refused = writer->record(event("refused"));
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
  ASSERT_TRUE(store->waitFor([](auto& s) { return s.leaves.size() == 3; }));
  writer->stop();
  EXPECT_EQ(storedRequests(), (std::vector<std::string>{"taken", "q1", "q2"}));
}

TEST_F(AuditWriterTest, AfterStopNothingIsAcceptedOrStored) {
  ASSERT_TRUE(start());
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
