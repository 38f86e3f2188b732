// Test-double controls (docs/testing.md): faults a test can inject into the broker's publish
// and acknowledgement paths, and a log of every published message. Both are off unless a test
// turns them on; when off each costs the publish path one relaxed atomic load.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <burrow/clock.h>

#include "base/thread_annotations.h"
#include "broker/stored_message.h"

namespace burrow::broker {

// Faults injected into the core (POST /api/burrow/faults; connection-level faults live in the
// AMQP server). Thread-safe.
class FaultInjector {
 public:
  // The next `count` publishes on channels in confirm mode are not routed and are nacked.
  void nack_publishes(uint64_t count) { nack_publishes_.store(count, std::memory_order_relaxed); }
  // Every publisher confirm waits `ms` of real time before the adapter sends it; 0 = off.
  void delay_confirms(int64_t ms) { delay_confirms_ms_.store(ms, std::memory_order_relaxed); }
  // The next `count` acknowledged deliveries are requeued (redelivered) instead of acked, as
  // if the consumer had crashed before its ack arrived.
  void drop_acks(uint64_t count) { drop_acks_.store(count, std::memory_order_relaxed); }
  void clear() {
    nack_publishes(0);
    delay_confirms(0);
    drop_acks(0);
  }

  uint64_t pending_nack_publishes() const {
    return nack_publishes_.load(std::memory_order_relaxed);
  }
  int64_t confirm_delay_ms() const { return delay_confirms_ms_.load(std::memory_order_relaxed); }
  uint64_t pending_drop_acks() const { return drop_acks_.load(std::memory_order_relaxed); }

  // Takes one from the nack budget; true if this publish is to be nacked.
  bool take_nack_publish() { return take(nack_publishes_); }
  // Takes up to `n` from the drop budget; returns how many acks to drop.
  uint64_t take_drop_acks(uint64_t n);

 private:
  static bool take(std::atomic<uint64_t>& budget);
  std::atomic<uint64_t> nack_publishes_{0};
  std::atomic<int64_t> delay_confirms_ms_{0};
  std::atomic<uint64_t> drop_acks_{0};
};

// One published message as the broker routed it.
struct PublishedRecord {
  uint64_t sequence = 0;    // 1, 2, ... since the log was last cleared
  TimeMs published_at = 0;  // broker clock
  std::string vhost;
  std::string exchange;
  std::string routing_key;
  StoredMessagePtr message;
  std::vector<std::string> queues;  // the queues that accepted it, in routing order
  bool delayed = false;             // held by a delayed-message exchange
};

// The published-message log (burrowd --record). Holds at most `limit` records, dropping the
// oldest. Thread-safe.
class PublishLog {
 public:
  void enable(size_t limit);
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  size_t limit() const;
  void add(PublishedRecord record);
  std::vector<PublishedRecord> snapshot() const;
  // Records dropped to stay within the limit since the last clear.
  uint64_t dropped() const;
  void clear();

 private:
  std::atomic<bool> enabled_{false};
  mutable std::mutex mu_;
  size_t limit_ GUARDED_BY(mu_) = 0;
  uint64_t next_sequence_ GUARDED_BY(mu_) = 1;
  uint64_t dropped_ GUARDED_BY(mu_) = 0;
  std::deque<PublishedRecord> records_ GUARDED_BY(mu_);
};

}  // namespace burrow::broker
