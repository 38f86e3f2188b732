// The outbox relay to an upstream AMQP broker (see upstream_relay.h).
#include "client/upstream_relay.h"
#include "base/logging.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include "broker/outbox.h"
#include "client/amqp/channel.h"
#include "storage/kill_point.h"

namespace burrow::client {

namespace {
spdlog::logger& logger() { return module_logger("outbox"); }
}  // namespace

Result<std::unique_ptr<UpstreamRelay>> UpstreamRelay::start(broker::Outbox& outbox,
                                                            std::string name,
                                                            const UpstreamOptions& options) {
  auto parsed = amqp::parse_amqp_uri(options.url);
  if (!parsed.ok()) {
    return invalid_argument("upstream '" + name + "': " + parsed.status().message());
  }
  if (options.window == 0 || options.max_attempts == 0 || options.backoff_base.count() <= 0 ||
      options.backoff_cap < options.backoff_base) {
    return invalid_argument("upstream '" + name +
                            "': window and max_attempts must be positive and "
                            "0 < backoff_base <= backoff_cap");
  }
  amqp::ConnectionOptions connection = *parsed;
  connection.heartbeat_s = options.heartbeat_seconds;
  connection.connect_timeout = options.connect_timeout;
  connection.rpc_timeout = options.connect_timeout;
  connection.connection_name = "burrow outbox relay (" + name + ")";
  return std::unique_ptr<UpstreamRelay>(
      new UpstreamRelay(outbox, std::move(name), options, std::move(connection)));
}

UpstreamRelay::UpstreamRelay(broker::Outbox& outbox, std::string name, UpstreamOptions options,
                             amqp::ConnectionOptions connection)
    : outbox_(outbox),
      name_(std::move(name)),
      options_(std::move(options)),
      policy_{options_.max_attempts, options_.backoff_base, options_.backoff_cap},
      connection_options_(std::move(connection)) {
  outbox_.attach(name_, policy_);
  thread_ = std::thread([this] { run(); });
}

UpstreamRelay::~UpstreamRelay() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  outbox_.wake();
  thread_.join();
  outbox_.detach(name_);
}

void UpstreamRelay::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, delay, [&] { return stop_; });
}

Status UpstreamRelay::connect() {
  auto connection = amqp::ClientConnection::connect(connection_options_);
  if (!connection.ok()) return connection.status();
  auto channel = (*connection)->open_channel();
  if (!channel.ok()) return channel.status();
  if (Status s = (*channel)->confirm_select(); !s.ok()) return s;
  (*channel)->set_return_callback([this](const amqp::ReturnedMessage& m) {
    // The row id is in the x-outbox-seq header the relay added.
    if (m.properties == nullptr || !m.properties->headers) return;
    const FieldValue* seq = m.properties->headers->find("x-outbox-seq");
    auto id = seq ? seq->as_integer() : std::nullopt;
    if (!id) return;
    std::lock_guard lock(mu_);
    returned_.insert(static_cast<uint64_t>(*id));
  });
  (*channel)->set_confirm_callback([this](uint64_t seq, bool ack) {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(seq);
    if (it == in_flight_.end()) return;
    const uint64_t id = it->second;
    in_flight_.erase(it);
    const bool returned = returned_.erase(id) != 0;
    if (!ack) {
      nacked_.push_back(id);
    } else if (returned) {
      refused_.emplace_back(id, "312 NO_ROUTE (returned by the upstream)");
    } else {
      acked_.push_back(id);
    }
    cv_.notify_all();
  });
  connection_ = std::move(*connection);
  channel_ = std::move(*channel);
  next_seq_ = 1;
  logger().info("outbox: relaying to upstream '{}' at {}:{}", name_, connection_options_.host,
                connection_options_.port);
  return Status();
}

void UpstreamRelay::settle_confirms() {
  std::vector<uint64_t> acked;
  std::vector<uint64_t> nacked;
  std::vector<std::pair<uint64_t, std::string>> refused;
  {
    std::lock_guard lock(mu_);
    acked.swap(acked_);
    nacked.swap(nacked_);
    refused.swap(refused_);
  }
  if (!acked.empty()) {
    BURROW_KILL_POINT("relay.after_upstream_confirm");
    outbox_.sent(name_, acked);
    careful_left_ = careful_left_ > acked.size() ? careful_left_ - acked.size() : 0;
  }
  if (!nacked.empty()) outbox_.failed(name_, nacked, "nacked by the upstream broker");
  for (const auto& [id, error] : refused) outbox_.park(name_, id, error);
}

void UpstreamRelay::lost(const Status& why) {
  channel_.reset();
  connection_.reset();  // closes the socket and joins the client's threads: no more callbacks
  settle_confirms();
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [seq, id] : in_flight_) ids.push_back(id);
    in_flight_.clear();
    returned_.clear();
  }
  logger().warn("outbox: upstream '{}' lost ({} rows in flight): {}", name_, ids.size(),
                why.to_string());
  if (ids.empty()) return;
  // Which row caused it is unknown when many were in flight (a 404 for a missing exchange
  // closes the channel for all of them): they go back uncharged and the relay continues one
  // row at a time, so the next failure names its row, which is charged an attempt (and is
  // parked after max_attempts) while its bucket backs off.
  if (careful_left_ > 0) {
    outbox_.failed(name_, ids, why.to_string());
  } else {
    outbox_.release(name_, ids);
  }
  careful_left_ = kCarefulRows;
}

void UpstreamRelay::run() {
  pthread_setname_np(pthread_self(), "burrow-upstream");
  uint32_t failures = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    if (!channel_) {
      if (Status s = connect(); !s.ok()) {
        failures++;
        // An unreachable upstream is not the rows' fault: they wait (no attempt counted, so an
        // outage never parks them) and the relay retries with its own back-off.
        // The first failure and every tenth: a long outage does not flood the log.
        const auto level =
            failures == 1 || failures % 10 == 0 ? spdlog::level::warn : spdlog::level::debug;
        spdlog::log(level, "outbox: cannot connect to upstream '{}' (attempt {}): {}", name_,
                    failures, s.to_string());
        pause(policy_.backoff(failures));
        continue;
      }
      failures = 0;
    }
    settle_confirms();
    if (!channel_->is_open()) {
      failures++;
      lost(channel_->status());
      pause(policy_.backoff(failures));
      continue;
    }
    size_t room = 0;
    {
      std::unique_lock lock(mu_);
      const size_t window = careful_left_ > 0 ? 1 : options_.window;
      if (in_flight_.size() >= window) {
        cv_.wait_for(lock, std::chrono::milliseconds(50),
                     [&] { return stop_ || in_flight_.size() < window || !acked_.empty(); });
        continue;
      }
      room = window - in_flight_.size();
    }
    const bool idle = [&] {
      std::lock_guard lock(mu_);
      return in_flight_.empty();
    }();
    auto rows = outbox_.claim(name_, room, std::chrono::milliseconds(idle ? 100 : 1));
    Status failed;
    size_t published = 0;
    for (const auto& row : rows) {
      {
        std::lock_guard lock(mu_);
        in_flight_[next_seq_] = row.id;
      }
      auto seq =
          channel_->publish(row.exchange, row.routing_key, row.body, row.properties, row.mandatory);
      if (!seq.ok()) {
        std::lock_guard lock(mu_);
        in_flight_.erase(next_seq_);
        failed = seq.status();
        break;
      }
      next_seq_++;
      published++;
    }
    if (!failed.ok()) {
      // The rows not published go back untried.
      std::vector<uint64_t> rest;
      for (size_t k = published; k < rows.size(); ++k) rest.push_back(rows[k].id);
      outbox_.release(name_, rest);
      failures++;
      lost(failed);
      pause(policy_.backoff(failures));
      continue;
    }
    if (published > 0) channel_->flush();
  }
  // Stopping: what is in flight stays in the outbox (claimed rows are released by detach).
  settle_confirms();
  {
    std::lock_guard lock(mu_);
    in_flight_.clear();
  }
  channel_.reset();
  connection_.reset();
}

}  // namespace burrow::client
