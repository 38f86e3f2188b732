// Tests for the x-delayed-message exchange (rabbitmq-delayed-message-exchange's type) on a
// manual clock: declaration checks, x-delay holding a message until the clock passes it,
// immediate routing without a delay, and the plugin's NO_ROUTE for mandatory delayed publishes.
#include <cstdint>
#include <string>
#include <vector>

#include <burrow/clock.h>
#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::declare;
using testing::declare_exchange;
using testing::drain_bodies;
using testing::publish;
using testing::TestBroker;
using testing::with_headers;
using Strings = std::vector<std::string>;

constexpr TimeMs kStart = 1'700'000'000'000;

FieldTable delayed_type(FieldValue type) { return FieldTable{{"x-delayed-type", std::move(type)}}; }

BasicProperties delay(FieldValue ms) {
  return with_headers(FieldTable{{"x-delay", std::move(ms)}});
}

// "x" delaying for a direct exchange, and "q" bound to it with key "k".
void declare_delayed(Channel& ch) {
  ASSERT_OK(declare_exchange(ch, "x", "x-delayed-message", delayed_type("direct")));
  ASSERT_OK(declare(ch, "q"));
  ASSERT_OK(ch.bind_queue("q", "x", "k", {}));
}

// ---- declaration --------------------------------------------------------------------------

TEST(DelayedExchange, DeclareWithoutDelayedTypeIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status s = declare_exchange(*ch, "x", "x-delayed-message");
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "Invalid argument, 'x-delayed-type' must be an existing exchange type");
}

// Regression (fixed): broker/vhost.cc, VHost::declare_exchange answers a non-string x-delayed-type
// with "Invalid argument, 'x-delayed-type' must be of type longstr". The plugin's validate/1 has
// one clause for anything but a binary: 406 "Invalid argument, 'x-delayed-type' must be an
// existing exchange type" (rabbit_exchange_type_delayed_message.erl, every release).
TEST(DelayedExchange, DeclareWithANonStringDelayedTypeIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status s = declare_exchange(*ch, "x", "x-delayed-message", delayed_type(int64_t{1}));
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "Invalid argument, 'x-delayed-type' must be an existing exchange type");
}

// Regression (fixed): broker/vhost.cc, VHost::declare_exchange answers an unknown x-delayed-type
// with 406 "Invalid argument, 'x-delayed-type' must be an existing exchange type". The plugin calls
// rabbit_exchange:check_type(Type) on a binary type, which fails with 503 COMMAND_INVALID
// "unknown exchange type 'foo'", as an exchange.declare of type 'foo' does.
TEST(DelayedExchange, DeclareWithAnUnknownDelayedTypeIs503) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status s = declare_exchange(*ch, "x", "x-delayed-message", delayed_type("foo"));
  EXPECT_EQ(s.code(), StatusCode::kCommandInvalid);
  EXPECT_EQ(s.message(), "unknown exchange type 'foo'");
}

TEST(DelayedExchange, DelayedTypeCannotBeItself) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status s = declare_exchange(*ch, "x", "x-delayed-message", delayed_type("x-delayed-message"));
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
}

TEST(DelayedExchange, EveryCoreTypeMayBeTheDelayedType) {
  TestBroker b;
  auto& ch = b.open_channel();
  for (const char* type : {"direct", "fanout", "topic", "headers"}) {
    EXPECT_OK(
        declare_exchange(*ch, std::string("x-") + type, "x-delayed-message", delayed_type(type)))
        << type;
  }
}

TEST(DelayedExchange, RedeclareWithTheSameArgumentsIsOk) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_exchange(*ch, "x", "x-delayed-message", delayed_type("direct")));
  EXPECT_OK(declare_exchange(*ch, "x", "x-delayed-message", delayed_type("direct")));
  Status s = declare_exchange(*ch, "x", "direct");
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(),
            "inequivalent arg 'type' for exchange 'x' in vhost '/': received 'direct' but current "
            "is 'x-delayed-message'");
}

// ---- delaying -----------------------------------------------------------------------------

TEST(DelayedExchange, MessageIsRoutedOnlyOnceTheDelayHasPassed) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "later", delay(int64_t{1000})));
  EXPECT_EQ(b.counts("q").ready, 0u);
  ASSERT_OK(b.advance(999));
  EXPECT_EQ(b.counts("q").ready, 0u);
  ASSERT_OK(b.advance(1));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"later"});
}

TEST(DelayedExchange, MessageWithoutADelayRoutesAtOnce) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "plain"));
  ASSERT_OK(publish(*ch, "x", "k", "zero", delay(int64_t{0})));
  ASSERT_OK(publish(*ch, "x", "k", "negative", delay(int64_t{-5})));
  ASSERT_OK(publish(*ch, "x", "k", "string", delay("1000")));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"plain", "zero", "negative", "string"}));
}

TEST(DelayedExchange, AnyIntegerTypeIsADelay) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "int32", delay(int32_t{100})));
  ASSERT_OK(publish(*ch, "x", "k", "int16", delay(int16_t{200})));
  EXPECT_EQ(b.counts("q").ready, 0u);
  ASSERT_OK(b.advance(100));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"int32"});
  ASSERT_OK(b.advance(100));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"int16"});
}

TEST(DelayedExchange, ShorterDelayPublishedLaterArrivesFirst) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "slow", delay(int64_t{2000})));
  ASSERT_OK(publish(*ch, "x", "k", "fast", delay(int64_t{1000})));
  ASSERT_OK(b.advance(5000));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"fast", "slow"}));
}

TEST(DelayedExchange, DelayedMessageIsRoutedByTheDelayedTypeWhenReleased) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_exchange(*ch, "x", "x-delayed-message", delayed_type("topic")));
  ASSERT_OK(declare(*ch, "a"));
  ASSERT_OK(declare(*ch, "other"));
  ASSERT_OK(ch->bind_queue("a", "x", "a.*", {}));
  ASSERT_OK(ch->bind_queue("other", "x", "b.#", {}));
  ASSERT_OK(publish(*ch, "x", "a.one", "m1", delay(int64_t{50})));
  // A binding made during the delay counts: routing happens at release.
  ASSERT_OK(declare(*ch, "late"));
  ASSERT_OK(ch->bind_queue("late", "x", "#", {}));
  ASSERT_OK(b.advance(50));
  EXPECT_EQ(drain_bodies(*ch, "a"), Strings{"m1"});
  EXPECT_EQ(drain_bodies(*ch, "late"), Strings{"m1"});
  EXPECT_EQ(drain_bodies(*ch, "other"), Strings{});
}

TEST(DelayedExchange, DelayedMessageKeepsItsExchangeKeyAndHeaders) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "m1", delay(int64_t{10})));
  ASSERT_OK(b.advance(10));
  auto r = testing::get_message(*ch, "q");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->entry.message->message.exchange, "x");
  EXPECT_EQ(r->entry.message->message.routing_key, "k");
  EXPECT_EQ(*testing::header_of(*r->entry.message, "x-delay"), FieldValue(int64_t{10}));
}

TEST(DelayedExchange, MandatoryDelayedPublishIsReturnedButStillDelivered) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "m1", delay(int64_t{1000}), /*mandatory=*/true));
  ch->flush();
  // The plugin's route/2 returns no queues for a delayed message: NO_ROUTE, then the ack.
  EXPECT_EQ(ch.sink->events(),
            (std::vector<std::string>{"return:312:NO_ROUTE:m1", "confirm:1:ack"}));
  ASSERT_OK(b.advance(1000));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m1"});
}

TEST(DelayedExchange, MandatoryPublishWithoutADelayIsNotReturned) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "m1", {}, /*mandatory=*/true));
  EXPECT_TRUE(ch.sink->returns().empty());
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m1"});
}

TEST(DelayedExchange, MessageHeldForADeletedExchangeIsDropped) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "m1", delay(int64_t{100})));
  ASSERT_OK(ch->delete_exchange("x", false));
  ASSERT_OK(b.advance(100));
  EXPECT_EQ(b.counts("q").ready, 0u);
}

// Regression (fixed): broker/vhost.cc, VHost::route holds a message for any positive x-delay. The
// plugin's delay_message/2 delays only when 0 < Delay =< 4294967295 (?ERL_MAX_T, Erlang's largest
// timer); a larger x-delay routes the message at once.
TEST(DelayedExchange, DelayBeyondErlangsLargestTimerRoutesAtOnce) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_delayed(*ch);
  ASSERT_OK(publish(*ch, "x", "k", "max", delay(int64_t{4294967295})));
  ASSERT_OK(publish(*ch, "x", "k", "beyond", delay(int64_t{4294967296})));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"beyond"});
}

}  // namespace
}  // namespace burrow::broker
