// Tests for PackLog (broker/pack_log.h): FIFO order, chunk boundaries, records larger than a
// chunk, and reuse after it was emptied.
#include "broker/pack_log.h"

#include <deque>
#include <string>

#include <gtest/gtest.h>

namespace burrow::broker {
namespace {

std::string record(size_t size, int seed) {
  std::string r(size, '\0');
  for (size_t i = 0; i < size; ++i) r[i] = static_cast<char>((seed * 31 + i) & 0xff);
  return r;
}

TEST(PackLog, KeepsRecordsInOrderAcrossChunks) {
  PackLog log;
  std::deque<std::string> expected;
  // ~300 KiB of records of varying size: several chunks.
  for (int i = 0; i < 3000; ++i) {
    expected.push_back(record(static_cast<size_t>(i % 200), i));
    log.push_back(expected.back());
  }
  EXPECT_EQ(log.size(), expected.size());
  while (!expected.empty()) {
    ASSERT_EQ(log.front(), expected.front());
    log.pop_front();
    expected.pop_front();
  }
  EXPECT_TRUE(log.empty());
}

TEST(PackLog, InterleavedPushAndPopStayInOrder) {
  PackLog log;
  std::deque<std::string> expected;
  int next = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 37; ++i) {
      expected.push_back(record(static_cast<size_t>((next * 7) % 900), next));
      log.push_back(expected.back());
      ++next;
    }
    for (int i = 0; i < 30 && !expected.empty(); ++i) {
      ASSERT_EQ(log.front(), expected.front());
      log.pop_front();
      expected.pop_front();
    }
  }
  EXPECT_EQ(log.size(), expected.size());
}

// Regression: an emptied chunk was kept for reuse, and a record too large for it went into a
// new chunk behind it; front() then read the emptied chunk's old bytes.
TEST(PackLog, ARecordLargerThanAChunkAfterTheLogWasEmptied) {
  PackLog log;
  log.push_back("first");
  log.pop_front();
  const std::string big = record(200 * 1024, 7);
  log.push_back(big);
  log.push_back("after");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log.front(), big);
  log.pop_front();
  EXPECT_EQ(log.front(), "after");
  log.pop_front();
  EXPECT_TRUE(log.empty());
  // The oversized chunk is not kept once empty.
  log.push_back("x");
  EXPECT_EQ(log.front(), "x");
  log.pop_front();
  EXPECT_LE(log.allocated_bytes(), 64u * 1024);
}

TEST(PackLog, AnEmptiedLogIsReusedFromItsStart) {
  PackLog log;
  for (int cycle = 0; cycle < 5; ++cycle) {
    for (int i = 0; i < 100; ++i) log.push_back(record(100, cycle * 1000 + i));
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(log.front(), record(100, cycle * 1000 + i));
      log.pop_front();
    }
    EXPECT_EQ(log.allocated_bytes(), 64u * 1024) << "cycle " << cycle;
  }
  log.clear();
  EXPECT_EQ(log.allocated_bytes(), 0u);
  EXPECT_TRUE(log.empty());
}

TEST(PackLog, EmptyRecords) {
  PackLog log;
  log.push_back("");
  log.push_back("a");
  log.push_back("");
  EXPECT_EQ(log.front(), "");
  log.pop_front();
  EXPECT_EQ(log.front(), "a");
  log.pop_front();
  EXPECT_EQ(log.front(), "");
  log.pop_front();
  EXPECT_TRUE(log.empty());
}

}  // namespace
}  // namespace burrow::broker
