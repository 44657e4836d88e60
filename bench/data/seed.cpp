// rounds-bench-seed: fills a data folder for the history-read and search benchmarks
// (bench/data/run.sh), then exits; `rounds serve --data-dir` opens it as it is.
//
// Users and spaces are made through the app services, as the API makes them (audit records,
// member.joined events, templates). Messages go straight through the store's write API, many per
// write unit, and each one writes what a post writes: the space's next seq, the message row (its
// insert trigger indexes it for search), its mentions, and the message.created event whose
// payload is the app codec's JSON of the message. Every title and body is screened by the
// server's own PHI scanner first and drawn again if anything is found, so nothing is stored that a
// post would have refused, held or redacted.
//
// Half of the spaces run the default internal-community template (PHI rule warn: reads are
// audited), half the announcements template (PHI rule block: reads are not).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "app/database.hpp"
#include "app/json_codec.hpp"
#include "app/services.hpp"
#include "bus/bus.hpp"
#include "core/log.hpp"
#include "store/store.hpp"
#include "vocabulary.hpp"

namespace rounds::bench {
namespace {

using domain::MessageId;
using domain::SpaceId;
using domain::User;
using domain::UserId;

struct Options {
  std::string data_dir;
  std::string manifest;        // JSON for the load generators: spaces, users, password, queries
  std::int64_t messages = 1'000'000;
  int users = 100;
  int spaces = 100;
  int batch = 50;              // messages per write unit
  std::uint32_t seed = 2026;
  std::string password = "bench-password-2026";
};

constexpr const char* kUsage =
    "usage: rounds-bench-seed --data-dir DIR [--manifest FILE] [--messages N] [--users N] [--spaces N]\n"
    "                         [--batch N] [--seed N] [--password TEXT]\n";

bool ParseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    if (flag == "--data-dir") {
      o.data_dir = value;
    } else if (flag == "--manifest") {
      o.manifest = value;
    } else if (flag == "--messages") {
      o.messages = std::atoll(value.c_str());
    } else if (flag == "--users") {
      o.users = std::atoi(value.c_str());
    } else if (flag == "--spaces") {
      o.spaces = std::atoi(value.c_str());
    } else if (flag == "--batch") {
      o.batch = std::atoi(value.c_str());
    } else if (flag == "--seed") {
      o.seed = static_cast<std::uint32_t>(std::atoll(value.c_str()));
    } else if (flag == "--password") {
      o.password = value;
    } else {
      return false;
    }
  }
  return !o.data_dir.empty() && o.messages >= 0 && o.users >= 2 && o.spaces >= 2 && o.batch >= 1;
}

// The vocabulary ranked by how often it is drawn: the hundred most common English words first,
// then the rest of the common words and the clinical terms mixed, so clinical terms sit across
// the middle and the tail of the distribution.
class Vocabulary {
 public:
  explicit Vocabulary(std::uint32_t seed) {
    auto common = CommonWords();
    auto clinical = ClinicalWords();
    const std::size_t head = std::min<std::size_t>(100, common.size());
    ranked_.assign(common.begin(), common.begin() + static_cast<std::ptrdiff_t>(head));
    std::vector<std::string_view> rest(common.begin() + static_cast<std::ptrdiff_t>(head), common.end());
    rest.insert(rest.end(), clinical.begin(), clinical.end());
    std::mt19937 rng(seed);
    std::shuffle(rest.begin(), rest.end(), rng);
    ranked_.insert(ranked_.end(), rest.begin(), rest.end());
    // Zipf–Mandelbrot weights 1 / (rank + 2.7): word frequencies in natural text.
    double total = 0;
    for (std::size_t r = 0; r < ranked_.size(); ++r) {
      total += 1.0 / (static_cast<double>(r) + 2.7);
      cumulative_.push_back(total);
    }
    for (double& c : cumulative_) c /= total;
  }

  template <class Rng>
  std::string_view Draw(Rng& rng) const {
    double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), u);
    if (it == cumulative_.end()) --it;
    return ranked_[static_cast<std::size_t>(it - cumulative_.begin())];
  }

  std::string_view At(std::size_t rank) const { return ranked_[std::min(rank, ranked_.size() - 1)]; }
  std::size_t size() const { return ranked_.size(); }
  bool IsClinical(std::string_view word) const {
    auto clinical = ClinicalWords();
    return std::find(clinical.begin(), clinical.end(), word) != clinical.end();
  }

 private:
  std::vector<std::string_view> ranked_;
  std::vector<double> cumulative_;
};

struct SpacePlan {
  SpaceId id = 0;
  bool phi_bearing = false;
  domain::SpaceKind kind = domain::SpaceKind::kCommunity;
  std::vector<std::size_t> top_level_authors;  // indices into users; owners only under announcements
  std::int64_t tops_planned = 0;               // generator's count, to know when a reply has a parent
};

// A message drawn by the generator; the writer gives it its seq, id and parent.
struct Planned {
  std::size_t space = 0;
  std::size_t author = 0;
  bool reply = false;
  std::uint32_t parent_pick = 0;
  std::string title;
  std::string body;
  std::optional<UserId> mention;
};

constexpr int kSubmitters = 8;  // threads handing write units to the store at once

class Generator {
 public:
  Generator(const Vocabulary& vocabulary, const app::PolicyEngine& policy, std::vector<SpacePlan>& spaces,
            const std::vector<User>& users, std::uint32_t seed)
      : vocabulary_(vocabulary), policy_(policy), spaces_(spaces), users_(users), rng_(seed) {}

  std::vector<Planned> Next(std::int64_t count) {
    std::vector<Planned> out;
    out.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) out.push_back(One());
    return out;
  }

  std::int64_t rejected() const { return rejected_; }

 private:
  Planned One() {
    Planned p;
    p.space = rng_() % spaces_.size();
    SpacePlan& space = spaces_[p.space];
    p.reply = space.tops_planned > 0 && rng_() % 100 < 15;
    p.parent_pick = static_cast<std::uint32_t>(rng_());
    p.author = p.reply ? rng_() % users_.size()
                       : space.top_level_authors[rng_() % space.top_level_authors.size()];
    if (!p.reply) ++space.tops_planned;
    const bool titled = !p.reply && space.kind == domain::SpaceKind::kCommunity;
    while (true) {
      p.title = titled ? Sentence(3 + static_cast<int>(rng_() % 6), false) : std::string();
      int sentences = 1 + static_cast<int>(rng_() % 3);
      p.body.clear();
      for (int s = 0; s < sentences; ++s) {
        if (s > 0) p.body += ' ';
        p.body += Sentence(4 + static_cast<int>(rng_() % 13), true);
      }
      p.mention.reset();
      if (rng_() % 100 < 3) {
        std::size_t who = rng_() % users_.size();
        if (who != p.author) {
          p.body = "@" + users_[who].username + " " + p.body;
          p.mention = users_[who].id;
        }
      }
      // The server screens every post; text with a finding would not be stored as it is.
      if (policy_.Scan(p.body).empty() && (p.title.empty() || policy_.Scan(p.title).empty())) break;
      ++rejected_;
    }
    return p;
  }

  std::string Sentence(int words, bool punctuate) {
    std::string out;
    for (int w = 0; w < words; ++w) {
      if (w > 0) out += (punctuate && w > 3 && rng_() % 12 == 0) ? ", " : " ";
      out += vocabulary_.Draw(rng_);
    }
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    if (punctuate) out += rng_() % 6 == 0 ? '?' : '.';
    return out;
  }

  const Vocabulary& vocabulary_;
  const app::PolicyEngine& policy_;
  std::vector<SpacePlan>& spaces_;
  const std::vector<User>& users_;
  std::mt19937_64 rng_;
  std::int64_t rejected_ = 0;
};

// What only write units touch (they run one at a time on the store's writer): the newest
// top-level ids per space, where replies find their parents, and the clock of the history, so
// that created_at grows with the insertion order whichever submitting thread a unit came from.
struct WriterState {
  std::vector<std::deque<MessageId>> recent_tops;
  UnixMillis next_time = 0;
  UnixMillis step = 1;
};

// Writes planned messages in one write unit, the rows of a post for each.
Status WriteBatch(store::Store& store, const std::vector<Planned>& batch, const std::vector<SpacePlan>& spaces,
                  const std::vector<User>& users, WriterState& state) {
  return store.RunWrite([&](store::WriteTx& tx) -> Status {
    for (const Planned& p : batch) {
      const SpacePlan& space = spaces[p.space];
      const User& author = users[p.author];
      domain::Message m;
      m.space_id = space.id;
      m.author_id = author.id;
      auto& tops = state.recent_tops[p.space];
      if (p.reply && !tops.empty()) m.parent_id = tops[p.parent_pick % tops.size()];
      // As MessageService::Post: a top-level plain message in a community is a discussion.
      m.kind = space.kind == domain::SpaceKind::kCommunity && !m.parent_id ? domain::MessageKind::kDiscussion
                                                                           : domain::MessageKind::kMessage;
      m.title = m.parent_id ? std::string() : p.title;
      m.body = p.body;
      m.created_at = state.next_time;
      state.next_time += state.step;
      if (p.mention) m.mentions.push_back(*p.mention);
      ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(space.id));
      ROUNDS_ASSIGN_OR_RETURN(m.id, tx.InsertMessage(m));
      const domain::UserRef ref = domain::RefOf(author);
      const nlohmann::json j = app::MessageJson(m, &ref);
      ROUNDS_RETURN_IF_ERROR(tx.InsertEvent(domain::SpaceEvent{space.id, m.seq, "message.created", j.dump(),
                                                               m.created_at}));
      if (!m.parent_id) {
        tops.push_back(m.id);
        if (tops.size() > 64) tops.pop_front();
      }
    }
    return Ok();
  });
}

// Search terms by how often the seeded text uses them, for the search benchmark.
nlohmann::json Queries(const Vocabulary& v) {
  nlohmann::json q;
  auto words = [&](std::size_t from, std::size_t to, std::size_t step) {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t r = from; r < to && r < v.size(); r += step) out.push_back(std::string(v.At(r)));
    return out;
  };
  q["common"] = words(20, 60, 2);                     // in a large share of all messages
  q["mid"] = words(200, 600, 20);
  q["rare"] = words(v.size() - 200, v.size(), 10);   // the tail: a few thousand messages each
  nlohmann::json clinical = nlohmann::json::array();
  nlohmann::json pairs = nlohmann::json::array();
  nlohmann::json prefixes = nlohmann::json::array();
  std::vector<std::string> clinical_ranked;
  for (std::size_t r = 100; r < v.size(); ++r) {
    if (v.IsClinical(v.At(r)) && v.At(r).size() >= 6) clinical_ranked.emplace_back(v.At(r));
  }
  for (std::size_t i = 0; i < clinical_ranked.size() && clinical.size() < 20; i += clinical_ranked.size() / 20 + 1) {
    clinical.push_back(clinical_ranked[i]);
  }
  for (std::size_t i = 0; i + 1 < clinical_ranked.size() && pairs.size() < 20; i += clinical_ranked.size() / 20 + 1) {
    pairs.push_back(std::string(v.At(100 + i)) + " " + clinical_ranked[i + 1]);
  }
  for (std::size_t i = 3; i < clinical_ranked.size() && prefixes.size() < 20; i += clinical_ranked.size() / 20 + 1) {
    prefixes.push_back(clinical_ranked[i].substr(0, 4));
  }
  q["clinical"] = clinical;
  q["two_words"] = pairs;
  q["prefix"] = prefixes;
  return q;
}

int Run(const Options& o) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  log::SetMinimumLevel(log::Level::kWarn);
  Config config;
  // ROUNDS_DATABASE_ENCRYPTION=false seeds a plain database, to measure what encryption costs.
  if (auto s = ApplyEnvironment(ProcessEnvironment(), config); !s) {
    std::cerr << "rounds-bench-seed: " << s.error().public_message << "\n";
    return 1;
  }
  config.data_dir = o.data_dir;
  // Seeding is one long bulk load: commits without fsync (the server reopens it with FULL). The
  // database is encrypted at rest as the server would create it, under a key file in the folder.
  auto opened = app::OpenDatabase(config, 1, false);
  if (!opened) {
    std::cerr << "rounds-bench-seed: " << opened.error().public_message << " " << opened.error().internal_message << "\n";
    return 1;
  }
  store::Store& store = **opened;
  bus::InProcessBus bus;
  SystemClock clock;
  app::Services services(store, bus, clock, config);
  auto fail = [](const char* what, const Error& e) {
    std::cerr << "rounds-bench-seed: " << what << ": " << e.public_message << " " << e.internal_message << "\n";
    return 1;
  };

  // People: staff accounts sharing one password, hashed at the demo seeding cost.
  const char* roles[] = {"Registered Nurse", "Charge Nurse", "Hospitalist", "Pharmacist", "Physiotherapist",
                         "Intensivist", "Ward Clerk", "Nurse Educator"};
  std::vector<User> users;
  for (int i = 0; i < o.users; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "bench%03d", i);
    app::NewUser u;
    u.username = name;
    u.display_name = std::string("Bench User ") + (name + 5);
    u.email = u.username + "@bench.example";
    u.job_role = roles[i % std::size(roles)];
    u.password = o.password;
    u.fast_hash = true;
    auto created = services.directory.CreateUser(app::Actor::System(), u);
    if (!created) return fail("create user", created.error());
    users.push_back(*created);
  }
  auto actor_for = [&](std::size_t index) {
    app::Actor a;
    a.user = users[index];
    return a;
  };

  // Spaces: even indices PHI-bearing (the default template; communities and channels), odd ones
  // announcements communities. Every user is a member of every space.
  std::vector<SpacePlan> spaces;
  for (int i = 0; i < o.spaces; ++i) {
    SpacePlan plan;
    plan.phi_bearing = i % 2 == 0;
    plan.kind = plan.phi_bearing && i % 4 == 2 ? domain::SpaceKind::kChannel : domain::SpaceKind::kCommunity;
    const std::size_t owner = static_cast<std::size_t>(i) % users.size();
    app::NewSpace ns;
    ns.kind = plan.kind;
    ns.name = (plan.phi_bearing ? "Ward team " : "Announcements ") + std::to_string(i);
    ns.topic = plan.phi_bearing ? "Day-to-day coordination" : "News from the leadership team";
    ns.template_key = plan.phi_bearing ? "" : "announcements";
    auto created = services.spaces.Create(actor_for(owner), ns);
    if (!created) return fail("create space", created.error());
    plan.id = (*created)["id"].get<SpaceId>();
    plan.top_level_authors.push_back(owner);
    for (std::size_t k = 1; k < users.size(); ++k) {
      const std::size_t member = (owner + k) % users.size();
      // Announcements: a few more owners, who alone start posts there.
      const bool co_owner = !plan.phi_bearing && k <= 3;
      auto added = services.spaces.AddMember(actor_for(owner), plan.id, users[member].id,
                                             co_owner ? domain::MemberRole::kOwner : domain::MemberRole::kMember);
      if (!added) return fail("add member", added.error());
      if (plan.phi_bearing || co_owner) plan.top_level_authors.push_back(member);
    }
    spaces.push_back(std::move(plan));
  }
  const double setup_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::cerr << "rounds-bench-seed: " << users.size() << " users, " << spaces.size() << " spaces in "
            << setup_seconds << " s\n";

  // Messages over the last 180 days, oldest first. Units are small and several threads submit
  // them, so the store's writer commits many per transaction (group commit): one unit of
  // thousands of messages is slow, since SQLite's in-memory statement journal is walked from its
  // start at the end of every statement, and grows with every page the unit touches.
  const Vocabulary vocabulary(o.seed);
  const UnixMillis now = clock.NowMillis();
  const UnixMillis span = 180LL * 24 * 3600 * 1000;
  WriterState state;
  state.recent_tops.resize(spaces.size());
  state.step = o.messages > 0 ? std::max<UnixMillis>(1, span / o.messages) : 1;
  state.next_time = now - state.step * o.messages;
  Generator generator(vocabulary, services.policy, spaces, users, o.seed);
  const auto messages_started = Clock::now();
  std::mutex planning;
  std::int64_t planned = 0;             // guarded by planning
  std::atomic<std::int64_t> written{0};
  std::optional<Error> failure;         // guarded by planning
  auto submit = [&] {
    while (true) {
      std::vector<Planned> batch;
      {
        std::lock_guard lock(planning);
        if (planned >= o.messages || failure) return;
        const std::int64_t n = std::min<std::int64_t>(o.batch, o.messages - planned);
        batch = generator.Next(n);
        planned += n;
      }
      Status status = WriteBatch(store, batch, spaces, users, state);
      if (!status) {
        std::lock_guard lock(planning);
        failure = status.error();
        return;
      }
      written += static_cast<std::int64_t>(batch.size());
    }
  };
  std::vector<std::thread> submitters;
  for (int i = 0; i < kSubmitters; ++i) submitters.emplace_back(submit);
  std::int64_t next_report = 100'000;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::int64_t done = written.load();
    if (done >= next_report) {
      const double s = std::chrono::duration<double>(Clock::now() - messages_started).count();
      std::cerr << "rounds-bench-seed: " << done << " messages, " << static_cast<std::int64_t>(done / s) << "/s\n";
      next_report += 100'000;
    }
    std::lock_guard lock(planning);
    if (failure || done >= o.messages) break;
  }
  for (auto& t : submitters) t.join();
  if (failure) return fail("write messages", *failure);
  const double message_seconds = std::chrono::duration<double>(Clock::now() - messages_started).count();
  store.Close();
  const double total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::cerr << "rounds-bench-seed: " << written.load() << " messages in " << message_seconds << " s ("
            << generator.rejected() << " drafts redrawn after a PHI finding); " << total_seconds << " s in all\n";

  if (!o.manifest.empty()) {
    nlohmann::json phi = nlohmann::json::array();
    nlohmann::json plain = nlohmann::json::array();
    for (const auto& s : spaces) (s.phi_bearing ? phi : plain).push_back(s.id);
    nlohmann::json names = nlohmann::json::array();
    for (const auto& u : users) names.push_back(u.username);
    nlohmann::json manifest{{"messages", written.load()},
                            {"users", names},
                            {"password", o.password},
                            {"phi_spaces", phi},
                            {"plain_spaces", plain},
                            {"queries", Queries(vocabulary)},
                            {"seconds", {{"setup", setup_seconds}, {"messages", message_seconds}, {"total", total_seconds}}},
                            {"redrawn_after_phi_finding", generator.rejected()}};
    std::ofstream out(o.manifest);
    out << manifest.dump(2) << "\n";
    if (!out) {
      std::cerr << "rounds-bench-seed: cannot write " << o.manifest << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace rounds::bench

int main(int argc, char** argv) {
  rounds::bench::Options options;
  if (!rounds::bench::ParseOptions(argc, argv, options)) {
    std::cerr << rounds::bench::kUsage;
    return 2;
  }
  return rounds::bench::Run(options);
}
