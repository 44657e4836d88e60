// Tests of the VFS that writes each transaction's WAL frames in one call: the writes it saves,
// transactions larger than its buffer, frames rewritten inside a transaction, commits that other
// connections must see without a sync, a process killed while it commits, and the database
// file's write-back in slices.
#include "store/sqlite/coalescing_vfs.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rounds::store::sqlite {
namespace {

class Db {
 public:
  // Opens `path` through the coalescing VFS, or through the default one when `vfs` is null.
  Db(const std::string& path, const char* vfs) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void Exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
  }
  int WriteBackInSlices() { return sqlite3_file_control(db_, "main", kWriteBackInSlices, nullptr); }
  sqlite3* raw() { return db_; }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class CoalescingVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RegisterCoalescingVfs(), SQLITE_OK);
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("rounds-vfs-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "test.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(CoalescingVfsTest, WritesEachTransactionsFramesInOneCall) {
  Db db(path_, kCoalescingVfsName);
  db.Exec("PRAGMA journal_mode=WAL");
  db.Exec("PRAGMA synchronous=FULL");
  db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)");
  db.Exec("CREATE INDEX t_body ON t (body)");
  db.Exec("INSERT INTO t (body) VALUES ('warm-up')");  // the log's header is written with its own sync
  const CoalescingVfsCounters before = CoalescingVfsCountersNow();
  // Rows spread over several pages of the table and the index: several frames, one commit.
  db.Exec(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) "
      "INSERT INTO t (body) SELECT printf('%.*c', 200, char(65 + i % 26)) || i FROM n");
  const CoalescingVfsCounters after = CoalescingVfsCountersNow();
  const std::uint64_t requested = after.wal_writes_requested - before.wal_writes_requested;
  EXPECT_GE(requested, 6u) << "a header and a page per frame, for at least three pages";
  EXPECT_EQ(after.wal_writes_issued - before.wal_writes_issued, 1u);
  EXPECT_EQ(db.Text("SELECT count(*) FROM t"), "41");
}

TEST_F(CoalescingVfsTest, TransactionsLargerThanTheBufferWithRewrittenFramesStayWhole) {
  {
    Db db(path_, kCoalescingVfsName);
    db.Exec("PRAGMA journal_mode=WAL");
    db.Exec("PRAGMA synchronous=FULL");
    // A tiny page cache spills pages to the log mid-transaction, and pages changed again are
    // rewritten in place and read back: the cases that must not be served from a stale file.
    db.Exec("PRAGMA cache_size=8");
    db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)");
    db.Exec("BEGIN");
    // About 4 MB: many buffers' worth, including remainders that are multiples of 128 KiB.
    db.Exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
        "INSERT INTO t (body) SELECT randomblob(200) FROM n");
    db.Exec("UPDATE t SET body = zeroblob(150) WHERE id % 3 = 0");
    db.Exec("COMMIT");
    EXPECT_EQ(db.Text("SELECT count(*) FROM t WHERE body = zeroblob(150)"), "6666");
  }
  Db reader(path_, nullptr);  // the default VFS reads what was written
  EXPECT_EQ(reader.Text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reader.Text("SELECT count(*) FROM t"), "20000");
  EXPECT_EQ(reader.Text("SELECT count(*) FROM t WHERE length(body) = 150"), "6666");
}

TEST_F(CoalescingVfsTest, PagesSpilledAndReadBackInOneTransactionKeepEveryChange) {
  // With a cache of four pages, a transaction that keeps changing rows spread over many pages
  // spills pages to the log, reads them back while their frames may still be in the buffer, and
  // rewrites their frames in place.
  constexpr int kRows = 600;  // about 150 pages of 4 KiB
  std::vector<int> expected(kRows + 1, 0);
  {
    Db db(path_, kCoalescingVfsName);
    db.Exec("PRAGMA journal_mode=WAL");
    db.Exec("PRAGMA synchronous=FULL");
    db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, version INTEGER, pad BLOB)");
    db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(kRows) +
            ") INSERT INTO t SELECT i, 0, zeroblob(900) FROM n");
    db.Exec("PRAGMA cache_size=4");
    db.Exec("BEGIN");
    std::uint64_t state = 12345;
    for (int k = 1; k <= 3000; ++k) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      // Mostly a few nearby pages, so that a page comes back soon after it was spilled.
      const int id = 1 + static_cast<int>((state >> 33) % (k % 4 == 0 ? kRows : 24));
      db.Exec("UPDATE t SET version = " + std::to_string(k) + " WHERE id = " + std::to_string(id));
      expected[static_cast<std::size_t>(id)] = k;
    }
    db.Exec("COMMIT");
  }
  Db reader(path_, nullptr);
  ASSERT_EQ(reader.Text("PRAGMA integrity_check"), "ok");
  std::string mismatches;
  for (int id = 1; id <= kRows; ++id) {
    const std::string got = reader.Text("SELECT version FROM t WHERE id = " + std::to_string(id));
    if (got != std::to_string(expected[static_cast<std::size_t>(id)])) {
      mismatches += " " + std::to_string(id) + ":" + got;
    }
  }
  EXPECT_EQ(mismatches, "");
}

TEST_F(CoalescingVfsTest, ACommitReachesTheFileWithoutASync) {
  // synchronous=OFF never syncs the log: only the commit frame tells the VFS to write. A reader
  // that saw the commit in the shared index but not its frames in the file would fail here.
  Db writer(path_, kCoalescingVfsName);
  writer.Exec("PRAGMA journal_mode=WAL");
  writer.Exec("PRAGMA synchronous=OFF");
  writer.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)");
  Db reader(path_, nullptr);
  for (int i = 1; i <= 200; ++i) {
    writer.Exec("INSERT INTO t (body) VALUES (printf('%.*c', 300, 'x') || " + std::to_string(i) + ")");
    ASSERT_EQ(reader.Text("SELECT count(*) FROM t"), std::to_string(i));
    ASSERT_EQ(reader.Text("SELECT substr(body, 301) FROM t WHERE id = " + std::to_string(i)), std::to_string(i));
  }
  EXPECT_EQ(reader.Text("PRAGMA integrity_check"), "ok");
}

// A writer process killed at random moments, five times: every transaction it saw commit is whole
// in the database afterwards, and none is torn. `prepare` runs on every connection as it opens.
void KillWritersAndCheck(const std::string& path, void (*prepare)(sqlite3*)) {
  {
    Db db(path, kCoalescingVfsName);
    prepare(db.raw());
    db.Exec("PRAGMA journal_mode=WAL");
    db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)");
  }
  std::set<long> committed;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      sqlite3* db = nullptr;
      if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, kCoalescingVfsName) != SQLITE_OK) _exit(3);
      prepare(db);
      sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
      for (long i = 0;; ++i) {
        const long id = round * 1000000L + i;
        // Several rows per transaction, so that a kill can land between a commit's frames.
        const std::string sql = "BEGIN; INSERT INTO t VALUES (" + std::to_string(id) +
                                ", printf('%.*c', 3000, 'k')); INSERT INTO t VALUES (" +
                                std::to_string(-id - 1) + ", printf('%.*c', 3000, 'k')); COMMIT";
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(4);
        // Reported only once COMMIT returned: what the store would acknowledge.
        if (write(fds[1], &id, sizeof id) != sizeof id) _exit(5);
      }
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + 37 * round));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped on its own with status " << WEXITSTATUS(status);
    long id = 0;
    while (read(fds[0], &id, sizeof id) == sizeof id) committed.insert(id);
    close(fds[0]);

    Db check(path, kCoalescingVfsName);
    prepare(check.raw());
    ASSERT_EQ(check.Text("PRAGMA integrity_check"), "ok") << "round " << round;
    for (long acknowledged : committed) {
      ASSERT_EQ(check.Text("SELECT count(*) FROM t WHERE id IN (" + std::to_string(acknowledged) + ", " +
                           std::to_string(-acknowledged - 1) + ")"),
                "2")
          << "acknowledged transaction " << acknowledged << " lost or torn in round " << round;
    }
    // Every transaction is whole: no row without its partner.
    EXPECT_EQ(check.Text("SELECT count(*) FROM t a WHERE NOT EXISTS (SELECT 1 FROM t b WHERE b.id = -a.id - 1)"), "0");
  }
  EXPECT_GT(committed.size(), 5u) << "the writer committed too little to test anything";
}

TEST_F(CoalescingVfsTest, AKilledWriterLosesNoCommittedTransaction) {
  KillWritersAndCheck(path_, [](sqlite3*) {});
}

// The same with the log's pages encrypted: recovery after the kill checks SQLite's frame checksums
// over the decrypted pages (a version that left the nonce and tag in the pages' reserved bytes,
// where SQLite had zeros when it computed them, lost every transaction here).
TEST_F(CoalescingVfsTest, AKilledWriterOfAnEncryptedDatabaseLosesNoCommittedTransaction) {
  DatabaseKey key{};
  key.fill(7);
  SetDatabaseKey(path_, key);
  KillWritersAndCheck(path_, [](sqlite3* db) {
    int reserve = kEncryptionReserveBytes;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  });
  ForgetDatabaseKey(path_);
}

// The nonces of every sealed page of the database file at `path`.
std::vector<std::string> NoncesIn(const std::string& path) {
  std::vector<std::string> nonces;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return nonces;
  std::vector<unsigned char> page(kEncryptedPageBytes);
  while (std::fread(page.data(), 1, page.size(), file) == page.size()) {
    const auto* nonce = page.data() + kEncryptedPageBytes - kEncryptionReserveBytes;
    const std::string n(reinterpret_cast<const char*>(nonce), 24);
    if (n != std::string(24, '\0')) nonces.push_back(n);
  }
  std::fclose(file);
  return nonces;
}

// A child process after fork() never seals a page with a nonce its parent uses: each draws its
// own randomness (the VFS takes nonces from a pool of random bytes per thread, which fork() copies
// with the thread that forks).
TEST_F(CoalescingVfsTest, AForkedChildNeverSealsWithItsParentsNonces) {
  DatabaseKey key{};
  key.fill(9);
  const std::string child_path = (dir_ / "child.db").string();
  SetDatabaseKey(path_, key);
  SetDatabaseKey(child_path, key);
  auto fill = [](sqlite3* db, char c) {
    int reserve = kEncryptionReserveBytes;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    bool ok = sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)", nullptr, nullptr,
                           nullptr) == SQLITE_OK;
    for (int i = 0; i < 20 && ok; ++i) {
      const std::string sql = std::string("INSERT INTO t (body) VALUES (printf('%.*c', 3000, '") + c + "'))";
      ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    return ok;
  };
  Db parent(path_, kCoalescingVfsName);
  ASSERT_TRUE(fill(parent.raw(), 'p'));  // this thread has drawn randomness and used some of it
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(child_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kCoalescingVfsName) !=
        SQLITE_OK) {
      _exit(3);
    }
    const bool ok = fill(db, 'c');
    sqlite3_close_v2(db);
    _exit(ok ? 0 : 4);
  }
  ASSERT_TRUE(fill(parent.raw(), 'q'));
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child failed with status " << status;
  const std::vector<std::string> mine = NoncesIn(path_);
  const std::vector<std::string> theirs = NoncesIn(child_path);
  ASSERT_GT(mine.size(), 20u);
  ASSERT_GT(theirs.size(), 20u);
  std::set<std::string> all(mine.begin(), mine.end());
  all.insert(theirs.begin(), theirs.end());
  EXPECT_EQ(all.size(), mine.size() + theirs.size()) << "a nonce sealed two pages";
  ForgetDatabaseKey(path_);
  ForgetDatabaseKey(child_path);
}

// The write-back in slices finds the database file's own descriptor, writes the pages a
// checkpoint copied, and leaves the data as it was; it refuses a descriptor that is no longer the
// named file's, and the default VFS does not know it.
TEST_F(CoalescingVfsTest, TheDatabaseFileIsWrittenBackInSlicesOnlyThroughItsOwnDescriptor) {
  {
    Db db(path_, kCoalescingVfsName);
    db.Exec("PRAGMA journal_mode=WAL");
    db.Exec("CREATE TABLE t(v TEXT)");
    for (int i = 0; i < 200; ++i) db.Exec("INSERT INTO t VALUES (printf('%.*c', 3000, 'x'))");
    db.Exec("PRAGMA wal_checkpoint(PASSIVE)");
    EXPECT_EQ(db.WriteBackInSlices(), SQLITE_OK);
    EXPECT_EQ(db.Text("SELECT count(*) FROM t"), "200");
    EXPECT_EQ(db.Text("PRAGMA integrity_check"), "ok");
  }
  {
    Db plain(path_, nullptr);
    EXPECT_EQ(plain.WriteBackInSlices(), SQLITE_NOTFOUND) << "the default VFS has no such control";
  }
  {
    Db db(path_, kCoalescingVfsName);
    EXPECT_EQ(db.Text("SELECT count(*) FROM t"), "200");  // the file is open from here on
    std::filesystem::rename(path_, path_ + ".moved");
    std::filesystem::copy_file(path_ + ".moved", path_);
    EXPECT_EQ(db.WriteBackInSlices(), SQLITE_NOTFOUND) << "the path now names another file";
  }
}

}  // namespace
}  // namespace rounds::store::sqlite
