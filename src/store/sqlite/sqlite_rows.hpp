// Reading rows of a prepared statement into values. Internal to the SQLite store; shared by the
// SqliteTx implementation files.
#pragma once

#include <optional>
#include <vector>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace rounds::store::sqlite {

template <class T, class F>
Result<std::vector<T>> ReadAll(Statement& statement, F read) {
  std::vector<T> out;
  while (true) {
    ROUNDS_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) break;
    out.push_back(read(statement));
  }
  return out;
}

template <class T, class F>
Result<std::optional<T>> ReadOne(Statement& statement, F read) {
  ROUNDS_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return std::optional<T>();
  T value = read(statement);
  statement.Reset();
  return std::optional<T>(std::move(value));
}

// The message columns every message query selects (table alias m), in ReadMessageRow's order.
#define ROUNDS_MESSAGE_COLUMNS \
  "m.id, m.space_id, m.seq, m.author_id, m.kind, m.parent_id, m.title, m.body, m.client_id, " \
  "m.created_at, m.edited_at, m.deleted, m.pinned, m.accepted_answer_id, m.reply_count, m.vote_count, " \
  "m.state, m.hold_reason, m.phi_types, m.patient_refs"

// The space columns every space query selects (table alias s), in ReadSpace's order.
#define ROUNDS_SPACE_COLUMNS \
  "s.id, s.kind, s.name, s.topic, s.visibility, s.join_policy, s.archived, coalesce(s.direct_key, ''), " \
  "s.created_by, s.created_at, s.last_seq, s.member_count, s.template_key, s.template_version"

// A space row whose columns start at column `c`.
domain::Space ReadSpace(const Statement& s, int c = 0);

// An audit_log row (seq, time, actor_id, ... prev_hash, hash, in the table's column order).
domain::AuditRecord ReadAudit(const Statement& s);

// A message row selected with ROUNDS_MESSAGE_COLUMNS first (details are loaded separately).
domain::Message ReadMessageRow(const Statement& s);

}  // namespace rounds::store::sqlite
