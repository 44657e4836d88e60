// The application services: the only place business rules and permissions live. HTTP, the
// WebSocket and the CLI all call these, so every entry point gets the same checks.
//
// Every mutation follows one path: authorize (deny by default) -> validate -> one store write unit
// (which re-checks what could have changed, writes the change and its space event) -> durable
// commit -> publish on the bus. Reads return the JSON documents of docs/api/README.md.
//
// Errors are Result values with stable problem codes; a caller who may not know that a private
// space or its messages exist gets kNotFound, never kForbidden. All services are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/audit_service.hpp"
#include "app/context.hpp"
#include "app/governance_service.hpp"
#include "app/json_codec.hpp"
#include "app/page_cache.hpp"
#include "app/policy_engine.hpp"
#include "app/retention_service.hpp"
#include "app/sign_in_guard.hpp"
#include "bus/bus.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/open_file.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace rounds::app {

using nlohmann::json;

// ---- Accounts and sessions ----------------------------------------------------------------------

struct LoginRequest {
  std::string username;
  std::string password;
  bool bearer = false;
  std::string address;
  std::string user_agent;
  std::string device_token;  // from an earlier sign-in on this device, if any (SignInGuard)
  std::string code;          // the second factor, for clients that send both at once
};

// The second step of a sign-in whose password step answered mfa_required.
struct MfaLoginRequest {
  std::string mfa_token;     // from the password step
  std::string code;          // a TOTP code or a recovery code
  bool bearer = false;
  std::string address;
  std::string user_agent;
  std::string device_token;
};

struct MfaStatus {
  bool enabled = false;
  bool required = false;           // the server's mfa_required setting covers this account
  int recovery_codes_left = 0;
};

// What an authenticator app needs to start producing codes.
struct TotpSetup {
  std::string secret;       // base32, for typing in
  std::string otpauth_uri;  // for the QR code
};

struct LoginResult {
  std::string token;        // returned once; only its SHA-256 is stored
  std::string device_token; // proves this device at later sign-ins (SignInGuard); not stored
  domain::Session session;
  domain::User user;
  // The password was right and the account has two-step sign-in: no session yet; the client
  // sends a code with this token (valid five minutes) to CompleteMfa.
  bool mfa_required = false;
  std::string mfa_token;
};

class AuthService {
 public:
  AuthService(store::Store& store, const Clock& clock, const Config& config);

  // kUnauthenticated "invalid_credentials" for an unknown user or a wrong password (the same
  // answer and about the same time either way); kRateLimited "account_locked" after
  // config.lockout_threshold consecutive failures — for unknown usernames too, counted in memory,
  // so a lock-out does not reveal that an account exists; kForbidden "account_disabled".
  // With two-step sign-in on, a right password alone gives `mfa_required` and a token for
  // CompleteMfa; a request that carries `code` too is verified at once (kUnauthenticated
  // "invalid_code" for a wrong one, counted like a wrong password).
  Result<LoginResult> Login(const LoginRequest& request);
  // The second step: kUnauthenticated "invalid_mfa_token" (forged, expired, or the password
  // changed since), "invalid_code" (wrong, or already used: every TOTP time step and every
  // recovery code works once), kRateLimited "account_locked".
  Result<LoginResult> CompleteMfa(const MfaLoginRequest& request);

  // ---- Own sessions (security target 10) ----
  // The caller's live sessions, newest first: {"items": [{id, current, bearer, second_factor,
  // admin_elevated_until (0 when not administering), created_at, last_seen_at, expires_at,
  // user_agent, address}]}. No token or CSRF token.
  Result<json> ListOwnSessions(const Actor& actor);
  // Ends one of the caller's sessions (kNotFound for any other id); its sockets close.
  Status EndOwnSession(const Actor& actor, domain::SessionId id);
  // Ends every session of the caller but this one; returns how many.
  Result<int> EndOtherOwnSessions(const Actor& actor);
  // Re-checks the caller's password before a sensitive change (`action` names the audit record
  // of a failure): kForbidden "invalid_credentials", counted towards the lock-out.
  Status ConfirmPassword(const Actor& actor, const std::string& password, const char* action);
  // Re-authentication before an act that needs more than a session (emergency access): the
  // password and, when the account has two-step sign-in on, a code, which is spent. Wrong ones
  // are audited under `action` and counted towards the lock-out: kForbidden "invalid_credentials",
  // kUnauthenticated "invalid_code", kRateLimited "account_locked"; kInvalidArgument
  // "code_required" when a code is needed and none was sent.
  Status StepUp(const Actor& actor, const std::string& password, const std::string& code, const char* action);

  // ---- Administration (a separate, time-boxed standing of an administrator's session) ----
  // An administrator's account acts as staff until its session is elevated: after StepUp (audited
  // `auth.elevate`), this session administers until the returned time, config
  // admin_elevation_seconds from now and never past the session's end. kForbidden
  // "admin_required" (on record) for anyone else; StepUp's refusals.
  Result<UnixMillis> Elevate(const Actor& actor, const std::string& password, const std::string& code);
  // Ends the session's administration now (audited `auth.elevation_end`); nothing when it has none.
  Status EndElevation(const Actor& actor);

  // ---- Two-step sign-in (TOTP, RFC 6238: SHA-1, 6 digits, 30 s; one step of clock drift) ----
  // Whether the mfa_required setting covers `user`.
  bool MfaRequiredFor(const domain::User& user) const;
  Result<MfaStatus> GetMfaStatus(const Actor& actor);
  // Starts a set-up after re-checking the password (kForbidden "invalid_credentials", counted
  // towards the lock-out); kConflict "mfa_already_enabled".
  Result<TotpSetup> BeginTotp(const Actor& actor, const std::string& password);
  // Confirms the set-up with a code from the app: two-step sign-in is on, the caller's other
  // sessions end, this one counts as holding the second factor. Returns ten recovery codes
  // (shown once; only their hashes are kept). kConflict "mfa_setup_not_started",
  // kUnauthenticated "invalid_code".
  Result<std::vector<std::string>> ConfirmTotp(const Actor& actor, const std::string& code);
  // Turns it off after the password and a code; kForbidden "mfa_required_by_policy".
  Status DisableTotp(const Actor& actor, const std::string& password, const std::string& code);
  // Ten new recovery codes after the password and a code; the old ones stop working.
  Result<std::vector<std::string>> NewRecoveryCodes(const Actor& actor, const std::string& password,
                                                    const std::string& code);
  // kUnauthenticated "session_expired" / "invalid_session". Counts as activity for the idle timer.
  Result<Actor> Authenticate(const std::string& token, const std::string& address = {});
  // Authenticate for a caller that must not wait: the actor of a session this process knows, is
  // live and whose activity needs no write yet; std::nullopt for anything else (then Authenticate
  // decides, with the store). Counts as activity like Authenticate.
  std::optional<Actor> AuthenticateKept(const std::string& token, const std::string& address);
  Status Logout(const Actor& actor);
  // Verifies the current password, applies the policy, ends the caller's other sessions. A wrong
  // current password counts towards the lock-out like a failed sign-in (kForbidden
  // "invalid_credentials", then kRateLimited "account_locked").
  Status ChangePassword(const Actor& actor, const std::string& current, const std::string& replacement);
  // Records activity on a session without an HTTP request (client messages on the WebSocket).
  void Touch(domain::SessionId session_id);
  // Ends every session of `user_id` (disable, password reset). Returns how many ended.
  // `audit`, when given, is written in the same unit with the count in its details.
  Result<int> EndSessionsForUser(domain::UserId user_id, std::optional<domain::AuditRecord> audit = std::nullopt);
  // Ends sessions past their idle or absolute limit; the server calls this every few seconds.
  void ExpireSessions();
  // Called with each session id that ends, whatever the reason (to close its WebSockets).
  void OnSessionEnded(std::function<void(domain::SessionId)> callback);
  // Hashes a password with the policy applied (for user creation and resets).
  Result<std::string> HashNewPassword(const std::string& password, const std::string& username);
  // Refreshes the cached sessions of `user` after its record changed (name, rights), so the next
  // Authenticate returns the new record.
  void UserChanged(const domain::User& user);

 private:
  struct CachedSession {
    domain::Session session;
    domain::User user;
    UnixMillis persisted_last_seen = 0;
  };
  struct UnknownFailures {
    int count = 0;
    UnixMillis locked_until = 0;
    UnixMillis last_failure = 0;
  };
  void Ended(const std::vector<domain::SessionId>& ids);
  Actor ActorOf(const CachedSession& entry, const std::string& address, UnixMillis now) const;
  bool Expired(const domain::Session& session, UnixMillis now) const;
  // Counts a failed password for a known user; returns locked_until (0 when not locked).
  Result<UnixMillis> CountFailure(domain::UserId user_id, UnixMillis now);
  // The same bookkeeping for names that match no account; returns locked_until.
  UnixMillis CountUnknownFailure(const std::string& username, UnixMillis now);
  UnixMillis UnknownLockedUntil(const std::string& username, UnixMillis now);
  // Refusals of a sign-in, each audited with its reason: the address's throttle, the account's
  // lock-out (both skipped for a trusted device), a disabled account.
  Status RefuseThrottledAddress(const std::string& address, domain::UserId user_id, UnixMillis now);
  Status RefuseLockedAccount(const domain::Credentials& creds, const std::string& address, UnixMillis now);
  Status RefuseDisabled(const domain::User& user, const std::string& address, UnixMillis now);
  // Counts a wrong password or code (`reason`): against the device token when one made the
  // attempt trusted, else against the address and the account (kRateLimited "account_locked"
  // when this locks it). The failure is on record before the caller answers.
  Status CountSignInFailure(domain::UserId user_id, const std::string& address,
                            const std::optional<std::string>& device, const char* reason, UnixMillis now);
  // The session of a verified sign-in, written with its audit record. `consume` runs first in
  // the same write unit on freshly read credentials (spending the code that was the second
  // factor) and may refuse.
  Result<LoginResult> OpenSession(const domain::User& user, const domain::Credentials& creds, bool bearer,
                                  const std::string& address, const std::string& user_agent, UnixMillis now,
                                  bool second_factor,
                                  const std::function<Status(domain::Credentials&)>& consume);
  // Checks `code` against `creds` for the second step of a sign-in and returns the change that
  // spends it, or the failure (counted towards the lock-out) when it is wrong.
  Result<LoginResult> VerifySecondFactor(const domain::User& user, const domain::Credentials& creds,
                                         const std::string& code, const std::optional<std::string>& device,
                                         bool bearer, const std::string& address, const std::string& user_agent,
                                         UnixMillis now);
  // The key the TOTP seeds are sealed under: read from config.mfa_key_file, created there at first use.
  Result<std::string> MfaKey();
  // Password re-check for the two-step settings (counted towards the lock-out on failure).
  Status Reauthenticate(const Actor& actor, const domain::Credentials& creds, const std::string& password,
                        const char* action, UnixMillis now);
  // The password and a code (counted towards the lock-out when either is wrong): the change that
  // spends the code, for the write unit that follows.
  Result<std::function<Status(domain::Credentials&)>> ReauthenticateWithCode(
      const Actor& actor, const domain::Credentials& creds, const std::string& password, const std::string& code,
      const char* action, UnixMillis now);

  store::Store& store_;
  const Clock& clock_;
  const Config& config_;
  std::string dummy_hash_;  // verified for unknown users so timing does not reveal them
  std::mutex mutex_;
  // The sessions this process has seen, by id (touched on every WebSocket frame that counts as
  // activity), and their ids by token hash (looked up on every request). Guarded by mutex_.
  std::unordered_map<domain::SessionId, CachedSession> cache_;
  std::unordered_map<std::string, domain::SessionId> ids_by_hash_;
  void Remember(const CachedSession& entry);  // mutex_ held
  void Forget(domain::SessionId id);           // mutex_ held
  template <typename Pred>
  void ForgetIf(Pred pred);  // mutex_ held; pred(const CachedSession&)
  std::vector<std::function<void(domain::SessionId)>> ended_callbacks_;  // guarded by mutex_
  std::unordered_map<std::string, UnknownFailures> unknown_failures_;  // guarded by mutex_; bounded
  SignInGuard guard_;  // per-address throttle and device tokens
  std::mutex key_mutex_;
  std::string mfa_key_;  // guarded by key_mutex_; empty until first loaded
  std::mutex hashing_mutex_;
  std::condition_variable hashing_cv_;
  int hashing_in_flight_ = 0;  // Argon2id calls running; capped to bound memory (64 MiB each)
  friend class HashSlot;
};

// ---- Directory -----------------------------------------------------------------------------------

struct NewUser {
  std::string username;
  std::string display_name;
  std::string email;
  std::string job_role;
  std::vector<domain::DepartmentId> department_ids;
  std::string password;
  bool is_admin = false;
  bool is_compliance = false;
  // From outside the organization (User::is_guest); never with is_admin or is_compliance.
  bool is_guest = false;
  bool fast_hash = false;   // demo seeding only: Argon2id at minimum cost
};

struct UserPatch {
  std::optional<std::string> display_name;
  std::optional<std::string> email;
  std::optional<std::string> job_role;
  std::optional<std::vector<domain::DepartmentId>> department_ids;
  std::optional<bool> is_admin;
  std::optional<bool> is_compliance;
  // Only ever cleared: an account is made a guest when it is created, so that no existing
  // membership outlives the rule that a guest is only where a space's policy allows guests.
  std::optional<bool> is_guest;
  std::optional<bool> disabled;
  // Own profile only: changing the e-mail address needs the password (security target 10).
  std::optional<std::string> current_password;
};

struct ImportReport {
  int imported = 0;
  int skipped_existing = 0;
  std::vector<std::pair<int, std::string>> errors;  // (line number, reason)
};

class DirectoryService {
 public:
  DirectoryService(store::Store& store, AuthService& auth, const Clock& clock);

  Result<domain::User> CreateUser(const Actor& actor, const NewUser& user);
  Result<json> ListUsers(const Actor& actor, const store::UserQuery& query);
  Result<json> GetUser(const Actor& actor, domain::UserId id);
  Result<json> UpdateUser(const Actor& actor, domain::UserId id, const UserPatch& patch);
  Result<json> UpdateProfile(const Actor& actor, const UserPatch& patch);  // display_name, email only
  Status ResetPassword(const Actor& actor, domain::UserId id, const std::string& password);
  // Removes `id`'s two-step sign-in (a lost phone) and ends its sessions; administrators only.
  // The password stays: the account signs in with it alone, or must set up a new authenticator
  // first where the server requires one.
  Status ResetMfa(const Actor& actor, domain::UserId id);
  // Signs `id` out everywhere (a stolen device, a colleague who left a session open) without
  // disabling the account; administrators only. Returns how many sessions ended.
  Result<int> EndSessions(const Actor& actor, domain::UserId id);
  Result<json> ListDepartments(const Actor& actor);
  Result<domain::Department> CreateDepartment(const Actor& actor, const std::string& name,
                                              std::optional<domain::DepartmentId> parent_id);
  // CSV with header username,display_name,email,job_role,department[,password][,is_admin].
  // Departments are created as needed. Bad rows are reported with their line numbers.
  Result<ImportReport> ImportUsersCsv(const Actor& actor, const std::string& csv);

 private:
  store::Store& store_;
  AuthService& auth_;
  const Clock& clock_;
};

// ---- Spaces --------------------------------------------------------------------------------------

struct NewSpace {
  domain::SpaceKind kind = domain::SpaceKind::kCommunity;
  std::string name;
  std::string topic;
  domain::Visibility visibility = domain::Visibility::kPublic;
  domain::JoinPolicy join_policy = domain::JoinPolicy::kOpen;
  std::string template_key;  // empty: "internal-community"; else the latest version of this template
};

struct SpacePatch {
  std::optional<std::string> name;
  std::optional<std::string> topic;
  std::optional<domain::Visibility> visibility;
  std::optional<domain::JoinPolicy> join_policy;
  std::optional<bool> archived;
};

class SpaceService {
 public:
  SpaceService(store::Store& store, bus::Bus& bus, const Clock& clock, PolicyEngine& policy);

  Result<json> Create(const Actor& actor, const NewSpace& space);
  Result<json> Get(const Actor& actor, domain::SpaceId id);
  Result<json> ListMine(const Actor& actor);
  Result<json> Discover(const Actor& actor, const std::string& text, domain::SpaceId after_id, int limit);
  // Every community and channel, private and archived ones too, by name or topic (empty: all), in
  // id order from after `after_id`; with `kind`, the spaces of that kind (kDirect: direct
  // conversations, named by their members). What compliance officers name in legal holds, exports
  // and template assignments without being members; kForbidden "compliance_required" for anyone
  // else. Lists what the spaces are, never their messages.
  Result<json> Directory(const Actor& actor, const std::string& text, std::optional<domain::SpaceKind> kind,
                         domain::SpaceId after_id, int limit);
  Result<json> Update(const Actor& actor, domain::SpaceId id, const SpacePatch& patch);
  Result<json> ListMembers(const Actor& actor, domain::SpaceId id, domain::UserId after_user_id, int limit);
  Result<json> AddMember(const Actor& actor, domain::SpaceId id, domain::UserId user_id, domain::MemberRole role);
  Result<json> SetRole(const Actor& actor, domain::SpaceId id, domain::UserId user_id, domain::MemberRole role);
  Status RemoveMember(const Actor& actor, domain::SpaceId id, domain::UserId user_id);
  Result<json> Join(const Actor& actor, domain::SpaceId id);
  Status Leave(const Actor& actor, domain::SpaceId id);
  // Joining on request, for spaces whose template says "joining": "request": the caller asks (its
  // moderators and owners are told), withdraws, and the moderators list and decide the requests.
  Result<json> RequestToJoin(const Actor& actor, domain::SpaceId id);
  Status WithdrawJoinRequest(const Actor& actor, domain::SpaceId id);
  Result<json> ListJoinRequests(const Actor& actor, domain::SpaceId id);
  // Approved: the person becomes a member (as AddMember would make them); declined: told so.
  Result<json> DecideJoinRequest(const Actor& actor, domain::SpaceId id, domain::UserId user_id, bool approve);
  // The one direct space for exactly the caller and `user_ids` (1 to 8 others), created if needed.
  Result<json> Direct(const Actor& actor, const std::vector<domain::UserId>& user_ids);
  Status MarkRead(const Actor& actor, domain::SpaceId id, domain::Seq seq);

 private:
  store::Store& store_;
  bus::Bus& bus_;
  const Clock& clock_;
  PolicyEngine& policy_;
};

// ---- Messages ------------------------------------------------------------------------------------

struct Draft {
  std::string body;
  std::string title;
  domain::MessageKind kind = domain::MessageKind::kMessage;
  std::optional<domain::MessageId> parent_id;
  std::string client_id;
  std::vector<std::string> poll_options;
  // Under a template whose PHI rule is "warn", the author confirms the findings they were shown.
  bool confirm_phi = false;
  // The author's uploads to this space (MessageService::Upload) that the message carries, at most
  // kMaxAttachments.
  std::vector<domain::AttachmentId> attachment_ids;
};

inline constexpr std::size_t kMaxAttachments = 10;

// A file a member uploads into a space, to attach to a post of theirs.
struct UploadRequest {
  std::string name;           // the file name; PHI-screened like a body
  std::string declared_type;  // the Content-Type the client sent: it must match the content
  std::string content;
  bool confirm_phi = false;   // under a warn rule, the findings in the name were shown and confirmed
};

// A download Download granted: the file's first piece, read with the permission checks, and how
// many there are (store::AttachmentPieces); the rest through DownloadPiece, one at a time.
struct AttachmentDownload {
  domain::Attachment attachment;
  std::string first_piece;  // the whole content when pieces == 1
  std::int64_t pieces = 1;
};

// A space's conversation as a file for its owners and moderators to keep (MessageService::
// ExportSpace): kText a readable transcript, kJson the messages as the API shows them.
enum class SpaceExportFormat { kText, kJson };
std::optional<SpaceExportFormat> ParseSpaceExportFormat(std::string_view text);

struct SpaceExport {
  OpenFile file;             // rewound, ready to send; it has no name on disk
  std::string content_type;
  std::string file_name;     // what the download is called: "<space name>-<date>.txt" or ".json"
  std::size_t messages = 0;
};

struct PostResult {
  std::string text;     // the message as JSON, rendered as every read of it renders it
  bool created = true;  // false: a retry with a known client_id returned the original
  // The message as a JSON document, parsed from `text` (for callers that read its fields; the
  // HTTP layer sends the text as it is).
  json Message() const { return json::parse(text); }
};

struct MessagePage {
  std::optional<domain::Seq> before;
  std::optional<domain::Seq> after;
  std::optional<domain::MessageId> parent_id;
  int limit = 50;
};

class MessageService {
 public:
  MessageService(store::Store& store, bus::Bus& bus, const Clock& clock, const Config& config, PolicyEngine& policy);

  Result<PostResult> Post(const Actor& actor, domain::SpaceId space_id, const Draft& draft);
  // Post for a caller that must not wait for the commit (the server's I/O threads): the same
  // checks, screening, unit and audit, but the calling thread only validates, screens and queues
  // the unit. `done` gets what Post would have returned, exactly once: at once, on the calling
  // thread, for a refusal found before the unit; otherwise through `defer`, which the store's
  // writer calls after the commit and which must hand the work it is given to another thread (an
  // executor's queue) without running it there. The events are published inside that work, before
  // `done`.
  using Defer = std::function<void(std::function<void()>)>;
  void PostAsync(const Actor& actor, domain::SpaceId space_id, const Draft& draft, Defer defer,
                 std::function<void(Result<PostResult>)> done);
  Result<json> Get(const Actor& actor, domain::MessageId id);
  // A page of messages, written straight to text: {"items": [...], "next_cursor": ...}.
  Result<JsonText> List(const Actor& actor, domain::SpaceId space_id, const MessagePage& page);
  // List for a caller that must not wait (the server's I/O threads): the page, if List would serve
  // it kept, the reader may read it and its read needs no audit record; std::nullopt for anything
  // else, refusals and errors included, which List then answers. Never waits for a read
  // connection or the writer.
  std::optional<JsonText> ListKept(const Actor& actor, domain::SpaceId space_id, const MessagePage& page);
  Result<json> Thread(const Actor& actor, domain::MessageId id);
  Result<json> Pins(const Actor& actor, domain::SpaceId space_id);
  // Edits run the same PHI check as posts; under a warn rule `confirm_phi` acknowledges findings.
  Result<json> Edit(const Actor& actor, domain::MessageId id, const std::string& body,
                    std::optional<std::string> title, bool confirm_phi = false);
  Status Delete(const Actor& actor, domain::MessageId id);
  Result<json> History(const Actor& actor, domain::MessageId id);
  // The space's published conversation, oldest first with each thread after its root, with
  // attachments named (not included) and edits marked; held, hidden, removed and deleted messages
  // are left out. For the space's owners and moderators (kForbidden "moderator_required") where
  // its template allows exports (kPolicyDenied "export_not_allowed"); at most
  // config.space_export_max_messages messages (kPolicyDenied "export_too_large"). Refusals and exports are on the audit trail
  // (`space.export`, with the format and count) before anything leaves; a space that does not
  // exist, or that the caller may not read, is kNotFound and not recorded.
  Result<SpaceExport> ExportSpace(const Actor& actor, domain::SpaceId space_id, SpaceExportFormat format);
  Result<json> React(const Actor& actor, domain::MessageId id, const std::string& emoji, bool on);
  Result<json> Vote(const Actor& actor, domain::MessageId id, bool on);
  Result<json> PollVote(const Actor& actor, domain::MessageId id, std::optional<int> option);
  // Marks `answer_id` (a reply to a question) as its question's accepted answer, or clears it.
  Result<json> Accept(const Actor& actor, domain::MessageId answer_id, bool on);
  Result<json> Pin(const Actor& actor, domain::MessageId id, bool on);
  Result<json> Mentions(const Actor& actor, domain::MessageId before_id, int limit);
  // Stores an upload for a post of the caller's in `space_id` (attachment_service.cpp): the
  // space's template decides whether files are allowed, which types (told by their content) and
  // how large, and its PHI rule applies to the file name. Returns AttachmentJson. Audited.
  Result<json> Upload(const Actor& actor, domain::SpaceId space_id, const UploadRequest& upload);
  // An attachment for a reader of the message it belongs to (or its uploader before it is posted);
  // NotFound otherwise. A read in a PHI-bearing space is audited before the bytes leave.
  Result<AttachmentDownload> Download(const Actor& actor, domain::AttachmentId id);
  // Piece `piece` (1 to pieces - 1) of a download Download granted, for the server to send a piece
  // at a time: the reader was allowed the file when it started, so no check is made again.
  // NotFound once the file is gone (deleted, or past retention, mid-download).
  Result<std::string> DownloadPiece(const AttachmentDownload& download, std::int64_t piece);
  // Removes an upload its uploader has not posted (a file taken off a draft). NotFound for anyone
  // else's; kConflict "attachment_posted" once a message carries it (delete the message instead).
  Status RemoveUpload(const Actor& actor, domain::AttachmentId id);
  // The kept pages of List: hits, misses, entries and bytes, for the metrics.
  PageCache::Stats PageCacheStats() const { return pages_.stats(); }
  // Kept pages ListKept answered from a reader's earlier check, without a read transaction.
  std::uint64_t KeptReadsAnswered() const { return kept_reads_.hits(); }

 private:
  struct PostJob;  // message_service.cpp: one post's state between its steps
  // Post's steps: validation and screening on the caller's thread; the write unit; what follows
  // the commit (the events, the answer). A PHI refusal's record is written by Post and PostAsync.
  Result<std::shared_ptr<PostJob>> PreparePost(const Actor& actor, domain::SpaceId space_id, const Draft& draft);
  Result<std::string> RunPostUnit(PostJob& job, store::WriteTx& tx);
  Result<PostResult> FinishPost(PostJob& job, Result<std::string> posted);
  static domain::AuditRecord PostRefusalRecord(const PostJob& job);
  template <class F>
  Result<json> ChangeReaction(const Actor& actor, domain::MessageId id, const char* event_type, F apply);
  // Whether List keeps pages like this one.
  bool Keepable(const MessagePage& page) const;
  // The page kept for `key` at the version `tx` sees (set in `version` when the space's pages may
  // be kept at all), unless the reader has marks of their own on it; null otherwise.
  Result<std::shared_ptr<const PageCache::Page>> FindKept(store::ReadTx& tx, const Actor& actor, const PageCache::Key& key,
                                                          std::optional<store::PageVersion>& version);
  // Keeps a page rendered at `version` if every reader would see the same text.
  void KeepPage(const PageCache::Key& key, const store::PageVersion& version,
                const std::vector<domain::Message>& messages, const std::string& text);
  // In a write unit that returns message `m` of `space` whole: in a PHI-bearing space, its
  // message.read record, committed with the change.
  Status AuditReturnedRead(store::WriteTx& tx, const Actor& actor, const domain::Space& space, const domain::Message& m,
                           UnixMillis now);
  // Records a read of content in a PHI-bearing space (fails closed: no record, no content).
  // Records a read of content before it is answered; through an emergency access grant, with the
  // grant's id and purpose and the reason "break-the-glass". `patients`: whom what was read names
  // (PatientsRead).
  Status AuditRead(const Actor& actor, const char* action, domain::SpaceId space_id, json details,
                   const std::optional<store::EmergencyGrant>& grant = std::nullopt, std::string patients = {});

  store::Store& store_;
  bus::Bus& bus_;
  const Clock& clock_;
  const Config& config_;
  PolicyEngine& policy_;
  ComplianceOfficers officers_{store_};  // told, with a space's moderators, when a post or edit is held
  PageCache pages_;
  KeptReads kept_reads_;
};

// ---- Search and events ---------------------------------------------------------------------------

class SearchService {
 public:
  SearchService(store::Store& store, const Clock& clock, const PolicyEngine& policy);
  // Messages only from spaces the searcher may read (member spaces and public spaces), people and
  // spaces. `offset` pages the message results. Results from PHI-bearing spaces are audited
  // before they leave (fails closed).
  Result<json> Search(const Actor& actor, const std::string& text, int limit, int offset);

 private:
  store::Store& store_;
  const Clock& clock_;
  const PolicyEngine& policy_;
};

struct ReplayedEvent {
  domain::SpaceId space_id = 0;
  domain::Seq seq = 0;
  std::shared_ptr<const std::string> frame;
};

// What one socket was sent live from one space since its last record (transport/ws/live_reads.hpp).
struct LiveRead {
  std::size_t count = 0;                          // events that carried their data
  domain::Seq first_seq = 0, last_seq = 0;        // the lowest and highest of their seqs
  UnixMillis first_at = 0, last_at = 0;           // when the first and the last were sent
  std::string patients;                           // whom they name (domain::JoinPatientRefs)
};

class EventService {
 public:
  EventService(store::Store& store, bus::Bus& bus, const Clock& clock, const PolicyEngine& policy);

  // Every event after each cursor, per space, in order — only for spaces the actor is a member of
  // (others are skipped silently; live events go to members only too). At most `limit_per_space` per space; the client asks again
  // from the last seq if it got that many. Replays of PHI-bearing spaces are audited (one record
  // per space, one write unit per call) before they are returned.
  Result<std::vector<ReplayedEvent>> Replay(const Actor& actor, const std::map<domain::SpaceId, domain::Seq>& cursors,
                                            int limit_per_space = 10'000);
  // Records what a socket was sent live (`reads`, per space) as a replay is recorded: one
  // "message.live" record per space that is PHI-bearing now, naming the patients, with the count,
  // the seq range and the times of the first and last event ("from", "to") in its details; one
  // write unit. Written after the delivery, for the actor the socket was opened by (whether or not
  // their session still stands). Nothing when no space is PHI-bearing or auditing is off. Its
  // details' "state" says whether the socket goes on reading ("continuing") or has closed
  // ("closed", `socket_closed`).
  Status RecordLiveReads(const Actor& actor, const std::map<domain::SpaceId, LiveRead>& reads, bool socket_closed);
  // Before a socket is sent its first event with data from a space: when the space is PHI-bearing,
  // a "message.live" record (state "opened", count 0, the event's seq and `at`, naming `patients`)
  // that the socket reads the space live from here on, durable before the event goes. A server
  // killed before the socket's next RecordLiveReads then still leaves on the trail who was
  // reading what, from when. Nothing for other spaces or with auditing off. Returns whether it
  // wrote the record (false: not PHI-bearing now, or auditing is off).
  Result<bool> OpenLiveRead(const Actor& actor, domain::SpaceId space_id, domain::Seq seq, const std::string& patients,
                            UnixMillis at);
  // Relays "typing" to the space's other members; nothing is stored.
  Status Typing(const Actor& actor, domain::SpaceId space_id);
  // Announces, to everyone connected, who came online and who went offline since the last
  // announcement; `version` orders announcements (the transport batches them, see
  // transport/ws/presence.hpp).
  void Presence(const std::vector<domain::UserId>& online, const std::vector<domain::UserId>& offline,
                std::uint64_t version);

  // The frame sent for a stored space event: built once, shared by every recipient.
  static std::shared_ptr<const std::string> EventFrame(const domain::SpaceEvent& event);
  static std::shared_ptr<const std::string> UserFrame(const std::string& event, const json& data);
  // What members who may not see a restricted event get in its place: its seq, nothing else.
  static std::shared_ptr<const std::string> PlaceholderFrame(domain::SpaceId space_id, domain::Seq seq);

 private:
  store::Store& store_;
  bus::Bus& bus_;
  const Clock& clock_;
  const PolicyEngine& policy_;
};

// ---- Emergency access ("break the glass", HIPAA 164.312(a)(2)(ii), security target A4) -------------

// A request for emergency access to a space the caller cannot read.
struct EmergencyRequest {
  domain::SpaceId space_id = 0;
  std::string reason;    // why: 10 to 1,000 characters
  std::string password;  // re-authentication
  std::string code;      // the second factor, when the account has two-step sign-in on
  int minutes = 60;      // how long: 5 to 60
};

inline constexpr int kEmergencyMinMinutes = 5;
inline constexpr int kEmergencyMaxMinutes = 60;

// A staff member who is not a member of a PHI-bearing community or channel may, in an emergency,
// read it for up to an hour after re-entering their password (and a two-step code) and giving a
// reason. The grant lets its holder read the space's messages, threads, pins and files and do
// nothing else; every such read is audited with the grant's id and purpose (BTG). Opening
// ("emergency.start", failures too), ending ("emergency.stop") and reviewing ("emergency.review")
// are audited; compliance officers are told at once ("emergency.started") and review every grant
// once it is over. Grants end early by their holder, are revoked by a compliance officer, or lapse
// at their expiry: reads stop at that instant, and a background job closes lapsed grants (audited,
// "emergency.ended" to the holder and the officers) within `emergency_sweep_seconds`.
class EmergencyAccessService {
 public:
  EmergencyAccessService(store::Store& store, bus::Bus& bus, const Clock& clock, const Config& config,
                         const PolicyEngine& policy, AuthService& auth);
  ~EmergencyAccessService();
  EmergencyAccessService(const EmergencyAccessService&) = delete;
  EmergencyAccessService& operator=(const EmergencyAccessService&) = delete;

  // The spaces the caller could open this way: PHI-bearing communities and channels they cannot
  // read otherwise and hold no active grant on, by name or topic, in id order. Staff only
  // (kForbidden "staff_required").
  Result<json> EligibleSpaces(const Actor& actor, const std::string& text, int limit);
  // Opens a grant: kInvalidArgument "invalid_value" (/reason, /minutes, /space_id) or
  // "code_required", kForbidden "staff_required" or "invalid_credentials", kUnauthenticated
  // "invalid_code", kRateLimited "account_locked", kNotFound, kConflict "already_readable",
  // "not_applicable" (a direct conversation, or a space that is not PHI-bearing), "grant_active".
  // Patient identifiers in the reason are replaced with [REDACTED:TYPE] before it is stored (the
  // audit trail holds no PHI); the answer then names their types in `reason_redacted`.
  Result<json> Open(const Actor& actor, const EmergencyRequest& request);
  // The caller's grants, or everyone's (`all`: compliance officers only), newest first.
  Result<json> List(const Actor& actor, bool all, store::GrantState state, store::EmergencyGrantId before,
                    int limit);
  // How many grants run now and how many wait for review, for /metrics (no caller: counts only).
  Result<store::GrantCounts> Counts();
  // Ends a grant early: its holder ("ended"), or a compliance officer or the system (the command
  // line; `ended_by` then null) ("revoked"). kNotFound for someone else's (to anyone else),
  // kConflict "grant_ended".
  Result<json> End(const Actor& actor, store::EmergencyGrantId id);
  // A compliance officer's verdict on a grant that is over: "justified" or "unjustified" (which
  // needs a note). kConflict "grant_active", "grant_reviewed". The note is redacted as Open's
  // reason is (`note_redacted`).
  Result<json> Review(const Actor& actor, store::EmergencyGrantId id, const std::string& outcome,
                      const std::string& note);
  // Closes the grants past their expiry ("expired"); returns how many.
  Result<int> CloseLapsed();
  // The background job running CloseLapsed. Start() is idempotent; Stop() joins.
  void Start();
  void Stop();

 private:
  void Loop();

  store::Store& store_;
  bus::Bus& bus_;
  const Clock& clock_;
  const Config& config_;
  const PolicyEngine& policy_;
  AuthService& auth_;

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by thread_mu_
  std::thread worker_;     // guarded by thread_mu_
};

// ---- Everything together -------------------------------------------------------------------------

struct Services {
  Services(store::Store& store, bus::Bus& bus, const Clock& clock, const Config& config);

  const Clock& clock;   // the services' clock, for answers that say how long something has left
  PolicyEngine policy;  // first: the services below consult it
  AuthService auth;
  DirectoryService directory;
  SpaceService spaces;
  MessageService messages;
  SearchService search;
  EventService events;
  GovernanceService governance;
  AuditService audit;
  RetentionService retention;
  EmergencyAccessService emergency;
};

// Seeds a believable hospital (departments, ~50 staff, communities, channels, DMs, a few hundred
// messages of every kind). Idempotent: running it again adds nothing. Returns the sign-in accounts.
Result<std::vector<std::pair<std::string, std::string>>> SeedDemo(Services& services, store::Store& store);

}  // namespace rounds::app
