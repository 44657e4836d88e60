// Policy templates: the versioned rules a space runs under (pure: no I/O, no clock).
//
// A template is a JSON document owned by compliance. ParseTemplate validates it strictly and
// reports every problem with its JSON path; the evaluator functions decide what a template allows.
// Spaces point at one (key, version); changing a template creates a new version. Thread-safe:
// values only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace rounds::governance::policy {

enum class Audience { kStaff, kPatients, kMixed };
enum class Joining { kOpen, kRequest, kInvite };
// Who may do something in a space, from least to most restrictive.
enum class Who { kMembers, kModerators, kOwners, kNobody };
enum class Moderation { kNone, kPostModeration, kPreModeration };
enum class PhiRule { kAllow, kWarn, kHold, kBlock, kRedact };

struct AttachmentRule {
  bool allowed = true;
  std::vector<std::string> types;      // MIME types, e.g. "image/png", "application/pdf"
  std::int64_t max_bytes = 10 << 20;
};

struct PolicyTemplate {
  std::string key;                     // stable slug: "internal-community"
  int version = 1;
  std::string name;
  std::string description;
  Audience audience = Audience::kStaff;
  Joining joining = Joining::kOpen;
  Who posting = Who::kMembers;         // who may start posts / messages
  Who threads = Who::kMembers;         // who may reply or comment
  Moderation moderation = Moderation::kNone;
  PhiRule phi = PhiRule::kWarn;
  std::optional<int> retention_days;   // nullopt: keep forever
  std::optional<int> message_ttl_days; // nullopt: messages do not expire
  std::optional<int> edit_window_minutes;  // nullopt: edits always allowed
  AttachmentRule attachments;
  bool export_allowed = true;
  bool guests_allowed = false;
  bool pseudonyms = false;             // patient forums show pseudonyms, not names
};

struct ValidationIssue {
  std::string path;                    // JSON pointer, e.g. "/attachments/max_bytes"
  std::string code;                    // "unknown_field", "invalid_value", "missing_field", "invalid_type"
  std::string message;
};

// Parses and validates a template document. On failure returns every issue found (not only the
// first), each with its JSON pointer.
tl::expected<PolicyTemplate, std::vector<ValidationIssue>> ParseTemplate(const nlohmann::json& doc);
// Convenience for text input; malformed JSON is one issue at path "".
tl::expected<PolicyTemplate, std::vector<ValidationIssue>> ParseTemplateText(std::string_view text);
nlohmann::json ToJson(const PolicyTemplate& policy);

// The templates shipped with Rounds, version 1 each: "internal-community",
// "clinical-team", "announcements", "patient-forum", "patient-care-messaging".
const std::vector<PolicyTemplate>& BuiltInTemplates();
const PolicyTemplate* FindBuiltIn(std::string_view key);

std::string_view ToString(Audience v);
std::string_view ToString(Joining v);
std::string_view ToString(Who v);
std::string_view ToString(Moderation v);
std::string_view ToString(PhiRule v);

// ---- Evaluation ------------------------------------------------------------------------------

// The caller's standing in the space, as the app layer knows it.
enum class Standing { kMember, kModerator, kOwner };

// May someone with `standing` start a post (reply == false) or reply/comment (reply == true)?
bool MayPost(const PolicyTemplate& policy, Standing standing, bool reply);

// Who may be a member of a space under this template: staff always (they run and moderate every
// space); patients where its audience is patients or mixed; guests (people from outside the
// organization) where it allows guests.
enum class Account { kStaff, kPatient, kGuest };
bool MayBeMember(const PolicyTemplate& policy, Account account);

// The PHI rules that keep PHI from members (hold, block, redact). Under them, what the patient
// index alone finds in an outsider's text (a patient's or a guest's) is shown to a moderator before
// anyone reads it, and its author is never told why.
bool ReviewsWithheld(PhiRule rule);

// What happens to a new post, or an edit, that passed the permission check: published at once, or
// held for a moderator first. Held: a member's post under pre-moderation (moderators' and owners'
// own posts are never held), and every post of an `outsider` (a patient or a guest, whatever their
// standing) where ReviewsWithheld(policy.phi). Holding only the posts the patient index flags
// would tell their author who is a patient; holding all of them tells nothing.
enum class Publication { kPublish, kHoldForReview };
Publication DecidePublication(const PolicyTemplate& policy, Standing standing, bool outsider);

// What to do with a text that has PHI findings under this template. No findings: kAllow.
PhiRule DecidePhi(const PolicyTemplate& policy, std::size_t finding_count);

// Is an edit at `minutes_since_post` within the template's edit window?
bool MayEdit(const PolicyTemplate& policy, std::int64_t minutes_since_post);

}  // namespace rounds::governance::policy
