// The queues and exchanges of a burrow-perf scenario, and who publishes and consumes where:
//   default      one server-named exclusive queue per consumer, bound to exchange "direct"
//                with a per-run routing key; producers publish to "direct" (PerfTest's layout)
//   -u Q         one named queue Q shared by all consumers; producers use the default exchange
//   --queues N   queues <Q or burrow-perf>-1..N; producer i and consumer j use queue i%N, j%N
//   --fanout N   queues <Q or burrow-perf-fanout>-1..N bound to fanout exchange
//                "burrow-perf-fanout"; every queue gets every message
// Each queue is a "group" for loss accounting: the messages its producers sent must arrive
// exactly once across its consumers.
#pragma once

#include <string>
#include <vector>

#include <burrow/status.h>

#include "bench/perf/flags.h"
#include "client/amqp/channel.h"

namespace burrow::perf {

struct Route {
  std::string exchange;
  std::string routing_key;
};

class Topology {
 public:
  explicit Topology(const PerfFlags& flags);

  // Declares (and purges, unless --no-purge) the named queues and the exchange. Errors: the
  // broker's, e.g. kPreconditionFailed when a queue exists with other settings.
  Status declare(client::amqp::ClientChannel& ch) const;
  // For a consumer: its queue, declaring (and binding) its own in the default layout.
  // Returns the queue name.
  Result<std::string> consumer_queue(client::amqp::ClientChannel& ch, int consumer) const;

  Route producer_route(int producer) const;
  int groups() const { return groups_; }
  int consumer_group(int consumer) const;
  // The producers whose messages reach a group's queue.
  std::vector<int> producers_of_group(int group) const;

 private:
  enum class Layout { kPerConsumer, kNamed, kQueues, kFanout };

  const PerfFlags& flags_;
  Layout layout_;
  int groups_ = 0;
  std::vector<std::string> queues_;  // the named queues (all but kPerConsumer)
  std::string exchange_;             // "direct", "burrow-perf-fanout" or "" (default)
  std::string run_key_;              // kPerConsumer's routing key
};

}  // namespace burrow::perf
