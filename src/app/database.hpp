// The database the configuration names, opened with the key it is encrypted under (encryption at
// rest, HIPAA 164.312(a)(2)(iv)). The key lives in a file of its own, never in the database; the
// store encrypts every page of the database, its write-ahead log and its backups under it.
#pragma once

#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace rounds::app {

// config.database_key_file, or <data_dir>/keys/database.key.
std::string DatabaseKeyPath(const Config& config);

// The key (32 bytes) the configured database is encrypted under, or is to be; empty when it is
// not encrypted. Creates no key.
//   - An encrypted database: the key file's key, whatever database_encryption says. A key change
//     (RekeyDatabase) that stopped half-way is settled first, unless another process is making
//     it: finished when the database has the new key already, abandoned when it does not.
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

// Where a key change keeps the new key until the database has it: the key file's path + ".next".
std::string NextDatabaseKeyPath(const Config& config);

struct RekeyOutcome {
  std::string key_file;          // holds the new key
  std::string retired_key_file;  // holds the old one, for the backups made under it
};

// Changes the key of the configured encrypted database (key rotation, or a key file that may have
// been exposed). Nothing else may have the database open. In order, each step synced:
//   1. the current key is copied to <key file>.retired-<UTC time>, kept for backups made under it;
//   2. a new random key is written to <key file>.next;
//   3. the database is re-encrypted under the new key (store::RekeyDatabaseFile), its write-ahead
//      log included;
//   4. <key file>.next is renamed over the key file.
// A crash anywhere leaves the database readable with what is on disk: before 3 completes the key
// file still opens it; after, DatabaseKeyFor finishes step 4. Errors: kNotFound (no database),
// kInvalidArgument "database_not_encrypted", those of DatabaseKeyFor and
// store::RekeyDatabaseFile (kConflict "database_in_use" while a server runs), kInternal
// "database_key" when a key file cannot be written. On an error the database keeps its key.
Result<RekeyOutcome> RekeyDatabase(const Config& config, UnixMillis now);

}  // namespace rounds::app
