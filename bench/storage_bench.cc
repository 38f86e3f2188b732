// Storage benchmarks: the group-commit writer per durability mode, and a queue's key range
// after heavy churn (publish + ack of many messages must not slow the next read).
//
// Run: build/release/bin/burrow_storage_bench --benchmark_filter=GroupCommit
//      build/release/bin/burrow_storage_bench --benchmark_filter=QueueChurn
//      (10M messages: --benchmark_filter='QueueChurn.*/10000000')
// Data goes to $TMPDIR (default /tmp) and is removed afterwards.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/keys.h"
#include "storage/queue_range.h"
#include "storage/rocksdb_store.h"

namespace {

namespace fs = std::filesystem;
namespace st = burrow::storage;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("burrow-bench-" + std::to_string(rd()));
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

std::unique_ptr<st::Store> open_store(const std::string& path, burrow::Durability durability) {
  auto store = st::open_rocksdb_store(st::StoreOptions{.path = path, .durability = durability});
  if (!store.ok()) {
    fprintf(stderr, "open: %s\n", store.status().to_string().c_str());
    std::abort();
  }
  return std::move(store).value();
}

// Writers (benchmark threads) each keep `window` writes in flight, as publishers with a confirm
// window do; every write is one 256-byte message put. Items/s = confirmed writes per second.
// The store the writer threads of one run share (members destroyed store first, then dir).
struct SharedStore {
  std::unique_ptr<TempDir> dir;
  std::unique_ptr<st::Store> store;
};

void BM_GroupCommit(benchmark::State& state) {
  static SharedStore shared;
  const auto mode = state.range(0) == 0 ? burrow::Durability::kFsync : burrow::Durability::kOs;
  const int64_t window = state.range(1);
  if (state.thread_index() == 0) {
    // The previous run's threads have all finished (Google Benchmark joins them).
    shared.store.reset();
    shared.dir = std::make_unique<TempDir>();
    shared.store = open_store(shared.dir->str(), mode);
  }
  // Google Benchmark starts every thread's loop together, after thread 0's setup above, so
  // `shared` is read only inside the loop.
  const std::string value(256, 'x');
  std::mutex mu;
  std::condition_variable cv;
  int64_t in_flight = 0;
  uint64_t seq = static_cast<uint64_t>(state.thread_index()) << 40;
  int64_t done = 0;
  for (auto _ : state) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    st::WriteBatch batch;
    batch.put(st::Column::kMessages, st::message_key(1, seq++), value);
    shared.store->write(std::move(batch), [&](burrow::Status) {
      std::lock_guard lock(mu);
      --in_flight;
      ++done;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  state.SetItemsProcessed(done);
  if (state.thread_index() == 0) {
    // Other threads may still be draining: stats after every writer finished are what the
    // counters show (only thread 0 reports them).
    const st::StoreStats stats = shared.store->stats();
    state.counters["avg_group"] =
        stats.write_batches == 0
            ? 0.0
            : static_cast<double>(stats.writes) / static_cast<double>(stats.write_batches);
    state.counters["fsyncs"] = static_cast<double>(stats.fsyncs);
  }
}

// Publishes `n` 16-byte messages into one queue and acks them as the broker does (point
// deletes of each acked message, and the saved head moved every 1024 with one range
// tombstone), then measures the first read from the head: it must not depend on how many
// messages went through the queue before. Compared with the same read on a fresh store.
void BM_QueueChurnThenFirstRead(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const bool range_tombstones = state.range(1) != 0;
  constexpr uint64_t kQueue = 7;
  constexpr uint64_t kAckBatch = 1024;
  const std::string value(16, 'v');
  for (auto _ : state) {
    TempDir dir;
    auto store = open_store(dir.str(), burrow::Durability::kOs);
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t base = 0; base < n; base += kAckBatch) {
      const uint64_t end = std::min(n, base + kAckBatch);
      st::WriteBatch publish;
      for (uint64_t seq = base; seq < end; ++seq) {
        publish.put(st::Column::kMessages, st::message_key(kQueue, seq), value);
      }
      store->write(std::move(publish), nullptr);
      st::WriteBatch ack;
      for (uint64_t seq = base; seq < end; ++seq) {
        ack.del(st::Column::kMessages, st::message_key(kQueue, seq));
      }
      if (range_tombstones) {
        st::advance_queue_head(ack, kQueue, end);
      } else {
        st::save_queue_head(ack, kQueue, end);
      }
      store->write(std::move(ack), nullptr);
    }
    // One live message after the churn, at the head.
    st::WriteBatch last;
    last.put(st::Column::kMessages, st::message_key(kQueue, n), value);
    (void)store->write_sync(std::move(last));
    const auto t1 = std::chrono::steady_clock::now();

    auto first_read = [&](st::Store& s, uint64_t head) {
      const auto r0 = std::chrono::steady_clock::now();
      uint64_t seen = 0;
      (void)st::scan_queue(s, kQueue, head, 1, [&](uint64_t, std::string_view) {
        ++seen;
        return false;
      });
      benchmark::DoNotOptimize(seen);
      return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - r0)
          .count();
    };
    const uint64_t skipped_before = store->stats().scan_skipped_entries;
    const double churned_us = first_read(*store, n);
    const uint64_t skipped = store->stats().scan_skipped_entries - skipped_before;
    // The same read from the start of the range (what a reader without the saved head does).
    const double from_zero_us = first_read(*store, 0);
    // After a flush (the tombstones now in table files).
    (void)store->flush();
    const double flushed_us = first_read(*store, n);

    TempDir fresh_dir;
    auto fresh = open_store(fresh_dir.str(), burrow::Durability::kOs);
    st::WriteBatch one;
    one.put(st::Column::kMessages, st::message_key(kQueue, 0), value);
    (void)fresh->write_sync(std::move(one));
    const double fresh_us = first_read(*fresh, 0);

    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    state.counters["churn_msgs_per_s"] =
        static_cast<double>(n) / std::chrono::duration<double>(t1 - t0).count();
    state.counters["first_read_us"] = churned_us;
    state.counters["first_read_from_0_us"] = from_zero_us;
    state.counters["first_read_flushed_us"] = flushed_us;
    state.counters["fresh_store_read_us"] = fresh_us;
    state.counters["skipped_entries"] = static_cast<double>(skipped);
  }
}

}  // namespace

BENCHMARK(BM_GroupCommit)
    ->ArgsProduct({{0, 1}, {1, 64}})
    ->ArgNames({"os_mode", "window"})
    ->Threads(1)
    ->Threads(8)
    ->UseRealTime()
    ->MinTime(2.0);
BENCHMARK(BM_QueueChurnThenFirstRead)
    ->ArgsProduct({{1'000'000, 10'000'000}, {0, 1}})
    ->ArgNames({"messages", "range_tombstones"})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
