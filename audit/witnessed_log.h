// This node's own log as the witness submitter (exchange/peers/witness_submitter.h)
// sees it: the newest checkpoint, consistency proofs, what each witness last
// cosigned, and the cosignatures witnesses returned. PgWitnessedLog
// (pg_witnessed_log.h) reads and writes it in PostgreSQL; tests use fakes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "common/result.h"

namespace hie::audit {

// The actions of the audit entries that witnessing itself causes: a witness's entry for an
// add-checkpoint request it answered, and the submitting node's entry for the call it made.
constexpr const char* kWitnessAction = "witness";
constexpr const char* kWitnessSubmitAction = "witness-submit";

class WitnessedLog {
 public:
  virtual ~WitnessedLog() = default;
  // The newest stored checkpoint of origin as its signed note; nullopt when none. Callers
  // are one thread at a time (the submitter's).
  virtual Result<std::optional<std::string>> latestCheckpoint(const std::string& origin) = 0;
  // The stored checkpoint of exactly size, as its signed note; nullopt when there is none.
  virtual Result<std::optional<std::string>> checkpointAt(const std::string& origin, std::uint64_t size) = 0;
  // PROOF(oldSize, D[0:newSize]) from the stored hashes (RFC 6962 2.1.2).
  virtual Result<std::vector<merkle::Hash>> consistencyProof(const std::string& origin, std::uint64_t oldSize,
                                                             std::uint64_t newSize) = 0;
  // The size witness (its key name) last cosigned, as recorded; nullopt when never.
  virtual Result<std::optional<std::uint64_t>> witnessSize(const std::string& origin, const std::string& witness) = 0;
  virtual Result<bool> setWitnessSize(const std::string& origin, const std::string& witness, std::uint64_t size) = 0;
  // Stores witness's cosignature lines for the stored checkpoint of size; records size as what it cosigned.
  virtual Result<bool> addCosignatures(const std::string& origin, std::uint64_t size, const std::string& witness,
                                       const std::vector<std::string>& lines) = 0;
  // True when the leaves first <= index < end are all stored and each is the entry of witnessing
  // itself (action kWitnessAction or kWitnessSubmitAction, read from the signed leaf).
  virtual Result<bool> onlyWitnessingIn(const std::string& origin, std::uint64_t first, std::uint64_t end) = 0;
};

}  // namespace hie::audit
