// Deadlines enforced on sockets, for the listener (a whole TLS handshake or
// request head must arrive in time) and for outbound calls (a whole call must
// end in time). Per-read timeouts alone let a peer that trickles one byte at
// a time hold a thread for as long as it likes; here one watchdog thread
// shuts down (::shutdown) every watched socket whose deadline passed, so the
// read, write or handshake blocked on it returns at once. Only the socket is
// touched from the watchdog, never the OpenSSL or Poco objects over it: those
// belong to the thread that watches it. Plain C++ over file descriptors.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "common/result.h"

namespace hie::exchange {

class SocketDeadlines {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Cut { kNone, kDeadline, kCancelled };
  // What a cut shuts: kReceive ends the blocked read but leaves the socket
  // writable (the listener still answers 408); kBoth ends reads and writes.
  enum class Shut { kReceive, kBoth };

  // One watched socket, unwatched when released or destroyed. Movable; must
  // not outlive its SocketDeadlines.
  class Watch {
   public:
    Watch() = default;
    Watch(Watch&& other) noexcept;
    Watch& operator=(Watch&& other) noexcept;
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    ~Watch() { release(); }
    // Stops watching (once) and says whether the watchdog cut the socket, and
    // why; later calls say the same.
    Cut release();

   private:
    friend class SocketDeadlines;
    Watch(SocketDeadlines* owner, std::uint64_t token) : owner_(owner), token_(token) {}
    SocketDeadlines* owner_ = nullptr;
    std::uint64_t token_ = 0;
    Cut cut_ = Cut::kNone;
  };

  SocketDeadlines();
  ~SocketDeadlines();  // cuts whatever is still watched and joins the watchdog
  SocketDeadlines(const SocketDeadlines&) = delete;
  SocketDeadlines& operator=(const SocketDeadlines&) = delete;

  // Watches the connected socket fd until deadline. A duplicate of fd is
  // watched, so the number names the same socket until the Watch is released
  // even if the caller's library closes fd first. Already cancelled or past
  // the deadline: cut at once. Fails (kUnavailable) only when fd cannot be
  // duplicated (out of descriptors).
  Result<Watch> watch(int fd, Clock::time_point deadline, Shut shut = Shut::kBoth);

  // Cuts every watched socket now, and every one watched from now on (stopping).
  void cancelAll();
  bool cancelled() const;

 private:
  struct Entry {
    int fd;  // our duplicate
    Clock::time_point deadline;
    Shut shut;
    Cut cut = Cut::kNone;
  };
  Cut unwatch(std::uint64_t token);
  static void cut(Entry& e, Cut why);
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::uint64_t, Entry> watched_;
  std::uint64_t next_ = 0;
  // When the watchdog will next look on its own (min while it is awake and about to sweep):
  // watch() wakes it only for a deadline before that, so a busy listener does not wake it per request.
  Clock::time_point sleepingUntil_ = Clock::time_point::min();
  bool cancelled_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace hie::exchange
