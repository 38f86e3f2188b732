// A subscription of one channel to one queue (basic.consume), and the prefetch accounting
// that decides whether it may take another message.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <burrow/field_table.h>

namespace burrow::broker {

class Channel;
class Queue;

// The channel-wide prefetch limit (basic.qos global=true), shared by all of a channel's
// consumers. Thread-safe (lock-free): queues on different threads take credit concurrently.
class ChannelCredit {
 public:
  // 0 = unlimited.
  void set_limit(uint32_t limit) { limit_.store(limit, std::memory_order_relaxed); }
  uint32_t limit() const { return limit_.load(std::memory_order_relaxed); }
  // Takes one unit if the limit allows it.
  bool try_acquire();
  // Counts an unacked message without checking the limit (basic.get).
  void acquire() { used_.fetch_add(1, std::memory_order_relaxed); }
  void release(uint32_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> limit_{0};
  std::atomic<uint32_t> used_{0};
};

struct ConsumerSettings {
  std::string tag;
  bool no_ack = false;
  bool exclusive = false;
  int32_t priority = 0;   // x-priority
  uint32_t prefetch = 0;  // per-consumer limit fixed at consume time (0 = unlimited)
  FieldTable arguments;
};

// Shared by its queue (which picks consumers to deliver to) and its channel (which tracks
// its deliveries). Thread-safe: settings are immutable; counters are atomic.
class Consumer {
 public:
  Consumer(ConsumerSettings settings, std::shared_ptr<Channel> channel,
           std::shared_ptr<Queue> queue, ChannelCredit* channel_credit)
      : settings_(std::move(settings)),
        channel_(std::move(channel)),
        queue_(std::move(queue)),
        channel_credit_(channel_credit) {}

  const ConsumerSettings& settings() const { return settings_; }
  const std::string& tag() const { return settings_.tag; }
  bool no_ack() const { return settings_.no_ack; }
  Channel& channel() const { return *channel_; }
  const std::shared_ptr<Queue>& queue() const { return queue_; }

  // Called by the queue before handing over one message. Only the consumer's queue calls
  // it, from one drain at a time.
  bool try_take_credit();
  // Returns credit for `n` messages acked, rejected or requeued.
  void release_credit(uint32_t n);
  uint32_t unacked() const { return unacked_.load(std::memory_order_relaxed); }

  // Set once the consumer is cancelled; deliveries racing with the cancel go back to the
  // queue instead of to the channel.
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  void mark_cancelled() { cancelled_.store(true, std::memory_order_release); }

 private:
  const ConsumerSettings settings_;
  const std::shared_ptr<Channel> channel_;
  const std::shared_ptr<Queue> queue_;
  ChannelCredit* const channel_credit_;  // owned by the channel, which this keeps alive
  std::atomic<uint32_t> unacked_{0};
  std::atomic<bool> cancelled_{false};
};

using ConsumerPtr = std::shared_ptr<Consumer>;

}  // namespace burrow::broker
