// Publisher-confirm bookkeeping for one channel: records each confirmed-mode publish and
// emits acks and nacks in sequence order, coalescing runs of acks into one multiple-ack.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "base/thread_annotations.h"

namespace burrow::broker {

// Thread-safe: publishes come from the channel's owner, resolutions may come from the store's
// writer thread (a persistent message is confirmed once durable).
class ConfirmTracker {
 public:
  // (seq, multiple, ack): one basic.ack or basic.nack to send.
  using Emit = std::function<void(uint64_t, bool, bool)>;

  // The sequence number of the next publish (1, 2, ...), recorded as unresolved.
  uint64_t next();
  // Resolves `seq` as acked or nacked.
  void resolve(uint64_t seq, bool ack);
  // Emits every resolution that no unresolved earlier publish holds back.
  void flush(const Emit& emit);
  // True if flush() has something to emit.
  bool ready() const;

 private:
  enum class State : uint8_t { kPending, kAck, kNack };
  mutable std::mutex mu_;
  uint64_t next_seq_ GUARDED_BY(mu_) = 1;
  uint64_t first_seq_ GUARDED_BY(mu_) = 1;  // seq of states_.front()
  std::deque<State> states_ GUARDED_BY(mu_);
};

}  // namespace burrow::broker
