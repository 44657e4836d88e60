// SqliteTx: policy template versions, moderation (reports, actions, suspensions, message states)
// and the patient index. Schema: migrations/sqlite/0004_governance.sql.
#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "store/sqlite/sqlite_rows.hpp"
#include "store/sqlite/sqlite_tx.hpp"

namespace rounds::store::sqlite {
namespace {

constexpr const char kListTemplates[] =
    "SELECT key, version, document, created_by, created_at FROM policy_templates ORDER BY key, version";
constexpr const char kFindTemplate[] =
    "SELECT key, version, document, created_by, created_at FROM policy_templates WHERE key = ?1 AND version = ?2";
constexpr const char kInsertTemplate[] =
    "INSERT INTO policy_templates (key, version, document, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char kSpacesByTemplate[] =
    "SELECT " ROUNDS_SPACE_COLUMNS " FROM spaces s WHERE s.template_key = ?1 ORDER BY s.id";
constexpr const char kSetSpaceTemplate[] =
    "UPDATE spaces SET template_key = ?2, template_version = ?3 WHERE id = ?1";

// Held messages and published ones with open reports; ?1: JSON array of space ids or '[]' for all.
constexpr const char kModerationQueue[] =
    "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.id > ?2 AND m.deleted = 0 "
    "AND (json_array_length(?1) = 0 OR m.space_id IN (SELECT value FROM json_each(?1))) "
    "AND (m.state = 'held' OR m.state = 'published' AND EXISTS "
    "     (SELECT 1 FROM reports r WHERE r.message_id = m.id AND r.resolved_at = 0)) "
    "ORDER BY m.id LIMIT ?3";
constexpr const char kOpenReports[] =
    "SELECT id, message_id, space_id, reporter_id, reason, created_at, resolved_at FROM reports "
    "WHERE message_id = ?1 AND resolved_at = 0 ORDER BY id";
constexpr const char kInsertReport[] =
    "INSERT INTO reports (message_id, space_id, reporter_id, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char kResolveReports[] =
    "UPDATE reports SET resolved_at = ?2 WHERE message_id = ?1 AND resolved_at = 0";

#define ROUNDS_ACTION_COLUMNS                                                                       \
  "id, space_id, message_id, target_user_id, moderator_id, action, reason, created_at, appeal_text, " \
  "appealed_at, appeal_outcome, appeal_reason, appeal_decided_by, appeal_decided_at"
constexpr const char kFindAction[] = "SELECT " ROUNDS_ACTION_COLUMNS " FROM moderation_actions WHERE id = ?1";
constexpr const char kListActions[] =
    "SELECT " ROUNDS_ACTION_COLUMNS " FROM moderation_actions WHERE id < ?1 "
    "AND (?2 IS NULL OR space_id = ?2) AND (?3 IS NULL OR target_user_id = ?3) "
    "AND (?4 = 0 OR appealed_at > 0 AND appeal_outcome = '') "
    "AND (json_array_length(?6) = 0 OR space_id IN (SELECT value FROM json_each(?6))) ORDER BY id DESC LIMIT ?5";
constexpr const char kInsertAction[] =
    "INSERT INTO moderation_actions (space_id, message_id, target_user_id, moderator_id, action, reason, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char kUpdateAppeal[] =
    "UPDATE moderation_actions SET appeal_text = ?2, appealed_at = ?3, appeal_outcome = ?4, appeal_reason = ?5, "
    "appeal_decided_by = ?6, appeal_decided_at = ?7 WHERE id = ?1";

constexpr const char kFindSuspension[] =
    "SELECT space_id, user_id, until, action_id FROM space_suspensions WHERE space_id = ?1 AND user_id = ?2";
constexpr const char kSetSuspension[] =
    "INSERT INTO space_suspensions (space_id, user_id, until, action_id) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (space_id, user_id) DO UPDATE SET until = excluded.until, action_id = excluded.action_id";
constexpr const char kDeleteSuspension[] = "DELETE FROM space_suspensions WHERE space_id = ?1 AND user_id = ?2";

constexpr const char kMessageStateRow[] = "SELECT state, parent_id, space_id FROM messages WHERE id = ?1";
constexpr const char kSetMessageState[] = "UPDATE messages SET state = ?2, hold_reason = ?3 WHERE id = ?1";
constexpr const char kSetMessagePhiTypes[] = "UPDATE messages SET phi_types = ?2 WHERE id = ?1";
constexpr const char kSetMessagePatients[] = "UPDATE messages SET patient_refs = ?2 WHERE id = ?1";
constexpr const char kRestrictMessageEvents[] =
    "UPDATE space_events SET restricted_to = ?2 WHERE message_id = ?1 AND restricted_to = 0";
constexpr const char kScrubMessageEvents[] =
    "UPDATE space_events SET type = 'message.purged', payload = json_object('id', message_id, 'space_id', space_id) "
    "WHERE message_id = ?1 AND type <> 'message.purged'";
constexpr const char kAdjustReplyCount[] =
    "UPDATE messages SET reply_count = max(reply_count + ?2, 0) WHERE id = ?1";

constexpr const char kListPatients[] = "SELECT mrn, first, last FROM patients ORDER BY mrn";
constexpr const char kUpsertPatient[] =
    "INSERT INTO patients (mrn, first, last, updated_at) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (mrn) DO UPDATE SET first = excluded.first, last = excluded.last, updated_at = excluded.updated_at";
constexpr const char kDeletePatient[] = "DELETE FROM patients WHERE mrn = ?1";

StoredTemplate ReadTemplate(const Statement& s) {
  return StoredTemplate{s.Text(0), static_cast<int>(s.Int(1)), s.Text(2), s.Int(3), s.Int(4)};
}

Report ReadReport(const Statement& s) {
  return Report{s.Int(0), s.Int(1), s.Int(2), s.Int(3), s.Text(4), s.Int(5), s.Int(6)};
}

ModerationAction ReadAction(const Statement& s) {
  ModerationAction a;
  a.id = s.Int(0);
  a.space_id = s.Int(1);
  a.message_id = s.OptionalInt(2);
  a.target_user_id = s.Int(3);
  a.moderator_id = s.Int(4);
  a.kind = ParseModerationKind(s.Text(5)).value_or(ModerationKind::kWarn);
  a.reason = s.Text(6);
  a.created_at = s.Int(7);
  a.appeal_text = s.Text(8);
  a.appealed_at = s.Int(9);
  a.appeal_outcome = ParseAppealOutcome(s.Text(10)).value_or(AppealOutcome::kNone);
  a.appeal_reason = s.Text(11);
  a.appeal_decided_by = s.Int(12);
  a.appeal_decided_at = s.Int(13);
  return a;
}

}  // namespace

Result<std::vector<StoredTemplate>> SqliteTx::ListTemplates() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListTemplates));
  return ReadAll<StoredTemplate>(*s, ReadTemplate);
}

Result<std::optional<StoredTemplate>> SqliteTx::FindTemplate(const std::string& key, int version) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindTemplate));
  s->Bind(1, key).Bind(2, version);
  return ReadOne<StoredTemplate>(*s, ReadTemplate);
}

Result<std::vector<Space>> SqliteTx::ListSpacesByTemplate(const std::string& key) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSpacesByTemplate));
  s->Bind(1, key);
  return ReadAll<Space>(*s, [](const Statement& r) { return ReadSpace(r); });
}

Result<std::vector<Message>> SqliteTx::ListModerationQueue(const std::vector<SpaceId>& space_ids, MessageId after_id,
                                                           int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kModerationQueue));
  s->Bind(1, nlohmann::json(space_ids).dump()).Bind(2, after_id).Bind(3, std::clamp(limit, 1, 500));
  return ReadMessages(*s, 0);
}

Result<std::vector<Report>> SqliteTx::ListOpenReports(MessageId message_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kOpenReports));
  s->Bind(1, message_id);
  return ReadAll<Report>(*s, ReadReport);
}

Result<std::optional<ModerationAction>> SqliteTx::FindModerationAction(ModerationActionId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindAction));
  s->Bind(1, id);
  return ReadOne<ModerationAction>(*s, ReadAction);
}

Result<std::vector<ModerationAction>> SqliteTx::ListModerationActions(const ModerationActionQuery& q) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListActions));
  s->Bind(1, q.before_id > 0 ? q.before_id : std::numeric_limits<std::int64_t>::max());
  s->Bind(2, q.space_id).Bind(3, q.target_user_id).Bind(4, q.pending_appeals_only);
  s->Bind(5, std::clamp(q.limit, 1, 500));
  s->Bind(6, nlohmann::json(q.space_ids).dump());
  return ReadAll<ModerationAction>(*s, ReadAction);
}

Result<std::optional<Suspension>> SqliteTx::FindSuspension(SpaceId space_id, UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindSuspension));
  s->Bind(1, space_id).Bind(2, user_id);
  return ReadOne<Suspension>(*s, [](const Statement& r) { return Suspension{r.Int(0), r.Int(1), r.Int(2), r.Int(3)}; });
}

Result<std::vector<PatientEntry>> SqliteTx::ListPatients() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListPatients));
  return ReadAll<PatientEntry>(*s, [](const Statement& r) { return PatientEntry{r.Text(0), r.Text(1), r.Text(2)}; });
}

Status SqliteTx::InsertTemplate(const StoredTemplate& t) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertTemplate));
  s->Bind(1, t.key).Bind(2, t.version).Bind(3, t.document).Bind(4, t.created_by).Bind(5, t.created_at);
  return s->Run();
}

Status SqliteTx::SetSpaceTemplate(SpaceId space_id, const std::string& key, int version) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetSpaceTemplate));
  s->Bind(1, space_id).Bind(2, key).Bind(3, version);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Space");
  return Ok();
}

Status SqliteTx::RestrictMessageEvents(MessageId id, UserId author_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kRestrictMessageEvents));
  s->Bind(1, id).Bind(2, author_id);
  return s->Run();
}

Status SqliteTx::ScrubMessageEvents(MessageId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kScrubMessageEvents));
  s->Bind(1, id);
  return s->Run();
}

Status SqliteTx::SetMessageState(MessageId id, MessageState state, const std::string& hold_reason) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * current, db_.Prepare(kMessageStateRow));
  current->Bind(1, id);
  struct Row { bool published; std::optional<MessageId> parent_id; };
  ROUNDS_ASSIGN_OR_RETURN(auto row, ReadOne<Row>(*current, [](const Statement& r) {
    return Row{r.Text(0) == "published", r.OptionalInt(1)};
  }));
  if (!row) return NotFound("Message");
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetMessageState));
  s->Bind(1, id).Bind(2, ToString(state)).Bind(3, state == MessageState::kPublished ? std::string() : hold_reason);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  bool published = state == MessageState::kPublished;
  if (row->parent_id && published != row->published) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * adjust, db_.Prepare(kAdjustReplyCount));
    adjust->Bind(1, *row->parent_id).Bind(2, published ? 1 : -1);
    ROUNDS_RETURN_IF_ERROR(adjust->Run());
  }
  return Ok();
}

Status SqliteTx::SetMessagePhiTypes(MessageId id, const std::string& phi_types) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetMessagePhiTypes));
  s->Bind(1, id).Bind(2, phi_types);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Message");
  return Ok();
}

Status SqliteTx::SetMessagePatients(MessageId id, const std::string& patient_refs) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetMessagePatients));
  s->Bind(1, id).Bind(2, patient_refs);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Message");
  return Ok();
}

Result<ReportId> SqliteTx::InsertReport(const Report& r) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertReport));
  s->Bind(1, r.message_id).Bind(2, r.space_id).Bind(3, r.reporter_id).Bind(4, r.reason).Bind(5, r.created_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.LastInsertId();
}

Result<int> SqliteTx::ResolveReports(MessageId message_id, UnixMillis at) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kResolveReports));
  s->Bind(1, message_id).Bind(2, at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.Changes();
}

Result<ModerationActionId> SqliteTx::InsertModerationAction(const ModerationAction& a) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertAction));
  s->Bind(1, a.space_id).Bind(2, a.message_id).Bind(3, a.target_user_id).Bind(4, a.moderator_id);
  s->Bind(5, ToString(a.kind)).Bind(6, a.reason).Bind(7, a.created_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.LastInsertId();
}

Status SqliteTx::UpdateAppeal(const ModerationAction& a) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUpdateAppeal));
  s->Bind(1, a.id).Bind(2, a.appeal_text).Bind(3, a.appealed_at).Bind(4, ToString(a.appeal_outcome));
  s->Bind(5, a.appeal_reason).Bind(6, a.appeal_decided_by).Bind(7, a.appeal_decided_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Moderation action");
  return Ok();
}

Status SqliteTx::SetSuspension(const Suspension& x) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetSuspension));
  s->Bind(1, x.space_id).Bind(2, x.user_id).Bind(3, x.until).Bind(4, x.action_id);
  return s->Run();
}

Status SqliteTx::DeleteSuspension(SpaceId space_id, UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kDeleteSuspension));
  s->Bind(1, space_id).Bind(2, user_id);
  return s->Run();
}

Status SqliteTx::UpsertPatients(const std::vector<PatientEntry>& patients, UnixMillis at) {
  for (const auto& p : patients) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUpsertPatient));
    s->Bind(1, p.mrn).Bind(2, p.first).Bind(3, p.last).Bind(4, at);
    ROUNDS_RETURN_IF_ERROR(s->Run());
  }
  return Ok();
}

Result<bool> SqliteTx::DeletePatient(const std::string& mrn) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kDeletePatient));
  s->Bind(1, mrn);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.Changes() > 0;
}

}  // namespace rounds::store::sqlite
