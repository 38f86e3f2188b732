// PackLog: a FIFO of packed messages (broker/message_pack.h) in 64 KiB chunks, so a deep
// backlog costs its bytes and nothing per message for allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string_view>

namespace burrow::broker {

// Not thread-safe (a queue's lock guards it). Records are read and removed at the front only.
class PackLog {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  // Bytes held in chunks (allocated, including the consumed and unused parts).
  size_t allocated_bytes() const { return allocated_; }

  void push_back(std::string_view record) {
    const size_t need = sizeof(uint32_t) + record.size();
    if (chunks_.empty() || chunks_.back().capacity - chunks_.back().end < need) {
      // An emptied chunk kept for reuse is too small for this record: front() must never
      // read a chunk without records, so it goes.
      if (count_ == 0) clear();
      const size_t capacity = need > kChunkBytes ? need : kChunkBytes;
      chunks_.push_back(Chunk{std::make_unique_for_overwrite<char[]>(capacity), capacity, 0});
      allocated_ += capacity;
    }
    Chunk& c = chunks_.back();
    // Records are packed messages, whose bodies are far below 4 GiB (max_message_size).
    const auto size = static_cast<uint32_t>(record.size());
    std::memcpy(c.data.get() + c.end, &size, sizeof size);
    std::memcpy(c.data.get() + c.end + sizeof size, record.data(), record.size());
    c.end += need;
    ++count_;
  }

  // The first record. Not empty().
  std::string_view front() const {
    const Chunk& c = chunks_.front();
    uint32_t size = 0;
    std::memcpy(&size, c.data.get() + head_, sizeof size);
    return {c.data.get() + head_ + sizeof size, size};
  }

  void pop_front() {
    Chunk& c = chunks_.front();
    uint32_t size = 0;
    std::memcpy(&size, c.data.get() + head_, sizeof size);
    head_ += sizeof size + size;
    --count_;
    if (head_ < c.end) return;
    head_ = 0;
    if (chunks_.size() > 1) {
      allocated_ -= c.capacity;
      chunks_.pop_front();
    } else if (c.capacity == kChunkBytes) {
      c.end = 0;  // the only chunk, now empty: written from its start again
    } else {
      clear();  // an oversized chunk is not kept
    }
  }

  void clear() {
    chunks_.clear();
    head_ = 0;
    count_ = 0;
    allocated_ = 0;
  }

 private:
  static constexpr size_t kChunkBytes = 64 * 1024;
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
    size_t end = 0;  // bytes written
  };
  std::deque<Chunk> chunks_;
  size_t head_ = 0;  // read offset in chunks_.front()
  size_t count_ = 0;
  size_t allocated_ = 0;
};

}  // namespace burrow::broker
