// ResourceAlarms: samples /proc/self/statm and statvfs(data dir) on a thread.
#include "server/resource_alarms.h"
#include "base/logging.h"
#include "server/process_stats.h"

#include <unistd.h>

#include <fstream>
#include <vector>

#include <spdlog/spdlog.h>

namespace burrow::server {

namespace {
spdlog::logger& logger() { return module_logger("alarm"); }
}  // namespace

ResourceAlarms::ResourceAlarms(AlarmOptions options) : options_(std::move(options)) {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  physical_memory_ =
      pages > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

ResourceAlarms::~ResourceAlarms() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ResourceAlarms::start() {
  check_now();
  thread_ = std::thread([this] { run(); });
}

uint64_t ResourceAlarms::memory_limit() const {
  std::lock_guard lock(mu_);
  if (options_.memory_limit_bytes != 0) return options_.memory_limit_bytes;
  return static_cast<uint64_t>(static_cast<double>(physical_memory_) *
                               options_.memory_high_watermark);
}

uint64_t ResourceAlarms::disk_free_limit() const {
  std::lock_guard lock(mu_);
  return options_.disk_free_limit_bytes;
}

void ResourceAlarms::set_memory_watermark(double fraction) {
  {
    std::lock_guard lock(mu_);
    options_.memory_high_watermark = fraction;
    options_.memory_limit_bytes = 0;
  }
  check_now();
}

void ResourceAlarms::set_memory_limit(uint64_t bytes) {
  {
    std::lock_guard lock(mu_);
    options_.memory_limit_bytes = bytes;
  }
  check_now();
}

void ResourceAlarms::set_disk_free_limit(uint64_t bytes) {
  {
    std::lock_guard lock(mu_);
    options_.disk_free_limit_bytes = bytes;
  }
  check_now();
}

uint64_t ResourceAlarms::subscribe(Listener listener) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void ResourceAlarms::unsubscribe(uint64_t id) {
  std::lock_guard lock(mu_);
  listeners_.erase(id);
}

void ResourceAlarms::check_now() {
  std::lock_guard check(check_mu_);
  const uint64_t used = resident_memory_bytes();
  memory_used_.store(used, std::memory_order_relaxed);
  const uint64_t limit = memory_limit();
  const bool memory = limit != 0 && used > limit;
  std::string path;
  uint64_t disk_limit = 0;
  {
    std::lock_guard lock(mu_);
    path = options_.disk_path;
    disk_limit = options_.disk_free_limit_bytes;
  }
  bool disk = false;
  if (auto free = disk_free_bytes(path)) {
    disk_free_.store(*free, std::memory_order_relaxed);
    disk = *free < disk_limit;
  }
  const bool memory_changed = memory_alarm_.exchange(memory) != memory;
  const bool disk_changed = disk_alarm_.exchange(disk) != disk;
  if (!memory_changed && !disk_changed) return;
  // Logged as RabbitMQ's rabbit_alarm does.
  if (memory_changed) {
    if (memory) {
      logger().warn(
          "memory resource limit alarm set on node {}: {} bytes used, limit {}. "
          "Publishers will be blocked until this alarm clears",
          "burrow", used, limit);
    } else {
      logger().info("memory resource limit alarm cleared: {} bytes used, limit {}", used, limit);
    }
  }
  if (disk_changed) {
    if (disk) {
      logger().warn(
          "disk resource limit alarm set: free disk space is below {} bytes. "
          "Publishers will be blocked until this alarm clears",
          disk_limit);
    } else {
      logger().info("disk resource limit alarm cleared");
    }
  }
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(mu_);
    for (const auto& [_, l] : listeners_) listeners.push_back(l);
  }
  for (const auto& l : listeners) l(memory, disk);
}

void ResourceAlarms::run() {
  while (true) {
    int interval = 0;
    {
      std::unique_lock lock(mu_);
      interval = options_.interval_ms;
      if (cv_.wait_for(lock, std::chrono::milliseconds(interval), [&] { return stop_; })) return;
    }
    check_now();
  }
}

}  // namespace burrow::server
