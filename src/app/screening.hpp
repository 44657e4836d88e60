// Screening text for PHI before it is stored: every write path that takes free text (message
// bodies, titles, poll options, edits, display names of patient-facing spaces) scans it here and
// lets the space's template decide. Scanning happens outside the store's writer; the decision is
// made inside the write unit against the template the space runs under at that moment.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/context.hpp"
#include "app/policy_engine.hpp"
#include "core/result.hpp"

namespace rounds::app {

struct ScreenedField {
  std::string field;                    // "body", "title", "poll_options/0", "name", ...
  std::string text;                     // redacted in place under a redact rule
  std::vector<phi::Finding> findings;   // byte spans into the original text
  std::size_t omitted = 0;              // findings found but not kept (see KeepFindings)
  // An outsider's text only (a patient's or a guest's): what the patient index found beyond
  // `findings` (a name, an MRN or a date it made more confident). Never shown to the author, never
  // redacted, never listed in a refusal: it decides only whether a moderator sees the text first
  // (HoldForReview).
  std::vector<phi::Finding> withheld;
  // The patients in the index that `findings` and `withheld` name (PolicyEngine::PatientRefs):
  // what the audit record of the text's write, and of each read of it, names.
  std::string patients;
  std::string withheld_patients;
  // Whom its stored text still names (Screening::PatientsStored, for this field alone).
  std::string PatientsStored(bool redacted) const;
};

// Who wrote the text being screened. The patient index is the hospital's list of its patients:
// whether a name is on it is itself protected. The organization's own staff are told what it
// matched; an outsider (a patient, or a guest from outside the organization) is never told, by a
// finding, a refusal, a redaction or a different answer, whether someone is a patient.
enum class Author { kStaff, kOutsider };
Author AuthorOf(const Actor& actor);

// Keeps the first `limit` of a long text's findings and the first of every type beyond them, and
// counts the rest in `omitted`: the field still says every type found and how many, and what the
// store's writer copies per decision stays small however many a file holds.
void KeepFindings(ScreenedField& field, std::size_t limit);

struct Screening {
  std::vector<ScreenedField> fields;

  std::size_t FindingCount() const;
  // The distinct finding types, lower case and comma-separated ("phone,ssn"); never the text.
  std::string TypesCsv() const;
  // The same of the withheld findings (an outsider's text only): for moderators and the trail.
  std::string WithheldTypesCsv() const;
  bool Withheld() const;
  // The patients every field names, joined (domain::JoinPatientRefs): whom a write of it concerns.
  std::string Patients() const;
  // Those its stored text still names: under a redact rule (`redacted`) only what was withheld
  // from redaction (an outsider's text, where names matched by the index are never redacted).
  std::string PatientsStored(bool redacted) const;
  // [{type, field, begin, end, confidence, rule}], the first `limit` of them in field order; a
  // finding that only shows after the author's previous post also says "across_messages": true, and
  // one that shows only as a reply to another author's post "in_reply": true as well.
  nlohmann::json FindingsJson(std::size_t limit = SIZE_MAX) const;
  const std::string& Text(std::size_t i) const { return fields[i].text; }
};

// Scans every (field, text) pair; empty texts are skipped cheaply.
// The API's code for a finding type: lower case ("phone", "health_plan").
std::string TypeCode(phi::PhiType type);

// An outsider's text is scanned twice, with and without the patient index: what only the index
// found is withheld (ScreenedField::withheld), and the findings, the decision and any redaction
// are the same whoever is in the index.
//
// PHI split between posts (phi/continuation.hpp): the "body" field is also scanned after
// `around.previous`, the end of the author's previous post in the same conversation, as a reply to
// `around.asked`, the end of the newest post there by someone else, and, for an edit, before
// `around.next`, the author's post that followed it; what shows only that way is the body's
// finding too. An edit is also read before what follows it as it gives that a context it did not
// have with `around.before`, the text it replaces: the author's `next` and the `answers` to it
// (phi::FindingsLentToNext).
struct Neighbours {
  std::string_view previous;
  std::string_view next;
  std::string_view asked;
  std::string_view before;
  std::span<const std::string> answers;
};
Screening Screen(const PolicyEngine& policy, std::vector<std::pair<std::string, std::string>> fields,
                 Author author = Author::kStaff, Neighbours around = {});

// The author's posts around one of theirs, `m`, in its conversation (the space's top level, or
// its thread), and the newest post before it there by someone else that the author could read,
// each sent within PolicyEngine::kCarryMillis of it: what an edit of `m` is read between. Empty
// where there is none.
//
// And what was sent after `m` as an answer to it: the posts members can read by the first other
// author to post after it, up to `m`'s author's next post or a third author's, each sent within
// PolicyEngine::kCarryMillis of `m` (what PolicyEngine::Asked gave them).
struct EditNeighbours {
  std::string previous;  // the end of the one before (phi::CarriedTail)
  std::string next;      // the one after
  std::string asked;     // the end of another author's before it, which `m` answers
  std::string before;    // `m`'s body as it is
  std::vector<std::string> answers;  // oldest first, at most kMaxAnswers
  static constexpr std::size_t kMaxAnswers = 4;
  Neighbours view() const { return {previous, next, asked, before, answers}; }
};
Result<EditNeighbours> ReadEditNeighbours(store::ReadTx& tx, const domain::Message& m);

// After a post was edited, deleted or taken down at `now`: PolicyEngine::Recall of its
// conversation from what the store now holds, as the post's author reads it. The change is
// stored already: a failed read is logged and leaves the memory as it was (for kCarryMillis at
// most).
struct PostPlace {
  domain::SpaceId space = 0;
  std::optional<domain::MessageId> parent;  // the thread's first message; none: the top level
  domain::UserId author = 0;
  static PostPlace Of(const domain::Message& m) { return {m.space_id, m.parent_id, m.author_id}; }
};
void RecallConversation(store::Store& store, const PolicyEngine& policy, const PostPlace& post, UnixMillis now);

// One field of Screen, without keeping its text: for a file's content, which stays where it is.
ScreenedField ScreenField(const PolicyEngine& policy, std::string field, std::string_view text, Author author,
                          Neighbours around = {});

// Free text that goes on the audit trail (a reason, a review note) keeps no patient identifiers:
// the trail is kept for years and read by auditors, and holds no PHI. Each finding in `text` is
// replaced with [REDACTED:TYPE]; returns the types found ("name,mrn"), or "". An outsider's text
// that is shown back to them (an appeal) is redacted of what the rules without the patient index
// find, as their post would be, so that what they read of it does not say who is a patient.
std::string RedactForTheRecord(const PolicyEngine& policy, std::string& text, const char* field,
                               Author author = Author::kStaff);

// The template's decision for these findings. Under kRedact, replaces the spans in every field.
phi::PhiAction ApplyPhiRule(policy::PhiRule rule, Screening& screening);

// Whether the patient index found, in an outsider's text, what the rule keeps from members unseen
// (policy::ReviewsWithheld). Such a post waits for a moderator; so does every other post of an
// outsider under such a rule (policy::DecidePublication), so its author learns nothing from it.
bool HoldForReview(policy::PhiRule rule, const Screening& screening);

// A PHI refusal stores nothing, but it is recorded: who tried to store what kinds of PHI where
// (`action` on `object_type` `object_id`, outcome denied, the refusal's kind as the reason), and
// the patients the refused text named (Screening::Patients).
domain::AuditRecord RefusalRecord(const Actor& actor, const char* action, const char* object_type,
                                  std::string object_id, phi::PhiAction refused, UnixMillis now,
                                  std::string patients = {});
// RefusalRecord written in a unit of its own, best effort: the caller's answer is the refusal
// either way.
void RecordPhiRefusal(store::Store& store, const Actor& actor, const char* action, const char* object_type,
                      std::string object_id, phi::PhiAction refused, nlohmann::json details, UnixMillis now,
                      std::string patients = {});
// What a refusal's record says of the findings: their types and how many, never the text.
nlohmann::json RefusalDetails(const Screening& refusal);

// The refusal for kWarn (without confirmation: "phi_warning") and kBlock ("phi_blocked"): a
// kPolicyDenied problem listing the finding types and spans, never the text. A file's content may
// hold thousands of findings: the problem lists the first kMaxListedFindings of them and says how
// many there were in all (`findings_total`).
inline constexpr std::size_t kMaxListedFindings = 100;
Error PhiRefusal(phi::PhiAction action, const Screening& screening);

// A file's upload findings as a screening of its place in the post ("attachment_ids/1"): one
// finding per type, without spans (the upload's were in the file). A staff `reader` (a moderator
// deciding on the post) is also told what the patient index alone found in an outsider's file.
Screening AttachmentScreening(const domain::Attachment& attachment, std::size_t index, Author reader);

// True for templates under which PHI may be stored and read (allow, warn, hold): every read and
// change of content in such spaces is audited.
bool PhiBearing(const policy::PolicyTemplate& policy);

// The audit action for a post, an edit or an upload: the PHI decision when there was one, on the
// object `plain` names ("message.hold", "message.phi_redact", "attachment.phi_confirm"), else
// `plain` ("message.create").
std::string ContentAction(phi::PhiAction action, bool held, std::string_view plain);

}  // namespace rounds::app
