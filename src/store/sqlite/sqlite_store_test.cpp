#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/sqlite/sqlite_tx.hpp"
#include "store/storetest/store_contract.hpp"

namespace rounds::store {

Result<std::unique_ptr<Store>> OpenIn(const std::string& folder) {
  return OpenSqliteStore({.path = folder + "/rounds.db", .read_connections = 2});
}

namespace {


TEST(SqliteStore, RefusesADatabaseWithANewerSchema) {
  std::string dir = ::testing::TempDir() + "/rounds-newer-schema";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto store = OpenIn(dir);
    ASSERT_TRUE(store);
    (*store)->Close();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/rounds.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (999, '0999_future.sql', 0)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto reopened = OpenIn(dir);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, ErrorCode::kConflict);
  EXPECT_EQ(reopened.error().problem, "schema_too_new");
  std::filesystem::remove_all(dir);
}

TEST(SqliteStore, RunsWithSynchronousFullAndWal) {
  std::string dir = ::testing::TempDir() + "/rounds-pragmas";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = OpenIn(dir);
  ASSERT_TRUE(store) << store.error().problem << " " << store.error().public_message << " " << store.error().internal_message;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/rounds.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  (*store)->Close();
  std::filesystem::remove_all(dir);
}

TEST(SqliteStore, BuildsFtsQueriesFromWordsOnly) {
  EXPECT_EQ(sqlite::BuildFtsQuery("sepsis bundle"), "\"sepsis\"* \"bundle\"*");
  EXPECT_EQ(sqlite::BuildFtsQuery("NEAR(a \"b\") -c body:d"),
            "\"NEAR\"* \"a\"* \"b\"* \"c\"* \"body\"* \"d\"*");
  EXPECT_EQ(sqlite::BuildFtsQuery("  *** "), "");
  EXPECT_EQ(sqlite::BuildFtsQuery("café"), "\"café\"*");
}

}  // namespace

namespace storetest {
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreBackend{"sqlite", OpenIn, true}),
                         [](const auto& info) { return info.param.name; });
}  // namespace storetest
}  // namespace rounds::store
