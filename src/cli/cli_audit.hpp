// Sub-commands added to the `rounds` command line by their own files, so each stays small:
// `rounds audit verify|export` (cli_audit.cpp), `rounds admin template validate`
// (cli_template.cpp) and `rounds bench phi` (cli_bench.cpp). Each callback ends by throwing CLI::RuntimeError with the exit code, as the
// commands in cli.cpp do.
#pragma once

#include <CLI/CLI.hpp>

namespace rounds::cli {

// Adds `audit verify` (exit 0 intact, 1 tampered, 2 cannot check) and `audit export`.
void AddAuditCommands(CLI::App& app);
// Adds `template validate FILE` under the existing `admin` sub-command (exit 0 valid, 1 invalid).
void AddTemplateCommands(CLI::App& app);
// Adds `bench phi` (exit 0, or 1 when the corpus or scanner could not be built).
void AddBenchCommands(CLI::App& app);

}  // namespace rounds::cli
