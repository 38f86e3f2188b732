// The Store contract, written once and run against both twins (MemoryStore and the RocksDB
// store): puts, gets, deletes, range deletes, atomic batches, ordered and bounded scans from a
// start key, application columns, completion callbacks and their order, stats.
#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "storage/rocksdb_store.h"
#include "storage/store.h"
#include "store_twins.h"
#include "temp_dir.h"

namespace burrow::storage {
namespace {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

template <typename Impl>
class StoreContract : public ::testing::Test {
 protected:
  Store& store() { return *store_; }

  Impl impl_;
  std::unique_ptr<Store> store_ = impl_.open();
};

TYPED_TEST_SUITE(StoreContract, StoreTwins, ImplName);

// --- Helpers ---

Status put(Store& store, ColumnId column, std::string key, std::string value) {
  WriteBatch batch;
  batch.put(column, std::move(key), std::move(value));
  return store.write_sync(std::move(batch));
}

Status del(Store& store, ColumnId column, std::string key) {
  WriteBatch batch;
  batch.del(column, std::move(key));
  return store.write_sync(std::move(batch));
}

// The value of `key`, or "<missing>".
std::string get(Store& store, ColumnId column, std::string_view key) {
  std::string value;
  Status s = store.get(column, key, value);
  if (s.code() == StatusCode::kNotFound) return "<missing>";
  EXPECT_TRUE(s.ok()) << s.to_string();
  return value;
}

KeyValues scan(Store& store, ColumnId column, const ScanOptions& options) {
  KeyValues out;
  Status s = store.scan(column, options, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

KeyValues scan(Store& store, ColumnId column, std::string_view prefix,
               std::string_view start_key = {}) {
  return scan(store, column, ScanOptions{prefix, start_key, {}, 0});
}

std::vector<std::string> keys_of(const KeyValues& kv) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : kv) keys.push_back(k);
  return keys;
}

// --- Reads and writes ---

TYPED_TEST(StoreContract, GetOfAMissingKeyIsNotFound) {
  std::string value = "unchanged";
  Status s = this->store().get(Column::kMetadata, "nope", value);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(value, "unchanged");
}

TYPED_TEST(StoreContract, PutThenGet) {
  ASSERT_TRUE(put(this->store(), Column::kMetadata, "k", "v").ok());
  EXPECT_EQ(get(this->store(), Column::kMetadata, "k"), "v");
}

TYPED_TEST(StoreContract, PutOverwrites) {
  ASSERT_TRUE(put(this->store(), Column::kMetadata, "k", "v1").ok());
  ASSERT_TRUE(put(this->store(), Column::kMetadata, "k", "v2").ok());
  EXPECT_EQ(get(this->store(), Column::kMetadata, "k"), "v2");
}

TYPED_TEST(StoreContract, DeleteRemovesTheKey) {
  ASSERT_TRUE(put(this->store(), Column::kMessages, "k", "v").ok());
  ASSERT_TRUE(del(this->store(), Column::kMessages, "k").ok());
  EXPECT_EQ(get(this->store(), Column::kMessages, "k"), "<missing>");
}

TYPED_TEST(StoreContract, DeleteOfAMissingKeyIsOk) {
  EXPECT_TRUE(del(this->store(), Column::kMessages, "never-written").ok());
}

TYPED_TEST(StoreContract, ColumnsAreIndependent) {
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kMetadata, "k", "meta").ok());
  ASSERT_TRUE(put(store, Column::kAppData, "k", "app").ok());
  EXPECT_EQ(get(store, Column::kMetadata, "k"), "meta");
  EXPECT_EQ(get(store, Column::kAppData, "k"), "app");
  EXPECT_EQ(get(store, Column::kMessages, "k"), "<missing>");
  EXPECT_EQ(get(store, Column::kOutbox, "k"), "<missing>");
  EXPECT_EQ(get(store, Column::kInbox, "k"), "<missing>");
  ASSERT_TRUE(del(store, Column::kMetadata, "k").ok());
  EXPECT_EQ(get(store, Column::kAppData, "k"), "app");
}

TYPED_TEST(StoreContract, BinaryKeysAndValuesRoundTrip) {
  Store& store = this->store();
  std::string key("q\0\x01\xff", 4);
  std::string value("\0\0v\0", 4);
  ASSERT_TRUE(put(store, Column::kMessages, key, value).ok());
  EXPECT_EQ(get(store, Column::kMessages, key), value);
  EXPECT_EQ(get(store, Column::kMessages, std::string("q\0\x01", 3)), "<missing>");
}

TYPED_TEST(StoreContract, LargeValuesRoundTrip) {
  std::string big(3 << 20, 'x');  // larger than one group's preferred size
  big[12345] = 'y';
  ASSERT_TRUE(put(this->store(), Column::kMessages, "big", big).ok());
  EXPECT_EQ(get(this->store(), Column::kMessages, "big"), big);
}

TYPED_TEST(StoreContract, BatchOperationsApplyInOrder) {
  Store& store = this->store();
  WriteBatch batch;
  batch.put(Column::kMetadata, "a", "1");
  batch.del(Column::kMetadata, "a");
  batch.put(Column::kMetadata, "b", "1");
  batch.put(Column::kMetadata, "b", "2");
  ASSERT_TRUE(store.write_sync(std::move(batch)).ok());
  EXPECT_EQ(get(store, Column::kMetadata, "a"), "<missing>");
  EXPECT_EQ(get(store, Column::kMetadata, "b"), "2");
}

TYPED_TEST(StoreContract, BatchSpansColumns) {
  Store& store = this->store();
  WriteBatch batch;
  batch.put(Column::kMessages, "m", "body");
  batch.put(Column::kOutbox, "o", "row");
  ASSERT_TRUE(store.write_sync(std::move(batch)).ok());
  EXPECT_EQ(get(store, Column::kMessages, "m"), "body");
  EXPECT_EQ(get(store, Column::kOutbox, "o"), "row");
}

TYPED_TEST(StoreContract, ReadersNeverSeeHalfABatch) {
  // Each batch sets both keys to the same value; a scan (one consistent read) must never
  // see them differ.
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kMetadata, "pair/a", "0").ok());
  ASSERT_TRUE(put(store, Column::kMetadata, "pair/b", "0").ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 1; i <= 1000; ++i) {
      WriteBatch batch;
      batch.put(Column::kMetadata, "pair/a", std::to_string(i));
      batch.put(Column::kMetadata, "pair/b", std::to_string(i));
      EXPECT_TRUE(store.write_sync(std::move(batch)).ok());
    }
    stop = true;
  });
  int torn = 0;
  int reads = 0;
  while (!stop.load() || reads == 0) {
    KeyValues kv = scan(store, Column::kMetadata, "pair/");
    ASSERT_EQ(kv.size(), 2u);
    if (kv[0].second != kv[1].second) ++torn;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(get(store, Column::kMetadata, "pair/a"), "1000");
}

// --- Callbacks ---

TYPED_TEST(StoreContract, WriteCallsItsCallbackOnceWithOkAndTheDataIsReadable) {
  Store& store = this->store();
  std::atomic<int> calls{0};
  std::promise<Status> result;
  WriteBatch batch;
  batch.put(Column::kMetadata, "k", "v");
  store.write(std::move(batch), [&](Status s) {
    if (calls.fetch_add(1) == 0) result.set_value(std::move(s));
  });
  Status s = result.get_future().get();
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(get(store, Column::kMetadata, "k"), "v");
  ASSERT_TRUE(store.flush().ok());
  EXPECT_EQ(calls.load(), 1);
}

TYPED_TEST(StoreContract, WriteWithoutACallbackIsAllowedAndLaterWritesSeeIt) {
  Store& store = this->store();
  WriteBatch batch;
  batch.put(Column::kMetadata, "k", "v");
  store.write(std::move(batch), nullptr);
  // Writes complete in order: once a later write completed, the earlier one is readable.
  ASSERT_TRUE(store.write_sync(WriteBatch()).ok());
  EXPECT_EQ(get(store, Column::kMetadata, "k"), "v");
}

TYPED_TEST(StoreContract, EmptyBatchCompletes) {
  EXPECT_TRUE(this->store().write_sync(WriteBatch()).ok());
}

TYPED_TEST(StoreContract, CallbacksOfOneThreadRunInIssueOrder) {
  Store& store = this->store();
  constexpr int kThreads = 4;
  constexpr int kWrites = 300;
  std::mutex mu;
  std::vector<std::vector<int>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        WriteBatch batch;
        batch.put(Column::kMessages, message_key(t, i), "m");
        store.write(std::move(batch), [&, t, i](Status s) {
          EXPECT_TRUE(s.ok()) << s.to_string();
          std::lock_guard lock(mu);
          seen[t].push_back(i);
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(store.flush().ok());
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kWrites)) << "thread " << t;
    EXPECT_TRUE(std::is_sorted(seen[t].begin(), seen[t].end())) << "thread " << t;
  }
}

TYPED_TEST(StoreContract, UnknownColumnIsRefused) {
  Store& store = this->store();
  const ColumnId bogus = ColumnId::from_index(200);
  WriteBatch batch;
  batch.put(Column::kMetadata, "k", "v");
  batch.put(bogus, "k", "v");
  Status s = store.write_sync(std::move(batch));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_EQ(get(store, Column::kMetadata, "k"), "<missing>");  // nothing of the batch applied
  std::string value;
  EXPECT_EQ(store.get(bogus, "k", value).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.scan(bogus, "", "", [](auto, auto) { return true; }).code(),
            StatusCode::kInvalidArgument);
  // A refused batch does not fail the store.
  EXPECT_TRUE(put(store, Column::kMetadata, "k", "v").ok());
}

// --- Scans ---

TYPED_TEST(StoreContract, ScanVisitsThePrefixInByteOrder) {
  Store& store = this->store();
  for (const char* k : {"q1/0003", "q0/9999", "q1/0001", "q2/0001", "q1/0002", "q1"}) {
    ASSERT_TRUE(put(store, Column::kMessages, k, std::string("v") + k).ok());
  }
  KeyValues kv = scan(store, Column::kMessages, "q1/");
  EXPECT_EQ(kv,
            (KeyValues{{"q1/0001", "vq1/0001"}, {"q1/0002", "vq1/0002"}, {"q1/0003", "vq1/0003"}}));
}

TYPED_TEST(StoreContract, ScanComparesBytesAsUnsigned) {
  // Big-endian sequence numbers only sort right if bytes >= 0x80 sort after 0x7f.
  Store& store = this->store();
  const std::string prefix = "q";
  for (unsigned char b : {0xffu, 0x00u, 0x80u, 0x7fu}) {
    ASSERT_TRUE(put(store, Column::kMessages, prefix + static_cast<char>(b), "").ok());
  }
  KeyValues kv = scan(store, Column::kMessages, prefix);
  ASSERT_EQ(kv.size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>(kv[0].first[1]), 0x00);
  EXPECT_EQ(static_cast<unsigned char>(kv[1].first[1]), 0x7f);
  EXPECT_EQ(static_cast<unsigned char>(kv[2].first[1]), 0x80);
  EXPECT_EQ(static_cast<unsigned char>(kv[3].first[1]), 0xff);
}

TYPED_TEST(StoreContract, ScanOfAnAllOnesPrefixReachesTheEndOfTheColumn) {
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kInbox,
                  "\xff\xff"
                  "a",
                  "")
                  .ok());
  ASSERT_TRUE(put(store, Column::kInbox, "\xff\xff\xff", "").ok());
  ASSERT_TRUE(put(store, Column::kInbox, "\xfe", "").ok());
  EXPECT_EQ(scan(store, Column::kInbox, "\xff\xff").size(), 2u);
}

TYPED_TEST(StoreContract, ScanStartsAtTheStartKey) {
  Store& store = this->store();
  for (const char* k : {"q1/0001", "q1/0002", "q1/0003", "q2/0001"}) {
    ASSERT_TRUE(put(store, Column::kMessages, k, "").ok());
  }
  EXPECT_EQ(keys_of(scan(store, Column::kMessages, "q1/", "q1/0002")),
            (std::vector<std::string>{"q1/0002", "q1/0003"}));
}

TYPED_TEST(StoreContract, ScanFromAStartKeyBetweenKeysBeginsAtTheNextOne) {
  Store& store = this->store();
  for (const char* k : {"q1/0001", "q1/0005", "q1/0009"}) {
    ASSERT_TRUE(put(store, Column::kMessages, k, "").ok());
  }
  KeyValues kv = scan(store, Column::kMessages, "q1/", "q1/0003");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].first, "q1/0005");
}

TYPED_TEST(StoreContract, ScanFromAStartKeyPastThePrefixVisitsNothing) {
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kMessages, "q1/0001", "").ok());
  ASSERT_TRUE(put(store, Column::kMessages, "q2/0001", "").ok());
  EXPECT_TRUE(scan(store, Column::kMessages, "q1/", "q1/9999").empty());
  EXPECT_TRUE(scan(store, Column::kMessages, "q1/", "q2").empty());
}

TYPED_TEST(StoreContract, ScanFromAStartKeyBeforeThePrefixStartsAtThePrefix) {
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kMessages, "a", "").ok());
  ASSERT_TRUE(put(store, Column::kMessages, "q1/0001", "").ok());
  EXPECT_EQ(keys_of(scan(store, Column::kMessages, "q1/", "a")),
            (std::vector<std::string>{"q1/0001"}));
}

TYPED_TEST(StoreContract, ScanWithAnEmptyPrefixVisitsTheWholeColumn) {
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kInbox, "b", "").ok());
  ASSERT_TRUE(put(store, Column::kInbox, "a", "").ok());
  ASSERT_TRUE(put(store, Column::kOutbox, "c", "").ok());
  EXPECT_EQ(keys_of(scan(store, Column::kInbox, "")), (std::vector<std::string>{"a", "b"}));
}

TYPED_TEST(StoreContract, ScanDoesNotSeeDeletedKeys) {
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kMessages, "q/1", "").ok());
  ASSERT_TRUE(put(store, Column::kMessages, "q/2", "").ok());
  ASSERT_TRUE(del(store, Column::kMessages, "q/1").ok());
  EXPECT_EQ(keys_of(scan(store, Column::kMessages, "q/")), (std::vector<std::string>{"q/2"}));
}

TYPED_TEST(StoreContract, ScanStopsWhenTheVisitorReturnsFalse) {
  Store& store = this->store();
  for (const char* k : {"k1", "k2", "k3"}) ASSERT_TRUE(put(store, Column::kMetadata, k, "").ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  .scan(Column::kMetadata, "k", "",
                        [&](std::string_view k, std::string_view) {
                          seen.emplace_back(k);
                          return seen.size() < 2;
                        })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"k1", "k2"}));
}

TYPED_TEST(StoreContract, ScanStopsBeforeTheEndKey) {
  Store& store = this->store();
  for (uint64_t seq = 0; seq < 10; ++seq) {
    ASSERT_TRUE(put(store, Column::kMessages, message_key(7, seq), "").ok());
  }
  const std::string prefix = message_prefix(7);
  const std::string start = message_key(7, 3);
  const std::string end = message_key(7, 6);
  KeyValues kv = scan(store, Column::kMessages, ScanOptions{prefix, start, end, 0});
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(decode_message_key(kv.front().first)->seq, 3u);
  EXPECT_EQ(decode_message_key(kv.back().first)->seq, 5u);
}

TYPED_TEST(StoreContract, ScanVisitsAtMostTheLimit) {
  Store& store = this->store();
  for (uint64_t seq = 0; seq < 10; ++seq) {
    ASSERT_TRUE(put(store, Column::kMessages, message_key(1, seq), "").ok());
  }
  const std::string prefix = message_prefix(1);
  EXPECT_EQ(scan(store, Column::kMessages, ScanOptions{prefix, {}, {}, 4}).size(), 4u);
}

TYPED_TEST(StoreContract, PagingReadsEveryKeyOnceInOrder) {
  // How recovery and lazy paging read a queue: pages of `limit`, each from after the last.
  Store& store = this->store();
  WriteBatch batch;
  for (uint64_t seq = 100; seq < 1100; ++seq) {
    batch.put(Column::kMessages, message_key(3, seq), std::to_string(seq));
  }
  batch.put(Column::kMessages, message_key(4, 0), "other queue");
  ASSERT_TRUE(store.write_sync(std::move(batch)).ok());

  const std::string prefix = message_prefix(3);
  std::string next = message_key(3, 0);
  std::vector<uint64_t> seqs;
  int pages = 0;
  for (;;) {
    KeyValues page = scan(store, Column::kMessages, ScanOptions{prefix, next, {}, 128});
    if (page.empty()) break;
    ++pages;
    for (const auto& [k, v] : page) {
      auto key = decode_message_key(k);
      ASSERT_TRUE(key.has_value());
      EXPECT_EQ(v, std::to_string(key->seq));
      seqs.push_back(key->seq);
    }
    next = message_key(3, seqs.back() + 1);
  }
  EXPECT_EQ(pages, 8);
  ASSERT_EQ(seqs.size(), 1000u);
  EXPECT_EQ(seqs.front(), 100u);
  EXPECT_EQ(seqs.back(), 1099u);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
}

TYPED_TEST(StoreContract, VisitorMayWriteToTheStore) {
  Store& store = this->store();
  for (const char* k : {"k1", "k2"}) ASSERT_TRUE(put(store, Column::kMetadata, k, "").ok());
  Status s = store.scan(Column::kMetadata, "k", "", [&](std::string_view k, std::string_view) {
    EXPECT_TRUE(del(store, Column::kMetadata, std::string(k)).ok());
    return true;
  });
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(scan(store, Column::kMetadata, "k").empty());
}

// --- Range deletes ---

TYPED_TEST(StoreContract, DeleteRangeRemovesTheHalfOpenRange) {
  Store& store = this->store();
  WriteBatch batch;
  for (uint64_t seq = 0; seq < 10; ++seq) batch.put(Column::kMessages, message_key(1, seq), "");
  batch.put(Column::kMessages, message_key(2, 0), "");
  ASSERT_TRUE(store.write_sync(std::move(batch)).ok());

  ASSERT_TRUE(store.delete_range(Column::kMessages, message_key(1, 0), message_key(1, 6)).ok());
  KeyValues kv = scan(store, Column::kMessages, message_prefix(1));
  ASSERT_EQ(kv.size(), 4u);
  EXPECT_EQ(decode_message_key(kv.front().first)->seq, 6u);  // the end is exclusive
  EXPECT_EQ(get(store, Column::kMessages, message_key(1, 5)), "<missing>");

  // A whole queue: [prefix(q), prefix(q + 1)) leaves the next queue alone.
  ASSERT_TRUE(store.delete_range(Column::kMessages, message_prefix(1), message_prefix(2)).ok());
  EXPECT_TRUE(scan(store, Column::kMessages, message_prefix(1)).empty());
  EXPECT_EQ(scan(store, Column::kMessages, message_prefix(2)).size(), 1u);
}

TYPED_TEST(StoreContract, DeleteRangeAppliesInBatchOrder) {
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kAppData, "b", "old").ok());
  WriteBatch batch;
  batch.put(Column::kAppData, "a", "1");
  batch.delete_range(Column::kAppData, "a", "z");
  batch.put(Column::kAppData, "c", "after");
  ASSERT_TRUE(store.write_sync(std::move(batch)).ok());
  EXPECT_EQ(keys_of(scan(store, Column::kAppData, "")), (std::vector<std::string>{"c"}));
}

TYPED_TEST(StoreContract, EmptyOrInvertedDeleteRangeDeletesNothing) {
  Store& store = this->store();
  ASSERT_TRUE(put(store, Column::kAppData, "m", "").ok());
  EXPECT_TRUE(store.delete_range(Column::kAppData, "m", "m").ok());
  EXPECT_TRUE(store.delete_range(Column::kAppData, "z", "a").ok());
  EXPECT_EQ(get(store, Column::kAppData, "m"), "");
}

// --- Application columns ---

TYPED_TEST(StoreContract, AppColumnsAreCreatedOnceAndIndependent) {
  Store& store = this->store();
  auto orders = store.app_column("orders");
  ASSERT_TRUE(orders.ok()) << orders.status().to_string();
  auto orders_again = store.app_column("orders");
  ASSERT_TRUE(orders_again.ok());
  EXPECT_EQ(*orders, *orders_again);
  auto users = store.app_column("users.v2");
  ASSERT_TRUE(users.ok());
  EXPECT_NE(*orders, *users);
  EXPECT_FALSE(orders->is_builtin());

  ASSERT_TRUE(put(store, *orders, "k", "order").ok());
  ASSERT_TRUE(put(store, *users, "k", "user").ok());
  EXPECT_EQ(get(store, *orders, "k"), "order");
  EXPECT_EQ(get(store, *users, "k"), "user");
  EXPECT_EQ(get(store, Column::kAppData, "k"), "<missing>");
  EXPECT_EQ(store.app_columns(), (std::vector<std::string>{"orders", "users.v2"}));

  // One batch across an application column and the outbox: the transactional outbox.
  WriteBatch batch;
  batch.put(*orders, "o1", "state");
  batch.put(Column::kOutbox, outbox_key(1), "row");
  ASSERT_TRUE(store.write_sync(std::move(batch)).ok());
  EXPECT_EQ(get(store, *orders, "o1"), "state");
}

TYPED_TEST(StoreContract, AppColumnNamesAreChecked) {
  Store& store = this->store();
  for (std::string bad : {std::string(), std::string(65, 'a'), std::string("a/b"),
                          std::string("sp ace"), std::string("nul\0", 4)}) {
    auto id = store.app_column(bad);
    EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(store.app_column(std::string(64, 'a')).ok());
  EXPECT_TRUE(store.app_column("A-z_0.9").ok());
}

// --- Stats ---

TYPED_TEST(StoreContract, StatsCountWritesAndBatches) {
  Store& store = this->store();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(put(store, Column::kMetadata, "k" + std::to_string(i), "value").ok());
  }
  StoreStats stats = store.stats();
  EXPECT_GE(stats.writes, 5u);
  EXPECT_GE(stats.write_batches, 1u);
  EXPECT_LE(stats.write_batches, stats.writes);
  EXPECT_EQ(stats.writes_per_batch.sum(), stats.writes - stats.failed_writes);
  EXPECT_GE(stats.bytes_written, 5u * 7u);
  EXPECT_FALSE(stats.failed);
  EXPECT_TRUE(stats.error.empty());
}

// --- WriteBatch ---

TEST(WriteBatch, RecordsOperationsInOrder) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  batch.put(Column::kMetadata, "a", "1");
  batch.del(Column::kMessages, "b");
  batch.delete_range(Column::kOutbox, "c", "d");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.ops()[0].column, Column::kMetadata);
  EXPECT_EQ(batch.ops()[0].type, WriteBatch::OpType::kPut);
  EXPECT_EQ(batch.ops()[0].key, "a");
  EXPECT_EQ(batch.ops()[0].value, "1");
  EXPECT_EQ(batch.ops()[1].column, Column::kMessages);
  EXPECT_EQ(batch.ops()[1].type, WriteBatch::OpType::kDelete);
  EXPECT_EQ(batch.ops()[1].key, "b");
  EXPECT_EQ(batch.ops()[2].type, WriteBatch::OpType::kDeleteRange);
  EXPECT_EQ(batch.ops()[2].key, "c");
  EXPECT_EQ(batch.ops()[2].value, "d");
  EXPECT_EQ(batch.byte_size(), 2u + 1u + 2u);
}

TEST(WriteBatch, IgnoresAnEmptyRange) {
  WriteBatch batch;
  batch.delete_range(Column::kOutbox, "d", "c");
  batch.delete_range(Column::kOutbox, "c", "c");
  EXPECT_TRUE(batch.empty());
}

TEST(WriteBatch, AppendMovesTheOtherBatchsOperations) {
  WriteBatch a;
  a.put(Column::kMetadata, "a", "1");
  WriteBatch b;
  b.put(Column::kMetadata, "b", "2");
  b.del(Column::kMetadata, "a");
  a.append(std::move(b));
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.byte_size(), 5u);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): append documents it empties
  EXPECT_EQ(b.byte_size(), 0u);
  auto store = make_memory_store();
  ASSERT_TRUE(store->write_sync(std::move(a)).ok());
  EXPECT_EQ(get(*store, Column::kMetadata, "a"), "<missing>");
  EXPECT_EQ(get(*store, Column::kMetadata, "b"), "2");
}

TEST(ColumnId, BuiltInColumnsConvertImplicitly) {
  ColumnId id = Column::kOutbox;
  EXPECT_TRUE(id.is_builtin());
  EXPECT_EQ(id.index(), 2u);
  EXPECT_EQ(id, ColumnId::from_index(2));
  EXPECT_FALSE(ColumnId::from_index(kColumnCount).is_builtin());
}

}  // namespace
}  // namespace burrow::storage
