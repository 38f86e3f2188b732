// Consumer: the delivery callback (latency, tracking, acks every -A) and an orderly stop.
#include "bench/perf/consumer.h"

#include "bench/perf/payload.h"

namespace burrow::perf {

namespace amqp = burrow::client::amqp;

Consumer::Consumer(int id, const PerfFlags& flags, amqp::ConnectionOptions options,
                   const Topology& topology, std::atomic<uint64_t>& group_received,
                   uint64_t run_start_ns)
    : id_(id),
      flags_(flags),
      options_(std::move(options)),
      topology_(topology),
      group_received_(group_received),
      run_start_ns_(run_start_ns),
      tracker_(static_cast<size_t>(flags.producers)) {}

Status Consumer::connect() {
  auto conn = amqp::ClientConnection::connect(options_);
  if (!conn.ok()) return conn.status();
  conn_ = std::move(*conn);
  auto ch = conn_->open_channel();
  if (!ch.ok()) return ch.status();
  ch_ = std::move(*ch);
  if (!flags_.auto_ack && flags_.prefetch > 0) {
    if (Status s = ch_->qos(flags_.prefetch); !s.ok()) return s;
  }
  auto queue = topology_.consumer_queue(*ch_, id_);
  if (!queue.ok()) return queue.status();
  queue_ = std::move(*queue);
  return Status();
}

Status Consumer::start() {
  amqp::ConsumeOptions o;
  o.no_ack = flags_.auto_ack;
  auto tag = ch_->consume(
      queue_, [this](const amqp::Delivery& d) { on_delivery(d); }, o);
  if (!tag.ok()) return tag.status();
  tag_ = std::move(*tag);
  return Status();
}

void Consumer::on_delivery(const amqp::Delivery& d) {
  const uint64_t now = now_ns();
  auto h = read_header(d.body);
  if (h && h->sent_ns >= run_start_ns_) {
    latency_us_.record(now > h->sent_ns ? (now - h->sent_ns) / 1000 : 0);
    tracker_.mark(h->producer, h->sequence);
    received_.store(received_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    group_received_.fetch_add(1, std::memory_order_relaxed);
  } else {
    stale_.store(stale_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  last_ns_.store(now, std::memory_order_relaxed);
  if (flags_.auto_ack) return;
  last_tag_ = d.delivery_tag;
  if (flags_.multi_ack > 0) {
    if (++unacked_ >= flags_.multi_ack) {
      ch_->ack(d.delivery_tag, true).ignore_error();
      unacked_ = 0;
    }
  } else {
    ch_->ack(d.delivery_tag).ignore_error();
  }
}

void Consumer::stop() {
  if (!conn_) return;
  if (ch_ && !tag_.empty()) {
    // After cancel-ok no delivery is in flight, so unacked_ and last_tag_ are stable.
    Status s = ch_->cancel(tag_);
    if (s.ok() && unacked_ > 0) ch_->ack(last_tag_, true).ignore_error();
  }
  if (error_.ok() && ch_ && !ch_->status().ok()) error_ = ch_->status();
  if (error_.ok() && !conn_->status().ok()) error_ = conn_->status();
  ch_.reset();
  conn_->close().ignore_error();
  conn_.reset();
}

}  // namespace burrow::perf
