// storage_test_helper: a second process for the store's fault tests.
//   storage_test_helper open <dir>               open the store, report, close
//   storage_test_helper write <dir> <fsync|os> <n>  write messages 0..n-1 of queue 1, one
//                                                   write_sync each, printing "confirmed i"
// Exit codes: 0 done, 2 the store refused to open (its error printed), 3 a write failed,
// 64 usage. Crash tests run it with BURROW_KILL_AT set and expect SIGKILL.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "storage/keys.h"
#include "storage/rocksdb_store.h"

using namespace burrow::storage;

int main(int argc, char** argv) {
  if (argc < 3) return 64;
  const std::string command = argv[1];
  StoreOptions options;
  options.path = argv[2];
  if (command == "write" && argc == 5) {
    options.durability =
        std::string(argv[3]) == "os" ? burrow::Durability::kOs : burrow::Durability::kFsync;
  } else if (command != "open") {
    return 64;
  }
  auto store = open_rocksdb_store(options);
  if (!store.ok()) {
    std::printf("error: %s\n", store.status().to_string().c_str());
    return 2;
  }
  std::printf("opened\n");
  std::fflush(stdout);
  if (command == "write") {
    const int n = std::atoi(argv[4]);
    for (int i = 0; i < n; ++i) {
      WriteBatch batch;
      batch.put(Column::kMessages, message_key(1, static_cast<uint64_t>(i)), "m");
      auto s = (*store)->write_sync(std::move(batch));
      if (!s.ok()) {
        std::printf("write %d failed: %s\n", i, s.to_string().c_str());
        return 3;
      }
      std::printf("confirmed %d\n", i);
      std::fflush(stdout);
    }
  }
  return 0;
}
