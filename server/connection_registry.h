// The AMQP connections a Server holds, as management sees them: who they are, their channels
// and byte counters. Written by each connection's own thread, read by the HTTP API.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <burrow/clock.h>
#include <burrow/field_table.h>

#include "base/thread_annotations.h"

namespace burrow::broker {
class Channel;
}

namespace burrow::server {

// One open connection. Fixed fields are set before it is registered; counters and channels
// change while it runs. Thread-safe.
class ConnectionEntry {
 public:
  uint64_t id = 0;
  std::string name;  // "127.0.0.1:51234 -> 127.0.0.1:5672", as RabbitMQ names connections
  std::string peer_host;
  uint16_t peer_port = 0;
  std::string host;
  uint16_t port = 0;
  bool tls = false;
  std::string user;
  std::string vhost;
  std::string auth_mechanism;
  FieldTable client_properties;
  TimeMs connected_at = 0;
  uint32_t frame_max = 0;
  uint16_t channel_max = 0;
  uint16_t heartbeat = 0;

  std::atomic<uint64_t> recv_oct{0};
  std::atomic<uint64_t> send_oct{0};
  std::atomic<uint64_t> recv_cnt{0};
  std::atomic<uint64_t> send_cnt{0};
  // "running", "blocking" or "blocked" (memory and disk alarms).
  std::atomic<int> state{0};

  // Whether `name` is this connection's management name or the connection_name its client
  // gave (fault injection picks connections this way).
  bool named(std::string_view name) const;

  void add_channel(uint16_t number, std::shared_ptr<broker::Channel> channel);
  // Whether it was listed.
  bool remove_channel(uint16_t number);
  std::vector<std::pair<uint16_t, std::shared_ptr<broker::Channel>>> channels() const;
  size_t channel_count() const;

  // Closes the connection with 320 CONNECTION_FORCED and `reason` (management's DELETE).
  // Set by the owner; safe to call from any thread.
  std::function<void(std::string reason)> force_close;

 private:
  mutable std::mutex mu_;
  std::map<uint16_t, std::weak_ptr<broker::Channel>> channels_ GUARDED_BY(mu_);
};

using ConnectionEntryPtr = std::shared_ptr<ConnectionEntry>;

// Thread-safe.
class ConnectionRegistry {
 public:
  void add(ConnectionEntryPtr entry);
  void remove(uint64_t id);
  // In connection order.
  std::vector<ConnectionEntryPtr> list() const;
  ConnectionEntryPtr find(std::string_view name) const;
  size_t size() const;
  // Closes the open connections with 320 CONNECTION_FORCED and `reason`: all of them, or
  // with `name` those it names (ConnectionEntry::named). Returns how many were told.
  size_t force_close_all(const std::string& reason, std::string_view name = {}) const;

  // Fault injection: for `ms` of real time, the listeners close new sockets at once.
  void refuse_for(int64_t ms);
  bool refusing() const { return refuse_remaining_ms() > 0; }
  int64_t refuse_remaining_ms() const;

 private:
  std::atomic<int64_t> refuse_until_ns_{0};  // steady_clock
  mutable std::mutex mu_;
  std::map<uint64_t, ConnectionEntryPtr> entries_ GUARDED_BY(mu_);
};

}  // namespace burrow::server
