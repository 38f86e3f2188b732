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
  Connection(BrokerCore& core, uint64_t id, std::string user, VHostPtr vhost, bool trusted = false)
      : core_(core), id_(id), user_(std::move(user)), vhost_(std::move(vhost)), trusted_(trusted) {}

  BrokerCore& core() const { return core_; }
  uint64_t id() const { return id_; }
  const std::string& user() const { return user_; }
  const VHostPtr& vhost() const { return vhost_; }
  // The broker's own clients skip permission checks (ConnectInfo::trusted).
  bool trusted() const { return trusted_; }

  // Deletes the exclusive queues this connection declared. Idempotent.
  void close();

 private:
  BrokerCore& core_;
  const uint64_t id_;
  const std::string user_;
  const VHostPtr vhost_;
  const bool trusted_;
  std::atomic<bool> closed_{false};
};

using ConnectionPtr = std::shared_ptr<Connection>;

}  // namespace burrow::broker
