// Tests for x-delivery-limit on classic queues (Burrow's extension with quorum-queue
// semantics): x-delivery-count on redelivery, dead-lettering with reason delivery_limit.
#include <cstdint>
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
using testing::header_of;
using testing::publish;
using testing::TestBroker;
using Strings = std::vector<std::string>;

void declare_limited(Channel& ch, int64_t limit) {
  ASSERT_OK(declare(ch, "dlq"));
  ASSERT_OK(declare(ch, "q",
                    FieldTable{{"x-delivery-limit", limit},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
}

TEST(DeliveryLimit, FirstDeliveryHasNoDeliveryCount) {
  TestBroker b;
  auto& ch = b.open_channel();
  declare_limited(*ch, 2);
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(header_of(*r->entry.message, "x-delivery-count"), nullptr);
}

TEST(DeliveryLimit, RedeliveriesCarryTheCountOfEarlierDeliveries) {
  TestBroker b;
  auto& ch = b.open_channel();
  declare_limited(*ch, 5);
  ASSERT_OK(publish(*ch, "", "q", "m1", testing::with_headers(FieldTable{{"app", "v"}})));
  for (int64_t n = 1; n <= 3; ++n) {
    auto r = get_message(*ch, "q", false);
    ASSERT_TRUE(r);
    ASSERT_OK(ch->nack(r->delivery_tag, false, /*requeue=*/true));
    auto again = get_message(*ch, "q", false);
    ASSERT_TRUE(again);
    const FieldValue* count = header_of(*again->entry.message, "x-delivery-count");
    ASSERT_NE(count, nullptr);
    EXPECT_EQ(*count, FieldValue(int64_t{2 * n - 1}));
    EXPECT_EQ(*header_of(*again->entry.message, "app"), FieldValue("v"));
    EXPECT_TRUE(again->entry.redelivered);
    ASSERT_OK(ch->reject(again->delivery_tag, /*requeue=*/true));
  }
}

TEST(DeliveryLimit, MessageDeliveredMoreThanTheLimitIsDeadLettered) {
  TestBroker b;
  auto& ch = b.open_channel();
  declare_limited(*ch, 2);
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  // Delivered 3 times: twice more than the first, which the limit of 2 allows.
  for (int i = 0; i < 3; ++i) {
    auto r = get_message(*ch, "q", false);
    ASSERT_TRUE(r) << i;
    ASSERT_OK(ch->nack(r->delivery_tag, false, /*requeue=*/true));
  }
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").unacked, 0u);
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  EXPECT_EQ(body_of(dead), "m1");
  EXPECT_EQ(*header_of(*dead->entry.message, "x-first-death-reason"), FieldValue("delivery_limit"));
  const FieldArray* deaths = header_of(*dead->entry.message, "x-death")->get_if<FieldArray>();
  ASSERT_NE(deaths, nullptr);
  EXPECT_EQ(*deaths->front().get_if<FieldTable>()->find("reason"), FieldValue("delivery_limit"));
}

TEST(DeliveryLimit, LimitZeroDeadLettersOnTheFirstRequeue) {
  TestBroker b;
  auto& ch = b.open_channel();
  declare_limited(*ch, 0);
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->reject(r->delivery_tag, true));
  EXPECT_FALSE(get_message(*ch, "q"));
  EXPECT_EQ(drain_bodies(*ch, "dlq"), Strings{"m1"});
}

TEST(DeliveryLimit, WithoutADeadLetterExchangeTheMessageIsDropped) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-delivery-limit", int64_t{1}}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  for (int i = 0; i < 2; ++i) {
    auto r = get_message(*ch, "q", false);
    ASSERT_TRUE(r) << i;
    ASSERT_OK(ch->nack(r->delivery_tag, false, true));
  }
  EXPECT_EQ(b.counts("q").ready, 0u);
}

TEST(DeliveryLimit, ConsumerRedeliveriesAndChannelCloseCount) {
  TestBroker b;
  auto& pub = b.open_channel();
  declare_limited(*pub, 1);
  auto& first = b.open_channel();
  ASSERT_OK(consume(*first, "q", "c1"));
  ASSERT_OK(publish(*pub, "", "q", "m1"));
  ASSERT_TRUE(first.sink->wait_for_deliveries(1));
  first->close();  // requeued: delivered once, within the limit
  auto& second = b.open_channel();
  ASSERT_OK(consume(*second, "q", "c2"));
  ASSERT_TRUE(second.sink->wait_for_deliveries(1));
  auto d = second.sink->deliveries()[0];
  EXPECT_TRUE(d.redelivered);
  ASSERT_NE(header_of(*d.message, "x-delivery-count"), nullptr);
  EXPECT_EQ(*header_of(*d.message, "x-delivery-count"), FieldValue(int64_t{1}));
  ASSERT_OK(second->nack(d.delivery_tag, false, /*requeue=*/true));
  // Second delivery requeued: past the limit of 1.
  ASSERT_TRUE(b.wait_for_counts("dlq", [](const QueueCounts& c) { return c.ready == 1; }));
  EXPECT_TRUE(second.sink->stays_at(1));
}

TEST(DeliveryLimit, RejectWithoutRequeueIsAnOrdinaryRejection) {
  TestBroker b;
  auto& ch = b.open_channel();
  declare_limited(*ch, 5);
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->reject(r->delivery_tag, /*requeue=*/false));
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  EXPECT_EQ(*header_of(*dead->entry.message, "x-first-death-reason"), FieldValue("rejected"));
}

TEST(DeliveryLimit, QueuesWithoutTheArgumentAddNoHeader) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  for (int i = 0; i < 3; ++i) {
    auto r = get_message(*ch, "q", false);
    ASSERT_TRUE(r);
    EXPECT_EQ(header_of(*r->entry.message, "x-delivery-count"), nullptr);
    ASSERT_OK(ch->nack(r->delivery_tag, false, true));
  }
  EXPECT_EQ(b.counts("q").ready, 1u);
}

}  // namespace
}  // namespace burrow::broker
