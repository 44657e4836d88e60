// The pre-update hook is declared by sqlite3.h only under this option; Debian's libsqlite3 is built
// with it (PRAGMA compile_options lists ENABLE_PREUPDATE_HOOK), and the build links that library.
#define SQLITE_ENABLE_PREUPDATE_HOOK 1

#include "store/sqlite/change_stamps.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace rounds::store::sqlite {
namespace {

enum class Reach : std::uint8_t {
  kNothing,      // the table leaves access and pages alone, or moves its space through a trigger
  kSpaceRow,     // `spaces`: the row's id is the space
  kSpaceColumn,  // the row's first column is its space's id
  kEverything,
};

struct TableReach {
  std::string_view table;
  Reach reach;
};

// Sorted by name. A table not listed reaches everything.
constexpr TableReach kTables[] = {
    {"attachment_pieces", Reach::kNothing},
    {"attachments", Reach::kNothing},
    {"audit_index_actor", Reach::kNothing},
    {"audit_index_object", Reach::kNothing},
    {"audit_index_state", Reach::kNothing},
    {"audit_log", Reach::kNothing},
    {"audit_tree", Reach::kNothing},
    {"credentials", Reach::kNothing},
    {"ediscovery_exports", Reach::kNothing},
    {"held_deletions", Reach::kNothing},
    {"idea_votes", Reach::kNothing},  // page triggers
    {"legal_holds", Reach::kNothing},
    {"memberships", Reach::kSpaceColumn},
    {"mentions", Reach::kNothing},  // page triggers
    {"message_edits", Reach::kNothing},
    {"message_search_config", Reach::kNothing},
    {"message_search_data", Reach::kNothing},
    {"message_search_docsize", Reach::kNothing},
    {"message_search_idx", Reach::kNothing},
    {"messages", Reach::kNothing},  // page triggers
    {"moderation_actions", Reach::kNothing},
    {"patients", Reach::kNothing},
    {"poll_options", Reach::kNothing},  // page triggers
    {"poll_votes", Reach::kNothing},    // page triggers
    {"reactions", Reach::kNothing},     // page triggers
    {"reports", Reach::kNothing},
    {"retention_runs", Reach::kNothing},
    {"search_pending", Reach::kNothing},
    {"server_secrets", Reach::kNothing},  // written once, by its migration
    {"sessions", Reach::kNothing},  // sessions are checked in the session cache, per request
    {"space_authors", Reach::kNothing},  // who has written where: legal holds only
    {"space_events", Reach::kNothing},
    {"space_suspensions", Reach::kSpaceColumn},
    {"spaces", Reach::kSpaceRow},
    {"sqlite_sequence", Reach::kNothing},
    {"sqlite_stat1", Reach::kNothing},
};

constexpr bool Sorted() {
  for (std::size_t i = 1; i < std::size(kTables); ++i) {
    if (!(kTables[i - 1].table < kTables[i].table)) return false;
  }
  return true;
}
static_assert(Sorted(), "kTables must be sorted by name for the binary search");

Reach ReachOf(std::string_view table) {
  const auto* it = std::lower_bound(std::begin(kTables), std::end(kTables), table,
                                    [](const TableReach& t, std::string_view name) { return t.table < name; });
  return it != std::end(kTables) && it->table == table ? it->reach : Reach::kEverything;
}

}  // namespace

void ChangeStamps::Watch(sqlite3* writer) { sqlite3_preupdate_hook(writer, &ChangeStamps::OnRowChange, this); }

void ChangeStamps::OnRowChange(void* context, sqlite3* db, int op, const char* database, const char* table,
                               sqlite3_int64 old_key, sqlite3_int64 new_key) {
  auto& self = *static_cast<ChangeStamps*>(context);
  if (std::strcmp(database, "main") != 0) return;  // the connection's temporary tables
  switch (ReachOf(table)) {
    case Reach::kNothing:
      return;
    case Reach::kSpaceRow:
      if (op != SQLITE_INSERT) self.MarkSpace(old_key);
      if (op != SQLITE_DELETE) self.MarkSpace(new_key);
      return;
    case Reach::kSpaceColumn:
      // The row's space before and after the change; a row whose space cannot be read reaches all.
      if (op != SQLITE_INSERT && !self.MarkFirstColumn(db, sqlite3_preupdate_old)) self.everything_pending_ = true;
      if (op != SQLITE_DELETE && !self.MarkFirstColumn(db, sqlite3_preupdate_new)) self.everything_pending_ = true;
      return;
    case Reach::kEverything:
      self.everything_pending_ = true;
      return;
  }
}

bool ChangeStamps::MarkFirstColumn(sqlite3* db, int (*read)(sqlite3*, int, sqlite3_value**)) {
  sqlite3_value* value = nullptr;
  if (read(db, 0, &value) != SQLITE_OK || value == nullptr || sqlite3_value_type(value) != SQLITE_INTEGER) return false;
  MarkSpace(sqlite3_value_int64(value));
  return true;
}

void ChangeStamps::MarkSpace(std::int64_t space) {
  if (!spaces_pending_.empty() && spaces_pending_.back() == space) return;
  spaces_pending_.push_back(space);
}

void ChangeStamps::Publish() {
  if (everything_pending_) {
    everything_.fetch_add(1, std::memory_order_acq_rel);
    everything_pending_ = false;
  }
  for (std::int64_t space : spaces_pending_) {
    spaces_[static_cast<std::uint64_t>(space) % kSpaceSlots].fetch_add(1, std::memory_order_acq_rel);
  }
  spaces_pending_.clear();
}

void ChangeStamps::MoveEverything() { everything_.fetch_add(1, std::memory_order_acq_rel); }

ChangeStamp ChangeStamps::Stamp(SpaceId space) const {
  return ChangeStamp{everything_.load(std::memory_order_acquire),
                     spaces_[static_cast<std::uint64_t>(space) % kSpaceSlots].load(std::memory_order_acquire)};
}

}  // namespace rounds::store::sqlite
