// The transactional outbox and inbox through the public API (include/burrow/outbox.h): state
// and messages commit together or not at all, the local relay enqueues each committed message
// once, order per partition key under concurrent committers, parking (unroutable, missing
// exchange, upstream gave up) with retry and discard, rows surviving a restart, the inbox's
// deduplication and expiry, and the upstream relay against a second broker over AMQP that is
// down at first and comes up later.
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <burrow/broker.h>
#include <burrow/clock.h>
#include <gtest/gtest.h>

#include "broker/broker_core.h"
#include "broker/channel.h"
#include "client/amqp/channel.h"
#include "client/amqp/connection.h"
#include "client_test_util.h"
#include "server/server.h"
#include "storage/keys.h"
#include "storage/records.pb.h"

namespace burrow {
namespace {

using client_testing::Collector;
using client_testing::kWaitTimeout;
using client_testing::open_broker;
using client_testing::open_channel;
using client_testing::TempDir;
using client_testing::test_options;

OutboxMessage message(std::string exchange, std::string key, std::string body) {
  OutboxMessage m;
  m.exchange = std::move(exchange);
  m.routing_key = std::move(key);
  m.body = std::move(body);
  return m;
}

// Every message in `queue` (acked), by basic.get.
std::vector<std::shared_ptr<const Message>> drain(Channel& ch, const std::string& queue) {
  std::vector<std::shared_ptr<const Message>> out;
  for (;;) {
    auto got = ch.get(queue, true);
    if (!got.ok() || !got->has_value()) break;
    out.push_back((*got)->message);
  }
  return out;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = open_broker();
    ch_ = open_channel(*broker_);
    ASSERT_OK(ch_->declare_exchange("orders", "topic"));
    ASSERT_OK(ch_->declare_queue("inventory", QueueOptions{.durable = true}));
    ASSERT_OK(ch_->bind_queue("inventory", "orders", "order.*"));
    auto cf = broker_->column_family("orders");
    ASSERT_OK(cf);
    orders_ = std::make_unique<ColumnFamily>(*cf);
  }

  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Channel> ch_;
  std::unique_ptr<ColumnFamily> orders_;
};

TEST_F(OutboxTest, CommitStoresStateAndEnqueuesTheMessageOnce) {
  Transaction txn = broker_->begin();
  ASSERT_OK(txn.put(*orders_, "o-1", "{\"qty\":2}"));
  auto id = txn.publish(message("orders", "order.created", "o-1"));
  ASSERT_OK(id);
  EXPECT_EQ(id->size(), 32u);  // generated
  ASSERT_OK(txn.commit());
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));

  std::string value;
  ASSERT_OK(broker_->begin().get(*orders_, "o-1", value));
  EXPECT_EQ(value, "{\"qty\":2}");
  auto got = drain(*ch_, "inventory");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->body, "o-1");
  EXPECT_EQ(got[0]->routing_key, "order.created");
  EXPECT_EQ(got[0]->properties.message_id, *id);
  EXPECT_TRUE(got[0]->properties.persistent());  // outbox messages default to persistent
  OutboxStats stats = broker_->outbox_stats();
  EXPECT_EQ(stats.committed, 1u);
  EXPECT_EQ(stats.sent, 1u);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.latency_count, 1u);
}

TEST_F(OutboxTest, RollbackAndDestructionDiscardStateAndMessages) {
  {
    Transaction txn = broker_->begin();
    ASSERT_OK(txn.put(*orders_, "o-1", "x"));
    ASSERT_OK(txn.publish(message("orders", "order.created", "rolled back")));
    txn.rollback();
    EXPECT_EQ(txn.commit().code(), StatusCode::kClosed);
  }
  {
    Transaction txn = broker_->begin();
    ASSERT_OK(txn.put(*orders_, "o-2", "x"));
    ASSERT_OK(txn.publish(message("orders", "order.created", "dropped")));
  }  // destroyed uncommitted
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));
  std::string value;
  EXPECT_EQ(broker_->begin().get(*orders_, "o-1", value).code(), StatusCode::kNotFound);
  EXPECT_EQ(broker_->begin().get(*orders_, "o-2", value).code(), StatusCode::kNotFound);
  EXPECT_TRUE(drain(*ch_, "inventory").empty());
  EXPECT_EQ(broker_->outbox_stats().committed, 0u);
}

TEST_F(OutboxTest, AConflictingCommitFailsWithBusyAndPublishesNothing) {
  Transaction a = broker_->begin();
  Transaction b = broker_->begin();
  std::string value;
  (void)a.get_for_update(*orders_, "stock", value);
  (void)b.get_for_update(*orders_, "stock", value);
  ASSERT_OK(a.put(*orders_, "stock", "9"));
  ASSERT_OK(b.put(*orders_, "stock", "8"));
  ASSERT_OK(a.publish(message("orders", "order.created", "a")));
  ASSERT_OK(b.publish(message("orders", "order.created", "b")));
  ASSERT_OK(a.commit());
  Status s = b.commit();
  EXPECT_EQ(s.code(), StatusCode::kBusy) << s.to_string();
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));
  auto got = drain(*ch_, "inventory");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->body, "a");
}

TEST_F(OutboxTest, AnApplicationMessageIdIsKeptAndAnEmptyOneRefused) {
  Transaction txn = broker_->begin();
  OutboxMessage m = message("orders", "order.created", "x");
  m.properties.message_id = "order-1";
  auto id = txn.publish(m);
  ASSERT_OK(id);
  EXPECT_EQ(*id, "order-1");
  m.properties.message_id = "";
  EXPECT_EQ(txn.publish(m).status().code(), StatusCode::kInvalidArgument);
  ASSERT_OK(txn.commit());
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));
  auto got = drain(*ch_, "inventory");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->properties.message_id, "order-1");
}

TEST_F(OutboxTest, UnroutableAndMissingExchangeRowsAreParkedThenRetriedOrDiscarded) {
  Transaction txn = broker_->begin();
  ASSERT_OK(txn.publish(message("orders", "invoice.created", "no binding")));
  ASSERT_OK(txn.publish(message("missing", "x", "no exchange")));
  OutboxMessage dropped = message("orders", "invoice.created", "not mandatory");
  dropped.mandatory = false;
  ASSERT_OK(txn.publish(dropped));
  ASSERT_OK(txn.commit());
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));

  auto parked = broker_->parked_rows();
  ASSERT_EQ(parked.size(), 2u);
  EXPECT_EQ(parked[0].routing_key, "invoice.created");
  EXPECT_EQ(parked[0].last_error, "312 NO_ROUTE");
  EXPECT_EQ(parked[1].exchange, "missing");
  EXPECT_EQ(parked[1].last_error, "NOT_FOUND: no exchange 'missing' in vhost '/'");
  OutboxStats stats = broker_->outbox_stats();
  EXPECT_EQ(stats.parked, 2u);
  EXPECT_EQ(stats.sent, 1u);  // the non-mandatory one was "relayed" (and dropped)

  // Fix the topology, retry one; discard the other.
  ASSERT_OK(ch_->bind_queue("inventory", "orders", "invoice.*"));
  ASSERT_OK(broker_->retry_parked(parked[0].id));
  ASSERT_OK(broker_->discard_parked(parked[1].id));
  EXPECT_EQ(broker_->retry_parked(parked[1].id).code(), StatusCode::kNotFound);
  EXPECT_EQ(broker_->discard_parked(12345).code(), StatusCode::kNotFound);
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));
  EXPECT_TRUE(broker_->parked_rows().empty());
  auto got = drain(*ch_, "inventory");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->body, "no binding");
}

TEST_F(OutboxTest, RowsOfOnePartitionKeyArriveInCommitOrderUnderConcurrentCommitters) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  constexpr int kPartitions = 8;
  // Each partition has a shared counter row: committers read it for update, so commits of one
  // partition are serialized by conflicts, and the counter value is the commit order.
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string partition = "p" + std::to_string((t * kPerThread + i) % kPartitions);
        for (;;) {
          Transaction txn = broker_->begin();
          std::string value;
          Status s = txn.get_for_update(*orders_, partition, value);
          const int next = s.ok() ? std::stoi(value) + 1 : 1;
          ASSERT_OK(txn.put(*orders_, partition, std::to_string(next)));
          OutboxMessage m = message("orders", "order.created", std::to_string(next));
          m.partition_key = partition;
          m.properties.correlation_id = partition;
          ASSERT_OK(txn.publish(std::move(m)));
          s = txn.commit();
          if (s.ok()) break;
          ASSERT_EQ(s.code(), StatusCode::kBusy) << s.to_string();
          conflicts++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));
  std::map<std::string, int> last;
  size_t total = 0;
  for (const auto& m : drain(*ch_, "inventory")) {
    const std::string& p = *m->properties.correlation_id;
    const int n = std::stoi(m->body);
    EXPECT_EQ(n, last[p] + 1) << "partition " << p;
    last[p] = n;
    ++total;
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kPerThread));
}

TEST(OutboxDurability, RowsForAnUpstreamNotAddedYetWaitAcrossARestart) {
  TempDir dir;
  Options options = test_options();
  options.in_memory = false;
  options.data_dir = dir.path();
  options.durability = Durability::kOs;
  uint64_t committed_id = 0;
  {
    auto broker = open_broker(options);
    auto cf = broker->column_family("orders");
    ASSERT_OK(cf);
    Transaction txn = broker->begin();
    ASSERT_OK(txn.put(*cf, "o-1", "saved"));
    OutboxMessage m = message("orders", "order.created", "later");
    m.destination = "rabbit";
    ASSERT_OK(txn.publish(m));
    ASSERT_OK(txn.commit());
    EXPECT_EQ(broker->outbox_stats().pending, 1u);
    EXPECT_EQ(broker->wait_until_drained(std::chrono::milliseconds(50)).code(),
              StatusCode::kTimedOut);
    committed_id = 1;
  }
  auto broker = open_broker(options);
  EXPECT_EQ(broker->column_families(), std::vector<std::string>{"orders"});
  EXPECT_EQ(broker->outbox_stats().pending, committed_id);
  // The row id sequence continues after the restart.
  Transaction txn = broker->begin();
  ASSERT_OK(txn.publish(message("", "nowhere", "x")));
  ASSERT_OK(txn.commit());
  EXPECT_EQ(broker->wait_until_drained(std::chrono::milliseconds(100)).code(),
            StatusCode::kTimedOut);     // the upstream row cannot drain
  auto parked = broker->parked_rows();  // the local one had no queue: parked
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0].id, 2u);
}

// ---- inbox -----------------------------------------------------------------------------------

TEST_F(OutboxTest, TheInboxRunsTheHandlerOncePerMessageId) {
  std::atomic<int> calls{0};
  Collector<std::string> done;
  auto consumer =
      broker_->consume_with_inbox("inventory", [&](const Delivery& d, Transaction& txn) -> Status {
        calls++;
        std::string value;
        Status s = txn.get_for_update(*orders_, "reserved", value);
        const int n = s.ok() ? std::stoi(value) : 0;
        Status put = txn.put(*orders_, "reserved", std::to_string(n + 1));
        done.add(d.message->body);
        return put;
      });
  ASSERT_OK(consumer);
  BasicProperties p;
  p.message_id = "m-1";
  ASSERT_OK(ch_->publish("orders", "order.created", "first", p));
  ASSERT_OK(ch_->publish("orders", "order.created", "duplicate", p));
  p.message_id = "m-2";
  ASSERT_OK(ch_->publish("orders", "order.created", "second", p));
  ASSERT_TRUE(done.wait_for(2));
  // Both processed (committed, then acked) and the duplicate (acked): the queue empties.
  for (int i = 0; i < 1000; ++i) {
    const OutboxStats stats = broker_->outbox_stats();
    if (stats.inbox_processed == 2 && stats.inbox_duplicates == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(broker_->outbox_stats().inbox_processed, 2u);
  EXPECT_EQ(broker_->outbox_stats().inbox_duplicates, 1u);
  std::string value;
  ASSERT_OK(broker_->begin().get(*orders_, "reserved", value));
  EXPECT_EQ(value, "2");
  consumer->reset();
  auto info = ch_->declare_queue("inventory", QueueOptions{.passive = true});
  ASSERT_OK(info);
  EXPECT_EQ(info->message_count, 0u);
}

TEST_F(OutboxTest, AFailingHandlerWritesNothingAndTheMessageComesBack) {
  std::atomic<int> calls{0};
  Collector<bool> redelivered;
  auto consumer =
      broker_->consume_with_inbox("inventory", [&](const Delivery& d, Transaction& txn) -> Status {
        (void)txn.put(*orders_, "touched", "yes");
        redelivered.add(d.redelivered);
        if (calls++ == 0) return Status(StatusCode::kInternalError, "first attempt fails");
        return Status();
      });
  ASSERT_OK(consumer);
  BasicProperties p;
  p.message_id = "m-1";
  ASSERT_OK(ch_->publish("orders", "order.created", "x", p));
  ASSERT_TRUE(redelivered.wait_for(2));
  auto flags = redelivered.items();
  EXPECT_FALSE(flags[0]);
  EXPECT_TRUE(flags[1]);
  EXPECT_TRUE(redelivered.stays_at(2));
}

TEST(InboxExpiry, AnIdIsForgottenAfterTheWindowAndCompactionDropsExpiredEntries) {
  ManualClock clock;
  Options options = test_options();
  options.clock = &clock;
  options.inbox_dedup_window_ms = 1000;
  auto broker = open_broker(options);
  auto ch = open_channel(*broker);
  ASSERT_OK(ch->declare_queue("q"));
  std::atomic<int> calls{0};
  auto consumer = broker->consume_with_inbox("q", [&](const Delivery&, Transaction&) {
    calls++;
    return Status();
  });
  ASSERT_OK(consumer);
  BasicProperties p;
  p.message_id = "m-1";
  auto wait_for = [&](auto done) {
    for (int i = 0; i < 500 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  };
  ASSERT_OK(ch->publish("", "q", "x", p));
  ASSERT_TRUE(wait_for([&] { return calls.load() == 1; }));
  ASSERT_OK(ch->publish("", "q", "x", p));
  ASSERT_TRUE(wait_for([&] { return broker->outbox_stats().inbox_duplicates == 1; }));
  ASSERT_OK(broker->advance_clock(std::chrono::milliseconds(1001)));
  ASSERT_OK(ch->publish("", "q", "x", p));
  ASSERT_TRUE(wait_for([&] { return calls.load() == 2; }));

  // The stored entry: expires_at = processing time + window. Compaction drops entries whose
  // expiry passed by the wall clock; the manual clock started at wall time, so advance it
  // (and so the entries' expiry) no further and write one already expired.
  auto& store = broker->core().store();
  storage::InboxEntry expired;
  expired.set_processed_at_ms(1);
  expired.set_expires_at_ms(2);
  storage::WriteBatch batch;
  batch.put(storage::Column::kInbox, storage::inbox_key("q", "old"), expired.SerializeAsString());
  ASSERT_OK(store.write_sync(std::move(batch)));
  ASSERT_OK(store.compact(storage::Column::kInbox));
  std::string value;
  EXPECT_EQ(store.get(storage::Column::kInbox, storage::inbox_key("q", "old"), value).code(),
            StatusCode::kNotFound);
  EXPECT_OK(store.get(storage::Column::kInbox, storage::inbox_key("q", "m-1"), value));
}

// ---- upstream relay ----------------------------------------------------------------------

// A second broker reachable over AMQP on 127.0.0.1 (the same server burrowd runs), with the
// topology a consumer of the relayed messages would have.
class Upstream {
 public:
  Upstream() {
    auto core = broker::BrokerCore::open(test_options());
    EXPECT_TRUE(core.ok());
    core_ = std::move(*core);
  }
  ~Upstream() {
    stop();
    if (core_) core_->shutdown();
  }
  // exchange `orders` (topic), and unless `unroutable` a queue `relayed` bound with order.*.
  void declare(bool unroutable = false) {
    auto conn = core_->connect(broker::ConnectInfo{"guest", "/"});
    ASSERT_OK(conn);
    auto ch = std::make_shared<broker::Channel>(*conn, 1, nullptr);
    ASSERT_OK(ch->declare_exchange(broker::ExchangeSettings{"orders", "topic", "/", true}, false));
    if (unroutable) return;
    broker::QueueDeclareRequest q;
    q.name = "relayed";
    q.durable = true;
    ASSERT_OK(ch->declare_queue(q));
    ASSERT_OK(ch->bind_queue("relayed", "orders", "order.*", {}));
    ch->close();
  }
  Result<uint16_t> start(uint16_t port) {
    server_ = std::make_unique<server::Server>(*core_);
    return server_->listen("127.0.0.1", port);
  }
  void stop() {
    if (server_) server_->stop();
    server_.reset();
  }
  // Every message in `relayed`, read over AMQP.
  std::vector<client::amqp::GetResult> drain(uint16_t port) {
    std::vector<client::amqp::GetResult> out;
    auto conn = client::amqp::ClientConnection::connect("127.0.0.1", port, "guest", "guest");
    EXPECT_TRUE(conn.ok()) << conn.status().to_string();
    if (!conn.ok()) return out;
    auto ch = (*conn)->open_channel();
    EXPECT_TRUE(ch.ok());
    for (;;) {
      auto got = (*ch)->get("relayed", true);
      if (!got.ok() || !got->has_value()) break;
      out.push_back(std::move(**got));
    }
    return out;
  }

 private:
  std::unique_ptr<broker::BrokerCore> core_;
  std::unique_ptr<server::Server> server_;
};

uint16_t free_port() {
  Upstream probe;
  auto port = probe.start(0);
  EXPECT_TRUE(port.ok());
  return port.ok() ? *port : 0;
}

UpstreamOptions upstream_options(uint16_t port) {
  UpstreamOptions o;
  o.url = "amqp://guest:guest@127.0.0.1:" + std::to_string(port) + "/%2F";
  o.backoff_base = std::chrono::milliseconds(20);
  o.backoff_cap = std::chrono::milliseconds(200);
  o.connect_timeout = std::chrono::milliseconds(2000);
  return o;
}

bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST(UpstreamRelay, RowsWaitForADownUpstreamThenDrainWithStableIdsInPartitionOrder) {
  const uint16_t port = free_port();
  ASSERT_NE(port, 0);
  auto broker = open_broker();
  UpstreamOptions options = upstream_options(port);
  options.max_attempts = 2;  // an outage charges no attempts: nothing may be parked
  ASSERT_OK(broker->add_upstream("rabbit", options));
  EXPECT_EQ(broker->add_upstream("rabbit", options).code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(broker->add_upstream("bad", UpstreamOptions{.url = "http://x"}).code(),
            StatusCode::kInvalidArgument);

  constexpr int kRows = 60;
  std::map<std::string, std::string> partition_of;  // message id -> partition
  for (int i = 0; i < kRows; ++i) {
    Transaction txn = broker->begin();
    OutboxMessage m = message("orders", "order.created", std::to_string(i));
    m.destination = "rabbit";
    m.partition_key = "customer-" + std::to_string(i % 3);
    auto id = txn.publish(m);
    ASSERT_OK(id);
    partition_of[*id] = m.partition_key;
    ASSERT_OK(txn.commit());
  }
  // Down: the relay keeps reconnecting with back-off (several attempts in this time); the rows
  // wait, charged nothing, so none is parked even with max_attempts = 2.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(broker->outbox_stats().pending, static_cast<uint64_t>(kRows));
  EXPECT_EQ(broker->outbox_stats().retried, 0u);
  EXPECT_TRUE(broker->parked_rows().empty());

  Upstream upstream;
  upstream.declare();
  ASSERT_OK(upstream.start(port));
  ASSERT_OK(broker->wait_until_drained(kWaitTimeout));
  EXPECT_EQ(broker->outbox_stats().sent, static_cast<uint64_t>(kRows));

  auto got = upstream.drain(port);
  ASSERT_EQ(got.size(), static_cast<size_t>(kRows));
  std::map<std::string, int> last;
  for (const auto& m : got) {
    ASSERT_TRUE(m.properties.message_id);
    ASSERT_EQ(partition_of.count(*m.properties.message_id), 1u);
    const std::string& partition = partition_of[*m.properties.message_id];
    const int n = std::stoi(m.body);
    EXPECT_GT(n + 1, last.count(partition) ? last[partition] + 1 : 0) << partition;
    last[partition] = n;
    ASSERT_TRUE(m.properties.headers);
    EXPECT_TRUE(m.properties.headers->find("x-outbox-seq")->as_integer());
    EXPECT_TRUE(m.properties.headers->find("x-outbox-created-at")->as_integer());
    EXPECT_TRUE(m.properties.persistent());
  }
  ASSERT_OK(broker->remove_upstream("rabbit"));
  EXPECT_EQ(broker->remove_upstream("rabbit").code(), StatusCode::kNotFound);
}

TEST(UpstreamRelay, AMessageTheUpstreamReturnsIsParked) {
  Upstream upstream;
  upstream.declare(/*unroutable=*/true);
  auto port = upstream.start(0);
  ASSERT_OK(port);
  auto broker = open_broker();
  ASSERT_OK(broker->add_upstream("rabbit", upstream_options(*port)));
  Transaction txn = broker->begin();
  OutboxMessage m = message("orders", "order.created", "nobody listens");
  m.destination = "rabbit";
  ASSERT_OK(txn.publish(m));
  ASSERT_OK(txn.commit());
  ASSERT_OK(broker->wait_until_drained(kWaitTimeout));
  auto parked = broker->parked_rows();
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0].destination, "rabbit");
  EXPECT_EQ(parked[0].last_error, "312 NO_ROUTE (returned by the upstream)");
}

TEST(UpstreamRelay, ARowWhoseExchangeIsMissingIsParkedAfterMaxAttemptsAndTheOthersGoOn) {
  Upstream upstream;
  upstream.declare();
  auto port = upstream.start(0);
  ASSERT_OK(port);
  auto broker = open_broker();
  UpstreamOptions options = upstream_options(*port);
  options.max_attempts = 3;
  ASSERT_OK(broker->add_upstream("rabbit", options));
  // The poison row (404 closes the upstream channel for everything in flight) among others.
  for (int i = 0; i < 20; ++i) {
    Transaction txn = broker->begin();
    OutboxMessage m = message(i == 5 ? "missing" : "orders", "order.created", std::to_string(i));
    m.destination = "rabbit";
    m.partition_key = "p" + std::to_string(i);
    ASSERT_OK(txn.publish(m));
    ASSERT_OK(txn.commit());
  }
  ASSERT_OK(broker->wait_until_drained(kWaitTimeout));
  auto parked = broker->parked_rows();
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0].exchange, "missing");
  EXPECT_EQ(parked[0].attempts, 3u);
  EXPECT_NE(parked[0].last_error.find("no exchange 'missing'"), std::string::npos)
      << parked[0].last_error;
  std::set<std::string> bodies;
  for (const auto& m : upstream.drain(*port)) bodies.insert(m.body);
  EXPECT_EQ(bodies.size(), 19u);  // every other row arrived (duplicates allowed, none lost)
  EXPECT_EQ(bodies.count("5"), 0u);
}

TEST_F(OutboxTest, ARowEveryQueueRefusesIsRetriedAfterABackOff) {
  ASSERT_OK(ch_->declare_queue(
      "small",
      QueueOptions{.arguments = {{"x-max-length", int32_t{1}}, {"x-overflow", "reject-publish"}}}));
  ASSERT_OK(ch_->bind_queue("small", "orders", "small.*"));
  for (int i = 0; i < 2; ++i) {
    Transaction txn = broker_->begin();
    ASSERT_OK(txn.publish(message("orders", "small.created", std::to_string(i))));
    ASSERT_OK(txn.commit());
  }
  // The second is refused (queue full): it waits, not parked and not lost.
  ASSERT_TRUE(eventually([&] { return broker_->outbox_stats().retried >= 1; }));
  EXPECT_TRUE(broker_->parked_rows().empty());
  auto first = ch_->get("small", true);
  ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->message->body, "0");
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));
  auto second = ch_->get("small", true);
  ASSERT_OK(second);
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->message->body, "1");
}

TEST_F(OutboxTest, ARowToADelayedExchangeIsHeldNotParked) {
  ASSERT_OK(ch_->declare_exchange("later", "x-delayed-message",
                                  ExchangeOptions{.arguments = {{"x-delayed-type", "direct"}}}));
  ASSERT_OK(ch_->bind_queue("inventory", "later", "k"));
  Transaction txn = broker_->begin();
  OutboxMessage m = message("later", "k", "delayed");
  m.properties.headers = FieldTable{{"x-delay", int32_t{20}}};
  ASSERT_OK(txn.publish(m));
  ASSERT_OK(txn.commit());
  ASSERT_OK(broker_->wait_until_drained(kWaitTimeout));
  EXPECT_TRUE(broker_->parked_rows().empty());
  ASSERT_TRUE(eventually([&] {
    auto q = ch_->declare_queue("inventory", QueueOptions{.passive = true});
    return q.ok() && q->message_count == 1;
  }));
}

}  // namespace
}  // namespace burrow
