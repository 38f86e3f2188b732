// Helpers for the client tests: OK assertions for Status/Result, a thread-safe collector that
// callbacks fill and tests wait on, and an in-memory broker factory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <utility>

#include <stdlib.h>
#include <vector>

#include <burrow/broker.h>
#include <burrow/status.h>
#include <gtest/gtest.h>

namespace burrow {
// Readable StatusCode values in assertion failures ("NOT_FOUND (404)").
inline void PrintTo(StatusCode code, std::ostream* os) {
  *os << status_code_name(code) << " (" << static_cast<int>(code) << ")";
}
}  // namespace burrow

namespace burrow::client_testing {

// How long a test waits for something that must happen (sanitizer builds are slow).
inline constexpr std::chrono::milliseconds kWaitTimeout{15000};
// How long a test watches for something that must not happen.
inline constexpr std::chrono::milliseconds kQuietPeriod{100};

inline Status status_of(const Status& s) { return s; }
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}
template <typename T>
::testing::AssertionResult IsOk(const char* expr_text, const T& value) {
  Status s = status_of(value);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr_text << " failed: " << s.to_string();
}
#define ASSERT_OK(...) ASSERT_PRED_FORMAT1(::burrow::client_testing::IsOk, (__VA_ARGS__))
#define EXPECT_OK(...) EXPECT_PRED_FORMAT1(::burrow::client_testing::IsOk, (__VA_ARGS__))

// Values handed over by callbacks on broker threads. Thread-safe.
template <typename T>
class Collector {
 public:
  void add(T value) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(value));
    cv_.notify_all();
  }
  // Waits until at least `n` values arrived; false on timeout.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = kWaitTimeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return items_.size() >= n; });
  }
  // Watches for kQuietPeriod: true if no more than `n` values arrived meanwhile.
  bool stays_at(size_t n) { return !wait_for(n + 1, kQuietPeriod); }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  std::vector<T> items() const {
    std::lock_guard lock(mu_);
    return items_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

// A one-shot signal between threads.
class Latch {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds timeout = kWaitTimeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A fresh directory under /tmp, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/burrow-client-test-XXXXXX";
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Options test_options() {
  Options options;
  options.in_memory = true;
  options.worker_threads = 2;
  return options;
}

inline std::unique_ptr<Broker> open_broker(const Options& options = test_options()) {
  auto broker = Broker::open(options);
  if (!broker.ok()) {
    ADD_FAILURE() << "Broker::open: " << broker.status().to_string();
    std::abort();
  }
  return std::move(broker).value();
}

inline std::unique_ptr<Channel> open_channel(Broker& broker) {
  auto channel = broker.open_channel();
  if (!channel.ok()) {
    ADD_FAILURE() << "open_channel: " << channel.status().to_string();
    std::abort();
  }
  return std::move(channel).value();
}

}  // namespace burrow::client_testing
