// ClientChannel against an in-process burrow server: declare, publish and consume, confirms,
// mandatory returns, channel errors, acks, basic.get.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/client_amqp/test_server.h"

namespace burrow::client::amqp {
namespace {

struct Received {
  uint64_t delivery_tag;
  bool redelivered;
  std::string exchange;
  std::string routing_key;
  BasicProperties properties;
  std::string body;
};

class ChannelTest : public AmqpClientTest {
 protected:
  void SetUp() override {
    AmqpClientTest::SetUp();
    conn_ = connect();
    ASSERT_TRUE(conn_);
    auto ch = conn_->open_channel();
    ASSERT_TRUE(ch.ok()) << ch.status().to_string();
    ch_ = std::move(*ch);
    if (external()) {
      // A shared broker keeps queues between tests and runs: start from a clean slate.
      for (const char* q : {"q", "big", "cq", "present", "aq", "aq2", "gq", "cb", "cancel", "gone",
                            "pq", "f1", "f2", "f3", "after"}) {
        ASSERT_TRUE(ch_->queue_delete(q).ok());
      }
    }
  }

  void TearDown() override {
    // No callback may run once the members it records into are gone.
    ch_.reset();
    conn_.reset();
    AmqpClientTest::TearDown();
  }

  // Starts a consumer on `queue` that records every delivery.
  std::string consume(const std::string& queue, bool no_ack) {
    ConsumeOptions o;
    o.no_ack = no_ack;
    auto tag = ch_->consume(
        queue,
        [this](const Delivery& d) {
          waiter_.update([&] {
            received_.push_back(Received{d.delivery_tag, d.redelivered, std::string(d.exchange),
                                         std::string(d.routing_key), *d.properties,
                                         std::string(d.body)});
          });
        },
        o);
    EXPECT_TRUE(tag.ok()) << tag.status().to_string();
    return tag.ok() ? *tag : "";
  }

  bool wait_received(size_t n) {
    return waiter_.wait([&] { return received_.size() >= n; });
  }

  // basic.get until a message comes: the broker requeues and enqueues asynchronously, so a
  // get right after a publish or a channel close may still find the queue empty.
  static std::optional<GetResult> get_eventually(ClientChannel& ch, const std::string& queue,
                                                 bool no_ack) {
    for (int i = 0; i < 200; ++i) {
      auto r = ch.get(queue, no_ack);
      EXPECT_TRUE(r.ok()) << r.status().to_string();
      if (!r.ok()) return std::nullopt;
      if (r->has_value()) return std::move(*r);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }

  std::unique_ptr<ClientConnection> conn_;
  std::unique_ptr<ClientChannel> ch_;
  Waiter waiter_;
  std::vector<Received> received_;
};

TEST_F(ChannelTest, DeclareServerNamedQueue) {
  auto q = ch_->queue_declare("", QueueOptions{.exclusive = true});
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q->name.rfind("amq.gen-", 0), 0u) << q->name;
  EXPECT_EQ(q->message_count, 0u);
  auto again = ch_->queue_declare(q->name, QueueOptions{.passive = true});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->name, q->name);
}

TEST_F(ChannelTest, PublishAndConsumeKeepsOrderAndProperties) {
  ASSERT_TRUE(ch_->exchange_declare("ex", "direct").ok());
  ASSERT_TRUE(ch_->queue_declare("q").ok());
  ASSERT_TRUE(ch_->queue_bind("q", "ex", "rk").ok());
  consume("q", /*no_ack=*/true);
  BasicProperties props;
  props.content_type = "text/plain";
  props.delivery_mode = 2;
  props.headers = FieldTable{{"k", int32_t{7}}};
  constexpr int kCount = 500;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(ch_->publish("ex", "rk", "m" + std::to_string(i), props).ok());
  }
  ASSERT_TRUE(wait_received(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(received_[i].body, "m" + std::to_string(i));
    EXPECT_EQ(received_[i].delivery_tag, static_cast<uint64_t>(i + 1));
  }
  EXPECT_EQ(received_[0].exchange, "ex");
  EXPECT_EQ(received_[0].routing_key, "rk");
  EXPECT_FALSE(received_[0].redelivered);
  EXPECT_EQ(received_[0].properties, props);
}

TEST_F(ChannelTest, LargeMessageSpansFrames) {
  ASSERT_TRUE(ch_->queue_declare("big").ok());
  consume("big", true);
  std::string body(1 << 20, 'a');
  for (size_t i = 0; i < body.size(); i += 4093) body[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(ch_->publish("", "big", body).ok());
  ASSERT_TRUE(wait_received(1));
  EXPECT_EQ(received_[0].body, body);
}

TEST_F(ChannelTest, ConfirmsAckEveryPublishInOrder) {
  ASSERT_TRUE(ch_->queue_declare("cq").ok());
  std::vector<uint64_t> acked;
  ch_->set_confirm_callback(
      [&](uint64_t seq, bool ack) { waiter_.update([&] { acked.push_back(ack ? seq : 0); }); });
  ASSERT_TRUE(ch_->confirm_select().ok());
  constexpr uint64_t kCount = 2000;
  for (uint64_t i = 1; i <= kCount; ++i) {
    auto seq = ch_->publish("", "cq", "x");
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, i);
  }
  ASSERT_TRUE(ch_->wait_for_confirms(0, std::chrono::seconds(5)).ok());
  ConfirmCounts counts = ch_->confirm_counts();
  EXPECT_EQ(counts.published, kCount);
  EXPECT_EQ(counts.acked, kCount);
  EXPECT_EQ(counts.nacked, 0u);
  ASSERT_TRUE(waiter_.wait([&] { return acked.size() == kCount; }));
  for (uint64_t i = 0; i < kCount; ++i) EXPECT_EQ(acked[i], i + 1);
  auto q = ch_->queue_declare("cq", QueueOptions{.passive = true});
  EXPECT_EQ(q->message_count, kCount);
}

TEST_F(ChannelTest, WaitForConfirmsNeedsConfirmMode) {
  EXPECT_EQ(ch_->wait_for_confirms(0, std::chrono::seconds(1)).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ChannelTest, MandatoryPublishWithoutRouteIsReturned) {
  std::vector<std::string> returns;
  ch_->set_return_callback([&](const ReturnedMessage& r) {
    waiter_.update([&] {
      returns.push_back(std::to_string(r.reply_code) + " " + std::string(r.reply_text) + " " +
                        std::string(r.routing_key) + " " + std::string(r.body) + " " +
                        r.properties->message_id.value_or(""));
    });
  });
  ASSERT_TRUE(ch_->confirm_select().ok());
  BasicProperties props;
  props.message_id = "id-1";
  ASSERT_TRUE(ch_->publish("", "nowhere", "lost?", props, /*mandatory=*/true).ok());
  ASSERT_TRUE(ch_->wait_for_confirms(0, std::chrono::seconds(5)).ok());
  // RabbitMQ sends basic.return before the basic.ack of the same publish.
  ASSERT_EQ(returns.size(), 1u);
  EXPECT_EQ(returns[0], "312 NO_ROUTE nowhere lost? id-1");
  EXPECT_EQ(ch_->confirm_counts().acked, 1u);
}

TEST_F(ChannelTest, ChannelErrorCarries404Text) {
  auto q = ch_->queue_declare("missing", QueueOptions{.passive = true});
  ASSERT_FALSE(q.ok());
  const Status expected(StatusCode::kNotFound, "no queue 'missing' in vhost '/'");
  EXPECT_EQ(q.status(), expected);
  EXPECT_FALSE(ch_->is_open());
  EXPECT_EQ(ch_->status(), expected);
  EXPECT_EQ(ch_->publish("", "missing", "x").status(), expected);
  EXPECT_EQ(ch_->ack(1).code(), StatusCode::kNotFound);
  EXPECT_TRUE(ch_->close().ok());
  // Only the channel closed.
  EXPECT_TRUE(conn_->is_open());
  auto other = conn_->open_channel();
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)->queue_declare("present").ok());
}

TEST_F(ChannelTest, PublishToMissingExchangeClosesTheChannel) {
  ASSERT_TRUE(ch_->publish("no-such-exchange", "rk", "x").ok());  // asynchronous
  // The broker's channel.close arrives on its own; the next synchronous call reports it.
  auto r = ch_->queue_declare("after");
  EXPECT_EQ(r.status(),
            Status(StatusCode::kNotFound, "no exchange 'no-such-exchange' in vhost '/'"));
}

TEST_F(ChannelTest, AckMultipleAcknowledgesEarlierDeliveries) {
  ASSERT_TRUE(ch_->queue_declare("aq").ok());
  ASSERT_TRUE(ch_->qos(100).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ch_->publish("", "aq", std::to_string(i)).ok());
  const std::string tag = consume("aq", /*no_ack=*/false);
  ASSERT_TRUE(wait_received(10));
  ASSERT_TRUE(ch_->ack(received_[9].delivery_tag, /*multiple=*/true).ok());
  ASSERT_TRUE(ch_->cancel(tag).ok());
  // Closing the channel would requeue unacked deliveries; nothing comes back.
  ASSERT_TRUE(ch_->close().ok());
  auto ch2 = conn_->open_channel();
  ASSERT_TRUE(ch2.ok());
  auto q = (*ch2)->queue_declare("aq", QueueOptions{.passive = true});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->message_count, 0u);
}

TEST_F(ChannelTest, AckWithoutMultipleLeavesTheRestUnacked) {
  ASSERT_TRUE(ch_->queue_declare("aq2").ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ch_->publish("", "aq2", std::to_string(i)).ok());
  consume("aq2", false);
  ASSERT_TRUE(wait_received(3));
  ASSERT_TRUE(ch_->ack(received_[2].delivery_tag).ok());
  ASSERT_TRUE(ch_->close().ok());
  auto ch2 = conn_->open_channel();
  ASSERT_TRUE(ch2.ok());
  auto first = get_eventually(**ch2, "aq2", true);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "0");
  EXPECT_TRUE(first->redelivered);
  auto second = get_eventually(**ch2, "aq2", true);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "1");
  auto none = (*ch2)->get("aq2", true);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(ChannelTest, NackRequeuesAndGetReturnsTheMessage) {
  ASSERT_TRUE(ch_->queue_declare("gq").ok());
  BasicProperties props;
  props.correlation_id = "c1";
  ASSERT_TRUE(ch_->publish("", "gq", "payload", props).ok());
  std::optional<GetResult> got = get_eventually(*ch_, "gq", false);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->body, "payload");
  EXPECT_EQ(got->routing_key, "gq");
  EXPECT_EQ(got->properties.correlation_id, "c1");
  EXPECT_FALSE(got->redelivered);
  ASSERT_TRUE(ch_->nack(got->delivery_tag, false, /*requeue=*/true).ok());
  auto again = get_eventually(*ch_, "gq", /*no_ack=*/true);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->redelivered);
  EXPECT_EQ(again->body, "payload");
}

TEST_F(ChannelTest, CallbacksMayAckButNotCallSynchronousMethods) {
  ASSERT_TRUE(ch_->queue_declare("cb").ok());
  Status from_callback;
  bool done = false;
  ConsumeOptions o;
  ASSERT_TRUE(ch_->consume(
                     "cb",
                     [&](const Delivery& d) {
                       Status declare = ch_->queue_declare("x").status();
                       Status ack = ch_->ack(d.delivery_tag);
                       waiter_.update([&] {
                         from_callback = declare;
                         done = ack.ok();
                       });
                     },
                     o)
                  .ok());
  ASSERT_TRUE(ch_->publish("", "cb", "x").ok());
  ASSERT_TRUE(waiter_.wait([&] { return done; }));
  EXPECT_EQ(from_callback.code(), StatusCode::kInvalidArgument);
}

TEST_F(ChannelTest, CancelStopsDeliveries) {
  ASSERT_TRUE(ch_->queue_declare("cancel").ok());
  const std::string tag = consume("cancel", true);
  ASSERT_TRUE(ch_->publish("", "cancel", "1").ok());
  ASSERT_TRUE(wait_received(1));
  ASSERT_TRUE(ch_->cancel(tag).ok());
  ASSERT_TRUE(ch_->confirm_select().ok());
  ASSERT_TRUE(ch_->publish("", "cancel", "2").ok());
  // RabbitMQ enqueues asynchronously: the confirm says the queue has it.
  ASSERT_TRUE(ch_->wait_for_confirms(0, std::chrono::seconds(5)).ok());
  auto q = ch_->queue_declare("cancel", QueueOptions{.passive = true});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->message_count, 1u);
  EXPECT_EQ(received_.size(), 1u);
}

TEST_F(ChannelTest, DeletingTheQueueCancelsTheConsumer) {
  ASSERT_TRUE(ch_->queue_declare("gone").ok());
  std::string cancelled;
  ch_->set_cancel_callback(
      [&](std::string_view tag) { waiter_.update([&] { cancelled = std::string(tag); }); });
  const std::string tag = consume("gone", true);
  auto other = conn_->open_channel();
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->queue_delete("gone").ok());
  ASSERT_TRUE(waiter_.wait([&] { return !cancelled.empty(); }));
  EXPECT_EQ(cancelled, tag);
}

TEST_F(ChannelTest, PurgeAndDeleteReportCounts) {
  ASSERT_TRUE(ch_->queue_declare("pq").ok());
  ASSERT_TRUE(ch_->confirm_select().ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ch_->publish("", "pq", "x").ok());
  ASSERT_TRUE(ch_->wait_for_confirms(0, std::chrono::seconds(5)).ok());
  auto purged = ch_->queue_purge("pq");
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 5u);
  auto deleted = ch_->queue_delete("pq");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 0u);
}

TEST_F(ChannelTest, FanoutDeliversToEveryBoundQueue) {
  ASSERT_TRUE(ch_->exchange_declare("fan", "fanout").ok());
  for (const char* q : {"f1", "f2", "f3"}) {
    ASSERT_TRUE(ch_->queue_declare(q).ok());
    ASSERT_TRUE(ch_->queue_bind(q, "fan", "").ok());
    consume(q, true);
  }
  ASSERT_TRUE(ch_->publish("fan", "", "hello").ok());
  ASSERT_TRUE(wait_received(3));
}

}  // namespace
}  // namespace burrow::client::amqp
