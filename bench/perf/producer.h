// One burrow-perf producer: its own connection and channel, publishing stamped messages at
// the requested rate with an optional confirm window, measuring confirm latency.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <burrow/status.h>

#include "bench/perf/flags.h"
#include "bench/perf/histogram.h"
#include "bench/perf/seq_tracker.h"
#include "bench/perf/topology.h"
#include "client/amqp/connection.h"

namespace burrow::perf {

// run() and close() on the producer's thread; the counters and the histogram may be read by
// any thread meanwhile; outcome() and error() after close().
class Producer {
 public:
  Producer(uint16_t id, const PerfFlags& flags, client::amqp::ConnectionOptions options,
           Route route);

  // Connects, opens the channel, selects confirm mode when -c > 0.
  Status connect();
  // Publishes until -C messages, the deadline, or `stop`; then waits for the last confirms.
  void run(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& stop);
  // Closes the connection (its reader thread is joined: callbacks are over).
  void close();

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t acked() const { return acked_.load(std::memory_order_relaxed); }
  uint64_t nacked() const { return nacked_.load(std::memory_order_relaxed); }
  const Histogram& confirm_latency_us() const { return confirm_latency_us_; }
  // When the publishing loop ended (before waiting for the last confirms).
  std::chrono::steady_clock::time_point finished_at() const { return finished_at_; }
  ProducerOutcome outcome() const;
  const Status& error() const { return error_; }

 private:
  void on_confirm(uint64_t seq, bool ack);
  Status wait_for_room(uint64_t seq, std::chrono::steady_clock::time_point deadline,
                       const std::atomic<bool>& stop);

  const uint16_t id_;
  const PerfFlags& flags_;
  const client::amqp::ConnectionOptions options_;
  const Route route_;
  std::unique_ptr<client::amqp::ClientConnection> conn_;
  std::unique_ptr<client::amqp::ClientChannel> ch_;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> nacked_{0};
  std::atomic<uint64_t> resolved_{0};  // acked + nacked, released after `excused_` grew
  Histogram confirm_latency_us_;
  // Send times of unconfirmed publishes, by sequence modulo the ring size (a power of two at
  // least twice the confirm window). A slot holds its sequence so a stale one is never used.
  std::vector<std::atomic<uint64_t>> ring_seq_;
  std::vector<std::atomic<uint64_t>> ring_ns_;
  std::vector<uint64_t> excused_;  // nacked or returned; reader thread until close()
  std::chrono::steady_clock::time_point finished_at_;
  Status error_;
};

}  // namespace burrow::perf
