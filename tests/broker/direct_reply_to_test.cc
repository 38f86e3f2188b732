// Tests for direct reply-to (amq.rabbitmq.reply-to): the no-ack reply consumer, the rewritten
// reply address, replies reaching the requester, and RabbitMQ's 406 texts for misuse.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::consume;
using testing::declare;
using testing::get_message;
using testing::publish;
using testing::TestBroker;
using testing::TestChannel;
using Strings = std::vector<std::string>;

constexpr const char* kReplyTo = "amq.rabbitmq.reply-to";

BasicProperties request_props(std::string correlation_id = "42") {
  BasicProperties p;
  p.reply_to = kReplyTo;
  p.correlation_id = std::move(correlation_id);
  return p;
}

// Sends a request from `requester` to "rpc" and returns the reply address the server sees.
std::string request_address(TestChannel& requester, TestChannel& server) {
  EXPECT_OK(publish(*requester, "", "rpc", "request", request_props()));
  auto r = get_message(*server, "rpc");
  if (!r) {
    ADD_FAILURE() << "no request";
    return {};
  }
  return r->entry.message->message.properties.reply_to.value_or("");
}

TEST(DirectReplyTo, ReplyConsumerMustBeNoAck) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto tag = consume(*ch, kReplyTo, "replies", /*no_ack=*/false);
  EXPECT_EQ(tag.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(tag.status().message(), "reply consumer cannot acknowledge");
}

TEST(DirectReplyTo, SecondReplyConsumerIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(consume(*ch, kReplyTo, "r1", /*no_ack=*/true));
  auto tag = consume(*ch, kReplyTo, "r2", /*no_ack=*/true);
  EXPECT_EQ(tag.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(tag.status().message(), "reply consumer already set");
}

TEST(DirectReplyTo, PublishingARequestWithoutAReplyConsumerIs406) {
  TestBroker b;
  auto& server = b.open_channel();
  auto& requester = b.open_channel();
  ASSERT_OK(declare(*server, "rpc"));
  Status s = publish(*requester, "", "rpc", "request", request_props());
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "fast reply consumer does not exist");
  EXPECT_FALSE(get_message(*server, "rpc"));
}

TEST(DirectReplyTo, ReplyConsumerMustBeOnThePublishingChannel) {
  TestBroker b;
  auto& server = b.open_channel();
  auto& consumer = b.open_channel();
  auto& publisher = b.open_channel();
  ASSERT_OK(declare(*server, "rpc"));
  ASSERT_OK(consume(*consumer, kReplyTo, "replies", /*no_ack=*/true));
  Status s = publish(*publisher, "", "rpc", "request", request_props());
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "fast reply consumer does not exist");
}

TEST(DirectReplyTo, CancellingTheReplyConsumerEndsIt) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(consume(*ch, kReplyTo, "replies", /*no_ack=*/true));
  ASSERT_OK(ch->cancel("replies", nullptr));
  Status s = publish(*ch, "", "nowhere", "request", request_props());
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "fast reply consumer does not exist");
}

TEST(DirectReplyTo, ServerSeesAPrivateReplyAddress) {
  TestBroker b;
  auto& server = b.open_channel();
  auto& requester = b.open_channel();
  ASSERT_OK(declare(*server, "rpc"));
  ASSERT_OK(consume(*requester, kReplyTo, "replies", /*no_ack=*/true));
  ASSERT_OK(publish(*requester, "", "rpc", "request", request_props()));
  auto r = get_message(*server, "rpc");
  ASSERT_TRUE(r);
  const BasicProperties& props = r->entry.message->message.properties;
  ASSERT_TRUE(props.reply_to);
  EXPECT_TRUE(props.reply_to->starts_with("amq.rabbitmq.reply-to."));
  EXPECT_GT(props.reply_to->size(), std::string_view("amq.rabbitmq.reply-to.").size());
  EXPECT_EQ(props.correlation_id, "42");
  EXPECT_EQ(r->entry.message->message.body, "request");
}

TEST(DirectReplyTo, ReplyToTheAddressReachesTheRequester) {
  TestBroker b;
  auto& server = b.open_channel();
  auto& requester = b.open_channel();
  ASSERT_OK(declare(*server, "rpc"));
  ASSERT_OK(consume(*requester, kReplyTo, "replies", /*no_ack=*/true));
  std::string address = request_address(requester, server);
  BasicProperties reply;
  reply.correlation_id = "42";
  ASSERT_OK(publish(*server, "", address, "response", reply));
  ASSERT_TRUE(requester.sink->wait_for_deliveries(1));
  auto d = requester.sink->deliveries()[0];
  EXPECT_EQ(d.consumer_tag, "replies");
  EXPECT_EQ(d.body(), "response");
  EXPECT_EQ(d.message->message.routing_key, address);
  EXPECT_EQ(d.message->message.properties.correlation_id, "42");
  EXPECT_FALSE(d.redelivered);
  // A reply needs no ack: nothing is left unacknowledged.
  EXPECT_EQ(requester->unacked_count(), 0u);
}

TEST(DirectReplyTo, MandatoryReplyIsDeliveredAndReturnedNoRoute) {
  TestBroker b;
  auto& server = b.open_channel();
  auto& requester = b.open_channel();
  ASSERT_OK(declare(*server, "rpc"));
  ASSERT_OK(consume(*requester, kReplyTo, "replies", /*no_ack=*/true));
  std::string address = request_address(requester, server);
  ASSERT_OK(server->confirm_select());
  ASSERT_OK(publish(*server, "", address, "reply", {}, /*mandatory=*/true));
  server->flush();
  // reply_to.mandatory_reply_raw: basic.return NO_ROUTE, then the ack; the requester has it.
  EXPECT_EQ(server.sink->events(),
            (std::vector<std::string>{"return:312:NO_ROUTE:reply", "confirm:1:ack"}));
  ASSERT_TRUE(requester.sink->wait_for_deliveries(1));
  EXPECT_EQ(requester.sink->bodies(), Strings{"reply"});
}

TEST(DirectReplyTo, RepliesTakeTheChannelsNextTagWithoutUsingIt) {
  TestBroker b;
  auto& server = b.open_channel();
  auto& requester = b.open_channel();
  ASSERT_OK(declare(*server, "rpc"));
  ASSERT_OK(consume(*requester, kReplyTo, "replies", /*no_ack=*/true));
  std::string address = request_address(requester, server);
  ASSERT_OK(publish(*server, "", address, "reply1"));
  ASSERT_OK(publish(*server, "", address, "reply2"));
  ASSERT_TRUE(requester.sink->wait_for_deliveries(2));
  // reply_to.mandatory_reply_raw: both replies carry delivery tag 1.
  EXPECT_EQ(requester.sink->deliveries()[0].delivery_tag, 1u);
  EXPECT_EQ(requester.sink->deliveries()[1].delivery_tag, 1u);
}

TEST(DirectReplyTo, ReplyAfterTheRequesterIsGoneIsUnroutable) {
  TestBroker b;
  auto& server = b.open_channel();
  auto& requester = b.open_channel();
  ASSERT_OK(declare(*server, "rpc"));
  ASSERT_OK(consume(*requester, kReplyTo, "replies", /*no_ack=*/true));
  std::string address = request_address(requester, server);
  requester->close();
  ASSERT_OK(publish(*server, "", address, "late", {}, /*mandatory=*/true));
  ASSERT_EQ(server.sink->returns().size(), 1u);
  EXPECT_EQ(server.sink->returns()[0].reply_text, "NO_ROUTE");
  EXPECT_EQ(requester.sink->delivery_count(), 0u);
}

TEST(DirectReplyTo, UnknownReplyAddressesAreDropped) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(publish(*ch, "", "amq.rabbitmq.reply-to.bogus", "x", {}, /*mandatory=*/true));
  ASSERT_OK(publish(*ch, "", kReplyTo, "x", {}, /*mandatory=*/true));
  ASSERT_OK(publish(*ch, "", "amq.rabbitmq.reply-to.g2dkAA", "y"));
  ch->flush();
  // reply_to.reply_to_unknown_address: two returns, three acks.
  EXPECT_EQ(ch.sink->returns().size(), 2u);
  EXPECT_EQ(ch.sink->confirms(), (std::vector<testing::RecordingSink::Confirm>{{3, true, true}}));
}

}  // namespace
}  // namespace burrow::broker
