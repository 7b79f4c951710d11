// A scripted in-memory AuditLogStore for unit tests of the audit writer:
// appends can fail, fail after storing (a commit in doubt), lose the race to
// another writer, or wait until the test lets them go; reads can be made to
// fail. The state is shared, so the test keeps a handle after the writer took
// ownership of the store.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/transparency_log.h"

namespace hie::testing {

class FakeAuditLogStore : public audit::AuditLogStore {
 public:
  // What the next append does (consumed in order; kStore once the script is empty).
  // kConflict: another writer appends one leaf (and its signed checkpoint) first; this append fails.
  enum class Append { kStore, kFail, kStoreThenFail, kConflict };

  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Append> script;
    bool holdAppends = false;  // appends wait (bounded) while true
    int appendsWaiting = 0;
    bool readsDown = false;
    int appendCalls = 0;
    std::vector<audit::LogLeaf> leaves;
    std::vector<audit::SignedCheckpoint> checkpoints;
    std::optional<audit::SigningKey> otherWriterKey;  // signs the other writer's checkpoints (kConflict)

    void plan(std::initializer_list<Append> steps) {
      std::lock_guard<std::mutex> lock(mutex);
      script.insert(script.end(), steps);
    }
    void hold(bool on) {
      std::lock_guard<std::mutex> lock(mutex);
      holdAppends = on;
      changed.notify_all();
    }
    void setReadsDown(bool down) {
      std::lock_guard<std::mutex> lock(mutex);
      readsDown = down;
    }
    // Waits until pred holds (mutex held while it is checked), at most timeout.
    template <class Pred>
    bool waitFor(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
      std::unique_lock<std::mutex> lock(mutex);
      return changed.wait_for(lock, timeout, [&] { return pred(*this); });
    }
    std::vector<audit::LogLeaf> storedLeaves() {
      std::lock_guard<std::mutex> lock(mutex);
      return leaves;
    }
    std::vector<audit::SignedCheckpoint> storedCheckpoints() {
      std::lock_guard<std::mutex> lock(mutex);
      return checkpoints;
    }
    std::vector<audit::merkle::Hash> leafHashes() const {
      std::vector<audit::merkle::Hash> out;
      for (const auto& l : leaves) out.push_back(l.hash);
      return out;
    }
  };

  FakeAuditLogStore() : state_(std::make_shared<State>()) {}
  std::shared_ptr<State> state() const { return state_; }

  Result<audit::LogHead> head(const std::string&) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->readsDown) return fail(ErrorCode::kUnavailable, "fake store: down");
    audit::merkle::MemoryHashSource source(state_->leafHashes());
    audit::LogHead h;
    h.size = state_->leaves.size();
    h.frontier = *audit::merkle::Frontier::load(h.size, source);
    if (!state_->checkpoints.empty()) h.latest = state_->checkpoints.back();
    return h;
  }

  Result<bool> append(const std::string& origin, const std::vector<audit::LogLeaf>& leaves,
                      const audit::SignedCheckpoint& checkpoint, std::chrono::milliseconds) override {
    std::unique_lock<std::mutex> lock(state_->mutex);
    ++state_->appendCalls;
    ++state_->appendsWaiting;
    state_->changed.notify_all();
    // Bounded: a test that forgets to let go fails instead of hanging.
    state_->changed.wait_for(lock, std::chrono::seconds(30), [this] { return !state_->holdAppends; });
    --state_->appendsWaiting;
    Append step = Append::kStore;
    if (!state_->script.empty()) {
      step = state_->script.front();
      state_->script.pop_front();
    }
    if (step == Append::kConflict) {
      appendForeign(origin);
      state_->changed.notify_all();
      return fail(ErrorCode::kConflict, "fake store: another writer got there first");
    }
    if (!leaves.empty() && leaves.front().index != state_->leaves.size()) {
      return fail(ErrorCode::kConflict, "fake store: index taken");
    }
    if (step != Append::kFail) {
      state_->leaves.insert(state_->leaves.end(), leaves.begin(), leaves.end());
      state_->checkpoints.push_back(checkpoint);
    }
    state_->changed.notify_all();
    if (step == Append::kStore) return true;
    return fail(ErrorCode::kUnavailable, "fake store: connection lost during commit");
  }

  Result<bool> hasCheckpoint(const std::string&, std::uint64_t size, const audit::merkle::Hash& root) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->readsDown) return fail(ErrorCode::kUnavailable, "fake store: down");
    for (const auto& cp : state_->checkpoints) {
      if (cp.head.size == size && cp.head.root == root) return true;
    }
    return false;
  }

  std::unique_ptr<audit::merkle::HashSource> hashes(const std::string&) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return std::make_unique<audit::merkle::MemoryHashSource>(state_->leafHashes());
  }

 private:
  // What another node process sharing the log would do: one leaf and the checkpoint over it.
  void appendForeign(const std::string& origin) {
    audit::merkle::MemoryHashSource source(state_->leafHashes());
    auto frontier = *audit::merkle::Frontier::load(state_->leaves.size(), source);
    audit::LogLeaf leaf;
    leaf.index = frontier.size();
    leaf.leaf = "{\"foreign\":" + std::to_string(leaf.index) + "}";
    leaf.hash = audit::merkle::leafHash(leaf.leaf);
    leaf.completed = frontier.append(leaf.hash);
    state_->leaves.push_back(leaf);
    state_->checkpoints.push_back(
        *audit::signTreeHead(audit::TreeHead{origin, frontier.size(), frontier.root()}, *state_->otherWriterKey));
  }

  std::shared_ptr<State> state_;
};

}  // namespace hie::testing
