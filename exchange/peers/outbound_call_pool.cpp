#include "exchange/peers/outbound_call_pool.h"

#include <algorithm>
#include <system_error>
#include <utility>

namespace hie::exchange {

OutboundCallPool::OutboundCallPool(std::size_t maxThreads) : maxThreads_(std::max<std::size_t>(maxThreads, 1)) {}

OutboundCallPool::~OutboundCallPool() { stop(); }

bool OutboundCallPool::submit(Clock::time_point deadline, std::function<void()> call) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    queue_.push_back(Queued{deadline, std::move(call)});
    if (queue_.size() > waiting_ && threads_.size() < maxThreads_) {
      try {
        threads_.emplace_back([this] { work(); });
      } catch (const std::system_error&) {
        // No thread to be had (resource limits): the workers there are serve the queue, and a
        // call none of them reaches before its deadline is dropped like any other.
      }
    }
  }
  wake_.notify_one();
  return true;
}

void OutboundCallPool::close() {
  std::deque<Queued> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  wake_.notify_all();
  dropped.clear();  // outside the lock: a call's captures may take locks of their own
}

void OutboundCallPool::stop() {
  close();
  // No thread is added once stopping_ is set, so threads_ is stable here; a second stop() finds
  // them joined already.
  std::lock_guard<std::mutex> joining(joinMutex_);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::size_t OutboundCallPool::threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_.size();
}

void OutboundCallPool::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    ++waiting_;
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --waiting_;
    if (stopping_) return;
    Queued next = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    if (Clock::now() < next.deadline) next.call();
    next.call = nullptr;  // its captures go before the lock is taken again
    lock.lock();
  }
}

}  // namespace hie::exchange
