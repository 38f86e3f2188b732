// Users, vhosts and permissions: RabbitMQ's password hashing, its permission semantics, the
// checks on channel operations with RabbitMQ's texts, and persistence across a restart.
#include "broker/access_control.h"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::TestBroker;
namespace fs = std::filesystem;

TEST(PasswordHash, MatchesRabbitMQsSha256Vector) {
  // rabbit_password_hashing_sha256 of "test12" with the salt 908DC60A (verified against
  // RabbitMQ 3.10.8: docs/management_design_notes.md section 4).
  const std::string salt("\x90\x8d\xc6\x0a", 4);
  EXPECT_EQ(hash_password("test12", salt), "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR");
}

TEST(PasswordHash, ChecksWithTheUsersAlgorithmAndRefusesBlankPasswords) {
  User u{"u", hash_password("secret"), std::string(kSha256Hashing), {}};
  EXPECT_TRUE(password_matches(u, "secret"));
  EXPECT_FALSE(password_matches(u, "Secret"));
  EXPECT_FALSE(password_matches(u, ""));
  // Two hashes of one password differ (random salt) and both match.
  User v{"v", hash_password("secret"), std::string(kSha256Hashing), {}};
  EXPECT_NE(u.password_hash, v.password_hash);
  EXPECT_TRUE(password_matches(v, "secret"));
  // A hash of another algorithm does not match under sha256.
  u.hashing_algorithm = std::string(kSha512Hashing);
  EXPECT_FALSE(password_matches(u, "secret"));
  u.password_hash = "not base64!";
  u.hashing_algorithm = std::string(kSha256Hashing);
  EXPECT_FALSE(password_matches(u, "secret"));
}

class AccessControlTest : public ::testing::Test {
 protected:
  AccessControl access_{nullptr};

  void SetUp() override {
    ASSERT_TRUE(access_
                    .put_user(User{
                        "alice", hash_password("pw"), std::string(kSha256Hashing), {"management"}})
                    .ok());
  }
};

TEST_F(AccessControlTest, AuthenticatesAndRefusesWithRabbitMQsReasons) {
  EXPECT_TRUE(access_.authenticate("alice", "pw", false, {}).ok());
  Status bad = access_.authenticate("alice", "nope", true, {});
  EXPECT_EQ(bad.code(), StatusCode::kAccessRefused);
  EXPECT_EQ(bad.message(), "user 'alice' - invalid credentials");
  EXPECT_EQ(access_.authenticate("nobody", "pw", true, {}).message(),
            "user 'nobody' - invalid credentials");
  Status remote = access_.authenticate("alice", "pw", false, {"alice"});
  EXPECT_EQ(remote.message(), "user 'alice' can only connect via localhost");
  EXPECT_TRUE(access_.authenticate("alice", "pw", true, {"alice"}).ok());
}

TEST_F(AccessControlTest, PatternsAreSearchedAndAnEmptyPatternMatchesNothing) {
  ASSERT_TRUE(access_.set_permissions(UserPermissions{"/", "alice", "", "^out\\.", "in"}).ok());
  EXPECT_TRUE(access_.check_vhost_access("alice", "/").ok());
  EXPECT_EQ(access_.check_vhost_access("alice", "other").message(),
            "access to vhost 'other' refused for user 'alice'");
  // write: anchored by the pattern itself.
  EXPECT_TRUE(access_.check("alice", "/", Permission::kWrite, "exchange", "out.x").ok());
  EXPECT_FALSE(access_.check("alice", "/", Permission::kWrite, "exchange", "x.out.y").ok());
  // read: "in" anywhere in the name, as re:run finds it.
  EXPECT_TRUE(access_.check("alice", "/", Permission::kRead, "queue", "main-inbox").ok());
  // configure "": nothing but the empty name.
  Status refused = access_.check("alice", "/", Permission::kConfigure, "queue", "q");
  EXPECT_EQ(refused.code(), StatusCode::kAccessRefused);
  EXPECT_EQ(refused.message(), "access to queue 'q' in vhost '/' refused for user 'alice'");
}

TEST_F(AccessControlTest, RefusesInvalidPatternsAndUnknownUsers) {
  EXPECT_EQ(access_.set_permissions(UserPermissions{"/", "alice", "(", ".*", ".*"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(access_.set_permissions(UserPermissions{"/", "bob", ".*", ".*", ".*"}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(AccessControlTest, DeletingAUserDropsItsPermissions) {
  ASSERT_TRUE(access_.set_permissions(UserPermissions{"/", "alice", ".*", ".*", ".*"}).ok());
  const uint64_t epoch = access_.epoch();
  ASSERT_TRUE(access_.delete_user("alice").ok());
  EXPECT_GT(access_.epoch(), epoch);
  EXPECT_FALSE(access_.find_permissions("/", "alice").has_value());
  EXPECT_EQ(access_.delete_user("alice").code(), StatusCode::kNotFound);
}

// ---- channel checks -----------------------------------------------------------------------

class ChannelPermissionsTest : public ::testing::Test {
 protected:
  TestBroker broker_;
  ConnectionPtr conn_;

  void SetUp() override {
    AccessControl& access = broker_.core().access();
    ASSERT_TRUE(
        access.put_user(User{"carol", hash_password("pw"), std::string(kSha256Hashing), {}}).ok());
    ASSERT_TRUE(access
                    .set_permissions(UserPermissions{"/", "carol", "^carol\\.",
                                                     "^(carol\\.|amq\\.default$)", "^carol\\."})
                    .ok());
    auto conn = broker_.core().connect(ConnectInfo{"carol", "/"});
    ASSERT_TRUE(conn.ok()) << conn.status().to_string();
    conn_ = *conn;
  }
  void TearDown() override { conn_->close(); }
};

TEST_F(ChannelPermissionsTest, OperationsNeedTheRightPermission) {
  auto& ch = broker_.open_channel(conn_);
  ASSERT_TRUE(ch->declare_queue(QueueDeclareRequest{.name = "carol.q"}).ok());
  auto denied = ch->declare_queue(QueueDeclareRequest{.name = "other"});
  EXPECT_EQ(denied.status().code(), StatusCode::kAccessRefused);
  EXPECT_EQ(denied.status().message(),
            "access to queue 'other' in vhost '/' refused for user 'carol'");
  // A passive declare needs no permission (and finds nothing here).
  auto& ch2 = broker_.open_channel(conn_);
  EXPECT_EQ(
      ch2->declare_queue(QueueDeclareRequest{.name = "other", .passive = true}).status().code(),
      StatusCode::kNotFound);

  // Publishing to the default exchange is checked as amq.default; amq.fanout is refused.
  auto& ch3 = broker_.open_channel(conn_);
  auto msg = std::make_shared<StoredMessage>();
  msg->message.body = "x";
  EXPECT_TRUE(ch3->publish("", "carol.q", false, false, msg).ok());
  Status publish = ch3->publish("amq.fanout", "", false, false, msg);
  EXPECT_EQ(publish.message(),
            "access to exchange 'amq.fanout' in vhost '/' refused for user 'carol'");

  // Binding needs write on the queue and read on the exchange.
  auto& ch4 = broker_.open_channel(conn_);
  Status bind = ch4->bind_queue("carol.q", "amq.direct", "k", {});
  EXPECT_EQ(bind.message(),
            "access to exchange 'amq.direct' in vhost '/' refused for user 'carol'");

  // A queue with a dead-letter exchange needs write on that exchange.
  auto& ch5 = broker_.open_channel(conn_);
  auto dlx = ch5->declare_queue(QueueDeclareRequest{
      .name = "carol.dl", .arguments = FieldTable{{"x-dead-letter-exchange", "elsewhere"}}});
  EXPECT_EQ(dlx.status().message(),
            "access to exchange 'elsewhere' in vhost '/' refused for user 'carol'");
}

TEST_F(ChannelPermissionsTest, APermissionChangeTakesEffectOnOpenChannels) {
  auto& ch = broker_.open_channel(conn_);
  ASSERT_TRUE(ch->declare_queue(QueueDeclareRequest{.name = "carol.q"}).ok());
  ASSERT_TRUE(
      broker_.core().access().set_permissions(UserPermissions{"/", "carol", "", "", ""}).ok());
  EXPECT_EQ(ch->declare_queue(QueueDeclareRequest{.name = "carol.q"}).status().code(),
            StatusCode::kAccessRefused);
}

TEST_F(ChannelPermissionsTest, RevokingWriteStopsTheNextPublish) {
  auto& ch = broker_.open_channel(conn_);
  auto msg = std::make_shared<StoredMessage>();
  msg->message.body = "x";
  ASSERT_TRUE(ch->publish("", "carol.q", false, false, msg).ok());
  ASSERT_TRUE(ch->publish("", "carol.q", false, false, msg).ok());  // the cached grant
  ASSERT_TRUE(broker_.core()
                  .access()
                  .set_permissions(UserPermissions{"/", "carol", "^carol\\.", "", "^carol\\."})
                  .ok());
  EXPECT_EQ(ch->publish("", "carol.q", false, false, msg).message(),
            "access to exchange 'amq.default' in vhost '/' refused for user 'carol'");
}

TEST(VHostAccess, ConnectingWithoutPermissionsIsRefused) {
  TestBroker broker;
  ASSERT_TRUE(broker.core()
                  .access()
                  .put_user(User{"dave", hash_password("pw"), std::string(kSha256Hashing), {}})
                  .ok());
  auto conn = broker.core().connect(ConnectInfo{"dave", "/"});
  EXPECT_EQ(conn.status().code(), StatusCode::kNotAllowed);
  EXPECT_EQ(conn.status().message(), "access to vhost '/' refused for user 'dave'");
  // The broker's own clients are trusted.
  auto trusted = broker.core().connect(ConnectInfo{"dave", "/", true});
  ASSERT_TRUE(trusted.ok());
  (*trusted)->close();
}

// ---- persistence ----------------------------------------------------------------------------

TEST(AccessPersistence, UsersVhostsPermissionsAndVhostContentsSurviveARestart) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("burrow-access-" + std::to_string(rd()));
  fs::create_directories(dir);
  Options options;
  options.data_dir = dir.string();
  options.durability = Durability::kOs;
  options.worker_threads = 2;
  {
    auto core = BrokerCore::open(options);
    ASSERT_TRUE(core.ok()) << core.status().to_string();
    BrokerCore& c = **core;
    ASSERT_TRUE(c.put_vhost(VHostInfo{"shop", "the shop", {"prod"}, ""}).ok());
    ASSERT_TRUE(c.access()
                    .put_user(User{
                        "erin", hash_password("pw"), std::string(kSha256Hashing), {"monitoring"}})
                    .ok());
    ASSERT_TRUE(c.access().set_permissions(UserPermissions{"shop", "erin", ".*", ".*", ".*"}).ok());
    auto conn = c.connect(ConnectInfo{"erin", "shop"});
    ASSERT_TRUE(conn.ok());
    testing::RecordingSink sink;
    auto ch = std::make_shared<Channel>(*conn, 1, &sink);
    ASSERT_TRUE(ch->declare_queue(QueueDeclareRequest{.name = "orders", .durable = true}).ok());
    ch->close();
    (*conn)->close();
  }
  {
    auto core = BrokerCore::open(options);
    ASSERT_TRUE(core.ok()) << core.status().to_string();
    BrokerCore& c = **core;
    EXPECT_TRUE(c.authenticate("erin", "pw", true).ok());
    EXPECT_TRUE(c.authenticate("guest", "guest", true).ok());
    auto shop = c.find_vhost("shop");
    ASSERT_TRUE(shop.ok());
    EXPECT_EQ((*shop)->info().description, "the shop");
    EXPECT_TRUE((*shop)->find_queue_any("orders").ok());
    // The queue is in "shop" only.
    EXPECT_FALSE((*c.find_vhost("/"))->find_queue_any("orders").ok());
    ASSERT_TRUE(c.delete_vhost("shop").ok());
    EXPECT_FALSE(c.access().find_permissions("shop", "erin").has_value());
  }
  {
    auto core = BrokerCore::open(options);
    ASSERT_TRUE(core.ok());
    EXPECT_FALSE((*core)->find_vhost("shop").ok());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace burrow::broker
