// The database the configuration names, opened with the key it is encrypted under (encryption at
// rest, HIPAA 164.312(a)(2)(iv)). The key lives in a file of its own, never in the database; the
// store encrypts every page of the database, its write-ahead log and its backups under it.
#pragma once

#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace rounds::app {

// config.database_key_file, or <data_dir>/keys/database.key.
std::string DatabaseKeyPath(const Config& config);

// The key (32 bytes) the configured database is encrypted under, or is to be; empty when it is
// not encrypted. Creates nothing.
//   - An encrypted database: the key file's key, whatever database_encryption says.
//   - A plain database: empty (a warning is logged while database_encryption is on).
//   - No database yet: with database_encryption on, the key file's key if there is one (a
//     restored data folder); otherwise empty.
// Errors: kInternal "database_key" when the key file is needed and is missing, unreadable or not
// 64 hex digits.
Result<std::string> DatabaseKeyFor(const Config& config);

// Opens the configured database with its key (DatabaseKeyFor). A database it is about to create
// with database_encryption on and no key file gets a new key first, written (0600) and synced
// before the database exists. Errors: those of DatabaseKeyFor, "database_key" when the key file
// cannot be written, and the store's.
Result<std::unique_ptr<store::Store>> OpenDatabase(const Config& config, int read_connections,
                                                   bool sync_full = true);

// Encrypts the configured plain database in place under the key file's key, creating the key
// file first when there is none. Nothing else may have the database open (kConflict
// "database_in_use"). Other errors: those of DatabaseKeyFor and store::EncryptDatabaseFile.
Status EncryptDatabase(const Config& config);

}  // namespace rounds::app
