// Tests of encryption at rest: a database opened with a key keeps no readable page on disk (its
// file, its write-ahead log, its backups), reads back what it wrote, refuses a wrong or missing
// key with a clear error, turns a changed byte into an error instead of wrong data, and a plain
// database can be encrypted in place. The whole store contract suite runs once more on an
// encrypted store (durability and crash tests included).
#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store/sqlite/coalescing_vfs.hpp"
#include "store/store.hpp"
#include "store/storetest/contract_helpers.hpp"
#include "store/storetest/store_contract.hpp"
#include "store/storetest/temp_folder.hpp"

namespace rounds::store {
namespace {

using sqlite::CoalescingVfsCountersNow;
using sqlite::kEncryptedPageBytes;
using storetest::AddSpace;
using storetest::AddUser;
using storetest::Describe;
using storetest::FindMessage;
using storetest::Post;
using storetest::Search;

std::string TestKey(char fill = 'k') { return std::string(32, fill); }

Result<std::unique_ptr<Store>> OpenEncryptedIn(const std::string& folder) {
  return OpenSqliteStore({.path = folder + "/rounds.db", .read_connections = 2, .encryption_key = TestKey()});
}

class Folder : public storetest::TempFolder {
 public:
  Folder() : TempFolder("rounds-encryption") {}
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every file under `folder` that holds `needle`, by name.
std::vector<std::string> FilesHolding(const std::string& folder, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file() && ReadAll(entry.path().string()).find(needle) != std::string::npos) {
      found.push_back(entry.path().filename().string());
    }
  }
  return found;
}

// A canary in a message body, in the search index and in a username; then the files are checked
// while the store is open (the log holds it) and after it closes (the database file holds it).
constexpr char kCanary[] = "CanaryPatient Zebulon Quixotic 987-65-4320";

struct Written {
  SpaceId space = 0;
  UserId user = 0;
  MessageId message = 0;
};

Written WriteCanary(Store& store) {
  Written w;
  w.user = AddUser(store, "zebulonquixotic");
  w.space = AddSpace(store, "Ward 7 huddle", w.user);
  auto posted = Post(store, w.space, w.user, std::string("Reminder for ") + kCanary);
  EXPECT_TRUE(posted) << Describe(posted);
  w.message = posted ? posted->id : 0;
  return w;
}

TEST(EncryptionTest, NothingReadableOnDiskAndEverythingReadsBack) {
  Folder folder;
  auto store = OpenEncryptedIn(folder.path());
  ASSERT_TRUE(store) << Describe(store);
  const Written w = WriteCanary(**store);
  ASSERT_FALSE(Search(**store, "Zebulon", {w.space}).empty());  // the search index holds the words too
  // While open, the write-ahead log holds the new pages.
  EXPECT_TRUE(std::filesystem::file_size(folder.file("rounds.db-wal")) > 0);
  EXPECT_EQ(FilesHolding(folder.path(), "Zebulon"), std::vector<std::string>{});
  EXPECT_EQ(FilesHolding(folder.path(), "zebulonquixotic"), std::vector<std::string>{});
  EXPECT_EQ(FilesHolding(folder.path(), "987-65-4320"), std::vector<std::string>{});
  // Not a database to anyone without the key, the header included.
  EXPECT_EQ(InspectDatabaseFile(folder.file("rounds.db")), DatabaseFileKind::kEncrypted);
  (*store)->Close();
  store->reset();
  EXPECT_EQ(FilesHolding(folder.path(), "Zebulon"), std::vector<std::string>{});
  EXPECT_EQ(FilesHolding(folder.path(), "SQLite format 3"), std::vector<std::string>{});

  auto again = OpenEncryptedIn(folder.path());
  ASSERT_TRUE(again) << Describe(again);
  auto found = FindMessage(**again, w.message, w.user);
  ASSERT_TRUE(found);
  EXPECT_NE(found->body.find(kCanary), std::string::npos);
  EXPECT_EQ(Search(**again, "Quixotic", {w.space}).size(), 1u);
  (*again)->Close();
}

// The format on disk is the documented one, checked with libsodium's own implementation: each
// page's first 4056 bytes are XChaCha20-Poly1305 (IETF) ciphertext under the key, with the
// 24-byte nonce and the 16-byte tag after them, and the associated data its place (1, then the
// page number as 8 bytes big-endian).
TEST(EncryptionTest, PagesAreXChaCha20Poly1305AsDocumented) {
  ASSERT_GE(sodium_init(), 0);
  Folder folder;
  {
    auto store = OpenEncryptedIn(folder.path());
    ASSERT_TRUE(store) << Describe(store);
    WriteCanary(**store);
    (*store)->Close();
  }
  const std::string file = ReadAll(folder.file("rounds.db"));
  const std::size_t pages = file.size() / kEncryptedPageBytes;
  ASSERT_GT(pages, 2u);
  const std::string key = TestKey();
  int opened = 0;
  for (std::size_t number = 1; number <= pages; ++number) {
    std::string page = file.substr((number - 1) * kEncryptedPageBytes, kEncryptedPageBytes);
    if (sodium_is_zero(reinterpret_cast<const unsigned char*>(page.data()), page.size())) continue;
    auto* bytes = reinterpret_cast<unsigned char*>(page.data());
    const int sealed = kEncryptedPageBytes - sqlite::kEncryptionReserveBytes;
    unsigned char ad[9] = {1};
    for (int i = 0; i < 8; ++i) ad[1 + i] = static_cast<unsigned char>(number >> (56 - 8 * i));
    ASSERT_EQ(crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
                  bytes, nullptr, bytes, sealed, bytes + sealed + 24, ad, sizeof ad, bytes + sealed,
                  reinterpret_cast<const unsigned char*>(key.data())),
              0)
        << "page " << number;
    if (number == 1) {
      EXPECT_EQ(page.substr(0, 16), std::string("SQLite format 3\0", 16));
    }
    ++opened;
  }
  EXPECT_EQ(static_cast<std::size_t>(opened), pages);
}

// Opening an encrypted database checks its key before anything else touches SQLite, and that
// check must not initialize SQLite before the store configures it: SQLite's memory statistics,
// which take one process-wide mutex on every allocation, stay off. (Run alone, as ctest runs each
// test, this process has not used SQLite before; the database is made by a child process.)
TEST(EncryptionTest, CheckingTheKeyLeavesSqlitesMemoryStatisticsOff) {
  Folder folder;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = OpenEncryptedIn(folder.path());
    if (!store) _exit(1);
    (*store)->Close();
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto store = OpenEncryptedIn(folder.path());
  ASSERT_TRUE(store) << Describe(store);
  WriteCanary(**store);
  sqlite3_int64 used = -1;
  sqlite3_int64 highest = -1;
  ASSERT_EQ(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &used, &highest, 0), SQLITE_OK);
  EXPECT_EQ(used, 0) << "memory statistics are on";
  (*store)->Close();
}

TEST(EncryptionTest, WrongMissingOrUnneededKeysAreRefusedByName) {
  Folder folder;
  {
    auto store = OpenEncryptedIn(folder.path());
    ASSERT_TRUE(store) << Describe(store);
    WriteCanary(**store);
    (*store)->Close();
  }
  auto wrong = OpenSqliteStore({.path = folder.file("rounds.db"), .read_connections = 1, .encryption_key = TestKey('x')});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "database_key_mismatch");
  auto none = OpenSqliteStore({.path = folder.file("rounds.db"), .read_connections = 1});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().problem, "database_encrypted");
  auto short_key = OpenSqliteStore({.path = folder.file("rounds.db"), .read_connections = 1, .encryption_key = "short"});
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().problem, "bad_database_key");

  Folder plain;
  {
    auto store = OpenSqliteStore({.path = plain.file("rounds.db"), .read_connections = 1});
    ASSERT_TRUE(store) << Describe(store);
    (*store)->Close();
  }
  EXPECT_EQ(InspectDatabaseFile(plain.file("rounds.db")), DatabaseFileKind::kPlain);
  auto keyed = OpenSqliteStore({.path = plain.file("rounds.db"), .read_connections = 1, .encryption_key = TestKey()});
  ASSERT_FALSE(keyed);
  EXPECT_EQ(keyed.error().problem, "database_not_encrypted");
  // The refusals changed nothing: both still open as they were.
  auto reopened = OpenEncryptedIn(folder.path());
  ASSERT_TRUE(reopened) << Describe(reopened);
  (*reopened)->Close();
}

TEST(EncryptionTest, AChangedByteIsAnErrorNotWrongData) {
  Folder folder;
  Written w;
  {
    auto store = OpenEncryptedIn(folder.path());
    ASSERT_TRUE(store) << Describe(store);
    w = WriteCanary(**store);
    (*store)->Close();  // the log is copied into the database file and removed
  }
  ASSERT_FALSE(std::filesystem::exists(folder.file("rounds.db-wal")));
  const std::string path = folder.file("rounds.db");
  const std::string original = ReadAll(path);
  ASSERT_GT(original.size(), 8u * kEncryptedPageBytes);
  const std::uint64_t rejected_before = CoalescingVfsCountersNow().pages_rejected;
  // One bit of every page after the first, in turn: whatever page the message lives on, reading
  // it must fail, and no read may return a changed body.
  int failures = 0;
  const std::size_t pages = original.size() / kEncryptedPageBytes;
  for (std::size_t page = 1; page < pages; ++page) {
    std::string tampered = original;
    tampered[page * kEncryptedPageBytes + 100] ^= 0x01;
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << tampered;
    }
    auto store = OpenSqliteStore({.path = path, .read_connections = 1, .encryption_key = TestKey()});
    if (!store) {
      ++failures;  // a page the migrations read at open
      continue;
    }
    auto read = (*store)->Read([&](ReadTx& tx) { return tx.FindMessage(w.message, w.user); });
    if (!read) {
      ++failures;
    } else {
      ASSERT_TRUE(read->has_value()) << "page " << page;
      EXPECT_NE((*read)->body.find(kCanary), std::string::npos) << "page " << page;
    }
    (*store)->Close();
  }
  EXPECT_GT(failures, 0);
  EXPECT_GT(CoalescingVfsCountersNow().pages_rejected, rejected_before);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << original;
  }
  auto store = OpenEncryptedIn(folder.path());
  ASSERT_TRUE(store) << Describe(store);
  auto read = (*store)->Read([&](ReadTx& tx) { return tx.FindMessage(w.message, w.user); });
  ASSERT_TRUE(read) << Describe(read);
  ASSERT_TRUE(read->has_value());
  (*store)->Close();
}

TEST(EncryptionTest, BackupsAreEncryptedUnderTheSameKey) {
  Folder folder;
  Folder copy;
  auto store = OpenEncryptedIn(folder.path());
  ASSERT_TRUE(store) << Describe(store);
  const Written w = WriteCanary(**store);
  const Status backed_up = (*store)->Backup(copy.file("rounds.db"));
  ASSERT_TRUE(backed_up) << Describe(backed_up);
  (*store)->Close();
  EXPECT_EQ(FilesHolding(copy.path(), "Zebulon"), std::vector<std::string>{});
  EXPECT_EQ(InspectDatabaseFile(copy.file("rounds.db")), DatabaseFileKind::kEncrypted);
  auto restored = OpenEncryptedIn(copy.path());
  ASSERT_TRUE(restored) << Describe(restored);
  auto found = FindMessage(**restored, w.message, w.user);
  ASSERT_TRUE(found);
  EXPECT_NE(found->body.find(kCanary), std::string::npos);
  (*restored)->Close();
}

TEST(EncryptionTest, APlainDatabaseIsEncryptedInPlace) {
  Folder folder;
  const std::string path = folder.file("rounds.db");
  Written w;
  {
    auto store = OpenSqliteStore({.path = path, .read_connections = 1});
    ASSERT_TRUE(store) << Describe(store);
    w = WriteCanary(**store);
    // Encrypting needs the database to itself.
    const Status busy = EncryptDatabaseFile(path, TestKey());
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().problem, "database_in_use");
    (*store)->Close();
  }
  ASSERT_FALSE(FilesHolding(folder.path(), "Zebulon").empty());
  const Status encrypted = EncryptDatabaseFile(path, TestKey());
  ASSERT_TRUE(encrypted) << Describe(encrypted);
  EXPECT_EQ(FilesHolding(folder.path(), "Zebulon"), std::vector<std::string>{});
  EXPECT_EQ(InspectDatabaseFile(path), DatabaseFileKind::kEncrypted);
  const Status twice = EncryptDatabaseFile(path, TestKey());
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().problem, "database_already_encrypted");
  const Status missing = EncryptDatabaseFile(folder.file("none.db"), TestKey());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto store = OpenEncryptedIn(folder.path());
  ASSERT_TRUE(store) << Describe(store);
  auto found = FindMessage(**store, w.message, w.user);
  ASSERT_TRUE(found);
  EXPECT_NE(found->body.find(kCanary), std::string::npos);
  EXPECT_EQ(Search(**store, "Zebulon", {w.space}).size(), 1u);
  // And it goes on taking writes.
  auto more = Post(**store, w.space, w.user, "after encryption");
  EXPECT_TRUE(more) << Describe(more);
  (*store)->Close();
  EXPECT_EQ(FilesHolding(folder.path(), "after encryption"), std::vector<std::string>{});
}

// A key change re-encrypts every page: the old key opens nothing afterwards, the new one opens
// everything, including what was only in the write-ahead log when it began; a backup made before
// keeps its old key. Refused while the database is open, under the wrong key, or to the same key,
// each leaving the database as it was.
TEST(EncryptionTest, AKeyChangeReencryptsEveryPage) {
  Folder folder;
  Folder copy;
  const std::string path = folder.file("rounds.db");
  const std::string old_key = TestKey('o');
  const std::string new_key = TestKey('n');
  Written w;
  {
    auto store = OpenSqliteStore({.path = path, .read_connections = 1, .encryption_key = old_key});
    ASSERT_TRUE(store) << Describe(store);
    w = WriteCanary(**store);
    ASSERT_TRUE((*store)->Backup(copy.file("rounds.db")));
    const Status busy = RekeyDatabaseFile(path, old_key, new_key);
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().problem, "database_in_use");
    EXPECT_TRUE(KeyOpensDatabaseFile(path, old_key));
    // Written last, so the change starts with it still in the log.
    ASSERT_TRUE(Post(**store, w.space, w.user, "logged before the key change"));
    (*store)->Close();
  }
  const Status wrong = RekeyDatabaseFile(path, TestKey('x'), new_key);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "database_key_mismatch");
  const Status same = RekeyDatabaseFile(path, old_key, old_key);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().problem, "same_database_key");
  EXPECT_TRUE(KeyOpensDatabaseFile(path, old_key));

  const Status changed = RekeyDatabaseFile(path, old_key, new_key);
  ASSERT_TRUE(changed) << Describe(changed);
  EXPECT_FALSE(KeyOpensDatabaseFile(path, old_key));
  EXPECT_TRUE(KeyOpensDatabaseFile(path, new_key));
  EXPECT_EQ(FilesHolding(folder.path(), "Zebulon"), std::vector<std::string>{});
  EXPECT_FALSE(std::filesystem::exists(path + ".rekeying"));
  auto refused = OpenSqliteStore({.path = path, .read_connections = 1, .encryption_key = old_key});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "database_key_mismatch");
  auto checked = CheckDatabaseFile(path, new_key);
  ASSERT_TRUE(checked) << Describe(checked);
  EXPECT_EQ(*checked, "ok");

  auto store = OpenSqliteStore({.path = path, .read_connections = 1, .encryption_key = new_key});
  ASSERT_TRUE(store) << Describe(store);
  auto found = FindMessage(**store, w.message, w.user);
  ASSERT_TRUE(found);
  EXPECT_NE(found->body.find(kCanary), std::string::npos);
  EXPECT_EQ(Search(**store, "Zebulon", {w.space}).size(), 1u);
  EXPECT_EQ(Search(**store, "logged", {w.space}).size(), 1u);
  ASSERT_TRUE(Post(**store, w.space, w.user, "after the key change"));
  (*store)->Close();
  EXPECT_EQ(FilesHolding(folder.path(), "after the key change"), std::vector<std::string>{});

  // The backup made before is still under the old key.
  EXPECT_TRUE(KeyOpensDatabaseFile(copy.file("rounds.db"), old_key));
  auto old_copy = CheckDatabaseFile(copy.file("rounds.db"), old_key);
  ASSERT_TRUE(old_copy) << Describe(old_copy);
  EXPECT_EQ(*old_copy, "ok");

  Folder plain;
  {
    auto p = OpenSqliteStore({.path = plain.file("rounds.db"), .read_connections = 1});
    ASSERT_TRUE(p) << Describe(p);
    (*p)->Close();
  }
  const Status not_encrypted = RekeyDatabaseFile(plain.file("rounds.db"), old_key, new_key);
  ASSERT_FALSE(not_encrypted);
  EXPECT_EQ(not_encrypted.error().problem, "database_not_encrypted");
}

}  // namespace

namespace storetest {
INSTANTIATE_TEST_SUITE_P(SqliteEncrypted, StoreContractTest,
                         ::testing::Values(StoreBackend{"sqlite_encrypted", OpenEncryptedIn, true, "rounds.db"}),
                         [](const auto& info) { return info.param.name; });
}  // namespace storetest
}  // namespace rounds::store
