// burrow::testing: a whole Burrow broker inside a GoogleTest binary, for testing code that
// talks AMQP 0-9-1 (any client library) or uses the in-process API. It listens on a free
// loopback port, keeps everything in memory, and runs on a ManualClock, so a test decides
// when TTLs, queue expiry, delayed messages and consumer timeouts fall due.
//
//   class OrdersTest : public burrow::testing::ServerTest {};
//   TEST_F(OrdersTest, ExpiredOrdersAreDeadLettered) {
//     connect_my_client(server().url());            // amqp://guest:guest@127.0.0.1:PORT/
//     ...publish with a 60 s TTL...
//     server().advance(std::chrono::seconds(61));   // fires the TTL now
//     ...find it in the dead-letter queue...
//   }
//
// docs/testing.md describes every control and what a client sees.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <burrow/broker.h>
#include <burrow/clock.h>
#include <burrow/properties.h>
#include <burrow/status.h>

namespace burrow::testing {

struct ServerOptions {
  // Keep a log of every published message (published()).
  bool record = false;
  // Also serve the management HTTP API (and /api/burrow/*) on a free port: http_url().
  bool http = false;
  // The AMQP port; 0 picks a free one.
  uint16_t port = 0;
  // Burrow's log level (stderr): trace, debug, info, warn, error, critical or off. Process-
  // wide; warn keeps a test's output free of connection logs.
  std::string log_level = "warn";
};

// One message as the broker routed it (ServerOptions::record).
struct PublishedMessage {
  std::string vhost;
  std::string exchange;
  std::string routing_key;
  BasicProperties properties;
  std::string body;
  std::vector<std::string> queues;  // the queues that took it
  TimeMs published_at = 0;          // broker (manual) clock
};

// Thread-safe.
class Server {
 public:
  // Starts the broker and its AMQP listener on 127.0.0.1. Errors: kIoError (cannot listen).
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // "amqp://guest:guest@127.0.0.1:PORT/" (the default vhost, user guest).
  std::string url() const;
  uint16_t port() const;
  // "http://127.0.0.1:PORT" with ServerOptions::http, else empty.
  std::string http_url() const;
  // The same broker through the in-process API (include/burrow/broker.h).
  Broker& broker();

  // ---- time ----
  TimeMs now() const;
  // Moves the clock and fires every timer that falls due, in due order, before returning.
  void advance(std::chrono::milliseconds delta);

  // ---- state ----
  // Closes every AMQP connection (320 CONNECTION_FORCED - broker reset) and returns the
  // broker to its initial state: no queues, messages, non-default exchanges, vhosts or users;
  // guest/guest on "/". Also clears faults and the published log. A few milliseconds.
  void reset();
  // Every message published since the start, the last reset or clear_published(), oldest
  // first. Empty unless ServerOptions::record.
  std::vector<PublishedMessage> published() const;
  void clear_published();

  // ---- faults (docs/testing.md: what a client sees) ----
  // Closes the AMQP connections (320 CONNECTION_FORCED - Closed via fault injection): all,
  // or those whose name or client-given connection_name is `client`. Returns how many.
  size_t close_connections(std::string_view client = {});
  // For `duration`, new TCP connections are closed as soon as they are accepted.
  void refuse_connections(std::chrono::milliseconds duration);
  // The next `count` publishes on channels in confirm mode are dropped and nacked.
  void nack_publishes(uint64_t count);
  // Every publisher confirm is sent `delay` late, until clear_faults().
  void delay_confirms(std::chrono::milliseconds delay);
  // The next `count` acked deliveries are requeued (redelivered) instead, as if the consumer
  // had crashed before its ack arrived.
  void drop_acks(uint64_t count);
  void clear_faults();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A GoogleTest fixture: one Server for the whole test suite (started in SetUpTestSuite,
// stopped in TearDownTestSuite), reset before each test. Override options() to change it.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { start_suite_server({}); }
  static void TearDownTestSuite();
  void SetUp() override;

  // The suite's server. Valid inside a test.
  static Server& server();
  // For suites that want other options: call from their own SetUpTestSuite.
  static void start_suite_server(const ServerOptions& options);

 private:
  static std::unique_ptr<Server>& instance();
};

}  // namespace burrow::testing
