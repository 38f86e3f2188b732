// The test-double controls of the core: fault budgets and the published-message log.
#include "broker/test_controls.h"

#include <gtest/gtest.h>

namespace burrow::broker {
namespace {

TEST(FaultInjector, NackBudgetIsTakenOnePublishAtATime) {
  FaultInjector faults;
  EXPECT_FALSE(faults.take_nack_publish());
  faults.nack_publishes(2);
  EXPECT_TRUE(faults.take_nack_publish());
  EXPECT_TRUE(faults.take_nack_publish());
  EXPECT_FALSE(faults.take_nack_publish());
}

TEST(FaultInjector, DropBudgetCoversPartOfAMultipleAck) {
  FaultInjector faults;
  faults.drop_acks(3);
  EXPECT_EQ(faults.take_drop_acks(2), 2u);
  EXPECT_EQ(faults.take_drop_acks(5), 1u);
  EXPECT_EQ(faults.take_drop_acks(5), 0u);
}

TEST(FaultInjector, ClearTurnsEverythingOff) {
  FaultInjector faults;
  faults.nack_publishes(1);
  faults.drop_acks(1);
  faults.delay_confirms(50);
  faults.clear();
  EXPECT_EQ(faults.pending_nack_publishes(), 0u);
  EXPECT_EQ(faults.pending_drop_acks(), 0u);
  EXPECT_EQ(faults.confirm_delay_ms(), 0);
}

PublishedRecord record(std::string key) {
  PublishedRecord r;
  r.routing_key = std::move(key);
  return r;
}

TEST(PublishLog, OffUntilEnabled) {
  PublishLog log;
  EXPECT_FALSE(log.enabled());
  log.add(record("a"));
  EXPECT_TRUE(log.snapshot().empty());
}

TEST(PublishLog, KeepsTheNewestWithinItsLimit) {
  PublishLog log;
  log.enable(2);
  log.add(record("a"));
  log.add(record("b"));
  log.add(record("c"));
  auto records = log.snapshot();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].routing_key, "b");
  EXPECT_EQ(records[0].sequence, 2u);
  EXPECT_EQ(records[1].routing_key, "c");
  EXPECT_EQ(log.dropped(), 1u);
  log.clear();
  EXPECT_TRUE(log.snapshot().empty());
  log.add(record("d"));
  EXPECT_EQ(log.snapshot()[0].sequence, 1u) << "sequence restarts after clear";
}

}  // namespace
}  // namespace burrow::broker
