// Tests for burrow::Channel, the public in-process API: declare, publish, consume with
// callbacks (acking from inside them), get, confirms, returns, close semantics and errors.
#include <burrow/channel.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <burrow/broker.h>
#include <gtest/gtest.h>

#include "broker/broker_core.h"
#include "tests/client/client_test_util.h"

namespace burrow {
namespace {

using client_testing::Collector;
using client_testing::kWaitTimeout;
using client_testing::Latch;
using client_testing::open_broker;
using client_testing::open_channel;
using client_testing::test_options;
using Strings = std::vector<std::string>;

// The broker's own view of a queue's counts.
broker::QueueCounts counts(Broker& b, const std::string& queue) {
  auto vhost = b.core().find_vhost("/");
  if (!vhost.ok()) return {};
  auto q = (*vhost)->find_queue(queue, 0);
  if (!q.ok()) {
    ADD_FAILURE() << q.status().to_string();
    return {};
  }
  return (*q)->counts();
}

// Polls until the queue holds `ready` ready messages.
bool wait_for_ready(Broker& b, const std::string& queue, uint32_t ready) {
  auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
  while (counts(b, queue).ready != ready) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::string body(const Result<std::optional<Delivery>>& r) {
  if (!r.ok()) return "<" + r.status().to_string() + ">";
  if (!r->has_value()) return "<empty>";
  return (*r)->message->body;
}

// ---- declare, publish, get ---------------------------------------------------------------

TEST(ClientChannel, PublishAndGetRoundTripTheMessage) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  auto info = ch->declare_queue("jobs");
  ASSERT_OK(info);
  EXPECT_EQ(info->name, "jobs");
  BasicProperties props;
  props.content_type = "application/json";
  props.message_id = "id-1";
  props.headers = FieldTable{{"attempt", 1}};
  ASSERT_OK(ch->publish("", "jobs", "{\"n\":1}", props));
  auto got = ch->get("jobs");
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  const Delivery& d = **got;
  EXPECT_EQ(d.delivery_tag, 1u);
  EXPECT_FALSE(d.redelivered);
  ASSERT_NE(d.message, nullptr);
  EXPECT_EQ(d.message->body, "{\"n\":1}");
  EXPECT_EQ(d.message->exchange, "");
  EXPECT_EQ(d.message->routing_key, "jobs");
  EXPECT_EQ(d.message->properties, props);
}

TEST(ClientChannel, GetOfAnEmptyQueueIsNothing) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  auto got = ch->get("q");
  ASSERT_OK(got);
  EXPECT_FALSE(got->has_value());
}

TEST(ClientChannel, DeclareReportsCountsAndServerNames) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  auto named = ch->declare_queue("");
  ASSERT_OK(named);
  EXPECT_TRUE(named->name.starts_with("amq.gen-")) << named->name;
  ASSERT_OK(ch->publish("", named->name, "a"));
  ASSERT_OK(ch->publish("", named->name, "b"));
  auto again = ch->declare_queue(named->name, QueueOptions{.passive = true});
  ASSERT_OK(again);
  EXPECT_EQ(again->message_count, 2u);
  EXPECT_EQ(again->consumer_count, 0u);
}

TEST(ClientChannel, ExchangesAndBindingsRoute) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_exchange("events", "topic"));
  ASSERT_OK(ch->declare_exchange("audit", "fanout"));
  ASSERT_OK(ch->bind_exchange("audit", "events", "#"));
  ASSERT_OK(ch->declare_queue("orders"));
  ASSERT_OK(ch->declare_queue("log"));
  ASSERT_OK(ch->bind_queue("orders", "events", "order.*"));
  ASSERT_OK(ch->bind_queue("log", "audit", ""));
  ASSERT_OK(ch->publish("events", "order.created", "o1"));
  ASSERT_OK(ch->publish("events", "user.created", "u1"));
  EXPECT_EQ(body(ch->get("orders")), "o1");
  EXPECT_EQ(body(ch->get("orders")), "<empty>");
  EXPECT_EQ(body(ch->get("log")), "o1");
  EXPECT_EQ(body(ch->get("log")), "u1");
  ASSERT_OK(ch->unbind_queue("orders", "events", "order.*"));
  ASSERT_OK(ch->unbind_exchange("audit", "events", "#"));
  ASSERT_OK(ch->publish("events", "order.created", "o2"));
  EXPECT_EQ(body(ch->get("orders")), "<empty>");
  EXPECT_EQ(body(ch->get("log")), "<empty>");
  ASSERT_OK(ch->delete_exchange("audit"));
  EXPECT_EQ(ch->declare_exchange("audit", "fanout", ExchangeOptions{.passive = true}).code(),
            StatusCode::kNotFound);
}

TEST(ClientChannel, PurgeAndDeleteReportCounts) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  for (int i = 0; i < 3; ++i) ASSERT_OK(ch->publish("", "q", "m"));
  auto purged = ch->purge_queue("q");
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 3u);
  ASSERT_OK(ch->publish("", "q", "m"));
  auto deleted = ch->delete_queue("q");
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 1u);
  EXPECT_EQ(ch->declare_queue("q", QueueOptions{.passive = true}).status().code(),
            StatusCode::kNotFound);
}

TEST(ClientChannel, GetThenAckNackAndReject) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->publish("", "q", "m1"));
  ASSERT_OK(ch->publish("", "q", "m2"));
  auto first = ch->get("q", /*no_ack=*/false);
  ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  ASSERT_OK(ch->nack((*first)->delivery_tag, false, /*requeue=*/true));
  auto again = ch->get("q", false);
  ASSERT_OK(again);
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->message->body, "m1");
  EXPECT_TRUE((*again)->redelivered);
  ASSERT_OK(ch->ack((*again)->delivery_tag));
  auto second = ch->get("q", false);
  ASSERT_OK(second);
  ASSERT_TRUE(second->has_value());
  ASSERT_OK(ch->reject((*second)->delivery_tag, /*requeue=*/false));
  EXPECT_EQ(body(ch->get("q")), "<empty>");
  EXPECT_EQ(counts(*b, "q").unacked, 0u);
}

TEST(ClientChannel, RecoverRequeuesUnackedMessages) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->publish("", "q", "m"));
  auto got = ch->get("q", false);
  ASSERT_OK(got);
  ASSERT_OK(ch->recover());
  auto again = ch->get("q");
  ASSERT_OK(again);
  ASSERT_TRUE(again->has_value());
  EXPECT_TRUE((*again)->redelivered);
}

// ---- consume -----------------------------------------------------------------------------

TEST(ClientChannel, ConsumeDeliversToTheCallbackInOrder) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->publish("", "q", "m0"));  // ready before the consumer
  Collector<Delivery> got;
  auto tag = ch->consume(
      "q", [&](const Delivery& d) { got.add(d); }, ConsumeOptions{.no_ack = true});
  ASSERT_OK(tag);
  EXPECT_TRUE(tag->starts_with("amq.ctag-")) << *tag;
  for (int i = 1; i < 20; ++i) ASSERT_OK(ch->publish("", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(got.wait_for(20));
  auto ds = got.items();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(ds[i].message->body, "m" + std::to_string(i));
    EXPECT_EQ(ds[i].delivery_tag, static_cast<uint64_t>(i + 1));
    EXPECT_FALSE(ds[i].redelivered);
    EXPECT_EQ(ds[i].message->routing_key, "q");
  }
}

TEST(ClientChannel, ConsumeUsesTheGivenTag) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  auto tag = ch->consume(
      "q", [](const Delivery&) {}, ConsumeOptions{.tag = "worker-1"});
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, "worker-1");
  auto again = ch->consume(
      "q", [](const Delivery&) {}, ConsumeOptions{.tag = "worker-1"});
  EXPECT_EQ(again.status().code(), StatusCode::kNotAllowed);
  EXPECT_EQ(again.status().message(), "attempt to reuse consumer tag 'worker-1'");
}

TEST(ClientChannel, CallbackMayAckItsDelivery) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  // Published first: callbacks may use the channel, but not while this thread does.
  for (int i = 0; i < 10; ++i) ASSERT_OK(ch->publish("", "q", "m"));
  Collector<Status> acks;
  Channel* raw = ch.get();
  ASSERT_OK(ch->consume("q", [&](const Delivery& d) { acks.add(raw->ack(d.delivery_tag)); }));
  ASSERT_TRUE(acks.wait_for(10));
  for (const Status& s : acks.items()) EXPECT_OK(s);
  EXPECT_EQ(counts(*b, "q").unacked, 0u);
  EXPECT_EQ(counts(*b, "q").ready, 0u);
}

TEST(ClientChannel, CallbackMayRequeueAndSeeTheRedelivery) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->publish("", "q", "retry-me"));
  Collector<Delivery> got;
  Channel* raw = ch.get();
  ASSERT_OK(ch->consume("q", [&](const Delivery& d) {
    if (d.redelivered) {
      EXPECT_OK(raw->ack(d.delivery_tag));
    } else {
      EXPECT_OK(raw->nack(d.delivery_tag, false, /*requeue=*/true));
    }
    got.add(d);  // after the channel call, so the test never overlaps it
  }));
  ASSERT_TRUE(got.wait_for(2));
  auto ds = got.items();
  EXPECT_EQ(ds[0].message->body, "retry-me");
  EXPECT_FALSE(ds[0].redelivered);
  EXPECT_EQ(ds[1].message->body, "retry-me");
  EXPECT_TRUE(ds[1].redelivered);
  EXPECT_TRUE(got.stays_at(2));
}

TEST(ClientChannel, CallbackMayPublish) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("in"));
  ASSERT_OK(ch->declare_queue("out"));
  ASSERT_OK(ch->publish("", "in", "pass-on"));
  Channel* raw = ch.get();
  Collector<Status> forwarded;
  ASSERT_OK(ch->consume(
      "in", [&](const Delivery& d) { forwarded.add(raw->publish("", "out", d.message->body)); },
      ConsumeOptions{.no_ack = true}));
  ASSERT_TRUE(forwarded.wait_for(1));
  EXPECT_OK(forwarded.items()[0]);
  EXPECT_EQ(body(ch->get("out")), "pass-on");
}

TEST(ClientChannel, CallbacksOfOneChannelNeverOverlap) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q1"));
  ASSERT_OK(ch->declare_queue("q2"));
  std::atomic<int> in_flight{0};
  std::atomic<bool> overlapped{false};
  Collector<int> done;
  auto callback = [&](const Delivery&) {
    if (in_flight.fetch_add(1) != 0) overlapped = true;
    for (int i = 0; i < 100; ++i) std::this_thread::yield();
    in_flight.fetch_sub(1);
    done.add(1);
  };
  ASSERT_OK(ch->consume("q1", callback, ConsumeOptions{.no_ack = true}));
  ASSERT_OK(ch->consume("q2", callback, ConsumeOptions{.no_ack = true}));
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(ch->publish("", "q1", "m"));
    ASSERT_OK(ch->publish("", "q2", "m"));
  }
  ASSERT_TRUE(done.wait_for(200));
  EXPECT_FALSE(overlapped.load());
}

TEST(ClientChannel, QosLimitsUnackedCallbacks) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->qos(1));
  Collector<uint64_t> tags;
  ASSERT_OK(ch->consume("q", [&](const Delivery& d) { tags.add(d.delivery_tag); }));
  for (int i = 0; i < 3; ++i) ASSERT_OK(ch->publish("", "q", "m"));
  ASSERT_TRUE(tags.wait_for(1));
  EXPECT_TRUE(tags.stays_at(1));
  ASSERT_OK(ch->ack(tags.items()[0]));
  ASSERT_TRUE(tags.wait_for(2));
  EXPECT_TRUE(tags.stays_at(2));
}

TEST(ClientChannel, CancelStopsCallbacks) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  Collector<std::string> got;
  auto tag = ch->consume(
      "q", [&](const Delivery& d) { got.add(d.message->body); }, ConsumeOptions{.no_ack = true});
  ASSERT_OK(tag);
  ASSERT_OK(ch->publish("", "q", "before"));
  ASSERT_TRUE(got.wait_for(1));
  ASSERT_OK(ch->cancel(*tag));
  ASSERT_OK(ch->publish("", "q", "after"));
  EXPECT_TRUE(got.stays_at(1));
  EXPECT_EQ(body(ch->get("q")), "after");
  EXPECT_OK(ch->cancel(*tag));  // cancelling again is harmless
}

// Regression test, fixed (was: client/channel_impl.cc, ChannelImpl::on_deliver binds the callback
// when the delivery is queued on the dispatcher; ChannelImpl::cancel only erases it from
// callbacks_): deliveries already queued in the channel's dispatcher when cancel() returns still
// run the callback afterwards, contrary to channel.h ("no callback for it runs after this
// returns... except one already running on another thread").
TEST(ClientChannel, NoCallbackRunsAfterCancelReturns) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->declare_queue("marker"));
  Latch first_running;
  Latch release_first;
  std::atomic<int> calls{0};
  auto tag = ch->consume("q", [&](const Delivery&) {
    if (calls.fetch_add(1) == 0) {
      first_running.open();
      release_first.wait();
    }
  });
  ASSERT_OK(tag);
  for (int i = 0; i < 3; ++i) ASSERT_OK(ch->publish("", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(first_running.wait());
  // Deliveries 2 and 3 reach the channel while callback 1 runs; once tag 3 can be acked they
  // are queued for the dispatcher.
  auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
  while (!ch->ack(3).ok()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "delivery 3 never arrived";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_OK(ch->cancel(*tag));
  release_first.open();
  // The dispatcher runs events in order: once the marker's callback ran, anything queued
  // for the cancelled consumer before it has run too.
  Latch marker_seen;
  ASSERT_OK(ch->consume(
      "marker", [&](const Delivery&) { marker_seen.open(); }, ConsumeOptions{.no_ack = true}));
  ASSERT_OK(ch->publish("", "marker", "x"));
  ASSERT_TRUE(marker_seen.wait());
  EXPECT_EQ(calls.load(), 1) << "BUG: callbacks queued before cancel() ran after it returned";
}

TEST(ClientChannel, CloseStopsCallbacksAndRequeuesUnacked) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->qos(1));
  Collector<Delivery> got;
  ASSERT_OK(ch->consume("q", [&](const Delivery& d) { got.add(d); }));
  ASSERT_OK(ch->publish("", "q", "m1"));
  ASSERT_OK(ch->publish("", "q", "m2"));
  ASSERT_TRUE(got.wait_for(1));
  ch->close();
  ch->close();  // idempotent
  auto other = open_channel(*b);
  ASSERT_OK(other->publish("", "q", "m3"));
  EXPECT_TRUE(got.stays_at(1));
  ASSERT_TRUE(wait_for_ready(*b, "q", 3));
  auto first = other->get("q");
  ASSERT_OK(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->message->body, "m1");
  EXPECT_TRUE((*first)->redelivered);
  EXPECT_EQ(body(other->get("q")), "m2");
  EXPECT_EQ(body(other->get("q")), "m3");
}

// Regression test, fixed (was: client/dispatcher.cc, Dispatcher::run runs its whole swapped-out
// batch without re-checking shut_down_ between events): when a callback closes its own channel, the
// dispatcher's shutdown "from inside an event" returns at once and the callbacks already
// batched behind it still run, for deliveries the close has just requeued (they will be
// delivered again elsewhere, and acking them fails with 406). Expected: no callback runs
// after close() returns, as for cancel().
//
// Made deterministic with one worker thread: the pool is blocked while five messages are
// published, so all five deliveries reach the dispatcher before it runs once.
TEST(ClientChannel, CloseFromInsideACallbackStopsFurtherCallbacks) {
  Options options = test_options();
  options.worker_threads = 1;
  auto b = open_broker(options);
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  Channel* raw = ch.get();
  std::atomic<int> calls{0};
  Latch closed;
  ASSERT_OK(ch->consume("q", [&](const Delivery&) {
    if (calls.fetch_add(1) == 0) {
      raw->close();
      closed.open();
    }
  }));
  Latch pool_blocked;
  Latch unblock_pool;
  b->core().executor().post([&] {
    pool_blocked.open();
    unblock_pool.wait();
  });
  ASSERT_TRUE(pool_blocked.wait());
  for (int i = 0; i < 5; ++i) ASSERT_OK(ch->publish("", "q", "m" + std::to_string(i)));
  unblock_pool.open();
  ASSERT_TRUE(closed.wait());
  ASSERT_TRUE(wait_for_ready(*b, "q", 5));  // everything delivered to it came back
  // One worker: once this task runs, the dispatcher's batch has finished.
  Latch pool_idle;
  b->core().executor().post([&] { pool_idle.open(); });
  ASSERT_TRUE(pool_idle.wait());
  EXPECT_EQ(calls.load(), 1) << "BUG: callbacks ran after the channel was closed";
}

TEST(ClientChannel, CloseFromInsideACallbackRequeuesEverything) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  // Published before consuming: once the callback closes the channel, the test thread must
  // not use it concurrently.
  for (int i = 0; i < 5; ++i) ASSERT_OK(ch->publish("", "q", "m"));
  Channel* raw = ch.get();
  Latch closed;
  std::atomic<bool> first{true};
  ASSERT_OK(ch->consume("q", [&](const Delivery&) {
    if (first.exchange(false)) {
      raw->close();
      closed.open();
    }
  }));
  ASSERT_TRUE(closed.wait());
  EXPECT_TRUE(wait_for_ready(*b, "q", 5));
  EXPECT_EQ(counts(*b, "q").consumers, 0u);
}

TEST(ClientChannel, DestroyingTheChannelClosesIt) {
  auto b = open_broker();
  auto admin = open_channel(*b);
  ASSERT_OK(admin->declare_queue("q"));
  {
    auto ch = open_channel(*b);
    ASSERT_OK(ch->consume("q", [](const Delivery&) {}));
    EXPECT_EQ(counts(*b, "q").consumers, 1u);
  }
  EXPECT_EQ(counts(*b, "q").consumers, 0u);
}

TEST(ClientChannel, QueueDeletionSilentlyEndsTheConsumer) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  auto admin = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  Collector<int> got;
  auto tag = ch->consume("q", [&](const Delivery&) { got.add(1); });
  ASSERT_OK(tag);
  ASSERT_OK(admin->delete_queue("q"));
  ASSERT_OK(admin->declare_queue("q"));
  ASSERT_OK(admin->publish("", "q", "to-new-queue"));
  EXPECT_TRUE(got.stays_at(0));
  // The tag is free again on this channel.
  EXPECT_OK(ch->consume(
      "q", [](const Delivery&) {}, ConsumeOptions{.tag = *tag}));
}

// ---- confirms and returns ----------------------------------------------------------------

TEST(ClientChannel, WaitForConfirmsReturnsOnceEverythingIsConfirmed) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->confirm_select());
  for (int i = 0; i < 100; ++i) ASSERT_OK(ch->publish("", "q", "m"));
  ASSERT_OK(ch->publish("amq.direct", "unroutable", "m"));
  EXPECT_OK(ch->wait_for_confirms(kWaitTimeout));
  EXPECT_OK(ch->wait_for_confirms(kWaitTimeout));  // nothing outstanding
}

// Persistent messages are confirmed by the store's writer, transient ones at publish; the
// waiter is woken once (not per confirm) and sees every confirm of a window, round after
// round, including a nack from a full reject-publish queue.
TEST(ClientChannel, WaitForConfirmsCoversPersistentTransientAndNackedPublishes) {
  client_testing::TempDir dir;
  Options options = client_testing::test_options();
  options.in_memory = false;
  options.data_dir = dir.path();
  auto b = open_broker(options);
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("durable", QueueOptions{.durable = true}));
  ASSERT_OK(ch->declare_queue("transient"));
  ASSERT_OK(ch->confirm_select());
  BasicProperties persistent;
  persistent.delivery_mode = 2;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK(ch->publish("", i % 3 == 0 ? "transient" : "durable", "m", persistent));
    }
    ASSERT_OK(ch->wait_for_confirms(kWaitTimeout)) << "round " << round;
  }
  auto q = ch->declare_queue("durable", QueueOptions{.passive = true});
  ASSERT_OK(q);
  EXPECT_EQ(q->message_count, 20u * 200u);
  // A full queue that rejects publishes: the waiter learns of the nack.
  ASSERT_OK(ch->declare_queue(
      "full", QueueOptions{.durable = true,
                           .arguments = FieldTable{{"x-max-length", int64_t{1}},
                                                   {"x-overflow", "reject-publish"}}}));
  ASSERT_OK(ch->publish("", "full", "kept", persistent));
  ASSERT_OK(ch->publish("", "full", "refused", persistent));
  Status s = ch->wait_for_confirms(kWaitTimeout);
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed) << s.to_string();
  EXPECT_EQ(s.message(), "the broker nacked a message");
  EXPECT_OK(ch->wait_for_confirms(kWaitTimeout));  // the nack was reported once
}

TEST(ClientChannel, WaitForConfirmsWithoutConfirmModeIsAnError) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  Status s = ch->wait_for_confirms(std::chrono::milliseconds(10));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "confirms are not enabled");
}

TEST(ClientChannel, ConfirmSelectIsIdempotent) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->confirm_select());
  EXPECT_OK(ch->confirm_select());
}

// Regression test, fixed (was: broker/channel.cc Channel::publish takes a confirm sequence number
// before routing; client/channel_impl.cc ChannelImpl::publish then assumes a failed publish took
// none): after a publish that fails (here 404, which leaves the in-process channel usable), no
// later publish is ever confirmed and wait_for_confirms times out.
TEST(ClientChannel, FailedPublishDoesNotBreakConfirms) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->confirm_select());
  EXPECT_EQ(ch->publish("no-such-exchange", "k", "m").code(), StatusCode::kNotFound);
  ASSERT_OK(ch->publish("", "q", "m"));
  EXPECT_OK(ch->wait_for_confirms(std::chrono::milliseconds(2000)))
      << "BUG: a failed publish blocks every later confirm";
}

TEST(ClientChannel, MandatoryUnroutableMessageComesBackToOnReturn) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  Collector<ReturnedMessage> returned;
  ch->on_return([&](const ReturnedMessage& r) { returned.add(r); });
  ASSERT_OK(ch->publish("amq.direct", "nowhere", "lost", {}, PublishOptions{.mandatory = true}));
  ASSERT_TRUE(returned.wait_for(1));
  ReturnedMessage r = returned.items()[0];
  EXPECT_EQ(r.reply_code, 312);
  EXPECT_EQ(r.reply_text, "NO_ROUTE");
  ASSERT_NE(r.message, nullptr);
  EXPECT_EQ(r.message->body, "lost");
  EXPECT_EQ(r.message->exchange, "amq.direct");
  EXPECT_EQ(r.message->routing_key, "nowhere");
}

TEST(ClientChannel, OnlyMandatoryMessagesAreReturned) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  Collector<std::string> returned;
  ch->on_return([&](const ReturnedMessage& r) { returned.add(r.message->body); });
  ASSERT_OK(ch->publish("amq.direct", "nowhere", "dropped"));
  ASSERT_OK(ch->publish("", "q", "routed", {}, PublishOptions{.mandatory = true}));
  ASSERT_OK(ch->publish("amq.direct", "nowhere", "marker", {}, PublishOptions{.mandatory = true}));
  ASSERT_TRUE(returned.wait_for(1));
  EXPECT_TRUE(returned.stays_at(1));
  EXPECT_EQ(returned.items(), Strings{"marker"});
}

TEST(ClientChannel, ReturnsWithoutACallbackAreDropped) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  EXPECT_OK(ch->publish("amq.direct", "nowhere", "m", {}, PublishOptions{.mandatory = true}));
}

TEST(ClientChannel, ConfirmWaitSeesTheReturnFirst) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  Collector<std::string> returned;
  ch->on_return([&](const ReturnedMessage& r) { returned.add(r.message->body); });
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(ch->publish("amq.direct", "nowhere", "m", {}, PublishOptions{.mandatory = true}));
  EXPECT_OK(ch->wait_for_confirms(kWaitTimeout));
  EXPECT_TRUE(returned.wait_for(1));
}

// ---- errors ------------------------------------------------------------------------------

TEST(ClientChannel, ErrorsAreStatusValuesWithRabbitMqTexts) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  auto missing = ch->declare_queue("nope", QueueOptions{.passive = true});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no queue 'nope' in vhost '/'");

  ASSERT_OK(ch->declare_exchange("x", "direct"));
  Status inequivalent = ch->declare_exchange("x", "fanout");
  EXPECT_EQ(inequivalent.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(inequivalent.message(),
            "inequivalent arg 'type' for exchange 'x' in vhost '/': received 'fanout' but "
            "current is 'direct'");

  Status bad_type = ch->declare_exchange("y", "nonsense");
  EXPECT_EQ(bad_type.code(), StatusCode::kCommandInvalid);

  Status bad_tag = ch->ack(99);
  EXPECT_EQ(bad_tag.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(bad_tag.message(), "unknown delivery tag 99");

  Status no_exchange = ch->publish("nope", "k", "m");
  EXPECT_EQ(no_exchange.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_exchange.message(), "no exchange 'nope' in vhost '/'");

  auto no_queue = ch->consume("nope", [](const Delivery&) {});
  EXPECT_EQ(no_queue.status().code(), StatusCode::kNotFound);
}

TEST(ClientChannel, AFailedCallLeavesTheChannelUsable) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  EXPECT_FALSE(ch->publish("nope", "k", "m").ok());
  EXPECT_FALSE(ch->ack(5).ok());
  EXPECT_FALSE(ch->declare_queue("amq.reserved").ok());
  ASSERT_OK(ch->declare_queue("q"));
  ASSERT_OK(ch->publish("", "q", "still-works"));
  EXPECT_EQ(body(ch->get("q")), "still-works");
}

TEST(ClientChannel, MessageLargerThanTheMaximumIs406) {
  Options options = test_options();
  options.max_message_size = 16;
  auto b = open_broker(options);
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  Status s = ch->publish("", "q", std::string(17, 'x'));
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "message size 17 is larger than configured max size 16");
  EXPECT_OK(ch->publish("", "q", std::string(16, 'x')));
}

TEST(ClientChannel, CallsOnAClosedChannelFailWithClosed) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  ASSERT_OK(ch->declare_queue("q"));
  ch->close();
  Status publish = ch->publish("", "q", "m");
  EXPECT_EQ(publish.code(), StatusCode::kClosed);
  EXPECT_EQ(publish.message(), "channel is closed");
  EXPECT_EQ(ch->consume("q", [](const Delivery&) {}).status().code(), StatusCode::kClosed);
  EXPECT_EQ(ch->get("q").status().code(), StatusCode::kClosed);
  EXPECT_EQ(counts(*b, "q").ready, 0u);
}

TEST(ClientChannel, QosWithoutConsumersIsAccepted) {
  auto b = open_broker();
  auto ch = open_channel(*b);
  EXPECT_OK(ch->qos(10));
  EXPECT_OK(ch->qos(0, /*global=*/true));
}

}  // namespace
}  // namespace burrow
