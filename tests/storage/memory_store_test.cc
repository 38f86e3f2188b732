// Tests for the Store contract on MemoryStore: puts, gets, deletes, atomic batches, ordered
// prefix scans from a start key, and write completion callbacks.
#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "storage/store.h"

namespace burrow::storage {
namespace {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

Status put(Store& store, Column column, std::string key, std::string value) {
  WriteBatch batch;
  batch.put(column, std::move(key), std::move(value));
  return store.write_sync(std::move(batch));
}

Status del(Store& store, Column column, std::string key) {
  WriteBatch batch;
  batch.del(column, std::move(key));
  return store.write_sync(std::move(batch));
}

// The value of `key`, or "<missing>".
std::string get(Store& store, Column column, std::string_view key) {
  std::string value;
  Status s = store.get(column, key, value);
  if (s.code() == StatusCode::kNotFound) return "<missing>";
  EXPECT_TRUE(s.ok()) << s.to_string();
  return value;
}

KeyValues scan(Store& store, Column column, std::string_view prefix,
               std::string_view start_key = {}) {
  KeyValues out;
  Status s = store.scan(column, prefix, start_key, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

TEST(MemoryStore, GetOfAMissingKeyIsNotFound) {
  auto store = make_memory_store();
  std::string value = "unchanged";
  Status s = store->get(Column::kMetadata, "nope", value);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(value, "unchanged");
}

TEST(MemoryStore, PutThenGet) {
  auto store = make_memory_store();
  ASSERT_TRUE(put(*store, Column::kMetadata, "k", "v").ok());
  EXPECT_EQ(get(*store, Column::kMetadata, "k"), "v");
}

TEST(MemoryStore, PutOverwrites) {
  auto store = make_memory_store();
  ASSERT_TRUE(put(*store, Column::kMetadata, "k", "v1").ok());
  ASSERT_TRUE(put(*store, Column::kMetadata, "k", "v2").ok());
  EXPECT_EQ(get(*store, Column::kMetadata, "k"), "v2");
}

TEST(MemoryStore, DeleteRemovesTheKey) {
  auto store = make_memory_store();
  ASSERT_TRUE(put(*store, Column::kMessages, "k", "v").ok());
  ASSERT_TRUE(del(*store, Column::kMessages, "k").ok());
  EXPECT_EQ(get(*store, Column::kMessages, "k"), "<missing>");
}

TEST(MemoryStore, DeleteOfAMissingKeyIsOk) {
  auto store = make_memory_store();
  EXPECT_TRUE(del(*store, Column::kMessages, "never-written").ok());
}

TEST(MemoryStore, ColumnsAreIndependent) {
  auto store = make_memory_store();
  ASSERT_TRUE(put(*store, Column::kMetadata, "k", "meta").ok());
  ASSERT_TRUE(put(*store, Column::kAppData, "k", "app").ok());
  EXPECT_EQ(get(*store, Column::kMetadata, "k"), "meta");
  EXPECT_EQ(get(*store, Column::kAppData, "k"), "app");
  EXPECT_EQ(get(*store, Column::kMessages, "k"), "<missing>");
  EXPECT_EQ(get(*store, Column::kOutbox, "k"), "<missing>");
  EXPECT_EQ(get(*store, Column::kInbox, "k"), "<missing>");
  ASSERT_TRUE(del(*store, Column::kMetadata, "k").ok());
  EXPECT_EQ(get(*store, Column::kAppData, "k"), "app");
}

TEST(MemoryStore, BinaryKeysAndValuesRoundTrip) {
  auto store = make_memory_store();
  std::string key("q\0\x01\xff", 4);
  std::string value("\0\0v\0", 4);
  ASSERT_TRUE(put(*store, Column::kMessages, key, value).ok());
  EXPECT_EQ(get(*store, Column::kMessages, key), value);
  EXPECT_EQ(get(*store, Column::kMessages, std::string("q\0\x01", 3)), "<missing>");
}

TEST(MemoryStore, BatchOperationsApplyInOrder) {
  auto store = make_memory_store();
  WriteBatch batch;
  batch.put(Column::kMetadata, "a", "1");
  batch.del(Column::kMetadata, "a");
  batch.put(Column::kMetadata, "b", "1");
  batch.put(Column::kMetadata, "b", "2");
  ASSERT_TRUE(store->write_sync(std::move(batch)).ok());
  EXPECT_EQ(get(*store, Column::kMetadata, "a"), "<missing>");
  EXPECT_EQ(get(*store, Column::kMetadata, "b"), "2");
}

TEST(MemoryStore, BatchSpansColumns) {
  auto store = make_memory_store();
  WriteBatch batch;
  batch.put(Column::kMessages, "m", "body");
  batch.put(Column::kOutbox, "o", "row");
  ASSERT_TRUE(store->write_sync(std::move(batch)).ok());
  EXPECT_EQ(get(*store, Column::kMessages, "m"), "body");
  EXPECT_EQ(get(*store, Column::kOutbox, "o"), "row");
}

TEST(MemoryStore, ReadersNeverSeeHalfABatch) {
  // Each batch sets both keys to the same value; a scan (one consistent read) must never
  // see them differ.
  auto store = make_memory_store();
  ASSERT_TRUE(put(*store, Column::kMetadata, "pair/a", "0").ok());
  ASSERT_TRUE(put(*store, Column::kMetadata, "pair/b", "0").ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 1; i <= 2000; ++i) {
      WriteBatch batch;
      batch.put(Column::kMetadata, "pair/a", std::to_string(i));
      batch.put(Column::kMetadata, "pair/b", std::to_string(i));
      EXPECT_TRUE(store->write_sync(std::move(batch)).ok());
    }
    stop = true;
  });
  int torn = 0;
  int reads = 0;
  while (!stop.load() || reads == 0) {
    KeyValues kv = scan(*store, Column::kMetadata, "pair/");
    ASSERT_EQ(kv.size(), 2u);
    if (kv[0].second != kv[1].second) ++torn;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(get(*store, Column::kMetadata, "pair/a"), "2000");
}

TEST(MemoryStore, WriteCallsItsCallbackOnceWithOk) {
  auto store = make_memory_store();
  int calls = 0;
  Status result(StatusCode::kInternalError, "not called");
  WriteBatch batch;
  batch.put(Column::kMetadata, "k", "v");
  store->write(std::move(batch), [&](Status s) {
    ++calls;
    result = std::move(s);
  });
  // MemoryStore completes writes inline; the data is readable once the callback ran.
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(result.ok()) << result.to_string();
  EXPECT_EQ(get(*store, Column::kMetadata, "k"), "v");
}

TEST(MemoryStore, WriteWithoutACallbackIsAllowed) {
  auto store = make_memory_store();
  WriteBatch batch;
  batch.put(Column::kMetadata, "k", "v");
  store->write(std::move(batch), nullptr);
  EXPECT_EQ(get(*store, Column::kMetadata, "k"), "v");
}

TEST(MemoryStore, EmptyBatchCompletes) {
  auto store = make_memory_store();
  EXPECT_TRUE(store->write_sync(WriteBatch()).ok());
}

TEST(MemoryStore, ScanVisitsThePrefixInByteOrder) {
  auto store = make_memory_store();
  for (const char* k : {"q1/0003", "q0/9999", "q1/0001", "q2/0001", "q1/0002", "q1"}) {
    ASSERT_TRUE(put(*store, Column::kMessages, k, std::string("v") + k).ok());
  }
  KeyValues kv = scan(*store, Column::kMessages, "q1/");
  EXPECT_EQ(kv,
            (KeyValues{{"q1/0001", "vq1/0001"}, {"q1/0002", "vq1/0002"}, {"q1/0003", "vq1/0003"}}));
}

TEST(MemoryStore, ScanComparesBytesAsUnsigned) {
  // Big-endian sequence numbers only sort right if bytes >= 0x80 sort after 0x7f.
  auto store = make_memory_store();
  const std::string prefix = "q";
  for (unsigned char b : {0xffu, 0x00u, 0x80u, 0x7fu}) {
    ASSERT_TRUE(put(*store, Column::kMessages, prefix + static_cast<char>(b), "").ok());
  }
  KeyValues kv = scan(*store, Column::kMessages, prefix);
  ASSERT_EQ(kv.size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>(kv[0].first[1]), 0x00);
  EXPECT_EQ(static_cast<unsigned char>(kv[1].first[1]), 0x7f);
  EXPECT_EQ(static_cast<unsigned char>(kv[2].first[1]), 0x80);
  EXPECT_EQ(static_cast<unsigned char>(kv[3].first[1]), 0xff);
}

TEST(MemoryStore, ScanStartsAtTheStartKey) {
  auto store = make_memory_store();
  for (const char* k : {"q1/0001", "q1/0002", "q1/0003", "q2/0001"}) {
    ASSERT_TRUE(put(*store, Column::kMessages, k, "").ok());
  }
  KeyValues kv = scan(*store, Column::kMessages, "q1/", "q1/0002");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].first, "q1/0002");
  EXPECT_EQ(kv[1].first, "q1/0003");
}

TEST(MemoryStore, ScanFromAStartKeyBetweenKeysBeginsAtTheNextOne) {
  auto store = make_memory_store();
  for (const char* k : {"q1/0001", "q1/0005", "q1/0009"}) {
    ASSERT_TRUE(put(*store, Column::kMessages, k, "").ok());
  }
  KeyValues kv = scan(*store, Column::kMessages, "q1/", "q1/0003");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].first, "q1/0005");
}

TEST(MemoryStore, ScanFromAStartKeyPastThePrefixVisitsNothing) {
  auto store = make_memory_store();
  ASSERT_TRUE(put(*store, Column::kMessages, "q1/0001", "").ok());
  ASSERT_TRUE(put(*store, Column::kMessages, "q2/0001", "").ok());
  EXPECT_TRUE(scan(*store, Column::kMessages, "q1/", "q1/9999").empty());
}

TEST(MemoryStore, ScanWithAnEmptyPrefixVisitsTheWholeColumn) {
  auto store = make_memory_store();
  ASSERT_TRUE(put(*store, Column::kInbox, "b", "").ok());
  ASSERT_TRUE(put(*store, Column::kInbox, "a", "").ok());
  ASSERT_TRUE(put(*store, Column::kOutbox, "c", "").ok());
  KeyValues kv = scan(*store, Column::kInbox, "");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].first, "a");
  EXPECT_EQ(kv[1].first, "b");
}

TEST(MemoryStore, ScanDoesNotSeeDeletedKeys) {
  auto store = make_memory_store();
  ASSERT_TRUE(put(*store, Column::kMessages, "q/1", "").ok());
  ASSERT_TRUE(put(*store, Column::kMessages, "q/2", "").ok());
  ASSERT_TRUE(del(*store, Column::kMessages, "q/1").ok());
  KeyValues kv = scan(*store, Column::kMessages, "q/");
  ASSERT_EQ(kv.size(), 1u);
  EXPECT_EQ(kv[0].first, "q/2");
}

TEST(MemoryStore, ScanStopsWhenTheVisitorReturnsFalse) {
  auto store = make_memory_store();
  for (const char* k : {"k1", "k2", "k3"}) ASSERT_TRUE(put(*store, Column::kMetadata, k, "").ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->scan(Column::kMetadata, "k", "",
                         [&](std::string_view k, std::string_view) {
                           seen.emplace_back(k);
                           return seen.size() < 2;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"k1", "k2"}));
}

TEST(MemoryStore, VisitorMayWriteToTheStore) {
  auto store = make_memory_store();
  for (const char* k : {"k1", "k2"}) ASSERT_TRUE(put(*store, Column::kMetadata, k, "").ok());
  Status s = store->scan(Column::kMetadata, "k", "", [&](std::string_view k, std::string_view) {
    EXPECT_TRUE(del(*store, Column::kMetadata, std::string(k)).ok());
    return true;
  });
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(scan(*store, Column::kMetadata, "k").empty());
}

TEST(WriteBatch, RecordsOperationsInOrder) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  batch.put(Column::kMetadata, "a", "1");
  batch.del(Column::kMessages, "b");
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.ops()[0].column, Column::kMetadata);
  EXPECT_FALSE(batch.ops()[0].is_delete);
  EXPECT_EQ(batch.ops()[0].key, "a");
  EXPECT_EQ(batch.ops()[0].value, "1");
  EXPECT_EQ(batch.ops()[1].column, Column::kMessages);
  EXPECT_TRUE(batch.ops()[1].is_delete);
  EXPECT_EQ(batch.ops()[1].key, "b");
}

TEST(WriteBatch, AppendMovesTheOtherBatchsOperations) {
  WriteBatch a;
  a.put(Column::kMetadata, "a", "1");
  WriteBatch b;
  b.put(Column::kMetadata, "b", "2");
  b.del(Column::kMetadata, "a");
  a.append(std::move(b));
  EXPECT_EQ(a.size(), 3u);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): append documents it empties
  auto store = make_memory_store();
  ASSERT_TRUE(store->write_sync(std::move(a)).ok());
  EXPECT_EQ(get(*store, Column::kMetadata, "a"), "<missing>");
  EXPECT_EQ(get(*store, Column::kMetadata, "b"), "2");
}

}  // namespace
}  // namespace burrow::storage
