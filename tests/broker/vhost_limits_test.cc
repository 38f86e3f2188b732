// Tests for RabbitMQ's vhost limits (max-queues, max-connections: rabbitmqctl set_vhost_limits)
// and the consumers-per-channel limit (Options::consumer_max_per_channel), with RabbitMQ's
// codes and texts.
#include <string>

#include <gtest/gtest.h>

#include "broker/broker_core.h"
#include "broker/connection.h"
#include "tests/broker/test_broker.h"
#include "tests/storage/temp_dir.h"

namespace burrow::broker::testing {
namespace {

Status declare(TestChannel& ch, std::string name) {
  return ch->declare_queue({.name = std::move(name)}).status();
}

TEST(VHostLimits, MaxQueuesRefusesANewQueueWith406) {
  TestBroker b;
  ASSERT_OK(b.core().set_vhost_limits("/", VHostLimits{.max_queues = 2}));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(ch, "q1"));
  ASSERT_OK(declare(ch, "q2"));
  Status third = declare(ch, "q3");
  EXPECT_EQ(third.code(), StatusCode::kPreconditionFailed);
  // Observed on RabbitMQ 3.10.8 (set_vhost_limits -p / '{"max-queues": 2}').
  EXPECT_EQ(third.message(), "cannot declare queue 'q3': queue limit in vhost '/' (2) is reached");
  EXPECT_FALSE(b.queue_exists("q3"));
}

TEST(VHostLimits, AtTheLimitRedeclareAndPassiveStillWork) {
  TestBroker b;
  ASSERT_OK(b.core().set_vhost_limits("/", VHostLimits{.max_queues = 1}));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(ch, "q1"));
  EXPECT_OK(declare(ch, "q1"));
  EXPECT_OK(ch->declare_queue({.name = "q1", .passive = true}));
  auto& ch2 = b.open_channel();
  // A passive declaration of a missing queue is still 404, not the limit.
  EXPECT_EQ(ch2->declare_queue({.name = "nope", .passive = true}).status().code(),
            StatusCode::kNotFound);
  auto& ch3 = b.open_channel();
  auto named = ch3->declare_queue({.exclusive = true});
  ASSERT_FALSE(named.ok());
  EXPECT_TRUE(named.status().message().starts_with("cannot declare queue 'amq.gen-"))
      << named.status().message();
}

TEST(VHostLimits, DeletingAQueueFreesItsPlace) {
  TestBroker b;
  ASSERT_OK(b.core().set_vhost_limits("/", VHostLimits{.max_queues = 1}));
  auto& ch = b.open_channel();
  ASSERT_OK(declare(ch, "q1"));
  ASSERT_OK(ch->delete_queue("q1", false, false));
  EXPECT_OK(declare(ch, "q2"));
}

TEST(VHostLimits, ZeroAllowsNoneAndNegativeIsNoLimit) {
  TestBroker b;
  ASSERT_OK(b.core().set_vhost_limits("/", VHostLimits{.max_queues = 0}));
  auto& ch = b.open_channel();
  Status none = declare(ch, "q");
  EXPECT_EQ(none.message(), "cannot declare queue 'q': queue limit in vhost '/' (0) is reached");
  ASSERT_OK(b.core().set_vhost_limits("/", VHostLimits{.max_queues = -1}));
  auto& ch2 = b.open_channel();
  for (int i = 0; i < 5; ++i) EXPECT_OK(declare(ch2, "q" + std::to_string(i)));
}

TEST(VHostLimits, LimitsAreOnlyThatVhosts) {
  TestBroker b;
  ASSERT_OK(b.core().put_vhost(VHostInfo{.name = "other"}));
  ASSERT_OK(b.core().access().set_permissions(UserPermissions{"other", "guest", ".*", ".*", ".*"}));
  ASSERT_OK(b.core().set_vhost_limits("other", VHostLimits{.max_queues = 0}));
  auto& ch = b.open_channel();
  EXPECT_OK(declare(ch, "q"));
  auto conn = b.core().connect(ConnectInfo{"guest", "other"});
  ASSERT_OK(conn);
  RecordingSink sink;
  auto other = std::make_shared<Channel>(*conn, 1, &sink);
  EXPECT_EQ(other->declare_queue({.name = "q"}).status().code(), StatusCode::kPreconditionFailed);
  other->close();
  (*conn)->close();
}

TEST(VHostLimits, UpdatingAVhostKeepsItsLimits) {
  TestBroker b;
  ASSERT_OK(b.core().set_vhost_limits("/", VHostLimits{.max_connections = 5, .max_queues = 3}));
  ASSERT_OK(b.core().put_vhost(VHostInfo{.name = "/", .description = "changed"}));
  auto vhost = b.core().find_vhost("/");
  ASSERT_OK(vhost);
  EXPECT_EQ((*vhost)->info().description, "changed");
  EXPECT_EQ((*vhost)->info().limits, (VHostLimits{.max_connections = 5, .max_queues = 3}));
  EXPECT_EQ(b.core().set_vhost_limits("nope", {}).code(), StatusCode::kNotAllowed);
}

TEST(VHostLimits, MaxConnectionsRefusesTheNextConnectionWith530) {
  TestBroker b;  // holds one connection to "/"
  ASSERT_OK(b.core().set_vhost_limits("/", VHostLimits{.max_connections = 2}));
  auto second = b.core().connect(ConnectInfo{"guest", "/"});
  ASSERT_OK(second);
  auto third = b.core().connect(ConnectInfo{"guest", "/"});
  EXPECT_EQ(third.status().code(), StatusCode::kNotAllowed);
  // Observed on RabbitMQ 3.10.8 (set_vhost_limits -p / '{"max-connections": 3}').
  EXPECT_EQ(third.status().message(),
            "access to vhost '/' refused for user 'guest': connection limit (2) is reached");
  // The broker's own connections (management, the outbox relay) are not counted.
  EXPECT_OK(b.core().connect(ConnectInfo{.user = "guest", .vhost = "/", .trusted = true}));
  // A closed connection gives its place back; so does one dropped without close().
  (*second)->close();
  auto again = b.core().connect(ConnectInfo{"guest", "/"});
  ASSERT_OK(again);
  again->reset();
  EXPECT_OK(b.core().connect(ConnectInfo{"guest", "/"}));
}

using storage::testing::TempDir;

TEST(VHostLimits, LimitsSurviveARestart) {
  TempDir dir;
  Options options;
  options.data_dir = dir.path();
  options.durability = Durability::kOs;
  options.worker_threads = 1;
  {
    auto core = BrokerCore::open(options);
    ASSERT_OK(core);
    ASSERT_OK((*core)->set_vhost_limits("/", VHostLimits{.max_queues = 4}));
  }
  auto core = BrokerCore::open(options);
  ASSERT_OK(core);
  auto vhost = (*core)->find_vhost("/");
  ASSERT_OK(vhost);
  EXPECT_EQ((*vhost)->info().limits, (VHostLimits{.max_queues = 4}));
}

TEST(ConsumerLimit, ConsumePastTheLimitIs530AndOtherChannelsAreNotAffected) {
  Options options = TestBroker::default_options();
  options.consumer_max_per_channel = 2;
  TestBroker b(options);
  auto& ch = b.open_channel();
  ASSERT_OK(declare(ch, "q"));
  ASSERT_OK(ch->consume({.queue = "q", .tag = "a"}, nullptr));
  ASSERT_OK(ch->consume({.queue = "q", .tag = "b"}, nullptr));
  auto third = ch->consume({.queue = "q", .tag = "c"}, nullptr);
  EXPECT_EQ(third.status().code(), StatusCode::kNotAllowed);
  // RabbitMQ 3.12's text (rabbit_channel, consumer_max_per_channel).
  EXPECT_EQ(third.status().message(), "reached maximum (2) of consumers per channel");
  // A tag in use is still the tag-reuse error.
  EXPECT_EQ(ch->consume({.queue = "q", .tag = "a"}, nullptr).status().message(),
            "attempt to reuse consumer tag 'a'");
  // The limit is checked before the queue: no 404 past it.
  EXPECT_EQ(ch->consume({.queue = "missing"}, nullptr).status().code(), StatusCode::kNotAllowed);
  auto& other = b.open_channel();
  EXPECT_OK(other->consume({.queue = "q", .tag = "c"}, nullptr));
  ASSERT_OK(ch->cancel("a", nullptr));
  EXPECT_OK(ch->consume({.queue = "q", .tag = "d"}, nullptr));
}

}  // namespace
}  // namespace burrow::broker::testing
