// A broker channel opened as the calling user for one management operation (declare, get,
// publish...), so HTTP requests meet the same rules and permissions as AMQP clients. Throws
// ApiException (management-internal) when the user may not use the vhost.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "broker/channel.h"

namespace burrow::broker {
class BrokerCore;
}

namespace burrow::server::management {

class OpChannel final : public broker::ChannelSink {
 public:
  // `trusted`: as the broker itself, without permission checks (definitions import).
  OpChannel(broker::BrokerCore& core, const std::string& user, const std::string& vhost,
            bool trusted = false);
  ~OpChannel() override;

  broker::Channel& channel() { return *channel_; }

  // Waits for the confirm of publish `seq` (confirm mode). Returns whether it was an ack;
  // `returned` tells whether the message came back unroutable.
  bool wait_confirm(uint64_t seq, bool& returned);

  void on_deliver(const std::string&, uint64_t, const broker::QueueEntry&) override {}
  void on_return(uint16_t, std::string_view, const broker::StoredMessage&) override;
  void on_confirm(uint64_t seq, bool multiple, bool ack) override;
  void on_cancel(const std::string&) override {}
  void on_error(const Status&) override {}

 private:
  broker::ConnectionPtr connection_;
  std::shared_ptr<broker::Channel> channel_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t confirmed_ = 0;  // highest seq confirmed
  bool last_ack_ = true;
  bool returned_ = false;
};

}  // namespace burrow::server::management
