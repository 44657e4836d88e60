// Plain entity and value types of Rounds. No I/O, no clock, no threads: these are data.
// Ids are 64-bit row ids that are never reused (SQLite AUTOINCREMENT, PostgreSQL identity).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace rounds::domain {

using UserId = std::int64_t;
using DepartmentId = std::int64_t;
using SpaceId = std::int64_t;
using MessageId = std::int64_t;
using SessionId = std::int64_t;
// Position of an event in its space's totally ordered event log, starting at 1, without gaps.
using Seq = std::int64_t;

// ---- Directory ---------------------------------------------------------------------------

struct Department {
  DepartmentId id = 0;
  std::string name;
  std::optional<DepartmentId> parent_id;
};

enum class AccountKind { kStaff, kPatient };

struct User {
  UserId id = 0;
  std::string username;       // unique, lower-case, [a-z0-9._-]{2,64}
  std::string display_name;
  std::string email;
  std::string job_role;       // "Registered Nurse", "Cardiologist", ...
  std::vector<DepartmentId> department_ids;
  AccountKind kind = AccountKind::kStaff;
  bool is_admin = false;
  bool is_compliance = false;  // compliance / privacy officer
  // From outside the organization (kind kStaff): reaches only the spaces they are added to whose
  // policy template allows guests; not staff for the directory, discovery or creating spaces.
  bool is_guest = false;
  bool disabled = false;
  UnixMillis created_at = 0;
};

// The short form of a user that messages carry: all a page of messages needs of its authors.
struct UserRef {
  UserId id = 0;
  std::string username;
  std::string display_name;
};
inline UserRef RefOf(const User& user) { return UserRef{user.id, user.username, user.display_name}; }

// Credentials and lock-out state; never leaves the app layer.
struct Credentials {
  UserId user_id = 0;
  std::string password_hash;   // Argon2id encoded string
  int failed_attempts = 0;     // consecutive failures since the last success
  UnixMillis locked_until = 0; // 0 when not locked
  // Two-step sign-in (TOTP): seeds sealed under the server's key (crypto::SealSecret).
  std::string totp_secret;     // empty when two-step sign-in is off
  std::string totp_pending;    // a set-up not yet confirmed with a code
  std::int64_t totp_last_step = 0;          // newest time step whose code was used
  std::vector<std::string> recovery_codes;  // SHA-256 hex of each unused recovery code

  bool mfa_enabled() const { return !totp_secret.empty(); }
};

struct Session {
  SessionId id = 0;
  UserId user_id = 0;
  std::string token_hash;      // SHA-256 hex of the bearer/cookie token; the token is never stored
  std::string csrf_token;      // random; required on state-changing cookie requests
  bool is_bearer = false;      // API/CLI token (no CSRF) vs. browser cookie
  UnixMillis created_at = 0;
  UnixMillis last_seen_at = 0;
  UnixMillis expires_at = 0;   // absolute lifetime
  std::string user_agent;
  std::string address;
  bool second_factor = false;  // opened with a second factor, or one was set up in it
  UnixMillis admin_elevated_until = 0;  // an administrator's session administers until then
};

// ---- Spaces --------------------------------------------------------------------------------

enum class SpaceKind { kCommunity, kChannel, kDirect };
enum class Visibility { kPublic, kPrivate };
enum class JoinPolicy { kOpen, kInvite };
// Ordered from least to most privileged.
enum class MemberRole { kReadOnly, kMember, kModerator, kOwner };

struct Space {
  SpaceId id = 0;
  SpaceKind kind = SpaceKind::kCommunity;
  std::string name;
  std::string topic;
  Visibility visibility = Visibility::kPublic;
  JoinPolicy join_policy = JoinPolicy::kOpen;
  bool archived = false;
  // For kDirect: sorted member ids joined by ',' so one set of people has one conversation.
  std::string direct_key;
  UserId created_by = 0;
  UnixMillis created_at = 0;
  Seq last_seq = 0;            // newest event sequence in this space
  int member_count = 0;
  // The policy template version the space runs under (governance/policy). Moves to a new
  // version only when a compliance officer assigns it.
  std::string template_key = "internal-community";
  int template_version = 1;
};

struct Membership {
  SpaceId space_id = 0;
  UserId user_id = 0;
  MemberRole role = MemberRole::kMember;
  Seq read_seq = 0;            // read marker: last message seq the member has seen
  UnixMillis joined_at = 0;
};

// A request to join a space whose template admits people on request; pending until decided or
// withdrawn (a decided one is gone: the person is a member, or may ask again).
struct JoinRequest {
  SpaceId space_id = 0;
  UserId user_id = 0;
  UnixMillis created_at = 0;
};

// ---- Messages ------------------------------------------------------------------------------

enum class MessageKind {
  kMessage,       // chat message or comment / thread reply
  kDiscussion,    // community post kinds
  kQuestion,
  kIdea,
  kPoll,
  kAnnouncement,
};

// Where a message stands with moderation. Only kPublished messages reach members, unread counts
// and search; kHeld is seen by its author and the space's moderators until reviewed.
enum class MessageState { kPublished, kHeld, kHidden, kRemoved };
// Why a message is held: "pre_moderation", "phi" or "review"; empty when it is not.
// "pre_moderation" is also every post of an outsider (a patient or a guest) where the PHI rule
// keeps PHI from members, whatever the patient index found in it. "review" was an outsider's post
// the index alone flagged, before those were held with the rest; rows held so are still read.
inline constexpr std::string_view kHoldPreModeration = "pre_moderation";
inline constexpr std::string_view kHoldPhi = "phi";

struct PollOption {
  int index = 0;
  std::string text;
  int votes = 0;
};

struct ReactionCount {
  std::string emoji;
  int count = 0;
  bool mine = false;           // filled per reader
};

using AttachmentId = std::int64_t;

// A file uploaded into a space, then attached to one message by the post that names it. The
// content is kept apart (Store::ReadAttachmentContent) and never travels with the metadata.
struct Attachment {
  AttachmentId id = 0;
  SpaceId space_id = 0;
  UserId uploader_id = 0;
  std::optional<MessageId> message_id;  // nullopt until a post attaches it
  std::string name;                     // the file name as shown (PHI-screened like a body)
  std::string content_type;             // detected from the content, never taken from the client
  std::int64_t size = 0;                // bytes
  std::string sha256;                   // hex, of the content
  std::string phi_types;                // what screening found and the file still holds (none once redacted)
  std::string phi_rule;                 // the template's PHI rule at upload ("allow", "warn", "hold"; "" if older)
  // An outsider's upload only: what the patient index alone found (types, as phi_types). Never
  // shown to the uploader; a post attaching the file under a hold, block or redact rule waits for
  // review.
  std::string withheld_types;
  // The audit references of the patients its name and content still name (as
  // Message::patient_refs): what each download's record names. Never sent to clients.
  std::string patient_refs;
  // Those its name alone names (a part of patient_refs): a message's readers see its files'
  // names, not their content, so a post that attaches the file adds these to its own.
  std::string name_patient_refs;
  UnixMillis created_at = 0;
};

struct Message {
  MessageId id = 0;
  SpaceId space_id = 0;
  Seq seq = 0;                 // seq of the event that created it
  UserId author_id = 0;
  MessageKind kind = MessageKind::kMessage;
  std::optional<MessageId> parent_id;   // thread root (channel) or post (community comment)
  std::string title;           // community posts may carry a title
  std::string body;            // Markdown source, rendered by clients with raw HTML disabled
  std::string client_id;       // idempotency key chosen by the client, unique per (space, author)
  UnixMillis created_at = 0;
  UnixMillis edited_at = 0;    // 0 when never edited
  bool deleted = false;        // deleted messages keep a tombstone: body empty
  bool pinned = false;
  std::optional<MessageId> accepted_answer_id;  // questions
  int reply_count = 0;
  int vote_count = 0;          // ideas
  std::vector<PollOption> poll_options;
  std::vector<ReactionCount> reactions;
  std::vector<UserId> mentions;
  std::vector<Attachment> attachments;  // in upload order
  MessageState state = MessageState::kPublished;
  std::string hold_reason;     // kHoldPreModeration, kHoldPhi, "review" (older rows) or empty
  std::string phi_types;       // comma-separated PHI finding types the author confirmed or that held it
  // The audit references of the patients any version of it names (domain/audit.hpp's
  // JoinPatientRefs form): what a read of it puts on its audit record. Never sent to clients.
  std::string patient_refs;
  std::optional<int> my_poll_vote;   // filled per reader
  bool my_vote = false;              // idea vote, filled per reader
};

struct MessageEdit {
  MessageId message_id = 0;
  int version = 0;             // 1 = original
  std::string body;
  UnixMillis edited_at = 0;
  UserId editor_id = 0;
  std::string title;           // the title this version had (empty for messages without one)
};

// ---- Events --------------------------------------------------------------------------------

// An entry in a space's ordered event log. Clients resume from (space_id, seq) cursors.
struct SpaceEvent {
  SpaceId space_id = 0;
  Seq seq = 0;
  std::string type;            // "message.created", "message.edited", "message.deleted",
                               // "reaction.changed", "vote.changed", "poll.changed",
                               // "member.joined", "member.left", "member.role", "space.updated",
                               // "message.pinned", "answer.accepted"
  std::string payload_json;    // the event's data object, serialized once
  UnixMillis created_at = 0;
  // 0: every member receives it. A user id: only that user (a held message's author) and the
  // space's moderators do — live and on replay.
  UserId restricted_to = 0;
  // Not stored with the event: the patients the message it is about names now
  // (Message::patient_refs), filled by ListEvents for a replay's audit record and by the service
  // that appends it for the record of its live delivery (bus::Event::patient_refs).
  std::string patient_refs;
};

struct Mention {
  UserId user_id = 0;
  MessageId message_id = 0;
  SpaceId space_id = 0;
  UnixMillis created_at = 0;
};

std::string_view ToString(SpaceKind v);
std::string_view ToString(Visibility v);
std::string_view ToString(JoinPolicy v);
std::string_view ToString(MemberRole v);
std::string_view ToString(MessageKind v);
std::string_view ToString(AccountKind v);
std::string_view ToString(MessageState v);
std::optional<SpaceKind> ParseSpaceKind(std::string_view s);
std::optional<Visibility> ParseVisibility(std::string_view s);
std::optional<JoinPolicy> ParseJoinPolicy(std::string_view s);
std::optional<MemberRole> ParseMemberRole(std::string_view s);
std::optional<MessageKind> ParseMessageKind(std::string_view s);
std::optional<AccountKind> ParseAccountKind(std::string_view s);
std::optional<MessageState> ParseMessageState(std::string_view s);

}  // namespace rounds::domain
