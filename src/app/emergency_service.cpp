// Emergency access ("break the glass"): see EmergencyAccessService in services.hpp.
#include <algorithm>
#include <chrono>
#include <set>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "app/screening.hpp"
#include "app/services.hpp"
#include "core/log.hpp"
#include "core/thread_name.hpp"

namespace rounds::app {

using namespace rounds::domain;
using internal::PublishToUsers;
using store::EmergencyGrant;
using store::EmergencyGrantId;

namespace {

constexpr std::size_t kMinReasonChars = 10;
constexpr std::size_t kMaxReasonChars = 1000;
constexpr std::size_t kMaxNoteChars = 2000;
constexpr int kLapsedBatch = 100;
constexpr const char* kComplianceOnly = "Only compliance officers can see and review everyone's emergency access.";

std::string Trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// The grants as the API shows them, their people and spaces named, read in `tx`.
Result<json> GrantsJson(store::ReadTx& tx, const std::vector<EmergencyGrant>& grants, UnixMillis now) {
  std::vector<UserId> ids;
  for (const auto& g : grants) {
    ids.push_back(g.user_id);
    if (g.ended_by) ids.push_back(*g.ended_by);
    if (g.reviewed_by) ids.push_back(*g.reviewed_by);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  ROUNDS_ASSIGN_OR_RETURN(auto refs, tx.FindUserRefs(ids));
  auto person = [&](UserId id) -> json {
    for (const auto& r : refs) {
      if (r.id == id) return UserRefJson(r);
    }
    return UserRefJson(UserRef{id, "", "Former user"});
  };
  json items = json::array();
  for (const auto& g : grants) {
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(g.space_id));
    json review = nullptr;
    if (g.reviewed_at) {
      review = {{"outcome", g.review_outcome}, {"note", g.review_note},
                {"by", g.reviewed_by ? person(*g.reviewed_by) : json(nullptr)}, {"at", *g.reviewed_at}};
    }
    items.push_back({{"id", g.id},
                     {"user", person(g.user_id)},
                     {"space", space ? SpaceRefJson(*space) : json{{"id", g.space_id}, {"name", ""}, {"kind", ""}}},
                     {"reason", g.reason},
                     {"purpose", g.purpose},
                     {"started_at", g.started_at},
                     {"expires_at", g.expires_at},
                     {"active", g.ActiveAt(now)},
                     {"ended_at", g.ended_at ? json(*g.ended_at) : json(nullptr)},
                     {"end", g.end_kind.empty() ? json(nullptr) : json(g.end_kind)},
                     {"ended_by", g.ended_by ? person(*g.ended_by) : json(nullptr)},
                     {"review", review}});
  }
  return items;
}

Result<json> GrantJson(store::ReadTx& tx, EmergencyGrantId id, UnixMillis now) {
  ROUNDS_ASSIGN_OR_RETURN(auto grant, tx.FindEmergencyGrant(id));
  if (!grant) return NotFound("Emergency access grant");
  ROUNDS_ASSIGN_OR_RETURN(json items, GrantsJson(tx, {*grant}, now));
  return items[0];
}

// Who hears of a grant ending: its holder and every compliance officer.
Result<std::vector<UserId>> HolderAndOfficers(store::ReadTx& tx, UserId holder) {
  ROUNDS_ASSIGN_OR_RETURN(auto users, tx.ListComplianceOfficerIds());
  if (std::find(users.begin(), users.end(), holder) == users.end()) users.push_back(holder);
  return users;
}

AuditRecord StopRecord(const Actor& actor, const EmergencyGrant& grant, const std::string& end, UnixMillis now) {
  AuditRecord record = AuditEntry(actor, "emergency.stop", "space", std::to_string(grant.space_id), now);
  record.reason = end;
  return record;
}

json StopDetails(const EmergencyGrant& grant, const std::string& end) {
  return {{"grant_id", grant.id}, {"user_id", grant.user_id}, {"end", end}, {"purpose", grant.purpose},
          {"started_at", grant.started_at}, {"expires_at", grant.expires_at}};
}

}  // namespace

EmergencyAccessService::EmergencyAccessService(store::Store& store, bus::Bus& bus, const Clock& clock,
                                               const Config& config, const PolicyEngine& policy, AuthService& auth)
    : store_(store), bus_(bus), clock_(clock), config_(config), policy_(policy), auth_(auth) {}

EmergencyAccessService::~EmergencyAccessService() { Stop(); }

Result<json> EmergencyAccessService::EligibleSpaces(const Actor& actor, const std::string& text, int limit) {
  const int n = internal::ClampLimit(limit);
  const UnixMillis now = clock_.NowMillis();
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(internal::Principal who, internal::CurrentPrincipal(tx, actor));
    if (!who.is_staff || who.is_system) return Forbidden("staff_required", "Emergency access is for staff.");
    json items = json::array();
    store::SpaceQuery q;
    q.text = text;
    q.public_only = false;
    q.include_archived = true;
    q.not_member_of = who.id;
    q.limit = 200;
    // Most spaces a non-member finds are public or not PHI-bearing; a bounded number of pages is read.
    for (int pages = 0; pages < 20 && items.size() < static_cast<std::size_t>(n); ++pages) {
      ROUNDS_ASSIGN_OR_RETURN(auto spaces, tx.ListSpaces(q));
      for (const auto& space : spaces) {
        ROUNDS_ASSIGN_OR_RETURN(Standing standing, internal::StandingIn(tx, who, space));
        if (Can(standing, SpaceAction::kRead)) continue;
        ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
        if (!PhiBearing(policy)) continue;
        ROUNDS_ASSIGN_OR_RETURN(auto open, tx.FindActiveEmergencyGrant(space.id, who.id, now));
        if (open) continue;  // already open to them: listed among their grants
        json item = SpaceRefJson(space);
        item["template"] = policy.name;
        items.push_back(std::move(item));
        if (items.size() == static_cast<std::size_t>(n)) break;
      }
      if (spaces.size() < static_cast<std::size_t>(q.limit)) break;
      q.after_id = spaces.back().id;
    }
    return json{{"items", items}, {"next_cursor", nullptr}};
  });
}

namespace {

// Whether `who` may open a grant on `space` now: the refusals of Open, in the order it answers them.
Status CheckEligible(store::ReadTx& tx, const PolicyEngine& policies, const internal::Principal& who,
                     const Space& space, UnixMillis now) {
  ROUNDS_ASSIGN_OR_RETURN(Standing standing, internal::StandingIn(tx, who, space));
  if (Can(standing, SpaceAction::kRead)) {
    return Fail(ErrorCode::kConflict, "already_readable", "You can already read this space.");
  }
  if (space.kind == SpaceKind::kDirect) {
    return Fail(ErrorCode::kConflict, "not_applicable", "Emergency access does not open direct conversations.");
  }
  ROUNDS_ASSIGN_OR_RETURN(auto policy, policies.TemplateFor(tx, space));
  if (!PhiBearing(policy)) {
    return Fail(ErrorCode::kConflict, "not_applicable",
                "Emergency access is for spaces that hold patient information; ask an owner to add you.");
  }
  ROUNDS_ASSIGN_OR_RETURN(auto open, tx.FindActiveEmergencyGrant(space.id, who.id, now));
  if (open) return Fail(ErrorCode::kConflict, "grant_active", "You already have emergency access to this space.");
  return Ok();
}

}  // namespace

Result<json> EmergencyAccessService::Open(const Actor& actor, const EmergencyRequest& request) {
  std::string reason = Trimmed(request.reason);
  if (!IsValidUtf8(reason) || CodePointCount(reason) < kMinReasonChars || CodePointCount(reason) > kMaxReasonChars) {
    return InvalidArgument("invalid_value", "Say why you need emergency access, in 10 to 1,000 characters.",
                           "/reason");
  }
  const std::string redacted = RedactForTheRecord(policy_, reason, "reason");
  if (request.minutes < kEmergencyMinMinutes || request.minutes > kEmergencyMaxMinutes) {
    return InvalidArgument("invalid_value", "Emergency access lasts 5 to 60 minutes.", "/minutes");
  }
  if (request.space_id <= 0) return InvalidArgument("invalid_value", "Choose a space.", "/space_id");
  // Everything that can be refused without the password is refused first: a mistake costs no code.
  auto check = [&](store::ReadTx& tx, UnixMillis now) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(internal::Principal who, internal::CurrentPrincipal(tx, actor));
    if (!who.is_staff || who.is_system) return Forbidden("staff_required", "Emergency access is for staff.");
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(request.space_id));
    if (!space) return NotFound("Space");
    return CheckEligible(tx, policy_, who, *space, now);
  };
  ROUNDS_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) { return check(tx, clock_.NowMillis()); }));
  ROUNDS_RETURN_IF_ERROR(auth_.StepUp(actor, request.password, request.code, "emergency.start"));

  const UnixMillis now = clock_.NowMillis();
  std::vector<UserId> officers;
  ROUNDS_ASSIGN_OR_RETURN(json grant, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_RETURN_IF_ERROR(check(tx, now));
    EmergencyGrant g;
    g.user_id = actor.user.id;
    g.space_id = request.space_id;
    g.reason = reason;
    g.started_at = now;
    g.expires_at = now + static_cast<UnixMillis>(request.minutes) * 60'000;
    ROUNDS_ASSIGN_OR_RETURN(g.id, tx.InsertEmergencyGrant(g));
    AuditRecord record = AuditEntry(actor, "emergency.start", "space", std::to_string(g.space_id), now);
    record.reason = reason;
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, std::move(record),
                                       {{"grant_id", g.id}, {"purpose", g.purpose}, {"minutes", request.minutes},
                                        {"expires_at", g.expires_at}}));
    ROUNDS_ASSIGN_OR_RETURN(officers, tx.ListComplianceOfficerIds());
    return GrantJson(tx, g.id, now);
  }));
  log::Warn("emergency_access_opened", {{"grant_id", grant["id"]}, {"user_id", actor.user.id},
                                        {"space_id", request.space_id}, {"minutes", request.minutes}});
  PublishToUsers(bus_, "emergency.started", grant, std::move(officers));
  if (!redacted.empty()) grant["reason_redacted"] = redacted;  // the holder is told; the record has no PHI
  return grant;
}

Result<json> EmergencyAccessService::List(const Actor& actor, bool all, store::GrantState state,
                                          EmergencyGrantId before, int limit) {
  if (all) {
    ROUNDS_RETURN_IF_ERROR(internal::RequireComplianceOnRecord(store_, clock_.NowMillis(), actor, "emergency.list",
                                                               "emergency_grant", kComplianceOnly)
                               .map([](auto&&) {}));
  }
  const UnixMillis now = clock_.NowMillis();
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    store::GrantQuery q;
    if (!all) q.user_id = actor.user.id;
    q.state = state;
    q.now = now;
    q.before_id = before;
    q.limit = internal::ClampLimit(limit);
    ROUNDS_ASSIGN_OR_RETURN(auto grants, tx.ListEmergencyGrants(q));
    ROUNDS_ASSIGN_OR_RETURN(json items, GrantsJson(tx, grants, now));
    json next = grants.size() == static_cast<std::size_t>(q.limit) ? json(std::to_string(grants.back().id)) : json(nullptr);
    return json{{"items", items}, {"next_cursor", next}};
  });
}

Result<store::GrantCounts> EmergencyAccessService::Counts() {
  const UnixMillis now = clock_.NowMillis();
  return store_.Read([&](store::ReadTx& tx) { return tx.CountEmergencyGrants(now); });
}

Result<json> EmergencyAccessService::End(const Actor& actor, EmergencyGrantId id) {
  const UnixMillis now = clock_.NowMillis();
  std::vector<UserId> told;
  ROUNDS_ASSIGN_OR_RETURN(json grant, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(auto g, tx.FindEmergencyGrant(id));
    const bool holder = g && g->user_id == current.user.id;
    if (!g || (!holder && !current.IsCompliance())) return NotFound("Emergency access grant");
    if (!g->ActiveAt(now)) {
      return Fail(ErrorCode::kConflict, "grant_ended", "This emergency access has already ended.");
    }
    const std::string end = holder ? "ended" : "revoked";
    // The system (the command line) revokes on no account's behalf: the record names it.
    const std::optional<UserId> by = current.is_system ? std::nullopt : std::optional<UserId>(current.user.id);
    ROUNDS_RETURN_IF_ERROR(tx.EndEmergencyGrant(id, end, by, now));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, StopRecord(current, *g, end, now), StopDetails(*g, end)));
    ROUNDS_ASSIGN_OR_RETURN(told, HolderAndOfficers(tx, g->user_id));
    return GrantJson(tx, id, now);
  }));
  log::Info("emergency_access_ended", {{"grant_id", id}, {"by", actor.user.id}, {"end", grant["end"]}});
  PublishToUsers(bus_, "emergency.ended", grant, std::move(told));
  return grant;
}

Result<json> EmergencyAccessService::Review(const Actor& actor, EmergencyGrantId id, const std::string& outcome,
                                            const std::string& note) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::RequireComplianceOnRecord(store_, clock_.NowMillis(), actor,
                                                                            "emergency.review", "emergency_grant",
                                                                            kComplianceOnly));
  if (outcome != "justified" && outcome != "unjustified") {
    return InvalidArgument("invalid_value", "The outcome is 'justified' or 'unjustified'.", "/outcome");
  }
  std::string text = Trimmed(note);
  if (!IsValidUtf8(text) || CodePointCount(text) > kMaxNoteChars) {
    return InvalidArgument("invalid_value", "A note is at most 2,000 characters.", "/note");
  }
  if (outcome == "unjustified" && text.empty()) {
    return InvalidArgument("invalid_value", "Say why this emergency access was not justified.", "/note");
  }
  const std::string redacted = RedactForTheRecord(policy_, text, "note");
  const UnixMillis now = clock_.NowMillis();
  ROUNDS_ASSIGN_OR_RETURN(json grant, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto g, tx.FindEmergencyGrant(id));
    if (!g) return NotFound("Emergency access grant");
    if (g->ActiveAt(now)) {
      return Fail(ErrorCode::kConflict, "grant_active", "Review emergency access once it is over (or revoke it).");
    }
    ROUNDS_RETURN_IF_ERROR(tx.ReviewEmergencyGrant(id, outcome, text, current.user.id, now));
    AuditRecord record = AuditEntry(current, "emergency.review", "space", std::to_string(g->space_id), now);
    record.reason = text;
    ROUNDS_RETURN_IF_ERROR(
        AppendAudit(tx, std::move(record), {{"grant_id", id}, {"user_id", g->user_id}, {"outcome", outcome}}));
    return GrantJson(tx, id, now);
  }));
  if (!redacted.empty()) grant["note_redacted"] = redacted;
  return grant;
}

Result<int> EmergencyAccessService::CloseLapsed() {
  const Actor system = Actor::System();
  int closed = 0;
  while (true) {
    const UnixMillis now = clock_.NowMillis();
    ROUNDS_ASSIGN_OR_RETURN(auto lapsed, store_.Read([&](store::ReadTx& tx) {
      return tx.ListLapsedEmergencyGrants(now, kLapsedBatch);
    }));
    for (const auto& stale : lapsed) {
      std::vector<UserId> told;
      // One unit per grant: its close and its record together; a grant its holder ended meanwhile
      // is left as it is.
      auto grant = store_.Write([&](store::WriteTx& tx) -> Result<json> {
        ROUNDS_ASSIGN_OR_RETURN(auto g, tx.FindEmergencyGrant(stale.id));
        if (!g || g->ended_at) return json(nullptr);
        ROUNDS_RETURN_IF_ERROR(tx.EndEmergencyGrant(g->id, "expired", std::nullopt, g->expires_at));
        ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, StopRecord(system, *g, "expired", now), StopDetails(*g, "expired")));
        ROUNDS_ASSIGN_OR_RETURN(told, HolderAndOfficers(tx, g->user_id));
        return GrantJson(tx, g->id, now);
      });
      if (!grant) return tl::unexpected(grant.error());
      if (grant->is_null()) continue;
      ++closed;
      log::Info("emergency_access_expired", {{"grant_id", stale.id}, {"user_id", stale.user_id}});
      PublishToUsers(bus_, "emergency.ended", *grant, std::move(told));
    }
    if (lapsed.size() < static_cast<std::size_t>(kLapsedBatch)) break;
  }
  return closed;
}

void EmergencyAccessService::Start() {
  std::lock_guard lock(thread_mu_);
  if (worker_.joinable() || config_.emergency_sweep_seconds <= 0) return;
  stopping_ = false;
  worker_ = std::thread([this] { Loop(); });
}

void EmergencyAccessService::Stop() {
  std::thread worker;
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
    worker = std::move(worker_);
  }
  wake_.notify_all();
  if (worker.joinable()) worker.join();
}

void EmergencyAccessService::Loop() {
  NameThisThread("emergency");
  const auto interval = std::chrono::seconds(config_.emergency_sweep_seconds);
  std::unique_lock lock(thread_mu_);
  while (!stopping_) {
    lock.unlock();
    auto closed = CloseLapsed();
    if (!closed) {
      log::Warn("emergency.sweep_failed", {{"problem", closed.error().problem}, {"reason", closed.error().internal_message}});
    }
    lock.lock();
    wake_.wait_for(lock, interval, [this] { return stopping_; });
  }
}

}  // namespace rounds::app
