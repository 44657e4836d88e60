// rounds-ceiling-sqlite: what SQLite in WAL mode with synchronous=FULL (the settings of Rounds'
// store) commits on this disk, with nothing else in the way: one connection, prepared
// statements, rows shaped like a message (~200 bytes of text, four integers, one index).
//
//   rounds-ceiling-sqlite [--dir DIR] [--seconds S] [--synchronous FULL|NORMAL]
//
// Two phases of S seconds each (default 3) on a scratch database in DIR (default ./, removed
// afterwards): 1 row per commit (commits/s: the cost of a durable commit) and 100 rows per commit
// (rows/s: what group commit can reach).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <string>

#include <sqlite3.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "ceiling_util.hpp"

namespace {

using rounds::bench::Latencies;
using rounds::bench::NowSeconds;
using rounds::bench::Round3;

constexpr char kUsage[] =
    "usage: rounds-ceiling-sqlite [--dir DIR] [--seconds S] [--synchronous FULL|NORMAL]\n"
    "  WAL, synchronous=FULL by default; 1 row per commit, then 100 rows per commit,\n"
    "  S seconds (default 3) each, on a scratch database in DIR (default ./).\n";

constexpr char kCreateTable[] =
    "CREATE TABLE message (id INTEGER PRIMARY KEY, space_id INTEGER NOT NULL, author_id INTEGER NOT NULL, "
    "seq INTEGER NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT NULL)";
constexpr char kCreateIndex[] = "CREATE UNIQUE INDEX message_space_seq ON message (space_id, seq)";
constexpr char kInsert[] =
    "INSERT INTO message (space_id, author_id, seq, created_at, body) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr char kBegin[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr int kSpaces = 16;
constexpr int kBodyBytes = 200;

struct PhaseResult {
  double commits_per_second = 0;
  double rows_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::size_t commits = 0;
};

class Database {
 public:
  explicit Database(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) Fail("open " + path);
  }
  ~Database() {
    sqlite3_finalize(insert_);
    sqlite3_finalize(begin_);
    sqlite3_finalize(commit_);
    sqlite3_close(db_);
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void Exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) Fail(sql);
  }

  std::string Text(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) Fail(sql);
    std::string value;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return value;
  }

  void Prepare() {
    insert_ = PrepareOne(kInsert);
    begin_ = PrepareOne(kBegin);
    commit_ = PrepareOne(kCommit);
  }

  // One transaction of `rows` messages; the body's leading bytes change with every row.
  void CommitRows(int rows, std::int64_t& seq, std::string& body) {
    Step(begin_, kBegin);
    for (int row_idx = 0; row_idx < rows; ++row_idx, ++seq) {
      char prefix[17];
      std::snprintf(prefix, sizeof prefix, "%016lld", static_cast<long long>(seq));
      std::memcpy(body.data(), prefix, 16);
      sqlite3_bind_int64(insert_, 1, seq % kSpaces + 1);
      sqlite3_bind_int64(insert_, 2, seq % 1000 + 1);
      sqlite3_bind_int64(insert_, 3, seq);
      sqlite3_bind_int64(insert_, 4, 1'700'000'000'000 + seq);
      sqlite3_bind_text(insert_, 5, body.data(), kBodyBytes, SQLITE_STATIC);
      Step(insert_, kInsert);
    }
    Step(commit_, kCommit);
  }

 private:
  [[noreturn]] void Fail(const std::string& what) {
    std::cerr << "rounds-ceiling-sqlite: " << what << ": " << sqlite3_errmsg(db_) << "\n";
    std::exit(1);
  }

  sqlite3_stmt* PrepareOne(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) Fail(sql);
    return stmt;
  }

  void Step(sqlite3_stmt* stmt, const char* sql) {
    if (sqlite3_step(stmt) != SQLITE_DONE) Fail(sql);
    sqlite3_reset(stmt);
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
};

PhaseResult RunPhase(Database& db, int rows_per_commit, double seconds, std::int64_t& seq, std::string& body) {
  Latencies latencies;
  double start = NowSeconds();
  double now = start;
  while (now - start < seconds) {
    double t0 = NowSeconds();
    db.CommitRows(rows_per_commit, seq, body);
    now = NowSeconds();
    latencies.Add(now - t0);
  }
  PhaseResult result;
  result.commits = latencies.count();
  result.commits_per_second = static_cast<double>(result.commits) / (now - start);
  result.rows_per_second = result.commits_per_second * rows_per_commit;
  result.p50_ms = latencies.PercentileMillis(0.50);
  result.p99_ms = latencies.PercentileMillis(0.99);
  return result;
}

nlohmann::json ToJson(int rows_per_commit, const PhaseResult& r) {
  return {{"rows_per_commit", rows_per_commit},   {"commits_per_s", Round3(r.commits_per_second)},
          {"rows_per_s", Round3(r.rows_per_second)}, {"commit_p50_ms", Round3(r.p50_ms)},
          {"commit_p99_ms", Round3(r.p99_ms)},       {"commits", r.commits}};
}

void PrintHuman(const std::string& synchronous, int rows_per_commit, const PhaseResult& r) {
  std::printf(
      "sqlite ceiling, WAL synchronous=%s, %3d row(s)/commit: %8.0f commits/s, %9.0f rows/s, commit p50 %.3f ms, "
      "p99 %.3f ms\n",
      synchronous.c_str(), rows_per_commit, r.commits_per_second, r.rows_per_second, r.p50_ms, r.p99_ms);
}

void RemoveDatabase(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  rounds::bench::Flags flags(argc, argv, {"--dir", "--seconds", "--synchronous"}, kUsage);
  std::string dir = flags.Text("--dir", ".");
  double seconds = flags.Number("--seconds", 3);
  std::string synchronous = flags.Text("--synchronous", "FULL");
  if (seconds <= 0 || (synchronous != "FULL" && synchronous != "NORMAL")) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string path = dir + "/rounds-ceiling-sqlite.db";
  RemoveDatabase(path);

  // Printable random text, so the page contents look like real messages rather than one repeated byte.
  std::string body(kBodyBytes, ' ');
  std::mt19937 random(42);
  std::uniform_int_distribution<int> letter('a', 'z');
  for (char& c : body) c = static_cast<char>(letter(random));

  PhaseResult single;
  PhaseResult batched;
  std::string journal_mode;
  {
    Database db(path);
    journal_mode = db.Text("PRAGMA journal_mode=WAL");
    db.Exec("PRAGMA synchronous=" + synchronous);
    db.Exec(kCreateTable);
    db.Exec(kCreateIndex);
    db.Prepare();
    std::int64_t seq = 1;
    single = RunPhase(db, 1, seconds, seq, body);
    batched = RunPhase(db, 100, seconds, seq, body);
  }
  RemoveDatabase(path);

  PrintHuman(synchronous, 1, single);
  PrintHuman(synchronous, 100, batched);
  nlohmann::json line = {{"ceiling", "sqlite"},
                         {"dir", dir},
                         {"journal_mode", journal_mode},
                         {"synchronous", synchronous},
                         {"sqlite_version", sqlite3_libversion()},
                         {"row_body_bytes", kBodyBytes},
                         {"seconds", seconds},
                         {"single", ToJson(1, single)},
                         {"batch", ToJson(100, batched)}};
  std::cout << line.dump() << std::endl;
  return 0;
}
