#include "exchange/atna/pg_atna_cursors.h"

#include <algorithm>

#include <pqxx/pqxx>

#include "db/session.h"

namespace hie::exchange {
namespace {

// The origins with checkpoints and the newest checkpoint's size of each, read through the primary
// key (origin, tree_size) one origin at a time instead of scanning every checkpoint.
constexpr const char* kCommittedSizes = R"(
  WITH RECURSIVE o(origin) AS (
    (SELECT origin FROM audit_log_checkpoints ORDER BY origin LIMIT 1)
    UNION ALL
    SELECT (SELECT c.origin FROM audit_log_checkpoints c WHERE c.origin > o.origin ORDER BY c.origin LIMIT 1)
    FROM o WHERE o.origin IS NOT NULL)
  SELECT o.origin, (SELECT max(tree_size) FROM audit_log_checkpoints c WHERE c.origin = o.origin) AS size
  FROM o WHERE o.origin IS NOT NULL)";

}  // namespace

PgAtnaCursors::PgAtnaCursors(std::string dbUri) : session_(std::make_unique<db::Session>(std::move(dbUri))) {}
PgAtnaCursors::~PgAtnaCursors() = default;

Result<std::vector<std::string>> PgAtnaCursors::origins() {
  return session_->run("atna: read the log origins", [&](pqxx::connection& c) -> Result<std::vector<std::string>> {
    pqxx::read_transaction tx(c);
    std::vector<std::string> out;
    for (const auto& row : tx.exec(std::string("SELECT origin FROM (") + kCommittedSizes + ") s ORDER BY origin COLLATE \"C\"")) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

Result<AtnaCursorStore::Batch> PgAtnaCursors::sendNext(
    const std::string& repository, const std::string& origin, std::size_t limit,
    const std::function<std::size_t(const std::vector<FeedLeaf>&)>& deliver) {
  return session_->run("atna: send a batch", [&](pqxx::connection& c) -> Result<Batch> {
    Batch batch;
    {
      // Its own transaction, so that creating the row never waits on a sender's open batch for long.
      pqxx::work tx(c);
      tx.exec_params("INSERT INTO atna_feed_cursors (repository, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                     repository, origin);
      tx.commit();
    }
    pqxx::work tx(c);
    auto held = tx.exec_params(
        "SELECT next_index FROM atna_feed_cursors WHERE repository = $1 AND origin = $2 FOR UPDATE SKIP LOCKED",
        repository, origin);
    if (held.empty()) return batch;  // another sender holds it
    batch.held = true;
    const long long next = held[0][0].as<long long>();
    auto size = tx.exec_params("SELECT coalesce(max(tree_size), 0) FROM audit_log_checkpoints WHERE origin = $1", origin);
    const long long committed = size[0][0].as<long long>();
    if (next >= committed) return batch;
    std::vector<FeedLeaf> leaves;
    for (const auto& row : tx.exec_params("SELECT idx, leaf FROM audit_log_leaves WHERE origin = $1 AND idx >= $2 "
                                          "AND idx < $3 ORDER BY idx LIMIT $4",
                                          origin, next, committed, static_cast<long long>(limit))) {
      leaves.push_back(FeedLeaf{static_cast<std::uint64_t>(row[0].as<long long>()), row[1].as<std::string>()});
    }
    // A gap (a leaf below a signed checkpoint that is not stored) would make the cursor skip it: only
    // the run from the cursor without gaps is sent, and the gap is reported (the feed logs and counts it).
    std::size_t run = 0;
    while (run < leaves.size() && leaves[run].index == static_cast<std::uint64_t>(next) + run) ++run;
    const auto expected = static_cast<std::size_t>(std::min<long long>(static_cast<long long>(limit), committed - next));
    if (run < expected) {
      batch.gap = true;
      batch.missingIndex = static_cast<std::uint64_t>(next) + run;
    }
    leaves.resize(run);
    batch.read = leaves.size();
    if (leaves.empty()) return batch;
    batch.delivered = deliver(leaves);
    if (batch.delivered == 0) return batch;  // rolls back: the cursor stays
    tx.exec_params("UPDATE atna_feed_cursors SET next_index = $3, updated_at = now() WHERE repository = $1 AND origin = $2",
                   repository, origin, next + static_cast<long long>(batch.delivered));
    tx.commit();
    return batch;
  });
}

Result<std::uint64_t> PgAtnaCursors::backlog(const std::string& repository) {
  return session_->run("atna: measure the backlog", [&](pqxx::connection& c) -> Result<std::uint64_t> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params(std::string("SELECT coalesce(sum(greatest(s.size - coalesce(k.next_index, 0), 0)), 0) FROM (") +
                                   kCommittedSizes + ") s LEFT JOIN atna_feed_cursors k ON k.repository = $1 AND k.origin = s.origin",
                               repository);
    return static_cast<std::uint64_t>(rows[0][0].as<long long>());
  });
}

Result<std::uint64_t> PgAtnaCursors::cursor(const std::string& repository, const std::string& origin) {
  return session_->run("atna: read a cursor", [&](pqxx::connection& c) -> Result<std::uint64_t> {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params("SELECT next_index FROM atna_feed_cursors WHERE repository = $1 AND origin = $2",
                               repository, origin);
    return rows.empty() ? 0 : static_cast<std::uint64_t>(rows[0][0].as<long long>());
  });
}

}  // namespace hie::exchange
