// Tests for packed backlogs: a classic queue keeps the messages behind the first
// ClassicQueue::kPackAfter of each priority packed (broker/message_pack.h, broker/pack_log.h)
// and unpacks them at the head. Whatever leaves the queue - delivery, basic.get, expiry,
// drop-head, requeue around them - must be the message exactly as published.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/classic_queue.h"
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

constexpr int64_t kStart = 1700000000000;

// Deeper than one priority level keeps unpacked.
constexpr int kDeep = 3000;
constexpr size_t kPackAfter = 1024;  // ClassicQueue::kPackAfter

ClassicQueue& classic(TestBroker& b, std::string_view name) {
  auto q = b.vhost().find_queue(name, b.connection()->id());
  EXPECT_TRUE(q.ok());
  return static_cast<ClassicQueue&>(**q);
}

// Message i: properties that exercise every kind of field, bodies of varying size (empty,
// small, 1 KiB, binary).
BasicProperties props_of(int i) {
  BasicProperties p;
  if (i % 2 == 0) p.content_type = "text/plain";
  if (i % 3 == 0) p.message_id = "id-" + std::to_string(i);
  if (i % 5 == 0) p.correlation_id = "c" + std::to_string(i);
  if (i % 7 == 0) p.timestamp = 1700000000 + static_cast<uint64_t>(i);
  if (i % 11 == 0) p.delivery_mode = 2;
  p.headers = FieldTable{{"i", int64_t{i}},
                         {"nested", FieldTable{{"list", FieldArray{FieldValue("a"), int32_t{i}}}}}};
  return p;
}

std::string body_of_index(int i) {
  if (i % 13 == 0) return {};
  if (i % 17 == 0) return std::string(1024, static_cast<char>('a' + i % 26));
  std::string b = "m" + std::to_string(i);
  b.push_back('\0');
  b.push_back(static_cast<char>(0xff));
  return b;
}

void publish_indexed(TestBroker& b, Channel& ch, const std::string& queue, int from, int to) {
  (void)b;
  for (int i = from; i < to; ++i) {
    ASSERT_OK(publish(ch, "", queue, body_of_index(i), props_of(i)));
  }
}

TEST(PackedBacklog, ADeepBacklogIsPackedBehindTheHead) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  publish_indexed(b, *ch, "q", 0, kDeep);
  ClassicQueue& q = classic(b, "q");
  EXPECT_EQ(q.packed_count(), kDeep - kPackAfter);
  EXPECT_EQ(q.resident_count(), static_cast<size_t>(kDeep));
  EXPECT_EQ(b.counts("q").ready, static_cast<uint32_t>(kDeep));
}

TEST(PackedBacklog, GetReturnsEveryMessageExactlyAsPublished) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  publish_indexed(b, *ch, "q", 0, kDeep);
  for (int i = 0; i < kDeep; ++i) {
    auto r = get_message(*ch, "q");
    ASSERT_TRUE(r) << i;
    const Message& m = r->entry.message->message;
    ASSERT_EQ(m.body, body_of_index(i)) << i;
    ASSERT_EQ(m.exchange, "") << i;
    ASSERT_EQ(m.routing_key, "q") << i;
    ASSERT_EQ(m.properties, props_of(i)) << i;
    ASSERT_FALSE(r->entry.redelivered) << i;
    ASSERT_EQ(r->message_count, static_cast<uint32_t>(kDeep - i - 1));
  }
  EXPECT_FALSE(get_message(*ch, "q"));
  EXPECT_EQ(classic(b, "q").packed_count(), 0u);
}

TEST(PackedBacklog, AConsumerReceivesTheBacklogInOrder) {
  TestBroker b;
  auto& pub = b.open_channel();
  ASSERT_OK(declare(*pub, "q"));
  publish_indexed(b, *pub, "q", 0, kDeep);
  auto& sub = b.open_channel();
  ASSERT_OK(consume(*sub, "q", "c", /*no_ack=*/true));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(kDeep));
  const auto deliveries = sub.sink->deliveries();
  ASSERT_EQ(deliveries.size(), static_cast<size_t>(kDeep));
  for (int i = 0; i < kDeep; ++i) {
    ASSERT_EQ(deliveries[i].body(), body_of_index(i)) << i;
    ASSERT_EQ(deliveries[i].message->message.properties, props_of(i)) << i;
  }
}

TEST(PackedBacklog, RequeuedMessagesGoBackBeforeThePackedOnes) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  publish_indexed(b, *ch, "q", 0, kDeep);
  // Take the unpacked head and part of the packed region, unacked, then requeue it all.
  auto& taker = b.open_channel();
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(get_message(*taker, "q", /*no_ack=*/false));
  taker->close();
  // More publishes behind the packed ones.
  publish_indexed(b, *ch, "q", kDeep, kDeep + 100);
  for (int i = 0; i < kDeep + 100; ++i) {
    auto r = get_message(*ch, "q");
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->entry.message->message.body, body_of_index(i)) << i;
    ASSERT_EQ(r->entry.message->message.properties, props_of(i)) << i;
    ASSERT_EQ(r->entry.redelivered, i < 1500) << i;
  }
}

TEST(PackedBacklog, PriorityLevelsArePackedSeparately) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-max-priority", int32_t{5}}}));
  for (int i = 0; i < kDeep; ++i) {
    BasicProperties p;
    p.priority = i % 2 == 0 ? 1 : 3;
    ASSERT_OK(publish(*ch, "", "q", std::to_string(i), p));
  }
  EXPECT_EQ(classic(b, "q").packed_count(), 2 * (kDeep / 2 - kPackAfter));
  Strings expected;
  for (int i = 1; i < kDeep; i += 2) expected.push_back(std::to_string(i));
  for (int i = 0; i < kDeep; i += 2) expected.push_back(std::to_string(i));
  EXPECT_EQ(drain_bodies(*ch, "q"), expected);
}

TEST(PackedBacklog, ExpiredPackedMessagesAreDeadLetteredWithTheirContents) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-message-ttl", int64_t{60000}},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
  publish_indexed(b, *ch, "q", 0, kDeep);
  ASSERT_GT(classic(b, "q").packed_count(), 0u);
  ASSERT_OK(b.advance(61000));
  EXPECT_EQ(b.counts("q").ready, 0u);
  ASSERT_TRUE(b.wait_for_ready("dlq", kDeep));
  for (int i = 0; i < kDeep; ++i) {
    auto r = get_message(*ch, "dlq");
    ASSERT_TRUE(r) << i;
    const Message& m = r->entry.message->message;
    ASSERT_EQ(m.body, body_of_index(i)) << i;
    ASSERT_EQ(*m.properties.headers->find("i"), FieldValue(int64_t{i})) << i;
    const FieldValue* reason = testing::header_of(*r->entry.message, "x-first-death-reason");
    ASSERT_NE(reason, nullptr);
    ASSERT_EQ(*reason, FieldValue("expired"));
  }
}

TEST(PackedBacklog, DropHeadDeadLettersPackedMessagesWithTheirContents) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{kDeep}},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
  publish_indexed(b, *ch, "q", 0, 2 * kDeep);
  ASSERT_TRUE(b.wait_for_ready("dlq", kDeep));
  Strings dropped = drain_bodies(*ch, "dlq");
  Strings kept = drain_bodies(*ch, "q");
  ASSERT_EQ(dropped.size(), static_cast<size_t>(kDeep));
  ASSERT_EQ(kept.size(), static_cast<size_t>(kDeep));
  for (int i = 0; i < kDeep; ++i) {
    ASSERT_EQ(dropped[i], body_of_index(i)) << i;
    ASSERT_EQ(kept[i], body_of_index(kDeep + i)) << i;
  }
}

TEST(PackedBacklog, PurgeDropsThePackedMessagesToo) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  publish_indexed(b, *ch, "q", 0, kDeep);
  ClassicQueue& q = classic(b, "q");
  EXPECT_EQ(q.purge(), static_cast<uint32_t>(kDeep));
  EXPECT_EQ(q.packed_count(), 0u);
  EXPECT_EQ(q.packed_bytes(), 0u);
  publish_indexed(b, *ch, "q", 0, kDeep);
  Strings bodies = drain_bodies(*ch, "q");
  ASSERT_EQ(bodies.size(), static_cast<size_t>(kDeep));
  for (int i = 0; i < kDeep; ++i) ASSERT_EQ(bodies[i], body_of_index(i)) << i;
}

TEST(PackedBacklog, LargeBodiesAreNotPacked) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(publish(*ch, "", "q", std::string(i % 2 == 0 ? 1024 : 1025, 'b')));
  }
  // Behind the first 1024: the 1024 B bodies are packed, the 1025 B ones are not.
  EXPECT_EQ(classic(b, "q").packed_count(), (2000u - kPackAfter) / 2);
  Strings bodies = drain_bodies(*ch, "q");
  ASSERT_EQ(bodies.size(), 2000u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(bodies[i].size(), i % 2 == 0 ? 1024u : 1025u) << i;
}

// The queue drains completely, then a second deep backlog with a very large message among
// small ones: every message comes back as published (the PackLog reuses its emptied chunk).
TEST(PackedBacklog, ABacklogAfterADrainedOneComesBackIntact) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (int round = 0; round < 3; ++round) {
    publish_indexed(b, *ch, "q", 0, kDeep);
    Strings bodies = drain_bodies(*ch, "q");
    ASSERT_EQ(bodies.size(), static_cast<size_t>(kDeep));
    for (int i = 0; i < kDeep; ++i) ASSERT_EQ(bodies[i], body_of_index(i)) << round << " " << i;
  }
}

TEST(PackedBacklog, ExpiryWithoutADeadLetterExchangeDropsPackedMessages) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-message-ttl", int64_t{1000}}}));
  publish_indexed(b, *ch, "q", 0, kDeep);
  ASSERT_OK(b.advance(1001));
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(classic(b, "q").packed_count(), 0u);
  // The queue works on afterwards.
  publish_indexed(b, *ch, "q", 0, kDeep);
  Strings bodies = drain_bodies(*ch, "q");
  ASSERT_EQ(bodies.size(), static_cast<size_t>(kDeep));
  for (int i = 0; i < kDeep; ++i) ASSERT_EQ(bodies[i], body_of_index(i)) << i;
}

}  // namespace
}  // namespace burrow::broker
