// Tests for BrokerCore: opening, the default user and vhost, authentication and connecting.
#include "broker/broker_core.h"

#include <burrow/clock.h>
#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::TestBroker;

TEST(BrokerCore, OpensWithTheDefaultVhost) {
  TestBroker b;
  auto vhost = b.core().find_vhost("/");
  ASSERT_OK(vhost);
  EXPECT_EQ((*vhost)->name(), "/");
  EXPECT_GE((*vhost)->exchange_count(), 6u);
  EXPECT_EQ((*vhost)->queue_count(), 0u);
}

TEST(BrokerCore, UnknownVhostIs530) {
  TestBroker b;
  auto vhost = b.core().find_vhost("nope");
  EXPECT_EQ(vhost.status().code(), StatusCode::kNotAllowed);
  EXPECT_EQ(vhost.status().message(), "vhost nope not found");
  auto conn = b.core().connect(ConnectInfo{"guest", "nope"});
  EXPECT_EQ(conn.status().code(), StatusCode::kNotAllowed);
  EXPECT_EQ(conn.status().message(), "vhost nope not found");
}

TEST(BrokerCore, DefaultUserAuthenticatesFromLoopbackOnly) {
  TestBroker b;
  EXPECT_OK(b.core().authenticate("guest", "guest", /*from_loopback=*/true));
  Status remote = b.core().authenticate("guest", "guest", /*from_loopback=*/false);
  EXPECT_EQ(remote.code(), StatusCode::kAccessRefused);
  EXPECT_EQ(remote.message(), "user 'guest' can only connect via localhost");
}

TEST(BrokerCore, WrongCredentialsAre403) {
  TestBroker b;
  Status bad_password = b.core().authenticate("guest", "wrong", true);
  EXPECT_EQ(bad_password.code(), StatusCode::kAccessRefused);
  EXPECT_EQ(bad_password.message(), "user 'guest' - invalid credentials");
  Status no_user = b.core().authenticate("nobody", "guest", true);
  EXPECT_EQ(no_user.code(), StatusCode::kAccessRefused);
  EXPECT_EQ(no_user.message(), "user 'nobody' - invalid credentials");
}

TEST(BrokerCore, HonoursCustomDefaults) {
  Options options = TestBroker::default_options();
  options.default_user = "admin";
  options.default_password = "s3cret";
  options.default_vhost = "prod";
  auto core = BrokerCore::open(options);
  ASSERT_OK(core);
  EXPECT_OK((*core)->authenticate("admin", "s3cret", /*from_loopback=*/true));
  EXPECT_EQ((*core)->authenticate("guest", "guest", true).code(), StatusCode::kAccessRefused);
  EXPECT_OK((*core)->find_vhost("prod"));
  EXPECT_EQ((*core)->find_vhost("/").status().code(), StatusCode::kNotAllowed);
  auto conn = (*core)->connect(ConnectInfo{"admin", "prod"});
  ASSERT_OK(conn);
  EXPECT_EQ((*conn)->vhost()->name(), "prod");
}

// Regression test, fixed (was: broker/broker_core.cc, BrokerCore::authenticate: `user == options_.default_user`):
// RabbitMQ's loopback restriction is the loopback_users setting, [<<"guest">>] by default; it
// names the user "guest", not whichever user is the default. A broker whose default user was
// renamed (RABBITMQ_DEFAULT_USER=admin, the usual container setup) accepts that user from
// any address. options.h documents the same: "guest" may connect only from loopback.
TEST(BrokerCore, RenamedDefaultUserMayConnectRemotely) {
  Options options = TestBroker::default_options();
  options.default_user = "admin";
  options.default_password = "s3cret";
  auto core = BrokerCore::open(options);
  ASSERT_OK(core);
  EXPECT_OK((*core)->authenticate("admin", "s3cret", /*from_loopback=*/false))
      << "BUG: only the user named guest is loopback-only in RabbitMQ";
}

TEST(BrokerCore, UsesTheConfiguredClock) {
  ManualClock clock(123456);
  Options options = TestBroker::default_options();
  options.clock = &clock;
  auto core = BrokerCore::open(options);
  ASSERT_OK(core);
  EXPECT_EQ((*core)->clock().now_ms(), 123456);
  clock.advance(10);
  EXPECT_EQ((*core)->clock().now_ms(), 123466);
}

TEST(BrokerCore, DefaultsMatchRabbitMq) {
  Options options;
  EXPECT_EQ(options.max_message_size, 134217728u);
  EXPECT_EQ(options.default_user, "guest");
  EXPECT_EQ(options.default_password, "guest");
  EXPECT_EQ(options.default_vhost, "/");
}

TEST(BrokerCore, StartsTheRequestedWorkerThreads) {
  TestBroker b;
  EXPECT_EQ(b.core().workers().thread_count(), 2);
}

TEST(BrokerCore, ShutdownIsIdempotent) {
  auto core = BrokerCore::open(TestBroker::default_options());
  ASSERT_OK(core);
  (*core)->shutdown();
  (*core)->shutdown();
}

}  // namespace
}  // namespace burrow::broker
