#include "store/sqlite/sqlite_db.hpp"

#include "core/text_fold.hpp"
#include "store/sqlite/coalescing_vfs.hpp"
#include "store/sqlite/search_tokenizer.hpp"

namespace rounds::store::sqlite {

Error TranslateError(sqlite3* db, int rc, std::string_view context) {
  std::string detail = std::string(context) + ": " +
                       (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) + " (" +
                       std::to_string(rc) + ")";
  switch (rc & 0xFF) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Error{ErrorCode::kConflict, "conflict", "That already exists.", detail};
      }
      if (rc == SQLITE_CONSTRAINT_CHECK || rc == SQLITE_CONSTRAINT_NOTNULL ||
          rc == SQLITE_CONSTRAINT_TRIGGER || rc == SQLITE_CONSTRAINT_DATATYPE) {
        return Error{ErrorCode::kInvalidArgument, "invalid_value", "A value is not allowed.", detail};
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return Error{ErrorCode::kNotFound, "not_found", "A referenced record does not exist.", detail};
      }
      return Error{ErrorCode::kConflict, "conflict", "The change conflicts with existing data.", detail};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{ErrorCode::kUnavailable, "busy", "The database is busy; try again.", detail};
    case SQLITE_FULL:
      return Error{ErrorCode::kUnavailable, "storage_full", "The server's storage is full.", detail};
    case SQLITE_INTERRUPT:
      return Error{ErrorCode::kUnavailable, "interrupted", "The operation was interrupted; try again.", detail};
    case SQLITE_TOOBIG:
      return Error{ErrorCode::kPayloadTooLarge, "too_large", "A value is too large to store.", detail};
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return Error{ErrorCode::kInvalidArgument, "invalid_value", "A value is not allowed.", detail};
    default:
      return Error{ErrorCode::kInternal, "internal", "Something went wrong on the server.", detail};
  }
}

Statement& Statement::Bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindView(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = TranslateError(db_, sqlite3_extended_errcode(db_), sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return tl::unexpected(std::move(e));
}

Statement& Statement::BindBlobView(int index, std::string_view value) {
  if (value.empty()) {
    sqlite3_bind_zeroblob(stmt_, index, 0);  // a null pointer would bind NULL
  } else {
    sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_STATIC);
  }
  return *this;
}

std::string Statement::Blob(int column) const {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (bytes == nullptr) return {};
  return std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

Status Statement::Run() {
  auto r = Step();
  if (!r) return tl::unexpected(r.error());
  return Ok();
}

std::string Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

namespace {

void FoldFunction(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const int bytes = sqlite3_value_bytes(argv[0]);
  std::string folded = FoldForMatching(std::string_view(text == nullptr ? "" : text, static_cast<std::size_t>(bytes)));
  sqlite3_result_text64(context, folded.data(), folded.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void PatientKeyFunction(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) return sqlite3_result_null(context);
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const auto key = PatientKey(std::string_view(text == nullptr ? "" : text,
                                               static_cast<std::size_t>(sqlite3_value_bytes(argv[0]))));
  if (!key) return sqlite3_result_null(context);
  sqlite3_result_int64(context, *key);
}

void PatientRefFunction(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER) return sqlite3_result_null(context);
  const std::string ref = PatientRefOfKey(sqlite3_value_int64(argv[0]));
  sqlite3_result_text64(context, ref.data(), ref.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

constexpr std::string_view kPatientRefPrefix = "Patient/mrn-";
constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

std::optional<std::int64_t> PatientKey(std::string_view ref) {
  if (ref.size() != kPatientRefPrefix.size() + 16 || ref.substr(0, kPatientRefPrefix.size()) != kPatientRefPrefix) {
    return std::nullopt;
  }
  std::uint64_t bits = 0;
  for (char c : ref.substr(kPatientRefPrefix.size())) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return std::nullopt;
    bits = (bits << 4) | static_cast<std::uint64_t>(digit);
  }
  return static_cast<std::int64_t>(bits);
}

std::string PatientRefOfKey(std::int64_t key) {
  std::string ref(kPatientRefPrefix);
  const auto bits = static_cast<std::uint64_t>(key);
  for (int shift = 60; shift >= 0; shift -= 4) ref.push_back(kHexDigits[(bits >> shift) & 0xf]);
  return ref;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool sync_full) {
  sqlite3* db = nullptr;
  // Each transaction's log frames go to the file in one write (see coalescing_vfs.hpp).
  const char* vfs = RegisterCoalescingVfs() == SQLITE_OK ? kCoalescingVfsName : nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
  if (rc != SQLITE_OK) {
    Error e = TranslateError(db, rc, "open " + path);
    sqlite3_close(db);
    return tl::unexpected(std::move(e));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMillis);
  // rounds_fold(text): FoldForMatching, for case- and accent-blind keyword matching in SQL.
  sqlite3_create_function_v2(db, "rounds_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                             &FoldFunction, nullptr, nullptr, nullptr);
  // rounds_patient_key(text), rounds_patient_ref(integer): PatientKey and PatientRefOfKey.
  sqlite3_create_function_v2(db, "rounds_patient_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                             nullptr, &PatientKeyFunction, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "rounds_patient_ref", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                             nullptr, &PatientRefFunction, nullptr, nullptr, nullptr);
  std::unique_ptr<Connection> connection(new Connection(db));
  if (HasDatabaseKey(path)) {
    // A database created encrypted has 4 KiB pages and leaves room at the end of each for its
    // nonce and tag; on an existing database both settings are already fixed and this changes
    // nothing.
    int reserve = kEncryptionReserveBytes;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    ROUNDS_RETURN_IF_ERROR(connection->Exec("PRAGMA page_size=" + std::to_string(kEncryptedPageBytes)));
  }
  ROUNDS_RETURN_IF_ERROR(connection->Exec("PRAGMA journal_mode=WAL"));
  ROUNDS_RETURN_IF_ERROR(connection->Exec(sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  ROUNDS_RETURN_IF_ERROR(connection->Exec("PRAGMA foreign_keys=ON"));
  ROUNDS_RETURN_IF_ERROR(connection->Exec("PRAGMA journal_size_limit=67108864"));
  ROUNDS_RETURN_IF_ERROR(connection->Exec("PRAGMA cache_size=-16000"));
  ROUNDS_RETURN_IF_ERROR(connection->Exec("PRAGMA temp_store=MEMORY"));
  return connection;
}

Connection::~Connection() {
  search_tokenizer_.reset();  // made by this connection's FTS5
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
  sqlite3_close_v2(db_);
}

Result<SearchTokenizer*> Connection::search_tokenizer() {
  if (!search_tokenizer_) {
    ROUNDS_ASSIGN_OR_RETURN(search_tokenizer_, SearchTokenizer::Create(db_));
  }
  return search_tokenizer_.get();
}

Result<Statement*> Connection::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return tl::unexpected(TranslateError(db_, rc, sql));
    it = cache_.emplace(sql, Entry{stmt, std::make_unique<Statement>(db_, stmt)}).first;
  }
  it->second.wrapper->Reset();
  return it->second.wrapper.get();
}

Status Connection::Run(const char* sql) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * statement, Prepare(sql));
  Status status = statement->Run();
  statement->Reset();
  return status;
}

Result<std::int64_t> Connection::QueryInt(const char* sql) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * statement, Prepare(sql));
  ROUNDS_ASSIGN_OR_RETURN(bool row, statement->Step());
  std::int64_t value = row ? statement->Int(0) : 0;
  statement->Reset();
  if (!row) return Internal(std::string("no row from ") + sql);
  return value;
}

void Connection::ResetStatements() {
  for (auto& [sql, entry] : cache_) {
    if (sqlite3_stmt_busy(entry.stmt) != 0) sqlite3_reset(entry.stmt);
  }
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    Error e = TranslateError(db_, sqlite3_extended_errcode(db_), text.substr(0, 60));
    sqlite3_free(message);
    return tl::unexpected(std::move(e));
  }
  return Ok();
}

}  // namespace rounds::store::sqlite
