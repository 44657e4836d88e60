// Internal entry points of the SQLite store, for its own tests. Application code opens the store
// with OpenSqliteStore() from store/store.hpp.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace rounds::store::sqlite {

// Seams for fault injection. Each hook runs on the writer thread, on the writer's connection,
// inside the batch's transaction; none may call back into the store.
struct WriterHooks {
  // Inside each unit's savepoint, just before the unit runs; `index` is its position in the batch.
  std::function<void(Connection& writer, std::size_t index)> before_unit;
  // After every unit of a batch ran and before COMMIT: a test can leave something behind that
  // makes the COMMIT itself fail (e.g. a deferred foreign-key violation).
  std::function<void(Connection& writer)> before_commit;
};

// OpenSqliteStore() with hooks.
Result<std::unique_ptr<Store>> OpenSqliteStoreWithHooks(const SqliteOptions& options,
                                                        WriterHooks hooks);

}  // namespace rounds::store::sqlite
