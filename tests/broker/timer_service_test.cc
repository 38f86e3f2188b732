// Tests for TimerService on a manual clock and BrokerCore::advance_clock: due order, ties in
// scheduling order, cancellation, timers seeing the clock at their own due time, and queue
// timers at broker shutdown.
#include "broker/timer_service.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include <burrow/clock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::TestBroker;

constexpr TimeMs kStart = 1'700'000'000'000;

TEST(TimerService, RunsDueTimersEarliestFirstAndTiesInSchedulingOrder) {
  ManualClock clock(kStart);
  TimerService timers(clock, /*manual=*/true);
  std::vector<int> ran;
  timers.schedule(kStart + 20, [&] { ran.push_back(3); });
  timers.schedule(kStart + 10, [&] { ran.push_back(1); });
  timers.schedule(kStart + 10, [&] { ran.push_back(2); });
  timers.schedule(kStart + 30, [&] { ran.push_back(4); });
  EXPECT_EQ(timers.next_due(), kStart + 10);
  EXPECT_EQ(timers.run_due(), 0u);
  clock.set(kStart + 20);
  EXPECT_EQ(timers.run_due(), 3u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(timers.next_due(), kStart + 30);
}

TEST(TimerService, CancelledTimerNeverRuns) {
  ManualClock clock(kStart);
  TimerService timers(clock, /*manual=*/true);
  bool ran = false;
  TimerId id = timers.schedule(kStart + 10, [&] { ran = true; });
  EXPECT_TRUE(timers.cancel(id));
  EXPECT_FALSE(timers.cancel(id));
  clock.set(kStart + 100);
  EXPECT_EQ(timers.run_due(), 0u);
  EXPECT_FALSE(ran);
  EXPECT_EQ(timers.next_due(), -1);
}

TEST(TimerService, TimerScheduledByACallbackForAReachedTimeRunsInTheSamePass) {
  ManualClock clock(kStart);
  TimerService timers(clock, /*manual=*/true);
  std::vector<int> ran;
  timers.schedule(kStart, [&] {
    ran.push_back(1);
    timers.schedule(kStart, [&] { ran.push_back(2); });
  });
  EXPECT_EQ(timers.run_due(), 2u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(TimerService, AdvanceClockRunsEachTimerAtItsOwnDueTime) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  std::vector<TimeMs> seen;
  b.core().timers().schedule(kStart + 100, [&] { seen.push_back(clock.now_ms()); });
  b.core().timers().schedule(kStart + 250, [&] { seen.push_back(clock.now_ms()); });
  b.core().timers().schedule(kStart + 1001, [&] { seen.push_back(clock.now_ms()); });
  ASSERT_OK(b.advance(1000));
  EXPECT_EQ(seen, (std::vector<TimeMs>{kStart + 100, kStart + 250}));
  EXPECT_EQ(clock.now_ms(), kStart + 1000);
  ASSERT_OK(b.advance(1));
  EXPECT_EQ(seen.size(), 3u);
}

TEST(TimerService, AdvanceClockNeedsAManualClock) {
  TestBroker b;
  EXPECT_FALSE(b.core().manual_clock());
  EXPECT_EQ(b.advance(1).code(), StatusCode::kInvalidArgument);
  ManualClock clock(kStart);
  TestBroker manual(TestBroker::manual_clock_options(clock));
  EXPECT_TRUE(manual.core().manual_clock());
  EXPECT_EQ(manual.advance(-1).code(), StatusCode::kInvalidArgument);
}

// Closes a BrokerCore (one worker thread) while a delivery task for a queue with an armed TTL
// timer is still queued, and the queue has no other owner; then exits 0.
void shut_down_with_a_pending_delivery() {
  ManualClock clock(kStart);
  Options options = TestBroker::manual_clock_options(clock);
  options.worker_threads = 1;
  auto core = std::move(BrokerCore::open(options)).value();
  auto conn = std::move(core->connect(ConnectInfo{"guest", "/"})).value();
  testing::RecordingSink sink;
  auto ch = std::make_shared<Channel>(conn, 1, &sink);
  if (!testing::declare(*ch, "q", FieldTable{{"x-message-ttl", int64_t{60000}}}).ok()) std::abort();
  if (!testing::publish(*ch, "", "q", "m1").ok()) std::abort();  // arms the TTL timer
  // Occupy the only worker until the pool is stopped, so the delivery below stays queued.
  std::atomic<bool> busy{false};
  boost::asio::io_context* ioc = &core->workers().io_context();
  core->workers().post([&busy, ioc] {
    busy = true;
    auto deadline = std::chrono::steady_clock::now() + testing::kWaitTimeout;
    while (!ioc->stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  });
  while (!busy) std::this_thread::yield();
  if (!testing::consume(*ch, "q", "c1").ok()) std::abort();  // queues a delivery task
  ch->close();
  conn->close();
  ch.reset();
  conn.reset();
  core.reset();
  std::exit(0);
}

// Regression (fixed): broker/broker_core.h, BrokerCore declares workers_ before timers_, so
// ~BrokerCore frees the TimerService first and the WorkerPool (with its io_context) after it. A
// queued delivery task (ClassicQueue::schedule_drain_locked holds shared_from_this()) can then be
// the last owner of a queue; destroying it runs ~ClassicQueue, which calls
// context_.timers->cancel() on the freed TimerService (heap-use-after-free, seen under ASan in the
// TTL tests' teardown before test_broker.h settled the workers). Stopping a broker must not touch
// freed memory.
TEST(BrokerShutdown, PendingDeliveryOfAQueueWithTimersDoesNotUseFreedTimers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(shut_down_with_a_pending_delivery(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace burrow::broker
