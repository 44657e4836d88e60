// SqliteTx: filtered search of the audit trail (schema: migrations/sqlite/0003_audit.sql).
// Appending and paging by seq are in sqlite_tx.cpp. A search walks the primary key from its seq
// bound and stops at the limit, so a page costs what it returns plus what the filters skip.
#include "store/sqlite/sqlite_rows.hpp"
#include "store/sqlite/sqlite_tx.hpp"

namespace rounds::store::sqlite {
namespace {

// One statement per direction; an unset filter is bound as NULL (or '') and matches everything,
// so no SQL is ever built from input. ?1 actor, ?2 action prefix, ?3 object type, ?4 object id,
// ?5 outcome, ?6 from, ?7 to, ?8 seq bound, ?9 limit.
#define ROUNDS_AUDIT_SEARCH_SELECT                                                                     \
  "SELECT seq, time, actor_id, actor_role, action, object_type, object_id, patient_ref, outcome, "    \
  "address, session_hash, reason, details, prev_hash, hash FROM audit_log "                            \
  "WHERE (?1 IS NULL OR actor_id = ?1) "                                                               \
  "AND (?2 = '' OR substr(action, 1, length(?2)) = ?2) "                                               \
  "AND (?3 = '' OR object_type = ?3) AND (?4 = '' OR object_id = ?4) "                                 \
  "AND (?5 IS NULL OR outcome = ?5) AND (?6 IS NULL OR time >= ?6) AND (?7 IS NULL OR time < ?7) "
constexpr const char kSearchAuditNewestFirst[] =
    ROUNDS_AUDIT_SEARCH_SELECT "AND (?8 IS NULL OR seq < ?8) ORDER BY seq DESC LIMIT ?9";
constexpr const char kSearchAuditOldestFirst[] =
    ROUNDS_AUDIT_SEARCH_SELECT "AND seq > ?8 ORDER BY seq LIMIT ?9";
#undef ROUNDS_AUDIT_SEARCH_SELECT


}  // namespace

Result<std::vector<AuditRecord>> SqliteTx::SearchAudit(const AuditQuery& q) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(q.after_seq ? kSearchAuditOldestFirst : kSearchAuditNewestFirst));
  s->Bind(1, q.actor_id).Bind(2, q.action_prefix).Bind(3, q.object_type).Bind(4, q.object_id);
  if (q.outcome) {
    s->Bind(5, ToString(*q.outcome));
  } else {
    s->BindNull(5);
  }
  s->Bind(6, q.from).Bind(7, q.to);
  s->Bind(8, q.after_seq ? q.after_seq : q.before_seq);
  s->Bind(9, q.limit <= 0 ? 50 : q.limit);
  return ReadAll<AuditRecord>(*s, ReadAudit);
}

}  // namespace rounds::store::sqlite
