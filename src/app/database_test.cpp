// Tests of how the configured database gets its key: made with a new database, reused from a
// restored key file, never made for a database that exists, refused when malformed, and left out
// when encryption is off.
#include "app/database.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace rounds::app
