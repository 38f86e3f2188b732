// UpstreamRelay: relays the outbox rows of one destination to an upstream AMQP 0-9-1 broker (a
// RabbitMQ node or cluster, another burrowd) over client/amqp, at least once:
//
//  - one connection and one confirm-mode channel; up to UpstreamOptions::window rows in
//    flight, published in claim order (so in id order within a bucket), each mandatory when
//    its row is, with its stable message_id and the headers x-outbox-seq / x-outbox-created-at;
//  - a confirm deletes the row (Outbox::sent); a basic.return before the confirm parks it
//    (NO_ROUTE); a nack fails its row (Outbox::failed: back-off with jitter, parked after
//    max_attempts). A lost channel or connection hands the rows in flight back uncharged and
//    the relay continues one row at a time for a while, so a row that keeps breaking the
//    channel (e.g. its exchange does not exist upstream: 404) is charged and eventually
//    parked while the others go on. An unreachable upstream charges nothing: rows wait, and
//    the relay reconnects with its own back-off (exponential, jitter, cap).
//
// One thread per upstream; confirms arrive on the client's reader thread and are handed over
// under a mutex. Destroying the relay stops the thread and detaches the destination (its rows
// wait in the outbox).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <burrow/outbox.h>
#include <burrow/status.h>

#include "broker/outbox.h"
#include "client/amqp/connection.h"
#include "client/amqp/connection_options.h"

namespace burrow::client {

class UpstreamRelay {
 public:
  // Parses options.url and starts relaying (connecting in the background). Errors:
  // kInvalidArgument for a bad URL or options.
  static Result<std::unique_ptr<UpstreamRelay>> start(broker::Outbox& outbox, std::string name,
                                                      const UpstreamOptions& options);
  ~UpstreamRelay();
  UpstreamRelay(const UpstreamRelay&) = delete;
  UpstreamRelay& operator=(const UpstreamRelay&) = delete;

 private:
  UpstreamRelay(broker::Outbox& outbox, std::string name, UpstreamOptions options,
                amqp::ConnectionOptions connection);

  void run();
  Status connect();
  // Fails every row in flight (with `why`) and drops the connection.
  void lost(const Status& why);
  // Hands the confirms gathered by the reader thread to the outbox.
  void settle_confirms();
  // Sleeps up to `delay` unless stopped.
  void pause(std::chrono::milliseconds delay);

  broker::Outbox& outbox_;
  const std::string name_;
  const UpstreamOptions options_;
  const broker::RetryPolicy policy_;  // the rows' back-off, and the relay's between connects
  const amqp::ConnectionOptions connection_options_;

  // Relay thread only.
  std::unique_ptr<amqp::ClientConnection> connection_;
  std::unique_ptr<amqp::ClientChannel> channel_;
  uint64_t next_seq_ = 1;
  // After a lost channel: rows go one at a time (window 1) until this many were confirmed, so
  // a failure can be charged to the row that caused it.
  static constexpr size_t kCarefulRows = 32;
  size_t careful_left_ = 0;

  // Shared with the reader thread's callbacks.
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, uint64_t> in_flight_;                 // publish seq -> row id
  std::set<uint64_t> returned_;                            // row ids that came back unroutable
  std::vector<uint64_t> acked_;                            // row ids confirmed
  std::vector<std::pair<uint64_t, std::string>> refused_;  // row ids to park or fail
  std::vector<uint64_t> nacked_;
  bool stop_ = false;

  std::thread thread_;  // last
};

}  // namespace burrow::client
