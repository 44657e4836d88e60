// Thin RAII wrappers over the SQLite C API used by the SQLite store: a connection with a cache of
// prepared statements, and a statement with typed binding and reading. Not thread-safe: each
// connection belongs to one thread at a time (the writer, or a borrowed reader).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.hpp"
#include "store/sqlite/search_tokenizer.hpp"

namespace rounds::store::sqlite {

// Translates a SQLite (extended) result code into an Error, in one place for the whole store:
// unique and primary-key violations are kConflict, check / not-null / trigger aborts are
// kInvalidArgument, a missing referenced row is kNotFound, a busy or full database is
// kUnavailable and everything else (I/O, corruption, misuse) is kInternal. `context` (a statement
// or an operation name, never user data) goes into the internal message only.
Error TranslateError(sqlite3* db, int rc, std::string_view context);

// How long a connection waits for another connection's lock before giving up with SQLITE_BUSY.
inline constexpr int kBusyTimeoutMillis = 10'000;

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  // Binding is 1-based, like ?1, ?2 in the SQL.
  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }
  Statement& Bind(int index, bool value) { return Bind(index, static_cast<std::int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const std::string& value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& BindNull(int index);
  // Binds bytes as a BLOB, in place: `value` must outlive the statement's next step.
  Statement& BindBlobView(int index, std::string_view value);
  // Binds text without copying it: `value` must stay alive and unchanged until the statement is
  // next bound or reset. For the writer's inserts of fields of a record it holds by reference.
  Statement& BindView(int index, std::string_view value);
  template <class T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances to the next row: true with a row, false when done, or an error.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Status Run();

  std::int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  double Double(int column) const { return sqlite3_column_double(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  int Type(int column) const { return sqlite3_column_type(stmt_, column); }  // SQLITE_INTEGER, ...
  std::string Text(int column) const;
  std::string Blob(int column) const;
  std::optional<std::int64_t> OptionalInt(int column) const {
    return IsNull(column) ? std::nullopt : std::optional<std::int64_t>(Int(column));
  }

  // Clears bindings and resets; called before reuse from the cache.
  void Reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // Opens `path` (created if missing) and applies the pragmas every connection needs: WAL,
  // synchronous FULL (or NORMAL when !sync_full), foreign keys, busy timeout, journal size limit.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool sync_full);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Returns a cached prepared statement for `sql`, reset and ready to bind. The reference stays
  // valid for the connection's lifetime; do not interleave two uses of the same SQL.
  Result<Statement*> Prepare(const char* sql);
  // Runs one or more statements with no parameters (DDL, pragmas). Not cached: for migrations
  // and set-up; use Run() on the hot path.
  Status Exec(std::string_view sql);
  // Runs one cached statement without parameters that returns no rows (BEGIN, SAVEPOINT, COMMIT).
  Status Run(const char* sql);
  // Runs a cached single-row, single-column query (e.g. a PRAGMA read-back).
  Result<std::int64_t> QueryInt(const char* sql);
  // Resets every cached statement that is still mid-step, so that none holds a read snapshot or
  // blocks a COMMIT once the unit that used it is over.
  void ResetStatements();
  // True inside an explicit transaction. False after COMMIT/ROLLBACK, and also after SQLite rolled
  // a transaction back by itself (on some I/O, disk-full or out-of-memory errors).
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  std::int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() const { return db_; }
  // The search index's tokenizer on this connection, made on first use.
  Result<SearchTokenizer*> search_tokenizer();

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  struct Entry {
    sqlite3_stmt* stmt;
    std::unique_ptr<Statement> wrapper;
  };
  std::unordered_map<const char*, Entry> cache_;  // keyed by the SQL constant's address
  std::unique_ptr<SearchTokenizer> search_tokenizer_;
};

// audit_index_patient's key for a patient reference ("Patient/mrn-" and 16 lowercase hex
// digits): the 64 bits the digits spell, as a signed integer; nullopt for text of any other form.
// Every connection also has it as the SQL function rounds_patient_key(text) (NULL for another
// form), and the way back as rounds_patient_ref(integer).
std::optional<std::int64_t> PatientKey(std::string_view ref);
std::string PatientRefOfKey(std::int64_t key);

}  // namespace rounds::store::sqlite
