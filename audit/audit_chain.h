// Sealing audit events into a per-process hash chain, signed checkpoints,
// and verification of stored chains. No I/O: the writer and the verifier
// command feed it rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_event.h"
#include "audit/canonical_form.h"
#include "audit/signing_key.h"
#include "common/result.h"

namespace hie::audit {

// An entry as stored and exported.
struct SealedEntry {
  std::string chain;
  std::int64_t seq = 0;
  std::string prevHash;
  std::string hash;
  std::string signature;  // base64 Ed25519 over entrySignatureInput(hash)
  std::string canonical;
};

// The last sealed entry of a chain (seq 0 and the genesis hash before the first).
struct ChainHead {
  std::string chain;
  std::int64_t seq = 0;
  std::string hash = kGenesisHash;
};

// Links event into the chain as the next entry after head and advances head:
// seq, previous hash, canonical form and entry hash, but no signature yet.
// Linking is sequential and cheap (one SHA-256); signing can then run in parallel.
SealedEntry link(const AuditEvent& event, const std::string& node, ChainHead& head);
// Signs a linked entry (fills entry.signature).
Result<bool> signEntry(SealedEntry& entry, const SigningKey& key);
// link() then signEntry().
Result<SealedEntry> seal(const AuditEvent& event, const std::string& node, ChainHead& head, const SigningKey& key);

struct Checkpoint {
  std::string chain;
  std::string node;
  std::int64_t seq = 0;
  std::string hash;
  std::string time;
  std::string signature;  // base64 Ed25519 over checkpointSignatureInput(canonical())

  std::string canonical() const;
  // {"chain":..,"hash":..,"node":..,"seq":..,"sig":..,"time":..,"type":"checkpoint"} on one line.
  std::string toJson() const;
  static Result<Checkpoint> fromJson(const std::string& json);
};

Result<Checkpoint> signCheckpoint(const ChainHead& head, const std::string& node, const std::string& time,
                                  const SigningKey& key);

// The query columns a v1 row keeps beside its canonical entry (copies, never trusted).
struct EntryColumns {
  std::string eventType, action, outcome, organization, patient, purpose, requestId;
  bool breakGlass = false;
};

// Checks chains entry by entry and reports every problem it finds, each with its
// chain, entry and kind; after a bad entry it goes on from that entry's stored hash.
class ChainVerifier {
 public:
  explicit ChainVerifier(VerifyKey key) : key_(std::move(key)) {}

  // Checks one stored entry; entries of one chain must come in ascending seq order.
  // False when the entry has a problem (each one recorded).
  bool feed(const SealedEntry& entry);
  // Checks that a row's query columns are what its canonical entry says. False on a problem.
  bool checkColumns(const SealedEntry& entry, const EntryColumns& columns);
  // After all entries: checks a checkpoint against what was fed. False on a problem.
  bool checkCheckpoint(const Checkpoint& checkpoint);

  enum class Kind {
    kGap,                 // entries missing before this one, or a checkpoint's entry missing
    kOutOfOrder,          // a number at or below one already seen
    kMisplaced,           // the content names another chain or number than the row
    kBrokenLink,          // prev_hash is not the stored hash of the entry before
    kHashMismatch,        // the content does not hash to the stored entry_hash
    kBadSignature,        // the signature does not verify over the stored entry_hash
    kTruncated,           // the chain ends before a checkpoint's entry
    kRewritten,           // the checkpoint's entry has another hash
    kBadCheckpoint,       // the checkpoint's own signature does not verify
    kColumnAltered,       // a query column differs from the signed entry
  };
  struct Problem {
    std::string chain;
    std::int64_t seq;
    Kind kind;
    std::string what;
  };
  const std::vector<Problem>& problems() const { return problems_; }
  std::int64_t entriesChecked() const { return checked_; }
  std::size_t chainsSeen() const { return heads_.size(); }

 private:
  struct Seen {
    ChainHead head;  // the last entry fed in order, good or bad
    std::vector<std::pair<std::int64_t, std::string>> hashes;  // (seq, stored hash) of entries fed in order
  };
  VerifyKey key_;
  std::vector<std::pair<std::string, Seen>> heads_;
  std::vector<Problem> problems_;
  std::int64_t checked_ = 0;
  Seen& seen(const std::string& chain);
  const Seen* find(const std::string& chain) const;
};

// "gap", "out-of-order", "misplaced", "broken-link", "hash-mismatch", "bad-signature",
// "truncated", "rewritten", "bad-checkpoint-signature", "column-altered" (docs/audit-format.md).
const char* problemKindName(ChainVerifier::Kind kind);

}  // namespace hie::audit
