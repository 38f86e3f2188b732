// burrow::Broker: an embedded, in-process message broker. Open one, open channels on it, and
// use them as you would an AMQP 0-9-1 channel, with no sockets and no copies.
//
//   auto broker = burrow::Broker::open(burrow::Options{.in_memory = true});
//   auto ch = (*broker)->open_channel();
//   (*ch)->declare_queue("jobs");
//   (*ch)->publish("", "jobs", "hello");
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include <burrow/channel.h>
#include <burrow/options.h>
#include <burrow/status.h>

namespace burrow {

namespace broker {
class BrokerCore;
class Connection;
}  // namespace broker

// Thread-safe. Owns the broker's worker threads; destroying it stops them (after which the
// channels it opened fail with kClosed). Channels must not outlive it.
class Broker {
 public:
  // Opens a broker. Errors: kIoError if the store cannot be opened.
  static Result<std::unique_ptr<Broker>> open(const Options& options = {});
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Opens a channel as the default user on the default vhost. Errors: kClosed.
  Result<std::unique_ptr<Channel>> open_channel();

  const Options& options() const;

  // Moves the broker's clock forward by `delta` and fires, in due order and before returning,
  // every timer that falls due: message TTLs, queue expiry (x-expires), delayed messages,
  // consumer acknowledgement timeouts. Deliveries they cause still reach consumers
  // asynchronously. Errors: kInvalidArgument unless Options::clock is a ManualClock.
  Status advance_clock(std::chrono::milliseconds delta);

  // The core this broker wraps, for Burrow's own adapters (e.g. an AMQP listener over an
  // embedded broker). Not a stable API.
  broker::BrokerCore& core();

 private:
  Broker() = default;
  std::unique_ptr<broker::BrokerCore> core_;
  std::shared_ptr<broker::Connection> connection_;  // the in-process connection
  std::atomic<uint16_t> next_channel_{1};
};

}  // namespace burrow
