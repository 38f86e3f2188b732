// Runner: the phases of a run and the final verdict.
#include "bench/perf/runner.h"

#include <algorithm>
#include <iostream>
#include <thread>

#include "bench/perf/payload.h"

namespace burrow::perf {

namespace amqp = burrow::client::amqp;

Runner::Runner(const PerfFlags& flags, amqp::ConnectionOptions base)
    : flags_(flags),
      base_(std::move(base)),
      topology_(flags),
      group_received_(topology_.groups()) {}

amqp::ConnectionOptions Runner::options_for(const char* role, int index) const {
  amqp::ConnectionOptions o = base_;
  o.connection_name = std::string("burrow-perf-") + role + "-" + std::to_string(index);
  return o;
}

Status Runner::setup() {
  auto conn = amqp::ClientConnection::connect(options_for("setup", 0));
  if (!conn.ok()) return conn.status();
  auto ch = (*conn)->open_channel();
  if (!ch.ok()) return ch.status();
  if (Status s = topology_.declare(**ch); !s.ok()) return s;
  (*ch)->close().ignore_error();
  return (*conn)->close();
}

Runner::Sample Runner::sample() const {
  Sample s;
  s.at = Clock::now();
  for (const auto& p : producers_) {
    s.sent += p->sent();
    s.confirm_us.add(p->confirm_latency_us().snapshot());
  }
  for (const auto& c : consumers_) {
    s.received += c->received();
    s.latency_us.add(c->latency_us().snapshot());
  }
  return s;
}

void Runner::print_progress(Sample& previous, Clock::time_point t0) {
  Sample now = sample();
  const double dt = std::chrono::duration<double>(now.at - previous.at).count();
  if (!flags_.quiet && dt > 0) {
    Progress p;
    p.elapsed_s = std::chrono::duration<double>(now.at - t0).count();
    p.send_rate = static_cast<double>(now.sent - previous.sent) / dt;
    p.receive_rate = static_cast<double>(now.received - previous.received) / dt;
    p.confirms = flags_.confirm > 0;
    HistogramSnapshot confirm = now.confirm_us.minus(previous.confirm_us);
    HistogramSnapshot latency = now.latency_us.minus(previous.latency_us);
    p.confirm_us = {confirm.percentile(50), confirm.percentile(99)};
    p.latency_us = {latency.percentile(50), latency.percentile(99)};
    std::cerr << format_progress(p) << std::endl;
  }
  previous = std::move(now);
}

bool Runner::drained(const std::vector<uint64_t>& expected) const {
  for (size_t g = 0; g < expected.size(); ++g) {
    if (group_received_[g].load(std::memory_order_relaxed) < expected[g]) return false;
  }
  return true;
}

int Runner::run(const std::atomic<bool>& interrupted) {
  if (Status s = setup(); !s.ok()) {
    std::cerr << "burrow-perf: setup failed: " << s.to_string() << "\n";
    return 2;
  }
  run_start_ns_ = now_ns();
  for (int j = 0; j < flags_.consumers; ++j) {
    const int group = topology_.consumer_group(j);
    consumers_.push_back(std::make_unique<Consumer>(
        j, flags_, options_for("consumer", j), topology_, group_received_[group], run_start_ns_));
    Status s = consumers_.back()->connect();
    if (s.ok() && !flags_.backlog) s = consumers_.back()->start();
    if (!s.ok()) {
      std::cerr << "burrow-perf: consumer " << j << ": " << s.to_string() << "\n";
      return 2;
    }
  }
  for (int i = 0; i < flags_.producers; ++i) {
    producers_.push_back(std::make_unique<Producer>(
        static_cast<uint16_t>(i), flags_, options_for("producer", i), topology_.producer_route(i)));
    if (Status s = producers_.back()->connect(); !s.ok()) {
      std::cerr << "burrow-perf: producer " << i << ": " << s.to_string() << "\n";
      return 2;
    }
  }

  // Produce.
  const auto interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(flags_.interval_s));
  const Clock::time_point t0 = Clock::now();
  const Clock::time_point deadline =
      flags_.duration_s > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(flags_.duration_s))
                            : Clock::time_point::max();
  std::atomic<int> producing{static_cast<int>(producers_.size())};
  std::vector<std::thread> threads;
  for (auto& p : producers_) {
    threads.emplace_back([&, p = p.get()] {
      p->run(deadline, interrupted);
      p->close();
      producing.fetch_sub(1);
    });
  }
  Sample previous = sample();
  Clock::time_point next_tick = t0 + interval;
  // Without producers (-x 0) the consumers run until -z or Ctrl-C, as in PerfTest.
  auto running = [&] {
    if (!producers_.empty()) return producing.load() > 0;
    return Clock::now() < deadline && !interrupted.load();
  };
  while (running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (Clock::now() >= next_tick) {
      print_progress(previous, t0);
      next_tick += interval;
    }
  }
  for (auto& t : threads) t.join();
  Clock::time_point producers_end = t0;
  for (const auto& p : producers_) producers_end = std::max(producers_end, p->finished_at());

  // Drain: every queue with consumers must receive what its producers sent, minus what the
  // broker nacked or returned.
  Clock::time_point consume_start = t0;
  if (flags_.backlog) {
    consume_start = Clock::now();
    for (auto& c : consumers_) {
      if (Status s = c->start(); !s.ok()) {
        std::cerr << "burrow-perf: consumer: " << s.to_string() << "\n";
        return 2;
      }
    }
  }
  std::vector<uint64_t> expected(group_received_.size(), 0);
  std::vector<bool> consumed(group_received_.size(), false);
  for (int j = 0; j < flags_.consumers; ++j) consumed[topology_.consumer_group(j)] = true;
  for (size_t g = 0; g < expected.size(); ++g) {
    if (!consumed[g]) continue;
    for (int p : topology_.producers_of_group(static_cast<int>(g))) {
      ProducerOutcome o = producers_[p]->outcome();
      expected[g] += o.sent - o.excused.size();
    }
  }
  const auto drain_timeout = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(flags_.drain_timeout_s));
  uint64_t last_received = sample().received;
  Clock::time_point last_change = Clock::now();
  while (!drained(expected)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto now = Clock::now();
    uint64_t received = 0;
    for (const auto& c : consumers_) received += c->received();
    if (received != last_received) {
      last_received = received;
      last_change = now;
    } else if (now - last_change > drain_timeout) {
      break;
    }
    if (now >= next_tick) {
      print_progress(previous, t0);
      next_tick += interval;
    }
  }
  for (auto& c : consumers_) c->stop();

  Summary summary = summarize(t0, producers_end, consume_start);
  std::cout << format_summary(summary) << std::endl;
  if (!summary.error.empty()) return 2;
  return summary.lost + summary.duplicated > 0 ? 1 : 0;
}

Summary Runner::summarize(Clock::time_point t0, Clock::time_point producers_end,
                          Clock::time_point consume_start) {
  Summary s;
  Sample totals = sample();
  s.sent = totals.sent;
  s.received = totals.received;
  for (const auto& p : producers_) {
    s.confirmed += p->acked();
    s.nacked += p->nacked();
    if (s.error.empty() && !p->error().ok()) s.error = "producer: " + p->error().to_string();
  }
  uint64_t last_ns = 0;
  uint64_t stale = 0;
  for (const auto& c : consumers_) {
    last_ns = std::max(last_ns, c->last_delivery_ns());
    stale += c->stale();
    if (s.error.empty() && !c->error().ok()) s.error = "consumer: " + c->error().to_string();
  }
  if (stale > 0) std::cerr << "burrow-perf: ignored " << stale << " messages of earlier runs\n";

  // Loss and duplicates, queue by queue.
  std::vector<ProducerOutcome> outcomes;
  for (const auto& p : producers_) outcomes.push_back(p->outcome());
  for (int g = 0; g < topology_.groups(); ++g) {
    std::vector<const SeqTracker*> trackers;
    for (int j = 0; j < flags_.consumers; ++j) {
      if (topology_.consumer_group(j) == g) trackers.push_back(&consumers_[j]->tracker());
    }
    if (trackers.empty()) continue;
    std::vector<ProducerOutcome> feeding;
    for (int p : topology_.producers_of_group(g)) feeding.push_back(outcomes[p]);
    QueueVerdict v = judge_queue(trackers, feeding);
    s.lost += v.lost;
    s.duplicated += v.duplicated;
  }

  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  const Clock::time_point last_delivery =
      last_ns == 0 ? consume_start
                   : Clock::time_point(std::chrono::duration_cast<Clock::duration>(
                         std::chrono::nanoseconds(last_ns)));
  s.duration_s = seconds(std::max(producers_end, last_delivery) - t0);
  const double produce_s = seconds(producers_end - t0);
  const double consume_s = seconds(last_delivery - consume_start);
  s.send_rate = produce_s > 0 ? static_cast<double>(s.sent) / produce_s : 0;
  s.receive_rate = consume_s > 0 ? static_cast<double>(s.received) / consume_s : 0;
  s.confirm_latency_us = {totals.confirm_us.percentile(50), totals.confirm_us.percentile(99)};
  s.latency_us = {totals.latency_us.percentile(50), totals.latency_us.percentile(99)};
  return s;
}

}  // namespace burrow::perf
