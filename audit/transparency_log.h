// The audit trail as a transparency log (docs/audit-format.md, "Format v2"):
// one append-only Merkle tree per log origin, leaves sequenced by the database,
// a C2SP checkpoint signed per group commit. AuditLogStore is where the writer
// keeps it; PgAuditLogStore (pg_audit_log_store.h) is the PostgreSQL one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "audit/signed_note.h"
#include "common/result.h"

namespace hie::audit {

// The default origin (and log key name) of a node's log: "hie-node/<node.id>/audit".
std::string defaultLogOrigin(const std::string& nodeId);

// One leaf as stored: its index, the canonical entry, its hash and the perfect subtrees it completes.
struct LogLeaf {
  std::uint64_t index = 0;
  std::string leaf;
  merkle::Hash hash{};
  std::vector<merkle::Hash> completed;  // levels 1, 2, ... (merkle::Frontier::append)
};

// The stored tree: its size, its right edge and the newest stored checkpoint (if any).
struct LogHead {
  std::uint64_t size = 0;
  merkle::Frontier frontier;
  std::optional<SignedCheckpoint> latest;
};

class AuditLogStore {
 public:
  virtual ~AuditLogStore() = default;
  // The stored tree of origin. The writer thread is the only caller; implementations need not be thread-safe.
  virtual Result<LogHead> head(const std::string& origin) = 0;
  // Stores leaves (consecutive indices from the stored size) and the checkpoint of the new size in one
  // transaction; leaves may be empty (a checkpoint over leaves already stored). kConflict, nothing stored,
  // when another writer already holds one of these indices or that checkpoint size. statementTimeout
  // (0 = none) bounds how long the store may wait. A failure other than kConflict may still have been
  // stored (a lost connection leaves the commit in doubt): hasCheckpoint settles it.
  virtual Result<bool> append(const std::string& origin, const std::vector<LogLeaf>& leaves,
                              const SignedCheckpoint& checkpoint,
                              std::chrono::milliseconds statementTimeout = std::chrono::milliseconds(0)) = 0;
  // True when the checkpoint of size with this root is stored.
  virtual Result<bool> hasCheckpoint(const std::string& origin, std::uint64_t size, const merkle::Hash& root) = 0;
  // The stored subtree hashes of origin (valid while the store lives).
  virtual std::unique_ptr<merkle::HashSource> hashes(const std::string& origin) = 0;
};

// The log's signature on a tree head: the checkpoint as a signed note, key name = origin.
Result<SignedCheckpoint> signTreeHead(const TreeHead& head, const SigningKey& key);
// Parses a signed checkpoint and checks the log's signature (key name = its origin) with key.
// kInvalidInput naming what is wrong.
Result<SignedCheckpoint> openCheckpoint(const std::string& note, const note::VerifierKey& logKey);

}  // namespace hie::audit
