// Prints the PHI scanner's evaluation (precision, recall, F2 per type, any-PHI recall, leak rate,
// false positives per 1,000 PHI-free messages) and its single-core throughput on a realistic
// message mix with a 100,000-patient index, beside the floor (every word looked up in the index)
// and the reference (Hyperscan alone locating the structured identifiers' shapes); the same as
// `rounds bench phi`.
//
//   rounds-bench-phi [--seconds N] [--quality-only] [--throughput-only] [--mix-only] [--committed]
//
// --mix-only measures the realistic mix alone, for profiling the scanner.
// --committed prints src/governance/phi/committed_figures.hpp for the current held-out figures.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "governance/phi/evaluation.hpp"

namespace phi = rounds::governance::phi;

int main(int argc, char** argv) {
  constexpr const char* kUsage =
      "usage: rounds-bench-phi [--seconds N] [--quality-only] [--throughput-only] [--mix-only] [--committed]\n";
  phi::BenchmarkOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      options.seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--quality-only") == 0) {
      options.throughput = false;
    } else if (std::strcmp(argv[i], "--throughput-only") == 0) {
      options.quality = false;
    } else if (std::strcmp(argv[i], "--mix-only") == 0) {
      options.quality = false;
      options.mix_only = true;
    } else if (std::strcmp(argv[i], "--committed") == 0) {
      std::ostringstream ignored;
      auto report = phi::RunEvaluation(ignored);
      if (!report) return 1;
      std::cout << phi::CommittedFiguresHeader(report->held_out, report->split_held_out, report->reply_held_out);
      return 0;
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << kUsage;
      return 0;
    } else {
      // An option it does not know (or --seconds without its value) is refused, not ignored.
      std::cerr << "unknown option or missing value: " << argv[i] << "\n" << kUsage;
      return 2;
    }
  }
  return phi::RunBenchmark(options, std::cout);
}
