// storage_group_commit_probe: measures group commit on this machine (not a test; build it in
// Release for numbers that mean something). W writer threads each publish N messages of B
// bytes, keeping up to D writes in flight (D = 1: each thread waits for its confirm, as a
// publisher without pipelining), into a fresh store; prints writes, groups, group sizes,
// fsyncs/s and fsync latency.
//
//   storage_group_commit_probe [--dir /tmp/x] [--writers 8] [--writes 2000] [--bytes 256]
//                              [--depth 1] [--mode fsync|os]
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/keys.h"
#include "storage/rocksdb_store.h"

using namespace burrow::storage;

int main(int argc, char** argv) {
  std::string dir = "/tmp/burrow-group-commit-probe";
  int writers = 8;
  int writes = 2000;
  size_t bytes = 256;
  int depth = 1;
  burrow::Durability mode = burrow::Durability::kFsync;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--dir")
      dir = value;
    else if (flag == "--writers")
      writers = std::atoi(value);
    else if (flag == "--writes")
      writes = std::atoi(value);
    else if (flag == "--bytes")
      bytes = static_cast<size_t>(std::atoll(value));
    else if (flag == "--depth")
      depth = std::max(1, std::atoi(value));
    else if (flag == "--mode")
      mode = std::strcmp(value, "os") == 0 ? burrow::Durability::kOs : burrow::Durability::kFsync;
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 64;
    }
  }
  std::filesystem::remove_all(dir);
  StoreOptions options;
  options.path = dir;
  options.durability = mode;
  auto opened = open_rocksdb_store(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().to_string().c_str());
    return 2;
  }
  Store& store = **opened;

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      std::mutex mu;
      std::condition_variable cv;
      int in_flight = 0;
      const std::string body(bytes, 'b');
      for (int i = 0; i < writes; ++i) {
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return in_flight < depth; });
          ++in_flight;
        }
        WriteBatch batch;
        batch.put(Column::kMessages,
                  message_key(static_cast<uint64_t>(t), static_cast<uint64_t>(i)), body);
        store.write(std::move(batch), [&](burrow::Status s) {
          if (!s.ok()) std::fprintf(stderr, "write failed: %s\n", s.to_string().c_str());
          std::lock_guard lock(mu);
          --in_flight;
          cv.notify_one();
        });
      }
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight == 0; });
    });
  }
  for (auto& th : threads) th.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  StoreStats s = store.stats();
  std::printf("mode=%s writers=%d writes/writer=%d bytes=%zu depth=%d\n",
              mode == burrow::Durability::kFsync ? "fsync" : "os", writers, writes, bytes, depth);
  std::printf("  %.2f s: %llu writes (%.0f/s) in %llu groups: avg %.2f, max %llu per group\n",
              seconds, static_cast<unsigned long long>(s.writes), s.writes / seconds,
              static_cast<unsigned long long>(s.write_batches), s.writes_per_batch.average(),
              static_cast<unsigned long long>(s.writes_per_batch.max()));
  std::printf("  fsyncs %llu (%.0f/s), fsync avg %.0f us, p50 <= %llu us, p99 <= %llu us\n",
              static_cast<unsigned long long>(s.fsyncs), s.fsyncs / seconds,
              s.fsync_micros.average(),
              static_cast<unsigned long long>(s.fsync_micros.percentile(50)),
              static_cast<unsigned long long>(s.fsync_micros.percentile(99)));
  opened->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
