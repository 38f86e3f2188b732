// A virtual host: its exchanges, queues and bindings (the topology), and routing over them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <burrow/clock.h>
#include <burrow/status.h>

#include "base/thread_annotations.h"
#include "broker/exchange.h"
#include "broker/persistence.h"
#include "broker/queue.h"

namespace burrow::broker {

class Executor;
class Persistence;
class TimerService;

// The broker services a vhost's queues use.
struct VHostContext {
  Executor* executor = nullptr;
  TimerService* timers = nullptr;
  Clock* clock = nullptr;
  // Where durable entities and persistent messages go; null when nothing is kept
  // (--in-memory).
  Persistence* persistence = nullptr;
  // Hands out store key ranges for new durable queues.
  std::atomic<uint64_t>* next_queue_id = nullptr;
};

// The queues a publish reached, de-duplicated.
struct RouteResult {
  std::vector<QueuePtr> queues;
  // False when the result depended on message headers (a headers exchange was visited), so
  // it must not be cached by (exchange, routing key).
  bool cacheable = true;
  // For a publish to a delayed-message exchange with an x-delay header: how long to hold the
  // message before routing it (queues is then empty).
  int64_t delay_ms = 0;
};

// RabbitMQ's vhost limits (`rabbitmqctl set_vhost_limits`, PUT /api/vhost-limits): unset or
// negative means no limit; 0 allows none.
struct VHostLimits {
  std::optional<int64_t> max_connections;
  std::optional<int64_t> max_queues;

  bool empty() const { return !max_connections && !max_queues; }
  friend bool operator==(const VHostLimits&, const VHostLimits&) = default;
};

// What a vhost is besides its topology (RabbitMQ's vhost record and its limits).
struct VHostInfo {
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::string default_queue_type;  // empty: classic
  VHostLimits limits;
};

struct DeclaredQueue {
  QueuePtr queue;
  bool created = false;
};

// What a queue deletion left behind: the consumers to notify, and the ready messages dropped.
struct DeletedQueue {
  uint32_t message_count = 0;
  std::vector<ConsumerPtr> consumers;
};

// Thread-safe. Concurrency: one shared_mutex guards the topology. Declarations, bindings
// and deletions take it exclusively and bump epoch(); routing takes it shared. Publishers
// avoid even the shared lock by caching routes per channel, keyed by the epoch. No queue lock
// is ever taken while holding the topology lock, except in mark-as-deleted paths that run
// after the entity left the maps (see vhost.cc).
class VHost : public std::enable_shared_from_this<VHost> {
 public:
  VHost(std::string name, VHostContext context);

  const std::string& name() const { return name_; }
  VHostInfo info() const;
  void set_info(const VHostInfo& info);
  // Set when the vhost was deleted: its connections must close.
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }

  // Counts a client connection against the vhost's max-connections limit. Errors: 530
  // "access to vhost 'v' refused for user 'u': connection limit (N) is reached", as RabbitMQ.
  Status add_connection(std::string_view user);
  void remove_connection() { connections_.fetch_sub(1, std::memory_order_acq_rel); }
  int64_t connection_count() const { return connections_.load(std::memory_order_acquire); }

  // Changes whenever the topology changes (acquire load; cheap).
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

  // exchange.declare with RabbitMQ's checks (default exchange 403, unknown type 503, amq.
  // prefix 403, inequivalent redeclare 406, passive 404).
  Status declare_exchange(const ExchangeSettings& settings, bool passive);
  // exchange.delete. Missing exchange: OK. Errors: 403 for the default and amq.* exchanges,
  // 406 "exchange 'x' in vhost '/' in use" with if_unused.
  Status delete_exchange(std::string_view name, bool if_unused);

  // queue.declare. `connection_id` is the declaring connection (exclusive ownership);
  // `server_named` exempts a generated amq.gen-... name from the reserved-prefix check.
  Result<DeclaredQueue> declare_queue(QueueSettings settings, bool passive, uint64_t connection_id,
                                      bool server_named = false);
  // Finds a queue usable by `connection_id`. Errors: 404, 405 (another connection's exclusive
  // queue).
  Result<QueuePtr> find_queue(std::string_view name, uint64_t connection_id) const;
  // queue.delete. Missing queue: message_count 0. Errors: 405, 406 if_unused / if_empty.
  Result<DeletedQueue> delete_queue(std::string_view name, uint64_t connection_id, bool if_unused,
                                    bool if_empty);
  // Deletes exactly this queue object if it is still the one registered under its name
  // (auto-delete, exclusive-owner close).
  DeletedQueue delete_queue_object(const QueuePtr& queue);

  // queue.bind / exchange.bind and their unbinds. Errors: 404 missing source or
  // destination, 403 default exchange, 405 exclusive queue of another connection, 406
  // invalid binding arguments.
  Status bind(const Binding& binding, uint64_t connection_id);
  Status unbind(const Binding& binding, uint64_t connection_id);

  // Routes a publish from `exchange`. Errors: 404 missing exchange, 403 internal exchange
  // (unless `allow_internal`, as for dead-lettering).
  Status route(std::string_view exchange, const RoutingInput& input, RouteResult& out,
               bool allow_internal = false, bool skip_delay = false) const;

  // Publishes messages that died in `source` to its dead-letter exchange (x-death headers,
  // cycle detection). A missing dead-letter exchange drops them, as RabbitMQ does. With
  // `collect`, the copies' store writes join it (see ClassicQueue::apply).
  void dead_letter(const Queue& source, std::vector<DeadLetter> dead, WriteCollector* collect);

  // Holds a message published to a delayed-message exchange and routes it from that
  // exchange once `delay_ms` has passed on the broker clock (dropped if the exchange is gone).
  // A durable exchange's held messages are stored (every message, as the plugin keeps them
  // on disk) and survive a restart; `options.gate` then waits for that write.
  void delay(std::string exchange, std::vector<std::string> routing_keys, StoredMessagePtr message,
             EnqueueOptions options, int64_t delay_ms);

  // Exclusive queues owned by a connection, for deletion when it closes.
  std::vector<QueuePtr> queues_owned_by(uint64_t connection_id) const;

  size_t queue_count() const;
  size_t exchange_count() const;

  // ---- snapshots for management (taken under the shared lock) ----
  std::vector<QueuePtr> queues() const;
  Result<QueuePtr> find_queue_any(std::string_view name) const;  // any owner; 404
  std::vector<ExchangeSettings> exchanges() const;
  std::optional<ExchangeSettings> find_exchange(std::string_view name) const;
  // Every binding, from exchanges in name order (without the default exchange's implicit
  // ones; management adds those).
  std::vector<Binding> bindings() const;

  // Deletes every queue (their messages, in the store too), exchange and binding, and marks
  // the vhost deleted. Returns the consumers to notify.
  std::vector<ConsumerPtr> delete_everything();
  // The same, but the vhost stays usable with its built-in exchanges (a broker reset).
  std::vector<ConsumerPtr> clear();

  // ---- recovery: entities as the store holds them, added without writing them again ----
  void recover_exchange(ExchangeSettings settings);
  Result<QueuePtr> recover_queue(QueueSettings settings, uint64_t queue_id);
  // Skipped (false) when an end is missing.
  bool recover_binding(const Binding& binding);
  // A stored held message (id from its key): held again until `due` (at once if past).
  void recover_delayed(uint64_t id, std::string exchange, std::vector<std::string> routing_keys,
                       StoredMessagePtr message, TimeMs due);

 private:
  void declare_builtin_exchanges();
  Exchange* find_exchange_locked(std::string_view name) const REQUIRES_SHARED(mu_);
  Status check_queue_access_locked(const Queue& queue, uint64_t connection_id) const
      REQUIRES_SHARED(mu_);
  // Removes a queue and its bindings from the maps; returns exchanges that became unused
  // auto-delete exchanges (also removed).
  void unregister_queue_locked(const QueuePtr& queue) REQUIRES(mu_);
  void remove_exchange_locked(const std::string& name) REQUIRES(mu_);
  // A binding survives a restart when both its ends do (RabbitMQ: durable source and
  // destination).
  bool binding_durable_locked(const Binding& binding) const REQUIRES_SHARED(mu_);
  void forget_bindings_locked(const std::vector<Binding>& removed) REQUIRES(mu_);
  QueueContext queue_context(uint64_t queue_id);
  void delete_unused_auto_delete_locked(const std::string& exchange) REQUIRES(mu_);
  void bump_epoch() { epoch_.fetch_add(1, std::memory_order_acq_rel); }
  std::vector<ConsumerPtr> remove_all(bool keep_builtins);
  // Releases the exclusive lock, then waits for the metadata writes submitted under it
  // (pending_): no thread waits for the store while holding the topology lock.
  Status finish_writes(std::unique_lock<std::shared_mutex>& lock);
  // Arms the release of a held message; `stored_id` != 0 deletes its record once routed.
  void hold(std::string exchange, std::vector<std::string> routing_keys, StoredMessagePtr message,
            EnqueueOptions options, TimeMs due, uint64_t stored_id);
  Status vhost_gone() const;
  // 406 when a new queue would exceed the vhost's max-queues limit.
  Status check_queue_limit_locked(const std::string& queue) const REQUIRES_SHARED(mu_);
  std::string queue_not_found(std::string_view name) const;
  std::string exchange_not_found(std::string_view name) const;

  const std::string name_;
  const VHostContext context_;
  std::atomic<bool> deleted_{false};
  mutable std::mutex info_mu_;
  VHostInfo info_ GUARDED_BY(info_mu_);
  std::atomic<uint64_t> epoch_{1};
  std::atomic<uint64_t> next_delayed_id_{1};  // ids of stored held messages
  std::atomic<int64_t> connections_{0};       // client connections counted by add_connection

  mutable std::shared_mutex mu_;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, ExchangePtr, Hash, std::equal_to<>> exchanges_ GUARDED_BY(mu_);
  std::unordered_map<std::string, QueuePtr, Hash, std::equal_to<>> queues_ GUARDED_BY(mu_);
  PendingWrites pending_ GUARDED_BY(mu_);  // metadata writes of the current exclusive section
};

using VHostPtr = std::shared_ptr<VHost>;

}  // namespace burrow::broker
