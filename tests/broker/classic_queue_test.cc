// Tests for ClassicQueue behind a real broker: basic.get, purge, deletion (if-unused,
// if-empty, consumer notification), auto-delete, exclusive and prioritized consumers, and
// exactly-once delivery under concurrent publishers and consumers.
#include "broker/classic_queue.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::body_of;
using testing::consume;
using testing::declare;
using testing::drain_bodies;
using testing::get_message;
using testing::publish;
using testing::publish_mandatory;
using testing::TestBroker;
using Strings = std::vector<std::string>;

// ---- basic.get ---------------------------------------------------------------------------

TEST(ClassicQueue, GetReportsTheMessagesLeft) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (int i = 1; i <= 3; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  for (uint32_t left : {2u, 1u, 0u}) {
    auto r = get_message(*ch, "q");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->message_count, left);
    EXPECT_EQ(body_of(r), "m" + std::to_string(3 - left));
    EXPECT_FALSE(r->entry.redelivered);
  }
  EXPECT_FALSE(get_message(*ch, "q"));
}

TEST(ClassicQueue, GetCarriesTheMessageAsPublished) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  BasicProperties props;
  props.content_type = "text/plain";
  props.delivery_mode = 2;
  props.headers = FieldTable{{"k", "v"}};
  ASSERT_OK(publish(*ch, "", "q", "body", props));
  auto r = get_message(*ch, "q");
  ASSERT_TRUE(r);
  const Message& m = r->entry.message->message;
  EXPECT_EQ(m.body, "body");
  EXPECT_EQ(m.exchange, "");
  EXPECT_EQ(m.routing_key, "q");
  EXPECT_EQ(m.properties, props);
}

TEST(ClassicQueue, GetWithNoAckSettlesAtOnce) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/true));
  EXPECT_EQ(b.counts("q").unacked, 0u);
  EXPECT_EQ(ch->unacked_count(), 0u);
}

TEST(ClassicQueue, GetWithAckHoldsTheMessageUntilAcked) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->delivery_tag, 1u);
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").unacked, 1u);
}

TEST(ClassicQueue, GetFromAMissingQueueIs404) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status s = ch->get(
      "nope", true, [](const std::optional<GetResult>&) { ADD_FAILURE() << "no result expected"; });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no queue 'nope' in vhost '/'");
}

TEST(ClassicQueue, GetWithoutANameUsesTheLastDeclaredQueue) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto q = ch->declare_queue({});
  ASSERT_OK(q);
  ASSERT_OK(publish(*ch, "", q->name, "m"));
  EXPECT_EQ(body_of(get_message(*ch, "")), "m");
}

// ---- purge -------------------------------------------------------------------------------

TEST(ClassicQueue, PurgeRemovesReadyMessagesOnly) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (int i = 0; i < 4; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  auto purged = ch->purge_queue("q");
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 3u);
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").unacked, 1u);
  // The unacked message survives the purge and comes back when requeued.
  ASSERT_OK(ch->reject(1, /*requeue=*/true));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m0"});
}

TEST(ClassicQueue, PurgeOfAnEmptyQueueIsZero) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto purged = ch->purge_queue("q");
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 0u);
}

TEST(ClassicQueue, PurgeOfAMissingQueueIs404) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto purged = ch->purge_queue("nope");
  EXPECT_EQ(purged.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(purged.status().message(), "no queue 'nope' in vhost '/'");
}

// ---- queue.delete ------------------------------------------------------------------------

TEST(ClassicQueue, DeleteReturnsTheReadyCount) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (int i = 0; i < 3; ++i) ASSERT_OK(publish(*ch, "", "q", "m"));
  auto deleted = ch->delete_queue("q", false, false);
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 3u);
  EXPECT_FALSE(b.queue_exists("q"));
}

TEST(ClassicQueue, DeleteOfAMissingQueueIsOkWithZero) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto deleted = ch->delete_queue("nope", true, true);
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 0u);
}

TEST(ClassicQueue, DeleteIfUnusedWithAConsumerIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c"));
  auto deleted = ch->delete_queue("q", /*if_unused=*/true, false);
  EXPECT_EQ(deleted.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(deleted.status().message(), "queue 'q' in vhost '/' in use");
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(ch->cancel("c", nullptr));
  EXPECT_OK(ch->delete_queue("q", /*if_unused=*/true, false));
}

TEST(ClassicQueue, DeleteIfEmptyWithReadyMessagesIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  auto deleted = ch->delete_queue("q", false, /*if_empty=*/true);
  EXPECT_EQ(deleted.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(deleted.status().message(), "queue 'q' in vhost '/' not empty");
  EXPECT_TRUE(b.queue_exists("q"));
  ASSERT_OK(ch->purge_queue("q"));
  EXPECT_OK(ch->delete_queue("q", false, /*if_empty=*/true));
}

// Regression test, fixed (was: broker/vhost.cc, VHost::delete_queue: `counts.ready + counts.unacked > 0`):
// RabbitMQ's if_empty test is BQ:is_empty, i.e. the queue length without pending acks
// (rabbit_amqqueue_process handle_call({delete, ...})), so a queue whose only messages are
// delivered-but-unacked is empty and is deleted. Burrow refuses with 406 "not empty".
TEST(ClassicQueue, DeleteIfEmptyIgnoresUnackedMessages) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  auto deleted = ch->delete_queue("q", false, /*if_empty=*/true);
  EXPECT_TRUE(deleted.ok()) << "BUG: unacked messages do not make a queue non-empty in "
                               "RabbitMQ; got "
                            << deleted.status().to_string();
}

// Regression test, fixed (was: broker/vhost.cc, VHost::delete_queue checks if_unused before if_empty): RabbitMQ
// checks if_empty first (`IfEmpty and not(IsEmpty) -> {error, not_empty}` precedes the in_use
// clause), so a queue that is both used and non-empty is refused with "... not empty".
TEST(ClassicQueue, DeleteIfEmptyIsCheckedBeforeIfUnused) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto& consumer = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consumer->qos(0, 1, false));
  ASSERT_OK(consume(*consumer, "q", "c"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(consumer.sink->wait_for_deliveries(1));
  ASSERT_TRUE(b.wait_for_ready("q", 1));
  auto deleted = ch->delete_queue("q", /*if_unused=*/true, /*if_empty=*/true);
  EXPECT_EQ(deleted.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(deleted.status().message(), "queue 'q' in vhost '/' not empty")
      << "BUG: RabbitMQ reports not_empty before in_use";
}

TEST(ClassicQueue, DeleteCancelsConsumersWithANotification) {
  TestBroker b;
  auto& admin = b.open_channel();
  auto& consumer = b.open_channel();
  ASSERT_OK(declare(*admin, "q"));
  ASSERT_OK(consume(*consumer, "q", "c1"));
  ASSERT_OK(consume(*consumer, "q", "c2"));
  ASSERT_OK(admin->delete_queue("q", false, false));
  ASSERT_TRUE(consumer.sink->wait_for_cancels(2));
  Strings cancels = consumer.sink->cancels();
  std::sort(cancels.begin(), cancels.end());
  EXPECT_EQ(cancels, (Strings{"c1", "c2"}));
  EXPECT_EQ(consumer->consumer_count(), 0u);
  // The tags are free again.
  ASSERT_OK(declare(*admin, "q"));
  EXPECT_OK(consume(*consumer, "q", "c1"));
}

TEST(ClassicQueue, DeleteOnTheConsumersOwnChannelNotifiesToo) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c"));
  ASSERT_OK(ch->delete_queue("q", false, false));
  ASSERT_TRUE(ch.sink->wait_for_cancels(1));
  EXPECT_EQ(ch.sink->cancels(), Strings{"c"});
}

TEST(ClassicQueue, UnackedMessagesOfADeletedQueueCanStillBeAcked) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_OK(ch->delete_queue("q", false, false));
  EXPECT_OK(ch->ack(1, false));
}

TEST(ClassicQueue, DeleteRemovesTheQueuesBindings) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->bind_queue("q", "amq.direct", "k", {}));
  ASSERT_OK(ch->delete_queue("q", false, false));
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish_mandatory(*ch, "amq.direct", "k", "m"));
  EXPECT_EQ(ch.sink->returns().size(), 1u);
  EXPECT_TRUE(drain_bodies(*ch, "q").empty());
}

TEST(ClassicQueue, DeleteWithoutANameUsesTheLastDeclaredQueue) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto q = ch->declare_queue({});
  ASSERT_OK(q);
  ASSERT_OK(ch->delete_queue("", false, false));
  EXPECT_FALSE(b.queue_exists(q->name));
}

// ---- auto-delete -------------------------------------------------------------------------

TEST(ClassicQueue, AutoDeleteQueueGoesWithItsLastConsumer) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->declare_queue({.name = "ad", .auto_delete = true}));
  ASSERT_OK(consume(*ch, "ad", "c1"));
  ASSERT_OK(consume(*ch, "ad", "c2"));
  ASSERT_OK(ch->cancel("c1", nullptr));
  EXPECT_TRUE(b.queue_exists("ad"));
  ASSERT_OK(ch->cancel("c2", nullptr));
  EXPECT_FALSE(b.queue_exists("ad"));
  EXPECT_EQ(ch->declare_queue({.name = "ad", .passive = true}).status().code(),
            StatusCode::kNotFound);
}

TEST(ClassicQueue, AutoDeleteQueueThatNeverHadAConsumerStays) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->declare_queue({.name = "ad", .auto_delete = true}));
  ASSERT_OK(publish(*ch, "", "ad", "m"));
  ASSERT_TRUE(get_message(*ch, "ad"));
  EXPECT_TRUE(b.queue_exists("ad"));
}

TEST(ClassicQueue, AutoDeleteQueueGoesWhenItsConsumersChannelCloses) {
  TestBroker b;
  auto& admin = b.open_channel();
  auto& ch = b.open_channel();
  ASSERT_OK(admin->declare_queue({.name = "ad", .auto_delete = true}));
  ASSERT_OK(consume(*ch, "ad", "c"));
  ch->close();
  EXPECT_FALSE(b.queue_exists("ad"));
}

TEST(ClassicQueue, AutoDeleteQueueIsNotDeletedByAFailedConsume) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->declare_queue({.name = "ad", .auto_delete = true}));
  ASSERT_OK(consume(*ch, "ad", "c"));
  EXPECT_FALSE(consume(*ch, "ad", "c").ok());  // tag reuse
  EXPECT_TRUE(b.queue_exists("ad"));
  EXPECT_EQ(b.counts("ad").consumers, 1u);
}

// ---- consumers ---------------------------------------------------------------------------

TEST(ClassicQueue, ExclusiveConsumerKeepsOthersOut) {
  TestBroker b;
  auto& one = b.open_channel();
  auto& two = b.open_channel();
  ASSERT_OK(declare(*one, "q"));
  ASSERT_OK(consume(*one, "q", "solo", false, /*exclusive=*/true));
  for (bool exclusive : {false, true}) {
    auto tag = consume(*two, "q", "other", false, exclusive);
    EXPECT_EQ(tag.status().code(), StatusCode::kAccessRefused) << exclusive;
    EXPECT_EQ(tag.status().message(), "queue 'q' in vhost '/' in exclusive use");
  }
  // The same channel is refused too.
  EXPECT_EQ(consume(*one, "q", "again").status().code(), StatusCode::kAccessRefused);
  ASSERT_OK(one->cancel("solo", nullptr));
  EXPECT_OK(consume(*two, "q", "other"));
}

TEST(ClassicQueue, ExclusiveConsumeOfAQueueInUseIs403) {
  TestBroker b;
  auto& one = b.open_channel();
  auto& two = b.open_channel();
  ASSERT_OK(declare(*one, "q"));
  ASSERT_OK(consume(*one, "q", "first"));
  auto tag = consume(*two, "q", "solo", false, /*exclusive=*/true);
  EXPECT_EQ(tag.status().code(), StatusCode::kAccessRefused);
  EXPECT_EQ(tag.status().message(), "queue 'q' in vhost '/' in exclusive use");
  EXPECT_EQ(b.counts("q").consumers, 1u);
}

TEST(ClassicQueue, ExclusiveConsumerReceivesEverything) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "solo", /*no_ack=*/true, /*exclusive=*/true));
  for (int i = 0; i < 5; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(5));
  EXPECT_EQ(ch.sink->bodies(), (Strings{"m0", "m1", "m2", "m3", "m4"}));
}

TEST(ClassicQueue, EqualPriorityConsumersShareRoundRobin) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "a", /*no_ack=*/true));
  ASSERT_OK(consume(*ch, "q", "b", /*no_ack=*/true));
  for (int i = 0; i < 10; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(10));
  std::map<std::string, int> per_consumer;
  for (const auto& d : ch.sink->deliveries()) per_consumer[d.consumer_tag]++;
  EXPECT_EQ(per_consumer["a"], 5);
  EXPECT_EQ(per_consumer["b"], 5);
}

TEST(ClassicQueue, EachConsumerSeesMessagesInQueueOrder) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "a", /*no_ack=*/true));
  ASSERT_OK(consume(*ch, "q", "b", /*no_ack=*/true));
  for (int i = 0; i < 200; ++i) ASSERT_OK(publish(*ch, "", "q", std::to_string(i)));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(200));
  std::map<std::string, int> last;
  for (const auto& d : ch.sink->deliveries()) {
    int n = std::stoi(d.body());
    auto it = last.find(d.consumer_tag);
    if (it != last.end()) {
      EXPECT_GT(n, it->second) << d.consumer_tag;
    }
    last[d.consumer_tag] = n;
  }
}

// Regression test, fixed (was: broker/classic_queue.cc, ClassicQueue::pick_consumer_locked is plain round robin;
// ConsumerSettings::priority is parsed by Channel::consume and never used): RabbitMQ delivers
// to the highest-priority consumers (x-priority) while they are not blocked by prefetch, and
// round-robins only among equal priorities. With no prefetch the high-priority consumer is
// never blocked, so it should receive every message.
TEST(ClassicQueue, HigherPriorityConsumerGetsMessagesFirst) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "low", /*no_ack=*/true, false, FieldTable{{"x-priority", 1}}));
  ASSERT_OK(consume(*ch, "q", "high", /*no_ack=*/true, false, FieldTable{{"x-priority", 10}}));
  for (int i = 0; i < 10; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(10));
  int to_low = 0;
  for (const auto& d : ch.sink->deliveries()) to_low += d.consumer_tag == "low";
  EXPECT_EQ(to_low, 0) << "BUG: x-priority is ignored; consumers are served round robin";
}

// A sink whose first delivery blocks (inside the channel's delivery lock, on the worker that
// runs the queue's drain) until the test lets it go.
class BlockingSink final : public ChannelSink {
 public:
  void on_deliver(const std::string&, uint64_t, const QueueEntry&) override {
    std::unique_lock lock(mu_);
    ++deliveries_;
    cv_.notify_all();
    cv_.wait_for(lock, testing::kWaitTimeout, [&] { return released_; });
  }
  void on_return(uint16_t, std::string_view, const StoredMessage&) override {}
  void on_confirm(uint64_t, bool, bool) override {}
  void on_cancel(const std::string&) override {}
  void on_error(const Status&) override {}
  bool wait_for_deliveries(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, testing::kWaitTimeout, [&] { return deliveries_ >= n; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int deliveries_ = 0;
  bool released_ = false;
};

// Regression test, fixed (was: broker/channel.cc, Channel::deliver hands deliveries for a consumer cancelled in
// the meantime back with Queue::requeue; broker/classic_queue.cc, ClassicQueue::requeue always
// decrements unacked_ -- but a no-ack delivery was never counted as unacked by the drain):
// the queue's unacked count drops below the number of messages really awaiting an ack, here
// from 1 (a basic.get message) to 0.
//
// Deterministic with one worker: the pool is blocked while two messages are published so one
// drain pass takes both (m1 for no-ack consumer B, m2 for no-ack consumer A); B's sink blocks
// inside the first delivery while the test cancels A, so m2 reaches a cancelled consumer and
// is requeued (then delivered to B).
TEST(ClassicQueue, UnackedCountSurvivesANoAckDeliveryRacingACancel) {
  Options options = TestBroker::default_options();
  options.worker_threads = 1;
  TestBroker b(options);
  auto& a = b.open_channel();
  ASSERT_OK(declare(*a, "q"));
  ASSERT_OK(publish(*a, "", "q", "m0"));
  ASSERT_TRUE(get_message(*a, "q", /*no_ack=*/false));  // one message really unacked
  ASSERT_EQ(b.counts("q").unacked, 1u);

  BlockingSink blocking;
  auto b_channel = std::make_shared<Channel>(b.connection(), 100, &blocking);
  struct Closer {
    ChannelPtr channel;
    ~Closer() { channel->close(); }
  } closer{b_channel};
  ASSERT_OK(consume(*b_channel, "q", "B", /*no_ack=*/true));
  ASSERT_OK(consume(*a, "q", "A", /*no_ack=*/true));

  std::mutex mu;
  std::condition_variable cv;
  bool pool_blocked = false;
  bool unblock = false;
  b.core().executor().post([&] {
    std::unique_lock lock(mu);
    pool_blocked = true;
    cv.notify_all();
    cv.wait(lock, [&] { return unblock; });
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, testing::kWaitTimeout, [&] { return pool_blocked; }));
  }
  ASSERT_OK(publish(*a, "", "q", "m1"));  // round robin: B
  ASSERT_OK(publish(*a, "", "q", "m2"));  // round robin: A
  {
    std::lock_guard lock(mu);
    unblock = true;
    cv.notify_all();
  }
  ASSERT_TRUE(blocking.wait_for_deliveries(1));
  ASSERT_OK(a->cancel("A", nullptr));
  blocking.release();
  ASSERT_TRUE(blocking.wait_for_deliveries(2));  // m2 came back and went to B
  EXPECT_TRUE(a.sink->deliveries().empty());
  EXPECT_EQ(b.counts("q").unacked, 1u)
      << "BUG: requeueing a no-ack delivery decremented the queue's unacked count";
}

TEST(ClassicQueue, ConsumerCountsFollowConsumeAndCancel) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "a"));
  ASSERT_OK(consume(*ch, "q", "b"));
  EXPECT_EQ(b.counts("q").consumers, 2u);
  ASSERT_OK(ch->cancel("a", nullptr));
  EXPECT_EQ(b.counts("q").consumers, 1u);
}

// ---- concurrency -------------------------------------------------------------------------

// Four publisher threads (one channel each) and two consumers: one no-ack, one acking with a
// prefetch of 10 from its own thread. Every message must arrive exactly once, and each
// publisher's messages must reach each consumer in publish order.
TEST(ClassicQueue, ConcurrentPublishersAndConsumersDeliverEachMessageExactlyOnce) {
  constexpr int kPublishers = 4;
  constexpr int kPerPublisher = 500;
  constexpr size_t kTotal = kPublishers * kPerPublisher;
  TestBroker b;
  auto& admin = b.open_channel();
  ASSERT_OK(declare(*admin, "work"));
  auto& auto_ack = b.open_channel(b.connect());
  auto& manual = b.open_channel(b.connect());
  ASSERT_OK(consume(*auto_ack, "work", "auto", /*no_ack=*/true));
  ASSERT_OK(manual->qos(0, 10, false));
  ASSERT_OK(consume(*manual, "work", "manual"));
  std::vector<testing::TestChannel*> publishers;
  for (int t = 0; t < kPublishers; ++t) publishers.push_back(&b.open_channel(b.connect()));

  std::atomic<bool> stop{false};
  std::thread acker([&] {
    // The manual consumer's owner thread: acks whatever arrived, multiple=true.
    size_t acked = 0;
    while (true) {
      bool last_round = stop.load();
      auto ds = manual.sink->deliveries();
      if (ds.size() > acked) {
        EXPECT_OK(manual->ack(ds.back().delivery_tag, /*multiple=*/true));
        acked = ds.size();
      }
      if (last_round) break;
      manual.sink->wait_for_deliveries(acked + 1, std::chrono::milliseconds(20));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kPublishers; ++t) {
    threads.emplace_back([&, t] {
      Channel& ch = **publishers[t];
      for (int i = 0; i < kPerPublisher; ++i) {
        EXPECT_OK(publish(ch, "", "work", std::to_string(t) + ":" + std::to_string(i)));
      }
    });
  }
  for (auto& t : threads) t.join();

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (auto_ack.sink->delivery_count() + manual.sink->delivery_count() < kTotal &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  acker.join();

  std::vector<std::string> all;
  for (auto* sink : {auto_ack.sink.get(), manual.sink.get()}) {
    std::vector<int> last(kPublishers, -1);
    for (const auto& d : sink->deliveries()) {
      all.push_back(d.body());
      int t = std::stoi(d.body().substr(0, d.body().find(':')));
      int i = std::stoi(d.body().substr(d.body().find(':') + 1));
      EXPECT_GT(i, last[t]) << "publisher " << t << " out of order";
      last[t] = i;
      EXPECT_FALSE(d.redelivered);
    }
  }
  ASSERT_EQ(all.size(), kTotal);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a message came twice";
  std::vector<std::string> expected;
  for (int t = 0; t < kPublishers; ++t) {
    for (int i = 0; i < kPerPublisher; ++i) {
      expected.push_back(std::to_string(t) + ":" + std::to_string(i));
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(all, expected);
  EXPECT_GT(manual.sink->delivery_count(), 0u);
  EXPECT_EQ(manual->unacked_count(), 0u);
  QueueCounts counts = b.counts("work");
  EXPECT_EQ(counts.ready, 0u);
  EXPECT_EQ(counts.unacked, 0u);
}

TEST(ClassicQueue, ConcurrentPublishersWithoutConsumersLoseNothing) {
  constexpr int kPublishers = 4;
  constexpr int kPerPublisher = 250;
  TestBroker b;
  auto& admin = b.open_channel();
  ASSERT_OK(declare(*admin, "q"));
  std::vector<testing::TestChannel*> publishers;
  for (int t = 0; t < kPublishers; ++t) publishers.push_back(&b.open_channel());
  std::vector<std::thread> threads;
  for (int t = 0; t < kPublishers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerPublisher; ++i) {
        EXPECT_OK(publish(**publishers[t], "", "q", std::to_string(t)));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(b.counts("q").ready, static_cast<uint32_t>(kPublishers * kPerPublisher));
}

}  // namespace
}  // namespace burrow::broker
