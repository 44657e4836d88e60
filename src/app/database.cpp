#include "app/database.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include "app/key_file.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"

namespace rounds::app {

namespace {

Error KeyProblem(const std::string& path, const std::string& why) {
  return Error{ErrorCode::kInternal, "database_key",
               "The database key file " + path + " " + why + ". Without the key the database cannot be read.",
               path + ": " + why};
}

// The key in the file at `path`: missing, unreadable or malformed is an error.
Result<std::string> ReadKey(const std::string& path) {
  auto text = ReadTrimmed(path);
  if (!text) return tl::unexpected(KeyProblem(path, "cannot be read"));
  std::optional<std::string> key = crypto::FromHex(*text);
  if (!key || key->size() != crypto::kSecretKeyBytes) {
    return tl::unexpected(KeyProblem(path, "does not hold a key (64 hex digits)"));
  }
  return *key;
}

// A new key in a new file at `path`, synced with its folder before the caller creates anything
// encrypted under it.
Result<std::string> CreateKey(const std::string& path) {
  const std::string key = crypto::RandomBytes(crypto::kSecretKeyBytes);
  ROUNDS_RETURN_IF_ERROR(WriteNewFile(path, crypto::ToHex(key) + "\n", 0600, "database_key", "the database key"));
  log::Info("database_key_created", {{"path", path}});
  return key;
}

// An exclusive advisory lock on the key change's lock file (<key file>.lock, made when missing),
// held while it lives if it was free: one process at a time changes the key or settles a change
// that stopped half-way, so a change in progress never has its new key taken for a stale one.
class KeyChangeLock {
 public:
  explicit KeyChangeLock(const std::string& key_file) {
    const std::string path = key_file + ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~KeyChangeLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  KeyChangeLock(const KeyChangeLock&) = delete;
  KeyChangeLock& operator=(const KeyChangeLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Settles a key change that stopped half-way, with its lock held: the new key is at `next` until
// the database has it and the key file is replaced.
Status SettleKeyChange(const std::string& database, const std::string& path, const std::string& next) {
  std::error_code ec;
  if (!std::filesystem::exists(next, ec)) return Ok();
  Result<std::string> next_key = ReadKey(next);
  if (next_key && store::KeyOpensDatabaseFile(database, *next_key)) {
    // The database has the new key: only the key file's replacement was left.
    ROUNDS_RETURN_IF_ERROR(ReplaceFile(next, path, "database_key"));
    log::Warn("database_key_change_finished", {{"key_file", path}});
    return Ok();
  }
  // The database never got the new key (a file written part-way holds none): the old one stands.
  std::filesystem::remove(next, ec);
  log::Warn("database_key_change_abandoned", {{"key_file", path}});
  return Ok();
}

// The key of an encrypted database, after settling a key change that stopped half-way. A change
// another process is making is left to it.
Result<std::string> EncryptedDatabaseKey(const std::string& database, const std::string& path,
                                         const std::string& next) {
  std::error_code ec;
  if (std::filesystem::exists(next, ec)) {
    const KeyChangeLock lock(path);
    if (lock.held()) ROUNDS_RETURN_IF_ERROR(SettleKeyChange(database, path, next));
  }
  return ReadKey(path);
}

}  // namespace

std::string NextDatabaseKeyPath(const Config& config) { return DatabaseKeyPath(config) + ".next"; }

std::string DatabaseKeyPath(const Config& config) {
  return config.database_key_file.empty() ? (std::filesystem::path(config.data_dir) / "keys" / "database.key").string()
                                          : config.database_key_file;
}

Result<std::string> DatabaseKeyFor(const Config& config) {
  const std::string path = DatabaseKeyPath(config);
  switch (store::InspectDatabaseFile(config.DatabasePath())) {
    case store::DatabaseFileKind::kEncrypted:
      return EncryptedDatabaseKey(config.DatabasePath(), path, NextDatabaseKeyPath(config));
    case store::DatabaseFileKind::kPlain:
      if (config.database_encryption) {
        log::Warn("database_not_encrypted", {{"path", config.DatabasePath()},
                                             {"advice", "stop the server and run: rounds admin database encrypt"}});
      }
      return std::string();
    case store::DatabaseFileKind::kAbsent: break;
  }
  std::error_code ec;
  if (!config.database_encryption || !std::filesystem::exists(path, ec)) return std::string();
  return ReadKey(path);
}

Result<std::unique_ptr<store::Store>> OpenDatabase(const Config& config, int read_connections, bool sync_full) {
  ROUNDS_ASSIGN_OR_RETURN(std::string key, DatabaseKeyFor(config));
  // The store is about to create the database: its key comes first.
  if (key.empty() && config.database_encryption &&
      store::InspectDatabaseFile(config.DatabasePath()) == store::DatabaseFileKind::kAbsent) {
    ROUNDS_ASSIGN_OR_RETURN(key, CreateKey(DatabaseKeyPath(config)));
  }
  return store::OpenSqliteStore({.path = config.DatabasePath(),
                                 .read_connections = read_connections,
                                 .sync_full = sync_full,
                                 .encryption_key = std::move(key)});
}

Status EncryptDatabase(const Config& config) {
  const std::string path = DatabaseKeyPath(config);
  std::error_code ec;
  std::string key;
  if (std::filesystem::exists(path, ec)) {
    ROUNDS_ASSIGN_OR_RETURN(key, ReadKey(path));
  } else if (store::InspectDatabaseFile(config.DatabasePath()) == store::DatabaseFileKind::kPlain) {
    ROUNDS_ASSIGN_OR_RETURN(key, CreateKey(path));
  }
  return store::EncryptDatabaseFile(config.DatabasePath(), key);
}

Result<RekeyOutcome> RekeyDatabase(const Config& config, UnixMillis now) {
  const std::string database = config.DatabasePath();
  switch (store::InspectDatabaseFile(database)) {
    case store::DatabaseFileKind::kAbsent: return NotFound("Database '" + database + "'");
    case store::DatabaseFileKind::kPlain:
      return InvalidArgument("database_not_encrypted",
                             "The database is not encrypted: run `rounds admin database encrypt` first.");
    case store::DatabaseFileKind::kEncrypted: break;
  }
  const std::string key_file = DatabaseKeyPath(config);
  const std::string next = NextDatabaseKeyPath(config);
  const KeyChangeLock lock(key_file);
  if (!lock.held()) {
    return Fail(ErrorCode::kConflict, "database_key_change_in_progress",
                "Another process is changing the database key, or its key folder cannot be written.",
                key_file + ".lock");
  }
  ROUNDS_RETURN_IF_ERROR(SettleKeyChange(database, key_file, next));
  ROUNDS_ASSIGN_OR_RETURN(const std::string old_key, ReadKey(key_file));
  if (!store::KeyOpensDatabaseFile(database, old_key)) {
    return InvalidArgument("database_key_mismatch", "The database key does not open this database.");
  }
  RekeyOutcome out;
  out.key_file = key_file;
  std::string stamp;
  for (char c : FormatIso8601(now)) {
    if (c != '-' && c != ':' && c != '.') stamp += c;
  }
  out.retired_key_file = out.key_file + ".retired-" + stamp;
  ROUNDS_RETURN_IF_ERROR(WriteNewFile(out.retired_key_file, crypto::ToHex(old_key) + "\n", 0600, "database_key",
                                      "the retired database key"));
  const std::string new_key = crypto::RandomBytes(crypto::kSecretKeyBytes);
  std::error_code ec;
  if (Status written = WriteNewFile(next, crypto::ToHex(new_key) + "\n", 0600, "database_key", "the new database key");
      !written) {
    std::filesystem::remove(out.retired_key_file, ec);
    return tl::unexpected(written.error());
  }
  if (Status rekeyed = store::RekeyDatabaseFile(database, old_key, new_key); !rekeyed) {
    // Nothing changed unless the database has the new key after all; then it is finished below.
    if (!store::KeyOpensDatabaseFile(database, new_key)) {
      std::filesystem::remove(next, ec);
      std::filesystem::remove(out.retired_key_file, ec);
      return tl::unexpected(rekeyed.error());
    }
  }
  ROUNDS_RETURN_IF_ERROR(ReplaceFile(next, out.key_file, "database_key"));
  log::Info("database_key_changed", {{"key_file", out.key_file}, {"retired_key_file", out.retired_key_file}});
  return out;
}

}  // namespace rounds::app
