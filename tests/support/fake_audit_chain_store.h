// A scripted in-memory AuditChainStore for unit tests of the audit writer:
// appends can fail, fail after storing (a commit in doubt), or wait until the
// test lets them go; head() can be made to fail. The state is shared, so the
// test keeps a handle after the writer took ownership of the store.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit/audit_chain_store.h"

namespace hie::testing {

class FakeAuditChainStore : public audit::AuditChainStore {
 public:
  // What the next append does (consumed in order; kStore once the script is empty).
  enum class Append { kStore, kFail, kStoreThenFail };

  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Append> script;
    bool holdAppends = false;   // appends wait (bounded) while true
    int appendsWaiting = 0;
    bool headDown = false;
    int appendCalls = 0;
    std::map<std::string, std::string> chains;  // chain -> public key
    std::vector<audit::AuditRecord> stored;
    std::vector<audit::Checkpoint> checkpoints;

    void plan(std::initializer_list<Append> steps) {
      std::lock_guard<std::mutex> lock(mutex);
      script.insert(script.end(), steps);
    }
    void hold(bool on) {
      std::lock_guard<std::mutex> lock(mutex);
      holdAppends = on;
      changed.notify_all();
    }
    void setHeadDown(bool down) {
      std::lock_guard<std::mutex> lock(mutex);
      headDown = down;
    }
    // Waits until pred holds (mutex held while it is checked), at most timeout.
    template <class Pred>
    bool waitFor(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
      std::unique_lock<std::mutex> lock(mutex);
      return changed.wait_for(lock, timeout, [&] { return pred(*this); });
    }
    std::vector<audit::AuditRecord> records() {
      std::lock_guard<std::mutex> lock(mutex);
      return stored;
    }
  };

  FakeAuditChainStore() : state_(std::make_shared<State>()) {}
  std::shared_ptr<State> state() const { return state_; }

  Result<bool> registerChain(const std::string& chain, const std::string&, const std::string& publicKeyPem) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->chains.emplace(chain, publicKeyPem);
    return true;
  }

  Result<bool> append(const std::vector<audit::AuditRecord>& records, std::chrono::milliseconds) override {
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
    if (step != Append::kFail) state_->stored.insert(state_->stored.end(), records.begin(), records.end());
    state_->changed.notify_all();
    if (step == Append::kStore) return true;
    return fail(ErrorCode::kUnavailable, "fake store: connection lost during commit");
  }

  Result<bool> appendCheckpoint(const audit::Checkpoint& checkpoint) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->checkpoints.push_back(checkpoint);
    state_->changed.notify_all();
    return true;
  }

  Result<audit::ChainHead> head(const std::string& chain) override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->headDown) return fail(ErrorCode::kUnavailable, "fake store: down");
    audit::ChainHead h;
    h.chain = chain;
    for (const auto& r : state_->stored) {
      if (r.entry.chain == chain && r.entry.seq > h.seq) {
        h.seq = r.entry.seq;
        h.hash = r.entry.hash;
      }
    }
    return h;
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace hie::testing
