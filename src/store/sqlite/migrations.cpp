#include "store/sqlite/migrations.hpp"

#include <iterator>

namespace rounds::store::sqlite {
namespace {

// sqlite_migrations.inc is generated at configure time from migrations/sqlite/*.sql: one
// {"NNNN_name.sql", R"rounds_sql(...)rounds_sql"} entry per file. migrations_test.cpp checks that
// it matches the files in the source tree, so a stale build cannot ship an old schema silently.
constexpr Migration kMigrations[] = {
#include "sqlite_migrations.inc"
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

}  // namespace rounds::store::sqlite
