// Table-driven tests for queue argument validation and redeclaration equivalence, with the
// texts RabbitMQ 3.10.8 answers (tests/differential/golden/queue_args.* and equivalence.*).
#include "broker/queue_arguments.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::declare;
using testing::TestBroker;

struct Case {
  const char* name;  // the queue's name
  FieldTable arguments;
  std::string error;  // empty: accepted
};

// ---- validation on creation ---------------------------------------------------------------

std::vector<Case> invalid_argument_cases() {
  auto invalid = [](const char* q, const char* arg, const std::string& term) {
    return "invalid arg '" + std::string(arg) + "' for queue '" + q + "' in vhost '/': " + term;
  };
  return {
      {"ttl-neg",
       {{"x-message-ttl", int64_t{-1}}},
       invalid("ttl-neg", "x-message-ttl", "{value_negative,-1}")},
      {"ttl-str",
       {{"x-message-ttl", "1000"}},
       invalid("ttl-str", "x-message-ttl", "\"expected integer, got longstr\"")},
      {"ttl-dbl",
       {{"x-message-ttl", 1000.0}},
       invalid("ttl-dbl", "x-message-ttl", "\"expected integer, got double\"")},
      {"ttl-big",
       {{"x-message-ttl", int64_t{315360000001}}},
       invalid("ttl-big", "x-message-ttl", "{value_too_large,315360000001}")},
      {"ttl-bool",
       {{"x-message-ttl", true}},
       invalid("ttl-bool", "x-message-ttl", "\"expected integer, got bool\"")},
      {"exp-zero", {{"x-expires", int64_t{0}}}, invalid("exp-zero", "x-expires", "{value_zero,0}")},
      {"exp-neg",
       {{"x-expires", int64_t{-5}}},
       invalid("exp-neg", "x-expires", "{value_negative,-5}")},
      {"exp-str",
       {{"x-expires", "1"}},
       invalid("exp-str", "x-expires", "\"expected integer, got longstr\"")},
      {"exp-big",
       {{"x-expires", int64_t{315360000001}}},
       invalid("exp-big", "x-expires", "{value_too_large,315360000001}")},
      {"len-neg",
       {{"x-max-length", int64_t{-1}}},
       invalid("len-neg", "x-max-length", "{value_negative,-1}")},
      {"len-dbl",
       {{"x-max-length", 5.0}},
       invalid("len-dbl", "x-max-length", "\"expected integer, got double\"")},
      {"len-float",
       {{"x-max-length", 5.0f}},
       invalid("len-float", "x-max-length", "\"expected integer, got float\"")},
      {"len-dec",
       {{"x-max-length", Decimal{1, 50}}},
       invalid("len-dec", "x-max-length", "\"expected integer, got decimal\"")},
      {"len-ts",
       {{"x-max-length", Timestamp{5}}},
       invalid("len-ts", "x-max-length", "\"expected integer, got timestamp\"")},
      {"bytes-neg",
       {{"x-max-length-bytes", int64_t{-1}}},
       invalid("bytes-neg", "x-max-length-bytes", "{value_negative,-1}")},
      {"bytes-str",
       {{"x-max-length-bytes", "10"}},
       invalid("bytes-str", "x-max-length-bytes", "\"expected integer, got longstr\"")},
      {"prio-big",
       {{"x-max-priority", int64_t{256}}},
       invalid("prio-big", "x-max-priority", "{max_value_exceeded,256}")},
      {"prio-neg",
       {{"x-max-priority", int64_t{-1}}},
       invalid("prio-neg", "x-max-priority", "{value_negative,-1}")},
      {"ovf-foo", {{"x-overflow", "foo"}}, invalid("ovf-foo", "x-overflow", "invalid_overflow")},
      {"ovf-case",
       {{"x-overflow", "Drop-Head"}},
       invalid("ovf-case", "x-overflow", "invalid_overflow")},
      {"ovf-int",
       {{"x-overflow", int64_t{1}}},
       invalid("ovf-int", "x-overflow", "{unacceptable_type,long}")},
      {"dlrk-nodlx",
       {{"x-dead-letter-routing-key", "k"}},
       invalid("dlrk-nodlx", "x-dead-letter-routing-key", "routing_key_but_no_dlx_defined")},
      {"dlrk-int",
       {{"x-dead-letter-exchange", "d"}, {"x-dead-letter-routing-key", int64_t{1}}},
       invalid("dlrk-int", "x-dead-letter-routing-key", "{unacceptable_type,long}")},
      {"mode-foo",
       {{"x-queue-mode", "eager"}},
       invalid("mode-foo", "x-queue-mode", "\"unsupported queue mode 'eager'\"")},
      {"mode-int",
       {{"x-queue-mode", int64_t{1}}},
       invalid("mode-int", "x-queue-mode", "{unacceptable_type,long}")},
      {"ver-3",
       {{"x-queue-version", int64_t{3}}},
       invalid("ver-3", "x-queue-version", "\"unsupported queue version '3'\"")},
      {"ver-str",
       {{"x-queue-version", "2"}},
       invalid("ver-str", "x-queue-version", "\"expected integer, got longstr\"")},
      {"sac-str",
       {{"x-single-active-consumer", "true"}},
       invalid("sac-str", "x-single-active-consumer", "{unacceptable_type,longstr}")},
      {"sac-int",
       {{"x-single-active-consumer", int64_t{1}}},
       invalid("sac-int", "x-single-active-consumer", "{unacceptable_type,long}")},
      {"type-foo",
       {{"x-queue-type", "lazy"}},
       invalid("type-foo", "x-queue-type", "\"unsupported queue type 'lazy'\"")},
      {"type-int",
       {{"x-queue-type", int64_t{1}}},
       invalid("type-int", "x-queue-type", "{unacceptable_type,long}")},
      {"age",
       {{"x-max-age", "1D"}},
       "invalid arg 'x-max-age' for queue 'age' in vhost '/' of queue type rabbit_classic_queue"},
      {"dls",
       {{"x-dead-letter-strategy", "at-least-once"}},
       "invalid arg 'x-dead-letter-strategy' for queue 'dls' in vhost '/' of queue type "
       "rabbit_classic_queue"},
      {"mil",
       {{"x-max-in-memory-length", int64_t{1}}},
       "invalid arg 'x-max-in-memory-length' for queue 'mil' in vhost '/' of queue type "
       "rabbit_classic_queue"},
      {"dlx-int",
       {{"x-dead-letter-exchange", int64_t{1}}},
       "invalid type 'long' for arg 'x-dead-letter-exchange' in queue 'dlx-int' in vhost '/'"},
      {"dlx-bytes",
       {{"x-dead-letter-exchange", Bytes{"d"}}},
       "invalid type 'binary' for arg 'x-dead-letter-exchange' in queue 'dlx-bytes' in vhost '/'"},
      // queue_args.first_invalid_wins: rabbit_amqqueue:declare_args/0's order, not the table's.
      {"first-a",
       {{"x-message-ttl", int64_t{-1}}, {"x-expires", int64_t{0}}},
       invalid("first-a", "x-expires", "{value_zero,0}")},
      {"first-c",
       {{"x-max-length", int64_t{-1}}, {"x-max-priority", int64_t{300}}},
       invalid("first-c", "x-max-length", "{value_negative,-1}")},
      {"first-d",
       {{"x-overflow", "no"}, {"x-dead-letter-routing-key", "k"}},
       invalid("first-d", "x-dead-letter-routing-key", "routing_key_but_no_dlx_defined")},
      {"first-f",
       {{"x-dead-letter-exchange", int64_t{1}}, {"x-message-ttl", int64_t{-1}}},
       "invalid type 'long' for arg 'x-dead-letter-exchange' in queue 'first-f' in vhost '/'"},
  };
}

TEST(QueueArguments, InvalidArgumentsAre406WithRabbitMqsTexts) {
  TestBroker b;
  auto& ch = b.open_channel();
  for (const Case& c : invalid_argument_cases()) {
    Status s = declare(*ch, c.name, c.arguments);
    EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed) << c.name;
    EXPECT_EQ(s.message(), c.error) << c.name;
    EXPECT_FALSE(b.queue_exists(c.name)) << c.name;
  }
}

TEST(QueueArguments, ValidArgumentsAreAccepted) {
  const std::vector<Case> cases = {
      {"ttl-zero", {{"x-message-ttl", int64_t{0}}}, ""},
      {"ttl-max", {{"x-message-ttl", int64_t{315360000000}}}, ""},
      {"exp-one", {{"x-expires", int64_t{1}}}, ""},
      {"exp-max", {{"x-expires", int64_t{315360000000}}}, ""},
      {"widths",
       {{"x-max-length", int8_t{5}},
        {"x-max-length-bytes", uint16_t{100}},
        {"x-max-priority", int16_t{10}},
        {"x-message-ttl", int32_t{1000}},
        {"x-expires", uint32_t{60000}}},
       ""},
      {"prio-255", {{"x-max-priority", int64_t{255}}}, ""},
      {"overflows-1", {{"x-overflow", "drop-head"}}, ""},
      {"overflows-2", {{"x-overflow", "reject-publish"}}, ""},
      {"overflows-3", {{"x-overflow", "reject-publish-dlx"}}, ""},
      {"modes", {{"x-queue-mode", "lazy"}, {"x-queue-version", int64_t{2}}}, ""},
      {"classic", {{"x-queue-type", "classic"}, {"x-single-active-consumer", false}}, ""},
      {"dlx", {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "k"}}, ""},
      {"unknown", {{"x-foo", "bar"}, {"plain", int64_t{1}}}, ""},
      {"delivery-limit", {{"x-delivery-limit", int64_t{3}}}, ""},  // Burrow's extension
  };
  TestBroker b;
  auto& ch = b.open_channel();
  for (const Case& c : cases) EXPECT_OK(declare(*ch, c.name, c.arguments)) << c.name;
}

TEST(QueueArguments, ParseFillsEveryField) {
  auto parsed = parse_queue_arguments(FieldTable{{"x-message-ttl", int64_t{1000}},
                                                 {"x-expires", int32_t{60000}},
                                                 {"x-max-length", int64_t{5}},
                                                 {"x-max-length-bytes", int64_t{100}},
                                                 {"x-overflow", "reject-publish-dlx"},
                                                 {"x-dead-letter-exchange", "dlx"},
                                                 {"x-dead-letter-routing-key", "k"},
                                                 {"x-max-priority", int64_t{10}},
                                                 {"x-single-active-consumer", true},
                                                 {"x-delivery-limit", int64_t{3}}},
                                      "queue 'q' in vhost '/'");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->message_ttl, 1000);
  EXPECT_EQ(parsed->expires, 60000);
  EXPECT_EQ(parsed->max_length, 5);
  EXPECT_EQ(parsed->max_length_bytes, 100);
  EXPECT_EQ(parsed->overflow, Overflow::kRejectPublishDlx);
  EXPECT_EQ(parsed->dead_letter_exchange, "dlx");
  EXPECT_EQ(parsed->dead_letter_routing_key, "k");
  EXPECT_EQ(parsed->max_priority, 10);
  EXPECT_TRUE(parsed->single_active_consumer);
  EXPECT_EQ(parsed->delivery_limit, 3);
  auto empty = parse_queue_arguments(FieldTable{}, "queue 'q' in vhost '/'");
  ASSERT_OK(empty);
  EXPECT_FALSE(empty->message_ttl);
  EXPECT_EQ(empty->overflow, Overflow::kDropHead);
  EXPECT_FALSE(empty->single_active_consumer);
}

TEST(QueueArguments, ServerNamedQueueIsNamedInTheText) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto r = ch->declare_queue(
      QueueDeclareRequest{.arguments = FieldTable{{"x-max-length", int64_t{-1}}}});
  ASSERT_EQ(r.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_TRUE(r.status().message().starts_with("invalid arg 'x-max-length' for queue 'amq.gen-"))
      << r.status().message();
  EXPECT_TRUE(r.status().message().ends_with("' in vhost '/': {value_negative,-1}"))
      << r.status().message();
}

// ---- equivalence on redeclare -------------------------------------------------------------

struct Redeclare {
  FieldTable first;
  FieldTable again;
  std::string error;  // empty: equivalent
};

std::vector<Redeclare> redeclare_cases() {
  auto inequivalent = [](const char* arg, const std::string& rest) {
    return "inequivalent arg '" + std::string(arg) + "' for queue 'q' in vhost '/': " + rest;
  };
  return {
      {{{"x-message-ttl", int64_t{1000}}},
       {{"x-message-ttl", int64_t{2000}}},
       inequivalent("x-message-ttl", "received '2000' but current is '1000'")},
      {{{"x-expires", int64_t{60000}}},
       {{"x-expires", int64_t{1}}},
       inequivalent("x-expires", "received '1' but current is '60000'")},
      {{{"x-max-length", int64_t{5}}},
       {{"x-max-length", int64_t{6}}},
       inequivalent("x-max-length", "received '6' but current is '5'")},
      {{{"x-max-length-bytes", int64_t{100}}},
       {{"x-max-length-bytes", int64_t{101}}},
       inequivalent("x-max-length-bytes", "received '101' but current is '100'")},
      {{{"x-max-priority", int64_t{3}}},
       {{"x-max-priority", int64_t{4}}},
       inequivalent("x-max-priority", "received '4' but current is '3'")},
      {{{"x-dead-letter-exchange", "d1"}},
       {{"x-dead-letter-exchange", "d2"}},
       inequivalent("x-dead-letter-exchange", "received 'd2' but current is 'd1'")},
      {{{"x-dead-letter-exchange", "d"}, {"x-dead-letter-routing-key", "k1"}},
       {{"x-dead-letter-exchange", "d"}, {"x-dead-letter-routing-key", "k2"}},
       inequivalent("x-dead-letter-routing-key", "received 'k2' but current is 'k1'")},
      {{{"x-overflow", "reject-publish"}},
       {{"x-overflow", "drop-head"}},
       inequivalent("x-overflow", "received 'drop-head' but current is 'reject-publish'")},
      {{{"x-queue-mode", "lazy"}},
       {{"x-queue-mode", "default"}},
       inequivalent("x-queue-mode", "received 'default' but current is 'lazy'")},
      {{{"x-queue-version", int64_t{1}}},
       {{"x-queue-version", int64_t{2}}},
       inequivalent("x-queue-version", "received '2' but current is '1'")},
      {{{"x-single-active-consumer", true}},
       {{"x-single-active-consumer", false}},
       inequivalent("x-single-active-consumer", "received 'false' but current is 'true'")},
      {{{"x-queue-master-locator", "client-local"}},
       {{"x-queue-master-locator", "min-masters"}},
       inequivalent("x-queue-master-locator",
                    "received 'min-masters' but current is 'client-local'")},
      // One side absent: the typed form and "none".
      {{{"x-max-length", int64_t{5}}},
       {},
       inequivalent("x-max-length", "received none but current is the value '5' of type 'long'")},
      {{},
       {{"x-max-length", int32_t{5}}},
       inequivalent("x-max-length",
                    "received the value '5' of type 'signedint' but current is none")},
      {{},
       {{"x-dead-letter-exchange", "d"}},
       inequivalent("x-dead-letter-exchange",
                    "received the value 'd' of type 'longstr' but current is none")},
      {{},
       {{"x-single-active-consumer", false}},
       inequivalent("x-single-active-consumer",
                    "received the value 'false' of type 'bool' but current is none")},
      {{},
       {{"x-queue-type", "quorum"}},
       inequivalent("x-queue-type",
                    "received the value 'quorum' of type 'longstr' but current is none")},
      {{},
       {{"x-queue-type", "stream"}},
       inequivalent("x-queue-type",
                    "received the value 'stream' of type 'longstr' but current is none")},
      // Integer widths are one type class; floats and strings are not.
      {{{"x-max-length", int64_t{5}}}, {{"x-max-length", int32_t{5}}}, ""},
      {{{"x-max-length", int64_t{5}}}, {{"x-max-length", int16_t{5}}}, ""},
      {{{"x-max-length", int64_t{5}}}, {{"x-max-length", int8_t{5}}}, ""},
      {{{"x-max-length", int64_t{5}}}, {{"x-max-length", uint16_t{5}}}, ""},
      {{{"x-max-length", int64_t{5}}},
       {{"x-max-length", 5.0}},
       inequivalent("x-max-length", "received '5.0' but current is '5'")},
      {{{"x-max-length", int64_t{5}}},
       {{"x-max-length", "5"}},
       inequivalent("x-max-length", "received '5' but current is '5'")},
      // An invalid value on an existing queue is an equivalence error, not a validation one.
      {{{"x-max-length", int64_t{5}}},
       {{"x-max-length", int64_t{-1}}},
       inequivalent("x-max-length", "received '-1' but current is '5'")},
      {{{"x-max-length", int64_t{5}}},
       {{"x-max-length", int64_t{5}}, {"x-expires", int64_t{0}}},
       inequivalent("x-expires", "received the value '0' of type 'long' but current is none")},
      {{{"x-max-length", int64_t{5}}},
       {{"x-max-length", int64_t{5}}, {"x-overflow", "bogus"}},
       inequivalent("x-overflow",
                    "received the value 'bogus' of type 'longstr' but current is none")},
      // Absent x-queue-type equals "classic"; other keys are not compared.
      {{}, {{"x-queue-type", "classic"}}, ""},
      {{{"x-queue-type", "classic"}}, {}, ""},
      {{{"x-foo", "a"}}, {{"x-foo", "b"}}, ""},
      {{{"x-foo", "a"}}, {{"bar", int64_t{1}}}, ""},
      {{}, {{"x-delivery-limit", int64_t{5}}}, ""},
      {{}, {{"x-max-age", "1D"}, {"x-priority", "high"}}, ""},
  };
}

TEST(QueueArguments, RedeclareComparesRabbitMqsKeysWithItsTexts) {
  for (const Redeclare& c : redeclare_cases()) {
    TestBroker b;
    auto& ch = b.open_channel();
    ASSERT_OK(declare(*ch, "q", c.first)) << to_string(c.first);
    Status s = declare(*ch, "q", c.again);
    if (c.error.empty()) {
      EXPECT_OK(s) << to_string(c.first) << " then " << to_string(c.again);
    } else {
      EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed) << to_string(c.again);
      EXPECT_EQ(s.message(), c.error);
    }
  }
}

TEST(QueueArguments, EquivalenceCheckReportsTheFirstKeyInRabbitMqsOrder) {
  FieldTable current{{"x-max-length", int64_t{5}}, {"x-message-ttl", int64_t{1000}}};
  FieldTable received{{"x-max-length", int64_t{6}}, {"x-message-ttl", int64_t{2000}}};
  Status s = check_queue_arguments_equivalent(current, received, "queue 'q' in vhost '/'");
  EXPECT_EQ(s.message(),
            "inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received '2000' but "
            "current is '1000'");
}

TEST(QueueArguments, PassiveDeclareIgnoresArguments) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-max-length", int64_t{5}}}));
  EXPECT_OK(ch->declare_queue(QueueDeclareRequest{
      .name = "q",
      .passive = true,
      .durable = true,
      .auto_delete = true,
      .arguments = FieldTable{{"x-max-length", int64_t{6}}, {"x-bogus", "y"}}}));
}

TEST(QueueArguments, FlagsAreComparedBeforeArguments) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-max-length", int64_t{5}}}));
  auto r = ch->declare_queue(QueueDeclareRequest{
      .name = "q", .durable = true, .arguments = FieldTable{{"x-max-length", int64_t{6}}}});
  EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(r.status().message(),
            "inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is "
            "'false'");
}

}  // namespace
}  // namespace burrow::broker
