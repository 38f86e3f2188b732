// Tests for how a queue picks a consumer: strict round robin among equal priorities, and
// consumer priorities (x-priority) with lower priorities served only while higher ones are
// blocked by prefetch.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::consume;
using testing::declare;
using testing::publish;
using testing::TestBroker;
using testing::TestChannel;
using Strings = std::vector<std::string>;

FieldTable priority(int64_t p) { return FieldTable{{"x-priority", p}}; }

TestChannel& consumer_channel(TestBroker& b, const std::string& tag, uint16_t prefetch,
                              FieldTable arguments = {}, bool no_ack = false) {
  TestChannel& tc = b.open_channel();
  EXPECT_OK(tc->qos(0, prefetch, false));
  EXPECT_OK(consume(*tc, "q", tag, no_ack, /*exclusive=*/false, std::move(arguments)));
  return tc;
}

TEST(ConsumerDispatch, EqualPriorityConsumersTakeStrictTurns) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto& a = consumer_channel(b, "a", 0, {}, /*no_ack=*/true);
  auto& c2 = consumer_channel(b, "b", 0, {}, /*no_ack=*/true);
  auto& c3 = consumer_channel(b, "c", 0, {}, /*no_ack=*/true);
  for (int i = 1; i <= 6; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(a.sink->wait_for_deliveries(2));
  ASSERT_TRUE(c2.sink->wait_for_deliveries(2));
  ASSERT_TRUE(c3.sink->wait_for_deliveries(2));
  // consumers.equal_priority_round_robin: registration order, one message each in turn.
  EXPECT_EQ(a.sink->bodies(), (Strings{"m1", "m4"}));
  EXPECT_EQ(c2.sink->bodies(), (Strings{"m2", "m5"}));
  EXPECT_EQ(c3.sink->bodies(), (Strings{"m3", "m6"}));
}

TEST(ConsumerDispatch, BlockedConsumerIsSkippedInTheRotation) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto& a = consumer_channel(b, "a", 1);
  auto& other = consumer_channel(b, "b", 0);
  for (int i = 1; i <= 4; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(other.sink->wait_for_deliveries(3));
  EXPECT_EQ(a.sink->bodies(), Strings{"m1"});
  EXPECT_EQ(other.sink->bodies(), (Strings{"m2", "m3", "m4"}));
}

TEST(ConsumerDispatch, LowerPriorityGetsMessagesOnlyWhileTheHigherOneIsBlocked) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto& low = consumer_channel(b, "low", 1);
  auto& high = consumer_channel(b, "high", 1, priority(10));
  // consumers.priority_higher_first.
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(high.sink->wait_for_deliveries(1));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(low.sink->wait_for_deliveries(1));
  ASSERT_OK(publish(*ch, "", "q", "m3"));
  EXPECT_TRUE(high.sink->stays_at(1));
  ASSERT_OK(high->ack(high.sink->deliveries()[0].delivery_tag, false));
  ASSERT_TRUE(high.sink->wait_for_deliveries(2));
  EXPECT_EQ(high.sink->bodies(), (Strings{"m1", "m3"}));
  EXPECT_EQ(low.sink->bodies(), Strings{"m2"});
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").consumers, 2u);
}

TEST(ConsumerDispatch, NegativePriorityRanksBelowTheDefault) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto& neg = consumer_channel(b, "neg", 0, priority(-5), /*no_ack=*/true);
  auto& plain = consumer_channel(b, "plain", 0, {}, /*no_ack=*/true);
  for (int i = 1; i <= 3; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(plain.sink->wait_for_deliveries(3));
  EXPECT_TRUE(neg.sink->stays_at(0));
}

TEST(ConsumerDispatch, EqualHighPrioritiesShareAndTheLowOneWaits) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto& low = consumer_channel(b, "low", 0, priority(1), /*no_ack=*/true);
  auto& h1 = consumer_channel(b, "h1", 0, priority(5), /*no_ack=*/true);
  auto& h2 = consumer_channel(b, "h2", 0, priority(5), /*no_ack=*/true);
  for (int i = 1; i <= 4; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(h1.sink->wait_for_deliveries(2));
  ASSERT_TRUE(h2.sink->wait_for_deliveries(2));
  EXPECT_EQ(h1.sink->bodies(), (Strings{"m1", "m3"}));
  EXPECT_EQ(h2.sink->bodies(), (Strings{"m2", "m4"}));
  EXPECT_TRUE(low.sink->stays_at(0));
}

TEST(ConsumerDispatch, CancellingTheHighPriorityConsumerLetsTheLowOneReceive) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto& low = consumer_channel(b, "low", 0, {}, /*no_ack=*/true);
  auto& high = consumer_channel(b, "high", 0, priority(3), /*no_ack=*/true);
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(high.sink->wait_for_deliveries(1));
  ASSERT_OK(high->cancel("high", nullptr));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(low.sink->wait_for_deliveries(1));
  EXPECT_EQ(low.sink->bodies(), Strings{"m2"});
}

}  // namespace
}  // namespace burrow::broker
