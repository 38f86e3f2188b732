// parse_amqp_uri against RabbitMQ's URI spec examples.
#include <gtest/gtest.h>

#include "client/amqp/connection_options.h"

namespace burrow::client::amqp {
namespace {

TEST(ParseAmqpUri, FullUri) {
  auto o = parse_amqp_uri("amqp://user:pa%40ss@broker.example:5673/my%2Fvhost?heartbeat=10");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->user, "user");
  EXPECT_EQ(o->password, "pa@ss");
  EXPECT_EQ(o->host, "broker.example");
  EXPECT_EQ(o->port, 5673);
  EXPECT_EQ(o->vhost, "my/vhost");
  EXPECT_EQ(o->heartbeat_s, 10);
}

TEST(ParseAmqpUri, DefaultsForMissingParts) {
  auto o = parse_amqp_uri("amqp://");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "localhost");
  EXPECT_EQ(o->port, 5672);
  EXPECT_EQ(o->user, "guest");
  EXPECT_EQ(o->password, "guest");
  EXPECT_EQ(o->vhost, "/");
}

TEST(ParseAmqpUri, EncodedDefaultVhostAndEmptyPath) {
  EXPECT_EQ(parse_amqp_uri("amqp://h/%2F")->vhost, "/");
  EXPECT_EQ(parse_amqp_uri("amqp://h/")->vhost, "/");
  EXPECT_EQ(parse_amqp_uri("amqp://h/v")->vhost, "v");
}

TEST(ParseAmqpUri, Ipv6Host) {
  auto o = parse_amqp_uri("amqp://[::1]:5674");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 5674);
}

TEST(ParseAmqpUri, QueryTuning) {
  auto o = parse_amqp_uri("amqp://h?frame_max=8192&channel_max=16&connection_timeout=250");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->frame_max, 8192u);
  EXPECT_EQ(o->channel_max, 16);
  EXPECT_EQ(o->connect_timeout.count(), 250);
}

TEST(ParseAmqpUri, RejectsMalformed) {
  EXPECT_EQ(parse_amqp_uri("http://h").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_amqp_uri("amqp://h:99999").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_amqp_uri("amqp://h:12x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_amqp_uri("amqp://h/a/b").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_amqp_uri("amqp://u%zz@h").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_amqp_uri("amqps://h").status().code(), StatusCode::kNotImplemented);
}

}  // namespace
}  // namespace burrow::client::amqp
