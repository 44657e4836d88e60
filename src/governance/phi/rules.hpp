// The PHI rule set: one Hyperscan pattern per rule, each with its type, validator, confidences
// and context words (pure values).
//
// A rule's pattern finds candidates; its validator accepts, trims or rejects each; its context
// words (looked for among the few tokens before and after) lift the confidence from `base` to
// `with_context`. Rules with `base` below the scanner's threshold fire only with context. Rules
// marked numeric_guard are dropped next to the hard negatives of clinical text: units ("mg",
// "mmHg", "%"), vital and lab labels ("BP", "HR", "K", "A1c"), code labels ("ICD", "order").
#pragma once

#include <string>
#include <vector>

#include "governance/phi/types.hpp"

namespace rounds::governance::phi {

enum class Validator {
  kNone,
  kPhone,        // NANP, 10 or 11 digits
  kPhoneLocal,   // 7 digits, exchange 2-9
  kSsn,
  kCard,         // Luhn, 13-19 digits
  kNpi,          // Luhn with the 80840 prefix
  kDea,          // DEA checksum
  kVin,          // ISO 3779 check digit
  kIpv4,
  kIpv6,
  kMbi,
  kImei,         // Luhn, 15 digits
  kMrn,          // any shape; a hit in the patient index raises confidence
  kDigitsOnly,   // span trimmed to its digits (context-only identifiers)
  kHasDigit,     // must contain a digit (serials, plates)
  kDateNumeric,  // m/d/y, m/d/yy, m/d, y-m-d
  kDateWords,    // "March 14, 1962", "14 Mar 1962"
  kAge,          // 90..125; span trimmed to the number
  kZipAfterState,  // span trimmed to the ZIP; lower-case state words that are English are weak
  kEmail,
  kUrl,          // trailing punctuation trimmed; personal URLs (ids, query, ~user) score higher
  kStreet,       // number + street words without stop words
  kCity,         // span trimmed to the city before ", ST"
};

struct Rule {
  std::string id;          // stable, e.g. "phone.formatted"; reported in findings
  PhiType type = PhiType::kName;
  std::string pattern;     // Hyperscan syntax (PCRE subset), ASCII only
  bool caseless = true;
  Validator validator = Validator::kNone;
  double base = 0.5;          // confidence of a valid match with no context word
  double with_context = 0.9;  // confidence with a context word nearby
  std::vector<std::string> context;  // lower-case tokens, punctuation removed ("d.o.b" -> "dob")
  bool numeric_guard = true;
  // For MRN rules: confidence when the candidate is an MRN in the patient index (0: unused).
  double index_confidence = 0;
};

struct RuleOptions {
  // The organization's MRN formats as printed, in Hyperscan syntax without anchors; each
  // becomes a rule matched as a whole word. Numbers in these shapes that are in the patient
  // index are reported without a context word.
  std::vector<std::string> mrn_formats = {"\\d{8}", "\\d{4}[ \\-]\\d{4}"};
};

struct RuleSet {
  std::vector<Rule> rules;
};

// The built-in rules for the Safe Harbor identifiers that appear in text (names are matched
// against the patient index by the scanner, not by a pattern).
RuleSet DefaultRuleSet(const RuleOptions& options = {});

}  // namespace rounds::governance::phi
