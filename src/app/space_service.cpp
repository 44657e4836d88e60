#include <algorithm>
#include <set>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "app/screening.hpp"
#include "core/log.hpp"

namespace rounds::app {

using namespace rounds::domain;
using internal::AppendEvent;
using internal::PendingEvent;
using internal::Publish;
using internal::PublishToUsers;

namespace {

// Who may read a PHI-bearing space is on record: a change of membership there writes its audit
// record in the same unit as the change.
Status AuditAccess(store::WriteTx& tx, const PolicyEngine& policy_engine, const Actor& actor, const Space& space,
                   const char* action, UserId user_id, std::optional<MemberRole> role, UnixMillis now) {
  if (!policy_engine.Audits()) return Ok();
  ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_engine.TemplateFor(tx, space));
  if (!PhiBearing(policy)) return Ok();
  json details{{"space_id", space.id}};
  if (role) details["role"] = ToString(*role);
  return AppendAudit(tx, AuditEntry(actor, action, "user", std::to_string(user_id), now), details);
}

// A membership as the space's members see it. Under a template with pseudonyms, the person is
// their pseudonym in the space; `account` adds who they are (for the space's moderators and
// owners, and compliance officers), never for the members, and never in events, which every
// member receives.
json MemberAsSeen(const PolicyEngine& engine, const Membership& m, const User& user, bool pseudonymous,
                  bool account = false) {
  json j = MembershipJson(m, user);
  if (!pseudonymous) return j;
  const UserRef pseudonym = internal::PseudonymRef(engine, m.space_id, user.id);
  j["user_id"] = pseudonym.id;
  j["user"] = UserRefJson(pseudonym);
  j["pseudonym"] = pseudonym.display_name;
  if (account) j["account"] = UserRefJson(user);
  return j;
}

// A guest takes part in a space; they do not run one. A guest who moderated or owned a space
// could add people by id and be answered with their names (the directory is closed to guests),
// and would decide on staff's and patients' posts.
Status GuestRole(const User& user, MemberRole role) {
  if (!user.is_guest || (role != MemberRole::kOwner && role != MemberRole::kModerator)) return Ok();
  return Fail(ErrorCode::kPolicyDenied, "guest_role",
              "A guest takes part as a member or a reader; guests do not moderate or own spaces.");
}

// The account of a member named by `id`: under pseudonyms members are listed by pseudonymous ids
// (below zero, never an account's), which lead back to the account here; any other id is one.
Result<UserId> MemberNamed(const PolicyEngine& engine, SpaceId space_id, UserId id) {
  if (id > 0) return id;
  auto user = engine.pseudonyms().UserOfId(space_id, id);
  if (!user) return NotFound("Member");
  return *user;
}

// The space as `actor` sees it: the caller's role and read marker, and the members of a direct
// conversation (its name is the people in it).
// Refuses PHI in the name or topic of a space patients see, whatever its PHI rule for messages.
Status ScreenPatientFacing(const governance::policy::PolicyTemplate& policy, const Screening& screening) {
  if (policy.audience == governance::policy::Audience::kStaff || screening.FindingCount() == 0) return Ok();
  return Fail(PhiRefusal(phi::PhiAction::kBlock, screening));
}

Result<json> SpaceView(const PolicyEngine& engine, store::ReadTx& tx, const Actor& actor, const Space& space,
                       const std::optional<Membership>& membership, std::int64_t unread = 0,
                       std::int64_t unread_mentions = 0) {
  json j = SpaceJson(space);
  ROUNDS_ASSIGN_OR_RETURN(auto policy, engine.Template(tx, space.template_key, space.template_version));
  j["template"] = internal::TemplateSummary(policy);
  // Whose view it is: the member's whose membership is given (a view sent to someone just added
  // is theirs, not the moderator's who added them), else the caller's.
  const UserId viewer = membership ? membership->user_id : actor.user.id;
  // Under pseudonyms, the name and the id the viewer goes by here, which is how their messages,
  // reactions and membership come back to them.
  if (membership || !actor.is_system) {
    j["my_member_id"] = internal::MemberIdAsSeen(engine, space.id, policy.pseudonyms, viewer);
    if (policy.pseudonyms) j["my_pseudonym"] = engine.pseudonyms().Name(space.id, viewer).display_name;
  }
  // Joined as the stricter of the space's setting and its template's rule says (see Join).
  if (policy.joining != governance::policy::Joining::kOpen) j["join_policy"] = ToString(JoinPolicy::kInvite);
  // How a non-member gets in: "open" (join), "request" (ask; `join_requested` once asked) or
  // "invite" (be added), the stricter of the space's setting and its template's rule.
  const bool requestable = space.kind != SpaceKind::kDirect && space.visibility == Visibility::kPublic &&
                           space.join_policy == JoinPolicy::kOpen;
  j["joining"] = !requestable ? std::string("invite") : std::string(governance::policy::ToString(policy.joining));
  if (!membership && requestable && policy.joining == governance::policy::Joining::kRequest && !actor.is_system) {
    ROUNDS_ASSIGN_OR_RETURN(auto asked, tx.FindJoinRequest(space.id, actor.user.id));
    j["join_requested"] = asked.has_value();
  }
  j["my_role"] = membership ? json(ToString(membership->role)) : json(nullptr);
  j["read_seq"] = membership ? membership->read_seq : 0;
  j["unread_count"] = unread;
  j["unread_mentions"] = unread_mentions;
  if (space.kind == SpaceKind::kDirect) {
    ROUNDS_ASSIGN_OR_RETURN(auto ids, tx.ListMemberIds(space.id));
    json members = json::array();
    for (UserId id : ids) {
      ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(id));
      if (user) members.push_back(UserRefJson(*user));
    }
    j["members"] = members;
  }
  return j;
}

// The template of a space a caller who is not yet a member would join, when it is joined at all:
// refused for members ("already_member"), and for direct, private and invitation-only spaces
// ("invitation_required"): the template's joining rule holds whatever the space's own setting (a
// clinical team is joined by invitation, a patient forum on request). Open or request is left to
// the caller.
Result<governance::policy::PolicyTemplate> JoiningPolicy(store::ReadTx& tx, const PolicyEngine& engine,
                                                         const Space& space, const Standing& standing) {
  if (standing.role) return Fail(ErrorCode::kConflict, "already_member", "You are already a member.");
  if (space.kind == SpaceKind::kDirect || space.visibility != Visibility::kPublic ||
      space.join_policy != JoinPolicy::kOpen) {
    return Forbidden("invitation_required", "This space is joined by invitation.");
  }
  ROUNDS_ASSIGN_OR_RETURN(auto policy, engine.TemplateFor(tx, space));
  if (policy.joining == governance::policy::Joining::kInvite) {
    return Forbidden("invitation_required", "This space's policy admits people by invitation only.");
  }
  return policy;
}

// A page of spaces found by `query`, each as `actor` sees it (their role when `memberships`), with
// the cursor of the next page when this one is full.
Result<json> SpacePage(const PolicyEngine& engine, store::ReadTx& tx, const Actor& actor, const store::SpaceQuery& query,
                       bool memberships) {
  ROUNDS_ASSIGN_OR_RETURN(auto spaces, tx.ListSpaces(query));
  json items = json::array();
  for (const auto& s : spaces) {
    std::optional<Membership> membership;
    if (memberships) {
      ROUNDS_ASSIGN_OR_RETURN(membership, tx.FindMembership(s.id, actor.user.id));
    }
    ROUNDS_ASSIGN_OR_RETURN(json view, SpaceView(engine, tx, actor, s, membership));
    items.push_back(std::move(view));
  }
  json next = spaces.size() == static_cast<std::size_t>(query.limit) ? json(std::to_string(spaces.back().id))
                                                                     : json(nullptr);
  return json{{"items", items}, {"next_cursor", next}};
}

Status ValidateName(const std::string& name, const char* field) {
  if (name.empty() || CodePointCount(name) > 80 || !IsValidUtf8(name)) {
    return InvalidArgument("invalid_value", "A space name is 1 to 80 characters.", field);
  }
  return Ok();
}

// Refuses a change that would leave the space without an owner.
Status KeepAnOwner(store::ReadTx& tx, SpaceId id) {
  constexpr int kPage = 500;
  int owners = 0;
  UserId after = 0;
  while (owners < 2) {
    ROUNDS_ASSIGN_OR_RETURN(auto members, tx.ListMembers(id, after, kPage));
    owners += static_cast<int>(std::count_if(members.begin(), members.end(),
                                             [](const Membership& m) { return m.role == MemberRole::kOwner; }));
    if (members.size() < static_cast<std::size_t>(kPage)) break;
    after = members.back().user_id;
  }
  if (owners <= 1) return Fail(ErrorCode::kConflict, "last_owner", "A space needs at least one owner.");
  return Ok();
}

Status ValidateTopic(const std::string& topic) {
  if (CodePointCount(topic) > 500 || !IsValidUtf8(topic)) {
    return InvalidArgument("invalid_value", "A topic is at most 500 characters.", "/topic");
  }
  return Ok();
}

}  // namespace

SpaceService::SpaceService(store::Store& store, bus::Bus& bus, const Clock& clock, PolicyEngine& policy)
    : store_(store), bus_(bus), clock_(clock), policy_(policy) {}

Result<json> SpaceService::Create(const Actor& actor, const NewSpace& request) {
  if (!actor.IsStaff() || actor.is_system) return Forbidden("staff_only", "Only staff can create spaces.");
  if (request.kind == SpaceKind::kDirect) {
    return InvalidArgument("invalid_value", "Start a direct conversation with POST /api/v1/direct.", "/kind");
  }
  ROUNDS_RETURN_IF_ERROR(ValidateName(request.name, "/name"));
  ROUNDS_RETURN_IF_ERROR(ValidateTopic(request.topic));
  // Names and topics of patient-facing spaces are shown to patients: they must carry no PHI.
  Screening screening = Screen(policy_, {{"name", request.name}, {"topic", request.topic}});
  UnixMillis now = clock_.NowMillis();
  PendingEvent joined;
  bool phi_refused = false;
  auto written = store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    if (!current.IsStaff()) return Forbidden("staff_only", "Only staff can create spaces.");
    Space space;
    // A new space starts on the newest version of its template, named or the default: a version
    // the compliance officers have replaced is kept only by the spaces already assigned to it.
    if (!request.template_key.empty()) space.template_key = request.template_key;
    ROUNDS_ASSIGN_OR_RETURN(space.template_version, LatestTemplateVersion(tx, space.template_key));
    if (space.template_version == 0) {
      return InvalidArgument("unknown_template", "There is no template with that key.", "/template");
    }
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.Template(tx, space.template_key, space.template_version));
    if (Status clean = ScreenPatientFacing(policy, screening); !clean) {
      phi_refused = true;
      return tl::unexpected(clean.error());
    }
    space.kind = request.kind;
    space.name = request.name;
    space.topic = request.topic;
    space.visibility = request.visibility;
    space.join_policy = request.visibility == Visibility::kPrivate ? JoinPolicy::kInvite : request.join_policy;
    space.created_by = actor.user.id;
    space.created_at = now;
    ROUNDS_ASSIGN_OR_RETURN(space.id, tx.InsertSpace(space));
    Membership owner{space.id, actor.user.id, MemberRole::kOwner, 0, now};
    ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership(owner));
    // Which policy a new space runs under is a governance decision: always on record.
    if (policy_.Audits()) {
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "space.create", "space", std::to_string(space.id), now),
                                         json{{"template", policy.key}, {"version", policy.version},
                                              {"kind", ToString(space.kind)}}));
    }
    ROUNDS_ASSIGN_OR_RETURN(joined, AppendEvent(tx, space.id, "member.joined", MemberAsSeen(policy_, owner, current.user, policy.pseudonyms), now));
    ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.FindSpace(space.id));
    owner.read_seq = 0;
    return SpaceView(policy_, tx, actor, *stored, owner);
  });
  if (phi_refused) {
    RecordPhiRefusal(store_, actor, "space.phi_refuse", "space", "", phi::PhiAction::kBlock, RefusalDetails(screening), now);
  }
  ROUNDS_ASSIGN_OR_RETURN(json view, std::move(written));
  Publish(bus_, joined);
  PublishToUsers(bus_, "space.added", view, {actor.user.id});
  log::Info("space_created", {{"space_id", view["id"]}, {"by", actor.user.id}});
  return view;
}

Result<json> SpaceService::Get(const Actor& actor, SpaceId id) {
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpaceOrGrant(tx, actor, id, clock_.NowMillis()));
    ROUNDS_ASSIGN_OR_RETURN(auto membership, tx.FindMembership(id, actor.user.id));
    ROUNDS_ASSIGN_OR_RETURN(json view, SpaceView(policy_, tx, actor, readable.space, membership));
    // Open through emergency access: the client shows it, and when it ends.
    if (readable.grant) view["emergency"] = {{"grant_id", readable.grant->id}, {"expires_at", readable.grant->expires_at}};
    return view;
  });
}

Result<json> SpaceService::ListMine(const Actor& actor) {
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    ROUNDS_ASSIGN_OR_RETURN(auto spaces, tx.ListSpacesForUser(actor.user.id));
    json items = json::array();
    for (const auto& ms : spaces) {
      ROUNDS_ASSIGN_OR_RETURN(json view, SpaceView(policy_, tx, actor, ms.space, ms.membership, ms.unread_count, ms.unread_mentions));
      items.push_back(std::move(view));
    }
    return json{{"items", items}, {"next_cursor", nullptr}};
  });
}

Result<json> SpaceService::Discover(const Actor& actor, const std::string& text, SpaceId after_id, int limit) {
  int n = internal::ClampLimit(limit);
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    if (!current.IsStaff()) return json{{"items", json::array()}, {"next_cursor", nullptr}};
    store::SpaceQuery q;
    q.text = text;
    q.not_member_of = actor.user.id;
    q.after_id = after_id;
    q.limit = n;
    return SpacePage(policy_, tx, actor, q, false);  // none of them is the caller's
  });
}

Result<json> SpaceService::Directory(const Actor& actor, const std::string& text, std::optional<SpaceKind> kind,
                                     SpaceId after_id, int limit) {
  int n = internal::ClampLimit(limit);
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    if (!current.IsCompliance()) {
      return Forbidden("compliance_required", "Only compliance officers can list every space.");
    }
    store::SpaceQuery q;
    q.text = text;
    q.kind = kind;
    q.public_only = false;
    q.include_archived = true;
    q.after_id = after_id;
    q.limit = n;
    return SpacePage(policy_, tx, actor, q, true);
  });
}

Result<json> SpaceService::Update(const Actor& actor, SpaceId id, const SpacePatch& patch) {
  if (patch.name) ROUNDS_RETURN_IF_ERROR(ValidateName(*patch.name, "/name"));
  if (patch.topic) ROUNDS_RETURN_IF_ERROR(ValidateTopic(*patch.topic));
  Screening screening = Screen(policy_, {{"name", patch.name.value_or("")}, {"topic", patch.topic.value_or("")}});
  UnixMillis now = clock_.NowMillis();
  PendingEvent updated;
  bool phi_refused = false;
  auto written = store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    auto& [space, standing] = readable;
    ROUNDS_RETURN_IF_ERROR(internal::Require(standing, SpaceAction::kUpdateSpace, "owner_required",
                                             "Only the space's owners can change it."));
    if (space.kind == SpaceKind::kDirect && (patch.visibility || patch.join_policy || patch.name)) {
      return InvalidArgument("invalid_value", "A direct conversation's name and visibility are fixed.");
    }
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
    if (Status clean = ScreenPatientFacing(policy, screening); !clean) {
      phi_refused = true;
      return tl::unexpected(clean.error());
    }
    if (patch.name) space.name = *patch.name;
    if (patch.topic) space.topic = *patch.topic;
    if (patch.visibility) space.visibility = *patch.visibility;
    if (patch.join_policy) space.join_policy = *patch.join_policy;
    if (space.visibility == Visibility::kPrivate) space.join_policy = JoinPolicy::kInvite;
    if (patch.archived) space.archived = *patch.archived;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateSpace(space));
    ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.FindSpace(id));
    ROUNDS_ASSIGN_OR_RETURN(updated, AppendEvent(tx, id, "space.updated", SpaceJson(*stored), now));
    stored->last_seq = updated.event.seq;
    ROUNDS_ASSIGN_OR_RETURN(auto membership, tx.FindMembership(id, actor.user.id));
    return SpaceView(policy_, tx, actor, *stored, membership);
  });
  if (phi_refused) {
    RecordPhiRefusal(store_, actor, "space.phi_refuse", "space", std::to_string(id), phi::PhiAction::kBlock,
                     RefusalDetails(screening), now);
  }
  ROUNDS_ASSIGN_OR_RETURN(json view, std::move(written));
  Publish(bus_, updated);
  return view;
}

Result<json> SpaceService::ListMembers(const Actor& actor, SpaceId id, UserId after_user_id, int limit) {
  int n = internal::ClampLimit(limit);
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, readable.first));
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    const bool account = Can(readable.second, SpaceAction::kModerate) || current.IsCompliance();
    ROUNDS_ASSIGN_OR_RETURN(auto members, tx.ListMembers(id, after_user_id, n));
    json items = json::array();
    for (const auto& m : members) {
      ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(m.user_id));
      if (user) items.push_back(MemberAsSeen(policy_, m, *user, policy.pseudonyms, account));
    }
    json next = members.size() == static_cast<std::size_t>(n) ? json(std::to_string(members.back().user_id)) : json(nullptr);
    return json{{"items", items}, {"next_cursor", next}};
  });
}

Result<json> SpaceService::AddMember(const Actor& actor, SpaceId id, UserId user_id, MemberRole role) {
  UnixMillis now = clock_.NowMillis();
  PendingEvent joined;
  json space_view;
  ROUNDS_ASSIGN_OR_RETURN(json member, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    auto& [space, standing] = readable;
    if (space.kind == SpaceKind::kDirect) {
      return InvalidArgument("invalid_value", "People cannot be added to a direct conversation; start a new one.");
    }
    ROUNDS_RETURN_IF_ERROR(internal::Require(standing, SpaceAction::kAddMembers, "moderator_required",
                                             "Only the space's moderators and owners can add people."));
    if (role == MemberRole::kOwner && !Can(standing, SpaceAction::kChangeRoles)) {
      return Forbidden("owner_required", "Only owners can add owners.");
    }
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(user_id));
    if (!user || user->disabled) return InvalidArgument("unknown_user", "That person does not exist.", "/user_id");
    ROUNDS_RETURN_IF_ERROR(GuestRole(*user, role));
    ROUNDS_ASSIGN_OR_RETURN(auto existing, tx.FindMembership(id, user_id));
    if (existing) return Fail(ErrorCode::kConflict, "already_member", "That person is already a member.");
    // The template says who the space is for: a patient is never added to a staff space, a guest
    // only where guests are allowed.
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
    ROUNDS_RETURN_IF_ERROR(internal::AdmitMember(policy, *user));
    Membership m{id, user_id, role, 0, now};
    ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership(m));
    ROUNDS_RETURN_IF_ERROR(tx.DeleteJoinRequest(id, user_id).map([](bool) {}));  // asked, and added
    ROUNDS_RETURN_IF_ERROR(AuditAccess(tx, policy_, actor, space, "member.add", user_id, role, now));
    json data = MemberAsSeen(policy_, m, *user, policy.pseudonyms);
    ROUNDS_ASSIGN_OR_RETURN(joined, AppendEvent(tx, id, "member.joined", data, now));
    ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.FindSpace(id));
    ROUNDS_ASSIGN_OR_RETURN(space_view, SpaceView(policy_, tx, actor, *stored, m));
    return data;
  }));
  Publish(bus_, joined);
  PublishToUsers(bus_, "space.added", space_view, {user_id});
  return member;
}

Result<json> SpaceService::SetRole(const Actor& actor, SpaceId id, UserId user_id, MemberRole role) {
  ROUNDS_ASSIGN_OR_RETURN(user_id, MemberNamed(policy_, id, user_id));
  UnixMillis now = clock_.NowMillis();
  PendingEvent changed;
  ROUNDS_ASSIGN_OR_RETURN(json member, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    auto& [space, standing] = readable;
    ROUNDS_RETURN_IF_ERROR(internal::Require(standing, SpaceAction::kChangeRoles, "owner_required",
                                             "Only the space's owners can change roles."));
    ROUNDS_ASSIGN_OR_RETURN(auto existing, tx.FindMembership(id, user_id));
    if (!existing) return NotFound("Member");
    ROUNDS_ASSIGN_OR_RETURN(auto target, tx.FindUser(user_id));
    if (target) ROUNDS_RETURN_IF_ERROR(GuestRole(*target, role));
    if (existing->role == MemberRole::kOwner && role != MemberRole::kOwner) ROUNDS_RETURN_IF_ERROR(KeepAnOwner(tx, id));
    existing->role = role;
    ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership(*existing));
    ROUNDS_RETURN_IF_ERROR(AuditAccess(tx, policy_, actor, space, "member.role", user_id, role, now));
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(user_id));
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
    json data = MemberAsSeen(policy_, *existing, *user, policy.pseudonyms);
    ROUNDS_ASSIGN_OR_RETURN(changed, AppendEvent(tx, id, "member.role", data, now));
    return data;
  }));
  Publish(bus_, changed);
  return member;
}

Status SpaceService::RemoveMember(const Actor& actor, SpaceId id, UserId user_id) {
  ROUNDS_ASSIGN_OR_RETURN(user_id, MemberNamed(policy_, id, user_id));
  UnixMillis now = clock_.NowMillis();
  PendingEvent left;
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    auto& [space, standing] = readable;
    // A direct conversation is its people: no one leaves it or is taken out of it.
    if (space.kind == SpaceKind::kDirect) {
      return InvalidArgument("invalid_value", "No one leaves or is removed from a direct conversation.");
    }
    bool self = user_id == actor.user.id;
    if (!self) {
      ROUNDS_RETURN_IF_ERROR(internal::Require(standing, SpaceAction::kRemoveMembers, "moderator_required",
                                               "Only the space's moderators and owners can remove people."));
    }
    ROUNDS_ASSIGN_OR_RETURN(auto existing, tx.FindMembership(id, user_id));
    if (!existing) return NotFound("Member");
    if (existing->role == MemberRole::kOwner && !Can(standing, SpaceAction::kChangeRoles)) {
      return Forbidden("owner_required", "Only owners can remove an owner.");
    }
    if (existing->role == MemberRole::kOwner) ROUNDS_RETURN_IF_ERROR(KeepAnOwner(tx, id));
    ROUNDS_RETURN_IF_ERROR(tx.DeleteMembership(id, user_id));
    ROUNDS_RETURN_IF_ERROR(AuditAccess(tx, policy_, actor, space, self ? "member.leave" : "member.remove", user_id,
                                       std::nullopt, now));
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
    const UserId as_seen = internal::MemberIdAsSeen(policy_, id, policy.pseudonyms, user_id);
    ROUNDS_ASSIGN_OR_RETURN(left, AppendEvent(tx, id, "member.left", json{{"space_id", id}, {"user_id", as_seen}}, now, {user_id}));
    return Ok();
  }));
  Publish(bus_, left);
  PublishToUsers(bus_, "space.removed", json{{"space_id", id}}, {user_id});
  return Ok();
}

Result<json> SpaceService::Join(const Actor& actor, SpaceId id) {
  if (!actor.IsStaff() || actor.is_system) return Forbidden("staff_only", "Only staff can join spaces.");
  UnixMillis now = clock_.NowMillis();
  PendingEvent joined;
  ROUNDS_ASSIGN_OR_RETURN(json view, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    auto& [space, standing] = readable;
    ROUNDS_ASSIGN_OR_RETURN(auto policy, JoiningPolicy(tx, policy_, space, standing));
    if (policy.joining == governance::policy::Joining::kRequest) {
      return Forbidden("join_request_required", "This space's policy admits people on request: ask one of its owners.");
    }
    if (space.archived) return Forbidden("space_archived", "This space is archived.");
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    if (!current.IsStaff()) return Forbidden("staff_only", "Only staff can join spaces.");
    Membership m{id, actor.user.id, MemberRole::kMember, space.last_seq, now};
    ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership(m));
    ROUNDS_RETURN_IF_ERROR(AuditAccess(tx, policy_, actor, space, "member.join", actor.user.id, m.role, now));
    ROUNDS_ASSIGN_OR_RETURN(joined, AppendEvent(tx, id, "member.joined", MemberAsSeen(policy_, m, current.user, policy.pseudonyms), now));
    ROUNDS_RETURN_IF_ERROR(tx.SetReadSeq(id, actor.user.id, space.last_seq));
    ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.FindSpace(id));
    return SpaceView(policy_, tx, actor, *stored, m);
  }));
  Publish(bus_, joined);
  PublishToUsers(bus_, "space.added", view, {actor.user.id});
  return view;
}

Status SpaceService::Leave(const Actor& actor, SpaceId id) { return RemoveMember(actor, id, actor.user.id); }

namespace {

json JoinRequestJson(const JoinRequest& request, const User& user) {
  return json{{"space_id", request.space_id}, {"user", UserRefJson(user)}, {"job_role", user.job_role},
              {"created_at", request.created_at}};
}

// The space's moderators and owners, but `except`: who is told of a join request.
Result<std::vector<UserId>> Deciders(store::ReadTx& tx, SpaceId id, UserId except) {
  ROUNDS_ASSIGN_OR_RETURN(auto ids, internal::ModeratorsAnd(tx, id, except));
  ids.erase(std::remove(ids.begin(), ids.end(), except), ids.end());
  return ids;
}

}  // namespace

Result<json> SpaceService::RequestToJoin(const Actor& actor, SpaceId id) {
  if (!actor.IsStaff() || actor.is_system) return Forbidden("staff_only", "Only staff can ask to join spaces.");
  const UnixMillis now = clock_.NowMillis();
  std::vector<UserId> deciders;
  ROUNDS_ASSIGN_OR_RETURN(json request, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    auto& [space, standing] = readable;
    ROUNDS_ASSIGN_OR_RETURN(auto policy, JoiningPolicy(tx, policy_, space, standing));
    if (policy.joining == governance::policy::Joining::kOpen) {
      return Fail(ErrorCode::kConflict, "join_open", "This space is open: join it without asking.");
    }
    if (space.archived) return Forbidden("space_archived", "This space is archived.");
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    if (!current.IsStaff()) return Forbidden("staff_only", "Only staff can ask to join spaces.");
    const JoinRequest pending{id, actor.user.id, now};
    ROUNDS_RETURN_IF_ERROR(tx.InsertJoinRequest(pending));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "member.join_request", "user", std::to_string(actor.user.id), now),
                                       json{{"space_id", id}}));
    ROUNDS_ASSIGN_OR_RETURN(deciders, Deciders(tx, id, actor.user.id));
    return JoinRequestJson(pending, current.user);
  }));
  PublishToUsers(bus_, "space.join_request", json{{"space_id", id}, {"user_id", actor.user.id}, {"change", "requested"}},
                 deciders);
  return request;
}

Status SpaceService::WithdrawJoinRequest(const Actor& actor, SpaceId id) {
  if (actor.is_system) return Forbidden();
  const UnixMillis now = clock_.NowMillis();
  std::vector<UserId> deciders;
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    (void)readable;
    ROUNDS_ASSIGN_OR_RETURN(bool withdrawn, tx.DeleteJoinRequest(id, actor.user.id));
    if (!withdrawn) return NotFound("Join request");
    ROUNDS_RETURN_IF_ERROR(AppendAudit(
        tx, AuditEntry(actor, "member.join_withdraw", "user", std::to_string(actor.user.id), now), json{{"space_id", id}}));
    ROUNDS_ASSIGN_OR_RETURN(deciders, Deciders(tx, id, actor.user.id));
    return Ok();
  }));
  PublishToUsers(bus_, "space.join_request", json{{"space_id", id}, {"user_id", actor.user.id}, {"change", "withdrawn"}},
                 deciders);
  return Ok();
}

Result<json> SpaceService::ListJoinRequests(const Actor& actor, SpaceId id) {
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    ROUNDS_RETURN_IF_ERROR(internal::Require(readable.second, SpaceAction::kAddMembers, "moderator_required",
                                             "Only the space's moderators and owners see requests to join."));
    ROUNDS_ASSIGN_OR_RETURN(auto requests, tx.ListJoinRequests(id, 1000));
    json items = json::array();
    for (const JoinRequest& r : requests) {
      ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(r.user_id));
      if (user && !user->disabled) items.push_back(JoinRequestJson(r, *user));
    }
    return json{{"items", items}};
  });
}

Result<json> SpaceService::DecideJoinRequest(const Actor& actor, SpaceId id, UserId user_id, bool approve) {
  const UnixMillis now = clock_.NowMillis();
  PendingEvent joined;
  json space_view;
  std::vector<UserId> deciders;
  ROUNDS_ASSIGN_OR_RETURN(json decided, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    auto& [space, standing] = readable;
    ROUNDS_RETURN_IF_ERROR(internal::Require(standing, SpaceAction::kAddMembers, "moderator_required",
                                             "Only the space's moderators and owners decide requests to join."));
    ROUNDS_ASSIGN_OR_RETURN(bool pending, tx.DeleteJoinRequest(id, user_id));
    if (!pending) return NotFound("Join request");
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(user_id));
    if (!user) return NotFound("Join request");
    ROUNDS_ASSIGN_OR_RETURN(deciders, Deciders(tx, id, user_id));
    if (!approve) {
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "member.join_decline", "user", std::to_string(user_id), now),
                                         json{{"space_id", id}}));
      return json{{"space_id", id}, {"user_id", user_id}, {"decision", "declined"}};
    }
    // As AddMember admits: a current account the template takes.
    if (user->disabled) return InvalidArgument("unknown_user", "That person's account is disabled.", "/user_id");
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
    ROUNDS_RETURN_IF_ERROR(internal::AdmitMember(policy, *user));
    Membership m{id, user_id, MemberRole::kMember, 0, now};
    ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership(m));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "member.join_approve", "user", std::to_string(user_id), now),
                                       json{{"space_id", id}, {"role", ToString(m.role)}}));
    ROUNDS_ASSIGN_OR_RETURN(joined, AppendEvent(tx, id, "member.joined", MemberAsSeen(policy_, m, *user, policy.pseudonyms), now));
    ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.FindSpace(id));
    ROUNDS_ASSIGN_OR_RETURN(space_view, SpaceView(policy_, tx, actor, *stored, m));
    return json{{"space_id", id}, {"user_id", user_id}, {"decision", "approved"}};
  }));
  const bool approved = decided["decision"] == "approved";
  if (approved) {
    Publish(bus_, joined);
    PublishToUsers(bus_, "space.added", space_view, {user_id});
  } else {
    PublishToUsers(bus_, "space.join_request", json{{"space_id", id}, {"user_id", user_id}, {"change", "declined"}},
                   {user_id});
  }
  PublishToUsers(bus_, "space.join_request",
                 json{{"space_id", id}, {"user_id", user_id}, {"change", approved ? "approved" : "declined"}}, deciders);
  return decided;
}

Result<json> SpaceService::Direct(const Actor& actor, const std::vector<UserId>& user_ids) {
  if (!actor.IsStaff() || actor.is_system) return Forbidden("staff_only", "Only staff can start direct messages.");
  std::set<UserId> others(user_ids.begin(), user_ids.end());
  others.erase(actor.user.id);
  if (others.empty() || others.size() > 8) {
    return InvalidArgument("invalid_value", "A direct conversation has 1 to 8 other people.", "/user_ids");
  }
  std::vector<UserId> all(others.begin(), others.end());
  all.push_back(actor.user.id);
  std::string key = DirectKey(all);
  UnixMillis now = clock_.NowMillis();
  std::vector<PendingEvent> events;
  // Who is told of the conversation as a space added, each with the space as they see it (their
  // own member id and read marker, not the caller's).
  std::vector<std::pair<UserId, json>> added;
  ROUNDS_ASSIGN_OR_RETURN(json view, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    events.clear();
    added.clear();
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    if (!current.IsStaff()) return Forbidden("staff_only", "Only staff can start direct messages.");
    ROUNDS_ASSIGN_OR_RETURN(auto existing, tx.FindDirectSpace(key));
    if (!existing) {
      Space space;
      space.kind = SpaceKind::kDirect;
      space.template_key = "clinical-team";  // care coordination between staff: PHI allowed
      ROUNDS_ASSIGN_OR_RETURN(space.template_version, LatestTemplateVersion(tx, space.template_key));
      ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
      std::vector<User> users;
      for (UserId id : others) {
        ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(id));
        if (!user || user->disabled || user->kind != AccountKind::kStaff) {
          return InvalidArgument("unknown_user", "User " + std::to_string(id) + " cannot be messaged.", "/user_ids");
        }
        ROUNDS_RETURN_IF_ERROR(internal::AdmitMember(policy, *user));  // the template's rule on guests
        users.push_back(*user);
      }
      users.push_back(current.user);
      space.visibility = Visibility::kPrivate;
      space.join_policy = JoinPolicy::kInvite;
      space.direct_key = key;
      space.created_by = actor.user.id;
      space.created_at = now;
      ROUNDS_ASSIGN_OR_RETURN(space.id, tx.InsertSpace(space));
      for (const User& u : users) {
        Membership m{space.id, u.id, MemberRole::kMember, 0, now};
        ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership(m));
        ROUNDS_ASSIGN_OR_RETURN(auto e, AppendEvent(tx, space.id, "member.joined", MembershipJson(m, u), now));
        events.push_back(std::move(e));
        if (u.id != actor.user.id) added.emplace_back(u.id, json());  // their views once it is read back
      }
      existing = space;
    }
    ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.FindSpace(existing->id));
    for (auto& [user, theirs] : added) {
      ROUNDS_ASSIGN_OR_RETURN(theirs, SpaceView(policy_, tx, actor, *stored, Membership{stored->id, user, MemberRole::kMember, 0, now}));
    }
    ROUNDS_ASSIGN_OR_RETURN(auto membership, tx.FindMembership(existing->id, actor.user.id));
    if (!membership) {
      // One of its people without a membership (a conversation left before leaving was refused):
      // the conversation is theirs, so they are back in it.
      Membership m{existing->id, current.user.id, MemberRole::kMember, 0, now};
      ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership(m));
      ROUNDS_ASSIGN_OR_RETURN(auto e, AppendEvent(tx, existing->id, "member.joined", MembershipJson(m, current.user), now));
      events.push_back(std::move(e));
      membership = m;
    }
    ROUNDS_ASSIGN_OR_RETURN(json mine, SpaceView(policy_, tx, actor, *stored, membership));
    // The caller's other sessions learn of it when it is new to them: made now, or taken back.
    if (!events.empty()) added.emplace_back(actor.user.id, mine);
    return mine;
  }));
  for (const auto& e : events) Publish(bus_, e);
  for (const auto& [user, theirs] : added) PublishToUsers(bus_, "space.added", theirs, {user});
  return view;
}

Status SpaceService::MarkRead(const Actor& actor, SpaceId id, Seq seq) {
  if (seq < 0) return InvalidArgument("invalid_value", "seq must not be negative.", "/seq");
  Seq stored_seq = 0;
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, id));
    if (!readable.second.role) return Forbidden("not_a_member", "Only members keep a read marker.");
    Seq capped = std::min(seq, readable.first.last_seq);
    ROUNDS_RETURN_IF_ERROR(tx.SetReadSeq(id, actor.user.id, capped));
    ROUNDS_ASSIGN_OR_RETURN(auto m, tx.FindMembership(id, actor.user.id));
    stored_seq = m ? m->read_seq : capped;
    return Ok();
  }));
  PublishToUsers(bus_, "read.updated", json{{"space_id", id}, {"read_seq", stored_seq}}, {actor.user.id});
  return Ok();
}

}  // namespace rounds::app
