// Tests for burrow::Broker: opening an embedded broker and opening channels on it.
#include <burrow/broker.h>

#include <gtest/gtest.h>

#include "broker/broker_core.h"
#include "tests/client/client_test_util.h"

namespace burrow {
namespace {

using client_testing::open_broker;
using client_testing::open_channel;
using client_testing::test_options;

TEST(Broker, OpensInMemory) {
  auto broker = Broker::open(test_options());
  ASSERT_OK(broker);
  EXPECT_TRUE((*broker)->options().in_memory);
  EXPECT_EQ((*broker)->options().worker_threads, 2);
  auto channel = (*broker)->open_channel();
  ASSERT_OK(channel);
  EXPECT_NE(channel->get(), nullptr);
}

TEST(Broker, KeepsItsOptions) {
  Options options = test_options();
  options.max_message_size = 1234;
  auto broker = open_broker(options);
  EXPECT_EQ(broker->options().max_message_size, 1234u);
}

TEST(Broker, ExposesItsCore) {
  auto broker = open_broker();
  EXPECT_OK(broker->core().find_vhost("/"));
}

TEST(Broker, ChannelsShareTheBrokersConnection) {
  // Exclusive queues belong to the broker handle, so every channel it opens may use them.
  auto broker = open_broker();
  auto one = open_channel(*broker);
  auto two = open_channel(*broker);
  ASSERT_OK(one->declare_queue("ex", QueueOptions{.exclusive = true}));
  EXPECT_OK(two->declare_queue("ex", QueueOptions{.passive = true}));
  ASSERT_OK(two->publish("", "ex", "hello"));
  auto got = one->get("ex", true);
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->message->body, "hello");
}

TEST(Broker, DeliveryTagsArePerChannel) {
  auto broker = open_broker();
  auto one = open_channel(*broker);
  auto two = open_channel(*broker);
  ASSERT_OK(one->declare_queue("q"));
  ASSERT_OK(one->publish("", "q", "a"));
  ASSERT_OK(one->publish("", "q", "b"));
  auto a = one->get("q");
  auto b = two->get("q");
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_TRUE(a->has_value() && b->has_value());
  EXPECT_EQ((*a)->delivery_tag, 1u);
  EXPECT_EQ((*b)->delivery_tag, 1u);
}

TEST(Broker, ManyChannelsCanBeOpenedAndClosed) {
  auto broker = open_broker();
  for (int i = 0; i < 100; ++i) {
    auto ch = open_channel(*broker);
    ASSERT_OK(ch->declare_queue("q"));
    ASSERT_OK(ch->publish("", "q", "m"));
  }
  auto ch = open_channel(*broker);
  auto info = ch->declare_queue("q", QueueOptions{.passive = true});
  ASSERT_OK(info);
  EXPECT_EQ(info->message_count, 100u);
}

}  // namespace
}  // namespace burrow
