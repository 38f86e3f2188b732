// One burrow-perf run: declare the topology, start consumers and producers, print progress,
// drain, judge loss and duplicates, print the summary.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "bench/perf/consumer.h"
#include "bench/perf/flags.h"
#include "bench/perf/producer.h"
#include "bench/perf/report.h"
#include "bench/perf/topology.h"
#include "client/amqp/connection_options.h"

namespace burrow::perf {

// Single-threaded driver; the producers run on their own threads, the consumers on their
// connections' reader threads.
class Runner {
 public:
  Runner(const PerfFlags& flags, client::amqp::ConnectionOptions base);

  // Returns the exit code: 0, 1 when messages were lost or duplicated, 2 on errors (a
  // connection could not be set up, or a producer or consumer failed during the run).
  // `interrupted` (Ctrl-C) stops the producers early; consumers still drain.
  int run(const std::atomic<bool>& interrupted);

 private:
  using Clock = std::chrono::steady_clock;

  // Counter and histogram totals at one moment, for interval rates and percentiles.
  struct Sample {
    Clock::time_point at;
    uint64_t sent = 0;
    uint64_t received = 0;
    HistogramSnapshot confirm_us;
    HistogramSnapshot latency_us;
  };

  client::amqp::ConnectionOptions options_for(const char* role, int index) const;
  Status setup();
  Sample sample() const;
  void print_progress(Sample& previous, Clock::time_point t0);
  bool drained(const std::vector<uint64_t>& expected) const;
  Summary summarize(Clock::time_point t0, Clock::time_point producers_end,
                    Clock::time_point consume_start);

  const PerfFlags& flags_;
  const client::amqp::ConnectionOptions base_;
  Topology topology_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  std::vector<std::unique_ptr<Producer>> producers_;
  std::vector<std::atomic<uint64_t>> group_received_;
  uint64_t run_start_ns_ = 0;
};

}  // namespace burrow::perf
