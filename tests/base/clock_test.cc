// Tests for the clocks: ManualClock moves only when told to; SystemClock follows wall time.
#include <burrow/clock.h>

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace burrow {
namespace {

TEST(ManualClock, StartsAtTheGivenTime) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.now_ms(), 1000);
  EXPECT_EQ(clock.now_ms(), 1000);  // does not move by itself
}

TEST(ManualClock, AdvanceAddsDelta) {
  ManualClock clock(1000);
  clock.advance(500);
  EXPECT_EQ(clock.now_ms(), 1500);
  clock.advance(0);
  EXPECT_EQ(clock.now_ms(), 1500);
}

TEST(ManualClock, SetJumpsAnywhere) {
  ManualClock clock(1000);
  clock.set(42);
  EXPECT_EQ(clock.now_ms(), 42);
  clock.set(1'700'000'000'000);
  EXPECT_EQ(clock.now_ms(), 1'700'000'000'000);
}

TEST(ManualClock, DefaultStartsAtWallTime) {
  TimeMs before = SystemClock::instance().now_ms();
  ManualClock clock;
  TimeMs after = SystemClock::instance().now_ms();
  EXPECT_GE(clock.now_ms(), before);
  EXPECT_LE(clock.now_ms(), after);
}

TEST(ManualClock, ConcurrentAdvancesAreAllCounted) {
  ManualClock clock(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) clock.advance(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.now_ms(), 4000);
}

TEST(ManualClock, IsUsableThroughTheClockInterface) {
  ManualClock manual(7);
  const Clock& clock = manual;
  manual.advance(3);
  EXPECT_EQ(clock.now_ms(), 10);
}

TEST(SystemClock, InstanceIsAProcessWideSingleton) {
  EXPECT_EQ(&SystemClock::instance(), &SystemClock::instance());
}

TEST(SystemClock, ReturnsMillisecondsSinceTheEpoch) {
  TimeMs now = SystemClock::instance().now_ms();
  EXPECT_GT(now, 1'600'000'000'000);  // after September 2020
  EXPECT_LT(now, 4'102'444'800'000);  // before 2100
}

}  // namespace
}  // namespace burrow
