#include "governance/phi/scanner.hpp"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>

#include "governance/phi/normalize.hpp"
#include "governance/phi/validators.hpp"

namespace rounds::governance::phi {

namespace {

constexpr std::array<std::string_view, kPhiTypeCount> kTypeNames = {
    "NAME",        "ADDRESS", "ZIP",  "DATE",    "AGE", "PHONE",   "EMAIL",  "SSN", "MRN",
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
constexpr std::uint8_t kClsLetter = kClsLower | kClsUpper | kClsHigh;

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
bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// The generic top-level domains and country codes most addresses end in, in any case.
bool IsCommonTopLevelDomain(std::string_view tld) {
  static constexpr std::string_view kCommon[] = {
      "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "io", "co", "me", "us", "uk", "ca", "au",
      "nz", "ie", "de", "fr", "es", "it", "nl", "be", "ch", "at", "se", "no", "dk", "fi", "pl", "pt", "in", "jp",
      "cn", "br", "mx", "za", "health", "care", "clinic", "hospital", "email", "mail", "app", "dev", "online"};
  if (tld.size() < 2 || tld.size() > 8) return false;
  char lower[8];
  for (std::size_t i = 0; i < tld.size(); ++i) lower[i] = Lower(tld[i]);
  const std::string_view folded(lower, tld.size());
  return std::find(std::begin(kCommon), std::end(kCommon), folded) != std::end(kCommon);
}

constexpr std::array<std::uint8_t, 256> MakeFolded() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<std::size_t>(c)] =
        static_cast<std::uint8_t>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kFolded = MakeFolded();  // ASCII lower case

// Per character, for the tokenizer's inner loop in one load: the folded character in the low
// byte and, for letters and digits, the class above it (zero for everything else).
constexpr unsigned kInfoLower = kClsLower << 8;
constexpr unsigned kInfoDigit = kClsDigit << 8;
constexpr unsigned kInfoLetter = kClsLetter << 8;
constexpr std::array<std::uint16_t, 256> MakeCharInfo() {
  std::array<std::uint16_t, 256> t{};
  for (std::size_t c = 0; c < 256; ++c) {
    t[c] = static_cast<std::uint16_t>(kClasses[c] == 0 ? 0 : kFolded[c] | kClasses[c] << 8);
  }
  return t;
}
constexpr std::array<std::uint16_t, 256> kCharInfo = MakeCharInfo();

// Per separator, what the tokenizer notes of it: a line break, or one of the few characters a
// recognizer needs the text to hold. Spaces, commas, stops and dashes, nearly every separator of
// chat, are zero: the tokenizer reads this table instead of branching on each kind.
enum : std::uint8_t {
  kSepLineBreak = 1, kSepAt = 2, kSepParenthesis = 4, kSepColon = 8, kSepSlash = 16, kSepPlus = 32
};
constexpr std::uint8_t kSepRare = kSepAt | kSepParenthesis | kSepColon | kSepSlash | kSepPlus;
constexpr std::array<std::uint8_t, 256> MakeSeparators() {
  std::array<std::uint8_t, 256> t{};
  t['\n'] = kSepLineBreak;
  t['@'] = kSepAt;
  t['('] = kSepParenthesis;
  t['['] = kSepParenthesis;  // "maria[at]example.com"
  t[':'] = kSepColon;
  t['/'] = kSepSlash;
  t['+'] = kSepPlus;
  return t;
}
constexpr std::array<std::uint8_t, 256> kSeparators = MakeSeparators();


// Place names below the state level (Safe Harbor counts cities and towns): the names most US
// towns share and the largest cities. English words that are also towns ("Mobile", "Orange",
// "Reading", "Normal", "Hope", "Union") are left out: they would need more than a preposition.
constexpr std::string_view kPlaceNames[] = {
    "Springfield", "Franklin", "Greenville", "Bristol", "Clinton", "Fairview", "Salem", "Madison",
    "Georgetown", "Arlington", "Ashland", "Burlington", "Manchester", "Marion", "Oxford",
    "Clayton", "Jackson", "Milton", "Auburn", "Dayton", "Lexington", "Milford", "Riverside",
    "Cleveland", "Dover", "Hudson", "Kingston", "Mount Vernon", "Newport", "Oakland",
    "Centerville", "Winchester", "Lebanon", "Troy", "Plymouth", "Hamilton", "Jamestown",
    "Lancaster", "Hanover", "Oak Grove", "Lakewood", "Pleasant Hill", "Cedar Falls", "Brookfield",
    "Westfield", "Millbrook", "Glenwood", "Hillsboro", "Waverly", "Shelbyville", "Farmington",
    "Bloomington", "Newton", "Richmond", "Rochester", "Wilmington", "Chester", "Columbia",
    "Warren", "Marshall", "Monroe", "Lincoln", "Harrison", "Mount Pleasant", "Oak Hill",
    "Pleasant Valley", "Five Points", "Midway", "Lakeview", "Cedar Grove", "Pine Grove",
    "Spring Hill", "Fair Oaks", "Bedford", "Bridgeport", "Cambridge", "Camden", "Carthage",
    "Concord", "Danville", "Dublin", "Fayetteville", "Florence", "Frankfort", "Glendale",
    "Greenwood", "Hartford", "Highland Park", "Jacksonville", "Kensington", "Lakeside", "Lawrence",
    "Livingston", "Medford", "Middletown", "Milltown", "Morristown", "Newark", "Norwood",
    "Oakdale", "Pittsfield", "Portland", "Princeton", "Quincy", "Salisbury", "Sheffield",
    "Somerset", "Stratford", "Sullivan", "Trenton", "Vienna", "Wakefield", "Washington",
    "Watertown", "Wellington", "Westminster", "Weston", "Williamsburg", "Windsor", "Woodstock",
    "Worcester", "Yorktown", "Ridgewood", "Brookline", "Somerville", "Framingham", "Lowell",
    "Amherst", "Northampton", "Salinas", "New York", "Los Angeles", "Chicago", "Houston",
    "Phoenix", "Philadelphia", "San Antonio", "San Diego", "Dallas", "San Jose", "Austin",
    "Fort Worth", "Columbus", "Charlotte", "Indianapolis", "San Francisco", "Seattle", "Denver",
    "Boston", "El Paso", "Nashville", "Detroit", "Oklahoma City", "Las Vegas", "Memphis",
    "Louisville", "Baltimore", "Milwaukee", "Albuquerque", "Tucson", "Fresno", "Sacramento",
    "Kansas City", "Atlanta", "Omaha", "Raleigh", "Miami", "Minneapolis", "Tulsa", "Tampa",
    "New Orleans", "Wichita", "Bakersfield", "Anaheim", "Honolulu", "Pittsburgh", "Cincinnati",
    "St Louis", "Saint Louis", "Orlando", "Durham", "Plano", "Reno", "Providence", "Spokane",
    "Boise", "Des Moines", "Little Rock", "Salt Lake City", "Birmingham", "Knoxville",
    "Chattanooga", "Savannah", "Charleston", "Syracuse", "Albany", "New Haven", "Stamford",
    "Allentown", "Scranton", "Harrisburg", "Akron", "Toledo", "Grand Rapids", "Lansing",
    "Ann Arbor", "Green Bay", "Duluth", "Fargo", "Sioux Falls", "Lubbock", "Amarillo", "Laredo",
    "Corpus Christi", "Brownsville", "Shreveport", "Baton Rouge", "Montgomery", "Huntsville",
    "Pensacola", "Tallahassee", "Gainesville", "Sarasota", "St Petersburg", "Fort Lauderdale",
    "Hialeah", "Scottsdale", "Tempe", "Chandler", "Gilbert", "Flagstaff", "Santa Fe", "Las Cruces",
    "Pueblo", "Boulder", "Fort Collins", "Cheyenne", "Billings", "Missoula", "Eugene", "Tacoma",
    "Bellevue", "Everett", "Olympia", "Yakima", "Anchorage", "Fairbanks", "Long Beach",
    "Santa Ana", "Stockton", "Modesto", "Oxnard", "Pasadena", "Berkeley", "Palo Alto",
    "Santa Clara", "Sunnyvale", "Santa Barbara", "Santa Monica",
};

// ---- Word table ------------------------------------------------------------------------------

// What a lower-case word means to the recognizers.
enum WordFlag : std::uint32_t {
  kLabel = 1u << 0,          // vital, lab, score or code label: numbers after it are not PHI
  kUnit = 1u << 1,           // unit: the number before it is a measurement
  kStreetStop = 1u << 2,     // cannot be part of a street name
  kCityStop = 1u << 3,       // cannot be a city
  kCommonSurname = 1u << 4,  // surname that is also a common word
  kNameContext = 1u << 5,    // "pt", "Mrs": a last name after it is a name
  kState = 1u << 6,          // two-letter state code
  kAmbiguousState = 1u << 7, // state code that is also an English word ("in", "me", "or")
  kStreetSuffix = 1u << 8,   // "St", "Avenue", "Ct"
  kUnitDesignator = 1u << 9, // "Apt", "Unit", "Suite"
  kAgeUnit = 1u << 10,       // "yo", "y/o", "years"
  kAgeWord = 1u << 11,       // "age", "aged"
  kWww = 1u << 12,
  kBox = 1u << 13,           // "box" (P.O. Box)
  kPo = 1u << 14,            // "po"
  kOf = 1u << 15,            // "of" ("14th of March")
  kPlaceWord = 1u << 16,     // first word of a place name in the gazetteer ("oak" of "Oak Grove")
  kPlacePreposition = 1u << 17,  // "from", "in", "near": a place name may follow
  kPortion = 1u << 18,       // "of", "done", "ago", "patients": a fraction before it is a count
  kDirection = 1u << 19,     // "N", "West", "nw": a street's side of town
  kRoadNumbered = 1u << 20,  // "Rd", "Route", "Hwy": a number may follow ("County Rd 12")
  kKin = 1u << 21,           // "family", "wife": a last name before it is a name ("Garcia family")
  kStaffTitle = 1u << 22,    // "Dr", "nurse": the surname after it is staff's ("Dr. Garcia's wife")
  kSpelledDot = 1u << 23,    // "dot": an address may be spelled out ("maria at example dot com")
  kStateName = 1u << 24,     // a state's name in full, or the last word of it ("Ohio", "York")
  kMailWord = 1u << 25,      // "email": what follows may be an address spelled out
  kDeviceWord = 1u << 26,    // "mac", "pump": a device's hardware address may follow
  kPlainWord = 1u << 27,     // a common word, never a name typed with a slip ("said" is no "Saad")
  kSpacedIdWord = 1u << 28,  // "MBI", "VIN": the identifier may follow typed in spaced groups
  kDigitWord = 1u << 29,     // "zero" to "nine", "oh": a number may be spelled out
  kOldAgeWord = 1u << 30,    // "ninety", "ninety-four", "hundred": an age over 89 may be spelled out
  kBirthWord = 1u << 31,     // "born", "DOB": a year after it may be one of birth
};

struct WordInfo {
  std::uint64_t rules = 0;  // bit i: context word of rule i
  std::uint32_t flags = 0;  // WordFlag
  std::uint8_t month = 0;   // 1-12 for month names and abbreviations
};

// Open addressing over word hashes (NameKey-compatible FNV-1a of the lower-cased letters and
// digits). A collision between two different words would need equal 64-bit hashes.
class WordTable {
 public:
  WordInfo& Upsert(std::string_view word) {
    const std::uint64_t key = NameKey::Of(word);
    auto it = index_.find(key);
    if (it != index_.end()) return infos_[it->second];
    index_.emplace(key, infos_.size());
    keys_.push_back(key);
    words_.emplace_back(word);
    infos_.emplace_back();
    return infos_.back();
  }

  // Chat typos of the words that carry meaning (context words, labels, age units): adjacent
  // letters swapped ("bonr", "plaet") and, in words of five letters or more, one letter dropped
  // ("accunt", "adress"); never the first letter. A variant that is itself a listed word keeps
  // its own meaning.
  void AddTypoVariants() {
    constexpr std::uint32_t kCarried = kLabel | kAgeUnit | kAgeWord | kNameContext | kBirthWord | kKin;
    const std::size_t count = words_.size();
    std::vector<std::pair<std::string, WordInfo>> variants;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string& w = words_[i];
      const WordInfo info = infos_[i];
      if (w.size() < 4 || (info.rules == 0 && (info.flags & kCarried) == 0)) continue;
      WordInfo carried{info.rules, info.flags & kCarried, 0};
      for (std::size_t k = 1; k + 1 < w.size(); ++k) {
        std::string v = w;
        std::swap(v[k], v[k + 1]);
        if (v != w) variants.emplace_back(std::move(v), carried);
      }
      if (w.size() >= 5) {
        for (std::size_t k = 1; k < w.size(); ++k) {
          variants.emplace_back(w.substr(0, k) + w.substr(k + 1), carried);
        }
      }
    }
    for (auto& [v, info] : variants) {
      if (index_.count(NameKey::Of(v)) != 0) continue;
      Upsert(v) = info;
    }
  }
  void Build() {
    std::size_t capacity = 64;
    while (capacity < keys_.size() * 2) capacity *= 2;
    slots_.assign(capacity, 0);
    slot_infos_.assign(capacity, WordInfo{});
    mask_ = capacity - 1;
    filter_.assign(kFilterWords, 0);
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      const std::uint64_t key = keys_[i] == 0 ? 1 : keys_[i];
      std::size_t s = Mix(key) & mask_;
      while (slots_[s] != 0) s = (s + 1) & mask_;
      slots_[s] = key;
      slot_infos_[s] = infos_[i];
      filter_[FilterWord(key)] |= FilterBits(key);
    }
  }
  const WordInfo* Find(std::uint64_t key) const {
    key = key == 0 ? 1 : key;
    const std::uint64_t bits = FilterBits(key);
    if ((filter_[FilterWord(key)] & bits) != bits) return nullptr;
    for (std::size_t s = Mix(key) & mask_;; s = (s + 1) & mask_) {
      if (slots_[s] == key) return &slot_infos_[s];
      if (slots_[s] == 0) return nullptr;
    }
  }

 private:
  // Most words of a message are not in the table (the typo variants make it large): a 16 KB
  // filter (three bits in one word per key) answers those from L1 instead of a cold slot.
  static constexpr std::size_t kFilterWords = 2048;
  static std::size_t FilterWord(std::uint64_t key) {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 53);  // 11 bits
  }
  static std::uint64_t FilterBits(std::uint64_t key) {
    const std::uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (1ull << ((h >> 47) & 63)) | (1ull << ((h >> 41) & 63)) | (1ull << ((h >> 35) & 63));
  }
  static std::size_t Mix(std::uint64_t key) {
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 32;
    return static_cast<std::size_t>(key);
  }
  std::unordered_map<std::uint64_t, std::size_t> index_;  // used while building only
  std::vector<std::string> words_;                          // used while building only
  std::vector<std::uint64_t> keys_;                         // used while building only
  std::vector<WordInfo> infos_;                             // used while building only
  std::vector<std::uint64_t> slots_;
  std::vector<WordInfo> slot_infos_;  // by slot, so a hit needs no index indirection
  std::vector<std::uint64_t> filter_;
  std::size_t mask_ = 0;
};

// Digits spelled out, by their value; "oh" and "o" are zeros too.
constexpr std::array<std::string_view, 12> kDigitWordNames = {"zero", "one", "two",   "three", "four", "five",
                                                              "six",  "seven", "eight", "nine", "oh",   "o"};

// NameKeys of kDigitWordNames, index for index (the value of "one" to "nine" is its index).
const std::array<std::uint64_t, kDigitWordNames.size()>& DigitWordKeys() {
  static const std::array<std::uint64_t, kDigitWordNames.size()> keys = [] {
    std::array<std::uint64_t, kDigitWordNames.size()> out{};
    for (std::size_t d = 0; d < out.size(); ++d) out[d] = NameKey::Of(kDigitWordNames[d]);
    return out;
  }();
  return keys;
}

void AddFlag(WordTable& table, std::initializer_list<std::string_view> words, std::uint32_t flag) {
  for (std::string_view w : words) table.Upsert(w).flags |= flag;
}

void AddWordLists(WordTable& t) {
  AddFlag(t, {"bp", "sbp", "dbp", "hr", "rr", "pulse", "spo2", "sao2", "sat", "sats", "o2",
              "temp", "tmax", "t", "wt", "weight", "ht", "height", "bmi", "map", "cvp", "gcs",
              "pain", "score", "apgar", "apgars", "nihss", "k", "na", "cl", "co2", "hco3", "bun",
              "cr", "creat", "glucose", "gluc", "bg", "fsbg", "cbg", "bgm", "sugar", "hgb", "hb",
              "hct", "wbc", "rbc", "plt", "plts", "platelets", "inr", "ptt", "aptt", "a1c",
              "hba1c", "hgba1c", "ldl", "hdl", "chol", "tg", "trig", "tsh", "t4", "trop",
              "troponin", "lactate", "lac", "bnp", "ntprobnp", "alt", "ast", "alp", "alk", "bili",
              "tbili", "lipase", "ammonia", "mag", "phos", "ca", "ef", "esr", "crp", "procal",
              "ddimer", "ferritin", "b12", "psa", "egfr", "gfr", "sg", "pco2", "po2", "fio2",
              "peep", "tv", "vt", "uop", "ldh", "ck", "cpk", "mcv", "rdw", "anc", "abg", "vbg",
              "icd10", "icd9", "cpt", "hcpcs", "ndc", "loinc", "snomed", "lot", "batch",
              "order", "orders", "ord", "accession", "specimen", "ref", "reference",
              "confirmation", "conf", "tracking", "ticket", "req", "requisition", "invoice",
              "room", "rm", "bed", "ext", "extension", "pager", "qty", "quantity", "dose",
              "dosage", "vol", "version", "ver", "v", "step", "level", "lvl", "rate", "kcal",
              "calories", "sig", "disp", "refills", "french", "fr", "gauge", "size", "setting",
              "settings", "cycle", "gestation", "ga", "para", "gravida", "fhr", "build",
              "firmware", "fw", "release", "patch", "software", "sw", "code", "codes"},
          kLabel);
  AddFlag(t, {"mg", "mcg", "ug", "g", "gm", "gram", "grams", "kg", "kgs", "lb", "lbs", "oz",
              "ml", "mls", "l", "cc", "liter", "liters", "units", "unit", "u", "iu", "meq",
              "mmol", "mol", "mmhg", "mm", "cm", "bpm", "mgdl", "gdl", "mgkg", "mcgkg",
              "mcgkgmin", "mlhr", "mlh", "mlkg", "mlmin", "kcal", "cal", "tabs", "tab",
              "tablets", "tablet", "caps", "cap", "capsule", "capsules", "puffs", "puff",
              "drops", "drop", "gtt", "gtts", "doses", "sprays", "patches", "mins", "minutes",
              "secs", "seconds", "strength", "pain", "weeks", "wks", "days", "hrs", "hours",
              "beats", "breaths", "percent", "pct", "ng", "ngml", "pgml", "uiu", "miu", "meql",
              "mosm", "sec", "cmh2o", "lpm", "times", "x"},
          kUnit);
  AddFlag(t, {"the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "by", "for", "with",
              "from", "per", "is", "was", "are", "be", "been", "has", "had", "have", "it",
              "this", "that", "these", "those", "my", "his", "her", "their", "our", "your", "we",
              "he", "she", "they", "i", "you", "me", "him", "them", "us", "not", "no", "yes",
              "all", "any", "some", "more", "less", "then", "than", "so", "as", "if", "but",
              "days", "day", "weeks", "week", "hours", "hour", "hrs", "hr", "mins", "min",
              "minutes", "times", "time", "tabs", "tab", "pills", "pill", "doses", "dose",
              "units", "unit", "mg", "ml", "mcg", "years", "yrs", "year", "months", "month",
              "mos", "am", "pm", "q", "x", "patients", "pts", "pt", "beds", "rooms", "people",
              "nurses", "staff", "other", "others", "still", "just", "also",
              "will", "can", "may", "should", "would", "could", "did", "do", "does", "got",
              "get", "seen", "saw", "see", "went", "go", "going", "left", "right", "up", "down",
              "out", "over", "into", "about", "after", "before", "since", "until", "ago",
              "later", "each", "every", "via", "cases", "calls", "messages", "visits", "admits",
              "shifts", "shift", "nights", "night", "mornings", "morning", "level", "floor",
              "ward"},
          kStreetStop);
  AddFlag(t, {"yes", "no", "ok", "okay", "thanks", "thank", "hi", "hello", "hey", "sure",
              "sorry", "please", "well", "so", "and", "but", "or", "then", "also", "today",
              "tomorrow", "yesterday", "now", "in", "at", "to", "from", "near", "of", "lives",
              "live", "living", "moved", "home", "address", "is", "was", "the", "a", "an", "on",
              "for", "by", "with", "dr", "doctor", "nurse", "team", "all", "everyone", "great",
              "good", "done", "noted", "agree", "agreed", "right", "correct", "yep", "nope",
              "her", "his", "their", "my", "our", "resides", "stays", "staying", "city", "town",
              "street", "st", "ave", "rd", "apt", "unit", "suite"},
          kCityStop);
  AddFlag(t, {"young", "white", "green", "brown", "black", "gray", "grey", "hall", "king",
              "hill", "long", "price", "rose", "may", "will", "wood", "woods", "bell", "lane",
              "cook", "baker", "hunter", "fox", "west", "north", "south", "cole", "rice", "day",
              "love", "wise", "snow", "stone", "mills", "banks", "park", "hope", "faith",
              "grace", "page", "frank", "little", "rich", "sharp", "strong", "case", "fields",
              "ward", "hart", "short", "best", "free", "good", "bird", "early", "rush", "bush",
              "street", "church", "hay", "chase", "pierce", "burns", "walker", "bishop", "mason",
              "potter", "miller", "turner", "porter", "cooper", "knight", "marsh", "pope",
              "major", "carter", "walls", "waters", "lake", "ford", "dean", "joy", "sweet",
              "moss", "cross", "gill", "nash", "hardy", "holly", "ivy", "jack", "jay", "guy",
              "bass", "drake", "hale", "lamb", "link", "mark", "nurse", "person", "pool",
              "rivers", "summer", "summers", "wells", "winter", "wolf", "worth", "house",
              "mann", "small", "powers", "power", "daniels", "holmes", "grant", "terry", "neal",
              "craig", "parks", "steele", "lowe", "beck", "gray", "rose", "kelly", "jordan"},
          kCommonSurname);
  AddFlag(t, {"foster", "christian", "fisher", "noble", "bond", "booth", "sterling", "dawn", "sky"},
          kCommonSurname);
  // The words of chat a name typed with one slip could be mistaken for: "maria said" is no Maria
  // Saad, "let sarah know" no Sarah Knox.
  AddFlag(t, {"said", "says", "know", "knows", "knew", "called", "calls", "calling", "wants", "wanted",
              "needs", "needed", "asked", "asks", "asking", "came", "come", "comes", "went", "goes",
              "going", "would", "could", "should", "told", "tells", "think", "thinks", "thought",
              "feels", "felt", "feel", "left", "leave", "just", "also", "here", "there", "when",
              "then", "than", "that", "this", "these", "those", "with", "from", "about", "again",
              "still", "back", "home", "today", "tomorrow", "tonight", "yesterday", "seems", "looks",
              "looked", "gets", "got", "gave", "gives", "give", "took", "takes", "take", "made",
              "makes", "make", "tried", "tries", "sent", "send", "seen", "been", "being", "have",
              "having", "does", "doing", "done", "didn't", "doesn't", "isn't", "wasn't", "can't",
              "won't", "will", "well", "were", "what", "where", "which", "while", "who's", "whom",
              "your", "yours", "they", "them", "their", "very", "much", "more", "most", "some",
              "soon", "later", "late", "early", "only", "over", "into", "onto", "upon", "after",
              "before", "since", "until", "okay", "sure", "thanks", "thank", "please", "sorry",
              "help", "helps", "help", "work", "works", "working", "walk", "walked", "walking",
              "talk", "talked", "talking", "eats", "eating", "ate", "slept", "sleeping", "sleep",
              "woke", "awake", "waiting", "wait", "waits", "here's", "there's", "agrees", "agreed",
              "refuses", "refused", "declined", "denies", "denied", "reports", "reported", "states",
              "stated", "fell", "falls", "family", "daughter", "son", "husband", "wife", "room",
              "unit", "floor", "bed", "care", "meds", "pain", "stable", "better", "worse", "fine"},
          kPlainWord);
  // Words of three letters, which a capital at the start of a sentence could make a four-letter
  // name with a slip: "Can Bates come in" is no Cain Bates, "Has Gregory eaten" no Hans Gregory.
  AddFlag(t, {"the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "has",
              "her", "was", "one", "our", "out", "day", "get", "him", "his", "how", "man", "new",
              "now", "old", "see", "two", "way", "who", "why", "did", "its", "let", "put", "say",
              "she", "too", "use", "ask", "saw", "got", "per", "via", "due", "yes", "yet", "off",
              "own", "few", "far", "big", "bad", "end", "lot", "set", "try", "run", "ran", "sat",
              "sit", "met", "led", "cut", "hit", "hot", "add", "ago", "arm", "bed", "eye", "ear",
              "leg", "lab", "med", "box", "car", "job", "key", "pay", "top", "eat", "ate", "fed",
              "fit", "fix", "kid", "lay", "lie", "low", "mom", "dad", "nor", "odd", "pen", "sad",
              "son", "ten", "six", "toe", "wet", "etc", "pls", "thx", "plz", "btw", "fyi", "omg",
              "idk", "imo", "tmr", "tho", "bit", "hey", "hmm", "huh", "nah", "yep", "yup", "wow",
              "ice", "art", "act", "aid", "aim", "air", "bag", "bar", "bus", "buy", "cry", "cup",
              "dry", "dog", "fan", "fee", "gap", "gym", "hat", "hip", "ill", "jaw", "lip",
              "mad", "map", "mix", "mid", "nap", "net", "nod", "oil", "pad", "pan", "pet", "pie",
              "pin", "pop", "pot", "rib", "rid", "row", "rub", "sip", "ski", "sum", "sun", "tab",
              "tap", "tie", "tip", "tub", "van", "vet", "war", "wax", "web", "win", "won", "zip"},
          kPlainWord);
  AddFlag(t, {"mr", "mrs", "ms", "miss", "mx", "pt", "patient", "pts", "name", "named",
              "surname", "lastname", "dear", "re", "regarding", "mister", "client", "resident"},
          kNameContext);
  AddFlag(t, {"al", "ak", "az", "ar", "ca", "co", "ct", "de", "dc", "fl", "ga", "hi", "id", "il",
              "in", "ia", "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne",
              "nv", "nh", "nj", "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd",
              "tn", "tx", "ut", "vt", "va", "wa", "wv", "wi", "wy"},
          kState);
  AddFlag(t, {"al", "co", "de", "hi", "id", "in", "la", "ma", "me", "md", "mi", "mo", "ms",
              "nd", "ne", "oh", "ok", "or", "pa", "sc", "va", "wa", "ct", "ga", "ca", "mt"},
          kAmbiguousState);
  AddFlag(t, {"st", "street", "ave", "avenue", "av", "rd", "road", "blvd", "boulevard", "dr",
              "drive", "ln", "lane", "ct", "court", "way", "pl", "place", "ter", "terrace",
              "cir", "circle", "hwy", "highway", "pkwy", "parkway", "sq", "square", "trl",
              "trail", "pike", "loop", "row", "path", "crescent", "cres", "walk", "plaza",
              "alley", "xing", "crossing", "bend", "ridge", "commons", "turnpike"},
          kStreetSuffix);
  AddFlag(t, {"apt", "apartment", "unit", "ste", "suite", "fl", "floor", "rm", "room", "bldg",
              "building", "lot", "spc", "space"},
          kUnitDesignator);
  AddFlag(t, {"yo", "yr", "yrs", "year", "years", "yearold", "yearsold", "y", "yoa"}, kAgeUnit);
  AddFlag(t, {"age", "aged", "ages", "agd"}, kAgeWord);
  // "3/4 of the way", "1/2 hr ago", "scan 1/2 done", "ED 1/2 full", "3/3 patients", "3/7 ago",
  // "dx 1/2 yrs ago", "1/1 ratio":
  // a fraction, a share or a count, not a day of a month.
  AddFlag(t, {"of", "ago", "done", "full", "way", "complete", "completed", "finished", "left",
              "remaining", "empty", "staffed", "filled", "occupied", "available", "open",
              "patients", "pts", "beds", "rooms", "people", "nurses", "staff", "shifts", "cases",
              "admits", "visits", "charts", "tasks", "items", "questions", "votes", "hr", "hrs",
              "hour", "hours", "day", "days", "wk", "wks", "week", "weeks", "mo", "mos", "month",
              "months", "min", "mins", "dose", "doses", "strength", "cup", "cups", "tsp", "tbsp",
              "pills", "tabs", "units", "yr", "yrs", "years", "ratio"},
          kPortion);
  AddFlag(t, {"n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west"},
          kDirection);
  AddFlag(t, {"rd", "road", "hwy", "highway", "route", "rte", "pike"}, kRoadNumbered);
  AddFlag(t, {"family", "household", "wife", "husband", "spouse", "son", "daughter", "kids",
              "children", "mom", "dad", "mother", "father", "brother", "sister", "grandson",
              "granddaughter", "grandmother", "grandfather", "twins", "baby", "residence"},
          kKin);
  AddFlag(t, {"dr", "doctor", "nurse", "rn", "np", "pa", "md", "prof", "professor", "coach",
              "officer", "pastor", "chaplain", "rev", "father", "sister"},
          kStaffTitle);
  AddFlag(t, {"dot"}, kSpelledDot);
  AddFlag(t, {"mac", "ethernet", "wifi", "wlan", "nic", "bluetooth", "hwaddr", "hardware", "device",
              "devices", "monitor", "pump", "serial", "sn", "implant", "pacemaker", "tablet", "sensor"},
          kDeviceWord);
  AddFlag(t, {"email", "emails", "emailed", "mail", "e-mail"}, kMailWord);
  AddFlag(t, {"mbi", "medicare", "hicn", "beneficiary", "vin", "chassis"}, kSpacedIdWord);
  for (const std::string_view w : kDigitWordNames) t.Upsert(w).flags |= kDigitWord;
  AddFlag(t, {"born", "dob", "yob", "birth", "birthdate", "dateofbirth", "birthyear"}, kBirthWord);
  AddFlag(t, {"ninety", "ninetyone", "ninetytwo", "ninetythree", "ninetyfour", "ninetyfive", "ninetysix",
              "ninetyseven", "ninetyeight", "ninetynine", "hundred"},
          kOldAgeWord);
  // A ZIP after one needs no context ("Boston, Massachusetts 02115"). Of two-word names only the
  // last word, where it is no common word ("New York", "North Carolina"; not "Rhode Island").
  AddFlag(t, {"alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut",
              "delaware", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa",
              "kansas", "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan",
              "minnesota", "mississippi", "missouri", "montana", "nebraska", "nevada", "ohio",
              "oklahoma", "oregon", "pennsylvania", "tennessee", "texas", "utah", "vermont",
              "virginia", "washington", "wisconsin", "wyoming", "york", "jersey", "hampshire",
              "mexico", "carolina", "dakota"},
          kStateName);
  AddFlag(t, {"www"}, kWww);
  AddFlag(t, {"box", "pobox", "pob"}, kBox);
  AddFlag(t, {"po", "pob"}, kPo);
  AddFlag(t, {"of"}, kOf);
  AddFlag(t, {"from", "in", "near", "outside", "to", "around", "towards", "toward"},
          kPlacePreposition);
  for (std::string_view place : kPlaceNames) {
    t.Upsert(place.substr(0, place.find(' '))).flags |= kPlaceWord;
  }
  static constexpr std::array<std::array<std::string_view, 3>, 12> kMonths = {{
      {"jan", "january", ""}, {"feb", "february", ""}, {"mar", "march", ""},
      {"apr", "april", ""},   {"may", "", ""},         {"jun", "june", ""},
      {"jul", "july", ""},    {"aug", "august", ""},   {"sep", "sept", "september"},
      {"oct", "october", ""}, {"nov", "november", ""}, {"dec", "december", ""}}};
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    for (std::string_view w : kMonths[m]) {
      if (!w.empty()) t.Upsert(w).month = static_cast<std::uint8_t>(m + 1);
    }
  }
}

// ---- Tokens ----------------------------------------------------------------------------------

enum class TokenKind : std::uint8_t { kWord, kNumber, kMixed };

// 32 bytes: the passes walk the token list several times, so it should stay in L1 for a
// message and stream well for a pasted document.
struct Token {
  std::uint32_t begin;
  std::uint32_t end;
  std::uint64_t key;    // NameKey of the token
  std::uint64_t rules;  // context word of these rules
  std::uint32_t flags;  // WordFlag
  TokenKind kind;
  std::uint8_t month;
  // The bits below, in one byte written once: bit-fields set one by one cost a
  // read-modify-write of the same byte per field on the tokenizer's hot path.
  std::uint8_t shape;

  bool capitalized() const { return (shape & kCapitalized) != 0; }
  bool all_caps() const { return (shape & kAllCaps) != 0; }
  bool line_break_before() const { return (shape & kLineBreakBefore) != 0; }

  enum : std::uint8_t {
    kCapitalized = 1,
    kAllCaps = 2,
    kLineBreakBefore = 4,  // a '\n' between the previous token and this one
  };
};
static_assert(sizeof(Token) == 32);

struct TextFacts {
  bool digit = false;
  bool at_sign = false;
  bool url = false;
  bool parenthesis = false;
  bool gs1 = false;         // "(01)"
  bool plus = false;        // '+' before a digit: a number in international form may follow
  bool colon = false;
  bool month = false;       // a month name
  std::uint32_t words = 0;  // WordFlag of every word, or-ed: which recognizers can match at all
};

// The few tokens each recognizer starts from, listed while tokenizing so that the passes do not
// walk the lower-case prose between them. Indices into the token list, ascending.
struct TokenLists {
  std::vector<std::uint32_t> non_words;  // numbers and letter-digit words
  std::vector<std::uint32_t> names;      // words the patient index's filter lets through
  std::vector<std::uint32_t> places;     // state codes and first words of gazetteer places
  void Clear() {
    non_words.clear();
    names.clear();
    places.clear();
  }
};

struct LetterRun {
  const unsigned char* end;
  std::uint64_t key;
  unsigned seen;
};

// The run of letters and digits from `p`, extending `key` (NameKey::Extend, one character at a
// time) and or-ing the classes seen into `seen`. Most of the bytes of a text pass here: written
// as a loop of its own over pointers, it compiles to one jump per byte (written inline over
// indices it took two, with constants reloaded).
[[gnu::always_inline]] inline LetterRun ScanLetterRun(const unsigned char* p,
                                                      const unsigned char* last,
                                                      std::uint64_t key, unsigned seen) {
  for (; p < last; ++p) {
    const unsigned info = kCharInfo[*p];
    if (info <= 0xFF) break;
    key = (key ^ (info & 0xFF)) * 1099511628211ull;
    seen |= info;
  }
  return {p, key, seen};
}

// Whether the character at `p` (before `end`), after a dash or an apostrophe inside a word, is a
// letter that continues it: ASCII, Greek, Cyrillic and Armenian (UTF-8 lead bytes 0xCE..0xD6,
// U+0380..U+0588, but Armenian punctuation U+055A..U+055F) and Georgian (Mkhedruli and Asomtavruli
// U+10A0..U+10FF, Mtavruli U+1C90..U+1CBF, Nuskhuri U+2D00..U+2D2F, which the normalized text
// folds them to).
bool ContinuesWord(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = p[0];
  if (lead < 0x80) return (Cls(static_cast<char>(lead)) & (kClsLower | kClsUpper)) != 0;
  if (lead >= 0xCE && lead <= 0xD4) return true;
  if (end - p < 2) return false;
  const unsigned char b1 = p[1];
  if (lead == 0xD5) return b1 <= 0x99 || b1 >= 0xA0;
  if (lead == 0xD6) return b1 <= 0x88;
  if (end - p < 3) return false;
  const unsigned char b2 = p[2];
  if (lead == 0xE1) return (b1 == 0x82 && b2 >= 0xA0) || b1 == 0x83 || (b1 == 0xB2 && b2 >= 0x90);
  return lead == 0xE2 && b1 == 0xB4 && b2 <= 0xAF;
}

// Whether a Georgian Mkhedruli letter (U+10D0..U+10FA, U+10FD..U+10FF) starts at `pos`.
bool MkhedruliAt(std::string_view text, std::size_t pos) {
  if (pos + 3 > text.size() || static_cast<unsigned char>(text[pos]) != 0xE1 ||
      static_cast<unsigned char>(text[pos + 1]) != 0x83) {
    return false;
  }
  const auto b2 = static_cast<unsigned char>(text[pos + 2]);
  return b2 >= 0x90 && b2 != 0xBB && b2 != 0xBC;
}

// Where the extension starts in a word of four digits or more followed by "x" or "ext" and
// digits ("0105x12", "0149ext2"), or 0.
std::size_t ExtensionAt(std::string_view word) {
  std::size_t d = 0;
  while (d < word.size() && IsDigit(word[d])) ++d;
  if (d < 4) return 0;
  std::size_t k = d;
  if (k < word.size() && Lower(word[k]) == 'x') {
    ++k;
  } else if (k + 3 <= word.size() && Lower(word[k]) == 'e' && Lower(word[k + 1]) == 'x' &&
             Lower(word[k + 2]) == 't') {
    k += 3;
  } else {
    return 0;
  }
  if (k == word.size()) return 0;
  for (std::size_t j = k; j < word.size(); ++j) {
    if (!IsDigit(word[j])) return 0;
  }
  return d;
}

// Where the 'T' is in "05T14" (the day and hour of an ISO 8601 date and time,
// "2024-03-05T14:30", "2024-03-05T1430Z"): the day's length, or 0.
std::size_t DayBeforeTime(std::string_view word) {
  if (word.size() < 3 || !IsDigit(word[0])) return 0;
  const std::size_t d = IsDigit(word[1]) ? 2 : 1;
  if (Lower(word[d]) != 't') return 0;
  // The hour, or without its colons "T1425", "T142530", with UTC's "Z" or not.
  std::string_view time = word.substr(d + 1);
  if (!time.empty() && Lower(time.back()) == 'z') time.remove_suffix(1);
  if (time.empty() || time.size() == 3 || time.size() == 5 || time.size() > 6) return 0;
  for (char c : time) {
    if (!IsDigit(c)) return 0;
  }
  return d;
}

// Whether "YYYY-MM-" ends right before `at` (and no digit before it): the day of an ISO 8601
// date starts there. "ABC-12T4567" and "4512-3T4567" are identifiers, not dates.
bool IsoDateBefore(std::string_view text, std::size_t at) {
  if (at < 8 || text[at - 1] != '-' || text[at - 4] != '-') return false;
  for (const std::size_t k : {at - 8, at - 7, at - 6, at - 5, at - 3, at - 2}) {
    if (!IsDigit(text[k])) return false;
  }
  return at == 8 || !IsAlnum(text[at - 9]);
}

// Where an SSN masked but for its last four digits starts, the digits starting at `at`:
// "xxx-xx-", "XXX XX ", "***-**-", "###-##-" right before them (no letter, digit or mask before
// that), or npos.
std::size_t MaskedSsnStart(std::string_view text, std::size_t at) {
  const auto mask = [](char c) { return c == 'x' || c == 'X' || c == '*' || c == '#'; };
  std::size_t k = at;
  const auto separator = [&] {
    if (k > 0 && (text[k - 1] == '-' || text[k - 1] == ' ')) --k;
  };
  const auto masks = [&](int count) {
    for (int i = 0; i < count; ++i, --k) {
      if (k == 0 || !mask(text[k - 1])) return false;
    }
    return true;
  };
  separator();
  if (!masks(2)) return std::string_view::npos;
  separator();
  if (!masks(3)) return std::string_view::npos;
  if (k > 0 && (IsAlnum(text[k - 1]) || mask(text[k - 1]))) return std::string_view::npos;
  return k;
}

// Splits text into tokens: runs of letters and digits. Inside a word, ' and - between letters
// are kept ("O'Brien", "follow-up"), and so are . and / between single letters ("d.o.b",
// "s/n", "y/o"); a possessive "'s" is dropped. Keys skip the kept punctuation, like NameKey.
// A word is capitalized as it was typed (NormalizedText::CapitalAt), its folded text lower-case
// or not. The tokens live in `storage`, which is grown as needed and may be longer than they are.
std::span<const Token> Tokenize(const NormalizedText& normalized, const WordTable& words,
                                const PatientIndexSnapshot* index, std::vector<Token>& storage,
                                TokenLists& lists, TextFacts& facts) {
  lists.Clear();
  const std::string_view text = normalized.text();
  const bool names = index != nullptr && index->size() > 0;
  const std::size_t n = text.size();
  const auto* const bytes = reinterpret_cast<const unsigned char*>(text.data());
  // A token ends at a byte that is not part of it: at most one token in two bytes. The storage
  // only grows, and tokens are written by index: a push_back's capacity check and construction
  // cost as much as the rest of a short word's work.
  if (storage.size() < n / 2 + 1) storage.resize(n / 2 + 1);
  Token* const out = storage.data();
  std::uint32_t count = 0;
  // Kept in locals until the end: the tokens' byte-sized fields may alias `facts` as far as the
  // compiler knows, which would reload and store it for every token.
  bool digit = false;
  bool month = false;
  std::uint32_t word_flags = 0;
  std::size_t i = 0;
  bool line_break = false;
  while (i < n) {
    const char c0 = text[i];
    const std::uint8_t cls0 = Cls(c0);
    if (cls0 == 0) {
      const std::uint8_t sep = kSeparators[static_cast<unsigned char>(c0)];
      line_break |= (sep & kSepLineBreak) != 0;  // | not ||: no branch
      if (sep & kSepRare) [[unlikely]] {
        switch (sep) {
          case kSepAt: facts.at_sign = true; break;
          case kSepPlus:
            if (i + 1 < n && IsDigit(text[i + 1])) facts.plus = true;
            break;
          case kSepParenthesis:
            facts.parenthesis = true;
            if (text.substr(i + 1, 3) == "01)") facts.gs1 = true;
            break;
          case kSepColon:
            facts.colon = true;
            if (i + 2 < n && text[i + 1] == '/' && text[i + 2] == '/') facts.url = true;
            break;
          default:  // '/': "example.com/..." without a scheme: a letter before, a dot shortly before that.
            if (i > 0 && IsAlpha(text[i - 1]) &&
                text.substr(i > 12 ? i - 12 : 0, i > 12 ? 12 : i).find('.') != std::string_view::npos) {
              facts.url = true;
            }
            break;
        }
      }
      ++i;
      continue;
    }
    const std::size_t begin = i;
    std::uint64_t key = NameKey::kSeed;
    // The classes seen, or-ed: which kind of token this is needs no count of each.
    unsigned seen = 0;
    std::size_t segment_begin = i;  // after the last kept punctuation
    std::size_t end = 0;
    for (;;) {
      const LetterRun run = ScanLetterRun(bytes + i, bytes + n, key, seen);
      i = static_cast<std::size_t>(run.end - bytes);
      key = run.key;
      seen = run.seen;
      if (i >= n) break;
      const char c = text[i];
      if (c != '\'' && c != '-' && c != '.' && c != '/') break;  // most words end at a space
      // Only letters so far (i > begin: at least one): punctuation before a letter may continue
      // the word ("Смирнова-Петрова", "Мар'яна" as one word, as "Garcia-Lopez"). Outside ASCII
      // only Greek, Cyrillic, Armenian and Georgian letters do; an emoji or a CJK character after
      // a dash ("Garcia-😀") starts no part of the name.
      if ((seen & kInfoDigit) == 0 && i + 1 < n && ContinuesWord(bytes + i + 1, bytes + n)) {
        if (c == '\'' && (text[i + 1] == 's' || text[i + 1] == 'S') &&
            (i + 2 >= n || !IsAlnum(text[i + 2]))) {
          end = i;  // possessive: the token ends here and "'s" is skipped
          i += 2;
          break;
        }
        const bool keep = c == '\'' || c == '-' ||
                          ((c == '.' || c == '/') && i - segment_begin == 1 &&
                           (i + 2 >= n || !IsAlpha(text[i + 2])));
        if (!keep) break;
        ++i;
        segment_begin = i;
      } else {
        break;
      }
    }
    if (end == 0) end = i;
    if ((seen & kInfoDigit) != 0 && (seen & kInfoLetter) != 0 && IsDigit(text[begin])) [[unlikely]] {
      // "617-555-0105x12", "555.0149ext2": an extension typed onto a number ends the number.
      const std::string_view word = text.substr(begin, end - begin);
      std::size_t split = ExtensionAt(word);
      std::size_t resume = split;
      if (split == 0 && IsoDateBefore(text, begin)) {
        split = DayBeforeTime(word);
        resume = split + 1;  // the 'T' of "2024-03-05T14" is skipped
      }
      if (split != 0) {
        end = begin + split;
        i = begin + resume;
        key = NameKey::Of(text.substr(begin, split));
        seen = kInfoDigit;
      }
    }
    const bool has_digit = (seen & kInfoDigit) != 0;
    const bool has_letter = (seen & kInfoLetter) != 0;
    digit |= has_digit;
    const TokenKind kind =
        !has_digit ? TokenKind::kWord : !has_letter ? TokenKind::kNumber : TokenKind::kMixed;
    static constexpr WordInfo kNoInfo{};
    const WordInfo* found = kind != TokenKind::kNumber ? words.Find(key) : nullptr;
    const WordInfo& info = found != nullptr ? *found : kNoInfo;
    word_flags |= info.flags;
    month |= info.month != 0;
    const bool capitalized = cls0 == kClsUpper || (cls0 == kClsHigh && normalized.CapitalAt(begin));
    const auto shape = static_cast<std::uint8_t>(
        (capitalized ? Token::kCapitalized : 0) |
        (has_letter && (seen & kInfoLower) == 0 ? Token::kAllCaps : 0) |
        (line_break ? Token::kLineBreakBefore : 0));
    line_break = false;
    // Every field known before the token is written, so it is stored once, from registers.
    const std::uint32_t position = count++;
    out[position] = {static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end), key,
                     info.rules, info.flags, kind, info.month, shape};
    if (kind != TokenKind::kWord) {
      lists.non_words.push_back(position);
      if (kind == TokenKind::kNumber && position >= 1) {
        // "ICD-10", "ICD 9": the code system's label, not an implanted defibrillator
        // ("ICD sn ...").
        static const std::uint64_t kIcd = NameKey::Of("icd");
        Token& before = out[position - 1];
        const std::string_view number = text.substr(begin, end - begin);
        if (before.key == kIcd && (number == "10" || number == "9") && begin - before.end <= 1) {
          before.rules = 0;
          before.flags |= kLabel;
        }
      }
    } else {
      if (names && index->MaybeName(key)) lists.names.push_back(position);
      if (info.flags & (kState | kPlaceWord)) lists.places.push_back(position);
    }
  }
  facts.digit = digit;
  facts.month = month;
  facts.words = word_flags;
  if (word_flags & kWww) facts.url = true;
  return {out, count};
}

// ---- Candidate bookkeeping -------------------------------------------------------------------

struct RawMatch {
  unsigned rule;
  std::uint32_t from;
  std::uint32_t to;
};

// A finding while the scan runs: the rule id views a rule of the scanner or a literal, so
// recording, sorting and merging copy no strings; only the merged findings become Findings.
struct Hit {
  PhiType type;
  std::size_t begin;
  std::size_t end;
  double confidence;
  std::string_view rule_id;
};

struct Candidate {
  std::size_t begin;
  std::size_t end;
  double confidence;
  std::size_t rule;     // index into the rule set, or npos for built-ins
  bool context;
  int distance;         // of the nearest context word; 9 without one
};

}  // namespace

// ---- Tables and state ------------------------------------------------------------------------

struct Scanner::Tables {
  WordTable words;
  KeySet places;  // NameKey of every gazetteer place name, multi-word ones whole
  std::vector<std::size_t> digit_rules;
  // Digit rules by digit count (0..kMaxDigits), bit r for rule r, so a run is tried only
  // against rules that fit.
  static constexpr int kMaxDigits = 19;
  std::array<std::uint64_t, kMaxDigits + 1> digit_rules_by_length{};
  // Bit r: rule r can reach the threshold without its context word (alone, by an index hit,
  // or, for ZIPs, after a state code).
  std::uint64_t stand_alone = 0;
  std::vector<std::size_t> token_rules;
  bool has_patterns = false;
  std::array<bool, 7> pattern_triggers{};  // by Trigger
  std::size_t date_rule = SIZE_MAX;        // context for dates written with month names
  std::uint64_t date_mask = 0;
  std::uint64_t address_mask = 0;          // context for street addresses
  std::uint64_t ip_mask = 0;
  std::uint64_t device_mask = 0;
  std::uint64_t ssn_mask = 0;
  // Bit r: pattern rule r extends its matches over a character class (Rule::extend_over),
  // whose members are extend_classes[r], one bit per byte value.
  std::uint64_t extending = 0;
  std::array<std::array<std::uint64_t, 4>, 64> extend_classes{};
};

struct Scanner::State {
  hs_scratch_t* scratch = nullptr;
  NormalizedText normalized;
  std::vector<Token> tokens;
  TokenLists lists;
  std::vector<Hit> hits;
  std::vector<Hit> merged;
  std::vector<Candidate> candidates;
  std::string digits;
  std::vector<RawMatch> raw;
  std::vector<std::optional<Hit>> pattern_hits;
  // The patient index snapshot of the last scan with this state, kept while the index's
  // version is unchanged (a pooled state may so keep an old snapshot alive until its next scan).
  std::shared_ptr<const PatientIndexSnapshot> snapshot;
  std::uint64_t snapshot_version = UINT64_MAX;

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
  delete spare_.exchange(nullptr);
  pool_.clear();
  if (prototype_ != nullptr) hs_free_scratch(prototype_);
  if (database_ != nullptr) hs_free_database(database_);
}

namespace {

// The bytes that rule.extend_over matches, one bit per byte value: the class compiled alone and
// tried on each byte. Errors: kInvalidArgument naming the rule when it does not compile.
Result<std::array<std::uint64_t, 4>> ExtensionMembers(const Rule& rule) {
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  const unsigned flags = HS_FLAG_SINGLEMATCH | (rule.caseless ? HS_FLAG_CASELESS : 0u);
  if (hs_compile(("^(?:" + rule.extend_over + ")$").c_str(), flags, HS_MODE_BLOCK, nullptr,
                 &database, &error) != HS_SUCCESS) {
    std::string message = "PHI rule " + rule.id + " extends over a class that does not compile: " +
                          error->message;
    hs_free_compile_error(error);
    return InvalidArgument("invalid_rules", message);
  }
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(database, &scratch) != HS_SUCCESS) {
    hs_free_database(database);
    return Internal("hs_alloc_scratch failed");
  }
  std::array<std::uint64_t, 4> members{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    bool matched = false;
    hs_scan(database, &c, 1, 0, scratch,
            [](unsigned, unsigned long long, unsigned long long, unsigned, void* context) {
              *static_cast<bool*>(context) = true;
              return 0;
            },
            &matched);
    if (matched) members[byte >> 6] |= 1ull << (byte & 63);
  }
  hs_free_scratch(scratch);
  hs_free_database(database);
  return members;
}

}  // namespace

Result<std::unique_ptr<Scanner>> Scanner::Create(RuleSet rules,
                                                 std::shared_ptr<const PatientIndex> index,
                                                 ScannerOptions options) {
  std::unique_ptr<Scanner> scanner(new Scanner(std::move(rules), std::move(index), options));
  const auto& list = scanner->rules_.rules;
  if (list.empty()) return InvalidArgument("invalid_rules", "The PHI rule set is empty.");
  if (list.size() > 64) {
    return InvalidArgument("invalid_rules", "The PHI rule set has more than 64 rules.");
  }
  auto tables = std::make_unique<Tables>();
  AddWordLists(tables->words);
  std::vector<const char*> patterns;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Rule& rule = list[i];
    for (const std::string& word : rule.context) tables->words.Upsert(word).rules |= 1ull << i;
    switch (rule.kind) {
      case RuleKind::kDigits:
        tables->digit_rules.push_back(i);
        for (int count = std::max(rule.min_length, 0);
             count <= std::min(rule.max_length, Tables::kMaxDigits); ++count) {
          tables->digit_rules_by_length[static_cast<std::size_t>(count)] |= 1ull << i;
        }
        break;
      case RuleKind::kToken: tables->token_rules.push_back(i); break;
      case RuleKind::kPattern:
        patterns.push_back(rule.pattern.c_str());
        flags.push_back(HS_FLAG_SOM_LEFTMOST | (rule.caseless ? HS_FLAG_CASELESS : 0u));
        ids.push_back(static_cast<unsigned>(i));
        tables->pattern_triggers[static_cast<std::size_t>(rule.trigger)] = true;
        break;
    }
    if (std::max(rule.base, rule.formatted) >= options.min_confidence || rule.index_confidence > 0 ||
        rule.validator == Validator::kZip) {
      tables->stand_alone |= 1ull << i;
    }
    if (rule.validator == Validator::kDate && tables->date_rule == SIZE_MAX) tables->date_rule = i;
    if (rule.type == PhiType::kIp) tables->ip_mask |= 1ull << i;
    if (rule.type == PhiType::kDevice) tables->device_mask |= 1ull << i;
    if (rule.type == PhiType::kSsn) tables->ssn_mask |= 1ull << i;
  }
  if (tables->date_rule != SIZE_MAX) tables->date_mask = 1ull << tables->date_rule;
  // Street addresses share the context words below (not a rule of their own).
  constexpr std::size_t kAddressBit = 63;
  if (list.size() < kAddressBit) {
    for (std::string_view w : {"lives", "live", "living", "address", "addr", "home", "resides",
                               "residence", "moved", "at", "apt", "house", "dispatched"}) {
      tables->words.Upsert(w).rules |= 1ull << kAddressBit;
    }
    tables->address_mask = 1ull << kAddressBit;
  }
  for (std::string_view place : kPlaceNames) tables->places.Insert(NameKey::Of(place));
  tables->words.AddTypoVariants();
  tables->words.Build();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Rule& rule = list[i];
    if (rule.kind != RuleKind::kPattern || rule.extend_over.empty()) continue;
    auto members = ExtensionMembers(rule);
    if (!members) return Fail(members.error());
    tables->extending |= 1ull << i;
    tables->extend_classes[i] = *members;
  }
  scanner->tables_ = std::move(tables);
  if (patterns.empty()) return scanner;

  hs_compile_error_t* error = nullptr;
  // Byte mode, not HS_FLAG_UTF8: the patterns are ASCII over normalized text, and byte mode is
  // defined for any input, invalid UTF-8 included.
  if (hs_compile_multi(patterns.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr,
                       &scanner->database_, &error) != HS_SUCCESS) {
    const bool known = error->expression >= 0 &&
                       static_cast<std::size_t>(error->expression) < ids.size();
    std::string message =
        "PHI rule " +
        (known ? list[ids[static_cast<std::size_t>(error->expression)]].id : std::string("set")) +
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
  if (State* spare = spare_.exchange(nullptr, std::memory_order_acquire)) {
    return std::unique_ptr<State>(spare);
  }
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      auto state = std::move(pool_.back());
      pool_.pop_back();
      return state;
    }
  }
  auto state = std::make_unique<State>();
  if (prototype_ != nullptr && hs_clone_scratch(prototype_, &state->scratch) != HS_SUCCESS) {
    state->scratch = nullptr;
  }
  return state;
}

void Scanner::Release(std::unique_ptr<State> state) const {
  State* expected = nullptr;
  if (spare_.compare_exchange_strong(expected, state.get(), std::memory_order_release,
                                     std::memory_order_relaxed)) {
    state.release();
    return;
  }
  std::lock_guard lock(pool_mu_);
  pool_.push_back(std::move(state));
}

namespace {

// ---- Shared helpers --------------------------------------------------------------------------

struct Window {
  std::uint64_t rules = 0;  // context rules of the nearby tokens
  // [k - 1]: rules of the token k before (k = 1..5); [5], [6]: of the tokens after, which
  // count as farther than any before ("SSN 123-45-6789, DL ..." is an SSN).
  std::array<std::uint64_t, 7> by_distance{};
  bool guarded = false;     // a measurement label before or a unit after
  bool labelled = false;    // a label right before ("code 99223", "build 2.1.0.5")

  // How far the nearest context word of rule r is (1 = adjacent); 9 when there is none.
  int Distance(std::size_t r) const {
    for (std::size_t d = 0; d < by_distance.size(); ++d) {
      if ((by_distance[d] >> r) & 1u) return static_cast<int>(d) + 1;
    }
    return 9;
  }
};

// Context of tokens [first, last]: five tokens before, two after.
// Context does not cross a line break: pasted records put one field per line.
Window Around(std::string_view text, std::span<const Token> tokens, std::size_t first,
              std::size_t last) {
  Window w;
  // A label labels the first number after it: in "bed 4 617-555-0142" it is spent on the 4.
  bool number_between = false;
  for (std::size_t k = 1; k <= 5 && k <= first; ++k) {
    const Token& t = tokens[first - k];
    if (tokens[first - k + 1].line_break_before()) break;
    w.rules |= t.rules;
    w.by_distance[k - 1] |= t.rules;
    if (k <= 2 && !number_between && (t.flags & kLabel)) w.guarded = true;
    if (k == 1 && (t.flags & kLabel) && !(t.flags & kState)) w.labelled = true;  // "CA" may be a state
    number_between = number_between || t.kind == TokenKind::kNumber;
  }
  for (std::size_t k = 1; k <= 2 && last + k < tokens.size(); ++k) {
    const Token& t = tokens[last + k];
    if (t.line_break_before()) break;
    w.rules |= t.rules;
    w.by_distance[4 + k] |= t.rules;
    if (k == 1 && (t.flags & kUnit) && t.kind == TokenKind::kWord) w.guarded = true;
  }
  std::size_t i = tokens[last].end;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && text[i] == '%') w.guarded = true;
  return w;
}

Window Unguarded(Window w) {
  w.guarded = false;
  return w;
}

// "code", "codes": a label of billing and order codes ("billing code 99223") that measures nothing,
// so it says nothing of an age beside it ("Full code 92F", "she is 95 code status DNR").
bool IsCodeWord(const Token& t) {
  static const std::uint64_t kCode = NameKey::Of("code");
  static const std::uint64_t kCodes = NameKey::Of("codes");
  return t.key == kCode || t.key == kCodes;
}

// The gap between two tokens (b after a, both in text).
std::string_view Gap(std::string_view text, const Token& a, const Token& b) {
  return std::string_view(text.data() + a.end, b.begin - a.end);
}

// s == literal, compared in place: gaps and codes are a few bytes, and the library comparison
// is a call and a memcmp for each.
template <std::size_t N>
bool Is(std::string_view s, const char (&literal)[N]) {
  if (s.size() != N - 1) return false;
  for (std::size_t k = 0; k + 1 < N; ++k) {
    if (s[k] != literal[k]) return false;
  }
  return true;
}

bool OnlySpaces(std::string_view gap, std::size_t max) {
  return !gap.empty() && gap.size() <= max &&
         std::all_of(gap.begin(), gap.end(), [](char c) { return c == ' ' || c == '\t'; });
}

int NumberValue(std::string_view text, const Token& t) {
  int value = 0;
  for (std::size_t i = t.begin; i < t.end && i - t.begin < 6; ++i) value = value * 10 + (text[i] - '0');
  return value;
}

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// How much of a run of URL characters, from a URL's start, is the URL. After the host a URL goes
// on only with a port, a path, a query, a fragment, or the '@' after user information: anything
// else ("www.example.com,617-555-0142") belongs to the sentence. The end loses what closes the
// sentence or markup around it, as GFM leaves it out of an autolink
// (https://github.github.com/gfm/#autolinks-extension-): trailing punctuation, and here also
// ';', quotes, a backquote (no part of a URL, RFC 3986), an ellipsis and closing guillemets.
// Most of these may stand inside a path, so the run a rule extends over takes them in.
std::size_t UrlLength(std::string_view run) {
  static constexpr std::array<std::string_view, 3> kMultiByte = {
      "\xE2\x80\xA6",  // U+2026 horizontal ellipsis
      "\xC2\xBB",      // U+00BB right-pointing double angle quotation mark
      "\xE2\x80\xBA",  // U+203A single right-pointing angle quotation mark
  };
  std::size_t scheme = 0;
  while (scheme < run.size() && IsAlpha(run[scheme])) ++scheme;
  scheme = run.substr(scheme).starts_with("://") ? scheme + 3 : 0;
  // Letters, digits and UTF-8 (an internationalized name), dots, '-' and '_'.
  std::size_t host = scheme;
  while (host < run.size() &&
         (Cls(run[host]) != 0 || run[host] == '.' || run[host] == '-' || run[host] == '_')) {
    ++host;
  }
  if (host == scheme) return 0;
  if (host < run.size() && std::string_view(":/?#@").find(run[host]) == std::string_view::npos) {
    run = run.substr(0, host);
  }
  while (!run.empty()) {
    if (std::string_view(".,;:!?'\"*_~`").find(run.back()) != std::string_view::npos) {
      run.remove_suffix(1);
      continue;
    }
    const auto mark = std::find_if(kMultiByte.begin(), kMultiByte.end(),
                                   [&](std::string_view m) { return run.ends_with(m); });
    if (mark == kMultiByte.end()) break;
    run.remove_suffix(mark->size());
  }
  return run.size();
}

bool IsPersonalUrl(std::string_view url) {
  // XML namespaces ("http://www.w3.org/2000/svg"), in every SVG and XHTML file, name no one.
  const std::size_t host_begin = url.find("://") == std::string_view::npos ? 0 : url.find("://") + 3;
  const std::string host = LowerCopy(url.substr(host_begin, url.find_first_of("/:?#", host_begin) - host_begin));
  if (host == "www.w3.org" || host == "w3.org") return false;
  if (url.find('~') != std::string_view::npos || url.find('?') != std::string_view::npos) {
    return true;
  }
  int run = 0;
  for (char c : url) {
    run = IsDigit(c) ? run + 1 : 0;
    if (run >= 3) return true;
  }
  static constexpr std::array<std::string_view, 32> kPersonal = {
      "u", "user", "users", "profile", "profiles", "patient", "patients", "member",
      "members", "people", "person", "p", "id", "chart", "mrn", "album",
      "albums", "photos", "pics", "gallery", "fundraiser", "f", "campaign", "me",
      "family", "memorial", "obituary", "obituaries", "in", "friends", "account", "journey"};
  const std::size_t scheme = url.find("://");
  std::size_t pos = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  while (pos != std::string_view::npos) {
    const std::size_t next = url.find('/', pos + 1);
    const std::string segment = LowerCopy(url.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1));
    if (std::find(kPersonal.begin(), kPersonal.end(), segment) != kPersonal.end() ||
        segment.find('@') != std::string::npos) {
      return true;
    }
    pos = next;
  }
  return false;
}

}  // namespace

// ---- Scanning --------------------------------------------------------------------------------

namespace {

class Pass {
 public:
  Pass(const NormalizedText& normalized, const RuleSet& rules, const Scanner::Tables& tables,
       const PatientIndexSnapshot* index, const ScannerOptions& options,
       std::span<const Token> tokens, const TokenLists& lists, std::vector<Hit>& findings,
       std::vector<Candidate>& candidates, std::string& digits,
       std::vector<std::optional<Hit>>& pattern_hits)
      : normalized_(normalized), text_(normalized.text()), rules_(rules.rules), tables_(tables),
        index_(index), options_(options), tokens_(tokens), lists_(lists), findings_(findings), hits_(pattern_hits),
        candidates_(candidates), digits_(digits) {}

  void DigitRuns();
  void TokenRules();
  void Names();
  void Streets();
  void Cities();
  void Places();
  void RepeatedNames();
  // Whole dates on the line of a patient's name or record number: "Maria Garcia 03/04/1961".
  void TiedDates();
  // "DOB 04MAR1961": day, month and year in one word, after a word that dates it.
  void CompactDates();
  // Is the token a day, a month's three letters and a year in one word ("04MAR1961")?
  bool CompactDate(const Token& tok) const;
  void Ages();
  // A street named without its number where someone lives ("lives on Maple Ave", "moved to
  // Elm Street"): a place smaller than a state.
  void NamedStreets();
  // An age over 89 in words ("ninety-four years old", "aged one hundred and one").
  void SpelledAges();
  // A year of birth that says its person is over 89 ("born in 1931", "DOB: 1928"): Safe Harbor
  // takes every element of such a date, the year too.
  void BirthYears();
  // The last four digits of an SSN, masked but for them ("xxx-xx-4321") or said ("last 4 of her
  // SSN 4321", "my social ends in 4321"): HHS counts a part of an identifier as the identifier.
  void PartialSsns();
  // Whether word token `w` is `word` (lower case, at most 15 letters) typed with one slip.
  bool SlipOf(const Token& w, std::string_view word) const;
  void WordDates();
  void ColonRuns();
  // MAC addresses grouped by dashes or by dots in threes ("00-1A-2B-3C-4D-5E", "001A.2B3C.4D5E")
  // in a message that names a device; with colons they are ColonRuns'.
  void GroupedMacs();
  // A Medicare Beneficiary Identifier or a VIN typed in groups with spaces, as read off a card or
  // a windscreen ("MBI 1EG4 TE5 MK73", "VIN 1HGCM 82633 A004352"), after a word that names it.
  void SpacedIds();
  // The town after an address line ending at token `end_token`, with `confidence`; only a
  // gazetteer place when `places_only`.
  void CityAfter(std::size_t end_token, double confidence, bool places_only);
  // Whether the words before token t say who writes: "my name is", "name's", "I am", "I'm" (one
  // space before t). Not "this is", with which staff answer the phone ("this is Ana Lima from
  // pharmacy").
  bool SaysWhoItIs(std::size_t t) const;
  // A phone number or an SSN spelled out digit by digit, as a patient types one past a filter
  // ("six one seven five five five zero one four three"), digits mixed in or not.
  void SpelledNumbers();
  // E-mail addresses spelled out so that no program reads them: "maria at example dot com",
  // "maria[at]example.com", "maria . garcia @ example . com".
  void SpelledEmails(bool spaced_at);  // spaced_at: the text holds an '@' with a space beside it
  // Hyperscan's matches, in the order reported (by end), each offered to its rule's validator.
  void PatternMatches(const std::vector<RawMatch>& raw);

 private:
  void Emit(PhiType type, std::size_t begin, std::size_t end, double confidence,
            std::string_view rule_id) {
    if (confidence < options_.min_confidence || begin >= end) return;
    findings_.push_back({type, begin, end, confidence, rule_id});
  }
  double Score(const Rule& rule, std::size_t rule_index, const Window& w, bool formatted,
               double floor) const {
    const bool context = (w.rules >> rule_index) & 1u;
    if (rule.numeric_guard && w.guarded && floor == 0 && !context) return 0;
    double confidence = context
                            ? rule.with_context
                            : (formatted && rule.formatted > 0 ? rule.formatted : rule.base);
    return std::max(confidence, floor);
  }
  std::size_t TokenAt(std::size_t pos) const {  // first token ending after pos
    auto it = std::upper_bound(tokens_.begin(), tokens_.end(), pos,
                               [](std::size_t p, const Token& t) { return p < t.end; });
    return static_cast<std::size_t>(it - tokens_.begin());
  }
  void EvaluateRun(std::size_t first, std::size_t last);
  // Is the month/day reading of tokens a/b ("2/2", "3/4") a share, a count or "secondary to"?
  bool ShareNotDay(std::size_t a, std::size_t b) const;
  // Is number token t an age said in words ("she is 93", "turns 100")?
  bool SaidAge(std::size_t t) const;
  // "she is", "pt is" right before token t, a space apart.
  bool PersonIsBefore(std::size_t t) const;
  // Is "101F" at token t a temperature ("temp 101F", "spiked to 102F") rather than an age?
  bool Temperature(std::size_t t) const;
  // A patient's name with one typing slip in its first or last name, beside the other typed
  // exactly, from name token t: "Maria Garica", "Mraia Garcia", "Garcia, Mraia", "Garica,
  // Maria", and in names of several words, "Maary Ann Cohen", "DE LA CRUZ, JOH". Emits it and
  // returns one past its last token, or 0.
  std::size_t NearName(std::size_t t);
  // Between two name tokens: 1 for spaces only, 2 for one comma with spaces, 0 otherwise (a line
  // break included).
  int NameGap(std::size_t a, std::size_t b) const;
  // Is word token k a middle initial ("L", "L.") with a word after it on its line? A lower-case
  // letter without its dot counts only when `bare_lower_case`.
  bool MiddleInitial(std::size_t k, bool bare_lower_case) const;
  // The end of a name whose last token is `last`, with the initial that follows it on its line
  // ("GARCIA, MARIA L", "pt Garcia, M."; after a comma only when `comma`): an upper-case letter,
  // or any letter with its dot, but not the word "I".
  std::size_t InitialAfter(std::size_t last, bool comma) const;
  // The `count` word tokens from k, joined and folded to lower-case letters, when they could be a
  // name typed with a slip: only letters (and ' or -), not themselves a name of the index; one
  // word not a word the scanner knows, several words no plain word and none of one letter ("Maary
  // Ann"). Empty otherwise; of three letters only when they and the name beside them
  // (`beside_capital`) are capitalized. The view is into `buffer`.
  std::string_view Slipped(std::size_t k, std::size_t count, std::array<char, NearNames::kMaxLength + 1>& buffer,
                           bool beside_capital) const;
  // The finding for one match of a pattern rule, if it is one.
  std::optional<Hit> PatternHit(unsigned rule_index, std::size_t from, std::size_t to) const;
  // The best identifier of letters and digits starting at token t, emitted; returns its last
  // token, or t when there is none.
  std::size_t TokenGroup(std::size_t t);
  // One past the last token of the longest gazetteer place name starting at token t (words
  // joined by single spaces: "oak grove"), or 0.
  std::size_t PlaceEnd(std::size_t t) const;
  // The first token of a place name that ends at token `last`, or SIZE_MAX.
  std::size_t PlaceEndingAt(std::size_t last) const;
  bool Overlaps(std::size_t begin, std::size_t end) const {
    for (const Hit& f : findings_) {
      if (begin < f.end && f.begin < end) return true;
    }
    return false;
  }

  const NormalizedText& normalized_;
  std::string_view text_;  // normalized_.text()
  const std::vector<Rule>& rules_;
  const Scanner::Tables& tables_;
  const PatientIndexSnapshot* index_;
  const ScannerOptions& options_;
  std::span<const Token> tokens_;
  const TokenLists& lists_;
  std::vector<Hit>& findings_;
  std::vector<std::optional<Hit>>& hits_;  // PatternMatches' scratch
  std::vector<Candidate>& candidates_;
  std::string& digits_;
  // Whole dates found with too little context to report on their own (EvaluateRun), for
  // TiedDates.
  struct WeakDate {
    std::size_t begin;
    std::size_t end;
    std::size_t rule;
  };
  std::array<WeakDate, 8> weak_dates_;
  std::size_t weak_date_count_ = 0;
  // Keys of the name tokens matched against the index, for their repetitions elsewhere.
  std::array<std::uint64_t, 16> name_keys_;  // the first name_key_count_ are set
  std::size_t name_key_count_ = 0;
  bool names_capitalized_ = false;  // some matched name was written with a capital
  void RememberNameTokens(std::size_t first, std::size_t end) {
    for (std::size_t k = first; k < end && name_key_count_ < name_keys_.size(); ++k) {
      if (tokens_[k].kind == TokenKind::kWord && tokens_[k].end - tokens_[k].begin >= 2) {
        name_keys_[name_key_count_++] = tokens_[k].key;
        names_capitalized_ = names_capitalized_ || tokens_[k].capitalized();
      }
    }
  }
};

// Characters that may join the groups of one number: "617-555-0142", "(617) 555 0142", "3/14".
bool IsNumberGap(std::string_view gap) {
  if (gap.empty() || gap.size() > 3) return false;
  return std::all_of(gap.begin(), gap.end(), [](char c) {
    return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')';
  });
}

bool Tight(std::string_view gap) {
  return std::none_of(gap.begin(), gap.end(), [](char c) { return c == ' '; });
}

// Are number tokens x and y (y right after x) parts of one number? A gap without a space joins
// them, but for a slash between long groups, which lists two numbers
// ("617-555-0114/617-555-0115"); a date's groups are short on one side of each slash.
bool Joined(std::string_view gap, const Token& x, const Token& y) {
  if (!Tight(gap)) return false;
  return !(gap.size() == 1 && gap[0] == '/' && x.end - x.begin >= 4 && y.end - y.begin >= 3);
}

void Pass::DigitRuns() {
  const std::size_t n = tokens_.size();
  std::size_t next = 0;  // the first token not yet part of a run
  for (const std::size_t t : lists_.non_words) {
    if (t < next || tokens_[t].kind != TokenKind::kNumber) continue;
    std::size_t last = t;
    while (last + 1 < n && tokens_[last + 1].kind == TokenKind::kNumber &&
           IsNumberGap(Gap(text_, tokens_[last], tokens_[last + 1]))) {
      ++last;
    }
    // A lone short number ("88", "25", "120") is no identifier: every digit rule needs five
    // digits or more than one group.
    if (last == t && tokens_[t].end - tokens_[t].begin < 5) continue;
    // Very long runs are evaluated in overlapping windows of 24 groups.
    for (std::size_t start = t; start <= last; start += 20) {
      EvaluateRun(start, std::min(last, start + 23));
      if (start + 23 >= last) break;
    }
    next = last + 1;
  }
}

void Pass::EvaluateRun(std::size_t first, std::size_t last) {
  candidates_.clear();
  // The window of any part of the run lies within five tokens before it and two after it: a
  // rule that needs its context word and has none there is never tried (most numbers in chat
  // have no context word for most rules, and each try is a window and a validator).
  // A whole date may be tied to a patient by a name on its line (TiedDates): with a word of
  // the index's in the text, dates are read without their context word too.
  const std::uint64_t tied = lists_.names.empty() || tables_.date_rule == SIZE_MAX
                                 ? 0
                                 : 1ull << tables_.date_rule;
  std::uint64_t reachable = tables_.stand_alone | tied;
  for (std::size_t k = first >= 5 ? first - 5 : 0; k <= last + 2 && k < tokens_.size(); ++k) {
    reachable |= tokens_[k].rules;
  }
  const std::size_t groups = last - first + 1;
  for (std::size_t a = first; a <= last; ++a) {
    // A part of a tightly joined number ("555" in "617-555-0142") is not a number of its own.
    if (a > first && Joined(Gap(text_, tokens_[a - 1], tokens_[a]), tokens_[a - 1], tokens_[a])) continue;
    digits_.clear();
    std::array<int, 24> sizes;  // [k]: digits of group a + k; read only up to b - a
    for (std::size_t b = a; b <= last; ++b) {
      const Token& tb = tokens_[b];
      digits_.append(text_.substr(tb.begin, tb.end - tb.begin));
      sizes[b - a] = static_cast<int>(tb.end - tb.begin);
      const int count = static_cast<int>(digits_.size());
      if (count > Scanner::Tables::kMaxDigits) break;
      if (b < last && Joined(Gap(text_, tb, tokens_[b + 1]), tb, tokens_[b + 1])) continue;
      const std::size_t parts = b - a + 1;
      std::size_t begin = tokens_[a].begin;
      if (begin > 0 && (text_[begin - 1] == '(' || text_[begin - 1] == '+')) --begin;
      const std::size_t end = tb.end;
      const std::string_view span = text_.substr(begin, end - begin);
      auto same_separators = [&](std::string_view allowed) {
        char sep = 0;
        for (std::size_t k = a; k < b; ++k) {
          const std::string_view gap = Gap(text_, tokens_[k], tokens_[k + 1]);
          if (gap.size() != 1 || allowed.find(gap[0]) == std::string_view::npos) return false;
          if (sep != 0 && gap[0] != sep) return false;
          sep = gap[0];
        }
        return true;
      };
      auto shape = [&](std::initializer_list<int> want) {
        if (want.size() != parts) return false;
        std::size_t k = 0;
        for (int w : want) {
          if (sizes[k++] != w) return false;
        }
        return true;
      };
      Window window;
      bool window_ready = false;
      for (std::uint64_t untried =
               tables_.digit_rules_by_length[static_cast<std::size_t>(count)] & reachable;
           untried != 0; untried &= untried - 1) {
        const auto r = static_cast<std::size_t>(std::countr_zero(untried));
        const Rule& rule = rules_[r];
        // Rules that cannot reach the threshold without their context word (and without an
        // index hit or a state code before a ZIP) are not validated when the word is absent.
        if (!(((tables_.stand_alone | tied) >> r) & 1u)) {
          if (!window_ready) {
            window = Around(text_, tokens_, a, b);
            window_ready = true;
          }
          if (!((window.rules >> r) & 1u)) continue;
        }
        bool formatted = false;
        // Grouped as only a phone number or an SSN is ("617-555-0142", "987-65-4321"): no room,
        // bed or order number is written so, so a label before it does not make it one.
        bool distinctive = false;
        double floor = 0;
        double base_override = -1;
        bool loose_date = false;  // a date shape that needs its context word within two words before
        bool ok = true;
        switch (rule.validator) {
          case Validator::kPhone:
            ok = IsValidNanpPhone(digits_);
            distinctive = shape({3, 3, 4}) || shape({1, 3, 3, 4});
            formatted = distinctive || shape({10}) || shape({11});
            break;
          case Validator::kPhoneLocal:
            ok = digits_[0] >= '2' && shape({3, 4});
            formatted = ok;
            break;
          case Validator::kSsn:
            ok = IsValidSsn(digits_);
            formatted = distinctive = shape({3, 2, 4});
            break;
          case Validator::kCard:
            // "+44 (0)20 7946 0345" passes Luhn one time in ten; no card is written after a '+'.
            ok = IsValidCardNumber(digits_) && !(tokens_[a].begin > 0 && text_[tokens_[a].begin - 1] == '+');
            formatted = true;
            break;
          case Validator::kNpi:
            ok = IsValidNpi(digits_);
            formatted = shape({10});
            break;
          case Validator::kImei:
            ok = IsValidImei(digits_) && !IsValidCardNumber(digits_);
            formatted = shape({15}) || shape({2, 6, 6, 1});
            break;
          case Validator::kHasDigit:
            // Identifiers typed in pieces, but not dates or fractions ("7/14/2024").
            for (std::size_t k = a; ok && k < b; ++k) {
              ok = Gap(text_, tokens_[k], tokens_[k + 1]).find_first_not_of(" -.") ==
                   std::string_view::npos;
            }
            break;
          case Validator::kMrn:
            for (std::size_t k = a; ok && k < b; ++k) {
              ok = Gap(text_, tokens_[k], tokens_[k + 1]).find_first_not_of(" -.") ==
                   std::string_view::npos;
            }
            if (!ok) break;
            if (index_ != nullptr && rule.index_confidence > 0 && index_->HasMrn(digits_)) {
              const bool printed = parts == 1 || (parts == 2 && sizes[0] == sizes[1]);
              floor = printed ? rule.index_confidence : std::min(rule.index_confidence, 0.75);
            }
            break;
          case Validator::kZip: {
            const bool printed = shape({5}) || (shape({5, 4}) && same_separators("-"));
            // "021 15", "0 2 1 1 5", "0 2 1 1 5-1 2 3 4" after a state code or "zip": five
            // digits, or nine with the dash after the fifth.
            bool pieces = (count == 5 || count == 9) && parts > 1 && !printed;
            int seen = 0;
            for (std::size_t k = a; pieces && k < b; ++k) {
              const std::string_view gap = Gap(text_, tokens_[k], tokens_[k + 1]);
              seen += sizes[k - a];
              pieces = gap.find_first_not_of(" -.") == std::string_view::npos &&
                       (count == 5 || (gap.find('-') != std::string_view::npos) == (seen == 5));
            }
            // "MA 021151234", "zip 02115 1234": ZIP+4 typed without its dash, after a state or
            // "zip" only.
            const bool without_dash = shape({9}) || (shape({5, 4}) && same_separators(" "));
            ok = printed || pieces || without_dash;
            formatted = parts == 2 && printed;
            // After a state code ("MA 02115", "Springfield, MA 02115") no context is needed.
            if (!printed) base_override = 0;  // pieces count only after a state code
            if (ok && a > 0 && tokens_[a - 1].kind == TokenKind::kWord &&
                (tokens_[a - 1].flags & (kState | kStateName))) {
              const std::string_view gap = Gap(text_, tokens_[a - 1], tokens_[a]);
              if (Is(gap, " ") || Is(gap, ", ") || Is(gap, ",")) {
                const Token& st = tokens_[a - 1];
                const bool comma_before =
                    a >= 2 && Gap(text_, tokens_[a - 2], st).find(',') != std::string_view::npos;
                // A lower-case "or", "in", "me" is a state only after a town or a street line.
                const bool after_place = a >= 2 && PlaceEndingAt(a - 2) != SIZE_MAX;
                bool after_street = false;
                for (std::size_t k = a - 1; k-- > 0 && k + 10 >= a && !after_street;) {
                  after_street = tokens_[k].flags & kStreetSuffix;
                  if (tokens_[k + 1].line_break_before()) break;
                }
                const bool weak = !st.all_caps() && (st.flags & kAmbiguousState) && !comma_before &&
                                  !after_place && !after_street;
                // Nine digits without the dash only after an address's state ("Boston MA
                // 021151234"): "MD 123456789" and "PA 987654321 called" are no ZIPs.
                const bool in_address = comma_before || after_place || after_street || (st.flags & kStateName);
                base_override = weak || (without_dash && !in_address) ? 0.4 : printed ? 0.85 : 0.7;
              }
            }
            break;
          }
          case Validator::kDate: {
            // Written as a form or a hurried hand writes them, a date counts only right after a
            // word that dates it: "dob 03 04 1961", "DOB 3 / 4 / 1961", "dob 030461",
            // "DOB 19610304", a month and year "DOB 3/61", "dx 03/2024".
            if (parts == 3) {
              const bool shaped = (sizes[0] <= 2 && sizes[1] <= 2 && (sizes[2] == 2 || sizes[2] == 4)) ||
                                  (sizes[0] == 4 && sizes[1] <= 2 && sizes[2] <= 2);
              ok = shaped && same_separators("/-.");
              if (shaped && !ok) {
                const std::string_view g = Gap(text_, tokens_[a], tokens_[a + 1]);
                ok = (Is(g, " ") || Is(g, " / ") || Is(g, " - ") || Is(g, " . ")) &&
                     g == Gap(text_, tokens_[a + 1], tokens_[a + 2]);
                loose_date = true;
              }
              if (ok) {
                const int v0 = NumberValue(text_, tokens_[a]);
                const int v1 = NumberValue(text_, tokens_[a + 1]);
                const int v2 = NumberValue(text_, tokens_[a + 2]);
                if (sizes[0] == 4) {
                  ok = IsValidDate(v0, v1, v2);
                } else {
                  const int year = sizes[2] == 4 ? v2 : -1;
                  ok = IsValidDate(year, v0, v1) || IsValidDate(year, v1, v0);
                }
              }
            } else if (parts == 2) {
              const int v0 = NumberValue(text_, tokens_[a]);
              const int v1 = NumberValue(text_, tokens_[a + 1]);
              ok = same_separators("/") && sizes[0] <= 2;
              if (ok && sizes[1] <= 2 && IsValidDate(-1, v0, v1)) {
                ok = !ShareNotDay(a, b);
              } else if (ok && v0 >= 1 && v0 <= 12 &&
                         ((sizes[1] == 4 && v1 >= 1900 && v1 <= 2099) || (sizes[1] == 2 && v1 > 31))) {
                loose_date = true;  // a month and a year: "3/61" can be no day of March
              } else {
                ok = false;
              }
              base_override = 0.1;  // "3/14" is a date only with a context word
            } else if (parts == 1 && (count == 6 || count == 8)) {
              auto at = [&](std::size_t from, std::size_t length) {
                int v = 0;
                for (std::size_t k = from; k < from + length; ++k) v = v * 10 + (digits_[k] - '0');
                return v;
              };
              ok = count == 8 ? IsValidDate(at(0, 4), at(4, 2), at(6, 2)) ||  // 19610304
                                    IsValidDate(at(4, 4), at(0, 2), at(2, 2)) ||  // 03041961
                                    IsValidDate(at(4, 4), at(2, 2), at(0, 2))     // 04031961
                              : IsValidDate(-1, at(0, 2), at(2, 2)) ||              // 030461
                                    IsValidDate(-1, at(2, 2), at(0, 2));
              loose_date = true;
              base_override = 0.1;
            } else {
              ok = false;
            }
            break;
          }
          case Validator::kIpv4:
            ok = parts == 4 && same_separators(".") && IsValidIpv4(span);
            break;
          default:
            break;
        }
        if (!ok) continue;
        if (!window_ready) {
          window = Around(text_, tokens_, a, b);
          window_ready = true;
        }
        // A month and day are too short to outweigh a label or a unit, even beside a word that
        // dates things: "pain 8/10 since surgery", "apgars 8/9", "born 8/10 lbs".
        if (rule.validator == Validator::kDate && parts == 2 && window.guarded) continue;
        if (loose_date && window.Distance(r) > 2) continue;
        const bool guarded = window.guarded && !distinctive;
        // A label right before the number says what it is, whatever word comes before the
        // label: "app build 2.1.0.5 from IT" is a version, not an address logged in from.
        // "zip code 02115" is the exception: there the label is the context word's second half.
        if (guarded && window.labelled && rule.numeric_guard && window.Distance(r) > 1 && floor == 0 &&
            rule.validator != Validator::kZip) {
          continue;
        }
        double confidence = guarded || !window.guarded ? Score(rule, r, window, formatted, floor)
                                                       : Score(rule, r, Unguarded(window), formatted, floor);
        const bool context = (window.rules >> r) & 1u;
        if (base_override >= 0 && !context) {
          // A state code before a ZIP outweighs the label guard ("CA" is also calcium).
          confidence = std::max(base_override, floor);
          if (rule.numeric_guard && guarded && floor == 0 &&
              rule.validator != Validator::kZip) {
            confidence = 0;
          }
        }
        if (confidence < options_.min_confidence) {
          // A whole date with nothing around it to date a person may still be on a patient's
          // line: kept until the names are known ("Garcia, Maria 3/4/1961").
          if (rule.validator == Validator::kDate && parts == 3 && !guarded && !loose_date &&
              weak_date_count_ < weak_dates_.size()) {
            weak_dates_[weak_date_count_++] = {begin, end, r};
          }
          continue;
        }
        // An identifier typed digit by digit keeps its letter prefix: "AC5 9 5 1 9 3 2 3",
        // "F4 8 1 1 9 5 1" (the first group is a letter-digit word, not a number).
        std::size_t candidate_begin = begin;
        if (rule.validator == Validator::kHasDigit && parts > 1 && a > 0) {
          const Token& prefix = tokens_[a - 1];
          if (prefix.kind == TokenKind::kMixed && prefix.end - prefix.begin <= 4 &&
              IsAlpha(text_[prefix.begin]) && IsDigit(text_[prefix.end - 1]) &&
              Is(Gap(text_, prefix, tokens_[a]), " ")) {
            candidate_begin = prefix.begin;
          }
        }
        // "617-555-0158/0159": a second line's last four digits go with the number.
        std::size_t candidate_end = end;
        if (rule.validator == Validator::kPhone && b < last &&
            Is(Gap(text_, tb, tokens_[b + 1]), "/") && tokens_[b + 1].end - tokens_[b + 1].begin == 4 &&
            (b + 1 == last || !Joined(Gap(text_, tokens_[b + 1], tokens_[b + 2]), tokens_[b + 1], tokens_[b + 2]))) {
          candidate_end = tokens_[b + 1].end;
        }
        // "serial 4512-3378-A", "acct 88123-B2": an identifier's trailing group of capitals.
        if (rule.validator == Validator::kHasDigit && b + 1 < tokens_.size()) {
          const Token& suffix = tokens_[b + 1];
          if (suffix.kind != TokenKind::kNumber && suffix.end - suffix.begin <= 3 && suffix.all_caps() &&
              Is(Gap(text_, tb, suffix), "-")) {
            candidate_end = suffix.end;
          }
        }
        candidates_.push_back(
            {candidate_begin, candidate_end, confidence, r, context, window.Distance(r)});
      }
    }
  }
  (void)groups;
  // Keep the best non-overlapping readings: confidence first, then the nearer context word
  // ("acct 4829103355" is an account even though it is also a valid phone number), then length.
  // A context word right before the number ("driver license 265376701") outranks a stronger
  // rule's word farther away ("social sec no ...; driver license ...").
  std::sort(candidates_.begin(), candidates_.end(), [](const Candidate& x, const Candidate& y) {
    const bool x_adjacent = x.context && x.distance <= 2;
    const bool y_adjacent = y.context && y.distance <= 2;
    if (x_adjacent != y_adjacent) return x_adjacent;
    if (x_adjacent && x.distance != y.distance) return x.distance < y.distance;
    if (x.confidence != y.confidence) return x.confidence > y.confidence;
    if (x.distance != y.distance) return x.distance < y.distance;
    if (x.end - x.begin != y.end - y.begin) return x.end - x.begin > y.end - y.begin;
    return x.rule < y.rule;
  });
  const std::size_t kept_from = findings_.size();
  for (const Candidate& c : candidates_) {
    bool overlaps = false;
    for (std::size_t k = kept_from; k < findings_.size(); ++k) {
      if (c.begin < findings_[k].end && findings_[k].begin < c.end) overlaps = true;
    }
    if (!overlaps) Emit(rules_[c.rule].type, c.begin, c.end, c.confidence, rules_[c.rule].id);
  }
}

bool Pass::ShareNotDay(std::size_t a, std::size_t b) const {
  if (b + 1 >= tokens_.size()) return false;
  const Token& next = tokens_[b + 1];
  if (next.line_break_before() || next.kind != TokenKind::kWord ||
      !Is(Gap(text_, tokens_[b], next), " ")) {
    return false;
  }
  if (next.flags & (kPortion | kUnit)) return true;
  // "admitted 2/2 sepsis", "CT 2/2 concern for PE": clinical shorthand for "secondary to". A
  // day of February goes on with a time or a preposition ("2/2 at 0900", "2/2 for CP").
  static const std::array<std::uint64_t, 14> kGoesOnAfterADay = {
      NameKey::Of("at"),   NameKey::Of("on"),   NameKey::Of("in"),   NameKey::Of("for"),
      NameKey::Of("and"),  NameKey::Of("to"),   NameKey::Of("from"), NameKey::Of("with"),
      NameKey::Of("by"),   NameKey::Of("am"),   NameKey::Of("pm"),   NameKey::Of("or"),
      NameKey::Of("after"), NameKey::Of("before")};
  return Is(text_.substr(tokens_[a].begin, tokens_[b].end - tokens_[a].begin), "2/2") &&
         std::find(kGoesOnAfterADay.begin(), kGoesOnAfterADay.end(), next.key) == kGoesOnAfterADay.end();
}

void Pass::TokenRules() {
  // A group starts at a letter-digit word, at a word right before a number or one, or at a
  // number joined to one by a dash.
  std::size_t next = 0;
  auto visit = [&](std::size_t t) {
    if (t >= next) next = TokenGroup(t) + 1;
  };
  for (const std::size_t k : lists_.non_words) {
    if (k > 0 && tokens_[k - 1].kind == TokenKind::kWord) visit(k - 1);
    if (tokens_[k].kind != TokenKind::kMixed) continue;
    // "8812-04T5512": digits before a letter-digit word start its group.
    if (k > 0 && tokens_[k - 1].kind == TokenKind::kNumber && Is(Gap(text_, tokens_[k - 1], tokens_[k]), "-")) {
      visit(k - 1);
    }
    visit(k);
  }
}

std::size_t Pass::TokenGroup(std::size_t t) {
  const std::size_t n = tokens_.size();
  {
    const Token& first = tokens_[t];
    if (first.kind == TokenKind::kWord) {
      // A word starts a group only when joined to a number: "ABC-1234", "ABC 123", "AB-9...".
      if (t + 1 >= n || tokens_[t + 1].kind == TokenKind::kWord) return t;
      const std::string_view g = Gap(text_, first, tokens_[t + 1]);
      if (!Is(g, "-") && !Is(g, " ")) return t;
    }
    // Groups of up to three tokens joined by '-' (or two by one space: "ABC 123").
    std::size_t best_end_token = 0;
    double best_confidence = 0;
    std::size_t best_rule = 0;
    std::size_t best_begin = 0;
    std::size_t best_end = 0;
    int best_distance = 10;
    bool letters = false;
    bool digits = false;
    bool gap_is_space = false;
    int length = 0;
    for (std::size_t last = t; last < n && last < t + 3; ++last) {
      const Token& tl = tokens_[last];
      if (last > t) {
        gap_is_space = gap_is_space || Is(Gap(text_, tokens_[last - 1], tl), " ");
        const std::string_view gap = Gap(text_, tokens_[last - 1], tl);
        // "ABC 123" (a plate) is the only grouping by space.
        const bool space_pair = last == t + 1 && Is(gap, " ") && first.kind == TokenKind::kWord &&
                                tl.kind == TokenKind::kNumber && first.end - first.begin <= 3 &&
                                tl.end - tl.begin >= 3;
        if (!Is(gap, "-") && !space_pair) break;
      }
      letters = letters || tl.kind != TokenKind::kNumber;
      digits = digits || tl.kind != TokenKind::kWord;
      length += static_cast<int>(tl.end - tl.begin);
      if (!letters || !digits) continue;
      const std::size_t begin = first.begin;
      const std::size_t end = tl.end;
      const std::string_view span = text_.substr(begin, end - begin);
      // A record number of the index with letters in it ("E2045511", "ab-1234567") is one
      // wherever it stands; the tokens' keys are made as the index's are.
      const bool indexed_mrn =
          index_ != nullptr && !gap_is_space &&
          index_->HasMrnKey(NameKey::Extend(NameKey::kSeed, span), static_cast<std::size_t>(length));
      // "DOB 04MAR1961 MRN ..." is a date (CompactDates), not a record number beside its label.
      if (last == t && !indexed_mrn && CompactDate(first)) break;
      // "hospital main line x4021": a phone's extension, unless an identifier's label is at most
      // a word before it ("MRN x4021", "MRN is x40213").
      bool extension = last == t && !indexed_mrn && span.size() >= 3 && span.size() <= 6 && Lower(span[0]) == 'x';
      for (std::size_t j = 1; extension && j < span.size(); ++j) extension = IsDigit(span[j]);
      Window window;
      bool window_ready = false;
      for (std::size_t r : tables_.token_rules) {
        const Rule& rule = rules_[r];
        if (length < rule.min_length || length > rule.max_length) continue;
        const double floor = indexed_mrn && rule.index_confidence > 0 ? rule.index_confidence : 0;
        if (gap_is_space && rule.type != PhiType::kVehicle) continue;
        // After a word that means something else ("age 102", "bed 123", "ext 4455") a spaced
        // pair is a plate only right after a plate word ("plate REF 049").
        const bool meaningful_word = gap_is_space && (first.flags != 0 || first.rules != 0);
        if (meaningful_word || extension) {
          if (!window_ready) {
            window = Around(text_, tokens_, t, last);
            window_ready = true;
          }
          if (window.Distance(r) > 2) continue;
        }
        if (std::max({rule.base, rule.formatted, floor}) < options_.min_confidence) {
          if (!window_ready) {
            window = Around(text_, tokens_, t, last);
            window_ready = true;
          }
          if (!((window.rules >> r) & 1u)) continue;
        }
        bool ok = true;
        std::size_t b = begin;
        switch (rule.validator) {
          case Validator::kVin: ok = last == t && IsValidVin(span); break;
          case Validator::kDea: ok = last == t && IsValidDea(span); break;
          case Validator::kMbi: ok = IsValidMbi(span); break;
          case Validator::kMrnPrefixed: {
            // "MRN48213377", "MR48213377": the letters are a label, the digits the MRN.
            ok = last == t && span.size() > 2 && Lower(span[0]) == 'm' && Lower(span[1]) == 'r';
            b = begin + (span.size() > 3 && Lower(span[2]) == 'n' ? 3 : 2);
            for (std::size_t k = b; ok && k < end; ++k) ok = IsDigit(text_[k]);
            ok = ok && end - b >= 5;
            break;
          }
          case Validator::kHasDigit: {
            // Identifiers carry several digits: "scene1", "room2b", "covid19" are words.
            int count = 0;
            for (char c : span) count += IsDigit(c) ? 1 : 0;
            ok = count >= 3;
            break;
          }
          default:
            break;
        }
        if (!ok) continue;
        if (!window_ready) {
          window = Around(text_, tokens_, t, last);
          window_ready = true;
        }
        const double confidence = Score(rule, r, window, false, floor);
        const int distance = window.Distance(r);
        // When two rules both have their context word, the nearer word says what the group is:
        // "device serial NS03309179, ... pt Stanley" is a serial, however sure an MRN would be.
        const bool both_in_context = distance < 9 && best_distance < 9;
        // The same reading over one more group is the whole identifier: "ABC-12345-XY".
        const bool longer = r == best_rule && confidence == best_confidence && distance == best_distance &&
                            (tl.kind != TokenKind::kWord || (tl.all_caps() && tl.end - tl.begin <= 3));
        const bool better = longer ||
                            (both_in_context
                                 ? distance < best_distance || (distance == best_distance && confidence > best_confidence)
                                 : confidence > best_confidence ||
                                       (confidence == best_confidence && distance < best_distance));
        if (confidence >= options_.min_confidence && better) {
          best_distance = distance;
          best_confidence = confidence;
          best_rule = r;
          best_begin = b;
          best_end = end;
          best_end_token = last;
        }
      }
    }
    if (best_confidence >= options_.min_confidence) {
      Emit(rules_[best_rule].type, best_begin, best_end, best_confidence, rules_[best_rule].id);
      return best_end_token;
    }
  }
  return t;
}

namespace {

// Whether `word` names whom to call for a patient before the full name at `name`: "next of kin:
// Susan Brown", "guardian Ana Lima", "Emergency contact: James Wilson" ("contact" only as a field,
// with its colon: "pls contact John Smith in IT" is a colleague).
bool IsContactWord(std::string_view text, const Token& word, const Token& name) {
  static const std::uint64_t kContact = NameKey::Of("contact");
  static const std::array<std::uint64_t, 7> kWhom = {NameKey::Of("kin"),       NameKey::Of("nok"),
                                                     NameKey::Of("guardian"),  NameKey::Of("caregiver"),
                                                     NameKey::Of("proxy"),     NameKey::Of("poa"),
                                                     NameKey::Of("visitor")};
  if (word.key == kContact) return Gap(text, word, name).starts_with(':');
  return std::find(kWhom.begin(), kWhom.end(), word.key) != kWhom.end();
}

}  // namespace

void Pass::Names() {
  if (index_ == nullptr || index_->size() == 0) return;
  const std::size_t n = tokens_.size();
  auto word = [&](std::size_t k) { return k < n && tokens_[k].kind == TokenKind::kWord; };
  auto gap = [&](std::size_t a, std::size_t b) { return NameGap(a, b); };
  auto extend = [&](std::uint64_t key, std::size_t k) {
    return NameKey::Extend(key, text_.substr(tokens_[k].begin, tokens_[k].end - tokens_[k].begin));
  };
  // "Maria Garcia-Lopez" for a patient filed as Maria Garcia (or Maria Lopez): a surname joined
  // to another, by marriage most often. Whether a part of hyphenated word k pairs with `first`;
  // both parts capitalized, since in lower case "hope long-term" is no Hope Long. Georgian is
  // written without case (Mkhedruli; its capitals fold to it), so its parts count as capitalized.
  auto capitalized = [&](std::size_t pos) {
    return normalized_.CapitalAt(pos) || MkhedruliAt(text_, pos);
  };
  auto part_pairs = [&](std::uint64_t first, std::size_t k) {
    const std::string_view w = text_.substr(tokens_[k].begin, tokens_[k].end - tokens_[k].begin);
    const std::size_t dash = w.find('-');
    if (dash == std::string_view::npos || dash + 1 >= w.size() || !capitalized(tokens_[k].begin) ||
        !capitalized(tokens_[k].begin + dash + 1)) {
      return false;
    }
    return index_->IsNamePair(first, NameKey::Of(w.substr(0, dash))) ||
           index_->IsNamePair(first, NameKey::Of(w.substr(dash + 1)));
  };
  std::array<char, NearNames::kMaxLength + 1> slip_buffer;
  std::array<std::uint64_t, 8> near_keys;
  // A title, a word for family, or a field for whom to call names the person whose full name
  // follows token k ("pt John Smith", "son (John Miller)", "next of kin: Susan Brown"), typed
  // right after it.
  auto names_person = [&](std::size_t k) {
    return !tokens_[k + 1].line_break_before() && Gap(text_, tokens_[k], tokens_[k + 1]).size() <= 3 &&
           ((tokens_[k].flags & (kNameContext | kKin)) || IsContactWord(text_, tokens_[k], tokens_[k + 1]));
  };
  // Capitalized word k one slip from a first (or last) name of the index that it is not itself.
  auto slipped = [&](std::size_t k, bool first) {
    const Token& w = tokens_[k];
    if (!w.capitalized() || (w.flags & kPlainWord) ||
        (first ? index_->IsFirstName(w.key) : index_->IsLastName(w.key))) {
      return false;
    }
    const std::string_view typed = Slipped(k, 1, slip_buffer, true);
    return !typed.empty() &&
           (first ? index_->NearFirstNames(typed, near_keys) : index_->NearLastNames(typed, near_keys)) > 0;
  };
  // Most words are not names: the tokenizer listed the few that pass the index's filter ("Mary
  // Ann" needs "mary").
  std::size_t next = 0;
  for (const std::size_t t : lists_.names) {
    if (t < next) continue;
    const Token& tok = tokens_[t];
    // First [Initial] Last, with one- or two-token first names and up to three-token last names.
    std::uint64_t first_key = tok.key;
    std::size_t matched_end = 0;
    for (std::size_t fl = 1; fl <= 2 && matched_end == 0; ++fl) {
      if (fl == 2) {
        if (!word(t + 1) || gap(t, t + 1) != 1) break;
        first_key = extend(first_key, t + 1);
      }
      if (!index_->IsFirstName(first_key)) continue;
      std::size_t j = t + fl;
      if (!word(j)) continue;
      if (MiddleInitial(j, true)) {
        std::uint64_t last_key = NameKey::kSeed;
        for (std::size_t ll = 0; ll < 3 && word(j + 1 + ll); ++ll) {
          if (ll > 0 && gap(j + ll, j + 1 + ll) != 1) break;
          last_key = ll == 0 ? tokens_[j + 1].key : extend(last_key, j + 1 + ll);
          if (index_->IsNamePair(first_key, last_key) || (ll == 0 && part_pairs(first_key, j + 1))) {
            matched_end = j + 2 + ll;
          }
        }
        if (matched_end > 0) break;
      }
      // "maria.garcia", "maria_garcia": a handle made of one patient's name.
      const std::string_view joint = Gap(text_, tokens_[j - 1], tokens_[j]);
      const bool joined = fl == 1 && (joint == "." || joint == "_");
      if (gap(j - 1, j) != 1 && !joined) continue;
      std::uint64_t last_key = NameKey::kSeed;
      for (std::size_t ll = 0; ll < 3 && word(j + ll); ++ll) {
        if (ll > 0 && (joined || gap(j + ll - 1, j + ll) != 1)) break;
        last_key = ll == 0 ? tokens_[j].key : extend(last_key, j + ll);
        if (index_->IsNamePair(first_key, last_key) || (ll == 0 && !joined && part_pairs(first_key, j))) {
          matched_end = j + ll + 1;
        }
      }
    }
    if (matched_end > 0) {
      Emit(PhiType::kName, tok.begin, tokens_[matched_end - 1].end, 0.95, "name.pair");
      RememberNameTokens(t, matched_end);
      next = matched_end;
      continue;
    }
    // Last, First (or LAST FIRST in capitals, as EHR headers print it), with last names of up
    // to three words ("Del Rio, Ana").
    {
      std::uint64_t last_key = NameKey::kSeed;
      std::size_t end_token = 0;
      for (std::size_t ll = 0; ll < 3 && end_token == 0 && word(t + ll); ++ll) {
        if (ll > 0 && gap(t + ll - 1, t + ll) != 1) break;
        last_key = ll == 0 ? tok.key : extend(last_key, t + ll);
        const std::size_t f = t + ll + 1;  // first-name token
        if (!word(f) || !index_->IsLastName(last_key)) continue;
        // "Garcia, Maria"; without the comma ("GARCIA MARIA", "Garcia Maria" in a record) only
        // as one patient's exact pair (checked below) and capitalized: "every day Ahmed Alolko"
        // is not Ahmed Day.
        const int g = gap(f - 1, f);
        if (g == 0 || (g == 1 && !tokens_[t].capitalized())) continue;
        // The longer given name first: "NOWAK, MARY ANN" is Mary Ann Nowak even when a Mary
        // Nowak is in the index too.
        if (word(f + 1) && gap(f, f + 1) == 1 &&
            index_->IsNamePair(extend(tokens_[f].key, f + 1), last_key)) {
          end_token = f + 2;
        } else if (index_->IsNamePair(tokens_[f].key, last_key)) {
          end_token = f + 1;
        }
      }
      if (end_token > 0) {
        Emit(PhiType::kName, tok.begin, InitialAfter(end_token - 1, false), 0.95, "name.last_first");
        RememberNameTokens(t, end_token);
        next = end_token;
        continue;
      }
    }
    if (const std::size_t end = NearName(t); end != 0) {
      next = end;
      continue;
    }
    // A last name of up to three words ("Van der Berg") with a word that makes it a person's:
    // after "pt" or "Mrs." ("pt Garcia", "Mrs. garcia"), or before "family" or "'s wife"
    // ("Garcia family", "O'Brien's wife called"). A surname that is also a common word counts
    // only capitalized and after a context word ("pt young" is no name), and a surname after
    // "Dr" or "nurse" is staff's.
    if (!tok.capitalized() && (tok.flags & kCommonSurname)) continue;
    // The first name typed with a slip before a last name typed whole ("son (Harrriet Sims)").
    if (t >= 2 && tok.capitalized() && word(t - 1) && gap(t - 1, t) == 1 && names_person(t - 2) &&
        index_->IsLastName(tok.key) && slipped(t - 1, true)) {
      Emit(PhiType::kName, tokens_[t - 1].begin, InitialAfter(t, true), 0.8, "name.context");
      RememberNameTokens(t - 1, t + 1);
      next = t + 1;
      continue;
    }
    const bool context_word = t > 0 && (tokens_[t - 1].flags & kNameContext);
    // After a word for family or a contact's field a surname alone is no one's: a full name is;
    // so after "my name is", "I am" and "I'm", as a patient says who writes.
    const bool kin_word = t > 0 && !context_word && (names_person(t - 1) || SaysWhoItIs(t));
    if (!context_word && !kin_word) {  // then a word for family within the next three
      bool kin = false;
      for (std::size_t k = t + 1; k < n && k <= t + 3; ++k) kin |= (tokens_[k].flags & kKin) != 0;
      if (!kin) continue;
    }
    const bool near_before = t > 0 && !tok.line_break_before() && Gap(text_, tokens_[t - 1], tok).size() <= 3;
    std::uint64_t last_key = NameKey::kSeed;
    std::size_t last_end = 0;
    for (std::size_t ll = 0; ll < 3 && word(t + ll); ++ll) {
      if (ll > 0 && gap(t + ll - 1, t + ll) != 1) break;
      last_key = ll == 0 ? tok.key : extend(last_key, t + ll);
      if (index_->IsLastName(last_key)) last_end = t + ll + 1;
    }
    // After either word, a first name and a last name the index knows, though no patient has
    // both ("pt John Smith", "the patient, Maria Lopez,", "wife, Linda Brown"): a person named in
    // full, a relative or a patient the index does not hold yet. In lower case only where neither
    // is a word the scanner knows ("pt will young" is no one).
    if ((context_word || kin_word) && near_before && word(t + 1) && gap(t, t + 1) == 1 &&
        index_->IsFirstName(tok.key)) {
      const Token& next_tok = tokens_[t + 1];
      const auto plain = [](const Token& k) { return k.flags == 0 && k.rules == 0; };
      // In lower case, a surname that is also a word counts after a first name that is none
      // ("son andrea craig"; "pt will young" is no one).
      const bool lower_surname =
          plain(tok) && next_tok.rules == 0 && (next_tok.flags & ~(kCommonSurname | kPlaceWord)) == 0;
      std::size_t full_end = 0;
      if ((tok.capitalized() || plain(tok)) && (next_tok.capitalized() || lower_surname)) {
        std::uint64_t key = NameKey::kSeed;
        for (std::size_t ll = 0; ll < 3 && word(t + 1 + ll); ++ll) {
          if (ll > 0 && gap(t + ll, t + 1 + ll) != 1) break;
          key = ll == 0 ? next_tok.key : extend(key, t + 1 + ll);
          if (index_->IsLastName(key)) full_end = t + 2 + ll;
        }
        // The last name typed with a slip, both capitalized ("Next of kin: Gabriel Wals").
        if (full_end == 0 && tok.capitalized() && slipped(t + 1, false)) full_end = t + 2;
      }
      if (full_end > 0) {
        Emit(PhiType::kName, tok.begin, InitialAfter(full_end - 1, true), 0.8, "name.context");
        RememberNameTokens(t, full_end);
        next = full_end;
        continue;
      }
    }
    if (last_end == 0) continue;
    const bool context_before = context_word && near_before;
    bool kin_after = false;
    // Not for a surname that is also a word, even capitalized ("Young family in room 4", "the
    // foster family"); in lower case, not for any word the scanner knows.
    if (!context_before && !(tok.flags & kCommonSurname) && last_end < n &&
        (tokens_[last_end].flags & kKin) &&
        !tokens_[last_end].line_break_before() &&
        (t == 0 || !(tokens_[t - 1].flags & kStaffTitle))) {
      const std::string_view g = Gap(text_, tokens_[last_end - 1], tokens_[last_end]);
      const bool possessive = g.size() >= 3 && (g.substr(0, 2) == "'s" || g.substr(0, 2) == "'S") &&
                              OnlySpaces(g.substr(2), 2);
      kin_after = possessive || (OnlySpaces(g, 2) && (tok.capitalized() || (tok.flags == 0 && tok.rules == 0)));
    }
    if (context_before || kin_after) {
      Emit(PhiType::kName, tok.begin, InitialAfter(last_end - 1, true), 0.8, "name.context");
      RememberNameTokens(t, last_end);
      next = last_end;
    }
  }
}

int Pass::NameGap(std::size_t a, std::size_t b) const {
  const std::string_view g = Gap(text_, tokens_[a], tokens_[b]);
  if (g.empty() || g.size() > 4) return 0;
  int commas = 0;
  for (char c : g) {
    if (c == ',') {
      ++commas;
    } else if (c != ' ' && c != '\t') {
      return 0;
    }
  }
  if (commas == 0) return g.size() <= 3 ? 1 : 0;
  return commas == 1 ? 2 : 0;
}

bool Pass::MiddleInitial(std::size_t k, bool bare_lower_case) const {
  const std::size_t n = tokens_.size();
  if (k + 1 >= n || tokens_[k].kind != TokenKind::kWord || tokens_[k].end - tokens_[k].begin != 1 ||
      tokens_[k + 1].kind != TokenKind::kWord) {
    return false;
  }
  const std::string_view g = Gap(text_, tokens_[k], tokens_[k + 1]);
  if (g.size() >= 2 && g[0] == '.' && OnlySpaces(g.substr(1), 2)) return true;
  return OnlySpaces(g, 3) && (bare_lower_case || tokens_[k].capitalized());
}

std::size_t Pass::InitialAfter(std::size_t last, bool comma) const {
  const std::size_t k = last + 1;
  const std::size_t end = tokens_[last].end;
  if (k >= tokens_.size() || tokens_[k].kind != TokenKind::kWord ||
      tokens_[k].end - tokens_[k].begin != 1 || tokens_[k].line_break_before()) {
    return end;
  }
  std::string_view g = Gap(text_, tokens_[last], tokens_[k]);
  if (comma && !g.empty() && g[0] == ',') g.remove_prefix(1);
  if (!OnlySpaces(g, 2)) return end;
  const char letter = text_[tokens_[k].begin];
  const bool dot = tokens_[k].end < text_.size() && text_[tokens_[k].end] == '.';
  if (!dot && (letter < 'A' || letter > 'Z' || letter == 'I')) return end;
  // Without its dot, only where the name ends: "GARCIA, MARIA L", "Garcia, M," but not "pt
  // Garcia K 3.1" or "pt Lopez C diff neg".
  if (!dot) {
    const std::size_t after = tokens_[k].end;
    const bool ends = after >= text_.size() || text_[after] == '\n' || text_[after] == ',' ||
                      text_[after] == ';' || text_[after] == ')' || text_[after] == ':';
    if (!ends) return end;
  }
  return tokens_[k].end + (dot ? 1 : 0);
}

std::string_view Pass::Slipped(std::size_t k, std::size_t count,
                               std::array<char, NearNames::kMaxLength + 1>& buffer, bool beside_capital) const {
  if (count == 0 || k + count > tokens_.size()) return {};
  std::size_t length = 0;
  // The slip is in a word the index does not know ("Maary" of "Maary Ann"), and in a run of
  // several the others were typed right, so one of them is a name or starts one ("Ann", "De").
  bool unknown = count == 1;
  bool known = count == 1;
  for (std::size_t j = k; j < k + count; ++j) {
    const Token& w = tokens_[j];
    if (w.kind != TokenKind::kWord || w.month != 0) return {};
    // Alone, a word the scanner knows is no name; in a name of several words only a plain word
    // is not ("Maary Ann", "De La Crux" hold a name and a state's code).
    if (count == 1 ? (w.rules != 0 || w.flags != 0) : (w.flags & kPlainWord) != 0 || w.end - w.begin < 2) {
      return {};
    }
    if (j > k && NameGap(j - 1, j) != 1) return {};
    const bool maybe_name = index_->MaybeName(w.key);
    unknown = unknown || !maybe_name;
    known = known || maybe_name;
    for (std::size_t i = w.begin; i < w.end; ++i) {
      char c = text_[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c >= 'a' && c <= 'z') {
        if (length == buffer.size()) return {};
        buffer[length++] = c;
      } else if (c != '\'' && c != '-') {
        return {};
      }
    }
  }
  // Three letters only capitalized beside a capitalized name ("Sar A. Bates", "GARZA, SAA"): a
  // four-letter name with a letter left out, where lower-case words of three letters abound.
  if (!unknown || !known || length < NearNames::kMinTyped ||
      (length < NearNames::kMinLength && !(tokens_[k].capitalized() && beside_capital))) {
    return {};
  }
  // "Maria Lopez" is two names of the index, not a slip of "Maria Lopes".
  std::uint64_t key = tokens_[k].key;
  for (std::size_t j = k + 1; j < k + count; ++j) {
    key = NameKey::Extend(key, text_.substr(tokens_[j].begin, tokens_[j].end - tokens_[j].begin));
  }
  if (index_->IsFirstName(key) || index_->IsLastName(key)) return {};
  return {buffer.data(), length};
}

std::size_t Pass::NearName(std::size_t t) {
  const std::size_t n = tokens_.size();
  const Token& exact = tokens_[t];
  // A name that is also a common word ("will", "hope", "mark") only capitalized, and a slipped
  // word beside a capitalized name only capitalized: "Maria wants" is no Maria Wantz.
  if ((exact.flags & kCommonSurname) && !exact.capitalized()) return 0;
  auto fits = [&](std::size_t from, std::size_t count) {
    if (!exact.capitalized()) return true;
    for (std::size_t k = from; k < from + count; ++k) {
      if (!tokens_[k].capitalized()) return false;
    }
    return true;
  };
  auto gap = [&](std::size_t a, std::size_t b) { return NameGap(a, b); };
  auto word = [&](std::size_t k) { return k < n && tokens_[k].kind == TokenKind::kWord; };
  std::array<char, NearNames::kMaxLength + 1> buffer;
  std::array<std::uint64_t, 8> near;
  // The name as the index has it is remembered for its repetitions ("Amy Norrounik (Norounik
  // household)"), and so is the slip as typed, but only capitalized ("Maria Garica (Garica
  // household)"): a lower-case slip may be a word ("maria said ... dr lee said"). A "Last, First"
  // keeps its middle initial ("GARCIA, MRAIA L").
  auto emit = [&](std::size_t first, std::size_t last, std::size_t slipped, std::size_t slipped_end,
                  std::uint64_t meant, bool last_first) {
    Emit(PhiType::kName, tokens_[first].begin, last_first ? InitialAfter(last, false) : tokens_[last].end, 0.85,
         "name.near");
    for (std::size_t k = first; k <= last; ++k) {
      if (k < slipped || k >= slipped_end || tokens_[k].capitalized()) RememberNameTokens(k, k + 1);
    }
    if (name_key_count_ < name_keys_.size()) name_keys_[name_key_count_++] = meant;
    return last + 1;
  };
  // The names one slip from the `count` words from token `from` that pair with `key`, the name
  // typed whole (as a first name when `key_first`): the first one's key, or 0.
  auto slipped_pair = [&](std::size_t from, std::size_t count, std::uint64_t key, bool key_first) -> std::uint64_t {
    if (!fits(from, count)) return 0;
    const std::string_view typed = Slipped(from, count, buffer, exact.capitalized());
    if (typed.empty()) return 0;
    const std::size_t found = key_first ? index_->NearLastNames(typed, near) : index_->NearFirstNames(typed, near);
    for (std::size_t i = 0; i < found; ++i) {
      if (key_first ? index_->IsNamePair(key, near[i]) : index_->IsNamePair(near[i], key)) return near[i];
    }
    return 0;
  };
  // A middle initial beside a slip is a capital or has its dot: "sarah i know", "maria a said"
  // hold lower-case words of one letter.
  auto initial = [&](std::size_t k) { return MiddleInitial(k, false); };
  // The name typed whole is token t and up to two more (a first name of two words, a last name of
  // three: "Mary Ann", "De La Cruz"); the slipped one, as many words.
  std::uint64_t key = NameKey::kSeed;
  const std::size_t longest = index_->StartsLongerName(exact.key) ? 3 : 1;
  for (std::size_t length = 1; length <= longest; ++length) {
    const std::size_t e = t + length - 1;  // the whole name's last token
    if (length > 1 && (!word(e) || gap(e - 1, e) != 1)) break;
    key = length == 1 ? exact.key : NameKey::Extend(key, text_.substr(tokens_[e].begin, tokens_[e].end - tokens_[e].begin));
    if (length <= 2 && index_->IsFirstName(key)) {
      // First Last, with a middle initial or not: "Maria Garica", "maria l. garica".
      std::size_t k = e + 1;
      if (k < n && gap(e, k) == 1 && initial(k)) ++k;
      if (k < n && (k > e + 1 || gap(e, k) == 1)) {
        for (std::size_t count = 1; count <= 3 && word(k + count - 1); ++count) {
          if (const std::uint64_t meant = slipped_pair(k, count, key, true)) {
            return emit(t, k + count - 1, k, k + count, meant, false);
          }
        }
      }
      // Last, First: "Garica, Maria".
      if (t >= 1 && gap(t - 1, t) == 2) {
        for (std::size_t count = 1; count <= 3 && count <= t; ++count) {
          if (const std::uint64_t meant = slipped_pair(t - count, count, key, true)) {
            return emit(t - count, e, t - count, t, meant, true);
          }
        }
      }
    }
    if (index_->IsLastName(key)) {
      // Last, First: "Garcia, Mraia".
      if (e + 1 < n && gap(e, e + 1) == 2) {
        for (std::size_t count = 1; count <= 2 && word(e + count); ++count) {
          if (const std::uint64_t meant = slipped_pair(e + 1, count, key, false)) {
            return emit(t, e + count, e + 1, e + 1 + count, meant, true);
          }
        }
      }
      // First Last, with a middle initial or not: "Mraia Garcia", "Isbaella U. Guerrero".
      if (t >= 1) {
        std::size_t k = t - 1;  // the slipped name's last token
        if (t >= 2 && initial(t - 1) && gap(t - 2, t - 1) == 1) k = t - 2;
        if (k < t - 1 || gap(k, t) == 1) {
          for (std::size_t count = 1; count <= 2 && count <= k + 1; ++count) {
            if (const std::uint64_t meant = slipped_pair(k + 1 - count, count, key, false)) {
              return emit(k + 1 - count, e, k + 1 - count, k + 1, meant, false);
            }
          }
        }
      }
    }
  }
  return 0;
}

bool Pass::SaysWhoItIs(std::size_t t) const {
  static const std::uint64_t kIs = NameKey::Of("is");
  static const std::uint64_t kAm = NameKey::Of("am");
  static const std::uint64_t kIm = NameKey::Of("im");
  static const std::uint64_t kI = NameKey::Of("i");
  static const std::uint64_t kM = NameKey::Of("m");
  static const std::uint64_t kS = NameKey::Of("s");
  static const std::uint64_t kName = NameKey::Of("name");
  if (t < 1 || tokens_[t].line_break_before() || !Is(Gap(text_, tokens_[t - 1], tokens_[t]), " ")) return false;
  const Token& b = tokens_[t - 1];
  if (b.key == kIm) return true;  // "I'm" as one word, or "im"
  if (t < 2) return false;
  const Token& a = tokens_[t - 2];
  const std::string_view g = Gap(text_, a, b);
  const bool apostrophe = Is(g, "'") || g == "\u2019";
  return (b.key == kIs && a.key == kName && Is(g, " ")) ||
         (b.key == kAm && a.key == kI && Is(g, " ")) || (b.key == kM && a.key == kI && apostrophe) ||
         (b.key == kS && a.key == kName && apostrophe);
}

void Pass::NamedStreets() {
  static const std::array<std::uint64_t, 12> kLives = {
      NameKey::Of("lives"),  NameKey::Of("live"),    NameKey::Of("living"),  NameKey::Of("lived"),
      NameKey::Of("resides"), NameKey::Of("reside"), NameKey::Of("resided"), NameKey::Of("moved"),
      NameKey::Of("moving"), NameKey::Of("stays"),   NameKey::Of("staying"), NameKey::Of("address")};
  static const std::array<std::uint64_t, 6> kAt = {NameKey::Of("on"), NameKey::Of("off"), NameKey::Of("at"),
                                                   NameKey::Of("to"), NameKey::Of("near"), NameKey::Of("is")};
  const std::size_t n = tokens_.size();
  auto spaced = [&](std::size_t a, std::size_t b) { return Is(Gap(text_, tokens_[a], tokens_[b]), " "); };
  for (std::size_t t = 1; t < n; ++t) {
    if (!(tokens_[t].flags & kStreetSuffix) || tokens_[t].kind != TokenKind::kWord) continue;
    // The last of two suffixes ends the name ("Cedar Ridge Dr").
    if (t + 1 < n && (tokens_[t + 1].flags & kStreetSuffix) && spaced(t, t + 1)) continue;
    // One to three words of the street's name before its suffix, none a word that cannot be
    // one, all capitalized or all in lower case as the suffix is.
    std::size_t first = t;
    while (first > 0 && t - first < 3 && tokens_[first - 1].kind == TokenKind::kWord && spaced(first - 1, first) &&
           (!(tokens_[first - 1].flags & kStreetStop) || (tokens_[first - 1].flags & kStreetSuffix)) &&
           tokens_[first - 1].capitalized() == tokens_[t].capitalized() &&
           std::find(kAt.begin(), kAt.end(), tokens_[first - 1].key) == kAt.end()) {
      --first;
    }
    if (first == t || first < 2) continue;
    // "lives on", "moved to", "lives just off", "address is"
    const std::size_t at = first - 1;
    if (!spaced(at, first) || std::find(kAt.begin(), kAt.end(), tokens_[at].key) == kAt.end()) continue;
    bool lives = false;
    for (std::size_t k = 1; k <= 2 && k <= at && !lives; ++k) {
      if (tokens_[at - k + 1].line_break_before()) break;
      lives = std::find(kLives.begin(), kLives.end(), tokens_[at - k].key) != kLives.end();
    }
    if (lives) Emit(PhiType::kAddress, tokens_[first].begin, tokens_[t].end, 0.8, "address.named_street");
  }
}

void Pass::Streets() {
  const std::size_t n = tokens_.size();
  std::size_t next = 0;
  for (const std::size_t t : lists_.non_words) {
    if (t < next) continue;
    const Token& num = tokens_[t];
    const std::size_t len = num.end - num.begin;
    const bool number = num.kind == TokenKind::kNumber && len <= 6;
    const bool number_letter = num.kind == TokenKind::kMixed && len <= 6 && IsDigit(text_[num.begin]) &&
                               IsAlpha(text_[num.end - 1]) && IsDigit(text_[num.end - 2]);
    if (!number && !number_letter) continue;
    if (t > 0 && (tokens_[t - 1].flags & kLabel)) continue;
    // The last group of a number ("0177" of "617-555-0177 attn Dr Lee") is no house number.
    if (t > 0 && tokens_[t - 1].kind == TokenKind::kNumber) {
      const std::string_view before = Gap(text_, tokens_[t - 1], num);
      if (!before.empty() && Tight(before)) continue;
    }
    // "123 1/2 Main St": the half is part of the house number.
    std::size_t name_from = t + 1;
    if (number && t + 3 < n && tokens_[t + 1].kind == TokenKind::kNumber &&
        tokens_[t + 2].kind == TokenKind::kNumber && Is(Gap(text_, num, tokens_[t + 1]), " ") &&
        Is(Gap(text_, tokens_[t + 1], tokens_[t + 2]), "/") &&
        tokens_[t + 1].end - tokens_[t + 1].begin == 1 && tokens_[t + 2].end - tokens_[t + 2].begin == 1) {
      name_from = t + 3;
    }
    std::size_t suffix = 0;
    for (std::size_t k = name_from; k < n && k <= name_from + 4; ++k) {
      const Token& w = tokens_[k];
      const std::string_view g = Gap(text_, tokens_[k - 1], w);
      const bool after_directional = k == name_from + 1 &&
                                     tokens_[k - 1].end - tokens_[k - 1].begin == 1 &&
                                     g.size() == 2 && g[0] == '.' && g[1] == ' ';
      if (!Is(g, " ") && !after_directional) break;
      // "5th Ave", and after a side of town "W 5th St", "East 42nd Street"
      const bool ordinal = w.kind == TokenKind::kMixed &&
                           (k == name_from || (k == name_from + 1 && (tokens_[k - 1].flags & kDirection)));
      if (w.kind != TokenKind::kWord && !ordinal) break;
      if ((w.flags & kStreetSuffix) && k > name_from) suffix = k;  // keep the last suffix ("Ridge Rd")
      else if (suffix != 0) break;
      // "102 yo male Ann Lane" is an age, not a house number.
      if ((w.flags & (kStreetStop | kUnit | kAgeUnit)) && !(w.flags & kStreetSuffix)) break;
    }
    if (suffix == 0) continue;
    std::size_t end_token = suffix;
    auto spaced = [&](std::size_t k) {  // token k + 1 follows token k after one space
      return k + 1 < n && Is(Gap(text_, tokens_[k], tokens_[k + 1]), " ");
    };
    // "County Rd 12", "Ave N", "pennsylvania ave nw"
    if (spaced(end_token) && (tokens_[end_token].flags & kRoadNumbered) &&
        tokens_[end_token + 1].kind == TokenKind::kNumber) {
      ++end_token;
    }
    if (spaced(end_token) && (tokens_[end_token + 1].flags & kDirection) &&
        tokens_[end_token + 1].kind == TokenKind::kWord) {
      ++end_token;
    }
    // ", Apt 4B", " Unit 12", " #3", "Bldg 2 Rm 14", "Apt. 2-B", ", 2nd floor"
    for (int designators = 0; designators < 2 && end_token + 1 < n; ++designators) {
      const std::string_view g = Gap(text_, tokens_[end_token], tokens_[end_token + 1]);
      const Token& d = tokens_[end_token + 1];
      const bool sep = Is(g, " ") || Is(g, ", ") || Is(g, ". ") || Is(g, "., ");
      std::size_t value = 0;
      if (sep && (d.flags & kUnitDesignator) && end_token + 2 < n &&
          tokens_[end_token + 2].kind != TokenKind::kWord) {
        const std::string_view g2 = Gap(text_, d, tokens_[end_token + 2]);
        if (Is(g2, " ") || Is(g2, " #") || Is(g2, ". ") || Is(g2, "#") || Is(g2, ". #")) {
          value = end_token + 2;
        }
      } else if (sep && d.kind == TokenKind::kMixed && end_token + 2 < n &&
                 (tokens_[end_token + 2].flags & kUnitDesignator) &&
                 Is(Gap(text_, d, tokens_[end_token + 2]), " ")) {
        end_token += 2;  // "2nd floor"
        continue;
      } else if ((Is(g, " #") || Is(g, ", #")) && d.kind != TokenKind::kWord) {
        value = end_token + 1;
      }
      if (value == 0) break;
      // "2-B", "14-C": the letter after the number is part of it.
      if (value + 1 < n && Is(Gap(text_, tokens_[value], tokens_[value + 1]), "-") &&
          tokens_[value + 1].end - tokens_[value + 1].begin <= 2) {
        ++value;
      }
      end_token = value;
    }
    const Window w = Around(text_, tokens_, t, end_token);
    const double confidence = (w.rules & tables_.address_mask) ? 0.95 : 0.85;
    Emit(PhiType::kAddress, num.begin, tokens_[end_token].end, confidence, "address.street");
    CityAfter(end_token, confidence - 0.05, false);
    next = end_token + 1;
  }
  // "P.O. Box 123", "PO Box 123", "Post Office Box 123", "POB 123", "pobox 123"; not a box alone.
  static const std::uint64_t kBoxWord = NameKey::Of("box");
  static const std::uint64_t kO = NameKey::Of("o");
  static const std::uint64_t kP = NameKey::Of("p");
  static const std::uint64_t kPost = NameKey::Of("post");
  static const std::uint64_t kOffice = NameKey::Of("office");
  for (std::size_t t = 0; t + 1 < n; ++t) {
    if (!(tokens_[t].flags & kBox) || tokens_[t + 1].kind != TokenKind::kNumber) continue;
    std::size_t begin_token = t;  // "POB", "pobox": the word says it all
    if (tokens_[t].key == kBoxWord) {
      if (t > 0 && (tokens_[t - 1].flags & kPo)) {
        begin_token = t - 1;
      } else if (t > 1 && ((tokens_[t - 1].key == kO && tokens_[t - 2].key == kP) ||
                           (tokens_[t - 1].key == kOffice && tokens_[t - 2].key == kPost))) {
        begin_token = t - 2;
      } else {
        continue;  // a box alone ("box 4412") may be a locker's
      }
    }
    // "pob 2 days": not a box (POB is also a place of birth).
    if (t + 2 < n && (tokens_[t + 2].flags & (kPortion | kUnit | kAgeUnit))) continue;
    Emit(PhiType::kAddress, tokens_[begin_token].begin, tokens_[t + 1].end, 0.9, "address.pobox");
    CityAfter(t + 1, 0.85, true);
  }
}

void Pass::CityAfter(std::size_t end_token, double confidence, bool places_only) {
  // The city that follows a street line: "..., Arlington" (one or two words); without the comma
  // only a gazetteer place ("12 Elm St Oak Grove"), and after a box only a gazetteer place
  // ("PO Box 12, sent today").
  const std::size_t n = tokens_.size();
  const std::string_view gap =
      end_token + 1 < n ? Gap(text_, tokens_[end_token], tokens_[end_token + 1]) : std::string_view();
  const bool place = (Is(gap, " ") || (places_only && Is(gap, ", "))) && PlaceEnd(end_token + 1) > 0;
  if (place) {
    const std::size_t place_end = PlaceEnd(end_token + 1);
    Emit(PhiType::kAddress, tokens_[end_token + 1].begin, tokens_[place_end - 1].end,
         confidence, "address.city");
  } else if (!places_only && Is(gap, ", ")) {
    const Token& c0 = tokens_[end_token + 1];
    if (c0.kind == TokenKind::kWord && !(c0.flags & (kCityStop | kState))) {
      std::size_t city_end = end_token + 1;
      if (city_end + 1 < n && tokens_[city_end + 1].kind == TokenKind::kWord &&
          Is(Gap(text_, c0, tokens_[city_end + 1]), " ") &&
          !(tokens_[city_end + 1].flags & (kCityStop | kState | kStreetStop)) &&
          c0.capitalized() == tokens_[city_end + 1].capitalized()) {
        ++city_end;
      }
      Emit(PhiType::kAddress, c0.begin, tokens_[city_end].end, confidence,
           "address.city");
    }
  }
}

std::size_t Pass::PlaceEnd(std::size_t t) const {
  const std::size_t n = tokens_.size();
  if (t >= n || tokens_[t].kind != TokenKind::kWord || !(tokens_[t].flags & kPlaceWord)) return 0;
  std::uint64_t key = tokens_[t].key;
  std::size_t end = tables_.places.Contains(key) ? t + 1 : 0;
  for (std::size_t k = t + 1; k < n && k <= t + 2; ++k) {
    if (tokens_[k].kind != TokenKind::kWord || !Is(Gap(text_, tokens_[k - 1], tokens_[k]), " ")) {
      break;
    }
    key = NameKey::Extend(key, text_.substr(tokens_[k].begin, tokens_[k].end - tokens_[k].begin));
    if (tables_.places.Contains(key)) end = k + 1;
  }
  return end;
}

std::size_t Pass::PlaceEndingAt(std::size_t last) const {
  for (std::size_t k = 3; k-- > 0;) {  // the longest first
    if (k <= last && PlaceEnd(last - k) == last + 1) return last - k;
  }
  return SIZE_MAX;
}

// Gazetteer towns and cities: after a preposition ("from Kingston", "living in oak grove") or
// before a state code ("greenville, va", "Clinton OR 97000"). A place that is also a name in the
// patient index ("Austin", "Jackson", "Warren") needs the state code: "message from Jackson in
// pharmacy" is about a colleague far more often than about a town.
void Pass::Places() {
  const std::size_t n = tokens_.size();
  std::size_t next = 0;
  for (const std::size_t t : lists_.places) {
    if (t < next || !(tokens_[t].flags & kPlaceWord)) continue;
    const std::size_t end = PlaceEnd(t);
    if (end == 0) continue;
    const Token& last = tokens_[end - 1];
    bool state_after = false;
    if (end < n && (tokens_[end].flags & kState) && tokens_[end].kind == TokenKind::kWord &&
        tokens_[end].end - tokens_[end].begin == 2) {
      const std::string_view g = Gap(text_, last, tokens_[end]);
      const Token* after = end + 1 < n ? &tokens_[end + 1] : nullptr;
      const bool zip_after = after != nullptr && after->kind == TokenKind::kNumber &&
                             !after->line_break_before();
      const bool at_end = after == nullptr || after->line_break_before() ||
                          Gap(text_, tokens_[end], *after).find_first_of(",.;!?") !=
                              std::string_view::npos;
      // "Clinton, OR"; "Clinton OR 97333"; "Clinton OR" at the end of a clause. Not
      // "Springfield or Dover" (a lower-case "or" that ends nothing).
      state_after = Is(g, ", ") || Is(g, ",") ||
                    (Is(g, " ") && (zip_after || at_end ||
                                  (tokens_[end].all_caps() && !(tokens_[end].flags & kAmbiguousState))));
    }
    bool preposition = false;
    if (t > 0 && (tokens_[t - 1].flags & kPlacePreposition) && !tokens_[t].line_break_before() &&
        Is(Gap(text_, tokens_[t - 1], tokens_[t]), " ")) {
      preposition = index_ == nullptr || (!index_->IsFirstName(tokens_[t].key) &&
                                          !index_->IsLastName(tokens_[t].key));
    }
    if (!state_after && !preposition) continue;
    Emit(PhiType::kAddress, tokens_[t].begin, last.end, state_after ? 0.85 : 0.8, "address.place");
    next = end;
  }
}

// A name matched against the index, written again in the same message ("Maria Garcia (Garcia
// household)"): the repetition is the same person's name. Words that are also common words
// count only capitalized, unless the names were matched in lower case too.
void Pass::RepeatedNames() {
  if (name_key_count_ == 0) return;
  const std::uint64_t* keys_begin = name_keys_.data();
  const std::uint64_t* keys_end = keys_begin + name_key_count_;
  // One bit per remembered key, chosen by the key's top six bits: one test rules out nearly
  // every other token of the message before the keys are searched.
  std::uint64_t filter = 0;
  for (const std::uint64_t* key = keys_begin; key != keys_end; ++key) {
    filter |= 1ull << (*key >> 58);
  }
  for (const Token& tok : tokens_) {
    if (((filter >> (tok.key >> 58)) & 1u) == 0 || tok.kind != TokenKind::kWord ||
        std::find(keys_begin, keys_end, tok.key) == keys_end) {
      continue;
    }
    if (!tok.capitalized() &&
        ((tok.flags & (kStreetStop | kCityStop | kLabel | kUnit | kState)) ||
         ((tok.flags & kCommonSurname) && names_capitalized_))) {
      continue;
    }
    if (Overlaps(tok.begin, tok.end)) continue;
    Emit(PhiType::kName, tok.begin, tok.end, 0.85, "name.repeat");
  }
}

void Pass::Cities() {
  const std::size_t n = tokens_.size();
  for (const std::size_t s : lists_.places) {
    if (s == 0) continue;
    const Token& st = tokens_[s];
    if (st.kind != TokenKind::kWord || !(st.flags & kState) || st.end - st.begin != 2) continue;
    const bool zip_follows = s + 1 < n && tokens_[s + 1].kind == TokenKind::kNumber &&
                             tokens_[s + 1].end - tokens_[s + 1].begin == 5 &&
                             (Is(Gap(text_, st, tokens_[s + 1]), " ") ||
                              Is(Gap(text_, st, tokens_[s + 1]), ", "));
    // "MAC CA:83:D3:..." is a hex group, not California.
    if (st.end < text_.size() && (text_[st.end] == ':' || IsAlnum(text_[st.end]))) continue;
    const std::string_view code = text_.substr(st.begin, 2);
    // Credentials ("Lee, MD") and English words in capitals are not states without a ZIP.
    const bool word_like = Is(code, "MD") || Is(code, "PA") || Is(code, "OK") || Is(code, "DO") ||
                           Is(code, "ME") || Is(code, "IN") || Is(code, "OR") || Is(code, "HI") ||
                           Is(code, "OH") || Is(code, "ID");
    const std::string_view g = Gap(text_, tokens_[s - 1], st);
    const bool comma = Is(g, ", ") || Is(g, ",");
    const Token& c1 = tokens_[s - 1];
    if (c1.kind != TokenKind::kWord || (c1.flags & (kCityStop | kState))) continue;
    bool ok = false;
    if (zip_follows) {
      ok = comma || Is(g, " ");
    } else if (comma) {
      // "Springfield, MA"; in lower case only for codes that are not English words; never a
      // credential ("Lee, MD", "Kim, PA", "Cho, DO").
      const bool credential = Is(code, "MD") || Is(code, "PA") || Is(code, "DO");
      ok = st.all_caps() ? !credential && c1.capitalized()
                       : !(st.flags & kAmbiguousState) || PlaceEndingAt(s - 1) != SIZE_MAX;
    } else if (Is(g, " ")) {
      ok = st.all_caps() && !word_like && c1.capitalized();  // "Oak Grove WI"
    }
    if (!ok) continue;
    std::size_t begin = c1.begin;
    if (const std::size_t place = PlaceEndingAt(s - 1); place != SIZE_MAX) {
      begin = tokens_[place].begin;  // "pleasant hill, or", "Mount Vernon, NY"
    } else if (s >= 2) {
      const Token& c0 = tokens_[s - 2];
      if (c0.kind == TokenKind::kWord && Is(Gap(text_, c0, c1), " ") && !(c0.flags & kCityStop) &&
          c0.capitalized() && c1.capitalized()) {
        begin = c0.begin;
      }
    }
    Emit(PhiType::kAddress, begin, c1.end, 0.8, "address.city");
  }
}

void Pass::Ages() {
  const std::size_t n = tokens_.size();
  for (const std::size_t t : lists_.non_words) {
    const Token& tok = tokens_[t];
    // An age is two or three digits, alone or before its unit ("93yo"): most numbers are not.
    const std::size_t length = tok.end - tok.begin;
    if (tok.kind == TokenKind::kNumber ? length < 2 || length > 3 : !IsDigit(text_[tok.begin])) {
      continue;
    }
    std::size_t digits_end = tok.begin;
    while (digits_end < tok.end && IsDigit(text_[digits_end])) ++digits_end;
    const std::size_t digit_count = digits_end - tok.begin;
    if (digit_count < 2 || digit_count > 3) continue;
    int value = 0;
    for (std::size_t k = tok.begin; k < digits_end; ++k) value = value * 10 + (text_[k] - '0');
    if (value < 90 || value > 125) continue;
    bool age = false;
    if (tok.kind == TokenKind::kMixed) {
      // "93yo", "93yrs", "93y"; the clinical "92F", "95M", "91yoM", "94yowf" (the single letter
      // only in capitals: "100m" is a distance or a time)
      const std::string_view typed = text_.substr(digits_end, tok.end - digits_end);
      const std::string unit = LowerCopy(typed);
      age = Is(unit, "yo") || Is(unit, "yr") || Is(unit, "yrs") || Is(unit, "y") ||
            Is(unit, "yoa") || Is(unit, "yof") || Is(unit, "yom") || Is(unit, "yowf") ||
            Is(unit, "yowm") || Is(unit, "yf") || Is(unit, "ym") || Is(typed, "M") ||
            (Is(typed, "F") && !Temperature(t));
      // Typed all in lower case, "94m w/ uti" and "102f c/o sob" still open a note about a
      // patient: at the start of a line, before shorthand that only goes on about one ("100m
      // with the walker" is a distance, "101f with chills" a temperature).
      if (!age && (Is(typed, "m") || Is(typed, "f")) && (t == 0 || tok.line_break_before()) &&
          t + 1 < n && !tokens_[t + 1].line_break_before() && !(typed[0] == 'f' && Temperature(t))) {
        static const std::array<std::uint64_t, 8> kGoesOn = {
            NameKey::Of("w"),   NameKey::Of("co"),       NameKey::Of("sp"),         NameKey::Of("hx"),
            NameKey::Of("pmh"), NameKey::Of("presents"), NameKey::Of("presenting"), NameKey::Of("admitted")};
        age = std::find(kGoesOn.begin(), kGoesOn.end(), tokens_[t + 1].key) != kGoesOn.end();
        // "w/" must be the shorthand, not a word "w", and goes on about a woman only: "100m w/
        // RW" is a distance walked with a rolling walker.
        if (age && tokens_[t + 1].key == kGoesOn[0]) {
          age = typed[0] == 'f' && tokens_[t + 1].end < text_.size() && text_[tokens_[t + 1].end] == '/';
        }
      }
    } else if (tok.kind == TokenKind::kNumber) {
      if (t + 1 < n && (tokens_[t + 1].flags & kAgeUnit)) {
        const std::string_view g = Gap(text_, tok, tokens_[t + 1]);
        age = g.empty() || Is(g, " ") || Is(g, "-");
      }
      if (!age && t > 0 && (tokens_[t - 1].flags & kAgeWord)) {
        const std::string_view g = Gap(text_, tokens_[t - 1], tok);
        age = Is(g, " ") || Is(g, ": ") || Is(g, ":") || Is(g, " of ");
      }
      if (!age && t > 0) age = SaidAge(t);
    }
    if (age) Emit(PhiType::kAge, tok.begin, digits_end, 0.9, "age.over89");
  }
}

namespace {

// "she", "pt", "mom": who an age said in words belongs to ("she is 93", "Mom just turned ninety").
bool IsPersonWord(std::uint64_t key) {
  static const std::array<std::uint64_t, 16> kPeople = {
      NameKey::Of("she"),  NameKey::Of("he"),      NameKey::Of("pt"),      NameKey::Of("patient"),
      NameKey::Of("mom"),  NameKey::Of("dad"),     NameKey::Of("mother"),  NameKey::Of("father"),
      NameKey::Of("wife"), NameKey::Of("husband"), NameKey::Of("grandma"), NameKey::Of("grandpa"),
      NameKey::Of("grandmother"), NameKey::Of("grandfather"), NameKey::Of("resident"),
      NameKey::Of("who")};
  return std::find(kPeople.begin(), kPeople.end(), key) != kPeople.end();
}

// "turns", "turned", "turning": an age follows ("turned 91", "Mom just turned ninety").
bool IsTurnWord(std::uint64_t key) {
  static const std::array<std::uint64_t, 3> kTurns = {NameKey::Of("turns"), NameKey::Of("turned"),
                                                      NameKey::Of("turning")};
  return std::find(kTurns.begin(), kTurns.end(), key) != kTurns.end();
}

int CurrentUtcYear() {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return static_cast<int>(std::chrono::year_month_day(today).year());
}

}  // namespace

void Pass::BirthYears() {
  static const std::uint64_t kB = NameKey::Of("b");
  int cutoff = 0;  // the latest year of birth of someone who may be 90 now; read when needed
  for (const std::size_t t : lists_.non_words) {
    const Token& tok = tokens_[t];
    if (tok.kind != TokenKind::kNumber || tok.end - tok.begin != 4 || t == 0) continue;
    int year = 0;
    for (std::size_t k = tok.begin; k < tok.end; ++k) year = year * 10 + (text_[k] - '0');
    if (year < 1850) continue;
    // "born 1931", "born in 1931", "year of birth: 1931", "b. 1931"; not across a line.
    bool birth = false;
    for (std::size_t k = 1; k <= 3 && k <= t && !birth; ++k) {
      const Token& before = tokens_[t - k];
      if (tokens_[t - k + 1].line_break_before()) break;
      if (before.kind != TokenKind::kWord) break;
      if (k == 1 && before.key == kB) {
        const std::string_view g = Gap(text_, before, tok);
        birth = g.size() >= 2 && g[0] == '.' && OnlySpaces(g.substr(1), 2);
      } else {
        birth = (before.flags & kBirthWord) != 0;  // typed with a slip too ("bonr")
      }
    }
    if (!birth) continue;
    if (cutoff == 0) cutoff = CurrentUtcYear() - 90;
    if (year <= cutoff) Emit(PhiType::kDate, tok.begin, tok.end, 0.85, "date.birth_year_over89");
  }
}

bool Pass::SlipOf(const Token& w, std::string_view word) const {
  const std::size_t length = w.end - w.begin;
  if (length + 1 < word.size() || length > word.size() + 1) return false;
  std::array<char, 16> folded{};
  for (std::size_t k = 0; k < length; ++k) folded[k] = Lower(text_[w.begin + k]);
  return NearNames::OneSlip(std::string_view(folded.data(), length), word);
}

void Pass::PartialSsns() {
  static const std::uint64_t kSsn = NameKey::Of("ssn");
  static const std::uint64_t kSsno = NameKey::Of("ssno");
  static const std::uint64_t kSs = NameKey::Of("ss");
  static const std::uint64_t kSocial = NameKey::Of("social");
  static const std::uint64_t kLast = NameKey::Of("last");
  static const std::uint64_t kFour = NameKey::Of("four");
  static const std::uint64_t kFourDigit = NameKey::Of("4");
  static const std::uint64_t kEnds = NameKey::Of("ends");
  static const std::uint64_t kEnding = NameKey::Of("ending");
  // What may follow "social" when it names the number: not "social work ends at 1530".
  static const std::array<std::uint64_t, 8> kSocialNumber = {
      NameKey::Of("security"), NameKey::Of("sec"), NameKey::Of("number"), NameKey::Of("no"), NameKey::Of("num"),
      NameKey::Of("is"), NameKey::Of("was"), NameKey::Of("as")};
  const auto ends = [&](const Token& w) {
    return w.key == kEnds || w.key == kEnding || SlipOf(w, "ends") || SlipOf(w, "ending");
  };
  for (const std::size_t t : lists_.non_words) {
    const Token& tok = tokens_[t];
    if (tok.kind != TokenKind::kNumber || tok.end - tok.begin != 4) continue;
    if (const std::size_t masked = MaskedSsnStart(text_, tok.begin); masked != std::string_view::npos) {
      Emit(PhiType::kSsn, masked, tok.end, 0.95, "ssn.masked");
      continue;
    }
    // Said: an SSN word, and "last 4"/"last four" or "ends"/"ending", within eight words before,
    // in the number's sentence. "social" and the cues may be typed with a slip ("lsat 4", "ens
    // in"); "ssn" may not ("son" is one slip from it).
    bool ssn = false;
    bool cue = false;
    for (std::size_t l = t; l-- > 0 && l + 8 >= t && !(ssn && cue);) {
      if (Gap(text_, tokens_[l], tokens_[l + 1]).find_first_of(".;\n") != std::string_view::npos) break;
      const Token& w = tokens_[l];
      if (w.kind != TokenKind::kWord) continue;
      if (w.key == kSsn || w.key == kSsno || w.key == kSs) {
        ssn = true;
      } else if (w.key == kSocial || SlipOf(w, "social")) {
        const Token& next = tokens_[l + 1];
        ssn = ssn || l + 1 == t || ends(next) ||
              std::find(kSocialNumber.begin(), kSocialNumber.end(), next.key) != kSocialNumber.end();
      } else if (ends(w)) {
        cue = true;
      } else if ((w.key == kLast || SlipOf(w, "last")) && l + 1 < t &&
                 (tokens_[l + 1].key == kFour || tokens_[l + 1].key == kFourDigit)) {
        cue = true;
      }
    }
    if (ssn && cue) Emit(PhiType::kSsn, tok.begin, tok.end, 0.9, "ssn.last4");
  }
}

void Pass::SpelledAges() {
  static const std::uint64_t kNinety = NameKey::Of("ninety");
  static const std::uint64_t kHundred = NameKey::Of("hundred");
  static const std::uint64_t kAnd = NameKey::Of("and");
  static const std::uint64_t kA = NameKey::Of("a");
  static const std::uint64_t kOne = NameKey::Of("one");
  static const std::uint64_t kOld = NameKey::Of("old");
  static const std::uint64_t kYears = NameKey::Of("years");
  static const std::uint64_t kYear = NameKey::Of("year");
  static const std::uint64_t kYrs = NameKey::Of("yrs");
  static const std::uint64_t kPercent = NameKey::Of("percent");
  const std::size_t n = tokens_.size();
  // Words joined by a space or a dash ("ninety four", "ninety-four" typed as two words).
  auto joined = [&](std::size_t a, std::size_t b) {
    if (b >= n || tokens_[b].kind != TokenKind::kWord || tokens_[b].line_break_before()) return false;
    const std::string_view g = Gap(text_, tokens_[a], tokens_[b]);
    return Is(g, " ") || Is(g, "-");
  };
  // "one" to "nine" (DigitWordKeys' 1 to 9).
  auto unit_at = [&](std::size_t k) {
    const auto& digits = DigitWordKeys();
    return k < n && std::find(digits.begin() + 1, digits.begin() + 10, tokens_[k].key) != digits.begin() + 10;
  };
  for (std::size_t t = 0; t < n; ++t) {
    if (!(tokens_[t].flags & kOldAgeWord)) continue;
    std::size_t first = t;
    std::size_t last = t;
    if (tokens_[t].key == kNinety) {
      if (joined(t, t + 1) && unit_at(t + 1)) last = t + 1;  // "ninety four"
    } else if (tokens_[t].key == kHundred) {
      // "a hundred", "one hundred", "hundred and one", "one hundred two"
      if (t > 0 && tokens_[t - 1].key == kOne && joined(t - 1, t)) first = t - 1;
      std::size_t k = t + 1;
      if (joined(t, k) && k < n && tokens_[k].key == kAnd) ++k;
      if (joined(k - 1, k) && unit_at(k)) last = k;
    }
    // An age: before "years old", "yo", "year-old"; after "age", "aged" or "turned".
    bool age = false;
    if (last + 1 < n && (tokens_[last + 1].flags & kAgeUnit) && joined(last, last + 1)) {
      const std::uint64_t unit = tokens_[last + 1].key;
      // "years" and "year" only with "old" after them ("ninety years of service" is no age).
      const bool needs_old = unit == kYears || unit == kYear || unit == kYrs;
      age = !needs_old || (last + 2 < n && tokens_[last + 2].key == kOld && joined(last + 1, last + 2));
    }
    // The word before it, past an article ("turned a hundred").
    std::size_t lead = first;
    if (lead > 1 && tokens_[lead - 1].key == kA && joined(lead - 1, lead)) --lead;
    if (!age && lead > 0 && !tokens_[lead].line_break_before()) {
      const Token& before = tokens_[lead - 1];
      const std::string_view g = Gap(text_, before, tokens_[lead]);
      age = (before.flags & kAgeWord) && (Is(g, " ") || Is(g, ": "));
      // "is" right after a person ("she is ninety-four"), as SaidAge reads one in digits, unless
      // a unit or a percent after it makes it a measurement ("she is ninety percent sure").
      if (!age && PersonIsBefore(lead)) {
        const bool measured = last + 1 < n && !tokens_[last + 1].line_break_before() &&
                              ((tokens_[last + 1].flags & (kUnit | kLabel | kPortion)) ||
                               tokens_[last + 1].key == kPercent);
        age = !measured;
      }
      // "turned": said of a person just before it ("Mom just turned ninety"; a clinic that
      // "turns a hundred" is no patient).
      if (!age && Is(g, " ") && IsTurnWord(before.key)) {
        for (std::size_t k = 2; k <= 4 && k <= lead && !age; ++k) {
          if (tokens_[lead - k + 1].line_break_before()) break;
          age = IsPersonWord(tokens_[lead - k].key);
        }
      }
    }
    if (age) Emit(PhiType::kAge, tokens_[first].begin, tokens_[last].end, 0.85, "age.over89_words");
    t = last;
  }
}

void Pass::TiedDates() {
  const std::size_t found = findings_.size();
  for (std::size_t w = 0; w < weak_date_count_; ++w) {
    const WeakDate& date = weak_dates_[w];
    if (Overlaps(date.begin, date.end)) continue;
    for (std::size_t k = 0; k < found; ++k) {
      const Hit& f = findings_[k];
      if (f.type != PhiType::kName && f.type != PhiType::kMrn) continue;
      const std::size_t from = std::min(f.end, date.begin);
      const std::size_t to = std::max(f.begin, date.end);
      if (text_.substr(from, to - from).find('\n') != std::string_view::npos) continue;
      Emit(PhiType::kDate, date.begin, date.end, 0.8, rules_[date.rule].id);
      break;
    }
  }
}

bool Pass::CompactDate(const Token& tok) const {
  const std::size_t length = tok.end - tok.begin;
  if (tok.kind != TokenKind::kMixed || length < 6 || length > 9 || !IsDigit(text_[tok.begin])) return false;
  std::size_t k = tok.begin;
  int day = 0;
  while (k < tok.end && IsDigit(text_[k]) && k - tok.begin < 3) day = day * 10 + (text_[k++] - '0');
  const std::size_t letters = k;
  while (k < tok.end && IsAlpha(text_[k])) ++k;
  if (k - letters != 3 || k - tok.begin > 5) return false;
  const std::size_t year_digits = tok.end - k;
  if (year_digits != 2 && year_digits != 4) return false;
  int year = 0;
  for (std::size_t j = k; j < tok.end; ++j) {
    if (!IsDigit(text_[j])) return false;
    year = year * 10 + (text_[j] - '0');
  }
  const WordInfo* month = tables_.words.Find(NameKey::Of(text_.substr(letters, 3)));
  return month != nullptr && month->month != 0 &&
         IsValidDate(year_digits == 4 ? year : -1, month->month, day);
}

void Pass::CompactDates() {
  // "04MAR1961", "4mar61": a day, a month's three letters and a year in one word, as records
  // print them; a date of a person only right after a word that dates it.
  for (const std::size_t t : lists_.non_words) {
    if (!CompactDate(tokens_[t])) continue;
    const Window w = Around(text_, tokens_, t, t);
    if (tables_.date_rule == SIZE_MAX || w.Distance(tables_.date_rule) > 2) continue;
    Emit(PhiType::kDate, tokens_[t].begin, tokens_[t].end, 0.9, "date.compact");
  }
}

bool Pass::Temperature(std::size_t t) const {
  static const std::array<std::uint64_t, 16> kFeverWords = {
      NameKey::Of("febrile"), NameKey::Of("afebrile"), NameKey::Of("fever"),
      NameKey::Of("fevers"),  NameKey::Of("spiked"),   NameKey::Of("spiking"),
      NameKey::Of("temps"),   NameKey::Of("temperature"), NameKey::Of("oral"),
      NameKey::Of("rectal"),  NameKey::Of("axillary"), NameKey::Of("to"),
      NameKey::Of("of"),      NameKey::Of("at"),       NameKey::Of("is"),
      NameKey::Of("was")};
  for (std::size_t k = 1; k <= 3 && k <= t; ++k) {
    const Token& before = tokens_[t - k];
    if (tokens_[t - k + 1].line_break_before()) break;
    // "Full code 92F w/ CHF": a code status is no measurement.
    if (((before.flags & kLabel) && !IsCodeWord(before)) ||
        std::find(kFeverWords.begin(), kFeverWords.end(), before.key) != kFeverWords.end()) {
      return true;
    }
  }
  return false;
}

bool Pass::PersonIsBefore(std::size_t t) const {
  static const std::uint64_t kIs = NameKey::Of("is");
  return t >= 2 && tokens_[t - 1].key == kIs && Is(Gap(text_, tokens_[t - 1], tokens_[t]), " ") &&
         Is(Gap(text_, tokens_[t - 2], tokens_[t - 1]), " ") && IsPersonWord(tokens_[t - 2].key);
}

bool Pass::SaidAge(std::size_t t) const {
  // "she is 93", "pt is 101", "turns 100 tomorrow", "turned 91": a person's age said in words,
  // unless a unit, a label or a percent makes it a measurement ("she is 95 kg", "is 93% on RA").
  const Token& tok = tokens_[t];
  const Token& before = tokens_[t - 1];
  if (!Is(Gap(text_, before, tok), " ")) return false;
  if (!IsTurnWord(before.key) && !PersonIsBefore(t)) return false;
  std::size_t i = tok.end;
  while (i < text_.size() && text_[i] == ' ') ++i;
  // "93%", "93/", "93.5" measure something; "she is 93." ends a sentence.
  if (i < text_.size() && (text_[i] == '%' || text_[i] == '/' ||
                           (text_[i] == '.' && i + 1 < text_.size() && IsDigit(text_[i + 1])))) {
    return false;
  }
  if (t + 1 < tokens_.size() && !tokens_[t + 1].line_break_before() &&
      (tokens_[t + 1].flags & (kUnit | kLabel | kPortion)) && !IsCodeWord(tokens_[t + 1])) {
    return false;
  }
  return true;
}

void Pass::WordDates() {
  const std::size_t n = tokens_.size();
  auto day_of = [&](const Token& t) -> int {  // "14", "14th", "3rd"
    std::size_t k = t.begin;
    int value = 0;
    while (k < t.end && IsDigit(text_[k]) && k - t.begin < 2) value = value * 10 + (text_[k++] - '0');
    if (k == t.begin) return 0;
    if (k == t.end) return t.kind == TokenKind::kNumber ? value : 0;
    const std::string suffix = LowerCopy(text_.substr(k, t.end - k));
    return Is(suffix, "st") || Is(suffix, "nd") || Is(suffix, "rd") || Is(suffix, "th") ? value : 0;
  };
  auto year_at = [&](std::size_t k, std::size_t after) -> int {  // ", 1962" / " 1962"
    if (k >= n || tokens_[k].kind != TokenKind::kNumber || tokens_[k].end - tokens_[k].begin != 4) return 0;
    const std::string_view g = Gap(text_, tokens_[after], tokens_[k]);
    if (!Is(g, " ") && !Is(g, ", ") && !Is(g, ",") && !Is(g, "-") && !Is(g, " - ") && !Is(g, "/")) return 0;
    const int y = NumberValue(text_, tokens_[k]);
    return y >= 1900 && y <= 2099 ? y : 0;
  };
  for (std::size_t t = 0; t < n; ++t) {
    const Token& m = tokens_[t];
    if (m.month == 0 || m.kind != TokenKind::kWord) continue;
    std::size_t first = t;
    std::size_t last = t;
    int day = 0;
    int year = 0;
    // Month Day[, Year]
    if (t + 1 < n) {
      const std::string_view g = Gap(text_, m, tokens_[t + 1]);
      if ((Is(g, " ") || Is(g, ". ") || Is(g, "-") || Is(g, ".")) &&
          (day = day_of(tokens_[t + 1])) > 0) {
        last = t + 1;
        if ((year = year_at(t + 2, t + 1)) > 0) last = t + 2;
      }
    }
    // Day [of] Month[, Year]
    if (day == 0 && t > 0) {
      std::size_t d = t - 1;
      if ((tokens_[d].flags & kOf) && d > 0 && Is(Gap(text_, tokens_[d], m), " ")) --d;
      const std::string_view g = Gap(text_, tokens_[d], tokens_[d + 1]);
      if ((Is(g, " ") || Is(g, "-") || Is(g, "/")) && (day = day_of(tokens_[d])) > 0) {
        first = d;
        if ((year = year_at(t + 1, t)) > 0) last = t + 1;
      }
    }
    if (day == 0) {
      // Month Year, after a word that dates it: "admitted March 2024", "dx in Jan 2024".
      if ((year = year_at(t + 1, t)) > 0 && !Is(Gap(text_, m, tokens_[t + 1]), "/")) {
        const Window w = Around(text_, tokens_, t, t + 1);
        if (w.rules & tables_.date_mask) {
          Emit(PhiType::kDate, m.begin, tokens_[t + 1].end, 0.85, "date.words");
          t = t + 1;
        }
      }
      continue;
    }
    if (!IsValidDate(year > 0 ? year : -1, m.month, day)) continue;
    const Window w = Around(text_, tokens_, first, last);
    const double confidence = (w.rules & tables_.date_mask) ? 0.92 : (year > 0 ? 0.4 : 0.3);
    Emit(PhiType::kDate, tokens_[first].begin, tokens_[last].end, confidence, "date.words");
    t = last;
  }
}

void Pass::GroupedMacs() {
  const std::size_t n = text_.size();
  std::size_t checked = 0;  // text before this is part of a run already looked at
  auto in_run = [&](std::size_t i) { return IsHex(text_[i]) || text_[i] == '-' || text_[i] == '.'; };
  for (const std::size_t t : lists_.non_words) {
    std::size_t l = tokens_[t].begin;
    if (l < checked) continue;
    while (l > 0 && in_run(l - 1)) --l;
    std::size_t r = tokens_[t].begin;
    while (r < n && in_run(r)) ++r;
    checked = r;
    while (r > l && (text_[r - 1] == '.' || text_[r - 1] == '-')) --r;  // a stop ending the sentence
    if (r < n && IsAlnum(text_[r])) continue;
    // The address is the end of the run ("mac-00-1A-...", "pump...001A.2B3C.4D5E" run on
    // before it), starting after a character that cannot be part of it.
    auto starts_clear = [&](std::size_t from) { return from == 0 || !IsAlnum(text_[from - 1]); };
    bool dashed = r - l >= 17 && starts_clear(r - 17);
    for (std::size_t k = 0; dashed && k < 17; ++k) {
      dashed = (k % 3 == 2) ? text_[r - 17 + k] == '-' : IsHex(text_[r - 17 + k]);
    }
    bool dotted = !dashed && r - l >= 14 && starts_clear(r - 14);
    for (std::size_t k = 0; dotted && k < 14; ++k) {
      dotted = (k % 5 == 4) ? text_[r - 14 + k] == '.' : IsHex(text_[r - 14 + k]);
    }
    if (!dashed && !dotted) continue;
    l = r - (dashed ? 17 : 14);
    const std::size_t last = TokenAt(r - 1);
    const Window w = Around(text_, tokens_, t, last < tokens_.size() ? last : t);
    Emit(PhiType::kDevice, l, r, (w.rules & tables_.device_mask) ? 0.95 : 0.85, "device.mac");
  }
}

void Pass::SpacedIds() {
  static const std::uint64_t kVin = NameKey::Of("vin");
  static const std::uint64_t kChassis = NameKey::Of("chassis");
  const std::size_t n = tokens_.size();
  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (!(tokens_[k].flags & kSpacedIdWord)) continue;
    const bool vin = tokens_[k].key == kVin || tokens_[k].key == kChassis;
    const std::size_t want = vin ? 17 : 11;
    // The groups start on the word's line, within eight tokens of it ("MBI # ...", "Medicare
    // number off the card: ..."): eleven or seventeen characters that pass the identifier's
    // check are one wherever the word that names it stands.
    for (std::size_t s = k + 1; s < n && s <= k + 8 && !tokens_[s].line_break_before(); ++s) {
      std::array<char, 17> id{};
      std::size_t length = 0;
      bool spaced = false;
      std::size_t end = 0;
      for (std::size_t e = s; e < n; ++e) {
        if (e > s) {
          const std::string_view gap = Gap(text_, tokens_[e - 1], tokens_[e]);
          if (!Is(gap, " ") && !Is(gap, "-")) break;
          spaced = spaced || Is(gap, " ");
        }
        const std::string_view piece = text_.substr(tokens_[e].begin, tokens_[e].end - tokens_[e].begin);
        if (length + piece.size() > want) break;
        for (char c : piece) id[length++] = c;
        if (length == want) {
          if (spaced) end = e + 1;
          break;
        }
      }
      if (end == 0) continue;
      const std::string_view joined(id.data(), want);
      if (vin ? !IsValidVin(joined) : !IsValidMbi(joined)) continue;
      Emit(vin ? PhiType::kVehicle : PhiType::kHealthPlan, tokens_[s].begin, tokens_[end - 1].end,
           vin ? 0.98 : 0.97, vin ? "vehicle.vin" : "plan.mbi");
      k = end - 1;
      break;
    }
  }
}

void Pass::SpelledNumbers() {
  const auto& kDigitWords = DigitWordKeys();
  const std::size_t n = tokens_.size();
  // A piece of a run: a digit word, or digits typed among the words ("617 five five five 0143").
  auto piece = [&](std::size_t k) { return tokens_[k].kind == TokenKind::kNumber && tokens_[k].end - tokens_[k].begin <= 4; };
  auto joined = [&](std::size_t k) {  // token k goes on the run of token k - 1
    const std::string_view gap = Gap(text_, tokens_[k - 1], tokens_[k]);
    return !tokens_[k].line_break_before() && !gap.empty() && gap.size() <= 2 &&
           gap.find_first_not_of(" ,-.") == std::string_view::npos;
  };
  // Counting up or down ("one two three four five six", "ten nine eight ...") is no number.
  auto counting = [](std::string_view d) {
    int up = 1;
    int down = 1;
    for (std::size_t k = 1; k < d.size(); ++k) {
      up = d[k] == d[k - 1] + 1 ? up + 1 : 1;
      down = d[k] == d[k - 1] - 1 ? down + 1 : 1;
      if (up >= 6 || down >= 6) return true;
    }
    return false;
  };
  constexpr std::size_t kMaxPieces = 16;
  for (std::size_t t = 0; t < n; ++t) {
    if (!(tokens_[t].flags & kDigitWord)) continue;
    // The run: up to two groups of digits before the first word, then words and groups.
    std::size_t first = t;
    while (first > 0 && t - first < 2 && piece(first - 1) && joined(first)) --first;
    std::array<std::size_t, kMaxPieces> tokens{};
    std::size_t count = 0;
    std::size_t words = 0;
    std::size_t k = first;
    for (; k < n; ++k) {
      if (k > first && !joined(k)) break;
      if (!(tokens_[k].flags & kDigitWord) && !piece(k)) break;
      if (count < kMaxPieces) tokens[count++] = k;
      words += (tokens_[k].flags & kDigitWord) ? 1 : 0;
    }
    t = k - 1;
    if (words < 3) continue;
    // Read the whole run, or it without one piece at either end ("bed 4 six one seven ...",
    // "... four three one more time"): a number that takes only part of a longer run is a list.
    for (const auto& [front, back] : {std::pair{0, 0}, std::pair{1, 0}, std::pair{0, 1}}) {
      if (static_cast<std::size_t>(front + back) >= count) break;
      const std::size_t a = tokens[static_cast<std::size_t>(front)];
      const std::size_t b = tokens[count - 1 - static_cast<std::size_t>(back)];
      std::string& digits = digits_;
      digits.clear();
      for (std::size_t p = static_cast<std::size_t>(front); p < count - static_cast<std::size_t>(back); ++p) {
        const Token& tok = tokens_[tokens[p]];
        if (tok.flags & kDigitWord) {
          const auto at = std::find(kDigitWords.begin(), kDigitWords.end(), tok.key) - kDigitWords.begin();
          digits.push_back(static_cast<char>('0' + (at >= 10 ? 0 : at)));
        } else {
          digits.append(text_.substr(tok.begin, tok.end - tok.begin));
        }
      }
      if (counting(digits)) continue;
      if ((digits.size() == 10 || digits.size() == 11) && IsValidNanpPhone(digits)) {
        Emit(PhiType::kPhone, tokens_[a].begin, tokens_[b].end, 0.9, "phone.spelled");
        break;
      }
      // Nine digits only right after a word for an SSN, in the same sentence.
      if (digits.size() == 9 && IsValidSsn(digits)) {
        bool labelled = false;
        for (std::size_t l = a; l-- > 0 && l + 3 >= a && !labelled;) {
          if (Gap(text_, tokens_[l], tokens_[l + 1]).find_first_of(".;\n") != std::string_view::npos) break;
          labelled = (tokens_[l].rules & tables_.ssn_mask) != 0;
        }
        if (labelled) {
          Emit(PhiType::kSsn, tokens_[a].begin, tokens_[b].end, 0.9, "ssn.spelled");
          break;
        }
      }
    }
  }
}

void Pass::SpelledEmails(bool spaced_at) {
  static const std::uint64_t kAt = NameKey::Of("at");
  static const std::uint64_t kDot = NameKey::Of("dot");
  static const std::array<std::uint64_t, 24> kTopLevel = {
      NameKey::Of("com"),  NameKey::Of("org"),  NameKey::Of("net"),    NameKey::Of("edu"),
      NameKey::Of("gov"),  NameKey::Of("us"),   NameKey::Of("io"),     NameKey::Of("co"),
      NameKey::Of("uk"),   NameKey::Of("ca"),   NameKey::Of("info"),   NameKey::Of("biz"),
      NameKey::Of("me"),   NameKey::Of("health"), NameKey::Of("test"), NameKey::Of("mil"),
      NameKey::Of("au"),   NameKey::Of("de"),   NameKey::Of("fr"),     NameKey::Of("ie"),
      NameKey::Of("nz"),   NameKey::Of("in"),   NameKey::Of("mx"),     NameKey::Of("email")};
  const std::size_t n = tokens_.size();
  auto label = [&](std::size_t k) { return k < n && !tokens_[k].line_break_before(); };
  auto spaced = [](std::string_view g) { return OnlySpaces(g, 2); };
  // "." tight or with a space on both sides, or "_" or "-" tight: the parts of a name or host
  // ("bedside. In" ends a sentence).
  auto joint = [](std::string_view g) {
    return Is(g, ".") || Is(g, "_") || Is(g, "-") || Is(g, " . ");
  };
  // "dot" spelled between two parts, with spaces or brackets: "example dot com", "example[dot]com".
  auto spelled_dot = [&](std::size_t k) {
    if (k + 1 >= n || k == 0 || tokens_[k].key != kDot) return false;
    const std::string_view before = Gap(text_, tokens_[k - 1], tokens_[k]);
    const std::string_view after = Gap(text_, tokens_[k], tokens_[k + 1]);
    return (spaced(before) && spaced(after)) || ((Is(before, "[") || Is(before, "(") || Is(before, " [") ||
                                                  Is(before, " (")) &&
                                                 (Is(after, "]") || Is(after, ")") || Is(after, "] ") ||
                                                  Is(after, ") ")));
  };
  for (std::size_t k = 1; k + 1 < n; ++k) {
    // Where the local part ends and the host begins: "at" spaced or bracketed, or '@' with spaces.
    std::size_t local_end = 0;
    std::size_t host = 0;
    bool strong = false;  // bracketed "at" or a spaced '@': meant as an address
    const bool at_word = tokens_[k].key == kAt;
    if (!at_word && !spaced_at) continue;
    const std::string_view before = Gap(text_, tokens_[k - 1], tokens_[k]);
    if (at_word && tokens_[k].kind == TokenKind::kWord && label(k + 1)) {
      const std::string_view after = Gap(text_, tokens_[k], tokens_[k + 1]);
      const bool open = Is(before, "[") || Is(before, "(") || Is(before, " [") || Is(before, " (");
      const bool close = Is(after, "]") || Is(after, ")") || Is(after, "] ") || Is(after, ") ");
      if (open && close) {
        strong = true;
      } else if (!(spaced(before) && spaced(after))) {
        continue;
      }
      local_end = k - 1;
      host = k + 1;
    } else if (before.size() >= 2 && before.size() <= 3 && !tokens_[k].line_break_before() &&
               (before[0] == '@' || before[1] == '@' || before.back() == '@') &&
               (before[0] == ' ' || before.back() == ' ')) {
      strong = true;
      local_end = k - 1;
      host = k;
    } else {
      continue;
    }
    // The host: parts joined by dots, spelled or not, ending in a top-level domain.
    bool spelled = false;
    std::size_t last = host;
    std::size_t parts = 1;
    for (std::size_t h = host; parts < 6;) {
      if (label(h + 1) && joint(Gap(text_, tokens_[h], tokens_[h + 1]))) {
        h = h + 1;
      } else if (label(h + 2) && spelled_dot(h + 1)) {
        h = h + 2;
        spelled = true;
      } else {
        break;
      }
      ++parts;
      last = h;
    }
    if (parts < 2 || std::find(kTopLevel.begin(), kTopLevel.end(), tokens_[last].key) == kTopLevel.end()) continue;
    // The local part, back over its own parts.
    std::size_t first = local_end;
    for (int count = 0; count < 3; ++count) {
      if (first >= 1 && !tokens_[first].line_break_before() &&
          joint(Gap(text_, tokens_[first - 1], tokens_[first]))) {
        first -= 1;
      } else if (first >= 2 && spelled_dot(first - 1)) {
        first -= 2;
        spelled = true;
      } else {
        break;
      }
    }
    // "at" between spaces with real dots is a sentence ("we met at example.com") unless an
    // e-mail is what it is about.
    bool mail = strong || spelled;
    for (std::size_t b = first > 3 ? first - 3 : 0; !mail && b < first; ++b) {
      mail = (tokens_[b].flags & kMailWord) != 0;
    }
    if (!mail) continue;
    Emit(PhiType::kEmail, tokens_[first].begin, tokens_[last].end, 0.9, "email.spelled");
    k = last;
  }
}

void Pass::ColonRuns() {
  const std::size_t n = text_.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t colon = text_.find(':', i);
    if (colon == std::string_view::npos) break;
    std::size_t l = colon;
    while (l > 0 && (IsHex(text_[l - 1]) || text_[l - 1] == ':')) --l;
    std::size_t r = colon;
    while (r < n && (IsHex(text_[r]) || text_[r] == ':' ||
                     (text_[r] == '.' && r + 1 < n && IsDigit(text_[r + 1])))) {
      ++r;
    }
    i = r + 1;
    if (r - l < 6 || (l > 0 && IsAlnum(text_[l - 1])) || (r < n && IsAlnum(text_[r]))) continue;
    const std::string_view span = text_.substr(l, r - l);
    const std::size_t first_token = TokenAt(l);
    const std::size_t last_token = first_token < tokens_.size() ? TokenAt(r - 1) : first_token;
    Window w;
    if (first_token < tokens_.size() && last_token < tokens_.size()) {
      w = Around(text_, tokens_, first_token, last_token);
    }
    bool mac = span.size() == 17;
    for (std::size_t k = 0; mac && k < 17; ++k) mac = (k % 3 == 2) ? span[k] == ':' : IsHex(span[k]);
    if (mac) {
      Emit(PhiType::kDevice, l, r, (w.rules & tables_.device_mask) ? 0.95 : 0.85, "device.mac");
    } else if (std::count(span.begin(), span.end(), ':') >= 2 && IsValidIpv6(span)) {
      Emit(PhiType::kIp, l, r, (w.rules & tables_.ip_mask) ? 0.95 : 0.8, "ip.v6");
    }
  }
}

std::optional<Hit> Pass::PatternHit(unsigned rule_index, std::size_t from, std::size_t to) const {
  const Rule& rule = rules_[rule_index];
  std::size_t begin = from;
  std::size_t end = to;
  if ((tables_.extending >> rule_index) & 1u) {
    const auto& members = tables_.extend_classes[rule_index];
    while (end < text_.size()) {
      const auto c = static_cast<unsigned char>(text_[end]);
      if (((members[c >> 6] >> (c & 63)) & 1u) == 0) break;
      ++end;
    }
  }
  double floor = 0;
  switch (rule.validator) {
    case Validator::kPhoneIntl: {
      // Not inside a word or a longer number ("K+4", "v2+3"), and 8 to 15 digits in all.
      if (begin > 0 && IsAlnum(text_[begin - 1])) return std::nullopt;
      if (end < text_.size() && IsAlnum(text_[end])) return std::nullopt;
      int digits = 0;
      for (std::size_t k = begin; k < end; ++k) digits += IsDigit(text_[k]) ? 1 : 0;
      if (digits < 8 || digits > 15) return std::nullopt;
      break;
    }
    case Validator::kEmail: {
      // The pattern starts at '@'; the local part is found here.
      std::size_t b = begin;
      if (b > 1 && text_[b - 1] == ' ' && IsAlnum(text_[b - 2])) {
        // "jane @example.com", typed with a space: an address only if it ends in a top-level
        // domain people write addresses with, since "thanks @umar.siddiqui" is a mention.
        const std::string_view domain = text_.substr(begin, end - begin);
        if (!IsCommonTopLevelDomain(domain.substr(domain.rfind('.') + 1))) return std::nullopt;
        --b;
      }
      // An apostrophe may stand in a local part ("ruth.o'neil@"): leaving it out would leave
      // "ruth.o'" in the text.
      while (b > 0 && (IsAlnum(text_[b - 1]) || std::string_view("._%+-'").find(text_[b - 1]) != std::string_view::npos)) --b;
      while (b < begin && !IsAlnum(text_[b])) ++b;
      if (b == begin) return std::nullopt;
      begin = b;
      break;
    }
    case Validator::kUrl:
      if (text_[begin] == '.') {
        // A bare host ("example.net/family"): the name before the top-level domain; a match
        // inside a URL with a scheme or "www." is already covered by that one.
        std::size_t b = begin;
        while (b > 0 && (IsAlnum(text_[b - 1]) || text_[b - 1] == '.' || text_[b - 1] == '-')) --b;
        if (b == begin || (b > 0 && (text_[b - 1] == '/' || text_[b - 1] == '@'))) {
          return std::nullopt;
        }
        begin = b;
      }
      end = begin + UrlLength(text_.substr(begin, end - begin));
      if (IsPersonalUrl(text_.substr(begin, end - begin))) floor = 0.85;
      break;
    case Validator::kMrn:
      if (index_ != nullptr && rule.index_confidence > 0 &&
          index_->HasMrn(NormalizeMrn(text_.substr(begin, end - begin)))) {
        floor = rule.index_confidence;
      }
      break;
    default:
      break;
  }
  if (begin >= end) return std::nullopt;
  if (begin > 0 && IsAlnum(text_[begin - 1]) && IsAlnum(text_[begin]) &&
      rule.validator != Validator::kEmail) {
    return std::nullopt;
  }
  const std::size_t first = TokenAt(begin);
  const std::size_t last = TokenAt(end - 1);
  Window w;
  if (first < tokens_.size() && last < tokens_.size() && first <= last) {
    w = Around(text_, tokens_, first, last);
  }
  const double confidence = Score(rule, rule_index, w, false, floor);
  if (confidence < options_.min_confidence) return std::nullopt;
  return Hit{rule.type, begin, end, confidence, rule.id};
}

void Pass::PatternMatches(const std::vector<RawMatch>& raw) {
  // Hyperscan reports every end of a match. For one rule and one start, the finding of a
  // shorter end starts where the longest kept one does and ends inside it, so the merge drops
  // it: only the longest end is validated, and a shorter one only while none longer was kept
  // (a URL with a few dozen ends is validated once, not once per end).
  struct Group {
    unsigned rule;
    std::uint32_t from;
    bool kept;
  };
  std::array<Group, 32> groups;
  std::size_t group_count = 0;
  hits_.assign(raw.size(), std::nullopt);
  for (std::size_t i = raw.size(); i-- > 0;) {
    const RawMatch& m = raw[i];
    Group* group = nullptr;
    for (std::size_t g = 0; g < group_count && group == nullptr; ++g) {
      if (groups[g].rule == m.rule && groups[g].from == m.from) group = &groups[g];
    }
    if (group != nullptr && group->kept) continue;
    hits_[i] = PatternHit(m.rule, m.from, m.to);
    if (group != nullptr) {
      group->kept = hits_[i].has_value();
    } else if (group_count < groups.size()) {
      groups[group_count++] = {m.rule, m.from, hits_[i].has_value()};
    }
  }
  for (const std::optional<Hit>& hit : hits_) {
    if (hit) Emit(hit->type, hit->begin, hit->end, hit->confidence, hit->rule_id);
  }
}

int OnMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
            void* context) {
  auto& raw = *static_cast<std::vector<RawMatch>*>(context);
  // Hyperscan reports every end of a match; for one rule and one start keep the longest.
  if (!raw.empty() && raw.back().rule == id && raw.back().from == from) {
    raw.back().to = static_cast<std::uint32_t>(to);
    return 0;
  }
  raw.push_back({id, static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(to)});
  return 0;
}

}  // namespace

std::vector<Finding> Scanner::Scan(std::string_view text) const {
  std::unique_ptr<State> state = Acquire();
  state->hits.clear();
  state->normalized = NormalizeForScan(text, std::move(state->normalized));
  const std::string_view norm = state->normalized.text();
  if (index_) {
    const std::uint64_t version = index_->Version();  // read before the snapshot is taken
    if (version != state->snapshot_version || !state->snapshot) {
      state->snapshot = index_->Snapshot();
      state->snapshot_version = version;
    }
  }
  const PatientIndexSnapshot* snapshot = state->snapshot.get();
  TextFacts facts;
  const std::span<const Token> tokens =
      Tokenize(state->normalized, tables_->words, snapshot, state->tokens, state->lists, facts);
  Pass pass(state->normalized, rules_, *tables_, snapshot, options_, tokens, state->lists,
            state->hits, state->candidates, state->digits, state->pattern_hits);
  // Each recognizer needs some kind of word or a digit to match anything: most messages skip
  // most of them.
  if (facts.digit) {
    pass.DigitRuns();
    if (facts.words & (kStreetSuffix | kBox)) pass.Streets();
    pass.Ages();
    pass.BirthYears();
    pass.PartialSsns();
    pass.TokenRules();  // letters and digits in one group
    pass.CompactDates();
    if (facts.words & kDeviceWord) pass.GroupedMacs();
    if (facts.words & kSpacedIdWord) pass.SpacedIds();
  }
  if (facts.words & kDigitWord) pass.SpelledNumbers();
  if (facts.words & kOldAgeWord) pass.SpelledAges();
  if (facts.words & kStreetSuffix) pass.NamedStreets();
  pass.Names();
  pass.TiedDates();
  if (facts.words & kState) pass.Cities();
  if (facts.words & kPlaceWord) pass.Places();
  if (facts.digit && facts.month) pass.WordDates();  // a day needs digits
  if (facts.colon) pass.ColonRuns();
  // An '@' with a space beside it ("maria . garcia @ example . com"); most '@' are in addresses
  // the e-mail pattern reads.
  const bool spaced_at =
      facts.at_sign && (norm.find(" @") != std::string_view::npos || norm.find("@ ") != std::string_view::npos);
  if ((facts.words & (kSpelledDot | kMailWord)) || facts.parenthesis || spaced_at) pass.SpelledEmails(spaced_at);
  const auto& triggers = tables_->pattern_triggers;
  const bool run_patterns =
      database_ != nullptr && state->scratch != nullptr &&
      (triggers[static_cast<std::size_t>(Trigger::kAlways)] ||
       (facts.digit && triggers[static_cast<std::size_t>(Trigger::kDigit)]) ||
       (facts.at_sign && triggers[static_cast<std::size_t>(Trigger::kAtSign)]) ||
       (facts.url && triggers[static_cast<std::size_t>(Trigger::kUrl)]) ||
       (facts.parenthesis && triggers[static_cast<std::size_t>(Trigger::kParenthesis)]) ||
       (facts.gs1 && triggers[static_cast<std::size_t>(Trigger::kGs1)]) ||
       (facts.plus && triggers[static_cast<std::size_t>(Trigger::kPlus)]));
  if (run_patterns && !norm.empty()) {
    state->raw.clear();
    hs_scan(database_, norm.data(), static_cast<unsigned>(norm.size()), 0, state->scratch,
            OnMatch, &state->raw);
    pass.PatternMatches(state->raw);
  }
  pass.RepeatedNames();  // last: a repetition inside an e-mail or URL is part of that

  auto& found = state->hits;
  std::sort(found.begin(), found.end(), [](const Hit& a, const Hit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  auto& merged = state->merged;
  merged.clear();
  for (const Hit& f : found) {
    if (!merged.empty() && f.begin < merged.back().end) {
      Hit& last = merged.back();
      // A finding inside another (an MRN inside a URL) is part of it; a partial overlap, or
      // two readings of the same span, go to the more confident one.
      const bool same_span = f.begin == last.begin && f.end == last.end;
      const bool better = (f.end > last.end || same_span) && f.confidence > last.confidence;
      last.end = std::max(last.end, f.end);
      if (better) {
        last.type = f.type;
        last.confidence = f.confidence;
        last.rule_id = f.rule_id;
      }
      continue;
    }
    merged.push_back(f);
  }
  std::vector<Finding> out;
  out.reserve(merged.size());
  for (const Hit& f : merged) {
    out.push_back({f.type, state->normalized.OriginalBegin(f.begin),
                   state->normalized.OriginalEnd(f.end), f.confidence, std::string(f.rule_id)});
  }
  Release(std::move(state));
  return out;
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
  return PhiAction::kBlock;  // not a valid rule: fail closed
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
