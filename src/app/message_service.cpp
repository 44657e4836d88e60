#include <algorithm>
#include <initializer_list>
#include <span>
#include <set>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "app/screening.hpp"
#include "core/crypto.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "governance/phi/continuation.hpp"

namespace rounds::app {

using namespace rounds::domain;
using internal::AppendEvent;
using internal::AuthorCache;
using internal::PendingEvent;
using internal::Publish;
using internal::PublishToUsers;

namespace {

constexpr std::size_t kMaxTitleChars = 200;
constexpr std::size_t kMaxClientIdBytes = 64;
constexpr std::size_t kMaxPollOptions = 10;
constexpr std::size_t kMaxPollOptionChars = 200;
// Readers' checks of kept pages remembered (KeptReads): about 100 bytes each.
constexpr std::size_t kKeptReadsRemembered = 65536;

bool IsCommunityKind(MessageKind kind) { return kind != MessageKind::kMessage; }


// A message the caller may read, with its space and the caller's standing there.
struct Located {
  Message message;
  Space space;
  Standing standing;
  std::optional<store::EmergencyGrant> grant;  // the read is through this emergency access grant
};

// Held messages are seen by their author and the space's moderators; hidden and removed ones by
// the moderators (and compliance officers) only.
bool MayView(const Message& m, const Standing& standing, const Actor& actor) {
  if (m.state == MessageState::kPublished) return true;
  if (Can(standing, SpaceAction::kModerate) || actor.IsCompliance()) return true;
  return m.state == MessageState::kHeld && m.author_id == actor.user.id;
}

// `grants_at`: as ReadableSpaceOrGrant's, for a read that audits what it shows through a grant.
Result<Located> ReadableMessage(store::ReadTx& tx, const Actor& actor, MessageId id,
                                std::optional<UnixMillis> grants_at = std::nullopt) {
  ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
  ROUNDS_ASSIGN_OR_RETURN(auto message, tx.FindMessage(id, actor.user.id));
  if (!message) return NotFound("Message");
  auto readable = internal::ReadableSpaceOrGrant(tx, actor, message->space_id, grants_at);
  if (!readable) {
    if (readable.error().code == ErrorCode::kNotFound) return NotFound("Message");
    return tl::unexpected(readable.error());
  }
  if (!MayView(*message, readable->standing, actor)) return NotFound("Message");
  return Located{std::move(*message), std::move(readable->space), readable->standing, std::move(readable->grant)};
}

// A reaction is an emoji and nothing else, so it carries no text (and no PHI) past the screening
// every other text goes through.
Status ValidateEmoji(const std::string& emoji) {
  if (!IsEmoji(emoji)) return InvalidArgument("invalid_emoji", "A reaction is an emoji.", "/emoji");
  return Ok();
}

// A suspension from a space stops everything its member adds to it: posts, replies, files, edits,
// reactions and votes.
Status RequireNotSuspended(store::ReadTx& tx, const Actor& actor, const Space& space, UnixMillis now) {
  ROUNDS_ASSIGN_OR_RETURN(auto suspension, tx.FindSuspension(space.id, actor.user.id));
  if (suspension && (suspension->until == 0 || suspension->until > now)) {
    return Forbidden("suspended", "A moderator has suspended you from posting in this space.");
  }
  return Ok();
}

// What every way of adding to a space requires: the space open, the caller a member whose role may
// post (`reply`: whether it is a reply; nullopt for a file, which a post or a reply may carry),
// the template's posting rule, and no suspension in force. Returns the space's template.
Result<governance::policy::PolicyTemplate> RequirePosting(store::ReadTx& tx, const PolicyEngine& policies,
                                                          const Actor& actor, const Space& space,
                                                          const Standing& standing, std::optional<bool> reply,
                                                          UnixMillis now) {
  if (space.archived) return Forbidden("space_archived", "This space is archived.");
  if (!standing.role) return Forbidden("not_a_member", "Join the space to post.");
  ROUNDS_RETURN_IF_ERROR(internal::Require(standing, reply.value_or(false) ? SpaceAction::kReply : SpaceAction::kPost,
                                           "read_only", "You can read this space but not post."));
  ROUNDS_ASSIGN_OR_RETURN(auto policy, policies.TemplateFor(tx, space));
  const auto policy_standing = internal::PolicyStanding(standing);
  const bool allowed = reply ? governance::policy::MayPost(policy, policy_standing, *reply)
                             : governance::policy::MayPost(policy, policy_standing, false) ||
                                   governance::policy::MayPost(policy, policy_standing, true);
  if (!allowed) {
    return Forbidden("policy_posting", reply.value_or(false) ? "This space's policy does not let you reply here."
                                                             : "This space's policy does not let you start posts here.");
  }
  ROUNDS_RETURN_IF_ERROR(RequireNotSuspended(tx, actor, space, now));
  return policy;
}

// What the template in force at a post makes of a file whose upload screening found PHI
// (`phi_types`), whatever rule it was uploaded under: kAllow to post it as it is, kHold to hold
// the post, kWarn when the author has not confirmed it (files uploaded under a warn rule were
// confirmed then), kBlock and kRedact to refuse it (a redacting space needs the file screened
// and redacted again, at a new upload).
phi::PhiAction AttachmentPhiDecision(governance::policy::PhiRule rule, const Attachment& attachment, bool confirmed) {
  using governance::policy::PhiRule;
  switch (rule) {
    case PhiRule::kAllow:
      return phi::PhiAction::kAllow;
    case PhiRule::kWarn:
      return confirmed || attachment.phi_rule == "warn" || attachment.phi_rule.empty() ? phi::PhiAction::kAllow
                                                                                       : phi::PhiAction::kWarn;
    case PhiRule::kHold:
      return phi::PhiAction::kHold;
    case PhiRule::kBlock:
      return phi::PhiAction::kBlock;
    case PhiRule::kRedact:
      return phi::PhiAction::kRedact;
  }
  return phi::PhiAction::kBlock;
}

// The PHI types moderators are shown for a message: kept only where PHI may be confirmed or held
// (warn and hold rules), from its texts' screenings (`text_types`, each as TypesCsv gives them)
// and its files, once each.
std::string PhiTypesShown(const governance::policy::PolicyTemplate& policy,
                          std::initializer_list<std::string_view> text_types, std::span<const Attachment> attachments) {
  if (policy.phi != governance::policy::PhiRule::kWarn && policy.phi != governance::policy::PhiRule::kHold) return "";
  std::string shown;
  auto add = [&shown](std::string_view csv) {
    for (std::string_view type : SplitCsv(csv)) {
      if (("," + shown + ",").find("," + std::string(type) + ",") == std::string::npos) {
        shown += (shown.empty() ? "" : ",") + std::string(type);
      }
    }
  };
  for (std::string_view csv : text_types) add(csv);
  for (const Attachment& attachment : attachments) add(attachment.phi_types);
  return shown;
}

// The refusal of a post naming a file the template in force does not take as it is.
Error AttachmentPhiRefusal(phi::PhiAction action, const Attachment& attachment, std::size_t index) {
  Error e;
  e.code = ErrorCode::kPolicyDenied;
  const std::string types = attachment.phi_types;
  if (action == phi::PhiAction::kWarn) {
    e.problem = "phi_warning";
    e.public_message = "An attached file may contain patient information (" + types + "). Check it, then confirm to send.";
  } else if (action == phi::PhiAction::kRedact) {
    e.problem = "attachment_phi_unredacted";
    e.public_message = "An attached file holds patient information (" + types +
                       ") and was uploaded before this space redacted it. Remove it and upload it again.";
  } else {
    e.problem = "phi_blocked";
    e.public_message = "An attached file holds patient information (" + types +
                       "), which this space no longer allows. Remove it and try again.";
  }
  json findings = json::array();
  for (std::string_view code : SplitCsv(types)) {
    findings.push_back({{"type", code}, {"field", "attachment_ids/" + std::to_string(index)},
                        {"attachment_id", attachment.id}});
  }
  e.extensions_json = json{{"findings", findings}, {"findings_total", findings.size()}}.dump();
  e.internal_message = e.problem + " attachment=" + std::to_string(attachment.id) + " types=" + types;
  return e;
}

}  // namespace

MessageService::MessageService(store::Store& store, bus::Bus& bus, const Clock& clock, const Config& config,
                               PolicyEngine& policy)
    : store_(store), bus_(bus), clock_(clock), config_(config), policy_(policy),
      pages_(static_cast<std::size_t>(std::max<std::int64_t>(config.page_cache_bytes, 0))),
      kept_reads_(config.page_cache_bytes > 0 ? kKeptReadsRemembered : 0) {}

// One post between its steps: what the caller's thread prepared, and what the unit decided.
struct MessageService::PostJob {
  Actor actor;
  SpaceId space_id = 0;
  Draft draft;
  std::vector<std::string> mentioned_names;
  Screening scanned;
  UnixMillis now = 0;
  std::string phi_types;
  std::string patients;  // whom the post names (Screening::Patients), for its records
  domain::AuditRecord audit_base;
  std::string audit_details;
  // Decided by the unit.
  PendingEvent created;
  bool was_created = false;
  std::vector<UserId> mentioned;
  UserId author_as_seen = 0;           // the author's id as the space's members know it
  std::vector<UserId> queue_watchers;  // held: who works the space's moderation queue
  bool carries = false;                // the space's PHI rule is not allow: the next post continues this one
  MessageId message_id = 0;            // the message created
  bool published = false;              // created as published, not held
  std::string stored_body;             // created and `carries`: the body as stored, remembered for the next
  std::optional<phi::PhiAction> refused;
  Screening refusal;
  Result<std::string> posted = tl::unexpected(Error{});  // the asynchronous unit's answer
};

Result<std::shared_ptr<MessageService::PostJob>> MessageService::PreparePost(const Actor& actor, SpaceId space_id,
                                                                            const Draft& draft) {
  if (actor.is_system) return Forbidden();
  // Validation that needs no data happens before the write unit.
  if (!IsValidUtf8(draft.body) || !IsValidUtf8(draft.title)) {
    return InvalidArgument("invalid_utf8", "The message is not valid text.", "/body");
  }
  std::string body = draft.body;
  bool blank = std::all_of(body.begin(), body.end(), [](unsigned char c) { return std::isspace(c); });
  if (blank && draft.kind != MessageKind::kPoll && draft.attachment_ids.empty()) {
    return InvalidArgument("empty_message", "Write something first.", "/body");
  }
  if (CodePointCount(body) > static_cast<std::size_t>(config_.max_message_chars)) {
    return InvalidArgument("message_too_long",
                           "A message is at most " + std::to_string(config_.max_message_chars) + " characters.", "/body");
  }
  if (CodePointCount(draft.title) > kMaxTitleChars) {
    return InvalidArgument("too_long", "A title is at most 200 characters.", "/title");
  }
  if (draft.client_id.size() > kMaxClientIdBytes) {
    return InvalidArgument("invalid_value", "client_id is at most 64 characters.", "/client_id");
  }
  if (draft.kind == MessageKind::kPoll) {
    if (draft.poll_options.size() < 2 || draft.poll_options.size() > kMaxPollOptions) {
      return InvalidArgument("invalid_poll", "A poll has 2 to 10 options.", "/poll_options");
    }
    std::set<std::string> distinct;
    for (const auto& option : draft.poll_options) {
      if (option.empty() || CodePointCount(option) > kMaxPollOptionChars || !IsValidUtf8(option) ||
          !distinct.insert(option).second) {
        return InvalidArgument("invalid_poll", "Poll options must be distinct, 1 to 200 characters.", "/poll_options");
      }
    }
  } else if (!draft.poll_options.empty()) {
    return InvalidArgument("invalid_poll", "Only polls have options.", "/poll_options");
  }
  if (draft.parent_id && draft.kind != MessageKind::kMessage) {
    return InvalidArgument("invalid_value", "Replies and comments are plain messages.", "/kind");
  }
  if (draft.attachment_ids.size() > kMaxAttachments) {
    return InvalidArgument("too_many_attachments", "A message carries at most 10 files.", "/attachment_ids");
  }
  {
    std::set<AttachmentId> distinct(draft.attachment_ids.begin(), draft.attachment_ids.end());
    if (distinct.size() != draft.attachment_ids.size()) {
      return InvalidArgument("invalid_attachment", "A file is attached once.", "/attachment_ids");
    }
  }
  std::vector<std::string> mentioned_names = ExtractMentions(body);
  // PHI screening runs here, outside the store's single writer; the space's template decides
  // inside the unit what the findings mean.
  std::vector<std::pair<std::string, std::string>> fields{{"body", body}, {"title", draft.title}};
  for (std::size_t i = 0; i < draft.poll_options.size(); ++i) {
    fields.emplace_back("poll_options/" + std::to_string(i), draft.poll_options[i]);
  }
  auto job = std::make_shared<PostJob>();
  job->now = clock_.NowMillis();
  // The body is also scanned after the end of the author's previous post here, and as a reply to
  // the newest post by someone else, if recent: PHI split between two posts is the second's finding.
  const MessageId thread = draft.parent_id.value_or(0);
  const std::string carried = policy_.Carried(space_id, thread, actor.user.id, job->now);
  const std::string asked = policy_.Asked(space_id, thread, actor.user.id, job->now);
  job->scanned = Screen(policy_, std::move(fields), AuthorOf(actor), {.previous = carried, .asked = asked});
  job->actor = actor;
  job->space_id = space_id;
  job->draft = draft;
  job->mentioned_names = std::move(mentioned_names);
  // What the message's PHI types and its audit record carry, prepared here rather than on the
  // store's writer thread; the unit fills in what it decides (action, id, reason).
  job->phi_types = job->scanned.TypesCsv();
  job->patients = job->scanned.Patients();
  if (policy_.Audits()) {
    job->audit_base = AuditEntry(actor, "", "message", "", job->now);
    json details{{"space_id", space_id}, {"phi_types", job->phi_types}, {"findings", job->scanned.FindingCount()}};
    if (job->scanned.Withheld()) details["withheld_types"] = job->scanned.WithheldTypesCsv();
    job->audit_details = details.dump();
  }
  return job;
}

// The unit writes the message's JSON as text (its event's payload); it is parsed for the caller
// outside the writer.
Result<std::string> MessageService::RunPostUnit(PostJob& job, store::WriteTx& tx) {
  const Actor& actor = job.actor;
  const SpaceId space_id = job.space_id;
  const Draft& draft = job.draft;
  const UnixMillis now = job.now;
  const Screening& scanned = job.scanned;
  const std::string& phi_types = job.phi_types;
  const domain::AuditRecord& audit_base = job.audit_base;
  const std::string& audit_details = job.audit_details;
  const std::vector<std::string>& mentioned_names = job.mentioned_names;
  PendingEvent& created = job.created;
  bool& was_created = job.was_created;
  std::vector<UserId>& mentioned = job.mentioned;
  std::optional<phi::PhiAction>& refused = job.refused;
  Screening& refusal = job.refusal;
  was_created = false;
  mentioned.clear();
  job.queue_watchers.clear();
  refused.reset();
  ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, space_id));
  auto& [space, standing] = readable;
  AuthorCache authors(tx, policy_);
  // A retry of a post that already succeeded returns the original, whatever changed since.
  if (!draft.client_id.empty()) {
    ROUNDS_ASSIGN_OR_RETURN(auto existing, tx.FindMessageByClientId(space_id, actor.user.id, draft.client_id));
    if (existing) {
      // Only what its author may still read comes back: a post deleted since, or taken down by a
      // moderator, is not returned by a retry any more than by a read (a deleted poll keeps its
      // options for a legal hold). In a PHI-bearing space the answer is a read, on record.
      if (existing->deleted || existing->state == MessageState::kHidden || existing->state == MessageState::kRemoved) {
        return Fail(ErrorCode::kConflict, "client_id_used",
                    "A message with this client_id was posted here and has since been deleted or taken down.");
      }
      ROUNDS_RETURN_IF_ERROR(AuditReturnedRead(tx, actor, space, *existing, now));
      return authors.MessageText(*existing);
    }
  }
  // The space's template: who may post, pre-moderation, the PHI rule.
  ROUNDS_ASSIGN_OR_RETURN(auto policy,
                          RequirePosting(tx, policy_, actor, space, standing, draft.parent_id.has_value(), now));
  authors.Know(space_id, policy.pseudonyms);  // read nothing more for the event's author
  job.author_as_seen = internal::MemberIdAsSeen(policy_, space_id, policy.pseudonyms, actor.user.id);
  if (draft.kind == MessageKind::kAnnouncement) {
    ROUNDS_RETURN_IF_ERROR(internal::Require(standing, SpaceAction::kAnnounce, "owner_required",
                                             "Only the space's owners can post announcements."));
  }
  const auto policy_standing = internal::PolicyStanding(standing);
  Screening screening = scanned;
  phi::PhiAction phi_action = ApplyPhiRule(policy.phi, screening);
  const bool redacted = phi_action == phi::PhiAction::kRedact;
  job.carries = policy.phi != governance::policy::PhiRule::kAllow;
  if (phi_action == phi::PhiAction::kBlock || (phi_action == phi::PhiAction::kWarn && !draft.confirm_phi)) {
    refused = phi_action;
    refusal = screening;
    return Fail(PhiRefusal(phi_action, screening));
  }
  if (IsCommunityKind(draft.kind) && space.kind != SpaceKind::kCommunity) {
    return InvalidArgument("invalid_kind", "Post kinds other than 'message' belong in communities.", "/kind");
  }
  if (draft.parent_id) {
    ROUNDS_ASSIGN_OR_RETURN(auto parent, tx.FindMessage(*draft.parent_id, actor.user.id));
    // Replies go to published messages only: one held, hidden or removed is not there for the
    // members a reply would show it to (and is refused exactly as a missing one, so that no one
    // learns it exists).
    if (!parent || parent->space_id != space_id || parent->deleted || parent->state != MessageState::kPublished) {
      return InvalidArgument("invalid_parent", "The message being replied to does not exist.", "/parent_id");
    }
    if (parent->parent_id) {
      return InvalidArgument("invalid_parent", "Reply to the thread's first message.", "/parent_id");
    }
  }
  Message m;
  // The files: the author's uploads to this space, not yet posted. A name whose screening
  // found PHI the author confirmed holds the message under a hold rule, like its body would.
  bool attachment_phi = false;
  for (AttachmentId attachment_id : draft.attachment_ids) {
    ROUNDS_ASSIGN_OR_RETURN(auto attachment, tx.FindAttachment(attachment_id));
    if (!attachment || attachment->space_id != space_id || attachment->uploader_id != actor.user.id ||
        attachment->message_id) {
      return InvalidArgument("invalid_attachment",
                             "An attachment is not one of your uploads to this space, or is already posted.",
                             "/attachment_ids");
    }
    // Checked at upload too; the template may have changed since (no files, other types, a
    // smaller size), and the rule in force when the file is posted decides, as the dry run says.
    ROUNDS_RETURN_IF_ERROR(CheckAttachmentRule(policy.attachments, static_cast<std::size_t>(attachment->size),
                                               attachment->content_type));
    if (!attachment->phi_types.empty()) {
      // Screened at upload; the template may have changed since. The rule in force now decides.
      const auto decision = AttachmentPhiDecision(policy.phi, *attachment, draft.confirm_phi);
      if (decision != phi::PhiAction::kAllow && decision != phi::PhiAction::kHold) {
        refused = decision;
        refusal = AttachmentScreening(*attachment, m.attachments.size(), Author::kOutsider);
        return Fail(AttachmentPhiRefusal(decision, *attachment, m.attachments.size()));
      }
      attachment_phi = attachment_phi || decision == phi::PhiAction::kHold;
    }
    m.attachments.push_back(std::move(*attachment));
  }
  if (attachment_phi) phi_action = phi::PhiAction::kHold;
  // In upload order, as every later read lists them, whatever order the post named them in.
  std::sort(m.attachments.begin(), m.attachments.end(),
            [](const Attachment& a, const Attachment& b) { return a.id < b.id; });
  m.space_id = space_id;
  m.author_id = actor.user.id;
  m.kind = space.kind == SpaceKind::kCommunity && !draft.parent_id && draft.kind == MessageKind::kMessage
               ? MessageKind::kDiscussion
               : draft.kind;
  m.parent_id = draft.parent_id;
  m.title = screening.Text(1);
  m.body = screening.Text(0);
  m.client_id = draft.client_id;
  m.created_at = now;
  // Its readers see its files' names: whom those name, its record and each read of it name too.
  std::string file_patients;
  for (const Attachment& a : m.attachments) file_patients = domain::MergePatientRefs(file_patients, a.name_patient_refs);
  m.patient_refs = domain::MergePatientRefs(scanned.PatientsStored(redacted), file_patients);
  for (std::size_t i = 0; i < draft.poll_options.size(); ++i) {
    m.poll_options.push_back({static_cast<int>(i), screening.Text(2 + i), 0});
  }
  if (phi_action == phi::PhiAction::kHold) {
    m.state = MessageState::kHeld;
    m.hold_reason = std::string(kHoldPhi);
  } else if (governance::policy::DecidePublication(policy, policy_standing, !actor.IsStaff()) ==
             governance::policy::Publication::kHoldForReview) {
    // Pre-moderation, or an outsider's post where what the patient index alone finds (in its text
    // or its files) is kept from members: every such post waits, whatever the index found.
    m.state = MessageState::kHeld;
    m.hold_reason = std::string(kHoldPreModeration);
  }
  m.phi_types = PhiTypesShown(policy, {phi_types}, m.attachments);
  // A mention inside a redacted span (".../@jdoe" in a URL) went with it: what is stored mentions.
  // Nor does redaction make one: a name redacted just before an '@' ("[REDACTED:NAME]@jdoe").
  std::vector<std::string> mentions = mentioned_names;
  if (phi_action == phi::PhiAction::kRedact) {
    const std::vector<std::string> stored = ExtractMentions(screening.Text(0));
    std::erase_if(mentions, [&](const std::string& name) {
      return std::find(stored.begin(), stored.end(), name) == stored.end();
    });
  }
  for (const auto& name : mentions) {
    std::optional<User> user;
    if (policy.pseudonyms) {
      // Under pseudonyms members know each other by them alone: "@quiet-heron-2731" mentions its
      // member, and a username mentions no one (it would tell the poster whether that person is a
      // member, and which pseudonym is theirs).
      if (auto id = policy_.pseudonyms().UserOfHandle(space_id, name)) {
        ROUNDS_ASSIGN_OR_RETURN(user, tx.FindUser(*id));
      }
    } else {
      ROUNDS_ASSIGN_OR_RETURN(user, tx.FindUserByUsername(name));
    }
    if (!user || user->id == actor.user.id) continue;
    ROUNDS_ASSIGN_OR_RETURN(auto membership, tx.FindMembership(space_id, user->id));
    if (membership) m.mentions.push_back(user->id);  // only people who can read it are notified
  }
  ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(space_id));
  ROUNDS_ASSIGN_OR_RETURN(m.id, tx.InsertMessage(m));
  std::sort(m.mentions.begin(), m.mentions.end());
  ROUNDS_ASSIGN_OR_RETURN(std::string text, authors.MessageText(m));
  if (m.state == MessageState::kHeld) {
    // Seen by the author and the moderators until approved; the seq is taken now, so the
    // message.held event is restricted rather than absent.
    ROUNDS_ASSIGN_OR_RETURN(created, internal::AppendRestrictedEvent(tx, space_id, "message.held", text, now,
                                                                     actor.user.id, m.seq));
    ROUNDS_ASSIGN_OR_RETURN(auto officers, officers_.List(tx));
    job.queue_watchers = internal::QueueWatchers(created.recipients, officers, actor.user.id);
  } else {
    created.event = SpaceEvent{space_id, m.seq, "message.created", text, now};
    ROUNDS_RETURN_IF_ERROR(tx.InsertEvent(created.event));
    ROUNDS_ASSIGN_OR_RETURN(created.recipients, tx.ListMemberIds(space_id));
  }
  created.event.patient_refs = m.patient_refs;  // whom its live delivery names
  // One record for the creation of content in a PHI-bearing space, and for any PHI decision.
  if (policy_.Audits() && (PhiBearing(policy) || phi_action != phi::PhiAction::kAllow ||
                           m.state == MessageState::kHeld)) {
    const bool held = m.state == MessageState::kHeld;
    domain::AuditRecord record = audit_base;
    record.action = ContentAction(phi_action, held, "message.create");
    record.object_id = std::to_string(m.id);
    record.patient_ref = domain::MergePatientRefs(job.patients, file_patients);
    if (held) record.reason = m.hold_reason;
    else if (phi_action != phi::PhiAction::kAllow) record.reason = std::string(phi::ToString(phi_action));
    ROUNDS_RETURN_IF_ERROR(AppendSerializedAudit(tx, std::move(record), audit_details));
  }
  if (m.state == MessageState::kPublished) mentioned = m.mentions;
  job.message_id = m.id;
  job.published = m.state == MessageState::kPublished;
  if (job.carries) job.stored_body = std::move(m.body);
  was_created = true;
  return text;
}

// The record of a post refused for its PHI (job.refused set).
domain::AuditRecord MessageService::PostRefusalRecord(const PostJob& job) {
  return RefusalRecord(job.actor, "message.phi_refuse", "space", std::to_string(job.space_id), *job.refused, job.now,
                       job.patients);
}

Result<PostResult> MessageService::FinishPost(PostJob& job, Result<std::string> posted) {
  if (!posted) return tl::unexpected(posted.error());
  // The message's text goes back as the writer rendered it: parsing it here (for the HTTP layer
  // to print it again) cost a post more than screening it.
  if (job.was_created) {
    if (job.carries) {
      policy_.RememberPosted(job.space_id, job.draft.parent_id.value_or(0), job.actor.user.id, job.stored_body,
                             job.now, job.published);
    }
    Publish(bus_, job.created);
    internal::PublishQueueChange(bus_, "held", job.space_id, "message_id", job.message_id,
                                 std::move(job.queue_watchers));
    if (!job.mentioned.empty()) {
      PublishToUsers(bus_, "mention",
                     json{{"space_id", job.space_id}, {"message_id", job.message_id}, {"author_id", job.author_as_seen}},
                     job.mentioned);
    }
  }
  return PostResult{std::move(*posted), job.was_created};
}

Result<PostResult> MessageService::Post(const Actor& actor, SpaceId space_id, const Draft& draft) {
  ROUNDS_ASSIGN_OR_RETURN(std::shared_ptr<PostJob> job, PreparePost(actor, space_id, draft));
  Result<std::string> posted = store_.Write([&](store::WriteTx& tx) { return RunPostUnit(*job, tx); });
  // A PHI refusal stores nothing, but it is recorded before it is answered (best effort: the
  // answer is the refusal either way).
  if (!posted && job->refused) (void)AuditNow(store_, PostRefusalRecord(*job), RefusalDetails(job->refusal));
  return FinishPost(*job, std::move(posted));
}

void MessageService::PostAsync(const Actor& actor, SpaceId space_id, const Draft& draft, Defer defer,
                               std::function<void(Result<PostResult>)> done) {
  Result<std::shared_ptr<PostJob>> prepared = PreparePost(actor, space_id, draft);
  if (!prepared) {
    done(tl::unexpected(prepared.error()));
    return;
  }
  std::shared_ptr<PostJob> job = std::move(*prepared);
  store_.RunWriteAsync(
      [this, job](store::WriteTx& tx) -> Status {
        job->posted = RunPostUnit(*job, tx);
        if (!job->posted) return tl::unexpected(job->posted.error());
        return Ok();
      },
      // On the writer: only the hand-off.
      [this, job, defer, done = std::move(done)](Status committed) mutable {
        defer([this, job, defer, done = std::move(done), committed = std::move(committed)]() mutable {
          Result<std::string> posted = committed ? std::move(job->posted)
                                                 : Result<std::string>(tl::unexpected(committed.error()));
          if (posted || !job->refused) {
            done(FinishPost(*job, std::move(posted)));
            return;
          }
          // A PHI refusal is recorded before it is answered, as Post does.
          AuditNowAsync(store_, PostRefusalRecord(*job), RefusalDetails(job->refusal),
                        [defer, done = std::move(done), refusal = posted.error()](Status) mutable {
                          defer([done = std::move(done), refusal = std::move(refusal)]() mutable {
                            done(tl::unexpected(refusal));
                          });
                        });
        });
      });
}

Result<json> MessageService::Get(const Actor& actor, MessageId id) {
  bool phi_bearing = false;
  SpaceId space_id = 0;
  std::string patients;
  std::optional<store::EmergencyGrant> grant;
  ROUNDS_ASSIGN_OR_RETURN(json message, store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Located located, ReadableMessage(tx, actor, id, clock_.NowMillis()));
    grant = located.grant;
    if (located.message.deleted || !MayView(located.message, located.standing, actor)) return NotFound("Message");
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, located.space));
    phi_bearing = PhiBearing(policy);
    space_id = located.space.id;
    patients = located.message.patient_refs;
    AuthorCache authors(tx, policy_);
    return authors.Message(located.message);
  }));
  if (phi_bearing || grant) {
    ROUNDS_RETURN_IF_ERROR(AuditRead(actor, "message.read", space_id, json{{"message_id", id}}, grant, std::move(patients)));
  }
  return message;
}

Status MessageService::AuditReturnedRead(store::WriteTx& tx, const Actor& actor, const Space& space, const Message& m,
                                         UnixMillis now) {
  ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
  if (!policy_.Audits() || !PhiBearing(policy)) return Ok();
  AuditRecord record = AuditEntry(actor, "message.read", "space", std::to_string(space.id), now);
  record.patient_ref = m.deleted ? std::string() : m.patient_refs;
  return AppendAudit(tx, std::move(record), json{{"message_id", m.id}});
}

Status MessageService::AuditRead(const Actor& actor, const char* action, SpaceId space_id, json details,
                                 const std::optional<store::EmergencyGrant>& grant, std::string patients) {
  // Content of a PHI-bearing space, and anything read through an emergency access grant, leaves
  // the server only once its read is on record.
  if (!policy_.Audits()) return Ok();
  AuditRecord record = AuditEntry(actor, action, "space", std::to_string(space_id), clock_.NowMillis());
  record.patient_ref = std::move(patients);
  if (grant) {
    record.reason = "break-the-glass";
    details["grant_id"] = grant->id;
    details["purpose"] = grant->purpose;
  }
  return AuditNow(store_, std::move(record), details);
}

Result<JsonText> MessageService::List(const Actor& actor, SpaceId space_id, const MessagePage& page) {
  if (page.before && page.after) {
    return InvalidArgument("invalid_value", "Use either 'before' or 'after', not both.");
  }
  int limit = internal::ClampLimit(page.limit);
  bool phi_bearing = false;
  std::size_t count = 0;
  std::string patients;
  const bool keep = Keepable(page);
  const PageCache::Key key{space_id, page.before, limit};
  std::optional<store::EmergencyGrant> grant;
  ROUNDS_ASSIGN_OR_RETURN(JsonText out, store_.Read([&](store::ReadTx& tx) -> Result<JsonText> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpaceOrGrant(tx, actor, space_id, clock_.NowMillis()));
    grant = readable.grant;
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, readable.space));
    phi_bearing = PhiBearing(policy);
    // Read in this transaction, after the permission checks: the page found or kept is exactly
    // what this transaction would render.
    std::optional<store::PageVersion> version;
    if (keep) {
      ROUNDS_ASSIGN_OR_RETURN(auto kept, FindKept(tx, actor, key, version));
      if (kept) {
        pages_.Count(true);
        count = kept->count;
        patients = kept->patients;
        return JsonText{{}, std::shared_ptr<const std::string>(kept, &kept->text)};
      }
      if (version) pages_.Count(false);
    }
    store::MessageQuery q;
    q.space_id = space_id;
    q.moderator_view = Can(readable.standing, SpaceAction::kModerate);
    q.viewer_id = actor.user.id;
    q.parent_id = page.parent_id;
    q.before_seq = page.before;
    q.after_seq = page.after;
    q.limit = limit;
    ROUNDS_ASSIGN_OR_RETURN(auto messages, tx.ListMessages(q));
    count = messages.size();
    patients = PatientsRead(messages);
    // {"items": [...], "next_cursor": "seq" or null}, members in the order the tree writes them.
    JsonText page_text;
    std::string& text = page_text.text;
    std::size_t estimate = 64;
    for (const auto& m : messages) estimate += 512 + m.body.size() + m.title.size();
    text.reserve(estimate);
    text += "{\"items\":";
    AuthorCache authors(tx, policy_);
    authors.Know(space_id, policy.pseudonyms);
    ROUNDS_RETURN_IF_ERROR(authors.AppendMessages(text, messages));
    text += ",\"next_cursor\":";
    if (messages.size() == static_cast<std::size_t>(limit)) AppendJsonString(text, std::to_string(messages.back().seq), Utf8Errors::kReplace);
    else text += "null";
    text += '}';
    if (version) KeepPage(key, *version, messages, page_text.text);
    return page_text;
  }));
  if (phi_bearing || grant) {
    ROUNDS_RETURN_IF_ERROR(AuditRead(actor, "message.list", space_id, json{{"count", count}}, grant, std::move(patients)));
  }
  return out;
}

bool MessageService::Keepable(const MessagePage& page) const {
  // The newest pages (and older ones by cursor) of top-level messages are kept rendered; threads
  // and pages after a cursor (catching up) are read each time.
  return pages_.enabled() && !page.parent_id && !page.after;
}

std::optional<JsonText> MessageService::ListKept(const Actor& actor, SpaceId space_id, const MessagePage& page) {
  if (!Keepable(page)) return std::nullopt;
  const PageCache::Key key{space_id, page.before, internal::ClampLimit(page.limit)};
  // A reader at rest who was allowed this page a moment ago, with nothing committed since that
  // could change it, gets it without a read transaction (KeptReads). Read before the check below.
  const bool rest = !actor.is_system && !actor.admin_elevated;
  const std::optional<store::ChangeStamp> stamp = rest ? store_.Stamp(space_id) : std::nullopt;
  const std::int64_t now = clock_.NowMillis();
  if (stamp) {
    if (std::optional<store::PageVersion> allowed = kept_reads_.Find(actor.user.id, key, *stamp, now)) {
      if (std::shared_ptr<const PageCache::Page> kept = pages_.Find(key, *allowed)) {
        pages_.Count(true);
        return JsonText{{}, std::shared_ptr<const std::string>(kept, &kept->text)};
      }
    }
  }
  std::optional<store::PageVersion> checked;
  auto served = store_.TryRead([&](store::ReadTx& tx) -> Result<std::shared_ptr<const PageCache::Page>> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, space_id));
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, readable.first));
    // A read of a PHI-bearing space is on record before its content leaves, which waits for the
    // writer: List's.
    if (PhiBearing(policy) && policy_.Audits()) return nullptr;
    return FindKept(tx, actor, key, checked);
  });
  // No connection free, a refusal or an error, or no page kept: List answers.
  if (!served || !*served || !**served) return std::nullopt;
  pages_.Count(true);
  const std::shared_ptr<const PageCache::Page>& kept = **served;
  if (stamp && checked) kept_reads_.Put(actor.user.id, key, KeptReads::Check{*stamp, *checked, now});
  return JsonText{{}, std::shared_ptr<const std::string>(kept, &kept->text)};
}

Result<std::shared_ptr<const PageCache::Page>> MessageService::FindKept(store::ReadTx& tx, const Actor& actor,
                                                                      const PageCache::Key& key,
                                                                      std::optional<store::PageVersion>& version) {
  ROUNDS_ASSIGN_OR_RETURN(version, tx.FindPageVersion(key.space_id));
  if (version && version->held) version.reset();  // authors and moderators see more
  if (!version) return nullptr;
  std::shared_ptr<const PageCache::Page> kept = pages_.Find(key, *version);
  if (kept && !kept->marked.empty()) {
    ROUNDS_ASSIGN_OR_RETURN(bool own_marks, tx.HasViewerMarks(kept->marked, actor.user.id));
    if (own_marks) return nullptr;
  }
  return kept;
}

void MessageService::KeepPage(const PageCache::Key& key, const store::PageVersion& version,
                              const std::vector<Message>& messages, const std::string& text) {
  auto kept = std::make_shared<PageCache::Page>();
  for (const auto& m : messages) {
    // Rendered for a viewer with marks of their own, the text is theirs alone.
    if (m.my_vote || m.my_poll_vote) return;
    for (const auto& r : m.reactions) {
      if (r.mine) return;
    }
    if (!m.reactions.empty() || m.kind == MessageKind::kPoll || m.kind == MessageKind::kIdea) kept->marked.push_back(m.id);
  }
  kept->version = version;
  kept->text = text;
  kept->count = messages.size();
  kept->patients = PatientsRead(messages);
  pages_.Put(key, std::move(kept));
}

Result<json> MessageService::Thread(const Actor& actor, MessageId id) {
  bool phi_bearing = false;
  SpaceId space_id = 0;
  std::string patients;
  std::optional<store::EmergencyGrant> grant;
  ROUNDS_ASSIGN_OR_RETURN(json out, store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Located located, ReadableMessage(tx, actor, id, clock_.NowMillis()));
    grant = located.grant;
    if (located.message.deleted || !MayView(located.message, located.standing, actor)) return NotFound("Message");
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, located.space));
    phi_bearing = PhiBearing(policy);
    space_id = located.space.id;
    store::MessageQuery q;
    q.space_id = located.space.id;
    q.moderator_view = Can(located.standing, SpaceAction::kModerate);
    q.viewer_id = actor.user.id;
    q.parent_id = id;
    q.after_seq = 0;
    q.limit = 1000;
    ROUNDS_ASSIGN_OR_RETURN(auto replies, tx.ListMessages(q));
    patients = domain::MergePatientRefs(located.message.patient_refs, PatientsRead(replies));
    AuthorCache authors(tx, policy_);
    ROUNDS_ASSIGN_OR_RETURN(json root, authors.Message(located.message));
    ROUNDS_ASSIGN_OR_RETURN(json items, authors.Messages(replies));
    return json{{"root", root}, {"items", items}};
  }));
  if (phi_bearing || grant) {
    ROUNDS_RETURN_IF_ERROR(AuditRead(actor, "message.thread", space_id,
                                     json{{"message_id", id}, {"count", out["items"].size() + 1}}, grant,
                                     std::move(patients)));
  }
  return out;
}

Result<json> MessageService::Pins(const Actor& actor, SpaceId space_id) {
  bool phi_bearing = false;
  std::string patients;
  std::optional<store::EmergencyGrant> grant;
  ROUNDS_ASSIGN_OR_RETURN(json out, store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpaceOrGrant(tx, actor, space_id, clock_.NowMillis()));
    grant = readable.grant;
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, readable.space));
    phi_bearing = PhiBearing(policy);
    ROUNDS_ASSIGN_OR_RETURN(auto pinned, tx.ListPinned(space_id, actor.user.id));
    patients = PatientsRead(pinned);
    AuthorCache authors(tx, policy_);
    ROUNDS_ASSIGN_OR_RETURN(json items, authors.Messages(pinned));
    return json{{"items", items}};
  }));
  if ((phi_bearing || grant) && !out["items"].empty()) {
    ROUNDS_RETURN_IF_ERROR(
        AuditRead(actor, "message.pins", space_id, json{{"count", out["items"].size()}}, grant, std::move(patients)));
  }
  return out;
}

Result<json> MessageService::Edit(const Actor& actor, MessageId id, const std::string& body,
                                  std::optional<std::string> title, bool confirm_phi) {
  if (!IsValidUtf8(body) || (title && !IsValidUtf8(*title))) {
    return InvalidArgument("invalid_utf8", "The message is not valid text.", "/body");
  }
  // Blank text is refused unless the message carries files (checked in the unit).
  const bool blank = std::all_of(body.begin(), body.end(), [](unsigned char c) { return std::isspace(c); });
  if (CodePointCount(body) > static_cast<std::size_t>(config_.max_message_chars)) {
    return InvalidArgument("message_too_long",
                           "A message is at most " + std::to_string(config_.max_message_chars) + " characters.", "/body");
  }
  if (title && CodePointCount(*title) > kMaxTitleChars) {
    return InvalidArgument("too_long", "A title is at most 200 characters.", "/title");
  }
  // What the edit keeps (the title when none is given, a poll's options) was screened when posted;
  // screened again here, outside the writer, so the types shown to moderators cover all of it.
  std::vector<std::pair<std::string, std::string>> kept_fields;
  // The body is read between the author's posts just before and after it, as they were sent: an
  // edit must not finish what the next post starts, or start what it finishes.
  EditNeighbours neighbours;
  {
    auto current = store_.Read([&](store::ReadTx& tx) -> Result<std::optional<Message>> {
      ROUNDS_ASSIGN_OR_RETURN(auto found, tx.FindMessage(id, actor.user.id));
      if (found && found->author_id == actor.user.id) {
        ROUNDS_ASSIGN_OR_RETURN(neighbours, ReadEditNeighbours(tx, *found));
      }
      return found;
    });
    if (current && *current) {
      if (!title) kept_fields.emplace_back("title", (*current)->title);
      for (const auto& option : (*current)->poll_options) {
        kept_fields.emplace_back("poll_options/" + std::to_string(option.index), option.text);
      }
    }
  }
  const Screening scanned = Screen(policy_, {{"body", body}, {"title", title.value_or("")}}, AuthorOf(actor),
                                   neighbours.view());
  const Screening kept = Screen(policy_, std::move(kept_fields), AuthorOf(actor));
  UnixMillis now = clock_.NowMillis();
  PendingEvent edited;
  std::vector<UserId> queue_watchers;  // held after the edit: who works the space's moderation queue
  std::optional<phi::PhiAction> refused;
  SpaceId refused_space = 0;
  std::optional<PostPlace> recall;  // where the next post is read after what this one now says
  auto written = store_.Write([&](store::WriteTx& tx) -> Result<json> {
    refused.reset();
    recall.reset();
    queue_watchers.clear();
    ROUNDS_ASSIGN_OR_RETURN(Located located, ReadableMessage(tx, actor, id));
    if (blank && located.message.attachments.empty()) {
      return InvalidArgument("empty_message", "Write something first.", "/body");
    }
    if (located.message.deleted) return NotFound("Message");
    if (located.message.author_id != actor.user.id) return Forbidden("author_only", "Only the author can edit a message.");
    if (located.space.archived) return Forbidden("space_archived", "This space is archived.");
    if (!located.standing.role) return Forbidden("not_a_member", "You are no longer a member of this space.");
    if (located.message.state == MessageState::kHidden || located.message.state == MessageState::kRemoved) {
      return Forbidden("moderated", "A moderator has taken this message down; it cannot be edited.");
    }
    // Rewriting a message is posting it again: whoever may no longer post it here (made read-only,
    // suspended, or no longer someone the template lets post or reply, or announce) may not
    // rewrite what members read either.
    ROUNDS_ASSIGN_OR_RETURN(auto policy, RequirePosting(tx, policy_, actor, located.space, located.standing,
                                                        located.message.parent_id.has_value(), now));
    if (located.message.kind == MessageKind::kAnnouncement) {
      ROUNDS_RETURN_IF_ERROR(internal::Require(located.standing, SpaceAction::kAnnounce, "owner_required",
                                               "Only the space's owners can change announcements."));
    }
    if (!governance::policy::MayEdit(policy, (now - located.message.created_at) / 60'000)) {
      return Forbidden("edit_window_closed", "This space's policy no longer allows editing this message.");
    }
    Screening screening = scanned;
    phi::PhiAction phi_action = ApplyPhiRule(policy.phi, screening);
    if (phi_action == phi::PhiAction::kBlock || (phi_action == phi::PhiAction::kWarn && !confirm_phi)) {
      refused = phi_action;
      refused_space = located.space.id;
      return Fail(PhiRefusal(phi_action, screening));
    }
    std::string new_title = title ? screening.Text(1) : located.message.title;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateMessageBody(id, new_title, screening.Text(0), now, actor.user.id));
    // What its moderators are told it holds is what the new text holds, not what the first did.
    const std::string phi_types =
        PhiTypesShown(policy, {scanned.TypesCsv(), kept.TypesCsv()}, located.message.attachments);
    if (phi_types != located.message.phi_types) ROUNDS_RETURN_IF_ERROR(tx.SetMessagePhiTypes(id, phi_types));
    // Whom it names: every version's, since its history is read beside it.
    const std::string patients =
        domain::MergePatientRefs(located.message.patient_refs, scanned.PatientsStored(phi_action == phi::PhiAction::kRedact));
    if (patients != located.message.patient_refs) ROUNDS_RETURN_IF_ERROR(tx.SetMessagePatients(id, patients));
    // An edit that brings PHI into a space that holds it goes back to the moderators.
    bool held = located.message.state == MessageState::kHeld;
    bool held_now = false;  // this edit took a published message back to the moderators
    if (phi_action == phi::PhiAction::kHold && !held) {
      ROUNDS_RETURN_IF_ERROR(tx.SetMessageState(id, MessageState::kHeld, std::string(kHoldPhi)));
      held = held_now = true;
    }
    // Where the post waited for a moderator (pre-moderation, or an outsider's post where what the
    // patient index alone finds is kept from members), an edit is reviewed as the post was: what
    // was approved is not what members would now read.
    if (!held && governance::policy::DecidePublication(policy, internal::PolicyStanding(located.standing),
                                                       !actor.IsStaff()) ==
                     governance::policy::Publication::kHoldForReview) {
      ROUNDS_RETURN_IF_ERROR(tx.SetMessageState(id, MessageState::kHeld, std::string(kHoldPreModeration)));
      held = held_now = true;
    }
    ROUNDS_ASSIGN_OR_RETURN(auto updated, tx.FindMessage(id, actor.user.id));
    if (!updated) return NotFound("Message");
    AuthorCache authors(tx, policy_);
    ROUNDS_ASSIGN_OR_RETURN(json j, authors.Message(*updated));
    if (held) {
      ROUNDS_ASSIGN_OR_RETURN(edited, internal::AppendRestrictedEvent(tx, located.space.id, "message.edited",
                                                                      j.dump(), now, actor.user.id));
      ROUNDS_ASSIGN_OR_RETURN(auto officers, officers_.List(tx));
      queue_watchers = internal::QueueWatchers(edited.recipients, officers, actor.user.id);
    } else {
      ROUNDS_ASSIGN_OR_RETURN(edited, AppendEvent(tx, located.space.id, "message.edited", j, now));
    }
    edited.event.patient_refs = updated->patient_refs;
    // Recorded as a post is: in PHI-bearing spaces, with PHI, and whenever it goes back to the
    // moderators (a pre-moderation hold is a hold like a PHI one).
    if (policy_.Audits() && (PhiBearing(policy) || phi_action != phi::PhiAction::kAllow || held_now)) {
      auto record = AuditEntry(actor, ContentAction(phi_action, held_now || phi_action == phi::PhiAction::kHold, "message.edit"),
                               "message", std::to_string(id), now);
      record.reason = "edit";
      record.patient_ref = scanned.Patients();
      json details{{"space_id", located.space.id}, {"phi_types", screening.TypesCsv()},
                   {"findings", screening.FindingCount()}};
      if (screening.Withheld()) details["withheld_types"] = screening.WithheldTypesCsv();
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, record, std::move(details)));
    }
    if (policy.phi != governance::policy::PhiRule::kAllow) recall = PostPlace::Of(located.message);
    return j;
  });
  if (!written) {
    if (refused) {
      RecordPhiRefusal(store_, actor, "message.phi_refuse", "message", std::to_string(id), *refused,
                       json{{"space_id", refused_space}, {"phi_types", scanned.TypesCsv()}}, now, scanned.Patients());
    }
    return tl::unexpected(written.error());
  }
  if (recall) RecallConversation(store_, policy_, *recall, now);
  Publish(bus_, edited);
  internal::PublishQueueChange(bus_, "held", edited.event.space_id, "message_id", id, std::move(queue_watchers));
  return std::move(*written);
}

Status MessageService::Delete(const Actor& actor, MessageId id) {
  UnixMillis now = clock_.NowMillis();
  PendingEvent deleted;
  std::vector<UserId> queue_watchers;  // set when the message was on the moderation queue
  std::optional<PostPlace> recall;     // where the next post is no longer read after this one
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    recall.reset();
    ROUNDS_ASSIGN_OR_RETURN(Located located, ReadableMessage(tx, actor, id));
    if (located.message.deleted) return NotFound("Message");
    // Only its author deletes a message. A moderator takes someone else's down with a reason
    // (remove), which its author is told of and may appeal once; a delete would do neither and
    // leave nothing to restore.
    if (located.message.author_id != actor.user.id || !located.standing.role) {
      if (Can(located.standing, SpaceAction::kModerate)) {
        return Forbidden("moderate_instead",
                         "Take someone else's message down with a reason (Moderate, then Remove): its author is told "
                         "and may appeal.");
      }
      return Forbidden("author_only",
                       "Only its author can delete a message; the space's moderators or a compliance officer can "
                       "remove it.");
    }
    // A message held for review, or reported, leaves the queue: those who work it are told.
    queue_watchers.clear();
    bool queued = located.message.state == MessageState::kHeld;
    if (!queued && located.message.state == MessageState::kPublished) {
      ROUNDS_ASSIGN_OR_RETURN(auto reports, tx.ListOpenReports(id));
      queued = !reports.empty();
    }
    if (queued) {
      ROUNDS_ASSIGN_OR_RETURN(auto moderators, internal::ModeratorsAnd(tx, located.space.id, located.message.author_id));
      ROUNDS_ASSIGN_OR_RETURN(auto officers, officers_.List(tx));
      queue_watchers = internal::QueueWatchers(std::move(moderators), officers, actor.user.id);
    }
    ROUNDS_RETURN_IF_ERROR(tx.DeleteMessage(id, now));
    // Its files go with it, unless a legal hold keeps the message (for e-discovery) until released
    // and purged.
    ROUNDS_ASSIGN_OR_RETURN(auto holds, tx.HoldsCovering(id));
    if (holds.empty()) ROUNDS_RETURN_IF_ERROR(tx.DeleteMessageAttachments(id).map([](int) {}));
    // Deleting content of a PHI-bearing space is on record.
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, located.space));
    if (policy_.Audits() && PhiBearing(policy)) {
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "message.delete", "message", std::to_string(id), now),
                                         json{{"space_id", located.space.id}}));
    }
    if (policy.phi != governance::policy::PhiRule::kAllow) recall = PostPlace::Of(located.message);
    // What was sent about it is not replayed any more (the message itself stays, emptied, for a
    // legal hold).
    ROUNDS_RETURN_IF_ERROR(tx.ScrubMessageEvents(id));
    ROUNDS_ASSIGN_OR_RETURN(deleted, AppendEvent(tx, located.space.id, "message.deleted",
                                                 json{{"id", id}, {"space_id", located.space.id},
                                                      {"parent_id", located.message.parent_id ? json(*located.message.parent_id) : json(nullptr)}},
                                                 now));
    return Ok();
  }));
  log::Info("message_deleted", {{"message_id", id}, {"by", actor.user.id}});
  if (recall) RecallConversation(store_, policy_, *recall, now);
  Publish(bus_, deleted);
  if (!queue_watchers.empty()) {
    internal::PublishQueueChange(bus_, "decided", deleted.event.space_id, "message_id", id, std::move(queue_watchers));
  }
  return Ok();
}

Result<json> MessageService::History(const Actor& actor, MessageId id) {
  bool phi_bearing = false;
  SpaceId space_id = 0;
  std::string patients;  // every version's: Message::patient_refs
  ROUNDS_ASSIGN_OR_RETURN(json out, store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Located located, ReadableMessage(tx, actor, id));
    if (located.message.deleted) return NotFound("Message");  // its versions went with it
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, located.space));
    phi_bearing = PhiBearing(policy);
    space_id = located.space.id;
    bool own = located.message.author_id == actor.user.id;
    if (!own && !Can(located.standing, SpaceAction::kReadOthersHistory)) {
      return Forbidden("moderator_required", "Only the author or a moderator can see a message's history.");
    }
    ROUNDS_ASSIGN_OR_RETURN(auto edits, tx.ListEdits(id));
    patients = located.message.patient_refs;
    json items = json::array();
    for (const auto& e : edits) items.push_back(MessageEditJson(e));
    return json{{"items", items}};
  }));
  if (phi_bearing) {
    ROUNDS_RETURN_IF_ERROR(AuditRead(actor, "message.history", space_id, json{{"message_id", id}}, std::nullopt,
                                     std::move(patients)));
  }
  return out;
}

// Reactions, idea votes and poll votes share one path: a member who may react changes the state;
// an event is stored and published only when something changed.
template <class F>
Result<json> MessageService::ChangeReaction(const Actor& actor, MessageId id, const char* event_type, F apply) {
  UnixMillis now = clock_.NowMillis();
  std::optional<PendingEvent> changed;
  ROUNDS_ASSIGN_OR_RETURN(json data, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    changed.reset();
    ROUNDS_ASSIGN_OR_RETURN(Located located, ReadableMessage(tx, actor, id));
    if (located.message.deleted) return NotFound("Message");
    if (!located.standing.role) return Forbidden("not_a_member", "Join the space to react or vote.");
    ROUNDS_RETURN_IF_ERROR(internal::Require(located.standing, SpaceAction::kReact, "read_only",
                                             "You can read this space but not react or vote."));
    ROUNDS_RETURN_IF_ERROR(RequireNotSuspended(tx, actor, located.space, now));
    ROUNDS_ASSIGN_OR_RETURN(auto outcome, apply(tx, located));
    // Who reacted or voted (`user_id`), as the space's members know them: set here for all three.
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, located.space));
    outcome.second["user_id"] = internal::MemberIdAsSeen(policy_, located.space.id, policy.pseudonyms, actor.user.id);
    if (outcome.first) {
      ROUNDS_ASSIGN_OR_RETURN(auto e, internal::AppendMessageEvent(tx, located.message, event_type, outcome.second, now));
      changed = std::move(e);
    }
    return outcome.second;
  }));
  if (changed) Publish(bus_, *changed);
  return data;
}

Result<json> MessageService::React(const Actor& actor, MessageId id, const std::string& emoji, bool on) {
  // Taking a reaction back is checked only as text: one stored before the emoji rules tightened
  // ("🅶🅰🆁🅲🅸🅰") can still be removed by whoever added it.
  if (on) {
    ROUNDS_RETURN_IF_ERROR(ValidateEmoji(emoji));
  } else if (emoji.empty() || emoji.size() > 64 || !IsValidUtf8(emoji)) {
    return InvalidArgument("invalid_emoji", "A reaction is an emoji.", "/emoji");
  }
  return ChangeReaction(actor, id, "reaction.changed", [&](store::WriteTx& tx, const Located&) -> Result<std::pair<bool, json>> {
    ROUNDS_ASSIGN_OR_RETURN(bool changed, tx.SetReaction(id, actor.user.id, emoji, on));
    ROUNDS_ASSIGN_OR_RETURN(auto updated, tx.FindMessage(id, actor.user.id));
    if (!updated) return NotFound("Message");
    int count = 0;
    for (const auto& r : updated->reactions) {
      if (r.emoji == emoji) count = r.count;
    }
    return std::make_pair(changed, json{{"message_id", id}, {"emoji", emoji}, {"count", count}, {"on", on}});
  });
}

Result<json> MessageService::Vote(const Actor& actor, MessageId id, bool on) {
  return ChangeReaction(actor, id, "vote.changed", [&](store::WriteTx& tx, const Located& located) -> Result<std::pair<bool, json>> {
    if (located.message.kind != MessageKind::kIdea) return InvalidArgument("not_an_idea", "Only ideas take votes.");
    ROUNDS_ASSIGN_OR_RETURN(bool changed, tx.SetIdeaVote(id, actor.user.id, on));
    ROUNDS_ASSIGN_OR_RETURN(auto updated, tx.FindMessage(id, actor.user.id));
    if (!updated) return NotFound("Message");
    return std::make_pair(changed, json{{"message_id", id}, {"vote_count", updated->vote_count}, {"on", on}});
  });
}

Result<json> MessageService::PollVote(const Actor& actor, MessageId id, std::optional<int> option) {
  return ChangeReaction(actor, id, "poll.changed", [&](store::WriteTx& tx, const Located& located) -> Result<std::pair<bool, json>> {
    if (located.message.kind != MessageKind::kPoll) return InvalidArgument("not_a_poll", "Only polls take poll votes.");
    ROUNDS_ASSIGN_OR_RETURN(bool changed, tx.SetPollVote(id, actor.user.id, option));
    ROUNDS_ASSIGN_OR_RETURN(auto updated, tx.FindMessage(id, actor.user.id));
    if (!updated) return NotFound("Message");
    json options = json::array();
    for (const auto& o : updated->poll_options) options.push_back({{"index", o.index}, {"text", o.text}, {"votes", o.votes}});
    // The options come back with their text: in a PHI-bearing space a read, on record with the vote.
    ROUNDS_RETURN_IF_ERROR(AuditReturnedRead(tx, actor, located.space, *updated, clock_.NowMillis()));
    return std::make_pair(changed, json{{"message_id", id}, {"poll_options", options},
                                        {"option", option ? json(*option) : json(nullptr)}});
  });
}

Result<json> MessageService::Accept(const Actor& actor, MessageId answer_id, bool on) {
  UnixMillis now = clock_.NowMillis();
  PendingEvent accepted;
  ROUNDS_ASSIGN_OR_RETURN(json question_json, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Located answer, ReadableMessage(tx, actor, answer_id));
    if (answer.message.deleted) return NotFound("Message");
    if (!answer.message.parent_id) return InvalidArgument("not_an_answer", "Only a reply to a question can be accepted.");
    ROUNDS_ASSIGN_OR_RETURN(auto question, tx.FindMessage(*answer.message.parent_id, actor.user.id));
    if (!question || question->deleted || question->kind != MessageKind::kQuestion) {
      return InvalidArgument("not_an_answer", "Only a reply to a question can be accepted.");
    }
    // An accepted answer is shown with its question to everyone who reads it.
    if (on && (answer.message.state != MessageState::kPublished || question->state != MessageState::kPublished)) {
      return Fail(ErrorCode::kConflict, "not_published", "Only a published answer to a published question can be accepted.");
    }
    if (answer.space.archived) return Forbidden("space_archived", "This space is archived.");
    bool asker = question->author_id == actor.user.id && answer.standing.role;
    if (asker) {
      // The asker accepts as a member who may still take part: not read-only, not suspended.
      ROUNDS_RETURN_IF_ERROR(internal::Require(answer.standing, SpaceAction::kReact, "read_only",
                                               "You can read this space but not take part."));
      ROUNDS_RETURN_IF_ERROR(RequireNotSuspended(tx, actor, answer.space, clock_.NowMillis()));
    } else {
      ROUNDS_RETURN_IF_ERROR(internal::Require(answer.standing, SpaceAction::kAcceptAnyAnswer, "author_only",
                                               "Only the person who asked or a moderator can accept an answer."));
    }
    std::optional<MessageId> value = on ? std::optional<MessageId>(answer_id) : std::nullopt;
    if (!on && question->accepted_answer_id != answer_id) value = question->accepted_answer_id;
    ROUNDS_RETURN_IF_ERROR(tx.SetAcceptedAnswer(question->id, value));
    ROUNDS_ASSIGN_OR_RETURN(auto updated, tx.FindMessage(question->id, actor.user.id));
    if (!updated) return NotFound("Message");
    AuthorCache authors(tx, policy_);
    ROUNDS_ASSIGN_OR_RETURN(json j, authors.Message(*updated));
    ROUNDS_ASSIGN_OR_RETURN(accepted, internal::AppendMessageEvent(tx, *updated, "answer.accepted", j, now));
    // The question comes back whole: in a PHI-bearing space a read, on record with the change.
    ROUNDS_RETURN_IF_ERROR(AuditReturnedRead(tx, actor, answer.space, *updated, now));
    return j;
  }));
  Publish(bus_, accepted);
  return question_json;
}

Result<json> MessageService::Pin(const Actor& actor, MessageId id, bool on) {
  UnixMillis now = clock_.NowMillis();
  PendingEvent pinned;
  ROUNDS_ASSIGN_OR_RETURN(json message, store_.Write([&](store::WriteTx& tx) -> Result<json> {
    ROUNDS_ASSIGN_OR_RETURN(Located located, ReadableMessage(tx, actor, id));
    if (located.message.deleted) return NotFound("Message");
    ROUNDS_RETURN_IF_ERROR(internal::Require(located.standing, SpaceAction::kPin, "moderator_required",
                                             "Only moderators and owners can pin messages."));
    ROUNDS_RETURN_IF_ERROR(tx.SetPinned(id, on));
    ROUNDS_ASSIGN_OR_RETURN(auto updated, tx.FindMessage(id, actor.user.id));
    if (!updated) return NotFound("Message");
    AuthorCache authors(tx, policy_);
    ROUNDS_ASSIGN_OR_RETURN(json j, authors.Message(*updated));
    ROUNDS_ASSIGN_OR_RETURN(pinned, internal::AppendMessageEvent(tx, *updated, "message.pinned", j, now));
    // The pin stores no text, but the message comes back whole: a read, on record with the pin.
    ROUNDS_RETURN_IF_ERROR(AuditReturnedRead(tx, actor, located.space, *updated, now));
    return j;
  }));
  Publish(bus_, pinned);
  return message;
}

Result<json> MessageService::Mentions(const Actor& actor, MessageId before_id, int limit) {
  int n = internal::ClampLimit(limit);
  std::map<SpaceId, SpaceRead> phi_read;  // PHI-bearing spaces among the results: what was read
  ROUNDS_ASSIGN_OR_RETURN(json out, store_.Read([&](store::ReadTx& tx) -> Result<json> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    ROUNDS_ASSIGN_OR_RETURN(auto mentions, tx.ListMentions(actor.user.id, before_id, n));
    AuthorCache authors(tx, policy_);
    json items = json::array();
    for (const auto& mention : mentions) {
      auto located = ReadableMessage(tx, actor, mention.message_id);
      if (!located) continue;  // the mentioned person has left the space since
      ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, located->space));
      if (PhiBearing(policy)) phi_read[located->space.id].Add(located->message);
      ROUNDS_ASSIGN_OR_RETURN(json m, authors.Message(located->message));
      items.push_back(json{{"message", m}, {"space", SpaceRefJson(located->space)}});
    }
    json next = mentions.size() == static_cast<std::size_t>(n) ? json(std::to_string(mentions.back().message_id)) : json(nullptr);
    return json{{"items", items}, {"next_cursor", next}};
  }));
  if (policy_.Audits()) {
    ROUNDS_RETURN_IF_ERROR(AuditSpaceReads(store_, actor, "message.mentions", phi_read, clock_.NowMillis()));
  }
  return out;
}

// ---- Attachments -------------------------------------------------------------------------------

Result<json> MessageService::Upload(const Actor& actor, SpaceId space_id, const UploadRequest& upload) {
  if (actor.is_system) return Forbidden();
  if (!IsValidFileName(upload.name)) {
    return InvalidArgument("invalid_file_name",
                           "A file name is 1 to 255 bytes of text, without '/', '\\' or control characters.", "name");
  }
  if (upload.content.empty()) return InvalidArgument("empty_file", "The file is empty.", "body");
  // The type is the content's; a client that names another is refused rather than believed.
  const std::string detected = DetectContentType(upload.content);
  std::string declared = upload.declared_type.substr(0, upload.declared_type.find(';'));
  while (!declared.empty() && declared.back() == ' ') declared.pop_back();
  std::transform(declared.begin(), declared.end(), declared.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!DeclaredTypeFits(declared, detected)) {
    return InvalidArgument("attachment_type_mismatch",
                           "The file's content is " + detected + ", not " + declared + ".", "content_type");
  }
  // A text file (plain text, CSV, Markdown, HTML, SVG) is screened whole, as a message is: a list
  // of patients pasted into a .csv is the same disclosure as pasted into a post. Its redaction is
  // prepared here too, so that the writer only chooses between the two contents.
  const bool textual = IsTextualType(detected);
  const UnixMillis now = clock_.NowMillis();
  // Whether the caller may add a file to the space and its template takes this one; its template.
  auto admit = [&](store::ReadTx& tx) -> Result<governance::policy::PolicyTemplate> {
    ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, space_id));
    ROUNDS_ASSIGN_OR_RETURN(auto policy,
                            RequirePosting(tx, policy_, actor, readable.first, readable.second, std::nullopt, now));
    ROUNDS_RETURN_IF_ERROR(CheckAttachmentRule(policy.attachments, upload.content.size(), detected));
    return policy;
  };
  if (textual || policy_.ScansForMalware()) {
    // Scanning a large file costs up to a second: a file the space would refuse anyway (or a
    // caller who may not post there) is refused first, from a read. The write below admits it
    // again against the template it stores under.
    ROUNDS_RETURN_IF_ERROR(store_.Read(admit).map([](auto&&) {}));
  }
  // Malware first: a file the scanner names is never stored, and one it cannot vouch for either.
  auto scanned_for_malware = policy_.ScanForMalware(upload.content);
  if (!scanned_for_malware) {
    log::Error("antivirus_unavailable", {{"space_id", space_id}, {"reason", scanned_for_malware.error().internal_message}});
    return tl::unexpected(scanned_for_malware.error());
  }
  const av::Verdict& verdict = *scanned_for_malware;
  if (!verdict.clean) {
    auto record = AuditEntry(actor, "attachment.malware", "space", std::to_string(space_id), now);
    record.outcome = AuditOutcome::kDenied;
    record.reason = verdict.signature;
    (void)AuditNow(store_, record, json{{"size", upload.content.size()}, {"content_type", detected},
                                        {"sha256", crypto::Sha256Hex(upload.content)}, {"signature", verdict.signature}});
    log::Warn("attachment_malware", {{"space_id", space_id}, {"user_id", actor.user.id}, {"signature", verdict.signature}});
    return Fail(ErrorCode::kPolicyDenied, "attachment_malware",
                "The malware scanner found " + verdict.signature + " in this file. It was not stored.");
  }
  // An outsider's file is screened as the outsider is shown it: its findings, refusal and
  // redaction are the same whoever is in the patient index. What the index alone found is kept
  // as types only (`withheld_types`), for the post that attaches the file.
  const Author author = AuthorOf(actor);
  Screening scanned{{ScreenField(policy_, "name", upload.name, author)}};
  scanned.fields[0].text = upload.name;
  std::string redacted_content;
  std::string redacted_sha256;
  if (textual) {
    ScreenedField content = ScreenField(policy_, "content", upload.content, author);  // its text stays in `upload`
    if (!content.findings.empty()) {
      redacted_content = phi::Redact(upload.content, content.findings);
      redacted_sha256 = crypto::Sha256Hex(redacted_content);
    }
    KeepFindings(content, kMaxListedFindings);  // the writer copies this screening
    scanned.fields.push_back(std::move(content));
  }
  const std::string withheld_types = scanned.WithheldTypesCsv();
  const std::string patients = scanned.Patients();  // whom the name and content name
  for (auto& field : scanned.fields) field.withheld.clear();  // the writer copies this screening
  const std::string sha256 = crypto::Sha256Hex(upload.content);
  std::optional<phi::PhiAction> refused;
  Screening refusal;
  auto stored = store_.Write([&](store::WriteTx& tx) -> Result<Attachment> {
    refused.reset();
    ROUNDS_ASSIGN_OR_RETURN(auto policy, admit(tx));
    Screening screening = scanned;
    const phi::PhiAction phi_action = ApplyPhiRule(policy.phi, screening);
    if (phi_action == phi::PhiAction::kBlock || (phi_action == phi::PhiAction::kWarn && !upload.confirm_phi)) {
      refused = phi_action;
      refusal = screening;
      return Fail(PhiRefusal(phi_action, screening));
    }
    const bool redact_content = phi_action == phi::PhiAction::kRedact && !redacted_content.empty();
    const std::string& content = redact_content ? redacted_content : upload.content;
    Attachment a;
    a.space_id = space_id;
    a.uploader_id = actor.user.id;
    a.name = screening.Text(0);
    a.content_type = detected;
    a.size = static_cast<std::int64_t>(content.size());
    a.sha256 = redact_content ? redacted_sha256 : sha256;
    // What the stored file still holds, under every rule that stores it: a post that attaches it
    // later applies the template in force then (see AttachmentPhiDecision).
    if (phi_action != phi::PhiAction::kRedact) a.phi_types = screening.TypesCsv();
    a.phi_rule = std::string(governance::policy::ToString(policy.phi));
    a.withheld_types = withheld_types;
    // Under a redact rule the name and content keep only what was withheld from redaction.
    a.patient_refs = phi_action == phi::PhiAction::kRedact ? scanned.PatientsStored(true) : patients;
    a.name_patient_refs = scanned.fields[0].PatientsStored(phi_action == phi::PhiAction::kRedact);
    a.created_at = now;
    ROUNDS_ASSIGN_OR_RETURN(a.id, tx.InsertAttachment(a, content));
    if (policy_.Audits()) {
      auto record = AuditEntry(actor, ContentAction(phi_action, false, "attachment.upload"), "attachment",
                               std::to_string(a.id), now);
      record.patient_ref = patients;
      if (phi_action != phi::PhiAction::kAllow) record.reason = std::string(phi::ToString(phi_action));
      json details{{"space_id", space_id}, {"size", a.size}, {"content_type", detected}, {"phi_types", a.phi_types},
                   {"content_screened", textual}, {"findings", screening.FindingCount()}};
      if (!withheld_types.empty()) details["withheld_types"] = withheld_types;
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, record, details));
    }
    return a;
  });
  if (!stored) {
    if (refused) {
      RecordPhiRefusal(store_, actor, "attachment.phi_refuse", "space", std::to_string(space_id), *refused,
                       json{{"phi_types", refusal.TypesCsv()}, {"findings", refusal.FindingCount()}}, now, patients);
    }
    return tl::unexpected(stored.error());
  }
  log::Info("attachment_uploaded", {{"attachment_id", stored->id}, {"space_id", space_id}, {"size", stored->size}});
  return AttachmentJson(*stored);
}

namespace {

// A stored piece is as long as the file's size says it must be: whole but the last. A download
// that sent a wrong one would pass on a file other than the one hashed and screened.
Status CheckPieceSize(const Attachment& attachment, std::int64_t piece, const std::string& bytes) {
  const std::int64_t expected =
      std::min(store::kAttachmentPieceBytes, attachment.size - piece * store::kAttachmentPieceBytes);
  if (static_cast<std::int64_t>(bytes.size()) == std::max<std::int64_t>(expected, 0)) return Ok();
  return Internal("attachment " + std::to_string(attachment.id) + " piece " + std::to_string(piece) + " holds " +
                  std::to_string(bytes.size()) + " bytes, not " + std::to_string(expected));
}

}  // namespace

Result<AttachmentDownload> MessageService::Download(const Actor& actor, AttachmentId id) {
  bool phi_bearing = false;
  SpaceId space_id = 0;
  std::optional<store::EmergencyGrant> grant;
  ROUNDS_ASSIGN_OR_RETURN(AttachmentDownload out, store_.Read([&](store::ReadTx& tx) -> Result<AttachmentDownload> {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    ROUNDS_ASSIGN_OR_RETURN(auto attachment, tx.FindAttachment(id));
    if (!attachment) return NotFound("Attachment");
    Space space;
    if (attachment->message_id) {
      // As readable as its message: a deleted one's files are gone for everyone.
      auto located = ReadableMessage(tx, actor, *attachment->message_id, clock_.NowMillis());
      if (!located || located->message.deleted) return NotFound("Attachment");
      space = located->space;
      grant = located->grant;
    } else {
      // An upload not yet posted is its uploader's alone.
      if (attachment->uploader_id != actor.user.id) return NotFound("Attachment");
      ROUNDS_ASSIGN_OR_RETURN(auto readable, internal::ReadableSpace(tx, actor, attachment->space_id));
      space = readable.first;
    }
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
    phi_bearing = PhiBearing(policy);
    space_id = space.id;
    ROUNDS_ASSIGN_OR_RETURN(auto first, tx.ReadAttachmentPiece(id, 0));
    if (!first) return NotFound("Attachment");
    ROUNDS_RETURN_IF_ERROR(CheckPieceSize(*attachment, 0, *first));
    const std::int64_t pieces = store::AttachmentPieces(attachment->size);
    return AttachmentDownload{std::move(*attachment), std::move(*first), pieces};
  }));
  if (phi_bearing || grant) {
    ROUNDS_RETURN_IF_ERROR(AuditRead(actor, "attachment.read", space_id,
                                     json{{"attachment_id", id}, {"message_id", out.attachment.message_id
                                                                                    ? json(*out.attachment.message_id)
                                                                                    : json(nullptr)}},
                                     grant, out.attachment.patient_refs));
  }
  return out;
}

Result<std::string> MessageService::DownloadPiece(const AttachmentDownload& download, std::int64_t piece) {
  if (piece < 1 || piece >= download.pieces) return NotFound("Attachment piece");
  const AttachmentId id = download.attachment.id;
  ROUNDS_ASSIGN_OR_RETURN(auto bytes, store_.Read([&](store::ReadTx& tx) { return tx.ReadAttachmentPiece(id, piece); }));
  if (!bytes) return NotFound("Attachment");
  ROUNDS_RETURN_IF_ERROR(CheckPieceSize(download.attachment, piece, *bytes));
  return std::move(*bytes);
}

Status MessageService::RemoveUpload(const Actor& actor, AttachmentId id) {
  const UnixMillis now = clock_.NowMillis();
  return store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(internal::Current(tx, actor).map([](auto&&) {}));
    ROUNDS_ASSIGN_OR_RETURN(auto attachment, tx.FindAttachment(id));
    if (!attachment || attachment->uploader_id != actor.user.id) return NotFound("Attachment");
    if (attachment->message_id) {
      return Fail(ErrorCode::kConflict, "attachment_posted", "This file is part of a message: delete the message instead.");
    }
    const AttachmentId ids[] = {id};
    ROUNDS_ASSIGN_OR_RETURN(const int removed, tx.DeleteAttachments(ids));
    (void)removed;
    if (!policy_.Audits()) return Ok();
    return AppendAudit(tx, AuditEntry(actor, "attachment.remove", "attachment", std::to_string(id), now),
                       json{{"space_id", attachment->space_id}});
  });
}

}  // namespace rounds::app
