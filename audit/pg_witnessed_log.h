// WitnessedLog over PgAuditLogStore: this node's log in PostgreSQL, for the
// witness submitter. Owns one connection; one user (thread) at a time.
#pragma once

#include <memory>
#include <string>

#include "audit/pg_audit_log_store.h"
#include "audit/witnessed_log.h"

namespace hie::audit {

class PgWitnessedLog : public WitnessedLog {
 public:
  explicit PgWitnessedLog(std::string dbUri) : store_(std::move(dbUri)) {}

  Result<std::optional<std::string>> latestCheckpoint(const std::string& origin) override;
  Result<std::vector<merkle::Hash>> consistencyProof(const std::string& origin, std::uint64_t oldSize,
                                                     std::uint64_t newSize) override;
  Result<std::optional<std::uint64_t>> witnessSize(const std::string& origin, const std::string& witness) override;
  Result<bool> setWitnessSize(const std::string& origin, const std::string& witness, std::uint64_t size) override;
  Result<bool> addCosignatures(const std::string& origin, std::uint64_t size, const std::string& witness,
                               const std::vector<std::string>& lines) override;
  Result<std::optional<std::string>> checkpointAt(const std::string& origin, std::uint64_t size) override;
  Result<bool> onlyWitnessingIn(const std::string& origin, std::uint64_t first, std::uint64_t end) override;

 private:
  PgAuditLogStore store_;
};

}  // namespace hie::audit
