// What governance costs a post: message-post throughput through the real app layer (MessageService
// on a SQLite store with synchronous=FULL and group commit, as the server runs it) with the PHI
// scanner and the audit trail each on and off. Also history reads (pages of 50) of a PHI-bearing
// space, whose every read is audited, with audit on and off. The database is encrypted at rest in
// every configuration, as the server creates it; a fifth configuration, everything else on, is
// not, to measure what encryption costs. For each it also prints the CPU a post took on all the
// process's threads while posting, and the ratio of posts per CPU-second with audit on and off.
//
//   rounds-bench-post [--seconds N] [--threads T] [--rounds R] [--dir FOLDER] [--json FILE] [--only C]
//                     [--reads 0|1]
//
// --only C runs configuration C alone (1 all on, 2 scanner off, 3 audit off, 4 both off, 5 all
// on but the database not encrypted), for
// profiling one of them; the ratios are then not printed. --reads 0 skips the page reads, so a
// profile of a run covers posting alone.
//
// Posters: T threads (default 64, the server's pool for blocking work, so group commit batches as
// in production), each a signed-in member posting into one of 8 spaces under the default
// "internal-community" template (PHI rule warn; every poster confirms, so a post with findings
// writes an audit record). Bodies: the PHI evaluation corpus, 60% with PHI, against a
// 100,000-patient index. Every configuration starts from a fresh database in FOLDER (default: a
// temporary folder beside the current directory, on the same disk) and the configurations are
// interleaved R times (default 3); the median is reported.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "app/database.hpp"
#include "app/services.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "governance/phi/corpus.hpp"

namespace app = rounds::app;
namespace phi = rounds::governance::phi;
namespace fs = std::filesystem;

namespace {

struct Options {
  double seconds = 5;
  int threads = 64;
  int rounds = 3;
  fs::path dir;
  std::string json_path;
  int only = 0;  // 1-based configuration to run alone; 0 runs all of them
  bool reads = true;
};

struct Config {
  const char* name;
  app::Safeguards safeguards;
  bool encrypted = true;  // the database encrypted at rest, as the server creates it
};

struct Figures {
  double posts_per_second = 0;
  double reads_per_second = 0;
  double units_per_batch = 0;  // while posting: how well group commit batched
  double batch_micros = 0;     // while posting: mean time of one group-commit transaction
  double writer_micros = 0;    // while posting: CPU time of the store's writer thread per post
  double process_micros = 0;   // while posting: CPU time of every thread of the process per post
  double search_micros = 0;    // while posting: the writer's time applying search changes, per change
  std::uint64_t failures = 0;
};

constexpr int kSpaces = 8;
constexpr int kUsers = 16;

// One fresh server-shaped stack: store, bus, services, people and spaces.
class Stack {
 public:
  Stack(const fs::path& dir, const std::vector<phi::PatientRecord>& patients, app::Safeguards safeguards,
        bool encrypted)
      : dir_(dir) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_.data_dir = dir_.string();
    config_.database_encryption = encrypted;
    auto opened = app::OpenDatabase(config_, 4);
    if (!opened) throw std::runtime_error(opened.error().internal_message);
    store_ = std::move(*opened);
    services_ = std::make_unique<app::Services>(*store_, bus_, clock_, config_);
    services_->policy.SetPatients(patients);
    services_->policy.SetSafeguardsForMeasurement(safeguards);
    for (int i = 0; i < kUsers; ++i) {
      app::NewUser u;
      u.username = "poster" + std::to_string(i);
      u.display_name = "Poster " + std::to_string(i);
      u.email = u.username + "@example.org";
      u.job_role = "Registered Nurse";
      u.password = "bench-password-2026";
      u.fast_hash = true;
      auto created = services_->directory.CreateUser(app::Actor::System(), u);
      if (!created) throw std::runtime_error(created.error().internal_message);
      app::Actor a;
      a.user = *created;
      actors_.push_back(a);
    }
    for (int s = 0; s < kSpaces; ++s) {
      app::NewSpace space{rounds::domain::SpaceKind::kChannel, "bench " + std::to_string(s), "",
                          rounds::domain::Visibility::kPublic, rounds::domain::JoinPolicy::kOpen, "internal-community"};
      auto created = services_->spaces.Create(actors_[0], space);
      if (!created) throw std::runtime_error(created.error().internal_message);
      spaces_.push_back((*created)["id"].get<rounds::domain::SpaceId>());
      for (int i = 1; i < kUsers; ++i) {
        auto joined = services_->spaces.Join(actors_[i], spaces_.back());
        if (!joined) throw std::runtime_error(joined.error().internal_message);
      }
    }
  }
  ~Stack() {
    services_.reset();
    store_->Close();
    store_.reset();
    fs::remove_all(dir_);
  }

  app::Services& services() { return *services_; }
  rounds::store::StoreMetrics metrics() const { return store_->Metrics(); }
  const app::Actor& actor(int i) const { return actors_[static_cast<std::size_t>(i % kUsers)]; }
  rounds::domain::SpaceId space(int i) const { return spaces_[static_cast<std::size_t>(i % kSpaces)]; }

 private:
  fs::path dir_;
  std::unique_ptr<rounds::store::Store> store_;
  rounds::bus::InProcessBus bus_;
  rounds::SystemClock clock_;
  rounds::Config config_;
  std::unique_ptr<app::Services> services_;
  std::vector<app::Actor> actors_;
  std::vector<rounds::domain::SpaceId> spaces_;
};

// Runs `work(thread, iteration)` on `threads` threads for `seconds`; returns completed calls/s and
// counts failures.
template <class F>
double Drive(int threads, double seconds, std::uint64_t& failures, F work) {
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> failed{0};
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::uint64_t i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        if (work(t, i)) {
          done.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  failures += failed.load();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(done.load()) / elapsed;
}

// CPU seconds used so far by every thread of this process.
double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU seconds used so far by this process's threads named `name` (the store names its writer).
double ThreadCpuSeconds(const char* name) {
  const long ticks = ::sysconf(_SC_CLK_TCK);
  double total = 0;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (!std::getline(comm, line) || line != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 14 and 15: utime, stime
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    total += static_cast<double>(utime + stime) / static_cast<double>(ticks);
  }
  return total;
}

Figures Measure(const Options& options, const Config& config, const std::vector<phi::PatientRecord>& patients,
                const std::vector<std::string>& bodies) {
  Stack stack(options.dir / "bench-post-db", patients, config.safeguards, config.encrypted);
  Figures f;
  const auto before = stack.metrics();
  const double writer_before = ThreadCpuSeconds("store-writer");
  const double process_before = ProcessCpuSeconds();
  f.posts_per_second = Drive(options.threads, options.seconds, f.failures, [&](int t, std::uint64_t i) {
    app::Draft draft;
    draft.body = bodies[(static_cast<std::size_t>(t) * 7919 + i * 104729) % bodies.size()];
    draft.confirm_phi = true;
    return stack.services().messages.Post(stack.actor(t), stack.space(t), draft).has_value();
  });
  const auto after = stack.metrics();
  const double process_seconds = ProcessCpuSeconds() - process_before;
  const double writer_seconds = ThreadCpuSeconds("store-writer") - writer_before;
  if (after.write_units > before.write_units) {
    const double units = static_cast<double>(after.write_units - before.write_units);
    f.writer_micros = 1e6 * writer_seconds / units;
    f.process_micros = 1e6 * process_seconds / units;
  }
  if (after.write_batches > before.write_batches) {
    const double batches = static_cast<double>(after.write_batches - before.write_batches);
    f.units_per_batch = static_cast<double>(after.write_units - before.write_units) / batches;
    if (after.search_index_rows > before.search_index_rows) {
      f.search_micros = (after.search_index_micros_sum - before.search_index_micros_sum) /
                        static_cast<double>(after.search_index_rows - before.search_index_rows);
    }
    f.batch_micros = (after.commit_micros_sum - before.commit_micros_sum) / batches;
  }
  if (!options.reads) return f;
  f.reads_per_second = Drive(options.threads, options.seconds, f.failures, [&](int t, std::uint64_t) {
    app::MessagePage page;
    page.limit = 50;
    return stack.services().messages.List(stack.actor(t), stack.space(t), page).has_value();
  });
  return f;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  options.dir = fs::current_path() / ("rounds-bench-post-" + std::to_string(::getpid()));
  const char* const usage =
      "usage: rounds-bench-post [--seconds N] [--threads T] [--rounds R] [--dir FOLDER] [--json FILE] [--only C] [--reads 0|1]\n";
  for (int i = 1; i < argc; i += 2) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(usage, stdout);
      return 0;
    }
    // Every option takes a value: one given without it is refused, not taken as a default.
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n%s", argv[i], usage);
      return 2;
    }
    if (std::strcmp(argv[i], "--seconds") == 0) options.seconds = std::atof(argv[i + 1]);
    else if (std::strcmp(argv[i], "--threads") == 0) options.threads = std::max(1, std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--rounds") == 0) options.rounds = std::max(1, std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--dir") == 0) options.dir = fs::path(argv[i + 1]) / ("rounds-bench-post-" + std::to_string(::getpid()));
    else if (std::strcmp(argv[i], "--json") == 0) options.json_path = argv[i + 1];
    else if (std::strcmp(argv[i], "--only") == 0) options.only = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--reads") == 0) options.reads = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "unknown option %s\n%s", argv[i], usage);
      return 2;
    }
  }
  if (options.only < 0 || options.only > 5) {
    std::fprintf(stderr, "--only takes 1 to 5\n");
    return 2;
  }
  if (!rounds::crypto::InitCrypto()) return 1;
  rounds::log::SetMinimumLevel(rounds::log::Level::kWarn);  // set-up chatter would drown the figures
  const phi::Corpus corpus = phi::GenerateCorpus();
  std::vector<std::string> bodies;
  for (const auto& m : corpus.messages) bodies.push_back(m.text);

  const std::vector<Config> configs{
      {"scanner on, audit on", {true, true}},
      {"scanner off, audit on", {false, true}},
      {"scanner on, audit off", {true, false}},
      {"scanner off, audit off", {false, false}},
      {"all on, not encrypted", {true, true}, false},
  };
  std::vector<std::vector<double>> posts(configs.size()), reads(configs.size()), cpu(configs.size());
  std::uint64_t failures = 0;
  for (int r = 0; r < options.rounds; ++r) {
    for (std::size_t c = 0; c < configs.size(); ++c) {
      if (options.only != 0 && c + 1 != static_cast<std::size_t>(options.only)) continue;
      Figures f = Measure(options, configs[c], corpus.patients, bodies);
      posts[c].push_back(f.posts_per_second);
      reads[c].push_back(f.reads_per_second);
      cpu[c].push_back(f.process_micros);
      failures += f.failures;
      std::fprintf(stderr, "  round %d  %-24s %8.0f posts/s %8.0f reads/s  (posting: %.1f units per batch, %.0f us per batch, "
                   "writer CPU %.1f us per post, all threads %.1f us per post, search index %.1f us per change)\n",
                   r + 1, configs[c].name, f.posts_per_second, f.reads_per_second, f.units_per_batch, f.batch_micros,
                   f.writer_micros, f.process_micros, f.search_micros);
    }
  }
  fs::remove_all(options.dir);
  if (options.only != 0) {
    std::printf("%s: %.0f posts/s, %.0f reads/s (median of %d)\n", configs[options.only - 1].name,
                Median(posts[options.only - 1]), Median(reads[options.only - 1]), options.rounds);
    return failures > 0 ? 1 : 0;
  }

  std::printf("Post and read throughput through the app layer: %d threads, %.0f s each, median of %d,\n"
              "%zu patients in the index, %zu corpus messages (60%% with PHI), synchronous=FULL\n\n",
              options.threads, options.seconds, options.rounds, corpus.patients.size(), bodies.size());
  std::printf("| configuration | posts/s | vs all on | CPU per post, all threads | reads/s (50 per page) |\n"
              "|---|---:|---:|---:|---:|\n");
  std::vector<double> post_medians, read_medians, cpu_medians;
  for (std::size_t c = 0; c < configs.size(); ++c) {
    post_medians.push_back(Median(posts[c]));
    read_medians.push_back(Median(reads[c]));
    cpu_medians.push_back(Median(cpu[c]));
  }
  for (std::size_t c = 0; c < configs.size(); ++c) {
    std::printf("| %s | %.0f | %.1f%% | %.1f us | %.0f |\n", configs[c].name, post_medians[c],
                100.0 * post_medians[c] / post_medians[0], cpu_medians[c], read_medians[c]);
  }
  const double with_scanner = 100.0 * post_medians[0] / post_medians[1];
  const double with_audit = 100.0 * post_medians[0] / post_medians[2];
  const double with_both = 100.0 * post_medians[0] / post_medians[3];
  const double read_audit = 100.0 * read_medians[0] / read_medians[2];
  const double with_encryption = 100.0 * post_medians[0] / post_medians[4];
  const double read_encryption = 100.0 * read_medians[0] / read_medians[4];
  std::printf("\nposts with the scanner on: %.1f%% of scanner off (target >= 90%%)\n", with_scanner);
  std::printf("posts with audit on:       %.1f%% of audit off (target >= 90%%)\n", with_audit);
  // Where every core is busy (a server at saturation), posts/s follows the CPU a post costs.
  const double audit_cpu = cpu_medians[0] > 0 ? 100.0 * cpu_medians[2] / cpu_medians[0] : 0;
  std::printf("posts per CPU-second with audit on: %.1f%% of audit off (%.1f against %.1f us a post)\n", audit_cpu,
              cpu_medians[0], cpu_medians[2]);
  std::printf("posts with both on:        %.1f%% of both off\n", with_both);
  if (options.reads) {
    std::printf("reads with audit on:       %.1f%% of audit off\n", read_audit);
    std::printf("posts, database encrypted: %.1f%% of not encrypted (reads %.1f%%)\n", with_encryption, read_encryption);
  } else {
    std::printf("posts, database encrypted: %.1f%% of not encrypted (reads not run)\n", with_encryption);
  }
  if (failures > 0) std::printf("failed calls: %llu\n", static_cast<unsigned long long>(failures));

  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path);
    out << "{\"threads\":" << options.threads << ",\"seconds\":" << options.seconds << ",\"configurations\":[";
    for (std::size_t c = 0; c < configs.size(); ++c) {
      out << (c ? "," : "") << "{\"name\":\"" << configs[c].name << "\",\"posts_per_second\":" << post_medians[c]
          << ",\"cpu_micros_per_post\":" << cpu_medians[c] << ",\"reads_per_second\":" << read_medians[c] << "}";
    }
    // Without reads there are no read ratios: null, not a division of zeros (which is no JSON).
    const auto read_ratio = [&](double percent) { return options.reads ? std::to_string(percent / 100) : std::string("null"); };
    out << "],\"scanner_ratio\":" << with_scanner / 100 << ",\"audit_ratio\":" << with_audit / 100
        << ",\"read_audit_ratio\":" << read_ratio(read_audit) << ",\"encryption_ratio\":" << with_encryption / 100
        << ",\"read_encryption_ratio\":" << read_ratio(read_encryption) << ",\"audit_cpu_ratio\":" << audit_cpu / 100
        << ",\"failures\":" << failures << "}\n";
  }
  return failures > 0 ? 1 : 0;
}
