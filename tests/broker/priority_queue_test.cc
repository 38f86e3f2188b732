// Tests for x-max-priority queues: highest priority first and FIFO within a priority,
// priorities above the maximum capped, requeue within its priority, limits and counts.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::body_of;
using testing::consume;
using testing::declare;
using testing::drain_bodies;
using testing::get_message;
using testing::publish;
using testing::TestBroker;
using Strings = std::vector<std::string>;

FieldTable max_priority(int64_t max) { return FieldTable{{"x-max-priority", max}}; }

// Publishes "m<i>-p<priority>" (or "m<i>-none") for each priority, as the differential
// scenarios do.
void publish_priorities(Channel& ch, const std::string& queue,
                        const std::vector<std::optional<uint8_t>>& priorities) {
  for (size_t i = 0; i < priorities.size(); ++i) {
    BasicProperties props;
    props.priority = priorities[i];
    std::string body =
        "m" + std::to_string(i) + (priorities[i] ? "-p" + std::to_string(*priorities[i]) : "-none");
    ASSERT_OK(publish(ch, "", queue, body, props));
  }
}

TEST(PriorityQueue, HighestPriorityFirstAndFifoWithinAPriority) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", max_priority(10)));
  publish_priorities(*ch, "q", {1, 5, std::nullopt, 10, 5, 0, 3});
  // priority.ordering: no priority counts as 0.
  EXPECT_EQ(drain_bodies(*ch, "q"),
            (Strings{"m3-p10", "m1-p5", "m4-p5", "m6-p3", "m0-p1", "m2-none", "m5-p0"}));
}

TEST(PriorityQueue, PriorityAboveTheMaximumCountsAsTheMaximum) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", max_priority(3)));
  publish_priorities(*ch, "q", {2, 9, 3, 255, 1, 4});
  // priority.above_max_capped: 9, 3, 255 and 4 share priority 3, in publish order.
  EXPECT_EQ(drain_bodies(*ch, "q"),
            (Strings{"m1-p9", "m2-p3", "m3-p255", "m5-p4", "m0-p2", "m4-p1"}));
}

TEST(PriorityQueue, CappedMessageKeepsItsPriorityProperty) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", max_priority(3)));
  publish_priorities(*ch, "q", {255});
  auto r = get_message(*ch, "q");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->entry.message->message.properties.priority, 255);
}

TEST(PriorityQueue, WithoutMaxPriorityThePropertyIsIgnored) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  publish_priorities(*ch, "q", {1, 9, std::nullopt, 5});
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"m0-p1", "m1-p9", "m2-none", "m3-p5"}));
}

TEST(PriorityQueue, MaxPriorityZeroIsFifo) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", max_priority(0)));
  publish_priorities(*ch, "q", {1, 9, std::nullopt, 0});
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"m0-p1", "m1-p9", "m2-none", "m3-p0"}));
}

TEST(PriorityQueue, RequeuedMessageGoesBackAmongItsOwnPriority) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", max_priority(5)));
  publish_priorities(*ch, "q", {5, 1, 5, 1});
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r), "m0-p5");
  EXPECT_EQ(r->message_count, 3u);
  BasicProperties p3;
  p3.priority = 3;
  ASSERT_OK(publish(*ch, "", "q", "late-p3", p3));
  ASSERT_OK(ch->nack(r->delivery_tag, false, /*requeue=*/true));
  // priority.requeue_keeps_priority_order.
  auto again = get_message(*ch, "q");
  ASSERT_TRUE(again);
  EXPECT_EQ(body_of(again), "m0-p5");
  EXPECT_TRUE(again->entry.redelivered);
  EXPECT_EQ(again->message_count, 4u);
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"m2-p5", "late-p3", "m1-p1", "m3-p1"}));
}

TEST(PriorityQueue, BusyConsumerReceivesWhatWaitedInPriorityOrder) {
  TestBroker b;
  auto& cons = b.open_channel();
  auto& pub = b.open_channel();
  ASSERT_OK(declare(*cons, "q", max_priority(10)));
  ASSERT_OK(cons->qos(0, 1, false));
  ASSERT_OK(consume(*cons, "q", "c1"));
  BasicProperties p1;
  p1.priority = 1;
  ASSERT_OK(publish(*pub, "", "q", "first", p1));
  ASSERT_TRUE(cons.sink->wait_for_deliveries(1));
  publish_priorities(*pub, "q", {1, 7, 4});
  for (size_t i = 1; i <= 3; ++i) {
    ASSERT_OK(cons->ack(cons.sink->deliveries().back().delivery_tag, false));
    ASSERT_TRUE(cons.sink->wait_for_deliveries(i + 1));
  }
  EXPECT_EQ(cons.sink->bodies(), (Strings{"first", "m1-p7", "m2-p4", "m0-p1"}));
}

TEST(PriorityQueue, DropHeadDropsTheHighestPriorityHead) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(
      declare(*ch, "q", FieldTable{{"x-max-priority", int64_t{5}}, {"x-max-length", int64_t{2}}}));
  publish_priorities(*ch, "q", {1, 5, 3});
  // priority.drop_head_in_priority_queue: the head is the next message to deliver.
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"m2-p3", "m0-p1"}));
}

TEST(PriorityQueue, CountsSpanEveryPriority) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", max_priority(2)));
  publish_priorities(*ch, "q", {0, 1, 2, 2, std::nullopt});
  EXPECT_EQ(b.counts("q").ready, 5u);
  auto r = get_message(*ch, "q");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r), "m2-p2");
  EXPECT_EQ(r->message_count, 4u);
  auto purged = ch->purge_queue("q");
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 4u);
  EXPECT_EQ(b.counts("q").ready, 0u);
}

}  // namespace
}  // namespace burrow::broker
