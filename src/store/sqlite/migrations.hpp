// The SQLite schema migrations compiled into the binary. Internal to the SQLite store.
//
// The source of truth is migrations/sqlite/NNNN_name.sql; the build embeds every file of that
// folder, in name order, as the list below (see the top-level CMakeLists.txt). Migration N
// (1-based) is the list's entry N-1, so files are numbered without gaps and never edited once
// released: a change to the schema is a new file.
#pragma once

#include <span>
#include <string_view>

namespace rounds::store::sqlite {

struct Migration {
  std::string_view name;  // file name, e.g. "0001_init.sql"
  std::string_view sql;   // the file's exact contents
};

// Every migration this binary knows, oldest first. Thread-safe (constant data).
std::span<const Migration> Migrations();

// The schema version a database has once every migration above is applied.
int LatestSchemaVersion();

}  // namespace rounds::store::sqlite
