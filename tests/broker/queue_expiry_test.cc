// Tests for x-expires on a manual clock: an unused queue is deleted after the time; consumers,
// basic.get and (passive) declarations count as use, publishing does not; its messages are
// not dead-lettered.
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
using testing::publish_mandatory;
using testing::TestBroker;

constexpr TimeMs kStart = 1'700'000'000'000;

FieldTable expires_args(int64_t ms) { return FieldTable{{"x-expires", ms}}; }

Status passive_declare(Channel& ch, std::string name) {
  return ch.declare_queue(QueueDeclareRequest{.name = std::move(name), .passive = true}).status();
}

TEST(QueueExpiry, UnusedQueueIsDeletedAfterTheTime) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(300)));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_OK(b.advance(299));
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(b.advance(1));
  EXPECT_FALSE(b.queue_exists("q"));
  Status s = passive_declare(*ch, "q");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no queue 'q' in vhost '/'");
}

TEST(QueueExpiry, PublishingDoesNotCountAsUse) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(300)));
  ASSERT_OK(b.advance(200));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_OK(b.advance(100));
  EXPECT_FALSE(b.queue_exists("q"));
}

TEST(QueueExpiry, ConsumerKeepsTheQueueUntilItIsCancelled) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(300)));
  ASSERT_OK(consume(*ch, "q", "c1"));
  ASSERT_OK(b.advance(1000));
  EXPECT_TRUE(b.queue_exists("q"));
  EXPECT_EQ(b.counts("q").consumers, 1u);
  ASSERT_OK(ch->cancel("c1", nullptr));
  // The countdown starts again when the last consumer goes.
  ASSERT_OK(b.advance(299));
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(b.advance(1));
  EXPECT_FALSE(b.queue_exists("q"));
}

TEST(QueueExpiry, ConsumerCancelledBeforeTheFirstDeadlineRestartsTheCountdown) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(300)));
  ASSERT_OK(b.advance(100));
  ASSERT_OK(consume(*ch, "q", "c1"));
  ASSERT_OK(b.advance(100));
  ASSERT_OK(ch->cancel("c1", nullptr));  // at 200: unused until 500
  ASSERT_OK(b.advance(299));
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(b.advance(1));
  EXPECT_FALSE(b.queue_exists("q"));
}

TEST(QueueExpiry, ClosingTheConsumersChannelMakesTheQueueUnused) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  auto& cons = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(300)));
  ASSERT_OK(consume(*cons, "q", "c1"));
  ASSERT_OK(b.advance(800));
  EXPECT_TRUE(b.queue_exists("q"));
  cons->close();
  ASSERT_OK(b.advance(299));
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(b.advance(1));
  EXPECT_FALSE(b.queue_exists("q"));
}

TEST(QueueExpiry, BasicGetCountsAsUseEvenOnAnEmptyQueue) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(1000)));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(b.advance(600));
    EXPECT_FALSE(get_message(*ch, "q"));
  }
  EXPECT_TRUE(b.queue_exists("q"));  // 1800 ms after the declaration
  ASSERT_OK(b.advance(999));
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(b.advance(1));
  EXPECT_FALSE(b.queue_exists("q"));
}

TEST(QueueExpiry, RedeclaringCountsAsUse) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(1000)));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(b.advance(600));
    ASSERT_OK(declare(*ch, "q", expires_args(1000)));
  }
  ASSERT_OK(b.advance(999));
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(b.advance(1));
  EXPECT_FALSE(b.queue_exists("q"));
}

TEST(QueueExpiry, PassiveDeclareCountsAsUse) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(1000)));
  // expires.passive_declare_use: passive declares 700 ms apart keep a 1000 ms queue alive.
  ASSERT_OK(b.advance(700));
  ASSERT_OK(passive_declare(*ch, "q"));
  ASSERT_OK(b.advance(700));
  ASSERT_OK(passive_declare(*ch, "q"));
  ASSERT_OK(b.advance(999));
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(b.advance(1));
  EXPECT_FALSE(b.queue_exists("q"));
}

TEST(QueueExpiry, MessagesOfAnExpiredQueueAreNotDeadLettered) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-expires", int64_t{300}},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_OK(b.advance(300));
  EXPECT_FALSE(b.queue_exists("q"));
  EXPECT_EQ(b.counts("dlq").ready, 0u);
  EXPECT_FALSE(get_message(*ch, "dlq"));
}

TEST(QueueExpiry, ExpiredQueueIsUnroutableAndCannotBeConsumed) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(200)));
  ASSERT_OK(b.advance(800));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "m"));
  ASSERT_EQ(ch.sink->returns().size(), 1u);
  EXPECT_EQ(ch.sink->returns()[0].reply_text, "NO_ROUTE");
  auto tag = consume(*ch, "q", "c1");
  EXPECT_EQ(tag.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tag.status().message(), "no queue 'q' in vhost '/'");
}

TEST(QueueExpiry, ExpiredQueueTakesItsBindingsWithIt) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", expires_args(200)));
  ASSERT_OK(ch->bind_queue("q", "amq.direct", "k", {}));
  ASSERT_OK(b.advance(200));
  ASSERT_OK(declare(*ch, "q"));  // a new queue of the same name, without the binding
  ASSERT_OK(publish(*ch, "amq.direct", "k", "m"));
  EXPECT_EQ(b.counts("q").ready, 0u);
}

}  // namespace
}  // namespace burrow::broker
