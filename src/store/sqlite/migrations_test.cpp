// The embedded migrations are the files in migrations/sqlite, and an old database upgrades.
#include "store/sqlite/migrations.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "store/sqlite/search_tokenizer.hpp"
#include "store/storetest/contract_helpers.hpp"

namespace rounds::store::sqlite {
namespace {

const std::filesystem::path kSourceFolder =
    std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path() / "migrations" / "sqlite";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The SQL that makes a database at schema `version`, as that version's binary left it.
std::string SchemaAt(int version) {
  std::string sql =
      "CREATE TABLE schema_version (version INTEGER NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL);";
  for (int i = 0; i < version; ++i) {
    const auto& migration = Migrations()[static_cast<std::size_t>(i)];
    sql += "BEGIN;" + std::string(migration.sql) + "INSERT INTO schema_version VALUES (" + std::to_string(i + 1) +
           ", '" + std::string(migration.name) + "', 0);COMMIT;";
  }
  return sql;
}

// A database file written with raw SQL (an older schema and its rows), in a fresh folder that is
// removed afterwards.
class RawDatabase {
 public:
  RawDatabase(const std::string& name, const std::string& sql)
      : folder_(::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid())) {
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    sqlite3* db = nullptr;
    if (sqlite3_open(path().c_str(), &db) != SQLITE_OK) {
      error_ = "cannot open " + path();
    } else if (char* error = nullptr; sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      error_ = error != nullptr ? error : "sqlite3_exec failed";
      sqlite3_free(error);
    }
    sqlite3_close(db);
  }
  ~RawDatabase() { std::filesystem::remove_all(folder_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;
  std::string path() const { return folder_ + "/rounds.db"; }
  const std::string& error() const { return error_; }  // empty when the SQL ran

 private:
  std::string folder_;
  std::string error_;
};

// Opens the file with the store (which migrates it to the latest version) and closes it again.
::testing::AssertionResult Upgrade(const std::string& path) {
  auto store = OpenSqliteStore({.path = path, .read_connections = 1});
  if (!store) return ::testing::AssertionFailure() << storetest::Describe(store);
  (*store)->Close();
  return ::testing::AssertionSuccess();
}

// One column of every row `sql` returns, each followed by a newline ("error: ..." when it does not
// prepare).
std::string Rows(sqlite3* db, const std::string& sql, int column = 0) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return std::string("error: ") + sqlite3_errmsg(db);
  std::string out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* value = sqlite3_column_text(stmt, column);
    out += (value != nullptr ? reinterpret_cast<const char*>(value) : "") + std::string("\n");
  }
  sqlite3_finalize(stmt);
  return out;
}

TEST(SqliteMigrations, EmbeddedCopiesAreTheFilesOfTheSourceTree) {
  ASSERT_TRUE(std::filesystem::is_directory(kSourceFolder)) << kSourceFolder;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kSourceFolder)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  auto embedded = Migrations();
  ASSERT_EQ(embedded.size(), files.size())
      << "a migration file was added or removed since the build was configured: re-run cmake";
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(embedded[i].name, files[i].filename().string());
    EXPECT_EQ(embedded[i].sql, ReadFile(files[i])) << files[i] << " changed since the build was configured";
  }
}

TEST(SqliteMigrations, AreNumberedFromOneWithoutGaps) {
  auto migrations = Migrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(LatestSchemaVersion(), static_cast<int>(migrations.size()));
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    std::string number = std::to_string(i + 1);
    std::string prefix = std::string(4 - std::min<std::size_t>(4, number.size()), '0') + number + "_";
    EXPECT_EQ(migrations[i].name.substr(0, 5), prefix) << migrations[i].name;
    EXPECT_TRUE(migrations[i].name.ends_with(".sql")) << migrations[i].name;
  }
}

// Search words, ranking and excerpts tokenize text with SearchTokenizer; the index must use the same
// tokenizer, or a search would mark and rank other words than the ones it matched.
TEST(SqliteMigrations, TheSearchIndexUsesTheSearchTokenizer) {
  std::string_view latest;
  for (const auto& migration : Migrations()) {
    if (migration.sql.find("CREATE VIRTUAL TABLE message_search") != std::string_view::npos) latest = migration.sql;
  }
  ASSERT_FALSE(latest.empty());
  EXPECT_NE(latest.find("tokenize = '" + std::string(kSearchTokenize) + "'"), std::string_view::npos) << latest;
}

// A database written at schema version 1 (its own copy of every message in the search index)
// upgrades to the latest version with its search intact.
TEST(SqliteMigrations, UpgradesAVersionOneDatabase) {
  RawDatabase version1("rounds-upgrade",
                       SchemaAt(1) +
                           "INSERT INTO users (id, username, display_name, created_at) VALUES (1, 'old', 'Old', 0);"
                           "INSERT INTO spaces (id, kind, name, visibility, join_policy, created_by, created_at, last_seq) "
                           "  VALUES (1, 'channel', 'Old', 'public', 'open', 1, 0, 2);"
                           "INSERT INTO messages (id, space_id, seq, author_id, kind, body, created_at) "
                           "  VALUES (1, 1, 1, 1, 'message', 'aspirin before theatre', 0);"
                           "INSERT INTO messages (id, space_id, seq, author_id, kind, body, created_at, deleted) "
                           "  VALUES (2, 1, 2, 1, 'message', '', 0, 1);"
                           "INSERT INTO message_search (rowid, title, body) VALUES (1, '', 'aspirin before theatre');");
  ASSERT_EQ(version1.error(), "");
  const std::string path = version1.path();
  auto store = OpenSqliteStore({.path = path, .read_connections = 1});
  ASSERT_TRUE(store) << storetest::Describe(store);
  auto hits = (*store)->Read([](ReadTx& tx) { return tx.SearchMessages({"aspirin", {1}, 20, 0}); });
  ASSERT_TRUE(hits) << storetest::Describe(hits);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].message.id, 1);
  EXPECT_NE((*hits)[0].snippet.find("[[aspirin]]"), std::string::npos);
  // New writes are indexed by the new triggers.
  ASSERT_TRUE((*store)->Write([](WriteTx& tx) {
    return tx.UpdateMessageBody(1, "", "paracetamol before theatre", 1, 1);
  }));
  ASSERT_TRUE((*store)->CatchUpSearch());
  auto old = (*store)->Read([](ReadTx& tx) { return tx.SearchMessages({"aspirin", {1}, 20, 0}); });
  EXPECT_TRUE(old->empty());
  auto now = (*store)->Read([](ReadTx& tx) { return tx.SearchMessages({"paracetamol", {1}, 20, 0}); });
  EXPECT_EQ(now->size(), 1u);
  (*store)->Close();
  store->reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT max(version), count(*) FROM schema_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), LatestSchemaVersion());
  EXPECT_EQ(sqlite3_column_int(stmt, 1), LatestSchemaVersion());
  sqlite3_finalize(stmt);
  EXPECT_EQ(sqlite3_exec(db, "INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// A database at schema version 5 keeps its audit trail searchable: version 6 moves the audit
// indexes into tables the writer fills in batches, and fills them from the existing records.
TEST(SqliteMigrations, UpgradingToBatchedAuditIndexesIndexesEveryExistingRecord) {
  std::string v5 = SchemaAt(5);
  for (int seq = 1; seq <= 3; ++seq) {
    v5 += "INSERT INTO audit_log VALUES (" + std::to_string(seq) + ", " + std::to_string(seq) + ", " +
          std::to_string(seq == 2 ? 9 : 8) + ", 'staff', 'message.read', 'space', '4', '', 'success', '', '', '', '{}', 'p', 'h');";
  }
  RawDatabase version5("rounds-upgrade-audit", v5);
  ASSERT_EQ(version5.error(), "");
  const std::string path = version5.path();
  auto store = OpenSqliteStore({.path = path, .read_connections = 1});
  ASSERT_TRUE(store) << storetest::Describe(store);
  AuditQuery by_actor;
  by_actor.actor_id = 8;
  auto found = (*store)->Read([&](ReadTx& tx) { return tx.SearchAudit(by_actor); });
  ASSERT_TRUE(found) << storetest::Describe(found);
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].seq, 3);
  EXPECT_EQ((*found)[1].seq, 1);
  (*store)->Close();
  store->reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT (SELECT indexed_seq FROM audit_index_state), (SELECT count(*) FROM audit_index_actor), "
                               "(SELECT count(*) FROM audit_index_object WHERE object_type = 'space' AND object_id = '4')",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 3);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 3);
  EXPECT_EQ(sqlite3_column_int(stmt, 2), 3);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// A database at schema version 7 keeps its space events, in order, through version 8's move to an
// appended table: every event replays by seq, and retention still finds the events of a message
// that were written before the message_id column existed.
TEST(SqliteMigrations, UpgradingToAppendedSpaceEventsKeepsEveryEventAndItsMessage) {
  std::string v7 = SchemaAt(7) +
                   "INSERT INTO users (id, username, display_name, created_at) VALUES (1, 'old', 'Old', 0);"
                   "INSERT INTO spaces (id, kind, name, visibility, join_policy, created_by, created_at, last_seq) "
                   "  VALUES (1, 'channel', 'One', 'public', 'open', 1, 0, 4), "
                   "         (2, 'channel', 'Two', 'public', 'open', 1, 0, 1);"
                   "INSERT INTO messages (id, space_id, seq, author_id, kind, body, created_at) "
                   "  VALUES (7, 1, 2, 1, 'message', 'first words', 10);";
  // Written out of seq order across spaces, as concurrent spaces do.
  v7 += "INSERT INTO space_events (space_id, seq, type, payload, created_at) VALUES "
        "(1, 1, 'member.joined', '{\"user_id\":1}', 1), "
        "(2, 1, 'message.created', '{\"id\":99}', 2), "
        "(1, 2, 'message.created', '{\"id\":7,\"body\":\"first words\"}', 10), "
        "(1, 3, 'reaction.changed', '{\"message_id\":7}', 11), "
        "(1, 4, 'message.edited', 'not json', 12);";
  RawDatabase version7("rounds-upgrade-events", v7);
  ASSERT_EQ(version7.error(), "");
  const std::string path = version7.path();
  auto store = OpenSqliteStore({.path = path, .read_connections = 1});
  ASSERT_TRUE(store) << storetest::Describe(store);
  auto events = (*store)->Read([](ReadTx& tx) { return tx.ListEvents(1, 0, 10); });
  ASSERT_TRUE(events) << storetest::Describe(events);
  ASSERT_EQ(events->size(), 4u);
  for (std::size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, static_cast<Seq>(i + 1));
  EXPECT_EQ((*events)[2].type, "reaction.changed");
  EXPECT_EQ((*events)[2].payload_json, "{\"message_id\":7}");
  auto later = (*store)->Read([](ReadTx& tx) { return tx.ListEvents(1, 2, 10); });
  ASSERT_TRUE(later);
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ((*later)[0].seq, 3);
  // New events append after the old ones and replay in seq order too.
  ASSERT_TRUE((*store)->Write([](WriteTx& tx) {
    return tx.InsertEvent({.space_id = 1, .seq = 5, .type = "message.deleted", .payload_json = "{\"id\":7}", .created_at = 13});
  }));
  // The purge scrubs the message's events from before and after the upgrade, and no other.
  auto purged = (*store)->Write([](WriteTx& tx) { return tx.PurgeMessages({7}, 20); });
  ASSERT_TRUE(purged) << storetest::Describe(purged);
  EXPECT_EQ(purged->events_scrubbed, 3);
  auto after = (*store)->Read([](ReadTx& tx) { return tx.ListEvents(1, 0, 10); });
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 5u);
  EXPECT_EQ((*after)[0].type, "member.joined");
  for (int i : {1, 2, 4}) {
    EXPECT_EQ((*after)[i].type, "message.purged") << i;
    EXPECT_EQ((*after)[i].payload_json.find("first words"), std::string::npos) << i;
  }
  EXPECT_EQ((*after)[3].type, "message.edited");  // not JSON: about no message that can be found
  auto other = (*store)->Read([](ReadTx& tx) { return tx.ListEvents(2, 0, 10); });
  ASSERT_TRUE(other);
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].type, "message.created");
}

// Version 10 rewrites the CHECKs over lists of values in place (SQLite builds a temporary table
// for a list on every row written): the file stays sound, keeps its rows, and refuses exactly
// what it refused before.
TEST(SqliteMigrations, ListChecksRewrittenInPlaceStillRefuseWhatTheyRefused) {
  const std::string rows =
      "INSERT INTO users (id, username, display_name, created_at) VALUES (1, 'old', 'Old', 0);"
      "INSERT INTO spaces (id, kind, name, visibility, join_policy, created_by, created_at, last_seq) "
      "  VALUES (1, 'channel', 'One', 'public', 'open', 1, 0, 2);"
      "INSERT INTO memberships (space_id, user_id, role, read_seq, joined_at) VALUES (1, 1, 'owner', 0, 0);"
      "INSERT INTO messages (id, space_id, seq, author_id, kind, body, created_at, state, hold_reason) "
      "  VALUES (1, 1, 1, 1, 'message', 'held words', 10, 'held', 'phi'), "
      "         (2, 1, 2, 1, 'message', 'plain words', 11, 'published', '');"
      "INSERT INTO audit_log (seq, time, actor_id, actor_role, action, object_type, object_id, patient_ref, outcome, "
      "  address, session_hash, reason, details, prev_hash, hash) "
      "  VALUES (1, 1, 1, 'staff', 'sign_in', 'user', '1', '', 'denied', '', '', '', '{}', '', 'h1');"
      "INSERT INTO moderation_actions (space_id, message_id, target_user_id, moderator_id, action, reason, created_at) "
      "  VALUES (1, 1, 1, 1, 'hide', 'r', 0);";
  for (int from : {9, 0}) {
    SCOPED_TRACE("from schema version " + std::to_string(from));
    RawDatabase old("rounds-upgrade-checks", SchemaAt(from) + (from > 0 ? rows : ""));
    ASSERT_EQ(old.error(), "");
    ASSERT_TRUE(Upgrade(old.path()));
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(old.path().c_str(), &db), SQLITE_OK);
    auto text = [&](const char* sql) { return Rows(db, sql); };
    auto run = [&](const std::string& sql) { return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr); };
    EXPECT_EQ(text("PRAGMA integrity_check"), "ok\n");
    const std::string schema = text(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name IN "
        "('spaces', 'memberships', 'messages', 'audit_log', 'moderation_actions')");
    EXPECT_NE(schema.find("hold_reason = 'phi' OR hold_reason = 'review')"), std::string::npos) << schema;
    // Lists of two are compared in place by SQLite and stay.
    EXPECT_FALSE(std::regex_search(schema, std::regex(R"(IN \('[^']*'(, '[^']*'){2,}\))"))) << schema;
    EXPECT_NE(schema.find("state = 'published' OR state = 'held'"), std::string::npos) << schema;
    if (from > 0) {
      EXPECT_EQ(text("SELECT id || ':' || state || ':' || hold_reason FROM messages ORDER BY id"),
                "1:held:phi\n2:published:\n");
      EXPECT_EQ(text("SELECT outcome FROM audit_log"), "denied\n");
    } else {
      ASSERT_EQ(run(rows), SQLITE_OK) << sqlite3_errmsg(db);
    }
    // Every value the old lists allowed is still allowed...
    EXPECT_EQ(run("UPDATE messages SET state = 'removed', hold_reason = 'pre_moderation' WHERE id = 2"), SQLITE_OK);
    // ...and so is the reason version 23 adds.
    EXPECT_EQ(run("UPDATE messages SET state = 'held', hold_reason = 'review' WHERE id = 1"), SQLITE_OK);
    EXPECT_EQ(text("SELECT hold_reason FROM messages WHERE id = 1"), "review\n");
    EXPECT_EQ(run("UPDATE memberships SET role = 'read_only'"), SQLITE_OK);
    EXPECT_EQ(run("UPDATE moderation_actions SET action = 'suspend', appeal_outcome = 'reversed'"), SQLITE_OK);
    EXPECT_EQ(run("INSERT INTO spaces (kind, name, visibility, join_policy, created_by, created_at) "
                  "VALUES ('direct', 'Two', 'private', 'invite', 1, 0)"),
              SQLITE_OK);
    // ...and nothing else is.
    for (const char* refused : {
             "UPDATE messages SET state = 'archived' WHERE id = 2",
             "UPDATE messages SET hold_reason = 'other' WHERE id = 2",
             "UPDATE memberships SET role = 'admin'",
             "UPDATE moderation_actions SET action = 'ban'",
             "UPDATE moderation_actions SET appeal_outcome = 'pending'",
             "INSERT INTO spaces (kind, name, visibility, join_policy, created_by, created_at) "
             "VALUES ('forum', 'Three', 'public', 'open', 1, 0)",
             "INSERT INTO audit_log (seq, time, actor_id, actor_role, action, object_type, object_id, patient_ref, "
             "outcome, address, session_hash, reason, details, prev_hash, hash) "
             "VALUES (2, 2, 1, 'staff', 'sign_in', 'user', '1', '', 'maybe', '', '', '', '{}', 'h1', 'h2')"}) {
      EXPECT_EQ(run(refused), SQLITE_CONSTRAINT) << refused;
      EXPECT_NE(std::string(sqlite3_errmsg(db)).find("CHECK constraint failed"), std::string::npos) << refused;
    }
    sqlite3_close(db);
  }
}


// Version 11 reorders the client id index: a database written before keeps its messages, still
// refuses a second message with the same space, author and client id, and finds the original by
// the retry's lookup through the reordered index.
TEST(SqliteMigrations, ReorderedClientIdIndexKeepsItsUniquenessAndServesTheRetryLookup) {
  const std::string rows =
      "INSERT INTO users (id, username, display_name, created_at) VALUES (1, 'a', 'A', 0), (2, 'b', 'B', 0);"
      "INSERT INTO spaces (id, kind, name, visibility, join_policy, created_by, created_at, last_seq) "
      "  VALUES (1, 'channel', 'One', 'public', 'open', 1, 0, 3), (2, 'channel', 'Two', 'public', 'open', 1, 0, 1);"
      "INSERT INTO messages (id, space_id, seq, author_id, kind, body, client_id, created_at) "
      "  VALUES (1, 1, 1, 1, 'message', 'first', 'c-1', 10), (2, 1, 2, 2, 'message', 'same id, other author', 'c-1', 11), "
      "         (3, 1, 3, 1, 'message', 'no id', '', 12), (4, 2, 1, 1, 'message', 'same id, other space', 'c-1', 13);";
  RawDatabase old("rounds-upgrade-client-id", SchemaAt(10) + rows);
  ASSERT_EQ(old.error(), "");
  ASSERT_TRUE(Upgrade(old.path()));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(old.path().c_str(), &db), SQLITE_OK);
  auto text = [&](const char* sql) { return Rows(db, sql); };
  EXPECT_EQ(text("PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(text("SELECT sql FROM sqlite_schema WHERE name = 'messages_client_id'"),
            "CREATE UNIQUE INDEX messages_client_id ON messages(client_id, space_id, author_id) WHERE client_id <> ''\n");
  EXPECT_EQ(text("SELECT group_concat(id) FROM (SELECT id FROM messages ORDER BY id)"), "1,2,3,4\n");
  // The retry's lookup (kFindMessageByClientId's shape) uses the index and finds the original.
  const char* lookup = "SELECT id FROM messages m WHERE m.space_id = 1 AND m.author_id = 2 "
                       "AND m.client_id = 'c-1' AND m.client_id <> ''";
  EXPECT_EQ(text(lookup), "2\n");
  const std::string plan = Rows(db, std::string("EXPLAIN QUERY PLAN ") + lookup, 3);
  EXPECT_NE(plan.find("INDEX messages_client_id"), std::string::npos) << plan;
  // The same space, author and client id again is refused; an empty id never is.
  EXPECT_EQ(sqlite3_exec(db, "INSERT INTO messages (space_id, seq, author_id, kind, body, client_id, created_at) "
                             "VALUES (1, 4, 1, 'message', 'again', 'c-1', 14)", nullptr, nullptr, nullptr),
            SQLITE_CONSTRAINT);
  EXPECT_EQ(sqlite3_exec(db, "INSERT INTO messages (space_id, seq, author_id, kind, body, client_id, created_at) "
                             "VALUES (1, 4, 1, 'message', 'no id again', '', 14)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

// Schema 13 keeps an attachment's content in pieces of 256 KiB: every file stored whole before is
// split in order, an empty one into one empty piece, and reads the same through the store.
TEST(SqliteMigrations, UpgradingToAttachmentPiecesSplitsEveryFileInOrder) {
  const std::string rows =
      "INSERT INTO users (id, username, display_name, created_at) VALUES (1, 'a', 'A', 0);"
      "INSERT INTO spaces (id, kind, name, visibility, join_policy, created_by, created_at, last_seq) "
      "  VALUES (1, 'channel', 'One', 'public', 'open', 1, 0, 0);"
      "INSERT INTO attachments (id, space_id, uploader_id, name, content_type, size, sha256, created_at) VALUES "
      "  (1, 1, 1, 'empty.txt', 'text/plain', 0, '', 0), (2, 1, 1, 'note.txt', 'text/plain', 5, '', 0), "
      "  (3, 1, 1, 'scan.png', 'image/png', 600000, '', 0);"
      "INSERT INTO attachment_contents VALUES (1, zeroblob(0)), (2, CAST('hello' AS BLOB)), "
      "  (3, CAST(substr(replace(hex(zeroblob(300000)), '0', 'x'), 1, 300000) || "
      "           substr(replace(hex(zeroblob(300000)), '0', 'y'), 1, 300000) AS BLOB));";
  RawDatabase old("rounds-upgrade-pieces", SchemaAt(12) + rows);
  ASSERT_EQ(old.error(), "");
  auto store = OpenSqliteStore({.path = old.path(), .read_connections = 1});
  ASSERT_TRUE(store) << storetest::Describe(store);
  const std::string scan = std::string(300000, 'x') + std::string(300000, 'y');
  auto read = [&](AttachmentId id) { return (*store)->Read([&](ReadTx& tx) { return tx.ReadAttachmentContent(id); }); };
  auto piece = [&](AttachmentId id, std::int64_t n) {
    return (*store)->Read([&](ReadTx& tx) { return tx.ReadAttachmentPiece(id, n); });
  };
  ASSERT_TRUE(read(1) && *read(1));
  EXPECT_EQ(**read(1), "");
  EXPECT_EQ(**read(2), "hello");
  EXPECT_EQ(**read(3), scan);
  EXPECT_EQ(**piece(1, 0), "");
  EXPECT_EQ(**piece(3, 0), scan.substr(0, 262144));
  EXPECT_EQ(**piece(3, 1), scan.substr(262144, 262144));
  EXPECT_EQ(**piece(3, 2), scan.substr(524288));
  EXPECT_FALSE(*piece(3, 3));
  EXPECT_FALSE(*read(4));
  (*store)->Close();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(old.path().c_str(), &db), SQLITE_OK);
  EXPECT_EQ(Rows(db, "PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(Rows(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'attachment_contents'"), "0\n");
  EXPECT_EQ(Rows(db, "SELECT group_concat(typeof(bytes)) FROM attachment_pieces"), "blob,blob,blob,blob,blob\n");
  sqlite3_close(db);
}

// Version 18 widens a hold on custodians to their direct conversations: a database with a hold
// placed before keeps it, now covering what the custodian received; the trigger that keeps a held
// message's text on deletion reads the recreated view; and deciding whether a message is held
// looks rows up by key, never scanning messages, spaces or memberships.
TEST(SqliteMigrations, UpgradingWidensCustodianHoldsToTheirConversationsByKeyLookupsOnly) {
  const std::string rows =
      "INSERT INTO users (id, username, display_name, created_at) VALUES (1, 'a', 'A', 0), (2, 'b', 'B', 0), "
      "  (3, 'c', 'C', 0);"
      "INSERT INTO spaces (id, kind, name, visibility, join_policy, direct_key, created_by, created_at, last_seq) "
      "  VALUES (1, 'channel', 'Ward', 'public', 'open', NULL, 1, 0, 1), "
      "         (2, 'direct', '', 'private', 'invite', '1,2', 1, 0, 1), (3, 'direct', '', 'private', 'invite', '1,3', 1, 0, 1);"
      "INSERT INTO memberships (space_id, user_id, role, joined_at) VALUES (1, 1, 'owner', 0), (1, 2, 'member', 0), "
      "  (2, 1, 'member', 0), (2, 2, 'member', 0), (3, 1, 'member', 0), (3, 3, 'member', 0);"
      "INSERT INTO messages (id, space_id, seq, author_id, kind, body, created_at) "
      "  VALUES (1, 1, 1, 1, 'message', 'in the ward', 10), (2, 2, 1, 1, 'message', 'a to b', 11), "
      "         (3, 3, 1, 1, 'message', 'a to c', 12);"
      "INSERT INTO legal_holds (id, name, custodian_ids, created_by, created_at) VALUES (7, 'Matter', '[2]', 1, 0);";
  RawDatabase old("rounds-upgrade-hold-conversations", SchemaAt(17) + rows);
  ASSERT_EQ(old.error(), "");
  ASSERT_TRUE(Upgrade(old.path()));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(old.path().c_str(), &db), SQLITE_OK);
  auto text = [&](const std::string& sql) { return Rows(db, sql); };
  EXPECT_EQ(text("SELECT message_id || ':' || hold_id FROM held_messages ORDER BY 1"), "2:7\n");
  ASSERT_EQ(sqlite3_exec(db, "UPDATE messages SET deleted = 1, body = '', edited_at = 20 WHERE id IN (1, 2)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(text("SELECT message_id || ':' || body || ':' || deleted_at FROM held_deletions"), "2:a to b:20\n");

  const std::string plan = Rows(db, "EXPLAIN QUERY PLAN SELECT hold_id FROM held_messages WHERE message_id = 3", 3);
  std::istringstream lines(plan);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("SCAN") == std::string::npos) continue;
    EXPECT_TRUE(line.find("legal_holds_active") != std::string::npos || line.find("VIRTUAL TABLE") != std::string::npos)
        << line << "\n" << plan;
  }
  EXPECT_NE(plan.find("a USING PRIMARY KEY (space_id=? AND author_id=?)"), std::string::npos) << plan;
  sqlite3_close(db);
}

// Schema 21 drops the two indexes that put every post in the middle of a conversation's run:
// space_authors, filled from the messages already stored and then by the first post of each
// author in each space, answers the custodian hold's "has written here"; a thread's replies come
// from the replies-only index and a top-level page from the space's seq index, neither by a scan.
TEST(SqliteMigrations, FewerSpaceIndexesKeepHoldsThreadsAndPagesToKeyLookups) {
  const std::string rows =
      "INSERT INTO users (id, username, display_name, created_at) VALUES (1, 'a', 'A', 0), (2, 'b', 'B', 0), "
      "  (3, 'c', 'C', 0);"
      "INSERT INTO spaces (id, kind, name, visibility, join_policy, direct_key, created_by, created_at, last_seq) "
      "  VALUES (1, 'channel', 'Ward', 'public', 'open', NULL, 1, 0, 3), "
      "         (2, 'direct', '', 'private', 'invite', '2,3', 2, 0, 1);"
      "INSERT INTO memberships (space_id, user_id, role, joined_at) VALUES (1, 1, 'owner', 0), (1, 2, 'member', 0), "
      "  (2, 3, 'member', 0);"  // user 2 has left the direct conversation they wrote in
      "INSERT INTO messages (id, space_id, seq, author_id, kind, parent_id, body, created_at) "
      "  VALUES (1, 1, 1, 1, 'message', NULL, 'root', 10), (2, 1, 2, 2, 'message', 1, 'reply', 11), "
      "         (3, 1, 3, 2, 'message', NULL, 'second root', 12), (4, 2, 1, 2, 'message', NULL, 'b to c', 13);"
      "INSERT INTO legal_holds (id, name, custodian_ids, created_by, created_at) VALUES (7, 'Matter', '[2]', 1, 0);";
  RawDatabase old("rounds-upgrade-fewer-indexes", SchemaAt(20) + rows);
  ASSERT_EQ(old.error(), "");
  ASSERT_TRUE(Upgrade(old.path()));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(old.path().c_str(), &db), SQLITE_OK);
  auto text = [&](const std::string& sql) { return Rows(db, sql); };
  EXPECT_EQ(text("PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(text("SELECT name FROM sqlite_schema WHERE name IN ('messages_author_space', 'messages_space_parent_seq', "
                 "'messages_parent') ORDER BY 1"),
            "");
  EXPECT_EQ(text("SELECT space_id || ':' || author_id FROM space_authors ORDER BY 1"), "1:1\n1:2\n2:2\n");
  // The author who left is still a custodian of the conversation they wrote in.
  EXPECT_EQ(text("SELECT message_id || ':' || hold_id FROM held_messages ORDER BY message_id"), "2:7\n3:7\n4:7\n");

  // A new author's first post adds their row; a second post finds it and adds nothing.
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO messages (space_id, seq, author_id, kind, body, created_at) "
                             "VALUES (2, 2, 3, 'message', 'c to b', 14), (2, 3, 3, 'message', 'again', 15)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(text("SELECT space_id || ':' || author_id FROM space_authors WHERE space_id = 2 ORDER BY 1"), "2:2\n2:3\n");

  // Threads, top-level pages and the purge's reply check read indexes, never scan messages.
  const char* queries[] = {
      "SELECT id FROM messages m WHERE m.space_id = 1 AND m.parent_id IS NULL AND m.seq < 9 ORDER BY m.seq DESC LIMIT 50",
      "SELECT id FROM messages m WHERE m.space_id = 1 AND m.parent_id = 1 AND m.seq > 0 ORDER BY m.seq ASC LIMIT 50",
      "SELECT EXISTS (SELECT 1 FROM messages c WHERE c.space_id = 1 AND c.parent_id = 1)",
  };
  EXPECT_EQ(text(queries[0]), "3\n1\n");
  EXPECT_EQ(text(queries[1]), "2\n");
  EXPECT_EQ(text(queries[2]), "1\n");
  for (const char* query : queries) {
    const std::string plan = Rows(db, std::string("EXPLAIN QUERY PLAN ") + query, 3);
    EXPECT_EQ(plan.find("SCAN m"), std::string::npos) << query << "\n" << plan;
    EXPECT_EQ(plan.find("SCAN c"), std::string::npos) << query << "\n" << plan;
    EXPECT_NE(plan.find("SEARCH"), std::string::npos) << query << "\n" << plan;
  }
  sqlite3_close(db);
}

// Version 29 keys the index by patient by each reference's 64 bits: a database at version 28 keeps
// every entry (a key whose first hex digit is f too, a negative integer), a search by patient
// finds its records through the index, verification finds nothing amiss, and an entry whose text
// is no reference is dropped.
TEST(SqliteMigrations, UpgradingToKeyedPatientEntriesKeepsEveryPatientsRecords) {
  const std::string a = "Patient/mrn-00000000000000aa", b = "Patient/mrn-f0000000000000bb";
  std::string v28 = SchemaAt(28);
  const std::string refs[] = {a, a + " " + b, b};
  for (int seq = 1; seq <= 3; ++seq) {
    v28 += "INSERT INTO audit_log VALUES (" + std::to_string(seq) + ", " + std::to_string(seq) +
           ", 8, 'staff', 'message.list', 'space', '4', '" + refs[seq - 1] + "', 'success', '', '', '', '{}', 'p', 'h');";
  }
  v28 += "INSERT INTO audit_index_patient VALUES ('" + a + "', 1), ('" + a + "', 2), ('" + b + "', 2), ('" + b +
         "', 3), ('Patient/12', 3);";
  v28 += "INSERT OR REPLACE INTO audit_index_actor VALUES (8, 1), (8, 2), (8, 3);"
         "INSERT OR REPLACE INTO audit_index_object VALUES ('space', '4', 1), ('space', '4', 2), ('space', '4', 3);"
         "UPDATE audit_index_state SET indexed_seq = 3;";
  RawDatabase version28("rounds-upgrade-patient-keys", v28);
  ASSERT_EQ(version28.error(), "");
  auto store = OpenSqliteStore({.path = version28.path(), .read_connections = 1});
  ASSERT_TRUE(store) << storetest::Describe(store);
  for (const auto& [ref, seqs] : {std::pair{a, std::vector<std::int64_t>{2, 1}}, std::pair{b, std::vector<std::int64_t>{3, 2}}}) {
    AuditQuery by_patient;
    by_patient.patient_ref = ref;
    auto found = (*store)->Read([&](ReadTx& tx) { return tx.SearchAudit(by_patient); });
    ASSERT_TRUE(found) << storetest::Describe(found);
    std::vector<std::int64_t> got;
    for (const auto& r : *found) got.push_back(r.seq);
    EXPECT_EQ(got, seqs) << ref;
  }
  auto mismatch = (*store)->Read([](ReadTx& tx) { return tx.FirstAuditIndexMismatch(); });
  ASSERT_TRUE(mismatch) << storetest::Describe(mismatch);
  EXPECT_FALSE(mismatch->has_value()) << **mismatch;
  (*store)->Close();
  store->reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(version28.path().c_str(), &db), SQLITE_OK);
  EXPECT_EQ(Rows(db, "SELECT printf('%x', patient_key) || ':' || seq FROM audit_index_patient ORDER BY patient_key, seq"),
            "f0000000000000bb:2\nf0000000000000bb:3\naa:1\naa:2\n");
  sqlite3_close(db);
}

}  // namespace
}  // namespace rounds::store::sqlite
