// In-process publish -> consume throughput through the public API (include/burrow/).
// Run: build/release/bin/burrow_bench --benchmark_filter=InProcess
#include <benchmark/benchmark.h>
#include <burrow/broker.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// One publisher thread, one consumer (no-ack or acking every 100th with multiple): messages
// per second from the first publish to the last delivery.
void BM_InProcessPublishConsume(benchmark::State& state) {
  const bool no_ack = state.range(0) == 1;
  const int64_t batch = 100000;
  auto broker = burrow::Broker::open(burrow::Options{.in_memory = true, .worker_threads = 2});
  auto pub = (*broker)->open_channel();
  auto sub = (*broker)->open_channel();
  (void)(*pub)->declare_queue("bench");
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int64_t> received{0};
  burrow::Channel& consumer = **sub;
  (void)consumer.qos(0);
  auto tag = consumer.consume(
      "bench",
      [&](const burrow::Delivery& d) {
        int64_t n = received.fetch_add(1) + 1;
        if (!no_ack && d.delivery_tag % 100 == 0) consumer.ack(d.delivery_tag, true).ignore_error();
        if (n % batch == 0) {
          std::lock_guard lock(mu);
          cv.notify_all();
        }
      },
      burrow::ConsumeOptions{.no_ack = no_ack});
  const std::string body(16, 'x');
  int64_t target = 0;
  for (auto _ : state) {
    target += batch;
    for (int64_t i = 0; i < batch; ++i) (void)(*pub)->publish("", "bench", body);
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return received.load() >= target; });
  }
  state.SetItemsProcessed(state.iterations() * batch);
  (*sub)->close();
}
BENCHMARK(BM_InProcessPublishConsume)->Arg(1)->Arg(0)->ArgName("no_ack")->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Publish only (no consumer): the cost of routing and enqueueing. The queue is purged every
// 10k messages so the figure is the steady state, not memory growth.
void BM_InProcessPublish(benchmark::State& state) {
  auto broker = burrow::Broker::open(burrow::Options{.in_memory = true, .worker_threads = 1});
  auto ch = (*broker)->open_channel();
  (void)(*ch)->declare_queue("bench");
  const std::string body(16, 'x');
  int64_t n = 0;
  for (auto _ : state) {
    (void)(*ch)->publish("", "bench", body);
    if (++n % 10000 == 0) (void)(*ch)->purge_queue("bench");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InProcessPublish);

}  // namespace

BENCHMARK_MAIN();
