// This node as a witness for its peers' logs (c2sp.org/tlog-witness): the
// latest checkpoint it cosigned for each log origin, and every checkpoint it
// ever cosigned. The witness endpoint (exchange/handlers/witness_api.h) reads
// the latest, checks the submission against it, and advances it with a
// compare-and-set, so that checking and storing are one atomic step.
// PgWitnessStore (pg_witness_store.h) keeps it in PostgreSQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "audit/merkle.h"
#include "common/result.h"

namespace hie::audit {

// A tree head this witness cosigned: its size and root.
struct CosignedHead {
  std::uint64_t size = 0;
  merkle::Hash root{};
};

class WitnessStore {
 public:
  virtual ~WitnessStore() = default;
  // The latest head cosigned for origin; nullopt when never. Thread-safe.
  virtual Result<std::optional<CosignedHead>> latest(const std::string& origin) = 0;
  // In one transaction: when the latest head of origin is still `expected` (nullopt: none yet),
  // makes `head` the latest, with note (the checkpoint as submitted plus the cosignature
  // returned), keeps it among the cosigned checkpoints, commits, and returns true. Returns false,
  // storing nothing, when another submission changed the latest first. Never moves the latest to
  // a smaller tree or to another root at the same size. Thread-safe.
  virtual Result<bool> advance(const std::string& origin, const std::optional<CosignedHead>& expected,
                               const CosignedHead& head, const std::string& note) = 0;
};

}  // namespace hie::audit
