// The two Store implementations for typed tests (store_contract_test.cc, transaction_test.cc):
// open() a fresh store, reopen() the same one (the memory twin keeps its contents as long as the
// object, so "reopening" it returns it as is).
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "storage/rocksdb_store.h"
#include "storage/store.h"
#include "temp_dir.h"

namespace burrow::storage {

struct MemoryStoreImpl {
  static constexpr const char* kName = "Memory";
  std::unique_ptr<Store> open() { return make_memory_store(); }
  std::unique_ptr<Store> reopen(std::unique_ptr<Store> store) { return store; }
};

struct RocksDbStoreImpl {
  static constexpr const char* kName = "RocksDb";
  testing::TempDir dir;
  std::unique_ptr<Store> open() {
    StoreOptions options;
    options.path = dir.sub("db");
    options.durability = Durability::kOs;  // the tests do not depend on fsync
    auto store = open_rocksdb_store(options);
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::unique_ptr<Store> reopen(std::unique_ptr<Store> store) {
    store.reset();
    return open();
  }
};

// Names typed test instances after the twin ("StoreContract/Memory.PutThenGet").
struct ImplName {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using StoreTwins = ::testing::Types<MemoryStoreImpl, RocksDbStoreImpl>;

}  // namespace burrow::storage
