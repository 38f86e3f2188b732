// Tests for message TTL on a manual clock: x-message-ttl, the expiration property (the smaller
// TTL wins, RabbitMQ's validation texts), expiry at the head only, TTL 0, requeue and unacked.
#include <cstdint>
#include <string>
#include <vector>

#include <burrow/clock.h>
#include <gtest/gtest.h>

#include "broker/queue_arguments.h"
#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::body_of;
using testing::consume;
using testing::declare;
using testing::drain_bodies;
using testing::get_message;
using testing::publish;
using testing::publish_mandatory;
using testing::TestBroker;
using testing::with_expiration;
using Strings = std::vector<std::string>;

constexpr TimeMs kStart = 1'700'000'000'000;

FieldTable ttl_args(int64_t ttl) { return FieldTable{{"x-message-ttl", ttl}}; }

// ---- x-message-ttl and the expiration property ----------------------------------------

TEST(MessageTtl, QueueTtlExpiresMessagesExactlyAtTheTtl) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(200)));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_OK(b.advance(199));
  EXPECT_EQ(b.counts("q").ready, 2u);
  ASSERT_OK(b.advance(1));
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_FALSE(get_message(*ch, "q"));
}

TEST(MessageTtl, TtlRunsFromWhenEachMessageEntersTheQueue) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(200)));
  ASSERT_OK(publish(*ch, "", "q", "early"));
  ASSERT_OK(b.advance(100));
  ASSERT_OK(publish(*ch, "", "q", "late"));
  ASSERT_OK(b.advance(100));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"late"});
}

TEST(MessageTtl, LongQueueTtlKeepsTheMessage) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(60000)));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(b.advance(300));
  EXPECT_EQ(body_of(get_message(*ch, "q")), "m1");
}

TEST(MessageTtl, PerMessageExpirationExpiresOnlyThatMessage) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "short", with_expiration("200")));
  ASSERT_OK(publish(*ch, "", "q", "long", with_expiration("60000")));
  ASSERT_OK(b.advance(200));
  EXPECT_EQ(b.counts("q").ready, 1u);
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"long"});
}

TEST(MessageTtl, SmallerOfQueueTtlAndExpirationWins) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q-queue-long", ttl_args(60000)));
  ASSERT_OK(declare(*ch, "q-queue-short", ttl_args(200)));
  for (const char* q : {"q-queue-long", "q-queue-short"}) {
    ASSERT_OK(publish(*ch, "", q, "msg-short", with_expiration("200")));
    ASSERT_OK(publish(*ch, "", q, "msg-long", with_expiration("60000")));
    ASSERT_OK(publish(*ch, "", q, "msg-none"));
  }
  ASSERT_OK(b.advance(700));
  // ttl.expiration_smaller_wins: everything with an effective TTL of 200 ms is gone.
  EXPECT_EQ(drain_bodies(*ch, "q-queue-long"), (Strings{"msg-long", "msg-none"}));
  EXPECT_EQ(drain_bodies(*ch, "q-queue-short"), Strings{});
}

TEST(MessageTtl, ExpirationPropertyIsDeliveredUnchanged) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(60000)));
  ASSERT_OK(consume(*ch, "q", "c1"));
  BasicProperties props = with_expiration("30000");
  props.priority = 1;
  ASSERT_OK(publish(*ch, "", "q", "m", props));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  const BasicProperties& got = ch.sink->deliveries()[0].message->message.properties;
  EXPECT_EQ(got.expiration, "30000");
  EXPECT_EQ(got.priority, 1);
}

// ---- expiry at the head only ----------------------------------------------------------

TEST(MessageTtl, ExpiredMessageBehindALiveHeadStaysCounted) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "long", with_expiration("60000")));
  ASSERT_OK(publish(*ch, "", "q", "short", with_expiration("100")));
  ASSERT_OK(publish(*ch, "", "q", "none"));
  ASSERT_OK(b.advance(500));
  // ttl.expiry_only_at_head: declare-ok still counts 3.
  EXPECT_EQ(b.counts("q").ready, 3u);
}

TEST(MessageTtl, GetCountsAfterDroppingTheNewlyExposedExpiredHead) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "long", with_expiration("60000")));
  ASSERT_OK(publish(*ch, "", "q", "short", with_expiration("100")));
  ASSERT_OK(publish(*ch, "", "q", "none"));
  ASSERT_OK(b.advance(500));
  auto first = get_message(*ch, "q");
  ASSERT_TRUE(first);
  EXPECT_EQ(body_of(first), "long");
  // "short" reached the head already expired: gone before get-ok's message_count is taken.
  EXPECT_EQ(first->message_count, 1u);
  EXPECT_EQ(b.counts("q").ready, 1u);
  auto second = get_message(*ch, "q");
  EXPECT_EQ(body_of(second), "none");
  EXPECT_EQ(second->message_count, 0u);
  EXPECT_FALSE(get_message(*ch, "q"));
}

TEST(MessageTtl, NewHeadExpiresOnItsOwnDeadline) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "a", with_expiration("60000")));
  ASSERT_OK(publish(*ch, "", "q", "b", with_expiration("2000")));
  EXPECT_EQ(body_of(get_message(*ch, "q")), "a");
  ASSERT_OK(b.advance(1999));
  EXPECT_EQ(b.counts("q").ready, 1u);
  ASSERT_OK(b.advance(1));
  EXPECT_EQ(b.counts("q").ready, 0u);
}

// ---- TTL 0 ----------------------------------------------------------------------------

TEST(MessageTtl, TtlZeroWithoutAConsumerDropsTheMessage) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(*ch, "q", ttl_args(0)));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ch->flush();
  // ttl.queue_ttl_zero_without_consumer: confirmed, not returned, not queued.
  EXPECT_TRUE(ch.sink->returns().empty());
  ASSERT_EQ(ch.sink->confirms().size(), 1u);
  EXPECT_EQ(ch.sink->confirms()[0], (testing::RecordingSink::Confirm{2, true, true}));
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_FALSE(get_message(*ch, "q"));
}

TEST(MessageTtl, TtlZeroIsDeliveredToAConsumerThatCanTakeItAtOnce) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& cons = b.open_channel();
  auto& pub = b.open_channel();
  ASSERT_OK(declare(*cons, "q", ttl_args(0)));
  ASSERT_OK(consume(*cons, "q", "c1", /*no_ack=*/true));
  ASSERT_OK(publish(*pub, "", "q", "m1"));
  ASSERT_OK(publish(*pub, "", "q", "m2"));
  ASSERT_TRUE(cons.sink->wait_for_deliveries(2));
  EXPECT_EQ(cons.sink->bodies(), (Strings{"m1", "m2"}));
}

TEST(MessageTtl, TtlZeroIsDroppedWhenTheConsumerIsAtItsPrefetchLimit) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& cons = b.open_channel();
  auto& pub = b.open_channel();
  ASSERT_OK(declare(*cons, "q", ttl_args(0)));
  ASSERT_OK(cons->qos(0, 1, false));
  ASSERT_OK(consume(*cons, "q", "c1"));
  ASSERT_OK(publish(*pub, "", "q", "first"));
  ASSERT_TRUE(cons.sink->wait_for_deliveries(1));
  ASSERT_OK(publish(*pub, "", "q", "second"));
  ASSERT_OK(cons->ack(cons.sink->deliveries()[0].delivery_tag, false));
  // ttl.queue_ttl_zero_blocked_consumer: "second" could not be delivered at once.
  EXPECT_TRUE(cons.sink->stays_at(1));
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").consumers, 1u);
}

TEST(MessageTtl, ExpirationZeroBehavesLikeTtlZero) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  auto& cons = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(declare(*ch, "q2"));
  ASSERT_OK(publish(*ch, "", "q", "nobody", with_expiration("0")));
  EXPECT_FALSE(get_message(*ch, "q"));
  ASSERT_OK(consume(*cons, "q2", "c1", /*no_ack=*/true));
  ASSERT_OK(publish(*ch, "", "q2", "consumed", with_expiration("0")));
  ASSERT_TRUE(cons.sink->wait_for_deliveries(1));
  EXPECT_EQ(cons.sink->bodies(), Strings{"consumed"});
}

TEST(MessageTtl, TtlZeroWithoutAConsumerIsDeadLetteredAsExpired) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-message-ttl", int64_t{0}},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "dlq");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r), "m1");
  const FieldValue* reason = testing::header_of(*r->entry.message, "x-first-death-reason");
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(*reason, FieldValue("expired"));
}

// ---- requeue, unacked, consumers ---------------------------------------------------------

TEST(MessageTtl, UnackedMessageDoesNotExpire) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(200)));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(b.advance(600));
  EXPECT_EQ(b.counts("q").unacked, 1u);
  EXPECT_OK(ch->ack(r->delivery_tag, false));
  EXPECT_EQ(b.counts("q").unacked, 0u);
  EXPECT_EQ(b.counts("q").ready, 0u);
}

TEST(MessageTtl, RequeuedBeforeItsDeadlineKeepsTheOriginalDeadline) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(700)));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(b.advance(100));
  ASSERT_OK(ch->reject(r->delivery_tag, /*requeue=*/true));
  auto again = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->entry.redelivered);
  ASSERT_OK(ch->reject(again->delivery_tag, /*requeue=*/true));
  ASSERT_OK(b.advance(599));
  EXPECT_EQ(b.counts("q").ready, 1u);
  ASSERT_OK(b.advance(1));  // 700 ms after the publish, not after the requeue
  EXPECT_EQ(b.counts("q").ready, 0u);
}

TEST(MessageTtl, RequeuedAfterItsDeadlineIsNotRedelivered) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(200)));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(b.advance(600));
  ASSERT_OK(ch->nack(r->delivery_tag, false, /*requeue=*/true));
  // ttl.requeued_keeps_expiry.
  EXPECT_FALSE(get_message(*ch, "q"));
  EXPECT_EQ(b.counts("q").ready, 0u);
}

// Regression (fixed): broker/classic_queue.cc, ClassicQueue::requeue_locked only re-arms the TTL
// timer for a requeued message whose deadline has passed; with a ManualClock that timer (due in the
// past) runs only at the next advance_clock, so until then counts() (declare-ok's message_count)
// reports the dead message as ready (and it is dead-lettered late). RabbitMQ's requeue_and_run
// calls drop_expired_msgs at once: declare-ok right after the nack reports 0.
TEST(MessageTtl, RequeuedAfterItsDeadlineIsDroppedAtOnce) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(200)));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(b.advance(600));
  ASSERT_OK(ch->nack(r->delivery_tag, false, /*requeue=*/true));
  EXPECT_EQ(b.counts("q").ready, 0u);
}

TEST(MessageTtl, RecoverAfterTheDeadlineDropsTheMessages) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(200)));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2", with_expiration("60000")));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  ASSERT_OK(b.advance(600));
  ASSERT_OK(ch->recover(true));
  // ttl.recover_after_expiry: m1 requeued dead, m2's effective TTL was 200 too.
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{});
}

TEST(MessageTtl, ConsumerAttachedAfterTheTtlGetsOnlyFreshMessages) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  auto& cons = b.open_channel();
  ASSERT_OK(declare(*ch, "q", ttl_args(150)));
  ASSERT_OK(publish(*ch, "", "q", "old1"));
  ASSERT_OK(publish(*ch, "", "q", "old2"));
  ASSERT_OK(b.advance(600));
  ASSERT_OK(consume(*cons, "q", "c1", /*no_ack=*/true));
  ASSERT_OK(publish(*ch, "", "q", "fresh"));
  ASSERT_TRUE(cons.sink->wait_for_deliveries(1));
  EXPECT_TRUE(cons.sink->stays_at(1));
  EXPECT_EQ(cons.sink->bodies(), Strings{"fresh"});
}

TEST(MessageTtl, MessagesWaitingForABlockedConsumerExpire) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& cons = b.open_channel();
  auto& pub = b.open_channel();
  ASSERT_OK(declare(*cons, "q", ttl_args(1000)));
  ASSERT_OK(cons->qos(0, 1, false));
  ASSERT_OK(consume(*cons, "q", "c1"));
  ASSERT_OK(publish(*pub, "", "q", "m1"));
  ASSERT_OK(publish(*pub, "", "q", "m2"));
  ASSERT_TRUE(cons.sink->wait_for_deliveries(1));
  ASSERT_OK(b.advance(1000));
  EXPECT_EQ(b.counts("q").ready, 0u);
  ASSERT_OK(cons->ack(cons.sink->deliveries()[0].delivery_tag, false));
  EXPECT_TRUE(cons.sink->stays_at(1));
  EXPECT_EQ(cons.sink->bodies(), Strings{"m1"});
}

// ---- expiration property validation -------------------------------------------------------

struct ExpirationCase {
  std::string expiration;
  std::string error;  // empty: accepted
};

TEST(MessageTtl, InvalidExpirationIs406WithRabbitMqsText) {
  // ttl.invalid_expiration_406 (RabbitMQ 3.10.8's texts, Erlang's line break included).
  const std::vector<ExpirationCase> cases = {
      {"abc", "invalid expiration 'abc': no_integer"},
      {"-1", "invalid expiration '-1': {value_negative,-1}"},
      {"10x", "invalid expiration '10x': {leftover_string,\"x\"}"},
      {"", "invalid expiration '': no_integer"},
      {" 10", "invalid expiration ' 10': no_integer"},
      {"1.5", "invalid expiration '1.5': {leftover_string,\".5\"}"},
      {"0x10", "invalid expiration '0x10': {leftover_string,\"x10\"}"},
      {"99999999999999999999", "invalid expiration '99999999999999999999': {value_too_large,\n" +
                                   std::string(44, ' ') + "99999999999999999999}"},
      {"315360000001", "invalid expiration '315360000001': {value_too_large,315360000001}"},
  };
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (const ExpirationCase& c : cases) {
    Status s = publish(*ch, "", "q", "m", with_expiration(c.expiration));
    EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed) << "'" << c.expiration << "'";
    EXPECT_EQ(s.message(), c.error);
  }
  EXPECT_EQ(b.counts("q").ready, 0u);
}

TEST(MessageTtl, ExpirationWithAPlusSignOrTenYearsIsAccepted) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "plus", with_expiration("+60000")));
  ASSERT_OK(publish(*ch, "", "q", "max", with_expiration("315360000000")));
  ASSERT_OK(b.advance(59999));
  auto r = get_message(*ch, "q");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r), "plus");
  EXPECT_EQ(r->entry.message->message.properties.expiration, "+60000");
}

TEST(MessageTtl, ExpirationIsValidatedEvenWhenUnroutable) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  Status s = publish(*ch, "", "noqueue", "m", with_expiration("soon"));
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "invalid expiration 'soon': no_integer");
  s = publish(*ch, "amq.direct", "nokey", "m", with_expiration("-5"), /*mandatory=*/true);
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "invalid expiration '-5': {value_negative,-5}");
  EXPECT_TRUE(ch.sink->returns().empty());
}

TEST(MessageTtl, ParseExpirationReturnsTheTtl) {
  EXPECT_EQ(*parse_expiration("0"), 0);
  EXPECT_EQ(*parse_expiration("+5"), 5);
  EXPECT_EQ(*parse_expiration("0060000"), 60000);
  EXPECT_EQ(*parse_expiration("315360000000"), 315360000000);
  EXPECT_EQ(*parse_expiration("-0"), 0);
}

}  // namespace
}  // namespace burrow::broker
