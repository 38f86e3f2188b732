// ClientConnection against an in-process burrow server: handshake, tuning, refusals,
// heartbeats, and how a lost connection is reported.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

#include "tests/client_amqp/test_server.h"

namespace burrow::client::amqp {
namespace {

TEST_F(AmqpClientTest, HandshakeNegotiatesRabbitDefaults) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  EXPECT_TRUE(conn->is_open());
  EXPECT_TRUE(conn->status().ok());
  EXPECT_EQ(conn->tuning().frame_max, 131072u);
  EXPECT_EQ(conn->tuning().channel_max, 2047);
  EXPECT_EQ(conn->tuning().heartbeat_s, 60);
  if (!external()) {
    EXPECT_EQ(*conn->server_properties().find("product"), FieldValue("Burrow"));
  }
  EXPECT_TRUE(conn->close().ok());
  EXPECT_FALSE(conn->is_open());
  EXPECT_EQ(conn->status(), Status(StatusCode::kClosed, "connection closed by the client"));
  // Closing twice is fine.
  EXPECT_TRUE(conn->close().ok());
}

TEST_F(AmqpClientTest, ConnectByFieldsAndUri) {
  auto by_fields =
      ClientConnection::connect(options().host, port_, "guest", "guest", "/", 10, 8192);
  ASSERT_TRUE(by_fields.ok()) << by_fields.status().to_string();
  EXPECT_EQ((*by_fields)->tuning().frame_max, 8192u);
  EXPECT_EQ((*by_fields)->tuning().heartbeat_s, 10);

  auto o =
      parse_amqp_uri("amqp://guest:guest@" + options().host + ":" + std::to_string(port_) + "/%2F");
  ASSERT_TRUE(o.ok());
  auto by_uri = ClientConnection::connect(*o);
  ASSERT_TRUE(by_uri.ok()) << by_uri.status().to_string();
}

TEST_F(AmqpClientTest, BadPasswordIsAccessRefused) {
  ConnectionOptions o = options();
  o.password = "wrong";
  auto conn = ClientConnection::connect(o);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), StatusCode::kAccessRefused);
  EXPECT_EQ(conn.status().message(),
            "Login was refused using authentication mechanism PLAIN. For details see the broker "
            "logfile.");
}

TEST_F(AmqpClientTest, UnknownVhostIsNotAllowed) {
  ConnectionOptions o = options();
  o.vhost = "nope";
  auto conn = ClientConnection::connect(o);
  EXPECT_EQ(conn.status(), Status(StatusCode::kNotAllowed, "vhost nope not found"));
}

TEST_F(AmqpClientTest, ConnectionRefusedIsIoError) {
  if (external()) GTEST_SKIP() << "needs the in-process server";
  ConnectionOptions o = options();
  server_->stop();
  auto conn = ClientConnection::connect(o);
  EXPECT_EQ(conn.status().code(), StatusCode::kIoError) << conn.status().to_string();
}

TEST_F(AmqpClientTest, HeartbeatsKeepAnIdleConnectionOpen) {
  ConnectionOptions o = options();
  o.heartbeat_s = 1;
  auto conn = ClientConnection::connect(o);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ((*conn)->tuning().heartbeat_s, 1);
  // Both sides declare the peer dead after two silent intervals; 3.5 s of idleness passes
  // only if heartbeats flow both ways.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_TRUE((*conn)->is_open()) << (*conn)->status().to_string();
  auto ch = (*conn)->open_channel();
  EXPECT_TRUE(ch.ok()) << ch.status().to_string();
}

// Runs `cause` and returns the Status the connection's close callback then reported.
Status close_status_after(ClientConnection& conn, const std::function<void()>& cause) {
  Waiter w;
  Status closed;
  bool called = false;
  conn.set_close_callback([&](const Status& s) {
    w.update([&] {
      closed = s;
      called = true;
    });
  });
  cause();
  EXPECT_TRUE(w.wait([&] { return called; })) << "the close callback was not called";
  conn.set_close_callback(nullptr);
  return closed;
}

// A TCP proxy between the client and the broker that a test can cut, as a network failure
// would: both sockets are shut down with no AMQP close.
class CuttableProxy {
 public:
  explicit CuttableProxy(uint16_t target) : target_(target) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listener_, 1);
    socklen_t len = sizeof(addr);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { run(); });
  }
  ~CuttableProxy() {
    cut();
    ::shutdown(listener_, SHUT_RDWR);
    accept_thread_.join();
    for (auto& t : pumps_) t.join();
    ::close(listener_);
    if (client_ >= 0) ::close(client_);
    if (server_ >= 0) ::close(server_);
  }
  uint16_t port() const { return port_; }
  void cut() {
    std::lock_guard lock(mu_);
    if (client_ >= 0) ::shutdown(client_, SHUT_RDWR);
    if (server_ >= 0) ::shutdown(server_, SHUT_RDWR);
  }

 private:
  void run() {
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(target_);
    ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    {
      std::lock_guard lock(mu_);
      client_ = client;
      server_ = server;
    }
    pumps_.emplace_back([client, server] { pump(client, server); });
    pumps_.emplace_back([client, server] { pump(server, client); });
  }
  static void pump(int from, int to) {
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(from, buf, sizeof(buf), 0);
      if (n <= 0 || ::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(to, SHUT_RDWR);
  }

  const uint16_t target_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::mutex mu_;
  int client_ = -1;
  int server_ = -1;
  std::thread accept_thread_;
  std::vector<std::thread> pumps_;
};

TEST_F(AmqpClientTest, LostConnectionIsReportedToCallbackAndCalls) {
  if (external()) GTEST_SKIP() << "needs the in-process server";
  CuttableProxy proxy(port_);
  ConnectionOptions o = options();
  o.port = proxy.port();
  auto made = ClientConnection::connect(o);
  ASSERT_TRUE(made.ok()) << made.status().to_string();
  auto conn = std::move(*made);
  auto ch = conn->open_channel();
  ASSERT_TRUE(ch.ok());
  const Status closed = close_status_after(*conn, [&] { proxy.cut(); });
  EXPECT_EQ(closed.code(), StatusCode::kClosed);
  EXPECT_EQ(closed.message(), "connection lost: the broker closed the socket");
  EXPECT_FALSE(conn->is_open());
  EXPECT_EQ((*ch)->publish("", "q", "x").status(), closed);
  EXPECT_EQ(conn->open_channel().status(), closed);
}

// A stopping broker closes its connections with 320 (as RabbitMQ does); the client reports
// that to the close callback and to every later call.
TEST_F(AmqpClientTest, BrokerShutdownIsReportedToCallbackAndCalls) {
  if (external()) GTEST_SKIP() << "needs the in-process server";
  auto conn = connect();
  ASSERT_TRUE(conn);
  auto ch = conn->open_channel();
  ASSERT_TRUE(ch.ok());
  const Status closed = close_status_after(*conn, [&] { server_->stop(); });
  EXPECT_EQ(closed.code(), StatusCode::kConnectionForced);
  EXPECT_EQ(closed.message(), "broker forced connection closure with reason 'shutdown'");
  EXPECT_FALSE(conn->is_open());
  EXPECT_EQ((*ch)->publish("", "q", "x").status(), closed);
  EXPECT_EQ((*ch)->queue_declare("q").status(), closed);
  EXPECT_EQ(conn->open_channel().status(), closed);
}

TEST_F(AmqpClientTest, ChannelsGetDistinctNumbersAndReuseFreedOnes) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  auto a = conn->open_channel();
  auto b = conn->open_channel();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->number(), 1);
  EXPECT_EQ((*b)->number(), 2);
  EXPECT_TRUE((*a)->close().ok());
  EXPECT_FALSE((*a)->is_open());
  auto c = conn->open_channel();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->number(), 1);
}

}  // namespace
}  // namespace burrow::client::amqp
