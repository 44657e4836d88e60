#include "governance/policy/policy_template.hpp"

#include <array>
#include <set>
#include <utility>

#include "core/json_text.hpp"
#include "domain/rules.hpp"

namespace rounds::governance::policy {
namespace {

using nlohmann::json;

template <class E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Audience, 3> kAudiences{{
    {Audience::kStaff, "staff"}, {Audience::kPatients, "patients"}, {Audience::kMixed, "mixed"}}};
constexpr NameTable<Joining, 3> kJoinings{{
    {Joining::kOpen, "open"}, {Joining::kRequest, "request"}, {Joining::kInvite, "invite"}}};
constexpr NameTable<Who, 4> kWhos{{
    {Who::kMembers, "members"}, {Who::kModerators, "moderators"}, {Who::kOwners, "owners"},
    {Who::kNobody, "nobody"}}};
constexpr NameTable<Moderation, 3> kModerations{{
    {Moderation::kNone, "none"}, {Moderation::kPostModeration, "post-moderation"},
    {Moderation::kPreModeration, "pre-moderation"}}};
constexpr NameTable<PhiRule, 5> kPhiRules{{
    {PhiRule::kAllow, "allow"}, {PhiRule::kWarn, "warn"}, {PhiRule::kHold, "hold"},
    {PhiRule::kBlock, "block"}, {PhiRule::kRedact, "redact"}}};

template <class E, std::size_t N>
std::string_view NameOf(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

template <class E, std::size_t N>
std::string Choices(const NameTable<E, N>& table) {
  std::string out;
  for (const auto& [v, name] : table) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

constexpr std::size_t kMaxMimeTypes = 100;
// An unknown field's name is echoed in its message only this far: the name is the sender's text.
constexpr std::size_t kMaxEchoedName = 100;

// Collects issues while reading a document field by field.
class Reader {
 public:
  explicit Reader(std::vector<ValidationIssue>& issues) : issues_(issues) {}

  void Issue(std::string path, std::string code, std::string message) {
    issues_.push_back({std::move(path), std::move(code), std::move(message)});
  }

  const json* Field(const json& object, const std::string& base, const char* name, bool required) {
    auto it = object.find(name);
    if (it == object.end()) {
      if (required) Issue(base + "/" + name, "missing_field", std::string("'") + name + "' is required.");
      return nullptr;
    }
    return &*it;
  }

  void String(const json& object, const std::string& base, const char* name, std::string& out,
              bool required, std::size_t max_length) {
    const json* v = Field(object, base, name, required);
    if (v == nullptr) return;
    if (!v->is_string()) {
      Issue(base + "/" + name, "invalid_type", std::string("'") + name + "' must be a string.");
      return;
    }
    out = v->get<std::string>();
    // Limits are in characters as people count them, not in UTF-8 bytes.
    if (required && out.empty()) {
      Issue(base + "/" + name, "invalid_value", std::string("'") + name + "' must not be empty.");
    } else if (!domain::IsValidUtf8(out)) {
      Issue(base + "/" + name, "invalid_value", std::string("'") + name + "' must be valid UTF-8.");
    } else if (domain::CodePointCount(out) > max_length) {
      Issue(base + "/" + name, "invalid_value",
            std::string("'") + name + "' is longer than " + std::to_string(max_length) + " characters.");
    }
  }

  template <class E, std::size_t N>
  void Enum(const json& object, const std::string& base, const char* name,
            const NameTable<E, N>& table, E& out) {
    const json* v = Field(object, base, name, /*required=*/true);
    if (v == nullptr) return;
    if (!v->is_string()) {
      Issue(base + "/" + name, "invalid_type",
            std::string("'") + name + "' must be a string, one of: " + Choices(table) + ".");
      return;
    }
    for (const auto& [value, text] : table) {
      if (text == v->get<std::string>()) {
        out = value;
        return;
      }
    }
    Issue(base + "/" + name, "invalid_value",
          std::string("'") + name + "' must be one of: " + Choices(table) + ".");
  }

  void Bool(const json& object, const std::string& base, const char* name, bool& out) {
    const json* v = Field(object, base, name, /*required=*/false);
    if (v == nullptr) return;
    if (!v->is_boolean()) {
      Issue(base + "/" + name, "invalid_type", std::string("'") + name + "' must be true or false.");
      return;
    }
    out = v->get<bool>();
  }

  // A positive integer in [min, max], or null meaning "none".
  void OptionalInt(const json& object, const std::string& base, const char* name,
                   std::optional<int>& out, int min, int max) {
    const json* v = Field(object, base, name, /*required=*/false);
    if (v == nullptr || v->is_null()) {
      out.reset();
      return;
    }
    if (!v->is_number_integer()) {
      Issue(base + "/" + name, "invalid_type", std::string("'") + name + "' must be an integer or null.");
      return;
    }
    auto n = v->get<std::int64_t>();
    if (n < min || n > max) {
      Issue(base + "/" + name, "invalid_value",
            std::string("'") + name + "' must be between " + std::to_string(min) + " and " +
                std::to_string(max) + ".");
      return;
    }
    out = static_cast<int>(n);
  }

  void UnknownFields(const json& object, const std::string& base,
                     const std::set<std::string>& known) {
    for (const auto& [key, value] : object.items()) {
      if (!known.contains(key)) {
        Issue(base + "/" + JsonPointerToken(key), "unknown_field",
              "Unknown field '" + ShortenedText(key, kMaxEchoedName) + "'.");
      }
    }
  }

 private:
  std::vector<ValidationIssue>& issues_;
};

bool ValidKey(const std::string& key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool ValidMimeType(const std::string& type) {
  auto slash = type.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == type.size()) return false;
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '-' || c == '.' ||
          c == '+')) {
      return false;
    }
  }
  return true;
}

PolicyTemplate Make(std::string key, std::string name, std::string description,
                    void (*adjust)(PolicyTemplate&)) {
  PolicyTemplate t;
  t.key = std::move(key);
  t.name = std::move(name);
  t.description = std::move(description);
  t.attachments.types = {"image/png", "image/jpeg", "application/pdf"};
  adjust(t);
  return t;
}

}  // namespace

std::string_view ToString(Audience v) { return NameOf(kAudiences, v); }
std::string_view ToString(Joining v) { return NameOf(kJoinings, v); }
std::string_view ToString(Who v) { return NameOf(kWhos, v); }
std::string_view ToString(Moderation v) { return NameOf(kModerations, v); }
std::string_view ToString(PhiRule v) { return NameOf(kPhiRules, v); }

tl::expected<PolicyTemplate, std::vector<ValidationIssue>> ParseTemplate(const json& doc) {
  std::vector<ValidationIssue> issues;
  Reader r(issues);
  PolicyTemplate t;
  if (!doc.is_object()) {
    r.Issue("", "invalid_type", "A template must be a JSON object.");
    return tl::unexpected(std::move(issues));
  }
  r.UnknownFields(doc, "", {"key", "version", "name", "description", "audience", "joining",
                            "posting", "threads", "moderation", "phi", "retention_days",
                            "message_ttl_days", "edit_window_minutes", "attachments",
                            "export_allowed", "guests_allowed", "pseudonyms"});
  r.String(doc, "", "key", t.key, true, 64);
  if (!t.key.empty() && !ValidKey(t.key)) {
    r.Issue("/key", "invalid_value", "'key' may hold only a-z, 0-9 and '-'.");
  }
  std::optional<int> version;
  r.OptionalInt(doc, "", "version", version, 1, 1'000'000);
  if (version) t.version = *version;
  const std::size_t name_issues = issues.size();
  r.String(doc, "", "name", t.name, true, 120);
  // The name is shown on one line wherever the template is chosen.
  if (issues.size() == name_issues && !t.name.empty() && !domain::IsDisplayText(t.name)) {
    r.Issue("/name", "invalid_value",
            "'name' must be on one line, with no control characters, and not only spaces.");
  }
  r.String(doc, "", "description", t.description, false, 2000);
  r.Enum(doc, "", "audience", kAudiences, t.audience);
  r.Enum(doc, "", "joining", kJoinings, t.joining);
  r.Enum(doc, "", "posting", kWhos, t.posting);
  r.Enum(doc, "", "threads", kWhos, t.threads);
  r.Enum(doc, "", "moderation", kModerations, t.moderation);
  r.Enum(doc, "", "phi", kPhiRules, t.phi);
  r.OptionalInt(doc, "", "retention_days", t.retention_days, 1, 36'500);
  r.OptionalInt(doc, "", "message_ttl_days", t.message_ttl_days, 1, 36'500);
  r.OptionalInt(doc, "", "edit_window_minutes", t.edit_window_minutes, 0, 525'600);
  r.Bool(doc, "", "export_allowed", t.export_allowed);
  r.Bool(doc, "", "guests_allowed", t.guests_allowed);
  r.Bool(doc, "", "pseudonyms", t.pseudonyms);
  if (const json* a = r.Field(doc, "", "attachments", false)) {
    if (!a->is_object()) {
      r.Issue("/attachments", "invalid_type", "'attachments' must be an object.");
    } else {
      r.UnknownFields(*a, "/attachments", {"allowed", "types", "max_bytes"});
      r.Bool(*a, "/attachments", "allowed", t.attachments.allowed);
      if (const json* types = r.Field(*a, "/attachments", "types", false)) {
        t.attachments.types.clear();
        if (!types->is_array()) {
          r.Issue("/attachments/types", "invalid_type", "'types' must be an array of MIME types.");
        } else if (types->size() > kMaxMimeTypes) {
          r.Issue("/attachments/types", "invalid_value",
                  "'types' may list at most " + std::to_string(kMaxMimeTypes) + " MIME types.");
        } else {
          for (std::size_t i = 0; i < types->size(); ++i) {
            const json& item = (*types)[i];
            if (!item.is_string()) {
              r.Issue("/attachments/types/" + std::to_string(i), "invalid_type",
                      "Each type must be a string, a MIME type such as 'image/png'.");
            } else if (!ValidMimeType(item.get<std::string>())) {
              r.Issue("/attachments/types/" + std::to_string(i), "invalid_value",
                      "Each type must be a MIME type such as 'image/png'.");
            } else {
              t.attachments.types.push_back(item.get<std::string>());
            }
          }
        }
      }
      if (const json* max = r.Field(*a, "/attachments", "max_bytes", false)) {
        if (!max->is_number_integer()) {
          r.Issue("/attachments/max_bytes", "invalid_type", "'max_bytes' must be an integer.");
        } else if (max->get<std::int64_t>() < 0 || max->get<std::int64_t>() > (std::int64_t{1} << 30)) {
          r.Issue("/attachments/max_bytes", "invalid_value",
                  "'max_bytes' must be an integer between 0 and 1073741824.");
        } else {
          t.attachments.max_bytes = max->get<std::int64_t>();
        }
      }
    }
  }
  // Rules that relate fields to each other.
  if (t.retention_days && t.message_ttl_days && *t.message_ttl_days > *t.retention_days) {
    r.Issue("/message_ttl_days", "invalid_value",
            "'message_ttl_days' cannot exceed 'retention_days'.");
  }
  if (!issues.empty()) return tl::unexpected(std::move(issues));
  return t;
}

tl::expected<PolicyTemplate, std::vector<ValidationIssue>> ParseTemplateText(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return tl::unexpected(std::vector<ValidationIssue>{{"", "malformed_json", "The template is not valid JSON."}});
  }
  return ParseTemplate(doc);
}

json ToJson(const PolicyTemplate& t) {
  auto optional_int = [](const std::optional<int>& v) { return v ? json(*v) : json(nullptr); };
  return json{
      {"key", t.key},
      {"version", t.version},
      {"name", t.name},
      {"description", t.description},
      {"audience", ToString(t.audience)},
      {"joining", ToString(t.joining)},
      {"posting", ToString(t.posting)},
      {"threads", ToString(t.threads)},
      {"moderation", ToString(t.moderation)},
      {"phi", ToString(t.phi)},
      {"retention_days", optional_int(t.retention_days)},
      {"message_ttl_days", optional_int(t.message_ttl_days)},
      {"edit_window_minutes", optional_int(t.edit_window_minutes)},
      {"attachments", {{"allowed", t.attachments.allowed}, {"types", t.attachments.types},
                       {"max_bytes", t.attachments.max_bytes}}},
      {"export_allowed", t.export_allowed},
      {"guests_allowed", t.guests_allowed},
      {"pseudonyms", t.pseudonyms},
  };
}

const std::vector<PolicyTemplate>& BuiltInTemplates() {
  static const std::vector<PolicyTemplate> templates = {
      Make("internal-community", "Internal community",
           "Staff communities across departments. No patient information: PHI is flagged and the "
           "author must confirm.",
           [](PolicyTemplate& t) {
             t.phi = PhiRule::kWarn;
             t.retention_days = 3 * 365;
           }),
      Make("clinical-team", "Clinical team (PHI allowed)",
           "Care-team channels where patient details are part of the work. Invitation only; every "
           "read is audited.",
           [](PolicyTemplate& t) {
             t.joining = Joining::kInvite;
             t.phi = PhiRule::kAllow;
             t.retention_days = 7 * 365;
             t.export_allowed = true;
           }),
      Make("announcements", "Announcements",
           "Organization-wide news. Only owners post; members may comment.",
           [](PolicyTemplate& t) {
             t.posting = Who::kOwners;
             t.threads = Who::kMembers;
             t.phi = PhiRule::kBlock;
             t.retention_days = 5 * 365;
           }),
      Make("patient-forum", "Patient forum (pre-moderated, no PHI)",
           "Moderated peer forums for patients under pseudonyms. Every post waits for a moderator; "
           "a post carrying identifiers is refused before anything is stored, so its author can rephrase.",
           [](PolicyTemplate& t) {
             t.audience = Audience::kPatients;
             t.joining = Joining::kRequest;
             t.moderation = Moderation::kPreModeration;
             t.phi = PhiRule::kBlock;
             t.retention_days = 2 * 365;
             t.attachments.allowed = false;
             t.attachments.types.clear();
             t.pseudonyms = true;
             t.export_allowed = false;
           }),
      Make("patient-care-messaging", "Patient–care team messaging (PHI allowed, 10-year retention)",
           "Secure messages between a patient (or proxy) and their care team's pool.",
           [](PolicyTemplate& t) {
             t.audience = Audience::kMixed;
             t.joining = Joining::kInvite;
             t.phi = PhiRule::kAllow;
             t.retention_days = 10 * 365;
             t.edit_window_minutes = 15;
           }),
  };
  return templates;
}

const PolicyTemplate* FindBuiltIn(std::string_view key) {
  for (const auto& t : BuiltInTemplates()) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

bool MayPost(const PolicyTemplate& policy, Standing standing, bool reply) {
  Who rule = reply ? policy.threads : policy.posting;
  switch (rule) {
    case Who::kMembers: return true;
    case Who::kModerators: return standing != Standing::kMember;
    case Who::kOwners: return standing == Standing::kOwner;
    case Who::kNobody: return false;
  }
  return false;
}

bool MayBeMember(const PolicyTemplate& policy, Account account) {
  switch (account) {
    case Account::kStaff: return true;
    case Account::kPatient: return policy.audience != Audience::kStaff;
    case Account::kGuest: return policy.guests_allowed;
  }
  return false;
}

bool ReviewsWithheld(PhiRule rule) {
  return rule == PhiRule::kHold || rule == PhiRule::kBlock || rule == PhiRule::kRedact;
}

Publication DecidePublication(const PolicyTemplate& policy, Standing standing, bool outsider) {
  if (policy.moderation == Moderation::kPreModeration && standing == Standing::kMember) {
    return Publication::kHoldForReview;
  }
  if (outsider && ReviewsWithheld(policy.phi)) return Publication::kHoldForReview;
  return Publication::kPublish;
}

PhiRule DecidePhi(const PolicyTemplate& policy, std::size_t finding_count) {
  return finding_count == 0 ? PhiRule::kAllow : policy.phi;
}

bool MayEdit(const PolicyTemplate& policy, std::int64_t minutes_since_post) {
  return !policy.edit_window_minutes || minutes_since_post <= *policy.edit_window_minutes;
}

}  // namespace rounds::governance::policy
