// The RocksDB store under faults: a second opener (same process and another process), a
// damaged WAL or table file, a torn WAL tail, an unknown format version, a full disk, a failed
// fsync, and crashes at the write path's kill points.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "fault_fs.h"
#include "storage/keys.h"
#include "storage/record_codec.h"
#include "storage/rocksdb_store.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace burrow::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

Result<std::unique_ptr<Store>> open_at(const std::string& path, bool repair = false,
                                       bool verify = false) {
  StoreOptions options;
  options.path = path;
  options.durability = Durability::kOs;
  options.repair = repair;
  options.verify_checksums_on_open = verify;
  return open_rocksdb_store(options);
}

Status put(Store& store, ColumnId column, std::string key, std::string value) {
  WriteBatch batch;
  batch.put(column, std::move(key), std::move(value));
  return store.write_sync(std::move(batch));
}

// Messages of queue 1 present in the store.
int count_messages(Store& store) {
  int n = 0;
  Status s = store.scan(Column::kMessages, message_prefix(1), "", [&](auto, auto) {
    ++n;
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.to_string();
  return n;
}

// The largest file in `dir` with extension `ext` (".log", ".sst").
std::string largest_file(const std::string& dir, const std::string& ext) {
  std::string best;
  uintmax_t best_size = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ext) continue;
    if (best.empty() || entry.file_size() > best_size) {
      best = entry.path().string();
      best_size = entry.file_size();
    }
  }
  return best;
}

void flip_bytes(const std::string& file, uintmax_t offset, int count = 4) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << file;
  for (int i = 0; i < count; ++i) {
    f.seekg(static_cast<std::streamoff>(offset + i));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset + i));
    f.put(static_cast<char>(c ^ 0x5a));
  }
}

std::string helper() { return BURROW_STORAGE_TEST_HELPER; }

// --- A second opener ---

TEST(RocksDbFaults, SecondOpenInTheSameProcessIsRefusedClearly) {
  testing::TempDir dir;
  auto first = open_at(dir.path());
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  auto second = open_at(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_THAT(second.status().message(),
              HasSubstr("data directory '" + dir.path() + "' is in use by another burrowd (lock " +
                        dir.path() + "/LOCK)"));
}

TEST(RocksDbFaults, SecondProcessIsRefusedClearly) {
  testing::TempDir dir;
  {
    auto first = open_at(dir.path());
    ASSERT_TRUE(first.ok()) << first.status().to_string();
    auto other = testing::run_process({helper(), "open", dir.path()});
    EXPECT_TRUE(other.exited_with(2)) << other.output;
    EXPECT_THAT(other.output,
                HasSubstr("is in use by another burrowd (lock " + dir.path() + "/LOCK)"));
  }
  auto after_close = testing::run_process({helper(), "open", dir.path()});
  EXPECT_TRUE(after_close.exited_with(0)) << after_close.output;
}

// --- Damage ---

TEST(RocksDbFaults, DamagedWalIsRefusedNamingTheFileUntilRepair) {
  testing::TempDir dir;
  {
    auto store = open_at(dir.path());
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(put(**store, Column::kMessages, message_key(1, i), std::string(100, 'v')).ok());
    }
  }  // closed without a flush: everything is in the WAL
  const std::string wal = largest_file(dir.path(), ".log");
  ASSERT_FALSE(wal.empty());
  flip_bytes(wal, fs::file_size(wal) / 2);

  for (int attempt = 0; attempt < 2; ++attempt) {  // refusing changes nothing
    auto store = open_at(dir.path());
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
    EXPECT_THAT(store.status().message(), HasSubstr(fs::path(wal).filename().string()));
    EXPECT_THAT(store.status().message(), HasSubstr("repair"));
  }

  auto repaired = open_at(dir.path(), /*repair=*/true);
  ASSERT_TRUE(repaired.ok()) << repaired.status().to_string();
  const int kept = count_messages(**repaired);
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 200);
  EXPECT_TRUE(put(**repaired, Column::kMessages, message_key(1, 1000), "new").ok());
  repaired->reset();
  auto reopened = open_at(dir.path());
  ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
  EXPECT_EQ(count_messages(**reopened), kept + 1);
}

TEST(RocksDbFaults, TornWalTailIsToleratedAsAnUnconfirmedWrite) {
  // A crash in the middle of a WAL write leaves a partial last record: the write was never
  // confirmed, so the store opens without it.
  testing::TempDir dir;
  {
    auto store = open_at(dir.path());
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(put(**store, Column::kMessages, message_key(1, i), std::string(100, 'v')).ok());
    }
  }
  const std::string wal = largest_file(dir.path(), ".log");
  fs::resize_file(wal, fs::file_size(wal) - 20);
  auto store = open_at(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  EXPECT_EQ(count_messages(**store), 199);
}

TEST(RocksDbFaults, DamagedTableFileIsReportedNamingTheFile) {
  testing::TempDir dir;
  {
    auto store = open_at(dir.path());
    ASSERT_TRUE(store.ok());
    std::mt19937 random(7);
    for (int table = 0; table < 3; ++table) {  // three table files (below the L0 trigger)
      WriteBatch batch;
      for (int i = 0; i < 300; ++i) {
        std::string value(1000, '\0');
        for (auto& c : value) c = static_cast<char>(random());  // incompressible
        batch.put(Column::kMessages, message_key(1, table * 300 + i), std::move(value));
      }
      ASSERT_TRUE((*store)->write_sync(std::move(batch)).ok());
      ASSERT_TRUE((*store)->flush().ok());
    }
  }
  const std::string table = largest_file(dir.path(), ".sst");
  ASSERT_FALSE(table.empty());
  flip_bytes(table, 1000);  // inside the first data block
  const std::string name = fs::path(table).filename().string();

  // Verifying on open refuses the store before anything is served.
  auto verified = open_at(dir.path(), false, /*verify=*/true);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(verified.status().message(), HasSubstr(name));
  EXPECT_THAT(verified.status().message(), HasSubstr("repair"));

  // Without verification, the first read of the damaged block reports it (recovery reads every
  // message, so a broker start still stops there).
  {
    auto store = open_at(dir.path());
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    Status s =
        (*store)->scan(Column::kMessages, message_prefix(1), "", [](auto, auto) { return true; });
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_THAT(s.message(), HasSubstr(name));
  }

  auto repaired = open_at(dir.path(), /*repair=*/true, /*verify=*/true);
  ASSERT_TRUE(repaired.ok()) << repaired.status().to_string();
  // RocksDB keeps the tables that read cleanly and moves the damaged one to lost/ whole.
  const int kept = count_messages(**repaired);
  EXPECT_EQ(kept, 600);
  EXPECT_TRUE(fs::exists(fs::path(dir.path()) / "lost" / name));
}

// --- Not our store ---

// Opens the raw RocksDB database in `path` with all its column families and runs `edit`.
template <typename Edit>
void edit_raw(const std::string& path, Edit edit) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(options, path, &names).ok()) {
    names = {rocksdb::kDefaultColumnFamilyName};
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, descriptors, &handles, &db).ok());
  edit(*db, handles);
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

TEST(RocksDbFaults, UnknownFormatVersionIsRefused) {
  testing::TempDir dir;
  ASSERT_TRUE(open_at(dir.path()).ok());
  edit_raw(dir.path(), [](rocksdb::DB& db, auto& handles) {
    FormatHeader header;
    header.set_format_version(99);
    ASSERT_TRUE(
        db.Put(rocksdb::WriteOptions(), handles[0], "format", serialize_record(header)).ok());
  });
  auto store = open_at(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("format version 99"));
  EXPECT_THAT(store.status().message(), HasSubstr("reads version 1"));
}

TEST(RocksDbFaults, ForeignDatabaseIsRefused) {
  testing::TempDir dir;
  edit_raw(dir.path(), [](rocksdb::DB& db, auto& handles) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), handles[0], "someone", "else").ok());
  });
  auto store = open_at(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("not a Burrow store"));

  testing::TempDir other;
  edit_raw(other.path(), [](rocksdb::DB& db, auto&) {
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db.CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "strange", &h).ok());
    ASSERT_TRUE(db.DestroyColumnFamilyHandle(h).ok());
  });
  auto foreign = open_at(other.path());
  ASSERT_FALSE(foreign.ok());
  EXPECT_THAT(foreign.status().message(), HasSubstr("column family 'strange'"));
}

// --- A full disk, a failed fsync ---

struct FaultyStore {
  std::shared_ptr<testing::FaultFs> fs = std::make_shared<testing::FaultFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  std::unique_ptr<Store> store;

  void open(const std::string& path, Durability durability) {
    StoreOptions options;
    options.path = path;
    options.durability = durability;
    options.env = env.get();
    auto opened = open_rocksdb_store(options);
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    store = std::move(*opened);
  }
};

TEST(RocksDbFaults, FullDiskFailsTheWriteAndEveryLaterOne) {
  testing::TempDir dir;
  {
    FaultyStore faulty;
    faulty.open(dir.path(), Durability::kFsync);
    Store& store = *faulty.store;
    ASSERT_TRUE(put(store, Column::kMessages, message_key(1, 0), "confirmed").ok());

    faulty.fs->fail_wal_append = true;
    Status full = put(store, Column::kMessages, message_key(1, 1), "lost");
    EXPECT_EQ(full.code(), StatusCode::kIoError);
    EXPECT_THAT(full.message(), HasSubstr("disk full"));
    EXPECT_THAT(full.message(), HasSubstr("No space left on device"));

    // Space is back, but the store does not retry behind anyone's back: it reports the
    // failure to every later write until it is reopened.
    faulty.fs->fail_wal_append = false;
    Status later = put(store, Column::kMessages, message_key(1, 2), "refused");
    EXPECT_EQ(later.code(), StatusCode::kIoError);
    EXPECT_THAT(later.message(), HasSubstr("earlier write failed"));
    EXPECT_THAT(later.message(), HasSubstr("No space left on device"));
    StoreStats stats = store.stats();
    EXPECT_TRUE(stats.failed);
    EXPECT_THAT(stats.error, HasSubstr("No space left on device"));
    EXPECT_EQ(stats.failed_writes, 2u);
    EXPECT_EQ(store.flush().code(), StatusCode::kIoError);

    std::string value;
    ASSERT_TRUE(store.get(Column::kMessages, message_key(1, 0), value).ok());
    EXPECT_EQ(value, "confirmed");
  }
  // Nothing was corrupted: the confirmed write is there and the store writes again.
  auto store = open_at(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  std::string value;
  ASSERT_TRUE((*store)->get(Column::kMessages, message_key(1, 0), value).ok());
  EXPECT_EQ(value, "confirmed");
  EXPECT_EQ((*store)->get(Column::kMessages, message_key(1, 2), value).code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(put(**store, Column::kMessages, message_key(1, 3), "again").ok());
}

TEST(RocksDbFaults, FailedFsyncFailsTheGroupAndEveryLaterWrite) {
  testing::TempDir dir;
  FaultyStore faulty;
  faulty.open(dir.path(), Durability::kFsync);
  Store& store = *faulty.store;
  ASSERT_TRUE(put(store, Column::kMessages, message_key(1, 0), "ok").ok());
  faulty.fs->fail_wal_sync = true;
  Status failed = put(store, Column::kMessages, message_key(1, 1), "unsure");
  EXPECT_EQ(failed.code(), StatusCode::kIoError);
  EXPECT_THAT(failed.message(), HasSubstr("fsync failed"));
  faulty.fs->fail_wal_sync = false;
  Status later = put(store, Column::kMessages, message_key(1, 2), "refused");
  EXPECT_EQ(later.code(), StatusCode::kIoError);
  EXPECT_THAT(later.message(), HasSubstr("earlier write failed"));
  auto created = store.app_column("after_failure");
  EXPECT_EQ(created.status().code(), StatusCode::kIoError);
  EXPECT_EQ(store.stats().fsyncs, 1u);
}

// --- Crashes at kill points (the store in a child process, killed by BURROW_KILL_AT) ---

struct CrashCase {
  const char* kill_at;
  bool fifth_write_survives;  // the write in flight when the process died
  friend void PrintTo(const CrashCase& c, std::ostream* os) { *os << c.kill_at; }
};

class RocksDbCrash : public ::testing::TestWithParam<CrashCase> {};

TEST_P(RocksDbCrash, EveryConfirmedWriteSurvives) {
  const CrashCase& c = GetParam();
  testing::TempDir dir;
  auto child = testing::run_process({helper(), "write", dir.path(), "fsync", "10"},
                                    {std::string("BURROW_KILL_AT=") + c.kill_at});
  ASSERT_TRUE(child.killed_by(SIGKILL)) << child.output;
  EXPECT_THAT(child.output, HasSubstr("confirmed 3\n"));
  EXPECT_THAT(child.output, ::testing::Not(HasSubstr("confirmed 4")));
  EXPECT_THAT(child.output, HasSubstr("kill point"));

  auto store = open_at(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  std::string value;
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE((*store)->get(Column::kMessages, message_key(1, i), value).ok()) << i;
  }
  EXPECT_EQ((*store)->get(Column::kMessages, message_key(1, 4), value).ok(),
            c.fifth_write_survives);
  EXPECT_EQ((*store)->get(Column::kMessages, message_key(1, 5), value).code(),
            StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(
    KillPoints, RocksDbCrash,
    ::testing::Values(CrashCase{"writer.before_wal_write:5", false},
                      // Killed, not powered off: the WAL write is in the page cache.
                      CrashCase{"writer.after_wal_write:5", true},
                      CrashCase{"writer.after_fsync:5", true}),
    [](const auto& p) {
      std::string name = p.param.kill_at;
      name = name.substr(name.find('.') + 1);
      return name.substr(0, name.find(':'));
    });

TEST(RocksDbFaults, MalformedKillPointVariableFailsTheOpen) {
  testing::TempDir dir;
  auto child =
      testing::run_process({helper(), "open", dir.path()}, {"BURROW_KILL_AT=writer.no_such_point"});
  EXPECT_TRUE(child.exited_with(2)) << child.output;
  EXPECT_THAT(child.output, HasSubstr("unknown kill point 'writer.no_such_point'"));
}

}  // namespace
}  // namespace burrow::storage
