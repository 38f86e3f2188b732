// ConfirmTracker.
#include "broker/confirm_tracker.h"

namespace burrow::broker {

uint64_t ConfirmTracker::next() {
  std::lock_guard lock(mu_);
  states_.push_back(State::kPending);
  return next_seq_++;
}

void ConfirmTracker::resolve(uint64_t seq, bool ack) {
  std::lock_guard lock(mu_);
  if (seq < first_seq_ || seq - first_seq_ >= states_.size()) return;
  states_[seq - first_seq_] = ack ? State::kAck : State::kNack;
}

bool ConfirmTracker::ready() const {
  std::lock_guard lock(mu_);
  return !states_.empty() && states_.front() != State::kPending;
}

void ConfirmTracker::flush(const Emit& emit) {
  // Collect under the lock, emit outside it (emit may take an adapter's output lock).
  struct Out {
    uint64_t seq;
    bool multiple;
    bool ack;
  };
  Out outs[64];
  size_t n_out = 0;
  auto drain = [&] {
    for (size_t i = 0; i < n_out; ++i) emit(outs[i].seq, outs[i].multiple, outs[i].ack);
    n_out = 0;
  };
  while (true) {
    {
      std::lock_guard lock(mu_);
      uint64_t acks = 0;
      while (!states_.empty() && states_.front() != State::kPending && n_out < 62) {
        State s = states_.front();
        uint64_t seq = first_seq_;
        states_.pop_front();
        ++first_seq_;
        if (s == State::kAck) {
          ++acks;
          continue;
        }
        if (acks > 0) outs[n_out++] = Out{seq - 1, acks > 1, true};
        acks = 0;
        outs[n_out++] = Out{seq, false, false};
      }
      if (acks > 0) outs[n_out++] = Out{first_seq_ - 1, acks > 1, true};
    }
    if (n_out == 0) return;
    drain();
  }
}

}  // namespace burrow::broker
