// The worker threads that make outbound calls, one pool for the whole node:
// at most `maxThreads` calls run at once, whatever the number of requests.
// A call waits, first come first served, for a free worker until its
// deadline; one still waiting then is dropped without running (its caller
// reports the peer `busy`). Workers start as needed, are owned and joined:
// stop() refuses new calls, drops the waiting ones and waits for the running
// ones, which the owner makes end in between (close(), cancel, stop(): see
// PeerClient::stop and SocketDeadlines::cancelAll).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hie::exchange {

class OutboundCallPool {
 public:
  using Clock = std::chrono::steady_clock;

  explicit OutboundCallPool(std::size_t maxThreads);
  ~OutboundCallPool();  // stop()
  OutboundCallPool(const OutboundCallPool&) = delete;
  OutboundCallPool& operator=(const OutboundCallPool&) = delete;

  // Queues call to run on a worker before deadline; false when stopping (call
  // not run). The call runs at most once; when dropped it is destroyed unrun.
  bool submit(Clock::time_point deadline, std::function<void()> call);

  // Refuses new calls and drops the waiting ones; calls running go on. Idempotent.
  void close();
  // close(), then returns once no worker runs a call any more. Idempotent.
  void stop();

  std::size_t threads() const;  // workers started so far (never more than maxThreads)

 private:
  struct Queued {
    Clock::time_point deadline;
    std::function<void()> call;
  };
  void work();

  const std::size_t maxThreads_;
  mutable std::mutex mutex_;
  std::mutex joinMutex_;  // stop() from two threads joins each worker once
  std::condition_variable wake_;
  std::deque<Queued> queue_;
  std::vector<std::thread> threads_;
  std::size_t waiting_ = 0;  // workers waiting for a call
  bool stopping_ = false;
};

}  // namespace hie::exchange
