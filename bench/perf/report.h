// What burrow-perf prints: a progress line per interval on stderr and the JSON summary line
// on stdout.
#pragma once

#include <cstdint>
#include <string>

namespace burrow::perf {

struct Percentiles {
  uint64_t p50 = 0;
  uint64_t p99 = 0;
};

struct Progress {
  double elapsed_s = 0;
  double send_rate = 0;
  double receive_rate = 0;
  Percentiles confirm_us;  // over the interval
  Percentiles latency_us;  // over the interval
  bool confirms = false;
};

struct Summary {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t confirmed = 0;
  uint64_t nacked = 0;
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  double duration_s = 0;
  double send_rate = 0;
  double receive_rate = 0;
  Percentiles confirm_latency_us;
  Percentiles latency_us;
  std::string error;  // empty when every producer and consumer finished cleanly
};

// "[  3.0s] sent 512034 msg/s | received 511877 msg/s | confirm p50/p99 812/2401 us | ..."
std::string format_progress(const Progress& p);
// One line of JSON with the keys in the order of Summary; "error" only when set.
std::string format_summary(const Summary& s);

}  // namespace burrow::perf
