// Tests for the consumer acknowledgement timeout (Options::consumer_timeout_ms) on a manual
// clock: a delivery left unacked past the timeout makes the broker close the channel with 406.
#include <cstdint>
#include <string>

#include <burrow/clock.h>
#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::consume;
using testing::declare;
using testing::get_message;
using testing::publish;
using testing::TestBroker;

constexpr TimeMs kStart = 1'700'000'000'000;

Options timeout_options(ManualClock& clock, int64_t timeout_ms) {
  Options options = TestBroker::manual_clock_options(clock);
  options.consumer_timeout_ms = timeout_ms;
  return options;
}

std::string timeout_text(uint16_t channel, int64_t timeout_ms) {
  return "delivery acknowledgement on channel " + std::to_string(channel) +
         " timed out. Timeout value used: " + std::to_string(timeout_ms) +
         " ms. This timeout value can be configured, see consumers doc guide to learn more";
}

TEST(ConsumerTimeout, UnackedDeliveryPastTheTimeoutClosesTheChannelWith406) {
  ManualClock clock(kStart);
  TestBroker b(timeout_options(clock, 1000));
  auto& pub = b.open_channel();
  auto& cons = b.open_channel();
  ASSERT_OK(declare(*pub, "q"));
  ASSERT_OK(consume(*cons, "q", "c1"));
  ASSERT_OK(publish(*pub, "", "q", "m1"));
  ASSERT_TRUE(cons.sink->wait_for_deliveries(1));
  // The sink hears of a delivery before the channel records it (and arms its timer):
  // unacked_count() takes the channel's lock, so it waits for the delivery to be recorded.
  ASSERT_EQ(cons->unacked_count(), 1u);
  ASSERT_OK(b.advance(999));
  EXPECT_TRUE(cons.sink->errors().empty());
  ASSERT_OK(b.advance(1));
  auto errors = cons.sink->errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(errors[0].message(), timeout_text(cons->number(), 1000));
  EXPECT_TRUE(pub.sink->errors().empty());
}

TEST(ConsumerTimeout, AckingInTimePreventsIt) {
  ManualClock clock(kStart);
  TestBroker b(timeout_options(clock, 1000));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c1"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_EQ(ch->unacked_count(), 1u);
  ASSERT_OK(b.advance(500));
  ASSERT_OK(ch->ack(ch.sink->deliveries()[0].delivery_tag, false));
  ASSERT_OK(b.advance(5000));
  EXPECT_TRUE(ch.sink->errors().empty());
}

TEST(ConsumerTimeout, TheOldestUnackedDeliveryDecides) {
  ManualClock clock(kStart);
  TestBroker b(timeout_options(clock, 1000));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c1"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_EQ(ch->unacked_count(), 1u);
  ASSERT_OK(b.advance(500));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(2));
  ASSERT_EQ(ch->unacked_count(), 2u);
  ASSERT_OK(b.advance(400));
  ASSERT_OK(ch->ack(ch.sink->deliveries()[0].delivery_tag, false));
  ASSERT_OK(b.advance(599));  // m2 delivered 999 ms ago
  EXPECT_TRUE(ch.sink->errors().empty());
  ASSERT_OK(b.advance(1));
  ASSERT_EQ(ch.sink->errors().size(), 1u);
  EXPECT_EQ(ch.sink->errors()[0].message(), timeout_text(ch->number(), 1000));
}

TEST(ConsumerTimeout, BasicGetWithAcksIsTimedToo) {
  ManualClock clock(kStart);
  TestBroker b(timeout_options(clock, 1000));
  b.open_channel();  // so the timed channel is number 2
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  ASSERT_OK(b.advance(1000));
  ASSERT_EQ(ch.sink->errors().size(), 1u);
  EXPECT_EQ(ch.sink->errors()[0].message(), timeout_text(2, 1000));
}

TEST(ConsumerTimeout, NoAckDeliveriesAreNotTimed) {
  ManualClock clock(kStart);
  TestBroker b(timeout_options(clock, 1000));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c1", /*no_ack=*/true));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_EQ(ch->unacked_count(), 0u);
  ASSERT_OK(b.advance(10000));
  EXPECT_TRUE(ch.sink->errors().empty());
}

TEST(ConsumerTimeout, ZeroDisablesTheCheck) {
  ManualClock clock(kStart);
  TestBroker b(timeout_options(clock, 0));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  ASSERT_OK(b.advance(int64_t{24} * 3600 * 1000));
  EXPECT_TRUE(ch.sink->errors().empty());
}

TEST(ConsumerTimeout, DefaultIsThirtyMinutes) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  ASSERT_OK(b.advance(1799999));
  EXPECT_TRUE(ch.sink->errors().empty());
  ASSERT_OK(b.advance(1));
  ASSERT_EQ(ch.sink->errors().size(), 1u);
  EXPECT_EQ(ch.sink->errors()[0].message(), timeout_text(ch->number(), 1800000));
}

TEST(ConsumerTimeout, ClosedChannelIsNotTimed) {
  ManualClock clock(kStart);
  TestBroker b(timeout_options(clock, 1000));
  auto& ch = b.open_channel();
  auto& cons = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(get_message(*cons, "q", /*no_ack=*/false));
  cons->close();
  ASSERT_OK(b.advance(2000));
  EXPECT_TRUE(cons.sink->errors().empty());
  EXPECT_EQ(b.counts("q").ready, 1u);
}

}  // namespace
}  // namespace burrow::broker
