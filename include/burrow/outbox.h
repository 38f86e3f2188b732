// The transactional outbox and inbox (DESIGN.md section 6): a service commits its own state
// and the messages it publishes in one atomic write to the broker's store; a relay then
// delivers the messages - to this broker (exactly once) or to an upstream AMQP broker such as
// a RabbitMQ cluster (at least once, with a stable message_id). The inbox gives consumers an
// exactly-once effect.
//
//   auto orders = broker->column_family("orders");
//   auto txn = broker->begin();
//   txn.put(*orders, order_id, order_bytes);                 // the service's own state
//   txn.publish({.exchange = "orders", .routing_key = "order.created", .body = json});
//   Status s = txn.commit();                                 // one atomic write
//
// docs/outbox.md describes the guarantees, the relay and the storage layout.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <burrow/message.h>
#include <burrow/properties.h>
#include <burrow/status.h>

namespace burrow {

namespace broker {
class Outbox;
}

// An application column family of the broker's store: a key space of its own, created by
// name on first use and kept across restarts. Cheap to copy.
class ColumnFamily {
 public:
  const std::string& name() const { return name_; }
  uint32_t id() const { return id_; }

 private:
  friend class Broker;
  ColumnFamily(std::string name, uint32_t id) : name_(std::move(name)), id_(id) {}
  std::string name_;
  uint32_t id_ = 0;
};

// A message staged in a transaction, published by the relay after commit.
struct OutboxMessage {
  std::string exchange;
  std::string routing_key;
  BasicProperties properties;
  std::string body;
  // Messages with the same partition key (per destination) are relayed in commit order;
  // different keys are relayed in parallel. Empty: the row's own id picks its bucket.
  std::string partition_key;
  // "" = this broker (default vhost); otherwise the name of an upstream added with
  // Broker::add_upstream (rows for an upstream not added yet wait for it).
  std::string destination;
  // Unroutable messages (no queue took them; an upstream returned them) are parked instead
  // of dropped. Default: true.
  bool mandatory = true;
};

// A transaction over the broker's store: reads and writes of application column families
// plus staged messages, committed in one atomic write (honouring Options::durability).
// Optimistic: a key read with get_for_update() or written with put()/del() that another
// transaction commits meanwhile makes commit() fail with kBusy (retry the whole transaction).
// Destroying an uncommitted transaction rolls it back. Used by one thread at a time; any
// number may run concurrently.
class Transaction {
 public:
  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) noexcept;
  ~Transaction();

  // The committed value, or this transaction's own write. Errors: kNotFound, kIoError.
  Status get(const ColumnFamily& cf, std::string_view key, std::string& value);
  // get(), and commit() fails with kBusy if another transaction commits `key` meanwhile.
  Status get_for_update(const ColumnFamily& cf, std::string_view key, std::string& value);
  Status put(const ColumnFamily& cf, std::string_view key, std::string_view value);
  Status del(const ColumnFamily& cf, std::string_view key);

  // Stages a message; returns its message_id: properties.message_id when set, otherwise a
  // generated one (32 hex digits), kept across every retry of the relay so consumers can
  // deduplicate. Errors: kInvalidArgument (empty message_id, a body over
  // Options::max_message_size), kClosed after commit or rollback.
  Result<std::string> publish(OutboxMessage message);

  // Writes everything atomically and waits until it is durable. The relay is woken at once.
  // Errors: kBusy (conflict: nothing was written), kIoError, kClosed (already committed or
  // rolled back).
  Status commit();
  // commit() without waiting; `done` runs once, on the store's writer thread (it must not
  // block or commit another transaction synchronously).
  void commit_async(std::function<void(Status)> done);
  // Discards everything staged. Later calls fail with kClosed.
  void rollback();

  class Impl;

 private:
  friend class Broker;
  explicit Transaction(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An upstream AMQP 0-9-1 broker the relay publishes to (Broker::add_upstream).
struct UpstreamOptions {
  // amqp://user:password@host:port/vhost
  std::string url;
  // Unconfirmed messages in flight. Default: 1000.
  uint32_t window = 1000;
  // Back-off after a failed attempt: min(cap, base * 2^(attempts-1)), scaled by a random
  // factor in [0.5, 1] (jitter). Defaults: 100 ms, 30 s.
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{30000};
  // A row whose publish failed this many times is parked. Default: 10.
  uint32_t max_attempts = 10;
  // Connect timeout and heartbeat. Defaults: 5 s, 10 s.
  std::chrono::milliseconds connect_timeout{5000};
  uint16_t heartbeat_seconds = 10;
};

// Relay counters (cumulative since open, except pending and parked).
struct OutboxStats {
  uint64_t pending = 0;    // committed rows not relayed yet (parked rows excluded)
  uint64_t parked = 0;     // rows the relay gave up on
  uint64_t committed = 0;  // rows committed
  uint64_t sent = 0;       // rows relayed (locally enqueued, or confirmed upstream)
  uint64_t retried = 0;    // failed attempts that were retried
  uint64_t parked_total = 0;
  uint64_t latency_count = 0;   // relayed rows with a measured latency
  uint64_t latency_us_sum = 0;  // commit to relayed (local write / upstream confirm)
  uint64_t latency_us_max = 0;
  uint64_t inbox_processed = 0;   // inbox deliveries whose handler committed
  uint64_t inbox_duplicates = 0;  // inbox deliveries acked as already processed
};

// A row the relay gave up on.
struct ParkedRow {
  uint64_t id = 0;
  std::string destination;
  std::string exchange;
  std::string routing_key;
  std::string message_id;
  uint32_t attempts = 0;
  std::string last_error;
  uint64_t created_at_ms = 0;
};

// What an inbox handler receives: the delivery and the transaction to make its state
// changes in. Returning OK commits them together with the message id (and the ack follows);
// an error rolls back and the message is requeued (kBusy: retried at once).
using InboxHandler = std::function<Status(const Delivery& delivery, Transaction& txn)>;

struct InboxOptions {
  // Deduplication scope: message ids are remembered per scope. Default: the queue name.
  std::string scope;
  // Prefetch of the inbox consumer. Default: 100.
  uint16_t prefetch = 100;
  // A delivery without a message_id: false (default) = processed without deduplication;
  // true = rejected (dead-lettered if the queue has a dead-letter exchange).
  bool reject_without_message_id = false;
};

}  // namespace burrow
