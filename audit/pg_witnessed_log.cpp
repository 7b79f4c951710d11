#include "audit/pg_witnessed_log.h"

namespace hie::audit {

Result<std::optional<std::string>> PgWitnessedLog::latestCheckpoint(const std::string& origin) {
  return store_.latestCheckpoint(origin);
}

Result<std::optional<std::string>> PgWitnessedLog::checkpointAt(const std::string& origin, std::uint64_t size) {
  return store_.checkpointAt(origin, size);
}

Result<std::vector<merkle::Hash>> PgWitnessedLog::consistencyProof(const std::string& origin, std::uint64_t oldSize,
                                                                   std::uint64_t newSize) {
  auto source = store_.hashes(origin);
  return merkle::consistencyProof(oldSize, newSize, *source);
}

Result<std::optional<std::uint64_t>> PgWitnessedLog::witnessSize(const std::string& origin, const std::string& witness) {
  return store_.witnessSize(origin, witness);
}

Result<bool> PgWitnessedLog::setWitnessSize(const std::string& origin, const std::string& witness, std::uint64_t size) {
  return store_.setWitnessSize(origin, witness, size);
}

Result<bool> PgWitnessedLog::addCosignatures(const std::string& origin, std::uint64_t size, const std::string& witness,
                                             const std::vector<std::string>& lines) {
  return store_.addCosignatures(origin, size, witness, lines);
}

Result<bool> PgWitnessedLog::onlyWitnessingIn(const std::string& origin, std::uint64_t first, std::uint64_t end) {
  return store_.onlyActionsIn(origin, first, end, {kWitnessAction, kWitnessSubmitAction});
}

}  // namespace hie::audit
