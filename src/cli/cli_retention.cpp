// Sub-commands for compliance work on the command line: legal holds, a retention run now,
// e-discovery exports, and emergency access grants (listed, and revoked). Each opens the store like
// the other administrative commands and acts as the system principal through the same services as
// the HTTP API (audited the same way).
#include <CLI/CLI.hpp>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/database.hpp"
#include "app/services.hpp"
#include "bus/bus.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace rounds::cli {
namespace {

struct RetentionOptions {
  std::string data_dir = "./data";
  app::HoldDraft hold;
  std::vector<std::string> custodians;   // usernames or ids
  std::vector<std::int64_t> spaces;
  std::string from, to;
  std::vector<std::string> keywords;
  std::string out;
  bool include_released = false;
  std::int64_t hold_id = 0;
  int max_batches = 0;
  std::string grant_state = "all";
  std::int64_t grant_id = 0;
  std::string export_id;
  bool json = false;
};

// Opens the store and services in `data_dir` for one command, closing the store at the end.
struct Session {
  Config config;
  std::unique_ptr<store::Store> store;
  bus::InProcessBus bus;
  SystemClock clock;
  std::unique_ptr<app::Services> services;

  explicit Session(const std::string& data_dir) {
    if (auto s = ApplyEnvironment(ProcessEnvironment(), config); !s) Exit(s.error());
    config.data_dir = data_dir;
    auto opened = app::OpenDatabase(config, 1);
    if (!opened) Exit(opened.error());
    store = std::move(*opened);
    services = std::make_unique<app::Services>(*store, bus, clock, config);
  }
  ~Session() {
    if (store) store->Close();
  }
  [[noreturn]] static void Exit(const Error& error) {
    std::cerr << "rounds: " << error.public_message;
    if (error.code == ErrorCode::kInternal && !error.internal_message.empty()) std::cerr << " (" << error.internal_message << ")";
    std::cerr << "\n";
    throw CLI::RuntimeError(error.code == ErrorCode::kInvalidArgument ? 2 : 1);
  }
  template <class T>
  T Check(Result<T> result) {
    if (!result) Exit(result.error());
    return std::move(*result);
  }
};

// Milliseconds since the epoch, or an ISO date "2026-03-01" / date-time "2026-03-01T08:30:00Z" (UTC).
std::optional<UnixMillis> ParseTime(const std::string& text, const char* flag) {
  if (text.empty()) return std::nullopt;
  std::optional<UnixMillis> at = ParseIso8601(text);
  if (!at) {
    std::cerr << "rounds: " << flag << " takes milliseconds, a date (2026-03-01) or a time with its zone "
              << "(2026-03-01T08:30:00Z, 2026-03-01T09:30:00+01:00), a real day and time\n";
    throw CLI::RuntimeError(2);
  }
  return at;
}

std::vector<domain::UserId> ResolveUsers(Session& session, const std::vector<std::string>& names) {
  std::vector<domain::UserId> ids;
  for (const auto& name : names) {
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
      ids.push_back(std::stoll(name));
      continue;
    }
    auto user = session.Check(session.store->Read([&](store::ReadTx& tx) { return tx.FindUserByUsername(name); }));
    if (!user) Session::Exit(InvalidArgument("unknown_custodian", "No user named '" + name + "'.").value());
    ids.push_back(user->id);
  }
  return ids;
}

void Print(const nlohmann::json& j) { std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"; }

// One emergency access grant on a line: id, holder, space, start, how it stands, its review.
void PrintGrant(const nlohmann::json& g) {
  std::cout << g["id"] << "\t" << g["user"]["username"].get<std::string>() << "\t" << g["space"]["name"].get<std::string>()
            << " (" << g["space"]["id"] << ")\tstarted " << FormatIso8601(g["started_at"].get<UnixMillis>()) << "\t";
  if (g["active"].get<bool>()) {
    std::cout << "active until " << FormatIso8601(g["expires_at"].get<UnixMillis>());
  } else {
    const std::string end = g["end"].is_string() ? g["end"].get<std::string>() : "expired";
    const UnixMillis at = g["ended_at"].is_number() ? g["ended_at"].get<UnixMillis>() : g["expires_at"].get<UnixMillis>();
    std::cout << end << " " << FormatIso8601(at);
    if (g["ended_by"].is_object()) std::cout << " by " << g["ended_by"]["username"].get<std::string>();
  }
  const auto& review = g["review"];
  if (review.is_object()) {
    std::cout << "\t" << review["outcome"].get<std::string>();
  } else if (!g["active"].get<bool>()) {
    std::cout << "\tawaiting review";
  }
  std::cout << "\n";
}

}  // namespace

void AddRetentionCommands(CLI::App& app) {
  auto o = std::make_shared<RetentionOptions>();
  auto add_data_dir = [o](CLI::App* cmd) {
    cmd->add_option("--data-dir", o->data_dir, "Folder holding rounds.db (default ./data)");
  };
  auto add_scope = [o](CLI::App* cmd) {
    cmd->add_option("--custodian", o->custodians, "Custodian username or id (repeatable)");
    cmd->add_option("--space", o->spaces, "Space id (repeatable)");
    cmd->add_option("--from", o->from, "Start, inclusive: 2026-03-01, 2026-03-01T08:30:00Z or milliseconds");
    cmd->add_option("--to", o->to, "End, exclusive (same forms)");
  };

  // ---- hold ---------------------------------------------------------------------------------------
  auto* hold = app.add_subcommand("hold", "Legal holds: preserve messages against retention and deletes.");
  hold->require_subcommand(1);
  auto* create = hold->add_subcommand("create", "Place a legal hold on custodians, spaces and a date range.");
  create->add_option("--name", o->hold.name, "Matter name")->required();
  create->add_option("--reason", o->hold.reason, "Why the hold exists");
  add_scope(create);
  add_data_dir(create);
  create->callback([o] {
    Session session(o->data_dir);
    o->hold.custodian_ids = ResolveUsers(session, o->custodians);
    o->hold.space_ids = o->spaces;
    o->hold.from = ParseTime(o->from, "--from");
    o->hold.to = ParseTime(o->to, "--to");
    Print(session.Check(session.services->retention.CreateHold(app::Actor::System(), o->hold)));
  });

  auto* list = hold->add_subcommand("list", "List active legal holds.");
  list->add_flag("--all", o->include_released, "Include released holds");
  add_data_dir(list);
  list->callback([o] {
    Session session(o->data_dir);
    auto holds = session.Check(session.services->retention.ListHolds(app::Actor::System(), o->include_released));
    for (const auto& h : holds["items"]) {
      std::cout << h["id"] << "\t" << h["name"].get<std::string>() << "\tcustodians " << h["custodian_ids"].dump()
                << "\tspaces " << h["space_ids"].dump() << (h["active"].get<bool>() ? "\tactive" : "\treleased") << "\n";
    }
  });

  auto* release = hold->add_subcommand("release", "Release a legal hold (its messages become purgeable again).");
  release->add_option("id", o->hold_id, "Hold id")->required();
  add_data_dir(release);
  release->callback([o] {
    Session session(o->data_dir);
    Print(session.Check(session.services->retention.ReleaseHold(app::Actor::System(), o->hold_id, {})));
  });

  // ---- retention ----------------------------------------------------------------------------------
  auto* retention = app.add_subcommand("retention", "Retention and message lifespan.");
  retention->require_subcommand(1);
  auto* run = retention->add_subcommand(
      "run", "Purge now what is past its retention or lifespan (safe while serving; refused while another run is "
             "in progress, exit 1).");
  run->add_option("--max-batches", o->max_batches, "Stop after this many batches (default: until done)");
  add_data_dir(run);
  run->callback([o] {
    Session session(o->data_dir);
    Print(app::RetentionReportJson(session.Check(session.services->retention.RunOnce(app::Actor::System(), o->max_batches))));
  });

  // ---- emergency ----------------------------------------------------------------------------------
  auto* emergency = app.add_subcommand("emergency", "Emergency access (break the glass) grants.");
  emergency->require_subcommand(1);
  auto* grants = emergency->add_subcommand("list", "List grants, newest first.");
  grants->add_option("--state", o->grant_state, "all (default), active, or unreviewed (over, awaiting review)")
      ->check(CLI::IsMember({"all", "active", "unreviewed"}));
  grants->add_flag("--json", o->json, "Print the grants as JSON");
  add_data_dir(grants);
  grants->callback([o] {
    Session session(o->data_dir);
    const store::GrantState state = o->grant_state == "active"       ? store::GrantState::kActive
                                    : o->grant_state == "unreviewed" ? store::GrantState::kUnreviewed
                                                                     : store::GrantState::kAll;
    nlohmann::json all = nlohmann::json::array();
    store::EmergencyGrantId before = 0;
    while (true) {
      auto page = session.Check(session.services->emergency.List(app::Actor::System(), true, state, before, 200));
      for (auto& g : page["items"]) all.push_back(std::move(g));
      if (!page["next_cursor"].is_string()) break;
      before = std::stoll(page["next_cursor"].get<std::string>());
    }
    if (o->json) {
      Print(all);
      return;
    }
    for (const auto& g : all) PrintGrant(g);
  });

  auto* revoke = emergency->add_subcommand(
      "revoke", "End a running grant now: its holder's reads stop, and it waits for a compliance review.");
  revoke->add_option("id", o->grant_id, "Grant id")->required();
  add_data_dir(revoke);
  revoke->callback([o] {
    Session session(o->data_dir);
    PrintGrant(session.Check(session.services->emergency.End(app::Actor::System(), o->grant_id)));
  });

  // ---- ediscovery ---------------------------------------------------------------------------------
  auto* ediscovery = app.add_subcommand("ediscovery", "E-discovery exports.");
  ediscovery->require_subcommand(1);
  auto* export_cmd = ediscovery->add_subcommand("export", "Export matching messages, edits and a transcript with a manifest.");
  export_cmd->add_option("--out", o->out, "Folder to write (must be empty or missing)")->required();
  export_cmd->add_option("--keyword", o->keywords, "Keyword (repeatable; any matches)");
  add_scope(export_cmd);
  add_data_dir(export_cmd);
  export_cmd->callback([o] {
    Session session(o->data_dir);
    store::ExportQuery query;
    query.custodian_ids = ResolveUsers(session, o->custodians);
    query.space_ids = o->spaces;
    query.from = ParseTime(o->from, "--from");
    query.to = ParseTime(o->to, "--to");
    query.keywords = o->keywords;
    auto manifest = session.Check(session.services->retention.Export(app::Actor::System(), query, o->out));
    std::cout << "exported " << manifest["counts"]["messages"] << " messages to " << o->out << " (export "
              << manifest["export_id"].get<std::string>() << ")\n";
  });

  auto* list_cmd = ediscovery->add_subcommand("list", "List exports, newest first, with what is left of each on the server.");
  add_data_dir(list_cmd);
  list_cmd->callback([o] {
    Session session(o->data_dir);
    std::string cursor;
    do {
      auto page = session.Check(session.services->retention.ListExports(app::Actor::System(), cursor, 200));
      for (const auto& x : page["items"]) {
        std::string state = "kept";
        if (x["removed_at"].is_number_integer()) {
          state = "removed " + FormatIso8601(x["removed_at"].get<UnixMillis>());
        } else if (x["expires_at"].is_number_integer()) {
          state = "kept until " + FormatIso8601(x["expires_at"].get<UnixMillis>());
        }
        std::cout << x["id"].get<std::string>() << "\t" << FormatIso8601(x["created_at"].get<UnixMillis>()) << "\t"
                  << x["message_count"] << " messages\t" << state << "\n";
      }
      cursor = page["next_cursor"].is_string() ? page["next_cursor"].get<std::string>() : "";
    } while (!cursor.empty());
  });

  auto* archive_cmd = ediscovery->add_subcommand(
      "archive", "Write an export's files as one ZIP archive, after checking them against its manifest and record.");
  archive_cmd->add_option("--id", o->export_id, "The export's id")->required();
  archive_cmd->add_option("--out", o->out, "ZIP file to write (must not exist)")->required();
  add_data_dir(archive_cmd);
  archive_cmd->callback([o] {
    Session session(o->data_dir);
    // Refused before the archive is made: a download on record that was never written is none.
    if (std::error_code ec; std::filesystem::exists(std::filesystem::symlink_status(o->out, ec))) {
      std::cerr << "rounds: cannot create " << o->out << ": a file is already there\n";
      throw CLI::RuntimeError(1);
    }
    auto archive = session.Check(session.services->retention.ArchiveExport(app::Actor::System(), o->export_id));
    if (Status saved = archive.file.SaveAs(o->out); !saved) {
      std::cerr << "rounds: cannot create " << o->out << ": " << saved.error().public_message << " "
                << saved.error().internal_message << "\n";
      throw CLI::RuntimeError(1);
    }
    std::cout << "archived export " << o->export_id << " to " << o->out << " (" << archive.bytes
              << " bytes, SHA-256 " << archive.sha256 << ")\n";
  });

  auto* remove_cmd = ediscovery->add_subcommand(
      "remove", "Remove an export's files once delivered; its record and audit stay, marked removed.");
  remove_cmd->add_option("--id", o->export_id, "The export's id")->required();
  add_data_dir(remove_cmd);
  remove_cmd->callback([o] {
    Session session(o->data_dir);
    auto removed = session.Check(session.services->retention.RemoveExport(app::Actor::System(), o->export_id, {}));
    std::cout << "removed the files of export " << o->export_id << " (" << removed["message_count"]
              << " messages; its record and audit stay)\n";
  });
}

}  // namespace rounds::cli
