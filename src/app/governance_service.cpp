#include "app/governance_service.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "app/screening.hpp"
#include "core/crypto.hpp"
#include "core/json_text.hpp"

namespace rounds::app {

using namespace rounds::domain;
using internal::AuthorCache;
using internal::PendingEvent;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxReasonChars = 500;
constexpr std::size_t kMaxAppealChars = 2000;
constexpr int kMaxDryRun = 1000;

Status ValidateReason(const std::string& reason, const char* field, std::size_t max, bool required = true) {
  if (!IsValidUtf8(reason)) return InvalidArgument("invalid_utf8", "The text is not valid.", field);
  bool blank = std::all_of(reason.begin(), reason.end(), [](unsigned char c) { return std::isspace(c); });
  if (required && blank) return InvalidArgument("reason_required", "Give a reason.", field);
  if (CodePointCount(reason) > max) {
    return InvalidArgument("too_long", "At most " + std::to_string(max) + " characters.", field);
  }
  return Ok();
}

// Free text kept beside a moderation decision (a report's reason, a moderator's, an appeal and
// its answer) is shown to others: the queue's moderators, the author. It keeps no PHI: what the
// scanner finds is redacted before it is stored, as emergency access reasons are. An appeal is
// shown back to its author: an outsider's keeps what only the patient index finds, as their post
// does (RedactForTheRecord), and is never on the trail.
std::string WithoutPhi(const PolicyEngine& policy, std::string text, const char* field,
                       Author author = Author::kStaff) {
  RedactForTheRecord(policy, text, field, author);
  return text;
}

// A compliance officer's act on templates: anyone else is refused once the refusal is on record.
Status OfficerOnRecord(store::Store& store, const Clock& clock, const Actor& actor, const char* action,
                       const char* object_type, std::string object_id = {}) {
  return internal::RequireComplianceOnRecord(store, clock.NowMillis(), actor, action, object_type,
                                             "Only compliance officers can do that.", false, std::move(object_id))
      .map([](auto&&) {});
}

json IssuesJson(const std::vector<policy::ValidationIssue>& issues) {
  json items = json::array();
  for (const auto& i : issues) items.push_back({{"path", i.path}, {"code", i.code}, {"message", i.message}});
  return items;
}

Error InvalidTemplate(const std::vector<policy::ValidationIssue>& issues) {
  Error e;
  e.code = ErrorCode::kInvalidArgument;
  e.problem = "invalid_template";
  e.public_message = issues.empty() ? "The template is not valid."
                                    : "The template is not valid: " + issues.front().path + " " + issues.front().message;
  if (!issues.empty()) e.field = issues.front().path;
  e.extensions_json = json{{"issues", IssuesJson(issues)}}.dump();
  return e;
}

// A document to be stored as version `version` of `key` (nullptr: of the key it names): valid as
// /templates/validate says, and naming no other key or version than the one it is stored as (either
// may be left out). What is stored is then what the document says, never silently something else.
Result<policy::PolicyTemplate> ParseToStore(const json& document, const std::string* key, int version) {
  json doc = document;
  if (doc.is_object()) {
    if (key != nullptr && !doc.contains("key")) doc["key"] = *key;
    if (!doc.contains("version") || doc["version"].is_null()) doc["version"] = version;
  }
  auto parsed = policy::ParseTemplate(doc);
  if (!parsed) return Fail(InvalidTemplate(parsed.error()));
  std::vector<policy::ValidationIssue> issues;
  if (key != nullptr && parsed->key != *key) {
    issues.push_back({"/key", "key_mismatch", "This is a version of '" + *key + "'; 'key' must be that or left out."});
  }
  if (parsed->version != version) {
    issues.push_back({"/version", "version_mismatch",
                      "This is stored as version " + std::to_string(version) + "; 'version' must be " +
                          std::to_string(version) + " or left out."});
  }
  if (!issues.empty()) return Fail(InvalidTemplate(issues));
  return std::move(*parsed);
}

// A direct conversation runs under the template it was started with (clinical-team): any other could
// lock its two members out of their own conversation (announcements lets only owners post), so
// none is assigned to one, nor tried on one.
Status NotDirect(const Space& space) {
  if (space.kind != SpaceKind::kDirect) return Ok();
  return Fail(ErrorCode::kPolicyDenied, "direct_conversation",
              "Direct conversations run under their built-in template; no other is assigned to them.");
}

json TemplateJson(const policy::PolicyTemplate& t, bool builtin, std::int64_t space_count) {
  return json{{"key", t.key},
              {"version", t.version},
              {"name", t.name},
              {"description", t.description},
              {"builtin", builtin},
              {"document", policy::ToJson(t)},
              {"space_count", space_count}};
}


}  // namespace

json ModerationActionJson(const ModerationAction& a) {
  json appeal = nullptr;
  if (a.appealed_at > 0) {
    appeal = json{{"text", a.appeal_text},
                  {"appealed_at", a.appealed_at},
                  {"outcome", a.appeal_outcome == AppealOutcome::kNone ? json(nullptr) : json(ToString(a.appeal_outcome))},
                  {"reason", a.appeal_reason},
                  {"decided_by", a.appeal_decided_by == 0 ? json(nullptr) : json(a.appeal_decided_by)},
                  {"decided_at", a.appeal_decided_at == 0 ? json(nullptr) : json(a.appeal_decided_at)}};
  }
  return json{{"id", a.id},
              {"space_id", a.space_id},
              {"message_id", a.message_id ? json(*a.message_id) : json(nullptr)},
              {"target_user_id", a.target_user_id},
              {"moderator_id", a.moderator_id},
              {"action", ToString(a.kind)},
              {"reason", a.reason},
              {"created_at", a.created_at},
              {"appeal", appeal}};
}

// A decision as its author sees it: what was decided and why, never who decided it.
json ModerationActionForAuthor(const ModerationAction& a) {
  json j = ModerationActionJson(a);
  j.erase("moderator_id");
  if (j["appeal"].is_object()) j["appeal"].erase("decided_by");
  return j;
}

json FindingsJson(const std::vector<phi::Finding>& findings, const std::string& field) {
  Screening s;
  s.fields.push_back({field, {}, findings});
  return s.FindingsJson();
}

GovernanceService::GovernanceService(store::Store& store, bus::Bus& bus, const Clock& clock, PolicyEngine& policy)
    : store_(store), bus_(bus), clock_(clock), policy_(policy), officers_(store) {}

Result<std::vector<UserId>> ComplianceOfficers::List(store::WriteTx& tx) {
  const std::optional<store::ChangeStamp> stamp = store_.Stamp(0);
  if (stamp) {
    std::lock_guard lock(mutex_);
    if (read_at_ == stamp->everything) return ids_;
  }
  ROUNDS_ASSIGN_OR_RETURN(auto ids, tx.ListComplianceOfficerIds());
  if (stamp) {
    std::lock_guard lock(mutex_);
    read_at_ = stamp->everything;
    ids_ = ids;
  }
  return ids;
}

Status GovernanceService::RequireCompliance(const Actor& actor) const {
  if (actor.IsCompliance()) return Ok();
  return Forbidden("compliance_required", "Only compliance officers can do that.");
}

// The patient index is kept by administrators (administering now) and compliance officers.
Status GovernanceService::RequireAdminOrCompliance(const Actor& actor) const {
  if (actor.IsAdmin() || actor.IsCompliance()) return Ok();
  if (actor.user.is_admin) return internal::AdminRefusal(actor);
  return RequireCompliance(actor);
}

// ---- Templates ------------------------------------------------------------------------------

Result<json> GovernanceService::ListTemplates(const Actor& actor) {
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor));
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.ListTemplates());
    std::set<std::string> keys;
    for (const auto& t : policy::BuiltInTemplates()) keys.insert(t.key);
    for (const auto& t : stored) keys.insert(t.key);
    std::map<std::pair<std::string, int>, std::int64_t> counts;
    for (const auto& key : keys) {
      ROUNDS_ASSIGN_OR_RETURN(auto spaces, tx.ListSpacesByTemplate(key));
      for (const auto& s : spaces) ++counts[{s.template_key, s.template_version}];
    }
    json items = json::array();
    for (const auto& t : policy::BuiltInTemplates()) items.push_back(TemplateJson(t, true, counts[{t.key, t.version}]));
    for (const auto& st : stored) {
      auto parsed = policy::ParseTemplateText(st.document);
      if (!parsed) continue;  // stored documents were validated; a newer binary may reject an old field
      items.push_back(TemplateJson(*parsed, false, counts[{st.key, st.version}]));
    }
    return json{{"items", items}};
  });
}

Result<json> GovernanceService::GetTemplate(const Actor& actor, const std::string& key, int version) {
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor));
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto t, policy_.Template(tx, key, version));
    ROUNDS_ASSIGN_OR_RETURN(auto spaces, tx.ListSpacesByTemplate(key));
    // Which spaces run under this version: what a new version's assignment would change.
    json under = json::array();
    for (const Space& s : spaces) {
      if (s.template_version != version) continue;
      json ref = SpaceRefJson(s);
      ref["archived"] = s.archived;
      under.push_back(std::move(ref));
    }
    const auto* builtin = policy::FindBuiltIn(key);
    json j = TemplateJson(t, builtin && builtin->version == version, static_cast<std::int64_t>(under.size()));
    j["spaces"] = std::move(under);
    return j;
  });
}

json GovernanceService::ValidateTemplate(const json& document) {
  auto parsed = policy::ParseTemplate(document);
  if (parsed) return json{{"valid", true}, {"issues", json::array()}};
  return json{{"valid", false}, {"issues", IssuesJson(parsed.error())}};
}

Result<json> GovernanceService::CreateTemplate(const Actor& actor, const json& document) {
  ROUNDS_RETURN_IF_ERROR(OfficerOnRecord(store_, clock_, actor, "template.create", "template"));
  return StoreNewTemplate(actor, document, nullptr);
}

Result<json> GovernanceService::StoreNewTemplate(const Actor& actor, const json& document, const json& audit_details) {
  ROUNDS_ASSIGN_OR_RETURN(auto parsed, ParseToStore(document, nullptr, 1));
  UnixMillis now = clock_.NowMillis();
  return store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(auto existing, tx.ListTemplates());
    bool taken = policy::FindBuiltIn(parsed.key) != nullptr ||
                 std::any_of(existing.begin(), existing.end(), [&](const StoredTemplate& t) { return t.key == parsed.key; });
    if (taken) return Fail(ErrorCode::kConflict, "template_exists", "A template with that key exists; add a version instead.");
    ROUNDS_RETURN_IF_ERROR(tx.InsertTemplate({parsed.key, 1, policy::ToJson(parsed).dump(), current.user.id, now}));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(current, "template.create", "template", parsed.key + "@1", now),
                                       audit_details));
    return TemplateJson(parsed, false, 0);
  });
}

Result<json> GovernanceService::NewVersion(const Actor& actor, const std::string& key, const json& document) {
  // A refusal names the template asked for (the sender's text, cut short).
  ROUNDS_RETURN_IF_ERROR(OfficerOnRecord(store_, clock_, actor, "template.version", "template", ShortenedText(key, 100)));
  if (!document.is_object()) return Fail(InvalidTemplate({{"", "invalid_type", "A template is a JSON object."}}));
  UnixMillis now = clock_.NowMillis();
  return store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(int latest, LatestTemplateVersion(tx, key));
    if (latest == 0) return NotFound("Template");
    ROUNDS_ASSIGN_OR_RETURN(auto parsed, ParseToStore(document, &key, latest + 1));
    ROUNDS_RETURN_IF_ERROR(tx.InsertTemplate({key, latest + 1, policy::ToJson(parsed).dump(), current.user.id, now}));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(current, "template.version", "template",
                                                      key + "@" + std::to_string(latest + 1), now),
                                       json{{"previous_version", latest}}));
    return TemplateJson(parsed, false, 0);
  });
}

Result<json> GovernanceService::CloneTemplate(const Actor& actor, const std::string& key, const std::string& new_key,
                                              const std::string& name) {
  ROUNDS_RETURN_IF_ERROR(OfficerOnRecord(store_, clock_, actor, "template.clone", "template", ShortenedText(key, 100)));
  ROUNDS_ASSIGN_OR_RETURN(policy::PolicyTemplate source, store_.Read([&](store::ReadTx& tx) -> Result<policy::PolicyTemplate> {
    ROUNDS_ASSIGN_OR_RETURN(int latest, LatestTemplateVersion(tx, key));
    if (latest == 0) return NotFound("Template");
    return policy_.Template(tx, key, latest);
  }));
  json document = policy::ToJson(source);
  document["key"] = new_key;
  document["version"] = 1;
  if (!name.empty()) document["name"] = name;
  // The copy's record names what it was copied from: the key and the version as it was then.
  return StoreNewTemplate(actor, document, json{{"cloned_from", key + "@" + std::to_string(source.version)}});
}

Result<json> GovernanceService::DiffTemplate(const Actor& actor, const std::string& key, int from, int to) {
  ROUNDS_RETURN_IF_ERROR(RequireCompliance(actor));
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto a, policy_.Template(tx, key, from));
    ROUNDS_ASSIGN_OR_RETURN(auto b, policy_.Template(tx, key, to));
    json patch = json::diff(policy::ToJson(a), policy::ToJson(b));
    json changes = json::array();
    json before = policy::ToJson(a), after = policy::ToJson(b);
    for (const auto& op : patch) {
      std::string path = op["path"];
      if (path == "/version") continue;
      json::json_pointer ptr(path);
      changes.push_back({{"path", path},
                         {"op", op["op"]},
                         {"from", before.contains(ptr) ? before[ptr] : json(nullptr)},
                         {"to", after.contains(ptr) ? after[ptr] : json(nullptr)}});
    }
    return json{{"key", key}, {"from", from}, {"to", to}, {"changes", changes}};
  });
}

Result<json> GovernanceService::AssignTemplate(const Actor& actor, SpaceId space_id, const std::string& key, int version,
                                               const std::string& reason) {
  ROUNDS_RETURN_IF_ERROR(OfficerOnRecord(store_, clock_, actor, "template.assign", "space", std::to_string(space_id)));
  ROUNDS_RETURN_IF_ERROR(ValidateReason(reason, "/reason", kMaxReasonChars, false));
  UnixMillis now = clock_.NowMillis();
  PendingEvent updated;
  std::optional<Screening> phi_refusal;  // PHI in the name or topic of a space patients would see
  auto written = store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(space_id));
    if (!space) return NotFound("Space");
    ROUNDS_RETURN_IF_ERROR(NotDirect(*space));
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.Template(tx, key, version));
    // A space that patients see carries no PHI in its name or topic, as when it is made under
    // such a template.
    if (policy.audience != governance::policy::Audience::kStaff) {
      Screening screening = Screen(policy_, {{"name", space->name}, {"topic", space->topic}});
      if (screening.FindingCount() > 0) {
        phi_refusal = std::move(screening);
        return Fail(PhiRefusal(phi::PhiAction::kBlock, *phi_refusal));
      }
    }
    // The template says who the space is for: one for staff alone is not given to a space that
    // has patients among its members (they would keep reading it).
    if (!governance::policy::MayBeMember(policy, governance::policy::Account::kPatient)) {
      ROUNDS_ASSIGN_OR_RETURN(std::int64_t patients, tx.CountMembersOfKind(space_id, AccountKind::kPatient));
      if (patients > 0) {
        return Fail(ErrorCode::kPolicyDenied, "audience_staff_only",
                    "This template is for staff, and " + std::to_string(patients) +
                        (patients == 1 ? " patient is a member" : " patients are members") +
                        " of the space: remove them first.");
      }
    }
    // Nor one that does not allow guests to a space that has guests among its members.
    if (!governance::policy::MayBeMember(policy, governance::policy::Account::kGuest)) {
      ROUNDS_ASSIGN_OR_RETURN(std::int64_t guests, tx.CountGuestMembers(space_id));
      if (guests > 0) {
        return Fail(ErrorCode::kPolicyDenied, "guests_not_allowed",
                    "This template does not allow guests, and " + std::to_string(guests) +
                        (guests == 1 ? " guest is a member" : " guests are members") + " of the space: remove them first.");
      }
    }
    // Pseudonyms are a promise made to the people in a space when they join and post: turned on,
    // what they already posted and were shown under their names stays so (kept pages, stored
    // events); turned off, everything they posted under pseudonyms would carry their names. So a
    // template that turns them on or off goes only to a space no one has used beyond making it.
    ROUNDS_ASSIGN_OR_RETURN(auto in_force, policy_.TemplateFor(tx, *space));
    if (in_force.pseudonyms != policy.pseudonyms && (space->last_seq > 1 || space->member_count > 1)) {
      return Fail(ErrorCode::kPolicyDenied, "pseudonyms_fixed",
                  std::string("This template turns pseudonyms ") + (policy.pseudonyms ? "on" : "off") +
                      ", and people have used this space already: members would be named otherwise than when "
                      "they posted. Make a new space under this template instead.");
    }
    std::string previous = space->template_key + "@" + std::to_string(space->template_version);
    ROUNDS_RETURN_IF_ERROR(tx.SetSpaceTemplate(space_id, key, version));
    space->template_key = key;
    space->template_version = version;
    auto record = AuditEntry(current, "template.assign", "space", std::to_string(space_id), now);
    record.reason = reason;
    RedactForTheRecord(policy_, record.reason, "reason");
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, record, json{{"template", key + "@" + std::to_string(version)},
                                                        {"previous", previous}}));
    json j = SpaceJson(*space);
    j["template"] = internal::TemplateSummary(policy);
    ROUNDS_ASSIGN_OR_RETURN(updated, internal::AppendEvent(tx, space_id, "space.updated", j, now));
    return j;
  });
  if (phi_refusal) {
    RecordPhiRefusal(store_, actor, "template.phi_refuse", "space", std::to_string(space_id), phi::PhiAction::kBlock,
                     RefusalDetails(*phi_refusal), now);
  }
  ROUNDS_ASSIGN_OR_RETURN(json result, std::move(written));
  policy_.NoteAssignment();  // before the event: sockets ask again whether the space is PHI-bearing
  internal::Publish(bus_, updated);
  return result;
}

Result<json> GovernanceService::DryRun(const Actor& actor, SpaceId space_id, const std::string& key, int version,
                                       int limit) {
  ROUNDS_RETURN_IF_ERROR(OfficerOnRecord(store_, clock_, actor, "template.dry_run", "space", std::to_string(space_id)));
  limit = std::clamp(limit <= 0 ? 200 : limit, 1, kMaxDryRun);
  // Read the messages, then scan outside the read transaction.
  struct SampleFile {
    Attachment attachment;
    std::optional<std::string> text;  // a text file's content, when it was read
  };
  struct Sample {
    MessageId id;
    UserId author;
    std::string title, body;
    std::vector<std::string> options;
    std::optional<MemberRole> role;
    std::vector<SampleFile> files;
    Author written_by = Author::kStaff;  // an outsider's post is judged without the patient index
  };
  std::vector<Sample> samples;
  // Text files are screened as an upload is, up to a budget: a dry run reads at most this much
  // file content (each file at most a quarter of it); files past it are counted, not screened.
  constexpr std::int64_t kContentBudget = 16LL << 20;
  std::int64_t content_read = 0;
  int files_not_screened = 0;
  policy::PolicyTemplate policy;
  ROUNDS_RETURN_IF_ERROR(store_.Read([&](store::ReadTx& tx) -> Result<bool> {
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(space_id));
    if (!space) return NotFound("Space");
    ROUNDS_RETURN_IF_ERROR(NotDirect(*space));
    ROUNDS_ASSIGN_OR_RETURN(policy, policy_.Template(tx, key, version));
    // The space's last messages whatever their thread: an assigned version judges every new post
    // and every reply.
    store::MessageQuery q;
    q.space_id = space_id;
    q.all_threads = true;
    q.limit = limit;
    q.moderator_view = true;
    ROUNDS_ASSIGN_OR_RETURN(auto messages, tx.ListMessages(q));  // newest first
    std::map<UserId, std::optional<MemberRole>> roles;
    std::map<UserId, Author> authors;
    for (auto& m : messages) {
      if (!roles.count(m.author_id)) {
        ROUNDS_ASSIGN_OR_RETURN(auto membership, tx.FindMembership(space_id, m.author_id));
        roles[m.author_id] = membership ? std::optional(membership->role) : std::nullopt;
        ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(m.author_id));
        Actor author;
        if (user) author.user = std::move(*user);
        authors[m.author_id] = user ? AuthorOf(author) : Author::kStaff;
      }
      Sample s{m.id, m.author_id, m.title, m.body, {}, roles[m.author_id], {}, authors[m.author_id]};
      for (const auto& o : m.poll_options) s.options.push_back(o.text);
      for (auto& a : m.attachments) {
        SampleFile file{std::move(a), std::nullopt};
        if (IsTextualType(file.attachment.content_type)) {
          if (file.attachment.size <= kContentBudget / 4 && content_read + file.attachment.size <= kContentBudget) {
            ROUNDS_ASSIGN_OR_RETURN(file.text, tx.ReadAttachmentContent(file.attachment.id));
            content_read += file.attachment.size;
          } else {
            ++files_not_screened;
          }
        }
        s.files.push_back(std::move(file));
      }
      samples.push_back(std::move(s));
    }
    return true;
  }).map([](bool) {}));
  ROUNDS_ASSIGN_OR_RETURN(Actor current, store_.Read([&](store::ReadTx& tx) { return internal::Current(tx, actor); }));
  std::map<std::string, int> counts{{"allowed", 0}, {"warned", 0}, {"held", 0}, {"blocked", 0}, {"redacted", 0},
                                    {"pre_moderated", 0}};
  int with_refused_files = 0;
  json items = json::array();
  for (auto& s : samples) {
    std::vector<std::pair<std::string, std::string>> fields{{"body", s.body}, {"title", s.title}};
    for (std::size_t i = 0; i < s.options.size(); ++i) fields.emplace_back("poll_options/" + std::to_string(i), s.options[i]);
    // Its files, as their uploads would be judged under this version: names and text screened
    // with the message, and the files it would not take at all.
    json file_refusals = json::array();
    for (std::size_t i = 0; i < s.files.size(); ++i) {
      const Attachment& a = s.files[i].attachment;
      fields.emplace_back("attachments/" + std::to_string(i) + "/name", a.name);
      if (s.files[i].text) fields.emplace_back("attachments/" + std::to_string(i) + "/content", std::move(*s.files[i].text));
      if (auto refused = CheckAttachmentRule(policy.attachments, static_cast<std::size_t>(a.size), a.content_type);
          !refused) {
        file_refusals.push_back({{"attachment_id", a.id}, {"code", refused.error().problem}});
      }
    }
    if (!file_refusals.empty()) ++with_refused_files;
    Screening screening = Screen(policy_, std::move(fields), s.written_by);
    phi::PhiAction action = ApplyPhiRule(policy.phi, screening);
    // What only the patient index found in an outsider's post sends it to review (HoldForReview).
    if ((action == phi::PhiAction::kAllow || action == phi::PhiAction::kRedact) && HoldForReview(policy.phi, screening)) {
      action = phi::PhiAction::kHold;
    }
    std::string outcome;
    switch (action) {
      case phi::PhiAction::kAllow: outcome = "allowed"; break;
      case phi::PhiAction::kWarn: outcome = "warned"; break;
      case phi::PhiAction::kHold: outcome = "held"; break;
      case phi::PhiAction::kBlock: outcome = "blocked"; break;
      case phi::PhiAction::kRedact: outcome = "redacted"; break;
    }
    Standing standing;
    standing.role = s.role;
    if (outcome == "allowed" &&
        policy::DecidePublication(policy, internal::PolicyStanding(standing), s.written_by == Author::kOutsider) ==
            policy::Publication::kHoldForReview) {
      outcome = "pre_moderated";
    }
    ++counts[outcome];
    json types = json::array();
    for (const auto& f : screening.fields) {
      for (const auto& finding : f.findings) types.push_back(TypeCode(finding.type));
      for (const auto& finding : f.withheld) types.push_back(TypeCode(finding.type));  // the officer is told
    }
    json item{{"message_id", s.id}, {"action", outcome}, {"finding_types", types}};
    if (!file_refusals.empty()) item["file_refusals"] = std::move(file_refusals);
    items.push_back(std::move(item));
  }
  // Dry runs read content of the space: audited like any other compliance read.
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, AuditEntry(current, "template.dry_run", "space", std::to_string(space_id),
                                                     clock_.NowMillis()),
                                  json{{"template", key + "@" + std::to_string(version)},
                                       {"messages_checked", samples.size()}}));
  json out{{"space_id", space_id}, {"key", key}, {"version", version}, {"messages_checked", samples.size()},
           {"with_refused_files", with_refused_files}, {"files_not_screened", files_not_screened}, {"items", items}};
  for (const auto& [name, n] : counts) out[name] = n;
  return out;
}

// ---- PHI preview ----------------------------------------------------------------------------

Result<json> GovernanceService::PhiCheck(const Actor& actor, SpaceId space_id, const std::string& body,
                                         const std::string& title, MessageId thread, MessageId editing) {
  if (!IsValidUtf8(body) || !IsValidUtf8(title)) return InvalidArgument("invalid_utf8", "The text is not valid.", "/body");
  EditNeighbours neighbours;
  ROUNDS_ASSIGN_OR_RETURN(auto policy, store_.Read([&](store::ReadTx& tx) -> Result<policy::PolicyTemplate> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, space_id));
    if (editing != 0) {
      ROUNDS_ASSIGN_OR_RETURN(auto message, tx.FindMessage(editing, actor.user.id));
      if (!message || message->space_id != space_id || message->author_id != actor.user.id || message->deleted) {
        return NotFound("Message");
      }
      ROUNDS_ASSIGN_OR_RETURN(neighbours, ReadEditNeighbours(tx, *message));
    }
    return policy_.TemplateFor(tx, readable.first);
  }));
  // The body as the post or edit will be screened: after the end of the author's previous post in
  // the same conversation too, as a reply to someone else's newest there (and, for an edit, before
  // the next).
  if (editing == 0) {
    const UnixMillis now = clock_.NowMillis();
    neighbours.previous = policy_.Carried(space_id, thread, actor.user.id, now);
    neighbours.asked = policy_.Asked(space_id, thread, actor.user.id, now);
  }
  // An outsider (a patient, a guest) is told what a post would be refused or redacted for, never
  // what the patient index matched: the check would otherwise say who is a patient here.
  Screening screening = Screen(policy_, {{"body", body}, {"title", title}}, AuthorOf(actor), neighbours.view());
  phi::PhiAction action = ApplyPhiRule(policy.phi, screening);
  return json{{"action", phi::ToString(action)}, {"findings", screening.FindingsJson()}};
}

// ---- Moderation -----------------------------------------------------------------------------

namespace {

// The space's moderators and owners: who is told live that its queue changed.
Result<std::vector<UserId>> SpaceModerators(store::ReadTx& tx, SpaceId space_id) {
  ROUNDS_ASSIGN_OR_RETURN(auto ids, internal::ModeratorsAnd(tx, space_id, 0));
  ids.erase(std::remove(ids.begin(), ids.end(), UserId{0}), ids.end());
  return ids;
}

}  // namespace

Result<json> GovernanceService::Report(const Actor& actor, MessageId message_id, const std::string& reason) {
  if (actor.is_system) return Forbidden();
  ROUNDS_RETURN_IF_ERROR(ValidateReason(reason, "/reason", kMaxReasonChars));
  const std::string kept_reason = WithoutPhi(policy_, reason, "reason");
  UnixMillis now = clock_.NowMillis();
  std::vector<UserId> watchers;
  Result<json> report = store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(auto message, tx.FindMessage(message_id, current.user.id));
    if (!message || message->deleted || message->state != MessageState::kPublished) return NotFound("Message");
    auto readable = internal::ReadableSpace(tx, current, message->space_id);
    if (!readable) return NotFound("Message");
    if (message->author_id == current.user.id) return InvalidArgument("own_message", "You cannot report your own message.");
    domain::Report r{0, message_id, message->space_id, current.user.id, kept_reason, now, 0};
    auto id = tx.InsertReport(r);
    if (!id && id.error().code == ErrorCode::kConflict) {
      return Fail(ErrorCode::kConflict, "already_reported", "You have already reported this message.");
    }
    if (!id) return tl::unexpected(id.error());
    auto record = AuditEntry(current, "moderation.report", "message", std::to_string(message_id), now);
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, record, json{{"report_id", *id}, {"space_id", message->space_id}}));
    ROUNDS_ASSIGN_OR_RETURN(auto moderators, SpaceModerators(tx, message->space_id));
    ROUNDS_ASSIGN_OR_RETURN(auto officers, officers_.List(tx));
    watchers = internal::QueueWatchers(std::move(moderators), officers);
    return json{{"id", *id}, {"message_id", message_id}, {"space_id", message->space_id}, {"created_at", now}};
  });
  // Those who work the space's queue see the report come in (the reporter is not named).
  if (report) {
    internal::PublishQueueChange(bus_, "report", (*report)["space_id"].get<SpaceId>(), "message_id", message_id,
                                 std::move(watchers));
  }
  return report;
}

namespace {

// A moderation request refused (not allowed, about something the asker may not see, or refused
// by the PHI rule in force) is on the record: who asked for what, and the refusal's code. Best
// effort: the refusal stands either way.
void RecordRefusal(store::Store& store, const Actor& actor, const std::string& action, const char* object_type,
                   const std::string& object_id, const Error& error, UnixMillis now) {
  if (error.code != ErrorCode::kForbidden && error.code != ErrorCode::kNotFound &&
      error.code != ErrorCode::kPolicyDenied) {
    return;
  }
  auto denied = AuditEntry(actor, action, object_type, object_id, now);
  denied.outcome = AuditOutcome::kDenied;
  denied.reason = error.problem;
  (void)AuditNow(store, denied);
}

// Whether `current` acts as a moderator in the space: its moderators and owners, and compliance
// officers in every space, member or not (their queue across spaces shows every one). Anyone
// who cannot read the space is told it is not there.
Status RequireModeration(store::ReadTx& tx, const Actor& current, SpaceId space_id, const char* refusal) {
  if (current.IsCompliance()) {
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(space_id));
    if (!space) return NotFound("Space");
    return Ok();
  }
  ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, current, space_id));
  if (!Can(readable.second, SpaceAction::kModerate)) return Forbidden("moderator_required", refusal);
  return Ok();
}

// The spaces `actor` moderates (moderator or owner), for their views across spaces.
Result<std::vector<SpaceId>> ModeratedSpaces(store::ReadTx& tx, const Actor& actor) {
  ROUNDS_ASSIGN_OR_RETURN(auto mine, tx.ListSpacesForUser(actor.user.id));
  std::vector<SpaceId> spaces;
  for (const auto& ms : mine) {
    if (ms.membership.role >= MemberRole::kModerator) spaces.push_back(ms.space.id);
  }
  return spaces;
}

// Whether `message` may be published under the template its space runs now: a post held under
// one rule, or taken down and restored on appeal, may meet a template that has since come to block
// or redact PHI. Its text is screened again; a refusal lists the findings as a post's would, and
// the moderator removes the post or its author edits it.
Status PublishableNow(store::ReadTx& tx, const PolicyEngine& policy, const Message& message) {
  ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(message.space_id));
  if (!space) return NotFound("Message");
  ROUNDS_ASSIGN_OR_RETURN(auto rules, policy.TemplateFor(tx, *space));
  if (rules.phi != governance::policy::PhiRule::kBlock && rules.phi != governance::policy::PhiRule::kRedact) return Ok();
  std::vector<std::pair<std::string, std::string>> fields{{"body", message.body}, {"title", message.title}};
  for (const auto& option : message.poll_options) {
    fields.emplace_back("poll_options/" + std::to_string(option.index), option.text);
  }
  Screening screening = Screen(policy, std::move(fields));
  // A file whose upload screening found PHI is refused as a new post's would be, with what the
  // patient index alone found in an outsider's file (the moderator is told).
  for (std::size_t i = 0; i < message.attachments.size(); ++i) {
    Screening file = AttachmentScreening(message.attachments[i], i, Author::kStaff);
    if (file.FindingCount() > 0) screening.fields.push_back(std::move(file.fields[0]));
  }
  if (screening.FindingCount() == 0) return Ok();
  return Fail(PhiRefusal(phi::PhiAction::kBlock, screening));
}

}  // namespace

Result<json> GovernanceService::Queue(const Actor& actor, std::optional<SpaceId> space_id, MessageId after_id, int limit) {
  limit = internal::ClampLimit(limit);
  std::map<SpaceId, SpaceRead> phi_read;  // PHI-bearing spaces among the items: what was read
  Result<json> result = store_.Read([&](store::ReadTx& tx) -> Result<json> {
    phi_read.clear();
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    std::vector<SpaceId> spaces;
    if (space_id) {
      ROUNDS_RETURN_IF_ERROR(RequireModeration(tx, current, *space_id, "Only the space's moderators can see its queue."));
      spaces.push_back(*space_id);
    } else if (!current.IsCompliance()) {
      // Everyone else sees the queues of the spaces they moderate.
      ROUNDS_ASSIGN_OR_RETURN(spaces, ModeratedSpaces(tx, current));
      if (spaces.empty()) return json{{"items", json::array()}, {"next_cursor", nullptr}};
    }
    ROUNDS_ASSIGN_OR_RETURN(auto messages, tx.ListModerationQueue(spaces, after_id, limit));
    AuthorCache authors(tx, policy_);
    std::map<SpaceId, json> space_json;
    json items = json::array();
    for (const auto& m : messages) {
      ROUNDS_ASSIGN_OR_RETURN(json mj, authors.Message(m));
      ROUNDS_ASSIGN_OR_RETURN(auto reports, tx.ListOpenReports(m.id));
      json rj = json::array();
      for (const auto& r : reports) {
        rj.push_back({{"id", r.id}, {"reporter_id", r.reporter_id}, {"reason", r.reason}, {"created_at", r.created_at}});
      }
      if (!space_json.count(m.space_id)) {
        ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(m.space_id));
        space_json[m.space_id] = space ? json{{"id", space->id}, {"name", space->name}} : json(nullptr);
        if (space) {
          ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, *space));
          if (PhiBearing(policy)) phi_read[space->id] = SpaceRead{};
        }
      }
      if (auto read = phi_read.find(m.space_id); read != phi_read.end()) read->second.Add(m);
      items.push_back({{"message", mj}, {"space", space_json[m.space_id]}, {"reports", rj}, {"hold_reason", m.hold_reason}});
    }
    json next = nullptr;
    if (messages.size() == static_cast<std::size_t>(limit)) next = std::to_string(messages.back().id);
    return json{{"items", items}, {"next_cursor", next}};
  });
  if (!result) {
    RecordRefusal(store_, actor, "moderation.queue", "space", space_id ? std::to_string(*space_id) : std::string(),
                  result.error(), clock_.NowMillis());
    return result;
  }
  // Held posts of a PHI-bearing space are its content like any other: on record before they leave.
  if (policy_.Audits()) {
    ROUNDS_RETURN_IF_ERROR(AuditSpaceReads(store_, actor, "moderation.queue", phi_read, clock_.NowMillis()));
  }
  return result;
}

Result<json> GovernanceService::Moderate(const Actor& actor, MessageId message_id, const ModerationRequest& request) {
  ROUNDS_RETURN_IF_ERROR(ValidateReason(request.reason, "/reason", kMaxReasonChars));
  const std::string kept_reason = WithoutPhi(policy_, request.reason, "reason");
  if (request.suspend_days && (*request.suspend_days < 1 || *request.suspend_days > 3650)) {
    return InvalidArgument("invalid_value", "A suspension lasts 1 to 3650 days.", "/suspend_days");
  }
  UnixMillis now = clock_.NowMillis();
  std::vector<PendingEvent> events;
  std::vector<UserId> notify;
  std::vector<UserId> mentioned;  // by a held message this approval publishes
  UserId author_as_seen = 0;      // its author, as the space's members know them
  std::vector<UserId> watchers;   // of the space's queue, when this took something off it
  std::optional<Message> published;  // a held message this approval publishes, where replies to it are read after it
  std::optional<PostPlace> taken_down;  // a published message hidden or removed: no longer what replies answer
  json action_json;
  json author_json;
  auto written = store_.Write([&](store::WriteTx& tx) -> Result<json> {
    events.clear();
    mentioned.clear();
    watchers.clear();
    taken_down.reset();
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(auto message, tx.FindMessage(message_id, current.user.id));
    if (!message || message->deleted) return NotFound("Message");
    if (Status may = RequireModeration(tx, current, message->space_id, "Only the space's moderators can do that."); !may) {
      if (may.error().code == ErrorCode::kNotFound) return NotFound("Message");
      return tl::unexpected(may.error());
    }
    // Approving included: it would release one's own post from a PHI hold or clear the reports
    // against it with no one else looking.
    if (message->author_id == current.user.id) {
      return InvalidArgument("own_message", "Ask another moderator to act on your own message.");
    }
    ModerationAction a;
    a.space_id = message->space_id;
    a.message_id = message_id;
    a.target_user_id = message->author_id;
    a.moderator_id = current.user.id;
    a.kind = request.kind;
    a.reason = kept_reason;
    a.created_at = now;
    ROUNDS_ASSIGN_OR_RETURN(json mj, AuthorCache(tx, policy_).Message(*message));
    const std::string held_for = message->hold_reason;  // why it was held, if it was
    const bool was_held = message->state == MessageState::kHeld;
    const bool was_published = message->state == MessageState::kPublished;
    bool approved_now = false;
    switch (request.kind) {
      case ModerationKind::kApprove: {
        if (message->state == MessageState::kPublished) {
          // Approving a published message dismisses its reports; with none open there is nothing
          // to approve (a second approval of a held post lands here).
          ROUNDS_ASSIGN_OR_RETURN(auto reports, tx.ListOpenReports(message_id));
          if (reports.empty()) return Fail(ErrorCode::kConflict, "not_pending", "This message was already acted on.");
        }
        if (message->state == MessageState::kHeld) {
          ROUNDS_RETURN_IF_ERROR(PublishableNow(tx, policy_, *message));
          approved_now = true;
          ROUNDS_RETURN_IF_ERROR(tx.SetMessageState(message_id, MessageState::kPublished, ""));
          message->state = MessageState::kPublished;
          message->hold_reason.clear();
          ROUNDS_ASSIGN_OR_RETURN(mj, AuthorCache(tx, policy_).Message(*message));
          ROUNDS_ASSIGN_OR_RETURN(auto e, internal::AppendMessageEvent(tx, *message, "message.published", mj, now));
          events.push_back(std::move(e));
        } else if (message->state != MessageState::kPublished) {
          return Fail(ErrorCode::kConflict, "not_pending", "This message was already acted on.");
        }
        break;
      }
      case ModerationKind::kHide:
      case ModerationKind::kRemove: {
        MessageState to = request.kind == ModerationKind::kHide ? MessageState::kHidden : MessageState::kRemoved;
        if (message->state == to) return Fail(ErrorCode::kConflict, "not_pending", "This message was already acted on.");
        // A held message keeps its hold reason, so that reversing this on appeal holds it again.
        ROUNDS_RETURN_IF_ERROR(tx.SetMessageState(message_id, to, message->hold_reason));
        // What was sent about it stops being replayed to members; its author and the moderators
        // keep it.
        ROUNDS_RETURN_IF_ERROR(tx.RestrictMessageEvents(message_id, message->author_id));
        std::string type = to == MessageState::kHidden ? "message.hidden" : "message.removed";
        // Told as the message stood: to everyone if it was published; if not (held, or already
        // taken down), members never saw it and learn nothing of this either.
        ROUNDS_ASSIGN_OR_RETURN(auto e, internal::AppendMessageEvent(tx, *message, type,
                                                                     json{{"id", message_id}, {"space_id", message->space_id}}, now));
        events.push_back(std::move(e));
        break;
      }
      case ModerationKind::kWarn:
        break;
      case ModerationKind::kSuspend: {
        UnixMillis until = request.suspend_days ? now + std::int64_t{*request.suspend_days} * 86'400'000 : 0;
        a.reason = kept_reason;
        // A suspension in force that lasts longer stands (and stays the one an appeal can lift).
        ROUNDS_ASSIGN_OR_RETURN(auto in_force, tx.FindSuspension(message->space_id, message->author_id));
        const bool longer = in_force && (in_force->until == 0 || (until != 0 && in_force->until >= until));
        if (!longer) ROUNDS_RETURN_IF_ERROR(tx.SetSuspension({message->space_id, message->author_id, until, 0}));
        break;
      }
    }
    ROUNDS_ASSIGN_OR_RETURN(a.id, tx.InsertModerationAction(a));
    if (request.kind == ModerationKind::kSuspend) {
      ROUNDS_ASSIGN_OR_RETURN(auto s, tx.FindSuspension(message->space_id, message->author_id));
      if (s && s->action_id == 0) {
        s->action_id = a.id;
        ROUNDS_RETURN_IF_ERROR(tx.SetSuspension(*s));
      }
    }
    ROUNDS_ASSIGN_OR_RETURN(const int reports_resolved, tx.ResolveReports(message_id, now));
    // What leaves the queue: a held message approved or taken down, and any message's reports.
    const bool decided_held = was_held && (request.kind == ModerationKind::kApprove ||
                                           request.kind == ModerationKind::kHide || request.kind == ModerationKind::kRemove);
    if (decided_held || reports_resolved > 0) {
      ROUNDS_ASSIGN_OR_RETURN(auto moderators, SpaceModerators(tx, message->space_id));
      ROUNDS_ASSIGN_OR_RETURN(auto officers, officers_.List(tx));
      watchers = internal::QueueWatchers(std::move(moderators), officers);
    }
    auto record = AuditEntry(current, "moderation." + std::string(ToString(request.kind)), "message",
                             std::to_string(message_id), now);
    record.reason = kept_reason;
    record.patient_ref = message->patient_refs;  // the moderator read it to decide
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, record, json{{"action_id", a.id}, {"space_id", a.space_id},
                                                        {"target_user_id", a.target_user_id},
                                                        {"hold_reason", held_for}}));
    action_json = ModerationActionJson(a);
    author_json = ModerationActionForAuthor(a);
    notify = {message->author_id};
    published.reset();
    const bool taken_down_now =
        was_published && (request.kind == ModerationKind::kHide || request.kind == ModerationKind::kRemove);
    if (approved_now || taken_down_now) {
      ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(message->space_id));
      if (!space) return NotFound("Message");
      ROUNDS_ASSIGN_OR_RETURN(auto space_policy, policy_.TemplateFor(tx, *space));
      if (approved_now && !message->mentions.empty()) {
        mentioned = message->mentions;
        author_as_seen = internal::MemberIdAsSeen(policy_, space->id, space_policy.pseudonyms, message->author_id);
      }
      // Where posts are read after one another, what members now read changed.
      if (space_policy.phi != governance::policy::PhiRule::kAllow) {
        if (approved_now) published = *message;
        if (taken_down_now) taken_down = PostPlace::Of(*message);
      }
    }
    return action_json;
  });
  if (!written) {
    RecordRefusal(store_, actor, "moderation." + std::string(ToString(request.kind)), "message",
                  std::to_string(message_id), written.error(), now);
    return tl::unexpected(written.error());
  }
  json result = std::move(*written);
  // Members read it from now on: a reply to it is read after it, as after a post published at once.
  if (published) {
    policy_.RememberApproved(published->space_id, published->parent_id.value_or(0), published->author_id,
                             published->body, now);
  }
  if (taken_down) RecallConversation(store_, policy_, *taken_down, now);
  for (const auto& e : events) internal::Publish(bus_, e);
  internal::PublishToUsers(bus_, "moderation.action", author_json, notify);
  internal::PublishQueueChange(bus_, "decided", result["space_id"].get<SpaceId>(), "message_id", message_id,
                               std::move(watchers));
  // Those it mentions are told once it is published, as for a post published at once.
  if (!mentioned.empty()) {
    internal::PublishToUsers(bus_, "mention",
                             json{{"space_id", result["space_id"]}, {"message_id", result["message_id"]},
                                  {"author_id", author_as_seen}},
                             mentioned);
  }
  return result;
}

Result<json> GovernanceService::ListActions(const Actor& actor, std::optional<SpaceId> space_id,
                                            bool pending_appeals_only, ModerationActionId before_id, int limit) {
  Result<json> result = store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ModerationActionQuery q;
    if (space_id) {
      ROUNDS_RETURN_IF_ERROR(RequireModeration(tx, current, *space_id, "Only the space's moderators can see its actions."));
    } else if (!current.IsCompliance()) {
      // Everyone else sees the actions of the spaces they moderate, as their queue.
      ROUNDS_ASSIGN_OR_RETURN(q.space_ids, ModeratedSpaces(tx, current));
      if (q.space_ids.empty()) return json{{"items", json::array()}};
    }
    q.space_id = space_id;
    q.pending_appeals_only = pending_appeals_only;
    q.before_id = before_id;
    q.limit = internal::ClampLimit(limit);
    ROUNDS_ASSIGN_OR_RETURN(auto actions, tx.ListModerationActions(q));
    json items = json::array();
    for (const auto& a : actions) items.push_back(ModerationActionJson(a));
    return json{{"items", items}};
  });
  if (!result) {
    RecordRefusal(store_, actor, "moderation.actions", "space", space_id ? std::to_string(*space_id) : std::string(),
                  result.error(), clock_.NowMillis());
  }
  return result;
}

Result<json> GovernanceService::MyActions(const Actor& actor) {
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ModerationActionQuery q;
    q.target_user_id = current.user.id;
    q.limit = 100;
    ROUNDS_ASSIGN_OR_RETURN(auto actions, tx.ListModerationActions(q));
    json items = json::array();
    for (const auto& a : actions) {
      items.push_back(ModerationActionForAuthor(a));
    }
    return json{{"items", items}};
  });
}

Result<json> GovernanceService::Appeal(const Actor& actor, ModerationActionId id, const std::string& text) {
  ROUNDS_RETURN_IF_ERROR(ValidateReason(text, "/text", kMaxAppealChars));
  const std::string kept_text = WithoutPhi(policy_, text, "text", AuthorOf(actor));
  UnixMillis now = clock_.NowMillis();
  std::vector<UserId> watchers;
  Result<json> result = store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(auto a, tx.FindModerationAction(id));
    if (!a || a->target_user_id != current.user.id) return NotFound("Moderation action");
    if (a->kind == ModerationKind::kApprove) return InvalidArgument("not_appealable", "An approval cannot be appealed.");
    if (a->appealed_at > 0) return Fail(ErrorCode::kConflict, "already_appealed", "You can appeal a decision once.");
    a->appeal_text = kept_text;
    a->appealed_at = now;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateAppeal(*a));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(current, "moderation.appeal", "moderation_action", std::to_string(id), now),
                                       json{{"space_id", a->space_id}}));
    ROUNDS_ASSIGN_OR_RETURN(auto moderators, SpaceModerators(tx, a->space_id));
    ROUNDS_ASSIGN_OR_RETURN(auto officers, officers_.List(tx));
    watchers = internal::QueueWatchers(std::move(moderators), officers);
    return ModerationActionForAuthor(*a);
  });
  if (!result) {
    RecordRefusal(store_, actor, "moderation.appeal", "moderation_action", std::to_string(id), result.error(), now);
  }
  // Those who work the space's queue see a new appeal come in.
  if (result) {
    internal::PublishQueueChange(bus_, "appeal", (*result)["space_id"].get<SpaceId>(), "action_id", id,
                                 std::move(watchers));
  }
  return result;
}

namespace {

// The state message `m` should be in once take-down `reversed` no longer stands: that of the
// newest other hide or removal of it still standing, else held if it was held when taken down
// (it was never approved), else published. Nullopt when a later take-down of it stands: the
// message stays as that one left it.
Result<std::optional<MessageState>> StateWithout(store::WriteTx& tx, const ModerationAction& reversed, const Message& m) {
  ModerationActionQuery q;
  q.space_id = reversed.space_id;
  q.target_user_id = reversed.target_user_id;
  q.limit = 500;
  ROUNDS_ASSIGN_OR_RETURN(auto actions, tx.ListModerationActions(q));
  std::optional<ModerationAction> earlier;
  for (const auto& other : actions) {
    if (other.id == reversed.id || other.message_id != reversed.message_id ||
        other.appeal_outcome == AppealOutcome::kReversed ||
        (other.kind != ModerationKind::kHide && other.kind != ModerationKind::kRemove)) {
      continue;
    }
    if (other.id > reversed.id) return std::optional<MessageState>();
    if (!earlier || other.id > earlier->id) earlier = other;
  }
  if (earlier) return std::optional(earlier->kind == ModerationKind::kHide ? MessageState::kHidden : MessageState::kRemoved);
  return std::optional(m.hold_reason.empty() ? MessageState::kPublished : MessageState::kHeld);
}

}  // namespace

Result<json> GovernanceService::DecideAppeal(const Actor& actor, ModerationActionId id, AppealOutcome outcome,
                                             const std::string& reason) {
  ROUNDS_RETURN_IF_ERROR(ValidateReason(reason, "/reason", kMaxReasonChars));
  if (outcome == AppealOutcome::kNone) return InvalidArgument("invalid_value", "Decide 'upheld' or 'reversed'.", "/outcome");
  const std::string kept_reason = WithoutPhi(policy_, reason, "reason");
  UnixMillis now = clock_.NowMillis();
  std::vector<PendingEvent> events;
  std::vector<UserId> watchers;  // of the space's queue: the appeal leaves it
  json action_json;
  json author_json;
  Result<json> decided = store_.Write([&](store::WriteTx& tx) -> Result<json> {
    events.clear();
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(auto a, tx.FindModerationAction(id));
    if (!a) return NotFound("Moderation action");
    ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(a->space_id));
    if (!space) return NotFound("Moderation action");
    ROUNDS_ASSIGN_OR_RETURN(Standing standing, internal::StandingIn(tx, current, *space));
    if (!Can(standing, SpaceAction::kModerate) && !current.IsCompliance()) {
      return NotFound("Moderation action");
    }
    if (a->appealed_at == 0) return Fail(ErrorCode::kConflict, "not_appealed", "This decision was not appealed.");
    if (a->appeal_outcome != AppealOutcome::kNone) return Fail(ErrorCode::kConflict, "already_decided", "The appeal is decided.");
    // The moderator who acted does not judge the appeal against their own decision.
    if (a->moderator_id == current.user.id) {
      return Forbidden("own_decision", "Another moderator or a compliance officer decides this appeal.");
    }
    // Nor does the author who appealed, whatever their role in the space.
    if (a->target_user_id == current.user.id) {
      return Forbidden("own_appeal", "Another moderator or a compliance officer decides this appeal.");
    }
    a->appeal_outcome = outcome;
    a->appeal_reason = kept_reason;
    a->appeal_decided_by = current.user.id;
    a->appeal_decided_at = now;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateAppeal(*a));
    if (outcome == AppealOutcome::kReversed) {
      if ((a->kind == ModerationKind::kHide || a->kind == ModerationKind::kRemove) && a->message_id) {
        ROUNDS_ASSIGN_OR_RETURN(auto message, tx.FindMessage(*a->message_id, 0));
        if (message && !message->deleted) {
          ROUNDS_ASSIGN_OR_RETURN(auto restored, StateWithout(tx, *a, *message));
          if (restored && *restored != message->state) {
            if (*restored == MessageState::kPublished) ROUNDS_RETURN_IF_ERROR(PublishableNow(tx, policy_, *message));
            ROUNDS_RETURN_IF_ERROR(tx.SetMessageState(message->id, *restored, message->hold_reason));
            message->state = *restored;
            if (*restored == MessageState::kPublished) message->hold_reason.clear();
            ROUNDS_ASSIGN_OR_RETURN(json mj, AuthorCache(tx, policy_).Message(*message));
            // Published again: to everyone. Held again (it was never approved) or still taken down
            // by another decision: to its author and the moderators only.
            const char* type = *restored == MessageState::kPublished ? "message.published"
                               : *restored == MessageState::kHeld    ? "message.held"
                               : *restored == MessageState::kHidden  ? "message.hidden"
                                                                     : "message.removed";
            ROUNDS_ASSIGN_OR_RETURN(auto e, internal::AppendMessageEvent(tx, *message, type, mj, now));
            events.push_back(std::move(e));
          }
        }
      } else if (a->kind == ModerationKind::kSuspend) {
        // Only the suspension this decision set; a later one stands.
        ROUNDS_ASSIGN_OR_RETURN(auto suspension, tx.FindSuspension(a->space_id, a->target_user_id));
        if (suspension && suspension->action_id == a->id) {
          ROUNDS_RETURN_IF_ERROR(tx.DeleteSuspension(a->space_id, a->target_user_id));
        }
      }
    }
    auto record = AuditEntry(current, "moderation.appeal_decide", "moderation_action", std::to_string(id), now);
    record.reason = kept_reason;
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, record, json{{"outcome", ToString(outcome)}, {"space_id", a->space_id}}));
    ROUNDS_ASSIGN_OR_RETURN(auto moderators, SpaceModerators(tx, a->space_id));
    ROUNDS_ASSIGN_OR_RETURN(auto officers, officers_.List(tx));
    watchers = internal::QueueWatchers(std::move(moderators), officers);
    action_json = ModerationActionJson(*a);
    author_json = ModerationActionForAuthor(*a);
    return action_json;
  });
  if (!decided) {
    RecordRefusal(store_, actor, "moderation.appeal_decide", "moderation_action", std::to_string(id), decided.error(), now);
    return decided;
  }
  json result = std::move(*decided);
  for (const auto& e : events) internal::Publish(bus_, e);
  internal::PublishToUsers(bus_, "moderation.action", author_json, {action_json["target_user_id"].get<UserId>()});
  internal::PublishQueueChange(bus_, "decided", result["space_id"].get<SpaceId>(), "action_id", id, std::move(watchers));
  return result;
}

// ---- Patient index --------------------------------------------------------------------------

Status GovernanceService::ReloadPatients(store::ReadTx& tx) {
  ROUNDS_ASSIGN_OR_RETURN(auto rows, tx.ListPatients());
  std::vector<phi::PatientRecord> records;
  records.reserve(rows.size());
  for (auto& r : rows) records.push_back({std::move(r.mrn), std::move(r.first), std::move(r.last)});
  policy_.SetPatients(std::move(records));
  return Ok();
}

Status GovernanceService::LoadPatients() {
  return store_.RunRead([&](store::ReadTx& tx) { return ReloadPatients(tx); });
}

Result<json> GovernanceService::ImportPatients(const Actor& actor, const std::string& csv) {
  ROUNDS_RETURN_IF_ERROR(RequireAdminOrCompliance(actor));
  ROUNDS_ASSIGN_OR_RETURN(auto records, phi::PatientIndex::ParseCsv(csv));
  std::vector<PatientEntry> rows;
  rows.reserve(records.size());
  for (auto& r : records) rows.push_back({std::move(r.mrn), std::move(r.first), std::move(r.last)});
  UnixMillis now = clock_.NowMillis();
  ROUNDS_RETURN_IF_ERROR(store_.RunWrite([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_RETURN_IF_ERROR(tx.UpsertPatients(rows, now));
    return AppendAudit(tx, AuditEntry(current, "patients.import", "patient_index", "", now),
                       json{{"records", rows.size()}});
  }));
  ROUNDS_RETURN_IF_ERROR(LoadPatients());
  return json{{"imported", rows.size()}};
}

Result<json> GovernanceService::UpsertPatient(const Actor& actor, const PatientEntry& patient) {
  ROUNDS_RETURN_IF_ERROR(RequireAdminOrCompliance(actor));
  if (patient.mrn.empty() || patient.mrn.size() > 64 || patient.last.empty() || patient.last.size() > 200 ||
      patient.first.size() > 200 || !IsValidUtf8(patient.first) || !IsValidUtf8(patient.last) || !IsValidUtf8(patient.mrn)) {
    return InvalidArgument("invalid_patient", "A patient needs an MRN (up to 64 characters) and a last name.");
  }
  UnixMillis now = clock_.NowMillis();
  ROUNDS_RETURN_IF_ERROR(store_.RunWrite([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_RETURN_IF_ERROR(tx.UpsertPatients({patient}, now));
    auto record = AuditEntry(current, "patients.upsert", "patient", "", now);
    record.patient_ref = policy_.pseudonyms().PatientRef(patient.mrn);
    return AppendAudit(tx, record);
  }));
  policy_.UpsertPatient({patient.mrn, patient.first, patient.last});
  return json{{"mrn", patient.mrn}};
}

Status GovernanceService::DeletePatient(const Actor& actor, const std::string& mrn) {
  ROUNDS_RETURN_IF_ERROR(RequireAdminOrCompliance(actor));
  UnixMillis now = clock_.NowMillis();
  ROUNDS_RETURN_IF_ERROR(store_.RunWrite([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    ROUNDS_ASSIGN_OR_RETURN(bool removed, tx.DeletePatient(mrn));
    if (!removed) return NotFound("Patient");
    auto record = AuditEntry(current, "patients.delete", "patient", "", now);
    record.patient_ref = policy_.pseudonyms().PatientRef(mrn);
    return AppendAudit(tx, record);
  }));
  policy_.RemovePatient(mrn);
  return Ok();
}

Result<json> GovernanceService::PatientCount(const Actor& actor) {
  ROUNDS_RETURN_IF_ERROR(RequireAdminOrCompliance(actor));
  return store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto rows, tx.ListPatients());
    return json{{"count", rows.size()}};
  });
}

}  // namespace rounds::app
