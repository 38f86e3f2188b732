// Tests for x-max-length and x-max-length-bytes with the x-overflow modes: drop-head
// (dead-letters the head, reason maxlen), reject-publish (publisher nack) and
// reject-publish-dlx (nack and dead-letter); only ready messages count.
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
using testing::publish_mandatory;
using testing::TestBroker;
using testing::with_expiration;
using testing::with_headers;
using Confirm = testing::RecordingSink::Confirm;
using Strings = std::vector<std::string>;

// Publishes each body and flushes its confirm, so every publish gets its own confirm.
void publish_each(Channel& ch, const std::string& queue, const Strings& bodies) {
  for (const std::string& body : bodies) {
    ASSERT_OK(publish(ch, "", queue, body));
    ch.flush();
  }
}

std::vector<Confirm> confirms(std::initializer_list<bool> acks) {
  std::vector<Confirm> out;
  uint64_t seq = 1;
  for (bool ack : acks) out.push_back(Confirm{seq++, false, ack});
  return out;
}

// ---- drop-head --------------------------------------------------------------------------

TEST(QueueLimits, DropHeadKeepsTheNewestMessages) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-max-length", int64_t{2}}}));
  publish_each(*ch, "q", {"m1", "m2", "m3", "m4"});
  EXPECT_EQ(ch.sink->confirms(), confirms({true, true, true, true}));
  EXPECT_EQ(b.counts("q").ready, 2u);
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"m3", "m4"}));
}

TEST(QueueLimits, MaxLengthZeroDropsEverythingWithoutAReturn) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-max-length", int64_t{0}}}));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "m1"));
  EXPECT_TRUE(ch.sink->returns().empty());
  EXPECT_FALSE(get_message(*ch, "q"));
}

TEST(QueueLimits, MaxLengthBytesCountsBodiesOnly) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-max-length-bytes", int64_t{10}}}));
  ASSERT_OK(
      publish(*ch, "", "q", "aaaa", with_headers(FieldTable{{"big", std::string(200, 'x')}})));
  ASSERT_OK(publish(*ch, "", "q", "bbbb"));
  ASSERT_OK(publish(*ch, "", "q", "cccc"));
  EXPECT_EQ(b.counts("q").ready, 2u);
  // A message larger than the limit pushes out everything, itself included.
  ASSERT_OK(publish(*ch, "", "q", "0123456789A"));
  EXPECT_EQ(b.counts("q").ready, 0u);
  ASSERT_OK(publish(*ch, "", "q", ""));
  ASSERT_OK(publish(*ch, "", "q", "dd"));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"", "dd"}));
}

TEST(QueueLimits, EitherLimitDropsTheHead) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{3}}, {"x-max-length-bytes", int64_t{6}}}));
  ASSERT_OK(publish(*ch, "", "q", "aaa"));
  ASSERT_OK(publish(*ch, "", "q", "bbb"));
  ASSERT_OK(publish(*ch, "", "q", "c"));
  EXPECT_EQ(b.counts("q").ready, 2u);  // bytes
  ASSERT_OK(publish(*ch, "", "q", "d"));
  ASSERT_OK(publish(*ch, "", "q", "e"));  // length
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"c", "d", "e"}));
}

TEST(QueueLimits, UnackedMessagesDoNotCountAndRequeueDropsHeads) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-max-length", int64_t{2}}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  auto second = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(second);
  ASSERT_OK(publish(*ch, "", "q", "m3"));
  ASSERT_OK(publish(*ch, "", "q", "m4"));
  EXPECT_EQ(b.counts("q").ready, 2u);
  EXPECT_EQ(b.counts("q").unacked, 2u);
  // limits.ready_messages_only: m1 and m2 come back at the head and are dropped at once.
  ASSERT_OK(ch->nack(second->delivery_tag, /*multiple=*/true, /*requeue=*/true));
  EXPECT_EQ(b.counts("q").ready, 2u);
  EXPECT_EQ(b.counts("q").unacked, 0u);
  ASSERT_OK(publish(*ch, "", "q", "m5"));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"m4", "m5"}));
}

TEST(QueueLimits, AConsumerTakingMessagesKeepsTheQueueUnderTheLimit) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q", FieldTable{{"x-max-length", int64_t{1}}}));
  ASSERT_OK(consume(*ch, "q", "c1", /*no_ack=*/true));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
    ASSERT_TRUE(ch.sink->wait_for_deliveries(static_cast<size_t>(i)));
  }
  EXPECT_EQ(ch.sink->bodies(), (Strings{"m1", "m2", "m3"}));
}

TEST(QueueLimits, DropHeadDeadLettersTheHeadWithReasonMaxlen) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{1}},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1", with_expiration("60000")));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_OK(publish(*ch, "", "q", "m3"));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m3"});
  auto first = get_message(*ch, "dlq");
  ASSERT_TRUE(first);
  EXPECT_EQ(body_of(first), "m1");
  EXPECT_EQ(first->message_count, 1u);
  const StoredMessage& dead = *first->entry.message;
  EXPECT_EQ(*header_of(dead, "x-first-death-reason"), FieldValue("maxlen"));
  const FieldTable& death =
      *header_of(dead, "x-death")->get_if<FieldArray>()->front().get_if<FieldTable>();
  EXPECT_EQ(*death.find("reason"), FieldValue("maxlen"));
  EXPECT_EQ(*death.find("original-expiration"), FieldValue("60000"));
  EXPECT_FALSE(dead.message.properties.expiration);
  EXPECT_EQ(body_of(get_message(*ch, "dlq")), "m2");
}

TEST(QueueLimits, DropHeadOnBytesDeadLettersTheDroppedHeads) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length-bytes", int64_t{4}},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
  ASSERT_OK(publish(*ch, "", "q", "ab"));
  ASSERT_OK(publish(*ch, "", "q", "cd"));
  ASSERT_OK(publish(*ch, "", "q", "efg"));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"efg"});
  EXPECT_EQ(drain_bodies(*ch, "dlq"), (Strings{"ab", "cd"}));
}

TEST(QueueLimits, RequeuePastTheLimitDeadLettersTheDroppedHeads) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{1}},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_OK(ch->reject(r->delivery_tag, /*requeue=*/true));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m2"});
  EXPECT_EQ(drain_bodies(*ch, "dlq"), Strings{"m1"});
}

// ---- reject-publish ----------------------------------------------------------------------

TEST(QueueLimits, RejectPublishNacksAndDiscardsTheNewMessage) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{2}}, {"x-overflow", "reject-publish"}}));
  publish_each(*ch, "q", {"m1", "m2", "m3", "m4"});
  EXPECT_EQ(ch.sink->confirms(), confirms({true, true, false, false}));
  EXPECT_EQ(body_of(get_message(*ch, "q")), "m1");
  publish_each(*ch, "q", {"m5", "m6"});
  EXPECT_EQ(ch.sink->confirms(), confirms({true, true, false, false, true, false}));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"m2", "m5"}));
}

TEST(QueueLimits, MaxLengthZeroWithRejectPublishNacks) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(*ch, "q2",
                    FieldTable{{"x-max-length", int64_t{0}}, {"x-overflow", "reject-publish"}}));
  ASSERT_OK(publish_mandatory(*ch, "", "q2", "m2"));
  ch->flush();
  EXPECT_TRUE(ch.sink->returns().empty());
  EXPECT_EQ(ch.sink->confirms(), confirms({false}));
  EXPECT_FALSE(get_message(*ch, "q2"));
}

TEST(QueueLimits, RejectPublishWithoutConfirmsDropsSilently) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{1}}, {"x-overflow", "reject-publish"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "m2"));
  ch->flush();
  EXPECT_TRUE(ch.sink->returns().empty());
  EXPECT_TRUE(ch.sink->confirms().empty());
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m1"});
}

TEST(QueueLimits, RejectedMandatoryPublishIsNackedNotReturned) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{1}}, {"x-overflow", "reject-publish"}}));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "m1"));
  ch->flush();
  ASSERT_OK(publish_mandatory(*ch, "", "q", "m2"));
  ch->flush();
  EXPECT_TRUE(ch.sink->returns().empty());
  EXPECT_EQ(ch.sink->confirms(), confirms({true, false}));
}

TEST(QueueLimits, RejectPublishOnBytesRefusesWhatDoesNotFit) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(
      *ch, "q", FieldTable{{"x-max-length-bytes", int64_t{5}}, {"x-overflow", "reject-publish"}}));
  publish_each(*ch, "q", {"abc", "de", "f", ""});
  EXPECT_EQ(ch.sink->confirms(), confirms({true, true, false, true}));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"abc", "de", ""}));
}

TEST(QueueLimits, OneFullQueueNacksThePublishButOthersStillGetIt) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(testing::declare_exchange(*ch, "x", "fanout"));
  ASSERT_OK(declare(*ch, "full",
                    FieldTable{{"x-max-length", int64_t{1}}, {"x-overflow", "reject-publish"}}));
  ASSERT_OK(declare(*ch, "free"));
  ASSERT_OK(ch->bind_queue("full", "x", "", {}));
  ASSERT_OK(ch->bind_queue("free", "x", "", {}));
  ASSERT_OK(publish(*ch, "x", "", "m1"));
  ch->flush();
  ASSERT_OK(publish(*ch, "x", "", "m2"));
  ch->flush();
  EXPECT_EQ(ch.sink->confirms(), confirms({true, false}));
  EXPECT_EQ(drain_bodies(*ch, "full"), Strings{"m1"});
  EXPECT_EQ(drain_bodies(*ch, "free"), (Strings{"m1", "m2"}));
}

TEST(QueueLimits, RejectPublishDlxNacksAndDeadLettersTheRejectedMessage) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{1}},
                               {"x-overflow", "reject-publish-dlx"},
                               {"x-dead-letter-exchange", ""},
                               {"x-dead-letter-routing-key", "dlq"}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ch->flush();
  ASSERT_OK(publish(*ch, "", "q", "m2", with_headers(FieldTable{{"h", "v"}})));
  ch->flush();
  EXPECT_EQ(ch.sink->confirms(), confirms({true, false}));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m1"});
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  EXPECT_EQ(body_of(dead), "m2");
  EXPECT_EQ(dead->message_count, 0u);
  EXPECT_EQ(*header_of(*dead->entry.message, "h"), FieldValue("v"));
  EXPECT_EQ(*header_of(*dead->entry.message, "x-first-death-reason"), FieldValue("maxlen"));
  EXPECT_EQ(*header_of(*dead->entry.message, "x-first-death-queue"), FieldValue("q"));
}

TEST(QueueLimits, RejectPublishDlxWithoutADeadLetterExchangeActsAsRejectPublish) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(
      *ch, "q", FieldTable{{"x-max-length", int64_t{1}}, {"x-overflow", "reject-publish-dlx"}}));
  publish_each(*ch, "q", {"m1", "m2"});
  EXPECT_EQ(ch.sink->confirms(), confirms({true, false}));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m1"});
}

TEST(QueueLimits, RejectPublishCountsReadyMessagesOnly) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(declare(*ch, "q",
                    FieldTable{{"x-max-length", int64_t{1}}, {"x-overflow", "reject-publish"}}));
  publish_each(*ch, "q", {"m1"});
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  publish_each(*ch, "q", {"m2", "m3"});
  EXPECT_EQ(ch.sink->confirms(), confirms({true, true, false}));
  EXPECT_EQ(b.counts("q").ready, 1u);
  EXPECT_EQ(b.counts("q").unacked, 1u);
}

}  // namespace
}  // namespace burrow::broker
