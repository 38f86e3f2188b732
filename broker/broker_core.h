// The broker core: vhosts, users, worker threads, clock and store. Both faces of Burrow (the
// in-process API in client/ and the AMQP server in server/) are adapters over this class.
//
// Concurrency model (DESIGN.md section 4), in one place:
//  - Topology (exchanges, queues, bindings) lives in each VHost under a shared_mutex:
//    declarations take it exclusively and bump an epoch; routing takes it shared, and
//    publishers skip even that by caching routes per channel keyed by the epoch.
//  - Each queue has its own mutex. Publishing appends under it; delivering is done by a drain
//    task on the worker pool that moves a batch of messages to channels outside the lock.
//    No global lock is on the publish path.
//  - Each channel has a mutex for its delivery state (delivery tags, unacked messages), taken
//    by drains (deliver) and by its owner (ack, cancel). Other channel state belongs to the
//    channel's single owner thread (AMQP: the connection; in-process: the caller).
//  - Lock discipline: topology, queue and channel locks are never nested, with two
//    exceptions that always go channel -> queue (consumer registration) or
//    channel -> adapter output (a ChannelSink callback). Sinks never call back into the broker.
//  - No thread waits for a store write while holding the topology lock: metadata writes are
//    submitted under it and awaited after it is released (the outbox relay holds a place in the
//    store's write order while it routes; docs/outbox.md).
//  - Callbacks to adapters (ChannelSink) never run inside a broker API call's caller frame
//    with a lock the caller could need: deliveries and cancellations come from the pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <burrow/clock.h>
#include <burrow/options.h>
#include <burrow/status.h>

#include "base/thread_annotations.h"
#include "broker/access_control.h"
#include "broker/connection.h"
#include "broker/timer_service.h"
#include "broker/vhost.h"
#include "broker/worker_pool.h"
#include "storage/store.h"

namespace burrow::broker {

class Channel;
class FaultInjector;
class Outbox;
class Persistence;
class PublishLog;

// Broker-wide counters (RabbitMQ's churn and totals), relaxed atomics.
struct BrokerStats {
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_closed{0};
  std::atomic<uint64_t> channels_opened{0};
  std::atomic<uint64_t> channels_closed{0};
  std::atomic<uint64_t> queues_declared{0};
  std::atomic<uint64_t> queues_created{0};
  std::atomic<uint64_t> queues_deleted{0};
  std::atomic<uint64_t> auth_attempts{0};
  std::atomic<uint64_t> auth_failed{0};
  // Publishes accepted by channels (each channel adds its count every 64 publishes and when
  // it closes, so this may lag by a few).
  std::atomic<uint64_t> messages_published{0};
};

// An authenticated client asking for a vhost.
struct ConnectInfo {
  std::string user;
  std::string vhost;
  // The broker's own clients (the in-process API, the outbox relay) are trusted: no vhost
  // or resource permission is checked for them.
  bool trusted = false;
};

// Thread-safe.
class BrokerCore {
 public:
  // Opens a broker: starts the worker threads, opens the store (memory-only when
  // options.in_memory), creates the default user and vhost. Errors: kIoError from the store.
  static Result<std::unique_ptr<BrokerCore>> open(const Options& options);
  ~BrokerCore();

  const Options& options() const { return options_; }
  Clock& clock() const { return *clock_; }
  // Wall-clock time the broker opened (ms since the epoch).
  TimeMs started_at() const { return started_at_; }
  WorkerPool& workers() { return *workers_; }
  TimerService& timers() { return *timers_; }
  // True when the clock is a ManualClock: timers fire only through advance_clock().
  bool manual_clock() const { return manual_clock_; }
  // Moves a manual clock forward by `ms` and fires, in due order, every timer that falls due
  // (TTLs, queue expiry, consumer timeouts, delays). Errors: kInvalidArgument without a
  // manual clock.
  Status advance_clock(int64_t ms);
  Executor& executor() { return *workers_; }
  storage::Store& store() { return *store_; }
  // Null when the broker keeps nothing (in_memory).
  Persistence* persistence() { return persistence_.get(); }
  // The transactional outbox's relay (include/burrow/outbox.h).
  Outbox& outbox() { return *outbox_; }

  // Checks a login. Errors: kAccessRefused with the reason RabbitMQ logs ("user 'u' - invalid
  // credentials", "user 'guest' can only connect via localhost").
  Status authenticate(const std::string& user, const std::string& password,
                      bool from_loopback) const;
  // Opens a connection for an authenticated user. Errors: kNotAllowed "vhost x not found",
  // "access to vhost 'x' refused for user 'u'".
  Result<ConnectionPtr> connect(const ConnectInfo& info);

  // Users and permissions.
  AccessControl& access() { return *access_; }

  // ---- vhosts ----
  Result<VHostPtr> find_vhost(const std::string& name) const;
  std::vector<VHostPtr> vhosts() const;
  // Creates a vhost (kept in the store), or updates its description and tags (an existing
  // vhost keeps its limits). Returns whether it was created.
  Result<bool> put_vhost(const VHostInfo& info);
  // Replaces a vhost's limits (kept in the store). Errors: kNotFound.
  Status set_vhost_limits(const std::string& vhost, const VHostLimits& limits);
  // Deletes a vhost with every queue, message, exchange, binding and permission in it.
  // Connections to it are closed by their adapters (they watch VHost::deleted()).
  // Errors: kNotFound.
  Status delete_vhost(const std::string& name);

  // Returns the broker to its initial state (a test suite reusing one broker): every vhost
  // but the default one is deleted, the default one emptied to its built-in exchanges, every
  // user deleted and the default user and its permissions created again. Connections are the
  // adapters' to close (burrowd's POST /api/burrow/reset closes them first). Outbox rows and
  // application data stay.
  Status reset();

  // Counters since the broker started (management and metrics).
  BrokerStats& stats() { return stats_; }

  // Test-double controls (broker/test_controls.h): injected faults and the published-message
  // log (off until enabled). reset() clears both.
  FaultInjector& faults() { return *faults_; }
  PublishLog& publish_log() { return *publish_log_; }

  // Direct reply-to: channels with a reply consumer, by the key in their reply address.
  void register_reply_channel(const std::string& key, std::weak_ptr<Channel> channel);
  void unregister_reply_channel(const std::string& key);
  std::shared_ptr<Channel> find_reply_channel(std::string_view key) const;

  // Stops the worker threads. Pending deliveries are dropped. Idempotent.
  void shutdown();

 private:
  explicit BrokerCore(const Options& options);

  const Options options_;
  Clock* clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<TimerService> timers_;
  std::unique_ptr<Persistence> persistence_;  // null with in_memory
  std::unique_ptr<Outbox> outbox_;
  bool stop_cleanly_ = false;  // opened and recovered: record a clean stop when destroyed
  std::atomic<uint64_t> next_queue_id_{1};
  bool manual_clock_ = false;
  std::atomic<uint64_t> next_connection_id_{1};

  std::unique_ptr<AccessControl> access_;
  mutable BrokerStats stats_;
  std::unique_ptr<FaultInjector> faults_;
  std::unique_ptr<PublishLog> publish_log_;
  TimeMs started_at_ = 0;

  // Creates the VHost object for `info` (not stored); caller holds no lock.
  VHostPtr make_vhost(const VHostInfo& info);
  Result<std::vector<VHostInfo>> load_vhosts();
  Status save_vhost(const VHostInfo& info);
  Status create_defaults();

  std::mutex vhost_write_mu_;  // serializes put_vhost and set_vhost_limits (held before mu_)
  mutable std::mutex mu_;
  std::map<std::string, VHostPtr, std::less<>> vhosts_ GUARDED_BY(mu_);
  std::map<std::string, std::weak_ptr<Channel>, std::less<>> reply_channels_ GUARDED_BY(mu_);
};

}  // namespace burrow::broker
