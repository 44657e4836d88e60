// rounds-loadgen: see Usage() below and bench/loadgen/README.md.
#include <sodium.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "runner.hpp"

namespace {

using rounds::loadgen::AdapterOptions;
using rounds::loadgen::RunOptions;

constexpr const char kUsage[] = R"(usage:
  rounds-loadgen --adapter rounds|xmpp|bare --url URL --scenario fanout|direct|idle|reconnect [options]
  rounds-loadgen seed-sql --users N [--user-prefix u] [--password P]   (SQL on stdout, see below)

scenarios:
  fanout     one room of --members (100); --senders (all) post --rate msg/s in total for --seconds
             (10); --ramp multiplies the rate by --ramp-factor (2) for up to --ramp-steps (8)
             steps, stopping at saturation; --ramp-refine N (0) then runs N steps half-way
             between the fastest rate that kept up and the slowest that did not
  direct     --users (1000) online users in 1:1 pairs, both posting, --rate msg/s in total
  idle       --connections (5000) signed-in idle sockets; server RSS before and after (--server-pid)
  reconnect  --clients (5000) in 1:1 pairs with traffic; half-way every socket drops and resumes
             from its cursors; reports the time until all resumed (rounds only)

options:
  --url URL              rounds: http://127.0.0.1:PORT; xmpp: ws://127.0.0.1:5280/xmpp-websocket;
                         bare: ws://127.0.0.1:9300/
  --admin-user NAME      rounds: an administrator, to create missing users (default admin)
  --admin-password PW    rounds: without it, users must exist already
  --user-prefix P        users are P0..P{N-1} (default u)
  --password PW          their password (default bench-password)
  --domain D --muc-service S --room R   xmpp (bench.local, conference.bench.local, fanout)
  --threads N            client threads (2)
  --drain-seconds S      wait after sending for the last deliveries (10)
  --connect-concurrency N  connections opened at once per thread (256)
  --connect-rate N       open at most N connections per second (0: unlimited)
  --setup-concurrency N  HTTP requests at once while setting up (8)
  --source-ips N         spread clients over 127.0.0.1..N (past ~28k ephemeral ports)
  --server-pid PID       read the server's CPU time and RSS from /proc
  --settle-seconds S     wait after connecting, before traffic or (idle) reading RSS (2)
  --json FILE            append one JSON object per run to FILE (default: stdout, summary on stderr)
  --label TEXT           copied into the JSON

Exit status: 0 when delivery verified (every acknowledged message reached every member exactly
once and in order), 1 when not or a run failed, 2 on bad usage.

seed-sql prints SQL that creates users with a minimum-cost Argon2id hash of the password, so that
thousands of them can sign in quickly (interactive-cost hashing allows ~30 sign-ins a second):
  rounds-loadgen seed-sql --users 20000 | sqlite3 DATA_DIR/rounds.db     (server stopped)
The database must be plain for that (made with ROUNDS_DATABASE_ENCRYPTION=false); encrypt it
afterwards with `rounds admin database encrypt --data-dir DATA_DIR`, as the suite does.
)";

int SeedSql(const std::map<std::string, std::string>& args) {
  if (sodium_init() < 0) return 1;
  int users = std::stoi(args.contains("users") ? args.at("users") : "1000");
  std::string prefix = args.contains("user-prefix") ? args.at("user-prefix") : "u";
  std::string password = args.contains("password") ? args.at("password") : "bench-password";
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_MIN,
                            crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    std::cerr << "rounds-loadgen: hashing failed\n";
    return 1;
  }
  for (char c : prefix) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      std::cerr << "rounds-loadgen: the prefix must be a username prefix\n";
      return 2;
    }
  }
  long long now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::cout << "BEGIN;\n"
            << "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < " << users << ")\n"
            << "INSERT OR IGNORE INTO users (username, display_name, email, job_role, kind, is_admin, is_compliance, "
               "disabled, created_at)\n"
            << "  SELECT '" << prefix << "' || i, 'Load " << prefix << "' || i, '" << prefix
            << "' || i || '@loadgen.example', 'Registered Nurse', 'staff', 0, 0, 0, " << now << " FROM n;\n"
            << "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < " << users << ")\n"
            << "INSERT OR IGNORE INTO credentials (user_id, password_hash)\n"
            << "  SELECT users.id, '" << hash << "' FROM n JOIN users ON users.username = '" << prefix << "' || n.i;\n"
            << "COMMIT;\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--ramp") {
      args["ramp"] = "1";
    } else if (a.starts_with("--") && i + 1 < argc) {
      args[a.substr(2)] = argv[++i];
    } else if (!a.starts_with("--") && command.empty()) {
      command = a;
    } else {
      std::cerr << "rounds-loadgen: unexpected argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (command == "seed-sql") return SeedSql(args);
  if (!command.empty()) {
    std::cerr << "rounds-loadgen: unknown command '" << command << "'\n" << kUsage;
    return 2;
  }
  auto take = [&](const char* key, auto& into) {
    auto it = args.find(key);
    if (it == args.end()) return;
    using T = std::decay_t<decltype(into)>;
    if constexpr (std::is_same_v<T, std::string>) {
      into = it->second;
    } else if constexpr (std::is_same_v<T, double>) {
      into = std::stod(it->second);
    } else {
      into = std::stoi(it->second);
    }
    args.erase(it);
  };
  RunOptions run;
  AdapterOptions adapter_options;
  std::string adapter_name = "rounds";
  try {
    take("adapter", adapter_name);
    take("url", adapter_options.url);
    take("user-prefix", adapter_options.user_prefix);
    take("password", adapter_options.password);
    take("admin-user", adapter_options.admin_user);
    take("admin-password", adapter_options.admin_password);
    take("domain", adapter_options.domain);
    take("muc-service", adapter_options.muc_service);
    take("room", adapter_options.room);
    take("setup-concurrency", adapter_options.setup_concurrency);
    take("scenario", run.scenario);
    take("members", run.members);
    take("senders", run.senders);
    take("users", run.users);
    take("connections", run.connections);
    take("clients", run.clients);
    take("rate", run.rate);
    take("seconds", run.seconds);
    if (args.erase("ramp")) run.ramp = true;
    take("ramp-factor", run.ramp_factor);
    take("ramp-steps", run.ramp_steps);
    take("ramp-refine", run.ramp_refine);
    take("drain-seconds", run.drain_seconds);
    take("settle-seconds", run.settle_seconds);
    take("threads", run.threads);
    take("connect-concurrency", run.connect_concurrency);
    take("connect-rate", run.connect_rate);
    take("source-ips", run.source_ips);
    take("server-pid", run.server_pid);
    take("json", run.json_file);
    take("label", run.label);
  } catch (const std::exception&) {
    std::cerr << "rounds-loadgen: a numeric option has a value that is not a number\n";
    return 2;
  }
  if (!args.empty()) {
    std::cerr << "rounds-loadgen: unknown option --" << args.begin()->first << "\n" << kUsage;
    return 2;
  }
  if (run.scenario.empty() || adapter_options.url.empty() || run.rate <= 0 || run.seconds <= 0 || run.members < 2 ||
      run.users < 2 || run.clients < 2 || run.connections < 1) {
    std::cerr << kUsage;
    return 2;
  }
  std::string error;
  std::unique_ptr<rounds::loadgen::Adapter> adapter;
  if (adapter_name == "rounds") {
    adapter = rounds::loadgen::MakeRoundsAdapter(adapter_options, error);
  } else if (adapter_name == "xmpp") {
    adapter = rounds::loadgen::MakeXmppAdapter(adapter_options, error);
  } else if (adapter_name == "bare") {
    adapter = rounds::loadgen::MakeBareAdapter(adapter_options, error);
  } else {
    error = "unknown adapter '" + adapter_name + "'";
  }
  if (!adapter) {
    std::cerr << "rounds-loadgen: " << error << "\n";
    return 2;
  }
  return rounds::loadgen::RunScenario(run, *adapter);
}
