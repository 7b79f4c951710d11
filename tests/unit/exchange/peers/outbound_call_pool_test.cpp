#include "exchange/peers/outbound_call_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/support/node_process.h"

namespace hie::exchange {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using hie::testing::waitFor;

// Calls that block until opened, counting how many run at once.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  std::atomic<int> running{0}, most{0}, finished{0};

  std::function<void()> call() {
    return [this] {
      const int now = ++running;
      for (int seen = most; now > seen && !most.compare_exchange_weak(seen, now);) {
      }
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [this] { return open; });
      }
      --running;
      ++finished;
    };
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      open = true;
    }
    changed.notify_all();
  }
};

TEST(OutboundCallPool, NeverRunsMoreThanItsThreadsAtOnce) {
  OutboundCallPool pool(3);
  Gate gate;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pool.submit(Clock::now() + 1h, gate.call()));
  ASSERT_TRUE(waitFor([&] { return gate.running == 3; }, 5s));
  EXPECT_EQ(pool.threads(), 3u);
  gate.release();
  ASSERT_TRUE(waitFor([&] { return gate.finished == 10; }, 5s));
  EXPECT_EQ(gate.most, 3);
  EXPECT_EQ(pool.threads(), 3u) << "no thread per call";
}

TEST(OutboundCallPool, ACallStillWaitingAtItsDeadlineIsDroppedUnrun) {
  OutboundCallPool pool(1);
  Gate gate;
  ASSERT_TRUE(pool.submit(Clock::now() + 1h, gate.call()));
  ASSERT_TRUE(waitFor([&] { return gate.running == 1; }, 5s));
  auto captured = std::make_shared<int>(0);
  std::atomic<bool> lateRan{false}, nextRan{false};
  const auto shortDeadline = Clock::now() + 50ms;
  ASSERT_TRUE(pool.submit(shortDeadline, [captured, &lateRan] { lateRan = true; }));
  ASSERT_TRUE(waitFor([&] { return Clock::now() > shortDeadline; }, 5s));
  gate.release();  // the only worker is free again, after the waiting call's deadline
  ASSERT_TRUE(pool.submit(Clock::now() + 1h, [&nextRan] { nextRan = true; }));
  ASSERT_TRUE(waitFor([&] { return nextRan.load(); }, 5s));
  EXPECT_FALSE(lateRan) << "first come first served: it was dropped before the next call ran";
  EXPECT_EQ(captured.use_count(), 1) << "and destroyed";
}

TEST(OutboundCallPool, StopDropsWaitingCallsAndJoinsTheRunningOnes) {
  auto pool = std::make_unique<OutboundCallPool>(1);
  Gate gate;
  std::atomic<int> ranAfter{0};
  ASSERT_TRUE(pool->submit(Clock::now() + 1h, gate.call()));
  ASSERT_TRUE(waitFor([&] { return gate.running == 1; }, 5s));
  ASSERT_TRUE(pool->submit(Clock::now() + 1h, [&ranAfter] { ++ranAfter; }));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    pool->stop();
    stopped = true;
  });
  // stop() refuses new calls from the moment it has dropped the waiting ones.
  ASSERT_TRUE(waitFor([&] { return !pool->submit(Clock::now() + 1h, [&ranAfter] { ++ranAfter; }); }, 5s));
  EXPECT_FALSE(stopped) << "a call is still running: stop() waits for it";
  gate.release();
  stopper.join();
  EXPECT_EQ(gate.finished, 1);
  EXPECT_EQ(ranAfter, 0) << "waiting calls are dropped, not run";
  pool->stop();  // idempotent
  pool.reset();
}

}  // namespace
}  // namespace hie::exchange
