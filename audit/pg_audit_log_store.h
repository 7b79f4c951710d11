// The transparency log in PostgreSQL (db/migrations/0005_transparency_log.sql):
// leaves, checkpoints, witnesses' cosignatures. The writer's AuditLogStore, and
// what the audit commands and the witness submitter read. Owns one connection,
// reopened after it breaks. Not thread-safe: one user per instance.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/log_verifier.h"
#include "audit/transparency_log.h"

namespace hie::db {
class Session;
}

namespace hie::audit {

// One stored leaf, as read back (the stored hashes are what the verifier checks).
struct StoredLeaf {
  std::uint64_t index = 0;
  std::string leaf;
  std::string leafHash;       // 32 raw bytes as stored
  std::string subtreeHashes;  // as stored: 32 raw bytes per completed level
};

class PgAuditLogStore : public AuditLogStore {
 public:
  explicit PgAuditLogStore(std::string dbUri);
  ~PgAuditLogStore() override;

  Result<LogHead> head(const std::string& origin) override;
  Result<bool> append(const std::string& origin, const std::vector<LogLeaf>& leaves,
                      const SignedCheckpoint& checkpoint,
                      std::chrono::milliseconds statementTimeout = std::chrono::milliseconds(0)) override;
  Result<bool> hasCheckpoint(const std::string& origin, std::uint64_t size, const merkle::Hash& root) override;
  std::unique_ptr<merkle::HashSource> hashes(const std::string& origin) override;

  // The origins with leaves or checkpoints in this database, in byte order.
  Result<std::vector<std::string>> origins();
  // max(index) + 1 of the stored leaves (0 when none).
  Result<std::uint64_t> storedSize(const std::string& origin);
  // Stored checkpoints of origin in ascending size, each as its signed note (log signature only).
  Result<std::vector<std::string>> checkpoints(const std::string& origin);
  Result<std::optional<std::string>> checkpointAt(const std::string& origin, std::uint64_t size);
  Result<std::optional<std::string>> latestCheckpoint(const std::string& origin);
  // The size of the newest stored checkpoint with stored cosignatures of at least minWitnesses distinct
  // witnesses (nullopt when none).
  Result<std::optional<std::uint64_t>> latestCosignedSize(const std::string& origin, int minWitnesses);
  // The run of leaves [first, end) below size from the first leaf whose signed "time" is at or after
  // from to the last whose "time" is at or before to ("" = open; both in the leaves' own form,
  // 2026-11-26T18:52:19.123Z, compared as text); {0, 0} when nothing is in the window.
  Result<std::pair<std::uint64_t, std::uint64_t>> leafRunByTime(const std::string& origin, std::uint64_t size,
                                                                const std::string& from, const std::string& to);
  // Leaves with first <= index < end in index order, in pages of 5000 read in one snapshot; stops
  // when visit returns false. Returns how many were visited.
  Result<std::uint64_t> forEachLeaf(const std::string& origin, std::uint64_t first, std::uint64_t end,
                                    const std::function<bool(const StoredLeaf&)>& visit);

  // Every leaf of every log whose signed "requestId" (audit_leaf_text) is requestId, as stored (the
  // encoded text), by origin then index. Reads every leaf: no index holds request ids.
  Result<std::vector<std::pair<std::string, StoredLeaf>>> leavesWithRequestId(const std::string& requestId);
  // The certificate chain (PEM, leaf first) kept in the certificates table (migration 0006) for the
  // certificate of SHA-256 sha256 (lower-case hex); nullopt when none is kept.
  Result<std::optional<std::string>> certificateChain(const std::string& sha256);

  // Every stored checkpoint row of origin, ascending size, and every stored cosignature row.
  Result<std::vector<CheckpointRow>> checkpointRows(const std::string& origin);
  Result<std::vector<CosignatureRow>> cosignatureRows(const std::string& origin);
  // One log as of one snapshot (a repeatable-read transaction), for verification: its checkpoint
  // rows (ascending size) and cosignature rows given to before, then every leaf in index order to
  // visit (pages of 5000). A log growing meanwhile is seen as it was: its leaves and their
  // checkpoints together. Returns how many leaves were visited.
  Result<std::uint64_t> readLog(
      const std::string& origin,
      const std::function<void(const std::vector<CheckpointRow>&, const std::vector<CosignatureRow>&)>& before,
      const std::function<bool(const StoredLeaf&)>& visit);

  // The witness verifier keys registered in the peer directory (peers.witness_key); a malformed one is an error.
  Result<std::vector<note::VerifierKey>> knownWitnessKeys();

  // The cosignature lines stored for the checkpoint of size.
  Result<std::vector<std::string>> cosignatures(const std::string& origin, std::uint64_t size);
  // Stores cosignature lines for a stored checkpoint and records size as what witness last cosigned.
  Result<bool> addCosignatures(const std::string& origin, std::uint64_t size, const std::string& witness,
                               const std::vector<std::string>& lines);
  // The size witness last cosigned for origin, as recorded (nullopt when never).
  Result<std::optional<std::uint64_t>> witnessSize(const std::string& origin, const std::string& witness);
  Result<bool> setWitnessSize(const std::string& origin, const std::string& witness, std::uint64_t size);
  // True when every leaf first <= index < end is stored and its action (audit_leaf_text of the signed
  // leaf) is one of actions; false when one of them is missing or has another action.
  Result<bool> onlyActionsIn(const std::string& origin, std::uint64_t first, std::uint64_t end,
                             const std::vector<std::string>& actions);

 private:
  std::unique_ptr<db::Session> session_;
};

}  // namespace hie::audit
