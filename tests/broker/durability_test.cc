// Durability against a real RocksDB store in a temporary directory: what survives a restart
// (as RabbitMQ: durable entities, persistent messages in durable queues), redelivery after a
// restart, and the memory budget (lazy bodies) for backlogs larger than memory.
#include <string>
#include <vector>

#include "broker/classic_queue.h"
#include "broker/persistence.h"
#include "storage/keys.h"
#include "storage/rocksdb_store.h"
#include "test_broker.h"
#include "tests/storage/temp_dir.h"

namespace burrow::broker::testing {
namespace {

using storage::testing::TempDir;

Options disk_options(const TempDir& dir, uint64_t memory_budget = 0) {
  Options options;
  options.data_dir = dir.path();
  options.durability = Durability::kOs;  // the tests restart cleanly; fsync adds only time
  options.worker_threads = 2;
  options.memory_budget_bytes = memory_budget;
  return options;
}

BasicProperties persistent() {
  BasicProperties p;
  p.delivery_mode = 2;
  return p;
}

Status declare_durable(Channel& ch, std::string name, FieldTable arguments = {}) {
  return ch
      .declare_queue(QueueDeclareRequest{
          .name = std::move(name), .durable = true, .arguments = std::move(arguments)})
      .status();
}

std::shared_ptr<ClassicQueue> classic(TestBroker& b, std::string_view name) {
  auto q = b.vhost().find_queue(name, b.connection()->id());
  EXPECT_TRUE(q.ok()) << q.status().to_string();
  return q.ok() ? std::dynamic_pointer_cast<ClassicQueue>(*q) : nullptr;
}

// A body that names its position, padded to `size` bytes.
std::string numbered_body(int i, size_t size) {
  std::string body = "m" + std::to_string(i) + ":";
  body.resize(size, static_cast<char>('a' + i % 26));
  return body;
}

TEST(Durability, OnlyDurableEntitiesAndPersistentMessagesInDurableQueuesSurvive) {
  TempDir dir;
  {
    TestBroker b(disk_options(dir));
    auto& ch = b.open_channel();
    ASSERT_OK(declare_durable(*ch, "q"));
    ASSERT_OK(declare(*ch, "transient-q"));
    ASSERT_OK(ch->declare_exchange(
        ExchangeSettings{.name = "dx", .type = "direct", .durable = true}, false));
    ASSERT_OK(declare_exchange(*ch, "tx", "fanout"));
    ASSERT_OK(ch->bind_queue("q", "dx", "k", {}));
    ASSERT_OK(publish(*ch, "", "q", "p1", persistent()));
    ASSERT_OK(publish(*ch, "", "q", "t1"));
    ASSERT_OK(publish(*ch, "", "q", "p2", persistent()));
    ASSERT_OK(publish(*ch, "", "transient-q", "p3", persistent()));
    ASSERT_TRUE(b.wait_for_ready("q", 3));
  }
  TestBroker b(disk_options(dir));
  auto& ch = b.open_channel();
  EXPECT_EQ(drain_bodies(*ch, "q"), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_FALSE(b.queue_exists("transient-q"));
  EXPECT_OK(ch->declare_exchange(ExchangeSettings{.name = "dx", .type = "direct"}, true));
  EXPECT_EQ(ch->declare_exchange(ExchangeSettings{.name = "tx", .type = "fanout"}, true).code(),
            StatusCode::kNotFound);
  // The durable binding came back with its exchange and queue.
  ASSERT_OK(publish(*ch, "dx", "k", "via-binding", persistent()));
  ASSERT_TRUE(b.wait_for_ready("q", 1));
  EXPECT_EQ(drain_bodies(*ch, "q"), (std::vector<std::string>{"via-binding"}));
}

TEST(Durability, UnackedMessagesComeBackRedeliveredAndAckedOnesDoNot) {
  TempDir dir;
  {
    TestBroker b(disk_options(dir));
    auto& ch = b.open_channel();
    ASSERT_OK(declare_durable(*ch, "q"));
    for (const char* body : {"a", "b", "c"}) ASSERT_OK(publish(*ch, "", "q", body, persistent()));
    auto a = get_message(*ch, "q", /*no_ack=*/false);
    auto bm = get_message(*ch, "q", /*no_ack=*/false);
    ASSERT_EQ(body_of(a), "a");
    ASSERT_EQ(body_of(bm), "b");
    ASSERT_OK(ch->ack(a->delivery_tag, false));
    // "b" stays unacked when the broker stops.
  }
  TestBroker b(disk_options(dir));
  auto& ch = b.open_channel();
  auto first = get_message(*ch, "q");
  auto second = get_message(*ch, "q");
  ASSERT_EQ(body_of(first), "b");
  EXPECT_TRUE(first->entry.redelivered);
  ASSERT_EQ(body_of(second), "c");
  EXPECT_FALSE(second->entry.redelivered);
  EXPECT_FALSE(get_message(*ch, "q").has_value());
}

TEST(Durability, MessagesExpiredWhileDownAreDeadLetteredBehindTheTargetsRecoveredMessages) {
  // The source sorts before its dead-letter queue, so its messages are recovered first; the
  // ones that expired while the broker was down must be dead-lettered only once the target
  // has its own messages back (they took sequence numbers the store already held, and one
  // message overwrote another: tests/crash/dead_letter_crash_test.py found it).
  TempDir dir;
  ManualClock clock(1'700'000'000'000);
  Options options = disk_options(dir);
  options.clock = &clock;
  FieldTable dlx{{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "z-target"}};
  {
    TestBroker b(options);
    auto& ch = b.open_channel();
    ASSERT_OK(declare_durable(*ch, "z-target"));
    ASSERT_OK(declare_durable(*ch, "a-source", dlx));
    for (const char* body : {"t1", "t2", "t3"}) {
      ASSERT_OK(publish(*ch, "", "z-target", body, persistent()));
    }
    BasicProperties expiring = persistent();
    expiring.expiration = "1000";
    for (const char* body : {"s1", "s2"}) {
      ASSERT_OK(publish(*ch, "", "a-source", body, expiring));
    }
    ASSERT_TRUE(b.wait_for_ready("z-target", 3));
    ASSERT_TRUE(b.wait_for_ready("a-source", 2));
  }
  clock.advance(5000);
  TestBroker b(options);
  auto& ch = b.open_channel();
  EXPECT_TRUE(drain_bodies(*ch, "a-source").empty());
  EXPECT_EQ(drain_bodies(*ch, "z-target"),
            (std::vector<std::string>{"t1", "t2", "t3", "s1", "s2"}));
}

TEST(Durability, AfterACrashEveryRecoveredMessageComesBackRedelivered) {
  TempDir dir;
  {
    TestBroker b(disk_options(dir));
    auto& ch = b.open_channel();
    ASSERT_OK(declare_durable(*ch, "q"));
    for (const char* body : {"a", "b"}) ASSERT_OK(publish(*ch, "", "q", body, persistent()));
  }
  {
    // What a crash leaves behind: the running marker of the broker that died (a clean stop
    // deletes it). Its delivery markers might not have reached the disk.
    auto store = storage::open_rocksdb_store(storage::StoreOptions{.path = dir.path()});
    ASSERT_OK(store);
    storage::WriteBatch batch;
    batch.put(storage::Column::kMetadata, storage::running_key(), "running");
    ASSERT_OK((*store)->write_sync(std::move(batch)));
  }
  {
    // RabbitMQ 3.10 flags every message recovered after an unclean shutdown.
    TestBroker b(disk_options(dir));
    auto& ch = b.open_channel();
    auto a = get_message(*ch, "q", /*no_ack=*/false);
    ASSERT_EQ(body_of(a), "a");
    EXPECT_TRUE(a->entry.redelivered);
    // Nacked back: still in the queue for the next (clean) start.
    ASSERT_OK(ch->nack(a->delivery_tag, false, /*requeue=*/true));
  }
  // This time the broker stopped cleanly: only what was delivered is flagged.
  TestBroker b(disk_options(dir));
  auto& ch = b.open_channel();
  auto a = get_message(*ch, "q");
  auto bm = get_message(*ch, "q");
  ASSERT_EQ(body_of(a), "a");
  EXPECT_TRUE(a->entry.redelivered);
  ASSERT_EQ(body_of(bm), "b");
  // Never handed to a client: the flag after the crash was only a precaution, not stored.
  EXPECT_FALSE(bm->entry.redelivered);
}

TEST(Durability, MessagesPublishedAfterARestartFollowTheRecoveredOnes) {
  TempDir dir;
  {
    TestBroker b(disk_options(dir));
    auto& ch = b.open_channel();
    ASSERT_OK(declare_durable(*ch, "q"));
    ASSERT_OK(publish(*ch, "", "q", "before", persistent()));
  }
  {
    TestBroker b(disk_options(dir));
    auto& ch = b.open_channel();
    ASSERT_OK(publish(*ch, "", "q", "after", persistent()));
  }
  TestBroker b(disk_options(dir));
  auto& ch = b.open_channel();
  EXPECT_EQ(drain_bodies(*ch, "q"), (std::vector<std::string>{"before", "after"}));
}

TEST(Durability, AckedMessagesStayGoneAfterTheHeadMovedPastThem) {
  TempDir dir;
  constexpr int kMessages = 3000;  // several saved-head steps (every 1024)
  {
    TestBroker b(disk_options(dir));
    auto& ch = b.open_channel();
    ASSERT_OK(declare_durable(*ch, "q"));
    for (int i = 0; i < kMessages; ++i) {
      ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i), persistent()));
    }
    for (int i = 0; i < kMessages - 2; ++i) {
      auto r = get_message(*ch, "q", /*no_ack=*/false);
      ASSERT_TRUE(r.has_value());
      ASSERT_OK(ch->ack(r->delivery_tag, false));
    }
  }
  {
    TestBroker b(disk_options(dir));
    auto& ch = b.open_channel();
    EXPECT_EQ(drain_bodies(*ch, "q"),
              (std::vector<std::string>{"m" + std::to_string(kMessages - 2),
                                        "m" + std::to_string(kMessages - 1)}));
    ASSERT_OK(publish(*ch, "", "q", "later", persistent()));
  }
  TestBroker b(disk_options(dir));
  auto& ch = b.open_channel();
  EXPECT_EQ(drain_bodies(*ch, "q"), (std::vector<std::string>{"later"}));
}

TEST(Durability, MessagesHeldByADurableDelayedExchangeSurviveARestart) {
  TempDir dir;
  constexpr TimeMs kStart = 1'700'000'000'000;
  BasicProperties props = persistent();
  props.headers = FieldTable{{"x-delay", int64_t{10000}}};
  {
    ManualClock clock(kStart);
    Options options = disk_options(dir);
    options.clock = &clock;
    TestBroker b(options);
    auto& ch = b.open_channel();
    ASSERT_OK(ch->declare_exchange(
        ExchangeSettings{.name = "dx",
                         .type = "x-delayed-message",
                         .durable = true,
                         .arguments = FieldTable{{"x-delayed-type", std::string("direct")}}},
        false));
    ASSERT_OK(declare_durable(*ch, "q"));
    ASSERT_OK(ch->bind_queue("q", "dx", "k", {}));
    ASSERT_OK(publish(*ch, "dx", "k", "held", props));
    ASSERT_OK(b.advance(5000));
    EXPECT_EQ(b.counts("q").ready, 0u);
  }
  {
    // Down for 3 s: still 2 s to go.
    ManualClock clock(kStart + 8000);
    Options options = disk_options(dir);
    options.clock = &clock;
    TestBroker b(options);
    auto& ch = b.open_channel();
    ASSERT_OK(b.advance(1999));
    std::this_thread::sleep_for(kQuietPeriod);
    EXPECT_EQ(b.counts("q").ready, 0u);
    ASSERT_OK(b.advance(1));
    ASSERT_TRUE(b.wait_for_ready("q", 1));
    (void)ch;
  }
  // Released once: the stored message is in the queue and no longer held.
  ManualClock clock(kStart + 20000);
  Options options = disk_options(dir);
  options.clock = &clock;
  TestBroker b(options);
  auto& ch = b.open_channel();
  ASSERT_OK(b.advance(100000));
  EXPECT_EQ(drain_bodies(*ch, "q"), (std::vector<std::string>{"held"}));
}

TEST(Durability, AHeldMessageDueWhileTheBrokerWasDownIsReleasedAtStart) {
  TempDir dir;
  constexpr TimeMs kStart = 1'700'000'000'000;
  BasicProperties props = persistent();
  props.headers = FieldTable{{"x-delay", int64_t{1000}}};
  {
    ManualClock clock(kStart);
    Options options = disk_options(dir);
    options.clock = &clock;
    TestBroker b(options);
    auto& ch = b.open_channel();
    ASSERT_OK(ch->declare_exchange(
        ExchangeSettings{.name = "dx",
                         .type = "x-delayed-message",
                         .durable = true,
                         .arguments = FieldTable{{"x-delayed-type", std::string("fanout")}}},
        false));
    ASSERT_OK(declare_durable(*ch, "q"));
    ASSERT_OK(ch->bind_queue("q", "dx", "", {}));
    ASSERT_OK(publish(*ch, "dx", "", "late", props));
  }
  ManualClock clock(kStart + 60000);
  Options options = disk_options(dir);
  options.clock = &clock;
  TestBroker b(options);
  ASSERT_OK(b.advance(0));
  ASSERT_TRUE(b.wait_for_ready("q", 1));
  auto& ch = b.open_channel();
  EXPECT_EQ(drain_bodies(*ch, "q"), (std::vector<std::string>{"late"}));
}

// ---- memory budget: lazy bodies ---------------------------------------------------------------

constexpr uint64_t kSmallBudget = 64 * 1024;
constexpr size_t kBodySize = 1024;
// Messages that fit the budget, with their per-message overhead.
constexpr size_t kFitInBudget = kSmallBudget / (kBodySize + Persistence::kMessageOverhead);

// Publishes `n` persistent messages in confirmed chunks of `chunk`.
void publish_backlog(TestChannel& ch, std::string_view queue, int n, int chunk) {
  ASSERT_OK(ch->confirm_select());
  for (int i = 0; i < n; ++i) {
    ASSERT_OK(publish(*ch, "", queue, numbered_body(i, kBodySize), persistent()));
    if ((i + 1) % chunk == 0) {
      ASSERT_TRUE(wait_for_confirms(ch, i + 1)) << "at message " << i;
    }
  }
  ASSERT_TRUE(wait_for_confirms(ch, n));
}

TEST(LazyBodies, ABacklogPastTheBudgetKeepsOnlyItsIndexInMemory) {
  TempDir dir;
  TestBroker b(disk_options(dir, kSmallBudget));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_durable(*ch, "q"));
  constexpr int kMessages = 3000;
  constexpr int kChunk = 100;
  publish_backlog(ch, "q", kMessages, kChunk);
  auto q = classic(b, "q");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->counts().ready, kMessages);
  // What fits the budget, plus at most the last chunk (paged out at the next enqueue).
  EXPECT_LE(q->resident_count(), kFitInBudget + kChunk + 1);
  EXPECT_LE(b.core().persistence()->resident_bytes(),
            kSmallBudget + (kChunk + 1) * (kBodySize + Persistence::kMessageOverhead));
}

TEST(LazyBodies, ConsumersGetPagedOutMessagesBackInOrderWithTheirContents) {
  TempDir dir;
  TestBroker b(disk_options(dir, kSmallBudget));
  auto& pub = b.open_channel();
  ASSERT_OK(declare_durable(*pub, "q"));
  constexpr int kMessages = 2000;
  publish_backlog(pub, "q", kMessages, 100);
  auto& sub = b.open_channel();
  ASSERT_OK(sub->qos(0, 50, false));
  ASSERT_OK(consume(*sub, "q", "c"));
  // Ack as they come, so the prefetch window keeps moving through the paged-out part.
  for (int acked = 0; acked < kMessages;) {
    ASSERT_TRUE(sub.sink->wait_for_deliveries(acked + 1)) << "stuck after " << acked;
    auto deliveries = sub.sink->deliveries();
    ASSERT_OK(sub->ack(deliveries.back().delivery_tag, /*multiple=*/true));
    acked = static_cast<int>(deliveries.size());
  }
  auto deliveries = sub.sink->deliveries();
  ASSERT_EQ(deliveries.size(), size_t{kMessages});
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(deliveries[i].body(), numbered_body(i, kBodySize)) << "delivery " << i;
    EXPECT_FALSE(deliveries[i].redelivered);
    EXPECT_TRUE(deliveries[i].message->message.properties.persistent());
  }
  EXPECT_TRUE(
      b.wait_for_counts("q", [](const QueueCounts& c) { return c.ready == 0 && c.unacked == 0; }));
  EXPECT_EQ(b.core().persistence()->resident_bytes(), 0u);
}

TEST(LazyBodies, BasicGetReadsAPagedOutHeadBack) {
  TempDir dir;
  TestBroker b(disk_options(dir, kSmallBudget));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_durable(*ch, "q"));
  publish_backlog(ch, "q", 600, 50);
  // Take the resident head first, then the paged-out rest, one get at a time.
  for (int i = 0; i < 600; ++i) {
    auto r = get_message(*ch, "q");
    ASSERT_EQ(body_of(r), numbered_body(i, kBodySize)) << "get " << i;
    EXPECT_EQ(r->message_count, static_cast<uint32_t>(600 - i - 1));
  }
  EXPECT_FALSE(get_message(*ch, "q").has_value());
}

TEST(LazyBodies, ARestartPastTheBudgetRecoversTheIndexAndDeliversEverything) {
  TempDir dir;
  constexpr int kMessages = 2000;
  {
    TestBroker b(disk_options(dir, kSmallBudget));
    auto& ch = b.open_channel();
    ASSERT_OK(declare_durable(*ch, "q"));
    publish_backlog(ch, "q", kMessages, 200);
  }
  TestBroker b(disk_options(dir, kSmallBudget));
  auto q = classic(b, "q");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->counts().ready, kMessages);
  // Recovery brings back the index only; contents are read when a consumer gets there.
  EXPECT_EQ(q->resident_count(), 0u);
  auto& ch = b.open_channel();
  auto bodies = drain_bodies(*ch, "q");
  ASSERT_EQ(bodies.size(), size_t{kMessages});
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(bodies[i], numbered_body(i, kBodySize));
}

TEST(LazyBodies, ExpiredPagedOutMessagesAreDeadLetteredWithTheirContents) {
  TempDir dir;
  ManualClock clock(1'700'000'000'000);
  Options options = disk_options(dir, kSmallBudget);
  options.clock = &clock;
  TestBroker b(options);
  auto& ch = b.open_channel();
  ASSERT_OK(declare_durable(*ch, "dlq"));
  ASSERT_OK(declare_durable(*ch, "q",
                            FieldTable{{"x-message-ttl", int64_t{1000}},
                                       {"x-dead-letter-exchange", std::string("")},
                                       {"x-dead-letter-routing-key", std::string("dlq")}}));
  constexpr int kMessages = 500;
  publish_backlog(ch, "q", kMessages, 50);
  ASSERT_OK(b.advance(1001));
  ASSERT_TRUE(b.wait_for_ready("dlq", kMessages));
  auto bodies = drain_bodies(*ch, "dlq");
  ASSERT_EQ(bodies.size(), size_t{kMessages});
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(bodies[i], numbered_body(i, kBodySize));
}

TEST(LazyBodies, MessagesThatExpiredWhileTheBrokerWasDownAreDeadLetteredWithTheirContents) {
  TempDir dir;
  constexpr TimeMs kStart = 1'700'000'000'000;
  constexpr int kMessages = 1500;  // several read-back batches
  const FieldTable args{{"x-message-ttl", int64_t{1000}},
                        {"x-dead-letter-exchange", std::string("")},
                        {"x-dead-letter-routing-key", std::string("dlq")}};
  {
    ManualClock clock(kStart);
    Options options = disk_options(dir);
    options.clock = &clock;
    TestBroker b(options);
    auto& ch = b.open_channel();
    ASSERT_OK(declare_durable(*ch, "dlq"));
    ASSERT_OK(declare_durable(*ch, "q", args));
    publish_backlog(ch, "q", kMessages, 500);
  }
  // Recovery brings everything back paged out; the TTL passed while the broker was down.
  ManualClock clock(kStart + 5000);
  Options options = disk_options(dir);
  options.clock = &clock;
  TestBroker b(options);
  ASSERT_TRUE(b.wait_for_ready("dlq", kMessages));
  EXPECT_EQ(b.counts("q").ready, 0u);
  auto& ch = b.open_channel();
  auto bodies = drain_bodies(*ch, "dlq");
  ASSERT_EQ(bodies.size(), size_t{kMessages});
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(bodies[i], numbered_body(i, kBodySize));
}

TEST(LazyBodies, PurgingAPagedOutBacklogReleasesTheBudget) {
  TempDir dir;
  TestBroker b(disk_options(dir, kSmallBudget));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_durable(*ch, "q"));
  publish_backlog(ch, "q", 500, 50);
  auto purged = ch->purge_queue("q");
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 500u);
  EXPECT_EQ(b.core().persistence()->resident_bytes(), 0u);
  // Still usable: a new message is kept in memory again and delivered.
  ASSERT_OK(publish(*ch, "", "q", "fresh", persistent()));
  EXPECT_EQ(body_of(get_message(*ch, "q")), "fresh");
}

}  // namespace
}  // namespace burrow::broker::testing
