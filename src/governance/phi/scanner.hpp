// The PHI scanner: finds Safe Harbor identifiers in free text (pure: no I/O, no clock, no
// threads of its own).
//
// A Scanner compiles a RuleSet once (pattern rules into one Hyperscan database, context words
// into one hash table). Scan() normalizes the text for chat habits (full-width digits,
// zero-width characters, Unicode dashes, spaces and quotes), splits it into tokens in one pass,
// finds candidates (digit runs however they are split, letter-digit words, the pattern rules,
// the built-in recognizers), validates each (checksums, calendar, number plans), scores it by
// context words, drops hard negatives (doses, vitals, lab values, codes), matches names and MRNs
// against the patient index (and a matched name where the message repeats it), finds towns from
// a gazetteer of US place names next to a preposition, a state code or a street line, merges
// overlapping spans and maps them back to byte offsets of the input.
//
// Thread safety: Scan() may be called concurrently from any number of threads on one Scanner;
// each call borrows its own Hyperscan scratch space from a pool. The patient index may be
// updated while scans run: each scan reads one consistent snapshot.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "governance/phi/patient_index.hpp"
#include "governance/phi/rules.hpp"
#include "governance/phi/types.hpp"
#include "governance/policy/policy_template.hpp"

struct hs_database;
struct hs_scratch;

namespace rounds::governance::phi {

struct ScannerOptions {
  double min_confidence = 0.5;       // findings below this are not reported
  std::size_t context_tokens_before = 5;
  std::size_t context_tokens_after = 2;
};

class Scanner {
 public:
  // Compiles `rules`. `index` may be null (no name or MRN dictionary); the scanner keeps it
  // alive and reads its current snapshot on every scan. Errors: kInvalidArgument naming the
  // rule whose pattern Hyperscan rejects.
  static Result<std::unique_ptr<Scanner>> Create(RuleSet rules,
                                                 std::shared_ptr<const PatientIndex> index,
                                                 ScannerOptions options = {});
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Findings in `text`, sorted by begin, not overlapping, offsets into `text`. Cost is linear
  // in the text plus the candidates found; callers bound the text size (messages are
  // size-checked before they get here).
  std::vector<Finding> Scan(std::string_view text) const;

  const RuleSet& rules() const { return rules_; }

  struct Tables;  // implementation detail: word table and rule lists derived from the rules

 private:
  struct State;
  Scanner(RuleSet rules, std::shared_ptr<const PatientIndex> index, ScannerOptions options);
  std::unique_ptr<State> Acquire() const;
  void Release(std::unique_ptr<State> state) const;

  RuleSet rules_;
  std::shared_ptr<const PatientIndex> index_;
  ScannerOptions options_;
  std::unique_ptr<const Tables> tables_;
  hs_database* database_ = nullptr;  // null when the rule set has no pattern rules
  hs_scratch* prototype_ = nullptr;  // cloned for each pooled State
  // One state is kept outside the pool, taken and returned with one atomic exchange each (a
  // single caller, the common case, never locks); further concurrent scans use the pool.
  mutable std::atomic<State*> spare_{nullptr};  // owned
  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<State>> pool_;  // guarded by pool_mu_
};

// `text` with every finding's span replaced by "[REDACTED:TYPE]" (overlapping spans merged, the
// type of the most confident one kept). Findings must hold offsets into `text`.
std::string Redact(std::string_view text, std::span<const Finding> findings);

// What a space does with a message, given its template's PHI rule and the scan's findings.
enum class PhiAction { kAllow, kWarn, kHold, kBlock, kRedact };
PhiAction Decide(policy::PhiRule rule, std::span<const Finding> findings);
std::string_view ToString(PhiAction action);

}  // namespace rounds::governance::phi
