#include "exchange/net/socket_deadlines.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hie::exchange {

SocketDeadlines::Watch::Watch(Watch&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), token_(std::exchange(other.token_, 0)), cut_(other.cut_) {}

SocketDeadlines::Watch& SocketDeadlines::Watch::operator=(Watch&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    token_ = std::exchange(other.token_, 0);
    cut_ = other.cut_;
  }
  return *this;
}

SocketDeadlines::Cut SocketDeadlines::Watch::release() {
  if (owner_ != nullptr) {
    cut_ = owner_->unwatch(token_);
    owner_ = nullptr;
    token_ = 0;
  }
  return cut_;
}

SocketDeadlines::SocketDeadlines() : thread_([this] { run(); }) {}

SocketDeadlines::~SocketDeadlines() {
  cancelAll();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  for (auto& [token, e] : watched_) ::close(e.fd);  // a Watch outlived its owner: at least do not leak
}

void SocketDeadlines::cut(Entry& e, Cut why) {
  e.cut = why;
  ::shutdown(e.fd, e.shut == Shut::kReceive ? SHUT_RD : SHUT_RDWR);
}

Result<SocketDeadlines::Watch> SocketDeadlines::watch(int fd, Clock::time_point deadline, Shut shut) {
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    return fail(ErrorCode::kUnavailable, std::string("cannot watch the connection's deadline: ") + std::strerror(errno));
  }
  std::uint64_t token = 0;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    token = ++next_;
    Entry e{dup, deadline, shut};
    if (cancelled_ || deadline <= Clock::now()) {
      cut(e, cancelled_ ? Cut::kCancelled : Cut::kDeadline);
    } else {
      wake = deadline < sleepingUntil_;
    }
    watched_.emplace(token, e);
  }
  if (wake) wake_.notify_one();
  return Watch(this, token);
}

SocketDeadlines::Cut SocketDeadlines::unwatch(std::uint64_t token) {
  Entry e{-1, {}, Shut::kBoth};
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

void SocketDeadlines::cancelAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
  for (auto& [token, e] : watched_) {
    if (e.cut == Cut::kNone) cut(e, Cut::kCancelled);
  }
}

bool SocketDeadlines::cancelled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancelled_;
}

void SocketDeadlines::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    auto earliest = Clock::time_point::max();
    for (const auto& [token, e] : watched_) {
      if (e.cut == Cut::kNone && e.deadline < earliest) earliest = e.deadline;
    }
    sleepingUntil_ = earliest;
    if (earliest == Clock::time_point::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, earliest);  // woken early by a sooner watch(), stop or spuriously: sweep anyway
    }
    sleepingUntil_ = Clock::time_point::min();  // awake: watch() need not wake it, the next pass sees its entry
    const auto now = Clock::now();
    for (auto& [token, e] : watched_) {
      if (e.cut == Cut::kNone && e.deadline <= now) cut(e, Cut::kDeadline);
    }
  }
}

}  // namespace hie::exchange
