// Test harness for the broker unit tests: a real in-memory BrokerCore, channels whose
// ChannelSink records everything (thread-safely, with waits for N events), and helpers to
// publish and read messages.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <burrow/clock.h>
#include <burrow/field_table.h>
#include <burrow/options.h>
#include <burrow/status.h>
#include <gtest/gtest.h>

#include "broker/broker_core.h"
#include "broker/channel.h"
#include "broker/worker_pool.h"

namespace burrow {
// Readable StatusCode values in assertion failures ("NOT_FOUND (404)").
inline void PrintTo(StatusCode code, std::ostream* os) {
  *os << status_code_name(code) << " (" << static_cast<int>(code) << ")";
}
// Readable field values and tables in assertion failures.
inline void PrintTo(const FieldValue& value, std::ostream* os) { *os << to_string(value); }
inline void PrintTo(const FieldTable& table, std::ostream* os) { *os << to_string(table); }
}  // namespace burrow

namespace burrow::broker::testing {

// How long a test waits for something that must happen. Generous: sanitizer builds are slow.
inline constexpr std::chrono::milliseconds kWaitTimeout{15000};
// How long a test watches for something that must not happen.
inline constexpr std::chrono::milliseconds kQuietPeriod{100};

inline Status status_of(const Status& s) { return s; }
template <typename T>
Status status_of(const Result<T>& r) {
  return r.status();
}

// Assertions that a Status or Result<T> is OK; they accept `<< message` like any gtest
// assertion and evaluate their argument once.
template <typename T>
::testing::AssertionResult IsOk(const char* expr_text, const T& value) {
  Status s = status_of(value);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr_text << " failed: " << s.to_string();
}
#define ASSERT_OK(...) ASSERT_PRED_FORMAT1(::burrow::broker::testing::IsOk, (__VA_ARGS__))
#define EXPECT_OK(...) EXPECT_PRED_FORMAT1(::burrow::broker::testing::IsOk, (__VA_ARGS__))

// Records what a channel tells its adapter. Thread-safe: deliveries and cancels arrive on
// worker threads. Every callback also appends a line to events() so tests can check order.
class RecordingSink final : public ChannelSink {
 public:
  struct Delivery {
    std::string consumer_tag;
    uint64_t delivery_tag = 0;
    bool redelivered = false;
    StoredMessagePtr message;
    const std::string& body() const { return message->message.body; }
  };
  struct Return {
    uint16_t reply_code = 0;
    std::string reply_text;
    Message message;
  };
  struct Confirm {
    uint64_t seq = 0;
    bool multiple = false;
    bool ack = false;
    friend bool operator==(const Confirm&, const Confirm&) = default;
    friend void PrintTo(const Confirm& c, std::ostream* os) {
      *os << "{" << c.seq << (c.multiple ? ",multiple" : "") << (c.ack ? ",ack}" : ",nack}");
    }
  };

  void on_deliver(const std::string& consumer_tag, uint64_t delivery_tag,
                  const QueueEntry& entry) override {
    std::lock_guard lock(mu_);
    deliveries_.push_back(Delivery{consumer_tag, delivery_tag, entry.redelivered, entry.message});
    events_.push_back("deliver:" + entry.message->message.body);
    cv_.notify_all();
  }
  void on_return(uint16_t reply_code, std::string_view reply_text,
                 const StoredMessage& message) override {
    std::lock_guard lock(mu_);
    returns_.push_back(Return{reply_code, std::string(reply_text), message.message});
    events_.push_back("return:" + std::to_string(reply_code) + ":" + std::string(reply_text) + ":" +
                      message.message.body);
    cv_.notify_all();
  }
  void on_confirm(uint64_t seq, bool multiple, bool ack) override {
    std::lock_guard lock(mu_);
    confirms_.push_back(Confirm{seq, multiple, ack});
    events_.push_back("confirm:" + std::to_string(seq) + (multiple ? ":multiple" : "") +
                      (ack ? ":ack" : ":nack"));
    cv_.notify_all();
  }
  void on_cancel(const std::string& consumer_tag) override {
    std::lock_guard lock(mu_);
    cancels_.push_back(consumer_tag);
    events_.push_back("cancel:" + consumer_tag);
    cv_.notify_all();
  }
  void on_error(const Status& error) override {
    std::lock_guard lock(mu_);
    errors_.push_back(error);
    events_.push_back("error:" + error.message());
    cv_.notify_all();
  }
  // Adds a line to events() (e.g. from a consume-ok callback).
  void note(std::string event) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
    cv_.notify_all();
  }

  // Waits until at least `n` deliveries arrived; false on timeout.
  bool wait_for_deliveries(size_t n, std::chrono::milliseconds timeout = kWaitTimeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return deliveries_.size() >= n; });
  }
  bool wait_for_cancels(size_t n, std::chrono::milliseconds timeout = kWaitTimeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return cancels_.size() >= n; });
  }
  bool wait_for_returns(size_t n, std::chrono::milliseconds timeout = kWaitTimeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return returns_.size() >= n; });
  }
  // Watches for kQuietPeriod: true if no more than `n` deliveries arrived meanwhile.
  bool stays_at(size_t n) { return !wait_for_deliveries(n + 1, kQuietPeriod); }

  size_t delivery_count() const {
    std::lock_guard lock(mu_);
    return deliveries_.size();
  }
  std::vector<Delivery> deliveries() const {
    std::lock_guard lock(mu_);
    return deliveries_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& d : deliveries_) out.push_back(d.body());
    return out;
  }
  std::vector<Return> returns() const {
    std::lock_guard lock(mu_);
    return returns_;
  }
  std::vector<Confirm> confirms() const {
    std::lock_guard lock(mu_);
    return confirms_;
  }
  std::vector<std::string> cancels() const {
    std::lock_guard lock(mu_);
    return cancels_;
  }
  std::vector<std::string> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // What on_error was told (the broker closing the channel on its own).
  std::vector<Status> errors() const {
    std::lock_guard lock(mu_);
    return errors_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Delivery> deliveries_;
  std::vector<Return> returns_;
  std::vector<Confirm> confirms_;
  std::vector<std::string> cancels_;
  std::vector<Status> errors_;
  std::vector<std::string> events_;
};

// A broker channel and the sink it reports to.
struct TestChannel {
  std::unique_ptr<RecordingSink> sink;
  ChannelPtr channel;
  Channel* operator->() const { return channel.get(); }
  Channel& operator*() const { return *channel; }
};

// A real BrokerCore (in memory, two worker threads) with one default connection. Closes every
// channel and connection it opened before stopping the core, so nothing leaks.
class TestBroker {
 public:
  static Options default_options() {
    Options options;
    options.in_memory = true;
    options.worker_threads = 2;
    return options;
  }

  // Default options on `clock`, which must outlive the broker: time then moves only through
  // advance() (declare the clock before the broker).
  static Options manual_clock_options(ManualClock& clock) {
    Options options = default_options();
    options.clock = &clock;
    return options;
  }

  explicit TestBroker(const Options& options = default_options()) {
    auto core = BrokerCore::open(options);
    if (!core.ok()) {
      ADD_FAILURE() << "BrokerCore::open: " << core.status().to_string();
      std::abort();
    }
    core_ = std::move(core).value();
    default_connection_ = connect();
  }

  ~TestBroker() {
    for (auto& c : channels_) c.channel->close();
    for (auto& c : connections_) c->close();
    channels_.clear();
    connections_.clear();
    default_connection_.reset();
    // Lets the deliveries that closing queued run before the core stops: a queue kept alive
    // only by a pending delivery task would otherwise be destroyed after the core's timer
    // service (a broker bug of its own, BrokerShutdown.* in timer_service_test.cc).
    settle_workers();
    core_.reset();
  }

  // Waits until every task queued on the worker pool so far has run: one barrier task per
  // worker thread, all running at once, `rounds` times (for tasks those tasks queue).
  void settle_workers(int rounds = 3) {
    WorkerPool& pool = core_->workers();
    const int n = pool.thread_count();
    for (int r = 0; r < rounds; ++r) {
      struct Barrier {
        std::mutex mu;
        std::condition_variable cv;
        int arrived = 0;
      };
      auto barrier = std::make_shared<Barrier>();
      for (int i = 0; i < n; ++i) {
        pool.post([barrier, n] {
          std::unique_lock lock(barrier->mu);
          ++barrier->arrived;
          barrier->cv.notify_all();
          barrier->cv.wait_for(lock, kWaitTimeout, [&] { return barrier->arrived >= n; });
        });
      }
      std::unique_lock lock(barrier->mu);
      if (!barrier->cv.wait_for(lock, kWaitTimeout, [&] { return barrier->arrived >= n; })) return;
    }
  }

  TestBroker(const TestBroker&) = delete;
  TestBroker& operator=(const TestBroker&) = delete;

  BrokerCore& core() { return *core_; }
  // Moves a manual clock forward by `ms`, firing every timer that falls due meanwhile.
  Status advance(int64_t ms) { return core_->advance_clock(ms); }
  const ConnectionPtr& connection() const { return default_connection_; }
  VHost& vhost() { return *default_connection_->vhost(); }

  // A new connection as guest on "/".
  ConnectionPtr connect() {
    auto conn = core_->connect(ConnectInfo{"guest", "/"});
    if (!conn.ok()) {
      ADD_FAILURE() << "connect: " << conn.status().to_string();
      std::abort();
    }
    connections_.push_back(*conn);
    return *conn;
  }

  // A new channel on `connection` (default: the default connection). The reference stays
  // valid for the broker's lifetime.
  TestChannel& open_channel(const ConnectionPtr& connection = nullptr) {
    TestChannel& tc = channels_.emplace_back();
    tc.sink = std::make_unique<RecordingSink>();
    tc.channel = std::make_shared<Channel>(connection ? connection : default_connection_,
                                           next_channel_++, tc.sink.get());
    return tc;
  }

  // The queue's counts (as seen by the default connection).
  QueueCounts counts(std::string_view queue) {
    auto q = vhost().find_queue(queue, default_connection_->id());
    if (!q.ok()) {
      ADD_FAILURE() << "counts(" << queue << "): " << q.status().to_string();
      return {};
    }
    return (*q)->counts();
  }

  // Polls the queue's counts until `pred` holds; false on timeout. For states reached
  // asynchronously (deliveries racing with a cancel or close go back to the queue).
  template <typename Pred>
  bool wait_for_counts(std::string_view queue, Pred pred,
                       std::chrono::milliseconds timeout = kWaitTimeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto q = vhost().find_queue(queue, default_connection_->id());
      if (q.ok() && pred((*q)->counts())) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  bool wait_for_ready(std::string_view queue, uint32_t ready,
                      std::chrono::milliseconds timeout = kWaitTimeout) {
    return wait_for_counts(
        queue, [&](const QueueCounts& c) { return c.ready == ready; }, timeout);
  }

  // Whether a queue of that name exists (exclusive queues of other connections included).
  bool queue_exists(std::string_view queue) {
    return vhost().find_queue(queue, default_connection_->id()).status().code() !=
           StatusCode::kNotFound;
  }

 private:
  std::unique_ptr<BrokerCore> core_;
  ConnectionPtr default_connection_;
  std::vector<ConnectionPtr> connections_;
  std::deque<TestChannel> channels_;
  uint16_t next_channel_ = 1;
};

inline StoredMessagePtr make_message(std::string_view exchange, std::string_view routing_key,
                                     std::string body, BasicProperties properties = {}) {
  auto m = std::make_shared<StoredMessage>();
  m->message.exchange.assign(exchange);
  m->message.routing_key.assign(routing_key);
  m->message.body = std::move(body);
  m->message.properties = std::move(properties);
  return m;
}

inline Status publish(Channel& ch, std::string_view exchange, std::string_view routing_key,
                      std::string body, BasicProperties properties = {}, bool mandatory = false) {
  return ch.publish(exchange, routing_key, mandatory, /*immediate=*/false,
                    make_message(exchange, routing_key, std::move(body), std::move(properties)));
}

inline Status publish_mandatory(Channel& ch, std::string_view exchange,
                                std::string_view routing_key, std::string body) {
  return publish(ch, exchange, routing_key, std::move(body), {}, /*mandatory=*/true);
}

inline BasicProperties with_headers(FieldTable headers) {
  BasicProperties p;
  p.headers = std::move(headers);
  return p;
}

// basic.get; nullopt when the queue is empty (a failed get is a test failure).
inline std::optional<GetResult> get_message(Channel& ch, std::string_view queue,
                                            bool no_ack = true) {
  std::optional<GetResult> out;
  Status s = ch.get(queue, no_ack, [&](const std::optional<GetResult>& r) { out = r; });
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

inline std::string body_of(const std::optional<GetResult>& r) {
  return r ? r->entry.message->message.body : "<empty>";
}

// Takes every ready message (no_ack) and returns their bodies in order.
inline std::vector<std::string> drain_bodies(Channel& ch, std::string_view queue) {
  std::vector<std::string> out;
  for (int i = 0; i < 100000; ++i) {
    auto r = get_message(ch, queue, /*no_ack=*/true);
    if (!r) break;
    out.push_back(body_of(r));
  }
  return out;
}

inline Status declare(Channel& ch, std::string name) {
  return ch.declare_queue(QueueDeclareRequest{.name = std::move(name)}).status();
}

// queue.declare with x-arguments.
inline Status declare(Channel& ch, std::string name, FieldTable arguments) {
  return ch
      .declare_queue(
          QueueDeclareRequest{.name = std::move(name), .arguments = std::move(arguments)})
      .status();
}

inline BasicProperties with_expiration(std::string expiration) {
  BasicProperties p;
  p.expiration = std::move(expiration);
  return p;
}

// A header of a stored message, or nullptr.
inline const FieldValue* header_of(const StoredMessage& message, std::string_view name) {
  const auto& headers = message.message.properties.headers;
  return headers ? headers->find(name) : nullptr;
}

inline Status declare_exchange(Channel& ch, std::string name, std::string type,
                               FieldTable arguments = {}) {
  return ch.declare_exchange(
      ExchangeSettings{
          .name = std::move(name), .type = std::move(type), .arguments = std::move(arguments)},
      /*passive=*/false);
}

inline Result<std::string> consume(Channel& ch, std::string queue, std::string tag = {},
                                   bool no_ack = false, bool exclusive = false,
                                   FieldTable arguments = {}) {
  return ch.consume(ConsumeRequest{.queue = std::move(queue),
                                   .tag = std::move(tag),
                                   .no_ack = no_ack,
                                   .exclusive = exclusive,
                                   .arguments = std::move(arguments)},
                    nullptr);
}

// Publishes in confirm mode and waits until the broker confirmed all `n` messages so far.
inline bool wait_for_confirms(TestChannel& ch, uint64_t n) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    ch->flush();
    uint64_t covered = 0;
    for (const auto& c : ch.sink->confirms()) {
      if (!c.ack) return false;
      covered = std::max(covered, c.seq);
    }
    if (covered >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

}  // namespace burrow::broker::testing
