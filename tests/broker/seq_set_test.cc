// SeqSet: the compact set of a queue's stored sequences.
#include "broker/seq_set.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace burrow::broker {
namespace {

TEST(SeqSet, MinFollowsTheLowestMemberAsMembersLeave) {
  SeqSet s;
  EXPECT_TRUE(s.empty());
  for (uint64_t seq = 1; seq <= 200; ++seq) s.insert(seq);
  EXPECT_EQ(s.size(), 200u);
  EXPECT_EQ(s.min(), 1u);
  s.erase(2);
  EXPECT_EQ(s.min(), 1u);
  s.erase(1);
  EXPECT_EQ(s.min(), 3u);
  for (uint64_t seq = 3; seq <= 150; ++seq) s.erase(seq);
  EXPECT_EQ(s.min(), 151u);
  for (uint64_t seq = 151; seq <= 200; ++seq) s.erase(seq);
  EXPECT_TRUE(s.empty());
}

TEST(SeqSet, ErasingAbsentMembersChangesNothing) {
  SeqSet s;
  s.insert(100);
  s.erase(5);
  s.erase(101);
  s.erase(100000);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.min(), 100u);
  s.insert(100);  // already there
  EXPECT_EQ(s.size(), 1u);
}

TEST(SeqSet, InsertBelowTheWindowAndAfterEmptying) {
  SeqSet s;
  s.insert(1000);
  s.insert(10);  // below the first word
  EXPECT_EQ(s.min(), 10u);
  s.erase(10);
  s.erase(1000);
  EXPECT_TRUE(s.empty());
  s.insert(5'000'000'000);
  EXPECT_EQ(s.min(), 5'000'000'000u);
}

TEST(SeqSet, AgreesWithStdSetUnderRandomOperations) {
  std::mt19937_64 rng(42);
  SeqSet s;
  std::set<uint64_t> ref;
  uint64_t next = 1;
  for (int i = 0; i < 200000; ++i) {
    if (ref.empty() || rng() % 3 != 0) {
      s.insert(next);
      ref.insert(next);
      ++next;
    } else {
      // Erase mostly near the front, sometimes anywhere (acks out of order).
      uint64_t lo = *ref.begin();
      uint64_t seq = lo + rng() % (rng() % 4 == 0 ? (next - lo) : 64);
      s.erase(seq);
      ref.erase(seq);
    }
    ASSERT_EQ(s.size(), ref.size());
    if (!ref.empty()) ASSERT_EQ(s.min(), *ref.begin()) << "step " << i;
  }
}

}  // namespace
}  // namespace burrow::broker
