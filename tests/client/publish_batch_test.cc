// Tests for Channel::publish_batch: the same outcome as publish() once per body (order,
// routing to several queues, overflow, mandatory returns, confirms, transactions, errors),
// whichever path the batch takes inside the broker.
#include <burrow/channel.h>

#include <string>
#include <vector>

#include <burrow/broker.h>
#include <gtest/gtest.h>

#include "tests/client/client_test_util.h"

namespace burrow {
namespace {

using client_testing::Collector;
using client_testing::kWaitTimeout;
using client_testing::open_broker;
using client_testing::open_channel;
using client_testing::test_options;
using Strings = std::vector<std::string>;

Strings numbered(const std::string& prefix, int n) {
  Strings out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Takes every ready message of `queue` with basic.get (no-ack), in order.
Strings drain(Channel& ch, const std::string& queue) {
  Strings out;
  for (;;) {
    auto got = ch.get(queue, true);
    if (!got.ok() || !got->has_value()) return out;
    out.push_back((**got).message->body);
  }
}

TEST(PublishBatch, MessagesArriveInOrderWithTheirPropertiesAndRouting) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  BasicProperties props;
  props.content_type = "text/plain";
  props.headers = FieldTable{{"k", "v"}};
  ASSERT_OK(ch->publish("", "q", "before"));
  ASSERT_OK(ch->publish_batch("", "q", numbered("m", 300), props));
  ASSERT_OK(ch->publish("", "q", "after"));
  auto first = ch->get("q", true);
  ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((**first).message->body, "before");
  auto second = ch->get("q", true);
  ASSERT_OK(second);
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((**second).message->body, "m0");
  EXPECT_EQ((**second).message->routing_key, "q");
  EXPECT_EQ((**second).message->exchange, "");
  EXPECT_EQ((**second).message->properties, props);
  Strings rest = drain(*ch, "q");
  Strings expected = numbered("m", 300);
  expected.erase(expected.begin());
  expected.push_back("after");
  EXPECT_EQ(rest, expected);
}

TEST(PublishBatch, AConsumerReceivesEveryMessageOnceInOrder) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  Collector<std::string> got;
  ASSERT_OK(ch->consume(
      "q", [&](const Delivery& d) { got.add(d.message->body); }, ConsumeOptions{.no_ack = true}));
  Strings all;
  for (int round = 0; round < 20; ++round) {
    Strings bodies = numbered("r" + std::to_string(round) + "-", 100);
    all.insert(all.end(), bodies.begin(), bodies.end());
    ASSERT_OK(ch->publish_batch("", "q", std::move(bodies)));
  }
  ASSERT_TRUE(got.wait_for(all.size()));
  EXPECT_TRUE(got.stays_at(all.size()));
  EXPECT_EQ(got.items(), all);
}

TEST(PublishBatch, AFanoutBatchReachesEveryBoundQueue) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_exchange("fan", "fanout"));
  for (const char* q : {"a", "b", "c"}) {
    ASSERT_OK(ch->declare_queue(q));
    ASSERT_OK(ch->bind_queue(q, "fan", ""));
  }
  ASSERT_OK(ch->publish_batch("fan", "ignored", numbered("m", 50)));
  for (const char* q : {"a", "b", "c"}) EXPECT_EQ(drain(*ch, q), numbered("m", 50)) << q;
}

TEST(PublishBatch, AnEmptyBatchPublishesNothing) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(ch->publish_batch("", "q", {}));
  EXPECT_OK(ch->wait_for_confirms(kWaitTimeout));
  EXPECT_TRUE(drain(*ch, "q").empty());
}

TEST(PublishBatch, OverflowRejectsAndDropsPerMessage) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue(
      "reject", QueueOptions{.arguments = FieldTable{{"x-max-length", int64_t{3}},
                                                     {"x-overflow", "reject-publish"}}}));
  ASSERT_OK(ch->declare_queue("drop",
                              QueueOptions{.arguments = FieldTable{{"x-max-length", int64_t{3}}}}));
  ASSERT_OK(ch->publish_batch("", "reject", numbered("m", 10)));
  ASSERT_OK(ch->publish_batch("", "drop", numbered("m", 10)));
  EXPECT_EQ(drain(*ch, "reject"), (Strings{"m0", "m1", "m2"}));
  EXPECT_EQ(drain(*ch, "drop"), (Strings{"m7", "m8", "m9"}));
}

TEST(PublishBatch, EachUnroutableMandatoryMessageComesBack) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  Collector<std::string> returned;
  ch->on_return([&](const ReturnedMessage& r) {
    EXPECT_EQ(r.reply_code, 312);
    EXPECT_EQ(r.reply_text, "NO_ROUTE");
    returned.add(r.message->body);
  });
  ASSERT_OK(ch->publish_batch("amq.direct", "nowhere", numbered("m", 5), {},
                              PublishOptions{.mandatory = true}));
  ASSERT_OK(ch->publish_batch("amq.direct", "nowhere", numbered("dropped", 5)));
  ASSERT_TRUE(returned.wait_for(5));
  EXPECT_TRUE(returned.stays_at(5));
  EXPECT_EQ(returned.items(), numbered("m", 5));
}

TEST(PublishBatch, ConfirmsCountEveryMessageAndSeeANack) {
  client_testing::TempDir dir;
  Options options = test_options();
  options.in_memory = false;
  options.data_dir = dir.path();
  auto b = open_broker(options);
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("durable", QueueOptions{.durable = true}));
  ASSERT_OK(ch->confirm_select());
  BasicProperties persistent;
  persistent.delivery_mode = 2;
  for (int round = 0; round < 5; ++round) {
    ASSERT_OK(ch->publish_batch("", "durable", numbered("m", 200), persistent));
    ASSERT_OK(ch->publish("", "durable", "single", persistent));
    ASSERT_OK(ch->wait_for_confirms(kWaitTimeout)) << "round " << round;
  }
  auto q = ch->declare_queue("durable", QueueOptions{.passive = true});
  ASSERT_OK(q);
  EXPECT_EQ(q->message_count, 5u * 201u);
  ASSERT_OK(ch->declare_queue(
      "full", QueueOptions{.arguments = FieldTable{{"x-max-length", int64_t{1}},
                                                   {"x-overflow", "reject-publish"}}}));
  ASSERT_OK(ch->publish_batch("", "full", Strings{"kept", "refused"}));
  Status s = ch->wait_for_confirms(kWaitTimeout);
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed) << s.to_string();
  EXPECT_OK(ch->wait_for_confirms(kWaitTimeout));
}

TEST(PublishBatch, CcAndBccHeadersRouteEveryMessage) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  for (const char* q : {"main", "cc", "bcc"}) ASSERT_OK(ch->declare_queue(q));
  BasicProperties props;
  props.headers = FieldTable{{"CC", FieldArray{"cc"}}, {"BCC", FieldArray{"bcc"}}};
  ASSERT_OK(ch->publish_batch("", "main", numbered("m", 4), props));
  for (const char* q : {"main", "cc", "bcc"}) {
    Strings bodies;
    for (;;) {
      auto got = ch->get(q, true);
      ASSERT_OK(got);
      if (!got->has_value()) break;
      const FieldTable& headers = *(**got).message->properties.headers;
      EXPECT_NE(headers.find("CC"), nullptr) << q;
      EXPECT_EQ(headers.find("BCC"), nullptr) << q << ": BCC is removed before any queue";
      bodies.push_back((**got).message->body);
    }
    EXPECT_EQ(bodies, numbered("m", 4)) << q;
  }
}

TEST(PublishBatch, ErrorsRefuseTheWholeBatch) {
  Options options = test_options();
  options.max_message_size = 16;
  auto b = open_broker(options);
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->confirm_select());
  Status s = ch->publish_batch("", "q", Strings{"small", std::string(17, 'x'), "small"});
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "message size 17 is larger than configured max size 16");
  s = ch->publish_batch("no-such-exchange", "k", Strings{"a", "b"});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no exchange 'no-such-exchange' in vhost '/'");
  ASSERT_OK(ch->declare_exchange("hidden", "direct", ExchangeOptions{.internal = true}));
  s = ch->publish_batch("hidden", "k", Strings{"a"});
  EXPECT_EQ(s.code(), StatusCode::kAccessRefused);
  EXPECT_TRUE(drain(*ch, "q").empty());
  // Refused batches took no confirm numbers.
  ASSERT_OK(ch->publish_batch("", "q", Strings{"a", "b"}));
  EXPECT_OK(ch->wait_for_confirms(kWaitTimeout));
  EXPECT_EQ(drain(*ch, "q"), (Strings{"a", "b"}));
}

TEST(PublishBatch, ADeliveredMessageOutlivesTheBrokerAndTheRestOfItsBatch) {
  std::shared_ptr<const Message> kept;
  {
    auto b = open_broker();
    auto ch = open_channel(*b);
    ASSERT_OK(ch->declare_queue("q"));
    ASSERT_OK(ch->publish_batch("", "q", numbered("m", 200)));
    for (int i = 0; i < 200; ++i) {
      auto got = ch->get("q", true);
      ASSERT_OK(got);
      ASSERT_TRUE(got->has_value());
      if (i == 150) kept = (**got).message;
    }
  }
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->body, "m150");
  EXPECT_EQ(kept->routing_key, "q");
}

TEST(PublishBatch, AClosedChannelRefusesIt) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ch->close();
  EXPECT_EQ(ch->publish_batch("", "q", Strings{"a"}).code(), StatusCode::kClosed);
}

}  // namespace
}  // namespace burrow
