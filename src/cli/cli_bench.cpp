// `rounds bench phi`: the PHI scanner's quality on the synthetic evaluation corpus (precision,
// recall and F2 per type on the tuning and held-out halves, any-PHI recall, leak rate, false
// positives per 1,000 PHI-free messages) and its MB/s per core. Needs no data folder.
#include <iostream>
#include <memory>

#include "cli/cli_audit.hpp"
#include "core/log.hpp"
#include "governance/phi/evaluation.hpp"

namespace rounds::cli {

void AddBenchCommands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Measure what this machine does (the full suite is bench/run.sh).");
  bench->require_subcommand(1);
  auto options = std::make_shared<governance::phi::BenchmarkOptions>();
  auto* phi = bench->add_subcommand("phi", "PHI scanner: precision, recall and F2 per type, leak rate, MB/s per core.");
  phi->add_option("--seconds", options->seconds, "Seconds of CPU time per throughput figure (default 3)")
      ->check(CLI::Range(0.1, 600.0));
  phi->add_flag_callback("--quality-only", [options] { options->throughput = false; }, "Skip the throughput figures");
  phi->add_flag_callback("--throughput-only", [options] { options->quality = false; }, "Skip the evaluation");
  phi->callback([options] {
    log::SetMinimumLevel(log::Level::kError);
    throw CLI::RuntimeError(governance::phi::RunBenchmark(*options, std::cout));
  });
}

}  // namespace rounds::cli
