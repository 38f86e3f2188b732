// Quorum queues (x-queue-type quorum) on one node, as RabbitMQ 3.10.8 shows them to a client:
// declaration rules, requeue at the back and returns at the front, x-delivery-count, the soft
// length limit, the operations they refuse, and durability of every message. The expected
// orders and texts were observed on RabbitMQ 3.10.8 (tests/differential/scenarios/quorum.py
// records the same against it).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_broker.h"
#include "tests/storage/temp_dir.h"

namespace burrow::broker::testing {
namespace {

using Strings = std::vector<std::string>;
using storage::testing::TempDir;

FieldTable quorum(FieldTable extra = {}) {
  FieldTable args = std::move(extra);
  args.set("x-queue-type", std::string("quorum"));
  return args;
}

Result<QueueDeclareResult> declare_quorum(Channel& ch, std::string name, FieldTable extra = {},
                                          bool durable = true) {
  return ch.declare_queue(QueueDeclareRequest{
      .name = std::move(name), .durable = durable, .arguments = quorum(std::move(extra))});
}

// Publishes m1..mN to `queue` through the default exchange.
void publish_numbered(Channel& ch, const std::string& queue, int n) {
  for (int i = 1; i <= n; ++i) ASSERT_OK(publish(ch, "", queue, "m" + std::to_string(i)));
}

// Takes every ready message (no_ack): body, redelivered, x-delivery-count (-1 when absent).
struct Got {
  std::string body;
  bool redelivered;
  int64_t delivery_count;
  friend bool operator==(const Got&, const Got&) = default;
};
void PrintTo(const Got& g, std::ostream* os) {
  *os << "{" << g.body << "," << g.redelivered << "," << g.delivery_count << "}";
}
std::vector<Got> drain(Channel& ch, std::string_view queue) {
  std::vector<Got> out;
  for (;;) {
    auto r = get_message(ch, queue, /*no_ack=*/true);
    if (!r) return out;
    const FieldValue* count = header_of(*r->entry.message, "x-delivery-count");
    out.push_back(Got{r->entry.message->message.body, r->entry.redelivered,
                      count != nullptr ? count->as_integer().value_or(-2) : -1});
  }
}

// A broker on a RocksDB store in `dir`, restarted by making another with the same options.
Options disk_options(const TempDir& dir) {
  Options options;
  options.data_dir = dir.path();
  options.durability = Durability::kOs;  // the tests restart cleanly; fsync adds only time
  options.worker_threads = 2;
  return options;
}

std::vector<uint64_t> get_tags(Channel& ch, std::string_view queue, int n) {
  std::vector<uint64_t> tags;
  for (int i = 0; i < n; ++i) {
    auto r = get_message(ch, queue, /*no_ack=*/false);
    EXPECT_TRUE(r);
    if (r) tags.push_back(r->delivery_tag);
  }
  return tags;
}

// ---- declaration -----------------------------------------------------------------------------

TEST(QuorumQueue, RefusesWhatRabbitMqRefusesAtDeclaration) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto refused = [&](QueueDeclareRequest request) {
    request.arguments = quorum(std::move(request.arguments));
    auto r = b.open_channel()->declare_queue(std::move(request));
    EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed);
    return r.status().message();
  };
  EXPECT_EQ(refused({.name = "q1"}), "invalid property 'non-durable' for queue 'q1' in vhost '/'");
  EXPECT_EQ(refused({.name = "q2", .durable = true, .exclusive = true}),
            "invalid property 'exclusive-owner' for queue 'q2' in vhost '/'");
  EXPECT_EQ(refused({.name = "q3", .durable = true, .auto_delete = true}),
            "invalid property 'auto-delete' for queue 'q3' in vhost '/'");
  EXPECT_EQ(refused({.name = "", .durable = true}),
            "Cannot declare a server-named queue for type rabbit_quorum_queue");
  EXPECT_EQ(refused({.name = "q4", .durable = true, .arguments = {{"x-max-priority", int64_t{5}}}}),
            "invalid arg 'x-max-priority' for queue 'q4' in vhost '/' of queue type "
            "rabbit_quorum_queue");
  EXPECT_EQ(refused({.name = "q5",
                     .durable = true,
                     .arguments = {{"x-dead-letter-strategy", std::string("foo")}}}),
            "invalid arg 'x-dead-letter-strategy' for queue 'q5' in vhost '/': "
            "invalid_dlx_strategy");
  // Accepted as RabbitMQ 3.10.8 accepts them (reject-publish-dlx means drop-head there).
  EXPECT_OK(declare_quorum(*ch, "a1", {{"x-overflow", std::string("reject-publish-dlx")}}));
  EXPECT_OK(declare_quorum(*ch, "a2", {{"x-delivery-limit", std::string("a")}}));
  EXPECT_OK(declare_quorum(*ch, "a3",
                           {{"x-dead-letter-strategy", std::string("at-least-once")},
                            {"x-quorum-initial-group-size", int64_t{3}},
                            {"x-foo", int64_t{1}}}));
}

TEST(QuorumQueue, RedeclarationComparesTheQuorumArgumentsAndTheType) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "q", {{"x-delivery-limit", int64_t{3}}}));
  // Unknown keys are not compared; the type and the quorum keys are.
  EXPECT_OK(declare_quorum(*ch, "q", {{"x-delivery-limit", int64_t{3}}, {"x-foo", int64_t{1}}}));
  auto r = declare_quorum(*b.open_channel(), "q", {{"x-delivery-limit", int64_t{4}}});
  EXPECT_EQ(r.status().message(),
            "inequivalent arg 'x-delivery-limit' for queue 'q' in vhost '/': received '4' but "
            "current is '3'");
  r = b.open_channel()->declare_queue(
      {.name = "q", .durable = true, .arguments = {{"x-delivery-limit", int64_t{3}}}});
  EXPECT_EQ(r.status().message(),
            "inequivalent arg 'x-queue-type' for queue 'q' in vhost '/': received none but "
            "current is the value 'quorum' of type 'longstr'");
}

// ---- requeue order ---------------------------------------------------------------------------

TEST(QuorumQueue, ANackedMessageGoesToTheBack) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "q"));
  publish_numbered(*ch, "q", 5);
  auto tags = get_tags(*ch, "q", 2);
  ASSERT_OK(ch->nack(tags[0], false, /*requeue=*/true));
  EXPECT_EQ(
      drain(*ch, "q"),
      (std::vector<Got>{{"m3", false, 0}, {"m4", false, 0}, {"m5", false, 0}, {"m1", true, 1}}));
}

TEST(QuorumQueue, AClosedChannelsMessagesComeBackFirstAndRejectedOnesLast) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "q"));
  publish_numbered(*ch, "q", 5);
  auto& reader = b.open_channel();
  auto tags = get_tags(*reader, "q", 3);
  ASSERT_OK(reader->reject(tags[1], /*requeue=*/true));
  reader->close();
  EXPECT_EQ(
      drain(*ch, "q"),
      (std::vector<Got>{
          {"m1", true, 1}, {"m3", true, 1}, {"m4", false, 0}, {"m5", false, 0}, {"m2", true, 1}}));
}

TEST(QuorumQueue, NackMultipleAndRecoverRequeueInDeliveryOrderAtTheBack) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "q1"));
  ASSERT_OK(declare_quorum(*ch, "q2"));
  publish_numbered(*ch, "q1", 5);
  publish_numbered(*ch, "q2", 5);
  auto tags = get_tags(*ch, "q1", 3);
  ASSERT_OK(ch->nack(tags[2], /*multiple=*/true, /*requeue=*/true));
  const std::vector<Got> expected{
      {"m4", false, 0}, {"m5", false, 0}, {"m1", true, 1}, {"m2", true, 1}, {"m3", true, 1}};
  EXPECT_EQ(drain(*ch, "q1"), expected);
  get_tags(*ch, "q2", 3);
  ASSERT_OK(ch->recover(/*requeue=*/true));
  EXPECT_EQ(drain(*ch, "q2"), expected);
}

TEST(QuorumQueue, ConsumerDeliveriesCarryTheDeliveryCountOnlyWhenRedelivered) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  auto& sub = b.open_channel();
  ASSERT_OK(consume(*sub, "q", "c"));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(1));
  auto first = sub.sink->deliveries()[0];
  EXPECT_EQ(header_of(*first.message, "x-delivery-count"), nullptr);
  ASSERT_OK(sub->nack(first.delivery_tag, false, /*requeue=*/true));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(2));
  auto second = sub.sink->deliveries()[1];
  EXPECT_TRUE(second.redelivered);
  ASSERT_NE(header_of(*second.message, "x-delivery-count"), nullptr);
  EXPECT_EQ(*header_of(*second.message, "x-delivery-count"), FieldValue(int64_t{1}));
}

TEST(QuorumQueue, DeliveryLimitCountsReturnsOfAClosedChannelAndDeadLetters) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "dlq"));
  ASSERT_OK(declare_quorum(*ch, "q",
                           {{"x-delivery-limit", int64_t{1}},
                            {"x-dead-letter-exchange", std::string("")},
                            {"x-dead-letter-routing-key", std::string("dlq")}}));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  for (int i = 0; i < 2; ++i) {
    auto& reader = b.open_channel();
    ASSERT_EQ(get_tags(*reader, "q", 1).size(), 1u);
    reader->close();  // a return: counts towards the limit on a quorum queue
  }
  EXPECT_EQ(b.counts("q").ready, 0u);
  auto dead = get_message(*ch, "dlq");
  ASSERT_TRUE(dead);
  EXPECT_EQ(*header_of(*dead->entry.message, "x-first-death-reason"), FieldValue("delivery_limit"));
}

TEST(QuorumQueue, TheNextSingleActiveConsumerIsServedBeforeTheClosedOnesMessageComesBack) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "q", {{"x-single-active-consumer", true}}));
  auto& a = b.open_channel();
  auto& next = b.open_channel();
  ASSERT_OK(a->qos(0, 1, false));
  ASSERT_OK(next->qos(0, 1, false));
  ASSERT_OK(consume(*a, "q", "a"));
  ASSERT_OK(consume(*next, "q", "b"));
  publish_numbered(*ch, "q", 3);
  ASSERT_TRUE(a.sink->wait_for_deliveries(1));
  a->close();
  // As RabbitMQ 3.10.8: b takes over and gets m2 at once; m1 comes back ahead of m3.
  std::vector<std::string> got;
  for (size_t n = 1; n <= 3; ++n) {
    ASSERT_TRUE(next.sink->wait_for_deliveries(n)) << n;
    auto d = next.sink->deliveries()[n - 1];
    got.push_back(d.body() + (d.redelivered ? "*" : ""));
    ASSERT_OK(next->ack(d.delivery_tag, false));
  }
  EXPECT_EQ(got, (Strings{"m2", "m1*", "m3"}));
}

// ---- length limits ---------------------------------------------------------------------------

TEST(QuorumQueue, RejectPublishRefusesOnceOverTheLimitUntilDownToEightyPercent) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(
      *ch, "q", {{"x-max-length", int64_t{5}}, {"x-overflow", std::string("reject-publish")}}));
  ASSERT_OK(ch->confirm_select());
  for (int i = 1; i <= 8; ++i) {
    ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
    ch->flush();  // one confirm per publish
  }
  std::vector<bool> acks;
  for (const auto& c : ch.sink->confirms()) acks.push_back(c.ack);
  // Over the limit only after the sixth: the seventh and eighth are refused.
  EXPECT_EQ(acks, (std::vector<bool>{true, true, true, true, true, true, false, false}));
  EXPECT_EQ(b.counts("q").ready, 6u);
  // Down to 5 (not yet 80 % of 5 = 4): still refused; at 4 accepted again.
  ASSERT_TRUE(get_message(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "x1"));
  ch->flush();
  ASSERT_TRUE(get_message(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "x2"));
  ch->flush();
  auto confirms = ch.sink->confirms();
  ASSERT_EQ(confirms.size(), 10u);
  EXPECT_FALSE(confirms[8].ack);
  EXPECT_TRUE(confirms[9].ack);
}

TEST(QuorumQueue, ThePublishThatCrossesTheLimitBlocksTheNextOnes) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(
      *ch, "q", {{"x-max-length", int64_t{5}}, {"x-overflow", std::string("reject-publish")}}));
  ASSERT_OK(ch->confirm_select());
  for (const char* body : {"m1", "m2", "m3", "m4", "m5", "m6"}) {
    ASSERT_OK(publish(*ch, "", "q", body));
    ch->flush();
  }
  // Back at the limit (5), not below 80 % of it: still refused (RabbitMQ 3.10.8, observed).
  ASSERT_TRUE(get_message(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "x1"));
  ch->flush();
  ASSERT_TRUE(get_message(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "x2"));
  ch->flush();
  std::vector<bool> acks;
  for (const auto& c : ch.sink->confirms()) acks.push_back(c.ack);
  EXPECT_EQ(acks, (std::vector<bool>{true, true, true, true, true, true, false, true}));
}

TEST(QuorumQueue, DropHeadKeepsTheNewestAndRejectPublishDlxMeansDropHead) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "d", {{"x-max-length", int64_t{2}}}));
  ASSERT_OK(declare_quorum(
      *ch, "x", {{"x-max-length", int64_t{2}}, {"x-overflow", std::string("reject-publish-dlx")}}));
  publish_numbered(*ch, "d", 5);
  publish_numbered(*ch, "x", 5);
  EXPECT_EQ(drain_bodies(*ch, "d"), (Strings{"m4", "m5"}));
  EXPECT_EQ(drain_bodies(*ch, "x"), (Strings{"m4", "m5"}));
}

// ---- refused operations ----------------------------------------------------------------------

TEST(QuorumQueue, RefusesGlobalQosGetWithSingleActiveConsumerAndConditionalDelete) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "q"));
  ASSERT_OK(declare_quorum(*ch, "sac", {{"x-single-active-consumer", true}}));

  auto& global = b.open_channel();
  ASSERT_OK(global->qos(0, 10, /*global=*/true));
  Status s = consume(*global, "q").status();
  EXPECT_EQ(s.code(), StatusCode::kNotImplemented);
  EXPECT_EQ(s.message(), "queue 'q' in vhost '/' does not support global qos");
  auto& unlimited = b.open_channel();
  ASSERT_OK(unlimited->qos(0, 0, /*global=*/true));
  EXPECT_OK(consume(*unlimited, "q"));

  s = b.open_channel()->get("sac", false, [](const auto&) {});
  EXPECT_EQ(s.code(), StatusCode::kResourceLocked);
  EXPECT_EQ(s.message(),
            "cannot obtain access to locked queue 'sac' in vhost '/'. basic.get operations are "
            "not supported by quorum queues with single active consumer");

  s = b.open_channel()->delete_queue("q", /*if_unused=*/true, /*if_empty=*/true).status();
  EXPECT_EQ(s.code(), StatusCode::kNotImplemented);
  EXPECT_EQ(s.message(),
            "cannot delete queue 'q' in vhost '/'. queue.delete operations with if-unused flag "
            "set are not supported by quorum queues");
  s = b.open_channel()->delete_queue("q", false, /*if_empty=*/true).status();
  EXPECT_EQ(s.message(),
            "cannot delete queue 'q' in vhost '/'. queue.delete operations with if-empty flag "
            "set are not supported by quorum queues");
  EXPECT_OK(ch->delete_queue("sac", false, false));
}

// ---- TTL and durability ----------------------------------------------------------------------

TEST(QuorumQueue, MessageTtlExpiresAtTheHead) {
  ManualClock clock(1'700'000'000'000);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_quorum(*ch, "q", {{"x-message-ttl", int64_t{1000}}}));
  ASSERT_OK(publish(*ch, "", "q", "old"));
  ASSERT_OK(b.advance(600));
  ASSERT_OK(publish(*ch, "", "q", "new"));
  ASSERT_OK(b.advance(500));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"new"}));
}

TEST(QuorumQueue, TransientMessagesSurviveARestartAndRequeuedOnesKeepTheirNewPlace) {
  TempDir dir;
  const Options options = disk_options(dir);
  {
    TestBroker b(options);
    auto& ch = b.open_channel();
    ASSERT_OK(declare_quorum(*ch, "q"));
    ASSERT_OK(ch->confirm_select());
    publish_numbered(*ch, "q", 3);  // transient (no delivery mode)
    ASSERT_TRUE(b.wait_for_ready("q", 3));
    // Confirmed once written, although transient: a quorum queue stores every message.
    const auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
    auto confirmed = [&] {
      ch->flush();
      auto confirms = ch.sink->confirms();
      return !confirms.empty() && confirms.back().seq == 3 && confirms.back().ack;
    };
    while (!confirmed() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(confirmed());
    auto tags = get_tags(*ch, "q", 1);
    ASSERT_OK(ch->nack(tags[0], false, /*requeue=*/true));  // m1 to the back
  }
  TestBroker b(options);
  auto& ch = b.open_channel();
  auto r = ch->declare_queue({.name = "q", .passive = true});
  ASSERT_OK(r);
  EXPECT_EQ(r->message_count, 3u);
  EXPECT_EQ(drain(*ch, "q"),
            (std::vector<Got>{{"m2", false, 0}, {"m3", false, 0}, {"m1", true, 1}}));
}

TEST(QuorumQueue, AConsumerSeesTheDeliveryCountOfAMessageRecoveredAfterARestart) {
  TempDir dir;
  const Options options = disk_options(dir);
  {
    TestBroker b(options);
    auto& ch = b.open_channel();
    ASSERT_OK(declare_quorum(*ch, "q"));
    ASSERT_OK(publish(*ch, "", "q", "m1"));
    auto& reader = b.open_channel();
    ASSERT_EQ(get_tags(*reader, "q", 1).size(), 1u);
    reader->close();  // returned: delivered once
    ASSERT_TRUE(b.wait_for_ready("q", 1));
  }
  TestBroker b(options);
  auto& sub = b.open_channel();
  ASSERT_OK(consume(*sub, "q", "c"));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(1));
  auto d = sub.sink->deliveries()[0];
  EXPECT_TRUE(d.redelivered);
  const auto& headers = d.message->message.properties.headers;
  ASSERT_TRUE(headers && headers->find("x-delivery-count"));
  EXPECT_EQ(*headers->find("x-delivery-count"), FieldValue(int64_t{1}));
}

}  // namespace
}  // namespace burrow::broker::testing
