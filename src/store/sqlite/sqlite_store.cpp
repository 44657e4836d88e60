// The SQLite Store: WAL, synchronous=FULL, one writer thread doing group commit, a pool of read
// connections, numbered migrations applied at open.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_tx.hpp"
#include "store/store.hpp"

namespace rounds::store {
namespace {

using sqlite::Connection;
using sqlite::SqliteTx;

struct Migration {
  const char* name;
  const char* sql;
};
constexpr Migration kMigrations[] = {
#include "sqlite_migrations.inc"
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

constexpr std::array<double, 10> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
constexpr std::array<double, 12> kCommitBounds = {50,    100,   250,    500,    1000,   2500,
                                                  5000,  10000, 25000,  50000,  100000, 1000000};

// Creates the schema_version table and applies every migration the database lacks, each in its
// own transaction. Refuses a database that is newer than this binary.
Status Migrate(Connection& db) {
  ROUNDS_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, name TEXT NOT NULL, "
      "applied_at INTEGER NOT NULL)"));
  static constexpr char kCurrent[] = "SELECT coalesce(max(version), 0) FROM schema_version";
  ROUNDS_ASSIGN_OR_RETURN(sqlite::Statement * s, db.Prepare(kCurrent));
  ROUNDS_ASSIGN_OR_RETURN(bool row, s->Step());
  int current = row ? static_cast<int>(s->Int(0)) : 0;
  s->Reset();
  if (current > kSchemaVersion) {
    return Fail(ErrorCode::kConflict, "schema_too_new",
                "The database was written by a newer version of Rounds (schema " +
                    std::to_string(current) + ", this binary knows " +
                    std::to_string(kSchemaVersion) + "). Upgrade Rounds to open it.");
  }
  for (int v = current + 1; v <= kSchemaVersion; ++v) {
    const Migration& m = kMigrations[v - 1];
    ROUNDS_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status applied = db.Exec(m.sql);
    if (applied) {
      static constexpr char kRecord[] =
          "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, "
          "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))";
      auto record = db.Prepare(kRecord);
      applied = record ? (*record)->Bind(1, v).Bind(2, m.name).Run() : Status(tl::unexpected(record.error()));
    }
    if (!applied) {
      (void)db.Exec("ROLLBACK");
      Error e = applied.error();
      e.internal_message = std::string("migration ") + m.name + ": " + e.internal_message;
      return tl::unexpected(std::move(e));
    }
    ROUNDS_RETURN_IF_ERROR(db.Exec("COMMIT"));
    log::Info("migration_applied", {{"version", v}, {"name", m.name}});
  }
  return Ok();
}

class SqliteStore final : public Store {
 public:
  SqliteStore(SqliteOptions options, std::unique_ptr<Connection> writer,
              std::vector<std::unique_ptr<Connection>> readers)
      : options_(std::move(options)), writer_(std::move(writer)) {
    for (auto& r : readers) idle_readers_.push_back(std::move(r));
    writer_thread_ = std::thread([this] { WriterLoop(); });
  }

  ~SqliteStore() override { Close(); }

  Status RunWrite(std::function<Status(WriteTx&)> unit) override {
    Unit pending{std::move(unit), {}};
    std::future<Status> done = pending.promise.get_future();
    {
      std::lock_guard lock(queue_mutex_);
      if (closing_) {
        return Fail(ErrorCode::kUnavailable, "shutting_down", "The server is shutting down.");
      }
      queue_.push_back(&pending);
    }
    queue_cv_.notify_one();
    return done.get();
  }

  Status RunRead(std::function<Status(ReadTx&)> unit) override {
    std::unique_ptr<Connection> connection;
    {
      std::unique_lock lock(readers_mutex_);
      readers_cv_.wait(lock, [this] { return !idle_readers_.empty(); });
      connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
    Status status = RunReadOn(*connection, unit);
    {
      std::lock_guard lock(readers_mutex_);
      idle_readers_.push_back(std::move(connection));
    }
    readers_cv_.notify_one();
    return status;
  }

  Status Backup(const std::string& path) override {
    // A dedicated source connection reads one consistent snapshot (WAL) while writes go on.
    ROUNDS_ASSIGN_OR_RETURN(auto source, Connection::Open(options_.path, options_.sync_full));
    std::string temporary = path + ".partial";
    std::filesystem::remove(temporary);
    sqlite3* destination = nullptr;
    int rc = sqlite3_open(temporary.c_str(), &destination);
    if (rc != SQLITE_OK) {
      Error e = sqlite::TranslateError(destination, rc, "open backup file");
      sqlite3_close(destination);
      return tl::unexpected(std::move(e));
    }
    sqlite3_backup* backup = sqlite3_backup_init(destination, "main", source->raw(), "main");
    if (backup == nullptr) {
      Error e = sqlite::TranslateError(destination, sqlite3_errcode(destination), "backup init");
      sqlite3_close(destination);
      return tl::unexpected(std::move(e));
    }
    rc = sqlite3_backup_step(backup, -1);
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) {
      Error e = sqlite::TranslateError(destination, rc, "backup step");
      sqlite3_close(destination);
      return tl::unexpected(std::move(e));
    }
    // The copy is a plain rollback-journal file until it is opened by Rounds, which turns WAL on.
    sqlite3_exec(destination, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
    sqlite3_close(destination);
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) return Internal("backup rename: " + ec.message());
    return Ok();
  }

  StoreMetrics Metrics() const override {
    std::lock_guard lock(metrics_mutex_);
    return metrics_;
  }

  void Close() override {
    {
      std::lock_guard lock(queue_mutex_);
      if (closing_) {
        if (!writer_thread_.joinable()) return;
      }
      closing_ = true;
    }
    queue_cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
  }

 private:
  struct Unit {
    std::function<Status(WriteTx&)> fn;
    std::promise<Status> promise;
  };

  static Status RunReadOn(Connection& connection, const std::function<Status(ReadTx&)>& unit) {
    ROUNDS_RETURN_IF_ERROR(connection.Exec("BEGIN"));
    SqliteTx tx(connection);
    Status status;
    try {
      status = unit(tx);
    } catch (const std::exception& e) {
      status = Internal(std::string("read unit threw: ") + e.what());
    }
    (void)connection.Exec("COMMIT");
    return status;
  }

  void WriterLoop() {
    std::vector<Unit*> batch;
    while (true) {
      {
        std::unique_lock lock(queue_mutex_);
        queue_cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
        if (queue_.empty() && closing_) return;
        std::size_t n = std::min<std::size_t>(queue_.size(), static_cast<std::size_t>(options_.max_batch_units));
        batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      }
      CommitBatch(batch);
      batch.clear();
    }
  }

  void CommitBatch(const std::vector<Unit*>& batch) {
    auto started = std::chrono::steady_clock::now();
    std::vector<Status> results(batch.size());
    Status begin = writer_->Exec("BEGIN IMMEDIATE");
    if (!begin) {
      for (Unit* u : batch) u->promise.set_value(begin);
      return;
    }
    SqliteTx tx(*writer_);
    std::size_t failed = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Status savepoint = writer_->Exec("SAVEPOINT unit");
      if (!savepoint) {
        results[i] = savepoint;
        ++failed;
        continue;
      }
      try {
        results[i] = batch[i]->fn(tx);
      } catch (const std::exception& e) {
        results[i] = Internal(std::string("write unit threw: ") + e.what());
      }
      if (!results[i]) {
        ++failed;
        (void)writer_->Exec("ROLLBACK TO unit");
      }
      (void)writer_->Exec("RELEASE unit");
    }
    Status commit = writer_->Exec("COMMIT");
    if (!commit) {
      (void)writer_->Exec("ROLLBACK");
      log::Error("store_commit_failed", {{"units", batch.size()}, {"reason", commit.error().internal_message}});
      for (Unit* u : batch) u->promise.set_value(commit);
      RecordBatch(batch.size(), batch.size(), started);
      return;
    }
    RecordBatch(batch.size(), failed, started);
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->promise.set_value(std::move(results[i]));
  }

  void RecordBatch(std::size_t units, std::size_t failed, std::chrono::steady_clock::time_point started) {
    double micros = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
    std::lock_guard lock(metrics_mutex_);
    if (metrics_.batch_size_buckets.empty()) {
      for (double b : kBatchBounds) metrics_.batch_size_buckets.emplace_back(b, 0);
      for (double b : kCommitBounds) metrics_.commit_micros_buckets.emplace_back(b, 0);
    }
    metrics_.write_units += units - failed;
    metrics_.failed_units += failed;
    metrics_.write_batches += 1;
    metrics_.commit_micros_sum += micros;
    for (auto& [bound, count] : metrics_.batch_size_buckets) {
      if (static_cast<double>(units) <= bound) ++count;
    }
    for (auto& [bound, count] : metrics_.commit_micros_buckets) {
      if (micros <= bound) ++count;
    }
  }

  const SqliteOptions options_;
  std::unique_ptr<Connection> writer_;  // used only by writer_thread_

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Unit*> queue_;  // guarded by queue_mutex_
  bool closing_ = false;     // guarded by queue_mutex_
  std::thread writer_thread_;

  std::mutex readers_mutex_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_

  mutable std::mutex metrics_mutex_;
  StoreMetrics metrics_;  // guarded by metrics_mutex_
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  std::filesystem::path path(options.path);
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return Internal("cannot create data folder " + path.parent_path().string() + ": " + ec.message());
  }
  ROUNDS_ASSIGN_OR_RETURN(auto writer, Connection::Open(options.path, options.sync_full));
  // Durability is a promise, not a hope: read the setting back (2 = FULL).
  static constexpr char kSynchronous[] = "PRAGMA synchronous";
  ROUNDS_ASSIGN_OR_RETURN(sqlite::Statement * sync, writer->Prepare(kSynchronous));
  ROUNDS_ASSIGN_OR_RETURN(bool row, sync->Step());
  if (options.sync_full && (!row || sync->Int(0) != 2)) {
    return Internal("SQLite refused synchronous=FULL");
  }
  sync->Reset();
  ROUNDS_RETURN_IF_ERROR(Migrate(*writer));
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < std::max(1, options.read_connections); ++i) {
    ROUNDS_ASSIGN_OR_RETURN(auto reader, Connection::Open(options.path, options.sync_full));
    ROUNDS_RETURN_IF_ERROR(reader->Exec("PRAGMA query_only=ON"));
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<Store>(new SqliteStore(options, std::move(writer), std::move(readers)));
}

}  // namespace rounds::store
