#include "governance/phi/scanner.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "governance/phi/normalize.hpp"
#include "governance/phi/validators.hpp"

namespace rounds::governance::phi {

namespace {

constexpr std::array<std::string_view, kPhiTypeCount> kTypeNames = {
    "NAME", "ADDRESS", "ZIP",     "DATE",    "AGE",     "PHONE",   "EMAIL",   "SSN",     "MRN",
    "HEALTH_PLAN", "ACCOUNT", "CARD", "LICENSE", "NPI", "VEHICLE", "DEVICE", "URL", "IP"};

}  // namespace

std::string_view ToString(PhiType type) { return kTypeNames[static_cast<std::size_t>(type)]; }

std::optional<PhiType> ParsePhiType(std::string_view label) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == label) return static_cast<PhiType>(i);
  }
  return std::nullopt;
}

bool IsStructured(PhiType type) {
  switch (type) {
    case PhiType::kName:
    case PhiType::kAddress:
    case PhiType::kZip:
    case PhiType::kDate:
    case PhiType::kAge:
      return false;
    default:
      return true;
  }
}

namespace {

// ---- Characters ------------------------------------------------------------------------------

enum : std::uint8_t { kClsLower = 1, kClsUpper = 2, kClsDigit = 4, kClsHigh = 8 };

constexpr std::array<std::uint8_t, 256> MakeClasses() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = kClsLower;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = kClsUpper;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = kClsDigit;
  for (int c = 0x80; c < 256; ++c) t[static_cast<std::size_t>(c)] = kClsHigh;
  return t;
}
constexpr std::array<std::uint8_t, 256> kClasses = MakeClasses();

std::uint8_t Cls(char c) { return kClasses[static_cast<unsigned char>(c)]; }
bool IsDigit(char c) { return Cls(c) == kClsDigit; }
bool IsAlpha(char c) { return (Cls(c) & (kClsLower | kClsUpper)) != 0; }
bool IsAlnum(char c) { return (Cls(c) & (kClsLower | kClsUpper | kClsDigit)) != 0; }
bool IsUpper(char c) { return Cls(c) == kClsUpper; }
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
// Characters that join the parts of one number: "1.2", "555-0142", "3/14", "08:30".
bool IsNumberJoiner(char c) { return c == '.' || c == '-' || c == '/' || c == ':'; }
// Characters dropped inside a context token: "d.o.b", "pt's", "s/n", "y/o".
bool IsTokenJoiner(char c) { return c == '.' || c == '\'' || c == '/'; }

// ---- Word lists ------------------------------------------------------------------------------

class WordList {
 public:
  WordList(std::initializer_list<std::string_view> words) : words_(words) {
    std::sort(words_.begin(), words_.end());
  }
  bool Contains(std::string_view w) const { return std::binary_search(words_.begin(), words_.end(), w); }

 private:
  std::vector<std::string_view> words_;
};

// Labels of vitals, lab values, scores and codes: a number right after them is a measurement or
// a code, not an identifier.
const WordList& MeasurementLabels() {
  static const WordList list = {
      "bp", "sbp", "dbp", "hr", "rr", "pulse", "spo2", "sao2", "sat", "sats", "o2", "temp",
      "tmax", "t", "wt", "weight", "ht", "height", "bmi", "map", "cvp", "gcs", "pain", "score",
      "apgar", "nihss", "k", "na", "cl", "co2", "hco3", "bun", "cr", "creat", "glucose", "gluc",
      "bg", "fsbg", "cbg", "bgm", "hgb", "hb", "hct", "wbc", "rbc", "plt", "plts", "platelets",
      "inr", "ptt", "aptt", "a1c", "hba1c", "hgba1c", "ldl", "hdl", "chol", "tg", "trig", "tsh",
      "t4", "trop", "troponin", "lactate", "lac", "bnp", "ntprobnp", "alt", "ast", "alp", "alk",
      "bili", "tbili", "lipase", "ammonia", "mag", "phos", "ca", "ef", "esr", "crp", "procal",
      "ddimer", "ferritin", "b12", "psa", "egfr", "gfr", "sg", "pco2", "po2", "fio2", "peep",
      "tv", "vt", "uop", "ldh", "ck", "cpk", "mcv", "rdw", "anc", "icd", "icd10", "icd9", "cpt",
      "hcpcs", "ndc", "loinc", "snomed", "dx", "lot", "batch", "order", "orders", "ord",
      "accession", "specimen", "ref", "reference", "confirmation", "conf", "tracking",
      "ticket", "req", "requisition", "po", "invoice", "room", "rm", "bed", "ext", "extension",
      "pager", "qty", "quantity", "dose", "dosage", "vol", "version", "ver", "v", "step",
      "level", "lvl", "rate", "insulin", "kcal", "calories", "rx", "sig", "disp", "refills",
      "cath", "french", "fr", "gauge", "size", "mmol", "bed", "beds", "unit", "ward", "bay",
      "floor", "ward", "pod", "station", "cart", "tube", "line", "lead", "leads", "setting",
      "settings", "mode", "run", "cycle", "week", "weeks", "day", "days", "gestation", "ga",
      "para", "gravida", "g", "p", "apgars", "mrs", "bpp", "fhr", "ctx"};
  return list;
}

// Units and words that follow a measurement: "25 mg", "5/5 strength", "7/10 pain".
const WordList& UnitWords() {
  static const WordList list = {
      "mg", "mcg", "ug", "g", "gm", "gram", "grams", "kg", "kgs", "lb", "lbs", "oz", "ml",
      "mls", "l", "cc", "liter", "liters", "units", "unit", "u", "iu", "meq", "mmol", "mol",
      "mmhg", "mm", "cm", "bpm", "mgdl", "gdl", "mgkg", "mcgkg", "mcgkgmin", "mlhr", "mlh",
      "mlkg", "mlmin", "kcal", "cal", "tabs", "tab", "tablets", "tablet", "caps", "cap",
      "capsule", "capsules", "puffs", "puff", "drops", "drop", "gtt", "gtts", "doses",
      "sprays", "patches", "mins", "minutes", "secs", "seconds", "strength", "pain", "weeks",
      "wks", "days", "hrs", "hours", "beats", "breaths", "percent", "pct", "mmol/l", "ng",
      "ngml", "pgml", "uiu", "miu", "meql", "mosm", "sec", "cmh2o", "lpm", "liters/min"};
  return list;
}

// Function words and clinical words that cannot be part of a street name.
const WordList& StreetStopWords() {
  static const WordList list = {
      "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "by", "for", "with", "from",
      "per", "is", "was", "are", "be", "been", "has", "had", "have", "it", "this", "that",
      "these", "those", "my", "his", "her", "their", "our", "your", "we", "he", "she", "they",
      "i", "you", "me", "him", "them", "us", "not", "no", "yes", "all", "any", "some", "more",
      "less", "then", "than", "so", "as", "if", "but", "days", "day", "weeks", "week", "hours",
      "hour", "hrs", "hr", "mins", "min", "minutes", "times", "time", "tabs", "tab", "pills",
      "pill", "doses", "dose", "units", "unit", "mg", "ml", "mcg", "years", "yrs", "year",
      "months", "month", "mos", "am", "pm", "q", "x", "patients", "pts", "pt", "beds", "rooms",
      "people", "nurses", "staff", "other", "others", "new", "old", "still", "just", "also",
      "will", "can", "may", "should", "would", "could", "did", "do", "does", "got", "get",
      "seen", "saw", "see", "went", "go", "going", "left", "right", "up", "down", "out",
      "over", "into", "about", "after", "before", "since", "until", "ago", "later", "each",
      "every", "per", "via", "cases", "calls", "messages", "visits", "admits", "shifts",
      "shift", "nights", "night", "mornings", "morning", "level", "floor", "ward", "unit"};
  return list;
}

// Words that start a chat sentence and are not cities: "Yes, OK", "Thanks, MD".
const WordList& CityStopWords() {
  static const WordList list = {
      "yes", "no", "ok", "okay", "thanks", "thank", "hi", "hello", "hey", "sure", "sorry",
      "please", "well", "so", "and", "but", "or", "then", "also", "today", "tomorrow",
      "yesterday", "now", "in", "at", "to", "from", "near", "of", "lives", "live", "living",
      "moved", "home", "address", "is", "was", "the", "a", "an", "on", "for", "by", "with",
      "dr", "doctor", "nurse", "smith", "jones", "team", "all", "everyone", "great", "good",
      "done", "noted", "agree", "agreed", "right", "correct", "yep", "nope", "her", "his",
      "their", "my", "our", "resides", "stays", "staying", "city", "town", "in", "near"};
  return list;
}

// Surnames that are also common English words: matched after a context word only when
// capitalized ("pt Young", not "pt young and healthy").
const WordList& CommonWordSurnames() {
  static const WordList list = {
      "young", "white", "green", "brown", "black", "gray", "grey", "hall", "king", "hill",
      "long", "price", "rose", "may", "will", "wood", "woods", "bell", "lane", "cook",
      "baker", "hunter", "fox", "west", "north", "south", "cole", "rice", "day", "love",
      "wise", "snow", "stone", "mills", "banks", "park", "hope", "faith", "grace", "page",
      "frank", "little", "rich", "sharp", "strong", "case", "fields", "ward", "hart", "short",
      "best", "free", "good", "bird", "early", "rush", "bush", "street", "church", "hay",
      "chase", "pierce", "burns", "walker", "bishop", "mason", "potter", "miller", "turner",
      "porter", "cooper", "knight", "marsh", "pope", "major", "mayo", "black", "carter",
      "walls", "waters", "lake", "ford", "dean", "joy", "sweet", "moss", "cross", "gill",
      "nash", "west", "hardy", "holly", "ivy", "jack", "jay", "guy", "bass", "drake", "hale",
      "lamb", "link", "mark", "nurse", "orange", "person", "pool", "rivers", "russell",
      "summer", "summers", "wells", "winter", "wolf", "worth", "house", "mann", "small"};
  return list;
}

const WordList& NameContextWords() {
  static const WordList list = {"mr", "mrs", "ms", "miss", "mx", "pt", "patient", "pts",
                                "name", "named", "surname", "lastname", "dear", "re",
                                "regarding", "mister", "missus", "client", "resident"};
  return list;
}

// Lower-case two-letter state codes that are also English words.
const WordList& AmbiguousStateWords() {
  static const WordList list = {"al", "co", "de", "hi", "id", "in", "la", "ma", "me", "md",
                                "mi", "mo", "ms", "nd", "ne", "oh", "ok", "or", "pa", "sc",
                                "va", "wa"};
  return list;
}

// ---- Context tokens --------------------------------------------------------------------------

constexpr std::size_t kContextBytes = 72;

// Up to `max` tokens before `pos`, nearest first: lower-cased, '.', '\'' and '/' inside a
// token dropped ("D.O.B." -> "dob").
void TokensBefore(std::string_view text, std::size_t pos, std::size_t max,
                  std::vector<std::string>& out) {
  out.clear();
  const std::size_t limit = pos > kContextBytes ? pos - kContextBytes : 0;
  std::size_t i = pos;
  while (out.size() < max) {
    while (i > limit && !IsAlnum(text[i - 1])) --i;
    if (i == limit) break;
    const std::size_t end = i;
    while (i > limit && (IsAlnum(text[i - 1]) ||
                         (IsTokenJoiner(text[i - 1]) && i - 1 > limit && IsAlnum(text[i - 2])))) {
      --i;
    }
    std::string token;
    for (std::size_t k = i; k < end; ++k) {
      if (IsAlnum(text[k])) token.push_back(Lower(text[k]));
    }
    out.push_back(std::move(token));
  }
}

void TokensAfter(std::string_view text, std::size_t pos, std::size_t max,
                 std::vector<std::string>& out) {
  out.clear();
  const std::size_t limit = std::min(text.size(), pos + kContextBytes);
  std::size_t i = pos;
  while (out.size() < max) {
    while (i < limit && !IsAlnum(text[i])) ++i;
    if (i == limit) break;
    std::string token;
    while (i < limit && (IsAlnum(text[i]) ||
                         (IsTokenJoiner(text[i]) && i + 1 < limit && IsAlnum(text[i + 1])))) {
      if (IsAlnum(text[i])) token.push_back(Lower(text[i]));
      ++i;
    }
    out.push_back(std::move(token));
  }
}

bool AnyIn(const std::vector<std::string>& tokens, const std::vector<std::string>& words) {
  for (const std::string& t : tokens) {
    if (std::find(words.begin(), words.end(), t) != words.end()) return true;
  }
  return false;
}

// ---- Validation ------------------------------------------------------------------------------

struct Verdict {
  bool ok = false;
  std::size_t begin = 0;
  std::size_t end = 0;
  double floor = 0;   // at least this confidence (e.g. a dictionary hit)
  bool weak = false;  // halve the no-context confidence
};

// A candidate must not be a piece of a longer word or number.
bool BoundariesOk(std::string_view text, std::size_t begin, std::size_t end) {
  if (begin >= end) return false;
  if (begin > 0 && IsAlnum(text[begin - 1]) && IsAlnum(text[begin])) return false;
  if (end < text.size() && IsAlnum(text[end]) && IsAlnum(text[end - 1])) return false;
  if (IsDigit(text[begin]) && begin >= 2 && IsNumberJoiner(text[begin - 1]) &&
      IsDigit(text[begin - 2])) {
    return false;
  }
  if (IsDigit(text[end - 1]) && end + 1 < text.size() && IsNumberJoiner(text[end]) &&
      IsDigit(text[end + 1])) {
    return false;
  }
  return true;
}

bool HasDigit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return IsDigit(c); });
}

// Numeric parts of a date-like span and the separators between them.
struct NumberParts {
  std::array<int, 3> value{};
  std::array<int, 3> digits{};
  std::array<char, 2> sep{};
  int count = 0;
};

NumberParts SplitNumbers(std::string_view s) {
  NumberParts p;
  std::size_t i = 0;
  while (i < s.size() && p.count < 3) {
    if (!IsDigit(s[i])) {
      if (p.count > 0 && p.count <= 2 && p.digits[static_cast<std::size_t>(p.count - 1)] > 0 &&
          p.sep[static_cast<std::size_t>(p.count - 1)] == 0) {
        p.sep[static_cast<std::size_t>(p.count - 1)] = s[i];
      }
      ++i;
      continue;
    }
    int value = 0;
    int digits = 0;
    while (i < s.size() && IsDigit(s[i])) {
      if (digits < 6) value = value * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    p.value[static_cast<std::size_t>(p.count)] = value;
    p.digits[static_cast<std::size_t>(p.count)] = digits;
    ++p.count;
  }
  return p;
}

bool NumericDateOk(std::string_view s) {
  const NumberParts p = SplitNumbers(s);
  if (p.count == 2) return IsValidDate(-1, p.value[0], p.value[1]);
  if (p.count != 3 || p.sep[0] != p.sep[1]) return false;
  if (p.digits[0] == 4) return IsValidDate(p.value[0], p.value[1], p.value[2]);
  int year = p.value[2];
  if (p.digits[2] == 2) {
    year = -1;
  } else if (p.digits[2] != 4) {
    return false;
  }
  return IsValidDate(year, p.value[0], p.value[1]) || IsValidDate(year, p.value[1], p.value[0]);
}

int MonthNumber(std::string_view word) {
  static constexpr std::array<std::string_view, 12> kPrefixes = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string lower;
  for (char c : word.substr(0, 3)) lower.push_back(Lower(c));
  for (std::size_t i = 0; i < kPrefixes.size(); ++i) {
    if (lower == kPrefixes[i]) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool WordDateOk(std::string_view s, bool& has_year) {
  int month = 0;
  int day = -1;
  int year = -1;
  std::size_t i = 0;
  while (i < s.size()) {
    if (IsAlpha(s[i])) {
      const std::size_t start = i;
      while (i < s.size() && IsAlpha(s[i])) ++i;
      if (month == 0) month = MonthNumber(s.substr(start, i - start));
    } else if (IsDigit(s[i])) {
      int value = 0;
      int digits = 0;
      while (i < s.size() && IsDigit(s[i])) {
        value = value * 10 + (s[i] - '0');
        ++digits;
        ++i;
      }
      if (digits == 4) {
        year = value;
      } else if (day < 0) {
        day = value;
      }
    } else {
      ++i;
    }
  }
  has_year = year >= 0;
  return month > 0 && day > 0 && IsValidDate(year, month, day);
}

bool IsPersonalUrl(std::string_view url) {
  if (url.find('~') != std::string_view::npos || url.find('?') != std::string_view::npos) {
    return true;
  }
  int run = 0;
  for (char c : url) {
    run = IsDigit(c) ? run + 1 : 0;
    if (run >= 3) return true;
  }
  static const WordList kPersonalSegments = {
      "u", "user", "users", "profile", "profiles", "patient", "patients", "member", "members",
      "people", "person", "p", "id", "chart", "mrn", "album", "albums", "photos", "pics",
      "gallery", "fundraiser", "f", "campaign", "me", "family", "memorial", "obituary",
      "obituaries", "in", "friends", "home", "account"};
  const std::size_t scheme = url.find("://");
  std::size_t pos = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  while (pos != std::string_view::npos) {
    const std::size_t next = url.find('/', pos + 1);
    std::string segment;
    for (char c : url.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos
                                                                      : next - pos - 1)) {
      segment.push_back(Lower(c));
    }
    if (kPersonalSegments.Contains(segment) || segment.find('@') != std::string::npos) return true;
    pos = next;
  }
  return false;
}


struct RawMatch {
  unsigned rule;
  std::uint32_t from;
  std::uint32_t to;
};

struct NameToken {
  std::uint32_t begin;
  std::uint32_t end;  // excludes a possessive "'s"
  std::uint64_t key;
  bool capitalized;
};

int OnMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
            void* context) {
  auto& raw = *static_cast<std::vector<RawMatch>*>(context);
  // Hyperscan reports every end of a match; for one rule and one start keep only the longest.
  if (!raw.empty() && raw.back().rule == id && raw.back().from == from) {
    raw.back().to = static_cast<std::uint32_t>(to);
    return 0;
  }
  raw.push_back({id, static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(to)});
  return 0;
}

}  // namespace

// ---- Scanner ---------------------------------------------------------------------------------

struct Scanner::State {
  hs_scratch_t* scratch = nullptr;
  NormalizedText normalized;
  std::vector<RawMatch> raw;
  std::vector<Finding> findings;
  std::vector<std::string> before;
  std::vector<std::string> after;
  std::vector<NameToken> tokens;
  const PatientIndexSnapshot* index = nullptr;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (scratch != nullptr) hs_free_scratch(scratch);
  }
};

Scanner::Scanner(RuleSet rules, std::shared_ptr<const PatientIndex> index, ScannerOptions options)
    : rules_(std::move(rules)), index_(std::move(index)), options_(options) {}

Scanner::~Scanner() {
  pool_.clear();
  if (prototype_ != nullptr) hs_free_scratch(prototype_);
  if (database_ != nullptr) hs_free_database(database_);
}

Result<std::unique_ptr<Scanner>> Scanner::Create(RuleSet rules,
                                                 std::shared_ptr<const PatientIndex> index,
                                                 ScannerOptions options) {
  std::unique_ptr<Scanner> scanner(new Scanner(std::move(rules), std::move(index), options));
  const auto& list = scanner->rules_.rules;
  if (list.empty()) return InvalidArgument("invalid_rules", "The PHI rule set is empty.");
  std::vector<const char*> patterns;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    patterns.push_back(list[i].pattern.c_str());
    flags.push_back(HS_FLAG_SOM_LEFTMOST | (list[i].caseless ? HS_FLAG_CASELESS : 0u));
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* error = nullptr;
  // Byte mode, not HS_FLAG_UTF8: the patterns are ASCII over normalized text, and byte mode is
  // defined for any input, invalid UTF-8 included.
  if (hs_compile_multi(patterns.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr,
                       &scanner->database_, &error) != HS_SUCCESS) {
    const bool known = error->expression >= 0 &&
                       static_cast<std::size_t>(error->expression) < list.size();
    std::string message = "PHI rule " +
                          (known ? list[static_cast<std::size_t>(error->expression)].id
                                 : std::string("set")) +
                          " does not compile: " + error->message;
    hs_free_compile_error(error);
    return InvalidArgument("invalid_rules", message);
  }
  if (hs_alloc_scratch(scanner->database_, &scanner->prototype_) != HS_SUCCESS) {
    return Internal("hs_alloc_scratch failed");
  }
  return scanner;
}

std::unique_ptr<Scanner::State> Scanner::Acquire() const {
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      auto state = std::move(pool_.back());
      pool_.pop_back();
      return state;
    }
  }
  auto state = std::make_unique<State>();
  if (hs_clone_scratch(prototype_, &state->scratch) != HS_SUCCESS) state->scratch = nullptr;
  return state;
}

void Scanner::Release(std::unique_ptr<State> state) const {
  std::lock_guard lock(pool_mu_);
  pool_.push_back(std::move(state));
}

namespace {

Verdict Validate(const Rule& rule, std::string_view text, std::size_t begin, std::size_t end,
                 const PatientIndexSnapshot* index) {
  Verdict v{true, begin, end};
  const std::string_view span = text.substr(begin, end - begin);
  switch (rule.validator) {
    case Validator::kNone:
      break;
    case Validator::kPhone:
      v.ok = IsValidNanpPhone(span);
      break;
    case Validator::kPhoneLocal: {
      const std::string d = DigitsOf(span);
      v.ok = d.size() == 7 && d[0] >= '2';
      break;
    }
    case Validator::kSsn:
      v.ok = IsValidSsn(span);
      break;
    case Validator::kCard:
      v.ok = IsValidCardNumber(span);
      break;
    case Validator::kNpi:
      v.ok = IsValidNpi(span);
      break;
    case Validator::kDea:
      v.ok = IsValidDea(span);
      break;
    case Validator::kVin:
      v.ok = IsValidVin(span);
      break;
    case Validator::kIpv4:
      v.ok = IsValidIpv4(span) && !(begin > 0 && (text[begin - 1] == 'v' || text[begin - 1] == 'V'));
      break;
    case Validator::kIpv6:
      v.ok = IsValidIpv6(span) && std::count(span.begin(), span.end(), ':') >= 2;
      break;
    case Validator::kMbi:
      v.ok = IsValidMbi(span);
      break;
    case Validator::kImei:
      v.ok = IsValidImei(span);
      break;
    case Validator::kMrn: {
      std::size_t b = begin;
      if (end - b > 2 && Lower(text[b]) == 'm' && Lower(text[b + 1]) == 'r' &&
          (end - b > 3 && (Lower(text[b + 2]) == 'n' || !IsAlnum(text[b + 2])))) {
        b += 2;
        if (Lower(text[b]) == 'n') ++b;
        while (b < end && !IsAlnum(text[b])) ++b;
      }
      v.begin = b;
      const std::string mrn = NormalizeMrn(text.substr(b, end - b));
      v.ok = HasDigit(mrn);
      if (v.ok && index != nullptr && rule.index_confidence > 0 && index->HasMrn(mrn)) {
        v.floor = rule.index_confidence;
      }
      break;
    }
    case Validator::kDigitsOnly: {
      while (v.begin < end && !IsDigit(text[v.begin])) ++v.begin;
      while (v.end > v.begin && !IsDigit(text[v.end - 1])) --v.end;
      v.ok = v.begin < v.end;
      break;
    }
    case Validator::kHasDigit:
      v.ok = HasDigit(span);
      break;
    case Validator::kDateNumeric:
      v.ok = NumericDateOk(span);
      break;
    case Validator::kDateWords: {
      bool has_year = false;
      v.ok = WordDateOk(span, has_year);
      break;
    }
    case Validator::kAge: {
      std::size_t b = begin;
      while (b < end && !IsDigit(text[b])) ++b;
      std::size_t e = b;
      int value = 0;
      while (e < end && IsDigit(text[e])) value = value * 10 + (text[e++] - '0');
      v.ok = e > b && value >= 90 && value <= 125;
      v.begin = b;
      v.end = e;
      break;
    }
    case Validator::kZipAfterState: {
      std::size_t b = begin;
      while (b < end && !IsDigit(text[b])) ++b;
      v.begin = b;
      const std::string state = {Lower(text[begin]), Lower(text[begin + 1])};
      const bool lower_case = !IsUpper(text[begin]) || !IsUpper(text[begin + 1]);
      const bool comma = text.substr(begin, b - begin).find(',') != std::string_view::npos;
      v.weak = lower_case && !comma && AmbiguousStateWords().Contains(state);
      break;
    }
    case Validator::kEmail: {
      while (v.begin < end && !IsAlnum(text[v.begin])) ++v.begin;
      const std::size_t at = text.find('@', v.begin);
      v.ok = at != std::string_view::npos && at < end && at > v.begin;
      break;
    }
    case Validator::kUrl: {
      while (v.end > begin && std::string_view(".,;:!?'\"").find(text[v.end - 1]) !=
                                   std::string_view::npos) {
        --v.end;
      }
      v.ok = v.end > begin;
      if (v.ok && IsPersonalUrl(text.substr(begin, v.end - begin))) v.floor = 0.85;
      break;
    }
    case Validator::kStreet: {
      // number, words..., suffix: no word may be a stop word or a unit.
      std::size_t i = begin;
      while (i < end && IsAlnum(text[i])) ++i;  // the house number
      int words = 0;
      while (i < end) {
        while (i < end && !IsAlnum(text[i])) ++i;
        const std::size_t start = i;
        while (i < end && (IsAlnum(text[i]) || text[i] == '\'' || text[i] == '-')) ++i;
        if (start == i) break;
        std::string word;
        for (std::size_t k = start; k < i; ++k) word.push_back(Lower(text[k]));
        if (StreetStopWords().Contains(word) || UnitWords().Contains(word)) {
          // A stop word after the suffix (in "apt", "#") is fine; before it, reject.
          if (words < 2) {
            v.ok = false;
            break;
          }
        }
        ++words;
        if (words >= 2) break;  // number + first street word + ... checked enough to decide
      }
      break;
    }
    case Validator::kCity: {
      // The city is the words before the comma (or before the state when there is none).
      std::size_t stop = text.find(',', begin);
      if (stop == std::string_view::npos || stop >= end) {
        // "springfield ma 01101": the city ends before the last space before the state.
        stop = end;
        while (stop > begin && !IsAlpha(text[stop - 1])) --stop;  // back over the ZIP
        while (stop > begin && IsAlpha(text[stop - 1])) --stop;   // back over the state
        while (stop > begin && text[stop - 1] == ' ') --stop;
      }
      std::size_t b = begin;
      // Drop leading stop words ("in", "lives", "at").
      while (b < stop) {
        std::size_t e = b;
        while (e < stop && IsAlpha(text[e])) ++e;
        std::string word;
        for (std::size_t k = b; k < e; ++k) word.push_back(Lower(text[k]));
        if (e == b || !CityStopWords().Contains(word)) break;
        b = e;
        while (b < stop && text[b] == ' ') ++b;
      }
      v.begin = b;
      v.end = stop;
      v.ok = b < stop;
      if (v.ok && !HasDigit(text.substr(begin, end - begin))) {
        // "Smith, MD" and "Lee, PA" are credentials; "Yes, OK" is chat.
        const std::string_view state = text.substr(end - 2, 2);
        if (state == "MD" || state == "PA" || state == "OK" || state == "DO") v.ok = false;
      }
      break;
    }
  }
  if (v.ok && (v.begin >= v.end)) v.ok = false;
  return v;
}

bool Guarded(std::string_view text, std::size_t begin, std::size_t end,
             const std::vector<std::string>& before, const std::vector<std::string>& after) {
  for (std::size_t i = 0; i < before.size() && i < 2; ++i) {
    if (MeasurementLabels().Contains(before[i])) return true;
  }
  if (!after.empty() && UnitWords().Contains(after[0])) return true;
  std::size_t i = end;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && text[i] == '%') return true;
  (void)begin;
  return false;
}

}  // namespace

void Scanner::ScanRules(std::string_view text, State& state) const {
  state.raw.clear();
  if (state.scratch == nullptr || text.empty()) return;
  hs_scan(database_, text.data(), static_cast<unsigned>(text.size()), 0, state.scratch, OnMatch,
          &state.raw);
  for (const RawMatch& m : state.raw) {
    const Rule& rule = rules_.rules[m.rule];
    if (!BoundariesOk(text, m.from, m.to)) continue;
    const Verdict v = Validate(rule, text, m.from, m.to, state.index);
    if (!v.ok) continue;
    TokensBefore(text, m.from, options_.context_tokens_before, state.before);
    TokensAfter(text, m.to, options_.context_tokens_after, state.after);
    if (rule.numeric_guard && v.floor == 0 && Guarded(text, m.from, m.to, state.before, state.after)) {
      continue;
    }
    const bool context = AnyIn(state.before, rule.context) || AnyIn(state.after, rule.context);
    double confidence = context ? rule.with_context : (v.weak ? rule.base / 2 : rule.base);
    confidence = std::max(confidence, v.floor);
    if (confidence < options_.min_confidence) continue;
    state.findings.push_back({rule.type, v.begin, v.end, confidence, rule.id});
  }
}

void Scanner::ScanNames(std::string_view text, const PatientIndexSnapshot& index,
                        State& state) const {
  // Tokens are runs of letters (non-ASCII bytes count as letters) with inner ' or -; a
  // possessive "'s" is left out of the token.
  auto& tokens = state.tokens;
  tokens.clear();
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    while (i < n && !(Cls(text[i]) & (kClsLower | kClsUpper | kClsHigh))) ++i;
    if (i == n) break;
    const std::size_t begin = i;
    std::uint64_t key = NameKey::kSeed;
    while (i < n) {
      const char c = text[i];
      const std::uint8_t cls = Cls(c);
      if (cls & (kClsLower | kClsUpper | kClsHigh)) {
        key = (key ^ static_cast<unsigned char>(Lower(c))) * 1099511628211ull;
        ++i;
      } else if ((c == '\'' || c == '-') && i + 1 < n && (Cls(text[i + 1]) & (kClsLower | kClsUpper)) &&
                 !(c == '\'' && (text[i + 1] == 's' || text[i + 1] == 'S') &&
                   (i + 2 == n || !IsAlpha(text[i + 2])))) {
        ++i;  // O'Brien, Smith-Jones (skipped by the key, like NameKey does)
      } else {
        break;
      }
    }
    if (IsDigit(i < n ? text[i] : ' ')) continue;  // part of an id like "ab12"
    tokens.push_back({static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(i), key,
                      IsUpper(text[begin])});
  }

  // Gap between two tokens: spaces only (at most 3) -> 1; a comma with spaces -> 2; else 0.
  auto gap = [&](const NameToken& a, const NameToken& b) {
    std::size_t spaces = 0;
    std::size_t commas = 0;
    for (std::size_t k = a.end; k < b.begin; ++k) {
      const char c = text[k];
      if (c == ' ' || c == '\t') {
        ++spaces;
      } else if (c == ',') {
        ++commas;
      } else if (c == '\'' && k + 1 < b.begin && (text[k + 1] == 's' || text[k + 1] == 'S')) {
        return 0;  // "garcia's maria" is not a name
      } else {
        return 0;
      }
    }
    if (commas == 0 && spaces >= 1 && spaces <= 3) return 1;
    if (commas == 1 && spaces <= 3) return 2;
    return 0;
  };
  auto is_initial = [&](const NameToken& t) {
    return t.end - t.begin == 1 && IsAlpha(text[t.begin]);
  };
  auto extend = [&](std::uint64_t key, const NameToken& t) {
    return NameKey::Extend(key, text.substr(t.begin, t.end - t.begin));
  };
  auto all_caps = [&](const NameToken& t) {
    for (std::size_t k = t.begin; k < t.end; ++k) {
      if (IsAlpha(text[k]) && !IsUpper(text[k])) return false;
    }
    return true;
  };

  const std::size_t count = tokens.size();
  for (std::size_t t = 0; t < count; ++t) {
    const NameToken& tok = tokens[t];
    // First [Middle-initial] Last, with one- or two-token first names and up to three-token
    // last names ("Mary Ann De La Cruz").
    std::uint64_t first_key = tok.key;
    bool matched = false;
    for (std::size_t fl = 1; fl <= 2 && !matched && t + fl <= count; ++fl) {
      if (fl == 2) {
        if (gap(tokens[t], tokens[t + 1]) != 1) break;
        first_key = extend(first_key, tokens[t + 1]);
      }
      if (!index.IsFirstName(first_key)) continue;
      std::size_t j = t + fl;
      if (j < count && is_initial(tokens[j]) && gap(tokens[j - 1], tokens[j]) == 1) {
        // "Maria L. Garcia": skip the initial when a last name follows it
        if (j + 1 < count && gap(tokens[j], tokens[j + 1]) >= 1) {
          const std::size_t after_initial = j + 1;
          if (index.IsNamePair(first_key, tokens[after_initial].key)) j = after_initial;
        }
      }
      if (j >= count || gap(tokens[j - 1], tokens[j]) == 0) continue;
      if (gap(tokens[j - 1], tokens[j]) == 2 && j == t + fl) continue;  // "Maria, Garcia"
      std::uint64_t last_key = NameKey::kSeed;
      std::size_t best_end = 0;
      for (std::size_t ll = 0; ll < 3 && j + ll < count; ++ll) {
        if (ll > 0 && gap(tokens[j + ll - 1], tokens[j + ll]) != 1) break;
        last_key = ll == 0 ? tokens[j].key : extend(last_key, tokens[j + ll]);
        if (index.IsNamePair(first_key, last_key)) best_end = j + ll + 1;
      }
      if (best_end > 0) {
        state.findings.push_back({PhiType::kName, tok.begin, tokens[best_end - 1].end, 0.95,
                                  "name.index.pair"});
        matched = true;
      }
    }
    if (matched) continue;

    // Last, First  (or LAST FIRST in upper case, as EHR headers print it).
    if (index.IsLastName(tok.key) && t + 1 < count) {
      const int g = gap(tok, tokens[t + 1]);
      const bool reversed = g == 2 || (g == 1 && all_caps(tok) && all_caps(tokens[t + 1]));
      if (g != 0) {
        std::uint64_t fkey = tokens[t + 1].key;
        std::size_t end_token = 0;
        if (index.IsNamePair(fkey, tok.key)) {
          end_token = t + 2;
        } else if (t + 2 < count && gap(tokens[t + 1], tokens[t + 2]) == 1 &&
                   index.IsNamePair(extend(fkey, tokens[t + 2]), tok.key)) {
          end_token = t + 3;
        }
        if (end_token > 0) {
          // "Garcia Maria" without comma or capitals is weaker evidence than "Garcia, Maria".
          state.findings.push_back({PhiType::kName, tok.begin, tokens[end_token - 1].end,
                                    reversed ? 0.95 : 0.7, "name.index.last_first"});
          continue;
        }
      }
    }

    // A context word and a last name: "pt Garcia", "Mrs. garcia".
    if (index.IsLastName(tok.key)) {
      TokensBefore(text, tok.begin, 2, state.before);
      if (!state.before.empty() && NameContextWords().Contains(state.before[0])) {
        std::string lower;
        for (std::size_t k = tok.begin; k < tok.end; ++k) lower.push_back(Lower(text[k]));
        if (tok.capitalized || !CommonWordSurnames().Contains(lower)) {
          state.findings.push_back({PhiType::kName, tok.begin, tok.end, 0.8,
                                    "name.index.context"});
        }
      }
    }
  }
}

std::vector<Finding> Scanner::Scan(std::string_view text) const {
  std::unique_ptr<State> state = Acquire();
  state->findings.clear();
  state->normalized = NormalizeForScan(text, std::move(state->normalized));
  const std::string_view norm = state->normalized.text();
  std::shared_ptr<const PatientIndexSnapshot> snapshot = index_ ? index_->Snapshot() : nullptr;
  state->index = snapshot.get();
  ScanRules(norm, *state);
  if (snapshot && snapshot->size() > 0) ScanNames(norm, *snapshot, *state);
  state->index = nullptr;

  auto& found = state->findings;
  std::sort(found.begin(), found.end(), [](const Finding& a, const Finding& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::vector<Finding> merged;
  for (Finding& f : found) {
    if (!merged.empty() && f.begin < merged.back().end) {
      Finding& last = merged.back();
      const bool better = f.confidence > last.confidence ||
                          (f.confidence == last.confidence && f.end - f.begin > last.end - last.begin);
      last.end = std::max(last.end, f.end);
      if (better) {
        last.type = f.type;
        last.confidence = f.confidence;
        last.rule_id = std::move(f.rule_id);
      }
      continue;
    }
    merged.push_back(std::move(f));
  }
  for (Finding& f : merged) {
    f.begin = state->normalized.OriginalBegin(f.begin);
    f.end = state->normalized.OriginalEnd(f.end);
  }
  found.clear();
  Release(std::move(state));
  return merged;
}

std::string Redact(std::string_view text, std::span<const Finding> findings) {
  std::vector<Finding> sorted(findings.begin(), findings.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t begin = std::min(sorted[i].begin, text.size());
    std::size_t end = std::min(sorted[i].end, text.size());
    const Finding* best = &sorted[i];
    std::size_t j = i + 1;
    for (; j < sorted.size() && sorted[j].begin < end; ++j) {
      end = std::max(end, std::min(sorted[j].end, text.size()));
      if (sorted[j].confidence > best->confidence) best = &sorted[j];
    }
    begin = std::max(begin, pos);
    out.append(text.substr(pos, begin - pos));
    out.append("[REDACTED:").append(ToString(best->type)).append("]");
    pos = std::max(pos, end);
    i = j;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

PhiAction Decide(policy::PhiRule rule, std::span<const Finding> findings) {
  if (findings.empty()) return PhiAction::kAllow;
  switch (rule) {
    case policy::PhiRule::kAllow: return PhiAction::kAllow;
    case policy::PhiRule::kWarn: return PhiAction::kWarn;
    case policy::PhiRule::kHold: return PhiAction::kHold;
    case policy::PhiRule::kBlock: return PhiAction::kBlock;
    case policy::PhiRule::kRedact: return PhiAction::kRedact;
  }
  return PhiAction::kBlock;  // unreachable for valid enum values; fail closed
}

std::string_view ToString(PhiAction action) {
  switch (action) {
    case PhiAction::kAllow: return "allow";
    case PhiAction::kWarn: return "warn";
    case PhiAction::kHold: return "hold";
    case PhiAction::kBlock: return "block";
    case PhiAction::kRedact: return "redact";
  }
  return "block";
}

}  // namespace rounds::governance::phi
