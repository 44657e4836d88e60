// The SQLite Store: WAL, synchronous=FULL, one writer thread doing group commit, a pool of read
// connections, numbered migrations applied at open, online backup.
#include "store/sqlite/sqlite_store.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sqlite3.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/thread_name.hpp"
#include "store/sqlite/change_stamps.hpp"
#include "store/sqlite/coalescing_vfs.hpp"
#include "store/sqlite/migrations.hpp"
#include "store/sqlite/sqlite_tx.hpp"

namespace rounds::store::sqlite {
namespace {

constexpr char kBeginRead[] = "BEGIN";
constexpr char kBeginWrite[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
constexpr char kSavepoint[] = "SAVEPOINT unit";
constexpr char kRollbackToSavepoint[] = "ROLLBACK TO unit";
constexpr char kReleaseSavepoint[] = "RELEASE unit";
constexpr char kReadSynchronous[] = "PRAGMA synchronous";
// Changes when another connection (another process, say the CLI) commits to the database.
constexpr char kDataVersion[] = "PRAGMA data_version";
constexpr char kCreateSearchTerms[] =
    "CREATE VIRTUAL TABLE temp.message_search_terms USING fts5vocab(main, message_search, row)";
// The message changes queued for the search index (migrations 0007): how many wait, applied in
// order, emptied. Their ids are consecutive (the queue is emptied whole, and a unit that fails takes
// its rows back with it), so counting them is two index lookups, not a scan.
constexpr char kSearchPendingRows[] =
    "SELECT ifnull((SELECT id FROM search_pending ORDER BY id DESC LIMIT 1) - "
    "(SELECT id FROM search_pending ORDER BY id LIMIT 1) + 1, 0)";
constexpr char kApplySearchPending[] =
    "INSERT INTO message_search (message_search, rowid, title, body) "
    "SELECT CASE op WHEN 'delete' THEN 'delete' END, message_id, title, body FROM search_pending ORDER BY id";
constexpr char kClearSearchPending[] = "DELETE FROM search_pending";

constexpr char kCreateSchemaVersion[] =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at INTEGER NOT NULL)";
constexpr char kCurrentSchemaVersion[] = "SELECT coalesce(max(version), 0) FROM schema_version";
constexpr char kRecordSchemaVersion[] =
    "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, "
    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))";

constexpr std::array<double, 10> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
constexpr std::array<double, 12> kCommitBounds = {50,    100,   250,   500,   1000,   2500,
                                                  5000,  10000, 25000, 50000, 100000, 1000000};

// Which store's writer thread the current thread is, if any: a unit that calls RunWrite on its
// own store would wait for itself forever, so that call is refused instead.
thread_local const void* tls_writer_of = nullptr;

// An explicit transaction that rolls back when it goes out of scope uncommitted.
class Transaction {
 public:
  explicit Transaction(Connection& db) : db_(db) {}
  ~Transaction() {
    if (open_ && db_.InTransaction()) (void)db_.Run(kRollback);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status Begin(const char* begin_sql) {
    ROUNDS_RETURN_IF_ERROR(db_.Run(begin_sql));
    open_ = true;
    return Ok();
  }
  Status Commit() {
    db_.ResetStatements();
    ROUNDS_RETURN_IF_ERROR(db_.Run(kCommit));  // on failure the destructor rolls back
    open_ = false;
    return Ok();
  }

 private:
  Connection& db_;
  bool open_ = false;
};

// A savepoint around one unit: its changes are discarded unless Release()d.
class Savepoint {
 public:
  explicit Savepoint(Connection& db) : db_(db) {}
  ~Savepoint() {
    if (open_) RollBack();
  }
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;

  Status Open() {
    ROUNDS_RETURN_IF_ERROR(db_.Run(kSavepoint));
    open_ = true;
    return Ok();
  }
  Status Release() {
    db_.ResetStatements();
    ROUNDS_RETURN_IF_ERROR(db_.Run(kReleaseSavepoint));
    open_ = false;
    return Ok();
  }
  // ROLLBACK TO leaves the savepoint on the stack; RELEASE pops it. Both fail harmlessly when
  // SQLite already rolled the whole transaction back, which the caller detects separately.
  void RollBack() {
    open_ = false;
    db_.ResetStatements();
    (void)db_.Run(kRollbackToSavepoint);
    (void)db_.Run(kReleaseSavepoint);
  }

 private:
  Connection& db_;
  bool open_ = false;
};

// Runs a unit; an exception escaping it (a bug: units report errors as values) becomes kInternal
// instead of ending the thread.
template <class Tx>
Status Invoke(const std::function<Status(Tx&)>& unit, Tx& tx) {
  try {
    return unit(tx);
  } catch (const std::exception& e) {
    return Internal(std::string("unit threw: ") + e.what());
  } catch (...) {
    return Internal("unit threw a non-standard exception");
  }
}

// Creates schema_version and applies every migration the database lacks, each in its own
// transaction. The version is read inside the write transaction, so two processes opening the same
// new database cannot both apply a migration. Refuses a database newer than this binary.
Status Migrate(Connection& db) {
  ROUNDS_RETURN_IF_ERROR(db.Exec(kCreateSchemaVersion));
  const auto migrations = Migrations();
  const int latest = LatestSchemaVersion();
  while (true) {
    Transaction transaction(db);
    ROUNDS_RETURN_IF_ERROR(transaction.Begin(kBeginWrite));
    ROUNDS_ASSIGN_OR_RETURN(std::int64_t current, db.QueryInt(kCurrentSchemaVersion));
    if (current > latest) {
      return Fail(ErrorCode::kConflict, "schema_too_new",
                  "The database was written by a newer version of Rounds (schema version " +
                      std::to_string(current) + "; this version knows up to " +
                      std::to_string(latest) + "). Upgrade Rounds to open it.",
                  "schema_version " + std::to_string(current) + " > " + std::to_string(latest));
    }
    if (current == latest) return Ok();  // the read-only transaction rolls back
    const int version = static_cast<int>(current) + 1;
    const Migration& migration = migrations[static_cast<std::size_t>(current)];
    Status applied = db.Exec(migration.sql);
    if (applied) {
      ROUNDS_ASSIGN_OR_RETURN(Statement * record, db.Prepare(kRecordSchemaVersion));
      applied = record->Bind(1, version).Bind(2, migration.name).Run();
    }
    if (applied) applied = transaction.Commit();
    if (!applied) {
      Error e = applied.error();
      e.internal_message = "migration " + std::string(migration.name) + ": " + e.internal_message;
      return tl::unexpected(std::move(e));
    }
    log::Info("migration_applied", {{"version", version}, {"name", std::string(migration.name)}});
  }
}

// A private folder for a store opened on ":memory:", removed with its contents on destruction.
class TemporaryFolder {
 public:
  static Result<std::unique_ptr<TemporaryFolder>> Create() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rounds-store-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return Internal("mkdtemp failed for " + pattern);
    return std::unique_ptr<TemporaryFolder>(new TemporaryFolder(pattern));
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TemporaryFolder(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Creates `path` readable and writable by its owner only, unless it exists. SQLite gives the -wal
// and -shm files the database file's permissions, so patient data never lands in a file that
// other accounts on the machine can read. An existing file keeps the permissions it has.
Status CreatePrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return Ok();
  }
  if (errno == EEXIST) return Ok();
  return Internal("cannot create " + path + ": " + std::strerror(errno));
}

// Makes a rename durable: fsync the folder that holds the new name.
void SyncFolderOf(const std::string& file) {
  std::string folder = std::filesystem::path(file).parent_path().string();
  if (folder.empty()) folder = ".";
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Files removed when this goes, unless kept: what an operation wrote before it completed.
struct RemovedUnlessKept {
  std::vector<std::string> files;
  bool keep = false;
  ~RemovedUnlessKept() {
    if (keep) return;
    std::error_code ignored;
    for (const std::string& file : files) std::filesystem::remove(file, ignored);
  }
};

// A key given as bytes (SqliteOptions::encryption_key), whose length the caller checked.
DatabaseKey KeyOf(std::string_view bytes) {
  DatabaseKey key{};
  std::memcpy(key.data(), bytes.data(), std::min(bytes.size(), key.size()));
  return key;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(SqliteOptions options, WriterHooks hooks, std::unique_ptr<TemporaryFolder> folder,
              std::unique_ptr<Connection> writer, std::vector<std::unique_ptr<Connection>> readers,
              std::unique_ptr<Connection> checkpointer)
      : temporary_folder_(std::move(folder)),
        options_(std::move(options)),
        hooks_(std::move(hooks)),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)) {
    for (auto& reader : readers) idle_readers_.push_back(std::move(reader));
    for (double bound : kBatchBounds) metrics_.batch_size_buckets.emplace_back(bound, 0);
    for (double bound : kCommitBounds) metrics_.commit_micros_buckets.emplace_back(bound, 0);
    // The writer's own bound on the log, as SQLite's wal_autocheckpoint does it, but counted.
    sqlite3_wal_hook(writer_->raw(), &SqliteStore::OnCommitToLog, this);
    stamps_.Watch(writer_->raw());
    writer_thread_ = std::thread([this] { WriterLoop(); });
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  }

  ~SqliteStore() override { Close(); }

  Status RunWrite(std::function<Status(WriteTx&)> unit) override {
    if (tls_writer_of == this) {
      return Internal("RunWrite called from inside a write unit; it would wait for itself");
    }
    auto pending = std::make_shared<PendingUnit>();
    pending->fn = std::move(unit);
    if (Status queued = Enqueue(pending); !queued) return queued;  // shared: the caller waits on it
    pending->Wait();
    return std::move(pending->status);
  }

  void RunWriteAsync(std::function<Status(WriteTx&)> unit, std::function<void(Status)> done) override {
    auto pending = std::make_shared<PendingUnit>();
    pending->fn = std::move(unit);
    pending->done = std::move(done);
    if (Status queued = Enqueue(pending); !queued) pending->done(std::move(queued));  // closed
  }

  Status RunRead(std::function<Status(ReadTx&)> unit) override {
    ReaderLease lease(*this);
    return ReadOn(lease.connection(), unit);
  }

  std::optional<Status> TryRunRead(std::function<Status(ReadTx&)> unit) override {
    std::unique_ptr<Connection> idle = TakeIdleReader();
    if (!idle) return std::nullopt;
    ReaderLease lease(*this, std::move(idle));
    return ReadOn(lease.connection(), unit);
  }

  // Runs `unit` in one read transaction on `db`.
  static Status ReadOn(Connection& db, const std::function<Status(ReadTx&)>& unit) {
    Transaction transaction(db);
    ROUNDS_RETURN_IF_ERROR(transaction.Begin(kBeginRead));
    SqliteTx tx(db);
    Status result = Invoke(unit, static_cast<ReadTx&>(tx));
    Status finished = transaction.Commit();
    if (!result) return result;
    return finished;
  }

  std::optional<ChangeStamp> Stamp(SpaceId space) const override { return stamps_.Stamp(space); }

  Status CatchUpSearch() override {
    std::int64_t waiting = 0;
    {
      ReaderLease lease(*this);
      ROUNDS_ASSIGN_OR_RETURN(waiting, lease.connection().QueryInt(kSearchPendingRows));
    }
    if (waiting == 0) return Ok();
    // The unit runs on the writer, which applies the queue at the end of the unit's batch.
    Status caught_up = RunWrite([this](WriteTx&) -> Status {
      search_requested_ = true;
      return Ok();
    });
    // A closed store applied its queue on closing; what another process queued since waits for
    // the next writer, and the search reads the index as it is.
    if (!caught_up && caught_up.error().code == ErrorCode::kUnavailable) return Ok();
    return caught_up;
  }

  Status Backup(const std::string& path) override;

  StoreMetrics Metrics() const override {
    StoreMetrics copy;
    {
      std::lock_guard lock(metrics_mutex_);
      copy = metrics_;
    }
    // Process-wide: every store in the process opens its files through the one VFS.
    const sqlite::CoalescingVfsCounters log = sqlite::CoalescingVfsCountersNow();
    copy.log_writes_requested = log.wal_writes_requested;
    copy.log_writes_issued = log.wal_writes_issued;
    copy.log_frames = static_cast<std::uint64_t>(log_frames_.load(std::memory_order_relaxed));
    copy.encrypted = !options_.encryption_key.empty();
    copy.pages_sealed = log.pages_sealed;
    copy.pages_opened = log.pages_opened;
    copy.pages_rejected = log.pages_rejected;
    std::lock_guard lock(queue_mutex_);
    copy.queued_units = queue_.size();
    return copy;
  }

  void Close() override {
    {
      std::lock_guard lock(queue_mutex_);
      closing_ = true;
    }
    queue_cv_.notify_all();
    checkpoint_cv_.notify_all();
    if (tls_writer_of == this) return;  // from inside a unit: the writer stops after this batch
    std::lock_guard lock(close_mutex_);
    if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
    if (!writer_thread_.joinable()) return;
    writer_thread_.join();
    // The writer thread is gone, so its connection is free: refresh the query planner's statistics
    // for the next start (cheap; it only analyzes tables whose statistics are stale).
    (void)writer_->Exec("PRAGMA optimize");
    sqlite3_wal_hook(writer_->raw(), nullptr, nullptr);  // it reports into this object
  }

 private:
  // A unit, and its caller's wait for it. The caller sleeps on a process-private futex, and the
  // writer makes a system call to wake it only if it is asleep: waking the callers is the single
  // writer's work, and a std::promise wakes through a shared futex (a page lookup in the kernel)
  // behind a once-flag. Not std::atomic::wait, whose waiter yields the core four times before it
  // sleeps: with dozens of callers waiting on two cores, those yields took the I/O threads' time.
  struct PendingUnit {
    std::function<Status(WriteTx&)> fn;
    std::function<void(Status)> done;  // set: nobody waits; called on the writer instead
    Status status;
    std::atomic<int> state{kRunning};

    static constexpr int kRunning = 0;
    static constexpr int kSleeping = 1;  // running, and its caller waits in the futex
    static constexpr int kFinished = 2;

    void Wait() {
      int s = state.load(std::memory_order_acquire);
      while (s != kFinished) {
        if (s == kRunning && !state.compare_exchange_weak(s, kSleeping, std::memory_order_acquire)) continue;
        ::syscall(SYS_futex, reinterpret_cast<int*>(&state), FUTEX_WAIT_PRIVATE, kSleeping, nullptr, nullptr, 0);
        s = state.load(std::memory_order_acquire);
      }
    }
    void Finish(Status result) {
      status = std::move(result);
      if (state.exchange(kFinished, std::memory_order_release) == kSleeping) {
        ::syscall(SYS_futex, reinterpret_cast<int*>(&state), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
      }
    }
  };
  static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free);
  using Batch = std::span<const std::shared_ptr<PendingUnit>>;

  // Borrows a read connection for the lifetime of the lease; waits while all are in use.
  class ReaderLease {
   public:
    explicit ReaderLease(SqliteStore& store) : store_(store) {
      std::unique_lock lock(store_.readers_mutex_);
      store_.readers_cv_.wait(lock, [this] { return !store_.idle_readers_.empty(); });
      connection_ = std::move(store_.idle_readers_.back());
      store_.idle_readers_.pop_back();
    }
    // A lease of a connection already taken (TakeIdleReader).
    ReaderLease(SqliteStore& store, std::unique_ptr<Connection> taken) : store_(store), connection_(std::move(taken)) {}
    ~ReaderLease() {
      {
        std::lock_guard lock(store_.readers_mutex_);
        store_.idle_readers_.push_back(std::move(connection_));
      }
      store_.readers_cv_.notify_one();
    }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    Connection& connection() { return *connection_; }

   private:
    SqliteStore& store_;
    std::unique_ptr<Connection> connection_;
  };

  // An idle read connection if there is one now; null otherwise, without waiting for one.
  std::unique_ptr<Connection> TakeIdleReader() {
    std::lock_guard lock(readers_mutex_);
    if (idle_readers_.empty()) return nullptr;
    std::unique_ptr<Connection> taken = std::move(idle_readers_.back());
    idle_readers_.pop_back();
    return taken;
  }

  // Queues a unit for the writer; kUnavailable once the store is closing.
  Status Enqueue(std::shared_ptr<PendingUnit> pending) {
    {
      std::lock_guard lock(queue_mutex_);
      if (closing_) {
        return Fail(ErrorCode::kUnavailable, "shutting_down", "The server is shutting down.", "store closed");
      }
      queue_.push_back(std::move(pending));
    }
    queue_cv_.notify_one();
    return Ok();
  }

  static void Complete(PendingUnit& unit, Status status) {
    unit.fn = nullptr;  // drop the caller's captures before waking the caller
    if (unit.done) {
      // Nobody waits: the caller's completion runs here and hands its work elsewhere. One that
      // throws must not take the writer down with it.
      std::function<void(Status)> done = std::move(unit.done);
      try {
        done(std::move(status));
      } catch (const std::exception& e) {
        log::Error("store_completion_failed", {{"reason", e.what()}});
      }
      return;
    }
    unit.Finish(std::move(status));
  }

  // Copies the write-ahead log into the database off the commit path, and syncs what it copied;
  // see SqliteOptions::checkpoint_interval. A failed checkpoint is retried at the next interval
  // (the log only grows meanwhile; every committed write is already durable in it).
  //
  // The sync is this thread's own: SQLite syncs the database file only in a checkpoint that copies
  // the whole log, and while commits go on that is never this thread's. Without it every page this
  // thread copied stayed unsynced until the writer copied the last frames, and the writer's sync
  // then wrote them all, 30-60 ms inside a commit.
  void CheckpointLoop() {
    NameThisThread("store-checkpt");
    std::uint64_t synced = ~0ull;  // the copy last synced, as published in copied_
    std::unique_lock lock(queue_mutex_);
    while (!closing_) {
      const bool long_log = log_frames_.load(std::memory_order_relaxed) >= options_.restart_log_pages;
      checkpoint_cv_.wait_for(lock, long_log ? options_.long_log_checkpoint_interval : options_.checkpoint_interval,
                              [this] { return closing_ || checkpoint_wake_; });
      if (closing_) break;
      checkpoint_wake_ = false;
      lock.unlock();
      const std::uint64_t generation = log_generation_.load(std::memory_order_acquire);
      const auto started = std::chrono::steady_clock::now();
      int copied = 0;
      int rc = SQLITE_OK;
      std::uint64_t copy = 0;
      {
        std::lock_guard copy_lock(copy_mutex_);
        rc = sqlite3_wal_checkpoint_v2(checkpointer_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                       &copied);
        copy = generation << 32 | static_cast<std::uint32_t>(std::max(copied, 0));
        // Nothing new copied since the last sync (an idle log, or one a commit copied): no sync.
        if (rc == SQLITE_OK && copied > 0 && copy != synced) {
          // A slice at a time, so that the sync does not hold up the commits' own (best effort).
          (void)sqlite3_file_control(checkpointer_->raw(), "main", kWriteBackInSlices, nullptr);
          rc = SyncDatabaseFile(checkpointer_->raw());
          if (rc == SQLITE_OK) synced = copy;
        }
      }
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        log::Warn("store_checkpoint_failed", {{"reason", sqlite3_errmsg(checkpointer_->raw())}});
      } else if (rc == SQLITE_OK) {
        copied_.store(copy, std::memory_order_release);
        const double micros = MicrosSince(started);
        std::lock_guard metrics_lock(metrics_mutex_);
        metrics_.checkpoints += 1;
        metrics_.checkpoint_micros_sum += micros;
      }
      lock.lock();
    }
  }

  static int SyncDatabaseFile(sqlite3* db) {
    sqlite3_file* file = nullptr;
    const int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file);
    if (rc != SQLITE_OK || file == nullptr || file->pMethods == nullptr) return rc == SQLITE_OK ? SQLITE_ERROR : rc;
    return file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
  }

  // SQLite's write-ahead-log hook: runs on the writer thread inside each COMMIT, after the commit's
  // frames are in the log. The log starts over from its beginning only at a transaction that
  // finds every frame copied, which the checkpointer never sees while commits go on. So once the
  // log is long and the checkpointer has copied all but a few frames, the commit copies those
  // itself (a short stall: the sync of those few pages), and the next transaction starts the log
  // over. Past the writer's bound the commit copies whatever is left, as wal_autocheckpoint would:
  // the checkpointer fell behind or failed.
  static int OnCommitToLog(void* context, sqlite3* db, const char* name, int frames) {
    auto& store = *static_cast<SqliteStore*>(context);
    // The commit is in the log and visible to every reader; its callers are answered after this.
    store.stamps_.Publish();
    const SqliteOptions& options = store.options_;
    const int last_frames = store.log_frames_.exchange(frames, std::memory_order_relaxed);
    if (frames < last_frames) {
      store.log_generation_.fetch_add(1, std::memory_order_acq_rel);  // the log started over
    }
    if (frames >= options.restart_log_pages && last_frames < options.restart_log_pages) {
      {
        std::lock_guard lock(store.queue_mutex_);
        store.checkpoint_wake_ = true;  // a long log: the checkpointer's shorter interval starts now
      }
      store.checkpoint_cv_.notify_all();
    }
    // What the checkpointer copied, if it was copied from this log and not yet tried on.
    const std::uint64_t published = store.copied_.load(std::memory_order_acquire);
    const bool fresh = published != store.tried_copied_ &&
                       (published >> 32) == store.log_generation_.load(std::memory_order_relaxed);
    const int copied = static_cast<int>(published & 0xFFFFFFFFu);
    const bool bound = frames >= std::max(1, options.writer_checkpoint_pages);
    const bool catch_up = !bound && fresh && frames >= options.restart_log_pages &&
                          frames - copied <= options.catch_up_pages;
    bool ran = false;
    double micros = 0;
    if (bound || catch_up) {
      store.tried_copied_ = published;
      // Not while the checkpointer copies or syncs: its pages would be this commit's to sync.
      std::unique_lock copy_lock(store.copy_mutex_, std::try_to_lock);
      if (copy_lock.owns_lock()) {
        const auto started = std::chrono::steady_clock::now();
        const int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) log::Warn("store_checkpoint_failed", {{"reason", sqlite3_errmsg(db)}});
        ran = rc == SQLITE_OK;
        micros = MicrosSince(started);
      }
    }
    if (!ran) return SQLITE_OK;
    std::lock_guard lock(store.metrics_mutex_);
    if (bound) {
      store.metrics_.writer_checkpoints += 1;
      store.metrics_.writer_checkpoint_micros_sum += micros;
    } else {
      store.metrics_.writer_catch_ups += 1;
      store.metrics_.writer_catch_up_micros_sum += micros;
    }
    return SQLITE_OK;  // the commit has happened whatever the checkpoint did
  }

  static double MicrosSince(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
  }

  void WriterLoop() {
    NameThisThread("store-writer");
    tls_writer_of = this;
    audit_.appended = 1;  // whatever an earlier run left unindexed is picked up soon
    audit_indexed_at_ = std::chrono::steady_clock::now();
    // So are the search changes an earlier run or another process queued.
    search_pending_ = writer_->QueryInt(kSearchPendingRows).value_or(1);
    search_pending_since_ = audit_indexed_at_;
    std::vector<std::shared_ptr<PendingUnit>> batch;
    while (true) {
      {
        std::unique_lock lock(queue_mutex_);
        auto ready = [this] { return !queue_.empty() || closing_; };
        if (const auto due = NextIndexDue()) {
          queue_cv_.wait_until(lock, *due, ready);
        } else {
          queue_cv_.wait(lock, ready);
        }
        if (queue_.empty()) {
          const bool closing = closing_;
          lock.unlock();
          IndexWhatIsDue(closing);  // an interval went by, or the store is closing: everything
          if (closing) return;  // every queued unit is done
          continue;
        }
        const auto n = static_cast<std::ptrdiff_t>(std::min<std::size_t>(
            queue_.size(), static_cast<std::size_t>(std::max(1, options_.max_batch_units))));
        batch.assign(queue_.begin(), queue_.begin() + n);
        queue_.erase(queue_.begin(), queue_.begin() + n);
      }
      Batch remaining(batch);
      while (!remaining.empty()) remaining = remaining.subspan(RunTransaction(remaining));
      batch.clear();
      IndexWhatIsDue(false);
    }
  }

  // When the writer next has indexing to do with no unit waiting: the audit indexes a while after
  // the last append, the search index a while after the first change queued for it.
  std::optional<std::chrono::steady_clock::time_point> NextIndexDue() const {
    std::optional<std::chrono::steady_clock::time_point> due;
    if (audit_.appended > 0) due = audit_indexed_at_ + options_.audit_index_interval;
    if (search_pending_ > 0) {
      const auto search_due = search_pending_since_ + options_.search_index_interval;
      if (!due || search_due < *due) due = search_due;
    }
    return due;
  }

  // Runs the indexing whose interval has gone by, in transactions of its own; all of it when the
  // store is closing (including what another process may have left).
  void IndexWhatIsDue(bool everything) {
    const auto now = std::chrono::steady_clock::now();
    if (everything || (audit_.appended > 0 && now >= audit_indexed_at_ + options_.audit_index_interval)) {
      IndexAudit(false);
    }
    if (everything || (search_pending_ > 0 && now >= search_pending_since_ + options_.search_index_interval)) {
      IndexSearch();
    }
  }

  // Applies the queued search changes in a transaction of their own. A failure is logged and rolled
  // back, and retried an interval later: searches catch up first and would report it.
  void IndexSearch() {
    const auto started = std::chrono::steady_clock::now();
    Transaction transaction(*writer_);
    Status done = transaction.Begin(kBeginWrite);
    std::int64_t applied = 0;
    if (done) {
      auto result = ApplyEverySearchChange();
      if (result) applied = *result;
      done = !result ? Status(tl::unexpected(result.error())) : transaction.Commit();
    }
    if (!done) {
      log::Error("search_index_failed", {{"reason", done.error().internal_message}});
      search_pending_ = std::max<std::int64_t>(search_pending_, 1);
      search_pending_since_ = started;
      return;
    }
    search_pending_ = 0;
    RecordSearchIndex(applied, started);
  }

  void RecordSearchIndex(std::int64_t applied, std::chrono::steady_clock::time_point started) {
    if (applied == 0) return;
    const double micros = MicrosSince(started);
    std::lock_guard lock(metrics_mutex_);
    metrics_.search_index_runs += 1;
    metrics_.search_index_rows += static_cast<std::uint64_t>(applied);
    metrics_.search_index_micros_sum += micros;
  }

  // Adds the search index entries of up to one batch of audit records: inside the batch's own
  // transaction, in a savepoint (`in_batch`), or in a transaction of its own. A failure is logged
  // and rolled back, and retried later: searches read unindexed records from the log meanwhile.
  void IndexAudit(bool in_batch) {
    const auto started = std::chrono::steady_clock::now();
    audit_indexed_at_ = started;
    const int limit = std::max(1, options_.audit_index_batch);
    Transaction transaction(*writer_);
    Savepoint savepoint(*writer_);
    Status done = in_batch ? savepoint.Open() : transaction.Begin(kBeginWrite);
    int indexed = 0;
    if (done) {
      SqliteTx tx(*writer_, audit_);
      auto result = tx.IndexAudit(limit);
      if (result) indexed = *result;
      done = !result ? Status(tl::unexpected(result.error())) : in_batch ? savepoint.Release() : transaction.Commit();
    }
    if (!done) {
      log::Error("audit_index_failed", {{"reason", done.error().internal_message}});
      return;
    }
    audit_.appended = indexed < limit ? 0 : limit;  // a full batch: there may be more
    const double micros = MicrosSince(started);
    std::lock_guard lock(metrics_mutex_);
    metrics_.audit_index_runs += 1;
    metrics_.audit_index_micros_sum += micros;
  }

  // Runs one unit inside its own savepoint; a failing unit leaves nothing behind.
  // A unit that appended audit records and then failed takes them back with its savepoint, so the
  // cached chain head goes back to unknown.
  Status RunUnit(SqliteTx& tx, PendingUnit& unit, std::size_t index) {
    Savepoint savepoint(*writer_);
    ROUNDS_RETURN_IF_ERROR(savepoint.Open());
    if (hooks_.before_unit) hooks_.before_unit(*writer_, index);
    const std::int64_t head_before = audit_.head ? audit_.head->seq : -1;
    Status result = Invoke(unit.fn, static_cast<WriteTx&>(tx));
    if (result) result = savepoint.Release();
    if (!result && (audit_.head ? audit_.head->seq : -1) != head_before) audit_.head.reset();
    return result;  // on failure the savepoint rolls back
  }

  // Runs a prefix of `units` as one group-committed transaction and completes each of them;
  // returns how many. That is all of them unless SQLite aborted the transaction under a unit (some
  // I/O, disk-full and out-of-memory errors roll back everything): then the units run so far fail
  // and the rest are left for a fresh transaction, since none of them has run yet.
  std::size_t RunTransaction(Batch units) {
    const auto started = std::chrono::steady_clock::now();
    Transaction transaction(*writer_);
    if (Status begun = transaction.Begin(kBeginWrite); !begun) {
      log::Error("store_begin_failed", {{"units", units.size()}, {"reason", begun.error().internal_message}});
      RecordBatch(units.size(), units.size(), started);
      for (const auto& unit : units) Complete(*unit, begun);
      return units.size();
    }
    // The cached audit chain head holds only while this writer is the database's only writer.
    if (auto version = writer_->QueryInt(kDataVersion); !version || *version != data_version_) {
      audit_.head.reset();
      stamps_.MoveEverything();
      data_version_ = version ? *version : -1;
    }
    SqliteTx tx(*writer_, audit_);
    std::vector<Status> results;
    results.reserve(units.size());
    std::size_t failed = 0;
    for (std::size_t i = 0; i < units.size(); ++i) {
      Status result = RunUnit(tx, *units[i], i);
      if (!writer_->InTransaction()) {
        Error cause = result ? Internal("the transaction ended inside a unit").value() : result.error();
        log::Error("store_transaction_aborted", {{"units", i + 1}, {"reason", cause.internal_message}});
        audit_.head.reset();
        RecordBatch(i + 1, i + 1, started);
        for (std::size_t j = 0; j <= i; ++j) {
          Complete(*units[j], j < i && !results[j] ? results[j] : Status(tl::unexpected(cause)));
        }
        return i + 1;
      }
      if (!result) ++failed;
      results.push_back(std::move(result));
    }
    if (audit_.appended >= options_.audit_index_batch) IndexAudit(true);
    if (hooks_.before_commit) hooks_.before_commit(*writer_);
    const auto indexing_started = std::chrono::steady_clock::now();
    const Result<std::int64_t> search_applied = IndexSearchInBatch();
    Status committed = search_applied ? transaction.Commit() : Status(tl::unexpected(search_applied.error()));
    if (!committed) {
      log::Error("store_commit_failed", {{"units", units.size()}, {"reason", committed.error().internal_message}});
      audit_.head.reset();
      audit_.appended = std::max<std::int64_t>(audit_.appended, 1);  // index entries may have gone too
      search_pending_ = std::max<std::int64_t>(search_pending_, 1);
      RecordBatch(units.size(), units.size(), started);
      for (std::size_t i = 0; i < units.size(); ++i) {
        Complete(*units[i], results[i] ? committed : results[i]);
      }
      return units.size();
    }
    if (*search_applied > 0) {
      search_pending_ = 0;
      RecordSearchIndex(*search_applied, indexing_started);
    }
    RecordBatch(units.size(), failed, started);
    for (std::size_t i = 0; i < units.size(); ++i) Complete(*units[i], std::move(results[i]));
    return units.size();
  }

  // At the end of a batch, before its commit: applies the queued search changes when
  // `search_index_batch` of them wait, when the first waited `search_index_interval`, or when a
  // unit of the batch asked (a search catching up). Returns how many it applied.
  Result<std::int64_t> IndexSearchInBatch() {
    const bool requested = std::exchange(search_requested_, false);
    ROUNDS_ASSIGN_OR_RETURN(const std::int64_t waiting, writer_->QueryInt(kSearchPendingRows));
    const auto now = std::chrono::steady_clock::now();
    if (waiting > 0 && search_pending_ == 0) search_pending_since_ = now;
    search_pending_ = waiting;
    if (waiting == 0) return std::int64_t{0};
    if (!requested && waiting < options_.search_index_batch &&
        now < search_pending_since_ + options_.search_index_interval) {
      return std::int64_t{0};
    }
    ROUNDS_RETURN_IF_ERROR(ApplySearchPending());
    return waiting;
  }

  // Brings message_search up to date with every queued change, in order, and empties the queue.
  Status ApplySearchPending() {
    ROUNDS_RETURN_IF_ERROR(writer_->Run(kApplySearchPending));
    return writer_->Run(kClearSearchPending);
  }

  // The same, counting the queue first (outside a batch); returns how many it applied.
  Result<std::int64_t> ApplyEverySearchChange() {
    ROUNDS_ASSIGN_OR_RETURN(const std::int64_t waiting, writer_->QueryInt(kSearchPendingRows));
    if (waiting > 0) ROUNDS_RETURN_IF_ERROR(ApplySearchPending());
    return waiting;
  }

  // Called before the batch's callers are woken, so that they see their batch in Metrics().
  void RecordBatch(std::size_t units, std::size_t failed,
                   std::chrono::steady_clock::time_point started) {
    const double micros = MicrosSince(started);
    std::lock_guard lock(metrics_mutex_);
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

  // Declared first so that it is removed last, after every connection to a file in it closed.
  const std::unique_ptr<TemporaryFolder> temporary_folder_;
  const SqliteOptions options_;
  const WriterHooks hooks_;
  const std::unique_ptr<Connection> writer_;  // used only by writer_thread_
  WriterAuditState audit_;                    // writer_thread_ only
  ChangeStamps stamps_;                       // moved by writer_thread_, read by any thread
  std::chrono::steady_clock::time_point audit_indexed_at_;  // writer_thread_ only: last index run
  std::int64_t data_version_ = -1;            // writer_thread_ only: kDataVersion when last read
  // writer_thread_ only: changes queued for the search index as of the last look, when the first
  // of them was seen, and whether a unit of the running batch asked for them to be applied.
  std::int64_t search_pending_ = 0;
  std::chrono::steady_clock::time_point search_pending_since_;
  bool search_requested_ = false;

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<PendingUnit>> queue_;  // guarded by queue_mutex_
  bool closing_ = false;                            // guarded by queue_mutex_
  bool checkpoint_wake_ = false;                    // guarded by queue_mutex_

  std::mutex close_mutex_;
  std::thread writer_thread_;  // joined under close_mutex_; writer_ is free once it is joined
  std::unique_ptr<Connection> checkpointer_;  // checkpoint_thread_ only
  std::thread checkpoint_thread_;             // joined under close_mutex_
  std::condition_variable checkpoint_cv_;     // with queue_mutex_: wakes the checkpointer to close
  std::mutex copy_mutex_;  // held while the log is copied into the database and that is synced
  std::atomic<int> log_frames_{0};  // frames in the log after the last commit (written by the writer)
  std::atomic<std::uint64_t> log_generation_{0};  // bumped by the writer when the log starts over
  // The checkpointer's last copy: the log's generation << 32 | the frames copied and synced.
  std::atomic<std::uint64_t> copied_{0};
  std::uint64_t tried_copied_ = ~0ull;  // writer thread only: copied_ when it last copied itself

  std::mutex readers_mutex_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_

  mutable std::mutex metrics_mutex_;
  StoreMetrics metrics_;  // guarded by metrics_mutex_
};

Status SqliteStore::Backup(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::weakly_canonical(path, ec) == std::filesystem::weakly_canonical(options_.path, ec)) {
    return InvalidArgument("backup_target_is_live", "The backup must go to a different file than the database.");
  }
  // The copy's search index then agrees with its messages (a queue left in it would be applied by
  // the first store to open it, but a tool reading the copy directly would not know).
  ROUNDS_RETURN_IF_ERROR(CatchUpSearch());
  // A dedicated source connection: the copy is one read snapshot (WAL), so writes go on meanwhile
  // and the copy is consistent. The copy is written beside the target and renamed into place, so
  // `path` is either the previous file or a complete backup, never half of one.
  ROUNDS_ASSIGN_OR_RETURN(auto source, Connection::Open(options_.path, options_.sync_full));
  ROUNDS_RETURN_IF_ERROR(source->Exec("PRAGMA query_only=ON"));
  const std::string partial = path + ".partial";
  std::filesystem::remove(partial, ec);
  ROUNDS_RETURN_IF_ERROR(CreatePrivateFile(partial));
  RemovedUnlessKept partial_file{{partial}};
  // An encrypted database's backup is encrypted under the same key: the copy is written through
  // the store's VFS with the key set for its file, and it keeps the pages' reserved bytes.
  const bool encrypted = !options_.encryption_key.empty();
  std::optional<ScopedDatabaseKey> key;
  if (encrypted) key.emplace(partial, KeyOf(options_.encryption_key));
  sqlite3* opened = nullptr;
  int rc = sqlite3_open_v2(partial.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           encrypted ? kCoalescingVfsName : nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> destination(opened, sqlite3_close_v2);  // closed before removed
  if (rc != SQLITE_OK) return tl::unexpected(TranslateError(opened, rc, "open backup file"));
  sqlite3_extended_result_codes(opened, 1);
  if (encrypted) {
    int reserve = kEncryptionReserveBytes;
    sqlite3_file_control(opened, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  }
  rc = sqlite3_exec(opened, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(TranslateError(opened, rc, "backup synchronous"));
  sqlite3_backup* backup = sqlite3_backup_init(opened, "main", source->raw(), "main");
  if (backup == nullptr) {
    return tl::unexpected(TranslateError(opened, sqlite3_extended_errcode(opened), "backup init"));
  }
  rc = sqlite3_backup_step(backup, -1);  // every page in one step: one snapshot of the source
  int finished = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return tl::unexpected(TranslateError(opened, rc, "backup step"));
  if (finished != SQLITE_OK) return tl::unexpected(TranslateError(opened, finished, "backup finish"));
  // The pages carry the WAL flag of the source; the copy becomes a plain single file that any
  // SQLite opens (Rounds switches it back to WAL when it serves from it).
  rc = sqlite3_exec(opened, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(TranslateError(opened, rc, "backup journal mode"));
  rc = sqlite3_close(destination.release());
  if (rc != SQLITE_OK) return Internal("backup close: " + std::string(sqlite3_errstr(rc)));
  std::filesystem::rename(partial, path, ec);
  if (ec) return Internal("backup rename: " + ec.message());
  partial_file.keep = true;
  SyncFolderOf(path);
  log::Info("backup_written", {{"path", path}});
  return Ok();
}

}  // namespace

DatabaseFileKind Inspect(const std::string& path) {
  static constexpr char kMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return DatabaseFileKind::kAbsent;
  char header[sizeof kMagic];
  const ssize_t got = ::pread(fd, header, sizeof header, 0);
  ::close(fd);
  if (got <= 0) return DatabaseFileKind::kAbsent;
  return got == sizeof header && std::memcmp(header, kMagic, sizeof header) == 0 ? DatabaseFileKind::kPlain
                                                                                 : DatabaseFileKind::kEncrypted;
}

// Checks that `options.encryption_key` fits the database at options.path, and sets it for the
// store's VFS. A new database is created encrypted.
Status UseKey(const SqliteOptions& options) {
  const DatabaseFileKind kind = Inspect(options.path);
  if (options.encryption_key.empty()) {
    if (kind == DatabaseFileKind::kEncrypted) {
      return InvalidArgument("database_encrypted",
                             "The database is encrypted (or is not a database): it needs its key file to open.");
    }
    return Ok();
  }
  if (options.encryption_key.size() != sizeof(DatabaseKey)) {
    return InvalidArgument("bad_database_key", "A database key is 32 bytes.");
  }
  if (kind == DatabaseFileKind::kPlain) {
    return InvalidArgument("database_not_encrypted",
                           "The database is not encrypted. Stop the server and run `rounds admin database encrypt`, "
                           "or turn database_encryption off.");
  }
  const DatabaseKey key = KeyOf(options.encryption_key);
  if (kind == DatabaseFileKind::kEncrypted && !KeyOpensDatabase(options.path, key)) {
    return InvalidArgument("database_key_mismatch", "The database key does not open this database.");
  }
  SetDatabaseKey(options.path, key);
  return Ok();
}

Result<std::unique_ptr<Store>> OpenSqliteStoreWithHooks(const SqliteOptions& requested, WriterHooks hooks) {
  SqliteOptions options = requested;
  options.read_connections = std::max(1, options.read_connections);
  options.max_batch_units = std::max(1, options.max_batch_units);
  // ":memory:" would give every connection its own empty database; a private file instead gives
  // the same semantics as a real store and disappears with it.
  std::unique_ptr<TemporaryFolder> folder;
  if (options.path.empty() || options.path == ":memory:") {
    ROUNDS_ASSIGN_OR_RETURN(folder, TemporaryFolder::Create());
    options.path = folder->path() + "/rounds.db";
  }
  std::filesystem::path path(options.path);
  if (path.has_parent_path() && !std::filesystem::exists(path.parent_path())) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return Internal("cannot create data folder " + path.parent_path().string() + ": " + ec.message());
    std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all, ec);
  }
  ROUNDS_RETURN_IF_ERROR(UseKey(options));
  ROUNDS_RETURN_IF_ERROR(CreatePrivateFile(options.path));
  ROUNDS_ASSIGN_OR_RETURN(auto writer, Connection::Open(options.path, options.sync_full));
  // Durability is a promise, not a hope: read the settings back.
  ROUNDS_ASSIGN_OR_RETURN(std::int64_t synchronous, writer->QueryInt(kReadSynchronous));
  if (options.sync_full && synchronous != 2) {
    return Internal("SQLite did not accept synchronous=FULL (it reports " + std::to_string(synchronous) + ")");
  }
  // Deleted text is overwritten in the file, not just unlinked from the b-tree.
  ROUNDS_RETURN_IF_ERROR(writer->Exec("PRAGMA secure_delete=ON"));
  ROUNDS_RETURN_IF_ERROR(Migrate(*writer));
  // Commits leave the write-ahead log to the checkpointer below; the writer copies it itself only
  // past a bound (SqliteStore::OnCommitToLog).
  // Searches look up the terms a typed word begins in the search index's vocabulary (a temp
  // table of each connection's own, nothing in the file).
  ROUNDS_RETURN_IF_ERROR(writer->Exec(kCreateSearchTerms));
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    ROUNDS_ASSIGN_OR_RETURN(auto reader, Connection::Open(options.path, options.sync_full));
    ROUNDS_RETURN_IF_ERROR(reader->Exec(kCreateSearchTerms));
    ROUNDS_RETURN_IF_ERROR(reader->Exec("PRAGMA query_only=ON"));
    readers.push_back(std::move(reader));
  }
  ROUNDS_ASSIGN_OR_RETURN(auto checkpointer, Connection::Open(options.path, options.sync_full));
  return std::unique_ptr<Store>(new SqliteStore(options, std::move(hooks), std::move(folder), std::move(writer),
                                                std::move(readers), std::move(checkpointer)));
}

Result<std::string> CheckFile(const std::string& path, const std::string& key) {
  if (Inspect(path) == DatabaseFileKind::kAbsent) return NotFound("Database '" + path + "'");
  SqliteOptions options;
  options.path = path;
  options.encryption_key = key;
  ROUNDS_RETURN_IF_ERROR(UseKey(options));
  ROUNDS_ASSIGN_OR_RETURN(auto connection, Connection::Open(path, true));
  ROUNDS_RETURN_IF_ERROR(connection->Exec("PRAGMA query_only=ON"));
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(connection->raw(), "PRAGMA integrity_check", -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return tl::unexpected(TranslateError(connection->raw(), rc, "integrity_check"));
  std::string verdict;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (!verdict.empty()) verdict += "\n";
    verdict += text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }
  sqlite3_finalize(stmt);
  // A page that does not authenticate, or cannot be read, stops the check with an error.
  if (rc != SQLITE_DONE) {
    if (!verdict.empty()) verdict += "\n";
    verdict += std::string("cannot read the whole database: ") + sqlite3_errstr(rc);
  }
  return verdict;
}

// Rewrites the database at `path`, opened under `from_key` (empty: plain), as a copy under
// `to_key` beside it (`path` + `suffix`): VACUUM INTO, an integrity check of the copy under its
// key, a sync, then a rename over the original. Nothing may have the database open meanwhile
// (kConflict "database_in_use", `doing` names the operation in its message). On any error the
// original is left as it was.
Status RewriteFile(const std::string& path, const std::string& from_key, const std::string& to_key,
                   const std::string& suffix, const std::string& doing) {
  if (RegisterCoalescingVfs() != SQLITE_OK) return Internal("the store's VFS cannot be registered");
  const std::string copy = path + suffix;
  std::error_code ec;
  std::filesystem::remove(copy, ec);
  ROUNDS_RETURN_IF_ERROR(CreatePrivateFile(copy));
  RemovedUnlessKept copy_files{{copy, copy + "-journal"}};
  // The copy is written through the store's VFS (VACUUM INTO uses the source connection's) with
  // the key set for it; the source is read under its own.
  const ScopedDatabaseKey key(copy, KeyOf(to_key));
  std::optional<ScopedDatabaseKey> source_key;
  if (!from_key.empty()) source_key.emplace(path, KeyOf(from_key));
  {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, kCoalescingVfsName);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> source(db, sqlite3_close_v2);
    if (rc != SQLITE_OK) return tl::unexpected(TranslateError(db, rc, "open " + path));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 2000);
    auto exec = [&](const std::string& sql) -> Status {
      const int r = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
      if (r == SQLITE_BUSY || r == SQLITE_BUSY_SNAPSHOT || r == SQLITE_LOCKED) {
        return Fail(ErrorCode::kConflict, "database_in_use",
                    "The database is open elsewhere: stop the server before " + doing + " it.");
      }
      if (r != SQLITE_OK) return tl::unexpected(TranslateError(db, r, sql));
      return Ok();
    };
    // An exclusive lock for the whole copy: a server with the database open holds a shared lock
    // on it, so this fails rather than copying a database that is changing.
    ROUNDS_RETURN_IF_ERROR(exec("PRAGMA locking_mode=EXCLUSIVE"));
    ROUNDS_RETURN_IF_ERROR(exec("BEGIN EXCLUSIVE"));
    ROUNDS_RETURN_IF_ERROR(exec("COMMIT"));
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &stmt, nullptr);
    const int page_size = stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (page_size != kEncryptedPageBytes) {
      return InvalidArgument("bad_page_size", "Only a database of 4096-byte pages can be encrypted (this one has " +
                                                  std::to_string(page_size) + ").");
    }
    // The copy leaves room at the end of every page for its nonce and tag.
    int reserve = kEncryptionReserveBytes;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    std::string quoted;
    for (char c : copy) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    ROUNDS_RETURN_IF_ERROR(exec("VACUUM INTO '" + quoted + "'"));
  }
  // The copy must open under its key and check out whole before it replaces the original.
  ROUNDS_ASSIGN_OR_RETURN(const std::string verdict, CheckFile(copy, to_key));
  if (verdict != "ok") return Internal("the rewritten copy does not check out: " + verdict);
  const int fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return Internal("cannot sync " + copy + ": " + std::strerror(errno));
  }
  ::close(fd);
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(copy + suffix, ec);
  std::filesystem::rename(copy, path, ec);
  if (ec) return Internal("cannot rename " + copy + ": " + ec.message());
  copy_files.keep = true;
  for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
  SyncFolderOf(path);
  return Ok();
}

Status EncryptFile(const std::string& path, const std::string& key_bytes) {
  switch (Inspect(path)) {
    case DatabaseFileKind::kAbsent: return NotFound("Database '" + path + "'");
    case DatabaseFileKind::kEncrypted:
      return InvalidArgument("database_already_encrypted", "The database is encrypted already.");
    case DatabaseFileKind::kPlain: break;
  }
  if (key_bytes.size() != sizeof(DatabaseKey)) return InvalidArgument("bad_database_key", "A database key is 32 bytes.");
  ROUNDS_RETURN_IF_ERROR(RewriteFile(path, "", key_bytes, ".encrypting", "encrypting"));
  log::Info("database_encrypted", {{"path", path}});
  return Ok();
}

Status RekeyFile(const std::string& path, const std::string& old_key, const std::string& new_key) {
  switch (Inspect(path)) {
    case DatabaseFileKind::kAbsent: return NotFound("Database '" + path + "'");
    case DatabaseFileKind::kPlain:
      return InvalidArgument("database_not_encrypted",
                             "The database is not encrypted: run `rounds admin database encrypt` instead.");
    case DatabaseFileKind::kEncrypted: break;
  }
  if (old_key.size() != sizeof(DatabaseKey) || new_key.size() != sizeof(DatabaseKey)) {
    return InvalidArgument("bad_database_key", "A database key is 32 bytes.");
  }
  if (!KeyOpensDatabase(path, KeyOf(old_key))) {
    return InvalidArgument("database_key_mismatch", "The database key does not open this database.");
  }
  if (old_key == new_key) return InvalidArgument("same_database_key", "The new key is the key the database has.");
  ROUNDS_RETURN_IF_ERROR(RewriteFile(path, old_key, new_key, ".rekeying", "changing the key of"));
  log::Info("database_rekeyed", {{"path", path}});
  return Ok();
}

}  // namespace rounds::store::sqlite

namespace rounds::store {

Result<std::string> CheckDatabaseFile(const std::string& path, const std::string& key) {
  return sqlite::CheckFile(path, key);
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  return sqlite::OpenSqliteStoreWithHooks(options, {});
}

DatabaseFileKind InspectDatabaseFile(const std::string& path) { return sqlite::Inspect(path); }

Status EncryptDatabaseFile(const std::string& path, const std::string& key) { return sqlite::EncryptFile(path, key); }

Status RekeyDatabaseFile(const std::string& path, const std::string& old_key, const std::string& new_key) {
  return sqlite::RekeyFile(path, old_key, new_key);
}

bool KeyOpensDatabaseFile(const std::string& path, const std::string& key) {
  return key.size() == sizeof(sqlite::DatabaseKey) && sqlite::KeyOpensDatabase(path, sqlite::KeyOf(key));
}

}  // namespace rounds::store
