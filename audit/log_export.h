// The jsonl export of the transparency log (docs/audit-format.md, "Export"): one
// signed statement per log saying which leaves of which checkpoint the export
// holds, then one line per leaf carrying its inclusion proof to that checkpoint
// (c2sp.org/tlog-proof); and the text of a consistency proof. No I/O:
// `hie-node audit export` and `audit consistency` feed it from PgAuditLogStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/merkle.h"
#include "audit/signing_key.h"
#include "common/result.h"

namespace hie::audit {

// One statement line: what the export holds of one log. Leaves [first, end) of the checkpoint
// (origin, size, root); an empty run is first = end = 0.
struct LogExportStatement {
  std::string exportId;  // 16 random lower-case hex digits, the same in every statement of one export
  std::string time;      // when the export was made, RFC 3339 UTC with milliseconds
  std::string from;      // --from as a bound in the leaves' time form (exportTimeBound), "" when not given
  std::string to;        // --to likewise
  std::int64_t logs = 0;  // statements in the export; 0 for an export of a database without a log
  std::string origin;
  std::uint64_t size = 0;
  merkle::Hash root{};
  std::uint64_t first = 0;
  std::uint64_t end = 0;
  std::string signature;  // base64 Ed25519 by the log's key over logExportSignatureInput(canonical())

  // The statement without "sig", in canonical form.
  std::string canonical() const;
  // The line (without its newline): canonical form with "sig".
  std::string toJson() const;
};

// "hie-audit-export-v2\n" + canonical statement.
std::string logExportSignatureInput(const std::string& canonicalStatement);
Result<bool> signStatement(LogExportStatement& statement, const SigningKey& key);

// A --from (upper false) or --to (upper true) value (YYYY-MM-DD or an RFC 3339 date-time, isAuditTime) as
// the bound it sets on the leaves' "time" (2026-11-26T18:52:19.123Z, UTC, milliseconds): a from rounded
// up to the millisecond, a to rounded down, a date-only to at 23:59:59.999 of that day. kInvalidInput
// for anything else, or a time outside years 0000-9999 in UTC.
Result<std::string> exportTimeBound(const std::string& text, bool upper);

// The c2sp.org/tlog-proof@v1 text: its header line, "index N", one base64 hash per line, an empty
// line, then the checkpoint note as given.
std::string tlogProof(std::uint64_t index, const std::vector<merkle::Hash>& proof, const std::string& checkpointNote);
// "old N\n", one base64 hash per line, an empty line, the checkpoint note: the body of a tlog-witness
// add-checkpoint request, which is what `hie-node audit consistency` prints.
std::string consistencyText(std::uint64_t oldSize, const std::vector<merkle::Hash>& proof,
                            const std::string& checkpointNote);

// A string in the export's canonical form: printable ASCII with '"' and '\' escaped, a line feed as \n
// and U+2014 (the em dash of signature lines) as \u2014. nullopt when text holds any other byte.
std::optional<std::string> exportString(const std::string& text);
// {"entry":<leaf>,"index":N,"proof":"<tlog-proof>"}; nullopt when the leaf is not printable ASCII or
// the proof holds a byte exportString refuses.
std::optional<std::string> logExportLine(const std::string& leaf, std::uint64_t index, const std::string& proof);

// The signed checkpoint note with cosignature lines appended (each "— <name> <base64>", no newline);
// lines that are not signature lines are left out and counted in dropped.
std::string withCosignatures(const std::string& note, const std::vector<std::string>& lines, std::size_t& dropped);

// Inclusion proofs for the leaves of one block of a tree of size leaves, with a bounded amount of work
// and memory: a block starts at a multiple of its capacity (a power of two) and holds the leaf hashes
// of [begin, min(begin + capacity, size)). Such a block is a node of the tree, so a leaf's proof is its
// path inside the block (hashed here once) followed by the block's path to the root (read once).
class ProofBlock {
 public:
  // kInvalidInput when the block is not such a node; the error of stored otherwise.
  static Result<ProofBlock> make(std::uint64_t begin, std::vector<merkle::Hash> leafHashes, std::uint64_t size,
                                 merkle::HashSource& stored);
  // PATH(index, D[0:size]) for a leaf of the block.
  Result<std::vector<merkle::Hash>> proof(std::uint64_t index);

 private:
  class Levels : public merkle::HashSource {
   public:
    std::vector<std::vector<merkle::Hash>> levels;  // level 0: the leaf hashes; level l: perfect subtrees of 2^l
    Result<merkle::Hash> perfect(int level, std::uint64_t index) override;
  };
  std::uint64_t begin_ = 0;
  Levels inside_;
  std::vector<merkle::Hash> outer_;
};

}  // namespace hie::audit
