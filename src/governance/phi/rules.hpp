// The PHI rule set (pure values): which identifiers the scanner looks for, how each is
// recognized and validated, how confident a match is, and which nearby words raise it.
//
// Three kinds of rule, each run by the engine that is fastest for it (measured on short chat
// messages, where a Hyperscan database of digit- and letter-led regexes ran at about 5 MB/s
// per core because its NFAs stay active on every digit and letter):
//  - kPattern: a Hyperscan regex, compiled once with every other pattern rule into one
//    database (hs_compile_multi, HS_FLAG_SOM_LEFTMOST). Used for identifiers with rich syntax
//    (e-mail, URLs, UDI, organization-specific MRN formats). The database runs only on texts
//    that contain the rule's trigger (an '@', a '/' or "www", a digit, ...).
//  - kDigits: a run of digit groups, however the writer split it ("617 555 0142",
//    "4111-1111-1111-1111", "6 1 7 5 5 5 0 1 4 2"): every contiguous part of the run whose digit
//    count lies in [min_length, max_length] is offered to the validator.
//  - kToken: one word of letters and digits, or up to three joined by '-' ("1EG4-TE5-MK73",
//    "XJH123456789", "1HGCM82633A004352"), whose length lies in [min_length, max_length].
// Names (patient index), street addresses, cities, ages, dates written with month names, IPv6
// and MAC addresses are built-in recognizers of the scanner with their own rule ids.
//
// Confidence: `base` for a valid match, `formatted` when digits are grouped the way the
// identifier is printed (3-3-4 for phones, 3-2-4 for SSNs), `with_context` when one of the
// rule's context words is among the five tokens before or two after the match. Rules whose base
// is below the scanner's threshold fire only with context. Rules marked numeric_guard are
// dropped next to the hard negatives of clinical text: units ("mg", "mmHg", "%") after, and
// vital, lab and code labels ("BP", "HR", "K", "A1c", "ICD", "order") before.
#pragma once

#include <string>
#include <vector>

#include "governance/phi/types.hpp"

namespace rounds::governance::phi {

enum class RuleKind { kPattern, kDigits, kToken };

enum class Validator {
  kNone,
  kPhone,         // NANP, 10 or 11 digits
  kPhoneLocal,    // 7 digits, exchange 2-9
  kPhoneIntl,     // "+" and a country code, 8 to 15 digits in all, not inside a longer number
  kSsn,
  kCard,          // Luhn, 13-19 digits, card network prefix
  kNpi,           // Luhn with the 80840 prefix
  kImei,          // Luhn, 15 digits
  kMrn,           // any digits; a hit in the patient index raises confidence
  kZip,           // 5 digits, or 5-4; after a state code it needs no context word
  kDate,          // m/d/y, m/d/yy, y-m-d, m/d with one kind of separator, calendar-valid
  kIpv4,          // four dot-separated octets
  kDea,           // DEA checksum
  kVin,           // ISO 3779 check digit
  kMbi,           // Medicare Beneficiary Identifier format
  kMrnPrefixed,   // "MRN48213377": span trimmed to the number
  kHasDigit,      // context-only identifiers: any digits
  kEmail,         // local part extended to the left of the match
  kUrl,           // ends where the sentence resumes; personal URLs (ids, query, ~user) score higher
};

// What a text must contain for a pattern rule to be worth running: kGs1 is the "(01)" that opens
// a GS1 device identifier, kPlus a '+' before a digit.
enum class Trigger { kAlways, kDigit, kAtSign, kUrl, kParenthesis, kGs1, kPlus };

struct Rule {
  std::string id;              // stable, e.g. "phone.nanp"; reported in findings
  PhiType type = PhiType::kName;
  RuleKind kind = RuleKind::kPattern;
  std::string pattern;         // kPattern: Hyperscan syntax, ASCII only
  // kPattern: one character class in Hyperscan syntax (e.g. "[^\\s<>]"), or empty. The scanner
  // extends the end of each match over the run of these characters that follows it. A pattern
  // that ends in such a run ("https?://[^\\s]+") makes Hyperscan report a match at every
  // character of the run; the pattern without the run and this class find the same longest
  // match with one report.
  std::string extend_over;
  bool caseless = true;        // kPattern
  Trigger trigger = Trigger::kAlways;  // kPattern
  int min_length = 0;          // kDigits: digits; kToken: letters and digits
  int max_length = 0;
  Validator validator = Validator::kNone;
  double base = 0.5;
  double formatted = 0;        // 0: same as base
  double with_context = 0.9;
  std::vector<std::string> context;  // lower-case words, punctuation removed ("d.o.b" -> "dob")
  bool numeric_guard = true;
  double index_confidence = 0;  // kMrn: confidence when the number is in the patient index
};

struct RuleOptions {
  // Organization-specific MRN formats as printed, in Hyperscan syntax without anchors, e.g.
  // "[A-Z]\\d{7}"; each becomes a pattern rule matched as a whole word. Digit-only MRNs need no
  // format: they are found by context word or by their presence in the patient index.
  std::vector<std::string> mrn_formats;
};

struct RuleSet {
  std::vector<Rule> rules;
};

// The built-in rules for the Safe Harbor identifiers that appear in text.
RuleSet DefaultRuleSet(const RuleOptions& options = {});

}  // namespace rounds::governance::phi
