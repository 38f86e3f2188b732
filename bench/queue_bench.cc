// Queue benchmarks in the broker core: enqueue, dequeue (basic.get) and ack of a classic
// queue, once on the Queue itself and once through a broker::Channel (permission cache,
// routing, the unacked map, delivery tags), on an in-memory BrokerCore with no adapter.
// Module: broker only.
//
// Run: build/release/bin/burrow_queue_bench
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <burrow/options.h>

#include "broker/broker_core.h"
#include "broker/channel.h"
#include "broker/connection.h"
#include "broker/queue.h"
#include "broker/stored_message.h"
#include "broker/vhost.h"

namespace {

namespace br = burrow::broker;

// A channel adapter that drops everything: the benchmarks use basic.get, not consumers.
class NullSink final : public br::ChannelSink {
 public:
  void on_deliver(const std::string&, uint64_t, const br::QueueEntry&) override {}
  void on_return(uint16_t, std::string_view, const br::StoredMessage&) override {}
  void on_confirm(uint64_t, bool, bool) override {}
  void on_cancel(const std::string&) override {}
  void on_error(const burrow::Status&) override {}
};

// An in-memory core (2 worker threads), one guest connection to "/" and one channel, with
// queue "q" declared. Closes the channel and connection before the core stops.
class Core {
 public:
  Core() {
    burrow::Options options;
    options.in_memory = true;
    options.worker_threads = 2;
    auto core = br::BrokerCore::open(options);
    if (!core.ok()) {
      fprintf(stderr, "BrokerCore::open: %s\n", core.status().to_string().c_str());
      std::abort();
    }
    core_ = std::move(core).value();
    auto conn = core_->connect(br::ConnectInfo{"guest", "/"});
    if (!conn.ok()) std::abort();
    connection_ = *conn;
    channel_ = std::make_shared<br::Channel>(connection_, 1, &sink_);
    if (!channel_->declare_queue(br::QueueDeclareRequest{.name = "q"}).ok()) std::abort();
    auto q = connection_->vhost()->find_queue("q", connection_->id());
    if (!q.ok()) std::abort();
    queue_ = *q;
  }
  ~Core() {
    channel_->close();
    connection_->close();
    channel_.reset();
    queue_.reset();
    connection_.reset();
    core_.reset();
  }
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  br::Channel& channel() { return *channel_; }
  br::Queue& queue() { return *queue_; }

 private:
  NullSink sink_;
  std::unique_ptr<br::BrokerCore> core_;
  br::ConnectionPtr connection_;
  br::ChannelPtr channel_;
  br::QueuePtr queue_;
};

br::StoredMessagePtr message(size_t body_size) {
  auto m = std::make_shared<br::StoredMessage>();
  m->message.routing_key = "q";
  m->message.body.assign(body_size, 'x');
  return m;
}

// Queue::enqueue of `depth` messages, then get + settle of each (a consumer needing acks,
// without the channel): messages per second through the queue. Arg: depth (1 = the queue
// stays empty between messages; 10000 = it holds a backlog). One shared, immutable message
// is enqueued every time, so the figure is the queue's own cost, not allocation of bodies.
void BM_QueueEnqueueGetSettle(benchmark::State& state) {
  Core core;
  br::Queue& q = core.queue();
  const int64_t depth = state.range(0);
  const br::StoredMessagePtr m = message(16);
  const br::EnqueueOptions options;
  std::vector<br::QueueEntry> taken;
  taken.reserve(static_cast<size_t>(depth));
  for (auto _ : state) {
    for (int64_t i = 0; i < depth; ++i) {
      if (q.enqueue(m, options) != br::EnqueueOutcome::kAccepted) {
        state.SkipWithError("enqueue refused");
        return;
      }
    }
    uint32_t remaining = 0;
    for (int64_t i = 0; i < depth; ++i) {
      auto entry = q.get(/*no_ack=*/false, remaining);
      if (!entry.ok() || !*entry) {
        state.SkipWithError("get found nothing");
        return;
      }
      taken.push_back(std::move(**entry));
    }
    q.settle(taken);
    taken.clear();
  }
  state.SetItemsProcessed(state.iterations() * depth);
}
BENCHMARK(BM_QueueEnqueueGetSettle)->ArgName("depth")->Arg(1)->Arg(100)->Arg(10000);

// Publishes `body` to queue "q" through the default exchange; false (after telling `state`)
// when the channel refuses it.
bool publish_to_q(br::Channel& ch, const std::string& body, benchmark::State& state) {
  auto m = std::make_shared<br::StoredMessage>();
  m->message.routing_key = "q";
  m->message.body = body;
  if (ch.publish("", "q", false, false, std::move(m)).ok()) return true;
  state.SkipWithError("publish failed");
  return false;
}

// The same through the channel, as an AMQP connection drives it: basic.publish to the
// default exchange (a new StoredMessage each time, as the adapter makes one per publish),
// basic.get with ack, basic.ack of each tag (arg multiple = 0) or one multiple ack for the
// batch (1). Batch of 100 messages per iteration.
void BM_ChannelPublishGetAck(benchmark::State& state) {
  Core core;
  br::Channel& ch = core.channel();
  const bool multiple = state.range(0) == 1;
  constexpr int kBatch = 100;
  std::vector<uint64_t> tags;
  tags.reserve(kBatch);
  const std::string body(16, 'x');
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      if (!publish_to_q(ch, body, state)) return;
    }
    for (int i = 0; i < kBatch; ++i) {
      uint64_t tag = 0;
      burrow::Status s = ch.get("q", /*no_ack=*/false, [&](const std::optional<br::GetResult>& r) {
        if (r) tag = r->delivery_tag;
      });
      if (!s.ok() || tag == 0) {
        state.SkipWithError("get failed");
        return;
      }
      tags.push_back(tag);
    }
    if (multiple) {
      if (!ch.ack(tags.back(), true).ok()) state.SkipWithError("ack failed");
    } else {
      for (uint64_t tag : tags) {
        if (!ch.ack(tag, false).ok()) state.SkipWithError("ack failed");
      }
    }
    tags.clear();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_ChannelPublishGetAck)->ArgName("multiple")->Arg(0)->Arg(1);

// Publish only through the channel into a queue nobody reads, purged every 10k messages: the
// enqueue side of the path (what the in-process BM_InProcessPublish measures through the
// public API, here without it).
void BM_ChannelPublish(benchmark::State& state) {
  Core core;
  br::Channel& ch = core.channel();
  const std::string body(16, 'x');
  int64_t n = 0;
  for (auto _ : state) {
    if (!publish_to_q(ch, body, state)) return;
    if (++n % 10000 == 0) (void)ch.purge_queue("q");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChannelPublish);

}  // namespace

BENCHMARK_MAIN();
