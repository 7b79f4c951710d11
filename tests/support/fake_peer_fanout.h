// A scripted PeerFanout for unit tests of the /exchange handler: answers per
// peer organization, peers that hang past any deadline until the test lets
// them go, and a worker pool that runs, refuses, or keeps calls queued. Every
// thread it starts is joined by its destructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exchange/handlers/peer_fanout.h"

namespace hie::testing {

class FakePeerFanout : public exchange::PeerFanout {
 public:
  enum class Pool { kRun, kRefuse, kKeepQueued };
  struct Answer {
    tl::expected<exchange::PeerResponse, exchange::PeerFailure> outcome;
    bool hang = false;  // answers only once release() is called, whatever the deadline
  };
  struct Asked {
    auth::PeerEntry peer;
    std::string pathAndQuery;
    exchange::HeaderList headers;
  };

  ~FakePeerFanout() override {
    release();
    for (auto& t : threads_) t.join();
  }

  void answer(const std::string& organization, Answer a) {
    std::lock_guard<std::mutex> lock(mutex_);
    answers_[organization] = std::move(a);
  }
  void setPool(Pool pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    pool_ = pool;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  std::vector<Asked> asked() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return asked_;
  }
  int submitted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return submitted_;
  }
  // Waits (bounded) until n calls have returned from get().
  bool waitAnswered(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return answered_ >= n; });
  }

  bool submit(std::chrono::steady_clock::time_point, std::function<void()> call) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++submitted_;
    if (pool_ == Pool::kRefuse) return false;
    if (pool_ == Pool::kKeepQueued) {
      kept_.push_back(std::move(call));  // never run, as a call still waiting at its deadline
      return true;
    }
    threads_.emplace_back(std::move(call));
    return true;
  }

  // As the UDAP client does: a call to an auth=udap peer says mtls+udap and a client_id there even
  // when get() never answered it.
  exchange::PeerCallAuth authFor(const auth::PeerEntry& peer) const override {
    if (peer.auth != "udap") return {};
    return exchange::PeerCallAuth{"mtls+udap", "client-at-" + peer.organization};
  }

  tl::expected<exchange::PeerResponse, exchange::PeerFailure> get(const auth::PeerEntry& peer,
                                                                  const std::string& pathAndQuery,
                                                                  const exchange::HeaderList& headers,
                                                                  std::chrono::steady_clock::time_point) override {
    std::unique_lock<std::mutex> lock(mutex_);
    asked_.push_back(Asked{peer, pathAndQuery, headers});
    auto it = answers_.find(peer.organization);
    Answer a = it == answers_.end()
                   ? Answer{tl::make_unexpected(exchange::PeerFailure{"connect", "no answer scripted"}), false}
                   : it->second;
    // Bounded, so a test that forgets release() fails instead of hanging.
    if (a.hang) changed_.wait_for(lock, std::chrono::seconds(30), [this] { return released_; });
    ++answered_;
    changed_.notify_all();
    return a.outcome;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Answer> answers_;
  Pool pool_ = Pool::kRun;
  bool released_ = false;
  int submitted_ = 0;
  int answered_ = 0;
  std::vector<Asked> asked_;
  std::vector<std::function<void()>> kept_;
  std::vector<std::thread> threads_;
};

}  // namespace hie::testing
