// Topology: the four layouts, their declarations and routes.
#include "bench/perf/topology.h"

#include <random>

#include "base/status_macros.h"

namespace burrow::perf {

namespace amqp = burrow::client::amqp;

namespace {

std::string random_key() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  char buf[40];
  std::snprintf(buf, sizeof buf, "burrow-perf-%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

}  // namespace

Topology::Topology(const PerfFlags& flags) : flags_(flags) {
  if (flags.fanout > 0) {
    layout_ = Layout::kFanout;
    groups_ = flags.fanout;
    exchange_ = "burrow-perf-fanout";
    const std::string prefix = flags.queue.empty() ? "burrow-perf-fanout" : flags.queue;
    for (int i = 1; i <= flags.fanout; ++i) queues_.push_back(prefix + "-" + std::to_string(i));
  } else if (flags.queues > 0) {
    layout_ = Layout::kQueues;
    groups_ = flags.queues;
    const std::string prefix = flags.queue.empty() ? "burrow-perf" : flags.queue;
    for (int i = 1; i <= flags.queues; ++i) queues_.push_back(prefix + "-" + std::to_string(i));
  } else if (!flags.queue.empty()) {
    layout_ = Layout::kNamed;
    groups_ = 1;
    queues_.push_back(flags.queue);
  } else {
    layout_ = Layout::kPerConsumer;
    groups_ = flags.consumers;
    exchange_ = "direct";
    run_key_ = random_key();
  }
}

Status Topology::declare(amqp::ClientChannel& ch) const {
  amqp::ExchangeOptions ex;
  ex.durable = flags_.durable;
  if (layout_ == Layout::kPerConsumer) {
    // PerfTest's exchange: a plain direct exchange named "direct", non-durable.
    RETURN_IF_ERROR(ch.exchange_declare(exchange_, "direct"));
  } else if (layout_ == Layout::kFanout) {
    RETURN_IF_ERROR(ch.exchange_declare(exchange_, "fanout", ex));
  }
  amqp::QueueOptions q;
  q.durable = flags_.durable;
  q.arguments = flags_.queue_args;
  for (const std::string& name : queues_) {
    RETURN_IF_ERROR(ch.queue_declare(name, q).status());
    if (flags_.purge) RETURN_IF_ERROR(ch.queue_purge(name).status());
    if (layout_ == Layout::kFanout) RETURN_IF_ERROR(ch.queue_bind(name, exchange_, ""));
  }
  return Status();
}

Result<std::string> Topology::consumer_queue(amqp::ClientChannel& ch, int consumer) const {
  if (layout_ != Layout::kPerConsumer) return queues_[consumer % queues_.size()];
  amqp::QueueOptions q;
  q.durable = flags_.durable;
  q.exclusive = true;
  q.arguments = flags_.queue_args;
  ASSIGN_OR_RETURN(amqp::QueueInfo info, ch.queue_declare("", q));
  RETURN_IF_ERROR(ch.queue_bind(info.name, exchange_, run_key_));
  return info.name;
}

Route Topology::producer_route(int producer) const {
  switch (layout_) {
    case Layout::kPerConsumer:
      return Route{exchange_, run_key_};
    case Layout::kNamed:
      return Route{"", queues_[0]};
    case Layout::kQueues:
      return Route{"", queues_[producer % queues_.size()]};
    case Layout::kFanout:
      return Route{exchange_, ""};
  }
  return Route{};
}

int Topology::consumer_group(int consumer) const {
  switch (layout_) {
    case Layout::kPerConsumer:
      return consumer;
    case Layout::kNamed:
      return 0;
    case Layout::kQueues:
    case Layout::kFanout:
      return consumer % groups_;
  }
  return 0;
}

std::vector<int> Topology::producers_of_group(int group) const {
  std::vector<int> out;
  for (int p = 0; p < flags_.producers; ++p) {
    if (layout_ != Layout::kQueues || p % groups_ == group) out.push_back(p);
  }
  return out;
}

}  // namespace burrow::perf
