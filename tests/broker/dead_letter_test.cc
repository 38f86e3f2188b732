// Tests for dead-lettering: make_dead_letter_message and is_dead_letter_cycle directly (x-death
// entries, x-first-death-*, counts, routing keys, CC/BCC, expiration), and through a broker on
// a manual clock (reasons rejected/expired/maxlen, cycles, missing exchanges).
#include "broker/dead_letter.h"

#include <cstdint>
#include <string>
#include <vector>

#include <burrow/clock.h>
#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::body_of;
using testing::consume;
using testing::declare;
using testing::declare_exchange;
using testing::drain_bodies;
using testing::get_message;
using testing::header_of;
using testing::publish;
using testing::TestBroker;
using testing::with_expiration;
using testing::with_headers;
using Strings = std::vector<std::string>;

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr int64_t kNowSeconds = 1'700'000'000;

// ---- helpers -------------------------------------------------------------------------------

StoredMessage message_to(std::string exchange, std::string routing_key,
                         std::optional<FieldTable> headers = std::nullopt) {
  StoredMessage m;
  m.message.exchange = std::move(exchange);
  m.message.routing_key = std::move(routing_key);
  m.message.properties.headers = std::move(headers);
  m.message.body = "m1";
  return m;
}

Strings names_of(const FieldTable& table) {
  Strings out;
  for (const FieldEntry& e : table.entries()) out.push_back(e.name);
  return out;
}

const FieldTable& headers_of(const StoredMessage& m) {
  static const FieldTable kEmpty;
  const auto& h = m.message.properties.headers;
  return h ? *h : kEmpty;
}

// The x-death array of a message (empty when absent or not an array).
FieldArray x_death(const StoredMessage& m) {
  const FieldValue* v = header_of(m, "x-death");
  const FieldArray* arr = v ? v->get_if<FieldArray>() : nullptr;
  return arr ? *arr : FieldArray{};
}

// Entry `i` of an x-death array (a copy; empty when missing or not a table).
FieldTable death(const FieldArray& deaths, size_t i) {
  const FieldTable* t = i < deaths.size() ? deaths[i].get_if<FieldTable>() : nullptr;
  return t ? *t : FieldTable{};
}

// An x-death entry as RabbitMQ writes it for a first death (its field order).
FieldTable death_entry(int64_t count, std::string reason, std::string queue, int64_t time,
                       std::string exchange, FieldArray routing_keys) {
  return FieldTable{{"count", count},
                    {"reason", std::move(reason)},
                    {"queue", std::move(queue)},
                    {"time", Timestamp{static_cast<uint64_t>(time)}},
                    {"exchange", std::move(exchange)},
                    {"routing-keys", std::move(routing_keys)}};
}

// The same entry after RabbitMQ rewrote it (rabbit_misc:sort_field_table: sorted by name).
FieldTable sorted_death_entry(int64_t count, std::string reason, std::string queue, int64_t time,
                              std::string exchange, FieldArray routing_keys) {
  return FieldTable{{"count", count},
                    {"exchange", std::move(exchange)},
                    {"queue", std::move(queue)},
                    {"reason", std::move(reason)},
                    {"routing-keys", std::move(routing_keys)},
                    {"time", Timestamp{static_cast<uint64_t>(time)}}};
}

DeadLetterTarget target(std::string_view queue, std::string_view exchange = "dlx",
                        const std::string* routing_key = nullptr) {
  return DeadLetterTarget{queue, exchange, routing_key};
}

// ---- make_dead_letter_message ----------------------------------------------------------

TEST(DeadLetter, FirstDeathAddsAnXDeathEntryAndFirstDeathHeaders) {
  StoredMessage m = message_to("x", "main");
  DeadLetterMessage dl =
      make_dead_letter_message(m, DeathReason::kRejected, target("q"), kNowSeconds);
  const StoredMessage& out = *dl.message;
  FieldArray deaths = x_death(out);
  ASSERT_EQ(deaths.size(), 1u);
  // dead_letter.x_death_types: count is a long, time a timestamp, routing-keys an array.
  EXPECT_EQ(death(deaths, 0),
            death_entry(1, "rejected", "q", kNowSeconds, "x", FieldArray{"main"}));
  EXPECT_EQ(death(deaths, 0).find("count")->type(), FieldValue::Type::kInt64);
  EXPECT_EQ(*header_of(out, "x-first-death-reason"), FieldValue("rejected"));
  EXPECT_EQ(*header_of(out, "x-first-death-queue"), FieldValue("q"));
  EXPECT_EQ(*header_of(out, "x-first-death-exchange"), FieldValue("x"));
  // Published again from the dead-letter exchange with the original routing key.
  EXPECT_EQ(out.message.exchange, "dlx");
  EXPECT_EQ(out.message.routing_key, "main");
  EXPECT_EQ(dl.routing_keys, Strings{"main"});
  EXPECT_EQ(out.message.body, "m1");
  // The original is untouched.
  EXPECT_FALSE(m.message.properties.headers);
}

TEST(DeadLetter, EachReasonHasRabbitMqsName) {
  const std::pair<DeathReason, const char*> reasons[] = {
      {DeathReason::kRejected, "rejected"},
      {DeathReason::kExpired, "expired"},
      {DeathReason::kMaxlen, "maxlen"},
      {DeathReason::kDeliveryLimit, "delivery_limit"}};
  for (const auto& [reason, name] : reasons) {
    EXPECT_EQ(death_reason_name(reason), name);
    StoredMessage m = message_to("", "q");
    DeadLetterMessage dl = make_dead_letter_message(m, reason, target("q"), kNowSeconds);
    EXPECT_EQ(*death(x_death(*dl.message), 0).find("reason"), FieldValue(name));
    EXPECT_EQ(*header_of(*dl.message, "x-first-death-reason"), FieldValue(name));
  }
}

TEST(DeadLetter, ExpirationMovesIntoOriginalExpiration) {
  StoredMessage m = message_to("", "q");
  m.message.properties.expiration = "150";
  m.message.properties.priority = 3;
  m.message.properties.content_type = "text/plain";
  DeadLetterMessage dl =
      make_dead_letter_message(m, DeathReason::kExpired, target("q"), kNowSeconds);
  const FieldTable& entry = death(x_death(*dl.message), 0);
  EXPECT_EQ(names_of(entry), (Strings{"count", "reason", "queue", "time", "exchange",
                                      "routing-keys", "original-expiration"}));
  EXPECT_EQ(*entry.find("original-expiration"), FieldValue("150"));
  const BasicProperties& props = dl.message->message.properties;
  EXPECT_FALSE(props.expiration);
  EXPECT_EQ(props.priority, 3);
  EXPECT_EQ(props.content_type, "text/plain");
}

TEST(DeadLetter, CcKeysAreRoutingKeysAndBccKeysRouteWithoutBeingRecorded) {
  StoredMessage m = message_to("x", "main", FieldTable{{"CC", FieldArray{"cc1", "cc2"}}});
  m.bcc_keys = {"bcc1"};  // the BCC header was removed at publish
  m.wire_properties = "raw";
  DeadLetterMessage dl =
      make_dead_letter_message(m, DeathReason::kRejected, target("q"), kNowSeconds);
  EXPECT_EQ(dl.routing_keys, (Strings{"main", "cc1", "cc2", "bcc1"}));
  EXPECT_EQ(*death(x_death(*dl.message), 0).find("routing-keys"),
            FieldValue(FieldArray{"main", "cc1", "cc2"}));
  EXPECT_EQ(*header_of(*dl.message, "CC"), FieldValue(FieldArray{"cc1", "cc2"}));
  EXPECT_TRUE(dl.message->bcc_keys.empty());
  EXPECT_TRUE(dl.message->wire_properties.empty());
}

TEST(DeadLetter, DeadLetterRoutingKeyReplacesTheKeysAndRemovesCc) {
  StoredMessage m = message_to("x", "a.b", FieldTable{{"CC", FieldArray{"cc1"}}});
  m.bcc_keys = {"bcc1"};
  const std::string dlrk = "dead.letter";
  DeadLetterMessage dl =
      make_dead_letter_message(m, DeathReason::kRejected, target("q", "dlx", &dlrk), kNowSeconds);
  EXPECT_EQ(dl.routing_keys, Strings{"dead.letter"});
  EXPECT_EQ(dl.message->message.routing_key, "dead.letter");
  EXPECT_EQ(header_of(*dl.message, "CC"), nullptr);
  // The death still records the keys the message had.
  EXPECT_EQ(*death(x_death(*dl.message), 0).find("routing-keys"),
            FieldValue(FieldArray{"a.b", "cc1"}));
}

// Regression (fixed): broker/dead_letter.cc, make_dead_letter_message sets headers with
// FieldTable::set (replace in place or append), so a dead-lettered message's headers come out as
// [CC, h, x-first-death-reason, x-first-death-queue, x-first-death-exchange, x-death].
// RabbitMQ 3.10's rabbit_misc:set_table_value/4 sorts the whole table after every change
// (sort_field_table), so clients see the headers sorted by name: golden transcripts
// limits.reject_publish_dlx ("h", "x-death", "x-first-death-exchange", "x-first-death-queue",
// "x-first-death-reason") and dead_letter.cc_without_dlrk ("CC", "x-death", ...), recorded in
// wire order.
TEST(DeadLetter, DeadLetteredHeadersAreSortedByNameAsRabbitMqWritesThem) {
  StoredMessage m = message_to("x", "main", FieldTable{{"h", "v"}, {"CC", FieldArray{"cc1"}}});
  DeadLetterMessage dl =
      make_dead_letter_message(m, DeathReason::kRejected, target("q"), kNowSeconds);
  EXPECT_EQ(names_of(headers_of(*dl.message)),
            (Strings{"CC", "h", "x-death", "x-first-death-exchange", "x-first-death-queue",
                     "x-first-death-reason"}));
}

TEST(DeadLetter, LaterDeathInAnotherQueueGoesInFrontWithSortedFields) {
  StoredMessage first = message_to("", "q1");
  DeadLetterMessage one =
      make_dead_letter_message(first, DeathReason::kRejected, target("q1", ""), kNowSeconds);
  DeadLetterMessage two = make_dead_letter_message(*one.message, DeathReason::kExpired,
                                                   target("q2", ""), kNowSeconds + 1);
  FieldArray deaths = x_death(*two.message);
  ASSERT_EQ(deaths.size(), 2u);
  // dead_letter.cycle_through_rejection_allowed: the new entry's fields are sorted, the older
  // one keeps its order.
  EXPECT_EQ(death(deaths, 0),
            sorted_death_entry(1, "expired", "q2", kNowSeconds + 1, "", FieldArray{"q1"}));
  EXPECT_EQ(death(deaths, 1), death_entry(1, "rejected", "q1", kNowSeconds, "", FieldArray{"q1"}));
  // The first death's headers keep the first values.
  EXPECT_EQ(*header_of(*two.message, "x-first-death-queue"), FieldValue("q1"));
  EXPECT_EQ(*header_of(*two.message, "x-first-death-reason"), FieldValue("rejected"));
}

TEST(DeadLetter, RepeatedDeathIncrementsTheCountAndMovesTheEntryToTheFront) {
  // dead_letter.repeated_count_moves_to_front: qa -> qb -> qa -> qb, all rejected, each
  // queue dead-lettering to the other through the default exchange.
  const std::string to_qa = "qa", to_qb = "qb";
  StoredMessage m = message_to("", "qa");
  DeadLetterMessage d1 =
      make_dead_letter_message(m, DeathReason::kRejected, target("qa", "", &to_qb), kNowSeconds);
  DeadLetterMessage d2 = make_dead_letter_message(*d1.message, DeathReason::kRejected,
                                                  target("qb", "", &to_qa), kNowSeconds);
  DeadLetterMessage d3 = make_dead_letter_message(*d2.message, DeathReason::kRejected,
                                                  target("qa", "", &to_qb), kNowSeconds);
  FieldArray deaths = x_death(*d3.message);
  ASSERT_EQ(deaths.size(), 2u);
  EXPECT_EQ(death(deaths, 0),
            sorted_death_entry(2, "rejected", "qa", kNowSeconds, "", FieldArray{"qa"}));
  EXPECT_EQ(death(deaths, 1),
            sorted_death_entry(1, "rejected", "qb", kNowSeconds, "", FieldArray{"qb"}));
  DeadLetterMessage d4 = make_dead_letter_message(*d3.message, DeathReason::kRejected,
                                                  target("qb", "", &to_qa), kNowSeconds);
  deaths = x_death(*d4.message);
  ASSERT_EQ(deaths.size(), 2u);
  EXPECT_EQ(*death(deaths, 0).find("queue"), FieldValue("qb"));
  EXPECT_EQ(*death(deaths, 0).find("count"), FieldValue(int64_t{2}));
  EXPECT_EQ(*death(deaths, 1).find("queue"), FieldValue("qa"));
  EXPECT_EQ(*death(deaths, 1).find("count"), FieldValue(int64_t{2}));
  EXPECT_EQ(*header_of(*d4.message, "x-first-death-queue"), FieldValue("qa"));
}

TEST(DeadLetter, RepeatedDeathKeepsTheFirstTimeAndKeys) {
  StoredMessage m = message_to("", "q");
  DeadLetterMessage d1 =
      make_dead_letter_message(m, DeathReason::kRejected, target("q", ""), kNowSeconds);
  StoredMessage republished = *d1.message;
  republished.message.exchange = "other";
  republished.message.routing_key = "k2";
  DeadLetterMessage d2 = make_dead_letter_message(republished, DeathReason::kRejected,
                                                  target("q", ""), kNowSeconds + 60);
  // dead_letter.client_republish_increments: only the count changes.
  EXPECT_EQ(death(x_death(*d2.message), 0),
            sorted_death_entry(2, "rejected", "q", kNowSeconds, "", FieldArray{"q"}));
}

TEST(DeadLetter, SameQueueWithAnotherReasonIsAnotherEntry) {
  StoredMessage m = message_to("", "q");
  DeadLetterMessage d1 =
      make_dead_letter_message(m, DeathReason::kRejected, target("q", ""), kNowSeconds);
  DeadLetterMessage d2 =
      make_dead_letter_message(*d1.message, DeathReason::kExpired, target("q", ""), kNowSeconds);
  FieldArray deaths = x_death(*d2.message);
  ASSERT_EQ(deaths.size(), 2u);
  EXPECT_EQ(*death(deaths, 0).find("reason"), FieldValue("expired"));
  EXPECT_EQ(*death(deaths, 1).find("reason"), FieldValue("rejected"));
}

TEST(DeadLetter, NonArrayXDeathIsReplacedAndFirstDeathHeadersAreLeftAlone) {
  StoredMessage m =
      message_to("", "q", FieldTable{{"x-death", "bogus"}, {"x-first-death-reason", "mine"}});
  DeadLetterMessage dl =
      make_dead_letter_message(m, DeathReason::kRejected, target("q", ""), kNowSeconds);
  // dead_letter.non_array_x_death_reset.
  EXPECT_EQ(names_of(headers_of(*dl.message)), (Strings{"x-death", "x-first-death-reason"}));
  FieldArray deaths = x_death(*dl.message);
  ASSERT_EQ(deaths.size(), 1u);
  EXPECT_EQ(death(deaths, 0), death_entry(1, "rejected", "q", kNowSeconds, "", FieldArray{"q"}));
  EXPECT_EQ(*header_of(*dl.message, "x-first-death-reason"), FieldValue("mine"));
}

// Regression (fixed): broker/dead_letter.cc, group_by_queue_and_reason sums the "count" fields of
// x-death entries for the same queue and reason (treating a missing count as 0), so two legacy
// entries without a count (as RabbitMQ < 3.5 wrote them) merge into count 0 and the new
// death makes it 1. RabbitMQ 3.10's rabbit_dead_letter:group_by_queue_and_reason/1 keeps the
// first entry and, when it has no count, gives it the number of entries
// (ensure_xdeath_event_count(X, length(Xs))); the new death then increments it: 3.
TEST(DeadLetter, LegacyEntriesWithoutACountMergeIntoTheirNumber) {
  FieldTable legacy{{"reason", "rejected"},
                    {"queue", "q"},
                    {"time", Timestamp{1}},
                    {"exchange", ""},
                    {"routing-keys", FieldArray{"q"}}};
  StoredMessage m = message_to("", "q", FieldTable{{"x-death", FieldArray{legacy, legacy}}});
  DeadLetterMessage dl =
      make_dead_letter_message(m, DeathReason::kRejected, target("q", ""), kNowSeconds);
  FieldArray deaths = x_death(*dl.message);
  ASSERT_EQ(deaths.size(), 1u);
  EXPECT_EQ(*death(deaths, 0).find("count"), FieldValue(int64_t{3}));
}

// ---- is_dead_letter_cycle ---------------------------------------------------------------

StoredMessage with_deaths(std::vector<std::pair<std::string, std::string>> queue_reasons) {
  FieldArray deaths;
  for (auto& [queue, reason] : queue_reasons) {
    deaths.push_back(FieldTable{{"count", int64_t{1}}, {"reason", reason}, {"queue", queue}});
  }
  return message_to("", "q", FieldTable{{"x-death", std::move(deaths)}});
}

TEST(DeadLetterCycle, WithoutDeathsThereIsNoCycle) {
  EXPECT_FALSE(is_dead_letter_cycle(message_to("", "q"), "q"));
  EXPECT_FALSE(is_dead_letter_cycle(message_to("", "q", FieldTable{{"a", "b"}}), "q"));
  EXPECT_FALSE(is_dead_letter_cycle(message_to("", "q", FieldTable{{"x-death", "bogus"}}), "q"));
}

TEST(DeadLetterCycle, AutomaticDeathsBackToTheQueueAreACycle) {
  EXPECT_TRUE(is_dead_letter_cycle(with_deaths({{"q", "expired"}}), "q"));
  EXPECT_TRUE(is_dead_letter_cycle(with_deaths({{"q2", "expired"}, {"q1", "expired"}}), "q1"));
  EXPECT_TRUE(
      is_dead_letter_cycle(with_deaths({{"q2", "maxlen"}, {"q1", "delivery_limit"}}), "q1"));
}

TEST(DeadLetterCycle, ARejectionOnTheWayBreaksTheCycle) {
  EXPECT_FALSE(is_dead_letter_cycle(with_deaths({{"q", "rejected"}}), "q"));
  EXPECT_FALSE(is_dead_letter_cycle(with_deaths({{"q2", "expired"}, {"q1", "rejected"}}), "q1"));
  EXPECT_FALSE(is_dead_letter_cycle(with_deaths({{"q2", "rejected"}, {"q1", "expired"}}), "q1"));
  // Deaths older than the last one in the queue do not matter.
  EXPECT_TRUE(is_dead_letter_cycle(
      with_deaths({{"q2", "expired"}, {"q1", "expired"}, {"q0", "rejected"}}), "q1"));
}

TEST(DeadLetterCycle, QueueNotInTheHistoryIsNoCycle) {
  EXPECT_FALSE(is_dead_letter_cycle(with_deaths({{"q2", "expired"}, {"q1", "expired"}}), "q3"));
}

TEST(DeadLetterCycle, SomethingAClientPutThereBreaksTheCycle) {
  StoredMessage m = message_to(
      "", "q",
      FieldTable{
          {"x-death", FieldArray{"junk", FieldTable{{"reason", "expired"}, {"queue", "q"}}}}});
  EXPECT_FALSE(is_dead_letter_cycle(m, "q"));
}

// ---- through the broker ------------------------------------------------------------------

// A queue "q" dead-lettering through the default exchange into "dlq".
void declare_pair(Channel& ch, FieldTable extra = {}) {
  ASSERT_OK(declare(ch, "dlq"));
  FieldTable args{{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "dlq"}};
  for (auto& e : extra.entries()) args.set(e.name, e.value);
  ASSERT_OK(declare(ch, "q", std::move(args)));
}

TEST(DeadLetterBroker, RejectWithoutRequeueDeadLettersWithReasonRejected) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_pair(*ch);
  BasicProperties props = with_headers(FieldTable{{"app", "v"}});
  props.message_id = "id-1";
  ASSERT_OK(publish(*ch, "", "q", "m1", props));
  ASSERT_OK(b.advance(5000));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->reject(r->delivery_tag, /*requeue=*/false));
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  const StoredMessage& m = *dead->entry.message;
  EXPECT_EQ(m.message.exchange, "");
  EXPECT_EQ(m.message.routing_key, "dlq");
  EXPECT_EQ(m.message.properties.message_id, "id-1");
  EXPECT_EQ(*header_of(m, "app"), FieldValue("v"));
  // The death time is the broker clock's, in seconds.
  EXPECT_EQ(death(x_death(m), 0),
            death_entry(1, "rejected", "q", kNowSeconds + 5, "", FieldArray{"q"}));
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").unacked, 0u);
}

TEST(DeadLetterBroker, RequeueingRejectDoesNotDeadLetter) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_pair(*ch);
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->reject(r->delivery_tag, /*requeue=*/true));
  EXPECT_FALSE(get_message(*ch, "dlq"));
  EXPECT_EQ(body_of(get_message(*ch, "q")), "m1");
}

TEST(DeadLetterBroker, NackMultipleDeadLettersEveryMessageInOrder) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_pair(*ch);
  for (const char* body : {"m1", "m2", "m3"}) ASSERT_OK(publish(*ch, "", "q", body));
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) last = get_message(*ch, "q", /*no_ack=*/false)->delivery_tag;
  ASSERT_OK(ch->nack(last, /*multiple=*/true, /*requeue=*/false));
  EXPECT_EQ(drain_bodies(*ch, "dlq"), (Strings{"m1", "m2", "m3"}));
}

TEST(DeadLetterBroker, ConsumerNackDeadLetters) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  auto& pub = b.open_channel();
  declare_pair(*ch);
  ASSERT_OK(consume(*ch, "q", "c1"));
  BasicProperties props;
  props.correlation_id = "corr";
  ASSERT_OK(publish(*pub, "", "q", "m1", props));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_OK(ch->nack(ch.sink->deliveries()[0].delivery_tag, false, /*requeue=*/false));
  auto dead = get_message(*pub, "dlq");
  ASSERT_TRUE(dead);
  EXPECT_EQ(dead->entry.message->message.properties.correlation_id, "corr");
  EXPECT_EQ(*header_of(*dead->entry.message, "x-first-death-reason"), FieldValue("rejected"));
}

TEST(DeadLetterBroker, QueueTtlExpiryDeadLettersWithoutOriginalExpiration) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_pair(*ch, FieldTable{{"x-message-ttl", int64_t{150}}});
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(b.advance(149));
  EXPECT_FALSE(get_message(*ch, "dlq"));
  ASSERT_OK(b.advance(1));
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  EXPECT_EQ(death(x_death(*dead->entry.message), 0),
            death_entry(1, "expired", "q", kNowSeconds, "", FieldArray{"q"}));
}

TEST(DeadLetterBroker, PerMessageExpiryRecordsTheOriginalExpiration) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_pair(*ch, FieldTable{{"x-message-ttl", int64_t{60000}}});
  BasicProperties props = with_expiration("100");
  props.priority = 3;
  props.content_type = "text/plain";
  props.headers = FieldTable{{"CC", FieldArray{"c"}}};
  ASSERT_OK(publish(*ch, "", "q", "m1", props));
  ASSERT_OK(b.advance(100));
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  const StoredMessage& m = *dead->entry.message;
  FieldTable expected = death_entry(1, "expired", "q", kNowSeconds, "", FieldArray{"q", "c"});
  expected.entries().push_back(FieldEntry{"original-expiration", "100"});
  EXPECT_EQ(death(x_death(m), 0), expected);
  EXPECT_FALSE(m.message.properties.expiration);
  EXPECT_EQ(m.message.properties.priority, 3);
  EXPECT_EQ(m.message.properties.content_type, "text/plain");
}

TEST(DeadLetterBroker, MaxlenDropDeadLettersWithReasonMaxlen) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_pair(*ch, FieldTable{{"x-max-length", int64_t{1}}});
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  EXPECT_EQ(body_of(dead), "m1");
  EXPECT_EQ(*death(x_death(*dead->entry.message), 0).find("reason"), FieldValue("maxlen"));
}

TEST(DeadLetterBroker, WithoutARoutingKeyTheOriginalKeysAndCcRouteAgain) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_exchange(*ch, "x", "direct"));
  ASSERT_OK(declare_exchange(*ch, "dlx", "direct"));
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-dead-letter-exchange", "dlx"}}));
  ASSERT_OK(ch->bind_queue("q", "x", "main", {}));
  for (const char* dq : {"d-main", "d-cc", "d-bcc"}) ASSERT_OK(declare(*ch, dq));
  ASSERT_OK(ch->bind_queue("d-main", "dlx", "main", {}));
  ASSERT_OK(ch->bind_queue("d-cc", "dlx", "cc1", {}));
  ASSERT_OK(ch->bind_queue("d-bcc", "dlx", "bcc1", {}));
  ASSERT_OK(
      publish(*ch, "x", "main", "m1",
              with_headers(FieldTable{{"CC", FieldArray{"cc1"}}, {"BCC", FieldArray{"bcc1"}}})));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->reject(r->delivery_tag, false));
  // dead_letter.cc_without_dlrk; the BCC key still routes though it is not recorded.
  for (const char* dq : {"d-main", "d-cc", "d-bcc"}) {
    auto dead = get_message(*ch, dq);
    ASSERT_TRUE(dead) << dq;
    const StoredMessage& m = *dead->entry.message;
    EXPECT_EQ(m.message.exchange, "dlx");
    EXPECT_EQ(m.message.routing_key, "main");
    EXPECT_EQ(*header_of(m, "CC"), FieldValue(FieldArray{"cc1"}));
    EXPECT_EQ(header_of(m, "BCC"), nullptr);
    EXPECT_EQ(*death(x_death(m), 0).find("routing-keys"), FieldValue(FieldArray{"main", "cc1"}));
    EXPECT_FALSE(get_message(*ch, dq)) << dq;
  }
}

TEST(DeadLetterBroker, RoutingKeyOverrideOnATopicExchange) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_exchange(*ch, "dlx", "topic"));
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(ch->bind_queue("dlq", "dlx", "dead.#", {}));
  ASSERT_OK(declare(
      *ch, "q",
      FieldTable{{"x-dead-letter-exchange", "dlx"}, {"x-dead-letter-routing-key", "dead.letter"}}));
  ASSERT_OK(declare_exchange(*ch, "x", "topic"));
  ASSERT_OK(ch->bind_queue("q", "x", "a.*", {}));
  ASSERT_OK(publish(*ch, "x", "a.b", "m1"));
  auto r = get_message(*ch, "q", false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->reject(r->delivery_tag, false));
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  EXPECT_EQ(dead->entry.message->message.exchange, "dlx");
  EXPECT_EQ(dead->entry.message->message.routing_key, "dead.letter");
  EXPECT_EQ(death(x_death(*dead->entry.message), 0),
            death_entry(1, "rejected", "q", kNowSeconds, "x", FieldArray{"a.b"}));
}

TEST(DeadLetterBroker, FanoutDeadLetterExchangeReachesEveryBoundQueue) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_exchange(*ch, "dlx", "fanout"));
  ASSERT_OK(declare(*ch, "d1"));
  ASSERT_OK(declare(*ch, "d2"));
  ASSERT_OK(ch->bind_queue("d1", "dlx", "", {}));
  ASSERT_OK(ch->bind_queue("d2", "dlx", "", {}));
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-dead-letter-exchange", "dlx"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(ch->reject(get_message(*ch, "q", false)->delivery_tag, false));
  EXPECT_EQ(drain_bodies(*ch, "d1"), Strings{"m1"});
  EXPECT_EQ(drain_bodies(*ch, "d2"), Strings{"m1"});
}

TEST(DeadLetterBroker, AlternateExchangeOfTheDeadLetterExchangeIsUsed) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_exchange(*ch, "ae", "fanout"));
  ASSERT_OK(declare_exchange(*ch, "dlx", "direct", FieldTable{{"alternate-exchange", "ae"}}));
  ASSERT_OK(declare(*ch, "aeq"));
  ASSERT_OK(ch->bind_queue("aeq", "ae", "", {}));
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-dead-letter-exchange", "dlx"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(ch->reject(get_message(*ch, "q", false)->delivery_tag, false));
  EXPECT_EQ(drain_bodies(*ch, "aeq"), Strings{"m1"});
}

TEST(DeadLetterBroker, MissingDeadLetterExchangeDropsTheMessage) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-dead-letter-exchange", "nodlx"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(ch->reject(get_message(*ch, "q", false)->delivery_tag, false));
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").unacked, 0u);
  // Declaring the exchange later does not bring it back.
  ASSERT_OK(declare_exchange(*ch, "nodlx", "fanout"));
  EXPECT_FALSE(get_message(*ch, "q"));
}

TEST(DeadLetterBroker, DeadLetterExchangeRoutingNowhereDropsTheMessage) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_exchange(*ch, "dlx", "direct"));
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-dead-letter-exchange", "dlx"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(ch->reject(get_message(*ch, "q", false)->delivery_tag, false));
  EXPECT_EQ(b.counts("q").ready, 0u);
}

TEST(DeadLetterBroker, QueueExpiringIntoItselfIsACycleAndDropped) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-dead-letter-exchange", ""}, {"x-message-ttl", int64_t{100}}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  // dead_letter.automatic_cycle_dropped: the dead letter's own x-death names q already.
  ASSERT_OK(b.advance(100));
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_FALSE(get_message(*ch, "q"));
}

TEST(DeadLetterBroker, TwoQueueExpiryCycleIsDropped) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q1",
                    FieldTable{{"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "q2"},
                               {"x-message-ttl", int64_t{100}}}));
  ASSERT_OK(declare(*ch, "q2",
                    FieldTable{{"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "q1"},
                               {"x-message-ttl", int64_t{100}}}));
  ASSERT_OK(publish(*ch, "", "q1", "m1"));
  ASSERT_OK(b.advance(100));
  EXPECT_EQ(b.counts("q2").ready, 1u);
  ASSERT_OK(b.advance(100));
  EXPECT_EQ(b.counts("q1").ready, 0u);
  EXPECT_EQ(b.counts("q2").ready, 0u);
}

TEST(DeadLetterBroker, CycleWithARejectionIsAllowed) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(
      *ch, "q1", FieldTable{{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "q2"}}));
  ASSERT_OK(declare(*ch, "q2",
                    FieldTable{{"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "q1"},
                               {"x-message-ttl", int64_t{100}}}));
  ASSERT_OK(publish(*ch, "", "q1", "m1"));
  ASSERT_OK(ch->reject(get_message(*ch, "q1", false)->delivery_tag, false));
  ASSERT_OK(b.advance(100));
  auto back = get_message(*ch, "q1", false);
  ASSERT_TRUE(back);
  FieldArray deaths = x_death(*back->entry.message);
  ASSERT_EQ(deaths.size(), 2u);
  EXPECT_EQ(death(deaths, 0),
            sorted_death_entry(1, "expired", "q2", kNowSeconds, "", FieldArray{"q2"}));
  EXPECT_EQ(death(deaths, 1), death_entry(1, "rejected", "q1", kNowSeconds, "", FieldArray{"q1"}));
  // dead_letter.repeated_reject_expire_cycle: round two counts both deaths twice.
  ASSERT_OK(ch->reject(back->delivery_tag, false));
  ASSERT_OK(b.advance(100));
  auto again = get_message(*ch, "q1");
  ASSERT_TRUE(again);
  deaths = x_death(*again->entry.message);
  ASSERT_EQ(deaths.size(), 2u);
  EXPECT_EQ(death(deaths, 0),
            sorted_death_entry(2, "expired", "q2", kNowSeconds, "", FieldArray{"q2"}));
  EXPECT_EQ(death(deaths, 1),
            sorted_death_entry(2, "rejected", "q1", kNowSeconds, "", FieldArray{"q1"}));
  EXPECT_EQ(b.counts("q2").ready, 0u);
}

TEST(DeadLetterBroker, RejectingIntoTheSameQueueIsNeverACycle) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-dead-letter-exchange", ""}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(ch->reject(get_message(*ch, "q", false)->delivery_tag, false));
  ASSERT_OK(ch->reject(get_message(*ch, "q", false)->delivery_tag, false));
  auto r = get_message(*ch, "q");
  ASSERT_TRUE(r);
  EXPECT_EQ(*death(x_death(*r->entry.message), 0).find("count"), FieldValue(int64_t{2}));
}

TEST(DeadLetterBroker, RepeatedRejectionsBetweenTwoQueuesCountUp) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(
      *ch, "qa", FieldTable{{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "qb"}}));
  ASSERT_OK(declare(
      *ch, "qb", FieldTable{{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "qa"}}));
  ASSERT_OK(publish(*ch, "", "qa", "m1"));
  for (const char* q : {"qa", "qb", "qa", "qb"}) {
    auto r = get_message(*ch, q, false);
    ASSERT_TRUE(r) << q;
    ASSERT_OK(ch->reject(r->delivery_tag, false));
  }
  auto r = get_message(*ch, "qa");
  ASSERT_TRUE(r);
  FieldArray deaths = x_death(*r->entry.message);
  ASSERT_EQ(deaths.size(), 2u);
  EXPECT_EQ(death(deaths, 0),
            sorted_death_entry(2, "rejected", "qb", kNowSeconds, "", FieldArray{"qb"}));
  EXPECT_EQ(death(deaths, 1),
            sorted_death_entry(2, "rejected", "qa", kNowSeconds, "", FieldArray{"qa"}));
  EXPECT_EQ(*header_of(*r->entry.message, "x-first-death-queue"), FieldValue("qa"));
}

TEST(DeadLetterBroker, PurgeAndDeleteDoNotDeadLetter) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  declare_pair(*ch);
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_OK(ch->purge_queue("q"));
  ASSERT_OK(publish(*ch, "", "q", "m3"));
  ASSERT_OK(ch->delete_queue("q", false, false));
  EXPECT_FALSE(get_message(*ch, "dlq"));
}

TEST(DeadLetterBroker, ClosedChannelRequeuesInsteadOfDeadLettering) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  auto& cons = b.open_channel();
  declare_pair(*ch);
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_TRUE(get_message(*cons, "q", false));
  cons->close();
  EXPECT_FALSE(get_message(*ch, "dlq"));
  auto r = get_message(*ch, "q");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->entry.redelivered);
}

TEST(DeadLetterBroker, DeadLettersEnterAPriorityQueueByPriority) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq", FieldTable{{"x-max-priority", int64_t{5}}}));
  ASSERT_OK(declare(
      *ch, "q", FieldTable{{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "dlq"}}));
  for (uint8_t p : {1, 5, 3}) {
    BasicProperties props;
    props.priority = p;
    ASSERT_OK(publish(*ch, "", "q", "p" + std::to_string(p), props));
  }
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_OK(ch->nack(0, /*multiple=*/true, /*requeue=*/false));
  EXPECT_EQ(drain_bodies(*ch, "dlq"), (Strings{"p5", "p3", "p1"}));
}

}  // namespace
}  // namespace burrow::broker
