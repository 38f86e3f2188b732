// Tests for broker::Channel: publishing (mandatory returns, CC/BCC, confirms, size limit,
// route cache), consuming, acknowledgements, prefetch, transactions and close, against a real
// BrokerCore.
#include "broker/channel.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/broker/test_broker.h"

namespace burrow::broker {
namespace {

using testing::body_of;
using testing::consume;
using testing::declare;
using testing::declare_exchange;
using testing::drain_bodies;
using testing::get_message;
using testing::kQuietPeriod;
using testing::make_message;
using testing::publish;
using testing::publish_mandatory;
using testing::RecordingSink;
using testing::TestBroker;
using testing::with_headers;
using Confirm = RecordingSink::Confirm;
using Strings = std::vector<std::string>;

// Longest wait in tests that fail (by timing out) while a known bug is open.
constexpr std::chrono::milliseconds kBugWait{5000};

// ---- publish -----------------------------------------------------------------------------

TEST(Channel, ImmediateIs540) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  Status s = ch->publish("", "q", false, /*immediate=*/true, make_message("", "q", "m"));
  EXPECT_EQ(s.code(), StatusCode::kNotImplemented);
  EXPECT_EQ(s.message(), "immediate=true");
  EXPECT_EQ(b.counts("q").ready, 0u);
}

TEST(Channel, MessageLargerThanTheMaximumIs406) {
  Options options = TestBroker::default_options();
  options.max_message_size = 10;
  TestBroker b(options);
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  EXPECT_OK(publish(*ch, "", "q", std::string(10, 'a')));
  Status s = publish(*ch, "", "q", std::string(11, 'b'));
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "message size 11 is larger than configured max size 10");
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{std::string(10, 'a')});
}

TEST(Channel, MandatoryUnroutableMessageIsReturned) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(publish_mandatory(*ch, "amq.direct", "nowhere", "lost"));
  auto returns = ch.sink->returns();
  ASSERT_EQ(returns.size(), 1u);
  EXPECT_EQ(returns[0].reply_code, 312);
  EXPECT_EQ(returns[0].reply_text, "NO_ROUTE");
  EXPECT_EQ(returns[0].message.body, "lost");
  EXPECT_EQ(returns[0].message.exchange, "amq.direct");
  EXPECT_EQ(returns[0].message.routing_key, "nowhere");
}

TEST(Channel, MandatoryToTheDefaultExchangeWithoutSuchQueueIsReturned) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(publish_mandatory(*ch, "", "no-such-queue", "lost"));
  EXPECT_EQ(ch.sink->returns().size(), 1u);
}

TEST(Channel, NonMandatoryUnroutableMessageIsDroppedSilently) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(publish(*ch, "amq.direct", "nowhere", "dropped"));
  EXPECT_TRUE(ch.sink->returns().empty());
}

TEST(Channel, MandatoryRoutedMessageIsNotReturned) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "kept"));
  EXPECT_TRUE(ch.sink->returns().empty());
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"kept"});
}

TEST(Channel, MessageRoutedByTheAlternateExchangeIsNotReturned) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare_exchange(*ch, "x", "direct", FieldTable{{"alternate-exchange", "amq.fanout"}}));
  ASSERT_OK(declare(*ch, "ae-q"));
  ASSERT_OK(ch->bind_queue("ae-q", "amq.fanout", "", {}));
  ASSERT_OK(publish_mandatory(*ch, "x", "unbound", "caught"));
  EXPECT_TRUE(ch.sink->returns().empty());
  EXPECT_EQ(drain_bodies(*ch, "ae-q"), Strings{"caught"});
}

TEST(Channel, ReturnIsSentBeforeTheConfirm) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(publish_mandatory(*ch, "amq.direct", "nowhere", "m"));
  ch->flush();
  EXPECT_EQ(ch.sink->events(), (Strings{"return:312:NO_ROUTE:m", "confirm:1:ack"}));
}

TEST(Channel, UnroutableMessagesAreAcked) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(publish(*ch, "amq.direct", "nowhere", "m"));
  ch->flush();
  EXPECT_EQ(ch.sink->confirms(), (std::vector<Confirm>{{1, false, true}}));
}

TEST(Channel, ConfirmsOfABatchCoalesceIntoOneMultipleAck) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->confirm_select());
  EXPECT_TRUE(ch->confirm_mode());
  for (int i = 0; i < 3; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  EXPECT_TRUE(ch.sink->confirms().empty());  // confirms wait for flush()
  ch->flush();
  EXPECT_EQ(ch.sink->confirms(), (std::vector<Confirm>{{3, true, true}}));
}

TEST(Channel, ConfirmSequenceContinuesAcrossFlushes) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(publish(*ch, "", "q", "a"));
  ch->flush();
  ASSERT_OK(publish(*ch, "", "q", "b"));
  ASSERT_OK(publish(*ch, "", "q", "c"));
  ch->flush();
  ch->flush();  // nothing new
  EXPECT_EQ(ch.sink->confirms(), (std::vector<Confirm>{{1, false, true}, {3, true, true}}));
}

TEST(Channel, ConfirmSelectIsIdempotent) {
  TestBroker b;
  auto& ch = b.open_channel();
  EXPECT_FALSE(ch->confirm_mode());
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(ch->confirm_select());
  ASSERT_OK(publish(*ch, "amq.direct", "k", "m"));
  ch->flush();
  EXPECT_EQ(ch.sink->confirms(), (std::vector<Confirm>{{1, false, true}}));
}

TEST(Channel, WithoutConfirmModeFlushSendsNothing) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(publish(*ch, "amq.direct", "k", "m"));
  ch->flush();
  EXPECT_TRUE(ch.sink->confirms().empty());
}

TEST(Channel, ConfirmSelectOnATransactionalChannelIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->tx_select());
  Status s = ch->confirm_select();
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "cannot switch from tx to confirm mode");
  EXPECT_FALSE(ch->confirm_mode());
}

// Regression test, fixed (was: broker/channel.cc, Channel::publish: `confirms_.next()` is taken
// before publish_now() routes, and a routing error returns without resolving it): a publish that
// fails (404 missing exchange, 403 internal exchange, 406 user_id) leaves a pending sequence
// number in the ConfirmTracker forever, so no later publish on the channel is ever confirmed.
// Over AMQP the error closes the channel, but the in-process API keeps it open ("a failed call
// leaves the channel usable") and its ChannelImpl assumes a failed publish took no sequence
// number. Expected: the failed publish consumes no sequence number and the next one is
// confirmed as 1.
TEST(Channel, FailedPublishDoesNotHoldBackLaterConfirms) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->confirm_select());
  EXPECT_EQ(publish(*ch, "no-such-exchange", "k", "fails").code(), StatusCode::kNotFound);
  ASSERT_OK(publish(*ch, "", "q", "ok"));
  ch->flush();
  EXPECT_EQ(ch.sink->confirms(), (std::vector<Confirm>{{1, false, true}}))
      << "BUG: a failed publish leaves a pending confirm that blocks every later one";
}

TEST(Channel, UserIdMustNameTheAuthenticatedUser) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  BasicProperties mine;
  mine.user_id = "guest";
  EXPECT_OK(publish(*ch, "", "q", "mine", mine));
  BasicProperties other;
  other.user_id = "mallory";
  Status s = publish(*ch, "", "q", "forged", other);
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "user_id property set to 'mallory' but authenticated user was 'guest'");
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"mine"});
}

// ---- CC / BCC ----------------------------------------------------------------------------

BasicProperties cc_bcc(FieldArray cc, FieldArray bcc) {
  FieldTable headers;
  if (!cc.empty()) headers.set("CC", std::move(cc));
  if (!bcc.empty()) headers.set("BCC", std::move(bcc));
  return with_headers(std::move(headers));
}

TEST(Channel, CcAndBccHeadersAddRoutingKeys) {
  TestBroker b;
  auto& ch = b.open_channel();
  for (const char* k : {"a", "b", "c", "d"}) {
    ASSERT_OK(declare(*ch, k));
    ASSERT_OK(ch->bind_queue(k, "amq.direct", k, {}));
  }
  ASSERT_OK(publish(*ch, "amq.direct", "a", "m", cc_bcc({"b"}, {"c"})));
  EXPECT_EQ(drain_bodies(*ch, "a"), Strings{"m"});
  EXPECT_EQ(drain_bodies(*ch, "b"), Strings{"m"});
  EXPECT_EQ(drain_bodies(*ch, "c"), Strings{"m"});
  EXPECT_TRUE(drain_bodies(*ch, "d").empty());
}

TEST(Channel, CcRoutesThroughTheDefaultExchange) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q1"));
  ASSERT_OK(declare(*ch, "q2"));
  ASSERT_OK(publish(*ch, "", "q1", "m", cc_bcc({"q2", "nope"}, {})));
  EXPECT_EQ(drain_bodies(*ch, "q1"), Strings{"m"});
  EXPECT_EQ(drain_bodies(*ch, "q2"), Strings{"m"});
}

TEST(Channel, CcNamingTheSameQueueTwiceDeliversOneCopy) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m", cc_bcc({"q", "q"}, {"q"})));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m"});
}

TEST(Channel, CcMakesAMandatoryMessageRoutable) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "nope", "m", cc_bcc({"q"}, {}), /*mandatory=*/true));
  EXPECT_TRUE(ch.sink->returns().empty());
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"m"});
}

TEST(Channel, CcOfOnePublishDoesNotStickToTheNextOne) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q1"));
  ASSERT_OK(declare(*ch, "q2"));
  ASSERT_OK(publish(*ch, "", "q1", "with-cc", cc_bcc({"q2"}, {})));
  ASSERT_OK(publish(*ch, "", "q1", "plain"));
  EXPECT_EQ(drain_bodies(*ch, "q1"), (Strings{"with-cc", "plain"}));
  EXPECT_EQ(drain_bodies(*ch, "q2"), Strings{"with-cc"});
}

TEST(Channel, CcHeaderIsKeptOnDelivery) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m", cc_bcc({"other"}, {})));
  auto r = get_message(*ch, "q");
  ASSERT_TRUE(r);
  const auto& headers = r->entry.message->message.properties.headers;
  ASSERT_TRUE(headers.has_value());
  EXPECT_TRUE(headers->contains("CC"));
}

// Regression test, fixed (was: broker/channel.cc, Channel::publish/publish_now store the message as
// published): RabbitMQ removes the BCC header before the message is enqueued
// (rabbit_basic:message/3 strips ?DELETED_HEADER = <<"BCC">>), so consumers never see who was
// blind-copied. Burrow delivers BCC to every consumer.
TEST(Channel, BccHeaderIsRemovedBeforeDelivery) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(declare(*ch, "secret"));
  ASSERT_OK(publish(*ch, "", "q", "m", cc_bcc({"cc-key"}, {"secret"})));
  for (const char* q : {"q", "secret"}) {
    auto r = get_message(*ch, q);
    ASSERT_TRUE(r) << q;
    const auto& headers = r->entry.message->message.properties.headers;
    ASSERT_TRUE(headers.has_value()) << q;
    EXPECT_TRUE(headers->contains("CC")) << q;
    EXPECT_FALSE(headers->contains("BCC")) << "BUG: BCC header delivered to queue " << q;
  }
}

// ---- route cache -------------------------------------------------------------------------

TEST(Channel, NewBindingIsSeenByTheNextPublish) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish_mandatory(*ch, "amq.direct", "k", "before"));
  ASSERT_OK(ch->bind_queue("q", "amq.direct", "k", {}));
  ASSERT_OK(publish_mandatory(*ch, "amq.direct", "k", "after"));
  EXPECT_EQ(ch.sink->returns().size(), 1u);
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"after"});
}

TEST(Channel, BindingMadeOnAnotherChannelIsSeen) {
  TestBroker b;
  auto& publisher = b.open_channel();
  auto& admin = b.open_channel(b.connect());
  ASSERT_OK(declare(*admin, "q"));
  ASSERT_OK(publish(*publisher, "amq.topic", "a.b", "before"));
  ASSERT_OK(admin->bind_queue("q", "amq.topic", "a.*", {}));
  ASSERT_OK(publish(*publisher, "amq.topic", "a.b", "after"));
  ASSERT_OK(admin->unbind_queue("q", "amq.topic", "a.*", {}));
  ASSERT_OK(publish(*publisher, "amq.topic", "a.b", "unbound"));
  EXPECT_EQ(drain_bodies(*admin, "q"), Strings{"after"});
}

TEST(Channel, DeletedQueueIsSeenByTheNextPublish) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "kept"));
  ASSERT_OK(ch->delete_queue("q", false, false));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "returned"));
  ASSERT_EQ(ch.sink->returns().size(), 1u);
  EXPECT_EQ(ch.sink->returns()[0].message.body, "returned");
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish_mandatory(*ch, "", "q", "new-queue"));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"new-queue"});
}

// ---- consume -----------------------------------------------------------------------------

TEST(Channel, ConsumeDeliversReadyThenNewMessagesInOrder) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  auto tag = consume(*ch, "q", "c");
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, "c");
  ASSERT_OK(publish(*ch, "", "q", "m3"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(3));
  auto ds = ch.sink->deliveries();
  ASSERT_EQ(ds.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ds[i].body(), "m" + std::to_string(i + 1));
    EXPECT_EQ(ds[i].consumer_tag, "c");
    EXPECT_EQ(ds[i].delivery_tag, i + 1);
    EXPECT_FALSE(ds[i].redelivered);
  }
  EXPECT_EQ(ch->unacked_count(), 3u);
  EXPECT_EQ(b.counts("q").unacked, 3u);
}

TEST(Channel, ConsumeGeneratesATagWhenNoneIsGiven) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto tag = consume(*ch, "q");
  ASSERT_OK(tag);
  EXPECT_TRUE(tag->starts_with("amq.ctag-")) << *tag;
  EXPECT_EQ(tag->size(), std::string("amq.ctag-").size() + 22);
  EXPECT_EQ(ch->consumer_count(), 1u);
}

TEST(Channel, ConsumeOkRunsBeforeTheFirstDelivery) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  RecordingSink* sink = ch.sink.get();
  auto tag = ch->consume(ConsumeRequest{.queue = "q", .tag = "c"},
                         [sink](const std::string& t) { sink->note("consume-ok:" + t); });
  ASSERT_OK(tag);
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  EXPECT_EQ(ch.sink->events(), (Strings{"consume-ok:c", "deliver:m1"}));
}

TEST(Channel, ConsumeFromAMissingQueueIs404) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto tag = consume(*ch, "nope");
  EXPECT_EQ(tag.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tag.status().message(), "no queue 'nope' in vhost '/'");
}

TEST(Channel, ConsumeWithoutAQueueNameUsesTheLastDeclaredQueue) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto tag = consume(*ch, "");
  EXPECT_EQ(tag.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(tag.status().message(), "no previously declared queue");
  auto q = ch->declare_queue({});
  ASSERT_OK(q);
  ASSERT_OK(consume(*ch, ""));
  EXPECT_EQ(b.counts(q->name).consumers, 1u);
}

TEST(Channel, ReusingAConsumerTagIs530) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q1"));
  ASSERT_OK(declare(*ch, "q2"));
  ASSERT_OK(consume(*ch, "q1", "x"));
  auto again = consume(*ch, "q2", "x");
  EXPECT_EQ(again.status().code(), StatusCode::kNotAllowed);
  EXPECT_EQ(again.status().message(), "attempt to reuse consumer tag 'x'");
  EXPECT_EQ(b.counts("q2").consumers, 0u);
  // The first consumer still works.
  ASSERT_OK(publish(*ch, "", "q1", "m"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  EXPECT_EQ(ch.sink->deliveries()[0].consumer_tag, "x");
}

TEST(Channel, ATagMayBeReusedOnAnotherChannelOrAfterCancel) {
  TestBroker b;
  auto& one = b.open_channel();
  auto& two = b.open_channel();
  ASSERT_OK(declare(*one, "q"));
  ASSERT_OK(consume(*one, "q", "x"));
  EXPECT_OK(consume(*two, "q", "x"));
  ASSERT_OK(one->cancel("x", nullptr));
  EXPECT_OK(consume(*one, "q", "x"));
}

TEST(Channel, NonIntegerConsumerPriorityIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  auto tag = consume(*ch, "q", "c", false, false, FieldTable{{"x-priority", "high"}});
  EXPECT_EQ(tag.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(b.counts("q").consumers, 0u);
  EXPECT_OK(consume(*ch, "q", "c", false, false, FieldTable{{"x-priority", int16_t{-3}}}));
}

TEST(Channel, CancelStopsDeliveries) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c", /*no_ack=*/true));
  ASSERT_OK(publish(*ch, "", "q", "before"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_OK(ch->cancel("c", nullptr));
  EXPECT_EQ(ch->consumer_count(), 0u);
  EXPECT_EQ(b.counts("q").consumers, 0u);
  ASSERT_OK(publish(*ch, "", "q", "after"));
  EXPECT_TRUE(ch.sink->stays_at(1));
  EXPECT_EQ(drain_bodies(*ch, "q"), Strings{"after"});
}

TEST(Channel, CancelOkRunsAfterTheConsumerIsGone) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c", /*no_ack=*/true));
  RecordingSink* sink = ch.sink.get();
  ASSERT_OK(ch->cancel("c", [sink] { sink->note("cancel-ok"); }));
  ASSERT_OK(publish(*ch, "", "q", "after"));
  EXPECT_TRUE(ch.sink->stays_at(0));
  EXPECT_EQ(ch.sink->events(), Strings{"cancel-ok"});
}

TEST(Channel, CancelOfAnUnknownTagIsOk) {
  TestBroker b;
  auto& ch = b.open_channel();
  bool ok_called = false;
  EXPECT_OK(ch->cancel("never", [&] { ok_called = true; }));
  EXPECT_TRUE(ok_called);
}

TEST(Channel, CancelLeavesUnackedMessagesAcknowledgeable) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_OK(ch->cancel("c", nullptr));
  // Not requeued by the cancel (as in RabbitMQ)...
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(ch->unacked_count(), 1u);
  // ...and still acknowledgeable.
  EXPECT_OK(ch->ack(1, false));
  EXPECT_EQ(b.counts("q").unacked, 0u);
}

TEST(Channel, NoAckDeliveriesNeedNoAck) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c", /*no_ack=*/true));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(2));
  EXPECT_EQ(ch->unacked_count(), 0u);
  EXPECT_EQ(b.counts("q").unacked, 0u);
  EXPECT_EQ(ch->ack(1, false).code(), StatusCode::kPreconditionFailed);
}

TEST(Channel, DeliveryTagsAreSharedByConsumersAndGet) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q1"));
  ASSERT_OK(declare(*ch, "q2"));
  ASSERT_OK(consume(*ch, "q1", "c"));
  ASSERT_OK(publish(*ch, "", "q1", "delivered"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_OK(publish(*ch, "", "q2", "got"));
  auto r = get_message(*ch, "q2", /*no_ack=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(ch.sink->deliveries()[0].delivery_tag, 1u);
  EXPECT_EQ(r->delivery_tag, 2u);
}

// ---- acknowledgements --------------------------------------------------------------------

TEST(Channel, AckSettlesTheMessage) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(b.counts("q").unacked, 1u);
  EXPECT_EQ(ch->unacked_count(), 1u);
  ASSERT_OK(ch->ack(r->delivery_tag, false));
  EXPECT_EQ(b.counts("q").unacked, 0u);
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(ch->unacked_count(), 0u);
}

TEST(Channel, AckMultipleSettlesEverythingUpToTheTag) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c"));
  for (int i = 1; i <= 4; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(4));
  ASSERT_OK(ch->ack(3, /*multiple=*/true));
  EXPECT_EQ(ch->unacked_count(), 1u);
  EXPECT_EQ(b.counts("q").unacked, 1u);
  EXPECT_EQ(ch->ack(2, false).code(), StatusCode::kPreconditionFailed);
  EXPECT_OK(ch->ack(4, false));
  EXPECT_EQ(b.counts("q").unacked, 0u);
}

TEST(Channel, AckMultipleOfTagZeroSettlesEverything) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(publish(*ch, "", "q", "m"));
    ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  }
  ASSERT_OK(ch->ack(0, /*multiple=*/true));
  EXPECT_EQ(ch->unacked_count(), 0u);
  EXPECT_EQ(b.counts("q").unacked, 0u);
}

TEST(Channel, AckOfAnUnknownDeliveryTagIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status s = ch->ack(7, false);
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "unknown delivery tag 7");
  EXPECT_EQ(ch->ack(7, true).message(), "unknown delivery tag 7");
  EXPECT_EQ(ch->ack(0, false).message(), "unknown delivery tag 0");
  EXPECT_EQ(ch->nack(7, false, true).message(), "unknown delivery tag 7");
  EXPECT_EQ(ch->reject(7, true).message(), "unknown delivery tag 7");
}

TEST(Channel, SecondAckOfATagIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  ASSERT_OK(ch->ack(1, false));
  Status s = ch->ack(1, false);
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "unknown delivery tag 1");
}

TEST(Channel, DeliveryTagsArePerChannel) {
  TestBroker b;
  auto& one = b.open_channel();
  auto& two = b.open_channel();
  ASSERT_OK(declare(*one, "q"));
  ASSERT_OK(publish(*one, "", "q", "a"));
  ASSERT_OK(publish(*one, "", "q", "b"));
  auto ra = get_message(*one, "q", false);
  auto rb = get_message(*two, "q", false);
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra->delivery_tag, 1u);
  EXPECT_EQ(rb->delivery_tag, 1u);
  ASSERT_OK(two->ack(1, false));
  EXPECT_EQ(one->unacked_count(), 1u);
}

TEST(Channel, NackWithRequeueRedeliversInTheOriginalOrder) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(consume(*ch, "q", "c"));
  for (int i = 1; i <= 3; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(3));
  ASSERT_OK(ch->nack(3, /*multiple=*/true, /*requeue=*/true));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(6));
  auto ds = ch.sink->deliveries();
  for (size_t i = 3; i < 6; ++i) {
    EXPECT_EQ(ds[i].body(), "m" + std::to_string(i - 2));
    EXPECT_TRUE(ds[i].redelivered);
    EXPECT_EQ(ds[i].delivery_tag, i + 1);
  }
}

TEST(Channel, RequeuedMessageGoesBackAheadOfLaterMessages) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (int i = 1; i <= 4; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(get_message(*ch, "q", /*no_ack=*/false));
  // Requeue out of order: m3 then m1. The queue order is restored regardless.
  ASSERT_OK(ch->reject(3, /*requeue=*/true));
  ASSERT_OK(ch->reject(1, /*requeue=*/true));
  auto r1 = get_message(*ch, "q");
  auto r3 = get_message(*ch, "q");
  auto r4 = get_message(*ch, "q");
  EXPECT_EQ(body_of(r1), "m1");
  EXPECT_EQ(body_of(r3), "m3");
  EXPECT_EQ(body_of(r4), "m4");
  EXPECT_TRUE(r1->entry.redelivered);
  EXPECT_TRUE(r3->entry.redelivered);
  EXPECT_FALSE(r4->entry.redelivered);
  EXPECT_EQ(ch->unacked_count(), 1u);  // m2
}

TEST(Channel, RejectWithoutRequeueDropsTheMessage) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->reject(r->delivery_tag, /*requeue=*/false));
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").unacked, 0u);
  EXPECT_FALSE(get_message(*ch, "q"));
}

TEST(Channel, NackMultipleWithoutRequeueDropsEveryMessage) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  for (int i = 0; i < 3; ++i) ASSERT_OK(publish(*ch, "", "q", "m"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_OK(ch->nack(2, /*multiple=*/true, /*requeue=*/false));
  EXPECT_EQ(ch->unacked_count(), 1u);
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").unacked, 1u);
}

TEST(Channel, RecoverRequeuesEveryUnackedMessage) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_OK(ch->recover(true));
  EXPECT_EQ(ch->unacked_count(), 0u);
  auto r1 = get_message(*ch, "q");
  auto r2 = get_message(*ch, "q");
  EXPECT_EQ(body_of(r1), "m1");
  EXPECT_EQ(body_of(r2), "m2");
  EXPECT_TRUE(r1->entry.redelivered && r2->entry.redelivered);
}

TEST(Channel, RecoverWithoutRequeueIs540) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status s = ch->recover(false);
  EXPECT_EQ(s.code(), StatusCode::kNotImplemented);
  EXPECT_EQ(s.message(), "requeue=false");
}

// ---- close -------------------------------------------------------------------------------

TEST(Channel, CloseRequeuesUnackedMessagesAsRedeliveredInOrder) {
  TestBroker b;
  auto& consumer = b.open_channel();
  ASSERT_OK(declare(*consumer, "q"));
  for (int i = 1; i <= 4; ++i) ASSERT_OK(publish(*consumer, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(get_message(*consumer, "q", /*no_ack=*/false));  // m1 by basic.get
  ASSERT_OK(consumer->qos(0, 2, false));
  ASSERT_OK(consume(*consumer, "q", "c"));
  ASSERT_TRUE(consumer.sink->wait_for_deliveries(2));  // m2, m3; m4 stays ready
  consumer->close();
  ASSERT_TRUE(b.wait_for_ready("q", 4));
  EXPECT_EQ(b.counts("q").consumers, 0u);
  auto& other = b.open_channel();
  for (int i = 1; i <= 4; ++i) {
    auto r = get_message(*other, "q");
    ASSERT_TRUE(r);
    EXPECT_EQ(body_of(r), "m" + std::to_string(i));
    EXPECT_EQ(r->entry.redelivered, i < 4) << i;
  }
}

TEST(Channel, CloseIsIdempotentAndStopsDeliveries) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto& admin = b.open_channel();
  ASSERT_OK(declare(*admin, "q"));
  ASSERT_OK(consume(*ch, "q", "c", /*no_ack=*/true));
  ch->close();
  ch->close();
  EXPECT_EQ(ch->consumer_count(), 0u);
  ASSERT_OK(publish(*admin, "", "q", "after-close"));
  EXPECT_TRUE(ch.sink->stays_at(0));
  EXPECT_TRUE(ch.sink->cancels().empty());  // a client-side close is not a broker cancel
  EXPECT_EQ(drain_bodies(*admin, "q"), Strings{"after-close"});
}

TEST(Channel, ConsumeOnAClosedChannelFails) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ch->close();
  auto tag = consume(*ch, "q");
  EXPECT_EQ(tag.status().code(), StatusCode::kClosed);
  EXPECT_EQ(b.counts("q").consumers, 0u);
}

// ---- prefetch ----------------------------------------------------------------------------

TEST(Channel, PrefetchCountLimitsUnackedDeliveriesPerConsumer) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->qos(0, 2, /*global=*/false));
  ASSERT_OK(consume(*ch, "q", "c"));
  for (int i = 1; i <= 5; ++i) ASSERT_OK(publish(*ch, "", "q", "m" + std::to_string(i)));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(2));
  EXPECT_TRUE(ch.sink->stays_at(2));
  EXPECT_EQ(b.counts("q").ready, 3u);
  ASSERT_OK(ch->ack(1, false));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(3));
  EXPECT_TRUE(ch.sink->stays_at(3));
  ASSERT_OK(ch->ack(3, /*multiple=*/true));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(5));
  EXPECT_EQ(ch.sink->bodies(), (Strings{"m1", "m2", "m3", "m4", "m5"}));
}

TEST(Channel, PrefetchAppliesToConsumersCreatedAfterQos) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "before"));
  ASSERT_OK(declare(*ch, "after"));
  ASSERT_OK(consume(*ch, "before", "unlimited"));
  ASSERT_OK(ch->qos(0, 1, /*global=*/false));
  ASSERT_OK(consume(*ch, "after", "limited"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(publish(*ch, "", "before", "b"));
    ASSERT_OK(publish(*ch, "", "after", "a"));
  }
  ASSERT_TRUE(ch.sink->wait_for_deliveries(4));
  EXPECT_TRUE(ch.sink->stays_at(4));
  size_t limited = 0;
  for (const auto& d : ch.sink->deliveries()) limited += d.consumer_tag == "limited";
  EXPECT_EQ(limited, 1u);
}

TEST(Channel, PerConsumerPrefetchAppliesToEachConsumer) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q1"));
  ASSERT_OK(declare(*ch, "q2"));
  ASSERT_OK(ch->qos(0, 1, /*global=*/false));
  ASSERT_OK(consume(*ch, "q1", "c1"));
  ASSERT_OK(consume(*ch, "q2", "c2"));
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK(publish(*ch, "", "q1", "m"));
    ASSERT_OK(publish(*ch, "", "q2", "m"));
  }
  ASSERT_TRUE(ch.sink->wait_for_deliveries(2));
  EXPECT_TRUE(ch.sink->stays_at(2));
  auto ds = ch.sink->deliveries();
  EXPECT_NE(ds[0].consumer_tag, ds[1].consumer_tag);
}

TEST(Channel, GlobalPrefetchLimitsTheChannelsConsumersTogether) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q1"));
  ASSERT_OK(declare(*ch, "q2"));
  ASSERT_OK(ch->qos(0, 3, /*global=*/true));
  ASSERT_OK(consume(*ch, "q1", "c1"));
  ASSERT_OK(consume(*ch, "q2", "c2"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(publish(*ch, "", "q1", "m"));
    ASSERT_OK(publish(*ch, "", "q2", "m"));
  }
  ASSERT_TRUE(ch.sink->wait_for_deliveries(3));
  EXPECT_TRUE(ch.sink->stays_at(3));
  EXPECT_EQ(b.counts("q1").ready + b.counts("q2").ready, 7u);
}

// A consumer takes what it may from its queue when it is registered, as RabbitMQ's queue does
// before basic.consume returns: with a global limit of 3 and two queues already holding
// messages, the first consumer gets all 3, whatever the worker threads do meanwhile (the
// second consume used to race the first queue's drain: pika saw 2 + 1 now and then).
TEST(Channel, AConsumerTakesItsShareWhenItIsRegistered) {
  for (int round = 0; round < 20; ++round) {
    TestBroker b;
    auto& ch = b.open_channel();
    ASSERT_OK(declare(*ch, "q1"));
    ASSERT_OK(declare(*ch, "q2"));
    for (int i = 0; i < 10; ++i) {
      ASSERT_OK(publish(*ch, "", "q1", "a"));
      ASSERT_OK(publish(*ch, "", "q2", "b"));
    }
    ASSERT_OK(ch->qos(0, 3, /*global=*/true));
    ASSERT_OK(consume(*ch, "q1", "c1"));
    ASSERT_OK(consume(*ch, "q2", "c2"));
    ASSERT_TRUE(ch.sink->wait_for_deliveries(3));
    ASSERT_TRUE(ch.sink->stays_at(3));
    ASSERT_EQ(ch.sink->bodies(), (Strings{"a", "a", "a"})) << "round " << round;
    ASSERT_EQ(b.counts("q1").unacked, 3u);
    ASSERT_EQ(b.counts("q2").ready, 10u);
  }
}

// Regression test, fixed (was: broker/channel.cc, Channel::settle: freed channel-wide (global)
// credit is only announced to the queue of the settled message, through Queue::settle; consumers of
// the channel's other queues that were starved by the global limit are never woken, unlike
// Channel::qos which calls notify_queues_of_credit()). RabbitMQ's limiter unblocks every
// queue of the channel when capacity frees up. Here c2 never receives its message.
TEST(Channel, GlobalPrefetchCreditFreedOnOneQueueWakesConsumersOfAnother) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q1"));
  ASSERT_OK(declare(*ch, "q2"));
  ASSERT_OK(ch->qos(0, 1, /*global=*/true));
  ASSERT_OK(consume(*ch, "q1", "c1"));
  ASSERT_OK(publish(*ch, "", "q1", "first"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_OK(consume(*ch, "q2", "c2"));
  ASSERT_OK(publish(*ch, "", "q2", "second"));
  EXPECT_TRUE(ch.sink->stays_at(1));  // the channel's one unit of credit is taken
  ASSERT_OK(ch->ack(1, false));
  EXPECT_TRUE(ch.sink->wait_for_deliveries(2, kBugWait))
      << "BUG: credit freed by an ack on q1 never reaches the consumer of q2";
}

// Regression test, fixed (was: same cause as above): acking a basic.get message frees global credit
// but no queue is told, so a consumer waiting for that credit stays starved.
TEST(Channel, GlobalPrefetchCountsBasicGetAndItsAckFreesCredit) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "got"));
  ASSERT_OK(declare(*ch, "consumed"));
  ASSERT_OK(ch->qos(0, 1, /*global=*/true));
  ASSERT_OK(publish(*ch, "", "got", "g"));
  auto r = get_message(*ch, "got", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(consume(*ch, "consumed", "c"));
  ASSERT_OK(publish(*ch, "", "consumed", "d"));
  EXPECT_TRUE(ch.sink->stays_at(0));  // the get holds the channel's only unit of credit
  ASSERT_OK(ch->ack(r->delivery_tag, false));
  EXPECT_TRUE(ch.sink->wait_for_deliveries(1, kBugWait))
      << "BUG: acking a basic.get message does not wake consumers waiting for global credit";
}

TEST(Channel, RaisingThePrefetchReleasesWaitingMessages) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->qos(0, 1, /*global=*/true));
  ASSERT_OK(consume(*ch, "q", "c"));
  for (int i = 0; i < 3; ++i) ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  EXPECT_TRUE(ch.sink->stays_at(1));
  ASSERT_OK(ch->qos(0, 3, /*global=*/true));
  EXPECT_TRUE(ch.sink->wait_for_deliveries(3));
}

TEST(Channel, PrefetchZeroIsUnlimited) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->qos(0, 0, false));
  ASSERT_OK(ch->qos(0, 0, true));
  ASSERT_OK(consume(*ch, "q", "c"));
  for (int i = 0; i < 50; ++i) ASSERT_OK(publish(*ch, "", "q", "m"));
  EXPECT_TRUE(ch.sink->wait_for_deliveries(50));
}

TEST(Channel, NoAckConsumerIgnoresPrefetch) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->qos(0, 1, false));
  ASSERT_OK(ch->qos(0, 1, true));
  ASSERT_OK(consume(*ch, "q", "c", /*no_ack=*/true));
  for (int i = 0; i < 5; ++i) ASSERT_OK(publish(*ch, "", "q", "m"));
  EXPECT_TRUE(ch.sink->wait_for_deliveries(5));
}

TEST(Channel, RequeueGivesTheCreditBack) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->qos(0, 1, false));
  ASSERT_OK(consume(*ch, "q", "c"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(1));
  ASSERT_OK(ch->reject(1, /*requeue=*/true));
  ASSERT_TRUE(ch.sink->wait_for_deliveries(2));
  auto d = ch.sink->deliveries()[1];
  EXPECT_EQ(d.body(), "m1");
  EXPECT_TRUE(d.redelivered);
  EXPECT_TRUE(ch.sink->stays_at(2));
}

// Closing a channel while its queue's drain is handing messages to it (on a worker) or has
// assigned it messages at enqueue: once close() returns, every message is back in the queue,
// none "in flight" (a passive declare right after a consumer's channel closed used to miss
// one that came back a moment later).
TEST(Channel, CloseReturnsEveryMessageBeforeItReturns) {
  TestBroker b;
  auto& pub = b.open_channel();
  ASSERT_OK(declare(*pub, "q"));
  constexpr uint32_t kMessages = 40;
  for (int round = 0; round < 300; ++round) {
    auto& sub = b.open_channel();
    ASSERT_OK(sub->qos(0, round % 2 == 0 ? 0 : 7, false));
    ASSERT_OK(consume(*sub, "q", "c"));
    for (uint32_t i = 0; i < kMessages; ++i) ASSERT_OK(publish(*pub, "", "q", "m"));
    sub->close();
    const auto counts = b.counts("q");
    ASSERT_EQ(counts.ready, kMessages) << "round " << round;
    ASSERT_EQ(counts.unacked, 0u) << "round " << round;
    ASSERT_EQ((*b.vhost().find_queue("q", b.connection()->id()))->purge(), kMessages);
  }
}

TEST(Channel, QosWithAPrefetchSizeIs540) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status s = ch->qos(5, 10, false);
  EXPECT_EQ(s.code(), StatusCode::kNotImplemented);
  EXPECT_EQ(s.message(), "prefetch_size!=0 (5)");
}

// ---- transactions ------------------------------------------------------------------------

TEST(Channel, TxPublishesAreInvisibleUntilCommit) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->tx_select());
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  EXPECT_EQ(b.counts("q").ready, 0u);
  ASSERT_OK(ch->tx_commit());
  EXPECT_EQ(drain_bodies(*ch, "q"), (Strings{"m1", "m2"}));
}

TEST(Channel, TxRollbackDiscardsPublishes) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->tx_select());
  ASSERT_OK(publish(*ch, "", "q", "discarded"));
  ASSERT_OK(ch->tx_rollback());
  ASSERT_OK(ch->tx_commit());
  EXPECT_TRUE(drain_bodies(*ch, "q").empty());
}

TEST(Channel, TxChannelStaysTransactionalAfterCommit) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->tx_select());
  ASSERT_OK(publish(*ch, "", "q", "first"));
  ASSERT_OK(ch->tx_commit());
  ASSERT_OK(publish(*ch, "", "q", "second"));
  EXPECT_EQ(b.counts("q").ready, 1u);
  ASSERT_OK(ch->tx_commit());
  EXPECT_EQ(b.counts("q").ready, 2u);
}

TEST(Channel, TxCommitSaysWhetherAQueueWasReached) {
  // The AMQP adapter holds commit-ok back (RabbitMQ's "committing" state) only when a
  // published message reached a queue.
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(ch->tx_select());
  auto empty = ch->tx_commit();
  ASSERT_OK(empty);
  EXPECT_FALSE(*empty);
  ASSERT_OK(publish(*ch, "", "nowhere", "unroutable"));
  auto unroutable = ch->tx_commit();
  ASSERT_OK(unroutable);
  EXPECT_FALSE(*unroutable);
  ASSERT_OK(publish(*ch, "", "q", "m"));
  auto routed = ch->tx_commit();
  ASSERT_OK(routed);
  EXPECT_TRUE(*routed);
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->ack(r->delivery_tag, false));
  auto acks_only = ch->tx_commit();
  ASSERT_OK(acks_only);
  EXPECT_FALSE(*acks_only);
  EXPECT_EQ(b.counts("q").unacked, 0u);
}

TEST(Channel, TxAcksApplyAtCommit) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  auto r = get_message(*ch, "q", /*no_ack=*/false);
  ASSERT_TRUE(r);
  ASSERT_OK(ch->tx_select());
  ASSERT_OK(ch->ack(r->delivery_tag, false));
  EXPECT_EQ(b.counts("q").unacked, 1u);
  ASSERT_OK(ch->tx_commit());
  EXPECT_EQ(b.counts("q").unacked, 0u);
  EXPECT_EQ(b.counts("q").ready, 0u);
}

TEST(Channel, TxRollbackRestoresAckedTags) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m1"));
  ASSERT_OK(publish(*ch, "", "q", "m2"));
  ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_OK(ch->tx_select());
  ASSERT_OK(ch->ack(2, /*multiple=*/true));
  EXPECT_EQ(ch->unacked_count(), 0u);
  ASSERT_OK(ch->tx_rollback());
  EXPECT_EQ(ch->unacked_count(), 2u);
  // Both tags are acknowledgeable again.
  ASSERT_OK(ch->ack(1, false));
  ASSERT_OK(ch->tx_commit());
  EXPECT_EQ(b.counts("q").unacked, 1u);
  ASSERT_OK(ch->ack(2, false));
  ASSERT_OK(ch->tx_commit());
  EXPECT_EQ(b.counts("q").unacked, 0u);
}

TEST(Channel, TxRollbackOfARejectKeepsTheMessageUnacked) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "m"));
  ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_OK(ch->tx_select());
  ASSERT_OK(ch->reject(1, /*requeue=*/true));
  ASSERT_OK(ch->tx_rollback());
  EXPECT_EQ(b.counts("q").ready, 0u);
  EXPECT_EQ(b.counts("q").unacked, 1u);
  EXPECT_EQ(ch->unacked_count(), 1u);
}

TEST(Channel, TxAckOfAnUnknownTagFailsAtOnce) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->tx_select());
  Status s = ch->ack(3, false);
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "unknown delivery tag 3");
}

TEST(Channel, TxCommitOrRollbackWithoutSelectIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  Status commit = ch->tx_commit().status();
  EXPECT_EQ(commit.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(commit.message(), "channel is not transactional");
  Status rollback = ch->tx_rollback();
  EXPECT_EQ(rollback.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(rollback.message(), "channel is not transactional");
}

TEST(Channel, TxSelectOnAConfirmChannelIs406) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->confirm_select());
  Status s = ch->tx_select();
  EXPECT_EQ(s.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "cannot switch from confirm to tx mode");
  EXPECT_EQ(ch->tx_commit().status().message(), "channel is not transactional");
}

TEST(Channel, TxPublishToAMissingExchangeFailsAtPublish) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->tx_select());
  Status s = publish(*ch, "nope", "k", "m");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no exchange 'nope' in vhost '/'");
  EXPECT_OK(ch->tx_commit());
}

TEST(Channel, TxMandatoryReturnIsSentAtCommit) {
  TestBroker b;
  auto& ch = b.open_channel();
  ASSERT_OK(ch->tx_select());
  ASSERT_OK(publish_mandatory(*ch, "amq.direct", "nowhere", "m"));
  EXPECT_TRUE(ch.sink->returns().empty());
  ASSERT_OK(ch->tx_commit());
  ASSERT_EQ(ch.sink->returns().size(), 1u);
  EXPECT_EQ(ch.sink->returns()[0].reply_code, 312);
}

TEST(Channel, CloseDiscardsUncommittedWork) {
  TestBroker b;
  auto& ch = b.open_channel();
  auto& other = b.open_channel();
  ASSERT_OK(declare(*ch, "q"));
  ASSERT_OK(publish(*ch, "", "q", "delivered"));
  ASSERT_TRUE(get_message(*ch, "q", false));
  ASSERT_OK(ch->tx_select());
  ASSERT_OK(publish(*ch, "", "q", "uncommitted"));
  ASSERT_OK(ch->ack(1, false));
  ch->close();
  auto r = get_message(*other, "q");
  EXPECT_EQ(body_of(r), "delivered");
  EXPECT_TRUE(r && r->entry.redelivered);
  EXPECT_FALSE(get_message(*other, "q"));
}

}  // namespace
}  // namespace burrow::broker
