// `rounds audit verify`, `export`, `prove` and `check-proof`: the tamper-evident audit trail from
// the command line, using the same verification, export and proof code as the HTTP API
// (app/audit_service.hpp, app/audit_tree.hpp).
#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "app/audit_log.hpp"
#include "app/audit_service.hpp"
#include "app/database.hpp"
#include "cli/cli_audit.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"

namespace rounds::cli {
namespace {

constexpr int kExitTampered = 1;
constexpr int kExitCannotCheck = 2;

// Where the trail is, from the environment and the flags (flags win), as `serve` would see it.
struct TrailOptions {
  std::string data_dir = "./data";
  std::optional<std::string> database_file;
  std::optional<std::string> checkpoints;

  void AddTo(CLI::App* cmd) {
    cmd->add_option("--data-dir", data_dir, "Folder holding rounds.db and audit/ (default ./data)");
    cmd->add_option("--database-file", database_file, "SQLite database file (default <data-dir>/rounds.db)");
    cmd->add_option("--checkpoints", checkpoints, "Checkpoint file (default <data-dir>/audit/checkpoints.log)");
  }
  Result<Config> Resolve() const {
    Config config;
    ROUNDS_RETURN_IF_ERROR(ApplyEnvironment(ProcessEnvironment(), config));
    config.data_dir = data_dir;
    if (database_file) config.database_file = *database_file;
    if (checkpoints) config.audit_checkpoint_file = *checkpoints;
    return config;
  }
};

int ReportError(const Error& error) {
  std::cerr << "rounds: " << error.public_message;
  if (!error.internal_message.empty()) std::cerr << " (" << error.internal_message << ")";
  std::cerr << "\n";
  return kExitCannotCheck;
}

// The data folder's database for a command that writes to its trail; never a new empty one.
Result<std::unique_ptr<store::Store>> OpenTrail(const Config& config) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config.DatabasePath(), ec)) {
    return Fail(ErrorCode::kNotFound, "not_found", "No database at " + config.DatabasePath() + ".");
  }
  return app::OpenDatabase(config, 1);
}

// Changes the signing key (the server stopped) and records the change on the trail, which the
// server's first checkpoint after it, signed by the new key, covers.
int RunRotateKey(const TrailOptions& options) {
  auto config = options.Resolve();
  if (!config) return ReportError(config.error());
  // The database first: a change nothing could record is not made.
  auto store = OpenTrail(*config);
  if (!store) return ReportError(store.error());
  const app::AuditFiles files = app::AuditFiles::For(*config);
  const UnixMillis now = SystemClock().NowMillis();
  auto changed = app::ChangeSigningKey(files, now);
  if (!changed) {
    (*store)->Close();
    return ReportError(changed.error());
  }
  auto record = app::AuditEntry(app::Actor::System(), "audit.key_changed", "audit_log", "", now);
  const Status audited = app::AuditNow(**store, record,
                                       {{"previous_public_key", changed->previous_public_key},
                                        {"public_key", changed->public_key},
                                        {"seq", changed->seq}});
  (*store)->Close();
  if (!audited) {
    std::cerr << "rounds: the signing key was changed, but the change could not be recorded on the trail\n";
    return ReportError(audited.error());
  }
  std::cout << "the audit signing key is changed: checkpoints from record " << changed->seq
            << " on are signed by " << changed->public_key << "\nthe key it replaced ("
            << changed->previous_public_key << ") signed the hand-over and is gone from " << files.signing_key
            << "\n" << files.public_key
            << " is unchanged: the first key's public half still checks every checkpoint, following the change\n";
  return 0;
}

struct VerifyOptions {
  TrailOptions trail;
  std::string public_key;
  std::string public_key_file;
  std::string witness;
  bool require_checkpoints = false;
};

int RunVerify(const VerifyOptions& options) {
  auto config = options.trail.Resolve();
  if (!config) return ReportError(config.error());
  app::AuditFiles files = app::AuditFiles::For(*config);
  // A key given on the command line (pinned by the operator) is worth more than the file next to
  // the database, which whoever rewrote the database may have replaced too.
  std::string public_key = options.public_key;
  if (public_key.empty()) {
    auto read = app::ReadPublicKeyFile(options.public_key_file.empty() ? files.public_key : options.public_key_file);
    if (read) public_key = *read;
  }
  auto last_checkpoint = app::ReadLastCheckpoint(files.checkpoints);
  if (!last_checkpoint) return ReportError(last_checkpoint.error());
  const bool no_checkpoints = !last_checkpoint->has_value();
  if ((!no_checkpoints || !options.witness.empty()) && public_key.empty()) {
    std::cerr << "rounds: no public key to check the checkpoints with; give --public-key or --public-key-file\n";
    return kExitCannotCheck;
  }
  auto database_key = app::DatabaseKeyFor(*config);
  if (!database_key) return ReportError(database_key.error());
  auto report =
      app::VerifyAuditFiles(config->DatabasePath(), files.checkpoints, public_key, *database_key, options.witness);
  if (!report) return ReportError(report.error());
  if (no_checkpoints && report->ok && report->records_checked > 0) {
    // With a key, VerifyAuditFiles has already failed such a trail. Without one, the trail may
    // only ever have been written by the CLI, before any server start: a warning unless told
    // otherwise.
    if (options.require_checkpoints) {
      report->ok = false;
      report->problem = "no checkpoints in " + files.checkpoints + " and --require-checkpoints was given";
    } else {
      std::cerr << "warning: no checkpoints in " << files.checkpoints
                << ": only the chain itself was checked (a truncated or rewritten chain cannot be told apart)\n";
    }
  }
  if (!report->ok) {
    std::cout << "TAMPERED: ";
    if (report->first_bad_seq > 0) std::cout << "first bad record seq " << report->first_bad_seq << ": ";
    std::cout << report->problem << "\n";
    std::cout << "records: " << report->records_checked << "\ncheckpoints: " << report->checkpoints_checked << "\n";
    return kExitTampered;
  }
  std::cout << "ok\nrecords: " << report->records_checked << "\ncheckpoints: " << report->checkpoints_checked << "\n";
  if (report->key_changes > 0) {
    std::cout << "signing key changes followed: " << report->key_changes << " (checkpoints now signed by "
              << report->last_key_hex << ")\n";
  }
  return 0;
}

struct ExportOptions {
  TrailOptions trail;
  std::string from, to;
  std::string format = "ndjson";
  std::string out;
};

int RunExport(const ExportOptions& options) {
  auto config = options.trail.Resolve();
  if (!config) return ReportError(config.error());
  auto format = app::ParseAuditExportFormat(options.format);
  if (!format) {
    std::cerr << "rounds: --format must be csv, ndjson or fhir\n";
    return kExitCannotCheck;
  }
  std::optional<UnixMillis> from = ParseIso8601(options.from), to = ParseIso8601(options.to);
  if ((!options.from.empty() && !from) || (!options.to.empty() && !to)) {
    std::cerr << "rounds: --from and --to take Unix milliseconds, a date such as 2026-11-29 or a time such as "
                 "2026-11-29T18:00:00Z (a real day and time, with its zone)\n";
    return kExitCannotCheck;
  }
  if (from && to && *from >= *to) {
    std::cerr << "rounds: --from must be before --to\n";
    return kExitCannotCheck;
  }
  auto store = OpenTrail(*config);
  if (!store) return ReportError(store.error());
  SystemClock clock;
  app::AuditService audit(**store, clock, *config);
  // Exported as the system principal; the export is itself on the trail (audit.export). Written
  // a piece at a time, never held whole; to a file, under a temporary name until it is complete.
  const std::string partial = options.out.empty() ? std::string() : options.out + ".partial";
  std::ofstream file;
  if (!partial.empty()) {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "rounds: cannot write " << partial << "\n";
      return kExitCannotCheck;
    }
  }
  std::ostream& out = partial.empty() ? std::cout : file;
  auto exported = audit.Export(app::Actor::System(), *format, from, to, [&out, &partial](std::string_view piece) -> Status {
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    if (!out) return Fail(ErrorCode::kInternal, "write_failed", "Cannot write " + (partial.empty() ? "standard output" : partial) + ".");
    return Ok();
  });
  (*store)->Close();
  if (partial.empty()) {
    std::cout.flush();
    if (!exported) return ReportError(exported.error());
    return 0;
  }
  file.close();
  std::error_code ec;
  if (!exported || !file) {
    std::filesystem::remove(partial, ec);
    if (!exported) return ReportError(exported.error());
    std::cerr << "rounds: cannot write " << partial << "\n";
    return kExitCannotCheck;
  }
  std::filesystem::rename(partial, options.out, ec);
  if (ec) {
    std::cerr << "rounds: cannot rename " << partial << " to " << options.out << ": " << ec.message() << "\n";
    return kExitCannotCheck;
  }
  return 0;
}

struct ProveOptions {
  TrailOptions trail;
  std::optional<std::int64_t> seq, tree_size, from, to;
};

int RunProve(const ProveOptions& options) {
  if (options.seq.has_value() == options.from.has_value() || (options.seq && options.to) ||
      (options.from && options.tree_size)) {
    std::cerr << "rounds: give --seq [--tree-size] for an inclusion proof, or --from [--to] for a consistency proof\n";
    return kExitCannotCheck;
  }
  auto config = options.trail.Resolve();
  if (!config) return ReportError(config.error());
  auto store = OpenTrail(*config);
  if (!store) return ReportError(store.error());
  SystemClock clock;
  app::AuditService audit(**store, clock, *config);
  // Proved as the system principal; the proof is on the trail (audit.proof) as one given over HTTP.
  auto document = options.seq ? audit.InclusionProof(app::Actor::System(), *options.seq, options.tree_size)
                              : audit.ConsistencyProof(app::Actor::System(), *options.from, options.to);
  (*store)->Close();
  if (!document) return ReportError(document.error());
  std::cout << document->dump(2) << "\n";
  return 0;
}

struct CheckProofOptions {
  std::string file;
  std::string public_key;
  std::string public_key_file;
};

int RunCheckProof(const CheckProofOptions& options) {
  std::string public_key = options.public_key;
  if (public_key.empty()) {
    if (options.public_key_file.empty()) {
      std::cerr << "rounds: give --public-key or --public-key-file: the key the checkpoints are signed with\n";
      return kExitCannotCheck;
    }
    auto read = app::ReadPublicKeyFile(options.public_key_file);
    if (!read) return ReportError(read.error());
    public_key = *read;
  }
  std::ifstream in(options.file, std::ios::binary);
  if (!in) {
    std::cerr << "rounds: cannot read " << options.file << "\n";
    return kExitCannotCheck;
  }
  const nlohmann::json document = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  auto problem = app::CheckProofDocument(document, public_key);
  if (!problem) return ReportError(problem.error());
  if (!problem->empty()) {
    std::cout << "INVALID: " << *problem << "\n";
    return kExitTampered;
  }
  // What the document proves, from its signed lines (CheckProofDocument has parsed them).
  const auto size = [&document](const char* checkpoint) {
    return governance::audit::Checkpoint::FromLine(document.at(checkpoint).at("line").get<std::string>())->seq;
  };
  if (document.at("kind") == "inclusion") {
    std::cout << "ok: record " << document.at("seq") << " is in the signed tree of " << size("checkpoint")
              << " records\n";
  } else {
    std::cout << "ok: the signed tree of " << size("from_checkpoint") << " records is a prefix of the signed tree of "
              << size("to_checkpoint") << " records\n";
  }
  return 0;
}

// Runs `command` with only errors logged; its exit code is `run`'s.
void RunQuietly(CLI::App* command, std::function<int()> run) {
  command->callback([run = std::move(run)] {
    log::SetMinimumLevel(log::Level::kError);
    throw CLI::RuntimeError(run());
  });
}

}  // namespace

void AddAuditCommands(CLI::App& app) {
  auto* audit = app.add_subcommand("audit", "Verify, export and prove the tamper-evident audit trail.");
  audit->require_subcommand(1);

  auto verify_options = std::make_shared<VerifyOptions>();
  auto* verify = audit->add_subcommand(
      "verify", "Check the hash chain and the signed checkpoints; name the first bad record (exit 1 if tampered).");
  verify_options->trail.AddTo(verify);
  auto* key = verify->add_option("--public-key", verify_options->public_key, "Checkpoint public key (hex)");
  verify->add_option("--public-key-file", verify_options->public_key_file,
                     "File holding the public key (default <data-dir>/audit/signing.pub)")
      ->excludes(key);
  verify->add_option("--witness", verify_options->witness,
                     "A collector's copy of what the server sent its audit witness (audit_witness): every "
                     "checkpoint in it is checked too");
  verify->add_flag("--require-checkpoints", verify_options->require_checkpoints,
                   "Fail when there is no checkpoint at all, even without a key (by default a trail never "
                   "signed is only warned about)");
  RunQuietly(verify, [verify_options] { return RunVerify(*verify_options); });

  auto export_options = std::make_shared<ExportOptions>();
  auto* exporter = audit->add_subcommand("export", "Write audit records as CSV, NDJSON or a FHIR R4 AuditEvent Bundle.");
  export_options->trail.AddTo(exporter);
  exporter->add_option("--from", export_options->from, "First time included (ISO 8601 UTC or Unix ms)");
  exporter->add_option("--to", export_options->to, "End time, excluded (ISO 8601 UTC or Unix ms)");
  exporter->add_option("--format", export_options->format, "csv, ndjson (AuditEvent per line) or fhir (Bundle)")
      ->check(CLI::IsMember({"csv", "ndjson", "fhir"}));
  exporter->add_option("--out", export_options->out, "Write here instead of standard output");
  RunQuietly(exporter, [export_options] { return RunExport(*export_options); });

  auto prove_options = std::make_shared<ProveOptions>();
  auto* prove = audit->add_subcommand(
      "prove", "Print an RFC 9162 proof against signed checkpoints: a record in a signed tree (--seq), or one "
               "signed tree a prefix of a later one (--from); `check-proof` checks it with the public key alone.");
  prove_options->trail.AddTo(prove);
  prove->add_option("--seq", prove_options->seq, "The record to prove (inclusion)");
  prove->add_option("--tree-size", prove_options->tree_size, "A signed tree size (default: the last checkpoint's)");
  prove->add_option("--from", prove_options->from, "The earlier signed tree size (consistency)");
  prove->add_option("--to", prove_options->to, "The later signed tree size (default: the last checkpoint's)");
  RunQuietly(prove, [prove_options] { return RunProve(*prove_options); });

  auto rotate_options = std::make_shared<TrailOptions>();
  auto* rotate = audit->add_subcommand(
      "rotate-key", "Replace the checkpoint signing key (stop the server first): the old key signs the hand-over "
                    "to a new one, and the first key's public half still checks every checkpoint.");
  rotate_options->AddTo(rotate);
  RunQuietly(rotate, [rotate_options] { return RunRotateKey(*rotate_options); });

  auto check_options = std::make_shared<CheckProofOptions>();
  auto* check = audit->add_subcommand(
      "check-proof", "Check a proof document from `prove` or the API with the signing key's public half alone "
                     "(exit 1 if it does not hold); needs no database.");
  check->add_option("file", check_options->file, "The proof document (JSON)")->required();
  auto* check_key = check->add_option("--public-key", check_options->public_key, "Checkpoint public key (hex)");
  check->add_option("--public-key-file", check_options->public_key_file, "File holding the public key")
      ->excludes(check_key);
  RunQuietly(check, [check_options] { return RunCheckProof(*check_options); });
}

}  // namespace rounds::cli
