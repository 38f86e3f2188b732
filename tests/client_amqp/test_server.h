// A burrow server in the test process (in-memory broker on 127.0.0.1, a free port) for the
// AMQP client to talk to, and a small wait helper. With AMQP_CLIENT_TEST_URL set (e.g.
// amqp://guest:guest@127.0.0.1:5673/%2F for a RabbitMQ node) the tests run against that broker
// instead, to check the client and the tests' expectations against RabbitMQ itself.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include <burrow/options.h>

#include "broker/broker_core.h"
#include "client/amqp/connection.h"
#include "server/server.h"

namespace burrow::client::amqp {

class AmqpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* url = std::getenv("AMQP_CLIENT_TEST_URL"); url != nullptr && *url != 0) {
      auto o = parse_amqp_uri(url);
      ASSERT_TRUE(o.ok()) << o.status().to_string();
      external_ = std::move(*o);
      port_ = external_->port;
      return;
    }
    Options o;
    o.in_memory = true;
    auto core = broker::BrokerCore::open(o);
    ASSERT_TRUE(core.ok()) << core.status().to_string();
    core_ = std::move(*core);
    server_ = std::make_unique<server::Server>(*core_);
    auto port = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().to_string();
    port_ = *port;
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (core_) core_->shutdown();
  }

  // Tests that stop the server cannot run against an external broker.
  bool external() const { return external_.has_value(); }

  ConnectionOptions options() const {
    ConnectionOptions o = external_.value_or(ConnectionOptions{});
    if (!external_) o.host = "127.0.0.1";
    o.port = port_;
    o.rpc_timeout = std::chrono::seconds(5);
    return o;
  }

  std::unique_ptr<ClientConnection> connect() {
    auto c = ClientConnection::connect(options());
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<broker::BrokerCore> core_;
  std::unique_ptr<server::Server> server_;
  uint16_t port_ = 0;
  std::optional<ConnectionOptions> external_;
};

// A condition to wait on from test threads while callbacks run on the reader thread.
class Waiter {
 public:
  // Runs f under the lock and wakes waiters. Notifies before unlocking, so a waiter that then
  // returns and destroys the Waiter cannot race the notification.
  void update(const std::function<void()>& f) {
    std::lock_guard lock(mu_);
    f();
    cv_.notify_all();
  }
  // Waits up to 5 s for pred (evaluated under the lock).
  bool wait(const std::function<bool()>& pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), pred);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace burrow::client::amqp
