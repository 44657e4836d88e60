// The SQLite store's change stamps (store.hpp, ChangeStamp): counters that readers compare
// instead of reading, moved by the writer after each commit according to the rows it changed.
// Internal to the SQLite store.
//
// SQLite's pre-update hook on the writer's connection sees every row the connection inserts,
// updates or deletes (rowid and WITHOUT ROWID tables alike, rows changed by triggers included),
// before the change. Each row change is sorted by its table:
//   - a space's row moves that space's counter; every change to what the space's pages show
//     reaches that row through the content-version triggers (migration 0009);
//   - a membership or a suspension moves its space's counter;
//   - tables known to leave access and pages alone otherwise (messages and the rows that belong
//     to them, which move their space through those triggers; events, search, audit, sessions,
//     credentials, attachments, moderation records, retention and export records) move nothing;
//   - any other table (accounts, departments, templates, grants, the directory version, and any
//     table added later and not listed here) moves `everything`.
// What a transaction changed is published after its commit is in the log (the writer's WAL hook),
// before any caller of the transaction is answered. A rolled-back change is published with the
// next commit: a counter that moves without need costs a reader one read, never a wrong answer.
#pragma once

#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "store/store.hpp"

namespace rounds::store::sqlite {

class ChangeStamps {
 public:
  // Spaces share a counter when their ids are equal modulo this.
  static constexpr std::size_t kSpaceSlots = 4096;

  ChangeStamps() = default;
  ChangeStamps(const ChangeStamps&) = delete;
  ChangeStamps& operator=(const ChangeStamps&) = delete;

  // Watches every row `writer` changes from now on. Writer thread only, like everything below
  // but Stamp(); at most one store per connection.
  void Watch(sqlite3* writer);
  // After a commit: publishes what it (and anything rolled back since the last one) changed.
  void Publish();
  // Another process committed: anything may have changed.
  void MoveEverything();

  // Any thread.
  ChangeStamp Stamp(SpaceId space) const;
  // How many times `everything` moved since the store opened.
  std::uint64_t everything_moves() const { return everything_.load(std::memory_order_relaxed); }

 private:
  static void OnRowChange(void* context, sqlite3* db, int op, const char* database, const char* table,
                          sqlite3_int64 old_key, sqlite3_int64 new_key);
  // Marks the space in the changing row's first column, as `read` (the pre-update hook's old or
  // new values) gives it; false when it is not an integer.
  bool MarkFirstColumn(sqlite3* db, int (*read)(sqlite3*, int, sqlite3_value**));
  void MarkSpace(std::int64_t space);

  std::atomic<std::uint64_t> everything_{0};
  std::array<std::atomic<std::uint64_t>, kSpaceSlots> spaces_{};
  // Writer thread only: changed since the last Publish.
  bool everything_pending_ = false;
  std::vector<std::int64_t> spaces_pending_;
};

}  // namespace rounds::store::sqlite
