#include "app/database.hpp"

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

}  // namespace

std::string DatabaseKeyPath(const Config& config) {
  return config.database_key_file.empty() ? (std::filesystem::path(config.data_dir) / "keys" / "database.key").string()
                                          : config.database_key_file;
}

Result<std::string> DatabaseKeyFor(const Config& config) {
  const std::string path = DatabaseKeyPath(config);
  switch (store::InspectDatabaseFile(config.DatabasePath())) {
    case store::DatabaseFileKind::kEncrypted: return ReadKey(path);
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

}  // namespace rounds::app
