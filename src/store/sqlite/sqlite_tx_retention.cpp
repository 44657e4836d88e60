// SqliteTx: retention purges, legal holds, retention runs and e-discovery exports
// (migrations 0005_retention.sql and 0018_hold_custodian_conversations.sql, which says what a
// hold covers).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "store/sqlite/sqlite_rows.hpp"
#include "store/sqlite/sqlite_tx.hpp"

namespace rounds::store::sqlite {
namespace {

using nlohmann::json;

// ---- SQL ----------------------------------------------------------------------------------------

#define ROUNDS_HOLD_COLUMNS \
  "id, name, reason, custodian_ids, space_ids, from_time, to_time, created_by, created_at, released_by, released_at"
constexpr const char kInsertHold[] =
    "INSERT INTO legal_holds (name, reason, custodian_ids, space_ids, from_time, to_time, created_by, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char kFindHold[] = "SELECT " ROUNDS_HOLD_COLUMNS " FROM legal_holds WHERE id = ?1";
constexpr const char kListHolds[] =
    "SELECT " ROUNDS_HOLD_COLUMNS " FROM legal_holds WHERE ?1 OR released_at IS NULL ORDER BY id";
constexpr const char kCountReleasedHolds[] = "SELECT count(*) FROM legal_holds WHERE released_at IS NOT NULL";
// The newest finished run's (the open one, if any, is this process's own).
constexpr const char kLastKeptWalk[] =
    "SELECT kept_walked_at FROM retention_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1";
constexpr const char kReleaseHold[] =
    "UPDATE legal_holds SET released_by = ?2, released_at = ?3 WHERE id = ?1 AND released_at IS NULL";
constexpr const char kHoldsCovering[] = "SELECT hold_id FROM held_messages WHERE message_id = ?1 ORDER BY hold_id";

// Deletions a hold kept whole (held_deletions), of messages no active hold covers any more.
constexpr const char kNextHeldDeletions[] =
    "SELECT d.message_id, EXISTS (SELECT 1 FROM held_messages h WHERE h.message_id = d.message_id) "
    "FROM held_deletions d WHERE d.message_id > ?1 ORDER BY d.message_id LIMIT ?2";
constexpr const char kDropHeldDeletion[] = "DELETE FROM held_deletions WHERE message_id = ?1";

constexpr const char kListSpaceIds[] = "SELECT id FROM spaces WHERE id > ?1 ORDER BY id LIMIT ?2";

// Past the cutoff, not held, and not a row already scrubbed that replies still point at (those
// wait for their replies; listing them again would make a run loop).
constexpr const char kPurgeCandidates[] =
    "SELECT m.id FROM messages m WHERE m.space_id = ?1 AND m.created_at < ?2 "
    "AND (m.purged_at IS NULL OR NOT EXISTS (SELECT 1 FROM messages c WHERE c.space_id = m.space_id "
    "     AND c.parent_id = m.id)) "
    "AND NOT EXISTS (SELECT 1 FROM held_messages h WHERE h.message_id = m.id) "
    "ORDER BY m.created_at, m.id LIMIT ?3";

// Called once a space's purge is done, when what is left past the cutoff is held messages and
// emptied parents of replies still kept: the view is checked for those alone.
constexpr const char kCountHeldBefore[] =
    "SELECT count(*) FROM messages m WHERE m.space_id = ?1 AND m.created_at < ?2 "
    "AND EXISTS (SELECT 1 FROM held_messages h WHERE h.message_id = m.id)";

// ?1 in the purge statements: a JSON array of the message ids of the batch (none of them held).
constexpr const char kHeldAmong[] =
    "SELECT DISTINCT message_id FROM held_messages WHERE message_id IN (SELECT value FROM json_each(?1))";
constexpr const char kExistingAmong[] =
    "SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id";
// Everything else that holds content of, or points at, a purged message. Attachments join this
// list when they exist (their rows here; their files removed after the commit, by id).
constexpr const char* kPurgeDependents[] = {
    "DELETE FROM mentions WHERE message_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM reactions WHERE message_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM idea_votes WHERE message_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM poll_votes WHERE message_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM poll_options WHERE message_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM message_edits WHERE message_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM held_deletions WHERE message_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM reports WHERE message_id IN (SELECT value FROM json_each(?1))",
    // An accepted answer is a reply to its question: only the batch's parents can point at it.
    "UPDATE messages SET accepted_answer_id = NULL WHERE id IN (SELECT parent_id FROM messages "
    "  WHERE id IN (SELECT value FROM json_each(?1)) AND parent_id IS NOT NULL) "
    "  AND accepted_answer_id IN (SELECT value FROM json_each(?1))",
};
constexpr const char kAttachmentsOf[] =
    "SELECT id FROM attachments WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY id";
// The event keeps its seq (clients resume by seq without gaps) but loses every byte of content.
constexpr const char kScrubEvents[] =
    "UPDATE space_events SET type = 'message.purged', payload = json_object('id', message_id, 'space_id', space_id) "
    "WHERE message_id IN (SELECT value FROM json_each(?1)) AND type <> 'message.purged'";
// Published, not yet deleted replies leaving a parent that stays: the parent counts them no more.
constexpr const char kDropReplyCounts[] =
    "UPDATE messages SET reply_count = max(0, reply_count - (SELECT count(*) FROM messages c "
    "  WHERE c.parent_id = messages.id AND c.deleted = 0 AND c.state = 'published' "
    "  AND c.id IN (SELECT value FROM json_each(?1)))) "
    "WHERE id IN (SELECT parent_id FROM messages WHERE id IN (SELECT value FROM json_each(?1)) "
    "             AND parent_id IS NOT NULL) "
    "AND id NOT IN (SELECT value FROM json_each(?1))";
// A message that replies outside the batch still point at keeps its row, emptied.
constexpr const char kScrubParents[] =
    "UPDATE messages SET title = '', body = '', deleted = 1, pinned = 0, phi_types = '', patient_refs = '', purged_at = ?2 "
    "WHERE id IN (SELECT value FROM json_each(?1)) AND EXISTS (SELECT 1 FROM messages c "
    "  WHERE c.space_id = messages.space_id AND c.parent_id = messages.id "
    "  AND c.id NOT IN (SELECT value FROM json_each(?1))) "
    "RETURNING id";
// The delete trigger queues the text's removal from the search index, applied before COMMIT.
constexpr const char kDeleteMessages[] =
    "DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?1)) AND NOT EXISTS (SELECT 1 FROM messages c "
    "  WHERE c.space_id = messages.space_id AND c.parent_id = messages.id "
    "  AND c.id NOT IN (SELECT value FROM json_each(?1))) "
    "RETURNING id";

constexpr const char kOpenRuns[] = "SELECT id FROM retention_runs WHERE finished_at IS NULL ORDER BY id";
constexpr const char kCloseInterrupted[] =
    "UPDATE retention_runs SET finished_at = ?2, interrupted = 1 WHERE id = ?1";
constexpr const char kInsertRun[] = "INSERT INTO retention_runs (actor_id, started_at) VALUES (?1, ?2)";
constexpr const char kRecordBatch[] =
    "UPDATE retention_runs SET batches = batches + 1, messages_deleted = messages_deleted + ?2, "
    "messages_scrubbed = messages_scrubbed + ?3, events_scrubbed = events_scrubbed + ?4 WHERE id = ?1";
constexpr const char kFinishRun[] =
    "UPDATE retention_runs SET finished_at = ?2, kept_walked_at = ?3 WHERE id = ?1 AND finished_at IS NULL";
constexpr const char kListRuns[] =
    "SELECT id, actor_id, started_at, finished_at, interrupted, batches, messages_deleted, messages_scrubbed, "
    "events_scrubbed FROM retention_runs ORDER BY id DESC LIMIT ?1";

// E-discovery selection (?1 custodians, ?2 spaces, ?5 keywords: JSON arrays, empty = any). A
// custodian's messages are the ones they wrote anywhere and every message of a direct conversation
// they are part of, whoever wrote it: a member of it now or, membership history not being stored,
// someone who has written in it. That is what a hold by the same custodians keeps (the
// held_messages view, migration 0018): keep the two alike. Checked per message by key lookups
// (spaces, memberships, space_authors), never by a scan of a conversation. A keyword
// matches the current text, any earlier version (title and body), the text of a held deletion and
// a poll's options, blind to case and accents (rounds_fold: "éclair" finds "ÉCLAIR" and "eclair",
// "patient's" finds "patient’s"). A keyword that
// folds to nothing (combining marks alone) matches nothing: every text contains ''.
constexpr const char kExportMessageIds[] =
    "SELECT m.id FROM messages m WHERE m.id > ?6 "
    "AND (?1 = '[]' OR m.author_id IN (SELECT value FROM json_each(?1)) "
    "  OR EXISTS (SELECT 1 FROM spaces s WHERE s.id = m.space_id AND s.kind = 'direct' "
    "    AND EXISTS (SELECT 1 FROM json_each(?1) c "
    "      WHERE EXISTS (SELECT 1 FROM memberships p WHERE p.space_id = m.space_id AND p.user_id = c.value) "
    "         OR EXISTS (SELECT 1 FROM space_authors a WHERE a.space_id = m.space_id AND a.author_id = c.value)))) "
    "AND (?2 = '[]' OR m.space_id IN (SELECT value FROM json_each(?2))) "
    "AND (?3 IS NULL OR m.created_at >= ?3) AND (?4 IS NULL OR m.created_at < ?4) "
    "AND (?5 = '[]' OR EXISTS (SELECT 1 FROM json_each(?5) k WHERE rounds_fold(k.value) <> '' AND ("
    "  instr(rounds_fold(m.title || ' ' || m.body), rounds_fold(k.value)) > 0 "
    "  OR EXISTS (SELECT 1 FROM message_edits e WHERE e.message_id = m.id "
    "             AND instr(rounds_fold(e.title || ' ' || e.body), rounds_fold(k.value)) > 0) "
    "  OR EXISTS (SELECT 1 FROM held_deletions d WHERE d.message_id = m.id "
    "             AND instr(rounds_fold(d.title || ' ' || d.body), rounds_fold(k.value)) > 0) "
    "  OR EXISTS (SELECT 1 FROM poll_options o WHERE o.message_id = m.id "
    "             AND instr(rounds_fold(o.text), rounds_fold(k.value)) > 0)))) "
    "ORDER BY m.id LIMIT ?7";
constexpr const char kFindHeldDeletion[] =
    "SELECT message_id, title, body, deleted_at FROM held_deletions WHERE message_id = ?1";

#define ROUNDS_EXPORT_COLUMNS \
  "id, created_by, created_at, query, folder, message_count, file_count, manifest_sha256, removed_at, removed_by"
constexpr const char kInsertExport[] =
    "INSERT INTO ediscovery_exports (id, created_by, created_at, query, folder, message_count, file_count, "
    "manifest_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char kListExports[] =
    "SELECT " ROUNDS_EXPORT_COLUMNS " FROM ediscovery_exports "
    "WHERE ?2 IS NULL OR created_at < ?2 OR (created_at = ?2 AND id > ?3) ORDER BY created_at DESC, id LIMIT ?1";
constexpr const char kFindExport[] = "SELECT " ROUNDS_EXPORT_COLUMNS " FROM ediscovery_exports WHERE id = ?1";
constexpr const char kListKeptExportsBefore[] =
    "SELECT " ROUNDS_EXPORT_COLUMNS " FROM ediscovery_exports WHERE removed_at IS NULL AND created_at < ?1 "
    "AND substr(folder, 1, length(?3)) = ?3 ORDER BY created_at, id LIMIT ?2";
constexpr const char kMarkExportRemoved[] =
    "UPDATE ediscovery_exports SET removed_at = ?2, removed_by = ?3 WHERE id = ?1 AND removed_at IS NULL";

// ---- Rows ---------------------------------------------------------------------------------------

template <class T>
std::vector<T> IdsFromJson(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  std::vector<T> out;
  if (!parsed.is_array()) return out;
  for (const auto& v : parsed) {
    if (v.is_number_integer()) out.push_back(v.get<T>());
  }
  return out;
}

LegalHold ReadHold(const Statement& s) {
  LegalHold h;
  h.id = s.Int(0);
  h.name = s.Text(1);
  h.reason = s.Text(2);
  h.custodian_ids = IdsFromJson<UserId>(s.Text(3));
  h.space_ids = IdsFromJson<SpaceId>(s.Text(4));
  h.from = s.OptionalInt(5);
  h.to = s.OptionalInt(6);
  h.created_by = s.Int(7);
  h.created_at = s.Int(8);
  h.released_by = s.OptionalInt(9);
  h.released_at = s.OptionalInt(10);
  return h;
}

ExportRecord ReadExport(const Statement& s) {
  ExportRecord e;
  e.id = s.Text(0);
  e.created_by = s.Int(1);
  e.created_at = s.Int(2);
  e.query_json = s.Text(3);
  e.folder = s.Text(4);
  e.message_count = s.Int(5);
  e.file_count = static_cast<int>(s.Int(6));
  e.manifest_sha256 = s.Text(7);
  if (!s.IsNull(8)) e.removed_at = s.Int(8);
  if (!s.IsNull(9)) e.removed_by = s.Int(9);
  return e;
}

RetentionRun ReadRun(const Statement& s) {
  RetentionRun r;
  r.id = s.Int(0);
  r.actor_id = s.Int(1);
  r.started_at = s.Int(2);
  r.finished_at = s.OptionalInt(3);
  r.interrupted = s.Int(4) != 0;
  r.batches = s.Int(5);
  r.messages_deleted = s.Int(6);
  r.messages_scrubbed = s.Int(7);
  r.events_scrubbed = s.Int(8);
  return r;
}

// Runs `statement` to the end, collecting column 0 of every row.
Result<std::vector<std::int64_t>> Column0(Statement& statement) {
  return ReadAll<std::int64_t>(statement, [](const Statement& r) { return r.Int(0); });
}

template <class T, class F>
Result<std::vector<T>> Rows(Statement& statement, F read) {
  return ReadAll<T>(statement, read);
}

// The first row of a lookup by key, if any.
template <class T>
std::optional<T> First(std::vector<T> rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

int Clamp(int limit, int max) { return limit <= 0 ? 50 : std::min(limit, max); }

}  // namespace

// ---- Legal holds --------------------------------------------------------------------------------

Result<std::vector<LegalHold>> SqliteTx::ListLegalHolds(bool include_released) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListHolds));
  s->Bind(1, include_released);
  return Rows<LegalHold>(*s, ReadHold);
}

Result<std::int64_t> SqliteTx::CountReleasedLegalHolds() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kCountReleasedHolds));
  ROUNDS_ASSIGN_OR_RETURN(auto count, ReadOne<std::int64_t>(*s, [](const Statement& r) { return r.Int(0); }));
  return count.value_or(0);
}

Result<std::optional<std::int64_t>> SqliteTx::LastKeptDeletionsWalk() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kLastKeptWalk));
  ROUNDS_ASSIGN_OR_RETURN(auto walked, ReadOne<std::optional<std::int64_t>>(
                                           *s, [](const Statement& r) { return r.OptionalInt(0); }));
  return walked.value_or(std::nullopt);
}

Result<std::optional<LegalHold>> SqliteTx::FindLegalHold(LegalHoldId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindHold));
  s->Bind(1, id);
  ROUNDS_ASSIGN_OR_RETURN(auto rows, Rows<LegalHold>(*s, ReadHold));
  return First(std::move(rows));
}

Result<std::vector<LegalHoldId>> SqliteTx::HoldsCovering(MessageId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kHoldsCovering));
  s->Bind(1, id);
  return Column0(*s);
}

Result<LegalHoldId> SqliteTx::InsertLegalHold(const LegalHold& hold) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertHold));
  s->Bind(1, hold.name).Bind(2, hold.reason).Bind(3, json(hold.custodian_ids).dump());
  s->Bind(4, json(hold.space_ids).dump()).Bind(5, hold.from).Bind(6, hold.to);
  s->Bind(7, hold.created_by).Bind(8, hold.created_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.LastInsertId();
}

Status SqliteTx::ReleaseLegalHold(LegalHoldId id, UserId released_by, UnixMillis released_at) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kReleaseHold));
  s->Bind(1, id).Bind(2, released_by).Bind(3, released_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 1) return Ok();
  ROUNDS_ASSIGN_OR_RETURN(auto existing, FindLegalHold(id));
  if (!existing) return NotFound("Legal hold");
  return Fail(ErrorCode::kConflict, "hold_released", "This legal hold is already released.",
              "legal hold " + std::to_string(id) + " already released");
}

Result<FinishedDeletions> SqliteTx::FinishHeldDeletions(MessageId after_id, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kNextHeldDeletions));
  s->Bind(1, after_id).Bind(2, Clamp(limit, 10000));
  using Row = std::pair<MessageId, bool>;  // a kept deletion, and whether a hold still keeps it
  ROUNDS_ASSIGN_OR_RETURN(auto rows, ReadAll<Row>(*s, [](const Statement& r) { return Row(r.Int(0), r.Int(1) != 0); }));
  FinishedDeletions result;
  result.looked_at = rows.size();
  if (!rows.empty()) result.last_id = rows.back().first;
  for (const auto& [id, held] : rows) {
    if (held) continue;
    result.finished_ids.push_back(id);
    // What a delete outside any hold removes at once, and the text the hold kept.
    ROUNDS_RETURN_IF_ERROR(DeleteMessageContent(id));
    ROUNDS_RETURN_IF_ERROR(DeleteMessageAttachments(id).map([](int) {}));
    ROUNDS_ASSIGN_OR_RETURN(Statement * kept, db_.Prepare(kDropHeldDeletion));
    kept->Bind(1, id);
    ROUNDS_RETURN_IF_ERROR(kept->Run());
  }
  return result;
}

// ---- Retention ----------------------------------------------------------------------------------

Result<std::vector<SpaceId>> SqliteTx::ListSpaceIds(SpaceId after_id, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListSpaceIds));
  s->Bind(1, after_id).Bind(2, Clamp(limit, 10000));
  return Column0(*s);
}

Result<std::int64_t> SqliteTx::CountHeldBefore(SpaceId space_id, UnixMillis cutoff) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kCountHeldBefore));
  s->Bind(1, space_id).Bind(2, cutoff);
  ROUNDS_ASSIGN_OR_RETURN(auto count, ReadOne<std::int64_t>(*s, [](const Statement& r) { return r.Int(0); }));
  return count.value_or(0);
}

// At most 10000 a batch, which is why Config bounds retention_batch_size to kMaxRetentionBatchSize.
Result<std::vector<MessageId>> SqliteTx::ListPurgeCandidates(SpaceId space_id, UnixMillis cutoff, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kPurgeCandidates));
  s->Bind(1, space_id).Bind(2, cutoff).Bind(3, Clamp(limit, 10000));
  return Column0(*s);
}

Result<PurgeResult> SqliteTx::PurgeMessages(const std::vector<MessageId>& ids, UnixMillis now) {
  PurgeResult result;
  std::string requested = json(ids).dump();
  // Defence in depth: whatever the caller selected, nothing under a hold is touched.
  ROUNDS_ASSIGN_OR_RETURN(Statement * held, db_.Prepare(kHeldAmong));
  held->Bind(1, requested);
  ROUNDS_ASSIGN_OR_RETURN(result.held_ids, Column0(*held));
  ROUNDS_ASSIGN_OR_RETURN(Statement * existing, db_.Prepare(kExistingAmong));
  existing->Bind(1, requested);
  ROUNDS_ASSIGN_OR_RETURN(auto present, Column0(*existing));
  std::vector<MessageId> batch;
  for (MessageId id : present) {
    if (std::find(result.held_ids.begin(), result.held_ids.end(), id) == result.held_ids.end()) batch.push_back(id);
  }
  if (batch.empty()) return result;
  std::string ids_json = json(batch).dump();
  // Every purged message loses its attachments, the deleted and the scrubbed alike.
  ROUNDS_ASSIGN_OR_RETURN(Statement * files, db_.Prepare(kAttachmentsOf));
  files->Bind(1, ids_json);
  ROUNDS_ASSIGN_OR_RETURN(result.attachment_ids, Column0(*files));
  ROUNDS_ASSIGN_OR_RETURN(const int removed, DeleteAttachments(result.attachment_ids));
  (void)removed;

  for (const char* sql : kPurgeDependents) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(sql));
    s->Bind(1, ids_json);
    ROUNDS_RETURN_IF_ERROR(s->Run());
  }
  ROUNDS_ASSIGN_OR_RETURN(Statement * events, db_.Prepare(kScrubEvents));
  events->Bind(1, ids_json);
  ROUNDS_RETURN_IF_ERROR(events->Run());
  result.events_scrubbed = db_.Changes();
  ROUNDS_ASSIGN_OR_RETURN(Statement * counts, db_.Prepare(kDropReplyCounts));
  counts->Bind(1, ids_json);
  ROUNDS_RETURN_IF_ERROR(counts->Run());
  ROUNDS_ASSIGN_OR_RETURN(Statement * scrub, db_.Prepare(kScrubParents));
  scrub->Bind(1, ids_json).Bind(2, now);
  ROUNDS_ASSIGN_OR_RETURN(result.scrubbed_ids, Column0(*scrub));
  ROUNDS_ASSIGN_OR_RETURN(Statement * remove, db_.Prepare(kDeleteMessages));
  remove->Bind(1, ids_json);
  ROUNDS_ASSIGN_OR_RETURN(result.deleted_ids, Column0(*remove));
  std::sort(result.scrubbed_ids.begin(), result.scrubbed_ids.end());
  std::sort(result.deleted_ids.begin(), result.deleted_ids.end());
  return result;
}

Result<RetentionRunStart> SqliteTx::BeginRetentionRun(UserId actor_id, UnixMillis now) {
  RetentionRunStart start;
  ROUNDS_ASSIGN_OR_RETURN(Statement * open, db_.Prepare(kOpenRuns));
  ROUNDS_ASSIGN_OR_RETURN(start.interrupted_run_ids, Column0(*open));
  for (std::int64_t id : start.interrupted_run_ids) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * close, db_.Prepare(kCloseInterrupted));
    close->Bind(1, id).Bind(2, now);
    ROUNDS_RETURN_IF_ERROR(close->Run());
  }
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertRun));
  s->Bind(1, actor_id).Bind(2, now);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  start.run_id = db_.LastInsertId();
  return start;
}

Status SqliteTx::RecordRetentionBatch(std::int64_t run_id, const PurgeResult& batch) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kRecordBatch));
  s->Bind(1, run_id).Bind(2, static_cast<std::int64_t>(batch.deleted_ids.size()));
  s->Bind(3, static_cast<std::int64_t>(batch.scrubbed_ids.size())).Bind(4, batch.events_scrubbed);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Retention run");
  return Ok();
}

Status SqliteTx::FinishRetentionRun(std::int64_t run_id, UnixMillis now, std::optional<std::int64_t> kept_walked_at) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFinishRun));
  s->Bind(1, run_id).Bind(2, now).Bind(3, kept_walked_at);
  return s->Run();
}

Result<std::vector<RetentionRun>> SqliteTx::ListRetentionRuns(int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListRuns));
  s->Bind(1, Clamp(limit, 1000));
  return Rows<RetentionRun>(*s, ReadRun);
}

// ---- E-discovery --------------------------------------------------------------------------------

Result<std::vector<MessageId>> SqliteTx::ListExportMessageIds(const ExportQuery& query, MessageId after_id,
                                                              int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kExportMessageIds));
  s->Bind(1, json(query.custodian_ids).dump()).Bind(2, json(query.space_ids).dump());
  s->Bind(3, query.from).Bind(4, query.to).Bind(5, json(query.keywords).dump());
  s->Bind(6, after_id).Bind(7, Clamp(limit, 10000));
  return Column0(*s);
}

Result<std::optional<HeldDeletion>> SqliteTx::FindHeldDeletion(MessageId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindHeldDeletion));
  s->Bind(1, id);
  ROUNDS_ASSIGN_OR_RETURN(auto rows, Rows<HeldDeletion>(*s, [](const Statement& r) {
    return HeldDeletion{r.Int(0), r.Text(1), r.Text(2), r.Int(3)};
  }));
  return First(std::move(rows));
}

Status SqliteTx::InsertExport(const ExportRecord& record) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertExport));
  s->Bind(1, record.id).Bind(2, record.created_by).Bind(3, record.created_at).Bind(4, record.query_json);
  s->Bind(5, record.folder).Bind(6, record.message_count).Bind(7, record.file_count);
  s->Bind(8, record.manifest_sha256);
  return s->Run();
}

Result<std::vector<ExportRecord>> SqliteTx::ListExports(int limit, const std::optional<ExportCursor>& after) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListExports));
  s->Bind(1, Clamp(limit, 1000));
  if (after) {
    s->Bind(2, after->created_at).Bind(3, after->id);
  } else {
    s->BindNull(2).BindNull(3);
  }
  return Rows<ExportRecord>(*s, ReadExport);
}

Result<std::optional<ExportRecord>> SqliteTx::FindExport(const std::string& id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindExport));
  s->Bind(1, id);
  ROUNDS_ASSIGN_OR_RETURN(auto rows, Rows<ExportRecord>(*s, ReadExport));
  return First(std::move(rows));
}

Result<std::vector<ExportRecord>> SqliteTx::ListKeptExportsBefore(UnixMillis before, const std::string& folder_prefix,
                                                                   int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListKeptExportsBefore));
  s->Bind(1, before).Bind(2, Clamp(limit, 1000)).Bind(3, folder_prefix);
  return Rows<ExportRecord>(*s, ReadExport);
}

Status SqliteTx::MarkExportRemoved(const std::string& id, UserId by, UnixMillis at) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kMarkExportRemoved));
  s->Bind(1, id).Bind(2, at).Bind(3, by);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 1) return {};
  ROUNDS_ASSIGN_OR_RETURN(auto found, FindExport(id));
  if (!found) return NotFound("Export");
  return Fail(ErrorCode::kConflict, "export_removed", "The export's files were already removed.");
}

}  // namespace rounds::store::sqlite
