// How the broker keeps what must survive a restart in the store (DESIGN.md section 5), as
// RabbitMQ does: durable exchanges, queues and bindings, and persistent messages in durable
// queues. Transient messages, non-durable entities and exclusive queues are never written.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <burrow/status.h>

#include "broker/binding.h"
#include "broker/queue_entry.h"
#include "storage/store.h"

namespace burrow::broker {

struct ExchangeSettings;
struct QueueSettings;

// Waits for the store writes of one publish (one per durable queue it reached) and reports
// once: the publisher confirm fires only when every write is durable. Thread-safe.
class ConfirmGate {
 public:
  explicit ConfirmGate(std::function<void(bool ok)> on_done) : on_done_(std::move(on_done)) {}
  // One more write to wait for. Only before seal().
  void add() { pending_.fetch_add(1, std::memory_order_relaxed); }
  // A write finished.
  void done(bool ok);
  // No more writes will be added; fires now if none is pending.
  void seal() { done(true); }

 private:
  std::function<void(bool)> on_done_;
  std::atomic<int> pending_{1};  // the seal token
  std::atomic<bool> ok_{true};
};

// Thread-safe (the store is). Metadata writes wait for durability (a declare-ok means the
// entity survives a restart, as in RabbitMQ); message writes are asynchronous.
class Persistence {
 public:
  explicit Persistence(storage::Store& store) : store_(store) {}

  storage::Store& store() { return store_; }

  // ---- metadata (durable entities) ----
  Status save_exchange(const ExchangeSettings& exchange);
  Status delete_exchange(std::string_view vhost, std::string_view name);
  Status save_queue(const QueueSettings& queue, uint64_t queue_id);
  // Deletes the queue's record, messages, head and delivery markers.
  Status delete_queue(std::string_view vhost, std::string_view name, uint64_t queue_id);
  Status save_binding(std::string_view vhost, const Binding& binding);
  Status delete_binding(std::string_view vhost, const Binding& binding);

  // ---- messages of durable queues ----
  // Writes a persistent message; `gate` (may be null) learns when it is durable.
  void put_message(uint64_t queue_id, const QueueEntry& entry,
                   const std::shared_ptr<ConfirmGate>& gate);
  // Records that messages were delivered (and how often), so a restart brings them back
  // with redelivered=true and their delivery counts.
  void mark_delivered(uint64_t queue_id, std::span<const std::pair<uint64_t, uint32_t>> seqs);
  // Deletes messages that left the queue for good, and moves the saved head when given.
  void delete_messages(uint64_t queue_id, std::span<const uint64_t> seqs, uint64_t new_head);

 private:
  storage::Store& store_;
};

}  // namespace burrow::broker
