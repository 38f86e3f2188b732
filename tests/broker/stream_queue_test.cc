// Streams (x-queue-type stream) on one node, as RabbitMQ 3.10.8 shows them to a client:
// declaration rules, consumers that need a prefetch and manual acks, x-stream-offset (first,
// last, next, a number, a timestamp, an interval), the x-stream-offset header, acks that keep
// the log, retention by size and by age a segment at a time, the operations streams refuse,
// and durability. tests/differential/scenarios/stream.py records the client-visible rules
// against RabbitMQ 3.10.8.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/status_macros.h"
#include "broker/stream_queue.h"
#include "test_broker.h"
#include "tests/storage/temp_dir.h"

namespace burrow::broker::testing {
namespace {

using Strings = std::vector<std::string>;
using storage::testing::TempDir;

constexpr TimeMs kStart = 1'700'000'000'000;

FieldTable stream(FieldTable extra = {}) {
  FieldTable args = std::move(extra);
  args.set("x-queue-type", std::string("stream"));
  return args;
}

Result<QueueDeclareResult> declare_stream(Channel& ch, std::string name, FieldTable extra = {}) {
  return ch.declare_queue(
      QueueDeclareRequest{.name = std::move(name), .durable = true, .arguments = stream(extra)});
}

void publish_numbered(Channel& ch, const std::string& queue, int from, int to) {
  for (int i = from; i <= to; ++i) ASSERT_OK(publish(ch, "", queue, "m" + std::to_string(i)));
}

// A consumer on its own channel with prefetch `prefetch`, from `offset` (absent: none given).
Result<std::string> subscribe(TestChannel& ch, const std::string& queue,
                              std::optional<FieldValue> offset, uint16_t prefetch = 100) {
  RETURN_IF_ERROR(ch->qos(0, prefetch, false));
  FieldTable args;
  if (offset) args.set("x-stream-offset", *offset);
  return consume(*ch, queue, {}, false, false, std::move(args));
}

// The bodies a consumer from `offset` receives (waiting for `expected` of them, then making
// sure no more come).
Strings read_from(TestBroker& b, const std::string& queue, std::optional<FieldValue> offset,
                  size_t expected) {
  auto& ch = b.open_channel();
  EXPECT_OK(subscribe(ch, queue, std::move(offset)));
  EXPECT_TRUE(ch.sink->wait_for_deliveries(expected));
  EXPECT_TRUE(ch.sink->stays_at(expected));
  Strings out = ch.sink->bodies();
  ch->close();
  return out;
}

int64_t offset_header(const RecordingSink::Delivery& d) {
  const FieldValue* h = header_of(*d.message, "x-stream-offset");
  EXPECT_NE(h, nullptr);
  return h != nullptr && h->is<int64_t>() ? *h->get_if<int64_t>() : -1;
}

Options disk_options(const TempDir& dir) {
  Options options;
  options.data_dir = dir.path();
  options.durability = Durability::kOs;
  options.worker_threads = 2;
  return options;
}

// ---- declaration ------------------------------------------------------------------------------

TEST(Stream, RefusesWhatRabbitMqRefusesAtDeclaration) {
  TestBroker b;
  auto refused = [&](QueueDeclareRequest request) {
    request.arguments = stream(std::move(request.arguments));
    auto r = b.open_channel()->declare_queue(std::move(request));
    EXPECT_FALSE(r.ok());
    return std::make_pair(r.status().code(), r.status().message());
  };
  using P = std::pair<StatusCode, std::string>;
  const auto kPre = StatusCode::kPreconditionFailed;
  EXPECT_EQ(refused({.name = "s1"}),
            P(kPre, "invalid property 'non-durable' for queue 's1' in vhost '/'"));
  EXPECT_EQ(refused({.name = "s2", .durable = true, .exclusive = true}),
            P(kPre, "invalid property 'exclusive-owner' for queue 's2' in vhost '/'"));
  EXPECT_EQ(refused({.name = "s3", .durable = true, .auto_delete = true}),
            P(kPre, "invalid property 'auto-delete' for queue 's3' in vhost '/'"));
  EXPECT_EQ(refused({.name = "", .durable = true}),
            P(kPre, "Cannot declare a server-named queue for type rabbit_stream_queue"));
  for (const char* key : {"x-message-ttl", "x-max-length", "x-expires", "x-max-priority"}) {
    EXPECT_EQ(refused({.name = "s4", .durable = true, .arguments = {{key, int64_t{5}}}}),
              P(kPre, std::string("invalid arg '") + key +
                          "' for queue 's4' in vhost '/' of queue type rabbit_stream_queue"));
  }
  EXPECT_EQ(refused({.name = "s5", .durable = true, .arguments = {{"x-max-age", "1x"}}}),
            P(kPre, "invalid arg 'x-max-age' for queue 's5' in vhost '/': invalid_max_age"));
  EXPECT_EQ(refused({.name = "s6", .durable = true, .arguments = {{"x-max-age", "0D"}}}),
            P(kPre, "invalid arg 'x-max-age' for queue 's6' in vhost '/': invalid_max_age"));
  // Past a million years (it would overflow the milliseconds): refused, not wrapped.
  EXPECT_EQ(refused({.name = "s6", .durable = true, .arguments = {{"x-max-age", "292471209Y"}}}),
            P(kPre, "invalid arg 'x-max-age' for queue 's6' in vhost '/': invalid_max_age"));
  // No leading digits: RabbitMQ 3.10.8 crashes, the client sees a bare 541.
  EXPECT_EQ(refused({.name = "s7", .durable = true, .arguments = {{"x-max-age", "foo"}}}),
            P(StatusCode::kInternalError, ""));
  EXPECT_EQ(refused({.name = "s8", .durable = true, .arguments = {{"x-max-length-bytes", -1}}}),
            P(kPre,
              "invalid arg 'x-max-length-bytes' for queue 's8' in vhost '/': "
              "{value_negative,-1}"));
  auto& ch = b.open_channel();
  EXPECT_OK(declare_stream(*ch, "ok",
                           {{"x-max-age", "7D"},
                            {"x-max-length-bytes", int64_t{1} << 30},
                            {"x-stream-max-segment-size-bytes", int64_t{1000}},
                            {"x-initial-cluster-size", int64_t{3}}}));
}

TEST(Stream, RedeclarationComparesTheStreamArguments) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "s", {{"x-max-age", "1h"}}));
  EXPECT_OK(declare_stream(*ch, "s", {{"x-max-age", "1h"}, {"x-foo", int64_t{1}}}));
  auto r = declare_stream(*b.open_channel(), "s", {{"x-max-age", "2h"}});
  EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(r.status().message(),
            "inequivalent arg 'x-max-age' for queue 's' in vhost '/': received '2h' but current "
            "is '1h'");
}

// ---- consumers --------------------------------------------------------------------------------

TEST(Stream, ConsumersNeedTheirOwnPrefetchAndManualAcks) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "st"));
  publish_numbered(*ch, "st", 0, 4);
  const std::string no_prefetch_text =
      "consumer prefetch count is not set for 'queue 'st' in vhost '/''";
  auto r = consume(*b.open_channel(), "st");
  EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(r.status().message(), no_prefetch_text);
  // The prefetch is checked before no-ack.
  r = consume(*b.open_channel(), "st", {}, /*no_ack=*/true);
  EXPECT_EQ(r.status().message(), no_prefetch_text);
  auto& auto_ack = b.open_channel();
  ASSERT_OK(auto_ack->qos(0, 10, false));
  r = consume(*auto_ack, "st", {}, /*no_ack=*/true);
  EXPECT_EQ(r.status().code(), StatusCode::kNotImplemented);
  EXPECT_EQ(r.status().message(),
            "automatic acknowledgement not supported by stream queues queue 'st' in vhost '/'");
  // A global prefetch is no consumer prefetch...
  auto& global = b.open_channel();
  ASSERT_OK(global->qos(0, 10, true));
  r = consume(*global, "st");
  EXPECT_EQ(r.status().message(), no_prefetch_text);
  // ...and is ignored beside one: global 1, consumer 10 receives all five.
  auto& both = b.open_channel();
  ASSERT_OK(both->qos(0, 1, true));
  ASSERT_OK(subscribe(both, "st", FieldValue("first"), 10));
  ASSERT_TRUE(both.sink->wait_for_deliveries(5));
}

TEST(Stream, RefusesGetPurgeNackAndReject) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "st"));
  publish_numbered(*ch, "st", 0, 1);
  auto get = ch->get("st", false, [](const std::optional<GetResult>&) {});
  EXPECT_EQ(get.code(), StatusCode::kNotImplemented);
  EXPECT_EQ(get.message(), "basic.get not supported by stream queues queue 'st' in vhost '/'");
  auto purge = b.open_channel()->purge_queue("st");
  EXPECT_EQ(purge.status().code(), StatusCode::kNotImplemented);
  EXPECT_EQ(purge.status().message(),
            "queue.purge not supported by stream queues queue 'st' in vhost '/'");
  auto& sub = b.open_channel();
  ASSERT_OK(subscribe(sub, "st", FieldValue("first")));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(2));
  const auto d = sub.sink->deliveries();
  Status nack = sub->nack(d[0].delivery_tag, false, true);
  EXPECT_EQ(nack.code(), StatusCode::kNotImplemented);
  EXPECT_EQ(nack.message(),
            "basic.nack and basic.reject not supported by stream queues queue 'st' in vhost '/'");
  EXPECT_EQ(sub->reject(d[1].delivery_tag, false).code(), StatusCode::kNotImplemented);
  // basic.recover crashes RabbitMQ 3.10.8's channel: a bare 541.
  auto& again = b.open_channel();
  ASSERT_OK(subscribe(again, "st", FieldValue("first")));
  ASSERT_TRUE(again.sink->wait_for_deliveries(2));
  Status recover = again->recover(true);
  EXPECT_EQ(recover.code(), StatusCode::kInternalError);
  EXPECT_EQ(recover.message(), "");
  // Nothing left the log.
  EXPECT_EQ(b.counts("st").ready, 2u);
  // queue.delete ignores if-unused and if-empty, and says 0 messages, as RabbitMQ 3.10.8.
  auto deleted = b.open_channel()->delete_queue("st", true, true, nullptr);
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 0u);
  EXPECT_FALSE(b.queue_exists("st"));
}

TEST(Stream, ANackRefusedByAStreamStillRequeuesTheClassicQueuesMessages) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "st"));
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "st", "s0"));
  ASSERT_OK(publish(*ch, "", "q", "q0"));
  auto& sub = b.open_channel();
  ASSERT_OK(subscribe(sub, "st", FieldValue("first")));
  ASSERT_OK(consume(*sub, "q", "cq"));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(2));
  // One nack of both: the stream refuses (540), the classic queue's message is requeued, not
  // lost with the connection.
  Status nack = sub->nack(0, /*multiple=*/true, /*requeue=*/true);
  EXPECT_EQ(nack.code(), StatusCode::kNotImplemented);
  sub->close();
  EXPECT_TRUE(b.wait_for_ready("q", 1));
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"q0"}));
}

TEST(Stream, DeliveriesCarryTheirOffsetAndAcksKeepTheLog) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "st"));
  publish_numbered(*ch, "st", 0, 2);
  auto& sub = b.open_channel();
  ASSERT_OK(subscribe(sub, "st", FieldValue("first")));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(3));
  const auto d = sub.sink->deliveries();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(offset_header(d[i]), i);
    EXPECT_FALSE(d[i].redelivered);
  }
  ASSERT_OK(sub->ack(d[2].delivery_tag, /*multiple=*/true));
  // Acked, still there: a passive declare counts them (and no consumers, as RabbitMQ).
  auto r = ch->declare_queue({.name = "st", .passive = true});
  ASSERT_OK(r);
  EXPECT_EQ(r->message_count, 3u);
  EXPECT_EQ(r->consumer_count, 0u);
  EXPECT_EQ(read_from(b, "st", FieldValue("first"), 3), (Strings{"m0", "m1", "m2"}));
}

TEST(Stream, AConsumerGetsNoMoreThanItsPrefetchUntilItAcks) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "st"));
  publish_numbered(*ch, "st", 0, 4);
  auto& sub = b.open_channel();
  ASSERT_OK(subscribe(sub, "st", FieldValue("first"), /*prefetch=*/2));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(2));
  EXPECT_TRUE(sub.sink->stays_at(2));
  ASSERT_OK(sub->ack(sub.sink->deliveries()[1].delivery_tag, true));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(4));
  EXPECT_TRUE(sub.sink->stays_at(4));
  EXPECT_EQ(sub.sink->bodies(), (Strings{"m0", "m1", "m2", "m3"}));
}

TEST(Stream, OffsetSpecsChooseWhereAConsumerStarts) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "st"));
  publish_numbered(*ch, "st", 0, 1);  // two chunks at kStart
  ASSERT_OK(b.advance(3'600'000));
  // One chunk of three (one publish batch) an hour later.
  std::vector<StoredMessagePtr> batch{make_message("", "st", "m2"), make_message("", "st", "m3"),
                                      make_message("", "st", "m4")};
  size_t published = 0;
  ASSERT_OK(ch->publish_batch("", "st", false, batch, published));
  ASSERT_OK(b.advance(1000));

  EXPECT_EQ(read_from(b, "st", FieldValue("first"), 5), (Strings{"m0", "m1", "m2", "m3", "m4"}));
  // "last": the last chunk.
  EXPECT_EQ(read_from(b, "st", FieldValue("last"), 3), (Strings{"m2", "m3", "m4"}));
  EXPECT_EQ(read_from(b, "st", FieldValue("next"), 0), Strings{});
  EXPECT_EQ(read_from(b, "st", std::nullopt, 0), Strings{});
  EXPECT_EQ(read_from(b, "st", FieldValue(int64_t{3}), 2), (Strings{"m3", "m4"}));
  EXPECT_EQ(read_from(b, "st", FieldValue(int8_t{1}), 4), (Strings{"m1", "m2", "m3", "m4"}));
  EXPECT_EQ(read_from(b, "st", FieldValue(int64_t{-5}), 5),
            (Strings{"m0", "m1", "m2", "m3", "m4"}));
  // Past the end: nothing until the log reaches that offset.
  EXPECT_EQ(read_from(b, "st", FieldValue(int64_t{99}), 0), Strings{});
  // An interval: what was appended within it.
  EXPECT_EQ(read_from(b, "st", FieldValue("10m"), 3), (Strings{"m2", "m3", "m4"}));
  EXPECT_EQ(read_from(b, "st", FieldValue("2h"), 5), (Strings{"m0", "m1", "m2", "m3", "m4"}));
  // An AMQP timestamp (seconds): the first chunk appended at or after it.
  const auto at = [](TimeMs ms) { return FieldValue(Timestamp{static_cast<uint64_t>(ms / 1000)}); };
  EXPECT_EQ(read_from(b, "st", at(kStart + 1000), 3), (Strings{"m2", "m3", "m4"}));
  EXPECT_EQ(read_from(b, "st", at(kStart - 1000), 5), (Strings{"m0", "m1", "m2", "m3", "m4"}));
  EXPECT_EQ(read_from(b, "st", at(kStart + 7'200'000), 0), Strings{});

  // A consumer from "next" gets what is published after it.
  auto& sub = b.open_channel();
  ASSERT_OK(subscribe(sub, "st", FieldValue("next")));
  ASSERT_OK(publish(*ch, "", "st", "m5"));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(1));
  EXPECT_EQ(offset_header(sub.sink->deliveries()[0]), 5);

  // An interval that is not one: 541 without a text for no digits (RabbitMQ's crash).
  auto bad = subscribe(b.open_channel(), "st", FieldValue("foo"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInternalError);
}

TEST(Stream, ConsumersReadIndependently) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "st"));
  publish_numbered(*ch, "st", 0, 3);
  auto& a = b.open_channel();
  auto& c = b.open_channel();
  ASSERT_OK(subscribe(a, "st", FieldValue("first"), 1));
  ASSERT_OK(subscribe(c, "st", FieldValue(int64_t{2})));
  ASSERT_TRUE(c.sink->wait_for_deliveries(2));
  ASSERT_TRUE(a.sink->wait_for_deliveries(1));
  EXPECT_TRUE(a.sink->stays_at(1));  // a slow consumer holds nobody else back
  EXPECT_EQ(c.sink->bodies(), (Strings{"m2", "m3"}));
  ASSERT_OK(a->ack(a.sink->deliveries()[0].delivery_tag, false));
  ASSERT_TRUE(a.sink->wait_for_deliveries(2));
  EXPECT_EQ(a.sink->bodies(), (Strings{"m0", "m1"}));
}

// ---- retention ------------------------------------------------------------------------------

std::string body_of_size(size_t n, char c) { return std::string(n, c); }

// Retention counts an estimate of osiris' bytes: per chunk 56, per message its body,
// exchange and routing key and 100. Each segment after the first starts with a tracking
// chunk: 56 bytes and one offset that no consumer sees.
TEST(Stream, RetentionBySizeDeletesWholeSegmentsFromTheFront) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(
      *ch, "st",
      {{"x-stream-max-segment-size-bytes", int64_t{1000}}, {"x-max-length-bytes", int64_t{2500}}}));
  // A 500 B message in a chunk of its own counts 56 + 500 + 2 ("st") + 100 = 658 bytes: two
  // fill a segment. Offsets: [0 1] [gap 3 4] [gap 6 7] [gap 9 10] [gap 12 13] [gap 15 16].
  for (int i = 0; i < 12; ++i) ASSERT_OK(publish(*ch, "", "st", body_of_size(500, 'a' + i)));
  // Each roll leaves two segments (2744 bytes with the new one's header is over 2500): the
  // last two, offsets 11 to 16 (gaps count, as in RabbitMQ's message count).
  EXPECT_EQ(b.counts("st").ready, 6u);
  auto& sub = b.open_channel();
  ASSERT_OK(subscribe(sub, "st", FieldValue("first")));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(4));
  EXPECT_TRUE(sub.sink->stays_at(4));
  const auto d = sub.sink->deliveries();
  EXPECT_EQ(offset_header(d[0]), 12);
  EXPECT_EQ(d[0].body(), body_of_size(500, 'a' + 8));
  EXPECT_EQ(offset_header(d[3]), 16);
  // A consumer from the gap at 14 starts at the message after it.
  auto& at_gap = b.open_channel();
  ASSERT_OK(subscribe(at_gap, "st", FieldValue(int64_t{14})));
  ASSERT_TRUE(at_gap.sink->wait_for_deliveries(2));
  EXPECT_EQ(offset_header(at_gap.sink->deliveries()[0]), 15);
}

TEST(Stream, RetentionByAgeDeletesSegmentsOlderThanMaxAge) {
  ManualClock clock(kStart);
  TestBroker b(TestBroker::manual_clock_options(clock));
  auto& ch = b.open_channel();
  // Every chunk fills a 10-byte segment.
  ASSERT_OK(declare_stream(
      *ch, "st", {{"x-stream-max-segment-size-bytes", int64_t{10}}, {"x-max-age", "10s"}}));
  ASSERT_OK(publish(*ch, "", "st", "a"));  // segment 1: offset 0
  ASSERT_OK(b.advance(5000));
  ASSERT_OK(publish(*ch, "", "st", "b"));  // segment 2: gap 1, offset 2
  ASSERT_OK(b.advance(6000));
  // Segment 1 is 11 s old, segment 2 only 6 s: the roll to segment 3 deletes segment 1.
  ASSERT_OK(publish(*ch, "", "st", "c"));  // segment 3: gap 3, offset 4
  EXPECT_EQ(b.counts("st").ready, 4u);     // offsets 1 to 4
  ASSERT_OK(b.advance(20000));
  ASSERT_OK(publish(*ch, "", "st", "d"));  // segment 4: gap 5, offset 6
  EXPECT_EQ(b.counts("st").ready, 2u);     // the segment being written stays
  EXPECT_EQ(read_from(b, "st", FieldValue("first"), 1), (Strings{"d"}));
}

// ---- durability -----------------------------------------------------------------------------

TEST(Stream, TheLogSurvivesARestartAndOffsetsContinue) {
  TempDir dir;
  const Options options = disk_options(dir);
  {
    TestBroker b(options);
    auto& ch = b.open_channel();
    // A 2-byte message counts 56 + 2 + 2 + 100 = 160 bytes: two fill a 300-byte segment.
    ASSERT_OK(declare_stream(
        *ch, "st",
        {{"x-stream-max-segment-size-bytes", int64_t{300}}, {"x-max-length-bytes", int64_t{700}}}));
    ASSERT_OK(ch->confirm_select());
    // Transient messages: a stream stores every one.
    for (int i = 0; i < 5; ++i) ASSERT_OK(publish(*ch, "", "st", "m" + std::to_string(i)));
    ASSERT_TRUE(wait_for_confirms(ch, 5));
    // [m0 m1] [gap m2 m3] [gap m4]: the roll to the third segment deleted the first.
    EXPECT_EQ(b.counts("st").ready, 5u);
  }
  TestBroker b(options);
  auto& ch = b.open_channel();
  EXPECT_EQ(b.counts("st").ready, 5u);
  ASSERT_OK(publish(*ch, "", "st", "m5"));  // fills the third segment
  auto& sub = b.open_channel();
  ASSERT_OK(subscribe(sub, "st", FieldValue("first")));
  ASSERT_TRUE(sub.sink->wait_for_deliveries(4));
  EXPECT_EQ(sub.sink->bodies(), (Strings{"m2", "m3", "m4", "m5"}));
  std::vector<int64_t> offsets;
  for (const auto& d : sub.sink->deliveries()) offsets.push_back(offset_header(d));
  EXPECT_EQ(offsets, (std::vector<int64_t>{3, 4, 6, 7}));
  // "last" after a restart: the chunk boundaries were stored.
  EXPECT_EQ(read_from(b, "st", FieldValue("last"), 1), (Strings{"m5"}));
  // The segments came back: the next message rolls to a fourth segment, and retention
  // deletes the second (gap 8, then m6 at 9).
  ASSERT_OK(publish(*ch, "", "st", "m6"));
  EXPECT_EQ(read_from(b, "st", FieldValue("first"), 3), (Strings{"m4", "m5", "m6"}));
}

TEST(Stream, AReaderBehindTheResidentWindowReadsFromTheStore) {
  TempDir dir;
  Options options = disk_options(dir);
  options.memory_budget_bytes = 256 << 10;  // 256 KiB of resident messages
  TestBroker b(options);
  auto& ch = b.open_channel();
  ASSERT_OK(declare_stream(*ch, "st"));
  ASSERT_OK(ch->confirm_select());
  constexpr int kCount = 400;  // 400 x 4 KiB = 1.6 MiB
  for (int i = 0; i < kCount; ++i) {
    ASSERT_OK(publish(*ch, "", "st", std::to_string(i) + body_of_size(4096, 'x')));
  }
  ASSERT_TRUE(wait_for_confirms(ch, kCount));
  ASSERT_OK(publish(*ch, "", "st", "tail"));
  auto q = b.vhost().find_queue_any("st");
  ASSERT_OK(q);
  const auto& s = static_cast<const StreamQueue&>(**q);
  // Trimmed as the writes complete (their completion is posted to the workers).
  const auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
  while (s.resident_count() >= 100 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_LT(s.resident_count(), 100u);
  auto& sub = b.open_channel();
  ASSERT_OK(subscribe(sub, "st", FieldValue("first"), 50));
  size_t acked = 0;
  while (acked < kCount + 1) {
    ASSERT_TRUE(sub.sink->wait_for_deliveries(acked + 1));
    const auto d = sub.sink->deliveries();
    ASSERT_OK(sub->ack(d.back().delivery_tag, true));
    acked = d.size();
  }
  const auto d = sub.sink->deliveries();
  ASSERT_EQ(d.size(), kCount + 1u);
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(offset_header(d[i]), i);
    EXPECT_EQ(d[i].body().substr(0, std::to_string(i).size()), std::to_string(i));
  }
  EXPECT_EQ(d.back().body(), "tail");
}

}  // namespace
}  // namespace burrow::broker::testing
