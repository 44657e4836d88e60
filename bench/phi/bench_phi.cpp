// Prints the PHI scanner's evaluation (precision, recall, F2 per type, any-PHI recall, leak rate,
// false positives per 1,000 PHI-free messages) and its single-core throughput on a realistic
// message mix with a 100,000-patient index.
//
//   rounds-bench-phi [--seconds N] [--quality-only] [--throughput-only] [--committed]
//
// --committed prints src/governance/phi/committed_figures.hpp for the current held-out figures.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <time.h>

#include "governance/phi/evaluation.hpp"

namespace phi = rounds::governance::phi;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the calling thread: "per core" even when other work shares the machine.
double ThreadCpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  bool quality = true;
  bool throughput = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--quality-only") == 0) throughput = false;
    if (std::strcmp(argv[i], "--throughput-only") == 0) quality = false;
    if (std::strcmp(argv[i], "--committed") == 0) {
      std::ostringstream ignored;
      auto report = phi::RunEvaluation(ignored);
      if (!report) return 1;
      std::cout << phi::CommittedFiguresHeader(report->held_out);
      return 0;
    }
  }
  if (quality) {
    auto report = phi::RunEvaluation(std::cout);
    if (!report) {
      std::cerr << report.error().public_message << "\n";
      return 1;
    }
    std::cout << "\n";
  }
  if (!throughput) return 0;

  const double setup_start = Now();
  auto setup = phi::PrepareEvaluation();
  if (!setup) {
    std::cerr << setup.error().public_message << "\n";
    return 1;
  }
  const double setup_seconds = Now() - setup_start;
  // The realistic mix: every corpus message (60% with PHI, 40% PHI-free), in corpus order.
  std::vector<std::string> mix;
  for (const auto& m : setup->corpus.messages) mix.push_back(m.text);
  // A second mix without PHI, where most traffic is.
  std::vector<std::string> clean;
  for (const auto& m : setup->corpus.messages) {
    if (m.kind != phi::MessageKind::kPhi) clean.push_back(m.text);
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
  std::printf("Throughput per core (thread CPU time), %zu patients in the index; corpus, index and\n"
              "scanner built in %.2f s\n",
              setup->corpus.patients.size(), setup_seconds);
  auto report = [&](const char* name, const std::vector<std::string>& messages) {
    const auto fig = phi::MeasureThroughput(*setup->scanner, messages, ThreadCpuNow, Now, seconds);
    std::printf("  %-34s %8.1f MB/s  (%zu messages, %.1f MB, p50 %.1f us, p99 %.1f us per message)\n",
                name, fig.megabytes_per_second, fig.messages, fig.bytes / 1e6, fig.p50_microseconds,
                fig.p99_microseconds);
  };
  report("realistic mix (60% PHI)", mix);
  report("PHI-free messages", clean);
  report("pasted documents (~8 KB)", documents);
  return 0;
}
