#include "exchange/http/pg_nonce_registry.h"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "db/pooled.h"

namespace hie::exchange {
namespace {

// Pruning: at most once a minute or every kPruneEvery inserts, at most kPruneBatch rows at a time.
constexpr std::uint64_t kPruneEvery = 1000;
constexpr std::int64_t kPruneSeconds = 60;
constexpr int kPruneBatch = 5000;

}  // namespace

PgNonceRegistry::PgNonceRegistry(db::ConnectionPool& pool) : pool_(pool) {}

bool PgNonceRegistry::prunePending(std::int64_t now) {
  const bool many = ++inserts_ % kPruneEvery == 0;
  std::lock_guard<std::mutex> lock(pruneMutex_);
  if (!many && now - lastPrune_ < kPruneSeconds) return false;
  lastPrune_ = now;
  return true;
}

Result<bool> PgNonceRegistry::remember(const std::string& keyId, const std::string& nonce, std::int64_t rememberUntil,
                                       std::int64_t now) {
  const bool prune = prunePending(now);
  return db::withConnection(pool_, "remember request nonce", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::nontransaction tx(c);
    // A row still here after its time is a nonce a request could no longer use anyway (its
    // `created` would refuse it), so a conflict is a replay either way.
    // One round trip, one implicit transaction, and no WAL flush of its own: the request's answer is
    // released only after its audit entry's commit, which flushes the WAL up to there, this insert
    // included. A crash before that loses the nonce of a request that was never answered.
    auto r = tx.exec("SELECT set_config('synchronous_commit', 'off', true); "
                     "INSERT INTO request_nonces (key_id, nonce, remember_until) VALUES (" +
                     tx.quote(keyId) + ", " + tx.quote(nonce) + ", to_timestamp(" + std::to_string(rememberUntil) +
                     ")) ON CONFLICT (key_id, nonce) DO NOTHING");
    const bool first = r.affected_rows() == 1;
    if (prune) {
      try {
        auto gone = tx.exec_params(
            // By the database's clock, one for every process, with a margin: a process whose clock
            // runs behind still refuses what it could accept when the row is gone.
            "DELETE FROM request_nonces WHERE (key_id, nonce) IN (SELECT key_id, nonce FROM request_nonces "
            "WHERE remember_until < now() - interval '300 seconds' LIMIT $1)",
            kPruneBatch);
        if (gone.affected_rows() > 0) spdlog::debug("pruned {} expired request nonces", gone.affected_rows());
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const std::exception& e) {
        // The nonce is recorded; a failed prune only leaves old rows for the next one.
        spdlog::warn("cannot prune expired request nonces: {}", e.what());
      }
    }
    return first;
  });
}

}  // namespace hie::exchange
