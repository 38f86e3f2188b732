// burrow-perf's command line: PerfTest's flags (-x -y -s -f -c -q -a -A -z -C -r -u -h) plus
// the scenario switches (--durable, --queue-args, --backlog, --queues, --fanout).
#pragma once

#include <cstdint>
#include <string>

#include <burrow/field_table.h>

namespace burrow::perf {

struct PerfFlags {
  std::string uri = "amqp://guest:guest@localhost:5672/%2F";  // -h, --uri
  int producers = 1;                                          // -x
  int consumers = 1;                                          // -y
  // -s; bodies are at least kHeaderSize (16) bytes: producer id, sequence, send time.
  size_t size = 16;
  bool persistent = false;  // -f persistent: delivery mode 2
  bool mandatory = false;   // -f mandatory
  // -c: unconfirmed publishes allowed per producer; 0 = no publisher confirms.
  uint32_t confirm = 0;
  uint16_t prefetch = 0;   // -q; 0 = unlimited
  bool auto_ack = false;   // -a
  uint32_t multi_ack = 0;  // -A; ack with multiple every N deliveries (0: each one)
  double duration_s = 0;   // -z; 0 = until -C or Ctrl-C
  uint64_t count = 0;      // -C per producer; 0 = unlimited
  double rate = 0;         // -r per producer, msg/s; 0 = unlimited
  std::string queue;       // -u
  bool durable = false;    // --durable
  // --queue-args / -qa k=v,k=v (PerfTest's): arguments of the declared queues; a value made
  // of digits is an integer (x-max-length=10), anything else a string (x-queue-type=quorum).
  FieldTable queue_args;
  bool backlog = false;        // --backlog
  int queues = 0;              // --queues N
  int fanout = 0;              // --fanout N
  double drain_timeout_s = 5;  // --drain-timeout
  bool purge = true;           // --no-purge clears it
  double interval_s = 1;       // -i
  bool quiet = false;          // --quiet: no progress lines
};

// Parses argv. Returns 0 to run, otherwise the exit code to leave with (help printed: 0 is
// mapped to -1 so the caller can tell; usage errors: 2), after printing why on stderr.
int parse_flags(int argc, char** argv, PerfFlags& flags);

}  // namespace burrow::perf
