// One burrow-perf consumer: its own connection and channel, consuming one queue, measuring
// end-to-end latency and recording which messages arrived (for loss and duplicates).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <burrow/status.h>

#include "bench/perf/flags.h"
#include "bench/perf/histogram.h"
#include "bench/perf/seq_tracker.h"
#include "bench/perf/topology.h"
#include "client/amqp/connection.h"

namespace burrow::perf {

// connect/start/stop from the runner's thread; deliveries on the connection's reader thread;
// counters and histogram readable from any thread; tracker() after stop().
class Consumer {
 public:
  // Messages stamped before run_start_ns (left in a queue by an earlier run) are counted as
  // stale and kept out of latency and loss accounting.
  Consumer(int id, const PerfFlags& flags, client::amqp::ConnectionOptions options,
           const Topology& topology, std::atomic<uint64_t>& group_received, uint64_t run_start_ns);

  // Connects, sets the prefetch, finds (or declares) its queue.
  Status connect();
  // basic.consume.
  Status start();
  // Cancels, acks what is still unacked, closes the connection.
  void stop();

  uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  uint64_t stale() const { return stale_.load(std::memory_order_relaxed); }
  // steady-clock ns of the latest delivery (0: none yet).
  uint64_t last_delivery_ns() const { return last_ns_.load(std::memory_order_relaxed); }
  const Histogram& latency_us() const { return latency_us_; }
  const SeqTracker& tracker() const { return tracker_; }
  const Status& error() const { return error_; }

 private:
  void on_delivery(const client::amqp::Delivery& d);

  const int id_;
  const PerfFlags& flags_;
  const client::amqp::ConnectionOptions options_;
  const Topology& topology_;
  std::atomic<uint64_t>& group_received_;
  const uint64_t run_start_ns_;
  std::unique_ptr<client::amqp::ClientConnection> conn_;
  std::unique_ptr<client::amqp::ClientChannel> ch_;
  std::string queue_;
  std::string tag_;

  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> stale_{0};
  std::atomic<uint64_t> last_ns_{0};
  Histogram latency_us_;
  // Reader thread while consuming; stop() reads them after cancel-ok.
  SeqTracker tracker_;
  uint64_t unacked_ = 0;
  uint64_t last_tag_ = 0;
  Status error_;
};

}  // namespace burrow::perf
