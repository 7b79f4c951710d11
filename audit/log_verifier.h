// Checks one stored transparency log against its signed checkpoints: fed the
// stored checkpoints (and any an auditor kept), then every stored leaf row in
// index order, it recomputes every leaf hash, every stored subtree hash and the
// root at every checkpoint's size, and checks signatures and cosignatures. It
// reports every problem it finds, with the leaf or checkpoint and its kind.
// No I/O: `hie-node audit verify` feeds it rows (docs/audit-format.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "audit/signed_note.h"

namespace hie::audit {

// A stored checkpoint row: its columns and the signed note.
struct CheckpointRow {
  std::uint64_t size = 0;
  std::string rootHash;  // 32 raw bytes as stored
  std::string note;
};

// A stored cosignature row.
struct CosignatureRow {
  std::uint64_t size = 0;
  std::string witness;
  std::string line;
};

class LogVerifier {
 public:
  LogVerifier(std::string origin, note::VerifierKey logKey, std::vector<note::VerifierKey> witnesses);

  // Before the leaves.
  void storedCheckpoint(const CheckpointRow& row);
  // A checkpoint an auditor kept (signed note, possibly with cosignatures); source names it in reports.
  void keptCheckpoint(const std::string& note, const std::string& source);
  void storedCosignature(const CosignatureRow& row);
  // Leaf rows, in ascending index.
  void leaf(std::uint64_t index, const std::string& leaf, const std::string& storedLeafHash,
            const std::string& storedSubtreeHashes);
  // After the leaves: checkpoints beyond the stored tree, and the witness requirement (0 = none).
  void finish(int requiredWitnesses);

  enum class Kind {
    kGap,                // leaf rows missing
    kMisplaced,          // the leaf's own "index" is not its row's
    kHashMismatch,       // the leaf's bytes do not hash to its stored leaf hash
    kNodeMismatch,       // stored subtree hashes differ from the tree the leaves make
    kRewritten,          // the tree at a checkpoint's size has another root
    kTruncated,          // a checkpoint covers more leaves than stored
    kBadCheckpoint,      // a checkpoint's log signature does not verify (or it is malformed)
    kCheckpointRow,      // a checkpoint row's columns differ from its signed note
    kBadCosignature,     // a known witness's cosignature does not verify, or its row is altered
    kUnwitnessed,        // no checkpoint carries the required cosignatures
    kUnsigned,           // leaves beyond every checkpoint signed with the log's key (stored, never signed)
    kInvalidOrigin,      // rows under a name that is no valid log origin: never verified (audit verify)
    kShape,              // the leaf is no canonical object of 27, 32 or 34 keys
  };
  struct Problem {
    std::string where;  // "leaf 7", "checkpoint 12", "checkpoint 12 (kept FILE)"
    Kind kind;
    std::string what;
  };
  const std::vector<Problem>& problems() const { return problems_; }
  std::uint64_t leavesChecked() const { return checked_; }
  std::size_t checkpointsChecked() const { return checkpointsChecked_; }
  // How many leaves, from index 0, the verified tree and its signed checkpoints vouch for: the
  // largest size at which a checkpoint whose log signature verified matched the stored leaves (0
  // when none did). Leaves at or past it are not signed.
  std::uint64_t signedLeaves() const;
  // The newest checkpoint whose root matched with the most distinct valid known cosignatures.
  struct Witnessed {
    std::uint64_t size = 0;
    std::size_t witnesses = 0;
  };
  std::optional<Witnessed> newestWitnessed(std::size_t atLeast) const;
  const std::string& origin() const { return origin_; }

 private:
  struct Expected {
    std::string where;
    merkle::Hash root{};
    std::string text;                   // the checkpoint text (for cosignatures)
    std::vector<std::string> cosigners;  // distinct known witnesses whose cosignature verified
    bool matched = false;
  };
  void expect(std::uint64_t size, Expected e, const std::vector<note::SignatureLine>& lines);
  void addCosigner(Expected& e, const note::SignatureLine& line, const std::string& where);
  void compareAt(std::uint64_t size);

  std::string origin_;
  note::VerifierKey logKey_;
  std::vector<note::VerifierKey> witnesses_;
  std::multimap<std::uint64_t, Expected> expected_;
  merkle::Frontier frontier_;
  std::uint64_t next_ = 0;
  std::uint64_t checked_ = 0;
  std::size_t checkpointsChecked_ = 0;
  std::vector<Problem> problems_;
};

// "gap", "misplaced", "hash-mismatch", "node-mismatch", "rewritten", "truncated",
// "bad-checkpoint-signature", "checkpoint-row-altered", "bad-cosignature", "unwitnessed", "unsigned-leaves",
// "invalid-origin".
const char* problemKindName(LogVerifier::Kind kind);

}  // namespace hie::audit
