// The broker's view of a client connection: who it is, which vhost it uses, and which
// exclusive queues it owns. Both adapters (AMQP server, in-process client) open one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/vhost.h"

namespace burrow::broker {

class BrokerCore;

// Thread-safe. Channels hold a reference; close() deletes the connection's exclusive queues
// (call it after closing its channels).
class Connection {
 public:
  // `counted`: the connection holds a place in its vhost's connection count
  // (VHost::add_connection), given back by close() or the destructor.
  Connection(BrokerCore& core, uint64_t id, std::string user, VHostPtr vhost, bool trusted = false,
             bool counted = false)
      : core_(core),
        id_(id),
        user_(std::move(user)),
        vhost_(std::move(vhost)),
        trusted_(trusted),
        counted_(counted) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  BrokerCore& core() const { return core_; }
  uint64_t id() const { return id_; }
  const std::string& user() const { return user_; }
  const VHostPtr& vhost() const { return vhost_; }
  // The broker's own clients skip permission checks (ConnectInfo::trusted).
  bool trusted() const { return trusted_; }

  // Deletes the exclusive queues this connection declared and gives back its place in the
  // vhost's connection count. Idempotent.
  void close();

 private:
  BrokerCore& core_;
  const uint64_t id_;
  const std::string user_;
  const VHostPtr vhost_;
  const bool trusted_;
  const bool counted_;
  std::atomic<bool> closed_{false};
};

using ConnectionPtr = std::shared_ptr<Connection>;

}  // namespace burrow::broker
