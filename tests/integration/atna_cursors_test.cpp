// The ATNA feed's cursors in a real PostgreSQL (PgAtnaCursors, migration 0008): the cursor moves
// only past what deliver confirmed, in the transaction that read the batch; a batch not delivered
// rolls back; only leaves below the newest checkpoint are read; a missing leaf below it is a gap
// the batch stops before; the backlog is what is left.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exchange/atna/pg_atna_cursors.h"
#include "tests/support/node_fixture.h"

namespace hie::testing {
namespace {

const std::string kOrigin = "hie-node/node-a/audit";
const std::string kRepository = "audit.example.org:6514";

class AtnaCursors : public ::testing::Test {
 protected:
  AtnaCursors() { f.migrate(); }

  // Leaves at the given indexes, and a checkpoint of size.
  void commit(const std::vector<int>& indexes, int size) {
    for (int i : indexes) {
      f.db.exec("INSERT INTO audit_log_leaves (origin, idx, leaf, leaf_hash, subtree_hashes) VALUES ('" + kOrigin +
                "', " + std::to_string(i) + ", '{\"n\":" + std::to_string(i) + "}', '\\x00', '\\x00')");
    }
    f.db.exec("INSERT INTO audit_log_checkpoints (origin, tree_size, root_hash, note) VALUES ('" + kOrigin + "', " +
              std::to_string(size) + ", '\\x00', 'note')");
  }

  NodeFixture f;
};

TEST_F(AtnaCursors, TheCursorMovesOnlyPastWhatWasDelivered) {
  commit({0, 1, 2, 3, 4, 5}, 5);  // leaf 5 is not under a checkpoint yet
  exchange::PgAtnaCursors cursors(f.db.uri());
  std::vector<std::uint64_t> seen;
  auto batch = cursors.sendNext(kRepository, kOrigin, 3, [&](const std::vector<exchange::FeedLeaf>& leaves) {
    for (const auto& l : leaves) seen.push_back(l.index);
    return std::size_t{0};  // not delivered
  });
  ASSERT_TRUE(batch) << batch.error().internal;
  EXPECT_TRUE(batch->held);
  EXPECT_EQ(batch->read, 3u);
  EXPECT_EQ(batch->delivered, 0u);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(*cursors.cursor(kRepository, kOrigin), 0u);  // rolled back
  EXPECT_EQ(*cursors.backlog(kRepository), 5u);

  seen.clear();
  batch = cursors.sendNext(kRepository, kOrigin, 3, [&](const std::vector<exchange::FeedLeaf>& leaves) {
    for (const auto& l : leaves) seen.push_back(l.index);
    return leaves.size();
  });
  ASSERT_TRUE(batch);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{0, 1, 2}));  // the same batch again
  EXPECT_EQ(*cursors.cursor(kRepository, kOrigin), 3u);
  batch = cursors.sendNext(kRepository, kOrigin, 3, [&](const std::vector<exchange::FeedLeaf>& leaves) {
    return leaves.size();
  });
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->read, 2u);  // 3 and 4: 5 is above the checkpoint
  EXPECT_FALSE(batch->gap);
  EXPECT_EQ(*cursors.cursor(kRepository, kOrigin), 5u);
  EXPECT_EQ(*cursors.backlog(kRepository), 0u);
  EXPECT_EQ(*cursors.backlog("another.example.org:6514"), 5u);  // a new repository starts at 0
}

TEST_F(AtnaCursors, AMissingLeafBelowTheCheckpointIsAGapTheCursorNeverPasses) {
  commit({0, 1, 2, 4, 5}, 6);  // leaf 3 is not stored
  exchange::PgAtnaCursors cursors(f.db.uri());
  auto deliverAll = [](const std::vector<exchange::FeedLeaf>& leaves) { return leaves.size(); };
  auto batch = cursors.sendNext(kRepository, kOrigin, 10, deliverAll);
  ASSERT_TRUE(batch) << batch.error().internal;
  EXPECT_EQ(batch->read, 3u);
  EXPECT_TRUE(batch->gap);
  EXPECT_EQ(batch->missingIndex, 3u);
  EXPECT_EQ(*cursors.cursor(kRepository, kOrigin), 3u);
  batch = cursors.sendNext(kRepository, kOrigin, 10, deliverAll);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->read, 0u);
  EXPECT_TRUE(batch->gap);
  EXPECT_EQ(*cursors.cursor(kRepository, kOrigin), 3u);
  EXPECT_EQ(*cursors.backlog(kRepository), 3u);
}

}  // namespace
}  // namespace hie::testing
