// In-memory stand-ins for witnessing tests: a log of leaves with its key
// (checkpoints, proofs), the witness's state (MemoryWitnessStore) and the
// submitter's view of its own log (MemoryWitnessedLog).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "audit/signed_note.h"
#include "audit/transparency_log.h"
#include "audit/witness_store.h"
#include "audit/witnessed_log.h"

namespace hie::testing {

// A log held in memory: leaf hashes, each leaf's action, its key; checkpoints and proofs of any size.
struct TestLog {
  explicit TestLog(std::string origin = "hie-node/node-a/audit")
      : origin(std::move(origin)), key(*audit::SigningKey::generate()) {}

  std::string origin;
  audit::SigningKey key;
  std::vector<audit::merkle::Hash> leaves;
  std::vector<std::string> actions;

  audit::note::VerifierKey vkey() const {
    return audit::note::VerifierKey::of(origin, audit::note::kEd25519, *audit::VerifyKey::fromRaw(key.rawPublicKey()));
  }
  void append(const std::string& action, int count = 1) {
    for (int i = 0; i < count; ++i) {
      leaves.push_back(audit::merkle::leafHash(origin + " leaf " + std::to_string(leaves.size()) + " " + action));
      actions.push_back(action);
    }
  }
  audit::merkle::Hash root(std::uint64_t size) const {
    audit::merkle::MemoryHashSource source(std::vector<audit::merkle::Hash>(leaves.begin(), leaves.begin() + size));
    return *audit::merkle::rootHash(size, source);
  }
  audit::TreeHead head(std::uint64_t size) const { return audit::TreeHead{origin, size, root(size)}; }
  // The checkpoint of the first size leaves, signed by the log's key.
  std::string checkpoint(std::uint64_t size) const { return audit::signTreeHead(head(size), key)->note; }
  std::string checkpoint() const { return checkpoint(leaves.size()); }
  std::vector<audit::merkle::Hash> proof(std::uint64_t oldSize, std::uint64_t newSize) const {
    audit::merkle::MemoryHashSource source(leaves);
    return *audit::merkle::consistencyProof(oldSize, newSize, source);
  }
};

// The witness's state in memory. beforeAdvance runs inside advance(), before the compare: a test
// can make another submission win the race there.
class MemoryWitnessStore : public audit::WitnessStore {
 public:
  Result<std::optional<audit::CosignedHead>> latest(const std::string& origin) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (unavailable) return fail(ErrorCode::kUnavailable, "the store is down", "unavailable");
    auto it = heads.find(origin);
    if (it == heads.end()) return std::optional<audit::CosignedHead>();
    return std::optional<audit::CosignedHead>(it->second);
  }
  Result<bool> advance(const std::string& origin, const std::optional<audit::CosignedHead>& expected,
                       const audit::CosignedHead& head, const std::string& note) override {
    if (beforeAdvance) beforeAdvance();
    std::lock_guard<std::mutex> lock(mutex_);
    if (unavailable) return fail(ErrorCode::kUnavailable, "the store is down", "unavailable");
    auto it = heads.find(origin);
    const bool same = it == heads.end() ? !expected
                                        : expected && expected->size == it->second.size && expected->root == it->second.root;
    if (!same) return false;
    heads[origin] = head;
    cosigned.emplace_back(origin, note);
    return true;
  }

  std::map<std::string, audit::CosignedHead> heads;
  std::vector<std::pair<std::string, std::string>> cosigned;  // origin, note as stored
  bool unavailable = false;
  std::function<void()> beforeAdvance;

 private:
  std::mutex mutex_;
};

// The submitter's view of a TestLog: its newest checkpoint is `published` (0 = none).
class MemoryWitnessedLog : public audit::WitnessedLog {
 public:
  explicit MemoryWitnessedLog(TestLog& log) : log_(log) {}

  Result<std::optional<std::string>> latestCheckpoint(const std::string& origin) override {
    if (origin != log_.origin) return fail(ErrorCode::kInternal, "another origin");
    if (published == 0) return std::optional<std::string>();
    return std::optional<std::string>(log_.checkpoint(published));
  }
  Result<std::optional<std::string>> checkpointAt(const std::string&, std::uint64_t size) override {
    if (size == 0 || size > published) return std::optional<std::string>();
    return std::optional<std::string>(log_.checkpoint(size));
  }
  Result<std::vector<audit::merkle::Hash>> consistencyProof(const std::string&, std::uint64_t oldSize,
                                                            std::uint64_t newSize) override {
    if (oldSize > newSize || newSize > log_.leaves.size()) return fail(ErrorCode::kNotFound, "no such sizes");
    return log_.proof(oldSize, newSize);
  }
  Result<std::optional<std::uint64_t>> witnessSize(const std::string&, const std::string& witness) override {
    auto it = sizes.find(witness);
    if (it == sizes.end()) return std::optional<std::uint64_t>();
    return std::optional<std::uint64_t>(it->second);
  }
  Result<bool> setWitnessSize(const std::string&, const std::string& witness, std::uint64_t size) override {
    sizes[witness] = size;
    return true;
  }
  Result<bool> addCosignatures(const std::string&, std::uint64_t size, const std::string& witness,
                               const std::vector<std::string>& lines) override {
    for (const auto& l : lines) cosignatures[size].insert(l);
    sizes[witness] = size;
    return true;
  }
  Result<bool> onlyWitnessingIn(const std::string&, std::uint64_t first, std::uint64_t end) override {
    if (end > log_.actions.size()) return false;
    for (std::uint64_t i = first; i < end; ++i) {
      if (log_.actions[i] != audit::kWitnessAction && log_.actions[i] != audit::kWitnessSubmitAction) return false;
    }
    return true;
  }

  std::uint64_t published = 0;
  std::map<std::string, std::uint64_t> sizes;                  // witness name -> size it last cosigned
  std::map<std::uint64_t, std::set<std::string>> cosignatures;  // size -> lines

 private:
  TestLog& log_;
};

}  // namespace hie::testing
