// Tests for ConfirmTracker: publisher confirms go out in sequence order, runs of acks coalesce
// into one multiple-ack, a nack splits a run, and an unresolved publish holds back later ones.
#include "broker/confirm_tracker.h"

#include <algorithm>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace burrow::broker {
namespace {

struct Confirm {
  uint64_t seq;
  bool multiple;
  bool ack;
  friend bool operator==(const Confirm&, const Confirm&) = default;
};

void PrintTo(const Confirm& c, std::ostream* os) {
  *os << "{" << c.seq << (c.multiple ? ",multiple" : "") << (c.ack ? ",ack}" : ",nack}");
}

std::vector<Confirm> flush(ConfirmTracker& t) {
  std::vector<Confirm> out;
  t.flush([&](uint64_t seq, bool multiple, bool ack) { out.push_back({seq, multiple, ack}); });
  return out;
}

TEST(ConfirmTracker, SequenceNumbersStartAtOne) {
  ConfirmTracker t;
  EXPECT_EQ(t.next(), 1u);
  EXPECT_EQ(t.next(), 2u);
  EXPECT_EQ(t.next(), 3u);
}

TEST(ConfirmTracker, NothingToFlushAtFirst) {
  ConfirmTracker t;
  EXPECT_FALSE(t.ready());
  EXPECT_TRUE(flush(t).empty());
}

TEST(ConfirmTracker, SingleAckIsNotMultiple) {
  ConfirmTracker t;
  uint64_t s = t.next();
  t.resolve(s, true);
  EXPECT_TRUE(t.ready());
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{1, false, true}}));
  EXPECT_FALSE(t.ready());
  EXPECT_TRUE(flush(t).empty());
}

TEST(ConfirmTracker, AcksCoalesceIntoOneMultipleAck) {
  ConfirmTracker t;
  for (int i = 0; i < 5; ++i) t.resolve(t.next(), true);
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{5, true, true}}));
}

TEST(ConfirmTracker, NackSplitsARunOfAcks) {
  ConfirmTracker t;
  for (int i = 0; i < 5; ++i) t.next();
  t.resolve(1, true);
  t.resolve(2, true);
  t.resolve(3, false);
  t.resolve(4, true);
  t.resolve(5, true);
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{2, true, true}, {3, false, false}, {5, true, true}}));
}

TEST(ConfirmTracker, NacksAreNeverCoalesced) {
  ConfirmTracker t;
  for (int i = 0; i < 3; ++i) t.resolve(t.next(), false);
  t.resolve(t.next(), true);
  EXPECT_EQ(flush(t),
            (std::vector<Confirm>{
                {1, false, false}, {2, false, false}, {3, false, false}, {4, false, true}}));
}

TEST(ConfirmTracker, PendingPublishHoldsBackLaterOnes) {
  ConfirmTracker t;
  for (int i = 0; i < 3; ++i) t.next();
  t.resolve(2, true);
  t.resolve(3, true);
  EXPECT_FALSE(t.ready());
  EXPECT_TRUE(flush(t).empty());
  t.resolve(1, true);
  EXPECT_TRUE(t.ready());
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{3, true, true}}));
}

TEST(ConfirmTracker, FlushStopsAtTheFirstPending) {
  ConfirmTracker t;
  for (int i = 0; i < 4; ++i) t.next();
  t.resolve(1, true);
  t.resolve(2, true);
  t.resolve(4, true);
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{2, true, true}}));
  t.resolve(3, false);
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{3, false, false}, {4, false, true}}));
}

TEST(ConfirmTracker, SequenceContinuesAcrossFlushes) {
  ConfirmTracker t;
  t.resolve(t.next(), true);
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{1, false, true}}));
  t.resolve(t.next(), true);
  t.resolve(t.next(), true);
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{3, true, true}}));
}

TEST(ConfirmTracker, ResolvingUnknownOrSettledSequencesIsIgnored) {
  ConfirmTracker t;
  t.resolve(1, true);  // never issued
  EXPECT_FALSE(t.ready());
  uint64_t s = t.next();
  t.resolve(s, true);
  EXPECT_EQ(flush(t).size(), 1u);
  t.resolve(s, false);  // already confirmed
  t.resolve(99, true);
  EXPECT_TRUE(flush(t).empty());
}

TEST(ConfirmTracker, LastResolutionWins) {
  ConfirmTracker t;
  uint64_t s = t.next();
  t.resolve(s, true);
  t.resolve(s, false);
  EXPECT_EQ(flush(t), (std::vector<Confirm>{{1, false, false}}));
}

TEST(ConfirmTracker, LongRunsAreEmittedCompletely) {
  ConfirmTracker t;
  // Alternating nacks and acks produce more confirms than one flush batch holds.
  for (int i = 1; i <= 1000; ++i) t.resolve(t.next(), i % 3 != 0);
  std::vector<Confirm> out = flush(t);
  // Replaying them as a client does must settle every sequence number exactly once.
  std::map<uint64_t, bool> settled;
  uint64_t floor = 0;
  for (const Confirm& c : out) {
    ASSERT_GT(c.seq, floor);
    uint64_t from = c.multiple ? floor + 1 : c.seq;
    for (uint64_t s = from; s <= c.seq; ++s) {
      ASSERT_FALSE(settled.contains(s)) << s;
      settled[s] = c.ack;
    }
    floor = c.seq;
  }
  ASSERT_EQ(settled.size(), 1000u);
  for (uint64_t s = 1; s <= 1000; ++s) EXPECT_EQ(settled[s], s % 3 != 0) << s;
}

// A client's view: each confirm settles `seq` (and, with multiple, every earlier unsettled
// one). Every publish must be settled exactly once, with its outcome, in increasing order.
TEST(ConfirmTracker, RandomResolutionOrderSettlesEverythingOnceInOrder) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    ConfirmTracker t;
    const int n = 1 + static_cast<int>(rng() % 300);
    std::vector<bool> outcome(n + 1);
    std::vector<uint64_t> order;
    for (int i = 1; i <= n; ++i) {
      ASSERT_EQ(t.next(), static_cast<uint64_t>(i));
      outcome[i] = rng() % 4 != 0;
      order.push_back(i);
    }
    std::shuffle(order.begin(), order.end(), rng);
    std::map<uint64_t, bool> settled;
    uint64_t floor = 0;
    auto apply = [&](uint64_t seq, bool multiple, bool ack) {
      ASSERT_GT(seq, floor);
      for (uint64_t s = multiple ? floor + 1 : seq; s <= seq; ++s) {
        ASSERT_FALSE(settled.contains(s));
        settled[s] = ack;
      }
      // A single confirm must not skip an unsettled earlier publish.
      ASSERT_EQ(settled.size(), seq);
      floor = seq;
    };
    for (uint64_t seq : order) {
      t.resolve(seq, outcome[seq]);
      if (rng() % 5 == 0) t.flush(apply);
    }
    t.flush(apply);
    ASSERT_EQ(settled.size(), static_cast<size_t>(n)) << "round " << round;
    for (int i = 1; i <= n; ++i) EXPECT_EQ(settled[i], outcome[i]) << i;
  }
}

TEST(ConfirmTracker, ResolutionsFromAnotherThreadAreSeen) {
  ConfirmTracker t;
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 1000; ++i) seqs.push_back(t.next());
  std::thread resolver([&] {
    for (uint64_t s : seqs) t.resolve(s, true);
  });
  uint64_t highest = 0;
  auto emit = [&](uint64_t seq, bool, bool ack) {
    EXPECT_TRUE(ack);
    EXPECT_GT(seq, highest);
    highest = seq;
  };
  while (highest < 1000) {
    t.flush(emit);
    std::this_thread::yield();
  }
  resolver.join();
  EXPECT_EQ(highest, 1000u);
}

}  // namespace
}  // namespace burrow::broker
