// Tests of how the configured database gets its key: made with a new database, reused from a
// restored key file, never made for a database that exists, refused when malformed, and left out
// when encryption is off; and of changing it: the old key retired, and a change stopped at any
// step settled so that the database stays readable.
#include "app/database.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/crypto.hpp"

namespace rounds::app {
namespace {

class DatabaseKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("rounds-database-key-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.data_dir = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Create() {
    auto store = OpenDatabase(config_, 1);
    ASSERT_TRUE(store) << store.error().internal_message;
    (*store)->Close();
  }

  std::filesystem::path dir_;
  Config config_;
};

TEST_F(DatabaseKeyTest, ANewDatabaseGetsANewKeyThatOpensItAgain) {
  Create();
  auto key = DatabaseKeyFor(config_);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ(store::InspectDatabaseFile(config_.DatabasePath()), store::DatabaseFileKind::kEncrypted);
  Create();  // opens with the same key
  auto same = DatabaseKeyFor(config_);
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, *key);
}

// Asking for the key is a question: `rounds audit verify` pointed at a folder with no database
// used to leave a new key file there.
TEST_F(DatabaseKeyTest, AskingForTheKeyOfNoDatabaseCreatesNothing) {
  auto chosen = DatabaseKeyFor(config_);
  ASSERT_TRUE(chosen);
  EXPECT_TRUE(chosen->empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "keys"));
  EXPECT_FALSE(std::filesystem::exists(config_.DatabasePath()));
}

TEST_F(DatabaseKeyTest, ARestoredKeyFileIsUsedForANewDatabase) {
  const std::string key = crypto::RandomBytes(32);
  std::filesystem::create_directories(dir_ / "keys");
  std::ofstream(dir_ / "keys" / "database.key") << crypto::ToHex(key) << "\n";
  auto chosen = DatabaseKeyFor(config_);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*chosen, key);
}

TEST_F(DatabaseKeyTest, AMalformedKeyFileIsAnErrorNotANewKey) {
  std::filesystem::create_directories(dir_ / "keys");
  std::ofstream(dir_ / "keys" / "database.key") << "not a key\n";
  auto chosen = DatabaseKeyFor(config_);
  ASSERT_FALSE(chosen);
  EXPECT_EQ(chosen.error().problem, "database_key");
  EXPECT_FALSE(std::filesystem::exists(config_.DatabasePath()));
}

TEST_F(DatabaseKeyTest, AnEncryptedDatabaseWithoutItsKeyFileIsAnError) {
  Create();
  std::filesystem::remove(dir_ / "keys" / "database.key");
  auto chosen = DatabaseKeyFor(config_);
  ASSERT_FALSE(chosen);
  EXPECT_EQ(chosen.error().problem, "database_key");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "keys" / "database.key")) << "no new key for an existing database";
  config_.database_encryption = false;  // the setting does not make an encrypted database readable
  EXPECT_FALSE(DatabaseKeyFor(config_));
}

TEST_F(DatabaseKeyTest, OffMeansPlainAndAPlainDatabaseStaysPlainUntilEncrypted) {
  config_.database_encryption = false;
  Create();
  EXPECT_EQ(store::InspectDatabaseFile(config_.DatabasePath()), store::DatabaseFileKind::kPlain);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "keys" / "database.key"));
  config_.database_encryption = true;
  auto chosen = DatabaseKeyFor(config_);
  ASSERT_TRUE(chosen);
  EXPECT_TRUE(chosen->empty());
  Create();  // still opens, plain
  ASSERT_TRUE(EncryptDatabase(config_));
  EXPECT_EQ(store::InspectDatabaseFile(config_.DatabasePath()), store::DatabaseFileKind::kEncrypted);
  Create();
}

TEST_F(DatabaseKeyTest, TheKeyFileSettingIsHonoured) {
  config_.database_key_file = (dir_ / "elsewhere" / "db.key").string();
  Create();
  EXPECT_TRUE(std::filesystem::exists(config_.database_key_file));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "keys" / "database.key"));
  EXPECT_EQ(DatabaseKeyPath(config_), config_.database_key_file);
}

std::string KeyIn(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string hex;
  in >> hex;
  return crypto::FromHex(hex).value_or("");
}

// The files of the keys folder, by name.
std::vector<std::string> KeyFiles(const std::filesystem::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(DatabaseKeyTest, AKeyChangeReplacesTheKeyFileAndRetiresTheOldKey) {
  Create();
  const std::string old_key = *DatabaseKeyFor(config_);
  auto changed = RekeyDatabase(config_, 1'764'756'000'123);  // 2025-12-03T10:00:00.123Z
  ASSERT_TRUE(changed) << changed.error().internal_message;
  EXPECT_EQ(changed->key_file, (dir_ / "keys" / "database.key").string());
  EXPECT_EQ(changed->retired_key_file, (dir_ / "keys" / "database.key.retired-20251203T100000123Z").string());
  const std::string new_key = *DatabaseKeyFor(config_);
  EXPECT_EQ(new_key.size(), 32u);
  EXPECT_NE(new_key, old_key);
  EXPECT_EQ(KeyIn(changed->retired_key_file), old_key);
  EXPECT_EQ(std::filesystem::status(changed->retired_key_file).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(std::filesystem::status(changed->key_file).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_TRUE(store::KeyOpensDatabaseFile(config_.DatabasePath(), new_key));
  EXPECT_FALSE(store::KeyOpensDatabaseFile(config_.DatabasePath(), old_key));
  EXPECT_EQ(KeyFiles(dir_ / "keys"), (std::vector<std::string>{"database.key", "database.key.lock",
                                                                 "database.key.retired-20251203T100000123Z"}));
  Create();  // opens under the new key
}

TEST_F(DatabaseKeyTest, AKeyChangeIsRefusedWhileTheDatabaseIsOpenAndChangesNothing) {
  Create();
  const std::string old_key = *DatabaseKeyFor(config_);
  auto store = OpenDatabase(config_, 1);
  ASSERT_TRUE(store);
  auto busy = RekeyDatabase(config_, 1'764'756'000'000);
  (*store)->Close();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().problem, "database_in_use");
  EXPECT_EQ(*DatabaseKeyFor(config_), old_key);
  EXPECT_EQ(KeyFiles(dir_ / "keys"), (std::vector<std::string>{"database.key", "database.key.lock"}));
  EXPECT_TRUE(store::KeyOpensDatabaseFile(config_.DatabasePath(), old_key));
}

TEST_F(DatabaseKeyTest, APlainOrMissingDatabaseHasNoKeyToChange) {
  auto missing = RekeyDatabase(config_, 0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  config_.database_encryption = false;
  Create();
  auto plain = RekeyDatabase(config_, 0);
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().problem, "database_not_encrypted");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "keys"));
}

// A crash after the database got its new key and before the key file was replaced: the next
// open finishes the change.
TEST_F(DatabaseKeyTest, AChangeStoppedAfterTheDatabaseChangedIsFinishedAtTheNextOpen) {
  Create();
  const std::string old_key = *DatabaseKeyFor(config_);
  const std::string new_key = crypto::RandomBytes(32);
  std::ofstream(NextDatabaseKeyPath(config_)) << crypto::ToHex(new_key) << "\n";
  ASSERT_TRUE(store::RekeyDatabaseFile(config_.DatabasePath(), old_key, new_key));
  auto chosen = DatabaseKeyFor(config_);
  ASSERT_TRUE(chosen) << chosen.error().internal_message;
  EXPECT_EQ(*chosen, new_key);
  EXPECT_EQ(KeyIn(dir_ / "keys" / "database.key"), new_key);
  EXPECT_FALSE(std::filesystem::exists(NextDatabaseKeyPath(config_)));
  Create();
}

// A crash before the database changed (the new key file complete or not): the old key stands and
// the new one is dropped.
TEST_F(DatabaseKeyTest, AChangeStoppedBeforeTheDatabaseChangedIsAbandoned) {
  Create();
  const std::string old_key = *DatabaseKeyFor(config_);
  for (const std::string& next : {crypto::ToHex(crypto::RandomBytes(32)) + "\n", std::string("3f2a")}) {
    std::ofstream(NextDatabaseKeyPath(config_)) << next;
    auto chosen = DatabaseKeyFor(config_);
    ASSERT_TRUE(chosen) << chosen.error().internal_message;
    EXPECT_EQ(*chosen, old_key);
    EXPECT_FALSE(std::filesystem::exists(NextDatabaseKeyPath(config_)));
  }
  Create();
}

// While another process holds the change's lock, its new key file is its own: nobody else
// abandons it (which would leave the database under a key kept nowhere) or starts a second change.
TEST_F(DatabaseKeyTest, AChangeInProgressElsewhereIsLeftAlone) {
  Create();
  const std::string old_key = *DatabaseKeyFor(config_);
  const std::string lock_path = DatabaseKeyPath(config_) + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  std::ofstream(NextDatabaseKeyPath(config_)) << crypto::ToHex(crypto::RandomBytes(32)) << "\n";
  auto chosen = DatabaseKeyFor(config_);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*chosen, old_key);
  EXPECT_TRUE(std::filesystem::exists(NextDatabaseKeyPath(config_)));
  auto second = RekeyDatabase(config_, 0);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().problem, "database_key_change_in_progress");
  ::close(fd);
  // Released: the next reader settles it.
  EXPECT_EQ(*DatabaseKeyFor(config_), old_key);
  EXPECT_FALSE(std::filesystem::exists(NextDatabaseKeyPath(config_)));
}

}  // namespace
}  // namespace rounds::app
