#include "exchange/peers/call_deadlines.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hie::exchange {

CallDeadlines::Watch::Watch(Watch&& other) noexcept : owner_(other.owner_), token_(other.token_) {
  other.owner_ = nullptr;
  other.token_ = 0;
}

CallDeadlines::Watch& CallDeadlines::Watch::operator=(Watch&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    token_ = std::exchange(other.token_, 0);
  }
  return *this;
}

CallDeadlines::Cut CallDeadlines::Watch::release() {
  if (owner_ == nullptr) return Cut::kNone;
  const Cut cut = owner_->unwatch(token_);
  owner_ = nullptr;
  token_ = 0;
  return cut;
}

CallDeadlines::CallDeadlines() : thread_([this] { run(); }) {}

CallDeadlines::~CallDeadlines() {
  cancelAll();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  for (auto& [token, e] : watched_) ::close(e.fd);  // a Watch outlived its owner: at least do not leak
}

Result<CallDeadlines::Watch> CallDeadlines::watch(int fd, Clock::time_point deadline) {
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    return fail(ErrorCode::kUnavailable, std::string("cannot watch the peer connection's deadline: ") + std::strerror(errno));
  }
  std::uint64_t token = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    token = ++next_;
    Entry e{dup, deadline};
    if (cancelled_ || deadline <= Clock::now()) {
      e.cut = cancelled_ ? Cut::kCancelled : Cut::kDeadline;
      ::shutdown(dup, SHUT_RDWR);
    }
    watched_.emplace(token, e);
  }
  wake_.notify_one();
  return Watch(this, token);
}

CallDeadlines::Cut CallDeadlines::unwatch(std::uint64_t token) {
  Entry e{-1, {}};
  {
    // Under the lock: once erased the watchdog never touches the descriptor again.
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = watched_.find(token);
    if (it == watched_.end()) return Cut::kNone;
    e = it->second;
    watched_.erase(it);
  }
  ::close(e.fd);
  return e.cut;
}

void CallDeadlines::cancelAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
  for (auto& [token, e] : watched_) {
    if (e.cut != Cut::kNone) continue;
    e.cut = Cut::kCancelled;
    ::shutdown(e.fd, SHUT_RDWR);
  }
}

bool CallDeadlines::cancelled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancelled_;
}

void CallDeadlines::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    auto earliest = Clock::time_point::max();
    for (const auto& [token, e] : watched_) {
      if (e.cut == Cut::kNone && e.deadline < earliest) earliest = e.deadline;
    }
    if (earliest == Clock::time_point::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, earliest);  // woken early by watch(), stop or spuriously: sweep anyway
    }
    const auto now = Clock::now();
    for (auto& [token, e] : watched_) {
      if (e.cut == Cut::kNone && e.deadline <= now) {
        e.cut = Cut::kDeadline;
        ::shutdown(e.fd, SHUT_RDWR);
      }
    }
  }
}

}  // namespace hie::exchange
