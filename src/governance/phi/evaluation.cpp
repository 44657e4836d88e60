#include "governance/phi/evaluation.hpp"

#include <hs/hs.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <sstream>

#include "governance/phi/continuation.hpp"

namespace rounds::governance::phi {

Interval WilsonInterval(std::size_t successes, std::size_t trials, double z) {
  if (trials == 0) return {0, 1};
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

double TypeFigures::F2() const {
  const double p = Precision();
  const double r = Recall();
  return p + r == 0 ? 0 : 5 * p * r / (4 * p + r);
}

double EvaluationFigures::AnyPhiRecall() const {
  return gold_spans == 0 ? 1.0 : static_cast<double>(covered_spans) / gold_spans;
}

double EvaluationFigures::LeakRate() const {
  return phi_messages == 0 ? 0.0 : static_cast<double>(leaked_messages) / phi_messages;
}

double EvaluationFigures::FalsePositivesPer1000() const {
  return clean_messages == 0 ? 0.0 : 1000.0 * static_cast<double>(clean_findings) / clean_messages;
}

double EvaluationFigures::StructuredRecall() const {
  std::size_t gold = 0;
  std::size_t detected = 0;
  for (PhiType t : kAllPhiTypes) {
    if (!IsStructured(t)) continue;
    gold += For(t).gold;
    detected += For(t).detected;
  }
  return gold == 0 ? 1.0 : static_cast<double>(detected) / gold;
}

double EvaluationFigures::NamesPlacesDatesRecall() const {
  std::size_t gold = 0;
  std::size_t detected = 0;
  for (PhiType t : kAllPhiTypes) {
    if (IsStructured(t)) continue;
    gold += For(t).gold;
    detected += For(t).detected;
  }
  return gold == 0 ? 1.0 : static_cast<double>(detected) / gold;
}

namespace {

bool Overlaps(std::size_t a_begin, std::size_t a_end, std::size_t b_begin, std::size_t b_end) {
  return a_begin < b_end && b_begin < a_end;
}

bool IsContent(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

// Zero-width characters (E2 80 8B..8D) carry nothing to leak.
bool IsZeroWidthAt(std::string_view text, std::size_t i) {
  for (std::size_t back = 0; back < 3 && back <= i; ++back) {
    const std::size_t s = i - back;
    if (s + 2 < text.size() && static_cast<unsigned char>(text[s]) == 0xE2 &&
        static_cast<unsigned char>(text[s + 1]) == 0x80 &&
        static_cast<unsigned char>(text[s + 2]) >= 0x8B &&
        static_cast<unsigned char>(text[s + 2]) <= 0x8D) {
      return true;
    }
  }
  return false;
}

bool FullyCovered(std::string_view text, const GoldSpan& gold, const std::vector<Finding>& found) {
  for (std::size_t i = gold.begin; i < gold.end; ++i) {
    if (!IsContent(text[i]) || IsZeroWidthAt(text, i)) continue;
    const bool inside = std::any_of(found.begin(), found.end(), [&](const Finding& f) {
      return f.begin <= i && i < f.end;
    });
    if (!inside) return false;
  }
  return true;
}

}  // namespace

EvaluationFigures Evaluate(const Scanner& scanner, std::span<const LabelledMessage> messages,
                           bool held_out) {
  EvaluationFigures fig;
  for (const LabelledMessage& msg : messages) {
    if (msg.held_out != held_out) continue;
    ++fig.messages;
    const std::vector<Finding> found = scanner.Scan(msg.text);
    if (msg.kind != MessageKind::kPhi) {
      ++fig.clean_messages;
      fig.clean_findings += found.size();
      if (!found.empty()) ++fig.clean_messages_flagged;
      if (msg.kind == MessageKind::kHardNegative) {
        ++fig.hard_negative_messages;
        fig.hard_negative_findings += found.size();
      }
    } else {
      ++fig.phi_messages;
    }
    bool leaked = false;
    for (const GoldSpan& g : msg.gold) {
      TypeFigures& t = fig.types[static_cast<std::size_t>(g.type)];
      ++t.gold;
      if (std::any_of(found.begin(), found.end(), [&](const Finding& f) {
            return f.type == g.type && Overlaps(f.begin, f.end, g.begin, g.end);
          })) {
        ++t.detected;
      }
      ++fig.gold_spans;
      const auto p = static_cast<std::size_t>(msg.perturbation);
      ++fig.spans_by_perturbation[p];
      if (FullyCovered(msg.text, g, found)) {
        ++fig.covered_spans;
        ++fig.covered_by_perturbation[p];
      } else {
        leaked = true;
      }
    }
    if (leaked) ++fig.leaked_messages;
    for (const Finding& f : found) {
      TypeFigures& t = fig.types[static_cast<std::size_t>(f.type)];
      ++t.predicted;
      if (std::any_of(msg.gold.begin(), msg.gold.end(), [&](const GoldSpan& g) {
            return g.type == f.type && Overlaps(f.begin, f.end, g.begin, g.end);
          })) {
        ++t.correct;
      }
    }
  }
  return fig;
}

double SplitFigures::AnyPhiRecallAcross() const {
  return gold_spans == 0 ? 1.0 : static_cast<double>(covered_across) / gold_spans;
}

double SplitFigures::LeakRateAcross() const {
  return posts == 0 ? 0.0 : static_cast<double>(leaked_across) / posts;
}

double SplitFigures::FalsePositivesPer1000() const {
  return clean_pairs == 0 ? 0.0 : 1000.0 * static_cast<double>(clean_flagged) / clean_pairs;
}

namespace {

// Where to cut `text` inside `g`: after the separator nearest the span's middle, or at the middle
// of a span with none (a run of digits); 0 when the span is too short to cut.
std::size_t CutInside(std::string_view text, const GoldSpan& g) {
  if (g.end - g.begin < 4) return 0;
  const std::size_t middle = g.begin + (g.end - g.begin) / 2;
  std::size_t best = 0;
  for (std::size_t i = g.begin + 1; i + 1 < g.end; ++i) {
    if (IsContent(text[i]) || !IsContent(text[i - 1])) continue;
    const std::size_t cut = i + 1;
    const auto distance = [&](std::size_t at) { return at > middle ? at - middle : middle - at; };
    if (best == 0 || distance(cut) < distance(best)) best = cut;
  }
  if (best != 0) return best;
  std::size_t cut = middle;
  while (cut > g.begin && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut > g.begin ? cut : 0;
}

std::size_t ContentBytes(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), IsContent));
}

// The second post `text` read after the first, `previous`, as SplitReading says.
std::vector<Finding> ReadAfter(const Scanner& scanner, std::string_view previous, std::string_view text,
                               SplitReading reading) {
  const auto scan = [&](std::string_view t) { return scanner.Scan(t); };
  const std::string tail = CarriedTail(previous);
  if (reading == SplitReading::kReply) return ScanBetween({}, text, {}, scan, tail);
  return ScanBetween(tail, text, {}, scan);
}

// Scores the second post `msg.text[cut..]` after the first `msg.text[..cut]`.
void ScoreSplit(const Scanner& scanner, const LabelledMessage& msg, std::size_t cut, SplitReading reading,
                SplitFigures& fig) {
  const std::string_view text(msg.text);
  const std::string_view second = text.substr(cut);
  std::vector<GoldSpan> parts;
  for (const GoldSpan& g : msg.gold) {
    if (g.end <= cut) continue;
    GoldSpan part{g.type, std::max(g.begin, cut) - cut, g.end - cut};
    if (ContentBytes(second.substr(part.begin, part.end - part.begin)) >= 2) parts.push_back(part);
  }
  if (parts.empty()) return;
  const std::vector<Finding> alone = scanner.Scan(second);
  const std::vector<Finding> across = ReadAfter(scanner, text.substr(0, cut), second, reading);
  ++fig.posts;
  bool leaked_alone = false;
  bool leaked_across = false;
  for (const GoldSpan& part : parts) {
    ++fig.gold_spans;
    if (FullyCovered(second, part, alone)) ++fig.covered_alone; else leaked_alone = true;
    if (FullyCovered(second, part, across)) ++fig.covered_across; else leaked_across = true;
  }
  fig.leaked_alone += leaked_alone ? 1 : 0;
  fig.leaked_across += leaked_across ? 1 : 0;
}

}  // namespace

SplitFigures EvaluateSplit(const Scanner& scanner, std::span<const LabelledMessage> messages, bool held_out,
                           SplitReading reading) {
  SplitFigures fig;
  const LabelledMessage* previous_clean = nullptr;
  for (const LabelledMessage& msg : messages) {
    if (msg.held_out != held_out) continue;
    if (msg.kind != MessageKind::kPhi) {
      if (previous_clean != nullptr) {
        ++fig.clean_pairs;
        const std::size_t alone = scanner.Scan(msg.text).size();
        if (ReadAfter(scanner, previous_clean->text, msg.text, reading).size() > alone) ++fig.clean_flagged;
      }
      previous_clean = &msg;
      continue;
    }
    const auto first = std::find_if(msg.gold.begin(), msg.gold.end(), [](const GoldSpan& g) {
      return g.begin > 0 && g.end - g.begin >= 4;
    });
    if (first == msg.gold.end()) continue;
    if (reading == SplitReading::kSameAuthor) {
      if (const std::size_t cut = CutInside(msg.text, *first); cut != 0) ScoreSplit(scanner, msg, cut, reading, fig);
    }
    ScoreSplit(scanner, msg, first->begin, reading, fig);
  }
  return fig;
}

namespace {

std::string Format(const char* format, double a, double b = 0, double c = 0) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, format, a, b, c);
  return buffer;
}

std::string Ratio(std::size_t successes, std::size_t trials) {
  if (trials == 0) return "    -                ";
  const Interval ci = WilsonInterval(successes, trials);
  return Format("%.4f [%.3f-%.3f]", static_cast<double>(successes) / trials, ci.low, ci.high);
}

}  // namespace

void PrintFigures(std::ostream& out, const EvaluationFigures& fig, std::string_view title) {
  out << title << "\n";
  out << "  messages " << fig.messages << " (with PHI " << fig.phi_messages << ", PHI-free "
      << fig.clean_messages << " of which hard negatives " << fig.hard_negative_messages
      << "), gold spans " << fig.gold_spans << "\n";
  out << "  type          gold   recall [95% CI]           pred   precision [95% CI]        F2\n";
  for (PhiType type : kAllPhiTypes) {
    const TypeFigures& t = fig.For(type);
    if (t.gold == 0 && t.predicted == 0) continue;
    std::string name(ToString(type));
    name.resize(12, ' ');
    char counts[32];
    std::snprintf(counts, sizeof counts, "%6zu", t.gold);
    char predicted[32];
    std::snprintf(predicted, sizeof predicted, "%6zu", t.predicted);
    out << "  " << name << counts << "   " << Ratio(t.detected, t.gold) << "   " << predicted
        << "   " << Ratio(t.correct, t.predicted) << "   " << Format("%.4f", t.F2()) << "\n";
  }
  out << "  structured identifiers recall (pooled)  " << Format("%.4f", fig.StructuredRecall())
      << "\n";
  out << "  names, places, dates recall (pooled)    "
      << Format("%.4f", fig.NamesPlacesDatesRecall()) << "\n";
  out << "  any-PHI recall (span fully covered)     " << Ratio(fig.covered_spans, fig.gold_spans)
      << "\n";
  out << "  message leak rate                       "
      << Ratio(fig.leaked_messages, fig.phi_messages) << "\n";
  const Interval flagged = WilsonInterval(fig.clean_messages_flagged, fig.clean_messages);
  out << "  false positives per 1,000 PHI-free      "
      << Format("%.2f", fig.FalsePositivesPer1000()) << " (" << fig.clean_findings
      << " findings; messages flagged " << fig.clean_messages_flagged << "/"
      << fig.clean_messages << ", per 1,000 "
      << Format("[%.1f-%.1f]", 1000 * flagged.low, 1000 * flagged.high) << ")\n";
  out << "  hard-negative findings                  " << fig.hard_negative_findings << " in "
      << fig.hard_negative_messages << " messages\n";
  out << "  any-PHI recall by perturbation:";
  for (std::size_t p = 0; p < kPerturbationCount; ++p) {
    if (fig.spans_by_perturbation[p] == 0) continue;
    out << " " << ToString(static_cast<Perturbation>(p)) << " "
        << Format("%.3f", static_cast<double>(fig.covered_by_perturbation[p]) /
                              fig.spans_by_perturbation[p]);
  }
  out << "\n";
}

void PrintSplitFigures(std::ostream& out, const SplitFigures& fig, std::string_view title, SplitReading reading) {
  const bool reply = reading == SplitReading::kReply;
  out << title << "\n";
  out << (reply ? "  replies " : "  second posts ") << fig.posts << ", parts of gold spans in them " << fig.gold_spans
      << "\n";
  out << (reply ? "                                          alone                    as a reply to the first\n"
                : "                                          alone                    after the first post\n");
  out << "  any-PHI recall (span fully covered)     " << Ratio(fig.covered_alone, fig.gold_spans) << "   "
      << Ratio(fig.covered_across, fig.gold_spans) << "\n";
  out << "  message leak rate                       " << Ratio(fig.leaked_alone, fig.posts) << "   "
      << Ratio(fig.leaked_across, fig.posts) << "\n";
  const Interval flagged = WilsonInterval(fig.clean_flagged, fig.clean_pairs);
  out << (reply ? "  PHI-free posts flagged only as a reply: " : "  PHI-free posts flagged only after the one before: ")
      << fig.clean_flagged << "/" << fig.clean_pairs
      << ", per 1,000 " << Format("%.2f [%.1f-%.1f]", fig.FalsePositivesPer1000(), 1000 * flagged.low, 1000 * flagged.high)
      << "\n";
}

Result<EvaluationSetup> PrepareEvaluation(const CorpusOptions& options) {
  EvaluationSetup setup;
  setup.corpus = GenerateCorpus(options);
  setup.index = std::make_shared<PatientIndex>();
  setup.index->Replace(setup.corpus.patients);
  auto scanner = Scanner::Create(DefaultRuleSet(), setup.index);
  if (!scanner) return tl::unexpected(scanner.error());
  setup.scanner = std::move(*scanner);
  return setup;
}

Result<EvaluationReport> RunEvaluation(std::ostream& out, const CorpusOptions& options) {
  auto setup = PrepareEvaluation(options);
  if (!setup) return tl::unexpected(setup.error());
  EvaluationReport report;
  report.tuning = Evaluate(*setup->scanner, setup->corpus.messages, false);
  report.held_out = Evaluate(*setup->scanner, setup->corpus.messages, true);
  out << "PHI scanner on the synthetic corpus (seed " << options.seed << ", "
      << setup->corpus.messages.size() << " messages, " << setup->corpus.patients.size()
      << " patients in the index)\n\n";
  PrintFigures(out, report.held_out, "Held-out templates (never used for tuning)");
  out << "\n";
  PrintFigures(out, report.tuning, "Tuning templates");
  report.split_held_out = EvaluateSplit(*setup->scanner, setup->corpus.messages, true);
  report.split_tuning = EvaluateSplit(*setup->scanner, setup->corpus.messages, false);
  out << "\n";
  PrintSplitFigures(out, report.split_held_out, "PHI split between two posts, held-out templates");
  out << "\n";
  PrintSplitFigures(out, report.split_tuning, "PHI split between two posts, tuning templates");
  report.reply_held_out = EvaluateSplit(*setup->scanner, setup->corpus.messages, true, SplitReading::kReply);
  report.reply_tuning = EvaluateSplit(*setup->scanner, setup->corpus.messages, false, SplitReading::kReply);
  out << "\n";
  PrintSplitFigures(out, report.reply_held_out, "PHI split between two authors (a reply), held-out templates",
                    SplitReading::kReply);
  out << "\n";
  PrintSplitFigures(out, report.reply_tuning, "PHI split between two authors (a reply), tuning templates",
                    SplitReading::kReply);
  return report;
}

std::string CommittedFiguresHeader(const EvaluationFigures& fig, const SplitFigures& split,
                                   const SplitFigures& reply) {
  auto down = [](double v) { return std::floor(v * 1000 + 1e-9) / 1000; };
  // Clamped at zero: ceil(-1e-9) is -0.0, which would print as "-0.00".
  auto up = [](double v) { return std::max(0.0, std::ceil(v * 1000 - 1e-9) / 1000); };
  std::string out =
      "// Held-out figures of the PHI scanner on the synthetic corpus (default CorpusOptions), as\n"
      "// committed: the regression test fails when a new build does worse. Regenerate with\n"
      "// `rounds-bench-phi --committed` after an improvement, never to paper over a drop.\n"
      "#pragma once\n\n#include <array>\n\n#include \"governance/phi/types.hpp\"\n\n"
      "namespace rounds::governance::phi::committed {\n\n"
      "struct TypeFloor {\n  PhiType type;\n  double recall;\n  double precision;\n};\n\n"
      "inline constexpr std::array<TypeFloor, kPhiTypeCount> kTypes = {{\n";
  for (PhiType type : kAllPhiTypes) {
    const TypeFigures& t = fig.For(type);
    std::string name(ToString(type));
    std::string constant = "k";
    bool upper = true;
    for (char c : name) {
      if (c == '_') {
        upper = true;
        continue;
      }
      constant.push_back(upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      upper = false;
    }
    out += "    {PhiType::" + constant + ", " + Format("%.3f", down(t.Recall())) + ", " +
           Format("%.3f", down(t.Precision())) + "},\n";
  }
  out += "}};\n\n";
  out += "inline constexpr double kAnyPhiRecall = " + Format("%.3f", down(fig.AnyPhiRecall())) + ";\n";
  out += "inline constexpr double kLeakRate = " + Format("%.3f", up(fig.LeakRate())) + ";\n";
  const auto per1000 = [](double x) { return Format("%.2f", std::max(0.0, std::ceil(x * 100 - 1e-9) / 100)); };
  out += "inline constexpr double kFalsePositivesPer1000 = " + per1000(fig.FalsePositivesPer1000()) + ";\n\n";
  out += "// PHI split between two posts (EvaluateSplit), each second post read after the first.\n";
  out += "inline constexpr double kSplitAnyPhiRecall = " + Format("%.3f", down(split.AnyPhiRecallAcross())) + ";\n";
  out += "inline constexpr double kSplitLeakRate = " + Format("%.3f", up(split.LeakRateAcross())) + ";\n";
  out += "inline constexpr double kSplitFalsePositivesPer1000 = " + per1000(split.FalsePositivesPer1000()) +
         ";\n\n";
  out += "// PHI split between two authors (EvaluateSplit, SplitReading::kReply), each reply read after the\n"
         "// post it answers.\n";
  out += "inline constexpr double kReplyAnyPhiRecall = " + Format("%.3f", down(reply.AnyPhiRecallAcross())) + ";\n";
  out += "inline constexpr double kReplyLeakRate = " + Format("%.3f", up(reply.LeakRateAcross())) + ";\n";
  out += "inline constexpr double kReplyFalsePositivesPer1000 = " + per1000(reply.FalsePositivesPer1000()) +
         ";\n\n";
  out += "}  // namespace rounds::governance::phi::committed\n";
  return out;
}

namespace {

// Runs `pass` (one whole pass over the messages; false stops it early) until `min_seconds` have
// passed on `clock`, and returns the seconds it took.
template <typename Pass>
double TimeWholePasses(const std::function<double()>& clock, double min_seconds, Pass&& pass) {
  const double start = clock();
  double now = start;
  do {
    if (!pass()) break;
    now = clock();
  } while (now - start < min_seconds);
  return now - start;
}

double MegabytesPerSecond(std::size_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0;
}

}  // namespace

ThroughputFigures MeasureThroughput(const Scanner& scanner, std::span<const std::string> messages,
                                    const std::function<double()>& rate_clock,
                                    const std::function<double()>& latency_clock,
                                    double min_seconds) {
  ThroughputFigures fig;
  if (messages.empty()) return fig;
  std::size_t findings = 0;
  fig.seconds = TimeWholePasses(rate_clock, min_seconds, [&] {
    for (const std::string& m : messages) {
      findings += scanner.Scan(m).size();
      fig.bytes += m.size();
      ++fig.messages;
    }
    return true;
  });
  fig.megabytes_per_second = MegabytesPerSecond(fig.bytes, fig.seconds);
  std::vector<double> latencies;
  latencies.reserve(messages.size());
  for (const std::string& m : messages) {
    const double before = latency_clock();
    findings += scanner.Scan(m).size();
    latencies.push_back(latency_clock() - before);
  }
  std::sort(latencies.begin(), latencies.end());
  fig.p50_microseconds = 1e6 * latencies[latencies.size() / 2];
  fig.p99_microseconds = 1e6 * latencies[latencies.size() * 99 / 100];
  (void)findings;
  return fig;
}

FloorFigures MeasureLookupFloor(const PatientIndexSnapshot& index, std::span<const std::string> messages,
                                const std::function<double()>& rate_clock, double min_seconds) {
  static constexpr std::array<unsigned char, 256> kFold = [] {
    std::array<unsigned char, 256> fold{};  // zero: not part of a word
    for (int c = '0'; c <= '9'; ++c) fold[c] = static_cast<unsigned char>(c);
    for (int c = 'a'; c <= 'z'; ++c) fold[c] = static_cast<unsigned char>(c);
    for (int c = 'A'; c <= 'Z'; ++c) fold[c] = static_cast<unsigned char>(c - 'A' + 'a');
    return fold;
  }();
  FloorFigures fig;
  if (messages.empty()) return fig;
  fig.seconds = TimeWholePasses(rate_clock, min_seconds, [&] {
    std::size_t words = 0;
    std::size_t maybe = 0;
    for (const std::string& m : messages) {
      std::uint64_t key = NameKey::kSeed;
      bool in_word = false;
      for (const char c : m) {
        const unsigned char folded = kFold[static_cast<unsigned char>(c)];
        if (folded != 0) {
          key = (key ^ folded) * 1099511628211ull;  // NameKey::Extend, one character
          in_word = true;
        } else if (in_word) {
          ++words;
          maybe += index.MaybeName(key) ? 1 : 0;
          key = NameKey::kSeed;
          in_word = false;
        }
      }
      if (in_word) {
        ++words;
        maybe += index.MaybeName(key) ? 1 : 0;
      }
      fig.bytes += m.size();
    }
    fig.words_per_pass = words;
    fig.maybe_names_per_pass = maybe;
    return true;
  });
  fig.megabytes_per_second = MegabytesPerSecond(fig.bytes, fig.seconds);
  return fig;
}

// Caseless, as chat is typed. Written for Hyperscan, which has no look-behind; \b is supported.
const std::array<std::string_view, 14> kReferencePatterns = {
    R"(\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4})",                                       // phone
    R"(\d{3}[ -]?\d{2}[ -]?\d{4})",                                                 // SSN
    R"(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})",                                           // numeric date
    R"((jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(, ?\d{4})?)",  // month-name date
    R"([a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,})",                                      // e-mail
    R"(https?://[^\s]+)",                                                           // URL
    R"(www\.[^\s]+)",                                                               // URL without a scheme
    R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})",                                        // IPv4
    R"(\b\d{5}(-\d{4})?\b)",                                                        // ZIP
    R"(\b\d{6,19}\b)",                                                              // MRN, account, NPI, card
    R"(\b[a-z]{1,3}-?\d{5,12}\b)",                                                   // letter-prefixed identifier
    R"(\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{1,7})",                                         // grouped card number
    R"(\b\d{1,3} ?(yo|y/o|years? old|year-old)\b)",                                  // age
    R"(\b\d{1,6} [a-z]+ (st|street|ave|avenue|rd|road|blvd|dr|drive|ln|lane|ct|court|way)\b)",  // street line
};

namespace {

int CountMatch(unsigned /*id*/, unsigned long long /*from*/, unsigned long long /*to*/, unsigned /*flags*/,
               void* context) {
  ++*static_cast<std::size_t*>(context);
  return 0;
}

}  // namespace

Result<ReferenceFigures> MeasurePatternReference(std::span<const std::string> messages, bool spans,
                                                 const std::function<double()>& rate_clock, double min_seconds) {
  std::vector<std::string> text(kReferencePatterns.begin(), kReferencePatterns.end());
  std::vector<const char*> expressions;
  for (const std::string& t : text) expressions.push_back(t.c_str());
  const std::vector<unsigned> flags(expressions.size(), HS_FLAG_CASELESS | (spans ? HS_FLAG_SOM_LEFTMOST : 0u));
  std::vector<unsigned> ids(expressions.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<unsigned>(i);
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), static_cast<unsigned>(expressions.size()),
                       HS_MODE_BLOCK, nullptr, &database, &error) != HS_SUCCESS) {
    std::string reason = error != nullptr ? error->message : "unknown";
    hs_free_compile_error(error);
    return Internal("the reference patterns do not compile: " + reason);
  }
  std::unique_ptr<hs_database_t, decltype(&hs_free_database)> owned_database(database, hs_free_database);
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(database, &scratch) != HS_SUCCESS) return Internal("no scratch space for the reference patterns");
  std::unique_ptr<hs_scratch_t, decltype(&hs_free_scratch)> owned_scratch(scratch, hs_free_scratch);
  ReferenceFigures fig;
  fig.patterns = expressions.size();
  if (messages.empty()) return fig;
  bool failed = false;
  fig.seconds = TimeWholePasses(rate_clock, min_seconds, [&] {
    std::size_t matches = 0;
    for (const std::string& m : messages) {
      failed = hs_scan(database, m.data(), static_cast<unsigned>(m.size()), 0, scratch, CountMatch, &matches) !=
               HS_SUCCESS;
      if (failed) return false;
      fig.bytes += m.size();
    }
    fig.matches_per_pass = matches;
    return true;
  });
  if (failed) return Internal("the reference scan failed");
  fig.megabytes_per_second = MegabytesPerSecond(fig.bytes, fig.seconds);
  return fig;
}

namespace {

double WallNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the calling thread: "per core" even when other work shares the machine.
double ThreadCpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int RunBenchmark(const BenchmarkOptions& options, std::ostream& out) {
  if (options.quality) {
    auto report = RunEvaluation(out);
    if (!report) {
      out << report.error().public_message << "\n";
      return 1;
    }
    out << "\n";
  }
  if (!options.throughput) return 0;

  const double setup_start = WallNow();
  auto setup = PrepareEvaluation();
  if (!setup) {
    out << setup.error().public_message << "\n";
    return 1;
  }
  const double setup_seconds = WallNow() - setup_start;
  // The realistic mix: every corpus message (60% with PHI, 40% PHI-free), in corpus order.
  std::vector<std::string> mix;
  for (const auto& m : setup->corpus.messages) mix.push_back(m.text);
  // A second mix without PHI, where most traffic is.
  std::vector<std::string> clean;
  for (const auto& m : setup->corpus.messages) {
    if (m.kind != MessageKind::kPhi) clean.push_back(m.text);
  }
  // Long pasted documents: the same messages joined into ~8 KB texts.
  std::vector<std::string> documents;
  std::string doc;
  for (const auto& m : mix) {
    doc += m;
    doc += "\n";
    if (doc.size() > 8192) {
      documents.push_back(std::move(doc));
      doc.clear();
    }
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "Throughput per core (thread CPU time), %zu patients in the index; corpus, index and\n"
                "scanner built in %.2f s\n",
                setup->corpus.patients.size(), setup_seconds);
  out << line;
  auto report = [&](const char* name, const std::vector<std::string>& messages) {
    const auto fig = MeasureThroughput(*setup->scanner, messages, ThreadCpuNow, WallNow, options.seconds);
    std::snprintf(line, sizeof line,
                  "  %-34s %8.1f MB/s  (%zu messages, %.1f MB, p50 %.1f us, p99 %.1f us per message)\n", name,
                  fig.megabytes_per_second, fig.messages, static_cast<double>(fig.bytes) / 1e6, fig.p50_microseconds,
                  fig.p99_microseconds);
    out << line << std::flush;
  };
  report("realistic mix (60% PHI)", mix);
  if (options.mix_only) return 0;
  report("PHI-free messages", clean);
  report("pasted documents (~8 KB)", documents);
  // tails[i]: the end of message i - 1, as a post after it is read (phi/continuation.hpp).
  std::vector<std::string> tails;
  tails.reserve(mix.size());
  for (std::size_t i = 0; i < mix.size(); ++i) tails.push_back(i == 0 ? std::string() : CarriedTail(mix[i - 1]));
  const ScanFunction scan = [&](std::string_view t) { return setup->scanner->Scan(t); };
  {
    // As a post is screened: each message of the mix also read after the end of the one before it
    // (phi/continuation.hpp), counted by its own bytes.
    std::size_t bytes = 0;
    std::size_t findings = 0;
    const double seconds = TimeWholePasses(ThreadCpuNow, options.seconds, [&] {
      for (std::size_t i = 0; i < mix.size(); ++i) {
        findings += ScanBetween(tails[i], mix[i], {}, scan).size();
        bytes += mix[i].size();
      }
      return true;
    });
    std::snprintf(line, sizeof line, "  %-34s %8.1f MB/s  (each message also read after the end of the one before)\n",
                  "realistic mix, as posts follow", MegabytesPerSecond(bytes, seconds));
    out << line << std::flush;
    (void)findings;
  }
  {
    // Two authors taking turns in one conversation: each message read alone, after the end of its
    // author's last (two before) and as a reply to the other's (the one before), as such a post is.
    std::size_t bytes = 0;
    std::size_t findings = 0;
    const double seconds = TimeWholePasses(ThreadCpuNow, options.seconds, [&] {
      for (std::size_t i = 0; i < mix.size(); ++i) {
        const std::string_view own = i >= 2 ? std::string_view(tails[i - 1]) : std::string_view();
        findings += ScanBetween(own, mix[i], {}, scan, tails[i]).size();
        bytes += mix[i].size();
      }
      return true;
    });
    std::snprintf(line, sizeof line,
                  "  %-34s %8.1f MB/s  (two authors taking turns: each message also read after its author's\n"
                  "  %-34s                last and as a reply to the other's)\n",
                  "realistic mix, in a conversation", MegabytesPerSecond(bytes, seconds), "");
    out << line << std::flush;
    (void)findings;
  }
  const auto snapshot = setup->index->Snapshot();
  {
    // As a post's audit records are made: each message scanned, then the patients its NAME and MRN
    // findings point at looked up (PatientIndexSnapshot::PatientsIn).
    std::size_t bytes = 0;
    std::size_t named = 0;
    std::size_t messages = 0;
    const double seconds = TimeWholePasses(ThreadCpuNow, options.seconds, [&] {
      for (const std::string& m : mix) {
        named += snapshot->PatientsIn(m, setup->scanner->Scan(m)).size();
        bytes += m.size();
        ++messages;
      }
      return true;
    });
    std::snprintf(line, sizeof line,
                  "  %-34s %8.1f MB/s  (each message also told which patients its findings name, for its\n"
                  "  %-34s                audit records: %.3f patients a message)\n",
                  "realistic mix, naming patients", MegabytesPerSecond(bytes, seconds), "",
                  static_cast<double>(named) / static_cast<double>(std::max<std::size_t>(1, messages)));
    out << line << std::flush;
  }
  // What the figures above compare with: the same mix only split into words and looked up.
  const FloorFigures floor = MeasureLookupFloor(*snapshot, mix, ThreadCpuNow, options.seconds);
  std::snprintf(line, sizeof line,
                "  %-34s %8.1f MB/s  (the realistic mix only split into words, each looked up in the\n"
                "  %-34s                index's filter: the least a scanner that checks names must do)\n",
                "floor: words looked up only", floor.megabytes_per_second, "");
  out << line << std::flush;
  // And what the engine the scanner uses does with the structured identifiers' shapes alone.
  for (const bool spans : {false, true}) {
    const auto reference = MeasurePatternReference(mix, spans, ThreadCpuNow, options.seconds);
    if (!reference) {
      out << reference.error().internal_message << "\n";
      return 1;
    }
    std::snprintf(line, sizeof line, "  %-34s %8.1f MB/s  (%s)\n",
                  spans ? "reference: shapes, with spans" : "reference: shapes, ends only", reference->megabytes_per_second,
                  spans ? "the same, also tracking where each match starts, as redaction needs"
                        : "Hyperscan alone on the realistic mix, 14 patterns of the\n"
                          "                                                    structured identifiers' shapes: where "
                          "matches end, nothing else");
    out << line << std::flush;
  }
  return 0;
}

}  // namespace rounds::governance::phi
