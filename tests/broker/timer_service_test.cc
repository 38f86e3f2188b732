// Tests for TimerService on a manual clock and BrokerCore::advance_clock: due order, ties in
// scheduling order, cancellation, and timers seeing the clock at their own due time.
#include "broker/timer_service.h"

#include <vector>

#include <burrow/clock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace burrow::broker
