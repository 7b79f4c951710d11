#include "exchange/net/socket_deadlines.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/node_process.h"

namespace hie::exchange {
namespace {

using Clock = std::chrono::steady_clock;
using Cut = SocketDeadlines::Cut;
using Shut = SocketDeadlines::Shut;
using namespace std::chrono_literals;

// A connected pair of sockets whose reads give up after 10 s (so a broken watchdog fails, not hangs).
struct Pair {
  int fd[2] = {-1, -1};
  Pair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) != 0) throw std::runtime_error("socketpair");
    timeval tv{10, 0};
    for (int f : fd) ::setsockopt(f, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Pair() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  // What a read on fd[i] gives: 1 (a byte), 0 (end: cut or closed), -1 (nothing within 10 s).
  int read(int i) {
    char c;
    return static_cast<int>(::recv(fd[i], &c, 1, 0));
  }
  bool send(int i) { return ::send(fd[i], "x", 1, MSG_NOSIGNAL) == 1; }
};

TEST(SocketDeadlines, ABlockedReadEndsAtTheDeadline) {
  SocketDeadlines deadlines;
  Pair p;
  auto watch = deadlines.watch(p.fd[0], Clock::now() + 100ms);
  ASSERT_TRUE(watch) << watch.error().internal;
  EXPECT_EQ(p.read(0), 0) << "the peer never sends: only the watchdog can end this read";
  EXPECT_EQ(watch->release(), Cut::kDeadline);
  EXPECT_EQ(watch->release(), Cut::kDeadline) << "released once, the cut remembered";
}

TEST(SocketDeadlines, ASocketReleasedBeforeItsDeadlineIsLeftAlone) {
  SocketDeadlines deadlines;
  Pair early, later;
  auto first = deadlines.watch(early.fd[0], Clock::now() + 50ms);
  auto second = deadlines.watch(later.fd[0], Clock::now() + 150ms);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->release(), Cut::kNone);
  EXPECT_EQ(later.read(0), 0);  // the watchdog has swept past the first deadline
  EXPECT_EQ(second->release(), Cut::kDeadline);
  ASSERT_TRUE(early.send(1));
  EXPECT_EQ(early.read(0), 1) << "the released socket still works";
}

TEST(SocketDeadlines, CancelAllCutsAtOnceAndEveryLaterWatch) {
  SocketDeadlines deadlines;
  Pair p, q;
  auto watch = deadlines.watch(p.fd[0], Clock::now() + 1h);
  ASSERT_TRUE(watch);
  std::atomic<int> got{-2};
  std::thread reader([&] { got = p.read(0); });
  deadlines.cancelAll();
  reader.join();
  EXPECT_EQ(got, 0);
  EXPECT_EQ(watch->release(), Cut::kCancelled);
  EXPECT_TRUE(deadlines.cancelled());
  auto late = deadlines.watch(q.fd[0], Clock::now() + 1h);
  ASSERT_TRUE(late);
  EXPECT_EQ(q.read(0), 0);
  EXPECT_EQ(late->release(), Cut::kCancelled);
}

TEST(SocketDeadlines, TheWatchedSocketStaysTheSameWhenItsDescriptorIsClosedAndReused) {
  // Poco closes a failed connection's descriptor itself, possibly while it is watched; the number
  // can then name a new socket at once. The watchdog must cut the old one, never the new one.
  SocketDeadlines deadlines;
  Pair old;
  const int number = old.fd[0];
  auto watch = deadlines.watch(number, Clock::now() + 100ms);
  ASSERT_TRUE(watch);
  ::close(old.fd[0]);
  old.fd[0] = -1;
  Pair reused;  // most likely gets `number` again
  EXPECT_EQ(old.read(1), 0) << "the old socket is cut at the deadline (its other end sees the end)";
  EXPECT_EQ(watch->release(), Cut::kDeadline);
  ASSERT_TRUE(reused.send(1));
  EXPECT_EQ(reused.read(0), 1) << "the socket now at number " << number << " (reused: " << (reused.fd[0] == number)
                               << ") was not touched";
}

// The listener's use: a request head that does not arrive in time ends the
// blocked read, and the connection can still carry the 408 reply.
TEST(SocketDeadlines, AReceiveCutEndsTheReadButLeavesTheSocketWritable) {
  SocketDeadlines deadlines;
  Pair p;
  auto watch = deadlines.watch(p.fd[0], Clock::now() + 100ms, Shut::kReceive);
  ASSERT_TRUE(watch);
  EXPECT_EQ(p.read(0), 0) << "only the watchdog can end this read";
  EXPECT_EQ(watch->release(), Cut::kDeadline);
  ASSERT_TRUE(p.send(0)) << "the reply still goes out";
  EXPECT_EQ(p.read(1), 1);
}

TEST(SocketDeadlines, ASoonerDeadlineWatchedLaterWakesTheWatchdog) {
  // The watchdog sleeps until the earliest deadline it knows; one sooner than that must wake it.
  SocketDeadlines deadlines;
  Pair idle, slow;
  auto far = deadlines.watch(idle.fd[0], Clock::now() + 1h, Shut::kReceive);
  ASSERT_TRUE(far);
  // Asleep on the far deadline or about to sweep, the watchdog must honour the sooner one.
  auto near = deadlines.watch(slow.fd[0], Clock::now() + 100ms, Shut::kReceive);
  ASSERT_TRUE(near);
  EXPECT_EQ(slow.read(0), 0) << "cut at the sooner deadline, not after the 10 s read timeout";
  EXPECT_EQ(near->release(), Cut::kDeadline);
  EXPECT_EQ(far->release(), Cut::kNone);
}

TEST(SocketDeadlines, ReleasedWatchesLeaveEveryLaterDeadlineWorking) {
  // As the listener does per request: many short-lived watches, each released before its deadline.
  SocketDeadlines deadlines;
  Pair p;
  for (int i = 0; i < 200; ++i) {
    auto w = deadlines.watch(p.fd[0], Clock::now() + 1h, Shut::kReceive);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->release(), Cut::kNone);
  }
  ASSERT_TRUE(p.send(1));
  EXPECT_EQ(p.read(0), 1) << "none of them touched the socket";
  auto last = deadlines.watch(p.fd[0], Clock::now() + 50ms, Shut::kReceive);
  ASSERT_TRUE(last);
  EXPECT_EQ(p.read(0), 0);
  EXPECT_EQ(last->release(), Cut::kDeadline);
}

TEST(SocketDeadlines, AWatchPastItsDeadlineIsCutAtOnce) {
  SocketDeadlines deadlines;
  Pair p;
  auto watch = deadlines.watch(p.fd[0], Clock::now() - 1ms);
  ASSERT_TRUE(watch);
  EXPECT_EQ(p.read(0), 0);
  EXPECT_EQ(watch->release(), Cut::kDeadline);
}

TEST(SocketDeadlines, AnInvalidDescriptorIsAnError) {
  SocketDeadlines deadlines;
  auto watch = deadlines.watch(-1, Clock::now() + 1h);
  ASSERT_FALSE(watch);
  EXPECT_EQ(watch.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace hie::exchange
