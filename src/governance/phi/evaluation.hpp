// Evaluation of the PHI scanner on the synthetic labelled corpus (pure: the caller supplies the
// output stream and, for throughput, the clock).
//
// Figures follow security-targets section 4: per type precision, recall and F2 at span-overlap
// level; type-agnostic any-PHI recall, where a gold span counts only when every letter and digit
// of it is covered (what redaction needs); the message leak rate (share of PHI messages with at
// least one span not fully covered); false positives per 1,000 PHI-free messages; Wilson 95%
// intervals; recall per perturbation.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "governance/phi/corpus.hpp"
#include "governance/phi/scanner.hpp"

namespace rounds::governance::phi {

struct Interval {
  double low = 0;
  double high = 0;
};
// Wilson score interval for successes out of trials (z = 1.96 for 95%); [0, 1] when trials == 0.
Interval WilsonInterval(std::size_t successes, std::size_t trials, double z = 1.96);

struct TypeFigures {
  std::size_t gold = 0;       // gold spans of this type
  std::size_t detected = 0;   // ... overlapped by a finding of this type
  std::size_t predicted = 0;  // findings of this type
  std::size_t correct = 0;    // ... overlapping a gold span of this type
  double Recall() const { return gold == 0 ? 1.0 : static_cast<double>(detected) / gold; }
  double Precision() const { return predicted == 0 ? 1.0 : static_cast<double>(correct) / predicted; }
  double F2() const;
};

struct EvaluationFigures {
  std::array<TypeFigures, kPhiTypeCount> types{};
  std::size_t messages = 0;
  std::size_t phi_messages = 0;
  std::size_t leaked_messages = 0;     // PHI messages with a span not fully covered
  std::size_t gold_spans = 0;
  std::size_t covered_spans = 0;       // every letter and digit inside a finding
  std::size_t clean_messages = 0;      // clean + hard-negative messages
  std::size_t clean_findings = 0;      // findings in them (all false positives)
  std::size_t clean_messages_flagged = 0;
  std::size_t hard_negative_messages = 0;
  std::size_t hard_negative_findings = 0;
  std::array<std::size_t, kPerturbationCount> spans_by_perturbation{};
  std::array<std::size_t, kPerturbationCount> covered_by_perturbation{};

  const TypeFigures& For(PhiType type) const { return types[static_cast<std::size_t>(type)]; }
  double AnyPhiRecall() const;
  double LeakRate() const;
  double FalsePositivesPer1000() const;
  // Recall pooled over the structured identifier types, and over names, places and dates.
  double StructuredRecall() const;
  double NamesPlacesDatesRecall() const;
};

// Scans every message of one half (held_out true: the held-out templates) and scores it.
EvaluationFigures Evaluate(const Scanner& scanner, std::span<const LabelledMessage> messages,
                           bool held_out);

void PrintFigures(std::ostream& out, const EvaluationFigures& figures, std::string_view title);

// PHI split between two posts (continuation.hpp). Each PHI message of a half is cut in two twice:
// inside its first identifier of four bytes or more that does not open the message, at the
// separator nearest its middle ("987-65-" | "4321", "Maria" | "Garcia"), and right before it,
// which leaves its context word in the first post ("DOB" | "3/4/1950"). What the second post holds
// of each gold span (two letters or digits at least) is scored as Evaluate scores spans, once
// scanning the second post alone and once after the first, as a post is screened. Consecutive
// PHI-free messages of the half are paired too: a second one given a finding only by the first is
// a false positive.
struct SplitFigures {
  std::size_t posts = 0;            // second posts holding part of a gold span
  std::size_t gold_spans = 0;       // parts of gold spans in them
  std::size_t covered_alone = 0;    // ... every letter and digit inside a finding of the post alone
  std::size_t covered_across = 0;   // ... of the post after the first
  std::size_t leaked_alone = 0;     // second posts with a part not fully covered, alone
  std::size_t leaked_across = 0;    // ... after the first
  std::size_t clean_pairs = 0;      // consecutive PHI-free messages
  std::size_t clean_flagged = 0;    // second ones given a finding only after the first
  double AnyPhiRecallAcross() const;
  double LeakRateAcross() const;
  double FalsePositivesPer1000() const;
};
// kSameAuthor: the second post continues its author's first (FindingsAcross), cut both ways.
// kReply: the second is another author's reply to the first (FindingsInReply), cut only before the
// identifier, since a reply never finishes what another began; the question is whatever the first
// post ends with, its question mark, full stop or none.
enum class SplitReading { kSameAuthor, kReply };
SplitFigures EvaluateSplit(const Scanner& scanner, std::span<const LabelledMessage> messages, bool held_out,
                           SplitReading reading = SplitReading::kSameAuthor);
void PrintSplitFigures(std::ostream& out, const SplitFigures& figures, std::string_view title,
                       SplitReading reading = SplitReading::kSameAuthor);

// Everything an evaluation needs: the corpus, its patient index and a scanner over it.
struct EvaluationSetup {
  Corpus corpus;
  std::shared_ptr<PatientIndex> index;
  std::unique_ptr<Scanner> scanner;
};
Result<EvaluationSetup> PrepareEvaluation(const CorpusOptions& options = {});

struct EvaluationReport {
  EvaluationFigures tuning;
  EvaluationFigures held_out;
  SplitFigures split_tuning;
  SplitFigures split_held_out;
  SplitFigures reply_tuning;
  SplitFigures reply_held_out;
};

// Generates the corpus, builds the index and scanner, evaluates both halves and prints them
// (what `rounds bench phi` shows). Errors: those of PrepareEvaluation.
Result<EvaluationReport> RunEvaluation(std::ostream& out, const CorpusOptions& options = {});

// The committed figures header (committed_figures.hpp) for these held-out figures, rounded down
// to three decimals (rates of misses rounded up), so a regression test can hold the line.
std::string CommittedFiguresHeader(const EvaluationFigures& held_out, const SplitFigures& split_held_out = {},
                                   const SplitFigures& reply_held_out = {});

struct ThroughputFigures {
  std::size_t bytes = 0;
  std::size_t messages = 0;
  double seconds = 0;
  double megabytes_per_second = 0;  // 10^6 bytes per second, one thread
  double p50_microseconds = 0;      // per message
  double p99_microseconds = 0;
};

// Scans `messages` on the calling thread in whole passes until `min_seconds` have passed on
// `rate_clock` (the caller's clock, e.g. the thread's CPU time) and reports the rate; then times
// each message once on `latency_clock` (a cheap monotonic clock) for the percentiles.
ThroughputFigures MeasureThroughput(const Scanner& scanner, std::span<const std::string> messages,
                                    const std::function<double()>& rate_clock,
                                    const std::function<double()>& latency_clock,
                                    double min_seconds);

// A floor for the scanner's cost, measured on the same machine in the same run: the least any
// scanner that looks every word up in the patient index must do. It splits `messages` into runs of
// ASCII letters and digits, keys each run (lower case, as NameKey) and asks the index's filter
// about it; nothing else (no normalization, no other recognizer, no findings). Timed in whole
// passes until `min_seconds` have passed on `rate_clock`.
struct FloorFigures {
  std::size_t bytes = 0;
  double seconds = 0;
  double megabytes_per_second = 0;
  std::size_t words_per_pass = 0;        // words looked up in one pass over `messages`
  std::size_t maybe_names_per_pass = 0;  // of which the filter let through
};
FloorFigures MeasureLookupFloor(const PatientIndexSnapshot& index, std::span<const std::string> messages,
                                const std::function<double()>& rate_clock, double min_seconds);

// A second yardstick, measured in the same run: Debian's Hyperscan (the engine the scanner runs
// its pattern rules on) given only the shapes of the structured identifiers, kReferencePatterns
// (phone numbers, SSNs, numeric and month-name dates, e-mail addresses, URLs, IPv4 addresses, ZIP
// codes, long digit runs, letter-prefixed identifiers, grouped card numbers, ages, street lines),
// and asked where they are in each of `messages`, one message at a time as the scanner is. No
// normalization, no validation, no context words, no names. With `spans` it also tracks where
// each match starts (HS_FLAG_SOM_LEFTMOST), which redacting a finding needs; without, it reports
// only where matches end. Timed in whole passes until `min_seconds` have passed on `rate_clock`.
// Errors: kInternal when Hyperscan refuses the patterns or the scratch space.
struct ReferenceFigures {
  std::size_t bytes = 0;
  double seconds = 0;
  double megabytes_per_second = 0;
  std::size_t patterns = 0;
  std::size_t matches_per_pass = 0;  // match reports in one pass over `messages`
};
extern const std::array<std::string_view, 14> kReferencePatterns;
Result<ReferenceFigures> MeasurePatternReference(std::span<const std::string> messages, bool spans,
                                                 const std::function<double()>& rate_clock, double min_seconds);

struct BenchmarkOptions {
  bool quality = true;     // precision, recall, F2 per type on both halves
  bool throughput = true;  // MB/s per core on the realistic mix, PHI-free text and documents, the floor
                           // and the pattern reference
  double seconds = 3;      // per throughput figure, on the thread's CPU clock
  bool mix_only = false;   // throughput of the realistic mix alone (for profiling the scanner)
};

// What `rounds bench phi` and `rounds-bench-phi` print: the evaluation, then single-core
// throughput on a realistic message mix with a 100,000-patient index. Returns a process exit
// status (0 ok, 1 when the corpus or scanner could not be built).
int RunBenchmark(const BenchmarkOptions& options, std::ostream& out);

}  // namespace rounds::governance::phi
