// Helpers shared by the service implementations. Not part of the app layer's interface.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/audit_log.hpp"
#include "app/json_codec.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "domain/rules.hpp"
#include "governance/policy/policy_template.hpp"
#include "governance/policy/pseudonym.hpp"

namespace rounds::app::internal {

using namespace rounds::domain;

// The refusal of a caller whose account is disabled or gone, whichever way it was read.
inline tl::unexpected<Error> AccountDisabled(UserId id) {
  return Fail(ErrorCode::kUnauthenticated, "account_disabled", "This account is disabled.",
              "user " + std::to_string(id) + " is disabled or gone");
}

// The caller as the store knows them now. An Actor is a snapshot taken when the session was
// authenticated; since then an administrator may have disabled the account or changed its rights
// (on this node or another). Every service decision is made on the fresh record, read in the same
// unit as the change. kUnauthenticated "account_disabled" when the account is disabled or gone.
inline Result<Actor> Current(store::ReadTx& tx, const Actor& actor) {
  if (actor.is_system) return actor;
  ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(actor.user.id));
  if (!user || user->disabled) return AccountDisabled(actor.user.id);
  Actor fresh = actor;
  fresh.user = std::move(*user);
  return fresh;
}

// The refusal of an act only an administrator may do: "admin_elevation_required" for an
// administrator whose session does not administer now (see AuthService::Elevate), so a client
// can ask for the password; "admin_required" for everyone else.
inline const char* AdminRefusalReason(const Actor& current) {
  return current.user.is_admin && !current.IsAdmin() ? "admin_elevation_required" : "admin_required";
}
inline tl::unexpected<Error> AdminRefusal(const Actor& current) {
  const std::string reason = AdminRefusalReason(current);
  return Forbidden(reason, reason == "admin_required" ? "Only administrators can do that."
                                                      : "Confirm your password to administer, then try again.");
}

// The caller, read fresh, as a compliance officer (or, with `admin_allowed`, an administrator).
// Anyone else gets kForbidden "compliance_required" with `message`, once the refusal is on record
// (`action` on `object_type` `object_id`, outcome denied).
inline Result<Actor> RequireComplianceOnRecord(store::Store& store, UnixMillis now, const Actor& actor,
                                               const char* action, const char* object_type, const char* message,
                                               bool admin_allowed = false, std::string object_id = {}) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, store.Read([&](store::ReadTx& tx) { return Current(tx, actor); }));
  if (current.IsCompliance() || (admin_allowed && current.IsAdmin())) return current;
  AuditRecord denied = AuditEntry(current, action, object_type, std::move(object_id), now);
  denied.outcome = AuditOutcome::kDenied;
  // An administrator at rest is told to take up administration; anyone else, that it is the officers'.
  const bool may_elevate = admin_allowed && current.user.is_admin;
  denied.reason = may_elevate ? AdminRefusalReason(current) : "compliance_required";
  ROUNDS_RETURN_IF_ERROR(AuditNow(store, std::move(denied)));
  if (may_elevate) return AdminRefusal(current);
  return Forbidden("compliance_required", message);
}

// What a permission check needs of the caller.
struct Principal {
  UserId id = 0;
  bool is_system = false;
  bool is_admin = false;
  bool is_staff = false;
};
inline Principal PrincipalOf(const Actor& actor) {
  return Principal{actor.user.id, actor.is_system, actor.IsAdmin(), actor.IsStaff()};
}

// As Current, for a check that needs the caller's rights and nothing else of the account: the
// flags alone are read, not the names and departments a fresh Actor carries.
inline Result<Principal> CurrentPrincipal(store::ReadTx& tx, const Actor& actor) {
  if (actor.is_system) return PrincipalOf(actor);
  ROUNDS_ASSIGN_OR_RETURN(auto flags, tx.FindAccountFlags(actor.user.id));
  if (!flags || flags->disabled) return AccountDisabled(actor.user.id);
  return Principal{actor.user.id, false, flags->is_admin && actor.admin_elevated,
                   flags->kind == AccountKind::kStaff && !flags->is_guest};
}

// The caller's standing in a space (membership role, admin, visibility). `who` must be current.
inline Result<Standing> StandingIn(store::ReadTx& tx, const Principal& who, const Space& space) {
  Standing s;
  s.is_admin = who.is_admin;
  s.space_is_public = space.visibility == Visibility::kPublic && space.kind != SpaceKind::kDirect;
  s.space_archived = space.archived;
  if (!who.is_system) {
    ROUNDS_ASSIGN_OR_RETURN(auto membership, tx.FindMembership(space.id, who.id));
    if (membership) s.role = membership->role;
  }
  // Patients and guests never see spaces they are not members of.
  if (!who.is_staff && !s.role) s.space_is_public = false;
  return s;
}
// `actor` must be Current.
inline Result<Standing> StandingIn(store::ReadTx& tx, const Actor& actor, const Space& space) {
  return StandingIn(tx, PrincipalOf(actor), space);
}

// Loads a space the caller may read; kNotFound otherwise (existence is not revealed).
// Checks that the caller is current first.
inline Result<std::pair<Space, Standing>> ReadableSpace(store::ReadTx& tx, const Actor& actor, SpaceId id) {
  ROUNDS_ASSIGN_OR_RETURN(Principal who, CurrentPrincipal(tx, actor));
  ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(id));
  if (!space) return NotFound("Space");
  ROUNDS_ASSIGN_OR_RETURN(Standing standing, StandingIn(tx, who, *space));
  if (!Can(standing, SpaceAction::kRead)) return NotFound("Space");
  return std::make_pair(*space, standing);
}

// A space the caller may read: as ReadableSpace allows or, failing that, through an emergency
// access grant of theirs active at `grants_at` (staff only; without it, grants are not looked at).
// A grant lets its holder read and nothing else: the standing stays a non-member's, so every other
// action is refused as before. Only the read paths that audit what they show through a grant pass
// a time (MessageService, SpaceService::Get).
struct ReadAccess {
  Space space;
  Standing standing;
  std::optional<store::EmergencyGrant> grant;  // set when the read is through a grant
};
inline Result<ReadAccess> ReadableSpaceOrGrant(store::ReadTx& tx, const Actor& actor, SpaceId id,
                                               std::optional<UnixMillis> grants_at) {
  ROUNDS_ASSIGN_OR_RETURN(Principal who, CurrentPrincipal(tx, actor));
  ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(id));
  if (!space) return NotFound("Space");
  ROUNDS_ASSIGN_OR_RETURN(Standing standing, StandingIn(tx, who, *space));
  if (Can(standing, SpaceAction::kRead)) return ReadAccess{std::move(*space), standing, std::nullopt};
  if (grants_at && who.is_staff && !who.is_system) {
    ROUNDS_ASSIGN_OR_RETURN(auto grant, tx.FindActiveEmergencyGrant(id, who.id, *grants_at));
    if (grant) return ReadAccess{std::move(*space), standing, std::move(grant)};
  }
  return NotFound("Space");
}

// SpaceRefJson, with a direct conversation (which has no name) named by its people, as
// "Ana Lima, Ben Okoye": what compliance screens list a space as.
inline Result<json> NamedSpaceRef(store::ReadTx& tx, const Space& space) {
  json ref = SpaceRefJson(space);
  if (space.kind != SpaceKind::kDirect) return ref;
  ROUNDS_ASSIGN_OR_RETURN(auto ids, tx.ListMemberIds(space.id));
  ROUNDS_ASSIGN_OR_RETURN(auto people, tx.FindUserRefs(ids));
  std::string name;
  for (const auto& p : people) name += (name.empty() ? "" : ", ") + p.display_name;
  ref["name"] = name;
  return ref;
}

// Requires `action`; kForbidden with a specific problem code when the caller may read but not act.
inline Status Require(const Standing& standing, SpaceAction action, const char* problem, const char* message) {
  if (!Can(standing, action)) return Forbidden(problem, message);
  return Ok();
}

// The start of a transcript line, the same in a space's export and an e-discovery export:
// "[2026-12-04T10:00:00.000Z]   ↳ Ana Lee (#12, reply to #9): [Title] body". `title` and `body`
// are given because a held deletion's kept text stands in for the row's.
// `text` with every line after its first indented: only a message starts a transcript line with
// '[', so a body cannot forge another message's line ("…\n[2026-01-01T00:00:00.000Z] Ana Lee…").
// CR, CR LF, the vertical tab, the form feed, NEL and the Unicode line and paragraph separators
// break lines too (every mandatory break of Unicode's line-breaking rules, UAX #14).
inline void AppendIndentedLines(std::string& out, std::string_view text) {
  constexpr std::string_view kBreak = "\n    ";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += kBreak;
    } else if (c == '\xC2' && i + 1 < text.size() && text[i + 1] == '\x85') {
      ++i;
      out += kBreak;
    } else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      i += 2;
      out += kBreak;
    } else {
      out += c;
    }
  }
}

inline void AppendTranscriptLead(std::string& out, const domain::Message& m, std::string_view author,
                                 std::string_view title, std::string_view body) {
  out += '[';
  out += FormatIso8601(m.created_at);
  out += "] ";
  if (m.parent_id) out += "  ↳ ";
  AppendIndentedLines(out, author);
  out += " (#" + std::to_string(m.id);
  if (m.parent_id) out += ", reply to #" + std::to_string(*m.parent_id);
  out += "): ";
  if (!title.empty()) {
    out += '[';
    AppendIndentedLines(out, title);
    out += "] ";
  }
  AppendIndentedLines(out, body);
}

inline std::string HumanSize(std::int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  if (bytes < 1024 * 1024) return std::to_string((bytes + 512) / 1024) + " KB";
  return std::to_string((bytes + 512 * 1024) / (1024 * 1024)) + " MB";
}

// The lines under a transcript line: a poll's options with their votes, and the files.
inline void AppendTranscriptDetails(std::string& out, const domain::Message& m) {
  for (const auto& option : m.poll_options) {
    out += "      ( ) ";
    AppendIndentedLines(out, option.text);
    out += " — " + std::to_string(option.votes) + " vote" + (option.votes == 1 ? "" : "s") + "\n";
  }
  for (const auto& a : m.attachments) {
    out += "      attachment: ";
    AppendIndentedLines(out, a.name);
    out += " (" + a.content_type + ", " + HumanSize(a.size) + ", sha256 " + a.sha256 + ")\n";
  }
}

// `user_id` as the members of a space with `pseudonyms` know them: their pseudonymous id there,
// and their pseudonym as both name and handle (governance::policy::Pseudonyms).
inline UserRef PseudonymRef(const PolicyEngine& policy, SpaceId space_id, UserId user_id) {
  governance::policy::PseudonymName name = policy.pseudonyms().Name(space_id, user_id);
  return UserRef{name.id, std::move(name.handle), std::move(name.display_name)};
}

// The id by which the members of `space_id` know `user_id`: the account's, or under `pseudonyms`
// the pseudonymous one. Every id of a person that goes out about such a space goes through here.
inline UserId MemberIdAsSeen(const PolicyEngine& policy, SpaceId space_id, bool pseudonymous, UserId user_id) {
  return pseudonymous ? policy.pseudonyms().Id(space_id, user_id) : user_id;
}

// Resolves authors for JSON, reading each distinct user once, and a page's authors in one query.
// Authors are named as the space's members see them: in a space whose template has `pseudonyms`
// (patient forums), by their pseudonym there (governance::policy::Pseudonym), for everyone who
// reads the space, so that a page or an event is the same text for all its readers. Only the
// compliance officers' e-discovery export names them by their accounts (RealNames).
class AuthorCache {
 public:
  AuthorCache(store::ReadTx& tx, const PolicyEngine& policy) : tx_(tx), policy_(&policy) {}
  static AuthorCache RealNames(store::ReadTx& tx) { return AuthorCache(tx, nullptr); }
  // What the caller already knows of a space's template, so that nothing is read for it.
  void Know(SpaceId space_id, bool pseudonymous) { pseudonymous_[space_id] = pseudonymous; }
  // The account (never a pseudonym). Null when it no longer exists.
  Result<const UserRef*> Get(UserId id) {
    ROUNDS_RETURN_IF_ERROR(Load(std::span<const UserId>(&id, 1)));
    const auto& ref = users_.at(id);
    return ref ? &*ref : nullptr;
  }
  // The author of `m` as the members of its space see them (under pseudonyms, always their
  // pseudonym). Null when the account no longer exists.
  Result<const UserRef*> AuthorOf(const domain::Message& m) {
    ROUNDS_ASSIGN_OR_RETURN(bool pseudonymous, Pseudonymous(m.space_id));
    if (pseudonymous) return PseudonymOf(m.space_id, m.author_id);
    return Get(m.author_id);
  }
  Result<json> Message(const domain::Message& m) {
    ROUNDS_ASSIGN_OR_RETURN(const UserRef* author, AuthorOf(m));
    ROUNDS_ASSIGN_OR_RETURN(const domain::Message* seen, AsSeen(m));
    return MessageJson(*seen, author);
  }
  // Message(m).dump(), written straight to text: what a write unit stores as an event's payload,
  // without building a tree on the store's one writer thread.
  Result<std::string> MessageText(const domain::Message& m) {
    ROUNDS_ASSIGN_OR_RETURN(const UserRef* author, AuthorOf(m));
    ROUNDS_ASSIGN_OR_RETURN(const domain::Message* seen, AsSeen(m));
    std::string out;
    AppendMessageJson(out, *seen, author);
    return out;
  }
  Result<json> Messages(const std::vector<domain::Message>& messages) {
    ROUNDS_RETURN_IF_ERROR(LoadAuthorsOf(messages));
    json items = json::array();
    for (const auto& m : messages) {
      ROUNDS_ASSIGN_OR_RETURN(json j, Message(m));
      items.push_back(std::move(j));
    }
    return items;
  }
  // Appends the messages as a JSON array, the same text Messages(messages).dump() would be.
  Status AppendMessages(std::string& out, const std::vector<domain::Message>& messages) {
    ROUNDS_RETURN_IF_ERROR(LoadAuthorsOf(messages));
    out += '[';
    for (std::size_t i = 0; i < messages.size(); ++i) {
      ROUNDS_ASSIGN_OR_RETURN(const UserRef* author, AuthorOf(messages[i]));
      ROUNDS_ASSIGN_OR_RETURN(const domain::Message* seen, AsSeen(messages[i]));
      if (i > 0) out += ',';
      AppendMessageJson(out, *seen, author);
    }
    out += ']';
    return Ok();
  }

 private:
  AuthorCache(store::ReadTx& tx, std::nullptr_t) : tx_(tx), policy_(nullptr) {}

  Result<bool> Pseudonymous(SpaceId space_id) {
    if (!policy_) return false;
    auto known = pseudonymous_.find(space_id);
    if (known != pseudonymous_.end()) return known->second;
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx_.FindSpace(space_id));
    bool pseudonymous = false;
    if (space) {
      ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_->TemplateFor(tx_, *space));
      pseudonymous = policy.pseudonyms;
    }
    pseudonymous_[space_id] = pseudonymous;
    return pseudonymous;
  }
  const UserRef* PseudonymOf(SpaceId space_id, UserId user_id) {
    auto [it, added] = pseudonyms_.try_emplace({space_id, user_id});
    if (added) it->second = PseudonymRef(*policy_, space_id, user_id);
    return &it->second;
  }
  // `m` as its space's members see it: under pseudonyms, the people it mentions by their
  // pseudonymous ids (its author is the UserRef given beside it). `m` itself otherwise.
  Result<const domain::Message*> AsSeen(const domain::Message& m) {
    if (m.mentions.empty()) return &m;
    ROUNDS_ASSIGN_OR_RETURN(bool pseudonymous, Pseudonymous(m.space_id));
    if (!pseudonymous) return &m;
    seen_ = m;
    for (UserId& id : seen_.mentions) id = PseudonymOf(m.space_id, id)->id;
    return &seen_;
  }
  Status LoadAuthorsOf(const std::vector<domain::Message>& messages) {
    std::vector<UserId> ids;
    ids.reserve(messages.size());
    for (const auto& m : messages) ids.push_back(m.author_id);
    return Load(ids);
  }
  // Reads those of `ids` not read yet, in one query; an id with no user is remembered as absent.
  Status Load(std::span<const UserId> ids) {
    std::vector<UserId> missing;
    for (UserId id : ids) {
      if (!users_.count(id)) missing.push_back(id);
    }
    if (missing.empty()) return Ok();
    std::sort(missing.begin(), missing.end());
    missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
    ROUNDS_ASSIGN_OR_RETURN(auto found, tx_.FindUserRefs(missing));
    for (UserId id : missing) users_.emplace(id, std::nullopt);
    for (auto& ref : found) users_[ref.id] = std::move(ref);
    return Ok();
  }

  store::ReadTx& tx_;
  const PolicyEngine* policy_;
  std::map<UserId, std::optional<UserRef>> users_;
  std::map<SpaceId, bool> pseudonymous_;
  std::map<std::pair<SpaceId, UserId>, UserRef> pseudonyms_;
  domain::Message seen_;  // AsSeen's copy, valid until its next call
};

// A space event written in the same unit as the change it describes, published after commit.
struct PendingEvent {
  SpaceEvent event;
  std::vector<UserId> recipients;
  // For a restricted event: the other members, who receive a placeholder with the same seq (so
  // their streams stay gap-free) instead of the event.
  std::vector<UserId> others;
};

// Reserves the next seq, stores the event, and remembers who should receive it.
inline Result<PendingEvent> AppendEvent(store::WriteTx& tx, SpaceId space_id, std::string type, const json& data,
                                        UnixMillis now, std::vector<UserId> extra_recipients = {}) {
  PendingEvent pending;
  ROUNDS_ASSIGN_OR_RETURN(Seq seq, tx.NextSeq(space_id));
  pending.event = SpaceEvent{space_id, seq, std::move(type), data.dump(), now};
  ROUNDS_RETURN_IF_ERROR(tx.InsertEvent(pending.event));
  ROUNDS_ASSIGN_OR_RETURN(pending.recipients, tx.ListMemberIds(space_id));
  for (UserId id : extra_recipients) pending.recipients.push_back(id);
  return pending;
}

// The author and the space's moderators and owners: who sees a held message and its events.
inline Result<std::vector<UserId>> ModeratorsAnd(store::ReadTx& tx, SpaceId space_id, UserId author_id) {
  std::vector<UserId> out{author_id};
  UserId after = 0;
  while (true) {
    ROUNDS_ASSIGN_OR_RETURN(auto members, tx.ListMembers(space_id, after, 500));
    for (const auto& m : members) {
      if (m.role >= MemberRole::kModerator && m.user_id != author_id) out.push_back(m.user_id);
    }
    if (members.size() < 500) break;
    after = members.back().user_id;
  }
  return out;
}

// An event about a message that is not published: stored restricted to its author (and the
// space's moderators), sent only to them, and replayed only to them.
// `seq`: the seq already reserved for it in this unit (0: reserve the next one).
// `payload`: the event's data, serialized.
inline Result<PendingEvent> AppendRestrictedEvent(store::WriteTx& tx, SpaceId space_id, std::string type,
                                                  std::string payload, UnixMillis now, UserId author_id,
                                                  Seq seq = 0) {
  PendingEvent pending;
  if (seq == 0) {
    ROUNDS_ASSIGN_OR_RETURN(seq, tx.NextSeq(space_id));
  }
  pending.event = SpaceEvent{space_id, seq, std::move(type), std::move(payload), now};
  pending.event.restricted_to = author_id;
  ROUNDS_RETURN_IF_ERROR(tx.InsertEvent(pending.event));
  ROUNDS_ASSIGN_OR_RETURN(pending.recipients, ModeratorsAnd(tx, space_id, author_id));
  ROUNDS_ASSIGN_OR_RETURN(auto members, tx.ListMemberIds(space_id));
  std::set<UserId> allowed(pending.recipients.begin(), pending.recipients.end());
  for (UserId id : members) {
    if (!allowed.contains(id)) pending.others.push_back(id);
  }
  return pending;
}

// Each id once, in ascending order: what a list of ids the caller gave is stored as.
template <class Id>
std::vector<Id> Distinct(std::vector<Id> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// An event about message `m` (a reaction, a vote, a pin, an accepted answer): to everyone who can
// read the space while `m` is published; while it is held, hidden or removed, restricted as above,
// so that nothing of it reaches a member who cannot see it.
// Its live delivery names the patients `m` names, as its replay does.
inline Result<PendingEvent> AppendMessageEvent(store::WriteTx& tx, const Message& m, std::string type, const json& data,
                                               UnixMillis now) {
  Result<PendingEvent> pending = m.state == MessageState::kPublished
                                     ? AppendEvent(tx, m.space_id, std::move(type), data, now)
                                     : AppendRestrictedEvent(tx, m.space_id, std::move(type), data.dump(), now, m.author_id);
  if (pending && !m.deleted) pending->event.patient_refs = m.patient_refs;
  return pending;
}

inline void Publish(bus::Bus& bus, const PendingEvent& pending) {
  bus::Event e;
  e.space_id = pending.event.space_id;
  e.seq = pending.event.seq;
  e.type = pending.event.type;
  e.frame = EventService::EventFrame(pending.event);
  e.recipients = std::make_shared<const std::vector<UserId>>(pending.recipients);
  if (!pending.event.patient_refs.empty()) e.patient_refs = std::make_shared<const std::string>(pending.event.patient_refs);
  bus.Publish(e);
  if (!pending.others.empty()) {
    bus::Event placeholder = e;
    placeholder.type = "restricted";
    placeholder.placeholder = true;
    placeholder.patient_refs = nullptr;
    placeholder.frame = EventService::PlaceholderFrame(pending.event.space_id, pending.event.seq);
    placeholder.recipients = std::make_shared<const std::vector<UserId>>(pending.others);
    bus.Publish(placeholder);
  }
}

inline void PublishToUsers(bus::Bus& bus, const std::string& type, const json& data, std::vector<UserId> users) {
  if (users.empty()) return;
  bus::Event e;
  e.type = type;
  e.frame = EventService::UserFrame(type, data);
  e.recipients = std::make_shared<const std::vector<UserId>>(std::move(users));
  bus.Publish(e);
}

// Who works a space's moderation queue: `moderators` (its moderators and owners) and `officers`
// (the compliance officers, who work every space's), each once, without `except` (the author of a
// held message, who is told of it otherwise; 0 leaves no one out).
inline std::vector<UserId> QueueWatchers(std::vector<UserId> moderators, const std::vector<UserId>& officers,
                                         UserId except = 0) {
  moderators.insert(moderators.end(), officers.begin(), officers.end());
  std::erase(moderators, except);
  return Distinct(std::move(moderators));
}

// Tells `watchers` that the moderation queue of `space_id` changed ("moderation.queue"): `kind`
// says how ("report", "held", "appeal" or "decided") and `about` ("message_id" or "action_id")
// names what by its id, never by its content.
inline void PublishQueueChange(bus::Bus& bus, const char* kind, SpaceId space_id, const char* about, std::int64_t id,
                               std::vector<UserId> watchers) {
  if (watchers.empty()) return;  // before building the payload: most posts are not held
  PublishToUsers(bus, "moderation.queue", json{{"kind", kind}, {"space_id", space_id}, {about, id}}, std::move(watchers));
}

// The standing a template's rules speak of: owner, moderator or member.
inline governance::policy::Standing PolicyStanding(const Standing& standing) {
  if (standing.role == MemberRole::kOwner) return governance::policy::Standing::kOwner;
  if (standing.role == MemberRole::kModerator) return governance::policy::Standing::kModerator;
  return governance::policy::Standing::kMember;
}

// Whether `user` may be a member of a space under `policy` (its audience admits patients, it
// allows guests; staff always): kPolicyDenied "audience_staff_only" or "guests_not_allowed".
inline Status AdmitMember(const governance::policy::PolicyTemplate& policy, const User& user) {
  using governance::policy::Account;
  if (user.is_guest && !governance::policy::MayBeMember(policy, Account::kGuest)) {
    return Fail(ErrorCode::kPolicyDenied, "guests_not_allowed",
                "This space's policy (" + policy.name + ") does not allow guests from outside the organization.");
  }
  const Account account = user.kind == AccountKind::kPatient ? Account::kPatient : Account::kStaff;
  if (governance::policy::MayBeMember(policy, account)) return Ok();
  return Fail(ErrorCode::kPolicyDenied, "audience_staff_only",
              "This space's policy is for staff: patients cannot be its members.");
}

// What clients show of a space's template: {key, version, name, phi, moderation, audience,
// export_allowed, pseudonyms}.
inline json TemplateSummary(const governance::policy::PolicyTemplate& t) {
  namespace policy = governance::policy;
  return json{{"key", t.key},
              {"version", t.version},
              {"name", t.name},
              {"phi", policy::ToString(t.phi)},
              {"moderation", policy::ToString(t.moderation)},
              {"audience", policy::ToString(t.audience)},
              {"export_allowed", t.export_allowed},
              {"pseudonyms", t.pseudonyms}};
}

inline int ClampLimit(int limit, int fallback = 50, int max = 200) {
  if (limit <= 0) return fallback;
  return std::min(limit, max);
}

}  // namespace rounds::app::internal
