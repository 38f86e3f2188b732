// The bytes waiting to go out on one AMQP connection. The connection's own thread and the
// broker's delivery threads append frames; the socket writer takes them in one batch.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

#include "base/thread_annotations.h"

namespace burrow::server {

// Thread-safe. Appending wakes the writer once; the writer keeps taking until the buffer is
// empty, so many frames share one socket write.
class OutputBuffer {
 public:
  // `wake` is called (outside the lock) when data arrives and no writer is active. The owner
  // then calls take() until it returns false.
  explicit OutputBuffer(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Runs `append(std::string&)` under the lock to add frames.
  template <typename F>
  void write(F&& append) {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      append(buffer_);
      if (!writer_active_ && !buffer_.empty()) {
        writer_active_ = true;
        wake = true;
      }
    }
    if (wake) wake_();
  }

  // Swaps the pending bytes into `out` (which should be empty). Returns false, and marks the
  // writer inactive, when there is nothing to write.
  bool take(std::string& out) {
    std::lock_guard lock(mu_);
    if (buffer_.empty()) {
      writer_active_ = false;
      return false;
    }
    out.swap(buffer_);
    return true;
  }

  size_t pending_bytes() const {
    std::lock_guard lock(mu_);
    return buffer_.size();
  }

  // Drops pending output and ignores later writes (the socket is gone).
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
  }

 private:
  const std::function<void()> wake_;
  mutable std::mutex mu_;
  std::string buffer_ GUARDED_BY(mu_);
  bool writer_active_ GUARDED_BY(mu_) = false;
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace burrow::server
