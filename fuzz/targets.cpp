#include "fuzz/targets.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "app/audit_tree.hpp"
#include "app/json_codec.hpp"
#include "domain/rules.hpp"
#include "governance/audit/audit_chain.hpp"
#include "governance/phi/continuation.hpp"
#include "governance/phi/scanner.hpp"
#include "governance/policy/policy_template.hpp"
#include "store/sqlite/search_text.hpp"
#include "store/sqlite/search_tokenizer.hpp"

namespace rounds::fuzz {
namespace {

namespace phi = governance::phi;
namespace policy = governance::policy;
namespace search = store::sqlite;

// A broken invariant: says which and stops, so that libFuzzer keeps the input and a test fails.
[[noreturn]] void Broken(const char* target, const char* what) {
  std::fprintf(stderr, "fuzz target %s: %s\n", target, what);
  std::abort();
}
#define ROUNDS_FUZZ_CHECK(target, condition, what) \
  do {                                             \
    if (!(condition)) Broken(target, what);        \
  } while (false)

std::string_view AsText(Input input) {
  return {reinterpret_cast<const char*>(input.data()), input.size()};
}

// The input cut at NUL bytes into at most `count` fields (the last keeps any further NULs).
std::vector<std::string> Fields(std::string_view text, std::size_t count) {
  std::vector<std::string> fields;
  while (fields.size() + 1 < count) {
    const auto nul = text.find('\0');
    if (nul == std::string_view::npos) break;
    fields.emplace_back(text.substr(0, nul));
    text.remove_prefix(nul + 1);
  }
  fields.emplace_back(text);
  fields.resize(count);
  return fields;
}

// Whether byte offset `at` of `text` starts a character (or is its end).
bool AtCharacter(std::string_view text, std::size_t at) {
  return at >= text.size() || (static_cast<unsigned char>(text[at]) & 0xC0) != 0x80;
}

// ---- PHI scanner -------------------------------------------------------------------------------

// The index the scanners read: phi_scan's fixed patients, or what patient_index loaded last.
std::vector<phi::PatientRecord> FixedPatients() {
  return {{"48213377", "Maria", "Garcia"},    {"55501234", "Ahmed", "Haddad"},
          {"31415926", "Mary Ann", "De La Cruz"}, {"27182818", "Sean", "O'Brien"},
          {"11223344", "Hope", "Young"},       {"90000001", "José", "Núñez"},
          {"12312312", "Siobhan", "McAllister-Reyes"}, {"31415927", "Anna-Lise", "Van der Berg"}};
}

bool index_is_fixed = false;  // whether TheIndex() holds FixedPatients()

phi::PatientIndex& TheIndex() {
  static const std::shared_ptr<phi::PatientIndex> index = std::make_shared<phi::PatientIndex>();
  return *index;
}

const phi::Scanner& TheScanner() {
  static const std::unique_ptr<phi::Scanner> scanner = [] {
    // The scanner shares the index (aliasing: the index lives as long as the program).
    auto created = phi::Scanner::Create(phi::DefaultRuleSet(), std::shared_ptr<const phi::PatientIndex>(
                                                                    std::shared_ptr<void>(), &TheIndex()));
    if (!created) Broken("phi_scan", "the default rule set does not compile");
    return std::move(*created);
  }();
  return *scanner;
}

// Findings sorted, apart, inside the text and on character boundaries; redaction keeps valid
// UTF-8 valid; a scan does not depend on the scan before it (the scanner reuses its state).
void CheckScan(const char* kName, const std::string& text) {
  const phi::Scanner& scanner = TheScanner();
  const std::vector<phi::Finding> findings = scanner.Scan(text);
  const bool valid = domain::IsValidUtf8(text);
  std::size_t previous_end = 0;
  for (const phi::Finding& f : findings) {
    ROUNDS_FUZZ_CHECK(kName, f.begin < f.end, "a finding is empty");
    ROUNDS_FUZZ_CHECK(kName, f.end <= text.size(), "a finding ends past the text");
    ROUNDS_FUZZ_CHECK(kName, f.begin >= previous_end, "findings overlap or are out of order");
    ROUNDS_FUZZ_CHECK(kName, f.confidence > 0 && f.confidence <= 1, "a confidence is outside (0, 1]");
    ROUNDS_FUZZ_CHECK(kName, !f.rule_id.empty(), "a finding names no rule");
    if (valid) {
      ROUNDS_FUZZ_CHECK(kName, AtCharacter(text, f.begin) && AtCharacter(text, f.end),
                        "a finding splits a character");
    }
    previous_end = f.end;
  }
  const std::string redacted = phi::Redact(text, findings);
  if (valid) ROUNDS_FUZZ_CHECK(kName, domain::IsValidUtf8(redacted), "redacting valid UTF-8 made it invalid");
  if (findings.empty()) ROUNDS_FUZZ_CHECK(kName, redacted == text, "redacting nothing changed the text");
  (void)scanner.Scan("DOB 03/14/1962, MRN 48213377, call 617-555-0142 or maria@example.com, pt Garcia");
  ROUNDS_FUZZ_CHECK(kName, scanner.Scan(text) == findings, "a scan depends on the scan before it");
}

// The scanners read phi_scan's fixed patients again, after patient_index loaded others.
void UseFixedPatients() {
  if (index_is_fixed) return;
  const auto patients = FixedPatients();
  TheIndex().Replace(patients);
  index_is_fixed = true;
}

void PhiScan(Input input) {
  if (input.size() > 16384) return;  // messages are size-checked before they are scanned
  UseFixedPatients();
  CheckScan("phi_scan", std::string(AsText(input)));
}

// ---- PHI split between posts -------------------------------------------------------------------

// A post read between its neighbours (phi/continuation.hpp), as an edit is: after the end of its
// author's previous post, as a reply to another author's, before the author's next post and an
// answer to it, with what it replaced. Its findings lie in it, on characters, sorted and apart;
// they hold every finding of the text alone unchanged, and only those found with a neighbour are
// marked across_messages; no neighbours add nothing, and an edit that changes nothing lends what
// follows it nothing. Input: previous, text, next, asked (also the replaced text and an answer),
// cut at NULs.
void PhiSplit(Input input) {
  constexpr const char* kName = "phi_split";
  if (input.size() > 16384) return;
  UseFixedPatients();
  const auto fields = Fields(AsText(input), 4);
  const std::string& previous = fields[0];
  const std::string& text = fields[1];
  const std::string& next = fields[2];
  const std::string& asked = fields[3];
  const phi::ScanFunction scan = [](std::string_view t) { return TheScanner().Scan(t); };
  const std::vector<phi::Finding> alone = scan(text);
  ROUNDS_FUZZ_CHECK(kName, phi::ScanBetween({}, text, {}, scan) == alone, "no neighbours changed the findings");
  std::vector<phi::Finding> findings =
      phi::ScanBetween(phi::CarriedTail(previous), text, next, scan, phi::CarriedTail(asked));
  phi::MergeAcross(findings, phi::FindingsLentToNext(asked, text, next, false, scan));
  phi::MergeAcross(findings, phi::FindingsLentToNext(asked, text, asked, true, scan));
  ROUNDS_FUZZ_CHECK(kName, phi::FindingsLentToNext(text, text, next, false, scan).empty() &&
                               phi::FindingsLentToNext(text, text, asked, true, scan).empty(),
                    "an edit that changes nothing lends the next post something");
  const bool valid = domain::IsValidUtf8(text);
  std::size_t previous_end = 0;
  std::size_t own = 0;
  for (const phi::Finding& f : findings) {
    ROUNDS_FUZZ_CHECK(kName, f.begin < f.end && f.end <= text.size(), "a finding is empty or outside the text");
    ROUNDS_FUZZ_CHECK(kName, f.begin >= previous_end, "findings overlap or are out of order");
    if (valid) {
      ROUNDS_FUZZ_CHECK(kName, AtCharacter(text, f.begin) && AtCharacter(text, f.end), "a finding splits a character");
    }
    if (!f.across_messages) {
      ROUNDS_FUZZ_CHECK(kName, own < alone.size() && f == alone[own], "the text's own findings changed");
      ++own;
    }
    ROUNDS_FUZZ_CHECK(kName, f.across_messages || (!f.in_reply && !f.before_next),
                      "a finding of a neighbour is not marked across_messages");
    previous_end = f.end;
  }
  ROUNDS_FUZZ_CHECK(kName, own == alone.size(), "a finding of the text alone was dropped");
  const std::string redacted = phi::Redact(text, findings);
  if (valid) ROUNDS_FUZZ_CHECK(kName, domain::IsValidUtf8(redacted), "redacting valid UTF-8 made it invalid");
}

// ---- Patient index -----------------------------------------------------------------------------

// A patient CSV is refused as invalid_csv, or loads records that each have an MRN; the index
// then holds exactly their MRNs, through a replace, an upsert and a removal; and the scanner keeps
// its invariants over any names the index holds. Input: the CSV, a NUL, a text to scan.
void PatientIndexCsv(Input input) {
  constexpr const char* kName = "patient_index";
  if (input.size() > 16384) return;
  const auto fields = Fields(AsText(input), 2);
  auto parsed = phi::PatientIndex::ParseCsv(fields[0]);
  if (!parsed) {
    ROUNDS_FUZZ_CHECK(kName, parsed.error().problem == "invalid_csv", "a refused CSV is not invalid_csv");
    return;
  }
  for (const phi::PatientRecord& r : *parsed) {
    ROUNDS_FUZZ_CHECK(kName, !phi::NormalizeMrn(r.mrn).empty(), "a loaded patient has no MRN");
  }
  phi::PatientIndex& index = TheIndex();
  index.Replace(*parsed);
  index_is_fixed = false;
  auto snapshot = index.Snapshot();
  for (const phi::PatientRecord& r : *parsed) {
    ROUNDS_FUZZ_CHECK(kName, snapshot->HasMrn(phi::NormalizeMrn(r.mrn)), "a loaded MRN is not in the index");
  }
  CheckScan(kName, fields[1]);
  CheckScan(kName, fields[0]);
  if (!parsed->empty()) {
    const phi::PatientRecord& first = parsed->front();
    const std::string gone = phi::NormalizeMrn(first.mrn);
    index.Remove(first.mrn);
    ROUNDS_FUZZ_CHECK(kName, !index.Snapshot()->HasMrn(gone), "a removed MRN is still in the index");
    index.Upsert(first);
    ROUNDS_FUZZ_CHECK(kName, index.Snapshot()->HasMrn(gone), "an upserted MRN is not in the index");
  }
}

// ---- Request bodies ----------------------------------------------------------------------------

// A body is refused with a problem code, or accepted as an object that survives its own
// serialization (which would throw on invalid UTF-8).
void RequestBody(Input input) {
  constexpr const char* kName = "request_body";
  const std::string_view text = AsText(input);
  auto parsed = app::ParseRequestBody(text, 8);
  if (!parsed) {
    ROUNDS_FUZZ_CHECK(kName, !parsed.error().problem.empty(), "a refused body has no problem code");
    return;
  }
  ROUNDS_FUZZ_CHECK(kName, parsed->is_object(), "an accepted body is not an object");
  ROUNDS_FUZZ_CHECK(kName, domain::IsValidUtf8(text), "a body with invalid UTF-8 was accepted");
  const std::string dumped = parsed->dump();
  auto again = app::ParseRequestBody(dumped, 8);
  ROUNDS_FUZZ_CHECK(kName, again.has_value(), "a body's own serialization is refused");
  ROUNDS_FUZZ_CHECK(kName, *again == *parsed, "a body changes through its own serialization");
}

// ---- Message JSON ------------------------------------------------------------------------------

// The hand-written serializer of a message (history pages, events) writes exactly what the
// JSON library writes for the same message, for any text a user can store.
void MessageJson(Input input) {
  constexpr const char* kName = "message_json";
  if (input.size() < 8) return;
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 8; ++i) bits = bits << 8 | input[i];
  auto fields = Fields(AsText(input.subspan(8)), 9);
  for (const std::string& f : fields) {
    if (!domain::IsValidUtf8(f)) return;  // the API refuses invalid UTF-8 before anything is stored
  }
  domain::Message m;
  m.id = static_cast<domain::MessageId>(bits & 0xFFFFFF);
  m.space_id = static_cast<domain::SpaceId>((bits >> 24) & 0xFFF) + 1;
  m.seq = static_cast<domain::Seq>(bits >> 36);
  m.author_id = static_cast<domain::UserId>(bits % 997);
  m.kind = static_cast<domain::MessageKind>(bits % 6);
  m.state = static_cast<domain::MessageState>((bits >> 3) % 4);
  if (bits & 0x40) m.parent_id = static_cast<domain::MessageId>(bits >> 40);
  if (bits & 0x80) m.accepted_answer_id = static_cast<domain::MessageId>(bits >> 44);
  m.body = fields[0];
  m.title = fields[1];
  m.client_id = fields[2];
  m.phi_types = fields[5];
  m.hold_reason = bits & 0x100 ? std::string(domain::kHoldPhi) : "";
  m.created_at = static_cast<UnixMillis>(bits >> 20);
  m.edited_at = bits & 0x200 ? m.created_at + 1 : 0;
  m.deleted = (bits & 0x400) != 0;
  m.pinned = (bits & 0x800) != 0;
  m.reply_count = static_cast<int>(bits >> 50);
  m.vote_count = -static_cast<int>((bits >> 52) & 0xFF);
  m.my_vote = (bits & 0x1000) != 0;
  if (bits & 0x2000) m.my_poll_vote = static_cast<int>((bits >> 14) & 3);
  if (!fields[6].empty()) m.poll_options.push_back({0, fields[6], 3});
  if (!fields[7].empty()) m.poll_options.push_back({1, fields[7], 0});
  if (!fields[8].empty()) m.reactions.push_back({fields[8], 2, (bits & 0x4000) != 0});
  if (bits & 0x10000) {  // a file named by the title field, of a type named by the client id field
    domain::Attachment a;
    a.id = static_cast<domain::AttachmentId>(bits >> 30);
    a.name = fields[1];
    a.content_type = fields[2];
    a.size = static_cast<std::int64_t>(bits >> 24);
    a.sha256 = fields[5];
    m.attachments.push_back(a);
  }
  for (std::size_t i = 0; i < ((bits >> 16) & 3); ++i) m.mentions.push_back(static_cast<domain::UserId>(i * 7 + 1));
  const domain::UserRef author{m.author_id, fields[4], fields[3]};
  const domain::UserRef* by = bits & 0x8000 ? nullptr : &author;
  std::string written;
  app::AppendMessageJson(written, m, by);
  ROUNDS_FUZZ_CHECK(kName, written == app::MessageJson(m, by).dump(),
                    "the message serializer and the JSON library disagree");
}

// ---- Policy templates --------------------------------------------------------------------------

// A document is refused with issues that each carry a code and a JSON pointer, or accepted as a
// template whose own JSON validates to the same template.
void PolicyTemplate(Input input) {
  constexpr const char* kName = "policy_template";
  auto parsed = policy::ParseTemplateText(AsText(input));
  if (!parsed) {
    ROUNDS_FUZZ_CHECK(kName, !parsed.error().empty(), "a refused template names no issue");
    for (const policy::ValidationIssue& issue : parsed.error()) {
      ROUNDS_FUZZ_CHECK(kName, !issue.code.empty() && !issue.message.empty(), "an issue has no code or message");
      ROUNDS_FUZZ_CHECK(kName, issue.path.empty() || issue.path.front() == '/', "an issue's path is not a JSON pointer");
    }
    return;
  }
  const nlohmann::json document = policy::ToJson(*parsed);
  auto again = policy::ParseTemplate(document);
  ROUNDS_FUZZ_CHECK(kName, again.has_value(), "a template's own JSON does not validate");
  ROUNDS_FUZZ_CHECK(kName, policy::ToJson(*again) == document, "a template changes through its own JSON");
}

// ---- Search ------------------------------------------------------------------------------------

// FTS5 with message_search's tokenizer, on a connection of its own.
struct SearchFixture {
  sqlite3* db = nullptr;
  std::unique_ptr<search::SearchTokenizer> tokenizer;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* match = nullptr;
  sqlite3_stmt* clear = nullptr;
};

SearchFixture& TheSearch() {
  static SearchFixture* fixture = [] {
    auto* f = new SearchFixture;
    if (sqlite3_open(":memory:", &f->db) != SQLITE_OK) Broken("search_text", "cannot open SQLite");
    const std::string create = "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='" +
                               std::string(search::kSearchTokenize) + "')";
    if (sqlite3_exec(f->db, create.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      Broken("search_text", "cannot create the FTS5 table");
    }
    auto tokenizer = search::SearchTokenizer::Create(f->db);
    if (!tokenizer) Broken("search_text", "cannot create the tokenizer");
    f->tokenizer = std::move(*tokenizer);
    sqlite3_prepare_v2(f->db, "INSERT INTO t (body) VALUES (?1)", -1, &f->insert, nullptr);
    sqlite3_prepare_v2(f->db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &f->match, nullptr);
    sqlite3_prepare_v2(f->db, "DELETE FROM t", -1, &f->clear, nullptr);
    return f;
  }();
  return *fixture;
}

// Runs `statement` with `text` bound as ?1 (if any); the count it selects, or -1 on an error.
long long Step(sqlite3_stmt* statement, std::string_view text, bool bind) {
  sqlite3_reset(statement);
  if (bind) sqlite3_bind_text(statement, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  long long count = 0;
  int rc = sqlite3_step(statement);
  if (rc == SQLITE_ROW) {
    count = sqlite3_column_int64(statement, 0);
    rc = sqlite3_step(statement);
  }
  sqlite3_reset(statement);
  return rc == SQLITE_DONE ? count : -1;
}

// The query the store builds from any search text is valid FTS5, and it matches a text exactly
// when the store's own term matching (ranking, excerpts) says every word is in it; an excerpt of
// valid UTF-8 is valid UTF-8. Input: the search, a newline, the text. (Found by fuzzing: on text
// that is not UTF-8 the two matchers differ, which the API's UTF-8 checks keep out of reach.)
void SearchText(Input input) {
  constexpr const char* kName = "search_text";
  if (input.size() > 8192) return;
  const std::string_view all = AsText(input);
  const auto newline = all.find('\n');
  const std::string_view query = all.substr(0, newline);
  const std::string_view text = newline == std::string_view::npos ? std::string_view() : all.substr(newline + 1);
  SearchFixture& f = TheSearch();
  auto query_tokens = f.tokenizer->Tokenize(query);
  ROUNDS_FUZZ_CHECK(kName, query_tokens.has_value(), "the tokenizer failed on a search");
  const std::vector<std::string> words = search::SearchWords(*query_tokens);
  ROUNDS_FUZZ_CHECK(kName, words.size() <= static_cast<std::size_t>(search::kMaxSearchWords), "too many words");
  auto text_tokens = f.tokenizer->Tokenize(text);
  ROUNDS_FUZZ_CHECK(kName, text_tokens.has_value(), "the tokenizer failed on a text");
  for (const search::TextToken& t : *text_tokens) {
    ROUNDS_FUZZ_CHECK(kName, t.begin < t.end && t.end <= text.size(), "a token lies outside its text");
  }
  if (domain::IsValidUtf8(text)) {
    const std::string excerpt = search::Snippet(text, *text_tokens, words);
    ROUNDS_FUZZ_CHECK(kName, domain::IsValidUtf8(excerpt), "an excerpt of valid UTF-8 is not valid UTF-8");
  }
  if (words.empty()) {
    ROUNDS_FUZZ_CHECK(kName, search::BuildFtsQuery(words).empty(), "no words made a query");
    return;
  }
  search::TextMatches matches;
  for (const search::TextToken& t : *text_tokens) search::CountTerm(t.term, words, matches);
  const bool every_word = !matches.counts.empty() &&
                          std::all_of(matches.counts.begin(), matches.counts.end(), [](int c) { return c > 0; });
  ROUNDS_FUZZ_CHECK(kName, Step(f.clear, {}, false) >= 0, "cannot empty the table");
  ROUNDS_FUZZ_CHECK(kName, Step(f.insert, text, true) >= 0, "cannot index the text");
  const long long found = Step(f.match, search::BuildFtsQuery(words), true);
  ROUNDS_FUZZ_CHECK(kName, found >= 0, "FTS5 refused the query built from a search");
  // Stored texts and searches are UTF-8 (the API refuses anything else); FTS5's tokenizer reads
  // invalid sequences its own way, so the two matchers are only held to agree on valid text.
  if (!domain::IsValidUtf8(text) || !domain::IsValidUtf8(query)) return;
  ROUNDS_FUZZ_CHECK(kName, (found > 0) == every_word, "FTS5 and the store's term matching disagree");
  if (every_word) {
    ROUNDS_FUZZ_CHECK(kName, search::HasSearchMatch(*text_tokens, words), "a matching text has no marked word");
  }
  // The same with the last word's completions spelled out (the store's query for a last word
  // longer than the indexed prefixes): the whole terms of the text that it begins.
  if (auto range = search::CompletionRange(words.back())) {
    std::vector<std::string> completions;
    for (const search::TextToken& t : *text_tokens) {
      if (t.term >= range->first && t.term < range->past &&
          std::find(completions.begin(), completions.end(), t.term) == completions.end()) {
        completions.push_back(t.term);
      }
    }
    const long long spelled = Step(f.match, search::BuildFtsQuery(words, completions), true);
    ROUNDS_FUZZ_CHECK(kName, spelled >= 0, "FTS5 refused the query with completions");
    ROUNDS_FUZZ_CHECK(kName, spelled == found, "spelling out completions changed the match");
  }
}

// A checkpoint line, as a checkpoint file or a witness's copy holds it, and a proof document, as
// an auditor is handed one, separated by a NUL: both come from outside the server.
void AuditCheckpoint(Input input) {
  constexpr const char* kName = "audit_checkpoint";
  namespace audit = governance::audit;
  static const audit::SigningKey kKey = audit::SigningKey::Generate();
  static const audit::SigningKey kNext = audit::SigningKey::Generate();
  auto fields = Fields(AsText(input), 2);
  auto parsed = audit::Checkpoint::FromLine(fields[0]);
  if (parsed) {
    const audit::Checkpoint& c = *parsed;
    ROUNDS_FUZZ_CHECK(kName, c.next_key.empty() || audit::IsPublicKeyHex(c.next_key), "a key change names no key");
    auto again = audit::Checkpoint::FromLine(c.ToLine());
    ROUNDS_FUZZ_CHECK(kName, again.has_value(), "a parsed line printed again does not parse");
    ROUNDS_FUZZ_CHECK(kName, again->seq == c.seq && again->head_hash == c.head_hash && again->time == c.time &&
                                 again->signature_hex == c.signature_hex && again->root == c.root &&
                                 again->next_key == c.next_key,
                      "a parsed line printed again reads differently");
    (void)audit::VerifyCheckpointSignature(c, kKey.public_key_hex);
    // Whatever it states, signed by a key, verifies with that key and no other, and a hand-over
    // signs the key it names.
    const audit::Checkpoint handover = audit::SignKeyChange(c, c.time, kKey, kNext.public_key_hex);
    ROUNDS_FUZZ_CHECK(kName, audit::VerifyCheckpointSignature(handover, kKey.public_key_hex), "a hand-over does not verify");
    ROUNDS_FUZZ_CHECK(kName, !audit::VerifyCheckpointSignature(handover, kNext.public_key_hex), "another key verifies a hand-over");
    audit::Checkpoint renamed = handover;
    renamed.next_key = kKey.public_key_hex;
    ROUNDS_FUZZ_CHECK(kName, !audit::VerifyCheckpointSignature(renamed, kKey.public_key_hex),
                      "a hand-over verifies naming another key");
    auto line = audit::Checkpoint::FromLine(handover.ToLine());
    ROUNDS_FUZZ_CHECK(kName, line && audit::VerifyCheckpointSignature(*line, kKey.public_key_hex),
                      "a hand-over's line does not verify");
  }
  // A proof document is checked or refused as no document, never anything else.
  const nlohmann::json document = nlohmann::json::parse(fields[1], nullptr, /*allow_exceptions=*/false);
  auto checked = app::CheckProofDocument(document, kKey.public_key_hex);
  if (!checked) {
    ROUNDS_FUZZ_CHECK(kName, checked.error().code == ErrorCode::kInvalidArgument, "a refused document is not bad input");
  }
}

constexpr std::array<Target, 8> kTargets{{
    {"phi_scan", PhiScan},
    {"phi_split", PhiSplit},
    {"patient_index", PatientIndexCsv},
    {"request_body", RequestBody},
    {"message_json", MessageJson},
    {"policy_template", PolicyTemplate},
    {"search_text", SearchText},
    {"audit_checkpoint", AuditCheckpoint},
}};

}  // namespace

std::span<const Target> Targets() { return kTargets; }

const Target* FindTarget(std::string_view name) {
  for (const Target& t : kTargets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace rounds::fuzz
