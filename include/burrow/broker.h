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
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <burrow/channel.h>
#include <burrow/options.h>
#include <burrow/outbox.h>
#include <burrow/status.h>

namespace burrow {

namespace broker {
class BrokerCore;
class Connection;
}  // namespace broker
namespace client {
class UpstreamRelay;
}

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

  // ---- transactional outbox and inbox (include/burrow/outbox.h, docs/outbox.md) ----

  // The application column family `name` (1 to 64 characters of [A-Za-z0-9_.-]), created on
  // first use and kept across restarts. Errors: kInvalidArgument, kResourceError (too many),
  // kIoError.
  Result<ColumnFamily> column_family(std::string_view name);
  // The application column families, in creation order.
  std::vector<std::string> column_families() const;
  // Starts a transaction over the broker's store.
  Transaction begin();

  // Relays rows whose destination is `name` to an upstream AMQP 0-9-1 broker (a RabbitMQ
  // node, another burrowd) with publisher confirms, reconnecting with back-off. Errors:
  // kInvalidArgument (empty name, bad URL), kPreconditionFailed (already added).
  Status add_upstream(const std::string& name, const UpstreamOptions& options);
  // Stops relaying to `name` (its rows wait). Errors: kNotFound.
  Status remove_upstream(const std::string& name);

  // Waits until every committed row was relayed (parked rows do not count). For tests.
  // Errors: kTimedOut.
  Status wait_until_drained(std::chrono::milliseconds timeout);
  OutboxStats outbox_stats() const;
  std::vector<ParkedRow> parked_rows() const;
  // Moves a parked row back to the relay (attempts reset). Errors: kNotFound.
  Status retry_parked(uint64_t id);
  // Deletes a parked row. Errors: kNotFound.
  Status discard_parked(uint64_t id);

  // Consumes `queue` through the inbox: for each delivery, `handler` runs with a transaction;
  // its state changes and the message_id commit together, then the delivery is acked. A
  // message_id already processed within Options::inbox_dedup_window_ms is acked without
  // calling the handler. Returns the consumer's channel: destroying it stops the consumer.
  // Errors: as Channel::consume.
  Result<std::unique_ptr<Channel>> consume_with_inbox(std::string_view queue, InboxHandler handler,
                                                      InboxOptions options = {});

  // The core this broker wraps, for Burrow's own adapters (e.g. an AMQP listener over an
  // embedded broker). Not a stable API.
  broker::BrokerCore& core();

 private:
  Broker() = default;
  std::unique_ptr<broker::BrokerCore> core_;
  std::shared_ptr<broker::Connection> connection_;  // the in-process connection
  std::atomic<uint16_t> next_channel_{1};
  std::mutex upstreams_mu_;
  std::map<std::string, std::unique_ptr<client::UpstreamRelay>> upstreams_;
  std::shared_ptr<std::atomic<uint64_t>> inbox_processed_ =
      std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<std::atomic<uint64_t>> inbox_duplicates_ =
      std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace burrow
