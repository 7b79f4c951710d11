#include "audit/log_verifier.h"

#include <algorithm>

#include "audit/canonical_form.h"
#include "audit/transparency_log.h"

namespace hie::audit {
namespace {

// The leaf's own "index" value (canonical form: `,"index":DIGITS,`), or nullopt.
std::optional<std::uint64_t> indexOf(const std::string& leaf) {
  const std::string key = ",\"index\":";
  const auto at = leaf.find(key);
  if (at == std::string::npos) return std::nullopt;
  std::size_t end = at + key.size();
  while (end < leaf.size() && end - at - key.size() < 19 && leaf[end] >= '0' && leaf[end] <= '9') ++end;
  if (end == at + key.size() || end >= leaf.size() || (leaf[end] != ',' && leaf[end] != '}')) return std::nullopt;
  return std::stoull(leaf.substr(at + key.size(), end - at - key.size()));
}

std::string range(std::uint64_t first, std::uint64_t last) {
  return first == last ? "leaf " + std::to_string(first) + " is" :
                         "leaves " + std::to_string(first) + " to " + std::to_string(last) + " are";
}

}  // namespace

LogVerifier::LogVerifier(std::string origin, note::VerifierKey logKey, std::vector<note::VerifierKey> witnesses)
    : origin_(std::move(origin)), logKey_(std::move(logKey)), witnesses_(std::move(witnesses)) {}

void LogVerifier::storedCheckpoint(const CheckpointRow& row) {
  const std::string where = "checkpoint " + std::to_string(row.size);
  ++checkpointsChecked_;
  auto opened = openCheckpoint(row.note, logKey_);
  if (!opened) {
    problems_.push_back(Problem{where, Kind::kBadCheckpoint, opened.error().internal});
    return;
  }
  merkle::Hash root{};
  if (opened->head.size != row.size || !merkle::fromBytes(row.rootHash, root) || root != opened->head.root) {
    problems_.push_back(Problem{where, Kind::kCheckpointRow,
                                "the row's tree_size or root_hash differs from its signed checkpoint (row altered)"});
  }
  auto parsed = note::parse(row.note);
  expect(opened->head.size, Expected{where, opened->head.root, parsed->text, {}, false}, parsed->signatures);
}

void LogVerifier::keptCheckpoint(const std::string& text, const std::string& source) {
  auto parsed = note::parse(text);
  auto head = parsed ? TreeHead::parse(parsed->text) : Result<TreeHead>(tl::make_unexpected(parsed.error()));
  const std::string where = "checkpoint " + (head ? std::to_string(head->size) : std::string("?")) + " (kept " + source + ")";
  ++checkpointsChecked_;
  auto opened = openCheckpoint(text, logKey_);
  if (!opened) {
    problems_.push_back(Problem{where, Kind::kBadCheckpoint, opened.error().internal});
    return;
  }
  expect(opened->head.size, Expected{where, opened->head.root, parsed->text, {}, false}, parsed->signatures);
}

void LogVerifier::expect(std::uint64_t size, Expected e, const std::vector<note::SignatureLine>& lines) {
  for (const auto& line : lines) addCosigner(e, line, e.where);
  auto at = expected_.emplace(size, std::move(e));
  if (size == 0) {
    at->second.matched = at->second.root == merkle::emptyRoot();
    if (!at->second.matched) {
      problems_.push_back(Problem{at->second.where, Kind::kRewritten, "an empty tree's root must be SHA-256 of nothing"});
    }
  }
}

void LogVerifier::addCosigner(Expected& e, const note::SignatureLine& line, const std::string& where) {
  for (const auto& w : witnesses_) {
    if (line.name != w.name || line.keyId != w.id) continue;  // unknown keys are ignored
    std::uint64_t timestamp = 0;
    if (!note::verifyCosignature(e.text, line, w, timestamp)) {
      problems_.push_back(Problem{where, Kind::kBadCosignature, "the cosignature of witness " + w.name + " does not verify"});
      return;
    }
    if (std::find(e.cosigners.begin(), e.cosigners.end(), w.name) == e.cosigners.end()) e.cosigners.push_back(w.name);
  }
}

void LogVerifier::storedCosignature(const CosignatureRow& row) {
  const std::string where = "checkpoint " + std::to_string(row.size);
  auto lines = note::parseSignatureLines(row.line + "\n");
  if (!lines || lines->size() != 1 || lines->front().name != row.witness) {
    problems_.push_back(Problem{where, Kind::kBadCosignature, "a stored cosignature row of " + row.witness +
                                                                  " is malformed or names another witness (row altered)"});
    return;
  }
  auto range = expected_.equal_range(row.size);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second.where == where) {
      addCosigner(it->second, lines->front(), where);
      return;
    }
  }
  problems_.push_back(Problem{where, Kind::kBadCosignature, "a cosignature of " + row.witness +
                                                                " is stored for a checkpoint that is not"});
}

void LogVerifier::leaf(std::uint64_t index, const std::string& leaf, const std::string& storedLeafHash,
                       const std::string& storedSubtreeHashes) {
  const std::string where = "leaf " + std::to_string(index);
  ++checked_;
  if (index > next_) {
    // The tree cannot be rebuilt across missing leaves: the checkpoints after them report it too.
    problems_.push_back(Problem{where, Kind::kGap, range(next_, index - 1) + " missing (deleted)"});
  }
  const auto own = indexOf(leaf);
  if (!own || *own != index) {
    problems_.push_back(Problem{where, Kind::kMisplaced, "the leaf's own index is not its row's"});
  }
  if (!leafShapeValid(leaf)) {
    problems_.push_back(Problem{where, Kind::kShape, "the leaf is not a canonical object of 27, 32 or 34 keys"});
  }
  const merkle::Hash hash = merkle::leafHash(leaf);
  merkle::Hash stored{};
  if (!merkle::fromBytes(storedLeafHash, stored) || stored != hash) {
    problems_.push_back(Problem{where, Kind::kHashMismatch, "the leaf does not hash to its stored leaf hash (leaf altered)"});
  }
  std::string completed;
  for (const auto& h : frontier_.append(hash)) completed += merkle::toBytes(h);
  if (completed != storedSubtreeHashes) {
    problems_.push_back(Problem{where, Kind::kNodeMismatch,
                                "its stored subtree hashes differ from the tree the stored leaves make"});
  }
  next_ = index + 1;
  compareAt(frontier_.size());
}

void LogVerifier::compareAt(std::uint64_t size) {
  auto range = expected_.equal_range(size);
  for (auto it = range.first; it != range.second; ++it) {
    it->second.matched = frontier_.root() == it->second.root;
    if (!it->second.matched) {
      problems_.push_back(Problem{it->second.where, Kind::kRewritten,
                                  "the stored leaves make another tree at this size than the signed checkpoint "
                                  "(history rewritten)"});
    }
  }
}

void LogVerifier::finish(int requiredWitnesses) {
  for (auto& [size, e] : expected_) {
    if (size > frontier_.size()) {
      problems_.push_back(Problem{e.where, Kind::kTruncated,
                                  "the checkpoint covers " + std::to_string(size) + " leaves but the log holds " +
                                      std::to_string(frontier_.size()) + " (truncated)"});
    }
  }
  // The writer commits leaves and the checkpoint over them in one transaction, so leaves past every
  // signed checkpoint were stored by something else (a crash cannot leave them). A checkpoint that
  // did not match is reported above; leaves up to it are not reported twice.
  std::uint64_t covered = 0;
  for (const auto& [size, e] : expected_) {
    if (size <= frontier_.size()) covered = std::max(covered, size);
  }
  if (frontier_.size() > covered) {
    problems_.push_back(Problem{"leaf " + std::to_string(covered), Kind::kUnsigned,
                                range(covered, frontier_.size() - 1) +
                                    " covered by no checkpoint signed with the log's key: the node stores leaves "
                                    "and their checkpoint in one transaction, so these were added by something else "
                                    "(unsigned)"});
  }
  if (requiredWitnesses > 0 && !newestWitnessed(static_cast<std::size_t>(requiredWitnesses))) {
    problems_.push_back(Problem{"log", Kind::kUnwitnessed,
                                "no checkpoint that matches the stored tree carries valid cosignatures of " +
                                    std::to_string(requiredWitnesses) + " known witnesses"});
  }
}

std::uint64_t LogVerifier::signedLeaves() const {
  std::uint64_t best = 0;
  for (const auto& [size, e] : expected_) {
    if (e.matched && size <= frontier_.size()) best = std::max(best, size);
  }
  return best;
}

std::optional<LogVerifier::Witnessed> LogVerifier::newestWitnessed(std::size_t atLeast) const {
  std::optional<Witnessed> best;
  for (const auto& [size, e] : expected_) {
    if (!e.matched || e.cosigners.size() < atLeast || atLeast == 0) continue;
    if (!best || size >= best->size) best = Witnessed{size, e.cosigners.size()};
  }
  return best;
}

const char* problemKindName(LogVerifier::Kind kind) {
  switch (kind) {
    case LogVerifier::Kind::kGap: return "gap";
    case LogVerifier::Kind::kMisplaced: return "misplaced";
    case LogVerifier::Kind::kHashMismatch: return "hash-mismatch";
    case LogVerifier::Kind::kNodeMismatch: return "node-mismatch";
    case LogVerifier::Kind::kRewritten: return "rewritten";
    case LogVerifier::Kind::kTruncated: return "truncated";
    case LogVerifier::Kind::kBadCheckpoint: return "bad-checkpoint-signature";
    case LogVerifier::Kind::kCheckpointRow: return "checkpoint-row-altered";
    case LogVerifier::Kind::kBadCosignature: return "bad-cosignature";
    case LogVerifier::Kind::kUnwitnessed: return "unwitnessed";
    case LogVerifier::Kind::kUnsigned: return "unsigned-leaves";
    case LogVerifier::Kind::kInvalidOrigin: return "invalid-origin";
    case LogVerifier::Kind::kShape: return "leaf-shape";
  }
  return "unknown";
}

}  // namespace hie::audit
