#include "app/screening.hpp"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <set>

#include "app/audit_log.hpp"
#include "app/json_codec.hpp"
#include "core/log.hpp"
#include "governance/phi/continuation.hpp"

namespace rounds::app {

std::string TypeCode(phi::PhiType type) {
  std::string code(phi::ToString(type));
  for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return code;
}

std::size_t Screening::FindingCount() const {
  std::size_t n = 0;
  for (const auto& f : fields) n += f.findings.size() + f.omitted;
  return n;
}

void KeepFindings(ScreenedField& field, std::size_t limit) {
  if (field.findings.size() <= limit) return;
  std::set<phi::PhiType> types;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < field.findings.size(); ++i) {
    const bool new_type = types.insert(field.findings[i].type).second;
    if (i < limit || new_type) field.findings[kept++] = std::move(field.findings[i]);
  }
  field.omitted += field.findings.size() - kept;
  field.findings.resize(kept);
}

namespace {

std::string TypesOf(const std::vector<ScreenedField>& fields, std::vector<phi::Finding> ScreenedField::*member) {
  std::set<std::string> types;
  for (const auto& f : fields) {
    for (const auto& finding : f.*member) types.insert(TypeCode(finding.type));
  }
  std::string out;
  for (const auto& t : types) {
    if (!out.empty()) out.push_back(',');
    out += t;
  }
  return out;
}

// Whether `finding` is among `unindexed` (the same type over an overlapping span): found without
// the patient index too.
bool FoundWithout(const phi::Finding& finding, const std::vector<phi::Finding>& unindexed) {
  return std::any_of(unindexed.begin(), unindexed.end(), [&](const phi::Finding& u) {
    return u.type == finding.type && u.begin < finding.end && finding.begin < u.end;
  });
}

}  // namespace

Author AuthorOf(const Actor& actor) {
  return actor.IsStaff() ? Author::kStaff : Author::kOutsider;
}

std::string Screening::TypesCsv() const { return TypesOf(fields, &ScreenedField::findings); }

std::string Screening::WithheldTypesCsv() const { return TypesOf(fields, &ScreenedField::withheld); }

bool Screening::Withheld() const {
  return std::any_of(fields.begin(), fields.end(), [](const ScreenedField& f) { return !f.withheld.empty(); });
}

std::string ScreenedField::PatientsStored(bool redacted) const {
  return redacted ? withheld_patients : domain::MergePatientRefs(patients, withheld_patients);
}

std::string Screening::Patients() const { return PatientsStored(false); }

std::string Screening::PatientsStored(bool redacted) const {
  std::string out;
  for (const auto& f : fields) out = domain::MergePatientRefs(out, f.PatientsStored(redacted));
  return out;
}

nlohmann::json Screening::FindingsJson(std::size_t limit) const {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& f : fields) {
    for (const auto& finding : f.findings) {
      if (items.size() >= limit) return items;
      items.push_back({{"type", TypeCode(finding.type)},
                       {"field", f.field},
                       {"begin", finding.begin},
                       {"end", finding.end},
                       {"confidence", std::round(finding.confidence * 100) / 100},
                       {"rule", finding.rule_id}});
      if (finding.across_messages) items.back()["across_messages"] = true;
      if (finding.in_reply) items.back()["in_reply"] = true;
      if (finding.before_next) items.back()["before_next"] = true;
    }
  }
  return items;
}

ScreenedField ScreenField(const PolicyEngine& policy, std::string field, std::string_view text, Author author,
                          Neighbours around) {
  ScreenedField f{std::move(field), {}, {}};
  if (text.empty()) return f;
  const auto read = [&](const phi::ScanFunction& scan) {
    std::vector<phi::Finding> findings = phi::ScanBetween(around.previous, text, around.next, scan, around.asked);
    if (!around.next.empty()) {
      phi::MergeAcross(findings, phi::FindingsLentToNext(around.before, text, around.next, false, scan));
    }
    for (const std::string& answer : around.answers) {
      phi::MergeAcross(findings, phi::FindingsLentToNext(around.before, text, answer, true, scan));
    }
    return findings;
  };
  f.findings = read([&](std::string_view t) { return policy.Scan(t); });
  // Always both scans: what an outsider is shown must not depend on whether the indexed scan
  // found anything either.
  if (author == Author::kOutsider) {
    std::vector<phi::Finding> unindexed = read([&](std::string_view t) { return policy.ScanWithoutIndex(t); });
    for (auto& finding : f.findings) {
      if (!FoundWithout(finding, unindexed)) f.withheld.push_back(std::move(finding));
    }
    f.findings = std::move(unindexed);
  }
  f.patients = policy.PatientRefs(text, f.findings);
  f.withheld_patients = policy.PatientRefs(text, f.withheld);
  return f;
}

Result<EditNeighbours> ReadEditNeighbours(store::ReadTx& tx, const domain::Message& m) {
  EditNeighbours out;
  store::MessageQuery query;
  query.space_id = m.space_id;
  query.viewer_id = m.author_id;
  query.parent_id = m.parent_id;
  query.limit = 20;
  const auto near = [&](const domain::Message& other) {
    const UnixMillis apart = other.created_at > m.created_at ? other.created_at - m.created_at : m.created_at - other.created_at;
    return apart <= PolicyEngine::kCarryMillis;
  };
  query.before_seq = m.seq;  // newest first
  ROUNDS_ASSIGN_OR_RETURN(auto before, tx.ListMessages(query));
  for (const domain::Message& other : before) {
    if (!near(other)) break;
    if (other.author_id == m.author_id && !other.deleted) {
      out.previous = phi::CarriedTail(other.body);
      break;
    }
  }
  for (const domain::Message& other : before) {
    if (!near(other)) break;
    if (other.author_id != m.author_id && !other.deleted && other.state == domain::MessageState::kPublished) {
      out.asked = phi::CarriedTail(other.body);
      break;
    }
  }
  query.before_seq.reset();
  query.after_seq = m.seq;  // oldest first
  ROUNDS_ASSIGN_OR_RETURN(auto after, tx.ListMessages(query));
  for (const domain::Message& other : after) {
    if (!near(other)) break;
    if (other.author_id == m.author_id && !other.deleted) {
      out.next = other.body;
      break;
    }
  }
  out.before = m.body;
  domain::UserId answering = 0;
  for (const domain::Message& other : after) {
    if (!near(other) || other.author_id == m.author_id) break;
    if (answering == 0) answering = other.author_id;
    if (other.author_id != answering || out.answers.size() == EditNeighbours::kMaxAnswers) break;
    if (!other.deleted && other.state == domain::MessageState::kPublished) out.answers.push_back(other.body);
  }
  return out;
}

void RecallConversation(store::Store& store, const PolicyEngine& policy, const PostPlace& post, UnixMillis now) {
  store::MessageQuery query;
  query.space_id = post.space;
  query.viewer_id = post.author;
  query.parent_id = post.parent;
  query.limit = 20;  // newest first
  domain::ModerationActionQuery decisions;
  decisions.space_id = post.space;
  decisions.limit = 50;  // newest first
  std::vector<domain::ModerationAction> actions;
  auto recent = store.Read([&](store::ReadTx& tx) -> Result<std::vector<domain::Message>> {
    ROUNDS_ASSIGN_OR_RETURN(actions, tx.ListModerationActions(decisions));
    return tx.ListMessages(query);
  });
  if (!recent) {
    log::Warn("conversation_recall_failed", {{"space_id", post.space}, {"error", recent.error().internal_message}});
    return;
  }
  std::vector<PolicyEngine::RecentPost> posts;
  posts.reserve(recent->size());
  for (const domain::Message& other : *recent) {
    if (other.deleted) continue;
    // A post a moderator approved has been read since its approval (PolicyEngine::RememberApproved).
    UnixMillis read_since = other.created_at;
    for (const domain::ModerationAction& a : actions) {
      if (a.kind == domain::ModerationKind::kApprove && a.message_id == other.id) {
        read_since = std::max(read_since, a.created_at);
      }
    }
    posts.push_back(
        {other.author_id, other.created_at, other.body, other.state == domain::MessageState::kPublished, read_since});
  }
  policy.Recall(post.space, post.parent.value_or(0), post.author, posts, now);
}

Screening Screen(const PolicyEngine& policy, std::vector<std::pair<std::string, std::string>> fields,
                 Author author, Neighbours around) {
  Screening s;
  s.fields.reserve(fields.size());
  for (auto& [field, text] : fields) {
    const Neighbours neighbours = field == "body" ? around : Neighbours{};
    ScreenedField f = ScreenField(policy, std::move(field), text, author, neighbours);
    f.text = std::move(text);
    s.fields.push_back(std::move(f));
  }
  return s;
}

std::string RedactForTheRecord(const PolicyEngine& policy, std::string& text, const char* field, Author author) {
  Screening screening = Screen(policy, {{field, text}}, author);
  if (screening.FindingCount() == 0) return {};
  text = phi::Redact(text, screening.fields[0].findings);
  return screening.TypesCsv();
}

phi::PhiAction ApplyPhiRule(policy::PhiRule rule, Screening& screening) {
  std::vector<phi::Finding> all;
  for (const auto& f : screening.fields) all.insert(all.end(), f.findings.begin(), f.findings.end());
  phi::PhiAction action = phi::Decide(rule, all);
  if (action == phi::PhiAction::kRedact) {
    for (auto& f : screening.fields) {
      // A field kept without its text (a file's content, redacted by its caller) is left empty.
      if (!f.findings.empty() && !f.text.empty()) f.text = phi::Redact(f.text, f.findings);
    }
  }
  return action;
}

bool HoldForReview(policy::PhiRule rule, const Screening& screening) {
  return policy::ReviewsWithheld(rule) && screening.Withheld();
}

Error PhiRefusal(phi::PhiAction action, const Screening& screening) {
  Error e;
  e.code = ErrorCode::kPolicyDenied;
  if (action == phi::PhiAction::kWarn) {
    e.problem = "phi_warning";
    e.public_message = "This may contain patient information (" + screening.TypesCsv() +
                       "). Check it, then confirm to send.";
  } else {
    e.problem = "phi_blocked";
    e.public_message = "Patient information is not allowed in this space (" + screening.TypesCsv() +
                       "). Remove it and try again.";
  }
  e.extensions_json =
      nlohmann::json{{"findings", screening.FindingsJson(kMaxListedFindings)}, {"findings_total", screening.FindingCount()}}
          .dump();
  e.internal_message = std::string(e.problem) + " types=" + screening.TypesCsv();
  return e;
}

// A file's upload findings as a screening of its place in the post ("attachment_ids/1"): one
// finding per type, without spans (the upload's were in the file), for the refusal's record.
Screening AttachmentScreening(const domain::Attachment& attachment, std::size_t index, Author reader) {
  ScreenedField field{"attachment_ids/" + std::to_string(index), {}, {}, 0};
  auto add = [&field](std::string_view csv) {
    for (std::string_view item : SplitCsv(csv)) {
      std::string code(item);
      for (char& c : code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto type = phi::ParsePhiType(code);
      if (!type || std::any_of(field.findings.begin(), field.findings.end(),
                               [&](const phi::Finding& f) { return f.type == *type; })) {
        continue;
      }
      field.findings.push_back({*type, 0, 0, 1.0, "attachment.upload"});
    }
  };
  add(attachment.phi_types);
  if (reader == Author::kStaff) add(attachment.withheld_types);
  return Screening{{std::move(field)}};
}

bool PhiBearing(const policy::PolicyTemplate& policy) {
  return policy.phi == policy::PhiRule::kAllow || policy.phi == policy::PhiRule::kWarn ||
         policy.phi == policy::PhiRule::kHold;
}

domain::AuditRecord RefusalRecord(const Actor& actor, const char* action, const char* object_type,
                                  std::string object_id, phi::PhiAction refused, UnixMillis now,
                                  std::string patients) {
  auto record = AuditEntry(actor, action, object_type, std::move(object_id), now);
  record.patient_ref = std::move(patients);
  record.outcome = domain::AuditOutcome::kDenied;
  record.reason = std::string(phi::ToString(refused));
  return record;
}

void RecordPhiRefusal(store::Store& store, const Actor& actor, const char* action, const char* object_type,
                      std::string object_id, phi::PhiAction refused, nlohmann::json details, UnixMillis now,
                      std::string patients) {
  (void)AuditNow(store, RefusalRecord(actor, action, object_type, std::move(object_id), refused, now, std::move(patients)),
                 details);
}

nlohmann::json RefusalDetails(const Screening& refusal) {
  return nlohmann::json{{"phi_types", refusal.TypesCsv()}, {"findings", refusal.FindingCount()}};
}

std::string ContentAction(phi::PhiAction action, bool held, std::string_view plain) {
  const std::string object(plain.substr(0, plain.find('.')));
  if (held) return object + ".hold";
  if (action == phi::PhiAction::kRedact) return object + ".phi_redact";
  if (action == phi::PhiAction::kWarn) return object + ".phi_confirm";
  return std::string(plain);
}

}  // namespace rounds::app
