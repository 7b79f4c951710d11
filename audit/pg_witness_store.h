// The witness's state in PostgreSQL (db/migrations/0005_transparency_log.sql):
// witness_checkpoints (the latest cosigned head per origin, locked with
// SELECT ... FOR UPDATE while it is compared and advanced; its trigger refuses
// any roll-back) and witness_cosigned (every cosigned checkpoint).
#pragma once

#include "audit/witness_store.h"

namespace hie::db {
class ConnectionPool;
}

namespace hie::audit {

// Leases a connection of pool per call; a broken connection is discarded (kUnavailable).
class PgWitnessStore : public WitnessStore {
 public:
  explicit PgWitnessStore(db::ConnectionPool& pool) : pool_(pool) {}
  Result<std::optional<CosignedHead>> latest(const std::string& origin) override;
  Result<bool> advance(const std::string& origin, const std::optional<CosignedHead>& expected,
                       const CosignedHead& head, const std::string& note) override;

 private:
  db::ConnectionPool& pool_;
};

}  // namespace hie::audit
