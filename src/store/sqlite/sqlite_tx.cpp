#include "store/sqlite/sqlite_tx.hpp"

#include "store/sqlite/search_text.hpp"
#include "store/sqlite/search_tokenizer.hpp"
#include "store/sqlite/sqlite_rows.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <span>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace rounds::store::sqlite {
namespace {

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

// ---- SQL, one named constant per query; parameters only, never text built from input ---------

constexpr const char kFindUser[] =
    "SELECT id, username, display_name, email, job_role, kind, is_admin, is_compliance, disabled, "
    "created_at, is_guest FROM users WHERE id = ?1";
constexpr const char kFindAccountFlags[] =
    "SELECT kind, is_admin, is_compliance, disabled, is_guest FROM users WHERE id = ?1";
constexpr const char kFindUserRef[] = "SELECT id, username, display_name FROM users WHERE id = ?1";
constexpr const char kFindUserRefs[] =
    "SELECT id, username, display_name FROM users WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id";
constexpr const char kFindUserByUsername[] =
    "SELECT id, username, display_name, email, job_role, kind, is_admin, is_compliance, disabled, "
    "created_at, is_guest FROM users WHERE username = ?1";
constexpr const char kListUsers[] =
    "SELECT id, username, display_name, email, job_role, kind, is_admin, is_compliance, disabled, "
    "created_at, is_guest FROM users u WHERE id > ?1 "
    "AND (?2 = '' OR username LIKE ?2 || '%' ESCAPE '\\' OR display_name LIKE ?2 || '%' ESCAPE '\\' "
    "     OR display_name LIKE '% ' || ?2 || '%' ESCAPE '\\') "
    "AND (?3 = '' OR job_role = ?3 COLLATE NOCASE) "
    "AND (?4 IS NULL OR EXISTS (SELECT 1 FROM user_departments d WHERE d.user_id = u.id AND d.department_id = ?4)) "
    "AND (?5 OR disabled = 0) ORDER BY id LIMIT ?6";
constexpr const char kCountUsers[] = "SELECT count(*) FROM users";
constexpr const char kUserDepartments[] =
    "SELECT department_id FROM user_departments WHERE user_id = ?1 ORDER BY department_id";
constexpr const char kUserDepartmentsBatch[] =
    "SELECT user_id, department_id FROM user_departments WHERE user_id IN (SELECT value FROM json_each(?1)) "
    "ORDER BY user_id, department_id";
constexpr const char kFindCredentials[] =
    "SELECT user_id, password_hash, failed_attempts, locked_until, totp_secret, totp_pending, totp_last_step, "
    "recovery_codes FROM credentials WHERE user_id = ?1";
constexpr const char kListDepartments[] = "SELECT id, name, parent_id FROM departments ORDER BY name";
constexpr const char kFindDepartment[] = "SELECT id, name, parent_id FROM departments WHERE id = ?1";
constexpr const char kFindDepartmentByName[] =
    "SELECT id, name, parent_id FROM departments WHERE name = ?1 COLLATE NOCASE";

constexpr const char kFindSession[] =
    "SELECT id, user_id, token_hash, csrf_token, is_bearer, created_at, last_seen_at, expires_at, "
    "user_agent, address, second_factor, admin_elevated_until FROM sessions WHERE token_hash = ?1";
constexpr const char kListSessions[] =
    "SELECT id, user_id, token_hash, csrf_token, is_bearer, created_at, last_seen_at, expires_at, "
    "user_agent, address, second_factor, admin_elevated_until FROM sessions WHERE user_id = ?1 ORDER BY id";

// ROUNDS_SPACE_COLUMNS: see sqlite_rows.hpp.
constexpr const char kFindSpace[] = "SELECT " ROUNDS_SPACE_COLUMNS " FROM spaces s WHERE s.id = ?1";
constexpr const char kFindDirectSpace[] =
    "SELECT " ROUNDS_SPACE_COLUMNS " FROM spaces s WHERE s.direct_key = ?1";
constexpr const char kListSpaces[] =
    "SELECT " ROUNDS_SPACE_COLUMNS " FROM spaces s WHERE s.id > ?1 "
    "AND (?2 IS NULL AND s.kind <> 'direct' OR s.kind = ?2) "
    "AND (?3 = 0 OR s.visibility = 'public') AND (?4 OR s.archived = 0) "
    "AND (?5 = '' OR s.name LIKE '%' || ?5 || '%' ESCAPE '\\' OR s.topic LIKE '%' || ?5 || '%' ESCAPE '\\' "
    // A direct conversation has no name: it is found by its members' names.
    "     OR s.kind = 'direct' AND EXISTS (SELECT 1 FROM memberships dm JOIN users u ON u.id = dm.user_id "
    "        WHERE dm.space_id = s.id AND (u.display_name LIKE '%' || ?5 || '%' ESCAPE '\\' "
    "                                      OR u.username LIKE '%' || ?5 || '%' ESCAPE '\\'))) "
    "AND (?6 = 0 OR NOT EXISTS (SELECT 1 FROM memberships m WHERE m.space_id = s.id AND m.user_id = ?6)) "
    "ORDER BY s.id LIMIT ?7";
constexpr const char kListSpacesForUser[] =
    "SELECT " ROUNDS_SPACE_COLUMNS ", m.role, m.read_seq, m.joined_at, "
    "(SELECT count(*) FROM messages x WHERE x.space_id = s.id AND x.seq > m.read_seq AND x.deleted = 0 "
    "   AND x.state = 'published' AND x.author_id <> m.user_id), "
    "(SELECT count(*) FROM mentions n JOIN messages x ON x.id = n.message_id WHERE n.user_id = m.user_id "
    "   AND n.space_id = s.id AND x.seq > m.read_seq AND x.deleted = 0 AND x.state = 'published') "
    "FROM memberships m JOIN spaces s ON s.id = m.space_id WHERE m.user_id = ?1 "
    "ORDER BY s.kind, s.name COLLATE NOCASE, s.id";
constexpr const char kFindMembership[] =
    "SELECT space_id, user_id, role, read_seq, joined_at FROM memberships WHERE space_id = ?1 AND user_id = ?2";
constexpr const char kListMembers[] =
    "SELECT space_id, user_id, role, read_seq, joined_at FROM memberships WHERE space_id = ?1 "
    "AND user_id > ?2 ORDER BY user_id LIMIT ?3";
constexpr const char kListMemberIds[] = "SELECT user_id FROM memberships WHERE space_id = ?1";
constexpr const char kListJoinRequests[] =
    "SELECT space_id, user_id, created_at FROM join_requests WHERE space_id = ?1 ORDER BY created_at, user_id LIMIT ?2";
constexpr const char kFindJoinRequest[] =
    "SELECT space_id, user_id, created_at FROM join_requests WHERE space_id = ?1 AND user_id = ?2";
constexpr const char kInsertJoinRequest[] =
    "INSERT INTO join_requests (space_id, user_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
constexpr const char kDeleteJoinRequest[] = "DELETE FROM join_requests WHERE space_id = ?1 AND user_id = ?2";
constexpr const char kCountMembersOfKind[] =
    "SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.space_id = ?1 AND u.kind = ?2";
constexpr const char kCountGuestMembers[] =
    "SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.space_id = ?1 AND u.is_guest = 1";
constexpr const char kListSpaceIdsForUser[] = "SELECT space_id FROM memberships WHERE user_id = ?1";

// ROUNDS_MESSAGE_COLUMNS: see sqlite_rows.hpp.
constexpr const char kFindMessage[] = "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.id = ?1";
constexpr const char kFindMessageByClientId[] =
    "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.space_id = ?1 AND m.author_id = ?2 "
    "AND m.client_id = ?3 AND m.client_id <> ''";
// Published messages, and held ones for their author (?7) and for moderators (?6).
#define ROUNDS_VISIBLE_STATE "(m.state = 'published' OR m.state = 'held' AND (?6 OR m.author_id = ?7))"
// Top-level messages, or every thread's with ?8: either way a range of the (space_id, seq) index.
constexpr const char kListTopBefore[] =
    "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.space_id = ?1 AND (?8 OR m.parent_id IS NULL) "
    "AND m.seq < ?2 AND (?3 OR m.deleted = 0) AND " ROUNDS_VISIBLE_STATE " ORDER BY m.seq DESC LIMIT ?4";
constexpr const char kListTopAfter[] =
    "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.space_id = ?1 AND (?8 OR m.parent_id IS NULL) "
    "AND m.seq > ?2 AND (?3 OR m.deleted = 0) AND " ROUNDS_VISIBLE_STATE " ORDER BY m.seq ASC LIMIT ?4";
constexpr const char kListThreadBefore[] =
    "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.space_id = ?1 AND m.parent_id = ?5 "
    "AND m.seq < ?2 AND (?3 OR m.deleted = 0) AND " ROUNDS_VISIBLE_STATE " ORDER BY m.seq DESC LIMIT ?4";
constexpr const char kListThreadAfter[] =
    "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.space_id = ?1 AND m.parent_id = ?5 "
    "AND m.seq > ?2 AND (?3 OR m.deleted = 0) AND " ROUNDS_VISIBLE_STATE " ORDER BY m.seq ASC LIMIT ?4";
constexpr const char kHasViewerMarks[] =
    "SELECT EXISTS (SELECT 1 FROM reactions WHERE message_id IN (SELECT value FROM json_each(?1)) AND user_id = ?2) "
    "OR EXISTS (SELECT 1 FROM poll_votes WHERE message_id IN (SELECT value FROM json_each(?1)) AND user_id = ?2) "
    "OR EXISTS (SELECT 1 FROM idea_votes WHERE message_id IN (SELECT value FROM json_each(?1)) AND user_id = ?2)";
constexpr const char kListPinned[] =
    "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.space_id = ?1 AND m.pinned = 1 "
    "AND m.deleted = 0 AND m.state = 'published' ORDER BY m.seq DESC";
// Details of a page of messages (?1: JSON array of message ids, ?2: the viewer): one query per
// kind of detail instead of one per message.
constexpr const char kReactionsBatch[] =
    "SELECT message_id, emoji, count(*), max(user_id = ?2) FROM reactions "
    "WHERE message_id IN (SELECT value FROM json_each(?1)) GROUP BY message_id, emoji "
    "ORDER BY message_id, count(*) DESC, emoji";
constexpr const char kMentionsBatch[] =
    "SELECT message_id, user_id FROM mentions WHERE message_id IN (SELECT value FROM json_each(?1)) "
    "ORDER BY message_id, user_id";
constexpr const char kPollOptionsBatch[] =
    "SELECT o.message_id, o.idx, o.text, (SELECT count(*) FROM poll_votes v WHERE v.message_id = o.message_id "
    "AND v.idx = o.idx) FROM poll_options o WHERE o.message_id IN (SELECT value FROM json_each(?1)) "
    "ORDER BY o.message_id, o.idx";
constexpr const char kMyPollVotesBatch[] =
    "SELECT message_id, idx FROM poll_votes WHERE user_id = ?2 AND message_id IN (SELECT value FROM json_each(?1))";
#define ROUNDS_ATTACHMENT_COLUMNS \
  "id, space_id, uploader_id, message_id, name, content_type, size, sha256, phi_types, created_at, phi_rule, " \
  "withheld_types, patient_refs, name_patient_refs"
constexpr const char kAttachmentsBatch[] =
    "SELECT message_id, " ROUNDS_ATTACHMENT_COLUMNS " FROM attachments "
    "WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY message_id, id";
constexpr const char kFindAttachment[] = "SELECT 0, " ROUNDS_ATTACHMENT_COLUMNS " FROM attachments WHERE id = ?1";
constexpr const char kAttachmentPieces[] =
    "SELECT bytes FROM attachment_pieces WHERE attachment_id = ?1 ORDER BY piece";
constexpr const char kAttachmentPiece[] = "SELECT bytes FROM attachment_pieces WHERE attachment_id = ?1 AND piece = ?2";
constexpr const char kUnattachedBefore[] =
    "SELECT id FROM attachments WHERE message_id IS NULL AND created_at < ?1 ORDER BY created_at, id LIMIT ?2";
constexpr const char kInsertAttachment[] =
    "INSERT INTO attachments (space_id, uploader_id, name, content_type, size, sha256, phi_types, created_at, "
    "phi_rule, withheld_types, patient_refs, name_patient_refs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
constexpr const char kInsertAttachmentPiece[] =
    "INSERT INTO attachment_pieces (attachment_id, piece, bytes) VALUES (?1, ?2, ?3)";
constexpr const char kAttach[] =
    "UPDATE attachments SET message_id = ?1 WHERE id = ?2 AND message_id IS NULL AND space_id = ?3 AND uploader_id = ?4";
constexpr const char kDeleteAttachmentPieces[] =
    "DELETE FROM attachment_pieces WHERE attachment_id IN (SELECT value FROM json_each(?1))";
constexpr const char kDeleteAttachmentRows[] = "DELETE FROM attachments WHERE id IN (SELECT value FROM json_each(?1))";
constexpr const char kMessageAttachmentIds[] = "SELECT id FROM attachments WHERE message_id = ?1 ORDER BY id";
constexpr const char kMyIdeaVotesBatch[] =
    "SELECT message_id FROM idea_votes WHERE user_id = ?2 AND message_id IN (SELECT value FROM json_each(?1))";
constexpr const char kListEdits[] =
    "SELECT message_id, version, body, edited_at, editor_id, title FROM message_edits WHERE message_id = ?1 "
    "ORDER BY version";
constexpr const char kListMentions[] =
    "SELECT n.user_id, n.message_id, n.space_id, n.created_at FROM mentions n "
    "JOIN messages m ON m.id = n.message_id WHERE n.user_id = ?1 AND n.message_id < ?2 AND m.deleted = 0 "
    "AND m.state = 'published' "
    "ORDER BY n.message_id DESC LIMIT ?3";
constexpr const char kListEvents[] =
    "SELECT e.space_id, e.seq, e.type, e.payload, e.created_at, e.restricted_to, coalesce(m.patient_refs, '') "
    "FROM space_events e LEFT JOIN messages m ON m.id = e.message_id WHERE e.space_id = ?1 AND e.seq > ?2 "
    "ORDER BY e.seq LIMIT ?3";
// message_search is an external-content index over messages kept in step by triggers (migrations
// 0002 and 0007: the writer applies the queued changes before each COMMIT); the space filter and
// the deleted check are applied to the message row itself. A search ranks the newest
// kSearchRankWindow matches in the searcher's spaces (RankTexts, from their title and body): FTS5
// walks its doclists newest first and stops there, where ranking every match of a common word read
// and scored hundreds of thousands of rows. FTS5's bm25() is not used: its word weights count every
// match of every word in the whole index, which doubled the time of a search for a common word.
constexpr int kSearchRankWindow = 200;
constexpr const char kSearchCandidates[] =
    "SELECT message_search.rowid, m.title, m.body FROM message_search "
    "CROSS JOIN messages m ON m.id = message_search.rowid "
    "WHERE message_search MATCH ?1 AND m.space_id IN (SELECT value FROM json_each(?2)) AND m.deleted = 0 "
    "AND m.state = 'published' ORDER BY message_search.rowid DESC LIMIT ?3";
// The index terms in [?1, ?2), from the vocabulary of message_search (a temp fts5vocab table each
// connection of the store creates when it opens). At most kMaxCompletions + 1: one more says "too
// many, keep the prefix".
constexpr int kMaxCompletions = 8;
constexpr const char kSearchCompletions[] =
    "SELECT term FROM temp.message_search_terms WHERE term >= ?1 AND term < ?2 LIMIT ?3";
constexpr const char kMessagesById[] =
    "SELECT " ROUNDS_MESSAGE_COLUMNS " FROM messages m WHERE m.id IN (SELECT value FROM json_each(?1))";

constexpr const char kInsertDepartment[] = "INSERT INTO departments (name, parent_id) VALUES (?1, ?2)";
constexpr const char kInsertUser[] =
    "INSERT INTO users (username, display_name, email, job_role, kind, is_admin, is_compliance, disabled, "
    "created_at, is_guest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char kUpdateUser[] =
    "UPDATE users SET display_name = ?2, email = ?3, job_role = ?4, kind = ?5, is_admin = ?6, "
    "is_compliance = ?7, disabled = ?8, is_guest = ?9 WHERE id = ?1";
constexpr const char kClearUserDepartments[] = "DELETE FROM user_departments WHERE user_id = ?1";
constexpr const char kInsertUserDepartment[] =
    "INSERT OR IGNORE INTO user_departments (user_id, department_id) VALUES (?1, ?2)";
constexpr const char kInsertCredentials[] =
    "INSERT INTO credentials (user_id, password_hash) VALUES (?1, ?2)";
constexpr const char kUpdateCredentials[] =
    "UPDATE credentials SET password_hash = ?2, failed_attempts = ?3, locked_until = ?4, totp_secret = ?5, "
    "totp_pending = ?6, totp_last_step = ?7, recovery_codes = ?8 WHERE user_id = ?1";
constexpr const char kInsertSession[] =
    "INSERT INTO sessions (user_id, token_hash, csrf_token, is_bearer, created_at, last_seen_at, "
    "expires_at, user_agent, address, second_factor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char kTouchSession[] = "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1";
constexpr const char kSetSessionSecondFactor[] = "UPDATE sessions SET second_factor = 1 WHERE id = ?1";
constexpr const char kSetSessionAdminElevation[] = "UPDATE sessions SET admin_elevated_until = ?2 WHERE id = ?1";
constexpr const char kDeleteSession[] = "DELETE FROM sessions WHERE id = ?1";
constexpr const char kSessionIdsForUser[] = "SELECT id FROM sessions WHERE user_id = ?1";
constexpr const char kDeleteSessionsForUser[] = "DELETE FROM sessions WHERE user_id = ?1";
constexpr const char kDeleteExpiredSessions[] =
    "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at <= ?1 - ?2";
constexpr const char kInsertSpace[] =
    "INSERT INTO spaces (kind, name, topic, visibility, join_policy, archived, direct_key, created_by, "
    "created_at, template_key, template_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, ''), ?8, ?9, ?10, ?11)";
constexpr const char kUpdateSpace[] =
    "UPDATE spaces SET name = ?2, topic = ?3, visibility = ?4, join_policy = ?5, archived = ?6 WHERE id = ?1";
constexpr const char kUpsertMembership[] =
    "INSERT INTO memberships (space_id, user_id, role, read_seq, joined_at) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (space_id, user_id) DO UPDATE SET role = excluded.role";
constexpr const char kDeleteMembership[] = "DELETE FROM memberships WHERE space_id = ?1 AND user_id = ?2";
constexpr const char kRecountMembers[] =
    "UPDATE spaces SET member_count = (SELECT count(*) FROM memberships WHERE space_id = ?1) WHERE id = ?1";
constexpr const char kSetReadSeq[] =
    "UPDATE memberships SET read_seq = max(read_seq, min(?3, (SELECT last_seq FROM spaces WHERE id = ?1))) "
    "WHERE space_id = ?1 AND user_id = ?2";
// Two statements rather than UPDATE ... RETURNING, which collects its rows in a temporary b-tree
// made and dropped on every call.
constexpr const char kBumpSeq[] = "UPDATE spaces SET last_seq = last_seq + 1 WHERE id = ?1";
constexpr const char kLastSeq[] = "SELECT last_seq FROM spaces WHERE id = ?1";
// The message an event is about, from its type (?3) and JSON payload (?4): stored with the event
// so that retention finds a message's events. 0008 filled it for older events with this expression
// (written there with IN; a list of constants makes SQLite build a temporary b-tree on every call,
// a chain of equalities does not).
#define ROUNDS_EVENT_MESSAGE_ID                                                                  \
  "(CASE WHEN json_valid(?4) = 0 THEN NULL "                                                     \
  "WHEN ?3 = 'reaction.changed' OR ?3 = 'vote.changed' OR ?3 = 'poll.changed' "                  \
  "THEN json_extract(?4, '$.message_id') "                                                       \
  "WHEN substr(?3, 1, 8) = 'message.' OR ?3 = 'answer.accepted' THEN json_extract(?4, '$.id') END)"
constexpr const char kInsertEvent[] =
    "INSERT INTO space_events (space_id, seq, type, payload, created_at, restricted_to, message_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, " ROUNDS_EVENT_MESSAGE_ID ")";
#undef ROUNDS_EVENT_MESSAGE_ID
constexpr const char kInsertMessage[] =
    "INSERT INTO messages (space_id, seq, author_id, kind, parent_id, title, body, client_id, created_at, "
    "state, hold_reason, phi_types, patient_refs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr const char kBumpReplyCount[] =
    "UPDATE messages SET reply_count = reply_count + ?3 WHERE id = ?1 AND space_id = ?2";
constexpr const char kDropReplyCount[] =
    "UPDATE messages SET reply_count = max(reply_count - 1, 0) WHERE id = ?1";
constexpr const char kInsertPollOption[] =
    "INSERT INTO poll_options (message_id, idx, text) VALUES (?1, ?2, ?3)";
constexpr const char kInsertMention[] =
    "INSERT OR IGNORE INTO mentions (user_id, message_id, space_id, created_at) VALUES (?1, ?2, ?3, ?4)";
constexpr const char kMessageForEdit[] =
    "SELECT title, body, created_at, author_id, deleted FROM messages WHERE id = ?1";
constexpr const char kEditCount[] = "SELECT count(*) FROM message_edits WHERE message_id = ?1";
constexpr const char kInsertEdit[] =
    "INSERT INTO message_edits (message_id, version, title, body, edited_at, editor_id) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char kUpdateMessageBody[] =
    "UPDATE messages SET title = ?2, body = ?3, edited_at = ?4 WHERE id = ?1";
constexpr const char kMessageForDelete[] = "SELECT deleted, parent_id, state = 'published' FROM messages WHERE id = ?1";
constexpr const char kDeleteMessage[] =
    "UPDATE messages SET deleted = 1, title = '', body = '', pinned = 0, edited_at = ?2 WHERE id = ?1";
// The rest of a deleted message's text: its earlier versions, and its poll's options (screened as
// the author's text like the body) with the votes on them. Kept while a legal hold covers it.
constexpr const char* kDeleteMessageContent[] = {
    "DELETE FROM message_edits WHERE message_id = ?1",
    "DELETE FROM poll_votes WHERE message_id = ?1",
    "DELETE FROM poll_options WHERE message_id = ?1",
};
constexpr const char kSetPinned[] = "UPDATE messages SET pinned = ?2 WHERE id = ?1";
constexpr const char kSetAccepted[] = "UPDATE messages SET accepted_answer_id = ?2 WHERE id = ?1";
constexpr const char kAddReaction[] =
    "INSERT OR IGNORE INTO reactions (message_id, emoji, user_id) VALUES (?1, ?2, ?3)";
constexpr const char kRemoveReaction[] =
    "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3";
constexpr const char kAddIdeaVote[] = "INSERT OR IGNORE INTO idea_votes (message_id, user_id) VALUES (?1, ?2)";
constexpr const char kRemoveIdeaVote[] = "DELETE FROM idea_votes WHERE message_id = ?1 AND user_id = ?2";
constexpr const char kRecountIdeaVotes[] =
    "UPDATE messages SET vote_count = (SELECT count(*) FROM idea_votes WHERE message_id = ?1) WHERE id = ?1";
constexpr const char kSetPollVote[] =
    "INSERT INTO poll_votes (message_id, user_id, idx) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (message_id, user_id) DO UPDATE SET idx = excluded.idx WHERE idx <> excluded.idx";
constexpr const char kRemovePollVote[] = "DELETE FROM poll_votes WHERE message_id = ?1 AND user_id = ?2";
constexpr const char kPollOptionExists[] = "SELECT 1 FROM poll_options WHERE message_id = ?1 AND idx = ?2";

#define ROUNDS_AUDIT_COLUMNS \
  "seq, time, actor_id, actor_role, action, object_type, object_id, patient_ref, outcome, address, " \
  "session_hash, reason, details, prev_hash, hash"
constexpr const char kLastAudit[] = "SELECT " ROUNDS_AUDIT_COLUMNS " FROM audit_log ORDER BY seq DESC LIMIT 1";
constexpr const char kAuditHead[] = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
constexpr const char kListAudit[] =
    "SELECT " ROUNDS_AUDIT_COLUMNS " FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2";
constexpr const char kInsertAudit[] =
    "INSERT INTO audit_log (" ROUNDS_AUDIT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14, ?15)";

// ---- Row readers ---------------------------------------------------------------------------

User ReadUser(const Statement& s) {
  User u;
  u.id = s.Int(0);
  u.username = s.Text(1);
  u.display_name = s.Text(2);
  u.email = s.Text(3);
  u.job_role = s.Text(4);
  u.kind = ParseAccountKind(s.Text(5)).value_or(AccountKind::kStaff);
  u.is_admin = s.Int(6) != 0;
  u.is_compliance = s.Int(7) != 0;
  u.disabled = s.Int(8) != 0;
  u.created_at = s.Int(9);
  u.is_guest = s.Int(10) != 0;
  return u;
}

Department ReadDepartment(const Statement& s) {
  Department d;
  d.id = s.Int(0);
  d.name = s.Text(1);
  d.parent_id = s.OptionalInt(2);
  return d;
}

Session ReadSession(const Statement& s) {
  Session x;
  x.id = s.Int(0);
  x.user_id = s.Int(1);
  x.token_hash = s.Text(2);
  x.csrf_token = s.Text(3);
  x.is_bearer = s.Int(4) != 0;
  x.created_at = s.Int(5);
  x.last_seen_at = s.Int(6);
  x.expires_at = s.Int(7);
  x.user_agent = s.Text(8);
  x.address = s.Text(9);
  x.second_factor = s.Int(10) != 0;
  x.admin_elevated_until = s.Int(11);
  return x;
}

// Reads the 12 space columns starting at `c`.
}  // namespace

Space ReadSpace(const Statement& s, int c) {
  Space x;
  x.id = s.Int(c + 0);
  x.kind = ParseSpaceKind(s.Text(c + 1)).value_or(SpaceKind::kChannel);
  x.name = s.Text(c + 2);
  x.topic = s.Text(c + 3);
  x.visibility = ParseVisibility(s.Text(c + 4)).value_or(Visibility::kPrivate);
  x.join_policy = ParseJoinPolicy(s.Text(c + 5)).value_or(JoinPolicy::kInvite);
  x.archived = s.Int(c + 6) != 0;
  x.direct_key = s.Text(c + 7);
  x.created_by = s.Int(c + 8);
  x.created_at = s.Int(c + 9);
  x.last_seq = s.Int(c + 10);
  x.member_count = static_cast<int>(s.Int(c + 11));
  x.template_key = s.Text(c + 12);
  x.template_version = static_cast<int>(s.Int(c + 13));
  return x;
}

namespace {

Membership ReadMembership(const Statement& s) {
  Membership m;
  m.space_id = s.Int(0);
  m.user_id = s.Int(1);
  m.role = ParseMemberRole(s.Text(2)).value_or(MemberRole::kReadOnly);
  m.read_seq = s.Int(3);
  m.joined_at = s.Int(4);
  return m;
}

}  // namespace

Message ReadMessageRow(const Statement& s) {
  Message m;
  m.id = s.Int(0);
  m.space_id = s.Int(1);
  m.seq = s.Int(2);
  m.author_id = s.Int(3);
  m.kind = ParseMessageKind(s.Text(4)).value_or(MessageKind::kMessage);
  m.parent_id = s.OptionalInt(5);
  m.title = s.Text(6);
  m.body = s.Text(7);
  m.client_id = s.Text(8);
  m.created_at = s.Int(9);
  m.edited_at = s.Int(10);
  m.deleted = s.Int(11) != 0;
  m.pinned = s.Int(12) != 0;
  m.accepted_answer_id = s.OptionalInt(13);
  m.reply_count = static_cast<int>(s.Int(14));
  m.vote_count = static_cast<int>(s.Int(15));
  m.state = ParseMessageState(s.Text(16)).value_or(MessageState::kHidden);
  m.hold_reason = s.Text(17);
  m.phi_types = s.Text(18);
  m.patient_refs = s.Text(19);
  return m;
}

namespace {

}  // namespace

AuditRecord ReadAudit(const Statement& s) {
  // The hash covers values as read, and reading converts: a time stored as the text
  // "1796448095096x" reads as 1796448095096 and verifies, while every filter on time, actor or
  // object compares the stored value and passes the record by. A value of another type than the
  // appender writes is therefore an alteration, and gets a hash that cannot verify. (Types are
  // asked before any value is read: reading one converts it, and its type is then undefined.)
  int retyped = 0;
  for (int column = 1; column <= 14 && retyped == 0; ++column) {
    if (s.Type(column) != (column <= 2 ? SQLITE_INTEGER : SQLITE_TEXT)) retyped = column;
  }
  AuditRecord r;
  r.seq = s.Int(0);
  r.time = s.Int(1);
  r.actor_id = s.Int(2);
  r.actor_role = s.Text(3);
  r.action = s.Text(4);
  r.object_type = s.Text(5);
  r.object_id = s.Text(6);
  r.patient_ref = s.Text(7);
  // An unknown outcome text means the row was altered; keep a value that cannot verify.
  r.outcome = ParseAuditOutcome(s.Text(8)).value_or(AuditOutcome::kFailure);
  if (!ParseAuditOutcome(s.Text(8))) r.reason = "<invalid outcome " + s.Text(8) + ">";
  r.address = s.Text(9);
  r.session_hash = s.Text(10);
  if (r.reason.empty()) r.reason = s.Text(11);
  r.details_json = s.Text(12);
  r.prev_hash = s.Text(13);
  r.hash = s.Text(14);
  if (retyped != 0) r.hash = "<column " + std::to_string(retyped) + " stored as another type>";
  return r;
}

namespace {

// Reads every row of `statement` through `read`.
std::string EscapeLike(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

int ClampLimit(int limit) { return limit <= 0 ? 50 : std::min(limit, 1000); }

}  // namespace

// ---- Reads -----------------------------------------------------------------------------------

Status SqliteTx::LoadDepartments(std::span<User> users) {
  if (users.empty()) return Ok();
  if (users.size() == 1) {
    // One user (every FindUser: each request's caller, each author of a page of messages): a
    // plain lookup, without building and parsing a JSON list of one id.
    User& u = users.front();
    u.department_ids.clear();
    ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUserDepartments));
    s->Bind(1, u.id);
    ROUNDS_ASSIGN_OR_RETURN(u.department_ids, ReadAll<DepartmentId>(*s, [](const Statement& r) { return r.Int(0); }));
    return Ok();
  }
  std::map<UserId, User*> by_id;
  nlohmann::json ids = nlohmann::json::array();
  for (User& u : users) {
    u.department_ids.clear();
    by_id[u.id] = &u;
    ids.push_back(u.id);
  }
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUserDepartmentsBatch));
  s->Bind(1, ids.dump());
  while (true) {
    ROUNDS_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    auto it = by_id.find(s->Int(0));
    if (it != by_id.end()) it->second->department_ids.push_back(s->Int(1));
  }
  return Ok();
}

Result<std::optional<User>> SqliteTx::FindUser(UserId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindUser));
  s->Bind(1, id);
  ROUNDS_ASSIGN_OR_RETURN(auto user, ReadOne<User>(*s, ReadUser));
  if (user) ROUNDS_RETURN_IF_ERROR(LoadDepartments(std::span<User>(&*user, 1)));
  return user;
}

Result<std::optional<AccountFlags>> SqliteTx::FindAccountFlags(UserId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindAccountFlags));
  s->Bind(1, id);
  return ReadOne<AccountFlags>(*s, [](const Statement& r) {
    AccountFlags f;
    f.kind = ParseAccountKind(r.Text(0)).value_or(AccountKind::kStaff);
    f.is_admin = r.Int(1) != 0;
    f.is_compliance = r.Int(2) != 0;
    f.disabled = r.Int(3) != 0;
    f.is_guest = r.Int(4) != 0;
    return f;
  });
}

Result<std::string> SqliteTx::ServerSecret(const std::string& name) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare("SELECT value FROM server_secrets WHERE name = ?1"));
  s->Bind(1, name);
  ROUNDS_ASSIGN_OR_RETURN(auto value, ReadOne<std::string>(*s, [](const Statement& r) { return r.Blob(0); }));
  if (!value) return NotFound("server secret " + name);
  return std::move(*value);
}

Result<std::vector<UserRef>> SqliteTx::FindUserRefs(std::span<const UserId> ids) {
  if (ids.empty()) return std::vector<UserRef>();
  auto read = [](const Statement& r) { return UserRef{r.Int(0), r.Text(1), r.Text(2)}; };
  if (ids.size() == 1) {
    // One id (a post's author, in the writer): a plain lookup, without building and walking a
    // JSON list of one.
    ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindUserRef));
    s->Bind(1, ids.front());
    return ReadAll<UserRef>(*s, read);
  }
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindUserRefs));
  s->Bind(1, nlohmann::json(ids).dump());
  return ReadAll<UserRef>(*s, read);
}

Result<std::optional<User>> SqliteTx::FindUserByUsername(const std::string& username) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindUserByUsername));
  s->Bind(1, username);
  ROUNDS_ASSIGN_OR_RETURN(auto user, ReadOne<User>(*s, ReadUser));
  if (user) ROUNDS_RETURN_IF_ERROR(LoadDepartments(std::span<User>(&*user, 1)));
  return user;
}

Result<std::vector<User>> SqliteTx::ListUsers(const UserQuery& q) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListUsers));
  s->Bind(1, q.after_id).Bind(2, EscapeLike(q.text)).Bind(3, q.job_role).Bind(4, q.department_id);
  s->Bind(5, q.include_disabled).Bind(6, ClampLimit(q.limit));
  ROUNDS_ASSIGN_OR_RETURN(auto users, ReadAll<User>(*s, ReadUser));
  ROUNDS_RETURN_IF_ERROR(LoadDepartments(users));
  return users;
}

Result<std::int64_t> SqliteTx::CountUsers() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kCountUsers));
  ROUNDS_ASSIGN_OR_RETURN(auto n, ReadOne<std::int64_t>(*s, [](const Statement& r) { return r.Int(0); }));
  return n.value_or(0);
}

Result<std::optional<Credentials>> SqliteTx::FindCredentials(UserId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindCredentials));
  s->Bind(1, id);
  return ReadOne<Credentials>(*s, [](const Statement& r) {
    Credentials c{r.Int(0), r.Text(1), static_cast<int>(r.Int(2)), r.Int(3)};
    c.totp_secret = r.Text(4);
    c.totp_pending = r.Text(5);
    c.totp_last_step = r.Int(6);
    std::stringstream codes(r.Text(7));
    for (std::string code; codes >> code;) c.recovery_codes.push_back(code);
    return c;
  });
}

Result<std::vector<Department>> SqliteTx::ListDepartments() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListDepartments));
  return ReadAll<Department>(*s, ReadDepartment);
}

Result<std::optional<Department>> SqliteTx::FindDepartment(DepartmentId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindDepartment));
  s->Bind(1, id);
  return ReadOne<Department>(*s, ReadDepartment);
}

Result<std::optional<Department>> SqliteTx::FindDepartmentByName(const std::string& name) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindDepartmentByName));
  s->Bind(1, name);
  return ReadOne<Department>(*s, ReadDepartment);
}

Result<std::optional<Session>> SqliteTx::FindSessionByTokenHash(const std::string& token_hash) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindSession));
  s->Bind(1, token_hash);
  return ReadOne<Session>(*s, ReadSession);
}

Result<std::vector<Session>> SqliteTx::ListSessionsForUser(UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListSessions));
  s->Bind(1, user_id);
  return ReadAll<Session>(*s, ReadSession);
}

Result<std::optional<Space>> SqliteTx::FindSpace(SpaceId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindSpace));
  s->Bind(1, id);
  return ReadOne<Space>(*s, [](const Statement& r) { return ReadSpace(r); });
}

Result<std::optional<Space>> SqliteTx::FindDirectSpace(const std::string& direct_key) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindDirectSpace));
  s->Bind(1, direct_key);
  return ReadOne<Space>(*s, [](const Statement& r) { return ReadSpace(r); });
}

Result<std::vector<Space>> SqliteTx::ListSpaces(const SpaceQuery& q) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListSpaces));
  s->Bind(1, q.after_id);
  if (q.kind) {
    s->Bind(2, ToString(*q.kind));
  } else {
    s->BindNull(2);
  }
  s->Bind(3, q.public_only).Bind(4, q.include_archived).Bind(5, EscapeLike(q.text));
  s->Bind(6, q.not_member_of).Bind(7, ClampLimit(q.limit));
  return ReadAll<Space>(*s, [](const Statement& r) { return ReadSpace(r); });
}

Result<std::vector<MemberSpace>> SqliteTx::ListSpacesForUser(UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListSpacesForUser));
  s->Bind(1, user_id);
  return ReadAll<MemberSpace>(*s, [user_id](const Statement& r) {
    MemberSpace ms;
    ms.space = ReadSpace(r);
    ms.membership.space_id = ms.space.id;
    ms.membership.user_id = user_id;
    ms.membership.role = ParseMemberRole(r.Text(14)).value_or(MemberRole::kReadOnly);
    ms.membership.read_seq = r.Int(15);
    ms.membership.joined_at = r.Int(16);
    ms.unread_count = r.Int(17);
    ms.unread_mentions = r.Int(18);
    return ms;
  });
}

Result<std::optional<Membership>> SqliteTx::FindMembership(SpaceId space_id, UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindMembership));
  s->Bind(1, space_id).Bind(2, user_id);
  return ReadOne<Membership>(*s, ReadMembership);
}

Result<std::vector<Membership>> SqliteTx::ListMembers(SpaceId space_id, UserId after_user_id, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListMembers));
  s->Bind(1, space_id).Bind(2, after_user_id).Bind(3, ClampLimit(limit));
  return ReadAll<Membership>(*s, ReadMembership);
}

Result<std::vector<UserId>> SqliteTx::ListMemberIds(SpaceId space_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListMemberIds));
  s->Bind(1, space_id);
  return ReadAll<UserId>(*s, [](const Statement& r) { return r.Int(0); });
}

Result<std::int64_t> SqliteTx::CountMembersOfKind(SpaceId space_id, AccountKind kind) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kCountMembersOfKind));
  s->Bind(1, space_id).BindView(2, ToString(kind));
  ROUNDS_ASSIGN_OR_RETURN(auto count, ReadOne<std::int64_t>(*s, [](const Statement& r) { return r.Int(0); }));
  return count.value_or(0);
}

Result<std::int64_t> SqliteTx::CountGuestMembers(SpaceId space_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kCountGuestMembers));
  s->Bind(1, space_id);
  ROUNDS_ASSIGN_OR_RETURN(auto count, ReadOne<std::int64_t>(*s, [](const Statement& r) { return r.Int(0); }));
  return count.value_or(0);
}

namespace {
JoinRequest ReadJoinRequest(const Statement& r) { return JoinRequest{r.Int(0), r.Int(1), r.Int(2)}; }
}  // namespace

Result<std::vector<JoinRequest>> SqliteTx::ListJoinRequests(SpaceId space_id, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListJoinRequests));
  s->Bind(1, space_id).Bind(2, ClampLimit(limit));
  return ReadAll<JoinRequest>(*s, ReadJoinRequest);
}

Result<std::optional<JoinRequest>> SqliteTx::FindJoinRequest(SpaceId space_id, UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindJoinRequest));
  s->Bind(1, space_id).Bind(2, user_id);
  return ReadOne<JoinRequest>(*s, ReadJoinRequest);
}

Result<std::vector<SpaceId>> SqliteTx::ListSpaceIdsForUser(UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListSpaceIdsForUser));
  s->Bind(1, user_id);
  return ReadAll<SpaceId>(*s, [](const Statement& r) { return r.Int(0); });
}

// Columns 1.. of kAttachmentsBatch and kFindAttachment (column 0 is the message id or a filler).
Attachment ReadAttachmentRow(const Statement& r) {
  Attachment a;
  a.id = r.Int(1);
  a.space_id = r.Int(2);
  a.uploader_id = r.Int(3);
  a.message_id = r.OptionalInt(4);
  a.name = r.Text(5);
  a.content_type = r.Text(6);
  a.size = r.Int(7);
  a.sha256 = r.Text(8);
  a.phi_types = r.Text(9);
  a.created_at = r.Int(10);
  a.phi_rule = r.Text(11);
  a.withheld_types = r.Text(12);
  a.patient_refs = r.Text(13);
  a.name_patient_refs = r.Text(14);
  return a;
}

Result<std::vector<Message>> SqliteTx::ReadMessages(Statement& statement, UserId viewer_id) {
  ROUNDS_ASSIGN_OR_RETURN(auto messages, ReadAll<Message>(statement, ReadMessageRow));
  std::vector<Message*> pointers;
  for (auto& m : messages) pointers.push_back(&m);
  ROUNDS_RETURN_IF_ERROR(LoadMessageDetails(pointers, viewer_id));
  return messages;
}

Status SqliteTx::LoadMessageDetails(std::span<Message* const> messages, UserId viewer_id) {
  if (messages.empty()) return Ok();
  std::map<MessageId, Message*> by_id;
  nlohmann::json ids = nlohmann::json::array();
  bool polls = false, ideas = false;
  for (Message* m_ptr : messages) {
    Message& m = *m_ptr;
    m.reactions.clear();
    m.mentions.clear();
    m.poll_options.clear();
    m.attachments.clear();
    m.my_poll_vote.reset();
    m.my_vote = false;
    by_id[m.id] = &m;
    ids.push_back(m.id);
    polls = polls || m.kind == MessageKind::kPoll;
    ideas = ideas || m.kind == MessageKind::kIdea;
  }
  std::string id_list = ids.dump();
  // Runs one batched query and hands each row to `apply` with the message it belongs to.
  auto each = [&](const char* sql, auto apply) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(sql));
    s->Bind(1, id_list).Bind(2, viewer_id);
    while (true) {
      ROUNDS_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      auto it = by_id.find(s->Int(0));
      if (it != by_id.end()) apply(*it->second, *s);
    }
    return Ok();
  };
  ROUNDS_RETURN_IF_ERROR(each(kReactionsBatch, [](Message& m, const Statement& r) {
    m.reactions.push_back({r.Text(1), static_cast<int>(r.Int(2)), r.Int(3) != 0});
  }));
  ROUNDS_RETURN_IF_ERROR(each(kMentionsBatch, [](Message& m, const Statement& r) { m.mentions.push_back(r.Int(1)); }));
  ROUNDS_RETURN_IF_ERROR(each(kAttachmentsBatch, [](Message& m, const Statement& r) {
    m.attachments.push_back(ReadAttachmentRow(r));
  }));
  if (polls) {
    ROUNDS_RETURN_IF_ERROR(each(kPollOptionsBatch, [](Message& m, const Statement& r) {
      m.poll_options.push_back({static_cast<int>(r.Int(1)), r.Text(2), static_cast<int>(r.Int(3))});
    }));
    ROUNDS_RETURN_IF_ERROR(each(kMyPollVotesBatch, [](Message& m, const Statement& r) {
      m.my_poll_vote = static_cast<int>(r.Int(1));
    }));
  }
  if (ideas) {
    ROUNDS_RETURN_IF_ERROR(each(kMyIdeaVotesBatch, [](Message& m, const Statement&) { m.my_vote = true; }));
  }
  return Ok();
}

Result<std::optional<Message>> SqliteTx::FindMessage(MessageId id, UserId viewer_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindMessage));
  s->Bind(1, id);
  ROUNDS_ASSIGN_OR_RETURN(auto m, ReadOne<Message>(*s, ReadMessageRow));
  if (m) ROUNDS_RETURN_IF_ERROR(LoadMessageDetails(std::array<Message*, 1>{&*m}, viewer_id));
  return m;
}

Result<std::optional<Message>> SqliteTx::FindMessageByClientId(SpaceId space_id, UserId author_id,
                                                               const std::string& client_id) {
  if (client_id.empty()) return std::optional<Message>();
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindMessageByClientId));
  s->Bind(1, space_id).Bind(2, author_id).Bind(3, client_id);
  ROUNDS_ASSIGN_OR_RETURN(auto m, ReadOne<Message>(*s, ReadMessageRow));
  if (m) ROUNDS_RETURN_IF_ERROR(LoadMessageDetails(std::array<Message*, 1>{&*m}, author_id));
  return m;
}

Result<std::vector<Message>> SqliteTx::ListMessages(const MessageQuery& q) {
  bool after = q.after_seq.has_value();
  const bool thread = q.parent_id && !q.all_threads;
  const char* sql = thread ? (after ? kListThreadAfter : kListThreadBefore) : (after ? kListTopAfter : kListTopBefore);
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(sql));
  s->Bind(1, q.space_id).Bind(2, after ? *q.after_seq : q.before_seq.value_or(kMaxInt));
  s->Bind(3, q.include_deleted).Bind(4, ClampLimit(q.limit));
  if (thread) s->Bind(5, *q.parent_id);
  s->Bind(6, q.moderator_view).Bind(7, q.viewer_id);
  if (!thread) s->Bind(8, q.all_threads);
  return ReadMessages(*s, q.viewer_id);
}

Result<std::optional<PageVersion>> SqliteTx::FindPageVersion(SpaceId space_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindPageVersionSql));
  s->Bind(1, space_id);
  return ReadOne<PageVersion>(*s, [](const Statement& r) { return PageVersion{r.Int(0), r.Int(1), r.Int(2) != 0}; });
}

Result<bool> SqliteTx::HasViewerMarks(std::span<const MessageId> ids, UserId viewer_id) {
  if (ids.empty()) return false;
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kHasViewerMarks));
  s->Bind(1, nlohmann::json(ids).dump()).Bind(2, viewer_id);
  ROUNDS_ASSIGN_OR_RETURN(auto marked, ReadOne<bool>(*s, [](const Statement& r) { return r.Int(0) != 0; }));
  return marked.value_or(false);
}

Result<std::vector<Message>> SqliteTx::ListPinned(SpaceId space_id, UserId viewer_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListPinned));
  s->Bind(1, space_id);
  return ReadMessages(*s, viewer_id);
}

Result<std::vector<MessageEdit>> SqliteTx::ListEdits(MessageId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListEdits));
  s->Bind(1, id);
  return ReadAll<MessageEdit>(*s, [](const Statement& r) {
    return MessageEdit{r.Int(0), static_cast<int>(r.Int(1)), r.Text(2), r.Int(3), r.Int(4), r.Text(5)};
  });
}

Result<std::vector<Mention>> SqliteTx::ListMentions(UserId user_id, MessageId before_message_id, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListMentions));
  s->Bind(1, user_id).Bind(2, before_message_id > 0 ? before_message_id : kMaxInt).Bind(3, ClampLimit(limit));
  return ReadAll<Mention>(*s, [](const Statement& r) {
    return Mention{r.Int(0), r.Int(1), r.Int(2), r.Int(3)};
  });
}

Result<std::vector<SpaceEvent>> SqliteTx::ListEvents(SpaceId space_id, Seq after_seq, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListEvents));
  s->Bind(1, space_id).Bind(2, after_seq).Bind(3, limit <= 0 ? 1000 : limit);
  return ReadAll<SpaceEvent>(*s, [](const Statement& r) {
    return SpaceEvent{r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Int(4), r.Int(5), r.Text(6)};
  });
}

Result<std::optional<std::vector<std::string>>> SqliteTx::Completions(const std::string& word) {
  using Found = std::optional<std::vector<std::string>>;
  const std::optional<TermRange> range = CompletionRange(word);
  if (!range) return Found();
  // A connection opened without the vocabulary table keeps the prefix query.
  auto prepared = db_.Prepare(kSearchCompletions);
  if (!prepared) return Found();
  Statement* s = *prepared;
  s->Bind(1, range->first).Bind(2, range->past).Bind(3, kMaxCompletions + 1);
  ROUNDS_ASSIGN_OR_RETURN(auto terms, ReadAll<std::string>(*s, [](const Statement& r) { return r.Text(0); }));
  if (terms.size() > static_cast<std::size_t>(kMaxCompletions)) return Found();
  for (const std::string& term : terms) {
    if (term.find('"') != std::string::npos) return Found();  // not from the tokenizer: keep the prefix
  }
  return Found(std::move(terms));
}

Result<std::vector<SearchHit>> SqliteTx::SearchMessages(const SearchQuery& q) {
  // Words, ranking and excerpts follow the index's own tokenizer: "Café" matches "cafe", and
  // "patient’s" holds the word "patient", exactly as FTS5 matched them.
  ROUNDS_ASSIGN_OR_RETURN(SearchTokenizer * tokenizer, db_.search_tokenizer());
  ROUNDS_ASSIGN_OR_RETURN(const std::vector<TextToken> query_tokens, tokenizer->Tokenize(q.text));
  const std::vector<std::string> words = SearchWords(query_tokens);
  std::string fts = BuildFtsQuery(words);
  if (fts.empty() || q.space_ids.empty()) return std::vector<SearchHit>();
  ROUNDS_ASSIGN_OR_RETURN(auto completions, Completions(words.back()));
  if (completions) fts = BuildFtsQuery(words, *completions);
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSearchCandidates));
  s->Bind(1, fts).Bind(2, nlohmann::json(q.space_ids).dump()).Bind(3, kSearchRankWindow);
  struct Candidate {
    MessageId id;
    std::string title;
    std::string body;
    double score = 0;  // RankTexts: lower is better
  };
  ROUNDS_ASSIGN_OR_RETURN(auto candidates, ReadAll<Candidate>(*s, [](const Statement& r) {
    return Candidate{r.Int(0), r.Text(1), r.Text(2)};
  }));
  {
    std::vector<TextMatches> texts(candidates.size());
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      TextMatches& matches = texts[i];
      auto count = [&](std::string_view term) { CountTerm(term, words, matches); };
      ROUNDS_RETURN_IF_ERROR(tokenizer->ForEachTerm(candidates[i].title, count));
      ROUNDS_RETURN_IF_ERROR(tokenizer->ForEachTerm(candidates[i].body, count));
    }
    const std::vector<double> scores = RankTexts(texts);
    for (std::size_t i = 0; i < candidates.size(); ++i) candidates[i].score = scores[i];
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score < b.score : a.id > b.id;
  });
  const std::size_t offset = static_cast<std::size_t>(std::max(0, q.offset));
  if (offset >= candidates.size()) return std::vector<SearchHit>();
  candidates.erase(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(offset));
  if (candidates.size() > static_cast<std::size_t>(ClampLimit(q.limit))) {
    candidates.resize(static_cast<std::size_t>(ClampLimit(q.limit)));
  }
  std::vector<MessageId> ids;
  for (const auto& c : candidates) ids.push_back(c.id);
  ROUNDS_ASSIGN_OR_RETURN(Statement * m, db_.Prepare(kMessagesById));
  m->Bind(1, nlohmann::json(ids).dump());
  ROUNDS_ASSIGN_OR_RETURN(auto rows, ReadAll<Message>(*m, ReadMessageRow));
  std::unordered_map<MessageId, Message*> by_id;
  for (auto& row : rows) by_id.emplace(row.id, &row);
  std::vector<SearchHit> hits;
  hits.reserve(candidates.size());
  for (const auto& c : candidates) {
    auto it = by_id.find(c.id);
    if (it == by_id.end()) continue;  // not possible inside one read transaction
    Message& message = *it->second;
    // The excerpt comes from the body, or from the title when only the title matched.
    ROUNDS_ASSIGN_OR_RETURN(const std::vector<TextToken> body, tokenizer->Tokenize(message.body));
    ROUNDS_ASSIGN_OR_RETURN(const std::vector<TextToken> title, tokenizer->Tokenize(message.title));
    const bool from_title = !HasSearchMatch(body, words) && HasSearchMatch(title, words);
    std::string snippet = from_title ? Snippet(message.title, title, words) : Snippet(message.body, body, words);
    hits.push_back(SearchHit{std::move(message), std::move(snippet), c.score});
  }
  std::vector<Message*> messages;
  for (auto& hit : hits) messages.push_back(&hit.message);
  ROUNDS_RETURN_IF_ERROR(LoadMessageDetails(messages, 0));
  return hits;
}

Result<std::optional<AuditRecord>> SqliteTx::LastAuditRecord() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kLastAudit));
  return ReadOne<AuditRecord>(*s, ReadAudit);
}

Result<AuditChainHead> SqliteTx::AuditHead() {
  if (audit_ != nullptr && audit_->head) return *audit_->head;
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kAuditHead));
  ROUNDS_ASSIGN_OR_RETURN(auto head, ReadOne<AuditChainHead>(*s, [](const Statement& r) {
    return AuditChainHead{r.Int(0), r.Text(1)};
  }));
  AuditChainHead result = head.value_or(AuditChainHead{});
  if (audit_ != nullptr) audit_->head = result;
  return result;
}

Result<std::vector<AuditRecord>> SqliteTx::ListAudit(std::int64_t after_seq, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListAudit));
  s->Bind(1, after_seq).Bind(2, limit <= 0 ? 1000 : limit);
  return ReadAll<AuditRecord>(*s, ReadAudit);
}

// ---- Writes ----------------------------------------------------------------------------------

Result<DepartmentId> SqliteTx::InsertDepartment(const Department& d) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertDepartment));
  s->Bind(1, d.name).Bind(2, d.parent_id);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.LastInsertId();
}

Result<UserId> SqliteTx::InsertUser(const User& u, const std::string& password_hash) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertUser));
  s->Bind(1, u.username).Bind(2, u.display_name).Bind(3, u.email).Bind(4, u.job_role);
  s->Bind(5, ToString(u.kind)).Bind(6, u.is_admin).Bind(7, u.is_compliance).Bind(8, u.disabled);
  s->Bind(9, u.created_at).Bind(10, u.is_guest);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  UserId id = db_.LastInsertId();
  ROUNDS_ASSIGN_OR_RETURN(Statement * c, db_.Prepare(kInsertCredentials));
  c->Bind(1, id).Bind(2, password_hash);
  ROUNDS_RETURN_IF_ERROR(c->Run());
  for (DepartmentId d : u.department_ids) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * ud, db_.Prepare(kInsertUserDepartment));
    ud->Bind(1, id).Bind(2, d);
    ROUNDS_RETURN_IF_ERROR(ud->Run());
  }
  return id;
}

Status SqliteTx::UpdateUser(const User& u) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUpdateUser));
  s->Bind(1, u.id).Bind(2, u.display_name).Bind(3, u.email).Bind(4, u.job_role).Bind(5, ToString(u.kind));
  s->Bind(6, u.is_admin).Bind(7, u.is_compliance).Bind(8, u.disabled).Bind(9, u.is_guest);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("User");
  ROUNDS_ASSIGN_OR_RETURN(Statement * clear, db_.Prepare(kClearUserDepartments));
  clear->Bind(1, u.id);
  ROUNDS_RETURN_IF_ERROR(clear->Run());
  for (DepartmentId d : u.department_ids) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * ud, db_.Prepare(kInsertUserDepartment));
    ud->Bind(1, u.id).Bind(2, d);
    ROUNDS_RETURN_IF_ERROR(ud->Run());
  }
  return Ok();
}

Status SqliteTx::UpdateCredentials(const Credentials& c) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUpdateCredentials));
  std::string codes;
  for (const std::string& code : c.recovery_codes) {
    if (!codes.empty()) codes += ' ';
    codes += code;
  }
  s->Bind(1, c.user_id).Bind(2, c.password_hash).Bind(3, c.failed_attempts).Bind(4, c.locked_until);
  s->Bind(5, c.totp_secret).Bind(6, c.totp_pending).Bind(7, c.totp_last_step).Bind(8, codes);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("User");
  return Ok();
}

Result<SessionId> SqliteTx::InsertSession(const Session& x) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertSession));
  s->Bind(1, x.user_id).Bind(2, x.token_hash).Bind(3, x.csrf_token).Bind(4, x.is_bearer);
  s->Bind(5, x.created_at).Bind(6, x.last_seen_at).Bind(7, x.expires_at).Bind(8, x.user_agent).Bind(9, x.address);
  s->Bind(10, x.second_factor);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.LastInsertId();
}

Status SqliteTx::SetSessionSecondFactor(SessionId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetSessionSecondFactor));
  s->Bind(1, id);
  return s->Run();
}

Status SqliteTx::SetSessionAdminElevation(SessionId id, UnixMillis until) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetSessionAdminElevation));
  s->Bind(1, id).Bind(2, until);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Session");
  return Ok();
}

Status SqliteTx::TouchSession(SessionId id, UnixMillis last_seen_at) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kTouchSession));
  s->Bind(1, id).Bind(2, last_seen_at);
  return s->Run();
}

Status SqliteTx::DeleteSession(SessionId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kDeleteSession));
  s->Bind(1, id);
  return s->Run();
}

Result<std::vector<SessionId>> SqliteTx::DeleteSessionsForUser(UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * q, db_.Prepare(kSessionIdsForUser));
  q->Bind(1, user_id);
  ROUNDS_ASSIGN_OR_RETURN(auto ids, ReadAll<SessionId>(*q, [](const Statement& r) { return r.Int(0); }));
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kDeleteSessionsForUser));
  s->Bind(1, user_id);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return ids;
}

Result<int> SqliteTx::DeleteExpiredSessions(UnixMillis now, std::int64_t idle_millis) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kDeleteExpiredSessions));
  s->Bind(1, now).Bind(2, idle_millis);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.Changes();
}

Result<SpaceId> SqliteTx::InsertSpace(const Space& x) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertSpace));
  s->Bind(1, ToString(x.kind)).Bind(2, x.name).Bind(3, x.topic).Bind(4, ToString(x.visibility));
  s->Bind(5, ToString(x.join_policy)).Bind(6, x.archived).Bind(7, x.direct_key).Bind(8, x.created_by);
  s->Bind(9, x.created_at).Bind(10, x.template_key).Bind(11, x.template_version);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.LastInsertId();
}

Status SqliteTx::UpdateSpace(const Space& x) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUpdateSpace));
  s->Bind(1, x.id).Bind(2, x.name).Bind(3, x.topic).Bind(4, ToString(x.visibility));
  s->Bind(5, ToString(x.join_policy)).Bind(6, x.archived);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Space");
  return Ok();
}

Status SqliteTx::RecountMembers(SpaceId space_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kRecountMembers));
  s->Bind(1, space_id);
  return s->Run();
}

Status SqliteTx::UpsertMembership(const Membership& m) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUpsertMembership));
  s->Bind(1, m.space_id).Bind(2, m.user_id).Bind(3, ToString(m.role)).Bind(4, m.read_seq).Bind(5, m.joined_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return RecountMembers(m.space_id);
}

Status SqliteTx::DeleteMembership(SpaceId space_id, UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kDeleteMembership));
  s->Bind(1, space_id).Bind(2, user_id);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return RecountMembers(space_id);
}

Status SqliteTx::InsertJoinRequest(const JoinRequest& request) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertJoinRequest));
  s->Bind(1, request.space_id).Bind(2, request.user_id).Bind(3, request.created_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return Fail(ErrorCode::kConflict, "already_requested", "A request to join is already pending.");
  return Ok();
}

Result<bool> SqliteTx::DeleteJoinRequest(SpaceId space_id, UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kDeleteJoinRequest));
  s->Bind(1, space_id).Bind(2, user_id);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.Changes() > 0;
}

Status SqliteTx::SetReadSeq(SpaceId space_id, UserId user_id, Seq read_seq) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetReadSeq));
  s->Bind(1, space_id).Bind(2, user_id).Bind(3, read_seq);
  return s->Run();
}

Result<Seq> SqliteTx::NextSeq(SpaceId space_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * bump, db_.Prepare(kBumpSeq));
  ROUNDS_RETURN_IF_ERROR(bump->Bind(1, space_id).Run());
  if (db_.Changes() == 0) return NotFound("Space");
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kLastSeq));
  s->Bind(1, space_id);
  ROUNDS_ASSIGN_OR_RETURN(auto seq, ReadOne<Seq>(*s, [](const Statement& r) { return r.Int(0); }));
  if (!seq) return NotFound("Space");
  return *seq;
}

Status SqliteTx::InsertEvent(const SpaceEvent& e) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertEvent));
  s->Bind(1, e.space_id).Bind(2, e.seq).BindView(3, e.type).BindView(4, e.payload_json).Bind(5, e.created_at);
  s->Bind(6, e.restricted_to);
  return s->Run();
}

Result<MessageId> SqliteTx::InsertMessage(const Message& m) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertMessage));
  s->Bind(1, m.space_id).Bind(2, m.seq).Bind(3, m.author_id).Bind(4, ToString(m.kind)).Bind(5, m.parent_id);
  s->BindView(6, m.title).BindView(7, m.body).Bind(8, m.client_id).Bind(9, m.created_at);
  s->Bind(10, ToString(m.state)).BindView(11, m.hold_reason).BindView(12, m.phi_types).BindView(13, m.patient_refs);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  MessageId id = db_.LastInsertId();
  if (m.parent_id) {
    // A held reply counts once it is published (SetMessageState).
    ROUNDS_ASSIGN_OR_RETURN(Statement * bump, db_.Prepare(kBumpReplyCount));
    bump->Bind(1, *m.parent_id).Bind(2, m.space_id).Bind(3, m.state == MessageState::kPublished ? 1 : 0);
    ROUNDS_RETURN_IF_ERROR(bump->Run());
    if (db_.Changes() == 0) {
      return InvalidArgument("invalid_parent", "The message being replied to does not exist.", "/parent_id");
    }
  }
  for (const auto& option : m.poll_options) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * o, db_.Prepare(kInsertPollOption));
    o->Bind(1, id).Bind(2, option.index).Bind(3, option.text);
    ROUNDS_RETURN_IF_ERROR(o->Run());
  }
  for (UserId user : m.mentions) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * n, db_.Prepare(kInsertMention));
    n->Bind(1, user).Bind(2, id).Bind(3, m.space_id).Bind(4, m.created_at);
    ROUNDS_RETURN_IF_ERROR(n->Run());
  }
  for (const Attachment& a : m.attachments) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * attach, db_.Prepare(kAttach));
    attach->Bind(1, id).Bind(2, a.id).Bind(3, m.space_id).Bind(4, m.author_id);
    ROUNDS_RETURN_IF_ERROR(attach->Run());
    if (db_.Changes() == 0) {
      return InvalidArgument("invalid_attachment",
                             "An attachment is not one of your uploads to this space, or is already posted.",
                             "/attachment_ids");
    }
  }
  return id;  // the insert trigger indexed it for search
}

Result<AttachmentId> SqliteTx::InsertAttachment(const Attachment& a, std::string_view content) {
  if (a.message_id) return InvalidArgument("invalid_attachment", "An upload is attached by the post that names it.");
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertAttachment));
  s->Bind(1, a.space_id).Bind(2, a.uploader_id).BindView(3, a.name).BindView(4, a.content_type);
  s->Bind(5, a.size).BindView(6, a.sha256).BindView(7, a.phi_types).Bind(8, a.created_at).BindView(9, a.phi_rule);
  s->BindView(10, a.withheld_types).BindView(11, a.patient_refs).BindView(12, a.name_patient_refs);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  const AttachmentId id = db_.LastInsertId();
  // Piece 0 always, then one per further 256 KiB.
  ROUNDS_ASSIGN_OR_RETURN(Statement * c, db_.Prepare(kInsertAttachmentPiece));
  const std::int64_t pieces = AttachmentPieces(static_cast<std::int64_t>(content.size()));
  for (std::int64_t piece = 0; piece < pieces; ++piece) {
    c->Reset();
    c->Bind(1, id).Bind(2, piece).BindBlobView(3, content.substr(static_cast<std::size_t>(piece * kAttachmentPieceBytes),
                                                                   static_cast<std::size_t>(kAttachmentPieceBytes)));
    ROUNDS_RETURN_IF_ERROR(c->Run());
  }
  return id;
}

Result<int> SqliteTx::DeleteAttachments(std::span<const AttachmentId> ids) {
  if (ids.empty()) return 0;
  const std::string list = nlohmann::json(std::vector<AttachmentId>(ids.begin(), ids.end())).dump();
  ROUNDS_ASSIGN_OR_RETURN(Statement * contents, db_.Prepare(kDeleteAttachmentPieces));
  contents->Bind(1, list);
  ROUNDS_RETURN_IF_ERROR(contents->Run());
  ROUNDS_ASSIGN_OR_RETURN(Statement * rows, db_.Prepare(kDeleteAttachmentRows));
  rows->Bind(1, list);
  ROUNDS_RETURN_IF_ERROR(rows->Run());
  return db_.Changes();
}

Result<int> SqliteTx::DeleteMessageAttachments(MessageId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kMessageAttachmentIds));
  s->Bind(1, id);
  ROUNDS_ASSIGN_OR_RETURN(auto ids, ReadAll<AttachmentId>(*s, [](const Statement& r) { return r.Int(0); }));
  return DeleteAttachments(ids);
}

Result<std::optional<Attachment>> SqliteTx::FindAttachment(AttachmentId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindAttachment));
  s->Bind(1, id);
  return ReadOne<Attachment>(*s, ReadAttachmentRow);
}

Result<std::optional<std::string>> SqliteTx::ReadAttachmentContent(AttachmentId id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kAttachmentPieces));
  s->Bind(1, id);
  std::optional<std::string> content;
  while (true) {
    ROUNDS_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (!content) content.emplace();
    content->append(s->Blob(0));
  }
  return content;
}

Result<std::optional<std::string>> SqliteTx::ReadAttachmentPiece(AttachmentId id, std::int64_t piece) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kAttachmentPiece));
  s->Bind(1, id).Bind(2, piece);
  return ReadOne<std::string>(*s, [](const Statement& r) { return r.Blob(0); });
}

Result<std::vector<AttachmentId>> SqliteTx::ListUnattachedBefore(UnixMillis before, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUnattachedBefore));
  s->Bind(1, before).Bind(2, std::max(1, limit));
  return ReadAll<AttachmentId>(*s, [](const Statement& r) { return r.Int(0); });
}

Status SqliteTx::UpdateMessageBody(MessageId id, const std::string& title, const std::string& body,
                                   UnixMillis edited_at, UserId editor_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * current, db_.Prepare(kMessageForEdit));
  current->Bind(1, id);
  struct Old { std::string title, body; UnixMillis created_at; UserId author; bool deleted; };
  ROUNDS_ASSIGN_OR_RETURN(auto old, ReadOne<Old>(*current, [](const Statement& r) {
    return Old{r.Text(0), r.Text(1), r.Int(2), r.Int(3), r.Int(4) != 0};
  }));
  if (!old || old->deleted) return NotFound("Message");
  ROUNDS_ASSIGN_OR_RETURN(Statement * count, db_.Prepare(kEditCount));
  count->Bind(1, id);
  ROUNDS_ASSIGN_OR_RETURN(auto versions, ReadOne<std::int64_t>(*count, [](const Statement& r) { return r.Int(0); }));
  std::int64_t next = versions.value_or(0);
  if (next == 0) {  // the first edit also keeps the original as version 1
    ROUNDS_ASSIGN_OR_RETURN(Statement * original, db_.Prepare(kInsertEdit));
    original->Bind(1, id).Bind(2, 1).Bind(3, old->title).Bind(4, old->body).Bind(5, old->created_at).Bind(6, old->author);
    ROUNDS_RETURN_IF_ERROR(original->Run());
    next = 1;
  }
  ROUNDS_ASSIGN_OR_RETURN(Statement * edit, db_.Prepare(kInsertEdit));
  edit->Bind(1, id).Bind(2, next + 1).Bind(3, title).Bind(4, body).Bind(5, edited_at).Bind(6, editor_id);
  ROUNDS_RETURN_IF_ERROR(edit->Run());
  ROUNDS_ASSIGN_OR_RETURN(Statement * update, db_.Prepare(kUpdateMessageBody));
  update->Bind(1, id).Bind(2, title).Bind(3, body).Bind(4, edited_at);
  return update->Run();  // the update trigger swaps the old text for the new in the index
}

Status SqliteTx::DeleteMessage(MessageId id, UnixMillis deleted_at) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * current, db_.Prepare(kMessageForDelete));
  current->Bind(1, id);
  struct State { bool deleted; std::optional<MessageId> parent_id; bool published; };
  ROUNDS_ASSIGN_OR_RETURN(auto state, ReadOne<State>(*current, [](const Statement& r) {
    return State{r.Int(0) != 0, r.OptionalInt(1), r.Int(2) != 0};
  }));
  if (!state) return NotFound("Message");
  if (state->deleted) return Ok();
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kDeleteMessage));
  s->Bind(1, id).Bind(2, deleted_at);
  ROUNDS_RETURN_IF_ERROR(s->Run());  // the update trigger removes the text from the index
  // Under a legal hold everything stays for e-discovery (the final text in held_deletions, by
  // trigger) until the hold is released and retention purges it; otherwise nothing of what the
  // message said stays behind its tombstone.
  ROUNDS_ASSIGN_OR_RETURN(auto holds, HoldsCovering(id));
  if (holds.empty()) ROUNDS_RETURN_IF_ERROR(DeleteMessageContent(id));
  if (state->parent_id && state->published) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * drop, db_.Prepare(kDropReplyCount));
    drop->Bind(1, *state->parent_id);
    ROUNDS_RETURN_IF_ERROR(drop->Run());
  }
  return Ok();
}

Status SqliteTx::DeleteMessageContent(MessageId id) {
  for (const char* sql : kDeleteMessageContent) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * content, db_.Prepare(sql));
    content->Bind(1, id);
    ROUNDS_RETURN_IF_ERROR(content->Run());
  }
  return Ok();
}

Status SqliteTx::SetPinned(MessageId id, bool pinned) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetPinned));
  s->Bind(1, id).Bind(2, pinned);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Message");
  return Ok();
}

Status SqliteTx::SetAcceptedAnswer(MessageId question_id, std::optional<MessageId> answer_id) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetAccepted));
  s->Bind(1, question_id).Bind(2, answer_id);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  if (db_.Changes() == 0) return NotFound("Message");
  return Ok();
}

Result<bool> SqliteTx::SetReaction(MessageId id, UserId user_id, const std::string& emoji, bool on) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(on ? kAddReaction : kRemoveReaction));
  s->Bind(1, id).Bind(2, emoji).Bind(3, user_id);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.Changes() > 0;
}

Result<bool> SqliteTx::SetIdeaVote(MessageId id, UserId user_id, bool on) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(on ? kAddIdeaVote : kRemoveIdeaVote));
  s->Bind(1, id).Bind(2, user_id);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  bool changed = db_.Changes() > 0;
  if (changed) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * recount, db_.Prepare(kRecountIdeaVotes));
    recount->Bind(1, id);
    ROUNDS_RETURN_IF_ERROR(recount->Run());
  }
  return changed;
}

Result<bool> SqliteTx::SetPollVote(MessageId id, UserId user_id, std::optional<int> option) {
  if (!option) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kRemovePollVote));
    s->Bind(1, id).Bind(2, user_id);
    ROUNDS_RETURN_IF_ERROR(s->Run());
    return db_.Changes() > 0;
  }
  ROUNDS_ASSIGN_OR_RETURN(Statement * exists, db_.Prepare(kPollOptionExists));
  exists->Bind(1, id).Bind(2, *option);
  ROUNDS_ASSIGN_OR_RETURN(auto found, ReadOne<int>(*exists, [](const Statement&) { return 1; }));
  if (!found) return InvalidArgument("invalid_poll_option", "That poll has no such option.", "/option");
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kSetPollVote));
  s->Bind(1, id).Bind(2, user_id).Bind(3, *option);
  ROUNDS_RETURN_IF_ERROR(s->Run());
  return db_.Changes() > 0;
}

Status SqliteTx::InsertAudit(const AuditRecord& r) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertAudit));
  // The record outlives the insert: its text is bound in place, not copied.
  s->Bind(1, r.seq).Bind(2, r.time).Bind(3, r.actor_id).BindView(4, r.actor_role).BindView(5, r.action);
  s->BindView(6, r.object_type).BindView(7, r.object_id).BindView(8, r.patient_ref).BindView(9, ToString(r.outcome));
  s->BindView(10, r.address).BindView(11, r.session_hash).BindView(12, r.reason).BindView(13, r.details_json);
  s->BindView(14, r.prev_hash).BindView(15, r.hash);
  if (audit_ == nullptr) return s->Run();
  Status inserted = s->Run();
  // A record that does not extend the cached head (or did not go in) leaves the head unknown.
  auto& head = audit_->head;
  if (inserted && head && head->seq + 1 == r.seq && head->hash == r.prev_hash) {
    head = AuditChainHead{r.seq, r.hash};
  } else {
    head.reset();
  }
  if (inserted) ++audit_->appended;
  return inserted;
}

}  // namespace rounds::store::sqlite
