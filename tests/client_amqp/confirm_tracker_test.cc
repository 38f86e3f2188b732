// ConfirmTracker: single, multiple and out-of-order acks and nacks.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "client/amqp/confirm_tracker.h"

namespace burrow::client::amqp {
namespace {

using Resolved = std::vector<std::pair<uint64_t, bool>>;

Resolved apply(ConfirmTracker& t, uint64_t tag, bool multiple, bool ack) {
  Resolved out;
  t.on_confirm(tag, multiple, ack, [&](uint64_t seq, bool a) { out.emplace_back(seq, a); });
  return out;
}

TEST(ConfirmTracker, NumbersPublishesFromOne) {
  ConfirmTracker t;
  t.enable();
  EXPECT_EQ(t.on_publish(), 1u);
  EXPECT_EQ(t.on_publish(), 2u);
  EXPECT_EQ(t.unconfirmed(), 2u);
  EXPECT_EQ(t.next_sequence(), 3u);
}

TEST(ConfirmTracker, MultipleAckResolvesEverythingUpToTheTag) {
  ConfirmTracker t;
  for (int i = 0; i < 5; ++i) t.on_publish();
  EXPECT_EQ(apply(t, 3, true, true), (Resolved{{1, true}, {2, true}, {3, true}}));
  EXPECT_EQ(t.unconfirmed(), 2u);
  EXPECT_EQ(apply(t, 5, true, true), (Resolved{{4, true}, {5, true}}));
  EXPECT_EQ(t.unconfirmed(), 0u);
  EXPECT_EQ(t.counts().acked, 5u);
}

TEST(ConfirmTracker, OutOfOrderSingleAcksAndNacks) {
  ConfirmTracker t;
  for (int i = 0; i < 4; ++i) t.on_publish();
  EXPECT_EQ(apply(t, 3, false, true), (Resolved{{3, true}}));
  EXPECT_EQ(apply(t, 1, false, false), (Resolved{{1, false}}));
  // 2 and 4 remain; a multiple ack for 4 resolves only those.
  EXPECT_EQ(apply(t, 4, true, true), (Resolved{{2, true}, {4, true}}));
  EXPECT_EQ(t.counts().acked, 3u);
  EXPECT_EQ(t.counts().nacked, 1u);
  EXPECT_EQ(t.unconfirmed(), 0u);
}

TEST(ConfirmTracker, IgnoresRepeatedAndUnknownTags) {
  ConfirmTracker t;
  t.on_publish();
  EXPECT_EQ(apply(t, 1, false, true).size(), 1u);
  EXPECT_TRUE(apply(t, 1, false, true).empty());
  EXPECT_TRUE(apply(t, 0, true, true).empty());
  t.on_publish();
  // A tag beyond the last publish resolves what exists.
  EXPECT_EQ(apply(t, 9, true, true), (Resolved{{2, true}}));
}

}  // namespace
}  // namespace burrow::client::amqp
