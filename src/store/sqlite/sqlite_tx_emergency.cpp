// SqliteTx: emergency access grants (migration 0015_emergency_access.sql).
#include <algorithm>

#include "store/sqlite/sqlite_rows.hpp"
#include "store/sqlite/sqlite_tx.hpp"

namespace rounds::store::sqlite {
namespace {

#define ROUNDS_GRANT_COLUMNS                                                                          \
  "id, user_id, space_id, reason, purpose, started_at, expires_at, ended_at, end_kind, ended_by, " \
  "review_outcome, review_note, reviewed_by, reviewed_at"
constexpr const char kInsertGrant[] =
    "INSERT INTO emergency_grants (user_id, space_id, reason, purpose, started_at, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char kFindGrant[] = "SELECT " ROUNDS_GRANT_COLUMNS " FROM emergency_grants WHERE id = ?1";
constexpr const char kFindActiveGrant[] =
    "SELECT " ROUNDS_GRANT_COLUMNS " FROM emergency_grants "
    "WHERE space_id = ?1 AND user_id = ?2 AND ended_at IS NULL AND expires_at > ?3 ORDER BY id DESC LIMIT 1";
// ?1 user id or NULL for everyone's; ?2 state (0 all, 1 active, 2 unreviewed); ?3 now;
// ?4 before id (0: none); ?5 limit.
constexpr const char kListGrants[] =
    "SELECT " ROUNDS_GRANT_COLUMNS " FROM emergency_grants "
    "WHERE (?1 IS NULL OR user_id = ?1) AND (?4 = 0 OR id < ?4) "
    "AND (?2 = 0 OR (?2 = 1 AND ended_at IS NULL AND expires_at > ?3) "
    "     OR (?2 = 2 AND review_outcome IS NULL AND (ended_at IS NOT NULL OR expires_at <= ?3))) "
    "ORDER BY id DESC LIMIT ?5";
constexpr const char kListLapsed[] =
    "SELECT " ROUNDS_GRANT_COLUMNS " FROM emergency_grants "
    "WHERE ended_at IS NULL AND expires_at <= ?1 ORDER BY expires_at, id LIMIT ?2";
constexpr const char kCountGrants[] =
    "SELECT coalesce(sum(ended_at IS NULL AND expires_at > ?1), 0), "
    "coalesce(sum(review_outcome IS NULL AND (ended_at IS NOT NULL OR expires_at <= ?1)), 0) FROM emergency_grants";
constexpr const char kComplianceOfficers[] =
    "SELECT id FROM users WHERE is_compliance = 1 AND disabled = 0 ORDER BY id";
constexpr const char kEndGrant[] =
    "UPDATE emergency_grants SET ended_at = ?2, end_kind = ?3, ended_by = ?4 WHERE id = ?1 AND ended_at IS NULL";
constexpr const char kReviewGrant[] =
    "UPDATE emergency_grants SET review_outcome = ?2, review_note = ?3, reviewed_by = ?4, reviewed_at = ?5 "
    "WHERE id = ?1 AND review_outcome IS NULL";

EmergencyGrant ReadGrant(const Statement& s) {
  EmergencyGrant g;
  g.id = s.Int(0);
  g.user_id = s.Int(1);
  g.space_id = s.Int(2);
  g.reason = s.Text(3);
  g.purpose = s.Text(4);
  g.started_at = s.Int(5);
  g.expires_at = s.Int(6);
  g.ended_at = s.OptionalInt(7);
  g.end_kind = s.Text(8);
  g.ended_by = s.OptionalInt(9);
  g.review_outcome = s.Text(10);
  g.review_note = s.Text(11);
  g.reviewed_by = s.OptionalInt(12);
  g.reviewed_at = s.OptionalInt(13);
  return g;
}

Result<std::optional<EmergencyGrant>> FirstGrant(Statement& s) {
  ROUNDS_ASSIGN_OR_RETURN(auto rows, ReadAll<EmergencyGrant>(s, ReadGrant));
  if (rows.empty()) return std::optional<EmergencyGrant>();
  return std::optional<EmergencyGrant>(std::move(rows.front()));
}

int Clamp(int limit) { return limit <= 0 ? 50 : std::min(limit, 500); }

}  // namespace

Result<std::optional<EmergencyGrant>> SqliteTx::FindEmergencyGrant(EmergencyGrantId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindGrant));
  s->Bind(1, id);
  return FirstGrant(*s);
}

Result<std::optional<EmergencyGrant>> SqliteTx::FindActiveEmergencyGrant(SpaceId space_id, UserId user_id,
                                                                         UnixMillis now) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindActiveGrant));
  s->Bind(1, space_id).Bind(2, user_id).Bind(3, now);
  return FirstGrant(*s);
}

Result<std::vector<EmergencyGrant>> SqliteTx::ListEmergencyGrants(const GrantQuery& query) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListGrants));
  const int state = query.state == GrantState::kActive ? 1 : query.state == GrantState::kUnreviewed ? 2 : 0;
  s->Bind(1, query.user_id).Bind(2, state).Bind(3, query.now).Bind(4, query.before_id).Bind(5, Clamp(query.limit));
  return ReadAll<EmergencyGrant>(*s, ReadGrant);
}

Result<std::vector<EmergencyGrant>> SqliteTx::ListLapsedEmergencyGrants(UnixMillis now, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListLapsed));
  s->Bind(1, now).Bind(2, Clamp(limit));
  return ReadAll<EmergencyGrant>(*s, ReadGrant);
}

Result<GrantCounts> SqliteTx::CountEmergencyGrants(UnixMillis now) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kCountGrants));
  s->Bind(1, now);
  ROUNDS_ASSIGN_OR_RETURN(auto counts, ReadOne<GrantCounts>(*s, [](const Statement& r) {
    return GrantCounts{r.Int(0), r.Int(1)};
  }));
  return counts.value_or(GrantCounts{});
}

Result<std::vector<UserId>> SqliteTx::ListComplianceOfficerIds() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kComplianceOfficers));
  return ReadAll<UserId>(*s, [](const Statement& r) { return r.Int(0); });
}

Result<EmergencyGrantId> SqliteTx::InsertEmergencyGrant(const EmergencyGrant& grant) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertGrant));
  s->Bind(1, grant.user_id).Bind(2, grant.space_id).Bind(3, grant.reason).Bind(4, grant.purpose);
  s->Bind(5, grant.started_at).Bind(6, grant.expires_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.LastInsertId();
}

Status SqliteTx::EndEmergencyGrant(EmergencyGrantId id, const std::string& end_kind, std::optional<UserId> ended_by,
                                   UnixMillis at) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kEndGrant));
  s->Bind(1, id).Bind(2, at).Bind(3, end_kind).Bind(4, ended_by);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 1) return Ok();
  ROUNDS_ASSIGN_OR_RETURN(auto existing, FindEmergencyGrant(id));
  if (!existing) return NotFound("Emergency access grant");
  return Fail(ErrorCode::kConflict, "grant_ended", "This emergency access has already ended.",
              "emergency grant " + std::to_string(id) + " already ended");
}

Status SqliteTx::ReviewEmergencyGrant(EmergencyGrantId id, const std::string& outcome, const std::string& note,
                                      UserId reviewed_by, UnixMillis at) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kReviewGrant));
  s->Bind(1, id).Bind(2, outcome).Bind(3, note).Bind(4, reviewed_by).Bind(5, at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 1) return Ok();
  ROUNDS_ASSIGN_OR_RETURN(auto existing, FindEmergencyGrant(id));
  if (!existing) return NotFound("Emergency access grant");
  return Fail(ErrorCode::kConflict, "grant_reviewed", "This emergency access has already been reviewed.",
              "emergency grant " + std::to_string(id) + " already reviewed");
}

}  // namespace rounds::store::sqlite
