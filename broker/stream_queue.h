// Streams (x-queue-type stream): an append-only log of messages numbered by offset from 0,
// read by consumers that each keep their own position (x-stream-offset), as RabbitMQ 3.10's
// rabbit_stream_queue over osiris on one node. Acks only return prefetch credit; messages
// leave the log by retention alone (x-max-length-bytes, x-max-age), a whole segment at a time.
//
// Storage: every message is written to the queue's key range in the store, one record per
// chunk keyed by its first offset. A chunk is what was appended while the previous chunk was
// being written (osiris batches its writer's mailbox the same way): with one write in flight
// per stream, a flush task on the executor writes everything appended since the last one (in
// chunks of at most kMaxChunk), so a busy publisher pays one store write per chunk, not per
// message. Consumers read only what is stored (below the written mark). Retention deletes a
// segment's offsets with one range tombstone and saves the new first offset as the range's head, so
// recovery seeks straight to it. The newest messages (up to kResidentBytes, less over the broker's
// memory budget) keep their contents in memory; a consumer reading behind them reads batches back
// from the store.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/thread_annotations.h"
#include "broker/persistence.h"
#include "broker/queue.h"

namespace burrow::broker {

// Concurrency: one mutex guards the log and the readers. Publishers append under it; a drain
// task on the executor (at most one per stream) takes each reader's next messages under the
// lock and hands them to its channel outside it, so each consumer sees the log in order.
// Store reads for readers behind the resident window happen in the drain, outside the lock.
class StreamQueue final : public Queue {
 public:
  StreamQueue(QueueSettings settings, QueueArguments arguments, const QueueType& type,
              QueueContext context);

  EnqueueOutcome enqueue(StoredMessagePtr message, const EnqueueOptions& options) override;
  void enqueue_batch(std::span<const StoredMessagePtr> messages, const EnqueueOptions& options,
                     std::span<EnqueueOutcome> outcomes) override;
  // Streams refuse basic.get (QueueType::check_get); this is never reached through a channel.
  Result<std::optional<QueueEntry>> get(bool no_ack, uint32_t& remaining) override;
  // Parses the consumer's x-stream-offset and attaches a reader there. Errors: kNotFound when
  // the stream was deleted; a bare kInternalError for an offset string that is not an
  // interval (RabbitMQ's crash, 541); kPreconditionFailed for other invalid offsets.
  Status add_consumer(ConsumerPtr consumer) override;
  void remove_consumer(const Consumer& consumer) override;
  void settle(std::span<const QueueEntry> entries) override;
  // Never reached (QueueType::check_return refuses nack/reject): treated as settle.
  void discard(std::vector<QueueEntry> entries) override;
  void requeue(std::vector<QueueEntry> entries, bool redelivered,
               const std::function<void()>& release_credit) override;
  void return_undelivered(std::vector<QueueEntry> entries, bool counted_unacked) override;
  void detach(std::span<const Consumer* const> consumers, std::vector<QueueEntry> unacked) override;
  void notify_credit() override;
  void touch() override {}
  // Refused by QueueType::check_purge; a stream keeps its log.
  uint32_t purge() override { return 0; }
  Deleted mark_deleted() override;
  bool deleted() const override;
  // ready = the messages in the log; unacked = delivered and not yet acked.
  QueueCounts counts() const override;
  QueueCounters counters() const override;
  uint64_t queue_id() const override { return context_.queue_id; }

  // Recovery: reads the log's index back from the store (contents stay there until read).
  // `count` is increased by the messages found.
  Status recover(uint64_t& count);

  // Messages whose contents are in memory. For tests.
  size_t resident_count() const;

 private:
  // Where a new reader starts: an offset spec resolved against the log.
  struct OffsetSpec {
    enum class Kind : uint8_t { kFirst, kLast, kNext, kOffset, kTimestamp };
    Kind kind = Kind::kNext;
    int64_t value = 0;  // kOffset: the offset; kTimestamp: ms since the epoch
  };
  // x-stream-offset as rabbit_stream_queue parses it; `now` resolves an interval ("1h").
  // Errors: 406 "invalid arg 'x-stream-offset' for queue 's' in vhost '/':
  // {invalid_stream_offset_arg,{longstr,<<"1x">>}}" for a string with digits and a bad unit;
  // a bare kInternalError (RabbitMQ's crash, 541) for other strings and other types.
  static Result<OffsetSpec> parse_offset(const FieldValue* value, TimeMs now,
                                         std::string_view resource);

  // Bodies kept in memory per stream; older messages are read back from the store.
  static constexpr uint64_t kResidentBytes = 64ull << 20;
  // Charged per message besides its body (the StoredMessage, its properties).
  static constexpr uint64_t kMessageOverhead = 256;
  // Messages one drain pass hands one reader; messages read back from the store at a time
  // for a reader (at most what its prefetch lets it take).
  static constexpr size_t kDrainBatch = 256;
  static constexpr size_t kLoadBatch = 1024;
  // Messages per stored chunk at most: a flush under load splits what it writes.
  static constexpr size_t kMaxChunk = 1024;
  static constexpr int kDrainPasses = 16;
  // RabbitMQ's default x-stream-max-segment-size-bytes.
  static constexpr int64_t kDefaultSegmentBytes = 500'000'000;
  // What retention and segment sizes count, an estimate of osiris' file bytes for a message
  // published on its own: its body, exchange and routing key, 100 for the rest of its AMQP 1.0
  // encoding and 56 for the header of its chunk (counted per message, so the figures do not
  // depend on how appends were grouped into chunks, and a restart counts the same). Each
  // segment after the first starts with a tracking chunk (56 bytes) of one offset that no
  // consumer sees (hence the gaps in a stream's offsets, as in RabbitMQ).
  static constexpr uint64_t kChunkHeaderBytes = 56;
  static constexpr uint64_t kRecordOverheadBytes = 100 + kChunkHeaderBytes;

  struct Slot {
    StoredMessagePtr message;  // null when only in the store
    TimeMs timestamp = 0;      // when it was appended (its chunk's timestamp)
    uint32_t size = 0;         // body bytes
    bool chunk_start = false;
    bool gap = false;  // the offset of a segment's tracking chunk: no message
  };
  // A run of chunks retention deletes as a whole (an osiris segment file).
  struct Segment {
    uint64_t first_offset = 0;
    uint64_t bytes = 0;
    TimeMs last_timestamp = 0;
  };
  struct Reader {
    ConsumerPtr consumer;
    uint64_t next = 0;  // the next offset it receives
  };
  // A reader behind the resident window: the drain reads `from` on back from the store,
  // starting at the chunk keyed `chunk_first`.
  struct Load {
    ConsumerPtr consumer;
    uint64_t chunk_first = 0;
    uint64_t from = 0;
    size_t limit = 0;
  };

  // Appends messages at offsets next_offset_ on, to be stored by the next flush; with
  // options.collect, returns what the caller must write into it once the lock is released.
  struct Taken;
  std::optional<Taken> append_locked(std::span<const StoredMessagePtr> messages,
                                     const EnqueueOptions& options) REQUIRES(mu_);
  // What a flush writes: the messages appended since the last one, in chunks of consecutive
  // offsets (a segment's tracking gap ends a chunk), and the confirms waiting for them.
  struct Taken {
    uint64_t start = 0;  // the offsets [start, end) it completes (gaps included)
    std::vector<StoredMessagePtr> messages;
    std::vector<Persistence::StreamChunk> chunks;  // spans of `messages`
    std::vector<std::shared_ptr<ConfirmGate>> gates;
    uint64_t end = 0;  // the offset after the last message
  };
  Taken take_pending_locked() REQUIRES(mu_);
  // Encodes and submits `taken` in one store write (or, with `collect`, joins that batch).
  void write_taken(Taken& taken, WriteCollector* collect);
  // Posts the flush task unless one is scheduled or a write is in flight.
  void schedule_flush_locked() REQUIRES(mu_);
  // The flush task: writes what was appended since the last take.
  void flush();
  // A write of offsets [start, end) completed (on the executor): moves the written mark,
  // trims, lets readers go on, and starts the next flush (`flushed`: it was the flush's).
  void on_written(uint64_t start, uint64_t end, bool ok, bool flushed);
  // Readers see messages once they are stored (osiris readers see committed chunks only), or
  // at once without a store.
  uint64_t readable_end_locked() const REQUIRES(mu_) {
    return context_.persistence != nullptr ? std::min(written_, next_offset_) : next_offset_;
  }
  // The first offset of the chunk holding `offset` (a stored message).
  uint64_t chunk_first_locked(uint64_t offset) const REQUIRES(mu_);
  // Before a chunk is appended: starts a new segment when the current one is full (its
  // tracking chunk takes an offset), and applies retention then, as osiris does.
  void roll_if_full_locked(TimeMs now) REQUIRES(mu_);
  // Bytes a message counts for retention (kRecordOverheadBytes).
  static uint64_t record_bytes(uint64_t body, const std::string& exchange,
                               const std::string& routing_key) {
    return body + exchange.size() + routing_key.size() + kRecordOverheadBytes;
  }
  // Moves a reader past the gaps at its position.
  void skip_gaps_locked(Reader& reader) const REQUIRES(mu_);
  // Deletes whole segments from the front while the log is over x-max-length-bytes or their
  // newest message is older than x-max-age; never the segment being written.
  void apply_retention_locked(TimeMs now) REQUIRES(mu_);
  // Drops the contents of the oldest resident messages (once stored) while the stream holds
  // more than kResidentBytes or the broker is over its memory budget (--memory-budget-mb,
  // which resident stream messages are charged against as classic queues' are).
  void trim_resident_locked() REQUIRES(mu_);
  // A resident slot's contents are dropped: uncharges them.
  void release_locked(const Slot& slot) REQUIRES(mu_);
  uint64_t resolve_locked(const OffsetSpec& spec) const REQUIRES(mu_);
  const Slot& slot_locked(uint64_t offset) const REQUIRES(mu_) {
    return log_[offset - first_offset_];
  }
  void schedule_drain_locked() REQUIRES(mu_);
  void drain();
  // Reads a lagging reader's next messages from the store and hands over as many as its
  // credit allows (the drain took the first one's credit); false when the read failed.
  bool deliver_loaded(const Load& load);

  const QueueContext context_;
  const uint64_t segment_limit_;

  mutable std::mutex mu_;
  std::deque<Slot> log_ GUARDED_BY(mu_);  // log_[i] holds offset first_offset_ + i
  uint64_t first_offset_ GUARDED_BY(mu_) = 0;
  uint64_t next_offset_ GUARDED_BY(mu_) = 0;
  std::deque<Segment> segments_ GUARDED_BY(mu_);
  uint64_t log_bytes_ GUARDED_BY(mu_) = 0;  // bytes of the segments in the log
  // Messages from resident_from_ on keep their contents; resident_bytes_ is what they hold.
  uint64_t resident_from_ GUARDED_BY(mu_) = 0;
  uint64_t resident_bytes_ GUARDED_BY(mu_) = 0;
  std::vector<Reader> readers_ GUARDED_BY(mu_);
  uint32_t unacked_ GUARDED_BY(mu_) = 0;
  QueueCounters counters_ GUARDED_BY(mu_);
  bool drain_scheduled_ GUARDED_BY(mu_) = false;
  // Appended, not yet handed to the store: (offset, message), and the confirms waiting.
  std::vector<std::pair<uint64_t, StoredMessagePtr>> pending_ GUARDED_BY(mu_);
  std::vector<std::shared_ptr<ConfirmGate>> pending_gates_ GUARDED_BY(mu_);
  bool flush_scheduled_ GUARDED_BY(mu_) = false;
  bool write_in_flight_ GUARDED_BY(mu_) = false;
  uint64_t taken_until_ GUARDED_BY(mu_) = 0;  // the end of the last take
  // Every offset below written_ is stored; completed_ holds writes that completed beyond it.
  uint64_t written_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, uint64_t> completed_ GUARDED_BY(mu_);
  // A drain was asked for while one was scheduled or running.
  bool drain_requested_ GUARDED_BY(mu_) = false;
  bool deleted_ GUARDED_BY(mu_) = false;
};

}  // namespace burrow::broker
