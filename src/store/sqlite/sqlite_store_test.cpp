// Tests of the SQLite store beyond the contract suite (which it also runs, below): pragmas, the
// writer's batching and failure handling seen through its hooks, backup files, FTS query building.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/sqlite_tx.hpp"
#include "store/storetest/contract_helpers.hpp"
#include "store/storetest/fault_injection_store.hpp"
#include "store/storetest/store_contract.hpp"
#include "store/storetest/temp_folder.hpp"

namespace rounds::store {
namespace {

using storetest::AddSpace;
using storetest::AddUser;
using storetest::Describe;
using storetest::Post;

Result<std::unique_ptr<Store>> OpenIn(const std::string& folder) {
  return OpenSqliteStore({.path = folder + "/rounds.db", .read_connections = 2});
}

// A fresh folder for one test, removed afterwards.
class Folder : public storetest::TempFolder {
 public:
  Folder() : TempFolder("rounds-sqlite") {}
};

// A raw connection for looking at a database file from outside the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK); }
  ~RawDb() { sqlite3_close(db_); }
  std::string Text(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  int Exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }
  // EXPLAIN QUERY PLAN of `sql`, one step per line.
  std::string Plan(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    std::string out;
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
      out += '\n';
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::string Error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_ = nullptr;
};

// Keeps the writer busy inside a unit until released, so that units submitted meanwhile queue up
// and form the next batch together.
class WriterGate {
 public:
  explicit WriterGate(Store& store) {
    auto entered = entered_.get_future();
    thread_ = std::thread([this, &store] {
      status_ = store.RunWrite([this](WriteTx&) -> Status {
        entered_.set_value();
        release_future_.wait();
        return Ok();
      });
    });
    entered.wait();
  }
  ~WriterGate() { Release(); }
  void Release() {
    if (released_) return;
    released_ = true;
    release_.set_value();
    thread_.join();
  }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
  std::shared_future<void> release_future_ = release_.get_future().share();
  bool released_ = false;
  Status status_;
  std::thread thread_;
};

// Waits until `n` units wait for the writer.
bool WaitForQueued(Store& store, std::uint64_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (store.Metrics().queued_units != n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Starts `n` threads that each post one message; returns their results once joined.
class ConcurrentPosts {
 public:
  ConcurrentPosts(Store& store, SpaceId space, UserId author, int n) : results_(n, tl::unexpected(rounds::Error{})) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([&, i, space, author] {
        results_[i] = Post(store, space, author, "unit " + std::to_string(i));
      });
    }
  }
  std::vector<Result<Message>>& Join() {
    for (auto& t : threads_) t.join();
    threads_.clear();
    return results_;
  }
  ~ConcurrentPosts() { Join(); }

 private:
  std::vector<Result<Message>> results_;
  std::vector<std::thread> threads_;
};

std::size_t CountOk(const std::vector<Result<Message>>& results) {
  std::size_t n = 0;
  for (const auto& r : results) n += r ? 1 : 0;
  return n;
}

void ExpectSeqs(Store& store, SpaceId space, Seq last) {
  auto events = store.Read([&](ReadTx& tx) { return tx.ListEvents(space, 0, 10'000); });
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), static_cast<std::size_t>(last));
  for (std::size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, static_cast<Seq>(i + 1));
}

TEST(SqliteStore, RunsInWalModeWithForeignKeys) {
  Folder folder;
  auto store = OpenIn(folder.path());
  ASSERT_TRUE(store) << Describe(store);
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(db.Text("SELECT max(version) FROM schema_version"), std::to_string(sqlite::LatestSchemaVersion()));
  (*store)->Close();
}

// SQLite keeps no memory statistics: with them every sqlite3_malloc and sqlite3_free takes one
// process-wide mutex, which the writer and every reader contended for. The store turns them off
// before SQLite first initializes (ctest runs each test in a process of its own, so here the store
// is the first to use SQLite).
TEST(SqliteStore, SqliteCountsNoMemorySoAllocationsShareNoLock) {
  Folder folder;
  auto store = OpenIn(folder.path());
  ASSERT_TRUE(store) << Describe(store);
  AddUser(**store, "memo");
  auto found = (*store)->Read([](ReadTx& tx) { return tx.FindUserByUsername("memo"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(sqlite3_memory_used(), 0);
  (*store)->Close();
}

// The server's I/O threads answer kept pages through TryRead: it runs only when a read connection
// is free at once, and never waits for one.
TEST(SqliteStore, TryReadRunsOnAFreeConnectionAndNeverWaitsForABusyOne) {
  Folder folder;
  auto store = OpenIn(folder.path());  // two read connections
  ASSERT_TRUE(store) << Describe(store);
  AddUser(**store, "nowait");
  auto find = [](ReadTx& tx) { return tx.FindUserByUsername("nowait"); };
  auto found = (*store)->TryRead(find);
  ASSERT_TRUE(found) << "a connection was free";
  ASSERT_TRUE(*found && **found);
  EXPECT_EQ((**found)->username, "nowait");

  // Both connections held by readers that wait for a signal.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> holding{0};
  std::vector<std::thread> holders;
  for (int i = 0; i < 2; ++i) {
    holders.emplace_back([&] {
      (void)(*store)->RunRead([&](ReadTx&) -> Status {
        ++holding;
        released.wait();
        return Ok();
      });
    });
  }
  while (holding.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bool ran = false;
  auto busy = (*store)->TryRead([&](ReadTx& tx) {
    ran = true;
    return tx.FindUserByUsername("nowait");
  });
  EXPECT_FALSE(busy) << "every connection is in use";
  EXPECT_FALSE(ran);
  release.set_value();
  for (auto& t : holders) t.join();

  // A unit's error is the answer, as with Read.
  auto failed = (*store)->TryRead([](ReadTx&) -> Result<int> { return NotFound("Thing"); });
  ASSERT_TRUE(failed) << "a connection is free again";
  ASSERT_FALSE(*failed);
  EXPECT_EQ(failed->error().code, ErrorCode::kNotFound);
  (*store)->Close();
}

// Read before every kept page is served: a walk over the space's messages would cost more than
// rendering the page (the held check once did, on an index that did not apply).
TEST(SqliteStore, APagesVersionIsFoundThroughIndexesOnly) {
  Folder folder;
  auto store = OpenIn(folder.path());
  ASSERT_TRUE(store) << Describe(store);
  RawDb db(folder.file("rounds.db"));
  const std::string plan = db.Plan(sqlite::kFindPageVersionSql);
  EXPECT_NE(plan.find("messages_unpublished"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("messages_space"), std::string::npos) << plan;
  (*store)->Close();
}

TEST(SqliteStore, DatabaseAndBackupFilesAreReadableByTheOwnerOnly) {
  Folder folder;
  auto store = OpenIn(folder.path() + "/data");
  ASSERT_TRUE(store) << Describe(store);
  ASSERT_NE(AddUser(**store, "private"), 0);
  Folder target;
  ASSERT_TRUE((*store)->Backup(target.file("copy.db")));
  using std::filesystem::perms;
  auto others = [](const std::string& path) {
    return std::filesystem::status(path).permissions() & (perms::group_all | perms::others_all);
  };
  EXPECT_EQ(others(folder.path() + "/data"), perms::none);
  EXPECT_EQ(others(folder.path() + "/data/rounds.db"), perms::none);
  EXPECT_EQ(others(folder.path() + "/data/rounds.db-wal"), perms::none);
  EXPECT_EQ(others(target.file("copy.db")), perms::none);
  (*store)->Close();
}

TEST(SqliteStore, RefusesADatabaseWithANewerSchema) {
  Folder folder;
  {
    auto store = OpenIn(folder.path());
    ASSERT_TRUE(store);
    (*store)->Close();
  }
  {
    RawDb db(folder.file("rounds.db"));
    ASSERT_EQ(db.Exec("INSERT INTO schema_version VALUES (999, '0999_future.sql', 0)"), SQLITE_OK) << db.Error();
  }
  auto reopened = OpenIn(folder.path());
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, ErrorCode::kConflict);
  EXPECT_EQ(reopened.error().problem, "schema_too_new");
  EXPECT_NE(reopened.error().public_message.find("999"), std::string::npos) << reopened.error().public_message;
  EXPECT_NE(reopened.error().public_message.find("newer version"), std::string::npos);
  // Refusing changed nothing.
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Text("SELECT max(version) FROM schema_version"), "999");
}

// Commits leave the write-ahead log to a checkpointer thread: with the writer's own bound out of
// reach, the database file still takes in what was committed, while the store is open.
TEST(SqliteStore, TheWriteAheadLogIsCopiedIntoTheDatabaseOffTheCommitPath) {
  Folder folder;
  auto opened = OpenSqliteStore({.path = folder.file("rounds.db"), .read_connections = 1,
                                 .checkpoint_interval = std::chrono::milliseconds(50),
                                 .writer_checkpoint_pages = 1 << 30});
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Text("PRAGMA wal_autocheckpoint"), "1000");  // a connection of its own: the default
  const auto size_before = std::filesystem::file_size(folder.file("rounds.db"));
  UserId u = AddUser(store, "logger");
  SpaceId space = AddSpace(store, "Log", u);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(Post(store, space, u, std::string(2000, static_cast<char>('a' + i % 26))));
  }
  // The file grows while a copy runs and the copy is counted when it ends: both are waited for.
  bool copied = false;
  for (int i = 0; i < 100 && !copied; ++i) {
    copied = std::filesystem::file_size(folder.file("rounds.db")) > size_before + 300 * 2000 &&
             store.Metrics().checkpoints > 0;
    if (!copied) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(copied) << "database file " << std::filesystem::file_size(folder.file("rounds.db")) << " bytes";
  ExpectSeqs(store, space, 300);
  const StoreMetrics m = store.Metrics();
  EXPECT_GT(m.checkpoints, 0u);
  EXPECT_GT(m.checkpoint_micros_sum, 0);
  EXPECT_EQ(m.writer_checkpoints, 0u) << "no commit reached the writer's bound";
  EXPECT_GT(m.log_frames, 0u);
  store.Close();
}

// Past the writer's bound a commit copies the log itself: the store counts those commits, since
// every write queued behind one waits for the copy and the database file's sync.
TEST(SqliteStore, ACommitPastTheWritersBoundCopiesTheLogItselfAndIsCounted) {
  Folder folder;
  auto opened = OpenSqliteStore({.path = folder.file("rounds.db"), .read_connections = 1,
                                 .checkpoint_interval = std::chrono::hours(1),
                                 .writer_checkpoint_pages = 8});
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  const auto size_before = std::filesystem::file_size(folder.file("rounds.db"));
  UserId u = AddUser(store, "bounded");
  SpaceId space = AddSpace(store, "Bound", u);
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(Post(store, space, u, std::string(2000, static_cast<char>('a' + i % 26))));
  }
  const StoreMetrics m = store.Metrics();
  EXPECT_EQ(m.checkpoints, 0u) << "the checkpointer's interval is an hour";
  EXPECT_GT(m.writer_checkpoints, 0u);
  EXPECT_LT(m.writer_checkpoints, m.write_batches + 10);
  EXPECT_GT(m.writer_checkpoint_micros_sum, 0.0) << "the time they held their commits up is counted";
  EXPECT_GT(std::filesystem::file_size(folder.file("rounds.db")), size_before + 60 * 2000)
      << "the commits copied the log into the database";
  ExpectSeqs(store, space, 60);
  store.Close();
}

// Once the log is long, the checkpointer copies it often and a commit copies the few frames it
// left, so that the log starts over from its beginning: the log file stays near that length
// instead of growing with every commit until the writer's bound. How far the log grows depends on
// the checkpointer getting a processor between commits; on a loaded host it may not for hundreds
// of commits. So while the log is long each post waits for the checkpointer to have run once
// since the post before: what is tested is that the commits then start the log over.
TEST(SqliteStore, ACommitCopiesTheLastFramesOfALongLogAndTheLogStartsOver) {
  Folder folder;
  auto opened = OpenSqliteStore({.path = folder.file("rounds.db"), .read_connections = 1,
                                 .checkpoint_interval = std::chrono::hours(1),
                                 .long_log_checkpoint_interval = std::chrono::milliseconds(5),
                                 .restart_log_pages = 64, .catch_up_pages = 256,
                                 .writer_checkpoint_pages = 1 << 30});
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "restarter");
  SpaceId space = AddSpace(store, "Restart", u);
  constexpr int kPosts = 400;
  for (int i = 0; i < kPosts; ++i) {
    const std::uint64_t checkpoints = store.Metrics().checkpoints;
    ASSERT_TRUE(Post(store, space, u, std::string(2000, static_cast<char>('a' + i % 26))));
    if (store.Metrics().log_frames < 64) continue;
    for (int wait = 0; wait < 1000 && store.Metrics().checkpoints == checkpoints; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const StoreMetrics m = store.Metrics();
  EXPECT_GT(m.checkpoints, 0u) << "the long log woke the checkpointer before its hour";
  EXPECT_GT(m.writer_catch_ups, 0u);
  EXPECT_GT(m.writer_catch_up_micros_sum, 0.0) << "the time they held their commits up is counted";
  EXPECT_EQ(m.writer_checkpoints, 0u) << "no commit reached the writer's bound";
  EXPECT_EQ(m.writer_checkpoint_micros_sum, 0.0);
  // Without restarts the log holds every commit's frames: 4,848 pages for these posts (measured
  // with the restart length out of reach). With them it stays near the restart length (206 pages
  // when measured).
  const auto log_bytes = std::filesystem::file_size(folder.file("rounds.db-wal"));
  EXPECT_LT(log_bytes, 1000u * 4096u) << "the log did not start over";
  ExpectSeqs(store, space, kPosts);
  store.Close();
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(db.Text("SELECT count(*) FROM messages"), std::to_string(kPosts)) << "one space only";
}

TEST(SqliteStore, GroupCommitBatchesQueuedUnitsAndAFaultFailsOnlyItsUnit) {
  Folder folder;
  auto opened = OpenIn(folder.path());
  ASSERT_TRUE(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "batcher");
  SpaceId space = AddSpace(store, "Batch", u);
  storetest::FaultInjectionStore faulty(store);
  const StoreMetrics before = store.Metrics();
  std::vector<Result<Message>> results;
  {
    WriterGate gate(store);
    faulty.FailNthWrite(4);
    ConcurrentPosts posts(faulty, space, u, 10);
    ASSERT_TRUE(WaitForQueued(store, 10));
    gate.Release();
    results = posts.Join();
  }
  const StoreMetrics after = store.Metrics();
  EXPECT_EQ(after.write_batches - before.write_batches, 2u);  // the gate's, then all ten together
  EXPECT_EQ(after.failed_units - before.failed_units, 1u);
  EXPECT_EQ(after.write_units - before.write_units, 10u);  // the gate and nine posts
  EXPECT_EQ(after.queued_units, 0u);
  EXPECT_EQ(CountOk(results), 9u);
  EXPECT_EQ(faulty.injected(), 1);
  ExpectSeqs(store, space, 9);
  auto messages = store.Read([&](ReadTx& tx) { return tx.ListMessages({.space_id = space, .limit = 100}); });
  EXPECT_EQ(messages->size(), 9u);
  store.Close();
}

// The opcodes SQLite compiles `sql` to on `db`.
std::vector<std::string> Opcodes(sqlite3* db, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, ("EXPLAIN " + sql).c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db) << ": " << sql;
    return out;
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
  sqlite3_finalize(stmt);
  return out;
}

// The writer's rows are few and small, and the cost of a write is what SQLite does around them: a
// CHECK over a list of three or more constants, an IN over constants or a RETURNING clause builds
// a temporary b-tree (a pager, a cache and a table) on every execution. None of the statements a
// post and its audit record run does; only those reading an id list from JSON need one, and the
// audit index batches, which sort a batch of 2,048 records once.
TEST(SqliteStore, NoWriteOfAPostOrAnAuditRecordBuildsATemporaryTable) {
  Folder folder;
  std::atomic<bool> inspect{false};
  std::vector<std::string> temporary;  // written on the writer thread, read after Close()
  std::size_t inspected = 0;
  sqlite::WriterHooks hooks;
  hooks.before_commit = [&](sqlite::Connection& db) {
    if (!inspect.exchange(false)) return;
    std::vector<std::string> statements;
    for (sqlite3_stmt* s = sqlite3_next_stmt(db.raw(), nullptr); s != nullptr; s = sqlite3_next_stmt(db.raw(), s)) {
      if (sqlite3_stmt_readonly(s) == 0 && sqlite3_sql(s) != nullptr) statements.emplace_back(sqlite3_sql(s));
    }
    for (const std::string& sql : statements) {
      if (sql.find("json_each") != std::string::npos || sql.find("SAVEPOINT") != std::string::npos ||
          sql.find("audit_index_") != std::string::npos) {
        continue;
      }
      ++inspected;
      for (const std::string& op : Opcodes(db.raw(), sql)) {
        if (op == "OpenEphemeral" || op == "OpenAutoindex" || op == "SorterOpen") temporary.push_back(op + ": " + sql);
      }
    }
  };
  auto opened = sqlite::OpenSqliteStoreWithHooks({.path = folder.file("rounds.db")}, hooks);
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "writer");
  SpaceId space = AddSpace(store, "Writes", u);
  inspect = true;
  auto posted = store.Write([&](WriteTx& tx) -> Status {
    Message m = storetest::NewMessage(space, u, {.body = "the statements of a post"});
    m.state = MessageState::kHeld;
    m.hold_reason = "phi";
    ROUNDS_ASSIGN_OR_RETURN(Message stored, storetest::PostIn(tx, m));
    ROUNDS_ASSIGN_OR_RETURN(AuditChainHead head, tx.AuditHead());
    AuditRecord a;
    a.seq = head.seq + 1;
    a.time = storetest::kNow;
    a.actor_id = u;
    a.actor_role = "staff";
    a.action = "message.create";
    a.object_type = "message";
    a.object_id = std::to_string(stored.id);
    a.outcome = AuditOutcome::kSuccess;
    a.details_json = "{}";
    a.prev_hash = head.hash;
    a.hash = std::string(64, 'a');
    return tx.InsertAudit(a);
  });
  ASSERT_TRUE(posted) << Describe(posted);
  store.Close();
  EXPECT_GE(inspected, 4u);  // the seq bump, the message, its event, the audit record at least
  EXPECT_TRUE(temporary.empty()) << ::testing::PrintToString(temporary);
}

TEST(SqliteStore, AFailedCommitFailsEveryUnitOfItsBatch) {
  Folder folder;
  std::atomic<int> commits_until_break{0};
  sqlite::WriterHooks hooks;
  hooks.before_commit = [&](sqlite::Connection& db) {
    if (commits_until_break.fetch_sub(1) != 1) return;
    // A deferred foreign-key violation is only detected by COMMIT, which then fails.
    ASSERT_TRUE(db.Exec("PRAGMA defer_foreign_keys=ON"));
    ASSERT_TRUE(db.Exec("INSERT INTO memberships (space_id, user_id, role, read_seq, joined_at) "
                        "VALUES (424242, 424242, 'member', 0, 0)"));
  };
  auto opened = sqlite::OpenSqliteStoreWithHooks({.path = folder.file("rounds.db")}, hooks);
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "committer");
  SpaceId space = AddSpace(store, "Commit", u);
  const StoreMetrics before = store.Metrics();
  std::vector<Result<Message>> results;
  {
    WriterGate gate(store);
    ConcurrentPosts posts(store, space, u, 5);
    ASSERT_TRUE(WaitForQueued(store, 5));
    commits_until_break = 2;  // the gate's commit, then the batch of five
    gate.Release();
    results = posts.Join();
  }
  EXPECT_EQ(CountOk(results), 0u);
  for (const auto& r : results) EXPECT_EQ(r.error().code, ErrorCode::kNotFound) << Describe(r);
  const StoreMetrics after = store.Metrics();
  EXPECT_EQ(after.failed_units - before.failed_units, 5u);
  ExpectSeqs(store, space, 0);
  // The writer recovers: the next unit commits with the next seq.
  auto next = Post(store, space, u, "after the failed commit");
  ASSERT_TRUE(next) << Describe(next);
  EXPECT_EQ(next->seq, 1);
  store.Close();
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Text("SELECT count(*) FROM memberships WHERE space_id = 424242"), "0");
}

TEST(SqliteStore, ATransactionSqliteAbortsFailsItsUnitsAndTheRestRunAgain) {
  Folder folder;
  std::atomic<bool> armed{false};
  std::atomic<bool> fired{false};
  sqlite::WriterHooks hooks;
  hooks.before_unit = [&](sqlite::Connection& db, std::size_t index) {
    sqlite3_progress_handler(db.raw(), 0, nullptr, nullptr);
    if (index == 3 && armed.exchange(false)) {
      // Interrupting a statement that writes inside an explicit transaction makes SQLite roll the
      // whole transaction back, like some I/O and out-of-memory errors do.
      sqlite3_progress_handler(db.raw(), 1, [](void* flag) -> int {
        return static_cast<std::atomic<bool>*>(flag)->exchange(true) ? 0 : 1;
      }, &fired);
    }
  };
  auto opened = sqlite::OpenSqliteStoreWithHooks({.path = folder.file("rounds.db")}, hooks);
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "aborter");
  SpaceId space = AddSpace(store, "Abort", u);
  const StoreMetrics before = store.Metrics();
  std::vector<Result<Message>> results;
  {
    WriterGate gate(store);
    ConcurrentPosts posts(store, space, u, 6);
    ASSERT_TRUE(WaitForQueued(store, 6));
    armed = true;
    gate.Release();
    results = posts.Join();
  }
  EXPECT_TRUE(fired);
  EXPECT_EQ(CountOk(results), 2u);  // units 0-3 were in the aborted transaction; 4 and 5 ran again
  for (const auto& r : results) {
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << Describe(r);
    }
  }
  const StoreMetrics after = store.Metrics();
  EXPECT_EQ(after.write_batches - before.write_batches, 3u);  // gate, aborted, the rest
  EXPECT_EQ(after.failed_units - before.failed_units, 4u);
  ExpectSeqs(store, space, 2);
  auto next = Post(store, space, u, "afterwards");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 3);
  store.Close();
}

TEST(SqliteStore, AWriteFromInsideAWriteIsRefusedInsteadOfDeadlocking) {
  Folder folder;
  auto opened = OpenIn(folder.path());
  ASSERT_TRUE(opened);
  Store& store = **opened;
  Status inner_status;
  Status outer = store.RunWrite([&](WriteTx& tx) -> Status {
    inner_status = store.RunWrite([](WriteTx&) { return Ok(); });
    return tx.InsertDepartment({0, "Outer", std::nullopt}).map([](DepartmentId) {});
  });
  EXPECT_TRUE(outer) << Describe(outer);
  ASSERT_FALSE(inner_status);
  EXPECT_EQ(inner_status.error().code, ErrorCode::kInternal);
  // Reading from inside a write works (it sees the last commit, not the unit's own changes).
  auto read_inside = store.Write([&](WriteTx& tx) -> Result<std::size_t> {
    ROUNDS_RETURN_IF_ERROR(tx.InsertDepartment({0, "Inner", std::nullopt}).map([](DepartmentId) {}));
    return store.Read([](ReadTx& r) { return r.ListDepartments(); }).map([](auto v) { return v.size(); });
  });
  ASSERT_TRUE(read_inside);
  EXPECT_EQ(*read_inside, 1u);
  store.Close();
}

TEST(SqliteStore, CloseFromInsideAUnitLetsTheBatchFinish) {
  Folder folder;
  auto opened = OpenIn(folder.path());
  ASSERT_TRUE(opened);
  Store& store = **opened;
  Status closed_inside = store.RunWrite([&](WriteTx& tx) -> Status {
    store.Close();
    return tx.InsertDepartment({0, "Last one", std::nullopt}).map([](DepartmentId) {});
  });
  EXPECT_TRUE(closed_inside) << Describe(closed_inside);
  auto refused = store.Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Too late", std::nullopt}); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  store.Close();
  auto departments = store.Read([](ReadTx& tx) { return tx.ListDepartments(); });
  ASSERT_TRUE(departments);
  EXPECT_EQ(departments->size(), 1u);
}

TEST(SqliteStore, AuditRecordsCannotBeChangedOrRemovedWithSql) {
  Folder folder;
  {
    auto opened = OpenIn(folder.path());
    ASSERT_TRUE(opened);
    AuditRecord record;
    record.seq = 1;
    record.action = "auth.login";
    record.prev_hash = std::string(64, '0');
    record.hash = "h1";
    ASSERT_TRUE((*opened)->Write([&](WriteTx& tx) { return tx.InsertAudit(record); }));
    (*opened)->Close();
  }
  RawDb db(folder.file("rounds.db"));
  EXPECT_NE(db.Exec("UPDATE audit_log SET outcome = 'denied' WHERE seq = 1"), SQLITE_OK);
  EXPECT_NE(db.Exec("DELETE FROM audit_log"), SQLITE_OK);
  EXPECT_NE(db.Exec("INSERT INTO audit_log (seq, time, actor_id, actor_role, action, object_type, object_id, "
                    "patient_ref, outcome, address, session_hash, reason, details, prev_hash, hash) "
                    "VALUES (2, 0, 0, '', '', '', '', '', 'maybe', '', '', '', '', '', '')"),
            SQLITE_OK);
  EXPECT_EQ(db.Text("SELECT outcome || ':' || count(*) FROM audit_log"), "success:1");
}

// The writer keeps the audit chain head in memory; a record another connection to the same file
// appends (the CLI while the server runs) must not fork the chain.
TEST(SqliteStore, AuditHeadSeesRecordsAppendedByAnotherStoreOnTheSameFile) {
  Folder folder;
  auto first = OpenIn(folder.path());
  auto second = OpenIn(folder.path());
  ASSERT_TRUE(first && second);
  auto append = [](Store& store) {
    return store.RunWrite([](WriteTx& tx) -> Status {
      ROUNDS_ASSIGN_OR_RETURN(AuditChainHead head, tx.AuditHead());
      AuditRecord record;
      record.seq = head.seq + 1;
      record.action = "auth.login";
      record.prev_hash = head.seq == 0 ? std::string(64, '0') : head.hash;
      record.hash = "h" + std::to_string(record.seq);
      return tx.InsertAudit(record);
    });
  };
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(append(**first)) << round;
    ASSERT_TRUE(append(**second)) << round;
    ASSERT_TRUE(append(**second)) << round;
  }
  ASSERT_TRUE(append(**first));
  (*first)->Close();
  (*second)->Close();
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Text("SELECT count(*) || ':' || max(seq) FROM audit_log"), "10:10");
  EXPECT_EQ(db.Text("SELECT count(*) FROM audit_log a JOIN audit_log b ON b.seq = a.seq + 1 "
                    "WHERE b.prev_hash <> a.hash"),
            "0");
}

// The writer fills in the audit search indexes in batches; a search must find exactly what a full
// scan finds whether a record is indexed yet or still in the tail.
TEST(SqliteStore, AuditSearchAgreesWithAFullScanWhileTheIndexesTrailTheLog) {
  Folder folder;
  auto opened = OpenSqliteStore({.path = folder.file("rounds.db"), .read_connections = 2, .audit_index_batch = 7,
                                 .audit_index_interval = std::chrono::hours(1)});
  ASSERT_TRUE(opened);
  Store& store = **opened;
  std::vector<AuditRecord> all;
  for (std::int64_t seq = 1; seq <= 300; ++seq) {
    AuditRecord r;
    r.seq = seq;
    r.time = 1000 + seq * 10;
    r.actor_id = 1 + (seq * 7) % 5;
    r.actor_role = "staff";
    r.action = seq % 3 == 0 ? "auth.login" : "message.read";
    r.object_type = seq % 4 == 0 ? "space" : "message";
    r.object_id = std::to_string(1 + (seq * 13) % 4);
    r.outcome = seq % 5 == 0 ? AuditOutcome::kDenied : AuditOutcome::kSuccess;
    // None, one patient, or two: b alone, first and last of a pair (b's key is negative: its
    // first hex digit is f).
    const char* patients[] = {"", "Patient/mrn-00000000000000aa", "Patient/mrn-00000000000000aa Patient/mrn-f0000000000000bb", "Patient/mrn-f0000000000000bb",
                              "Patient/mrn-f0000000000000bb Patient/mrn-00000000000000cc"};
    r.patient_ref = patients[(seq * 11) % 5];
    r.prev_hash = all.empty() ? std::string(64, '0') : all.back().hash;
    r.hash = "h" + std::to_string(seq);
    ASSERT_TRUE(store.Write([&](WriteTx& tx) { return tx.InsertAudit(r); }));
    all.push_back(r);
  }
  {
    RawDb db(folder.file("rounds.db"));
    EXPECT_EQ(db.Text("SELECT indexed_seq FROM audit_index_state"), "294");  // 42 batches of 7; 6 wait
    EXPECT_EQ(db.Text("SELECT count(*) FROM audit_index_actor"), "294");
    // One entry for each reference of each indexed record.
    EXPECT_EQ(db.Text("SELECT count(*) FROM audit_index_patient"),
              db.Text("SELECT sum(CASE WHEN patient_ref = '' THEN 0 WHEN instr(patient_ref, ' ') > 0 THEN 2 ELSE 1 END) "
                      "FROM audit_log WHERE seq <= 294"));
  }
  {
    auto mismatch = store.Read([](ReadTx& tx) { return tx.FirstAuditIndexMismatch(); });
    ASSERT_TRUE(mismatch) << Describe(mismatch);
    EXPECT_EQ(*mismatch, std::nullopt);
  }
  EXPECT_GE(store.Metrics().audit_index_runs, 42u) << "every pass is counted";
  EXPECT_GT(store.Metrics().audit_index_micros_sum, 0);
  auto brute = [&](const AuditQuery& q) {
    std::vector<std::int64_t> out;
    for (const auto& r : all) {
      if (q.actor_id && r.actor_id != *q.actor_id) continue;
      if (!q.action_prefix.empty() && r.action.rfind(q.action_prefix, 0) != 0) continue;
      if (!q.object_type.empty() && r.object_type != q.object_type) continue;
      if (!q.object_id.empty() && r.object_id != q.object_id) continue;
      if (q.outcome && r.outcome != *q.outcome) continue;
      if (q.from && r.time < *q.from) continue;
      if (q.to && r.time >= *q.to) continue;
      if (!q.patient_ref.empty() && (" " + r.patient_ref + " ").find(" " + q.patient_ref + " ") == std::string::npos) {
        continue;
      }
      if (q.after_seq && r.seq <= *q.after_seq) continue;
      if (!q.after_seq && q.before_seq && r.seq >= *q.before_seq) continue;
      out.push_back(r.seq);
    }
    if (!q.after_seq) std::reverse(out.begin(), out.end());
    if (out.size() > static_cast<std::size_t>(q.limit)) out.resize(static_cast<std::size_t>(q.limit));
    return out;
  };
  int checked = 0;
  for (int actor = 0; actor <= 5; ++actor) {
    for (int object = 0; object < 4; ++object) {
      for (int bound = 0; bound < 6; ++bound) {
        for (int limit : {1, 4, 50}) {
          for (int variant = 0; variant < 3; ++variant) {
           for (int patient = 0; patient < 3; ++patient) {
            AuditQuery q;
            if (patient == 1) q.patient_ref = "Patient/mrn-f0000000000000bb";
            if (patient == 2) q.patient_ref = "Patient/mrn-00000000000000aa";
            if (actor > 0) q.actor_id = actor;
            if (object == 1) q.object_type = "space", q.object_id = "2";
            if (object == 2) q.object_type = "message", q.object_id = "3";
            if (object == 3) q.object_type = "message";
            if (bound == 1) q.before_seq = 150;
            if (bound == 2) q.before_seq = 298;
            if (bound == 3) q.after_seq = 0;
            if (bound == 4) q.after_seq = 150;
            if (bound == 5) q.after_seq = 292;
            if (variant == 1) q.action_prefix = "auth.", q.outcome = AuditOutcome::kSuccess;
            if (variant == 2) q.from = 1500, q.to = 2995;
            q.limit = limit;
            auto found = store.Read([&](ReadTx& tx) { return tx.SearchAudit(q); });
            ASSERT_TRUE(found) << Describe(found);
            std::vector<std::int64_t> seqs;
            for (const auto& r : *found) seqs.push_back(r.seq);
            ASSERT_EQ(seqs, brute(q)) << "actor " << actor << " object " << object << " bound " << bound
                                      << " limit " << limit << " variant " << variant << " patient " << patient;
            ++checked;
           }
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 6 * 4 * 6 * 3 * 3 * 3);
  // On close the writer indexes the rest.
  store.Close();
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Text("SELECT indexed_seq FROM audit_index_state"), "300");
  EXPECT_EQ(db.Text("SELECT count(*) FROM audit_index_object"), "300");
}

// What moves a space's change stamp (ChangeStamps): everything a reader of the space's pages would
// see differently, nothing else, and everything at once for an account or a commit made elsewhere.
TEST(SqliteStore, ChangeStampsMoveWithEveryCommitThatCouldChangeAReadOfASpace) {
  Folder folder;
  std::string before_commit_sql;  // run by the writer before the next COMMIT, then cleared
  sqlite::WriterHooks hooks;
  hooks.before_commit = [&](sqlite::Connection& writer) {
    if (before_commit_sql.empty()) return;
    EXPECT_TRUE(writer.Exec(before_commit_sql)) << before_commit_sql;
    before_commit_sql.clear();
  };
  auto opened = sqlite::OpenSqliteStoreWithHooks({.path = folder.file("rounds.db")}, hooks);
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  const UserId ana = AddUser(store, "ana");
  const UserId ben = AddUser(store, "ben");
  const SpaceId a = AddSpace(store, "A", ana);
  const SpaceId b = AddSpace(store, "B", ana);
  auto stamp = [&](SpaceId space) {
    std::optional<ChangeStamp> now = store.Stamp(space);
    EXPECT_TRUE(now) << "the SQLite store always gives stamps";
    return now.value_or(ChangeStamp{});
  };
  // Which stamps a step moved: "A", "B", "everything", joined by spaces.
  auto moved_by = [&](const std::function<void()>& step) {
    const ChangeStamp sa = stamp(a), sb = stamp(b);
    step();
    std::string moved;
    if (stamp(a).space != sa.space) moved += "A ";
    if (stamp(b).space != sb.space) moved += "B ";
    if (stamp(a).everything != sa.everything) moved += "everything ";
    if (!moved.empty()) moved.pop_back();
    return moved;
  };
  auto write = [&](auto unit) { ASSERT_TRUE(store.RunWrite(unit)); };

  std::optional<Message> posted;
  EXPECT_EQ(moved_by([&] {
              auto message = Post(store, a, ana, "hello");
              if (message) posted = *message;
            }),
            "A")
      << "a post moves its space";
  ASSERT_TRUE(posted);
  EXPECT_EQ(moved_by([&] {
              write([&](WriteTx& tx) { return tx.SetReaction(posted->id, ben, "+1", true).map([](bool) {}); });
            }),
            "A")
      << "a reaction reaches its space through the page triggers";
  EXPECT_EQ(moved_by([&] { ASSERT_TRUE(storetest::Join(store, a, ben)); }), "A")
      << "a membership (a table without rowids) moves its space";
  EXPECT_EQ(moved_by([&] { write([&](WriteTx& tx) { return tx.SetReadSeq(a, ana, 1); }); }), "A")
      << "a read marker is a membership's";
  EXPECT_EQ(moved_by([&] { write([&](WriteTx& tx) { return tx.DeleteMembership(a, ben); }); }), "A");
  EXPECT_EQ(moved_by([&] {
              write([&](WriteTx& tx) { return tx.SetSuspension({b, ben, 0, 1}); });
            }),
            "B");
  EXPECT_EQ(moved_by([&] {
              write([&](WriteTx& tx) -> Status {
                AuditRecord record;
                record.seq = 1;
                record.action = "auth.login";
                record.prev_hash = std::string(64, '0');
                record.hash = "h1";
                ROUNDS_RETURN_IF_ERROR(tx.InsertAudit(record));
                Session session;
                session.user_id = ben;
                session.token_hash = "t";
                session.created_at = session.last_seen_at = storetest::kNow;
                session.expires_at = storetest::kNow + 1000;
                ROUNDS_ASSIGN_OR_RETURN(SessionId id, tx.InsertSession(session));
                return tx.TouchSession(id, storetest::kNow + 1);
              });
            }),
            "")
      << "audit records and sessions change no one's access to a space";
  EXPECT_EQ(moved_by([&] {
              write([&](WriteTx& tx) -> Status {
                ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(ben));
                if (!user) return NotFound("User");
                user->disabled = true;
                return tx.UpdateUser(*user);
              });
            }),
            "everything")
      << "an account";
  EXPECT_EQ(moved_by([&] { write([&](WriteTx& tx) { return tx.SetSpaceTemplate(a, "announcements", 1); }); }), "A")
      << "a space's template is on its row";

  // Deleting every row at once (SQLite's truncation, which skips the update hook) is seen too.
  EXPECT_EQ(moved_by([&] {
              before_commit_sql = "DELETE FROM space_suspensions";
              ASSERT_TRUE(Post(store, a, ana, "carries the delete"));
            }),
            "A B")
      << "the post's A and the suspension's B";
  write([&](WriteTx& tx) { return tx.InsertDepartment({0, "Cardiology", std::nullopt}).map([](DepartmentId) {}); });
  EXPECT_EQ(moved_by([&] {
              before_commit_sql = "DELETE FROM departments";
              write([](WriteTx&) { return Ok(); });
            }),
            "everything");

  // Another process's commit: seen when this store's writer next runs, as everything.
  {
    RawDb other(folder.file("rounds.db"));
    const ChangeStamp before = stamp(a);
    ASSERT_EQ(other.Exec("UPDATE memberships SET role = 'read_only' WHERE space_id = 2"), SQLITE_OK) << other.Error();
    EXPECT_EQ(stamp(a), before) << "nothing in this process has seen it yet";
    EXPECT_EQ(moved_by([&] { ASSERT_TRUE(Post(store, b, ana, "the writer runs")); }), "B everything");
  }
  store.Close();
}

TEST(SqliteStore, InMemoryPathIsAWorkingPrivateStore) {
  auto opened = OpenSqliteStore({.path = ":memory:", .read_connections = 2});
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "memory");
  ASSERT_NE(u, 0);
  auto found = store.Read([](ReadTx& tx) { return tx.FindUserByUsername("memory"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, u);
  store.Close();
}

TEST(SqliteStore, BackupIsAnIntactPlainDatabaseFile) {
  Folder folder;
  auto opened = OpenIn(folder.path());
  ASSERT_TRUE(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "copier");
  SpaceId space = AddSpace(store, "Copy", u);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Post(store, space, u, "copied text " + std::to_string(i)));
  auto edited = Post(store, space, u, "old words");
  ASSERT_TRUE(edited);
  ASSERT_TRUE(store.Write([&](WriteTx& tx) { return tx.UpdateMessageBody(edited->id, "", "new words", 1, u); }));

  auto refused = store.Backup(folder.file("rounds.db"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);

  Folder target;
  ASSERT_TRUE(store.Backup(target.file("copy.db")));
  EXPECT_FALSE(std::filesystem::exists(target.file("copy.db.partial")));
  {
    RawDb copy(target.file("copy.db"));
    EXPECT_EQ(copy.Text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(copy.Text("PRAGMA journal_mode"), "delete");
    EXPECT_EQ(copy.Text("SELECT count(*) FROM messages"), "21");
    // The search index agrees with the messages it indexes.
    EXPECT_EQ(copy.Exec("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)"), SQLITE_OK)
        << copy.Error();
    EXPECT_EQ(copy.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'old'"), "0");
    EXPECT_EQ(copy.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'new'"), "1");
  }
  // A second backup replaces the first.
  ASSERT_TRUE(Post(store, space, u, "later"));
  ASSERT_TRUE(store.Backup(target.file("copy.db")));
  RawDb copy(target.file("copy.db"));
  EXPECT_EQ(copy.Text("SELECT count(*) FROM messages"), "22");
  store.Close();
}

TEST(SqliteStore, LiveSearchIndexStaysConsistentThroughEditsAndDeletes) {
  Folder folder;
  auto opened = OpenIn(folder.path());
  ASSERT_TRUE(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "indexer");
  SpaceId space = AddSpace(store, "Index", u);
  std::vector<MessageId> ids;
  for (int i = 0; i < 30; ++i) {
    auto m = Post(store, space, u, storetest::Draft{.body = "body " + std::to_string(i), .title = "title " + std::to_string(i)});
    ASSERT_TRUE(m);
    ids.push_back(m->id);
  }
  for (int i = 0; i < 30; i += 3) {
    ASSERT_TRUE(store.Write([&](WriteTx& tx) { return tx.UpdateMessageBody(ids[i], "retitled", "rewritten", 2, u); }));
  }
  for (int i = 1; i < 30; i += 3) ASSERT_TRUE(store.Write([&](WriteTx& tx) { return tx.DeleteMessage(ids[i], 3); }));
  store.Close();
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Exec("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)"), SQLITE_OK)
      << db.Error();
  EXPECT_EQ(db.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'rewritten'"), "10");
  EXPECT_EQ(db.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'body'"), "10");
}

// The search index is brought up to date once per batch, from the changes its units queued: a
// unit that fails takes its changes back, and the rest land in order, edits within a unit too.
TEST(SqliteStore, SearchIndexFollowsEveryUnitOfABatchAndNoneThatFailed) {
  Folder folder;
  auto opened = OpenIn(folder.path());
  ASSERT_TRUE(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "batchindexer");
  SpaceId space = AddSpace(store, "BatchIndex", u);
  auto old = Post(store, space, u, "old words");
  auto doomed = Post(store, space, u, "doomed text");
  ASSERT_TRUE(old && doomed);
  std::vector<std::future<Status>> units;
  {
    WriterGate gate(store);
    auto post = [&](std::string body) {
      return [&store, space, u, body]() -> Status {
        return store.RunWrite([&](WriteTx& tx) -> Status {
          return storetest::PostIn(tx, storetest::NewMessage(space, u, storetest::Draft{.body = body})).map([](auto&&) {});
        });
      };
    };
    units.push_back(std::async(std::launch::async, post("alpha one")));
    units.push_back(std::async(std::launch::async, [&]() -> Status {
      return store.RunWrite([&](WriteTx& tx) -> Status {
        ROUNDS_ASSIGN_OR_RETURN(Message m, storetest::PostIn(tx, storetest::NewMessage(space, u, storetest::Draft{.body = "beta"})));
        return tx.UpdateMessageBody(m.id, "", "gamma", 2, u);
      });
    }));
    units.push_back(std::async(std::launch::async, [&]() -> Status {
      return store.RunWrite([&](WriteTx& tx) -> Status {
        ROUNDS_RETURN_IF_ERROR(storetest::PostIn(tx, storetest::NewMessage(space, u, storetest::Draft{.body = "delta"})).map([](auto&&) {}));
        return Fail(ErrorCode::kForbidden, "no", "No.");
      });
    }));
    units.push_back(std::async(std::launch::async, [&]() -> Status {
      return store.RunWrite([&](WriteTx& tx) { return tx.UpdateMessageBody(old->id, "", "new words", 2, u); });
    }));
    units.push_back(std::async(std::launch::async, [&]() -> Status {
      return store.RunWrite([&](WriteTx& tx) { return tx.DeleteMessage(doomed->id, 3); });
    }));
    ASSERT_TRUE(WaitForQueued(store, 5));
  }
  std::vector<bool> ok;
  for (auto& unit : units) ok.push_back(unit.get().has_value());
  EXPECT_EQ(ok, (std::vector<bool>{true, true, false, true, true}));
  auto count = [&](const std::string& word) { return storetest::Search(store, word, {space}).size(); };
  EXPECT_EQ(count("alpha"), 1u);
  EXPECT_EQ(count("beta"), 0u);
  EXPECT_EQ(count("gamma"), 1u);
  EXPECT_EQ(count("delta"), 0u);
  EXPECT_EQ(count("old"), 0u);
  EXPECT_EQ(count("new"), 1u);
  EXPECT_EQ(count("doomed"), 0u);
  store.Close();
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Exec("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)"), SQLITE_OK)
      << db.Error();
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "0");
}

// A store whose writer applies queued search changes `batch` at a time or `interval` after the
// first of them.
Result<std::unique_ptr<Store>> OpenWithSearchBatches(const std::string& file, int batch,
                                                     std::chrono::milliseconds interval) {
  return OpenSqliteStore({.path = file, .read_connections = 2, .search_index_batch = batch,
                          .search_index_interval = interval});
}

// The writer applies the changes queued for the search index in batches of its own, not in every
// group commit: FTS5 writes a segment each time. A search catches up first, so it still finds
// every message committed before it.
TEST(SqliteStore, SearchChangesWaitForABatchOfThemAndASearchCatchesUpFirst) {
  Folder folder;
  auto opened = OpenWithSearchBatches(folder.file("rounds.db"), 1000, std::chrono::hours(1));
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "deferred");
  SpaceId space = AddSpace(store, "Deferred", u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Post(store, space, u, "queued words " + std::to_string(i)));
  RawDb db(folder.file("rounds.db"));
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "3");
  EXPECT_EQ(db.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'queued'"), "0");
  EXPECT_EQ(store.Metrics().search_index_runs, 0u);

  EXPECT_EQ(storetest::Search(store, "queued", {space}).size(), 3u);
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "0");
  EXPECT_EQ(db.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'queued'"), "3");
  EXPECT_EQ(store.Metrics().search_index_runs, 1u);
  EXPECT_EQ(store.Metrics().search_index_rows, 3u);
  // Nothing queued: a search does not write.
  const auto batches = store.Metrics().write_batches;
  EXPECT_EQ(storetest::Search(store, "words", {space}).size(), 3u);
  EXPECT_EQ(store.Metrics().write_batches, batches);

  // An edit and a deletion wait too, and the search sees the text as committed, not as indexed.
  auto edited = Post(store, space, u, "first draft");
  auto removed = Post(store, space, u, "removed later");
  ASSERT_TRUE(edited && removed);
  ASSERT_TRUE(store.Write([&](WriteTx& tx) { return tx.UpdateMessageBody(edited->id, "", "final text", 1, u); }));
  ASSERT_TRUE(store.Write([&](WriteTx& tx) { return tx.DeleteMessage(removed->id, 2); }));
  EXPECT_NE(db.Text("SELECT count(*) FROM search_pending"), "0");
  EXPECT_TRUE(storetest::Search(store, "draft", {space}).empty());
  EXPECT_EQ(storetest::Search(store, "final", {space}).size(), 1u);
  EXPECT_TRUE(storetest::Search(store, "removed", {space}).empty());

  // Closing applies what still waits.
  ASSERT_TRUE(Post(store, space, u, "last words"));
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "1");
  store.Close();
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "0");
  EXPECT_EQ(db.Exec("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)"), SQLITE_OK)
      << db.Error();
  EXPECT_EQ(db.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'last'"), "1");
}

TEST(SqliteStore, SearchChangesAreAppliedInTheBatchWhereEnoughWait) {
  Folder folder;
  auto opened = OpenWithSearchBatches(folder.file("rounds.db"), 5, std::chrono::hours(1));
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "fiver");
  SpaceId space = AddSpace(store, "Fives", u);
  RawDb db(folder.file("rounds.db"));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Post(store, space, u, "counted " + std::to_string(i)));
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "4");
  ASSERT_TRUE(Post(store, space, u, "counted 4"));
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "0");
  EXPECT_EQ(db.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'counted'"), "5");
  EXPECT_EQ(store.Metrics().search_index_runs, 1u);
  store.Close();
}

TEST(SqliteStore, SearchChangesAreAppliedAnIntervalAfterTheFirstWithoutAnotherWrite) {
  Folder folder;
  auto opened = OpenWithSearchBatches(folder.file("rounds.db"), 1000, std::chrono::milliseconds(50));
  ASSERT_TRUE(opened) << Describe(opened);
  Store& store = **opened;
  UserId u = AddUser(store, "patient");
  SpaceId space = AddSpace(store, "Later", u);
  ASSERT_TRUE(Post(store, space, u, "eventually indexed"));
  RawDb db(folder.file("rounds.db"));
  std::string waiting = db.Text("SELECT count(*) FROM search_pending");
  for (int i = 0; i < 500 && waiting != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    waiting = db.Text("SELECT count(*) FROM search_pending");
  }
  EXPECT_EQ(waiting, "0");
  EXPECT_EQ(db.Text("SELECT count(*) FROM message_search WHERE message_search MATCH 'eventually'"), "1");
  store.Close();
}

// Changes queued by another writer of the file (the CLI, or a run that was killed before it
// applied its queue) are found by the next search and applied by the next writer.
TEST(SqliteStore, SearchFindsChangesAnotherWriterQueued) {
  Folder folder;
  UserId u = 0;
  SpaceId space = 0;
  {
    auto first = OpenIn(folder.path());
    ASSERT_TRUE(first) << Describe(first);
    u = AddUser(**first, "elsewhere");
    space = AddSpace(**first, "Elsewhere", u);
    ASSERT_TRUE(Post(**first, space, u, "before"));
    (*first)->Close();
  }
  RawDb db(folder.file("rounds.db"));
  ASSERT_EQ(db.Exec(("INSERT INTO messages (space_id, seq, author_id, kind, body, created_at) VALUES (" +
                     std::to_string(space) + ", 100, " + std::to_string(u) + ", 'message', 'outside words', 0)")
                        .c_str()),
            SQLITE_OK)
      << db.Error();
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "1");
  auto second = OpenWithSearchBatches(folder.file("rounds.db"), 1000, std::chrono::hours(1));
  ASSERT_TRUE(second) << Describe(second);
  EXPECT_EQ(storetest::Search(**second, "outside", {space}).size(), 1u);
  EXPECT_EQ(db.Text("SELECT count(*) FROM search_pending"), "0");
  (*second)->Close();
}

TEST(SqliteStore, MetricsHaveHistogramsFromTheStart) {
  Folder folder;
  auto opened = OpenIn(folder.path());
  ASSERT_TRUE(opened);
  Store& store = **opened;
  StoreMetrics empty = store.Metrics();
  EXPECT_EQ(empty.write_batches, 0u);
  EXPECT_FALSE(empty.batch_size_buckets.empty());
  EXPECT_FALSE(empty.commit_micros_buckets.empty());
  for (int i = 0; i < 5; ++i) AddUser(store, "metric" + std::to_string(i));
  StoreMetrics m = store.Metrics();
  EXPECT_EQ(m.write_units, 5u);
  EXPECT_EQ(m.write_batches, 5u);
  EXPECT_GT(m.commit_micros_sum, 0);
  std::uint64_t previous = 0;
  for (const auto& [bound, count] : m.batch_size_buckets) {
    EXPECT_GE(count, previous);  // cumulative, like Prometheus buckets
    EXPECT_LE(count, m.write_batches);
    previous = count;
  }
  EXPECT_EQ(m.batch_size_buckets.front().second, 5u);  // every batch had one unit
  EXPECT_EQ(m.batch_size_buckets.back().second, 5u);
  store.Close();
}

}  // namespace

namespace storetest {
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreBackend{"sqlite", OpenIn, true, "rounds.db"}),
                         [](const auto& info) { return info.param.name; });
}  // namespace storetest
}  // namespace rounds::store
