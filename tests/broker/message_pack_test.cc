// Tests for the packed form of a message (broker/message_pack.h): exact round trips of every
// field, and damaged bytes reported as kCorruption, never a crash.
#include "broker/message_pack.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

StoredMessage full_message() {
  StoredMessage s;
  s.message.exchange = "orders";
  s.message.routing_key = "order.created";
  BasicProperties& p = s.message.properties;
  p.content_type = "application/json";
  p.content_encoding = "gzip";
  p.headers = FieldTable{{"int", int64_t{-5}},
                         {"str", "v"},
                         {"nested", FieldTable{{"a", FieldArray{FieldValue(int32_t{1}), "b"}}}},
                         {"ts", Timestamp{1700000000}},
                         {"bool", true}};
  p.delivery_mode = 2;
  p.priority = 7;
  p.correlation_id = "corr";
  p.reply_to = "amq.rabbitmq.reply-to";
  p.expiration = "60000";
  p.message_id = "m-1";
  p.timestamp = 1700000000;
  p.type = "created";
  p.user_id = "guest";
  p.app_id = "shop";
  p.cluster_id = "c";
  s.message.body = std::string("body\0with\xff bytes", 16);
  s.published_at = 1700000000123;
  s.bcc_keys = {"k1", "", "k3"};
  return s;
}

TEST(MessagePack, EveryFieldRoundTrips) {
  const StoredMessage in = full_message();
  std::string packed;
  pack_message(in, packed);
  auto out = unpack_message(packed);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  EXPECT_EQ((*out)->message.exchange, in.message.exchange);
  EXPECT_EQ((*out)->message.routing_key, in.message.routing_key);
  EXPECT_EQ((*out)->message.properties, in.message.properties);
  EXPECT_EQ((*out)->message.body, in.message.body);
  EXPECT_EQ((*out)->published_at, in.published_at);
  EXPECT_EQ((*out)->bcc_keys, in.bcc_keys);
}

TEST(MessagePack, APlainMessageIsSmall) {
  StoredMessage in;
  in.message.routing_key = "bench";
  in.message.body = std::string(16, 'x');
  in.published_at = 1700000000123;
  std::string packed;
  pack_message(in, packed);
  // published_at (6) + exchange (1) + routing key (6) + mask (1) + BCC count (1) + body.
  EXPECT_EQ(packed.size(), 15u + 16u);
  auto out = unpack_message(packed);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)->message.properties, BasicProperties{});
  EXPECT_EQ((*out)->message.body, in.message.body);
}

TEST(MessagePack, ScratchBufferIsReplacedNotAppended) {
  std::string packed = "left over";
  StoredMessage in;
  in.message.body = "b";
  pack_message(in, packed);
  auto out = unpack_message(packed);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)->message.body, "b");
}

TEST(MessagePack, TruncatedBytesAreCorruptionNotACrash) {
  std::string packed;
  pack_message(full_message(), packed);
  const size_t body_start = packed.size() - 16;
  // Every cut before the body makes a field run past the end (a cut inside the body only
  // shortens the body: the body runs to the end by design).
  for (size_t n = 0; n < body_start; ++n) {
    auto out = unpack_message(std::string_view(packed).substr(0, n));
    EXPECT_FALSE(out.ok()) << "cut at " << n;
    if (!out.ok()) {
      EXPECT_EQ(out.status().code(), StatusCode::kCorruption) << n;
    }
  }
}

TEST(MessagePack, GarbageIsCorruptionNotACrash) {
  const std::string garbage(64, '\xff');
  EXPECT_FALSE(unpack_message(garbage).ok());
  EXPECT_FALSE(unpack_message("").ok());
}

}  // namespace
}  // namespace burrow::broker
