// Enforces the deadline of each outbound call on its socket. Per-read
// timeouts alone let a peer that trickles one byte at a time (in the TLS
// handshake or the body) hold a call for as long as it likes; here one
// watchdog thread shuts down (::shutdown, SHUT_RDWR) the socket of every call
// whose deadline passed, so the handshake, write or read blocked on it
// returns at once. Only the socket is touched from the watchdog, never the
// call's OpenSSL or Poco objects: those belong to the calling thread.
// (The listener's HeadDeadlines in https_server.cpp does the same inbound.)
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "common/result.h"

namespace hie::exchange {

class CallDeadlines {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Cut { kNone, kDeadline, kCancelled };

  // One watched socket, unwatched when released or destroyed. Movable; must
  // not outlive its CallDeadlines.
  class Watch {
   public:
    Watch() = default;
    Watch(Watch&& other) noexcept;
    Watch& operator=(Watch&& other) noexcept;
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    ~Watch() { release(); }
    // Stops watching and says whether the watchdog cut the socket, and why.
    Cut release();

   private:
    friend class CallDeadlines;
    Watch(CallDeadlines* owner, std::uint64_t token) : owner_(owner), token_(token) {}
    CallDeadlines* owner_ = nullptr;
    std::uint64_t token_ = 0;
  };

  CallDeadlines();
  ~CallDeadlines();  // cuts whatever is still watched and joins the watchdog
  CallDeadlines(const CallDeadlines&) = delete;
  CallDeadlines& operator=(const CallDeadlines&) = delete;

  // Watches the connected socket fd until deadline. A duplicate of fd is
  // watched, so the number names the same socket until the Watch is released
  // even if the caller's library closes fd first. Already cancelled or past
  // the deadline: cut at once. Fails only when fd cannot be duplicated.
  Result<Watch> watch(int fd, Clock::time_point deadline);

  // Cuts every watched socket now, and every one watched from now on (stopping).
  void cancelAll();
  bool cancelled() const;

 private:
  struct Entry {
    int fd;  // our duplicate
    Clock::time_point deadline;
    Cut cut = Cut::kNone;
  };
  Cut unwatch(std::uint64_t token);
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::uint64_t, Entry> watched_;
  std::uint64_t next_ = 0;
  bool cancelled_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace hie::exchange
