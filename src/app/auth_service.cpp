#include <algorithm>
#include <filesystem>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "app/key_file.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"

namespace rounds::app {

using namespace rounds::domain;

namespace {
constexpr int kMaxConcurrentHashes = 4;       // Argon2id uses 64 MiB per call
constexpr std::int64_t kPersistEveryMillis = 60'000;  // last_seen written at most once a minute

// The audit record of a sign-in attempt. The caller is not signed in, so it is recorded as
// anonymous from its address; the account is the object (its id only — a name typed at the
// sign-in form that matches no account is never recorded).
AuditRecord SignInAttempt(const std::string& address, UserId user_id, UnixMillis now, AuditOutcome outcome,
                          std::string reason) {
  Actor anonymous;
  anonymous.address = address;
  AuditRecord r = AuditEntry(anonymous, "auth.login", "user", user_id != 0 ? std::to_string(user_id) : "", now);
  r.outcome = outcome;
  r.reason = std::move(reason);
  return r;
}
}  // namespace

// Holds one of the limited Argon2id slots for its lifetime.
class HashSlot {
 public:
  explicit HashSlot(AuthService& auth) : auth_(auth) {
    std::unique_lock lock(auth_.hashing_mutex_);
    auth_.hashing_cv_.wait(lock, [this] { return auth_.hashing_in_flight_ < kMaxConcurrentHashes; });
    ++auth_.hashing_in_flight_;
  }
  ~HashSlot() {
    {
      std::lock_guard lock(auth_.hashing_mutex_);
      --auth_.hashing_in_flight_;
    }
    auth_.hashing_cv_.notify_one();
  }

 private:
  AuthService& auth_;
};

AuthService::AuthService(store::Store& store, const Clock& clock, const Config& config)
    : store_(store), clock_(clock), config_(config), guard_(config) {
  dummy_hash_ = crypto::HashPassword(crypto::RandomToken(16)).value_or("");
}

bool AuthService::Expired(const Session& s, UnixMillis now) const {
  return now >= s.expires_at || now - s.last_seen_at >= config_.idle_timeout_seconds * 1000;
}

Result<std::string> AuthService::HashNewPassword(const std::string& password, const std::string& username) {
  if (auto violation = CheckPassword(password, username)) {
    return InvalidArgument(violation->problem, violation->message, "/password");
  }
  HashSlot slot(*this);
  return crypto::HashPassword(password);
}

namespace {

constexpr std::size_t kMaxUnknownNamesTracked = 10'000;

// 429 with Retry-After until `until`.
Error RateLimited(std::string problem, std::string message, UnixMillis until, UnixMillis now) {
  Error e{ErrorCode::kRateLimited, std::move(problem), std::move(message), {}};
  e.retry_after_seconds = static_cast<int>(std::max<UnixMillis>(1, (until - now + 999) / 1000));
  return e;
}

Error LockedError(UnixMillis locked_until, UnixMillis now) {
  return RateLimited("account_locked",
                     "Too many failed sign-ins. Sign in from a device you have signed in on before, try again later, "
                     "or ask an administrator to reset your password.",
                     locked_until, now);
}

Error ThrottledError(UnixMillis blocked_until, UnixMillis now) {
  return RateLimited("too_many_attempts",
                     "Too many failed sign-ins from this network. Sign in from a device you have signed in on before, "
                     "or try again later.",
                     blocked_until, now);
}

// Deletes every session of `user` but `keep`, in the caller's write unit; returns their ids.
Result<std::vector<SessionId>> DeleteOtherSessions(store::WriteTx& tx, UserId user, SessionId keep) {
  ROUNDS_ASSIGN_OR_RETURN(auto sessions, tx.ListSessionsForUser(user));
  std::vector<SessionId> others;
  for (const auto& s : sessions) {
    if (s.id == keep) continue;
    ROUNDS_RETURN_IF_ERROR(tx.DeleteSession(s.id));
    others.push_back(s.id);
  }
  return others;
}

// Counts a failed password for a known account and returns locked_until (0 when not locked). The
// counter is re-read inside the write unit, so concurrent failures all count; the failure's audit
// record commits with the counter.
Result<UnixMillis> CountPasswordFailure(store::Store& store, const Config& config, UserId user_id, UnixMillis now,
                                        const AuditRecord& audit) {
  return store.Write([&](store::WriteTx& tx) -> Result<UnixMillis> {
    ROUNDS_ASSIGN_OR_RETURN(auto current, tx.FindCredentials(user_id));
    if (!current) return NotFound("User");
    current->failed_attempts += 1;
    bool locks = current->failed_attempts >= config.lockout_threshold;
    if (locks) {
      current->locked_until = now + config.lockout_seconds * 1000;
      current->failed_attempts = 0;
    }
    ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*current));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, audit, json{{"locked_out", locks}}));
    return current->locked_until;
  });
}

}  // namespace

UnixMillis AuthService::UnknownLockedUntil(const std::string& username, UnixMillis now) {
  std::lock_guard lock(mutex_);
  auto it = unknown_failures_.find(username);
  return it != unknown_failures_.end() && it->second.locked_until > now ? it->second.locked_until : 0;
}

UnixMillis AuthService::CountUnknownFailure(const std::string& username, UnixMillis now) {
  std::lock_guard lock(mutex_);
  if (unknown_failures_.size() >= kMaxUnknownNamesTracked && !unknown_failures_.contains(username)) {
    // Forget names whose lock-out is over and that have been quiet for a lock-out period.
    std::erase_if(unknown_failures_, [&](const auto& kv) {
      return kv.second.locked_until <= now && now - kv.second.last_failure > config_.lockout_seconds * 1000;
    });
    if (unknown_failures_.size() >= kMaxUnknownNamesTracked) unknown_failures_.clear();
  }
  UnknownFailures& f = unknown_failures_[username];
  f.last_failure = now;
  if (f.locked_until != 0 && f.locked_until <= now) f.locked_until = 0;
  f.count += 1;
  if (f.count >= config_.lockout_threshold) {
    f.locked_until = now + config_.lockout_seconds * 1000;
    f.count = 0;
  }
  return f.locked_until;
}

Status AuthService::RefuseThrottledAddress(const std::string& address, UserId user_id, UnixMillis now) {
  const UnixMillis blocked_until = guard_.AddressBlockedUntil(address, now);
  if (blocked_until <= now) return Ok();
  log::Warn("login_throttled", {{"address", address}});
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, SignInAttempt(address, user_id, now, AuditOutcome::kDenied, "address_throttled")));
  return tl::unexpected(ThrottledError(blocked_until, now));
}

Status AuthService::RefuseLockedAccount(const Credentials& creds, const std::string& address, UnixMillis now) {
  if (creds.locked_until <= now) return Ok();
  log::Warn("login_locked", {{"user_id", creds.user_id}, {"address", address}});
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, SignInAttempt(address, creds.user_id, now, AuditOutcome::kDenied, "locked")));
  return tl::unexpected(LockedError(creds.locked_until, now));
}

Status AuthService::RefuseDisabled(const User& user, const std::string& address, UnixMillis now) {
  if (!user.disabled) return Ok();
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, SignInAttempt(address, user.id, now, AuditOutcome::kDenied, "disabled")));
  return Fail(ErrorCode::kForbidden, "account_disabled", "This account is disabled.");
}

Status AuthService::CountSignInFailure(UserId user_id, const std::string& address,
                                       const std::optional<std::string>& device, const char* reason, UnixMillis now) {
  const AuditRecord failed = SignInAttempt(address, user_id, now, AuditOutcome::kFailure, reason);
  log::Info("login_failed", {{"reason", reason}, {"user_id", user_id}, {"address", address},
                             {"trusted_device", device.has_value()}});
  if (device) {
    guard_.DeviceFailure(*device, now);
    return AuditNow(store_, failed, json{{"trusted_device", true}});
  }
  guard_.AddressFailure(address, now);
  // The failure must be on record before the caller gets an answer (fail closed).
  ROUNDS_ASSIGN_OR_RETURN(UnixMillis locked_until, CountPasswordFailure(store_, config_, user_id, now, failed));
  if (locked_until > now) return tl::unexpected(LockedError(locked_until, now));
  return Ok();
}

Result<LoginResult> AuthService::Login(const LoginRequest& request) {
  auto invalid = [] {
    return Fail(ErrorCode::kUnauthenticated, "invalid_credentials", "The username or password is not right.");
  };
  std::string username = request.username;
  std::transform(username.begin(), username.end(), username.begin(), [](unsigned char c) { return std::tolower(c); });
  if (username.empty() || request.password.empty() || request.password.size() > kMaxPasswordLength ||
      username.size() > 64) {
    return invalid();
  }
  ROUNDS_ASSIGN_OR_RETURN(auto found, store_.Read([&](store::ReadTx& tx) -> Result<std::pair<std::optional<User>, std::optional<Credentials>>> {
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUserByUsername(username));
    if (!user) return std::make_pair(user, std::optional<Credentials>());
    ROUNDS_ASSIGN_OR_RETURN(auto creds, tx.FindCredentials(user->id));
    return std::make_pair(user, creds);
  }));
  // Named references rather than a structured binding: the write unit below captures `user`.
  std::optional<User>& user = found.first;
  std::optional<Credentials>& creds = found.second;
  UnixMillis now = clock_.NowMillis();
  // A device token of this account (from an earlier sign-in on this device) makes the attempt
  // trusted: neither the address's throttle nor the account's lock-out stops it, so a guesser
  // cannot lock the real user out. Its failures lock that token only.
  std::optional<std::string> device;
  if (user && creds) device = guard_.TrustedDevice(request.device_token, user->id, creds->password_hash, now);
  if (!device) ROUNDS_RETURN_IF_ERROR(RefuseThrottledAddress(request.address, user ? user->id : 0, now));
  if (!user || !creds) {
    // Unknown names get the same answers as accounts: the same error, a hash's worth of time, and
    // a lock-out after the same number of failures — so neither reveals which accounts exist.
    if (UnixMillis locked_until = UnknownLockedUntil(username, now); locked_until > now) {
      ROUNDS_RETURN_IF_ERROR(AuditNow(store_, SignInAttempt(request.address, 0, now, AuditOutcome::kDenied, "locked")));
      return tl::unexpected(LockedError(locked_until, now));
    }
    {
      HashSlot slot(*this);
      (void)crypto::VerifyPassword(request.password, dummy_hash_);
    }
    log::Info("login_failed", {{"reason", "unknown_user"}, {"address", request.address}});
    guard_.AddressFailure(request.address, now);
    UnixMillis locked_until = CountUnknownFailure(username, now);
    ROUNDS_RETURN_IF_ERROR(AuditNow(store_, SignInAttempt(request.address, 0, now, AuditOutcome::kFailure, "unknown_user"),
                                    json{{"locked_out", locked_until > now}}));
    if (locked_until > now) return tl::unexpected(LockedError(locked_until, now));
    return invalid();
  }
  if (!device) ROUNDS_RETURN_IF_ERROR(RefuseLockedAccount(*creds, request.address, now));
  bool verified;
  {
    HashSlot slot(*this);
    verified = crypto::VerifyPassword(request.password, creds->password_hash);
  }
  if (!verified) {
    ROUNDS_RETURN_IF_ERROR(CountSignInFailure(user->id, request.address, device, "wrong_password", now));
    return invalid();
  }
  ROUNDS_RETURN_IF_ERROR(RefuseDisabled(*user, request.address, now));
  if (creds->mfa_enabled()) {
    if (request.code.empty()) {
      // The password was right; the session waits for the second factor.
      AuditRecord challenged = SignInAttempt(request.address, user->id, now, AuditOutcome::kSuccess, "");
      challenged.action = "auth.login.password";
      ROUNDS_RETURN_IF_ERROR(AuditNow(store_, challenged, json{{"second_factor", "required"}}));
      LoginResult result;
      result.user = *user;
      result.mfa_required = true;
      result.mfa_token = SignInGuard::IssueMfaToken(user->id, creds->password_hash, now);
      return result;
    }
    return VerifySecondFactor(*user, *creds, request.code, device, request.bearer, request.address,
                              request.user_agent, now);
  }
  return OpenSession(*user, *creds, request.bearer, request.address, request.user_agent, now, false, nullptr);
}

Result<LoginResult> AuthService::OpenSession(const User& user, const Credentials& creds, bool bearer,
                                             const std::string& address, const std::string& user_agent,
                                             UnixMillis now, bool second_factor,
                                             const std::function<Status(Credentials&)>& consume) {
  LoginResult result;
  result.token = crypto::RandomToken(32);
  result.user = user;
  Session& s = result.session;
  s.user_id = user.id;
  s.token_hash = crypto::Sha256Hex(result.token);
  s.csrf_token = crypto::RandomToken(24);
  s.is_bearer = bearer;
  s.created_at = now;
  s.last_seen_at = now;
  s.expires_at = now + config_.absolute_timeout_seconds * 1000;
  s.user_agent = user_agent.substr(0, 256);
  s.address = address;
  s.second_factor = second_factor;
  std::string password_hash = creds.password_hash;
  ROUNDS_ASSIGN_OR_RETURN(s.id, store_.Write([&](store::WriteTx& tx) -> Result<SessionId> {
    ROUNDS_ASSIGN_OR_RETURN(auto current, tx.FindCredentials(user.id));
    if (!current) return NotFound("User");
    bool changed = false;
    if (consume) {
      ROUNDS_RETURN_IF_ERROR(consume(*current));
      changed = true;
    }
    // A lock-out still running stays: this sign-in was trusted by its device, and the guesser
    // who caused the lock-out is still locked out.
    if (current->locked_until <= now && (current->failed_attempts != 0 || current->locked_until != 0)) {
      current->failed_attempts = 0;
      current->locked_until = 0;
      changed = true;
    }
    if (changed) ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*current));
    password_hash = current->password_hash;
    ROUNDS_ASSIGN_OR_RETURN(SessionId id, tx.InsertSession(s));
    Actor signed_in;
    signed_in.user = user;
    signed_in.session_id = id;
    signed_in.address = address;
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(signed_in, "auth.login", "user", std::to_string(user.id), now),
                                       json{{"bearer", s.is_bearer}, {"second_factor", second_factor}}));
    return id;
  }));
  result.device_token = SignInGuard::IssueDeviceToken(user.id, password_hash, now);
  {
    std::lock_guard lock(mutex_);
    Remember(CachedSession{s, user, now});
  }
  log::Info("login", {{"user_id", user.id}, {"session_id", s.id}, {"bearer", s.is_bearer}, {"address", address},
                      {"second_factor", second_factor}});
  return result;
}

Result<Actor> AuthService::Authenticate(const std::string& token, const std::string& address) {
  auto invalid = [] { return Fail(ErrorCode::kUnauthenticated, "invalid_session", "Please sign in."); };
  if (token.empty() || token.size() > 128) return invalid();
  std::string hash = crypto::Sha256Hex(token);
  UnixMillis now = clock_.NowMillis();
  std::optional<CachedSession> entry;
  {
    std::lock_guard lock(mutex_);
    auto id = ids_by_hash_.find(hash);
    if (id != ids_by_hash_.end()) entry = cache_.at(id->second);
  }
  if (!entry) {
    ROUNDS_ASSIGN_OR_RETURN(auto loaded, store_.Read([&](store::ReadTx& tx) -> Result<std::optional<CachedSession>> {
      ROUNDS_ASSIGN_OR_RETURN(auto session, tx.FindSessionByTokenHash(hash));
      if (!session) return std::optional<CachedSession>();
      ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(session->user_id));
      if (!user) return std::optional<CachedSession>();
      return std::optional<CachedSession>(CachedSession{*session, *user, session->last_seen_at});
    }));
    if (!loaded) return invalid();
    entry = loaded;
  }
  if (Expired(entry->session, now) || entry->user.disabled) {
    SessionId id = entry->session.id;
    (void)store_.Write([&](store::WriteTx& tx) { return tx.DeleteSession(id); });
    {
      std::lock_guard lock(mutex_);
      Forget(id);
    }
    Ended({id});
    return Fail(ErrorCode::kUnauthenticated, "session_expired", "Your session has ended. Please sign in again.");
  }
  entry->session.last_seen_at = now;
  bool persist = now - entry->persisted_last_seen >= kPersistEveryMillis;
  if (persist) entry->persisted_last_seen = now;
  {
    std::lock_guard lock(mutex_);
    Remember(*entry);
  }
  if (persist) {
    SessionId id = entry->session.id;
    (void)store_.Write([&](store::WriteTx& tx) { return tx.TouchSession(id, now); });
  }
  return ActorOf(*entry, address, now);
}

std::optional<Actor> AuthService::AuthenticateKept(const std::string& token, const std::string& address) {
  if (token.empty() || token.size() > 128) return std::nullopt;
  std::string hash = crypto::Sha256Hex(token);
  UnixMillis now = clock_.NowMillis();
  std::lock_guard lock(mutex_);
  auto id = ids_by_hash_.find(hash);
  if (id == ids_by_hash_.end()) return std::nullopt;
  CachedSession& entry = cache_.at(id->second);
  // Ending a session and writing its activity are Authenticate's: they wait for the writer.
  if (Expired(entry.session, now) || entry.user.disabled) return std::nullopt;
  if (now - entry.persisted_last_seen >= kPersistEveryMillis) return std::nullopt;
  entry.session.last_seen_at = now;
  return ActorOf(entry, address, now);
}

Actor AuthService::ActorOf(const CachedSession& entry, const std::string& address, UnixMillis now) const {
  Actor actor;
  actor.user = entry.user;
  actor.session_id = entry.session.id;
  actor.csrf_token = entry.session.csrf_token;
  actor.session_expires_at = entry.session.expires_at;
  actor.is_bearer = entry.session.is_bearer;
  actor.address = address;
  actor.mfa_enrollment_required = !entry.session.second_factor && MfaRequiredFor(entry.user);
  if (entry.user.is_admin && now < entry.session.admin_elevated_until) {
    actor.admin_elevated = true;
    actor.admin_elevated_until = entry.session.admin_elevated_until;
  }
  return actor;
}

void AuthService::Remember(const CachedSession& entry) {
  ids_by_hash_[entry.session.token_hash] = entry.session.id;
  cache_.insert_or_assign(entry.session.id, entry);
}

void AuthService::Forget(SessionId id) {
  auto it = cache_.find(id);
  if (it == cache_.end()) return;
  ids_by_hash_.erase(it->second.session.token_hash);
  cache_.erase(it);
}

template <typename Pred>
void AuthService::ForgetIf(Pred pred) {
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (pred(it->second)) {
      ids_by_hash_.erase(it->second.session.token_hash);
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
}

void AuthService::Touch(SessionId session_id) {
  UnixMillis now = clock_.NowMillis();
  std::lock_guard lock(mutex_);
  auto it = cache_.find(session_id);
  if (it != cache_.end() && !Expired(it->second.session, now)) it->second.session.last_seen_at = now;
}

Status AuthService::Logout(const Actor& actor) {
  SessionId id = actor.session_id;
  UnixMillis now = clock_.NowMillis();
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.DeleteSession(id));
    return AppendAudit(tx, AuditEntry(actor, "auth.logout", "user", std::to_string(actor.user.id), now));
  }));
  {
    std::lock_guard lock(mutex_);
    Forget(id);
  }
  log::Info("logout", {{"user_id", actor.user.id}, {"session_id", id}});
  Ended({id});
  return Ok();
}

Status AuthService::ChangePassword(const Actor& actor, const std::string& current, const std::string& replacement) {
  ROUNDS_ASSIGN_OR_RETURN(auto creds, store_.Read([&](store::ReadTx& tx) -> Result<std::optional<Credentials>> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    return tx.FindCredentials(actor.user.id);
  }));
  if (!creds) return NotFound("User");
  UnixMillis now = clock_.NowMillis();
  auto audit = [&](AuditOutcome outcome, std::string reason) {
    AuditRecord r = AuditEntry(actor, "auth.password_change", "user", std::to_string(actor.user.id), now);
    r.outcome = outcome;
    r.reason = std::move(reason);
    return r;
  };
  if (creds->locked_until > now) {
    ROUNDS_RETURN_IF_ERROR(AuditNow(store_, audit(AuditOutcome::kDenied, "locked")));
    return tl::unexpected(LockedError(creds->locked_until, now));
  }
  bool verified;
  {
    HashSlot slot(*this);
    verified = crypto::VerifyPassword(current, creds->password_hash);
  }
  if (!verified) {
    // Someone holding a session must not get unlimited guesses at the password behind it.
    ROUNDS_ASSIGN_OR_RETURN(UnixMillis locked_until,
                            CountPasswordFailure(store_, config_, actor.user.id, now, audit(AuditOutcome::kFailure, "wrong_password")));
    if (locked_until > now) return tl::unexpected(LockedError(locked_until, now));
    return Fail(ErrorCode::kForbidden, "invalid_credentials", "The current password is not right.");
  }
  auto hashed = HashNewPassword(replacement, actor.user.username);
  if (!hashed) {
    // The policy's problem code (a fixed code, never the password) says why.
    ROUNDS_RETURN_IF_ERROR(AuditNow(store_, audit(AuditOutcome::kFailure, hashed.error().problem)));
    return tl::unexpected(hashed.error());
  }
  const std::string& hash = *hashed;
  SessionId keep = actor.session_id;
  ROUNDS_ASSIGN_OR_RETURN(auto ended, store_.Write([&](store::WriteTx& tx) -> Result<std::vector<SessionId>> {
    ROUNDS_ASSIGN_OR_RETURN(auto c, tx.FindCredentials(actor.user.id));
    if (!c) return NotFound("User");
    c->password_hash = hash;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*c));
    ROUNDS_ASSIGN_OR_RETURN(auto others, DeleteOtherSessions(tx, actor.user.id, keep));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, audit(AuditOutcome::kSuccess, ""),
                                       json{{"sessions_ended", others.size()}}));
    return others;
  }));
  {
    std::lock_guard lock(mutex_);
    ForgetIf([&](const CachedSession& c) { return c.session.user_id == actor.user.id && c.session.id != keep; });
  }
  log::Info("password_changed", {{"user_id", actor.user.id}, {"sessions_ended", ended.size()}});
  Ended(ended);
  return Ok();
}

Result<int> AuthService::EndSessionsForUser(UserId user_id, std::optional<AuditRecord> audit) {
  ROUNDS_ASSIGN_OR_RETURN(auto ids, store_.Write([&](store::WriteTx& tx) -> Result<std::vector<SessionId>> {
    ROUNDS_ASSIGN_OR_RETURN(auto ended, tx.DeleteSessionsForUser(user_id));
    if (audit) ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, *audit, json{{"sessions_ended", ended.size()}}));
    return ended;
  }));
  {
    std::lock_guard lock(mutex_);
    ForgetIf([user_id](const CachedSession& c) { return c.session.user_id == user_id; });
  }
  Ended(ids);
  return static_cast<int>(ids.size());
}

void AuthService::ExpireSessions() {
  UnixMillis now = clock_.NowMillis();
  std::vector<SessionId> expired;
  {
    std::lock_guard lock(mutex_);
    ForgetIf([&](const CachedSession& c) {
      if (!Expired(c.session, now)) return false;
      expired.push_back(c.session.id);
      return true;
    });
  }
  if (!expired.empty()) {
    (void)store_.Write([&](store::WriteTx& tx) -> Status {
      for (SessionId id : expired) ROUNDS_RETURN_IF_ERROR(tx.DeleteSession(id));
      return Ok();
    });
  }
  // Sessions never loaded into this process's cache expire in the database too.
  (void)store_.Write([&](store::WriteTx& tx) { return tx.DeleteExpiredSessions(now, config_.idle_timeout_seconds * 1000); });
  Ended(expired);
}

void AuthService::UserChanged(const User& user) {
  std::lock_guard lock(mutex_);
  for (auto& [id, entry] : cache_) {
    if (entry.session.user_id == user.id) entry.user = user;
  }
}

void AuthService::OnSessionEnded(std::function<void(SessionId)> callback) {
  std::lock_guard lock(mutex_);
  ended_callbacks_.push_back(std::move(callback));
}

void AuthService::Ended(const std::vector<SessionId>& ids) {
  if (ids.empty()) return;
  std::vector<std::function<void(SessionId)>> callbacks;
  {
    std::lock_guard lock(mutex_);
    callbacks = ended_callbacks_;
  }
  for (SessionId id : ids) {
    for (auto& cb : callbacks) cb(id);
  }
}

}  // namespace rounds::app

// ---- Two-step sign-in ----------------------------------------------------------------------------

namespace rounds::app {

namespace {

constexpr std::int64_t kTotpStepMillis = 30'000;
constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
constexpr int kRecoveryCodes = 10;

Error InvalidCode() {
  return Error{ErrorCode::kUnauthenticated, "invalid_code",
               "The code is not right, or it was used already. Enter the newest code from your authenticator app, "
               "or one of your recovery codes.",
               {}};
}

// The code as typed, without spaces and dashes, in lower case: "123 456" and "ABCDE-12345" work.
std::string NormalizeCode(std::string_view code) {
  std::string out;
  for (char c : code.substr(0, 64)) {
    if (c == ' ' || c == '-') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsTotpCode(const std::string& code) {
  return code.size() == 6 && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string RecoveryHash(const std::string& normalized) { return crypto::Sha256Hex("rounds-recovery-code|" + normalized); }

// Ten codes of ten characters from an alphabet without look-alikes (no 0/o, 1/l/i), about 49
// bits each, written "xxxxx-xxxxx". Returns the codes and their hashes.
std::pair<std::vector<std::string>, std::vector<std::string>> MakeRecoveryCodes() {
  static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  std::vector<std::string> codes, hashes;
  while (codes.size() < kRecoveryCodes) {
    std::string code;
    while (code.size() < 11) {
      if (code.size() == 5) code += '-';
      // Rejection sampling: 248 is the largest multiple of 31 that fits a byte.
      const auto byte = static_cast<unsigned char>(crypto::RandomBytes(1)[0]);
      if (byte < 248) code += kAlphabet[byte % kAlphabet.size()];
    }
    codes.push_back(code);
    hashes.push_back(RecoveryHash(NormalizeCode(code)));
  }
  return {codes, hashes};
}

// The time step whose code `code` is, within one step of now and newer than `last_step`.
std::optional<std::int64_t> MatchTotp(const std::string& secret, const std::string& code, UnixMillis now,
                                      std::int64_t last_step) {
  if (!IsTotpCode(code)) return std::nullopt;
  const std::int64_t current = now / kTotpStepMillis;
  for (std::int64_t step = current - 1; step <= current + 1; ++step) {
    if (step > last_step && crypto::ConstantTimeEquals(crypto::TotpCode(secret, step), code)) return step;
  }
  return std::nullopt;
}

// The change to credentials that spends `code` (a TOTP code or a recovery code), or std::nullopt
// when it is not one of this account's. The change checks again on the credentials it is given,
// read inside the write unit, so two sign-ins racing with one code cannot both spend it.
std::optional<std::function<Status(Credentials&)>> SpendCode(const std::string& secret, const Credentials& creds,
                                                             const std::string& typed, UnixMillis now) {
  const std::string code = NormalizeCode(typed);
  if (auto step = MatchTotp(secret, code, now, creds.totp_last_step)) {
    return [step = *step](Credentials& c) -> Status {
      if (c.totp_last_step >= step) return tl::unexpected(InvalidCode());
      c.totp_last_step = step;
      return Ok();
    };
  }
  if (code.size() != 10) return std::nullopt;
  const std::string hash = RecoveryHash(code);
  if (std::find(creds.recovery_codes.begin(), creds.recovery_codes.end(), hash) == creds.recovery_codes.end()) {
    return std::nullopt;
  }
  return [hash](Credentials& c) -> Status {
    auto it = std::find(c.recovery_codes.begin(), c.recovery_codes.end(), hash);
    if (it == c.recovery_codes.end()) return tl::unexpected(InvalidCode());
    c.recovery_codes.erase(it);
    return Ok();
  };
}

}  // namespace

bool AuthService::MfaRequiredFor(const User& user) const {
  const std::string& rule = config_.mfa_required;
  if (rule == "all") return true;
  if (rule == "staff") return user.kind == AccountKind::kStaff;
  if (rule == "privileged") return user.is_admin || user.is_compliance;
  return false;
}

Result<std::string> AuthService::MfaKey() {
  std::lock_guard lock(key_mutex_);
  if (!mfa_key_.empty()) return mfa_key_;
  const std::filesystem::path path =
      config_.mfa_key_file.empty() ? std::filesystem::path(config_.data_dir) / "keys" / "mfa.key"
                                    : std::filesystem::path(config_.mfa_key_file);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    // Another process may have made it meanwhile: then its key is read below.
    if (WriteNewFile(path.string(), crypto::ToHex(crypto::RandomBytes(crypto::kSecretKeyBytes)) + "\n", 0600,
                     "mfa_key", "the two-step sign-in key")) {
      log::Info("mfa_key_created", {{"path", path.string()}});
    }
  }
  auto text = ReadTrimmed(path.string());
  std::optional<std::string> key = text ? crypto::FromHex(*text) : std::nullopt;
  if (!key || key->size() != crypto::kSecretKeyBytes) {
    return Fail(ErrorCode::kInternal, "mfa_key", "Two-step sign-in is not available: its key cannot be used.",
                path.string() + ": missing, unreadable or not 64 hex digits");
  }
  mfa_key_ = *key;
  return mfa_key_;
}

Result<LoginResult> AuthService::VerifySecondFactor(const User& user, const Credentials& creds, const std::string& code,
                                                    const std::optional<std::string>& device, bool bearer,
                                                    const std::string& address, const std::string& user_agent,
                                                    UnixMillis now) {
  ROUNDS_ASSIGN_OR_RETURN(std::string key, MfaKey());
  std::optional<std::string> secret = crypto::OpenSecret(key, creds.totp_secret);
  if (!secret) {
    log::Error("mfa_secret_unreadable", {{"user_id", user.id}});
    return Fail(ErrorCode::kInternal, "mfa_key",
                "Two-step sign-in cannot be checked for this account. Ask an administrator to reset it.",
                "the sealed TOTP seed does not open under the current key");
  }
  if (auto spend = SpendCode(*secret, creds, code, now)) {
    return OpenSession(user, creds, bearer, address, user_agent, now, true, *spend);
  }
  ROUNDS_RETURN_IF_ERROR(CountSignInFailure(user.id, address, device, "wrong_code", now));
  return tl::unexpected(InvalidCode());
}

Result<LoginResult> AuthService::CompleteMfa(const MfaLoginRequest& request) {
  auto expired = [] {
    return Fail(ErrorCode::kUnauthenticated, "invalid_mfa_token",
                "This sign-in has expired. Please enter your password again.");
  };
  const std::optional<UserId> user_id = SignInGuard::MfaTokenUser(request.mfa_token);
  if (!user_id) return expired();
  ROUNDS_ASSIGN_OR_RETURN(auto found, store_.Read([&](store::ReadTx& tx) -> Result<std::pair<std::optional<User>, std::optional<Credentials>>> {
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(*user_id));
    ROUNDS_ASSIGN_OR_RETURN(auto creds, tx.FindCredentials(*user_id));
    return std::make_pair(user, creds);
  }));
  const UnixMillis now = clock_.NowMillis();
  const std::optional<User>& user = found.first;
  const std::optional<Credentials>& creds = found.second;
  // A token made under an older password (it changed meanwhile) or for an account whose two-step
  // sign-in was turned off since is as good as expired: the password step decides again.
  if (!user || !creds || !creds->mfa_enabled() ||
      !SignInGuard::ValidMfaToken(request.mfa_token, *user_id, creds->password_hash, now)) {
    return expired();
  }
  std::optional<std::string> device = guard_.TrustedDevice(request.device_token, user->id, creds->password_hash, now);
  if (!device) {
    ROUNDS_RETURN_IF_ERROR(RefuseThrottledAddress(request.address, user->id, now));
    ROUNDS_RETURN_IF_ERROR(RefuseLockedAccount(*creds, request.address, now));
  }
  ROUNDS_RETURN_IF_ERROR(RefuseDisabled(*user, request.address, now));
  return VerifySecondFactor(*user, *creds, request.code, device, request.bearer, request.address, request.user_agent,
                            now);
}

Status AuthService::Reauthenticate(const Actor& actor, const Credentials& creds, const std::string& password,
                                   const char* action, UnixMillis now) {
  if (creds.locked_until > now) return tl::unexpected(LockedError(creds.locked_until, now));
  bool verified;
  {
    HashSlot slot(*this);
    verified = !password.empty() && password.size() <= kMaxPasswordLength &&
               crypto::VerifyPassword(password, creds.password_hash);
  }
  if (verified) return Ok();
  AuditRecord failed = AuditEntry(actor, action, "user", std::to_string(actor.user.id), now);
  failed.outcome = AuditOutcome::kFailure;
  failed.reason = "wrong_password";
  ROUNDS_ASSIGN_OR_RETURN(UnixMillis locked_until, CountPasswordFailure(store_, config_, actor.user.id, now, failed));
  if (locked_until > now) return tl::unexpected(LockedError(locked_until, now));
  return Fail(ErrorCode::kForbidden, "invalid_credentials", "The password is not right.");
}

Result<std::function<Status(Credentials&)>> AuthService::ReauthenticateWithCode(
    const Actor& actor, const Credentials& creds, const std::string& password, const std::string& code,
    const char* action, UnixMillis now) {
  ROUNDS_RETURN_IF_ERROR(Reauthenticate(actor, creds, password, action, now));
  ROUNDS_ASSIGN_OR_RETURN(std::string key, MfaKey());
  std::optional<std::string> secret = crypto::OpenSecret(key, creds.totp_secret);
  std::optional<std::function<Status(Credentials&)>> spend;
  if (secret) spend = SpendCode(*secret, creds, code, now);
  if (spend) return *spend;
  AuditRecord failed = AuditEntry(actor, action, "user", std::to_string(actor.user.id), now);
  failed.outcome = AuditOutcome::kFailure;
  failed.reason = "wrong_code";
  ROUNDS_ASSIGN_OR_RETURN(UnixMillis locked_until, CountPasswordFailure(store_, config_, actor.user.id, now, failed));
  if (locked_until > now) return tl::unexpected(LockedError(locked_until, now));
  return tl::unexpected(InvalidCode());
}

namespace {
Result<Credentials> CurrentCredentials(store::Store& store, const Actor& actor) {
  ROUNDS_ASSIGN_OR_RETURN(auto creds, store.Read([&](store::ReadTx& tx) -> Result<std::optional<Credentials>> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    return tx.FindCredentials(actor.user.id);
  }));
  if (!creds) return NotFound("User");
  return *creds;
}
}  // namespace

Status AuthService::ConfirmPassword(const Actor& actor, const std::string& password, const char* action) {
  if (actor.is_system) return Forbidden();
  ROUNDS_ASSIGN_OR_RETURN(Credentials creds, CurrentCredentials(store_, actor));
  return Reauthenticate(actor, creds, password, action, clock_.NowMillis());
}

Status AuthService::StepUp(const Actor& actor, const std::string& password, const std::string& code,
                           const char* action) {
  if (actor.is_system) return Forbidden();
  ROUNDS_ASSIGN_OR_RETURN(Credentials creds, CurrentCredentials(store_, actor));
  const UnixMillis now = clock_.NowMillis();
  if (!creds.mfa_enabled()) return Reauthenticate(actor, creds, password, action, now);
  if (code.empty()) {
    ROUNDS_RETURN_IF_ERROR(Reauthenticate(actor, creds, password, action, now));
    return InvalidArgument("code_required", "Enter the code from your authenticator app as well.", "/code");
  }
  ROUNDS_ASSIGN_OR_RETURN(auto spend, ReauthenticateWithCode(actor, creds, password, code, action, now));
  return store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto c, tx.FindCredentials(actor.user.id));
    if (!c) return NotFound("User");
    ROUNDS_RETURN_IF_ERROR(spend(*c));
    return tx.UpdateCredentials(*c);
  });
}

Result<UnixMillis> AuthService::Elevate(const Actor& actor, const std::string& password, const std::string& code) {
  if (actor.is_system) return Forbidden();
  const UnixMillis asked = clock_.NowMillis();
  ROUNDS_ASSIGN_OR_RETURN(Actor current, store_.Read([&](store::ReadTx& tx) { return internal::Current(tx, actor); }));
  if (!current.user.is_admin) {
    AuditRecord denied = AuditEntry(current, "auth.elevate", "session", std::to_string(actor.session_id), asked);
    denied.outcome = AuditOutcome::kDenied;
    denied.reason = "admin_required";
    ROUNDS_RETURN_IF_ERROR(AuditNow(store_, std::move(denied)));
    return Forbidden("admin_required", "Only administrators can take up administration.");
  }
  ROUNDS_RETURN_IF_ERROR(StepUp(current, password, code, "auth.elevate"));
  const UnixMillis now = clock_.NowMillis();
  const UnixMillis until = std::min(now + std::max<std::int64_t>(config_.admin_elevation_seconds, 1) * 1000,
                                    actor.session_expires_at);
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.SetSessionAdminElevation(actor.session_id, until));
    current.admin_elevated = true;  // the record's role: the act makes its author an administrator
    return AppendAudit(tx, AuditEntry(current, "auth.elevate", "session", std::to_string(actor.session_id), now),
                       json{{"until", until}});
  }));
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(actor.session_id); it != cache_.end()) it->second.session.admin_elevated_until = until;
  }
  log::Info("admin_elevated", {{"user_id", actor.user.id}, {"session_id", actor.session_id}, {"until", until}});
  return until;
}

Status AuthService::EndElevation(const Actor& actor) {
  if (actor.is_system) return Forbidden();
  const UnixMillis now = clock_.NowMillis();
  bool ended = false;
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto sessions, tx.ListSessionsForUser(actor.user.id));
    auto it = std::find_if(sessions.begin(), sessions.end(), [&](const Session& s) { return s.id == actor.session_id; });
    if (it == sessions.end()) return NotFound("Session");
    if (it->admin_elevated_until <= now) return Ok();
    ROUNDS_RETURN_IF_ERROR(tx.SetSessionAdminElevation(actor.session_id, 0));
    ended = true;
    return AppendAudit(tx, AuditEntry(actor, "auth.elevation_end", "session", std::to_string(actor.session_id), now));
  }));
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(actor.session_id); it != cache_.end()) it->second.session.admin_elevated_until = 0;
  }
  if (ended) log::Info("admin_elevation_ended", {{"user_id", actor.user.id}, {"session_id", actor.session_id}});
  return Ok();
}

Result<json> AuthService::ListOwnSessions(const Actor& actor) {
  if (actor.is_system) return Forbidden();
  ROUNDS_ASSIGN_OR_RETURN(auto sessions, store_.Read([&](store::ReadTx& tx) -> Result<std::vector<Session>> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    return tx.ListSessionsForUser(actor.user.id);
  }));
  const UnixMillis now = clock_.NowMillis();
  std::sort(sessions.begin(), sessions.end(), [](const Session& a, const Session& b) { return a.id > b.id; });
  json items = json::array();
  std::lock_guard lock(mutex_);
  for (Session& s : sessions) {
    // Activity is written lazily (once a minute): what this process has seen is newer.
    if (auto it = cache_.find(s.id); it != cache_.end()) s.last_seen_at = std::max(s.last_seen_at, it->second.session.last_seen_at);
    if (Expired(s, now)) continue;
    items.push_back({{"id", s.id},
                     {"current", s.id == actor.session_id},
                     {"bearer", s.is_bearer},
                     {"second_factor", s.second_factor},
                     {"admin_elevated_until", s.admin_elevated_until > now ? s.admin_elevated_until : 0},
                     {"created_at", s.created_at},
                     {"last_seen_at", s.last_seen_at},
                     {"expires_at", s.expires_at},
                     {"user_agent", s.user_agent},
                     {"address", s.address}});
  }
  return json{{"items", items}};
}

Status AuthService::EndOwnSession(const Actor& actor, SessionId id) {
  if (actor.is_system) return Forbidden();
  const UnixMillis now = clock_.NowMillis();
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto sessions, tx.ListSessionsForUser(actor.user.id));
    // Another account's session id answers as one that does not exist.
    if (std::none_of(sessions.begin(), sessions.end(), [&](const Session& s) { return s.id == id; })) {
      return NotFound("Session");
    }
    ROUNDS_RETURN_IF_ERROR(tx.DeleteSession(id));
    return AppendAudit(tx, AuditEntry(actor, "auth.session_end", "session", std::to_string(id), now));
  }));
  {
    std::lock_guard lock(mutex_);
    Forget(id);
  }
  log::Info("session_ended_by_owner", {{"user_id", actor.user.id}, {"session_id", id}});
  Ended({id});
  return Ok();
}

Result<int> AuthService::EndOtherOwnSessions(const Actor& actor) {
  if (actor.is_system) return Forbidden();
  const UnixMillis now = clock_.NowMillis();
  const SessionId keep = actor.session_id;
  ROUNDS_ASSIGN_OR_RETURN(auto ended, store_.Write([&](store::WriteTx& tx) -> Result<std::vector<SessionId>> {
    ROUNDS_ASSIGN_OR_RETURN(auto others, DeleteOtherSessions(tx, actor.user.id, keep));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "auth.sessions_end_others", "user",
                                                      std::to_string(actor.user.id), now),
                                       json{{"sessions_ended", others.size()}}));
    return others;
  }));
  {
    std::lock_guard lock(mutex_);
    ForgetIf([&](const CachedSession& c) { return c.session.user_id == actor.user.id && c.session.id != keep; });
  }
  log::Info("other_sessions_ended", {{"user_id", actor.user.id}, {"sessions_ended", ended.size()}});
  Ended(ended);
  return static_cast<int>(ended.size());
}

Result<MfaStatus> AuthService::GetMfaStatus(const Actor& actor) {
  MfaStatus status;
  status.required = MfaRequiredFor(actor.user);
  if (actor.is_system) return status;
  ROUNDS_ASSIGN_OR_RETURN(Credentials creds, CurrentCredentials(store_, actor));
  status.enabled = creds.mfa_enabled();
  status.recovery_codes_left = status.enabled ? static_cast<int>(creds.recovery_codes.size()) : 0;
  return status;
}

Result<TotpSetup> AuthService::BeginTotp(const Actor& actor, const std::string& password) {
  if (actor.is_system) return Forbidden();
  ROUNDS_ASSIGN_OR_RETURN(Credentials creds, CurrentCredentials(store_, actor));
  if (creds.mfa_enabled()) {
    return Fail(ErrorCode::kConflict, "mfa_already_enabled", "Two-step sign-in is already on for this account.");
  }
  const UnixMillis now = clock_.NowMillis();
  ROUNDS_RETURN_IF_ERROR(Reauthenticate(actor, creds, password, "auth.mfa_setup", now));
  ROUNDS_ASSIGN_OR_RETURN(std::string key, MfaKey());
  const std::string secret = crypto::RandomBytes(kTotpSecretBytes);
  const std::string sealed = crypto::SealSecret(key, secret);
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto c, tx.FindCredentials(actor.user.id));
    if (!c) return NotFound("User");
    c->totp_pending = sealed;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*c));
    return AppendAudit(tx, AuditEntry(actor, "auth.mfa_setup", "user", std::to_string(actor.user.id), now));
  }));
  TotpSetup setup;
  setup.secret = crypto::Base32Encode(secret);
  // Key URI format (the one authenticator apps read from QR codes): usernames are [a-z0-9._-],
  // nothing in it needs escaping.
  setup.otpauth_uri = "otpauth://totp/Rounds:" + actor.user.username + "?secret=" + setup.secret +
                      "&issuer=Rounds&algorithm=SHA1&digits=6&period=30";
  return setup;
}

Result<std::vector<std::string>> AuthService::ConfirmTotp(const Actor& actor, const std::string& code) {
  if (actor.is_system) return Forbidden();
  ROUNDS_ASSIGN_OR_RETURN(Credentials creds, CurrentCredentials(store_, actor));
  if (creds.mfa_enabled()) {
    return Fail(ErrorCode::kConflict, "mfa_already_enabled", "Two-step sign-in is already on for this account.");
  }
  if (creds.totp_pending.empty()) {
    return Fail(ErrorCode::kConflict, "mfa_setup_not_started", "Start setting up two-step sign-in first.");
  }
  ROUNDS_ASSIGN_OR_RETURN(std::string key, MfaKey());
  std::optional<std::string> secret = crypto::OpenSecret(key, creds.totp_pending);
  if (!secret) return Fail(ErrorCode::kConflict, "mfa_setup_not_started", "Start setting up two-step sign-in again.");
  const UnixMillis now = clock_.NowMillis();
  const std::optional<std::int64_t> step = MatchTotp(*secret, NormalizeCode(code), now, 0);
  if (!step) return tl::unexpected(InvalidCode());
  auto [codes, hashes] = MakeRecoveryCodes();
  const std::string pending = creds.totp_pending;
  const SessionId keep = actor.session_id;
  ROUNDS_ASSIGN_OR_RETURN(auto ended, store_.Write([&](store::WriteTx& tx) -> Result<std::vector<SessionId>> {
    ROUNDS_ASSIGN_OR_RETURN(auto c, tx.FindCredentials(actor.user.id));
    if (!c) return NotFound("User");
    if (c->totp_pending != pending) {
      return Fail(ErrorCode::kConflict, "mfa_setup_not_started", "Start setting up two-step sign-in again.");
    }
    c->totp_secret = pending;
    c->totp_pending.clear();
    c->totp_last_step = *step;
    c->recovery_codes = hashes;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*c));
    // Sessions opened with the password alone end; this one proved the second factor just now.
    ROUNDS_ASSIGN_OR_RETURN(auto others, DeleteOtherSessions(tx, actor.user.id, keep));
    ROUNDS_RETURN_IF_ERROR(tx.SetSessionSecondFactor(keep));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "auth.mfa_enable", "user", std::to_string(actor.user.id), now),
                                       json{{"sessions_ended", others.size()}}));
    return others;
  }));
  {
    std::lock_guard lock(mutex_);
    ForgetIf([&](const CachedSession& c) { return c.session.user_id == actor.user.id && c.session.id != keep; });
    if (auto it = cache_.find(keep); it != cache_.end()) it->second.session.second_factor = true;
  }
  log::Info("mfa_enabled", {{"user_id", actor.user.id}, {"sessions_ended", ended.size()}});
  Ended(ended);
  return codes;
}

Status AuthService::DisableTotp(const Actor& actor, const std::string& password, const std::string& code) {
  if (actor.is_system) return Forbidden();
  if (MfaRequiredFor(actor.user)) {
    return Forbidden("mfa_required_by_policy", "Two-step sign-in is required for this account and cannot be turned off.");
  }
  ROUNDS_ASSIGN_OR_RETURN(Credentials creds, CurrentCredentials(store_, actor));
  if (!creds.mfa_enabled()) return Fail(ErrorCode::kConflict, "mfa_not_enabled", "Two-step sign-in is not on.");
  const UnixMillis now = clock_.NowMillis();
  ROUNDS_ASSIGN_OR_RETURN(auto spend, ReauthenticateWithCode(actor, creds, password, code, "auth.mfa_disable", now));
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto c, tx.FindCredentials(actor.user.id));
    if (!c) return NotFound("User");
    ROUNDS_RETURN_IF_ERROR(spend(*c));
    c->totp_secret.clear();
    c->totp_pending.clear();
    c->totp_last_step = 0;
    c->recovery_codes.clear();
    ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*c));
    return AppendAudit(tx, AuditEntry(actor, "auth.mfa_disable", "user", std::to_string(actor.user.id), now));
  }));
  log::Info("mfa_disabled", {{"user_id", actor.user.id}});
  return Ok();
}

Result<std::vector<std::string>> AuthService::NewRecoveryCodes(const Actor& actor, const std::string& password,
                                                               const std::string& code) {
  if (actor.is_system) return Forbidden();
  ROUNDS_ASSIGN_OR_RETURN(Credentials creds, CurrentCredentials(store_, actor));
  if (!creds.mfa_enabled()) return Fail(ErrorCode::kConflict, "mfa_not_enabled", "Two-step sign-in is not on.");
  const UnixMillis now = clock_.NowMillis();
  ROUNDS_ASSIGN_OR_RETURN(auto spend, ReauthenticateWithCode(actor, creds, password, code, "auth.mfa_recovery_codes", now));
  auto [codes, hashes] = MakeRecoveryCodes();
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto c, tx.FindCredentials(actor.user.id));
    if (!c) return NotFound("User");
    ROUNDS_RETURN_IF_ERROR(spend(*c));
    c->recovery_codes = hashes;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*c));
    return AppendAudit(tx, AuditEntry(actor, "auth.mfa_recovery_codes", "user", std::to_string(actor.user.id), now));
  }));
  return codes;
}

}  // namespace rounds::app
