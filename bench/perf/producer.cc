// Producer: the publishing loop (rate pacing, confirm window) and confirm bookkeeping.
#include "bench/perf/producer.h"

#include <algorithm>
#include <bit>
#include <thread>

#include "bench/perf/payload.h"

namespace burrow::perf {

namespace amqp = burrow::client::amqp;
using SteadyClock = std::chrono::steady_clock;

Producer::Producer(uint16_t id, const PerfFlags& flags, amqp::ConnectionOptions options,
                   Route route)
    : id_(id), flags_(flags), options_(std::move(options)), route_(std::move(route)) {
  if (flags.confirm > 0) {
    const size_t ring = std::bit_ceil(size_t{flags.confirm} * 2);
    ring_seq_ = std::vector<std::atomic<uint64_t>>(ring);
    ring_ns_ = std::vector<std::atomic<uint64_t>>(ring);
  }
}

Status Producer::connect() {
  auto conn = amqp::ClientConnection::connect(options_);
  if (!conn.ok()) return conn.status();
  conn_ = std::move(*conn);
  auto ch = conn_->open_channel();
  if (!ch.ok()) return ch.status();
  ch_ = std::move(*ch);
  ch_->set_return_callback([this](const amqp::ReturnedMessage& r) {
    auto h = read_header(r.body);
    if (h && h->producer == id_) excused_.push_back(h->sequence);
  });
  if (flags_.confirm > 0) {
    ch_->set_confirm_callback([this](uint64_t seq, bool ack) { on_confirm(seq, ack); });
    return ch_->confirm_select();
  }
  return Status();
}

void Producer::on_confirm(uint64_t seq, bool ack) {
  const size_t slot = seq & (ring_seq_.size() - 1);
  if (ring_seq_[slot].load(std::memory_order_relaxed) == seq) {
    const uint64_t now = now_ns();
    const uint64_t sent = ring_ns_[slot].load(std::memory_order_relaxed);
    confirm_latency_us_.record(now > sent ? (now - sent) / 1000 : 0);
  }
  if (ack) {
    acked_.fetch_add(1, std::memory_order_relaxed);
  } else {
    excused_.push_back(seq);
    nacked_.fetch_add(1, std::memory_order_relaxed);
  }
  resolved_.fetch_add(1, std::memory_order_release);
}

Status Producer::wait_for_room(uint64_t seq, SteadyClock::time_point deadline,
                               const std::atomic<bool>& stop) {
  const uint64_t window = flags_.confirm;
  while (seq - resolved_.load(std::memory_order_acquire) >= window) {
    Status s = ch_->wait_for_confirms(window - 1, std::chrono::milliseconds(100));
    if (s.ok()) continue;  // the callbacks may lag the tracker by a moment
    if (s.code() != StatusCode::kTimedOut) return s;
    if (stop.load(std::memory_order_relaxed) || SteadyClock::now() >= deadline) {
      return Status(StatusCode::kTimedOut, "stopped while waiting for confirms");
    }
  }
  return Status();
}

void Producer::run(SteadyClock::time_point deadline, const std::atomic<bool>& stop) {
  std::string body(flags_.size, '\0');
  BasicProperties props;
  if (flags_.persistent) props.delivery_mode = 2;
  const auto start = SteadyClock::now();
  uint64_t seq = 0;
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) break;
    if (flags_.count > 0 && seq >= flags_.count) break;
    auto now = SteadyClock::now();
    if (now >= deadline) break;
    if (flags_.rate > 0) {
      const auto due =
          start + std::chrono::duration_cast<SteadyClock::duration>(
                      std::chrono::duration<double>(static_cast<double>(seq) / flags_.rate));
      if (now < due) {
        ch_->flush();
        std::this_thread::sleep_until(std::min(due, deadline));
        continue;
      }
    }
    if (flags_.confirm > 0) {
      Status room = wait_for_room(seq, deadline, stop);
      if (room.code() == StatusCode::kTimedOut) break;
      if (!room.ok()) {
        error_ = room;
        break;
      }
    }
    ++seq;
    const uint64_t ns = now_ns();
    write_header(body, PayloadHeader{id_, seq, ns});
    if (flags_.confirm > 0) {
      const size_t slot = seq & (ring_seq_.size() - 1);
      ring_ns_[slot].store(ns, std::memory_order_relaxed);
      ring_seq_[slot].store(seq, std::memory_order_relaxed);
    }
    auto published =
        ch_->publish(route_.exchange, route_.routing_key, body, props, flags_.mandatory);
    if (!published.ok()) {
      error_ = published.status();
      --seq;
      break;
    }
    sent_.store(seq, std::memory_order_relaxed);
  }
  finished_at_ = SteadyClock::now();
  ch_->flush();
  if (flags_.confirm > 0 && error_.ok()) {
    Status s = ch_->wait_for_confirms(0, std::chrono::seconds(60));
    if (!s.ok()) error_ = s;
    // wait_for_confirms returns when the channel's tracker is done; our callback runs just
    // after it on the reader thread.
    for (int i = 0; i < 1000 && resolved_.load(std::memory_order_acquire) < seq; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

void Producer::close() {
  if (!conn_) return;
  if (ch_) {
    if (error_.ok() && !ch_->status().ok()) error_ = ch_->status();
    ch_.reset();
  }
  if (error_.ok() && !conn_->status().ok()) error_ = conn_->status();
  conn_->close().ignore_error();
  conn_.reset();
}

ProducerOutcome Producer::outcome() const {
  ProducerOutcome o;
  o.producer = id_;
  o.sent = sent();
  o.excused = excused_;
  std::sort(o.excused.begin(), o.excused.end());
  o.excused.erase(std::unique(o.excused.begin(), o.excused.end()), o.excused.end());
  return o;
}

}  // namespace burrow::perf
