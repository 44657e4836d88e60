#include "cli/cli.hpp"
#include "cli/cli_audit.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/audit_log.hpp"
#include "app/database.hpp"
#include "app/services.hpp"
#include "bus/bus.hpp"
#include "core/log.hpp"
#include "store/store.hpp"

namespace rounds::cli {
namespace {

// Opens the store and services for a one-shot administrative command.
struct Offline {
  Config config;
  std::unique_ptr<store::Store> store;
  bus::InProcessBus bus;
  SystemClock clock;
  std::unique_ptr<app::Services> services;

  Status Open(const std::string& data_dir) {
    // The same ROUNDS_* settings the server reads (the database file, its key file), so that a
    // command works on the database the server serves.
    ROUNDS_RETURN_IF_ERROR(ApplyEnvironment(ProcessEnvironment(), config));
    config.data_dir = data_dir;
    std::filesystem::create_directories(data_dir);
    ROUNDS_ASSIGN_OR_RETURN(store, app::OpenDatabase(config, 1));
    services = std::make_unique<app::Services>(*store, bus, clock, config);
    return Ok();
  }
  ~Offline() {
    if (store) store->Close();
  }
};

int Report(const Error& error) {
  std::cerr << "rounds: " << error.public_message;
  if (!error.internal_message.empty() && error.code == ErrorCode::kInternal) std::cerr << " (" << error.internal_message << ")";
  std::cerr << "\n";
  return error.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

std::string ReadPassword(bool from_stdin) {
  if (!from_stdin) return {};
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

Result<domain::User> FindUser(Offline& offline, const std::string& username) {
  auto user = offline.store->Read([&](store::ReadTx& tx) { return tx.FindUserByUsername(username); });
  if (!user) return tl::unexpected(user.error());
  if (!*user) return NotFound("User '" + username + "'");
  return **user;
}

}  // namespace

void AddRetentionCommands(CLI::App& app);  // cli_retention.cpp: hold, retention, emergency, ediscovery

int Main(int argc, char** argv, ServeFunction serve, RoutesFunction routes) {
  CLI::App app{"Rounds: a governed social and messaging platform for healthcare organizations."};
  app.require_subcommand(1);
  app.set_version_flag("--version", ROUNDS_VERSION_STRING);

  // ---- serve ----------------------------------------------------------------------------------
  auto* serve_cmd = app.add_subcommand("serve", "Run the server (HTTP API, WebSocket events, web app).");
  std::string config_file;
  serve_cmd->add_option("--config", config_file, "TOML configuration file")->check(CLI::ExistingFile);
  // Flags are collected as optionals and applied last: defaults < file < environment < flags.
  std::optional<std::string> listen_address, data_dir, database_file, web_root, log_file, log_level, public_origin,
      antivirus_address, mfa_required;
  std::optional<int> port, threads, read_connections, lockout_threshold, max_message_chars, ws_queue;
  std::optional<std::int64_t> idle_timeout, absolute_timeout, lockout_seconds, max_body, header_timeout, idle_connection;
  std::vector<std::string> allowed_origins;
  bool demo = false;
  bool trust_proxy = false;
  serve_cmd->add_option("--listen-address", listen_address, "IP address to listen on (default 127.0.0.1)");
  serve_cmd->add_option("--port", port, "TCP port; 0 picks a free one (default 8080)");
  serve_cmd->add_option("--threads", threads, "I/O threads (default: one per core)");
  serve_cmd->add_option("--public-origin", public_origin, "The origin browsers use, e.g. https://rounds.example.org");
  serve_cmd->add_option("--allowed-origin", allowed_origins, "Another origin allowed to open WebSockets (repeatable)");
  // A plain bool read only when the flag was given: otherwise the file or environment decides.
  CLI::Option* trust_proxy_flag = serve_cmd->add_flag(
      "--trust-proxy,!--no-trust-proxy", trust_proxy,
      "Take the client address from X-Forwarded-For (only behind your own proxy)");
  serve_cmd->add_option("--data-dir", data_dir, "Folder for the database and logs (default ./data)");
  serve_cmd->add_option("--database-file", database_file, "SQLite database file (default <data-dir>/rounds.db)");
  serve_cmd->add_option("--read-connections", read_connections, "SQLite read connections (default 4)");
  serve_cmd->add_option("--web-root", web_root, "Folder of the built web app (default ./web/dist)");
  serve_cmd->add_option("--idle-timeout-seconds", idle_timeout, "Session idle time-out (default 900)");
  serve_cmd->add_option("--absolute-timeout-seconds", absolute_timeout, "Session lifetime (default 43200)");
  serve_cmd->add_option("--lockout-threshold", lockout_threshold, "Failed sign-ins before a lock-out (default 10)");
  serve_cmd->add_option("--lockout-seconds", lockout_seconds, "Lock-out length (default 900)");
  serve_cmd->add_option("--mfa-required", mfa_required,
                        "Whose accounts must have two-step sign-in: none, privileged, staff or all (default none)")
      ->check(CLI::IsMember({"none", "privileged", "staff", "all"}));
  serve_cmd->add_option("--max-body-bytes", max_body, "Largest request body (default 1048576)");
  serve_cmd->add_option("--max-message-chars", max_message_chars, "Longest message (default 10000)");
  serve_cmd->add_option("--antivirus-address", antivirus_address,
                        "ClamAV daemon that scans every upload: a Unix socket path or host:port (default: none)");
  serve_cmd->add_option("--ws-send-queue-limit", ws_queue, "Frames queued per WebSocket before it is dropped (default 1024)");
  serve_cmd->add_option("--header-timeout-seconds", header_timeout, "Time allowed to send request headers (default 10)");
  serve_cmd->add_option("--idle-connection-seconds", idle_connection, "Idle keep-alive connections close after this (default 60)");
  serve_cmd->add_option("--log-file", log_file, "Write JSON logs here instead of stderr");
  serve_cmd->add_option("--log-level", log_level, "debug, info, warn or error (default info)");
  serve_cmd->add_flag("--demo", demo, "Seed demo data (idempotent) and print the sign-in accounts");
  serve_cmd->footer("Every setting can also come from the --config file (same names with underscores) or from\n"
                    "ROUNDS_<NAME> environment variables, e.g. ROUNDS_PORT=9090.");
  serve_cmd->callback([&] {
    Config config;
    if (!config_file.empty()) {
      if (auto s = ApplyConfigFile(config_file, config); !s) throw CLI::RuntimeError(Report(s.error()));
    }
    if (auto s = ApplyEnvironment(ProcessEnvironment(), config); !s) throw CLI::RuntimeError(Report(s.error()));
    if (listen_address) config.listen_address = *listen_address;
    if (port) config.port = *port;
    if (threads) config.threads = *threads;
    if (public_origin) config.public_origin = *public_origin;
    if (!allowed_origins.empty()) config.allowed_origins = allowed_origins;
    if (trust_proxy_flag->count() > 0) config.trust_proxy = trust_proxy;
    if (data_dir) config.data_dir = *data_dir;
    if (database_file) config.database_file = *database_file;
    if (read_connections) config.read_connections = *read_connections;
    if (web_root) config.web_root = *web_root;
    if (idle_timeout) config.idle_timeout_seconds = *idle_timeout;
    if (absolute_timeout) config.absolute_timeout_seconds = *absolute_timeout;
    if (lockout_threshold) config.lockout_threshold = *lockout_threshold;
    if (lockout_seconds) config.lockout_seconds = *lockout_seconds;
    if (mfa_required) config.mfa_required = *mfa_required;
    if (max_body) config.max_body_bytes = *max_body;
    if (max_message_chars) config.max_message_chars = *max_message_chars;
    if (antivirus_address) config.antivirus_address = *antivirus_address;
    if (ws_queue) config.ws_send_queue_limit = *ws_queue;
    if (header_timeout) config.header_timeout_seconds = *header_timeout;
    if (idle_connection) config.idle_connection_seconds = *idle_connection;
    if (log_file) config.log_file = *log_file;
    if (log_level) config.log_level = *log_level;
    if (demo) config.demo = true;
    throw CLI::RuntimeError(serve(config));
  });

  // ---- admin ----------------------------------------------------------------------------------
  auto* admin = app.add_subcommand("admin", "Administer users and departments.");
  admin->require_subcommand(1);
  std::string admin_data_dir = "./data";
  auto add_data_dir = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", admin_data_dir, "Folder holding rounds.db (default ./data)");
  };

  auto* user = admin->add_subcommand("user", "Staff accounts.");
  user->require_subcommand(1);
  app::NewUser new_user;
  std::vector<std::string> department_names;
  bool password_stdin = false;
  auto* user_add = user->add_subcommand("add", "Create a staff account.");
  user_add->add_option("--username", new_user.username, "Sign-in name")->required();
  user_add->add_option("--display-name", new_user.display_name, "Name shown to others")->required();
  user_add->add_option("--email", new_user.email, "E-mail address");
  user_add->add_option("--job-role", new_user.job_role, "Job role, e.g. 'Registered Nurse'");
  user_add->add_option("--department", department_names, "Department name (repeatable; created if missing)");
  user_add->add_flag("--admin", new_user.is_admin, "Administrator");
  user_add->add_flag("--compliance", new_user.is_compliance, "Compliance / privacy officer");
  user_add->add_flag("--guest", new_user.is_guest,
                     "A guest from outside the organization: only in spaces whose policy allows guests");
  user_add->add_flag("--password-stdin", password_stdin, "Read the password from standard input");
  add_data_dir(user_add);
  user_add->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    new_user.password = ReadPassword(password_stdin);
    if (new_user.password.empty()) {
      std::cerr << "rounds: give the password on standard input with --password-stdin\n";
      throw CLI::RuntimeError(2);
    }
    app::Actor system = app::Actor::System();
    for (const auto& name : department_names) {
      auto found = offline.store->Read([&](store::ReadTx& tx) { return tx.FindDepartmentByName(name); });
      if (!found) throw CLI::RuntimeError(Report(found.error()));
      if (*found) {
        new_user.department_ids.push_back((**found).id);
      } else {
        auto created = offline.services->directory.CreateDepartment(system, name, std::nullopt);
        if (!created) throw CLI::RuntimeError(Report(created.error()));
        new_user.department_ids.push_back(created->id);
      }
    }
    auto created = offline.services->directory.CreateUser(system, new_user);
    if (!created) throw CLI::RuntimeError(Report(created.error()));
    std::cout << "created user " << created->username << " (id " << created->id << ")\n";
  });

  std::string query;
  auto* user_list = user->add_subcommand("list", "List accounts.");
  user_list->add_option("--query", query, "Name prefix to match");
  add_data_dir(user_list);
  user_list->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    store::UserQuery q{.text = query, .include_disabled = true, .limit = 200};
    while (true) {
      auto users = offline.store->Read([&](store::ReadTx& tx) { return tx.ListUsers(q); });
      if (!users) throw CLI::RuntimeError(Report(users.error()));
      for (const auto& u : *users) {
        std::cout << u.id << "\t" << u.username << "\t" << u.display_name << "\t" << u.job_role
                  << (u.is_admin ? "\tadmin" : "") << (u.is_guest ? "\tguest" : "") << (u.disabled ? "\tdisabled" : "") << "\n";
      }
      if (users->size() < 200) break;
      q.after_id = users->back().id;
    }
  });

  std::string target_username;
  // disable and enable differ only in the flag they set.
  for (bool disable : {true, false}) {
    auto* cmd = user->add_subcommand(disable ? "disable" : "enable",
                                     disable ? "Disable an account and end all its sessions." : "Enable a disabled account.");
    cmd->add_option("username", target_username, "Account")->required();
    add_data_dir(cmd);
    cmd->callback([&, disable] {
      Offline offline;
      if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
      auto found = FindUser(offline, target_username);
      if (!found) throw CLI::RuntimeError(Report(found.error()));
      app::UserPatch patch;
      patch.disabled = disable;
      auto updated = offline.services->directory.UpdateUser(app::Actor::System(), found->id, patch);
      if (!updated) throw CLI::RuntimeError(Report(updated.error()));
      std::cout << (disable ? "disabled " : "enabled ") << target_username << "\n";
    });
  }

  auto* user_reset = user->add_subcommand("reset-password", "Set a new password and end the account's sessions.");
  user_reset->add_option("username", target_username, "Account")->required();
  user_reset->add_flag("--password-stdin", password_stdin, "Read the new password from standard input")->required();
  add_data_dir(user_reset);
  user_reset->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    auto found = FindUser(offline, target_username);
    if (!found) throw CLI::RuntimeError(Report(found.error()));
    auto reset = offline.services->directory.ResetPassword(app::Actor::System(), found->id, ReadPassword(true));
    if (!reset) throw CLI::RuntimeError(Report(reset.error()));
    std::cout << "password reset for " << target_username << "\n";
  });

  // The way back in when an account has lost its authenticator and its recovery codes, and no
  // administrator who can still sign in can reset it over the API.
  auto* user_reset_mfa =
      user->add_subcommand("reset-mfa", "Remove an account's two-step sign-in and end its sessions.");
  user_reset_mfa->add_option("username", target_username, "Account")->required();
  add_data_dir(user_reset_mfa);
  user_reset_mfa->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    auto found = FindUser(offline, target_username);
    if (!found) throw CLI::RuntimeError(Report(found.error()));
    auto reset = offline.services->directory.ResetMfa(app::Actor::System(), found->id);
    if (!reset) throw CLI::RuntimeError(Report(reset.error()));
    std::cout << "two-step sign-in removed for " << target_username << "\n";
  });

  auto* department = admin->add_subcommand("department", "Departments and units.");
  department->require_subcommand(1);
  std::string department_name, parent_name;
  auto* department_add = department->add_subcommand("add", "Create a department.");
  department_add->add_option("name", department_name, "Department name")->required();
  department_add->add_option("--parent", parent_name, "Parent department name");
  add_data_dir(department_add);
  department_add->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    std::optional<domain::DepartmentId> parent;
    if (!parent_name.empty()) {
      auto found = offline.store->Read([&](store::ReadTx& tx) { return tx.FindDepartmentByName(parent_name); });
      if (!found || !*found) {
        std::cerr << "rounds: no department named '" << parent_name << "'\n";
        throw CLI::RuntimeError(2);
      }
      parent = (**found).id;
    }
    auto created = offline.services->directory.CreateDepartment(app::Actor::System(), department_name, parent);
    if (!created) throw CLI::RuntimeError(Report(created.error()));
    std::cout << "created department " << created->name << " (id " << created->id << ")\n";
  });
  auto* department_list = department->add_subcommand("list", "List departments.");
  add_data_dir(department_list);
  department_list->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    auto departments = offline.store->Read([](store::ReadTx& tx) { return tx.ListDepartments(); });
    if (!departments) throw CLI::RuntimeError(Report(departments.error()));
    for (const auto& d : *departments) {
      std::cout << d.id << "\t" << d.name << (d.parent_id ? "\tparent " + std::to_string(*d.parent_id) : "") << "\n";
    }
  });

  std::string csv_file;
  auto* import = admin->add_subcommand("import-users", "Import staff from CSV (username,display_name,email,job_role,department[,password][,is_admin]).");
  import->add_option("file", csv_file, "CSV file")->required()->check(CLI::ExistingFile);
  add_data_dir(import);
  import->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    std::ifstream in(csv_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto report = offline.services->directory.ImportUsersCsv(app::Actor::System(), text.str());
    if (!report) throw CLI::RuntimeError(Report(report.error()));
    for (const auto& [line, reason] : report->errors) std::cerr << csv_file << ":" << line << ": " << reason << "\n";
    std::cout << "imported " << report->imported << " users, " << report->errors.size() << " rows with problems\n";
    if (!report->errors.empty()) throw CLI::RuntimeError(1);
  });

  // The patient index the PHI scanner matches names and MRNs against (kept current by the API).
  std::string patients_file;
  auto* import_patients = admin->add_subcommand("import-patients", "Load the patient index from CSV (mrn,first,last), adding or updating by MRN.");
  import_patients->add_option("file", patients_file, "CSV file")->required()->check(CLI::ExistingFile);
  add_data_dir(import_patients);
  import_patients->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    std::ifstream in(patients_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto imported = offline.services->governance.ImportPatients(app::Actor::System(), text.str());
    if (!imported) throw CLI::RuntimeError(Report(imported.error()));
    std::cout << "imported " << (*imported)["imported"].get<std::int64_t>() << " patients\n";
  });

  // ---- database -------------------------------------------------------------------------------
  auto* database = admin->add_subcommand("database", "Encryption at rest, and a check of the database file.");
  database->require_subcommand(1);
  std::string database_key_file;
  auto database_config = [&] {
    Config config;
    if (auto s = ApplyEnvironment(ProcessEnvironment(), config); !s) throw CLI::RuntimeError(Report(s.error()));
    config.data_dir = admin_data_dir;
    if (!database_key_file.empty()) config.database_key_file = database_key_file;
    return config;
  };
  // On record in the database the command changed, opened as it now is.
  auto record_database_change = [](const Config& config, const std::string& action, const nlohmann::json& details) {
    auto store = app::OpenDatabase(config, 1);
    if (!store) throw CLI::RuntimeError(Report(store.error()));
    auto record = app::AuditEntry(app::Actor::System(), action, "database", "", SystemClock().NowMillis());
    const Status audited = app::AuditNow(**store, record, details);
    (*store)->Close();
    if (!audited) throw CLI::RuntimeError(Report(audited.error()));
  };
  auto* encrypt = database->add_subcommand(
      "encrypt", "Encrypt a plain database in place, creating its key file if there is none (stop the server first).");
  add_data_dir(encrypt);
  encrypt->add_option("--database-key-file", database_key_file, "Key file (default <data-dir>/keys/database.key)");
  encrypt->callback([&] {
    const Config config = database_config();
    if (auto s = app::EncryptDatabase(config); !s) throw CLI::RuntimeError(Report(s.error()));
    record_database_change(config, "database.encrypt", {{"key_file", app::DatabaseKeyPath(config)}});
    std::cout << "encrypted " << config.DatabasePath() << " under the key in " << app::DatabaseKeyPath(config)
              << "\nback that key file up apart from the database: without it the database cannot be read\n";
  });
  auto* rekey = database->add_subcommand(
      "rekey",
      "Re-encrypt the database under a new key; the old key is kept in a retired key file for older backups "
      "(stop the server first).");
  add_data_dir(rekey);
  rekey->add_option("--database-key-file", database_key_file, "Key file (default <data-dir>/keys/database.key)");
  rekey->callback([&] {
    const Config config = database_config();
    auto changed = app::RekeyDatabase(config, SystemClock().NowMillis());
    if (!changed) throw CLI::RuntimeError(Report(changed.error()));
    record_database_change(config, "database.rekey",
                           {{"key_file", changed->key_file}, {"retired_key_file", changed->retired_key_file}});
    std::cout << "re-encrypted " << config.DatabasePath() << " under a new key in " << changed->key_file
              << "\nthe old key is in " << changed->retired_key_file
              << ": backups made before now need it; keep it, apart from them, for as long as they are kept\n";
  });
  auto* check = database->add_subcommand(
      "check", "Read every page of the database (authenticating each when it is encrypted) and check its structure.");
  add_data_dir(check);
  check->add_option("--database-key-file", database_key_file, "Key file (default <data-dir>/keys/database.key)");
  check->callback([&] {
    const Config config = database_config();
    auto key = app::DatabaseKeyFor(config);
    if (!key) throw CLI::RuntimeError(Report(key.error()));
    auto verdict = store::CheckDatabaseFile(config.DatabasePath(), *key);
    if (!verdict) throw CLI::RuntimeError(Report(verdict.error()));
    std::cout << config.DatabasePath() << (key->empty() ? " (not encrypted): " : " (encrypted): ") << *verdict << "\n";
    if (*verdict != "ok") throw CLI::RuntimeError(1);
  });

  // ---- backup ---------------------------------------------------------------------------------
  std::string backup_to;
  auto* backup = app.add_subcommand("backup", "Copy the live database consistently (safe while serving).");
  backup->add_option("--to", backup_to, "Destination file")->required();
  add_data_dir(backup);
  backup->callback([&] {
    Offline offline;
    if (auto s = offline.Open(admin_data_dir); !s) throw CLI::RuntimeError(Report(s.error()));
    // A copy of everything, PHI included, leaves the database: on record first, like an export,
    // so the copy holds the record of its own making.
    auto record = app::AuditEntry(app::Actor::System(), "database.backup", "database", "", SystemClock().NowMillis());
    if (auto s = app::AuditNow(*offline.store, record, {{"destination", backup_to}}); !s) {
      throw CLI::RuntimeError(Report(s.error()));
    }
    if (auto s = offline.store->Backup(backup_to); !s) throw CLI::RuntimeError(Report(s.error()));
    std::cout << "backed up to " << backup_to << "\n";
  });

  AddAuditCommands(app);     // cli_audit.cpp
  AddTemplateCommands(app);  // cli_template.cpp

  AddRetentionCommands(app);
  AddBenchCommands(app);   // cli_bench.cpp

  app.add_subcommand("routes", "Print every HTTP route the server registers.")
      ->callback([&] { throw CLI::RuntimeError(routes()); });

  app.add_subcommand("version", "Print the version.")->callback([] { std::cout << "rounds " << ROUNDS_VERSION_STRING << "\n"; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}

}  // namespace rounds::cli
