// The broker's worker threads: an Asio io_context run by N threads. Queue deliveries and
// consumer callbacks run here; burrowd's network I/O shares the same pool (DESIGN.md 4).
#pragma once

#include <memory>

#include "broker/executor.h"

namespace boost::asio {
class io_context;
}

namespace burrow::broker {

// Thread-safe. Threads start in the constructor and are joined by stop() or the destructor.
class WorkerPool final : public Executor {
 public:
  // threads <= 0: one per hardware thread.
  explicit WorkerPool(int threads);
  ~WorkerPool() override;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void post(std::function<void()> fn) override;

  // The io_context the threads run, for adapters that do I/O on the same threads.
  boost::asio::io_context& io_context();
  int thread_count() const;

  // Stops the threads after the work that is already running; pending work is dropped.
  // Idempotent. Must not be called from a pool thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace burrow::broker
