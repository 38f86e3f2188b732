// RabbitMQ's resource alarms: the memory high watermark and the disk free limit. A monitor
// thread samples the process's resident memory and the data directory's free space; while
// either is past its limit, AMQP connections that publish are blocked (connection.blocked,
// their socket is no longer read) and consumers keep draining (rabbit_alarm, rabbit_reader).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "base/thread_annotations.h"

namespace burrow::server {

struct AlarmOptions {
  // Fraction of physical memory the process may use before publishers are blocked.
  // Default: 0.4 (RabbitMQ's vm_memory_high_watermark).
  double memory_high_watermark = 0.4;
  // An absolute limit in bytes; overrides the fraction when non-zero. Default: 0.
  uint64_t memory_limit_bytes = 0;
  // Free bytes the data directory's file system must keep. Default: 50 MB (RabbitMQ's
  // disk_free_limit).
  uint64_t disk_free_limit_bytes = 50'000'000;
  // Where to measure free space; empty: no disk alarm (--in-memory).
  std::string disk_path;
  // How often to sample. Default: 500 ms (the client sees an alarm within that).
  int interval_ms = 500;
};

// Thread-safe.
class ResourceAlarms {
 public:
  explicit ResourceAlarms(AlarmOptions options);
  ~ResourceAlarms();
  ResourceAlarms(const ResourceAlarms&) = delete;
  ResourceAlarms& operator=(const ResourceAlarms&) = delete;

  // Starts the monitor thread (after listeners are in place).
  void start();

  bool memory_alarm() const { return memory_alarm_.load(std::memory_order_acquire); }
  bool disk_alarm() const { return disk_alarm_.load(std::memory_order_acquire); }
  bool any() const { return memory_alarm() || disk_alarm(); }
  uint64_t memory_used() const { return memory_used_.load(std::memory_order_relaxed); }
  uint64_t memory_limit() const;
  uint64_t disk_free() const { return disk_free_.load(std::memory_order_relaxed); }
  uint64_t disk_free_limit() const;

  // rabbitmqctl set_vm_memory_high_watermark: a fraction, or absolute bytes (non-zero).
  void set_memory_watermark(double fraction);
  void set_memory_limit(uint64_t bytes);
  void set_disk_free_limit(uint64_t bytes);

  // `listener(memory, disk)` runs on the monitor thread whenever an alarm is raised or
  // cleared. Returns an id for unsubscribe.
  using Listener = std::function<void(bool memory, bool disk)>;
  uint64_t subscribe(Listener listener);
  void unsubscribe(uint64_t id);

  // Samples now and notifies listeners of a change (tests; the limits' setters call it).
  void check_now();

 private:
  void run();

  mutable std::mutex mu_;
  AlarmOptions options_ GUARDED_BY(mu_);
  std::map<uint64_t, Listener> listeners_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  bool stop_ GUARDED_BY(mu_) = false;
  std::condition_variable cv_;
  std::mutex check_mu_;  // one check at a time, so notifications keep their order
  std::atomic<bool> memory_alarm_{false};
  std::atomic<bool> disk_alarm_{false};
  std::atomic<uint64_t> memory_used_{0};
  std::atomic<uint64_t> disk_free_{0};
  uint64_t physical_memory_ = 0;
  std::thread thread_;
};

}  // namespace burrow::server
