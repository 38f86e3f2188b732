// In-process throughput through the public API (include/burrow/): transient publish -> consume,
// and persistent publishing with publisher confirms in both durability modes.
// Run: build/release/bin/burrow_bench --benchmark_filter=InProcess
#include <benchmark/benchmark.h>
#include <burrow/broker.h>

#include <malloc.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// Counts deliveries; wait_for(n) returns once n have arrived (woken every `step` deliveries).
class DeliveryCounter {
 public:
  explicit DeliveryCounter(int64_t step) : step_(step) {}
  // Call from a consumer callback, once per delivery.
  void add() {
    const int64_t n = received_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (n % step_ == 0) {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
  }
  void wait_for(int64_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return received_.load() >= n; });
  }

 private:
  const int64_t step_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int64_t> received_{0};
};

// One publisher thread, one consumer (no-ack or acking every 100th with multiple): messages
// per second from the first publish to the last delivery.
void BM_InProcessPublishConsume(benchmark::State& state) {
  const bool no_ack = state.range(0) == 1;
  const int64_t batch = 100000;
  auto broker = burrow::Broker::open(burrow::Options{.in_memory = true, .worker_threads = 2});
  auto pub = (*broker)->open_channel();
  auto sub = (*broker)->open_channel();
  (void)(*pub)->declare_queue("bench");
  DeliveryCounter counter(batch);
  burrow::Channel& consumer = **sub;
  (void)consumer.qos(0);
  auto tag = consumer.consume(
      "bench",
      [&](const burrow::Delivery& d) {
        if (!no_ack && d.delivery_tag % 100 == 0) consumer.ack(d.delivery_tag, true).ignore_error();
        counter.add();
      },
      burrow::ConsumeOptions{.no_ack = no_ack});
  const std::string body(16, 'x');
  int64_t target = 0;
  for (auto _ : state) {
    target += batch;
    for (int64_t i = 0; i < batch; ++i) (void)(*pub)->publish("", "bench", body);
    counter.wait_for(target);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  (*sub)->close();
}
BENCHMARK(BM_InProcessPublishConsume)
    ->Arg(1)
    ->Arg(0)
    ->ArgName("no_ack")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// BM_InProcessPublishConsume/no_ack:1 with Channel::publish_batch: the publisher sends its
// 100k messages per iteration in batches of `batch` bodies (one route, one queue lock per
// batch), a no-ack consumer receives them one callback per message.
void BM_InProcessPublishBatchConsume(benchmark::State& state) {
  const size_t per_call = static_cast<size_t>(state.range(0));
  const int workers = static_cast<int>(state.range(1));
  const int64_t batch = 100000;
  auto broker = burrow::Broker::open(burrow::Options{.in_memory = true, .worker_threads = workers});
  auto pub = (*broker)->open_channel();
  auto sub = (*broker)->open_channel();
  (void)(*pub)->declare_queue("bench");
  DeliveryCounter counter(batch);
  (void)(*sub)->qos(0);
  auto tag = (*sub)->consume(
      "bench", [&](const burrow::Delivery&) { counter.add(); },
      burrow::ConsumeOptions{.no_ack = true});
  const std::string body(16, 'x');
  int64_t target = 0;
  std::vector<std::string> bodies;
  for (auto _ : state) {
    target += batch;
    for (int64_t i = 0; i < batch;) {
      const size_t k = std::min<size_t>(per_call, static_cast<size_t>(batch - i));
      bodies.assign(k, body);
      (void)(*pub)->publish_batch("", "bench", std::move(bodies));
      bodies = {};
      i += static_cast<int64_t>(k);
    }
    counter.wait_for(target);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  (*sub)->close();
}
BENCHMARK(BM_InProcessPublishBatchConsume)
    ->ArgNames({"batch", "workers"})
    ->Args({64, 2})
    ->Args({256, 2})
    ->Args({1024, 2})
    ->Args({256, 1})
    ->Args({1024, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// N publisher threads, each with its own channel and its own queue, and one no-ack consumer
// per queue: messages per second over all queues, from the first publish to the last
// delivery. Each publisher sends 100k messages per iteration. With N = 1 this is
// BM_InProcessPublishConsume/no_ack:1 with thread start-up included; with N > 1 it shows
// whether independent publishers scale (on this 2-core machine, at most the two cores'
// worth, the worker threads included).
void BM_InProcessPublishConsumeThreads(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int64_t per_thread = 100000;
  auto broker = burrow::Broker::open(burrow::Options{.in_memory = true, .worker_threads = 2});
  std::vector<std::unique_ptr<burrow::Channel>> pubs;
  std::vector<std::unique_ptr<burrow::Channel>> subs;
  DeliveryCounter counter(per_thread);
  for (int t = 0; t < threads; ++t) {
    const std::string queue = "bench-" + std::to_string(t);
    pubs.push_back(std::move(*(*broker)->open_channel()));
    subs.push_back(std::move(*(*broker)->open_channel()));
    (void)pubs.back()->declare_queue(queue);
    (void)subs.back()->qos(0);
    (void)subs.back()->consume(
        queue, [&](const burrow::Delivery&) { counter.add(); },
        burrow::ConsumeOptions{.no_ack = true});
  }
  const std::string body(16, 'x');
  int64_t target = 0;
  for (auto _ : state) {
    target += per_thread * threads;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        const std::string queue = "bench-" + std::to_string(t);
        for (int64_t i = 0; i < per_thread; ++i) (void)pubs[t]->publish("", queue, body);
      });
    }
    for (auto& w : workers) w.join();
    counter.wait_for(target);
  }
  state.SetItemsProcessed(state.iterations() * per_thread * threads);
  for (auto& sub : subs) sub->close();
}
BENCHMARK(BM_InProcessPublishConsumeThreads)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->UseRealTime()
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

// A fresh data directory under $TMPDIR (default /tmp), removed when the benchmark ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "burrow-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// CPU time of the whole process (every thread), in seconds.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Persistent 16 B messages (delivery_mode 2) into a durable queue, no consumer, publisher
// confirms on: a message counts once its confirm arrived, i.e. once the store has it durable
// (fsync mode: its WAL record fsynced; os mode: written to the OS).
//
// The public API reports confirms only through Channel::wait_for_confirms() (every publish of
// the channel settled), so the window is kept with two confirm-mode channels used in turn:
// before a channel publishes its next window/2 messages it waits for its previous window/2.
// So at most `window` confirms are outstanding, and the publisher only ever waits for the
// older half of them (a sliding window in two steps).
//
// An iteration publishes 200k messages and waits for every confirm. Between iterations
// (untimed) the queue is deleted and declared again, which waits for the writer to finish
// everything queued before it, so each iteration starts with an empty queue and an idle
// writer. Args: durability (0 = fsync, 1 = os), window. The counter cpu_us_per_msg is the
// process's CPU time (all threads: publisher, store writer, RocksDB) over the timed part per
// message: on a shared machine it says more than the rate, which depends on the load.
void BM_InProcessPersistentPublishConfirm(benchmark::State& state) {
  const auto durability =
      state.range(0) == 0 ? burrow::Durability::kFsync : burrow::Durability::kOs;
  const int64_t window = state.range(1);
  const int64_t half = window / 2;
  const int64_t per_iteration = 200000;
  TempDir dir;
  if (dir.path().empty()) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  auto broker = burrow::Broker::open(
      burrow::Options{.data_dir = dir.path(), .durability = durability, .worker_threads = 2});
  if (!broker.ok()) {
    state.SkipWithError(broker.status().to_string().c_str());
    return;
  }
  const burrow::QueueOptions durable{.durable = true};
  auto admin = (*broker)->open_channel();
  std::array<std::unique_ptr<burrow::Channel>, 2> pubs;
  for (auto& pub : pubs) {
    pub = std::move(*(*broker)->open_channel());
    (void)pub->confirm_select();
  }
  burrow::BasicProperties persistent;
  persistent.delivery_mode = 2;
  const std::string body(16, 'x');
  double cpu_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    (void)(*admin)->delete_queue("bench-persistent");
    if (!(*admin)->declare_queue("bench-persistent", durable).ok()) {
      state.SkipWithError("declaring the durable queue failed");
      break;
    }
    state.ResumeTiming();
    const double cpu_start = process_cpu_seconds();
    int64_t sent = 0;
    for (int64_t turn = 0; sent < per_iteration; ++turn) {
      burrow::Channel& pub = *pubs[turn % 2];
      if (!pub.wait_for_confirms().ok()) {
        state.SkipWithError("a publish was nacked or its confirm timed out");
        break;
      }
      for (int64_t i = 0; i < half && sent < per_iteration; ++i, ++sent) {
        (void)pub.publish("", "bench-persistent", body, persistent);
      }
    }
    for (auto& pub : pubs) {
      if (!pub->wait_for_confirms().ok()) state.SkipWithError("confirms failed");
    }
    cpu_seconds += process_cpu_seconds() - cpu_start;
  }
  state.SetItemsProcessed(state.iterations() * per_iteration);
  state.counters["cpu_us_per_msg"] =
      cpu_seconds * 1e6 / static_cast<double>(state.iterations() * per_iteration);
  for (auto& pub : pubs) pub->close();
}
BENCHMARK(BM_InProcessPersistentPublishConfirm)
    ->ArgNames({"os_mode", "window"})
    ->Args({0, 1000})
    ->Args({0, 10000})
    ->Args({1, 1000})
    ->Args({1, 10000})
    ->UseRealTime()
    ->MinTime(3.0)
    ->Unit(benchmark::kMillisecond);

// Bytes the process holds: heap in use (glibc mallinfo2: allocated chunks plus mmapped
// blocks) and resident set size.
struct MemorySnapshot {
  double heap = 0;
  double rss = 0;
};
MemorySnapshot memory_now() {
  MemorySnapshot m;
  const struct mallinfo2 mi = mallinfo2();
  m.heap = static_cast<double>(mi.uordblks + mi.hblkhd);
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  m.rss = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
  return m;
}

// A broker on disk (os durability) in `dir` with a stream "bench-stream" declared, and a
// publisher channel on it in confirm mode; the broker is null (and the benchmark skipped) if
// it cannot open.
struct StreamBench {
  std::unique_ptr<burrow::Broker> broker;
  std::unique_ptr<burrow::Channel> pub;
};
StreamBench open_stream_bench(benchmark::State& state, const TempDir& dir,
                              uint64_t memory_budget_bytes) {
  auto broker = burrow::Broker::open(burrow::Options{.data_dir = dir.path(),
                                                     .durability = burrow::Durability::kOs,
                                                     .worker_threads = 2,
                                                     .memory_budget_bytes = memory_budget_bytes});
  if (!broker.ok()) {
    state.SkipWithError(broker.status().to_string().c_str());
    return {};
  }
  burrow::FieldTable stream_args;
  stream_args.set("x-queue-type", std::string("stream"));
  auto pub = (*broker)->open_channel();
  (void)(*pub)->declare_queue("bench-stream",
                              burrow::QueueOptions{.durable = true, .arguments = stream_args});
  (void)(*pub)->confirm_select();
  return StreamBench{std::move(*broker), std::move(*pub)};
}

// Streams (x-queue-type stream), docs/benchmarks.md section 24. A stream of 16 B messages
// on disk (os durability), appended with publish_batch; each iteration a new consumer
// (prefetch 2000, acking every 500th with multiple) reads it from offset "first": messages
// per second from consume to the last delivery. Arg: resident (1: 200k messages, all in the
// stream's resident window; 0: 1M messages and a 1 MiB memory budget, so nearly every
// message is read back from RocksDB).
void BM_StreamReadFromFirst(benchmark::State& state) {
  const bool resident = state.range(0) == 1;
  const int64_t kMessages = resident ? 200'000 : 1'000'000;
  TempDir dir;
  auto [broker, pub] = open_stream_bench(state, dir, resident ? 0u : uint64_t{1} << 20);
  if (!broker) return;
  std::vector<std::string> bodies;
  for (int64_t i = 0; i < kMessages; i += 1000) {
    bodies.assign(1000, std::string(16, 'x'));
    (void)pub->publish_batch("", "bench-stream", std::move(bodies));
    bodies = {};
  }
  (void)pub->wait_for_confirms();
  burrow::FieldTable from_first;
  from_first.set("x-stream-offset", std::string("first"));
  for (auto _ : state) {
    auto sub = broker->open_channel();
    burrow::Channel& consumer = **sub;
    (void)consumer.qos(2000);
    DeliveryCounter counter(kMessages);
    auto tag = consumer.consume(
        "bench-stream",
        [&](const burrow::Delivery& d) {
          if (d.delivery_tag % 500 == 0) consumer.ack(d.delivery_tag, true).ignore_error();
          counter.add();
        },
        burrow::ConsumeOptions{.arguments = from_first});
    counter.wait_for(kMessages);
    state.PauseTiming();
    consumer.close();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_StreamReadFromFirst)
    ->ArgName("resident")
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Appending to a stream on disk (os durability) with publish_batch of `batch` 16 B bodies,
// no consumer: 200k messages per iteration, ending when the last is confirmed (stored).
void BM_StreamAppend(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  constexpr int64_t kPerIteration = 200'000;
  TempDir dir;
  auto [broker, pub] = open_stream_bench(state, dir, 0);
  if (!broker) return;
  std::vector<std::string> bodies;
  for (auto _ : state) {
    for (int64_t i = 0; i < kPerIteration; i += static_cast<int64_t>(batch)) {
      bodies.assign(batch, std::string(16, 'x'));
      (void)pub->publish_batch("", "bench-stream", std::move(bodies));
      bodies = {};
    }
    (void)pub->wait_for_confirms();
  }
  state.SetItemsProcessed(state.iterations() * kPerIteration);
}
BENCHMARK(BM_StreamAppend)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(100)
    ->Arg(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Memory per queued 16 B message: 1M messages published into a queue with no consumer
// (transient into an in-memory broker, or persistent into a durable queue of a broker with a
// data directory and the default memory budget), the heap and RSS growth divided by 1M.
// One iteration; the counters are the result (the time is the publish time).
void BM_QueuedMessageMemory(benchmark::State& state) {
  const bool persistent = state.range(0) == 1;
  const int64_t n = 1000000;
  TempDir dir;
  burrow::Options options{.in_memory = !persistent, .worker_threads = 2};
  if (persistent) {
    options.data_dir = dir.path();
    options.durability = burrow::Durability::kOs;
  }
  auto broker = burrow::Broker::open(options);
  if (!broker.ok()) {
    state.SkipWithError(broker.status().to_string().c_str());
    return;
  }
  auto ch = (*broker)->open_channel();
  (void)(*ch)->confirm_select();
  (void)(*ch)->declare_queue("memory", burrow::QueueOptions{.durable = persistent});
  burrow::BasicProperties props;
  if (persistent) props.delivery_mode = 2;
  const std::string body(16, 'x');
  (void)(*ch)->wait_for_confirms();
  malloc_trim(0);
  const MemorySnapshot before = memory_now();
  for (auto _ : state) {
    for (int64_t i = 0; i < n; ++i) (void)(*ch)->publish("", "memory", body, props);
    (void)(*ch)->wait_for_confirms(std::chrono::minutes(5));
  }
  const MemorySnapshot after = memory_now();
  state.counters["heap_B_per_msg"] = (after.heap - before.heap) / static_cast<double>(n);
  state.counters["rss_B_per_msg"] = (after.rss - before.rss) / static_cast<double>(n);
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_QueuedMessageMemory)
    ->ArgName("persistent")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The floor under BM_InProcessPublishConsume on this machine, without a broker: one thread
// allocates a message per publish and hands it to a second thread, which frees it, through a
// mutex-guarded vector that the consumer swaps out (the pattern of the queue drain and the
// Dispatcher). Args: the message (0 = a 16 B std::string, 1 = an object the size of a
// StoredMessage, 616 B, with a 16 B body) and the producer's batch (1 = a lock per message,
// 256 = one lock per 256 messages).
struct FloorMessage {
  std::string exchange, routing_key, body;
  char properties[520] = {};
};
void BM_HandoffFloor(benchmark::State& state) {
  const bool big = state.range(0) == 1;
  const size_t batch = static_cast<size_t>(state.range(1));
  const int64_t n = 2000000;
  for (auto _ : state) {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<void*> queue;
    bool done = false;
    std::thread consumer([&] {
      std::vector<void*> taken;
      for (;;) {
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return !queue.empty() || done; });
          if (queue.empty() && done) return;
          taken.swap(queue);
        }
        for (void* p : taken) {
          if (big) {
            delete static_cast<FloorMessage*>(p);
          } else {
            delete static_cast<std::string*>(p);
          }
        }
        taken.clear();
      }
    });
    std::vector<void*> local;
    for (int64_t i = 0; i < n; ++i) {
      if (big) {
        local.push_back(new FloorMessage{"", "bench", std::string(16, 'x')});
      } else {
        local.push_back(new std::string(16, 'x'));
      }
      if (local.size() >= batch || i == n - 1) {
        bool wake = false;
        {
          std::lock_guard lock(mu);
          wake = queue.empty();
          queue.insert(queue.end(), local.begin(), local.end());
        }
        local.clear();
        if (wake) cv.notify_one();
      }
    }
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_one();
    consumer.join();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_HandoffFloor)
    ->ArgNames({"stored_message_size", "batch"})
    ->Args({0, 1})
    ->Args({0, 256})
    ->Args({1, 1})
    ->Args({1, 256})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The machine's core-to-core latency: two threads pass one cache line back and forth (each
// waits, spinning, for the other's store). items_per_second is round trips per second;
// the `round_trip` counter is the time of one, in seconds ("300n" = 300 ns). Every hand-off between
// a publishing thread and a delivering one pays this latency for each cache line it moves, so the
// in-process figures above rise and fall with it (docs/benchmarks.md section 22).
void BM_CoreToCoreRoundTrip(benchmark::State& state) {
  const int64_t n = 1000000;
  alignas(64) std::atomic<int> flag{0};
  for (auto _ : state) {
    std::thread echo([&] {
      for (int64_t i = 0; i < n; ++i) {
        while (flag.load(std::memory_order_acquire) != 1) {
        }
        flag.store(0, std::memory_order_release);
      }
    });
    for (int64_t i = 0; i < n; ++i) {
      flag.store(1, std::memory_order_release);
      while (flag.load(std::memory_order_acquire) != 0) {
      }
    }
    echo.join();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["round_trip"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CoreToCoreRoundTrip)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
