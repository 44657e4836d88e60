// The SQLite implementation of ReadTx/WriteTx over one connection. Internal to the SQLite store.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace rounds::store::sqlite {

// A space's page version (store.hpp) in index lookups only: read before every kept page is served.
// "<> 'published'" lets SQLite use the partial index of unpublished messages (0004).
inline constexpr char kFindPageVersionSql[] =
    "SELECT s.content_version, (SELECT version FROM directory_version WHERE id = 1), "
    "EXISTS (SELECT 1 FROM messages m WHERE m.space_id = s.id AND m.state = 'held' AND m.state <> 'published') "
    "FROM spaces s WHERE s.id = ?1";

// What the writer remembers about the audit trail between units and batches.
struct WriterAuditState {
  std::optional<AuditChainHead> head;  // std::nullopt: unknown, read it from the table
  std::int64_t appended = 0;           // records appended since the indexes last caught up (or more)
};

class SqliteTx final : public WriteTx {
 public:
  explicit SqliteTx(Connection& connection) : db_(connection) {}
  // The writer's transaction, which keeps `audit` current; the store keeps it right on rollback.
  SqliteTx(Connection& connection, WriterAuditState& audit) : db_(connection), audit_(&audit) {}

  Result<std::optional<User>> FindUser(UserId id) override;
  Result<std::optional<AccountFlags>> FindAccountFlags(UserId id) override;
  Result<std::vector<UserRef>> FindUserRefs(std::span<const UserId> ids) override;
  Result<std::optional<User>> FindUserByUsername(const std::string& username) override;
  Result<std::vector<User>> ListUsers(const UserQuery& query) override;
  Result<std::int64_t> CountUsers() override;
  Result<std::string> ServerSecret(const std::string& name) override;
  Result<std::optional<Credentials>> FindCredentials(UserId id) override;
  Result<std::vector<Department>> ListDepartments() override;
  Result<std::optional<Department>> FindDepartment(DepartmentId id) override;
  Result<std::optional<Department>> FindDepartmentByName(const std::string& name) override;
  Result<std::optional<Session>> FindSessionByTokenHash(const std::string& token_hash) override;
  Result<std::vector<Session>> ListSessionsForUser(UserId user_id) override;
  Result<std::optional<Space>> FindSpace(SpaceId id) override;
  Result<std::optional<Space>> FindDirectSpace(const std::string& direct_key) override;
  Result<std::vector<Space>> ListSpaces(const SpaceQuery& query) override;
  Result<std::vector<MemberSpace>> ListSpacesForUser(UserId user_id) override;
  Result<std::optional<Membership>> FindMembership(SpaceId space_id, UserId user_id) override;
  Result<std::vector<Membership>> ListMembers(SpaceId space_id, UserId after_user_id, int limit) override;
  Result<std::vector<UserId>> ListMemberIds(SpaceId space_id) override;
  Result<std::int64_t> CountMembersOfKind(SpaceId space_id, AccountKind kind) override;
  Result<std::int64_t> CountGuestMembers(SpaceId space_id) override;
  Result<std::vector<JoinRequest>> ListJoinRequests(SpaceId space_id, int limit) override;
  Result<std::optional<JoinRequest>> FindJoinRequest(SpaceId space_id, UserId user_id) override;
  Result<std::vector<SpaceId>> ListSpaceIdsForUser(UserId user_id) override;
  Result<std::optional<Message>> FindMessage(MessageId id, UserId viewer_id) override;
  Result<std::optional<Message>> FindMessageByClientId(SpaceId space_id, UserId author_id,
                                                       const std::string& client_id) override;
  Result<std::vector<Message>> ListMessages(const MessageQuery& query) override;
  Result<std::vector<Message>> ListPinned(SpaceId space_id, UserId viewer_id) override;
  Result<std::optional<PageVersion>> FindPageVersion(SpaceId space_id) override;
  Result<bool> HasViewerMarks(std::span<const MessageId> ids, UserId viewer_id) override;
  Result<std::vector<MessageEdit>> ListEdits(MessageId id) override;
  Result<std::optional<Attachment>> FindAttachment(AttachmentId id) override;
  Result<std::optional<std::string>> ReadAttachmentContent(AttachmentId id) override;
  Result<std::optional<std::string>> ReadAttachmentPiece(AttachmentId id, std::int64_t piece) override;
  Result<std::vector<AttachmentId>> ListUnattachedBefore(UnixMillis before, int limit) override;
  Result<std::vector<Mention>> ListMentions(UserId user_id, MessageId before_message_id, int limit) override;
  Result<std::vector<SpaceEvent>> ListEvents(SpaceId space_id, Seq after_seq, int limit) override;
  Result<std::vector<SearchHit>> SearchMessages(const SearchQuery& query) override;
  Result<std::optional<AuditRecord>> LastAuditRecord() override;
  Result<std::vector<AuditRecord>> ListAudit(std::int64_t after_seq, int limit) override;
  Result<AuditChainHead> AuditHead() override;
  Result<std::vector<AuditChainHead>> ListAuditHashes(std::int64_t after_seq, int limit) override;
  Result<std::optional<std::string>> FindAuditTreeNode(int level, std::int64_t idx) override;
  Result<std::optional<std::int64_t>> LastAuditTreeNode(int level) override;
  Status InsertAuditTreeNodes(std::span<const AuditTreeNode> nodes) override;
  Status InsertAudit(const AuditRecord& record) override;
  // Retention and legal holds (sqlite_tx_retention.cpp)
  Result<std::vector<LegalHold>> ListLegalHolds(bool include_released) override;
  Result<std::int64_t> CountReleasedLegalHolds() override;
  Result<std::optional<std::int64_t>> LastKeptDeletionsWalk() override;
  Result<std::optional<LegalHold>> FindLegalHold(LegalHoldId id) override;
  Result<std::vector<LegalHoldId>> HoldsCovering(MessageId id) override;
  Result<std::vector<SpaceId>> ListSpaceIds(SpaceId after_id, int limit) override;
  Result<std::int64_t> CountHeldBefore(SpaceId space_id, UnixMillis cutoff) override;
  Result<std::vector<MessageId>> ListPurgeCandidates(SpaceId space_id, UnixMillis cutoff, int limit) override;
  Result<std::vector<RetentionRun>> ListRetentionRuns(int limit) override;
  Result<std::vector<MessageId>> ListExportMessageIds(const ExportQuery& query, MessageId after_id, int limit) override;
  Result<std::optional<HeldDeletion>> FindHeldDeletion(MessageId id) override;
  Result<std::vector<ExportRecord>> ListExports(int limit, const std::optional<ExportCursor>& after) override;
  Result<std::optional<ExportRecord>> FindExport(const std::string& id) override;
  Result<std::vector<ExportRecord>> ListKeptExportsBefore(UnixMillis before, const std::string& folder_prefix,
                                                          int limit) override;
  Result<LegalHoldId> InsertLegalHold(const LegalHold& hold) override;
  Status ReleaseLegalHold(LegalHoldId id, UserId released_by, UnixMillis released_at) override;
  Result<FinishedDeletions> FinishHeldDeletions(MessageId after_id, int limit) override;
  Result<PurgeResult> PurgeMessages(const std::vector<MessageId>& ids, UnixMillis now) override;
  Result<RetentionRunStart> BeginRetentionRun(UserId actor_id, UnixMillis now) override;
  Status RecordRetentionBatch(std::int64_t run_id, const PurgeResult& batch) override;
  Status FinishRetentionRun(std::int64_t run_id, UnixMillis now, std::optional<std::int64_t> kept_walked_at) override;
  Status InsertExport(const ExportRecord& record) override;
  Status MarkExportRemoved(const std::string& id, UserId by, UnixMillis at) override;
  Result<std::vector<AuditRecord>> SearchAudit(const AuditQuery& query) override;  // sqlite_tx_audit.cpp
  // Adds the search index entries of up to `limit` records not yet indexed, oldest first, in key
  // order; returns how many records it indexed (0: caught up). Writer only.
  Result<int> IndexAudit(int limit);
  // audit_index_patient's entries for records (after, upto], one per reference (IndexAudit).
  Status IndexPatients(std::int64_t after, std::int64_t upto);
  // Every record with seq <= this has its index entries.
  Result<std::int64_t> AuditIndexedSeq();
  Result<std::optional<std::int64_t>> FirstAuditIndexMismatch() override;

  // Emergency access (sqlite_tx_emergency.cpp)
  Result<std::optional<EmergencyGrant>> FindEmergencyGrant(EmergencyGrantId id) override;
  Result<std::optional<EmergencyGrant>> FindActiveEmergencyGrant(SpaceId space_id, UserId user_id,
                                                                 UnixMillis now) override;
  Result<std::vector<EmergencyGrant>> ListEmergencyGrants(const GrantQuery& query) override;
  Result<std::vector<EmergencyGrant>> ListLapsedEmergencyGrants(UnixMillis now, int limit) override;
  Result<GrantCounts> CountEmergencyGrants(UnixMillis now) override;
  Result<std::vector<UserId>> ListComplianceOfficerIds() override;
  Result<EmergencyGrantId> InsertEmergencyGrant(const EmergencyGrant& grant) override;
  Status EndEmergencyGrant(EmergencyGrantId id, const std::string& end_kind, std::optional<UserId> ended_by,
                           UnixMillis at) override;
  Status ReviewEmergencyGrant(EmergencyGrantId id, const std::string& outcome, const std::string& note,
                              UserId reviewed_by, UnixMillis at) override;

  // Governance (sqlite_tx_governance.cpp)
  Result<std::vector<StoredTemplate>> ListTemplates() override;
  Result<std::optional<StoredTemplate>> FindTemplate(const std::string& key, int version) override;
  Result<std::vector<Space>> ListSpacesByTemplate(const std::string& key) override;
  Result<std::vector<Message>> ListModerationQueue(const std::vector<SpaceId>& space_ids, MessageId after_id,
                                                   int limit) override;
  Result<std::vector<Report>> ListOpenReports(MessageId message_id) override;
  Result<std::optional<ModerationAction>> FindModerationAction(ModerationActionId id) override;
  Result<std::vector<ModerationAction>> ListModerationActions(const ModerationActionQuery& query) override;
  Result<std::optional<Suspension>> FindSuspension(SpaceId space_id, UserId user_id) override;
  Result<std::vector<PatientEntry>> ListPatients() override;
  Status InsertTemplate(const StoredTemplate& stored) override;
  Status SetSpaceTemplate(SpaceId space_id, const std::string& key, int version) override;
  Status SetMessageState(MessageId id, MessageState state, const std::string& hold_reason) override;
  Status SetMessagePhiTypes(MessageId id, const std::string& phi_types) override;
  Status SetMessagePatients(MessageId id, const std::string& patient_refs) override;
  Status RestrictMessageEvents(MessageId id, UserId author_id) override;
  Status ScrubMessageEvents(MessageId id) override;
  Result<ReportId> InsertReport(const Report& report) override;
  Result<int> ResolveReports(MessageId message_id, UnixMillis at) override;
  Result<ModerationActionId> InsertModerationAction(const ModerationAction& action) override;
  Status UpdateAppeal(const ModerationAction& action) override;
  Status SetSuspension(const Suspension& suspension) override;
  Status DeleteSuspension(SpaceId space_id, UserId user_id) override;
  Status UpsertPatients(const std::vector<PatientEntry>& patients, UnixMillis at) override;
  Result<bool> DeletePatient(const std::string& mrn) override;

  Result<DepartmentId> InsertDepartment(const Department& department) override;
  Result<UserId> InsertUser(const User& user, const std::string& password_hash) override;
  Status UpdateUser(const User& user) override;
  Status UpdateCredentials(const Credentials& credentials) override;
  Result<SessionId> InsertSession(const Session& session) override;
  Status TouchSession(SessionId id, UnixMillis last_seen_at) override;
  Status SetSessionSecondFactor(SessionId id) override;
  Status SetSessionAdminElevation(SessionId id, UnixMillis until) override;
  Status DeleteSession(SessionId id) override;
  Result<std::vector<SessionId>> DeleteSessionsForUser(UserId user_id) override;
  Result<int> DeleteExpiredSessions(UnixMillis now, std::int64_t idle_millis) override;
  Result<SpaceId> InsertSpace(const Space& space) override;
  Status UpdateSpace(const Space& space) override;
  Status UpsertMembership(const Membership& membership) override;
  Status DeleteMembership(SpaceId space_id, UserId user_id) override;
  Status InsertJoinRequest(const JoinRequest& request) override;
  Result<bool> DeleteJoinRequest(SpaceId space_id, UserId user_id) override;
  Status SetReadSeq(SpaceId space_id, UserId user_id, Seq read_seq) override;
  Result<Seq> NextSeq(SpaceId space_id) override;
  Status InsertEvent(const SpaceEvent& event) override;
  Result<MessageId> InsertMessage(const Message& message) override;
  Result<AttachmentId> InsertAttachment(const Attachment& attachment, std::string_view content) override;
  Result<int> DeleteAttachments(std::span<const AttachmentId> ids) override;
  Result<int> DeleteMessageAttachments(MessageId id) override;
  Status UpdateMessageBody(MessageId id, const std::string& title, const std::string& body,
                           UnixMillis edited_at, UserId editor_id) override;
  Status DeleteMessage(MessageId id, UnixMillis deleted_at) override;
  Status SetPinned(MessageId id, bool pinned) override;
  Status SetAcceptedAnswer(MessageId question_id, std::optional<MessageId> answer_id) override;
  Result<bool> SetReaction(MessageId id, UserId user_id, const std::string& emoji, bool on) override;
  Result<bool> SetIdeaVote(MessageId id, UserId user_id, bool on) override;
  Result<bool> SetPollVote(MessageId id, UserId user_id, std::optional<int> option) override;

 private:
  // Fill users' department_ids / messages' reactions, mentions, poll options and the viewer's
  // votes with one query per kind of detail for the whole set.
  Status LoadDepartments(std::span<User> users);
  Status LoadMessageDetails(std::span<Message* const> messages, UserId viewer_id);
  Result<std::vector<Message>> ReadMessages(Statement& statement, UserId viewer_id);
  // The index terms longer than `word` that it begins (see CompletionRange), or none when the
  // prefix query is the cheaper one: a short or non-ASCII word, or more than a few such terms.
  Result<std::optional<std::vector<std::string>>> Completions(const std::string& word);
  Status RecountMembers(SpaceId space_id);
  // A deleted message's earlier versions, poll options and votes: what its tombstone keeps only
  // while a legal hold covers it.
  Status DeleteMessageContent(MessageId id);

  Connection& db_;
  WriterAuditState* audit_ = nullptr;  // the writer's; null for readers
};

}  // namespace rounds::store::sqlite
