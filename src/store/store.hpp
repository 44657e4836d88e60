// The Store: the only way app services reach durable state. App code never sees SQL.
//
// Work is done in units: Write() runs a function against a WriteTx on the single writer, which
// batches concurrent units into one database transaction (group commit) — each unit inside its
// own savepoint, so a unit that fails rolls back alone. Write() returns only after the batch is
// durably committed (fsync), so callers may acknowledge and publish afterwards. Read() runs on one
// of a pool of read connections and sees a consistent snapshot.
//
// Thread safety: Store is thread-safe; ReadTx/WriteTx objects are valid only inside the function
// they are passed to and must not escape it or be used from another thread.
//
// Errors: repository methods return kNotFound (also for a reference to a missing row), kConflict
// (unique constraint), kInvalidArgument (check constraint), kUnavailable (database busy or disk
// full: worth retrying later) or kInternal (I/O, corruption); RunWrite returns kUnavailable after
// Close(). Public messages never carry SQL or data; internal messages carry the statement and reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "domain/audit.hpp"
#include "domain/governance.hpp"
#include "domain/types.hpp"

namespace rounds::store {

using namespace rounds::domain;  // NOLINT: the store speaks the domain's vocabulary

struct UserQuery {
  std::string text;                      // matches username / display name (prefix, any word)
  std::string job_role;                  // exact, case-insensitive; empty: any
  std::optional<DepartmentId> department_id;
  bool include_disabled = false;
  UserId after_id = 0;                   // cursor: ids greater than this
  int limit = 50;
};

// A space as one member sees it in their sidebar.
struct MemberSpace {
  Space space;
  Membership membership;
  std::int64_t unread_count = 0;         // messages with seq > read_seq not authored by the member
  std::int64_t unread_mentions = 0;
};

struct SpaceQuery {
  std::string text;                      // matches name or topic; a direct conversation, a member's name
  std::optional<SpaceKind> kind;         // none: communities and channels (no direct conversations)
  UserId not_member_of = 0;              // when set: only spaces this user is not a member of
  bool public_only = true;
  bool include_archived = false;
  SpaceId after_id = 0;
  int limit = 50;
};

// What a page of a space's messages shows, versioned (schema 9), for keeping rendered pages: the
// space's content version moves with every write to its messages and the rows that belong to them
// (mentions, poll options and votes, reactions, idea votes), the directory's with every changed
// username or display name or removed user. Both move in the transaction that makes the change,
// whichever process makes it.
struct PageVersion {
  std::int64_t content = 0;
  std::int64_t directory = 0;
  bool held = false;  // the space holds messages awaiting review (shown to their authors and moderators)
  bool operator==(const PageVersion&) const = default;
};

// Two counters a reader may compare instead of reading (Store::Stamp): while neither has moved,
// nothing was committed that could change who may read a space or what a page of it shows.
// `everything` moves with every commit that changes an account, a template, a department, a
// grant or any table not known to leave access alone, and with every commit another process
// (the rounds CLI) makes, once this store's writer sees it; `space` moves with every commit that
// changes the space's row (its content version, so every change to what its pages show) or its
// memberships. Spaces may share a `space` counter: a shared one moves more often, never less.
struct ChangeStamp {
  std::uint64_t everything = 0;
  std::uint64_t space = 0;
  bool operator==(const ChangeStamp&) const = default;
};

struct MessageQuery {
  SpaceId space_id = 0;
  UserId viewer_id = 0;                  // fills Message::reactions[].mine, my_vote, my_poll_vote
  // nullopt: top-level messages only (posts / channel messages); a value: that thread's replies.
  std::optional<MessageId> parent_id;
  // Every message of the space in seq order, top-level and replies alike (parent_id is ignored).
  bool all_threads = false;
  std::optional<Seq> before_seq;         // newest-first page ending before this seq
  std::optional<Seq> after_seq;          // oldest-first page starting after this seq (wins over
                                         // before_seq when both are set)
  int limit = 50;
  bool include_deleted = false;          // tombstones (body empty) for clients to remove
  // Published messages always; held ones for their author, and for everyone when set (the
  // space's moderators). Hidden and removed messages are never listed.
  bool moderator_view = false;
};

struct SearchQuery {
  std::string text;                      // user text; the store turns it into a safe FTS query
  std::vector<SpaceId> space_ids;        // only these spaces are searched (the app decides)
  int limit = 20;
  int offset = 0;
};

// Filters for the audit trail; every filter that is set must match. Pages by seq: newest first
// ending before `before_seq`, or oldest first starting after `after_seq` when that is set.
struct AuditQuery {
  std::optional<std::int64_t> actor_id;
  std::string action_prefix;             // "auth." matches auth.login, auth.logout, ...
  std::string object_type;
  std::string object_id;
  std::string patient_ref;               // one reference; matches records that name it among others
  std::optional<AuditOutcome> outcome;
  std::optional<UnixMillis> from;        // time >= from
  std::optional<UnixMillis> to;          // time < to
  std::optional<std::int64_t> before_seq;
  std::optional<std::int64_t> after_seq;
  int limit = 50;
};

struct SearchHit {
  Message message;
  std::string snippet;                   // with [[ and ]] around matched terms; no HTML
  double rank = 0;
};

// Where the audit chain ends: the newest record's seq (0 when there is none) and hash.
struct AuditChainHead {
  std::int64_t seq = 0;
  std::string hash;
};

// A complete subtree of the audit trail's Merkle tree: 2^level leaves from leaf idx · 2^level.
struct AuditTreeNode {
  int level = 0;
  std::int64_t idx = 0;
  std::string hash;  // 32 bytes
};

struct StoreMetrics {
  std::uint64_t write_units = 0;         // Write() calls committed
  std::uint64_t write_batches = 0;       // group-commit transactions run (committed or failed)
  std::uint64_t failed_units = 0;
  // Histograms: batch sizes (units per transaction) and commit latency in microseconds.
  std::vector<std::pair<double, std::uint64_t>> batch_size_buckets;   // (upper bound, count)
  std::vector<std::pair<double, std::uint64_t>> commit_micros_buckets;
  double commit_micros_sum = 0;
  std::uint64_t queued_units = 0;        // gauge: units waiting for the writer right now
  // Writes to the write-ahead log: asked for by the database engine, and issued to the file
  // system after consecutive appends were gathered (zero where the store has no such log).
  std::uint64_t log_writes_requested = 0;
  std::uint64_t log_writes_issued = 0;
  // Copying the write-ahead log into the database: by the checkpointer thread, off the commit
  // path; by a commit that copies the few frames the checkpointer left so that the log starts
  // over (a catch-up: the sync of those pages); and by a commit when the log reached the writer's
  // bound (those take as long as the copy and the database file's sync, and every unit queued
  // behind them waits).
  std::uint64_t checkpoints = 0;
  double checkpoint_micros_sum = 0;
  std::uint64_t writer_checkpoints = 0;
  std::uint64_t writer_catch_ups = 0;   // commits that copied the checkpointer's last few frames
  double writer_checkpoint_micros_sum = 0;  // what those two held their commits up for
  double writer_catch_up_micros_sum = 0;
  std::uint64_t log_frames = 0;          // gauge: frames in the log after the last commit
  // Passes of the writer that fill the audit trail's search indexes (in a transaction of their
  // own when no batch is running).
  std::uint64_t audit_index_runs = 0;
  double audit_index_micros_sum = 0;
  // Passes of the writer that apply the queued changes to the message search index, and the
  // changes applied.
  std::uint64_t search_index_runs = 0;
  std::uint64_t search_index_rows = 0;
  double search_index_micros_sum = 0;
  // Encryption at rest: whether this database is encrypted, and pages encrypted on their way to a
  // file, decrypted on their way in, and refused because they did not authenticate (in the
  // process: every store opens its files through the one VFS).
  bool encrypted = false;
  std::uint64_t pages_sealed = 0;
  std::uint64_t pages_opened = 0;
  std::uint64_t pages_rejected = 0;
};

// ---- Retention and legal holds ----------------------------------------------------------------

using LegalHoldId = std::int64_t;

// A legal hold: while active it covers every message written in [from, to) (open ends when
// nullopt) in one of the spaces (any space when empty) that is one of the custodians' (anyone's
// when empty); it names custodians, spaces or both. A custodian's messages are the ones they wrote
// anywhere and every message, whoever wrote it, of a direct conversation they are a member of or
// have written in (membership history is not stored); not what others wrote in communities and
// channels they belong to. Covered messages are never purged, and one deleted while covered keeps
// its final text for e-discovery (HeldDeletion).
struct LegalHold {
  LegalHoldId id = 0;
  std::string name;
  std::string reason;
  std::vector<UserId> custodian_ids;
  std::vector<SpaceId> space_ids;
  std::optional<UnixMillis> from;
  std::optional<UnixMillis> to;
  UserId created_by = 0;
  UnixMillis created_at = 0;
  std::optional<UserId> released_by;
  std::optional<UnixMillis> released_at;
};

// What one PurgeMessages call did. Ids only: callers audit them, never content.
struct PurgeResult {
  std::vector<MessageId> deleted_ids;    // rows gone, with their edits, votes, reactions, mentions,
                                         // reports and search entries
  std::vector<MessageId> scrubbed_ids;   // emptied the same way, row kept while replies that are not
                                         // purgeable point at it (deleted once they are gone)
  std::vector<MessageId> held_ids;       // asked for but under a legal hold: untouched
  std::int64_t events_scrubbed = 0;      // space events turned into content-free message.purged
  std::vector<AttachmentId> attachment_ids;  // attachments of deleted and scrubbed messages, gone
};

// What one FinishHeldDeletions call did.
struct FinishedDeletions {
  std::vector<MessageId> finished_ids;  // ascending
  MessageId last_id = 0;                // the last deletion looked at (0: none was)
  std::size_t looked_at = 0;            // fewer than the limit: none is left after last_id
};

struct RetentionRun {
  std::int64_t id = 0;
  UserId actor_id = 0;
  UnixMillis started_at = 0;
  std::optional<UnixMillis> finished_at;
  bool interrupted = false;              // killed before it finished; closed by the next run
  std::int64_t batches = 0;
  std::int64_t messages_deleted = 0;
  std::int64_t messages_scrubbed = 0;
  std::int64_t events_scrubbed = 0;
};

struct RetentionRunStart {
  std::int64_t run_id = 0;
  std::vector<std::int64_t> interrupted_run_ids;  // earlier runs that never finished, now closed
};

// E-discovery selection: every list empty means "any"; a custodian's messages are counted as a
// legal hold counts them (LegalHold); keywords match any (case-insensitive for ASCII) in the
// current text, earlier versions, and held deletions.
struct ExportQuery {
  std::vector<UserId> custodian_ids;
  std::vector<SpaceId> space_ids;
  std::optional<UnixMillis> from;        // inclusive
  std::optional<UnixMillis> to;          // exclusive
  std::vector<std::string> keywords;
};

// The final text of a message deleted while a legal hold covered it.
struct HeldDeletion {
  MessageId message_id = 0;
  std::string title;
  std::string body;
  UnixMillis deleted_at = 0;
};

// Where a page of exports ends: the last one's creation time and id.
struct ExportCursor {
  UnixMillis created_at = 0;
  std::string id;
};

struct ExportRecord {
  std::string id;                        // random hex; also the folder name under exports/
  UserId created_by = 0;
  UnixMillis created_at = 0;
  std::string query_json;
  std::string folder;
  std::int64_t message_count = 0;
  int file_count = 0;
  std::string manifest_sha256;
  std::optional<UnixMillis> removed_at;  // the files were removed from the server then ...
  std::optional<UserId> removed_by;      // ... by this user (0: the system)
};

// ---- Emergency access ------------------------------------------------------------------------

using EmergencyGrantId = std::int64_t;

// A staff member's time-boxed, read-only access to a space they are not a member of, opened
// after re-authentication with a reason ("break the glass"). Never deleted: it ends (end_kind
// "ended" by its holder, "expired", "revoked" by a compliance officer) and is then reviewed.
struct EmergencyGrant {
  EmergencyGrantId id = 0;
  UserId user_id = 0;
  SpaceId space_id = 0;
  std::string reason;
  std::string purpose = "BTG";           // FHIR purposeOfUse
  UnixMillis started_at = 0;
  UnixMillis expires_at = 0;
  std::optional<UnixMillis> ended_at;
  std::string end_kind;                  // "" while open; "ended", "expired" or "revoked"
  std::optional<UserId> ended_by;        // who ended or revoked it; none when it expired
  std::string review_outcome;            // "" until reviewed; "justified" or "unjustified"
  std::string review_note;
  std::optional<UserId> reviewed_by;
  std::optional<UnixMillis> reviewed_at;

  // Open and not yet past its expiry: it lets its holder read the space.
  bool ActiveAt(UnixMillis now) const { return !ended_at && now < expires_at; }
};

enum class GrantState { kAll, kActive, kUnreviewed };

// How many grants are running, and how many are over and wait for a compliance officer's review.
struct GrantCounts {
  std::int64_t active = 0;
  std::int64_t unreviewed = 0;
};

struct GrantQuery {
  std::optional<UserId> user_id;         // none: everyone's
  GrantState state = GrantState::kAll;   // kActive: ActiveAt(now); kUnreviewed: over (ended or
                                         // past expiry) and not reviewed
  UnixMillis now = 0;
  EmergencyGrantId before_id = 0;        // cursor: ids below this (0: from the newest)
  int limit = 50;
};

// What a permission check needs of an account: no names, no departments.
struct AccountFlags {
  AccountKind kind = AccountKind::kStaff;
  bool is_admin = false;
  bool is_compliance = false;
  bool disabled = false;
  bool is_guest = false;
};

// Attachments are stored and read in pieces of this many bytes, so that a download is sent a piece
// at a time. A file of `size` bytes has AttachmentPieces(size) pieces (at least one).
inline constexpr std::int64_t kAttachmentPieceBytes = 256 * 1024;
inline constexpr std::int64_t AttachmentPieces(std::int64_t size) {
  return size <= kAttachmentPieceBytes ? 1 : (size + kAttachmentPieceBytes - 1) / kAttachmentPieceBytes;
}

class ReadTx {
 public:
  virtual ~ReadTx() = default;

  // Directory
  virtual Result<std::optional<User>> FindUser(UserId id) = 0;
  // FindUser's flags alone, in one lookup of the row: for the check every request on a space makes.
  virtual Result<std::optional<AccountFlags>> FindAccountFlags(UserId id) = 0;
  // The short forms of those of `ids` that exist, in ascending id order; one query for them all.
  virtual Result<std::vector<UserRef>> FindUserRefs(std::span<const UserId> ids) = 0;
  virtual Result<std::optional<User>> FindUserByUsername(const std::string& username) = 0;
  virtual Result<std::vector<User>> ListUsers(const UserQuery& query) = 0;
  virtual Result<std::int64_t> CountUsers() = 0;
  // A secret the server derives values from (schema 22's server_secrets: "pseudonym_key"), its
  // bytes; kNotFound when there is none by that name.
  virtual Result<std::string> ServerSecret(const std::string& name) = 0;
  virtual Result<std::optional<Credentials>> FindCredentials(UserId id) = 0;
  virtual Result<std::vector<Department>> ListDepartments() = 0;
  virtual Result<std::optional<Department>> FindDepartment(DepartmentId id) = 0;
  virtual Result<std::optional<Department>> FindDepartmentByName(const std::string& name) = 0;

  // Sessions
  virtual Result<std::optional<Session>> FindSessionByTokenHash(const std::string& token_hash) = 0;
  virtual Result<std::vector<Session>> ListSessionsForUser(UserId user_id) = 0;

  // Spaces and membership
  virtual Result<std::optional<Space>> FindSpace(SpaceId id) = 0;
  virtual Result<std::optional<Space>> FindDirectSpace(const std::string& direct_key) = 0;
  virtual Result<std::vector<Space>> ListSpaces(const SpaceQuery& query) = 0;
  virtual Result<std::vector<MemberSpace>> ListSpacesForUser(UserId user_id) = 0;
  virtual Result<std::optional<Membership>> FindMembership(SpaceId space_id, UserId user_id) = 0;
  virtual Result<std::vector<Membership>> ListMembers(SpaceId space_id, UserId after_user_id,
                                                      int limit) = 0;
  virtual Result<std::vector<UserId>> ListMemberIds(SpaceId space_id) = 0;
  // The space's pending join requests, oldest first (at most `limit`), and one person's.
  virtual Result<std::vector<JoinRequest>> ListJoinRequests(SpaceId space_id, int limit) = 0;
  virtual Result<std::optional<JoinRequest>> FindJoinRequest(SpaceId space_id, UserId user_id) = 0;
  // How many of the space's members have accounts of `kind`.
  virtual Result<std::int64_t> CountMembersOfKind(SpaceId space_id, AccountKind kind) = 0;
  // Members of `space_id` whose accounts are guests (User::is_guest).
  virtual Result<std::int64_t> CountGuestMembers(SpaceId space_id) = 0;
  virtual Result<std::vector<SpaceId>> ListSpaceIdsForUser(UserId user_id) = 0;

  // Messages
  virtual Result<std::optional<Message>> FindMessage(MessageId id, UserId viewer_id) = 0;
  virtual Result<std::optional<Message>> FindMessageByClientId(SpaceId space_id, UserId author_id,
                                                               const std::string& client_id) = 0;
  virtual Result<std::vector<Message>> ListMessages(const MessageQuery& query) = 0;
  virtual Result<std::vector<Message>> ListPinned(SpaceId space_id, UserId viewer_id) = 0;
  // nullopt when there is no such space.
  virtual Result<std::optional<PageVersion>> FindPageVersion(SpaceId space_id) = 0;
  // Whether `viewer_id` reacted to, voted in the poll of or voted for any of `ids`: what a page
  // shows that viewer differently from everyone else.
  virtual Result<bool> HasViewerMarks(std::span<const MessageId> ids, UserId viewer_id) = 0;
  virtual Result<std::vector<MessageEdit>> ListEdits(MessageId id) = 0;
  // Attachments: the metadata, or nullopt; the content, or nullopt when there is no such
  // attachment; uploads never attached and made before `before`, oldest first.
  virtual Result<std::optional<Attachment>> FindAttachment(AttachmentId id) = 0;
  virtual Result<std::optional<std::string>> ReadAttachmentContent(AttachmentId id) = 0;
  // One piece of an attachment's content (kAttachmentPieceBytes each, the last shorter; piece 0
  // of an empty file is empty), or nullopt when there is no such attachment or piece.
  virtual Result<std::optional<std::string>> ReadAttachmentPiece(AttachmentId id, std::int64_t piece) = 0;
  virtual Result<std::vector<AttachmentId>> ListUnattachedBefore(UnixMillis before, int limit) = 0;
  virtual Result<std::vector<Mention>> ListMentions(UserId user_id, MessageId before_message_id,
                                                    int limit) = 0;

  // Events: the space's log after `after_seq`, oldest first, at most `limit`.
  virtual Result<std::vector<SpaceEvent>> ListEvents(SpaceId space_id, Seq after_seq,
                                                     int limit) = 0;

  // Search over message bodies and titles, restricted to query.space_ids. Deleted messages and
  // text edited away are never found.
  virtual Result<std::vector<SearchHit>> SearchMessages(const SearchQuery& query) = 0;

  // Audit trail: the newest record (nullopt when empty), and records after `after_seq` oldest first.
  virtual Result<std::optional<AuditRecord>> LastAuditRecord() = 0;
  virtual Result<std::vector<AuditRecord>> ListAudit(std::int64_t after_seq, int limit) = 0;
  // The seq and hash of each record after `after_seq`, oldest first, at most `limit`: the leaves
  // of the trail's Merkle tree (governance/audit/merkle.hpp).
  virtual Result<std::vector<AuditChainHead>> ListAuditHashes(std::int64_t after_seq, int limit) = 0;
  // A kept subtree of the audit Merkle tree (InsertAuditTreeNodes): its hash, nullopt when not kept.
  virtual Result<std::optional<std::string>> FindAuditTreeNode(int level, std::int64_t idx) = 0;
  // The highest idx kept at `level`, nullopt when none is.
  virtual Result<std::optional<std::int64_t>> LastAuditTreeNode(int level) = 0;

  // ---- Retention and legal holds ----
  virtual Result<std::vector<LegalHold>> ListLegalHolds(bool include_released) = 0;
  // How many holds have been released: it changes with every release, and only then.
  virtual Result<std::int64_t> CountReleasedLegalHolds() = 0;
  // The count above at which the last finished retention run had looked at every kept deletion
  // (FinishRetentionRun's `kept_walked_at`); nullopt when it had not, or no run has finished.
  virtual Result<std::optional<std::int64_t>> LastKeptDeletionsWalk() = 0;
  virtual Result<std::optional<LegalHold>> FindLegalHold(LegalHoldId id) = 0;
  // The active holds covering a message (empty: none).
  virtual Result<std::vector<LegalHoldId>> HoldsCovering(MessageId id) = 0;
  // Every space id (all kinds, archived too) after `after_id`, ascending.
  virtual Result<std::vector<SpaceId>> ListSpaceIds(SpaceId after_id, int limit) = 0;
  // Messages of the space written before `cutoff` that PurgeMessages may remove: not held, and
  // not rows already scrubbed that replies still point at. Oldest id first, at most `limit`.
  // How many of the space's messages from before `cutoff` a legal hold covers: what retention
  // leaves past that cutoff because of holds.
  virtual Result<std::int64_t> CountHeldBefore(SpaceId space_id, UnixMillis cutoff) = 0;
  virtual Result<std::vector<MessageId>> ListPurgeCandidates(SpaceId space_id, UnixMillis cutoff, int limit) = 0;
  // Newest first.
  virtual Result<std::vector<RetentionRun>> ListRetentionRuns(int limit) = 0;
  // E-discovery: ids of messages (deleted ones too) matching `query`, ascending after `after_id`.
  virtual Result<std::vector<MessageId>> ListExportMessageIds(const ExportQuery& query, MessageId after_id,
                                                              int limit) = 0;
  virtual Result<std::optional<HeldDeletion>> FindHeldDeletion(MessageId id) = 0;
  // Newest first (by creation time, then id); with `after`, those that come after it in that order.
  virtual Result<std::vector<ExportRecord>> ListExports(int limit, const std::optional<ExportCursor>& after) = 0;
  virtual Result<std::optional<ExportRecord>> FindExport(const std::string& id) = 0;
  // Exports whose files are still on the server, made before `before` into a folder whose path
  // begins with `folder_prefix`, oldest first.
  virtual Result<std::vector<ExportRecord>> ListKeptExportsBefore(UnixMillis before, const std::string& folder_prefix,
                                                                  int limit) = 0;
  // Records matching `query`, at most query.limit, in the order AuditQuery describes.
  virtual Result<std::vector<AuditRecord>> SearchAudit(const AuditQuery& query) = 0;
  // The audit trail's search indexes (by actor, by object) against the records they index: the
  // lowest seq of a record the indexes miss or misfile, or of an index entry no record matches,
  // up to what the indexes cover; nullopt when they agree. A search by actor or object that
  // silently leaves records out is as bad as a record removed, and verification asks this.
  virtual Result<std::optional<std::int64_t>> FirstAuditIndexMismatch() = 0;

  // ---- Emergency access ----
  virtual Result<std::optional<EmergencyGrant>> FindEmergencyGrant(EmergencyGrantId id) = 0;
  // The newest grant of `user_id` on `space_id` active at `now`, if any.
  virtual Result<std::optional<EmergencyGrant>> FindActiveEmergencyGrant(SpaceId space_id, UserId user_id,
                                                                         UnixMillis now) = 0;
  // Newest first, at most query.limit.
  virtual Result<std::vector<EmergencyGrant>> ListEmergencyGrants(const GrantQuery& query) = 0;
  // Grants still open at `now` though past their expiry, oldest expiry first.
  virtual Result<std::vector<EmergencyGrant>> ListLapsedEmergencyGrants(UnixMillis now, int limit) = 0;
  // Grants active at `now`, and grants over by `now` (ended or past expiry) and not reviewed.
  virtual Result<GrantCounts> CountEmergencyGrants(UnixMillis now) = 0;
  // The enabled compliance officers (who are alerted when a grant opens).
  virtual Result<std::vector<UserId>> ListComplianceOfficerIds() = 0;

  // ---- Governance: templates, moderation, patient index ----
  // Stored template versions (built-ins are not stored), by key then version.
  virtual Result<std::vector<StoredTemplate>> ListTemplates() = 0;
  virtual Result<std::optional<StoredTemplate>> FindTemplate(const std::string& key, int version) = 0;
  // Spaces (of any kind) running under any version of `key`.
  virtual Result<std::vector<Space>> ListSpacesByTemplate(const std::string& key) = 0;
  // Messages waiting for a moderator, oldest first: held ones and published ones with open
  // reports, in `space_ids` (empty: every space), with ids after `after_id`.
  virtual Result<std::vector<Message>> ListModerationQueue(const std::vector<SpaceId>& space_ids,
                                                           MessageId after_id, int limit) = 0;
  virtual Result<std::vector<Report>> ListOpenReports(MessageId message_id) = 0;
  virtual Result<std::optional<ModerationAction>> FindModerationAction(ModerationActionId id) = 0;
  virtual Result<std::vector<ModerationAction>> ListModerationActions(const ModerationActionQuery& query) = 0;
  virtual Result<std::optional<Suspension>> FindSuspension(SpaceId space_id, UserId user_id) = 0;
  virtual Result<std::vector<PatientEntry>> ListPatients() = 0;
};

class WriteTx : public ReadTx {
 public:
  // Directory. InsertUser fails with kConflict on a duplicate username and kInvalidArgument on
  // one that is not lower-case.
  virtual Result<DepartmentId> InsertDepartment(const Department& department) = 0;
  virtual Result<UserId> InsertUser(const User& user, const std::string& password_hash) = 0;
  virtual Status UpdateUser(const User& user) = 0;  // all fields but id, username, created_at
  virtual Status UpdateCredentials(const Credentials& credentials) = 0;

  // Sessions
  virtual Result<SessionId> InsertSession(const Session& session) = 0;
  virtual Status TouchSession(SessionId id, UnixMillis last_seen_at) = 0;
  // Marks a session as holding a second factor (the user set one up in it).
  virtual Status SetSessionSecondFactor(SessionId id) = 0;
  // Sets until when the session holds administration (0: it does not). kNotFound if it is gone.
  virtual Status SetSessionAdminElevation(SessionId id, UnixMillis until) = 0;
  virtual Status DeleteSession(SessionId id) = 0;
  virtual Result<std::vector<SessionId>> DeleteSessionsForUser(UserId user_id) = 0;
  virtual Result<int> DeleteExpiredSessions(UnixMillis now, std::int64_t idle_millis) = 0;

  // Spaces and membership
  virtual Result<SpaceId> InsertSpace(const Space& space) = 0;
  virtual Status UpdateSpace(const Space& space) = 0;  // name, topic, visibility, join, archived
  virtual Status UpsertMembership(const Membership& membership) = 0;
  virtual Status DeleteMembership(SpaceId space_id, UserId user_id) = 0;
  // kConflict "already_requested" when the person has one pending for the space.
  virtual Status InsertJoinRequest(const JoinRequest& request) = 0;
  // False when there was none.
  virtual Result<bool> DeleteJoinRequest(SpaceId space_id, UserId user_id) = 0;
  // Moves the member's read marker forward (never back, never past the space's last_seq).
  virtual Status SetReadSeq(SpaceId space_id, UserId user_id, Seq read_seq) = 0;

  // Events. NextSeq reserves the space's next sequence number (last_seq + 1) in this unit.
  virtual Result<Seq> NextSeq(SpaceId space_id) = 0;
  virtual Status InsertEvent(const SpaceEvent& event) = 0;

  // Messages. InsertMessage stores the message, its poll options and mentions, bumps the
  // parent's reply_count and indexes it for search. kConflict on a duplicate client_id;
  // kInvalidArgument when the parent is not a message of the same space.
  // It also attaches message.attachments (by id): each must be an upload of the message's author
  // into its space that no message holds yet, else kInvalidArgument "invalid_attachment".
  virtual Result<MessageId> InsertMessage(const Message& message) = 0;
  // Stores an upload (attachment.message_id must be empty) and its content; returns its id.
  virtual Result<AttachmentId> InsertAttachment(const Attachment& attachment, std::string_view content) = 0;
  // Removes attachments and their content; returns how many there were.
  virtual Result<int> DeleteAttachments(std::span<const AttachmentId> ids) = 0;
  // Removes the attachments of one message (a deletion not under legal hold); returns how many.
  virtual Result<int> DeleteMessageAttachments(MessageId id) = 0;
  // Keeps the previous body in the edit history and re-indexes.
  virtual Status UpdateMessageBody(MessageId id, const std::string& title, const std::string& body,
                                   UnixMillis edited_at, UserId editor_id) = 0;
  // Tombstones the message (empty body) and removes it from search; history stays for audit.
  // A deleted reply no longer counts in its parent's reply_count. Deleting a tombstone is a no-op.
  virtual Status DeleteMessage(MessageId id, UnixMillis deleted_at) = 0;
  virtual Status SetPinned(MessageId id, bool pinned) = 0;
  virtual Status SetAcceptedAnswer(MessageId question_id, std::optional<MessageId> answer_id) = 0;
  // Each returns true when the state changed.
  virtual Result<bool> SetReaction(MessageId id, UserId user_id, const std::string& emoji,
                                   bool on) = 0;
  virtual Result<bool> SetIdeaVote(MessageId id, UserId user_id, bool on) = 0;
  virtual Result<bool> SetPollVote(MessageId id, UserId user_id, std::optional<int> option) = 0;

  // The newest audit record's seq and hash (seq 0 when the trail is empty): what the next record
  // chains from. Kept by the writer, so it costs no query per append; a record appended by
  // another connection to the same database is seen (the head is re-read when the file changed).
  virtual Result<AuditChainHead> AuditHead() = 0;
  // Appends an audit record whose seq, prev_hash and hash the caller chained from AuditHead() in
  // this same unit (the single writer makes that consistent). kConflict if the seq is taken.
  virtual Status InsertAudit(const AuditRecord& record) = 0;
  // Keeps complete subtrees of the audit Merkle tree, computed from the records by the caller.
  // kConflict when one of them is kept already: they never change.
  virtual Status InsertAuditTreeNodes(std::span<const AuditTreeNode> nodes) = 0;

  // ---- Retention and legal holds ----
  // kInvalidArgument when the hold names neither custodians nor spaces or from >= to.
  virtual Result<LegalHoldId> InsertLegalHold(const LegalHold& hold) = 0;
  // kNotFound for an unknown hold, kConflict ("hold_released") when already released.
  virtual Status ReleaseLegalHold(LegalHoldId id, UserId released_by, UnixMillis released_at) = 0;
  // Looks at the next `limit` messages deleted while a legal hold covered them, after message
  // `after_id` in id order, and finishes, for those covered by no active hold now, what their
  // delete left for e-discovery: the final text, earlier versions, poll options and votes, and
  // files go, as a delete outside any hold takes them. Bounded by what it looks at, not by what it
  // finishes: deletions a hold still keeps may be many, and each call holds up every write.
  virtual Result<FinishedDeletions> FinishHeldDeletions(MessageId after_id, int limit) = 0;
  // Removes the messages and everything holding their content (edits, held deletions, poll
  // options and votes, reactions, mentions, reports, the search index) and turns their space
  // events into content-free "message.purged" events with the same seq. A message that replies
  // outside `ids` still point at is emptied and kept (purged_at set) until they go. Held messages
  // and unknown ids are skipped. Idempotent: purging the same ids again changes nothing.
  virtual Result<PurgeResult> PurgeMessages(const std::vector<MessageId>& ids, UnixMillis now) = 0;
  // Opens a run and closes (as interrupted) any earlier run that never finished.
  virtual Result<RetentionRunStart> BeginRetentionRun(UserId actor_id, UnixMillis now) = 0;
  // Adds one batch's counts to the run (in the same unit as the batch's purge).
  virtual Status RecordRetentionBatch(std::int64_t run_id, const PurgeResult& batch) = 0;
  // `kept_walked_at`: the released holds' count at which this run had looked at every kept
  // deletion (LastKeptDeletionsWalk), nullopt when it had not.
  virtual Status FinishRetentionRun(std::int64_t run_id, UnixMillis now, std::optional<std::int64_t> kept_walked_at) = 0;
  // kConflict when the id exists.
  virtual Status InsertExport(const ExportRecord& record) = 0;
  // Marks the export's files removed; kNotFound for an unknown id, kConflict "export_removed"
  // when it already was.
  virtual Status MarkExportRemoved(const std::string& id, UserId by, UnixMillis at) = 0;

  // ---- Emergency access ----
  virtual Result<EmergencyGrantId> InsertEmergencyGrant(const EmergencyGrant& grant) = 0;
  // Closes an open grant. kNotFound for an unknown id, kConflict "grant_ended" when already closed.
  virtual Status EndEmergencyGrant(EmergencyGrantId id, const std::string& end_kind, std::optional<UserId> ended_by,
                                   UnixMillis at) = 0;
  // kNotFound, kConflict "grant_reviewed" when already reviewed.
  virtual Status ReviewEmergencyGrant(EmergencyGrantId id, const std::string& outcome, const std::string& note,
                                      UserId reviewed_by, UnixMillis at) = 0;

  // ---- Governance ----
  // kConflict when that (key, version) exists: a version never changes.
  virtual Status InsertTemplate(const StoredTemplate& stored) = 0;
  virtual Status SetSpaceTemplate(SpaceId space_id, const std::string& key, int version) = 0;
  // Moves a message between states; keeps its parent's reply_count counting published replies.
  // `hold_reason` is kept in every state but published: a message held and then hidden or removed
  // remembers why it was held, so that reversing the moderator's decision holds it again.
  virtual Status SetMessageState(MessageId id, MessageState state, const std::string& hold_reason) = 0;
  // The PHI types its moderators are shown for message `id` (comma-separated; empty: none), as an
  // edit's screening found them. kNotFound when there is no such message.
  virtual Status SetMessagePhiTypes(MessageId id, const std::string& phi_types) = 0;
  // The patients message `id` names (Message::patient_refs), as an edit leaves them. kNotFound when
  // there is no such message.
  virtual Status SetMessagePatients(MessageId id, const std::string& patient_refs) = 0;
  // The space events about message `id` stored so far stop reaching everyone: each one not yet
  // restricted is restricted to `author_id`, who with the space's moderators still receives it on
  // replay while everyone else gets a placeholder. For a message a moderator takes down.
  virtual Status RestrictMessageEvents(MessageId id, UserId author_id) = 0;
  // The space events about message `id` stored so far keep their seq and lose their content: each
  // becomes a content-free "message.purged" event, as PurgeMessages leaves them. For a message its
  // author or a moderator deletes.
  virtual Status ScrubMessageEvents(MessageId id) = 0;
  // kConflict when this reporter already reported this message.
  virtual Result<ReportId> InsertReport(const Report& report) = 0;
  // Closes every open report of the message; returns how many.
  virtual Result<int> ResolveReports(MessageId message_id, UnixMillis at) = 0;
  virtual Result<ModerationActionId> InsertModerationAction(const ModerationAction& action) = 0;
  // Stores the appeal fields of an existing action.
  virtual Status UpdateAppeal(const ModerationAction& action) = 0;
  virtual Status SetSuspension(const Suspension& suspension) = 0;
  virtual Status DeleteSuspension(SpaceId space_id, UserId user_id) = 0;
  virtual Status UpsertPatients(const std::vector<PatientEntry>& patients, UnixMillis at) = 0;
  virtual Result<bool> DeletePatient(const std::string& mrn) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `unit` on the writer inside a savepoint of a group-committed transaction; returns after
  // the commit is durable. If `unit` returns an error its changes are rolled back and the error
  // returned; other units in the batch are unaffected. If the transaction itself cannot commit,
  // every unit in it fails. Called from inside a write unit it fails with kInternal at once (it
  // would wait for itself).
  virtual Status RunWrite(std::function<Status(WriteTx&)> unit) = 0;
  // RunWrite for a caller that must not wait: queues `unit` and returns at once; `done` is called
  // exactly once with what RunWrite would have returned, after the commit is durable. `done` may
  // run on the store's writer thread, where it must only hand its work elsewhere (post it to an
  // executor): it must not block, and it must not call RunWrite (which fails from the writer). A
  // store that cannot queue runs the unit at once and calls `done` on the caller's thread.
  virtual void RunWriteAsync(std::function<Status(WriteTx&)> unit, std::function<void(Status)> done) {
    done(RunWrite(std::move(unit)));
  }
  // Runs `unit` on a read connection, inside one read transaction: every read of the unit sees the
  // same snapshot, and a read never blocks the writer. Waits while every read connection is busy.
  // Reads keep working after Close().
  virtual Status RunRead(std::function<Status(ReadTx&)> unit) = 0;
  // RunRead for a caller that must not wait (the server's I/O threads answering from kept pages):
  // runs `unit` only if a read connection is free at once, and returns std::nullopt without
  // running it otherwise. A store that cannot tell without waiting never runs it.
  virtual std::optional<Status> TryRunRead(std::function<Status(ReadTx&)> unit) {
    (void)unit;
    return std::nullopt;
  }

  // The space's change stamp now, without a read transaction; std::nullopt when this store cannot
  // tell (then every read must read). A stamp read before a read transaction begins, and equal to
  // one read later, means that nothing the transaction read about the space's access and pages has
  // been committed since, by this process; another process's commits move it only once this
  // store's writer has seen them, so callers bound how long they trust one.
  virtual std::optional<ChangeStamp> Stamp(SpaceId space) const {
    (void)space;
    return std::nullopt;
  }

  template <class F>
  auto Write(F&& unit) -> decltype(unit(std::declval<WriteTx&>())) {
    using R = decltype(unit(std::declval<WriteTx&>()));
    std::optional<R> out;
    Status status = RunWrite([&](WriteTx& tx) -> Status {
      out.emplace(unit(tx));
      if (!*out) return tl::unexpected((*out).error());
      return Ok();
    });
    if (!status) return tl::unexpected(status.error());
    return std::move(*out);
  }
  template <class F>
  auto Read(F&& unit) -> decltype(unit(std::declval<ReadTx&>())) {
    using R = decltype(unit(std::declval<ReadTx&>()));
    std::optional<R> out;
    Status status = RunRead([&](ReadTx& tx) -> Status {
      out.emplace(unit(tx));
      if (!*out) return tl::unexpected((*out).error());
      return Ok();
    });
    if (!status) return tl::unexpected(status.error());
    return std::move(*out);
  }

  // Read, or std::nullopt when no read connection is free at once (see TryRunRead).
  template <class F>
  auto TryRead(F&& unit) -> std::optional<decltype(unit(std::declval<ReadTx&>()))> {
    using R = decltype(unit(std::declval<ReadTx&>()));
    std::optional<R> out;
    std::optional<Status> status = TryRunRead([&](ReadTx& tx) -> Status {
      out.emplace(unit(tx));
      if (!*out) return tl::unexpected((*out).error());
      return Ok();
    });
    if (!status) return std::nullopt;
    if (!*status) return R(tl::unexpected(status->error()));
    return std::move(*out);
  }

  // Brings the message search index up to date with every message committed before the call, so
  // that a search read after it returns finds them. A store that indexes in the write's own
  // transaction returns at once; one that indexes in batches (SQLite) applies what is queued,
  // which costs the caller a group commit when anything is. Searches call it first.
  virtual Status CatchUpSearch() = 0;
  // Copies the live database to `path` consistently while the server keeps serving.
  virtual Status Backup(const std::string& path) = 0;
  virtual StoreMetrics Metrics() const = 0;
  // Finishes queued writes, then refuses new ones (kUnavailable). Idempotent.
  virtual void Close() = 0;
};

struct SqliteOptions {
  // Database file; created (with its folder) if missing. ":memory:" or empty: a throwaway database
  // in a private temporary folder, removed when the store is destroyed.
  std::string path;
  int read_connections = 4;
  int max_batch_units = 256;             // most units in one group commit
  bool sync_full = true;                 // synchronous=FULL: an acknowledged write survives power loss
  // The audit trail's search indexes are filled in by the writer in sorted batches of at most this
  // many records: when that many are waiting, `audit_index_interval` after the last run, and on
  // close.
  int audit_index_batch = 2048;
  std::chrono::milliseconds audit_index_interval{1000};
  // Changes to messages are queued for the search index in the transaction that makes them, and
  // the writer applies the queue: when `search_index_batch` changes wait at the end of a batch,
  // `search_index_interval` after the first of them, before a search (CatchUpSearch), before a
  // backup, and on close. FTS5 writes a segment each time; fewer, larger ones cost a post less,
  // but the writer holds every queued unit while it applies them (10–15 µs a change here).
  int search_index_batch = 512;
  std::chrono::milliseconds search_index_interval{1000};
  // The write-ahead log is copied into the database, and the copy synced, by a thread of its own
  // (a PASSIVE checkpoint, which waits for no reader or writer) this often, and every
  // `long_log_checkpoint_interval` while the log holds `restart_log_pages` or more (4 KiB each).
  // A commit that then finds at most `catch_up_pages` of the log not yet copied copies them
  // itself, so that the log starts over at the next transaction: the commit pays for the sync of
  // those few pages only. It copies the log whatever is left only past `writer_checkpoint_pages`.
  std::chrono::milliseconds checkpoint_interval{500};
  std::chrono::milliseconds long_log_checkpoint_interval{50};
  int restart_log_pages = 4096;
  int catch_up_pages = 1024;
  int writer_checkpoint_pages = 16384;
  // 32 bytes: every page of the database and of its write-ahead log, and of its backups, is
  // encrypted under this key (XChaCha20-Poly1305, see store/sqlite/coalescing_vfs.hpp). Empty: none
  // is. A new database is created encrypted; an existing one must have been created (or encrypted
  // with EncryptDatabaseFile) under the same key.
  std::string encryption_key;
};

// Opens (creating if needed) a SQLite database, applies pending migrations and starts the writer.
// kInternal if the file cannot be opened; kConflict if its schema is newer than this binary knows;
// kInvalidArgument "database_not_encrypted" for a key and a plain database, "database_encrypted"
// for no key and an encrypted one, "database_key_mismatch" for the wrong key.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// What is at a database path: nothing yet (no file, or an empty one), a database SQLite reads as
// it is, or a file it cannot read without a key (an encrypted database, or no database at all).
enum class DatabaseFileKind { kAbsent, kPlain, kEncrypted };
DatabaseFileKind InspectDatabaseFile(const std::string& path);

// Encrypts the plain database at `path` under `key` (32 bytes), in place: a copy is written
// encrypted beside it (VACUUM INTO), checked, synced and renamed over it. Nothing may have the
// database open meanwhile. Errors: kNotFound (no database), kInvalidArgument
// "database_already_encrypted" or "bad_page_size", kConflict "database_in_use" (stop the server
// first), kInternal for I/O. On any error the plain database is left as it was.
Status EncryptDatabaseFile(const std::string& path, const std::string& key);

// Re-encrypts the encrypted database at `path` from `old_key` to `new_key` (32 bytes each), in
// place, as EncryptDatabaseFile does: a copy under the new key, checked, synced and renamed over
// it. Nothing may have the database open meanwhile. Errors: kNotFound (no database),
// kInvalidArgument "database_not_encrypted", "bad_database_key", "database_key_mismatch" (the old
// key does not open it) or "same_database_key", kConflict "database_in_use", kInternal for I/O.
// On any error the database is left as it was, under the old key.
Status RekeyDatabaseFile(const std::string& path, const std::string& old_key, const std::string& new_key);

// Whether the first page of the encrypted database at `path` authenticates under `key`: false for
// a missing, plain or unreadable file, and for a key that is not 32 bytes.
bool KeyOpensDatabaseFile(const std::string& path, const std::string& key);

// SQLite's integrity check of the whole database at `path`, opened with `key` (empty for a plain
// database), which reads every page (and so authenticates every page of an encrypted one): "ok",
// or the problems it found, one a line. Errors: those of opening the database with the key.
Result<std::string> CheckDatabaseFile(const std::string& path, const std::string& key);

}  // namespace rounds::store
