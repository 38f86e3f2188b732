// Tests for Connection: exclusive queues belong to their declaring connection and are deleted
// when it closes.
#include "broker/connection.h"

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::consume;
using testing::declare;
using testing::publish;
using testing::TestBroker;

TEST(Connection, CloseDeletesItsExclusiveQueues) {
  TestBroker b;
  auto owner = b.connect();
  auto& mine = b.open_channel(owner);
  ASSERT_OK(mine->declare_queue({.name = "ex1", .exclusive = true}));
  ASSERT_OK(mine->declare_queue({.name = "ex2", .exclusive = true}));
  auto& other = b.open_channel();
  EXPECT_EQ(other->declare_queue({.name = "ex1", .passive = true}).status().code(),
            StatusCode::kResourceLocked);
  mine->close();
  owner->close();
  EXPECT_EQ(other->declare_queue({.name = "ex1", .passive = true}).status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(b.queue_exists("ex2"));
  // The name is free for anyone now.
  EXPECT_OK(other->declare_queue({.name = "ex1", .exclusive = true}));
}

TEST(Connection, CloseKeepsSharedQueuesAndOtherConnectionsExclusiveQueues) {
  TestBroker b;
  auto closing = b.connect();
  auto staying = b.connect();
  auto& c1 = b.open_channel(closing);
  auto& c2 = b.open_channel(staying);
  ASSERT_OK(declare(*c1, "shared"));
  ASSERT_OK(publish(*c1, "", "shared", "m"));
  ASSERT_OK(c2->declare_queue({.name = "theirs", .exclusive = true}));
  c1->close();
  closing->close();
  EXPECT_TRUE(b.queue_exists("shared"));
  EXPECT_EQ(b.counts("shared").ready, 1u);
  EXPECT_OK(c2->declare_queue({.name = "theirs", .passive = true}));
}

TEST(Connection, CloseIsIdempotent) {
  TestBroker b;
  auto conn = b.connect();
  auto& ch = b.open_channel(conn);
  ASSERT_OK(ch->declare_queue({.name = "ex", .exclusive = true}));
  ch->close();
  conn->close();
  conn->close();
  EXPECT_FALSE(b.queue_exists("ex"));
}

TEST(Connection, ClosingWithAConsumerStillAttachedCancelsIt) {
  TestBroker b;
  auto conn = b.connect();
  auto& ch = b.open_channel(conn);
  ASSERT_OK(ch->declare_queue({.name = "ex", .exclusive = true}));
  ASSERT_OK(consume(*ch, "ex", "c"));
  conn->close();  // the channel is still open
  ASSERT_TRUE(ch.sink->wait_for_cancels(1));
  EXPECT_EQ(ch.sink->cancels(), std::vector<std::string>{"c"});
  EXPECT_EQ(ch->consumer_count(), 0u);
  EXPECT_FALSE(b.queue_exists("ex"));
}

TEST(Connection, ExclusiveQueueDropsItsMessagesWithIt) {
  TestBroker b;
  auto conn = b.connect();
  auto& ch = b.open_channel(conn);
  ASSERT_OK(ch->declare_queue({.name = "ex", .exclusive = true}));
  ASSERT_OK(publish(*ch, "", "ex", "m"));
  ch->close();
  conn->close();
  auto& other = b.open_channel();
  ASSERT_OK(other->declare_queue({.name = "ex"}));
  EXPECT_EQ(b.counts("ex").ready, 0u);
}

TEST(Connection, ConnectionsHaveDistinctIdsAndKnowTheirUser) {
  TestBroker b;
  auto a = b.connect();
  auto c = b.connect();
  EXPECT_NE(a->id(), c->id());
  EXPECT_NE(a->id(), 0u);  // 0 means "not exclusive" in QueueSettings
  EXPECT_EQ(a->user(), "guest");
  EXPECT_EQ(a->vhost()->name(), "/");
  EXPECT_EQ(&a->core(), &b.core());
}

}  // namespace
}  // namespace burrow::broker
