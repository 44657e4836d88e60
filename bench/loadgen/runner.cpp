#include "runner.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <latch>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

namespace rounds::loadgen {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

const Clock::time_point kEpoch = Clock::now();

std::uint64_t NowMicros() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - kEpoch).count());
}

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ---- The server process, read from /proc --------------------------------------------------------

struct ProcSample {
  double cpu_seconds = 0;  // utime + stime
  long rss_kib = 0;
  bool ok = false;
};

ProcSample ReadProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return s;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; fields >> field; ++n) {  // field 3 is the state
    if (n == 14) utime = std::stoull(field);
    if (n == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) s.rss_kib = std::stol(line.substr(6));
  }
  s.ok = true;
  return s;
}

// ---- Markers -------------------------------------------------------------------------------------

std::string Hex(std::uint64_t v) {
  char buf[17];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  return std::string(buf, end);
}

std::string MakeMarker(int group, int member, std::uint32_t seq, std::uint64_t sent_us) {
  return "lgm." + Hex(static_cast<std::uint64_t>(group)) + "." + Hex(static_cast<std::uint64_t>(member)) + "." + Hex(seq) +
         "." + Hex(sent_us);
}

struct Marker {
  std::uint64_t group = 0, member = 0, seq = 0, sent_us = 0;
};

std::optional<Marker> ParseMarker(std::string_view text) {
  if (!text.starts_with("lgm.")) return std::nullopt;
  text.remove_prefix(4);
  std::uint64_t values[4];
  for (int i = 0; i < 4; ++i) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), values[i], 16);
    if (ec != std::errc()) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    if (i < 3) {
      if (!text.starts_with('.')) return std::nullopt;
      text.remove_prefix(1);
    }
  }
  if (!text.empty()) return std::nullopt;
  return Marker{values[0], values[1], values[2], values[3]};
}

// ---- Clients and counters -------------------------------------------------------------------------

struct Client {
  int index = 0;
  int worker = 0;
  int group = -1;
  int member = -1;
  std::unique_ptr<Session> session;
  std::vector<std::uint32_t> last_from;  // per member of the group: the highest seq received
  // Sender side.
  std::uint32_t sent = 0;
  std::uint32_t acked = 0;
  bool send_failed = false;
  std::uint32_t echoed = 0;  // highest own seq that came back (AckMode::kEcho)
  std::unique_ptr<asio::steady_timer> echo_signal;
  // Connection state.
  bool ready = false;
  bool reconnect_on_close = false;
};

struct Counters {
  std::atomic<long> ready{0};
  std::atomic<long> deliveries{0};
  std::atomic<long> duplicates{0};
  std::atomic<long> out_of_order{0};
  std::atomic<long> seq_gaps{0};
  std::atomic<long> seq_repeats{0};
  std::atomic<long> foreign{0};
  std::atomic<long> acked{0};
  std::atomic<long> expected_deliveries{0};
  std::atomic<long> send_errors{0};
  std::atomic<long> connect_errors{0};
  std::atomic<long> unexpected_closes{0};
  std::atomic<long> active_senders{0};
  std::atomic<long> reconnected{0};
  std::atomic<long> too_slow{0};  // closed by the server as too slow (Rounds: 4008), then resumed
  std::atomic<std::uint64_t> last_ready_us{0};
};

struct Worker {
  asio::io_context io{1};
  std::thread thread;
  std::vector<std::uint32_t> latency_us;  // per delivery, this step
  std::vector<std::uint32_t> ack_us;      // per acknowledged send, this step
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
  std::size_t count = 0;
};

Percentiles Summarize(std::vector<std::uint32_t>& v) {
  Percentiles p;
  p.count = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) ;
    return static_cast<double>(v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)]) / 1000.0;
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.max = static_cast<double>(v.back()) / 1000.0;
  return p;
}

json ToJson(const Percentiles& p) {
  auto round3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  return {{"p50", round3(p.p50)}, {"p90", round3(p.p90)}, {"p99", round3(p.p99)}, {"max", round3(p.max)}, {"count", p.count}};
}

class Runner {
 public:
  Runner(const RunOptions& options, Adapter& adapter) : options_(options), adapter_(adapter) {}

  int Run() {
    RaiseFileLimit();
    StartWorkers();
    int code = 2;
    if (options_.scenario == "fanout") {
      code = RunTraffic(FanoutTopology());
    } else if (options_.scenario == "direct") {
      code = RunTraffic(PairTopology(options_.users));
    } else if (options_.scenario == "reconnect") {
      code = RunTraffic(PairTopology(options_.clients));
    } else if (options_.scenario == "idle") {
      code = RunIdle();
    } else {
      std::cerr << "rounds-loadgen: unknown scenario '" << options_.scenario << "'\n";
    }
    StopWorkers();
    return code;
  }

 private:
  // ---- Set-up ---------------------------------------------------------------------------------------

  Topology FanoutTopology() {
    Topology t;
    t.clients = options_.members;
    t.groups.emplace_back();
    for (int i = 0; i < t.clients; ++i) t.groups[0].push_back(i);
    return t;
  }

  Topology PairTopology(int clients) {
    Topology t;
    t.clients = clients - clients % 2;
    t.direct = true;
    for (int i = 0; i + 1 < t.clients; i += 2) t.groups.push_back({i, i + 1});
    return t;
  }

  void RaiseFileLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    rlim_t want = static_cast<rlim_t>(options_.connections) * 2 + static_cast<rlim_t>(options_.clients) * 2 + 1024;
    if (limit.rlim_cur >= want) return;
    limit.rlim_cur = std::min(want, limit.rlim_max);
    if (limit.rlim_cur < want) {
      // Raising the hard limit needs privilege; try, and fall back to what is allowed.
      rlimit raised{want, want};
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    }
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  void StartWorkers() {
    int n = std::max(1, options_.threads);
    for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>());
    for (auto& w : workers_) {
      guards_.emplace_back(asio::make_work_guard(w->io));
      w->thread = std::thread([io = &w->io] { io->run(); });
    }
  }

  void StopWorkers() {
    stopping_ = true;
    OnEachWorker([this](int w) {
      for (auto& c : clients_) {
        if (c.worker == w && c.session) c.session->Drop();
      }
    });
    // Let the readers see their streams end before the sessions go away.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Sessions belong to their workers' executors: destroy them there, then let the threads end.
    OnEachWorker([this](int w) {
      for (auto& c : clients_) {
        if (c.worker == w) {
          c.echo_signal.reset();
          c.session.reset();
        }
      }
    });
    guards_.clear();
    for (auto& w : workers_) {
      w->io.stop();
      w->thread.join();
    }
  }

  // Runs fn(worker index) on every worker thread and waits for all of them.
  void OnEachWorker(const std::function<void(int)>& fn) {
    std::latch done(static_cast<std::ptrdiff_t>(workers_.size()));
    for (std::size_t w = 0; w < workers_.size(); ++w) {
      asio::post(workers_[w]->io, [&fn, &done, w] {
        fn(static_cast<int>(w));
        done.count_down();
      });
    }
    done.wait();
  }

  // Runs a coroutine on worker 0 and waits for its result.
  template <class T>
  T Await(std::function<Task<T>()> make) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    asio::co_spawn(workers_[0]->io, [promise, make]() -> Task<void> { promise->set_value(co_await make()); }, asio::detached);
    return future.get();
  }

  Status Prepare(const Topology& topology) {
    auto started = Clock::now();
    Log("setting up " + std::to_string(topology.clients) + " users and " + std::to_string(topology.groups.size()) +
        " groups on " + adapter_.Name());
    Status e = Await<Status>([&]() -> Task<Status> {
      co_return co_await adapter_.Prepare(workers_[0]->io.get_executor(), topology, [this](const std::string& m) { Log(m); });
    });
    if (!e.empty()) return e;
    topology_ = topology;
    group_size_.assign(topology.groups.size(), 0);
    clients_.resize(static_cast<std::size_t>(topology.clients));
    for (int i = 0; i < topology.clients; ++i) {
      clients_[static_cast<std::size_t>(i)].index = i;
      clients_[static_cast<std::size_t>(i)].worker = i % static_cast<int>(workers_.size());
    }
    for (std::size_t g = 0; g < topology.groups.size(); ++g) {
      group_size_[g] = static_cast<int>(topology.groups[g].size());
      for (std::size_t m = 0; m < topology.groups[g].size(); ++m) {
        Client& c = clients_[static_cast<std::size_t>(topology.groups[g][m])];
        c.group = static_cast<int>(g);
        c.member = static_cast<int>(m);
        c.last_from.assign(topology.groups[g].size(), 0);
      }
    }
    OnEachWorker([this](int w) {
      for (auto& c : clients_) {
        if (c.worker != w) continue;
        std::string bind;
        if (options_.source_ips > 1) bind = "127.0.0." + std::to_string(1 + c.index % options_.source_ips);
        c.session = adapter_.NewSession(workers_[static_cast<std::size_t>(w)]->io.get_executor(), c.index, bind);
        c.echo_signal = std::make_unique<asio::steady_timer>(workers_[static_cast<std::size_t>(w)]->io);
      }
    });
    Log("set up in " + Fixed(SecondsSince(started), 1) + " s");
    return {};
  }

  // Connects every client (at most connect_concurrency at once per worker) and waits until all are
  // ready (subscribed and receiving live traffic) or `timeout` passes. Returns the seconds it took.
  double ConnectAll(double timeout_seconds) {
    auto started = Clock::now();
    long before = counters_.ready.load();
    for (std::size_t w = 0; w < workers_.size(); ++w) {
      asio::co_spawn(workers_[w]->io, [this, w, started]() -> Task<void> {
        std::vector<Client*> mine;
        for (auto& c : clients_) {
          if (c.worker == static_cast<int>(w)) mine.push_back(&c);
        }
        co_await ForEachConcurrently(static_cast<int>(mine.size()), options_.connect_concurrency,
                                     [this, &mine, started](int i) -> Task<Status> {
                                       Client& c = *mine[static_cast<std::size_t>(i)];
                                       if (options_.connect_rate > 0) {
                                         // Paced: this worker's share of connect_rate per second.
                                         double at = static_cast<double>(i) * static_cast<double>(workers_.size()) / options_.connect_rate;
                                         asio::steady_timer pace(ExecutorOf(c), started + std::chrono::microseconds(static_cast<long>(at * 1e6)));
                                         co_await pace.async_wait(kNoThrow);
                                       }
                                       Status e = co_await ConnectWithRetry(c, false);
                                       if (e.empty()) asio::co_spawn(ExecutorOf(c), ReadLoop(c), asio::detached);
                                       co_return Status{};
                                     });
      }, asio::detached);
    }
    long want = before + static_cast<long>(clients_.size());
    long last_report = 0;
    auto settled = [&] {
      return counters_.ready.load() + counters_.connect_errors.load() + counters_.unexpected_closes.load() >= want;
    };
    while (!settled() && SecondsSince(started) < timeout_seconds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      long ready = counters_.ready.load() - before;
      if (ready - last_report >= 5000) {
        last_report = ready;
        Log("connected " + std::to_string(ready));
      }
    }
    return SecondsSince(started);
  }

  asio::any_io_executor ExecutorOf(const Client& c) { return workers_[static_cast<std::size_t>(c.worker)]->io.get_executor(); }

  Task<Status> ConnectWithRetry(Client& c, bool resume) {
    Status e;
    for (int attempt = 0; attempt < 5; ++attempt) {
      e = co_await c.session->Connect(resume);
      if (e.empty()) co_return e;
      asio::steady_timer pause(ExecutorOf(c), std::chrono::milliseconds(100 << attempt));
      co_await pause.async_wait(kNoThrow);
    }
    if (counters_.connect_errors.fetch_add(1) < 5) Log("client " + std::to_string(c.index) + ": " + e);
    co_return e;
  }

  // ---- Receiving ------------------------------------------------------------------------------------

  Task<void> ReadLoop(Client& c) {
    for (;;) {
      Incoming in = co_await c.session->Next();
      if (in.seq_gaps) counters_.seq_gaps += in.seq_gaps;
      if (in.seq_repeats) counters_.seq_repeats += in.seq_repeats;
      switch (in.kind) {
        case Incoming::Kind::kReady:
          if (!c.ready) {
            c.ready = true;
            counters_.ready++;
            counters_.last_ready_us = std::max<std::uint64_t>(counters_.last_ready_us.load(), NowMicros());
          }
          break;
        case Incoming::Kind::kMessage:
          OnMessage(c, in.marker);
          break;
        case Incoming::Kind::kClosed:
          if (c.ready) counters_.ready--;
          c.ready = false;
          // A client the server found too slow resumes from its cursor, as a real one does.
          if (in.close_code == 4008 && adapter_.SupportsResume() && !stopping_.load()) {
            counters_.too_slow++;
            c.reconnect_on_close = true;
          }
          if (c.reconnect_on_close) {
            c.reconnect_on_close = false;
            Status e = co_await ConnectWithRetry(c, true);
            if (e.empty()) {
              counters_.reconnected++;
              continue;
            }
            co_return;
          }
          if (!stopping_.load()) {
            if (counters_.unexpected_closes.fetch_add(1) < 5) {
              Log("client " + std::to_string(c.index) + " lost its stream (close code " + std::to_string(in.close_code) + "): " + in.error);
            }
          }
          co_return;
      }
    }
  }

  void OnMessage(Client& c, const std::string& text) {
    auto marker = ParseMarker(text);
    if (!marker || static_cast<int>(marker->group) != c.group || marker->member >= c.last_from.size()) {
      counters_.foreign++;
      return;
    }
    auto member = static_cast<std::size_t>(marker->member);
    auto seq = static_cast<std::uint32_t>(marker->seq);
    if (static_cast<int>(member) == c.member) {
      // The sender's own copy: an acknowledgement for echo adapters, never a delivery.
      if (seq > c.echoed) c.echoed = seq;
      c.echo_signal->cancel();
      return;
    }
    std::uint32_t& last = c.last_from[member];
    if (seq <= last) {
      counters_.duplicates++;
      return;
    }
    if (seq != last + 1 && counters_.out_of_order.fetch_add(1) < 5) {
      Log("client " + std::to_string(c.index) + " got message " + std::to_string(seq) + " from member " +
          std::to_string(member) + " of group " + std::to_string(c.group) + " after " + std::to_string(last));
    }
    last = seq;
    counters_.deliveries++;
    std::uint64_t now = NowMicros();
    workers_[static_cast<std::size_t>(c.worker)]->latency_us.push_back(
        static_cast<std::uint32_t>(std::min<std::uint64_t>(now - marker->sent_us, UINT32_MAX)));
  }

  // ---- Sending ----------------------------------------------------------------------------------------

  Task<void> SendLoop(Client& c, Clock::duration interval, Clock::time_point first, Clock::time_point end) {
    asio::steady_timer timer(ExecutorOf(c));
    Clock::time_point next = first;
    const long recipients = group_size_[static_cast<std::size_t>(c.group)] - 1;
    while (next < end && !c.send_failed && !stopping_.load()) {
      timer.expires_at(next);
      co_await timer.async_wait(kNoThrow);
      std::uint32_t seq = ++c.sent;
      std::uint64_t sent_us = NowMicros();
      Status e = co_await c.session->Send(MakeMarker(c.group, c.member, seq, sent_us));
      if (e.empty() && adapter_.Ack() == AckMode::kEcho) {
        auto deadline = Clock::now() + std::chrono::seconds(30);
        while (c.echoed < seq && Clock::now() < deadline) {
          c.echo_signal->expires_at(deadline);
          co_await c.echo_signal->async_wait(kNoThrow);
        }
        if (c.echoed < seq) e = "own message did not come back within 30 s";
      }
      if (!e.empty()) {
        c.send_failed = true;
        if (counters_.send_errors.fetch_add(1) < 5) Log("client " + std::to_string(c.index) + " send: " + e);
        break;
      }
      c.acked = seq;
      counters_.acked++;
      counters_.expected_deliveries += recipients;
      workers_[static_cast<std::size_t>(c.worker)]->ack_us.push_back(
          static_cast<std::uint32_t>(std::min<std::uint64_t>(NowMicros() - sent_us, UINT32_MAX)));
      next += interval;
    }
    counters_.active_senders--;
  }

  // ---- Scenarios ----------------------------------------------------------------------------------------

  struct Snapshot {
    long deliveries, duplicates, out_of_order, seq_gaps, seq_repeats, foreign, acked, expected, send_errors,
        connect_errors, unexpected_closes, too_slow;
  };
  Snapshot Take() {
    return {counters_.deliveries.load(), counters_.duplicates.load(), counters_.out_of_order.load(),
            counters_.seq_gaps.load(), counters_.seq_repeats.load(), counters_.foreign.load(), counters_.acked.load(),
            counters_.expected_deliveries.load(), counters_.send_errors.load(), counters_.connect_errors.load(),
            counters_.unexpected_closes.load(), counters_.too_slow.load()};
  }

  std::vector<int> Senders() {
    std::vector<int> senders;
    if (options_.scenario == "fanout") {
      int n = options_.senders > 0 ? std::min(options_.senders, options_.members) : options_.members;
      for (int i = 0; i < n; ++i) senders.push_back(i * options_.members / n);
    } else {
      for (auto& c : clients_) {
        if (c.group >= 0) senders.push_back(c.index);
      }
    }
    return senders;
  }

  int RunTraffic(const Topology& topology) {
    if (Status e = Prepare(topology); !e.empty()) {
      Fail("set-up failed: " + e);
      return 1;
    }
    double connect_s = ConnectAll(120);
    if (counters_.ready.load() < static_cast<long>(clients_.size())) {
      Fail("only " + std::to_string(counters_.ready.load()) + " of " + std::to_string(clients_.size()) + " clients connected");
      return 1;
    }
    Log(std::to_string(clients_.size()) + " clients connected in " + Fixed(connect_s, 2) + " s");
    connect_seconds_ = connect_s;
    // Connecting sets off work that is not the traffic under test (Rounds tells every online user
    // about each one who comes online): let it finish first.
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(options_.settle_seconds * 1000)));
    bool reconnect = options_.scenario == "reconnect";
    if (reconnect && !adapter_.SupportsResume()) {
      Fail("the " + adapter_.Name() + " adapter has no resume: the reconnect scenario needs one");
      return 2;
    }
    const int steps = options_.ramp && !reconnect ? std::max(1, options_.ramp_steps) : 1;
    double rate = options_.rate;
    std::optional<double> first_p99;
    bool all_verified = true;
    int step = 0;
    // Runs one step at `rate`; true when the server did not keep up with it.
    auto run_step = [&](double step_rate) {
      json result = TrafficStep(step++, step_rate, reconnect);
      bool verified = result["verify"]["ok"].get<bool>();
      all_verified = all_verified && verified;
      double p99 = result["latency_ms"]["p99"].get<double>();
      if (!first_p99) first_p99 = p99;
      bool saturated = !verified || result["errors"]["send"].get<long>() > 0 ||
                       result["messages_per_s"].get<double>() < 0.9 * step_rate ||
                       (p99 > 10 * std::max(*first_p99, 5.0) && p99 > 200);
      result["saturated"] = saturated;
      Emit(result);
      return saturated;
    };
    std::optional<double> kept_up;  // the fastest rate the server kept up with
    for (int i = 0; i < steps; ++i) {
      if (!run_step(rate)) {
        kept_up = rate;
        rate *= options_.ramp_factor;
        if (options_.ramp && options_.ramp_factor > 1 && i + 1 == steps) {
          Log("the ramp ended at an offered " + Fixed(*kept_up, 0) +
              " msg/s still keeping up: saturation is above it (more --ramp-steps find it)");
        }
        continue;
      }
      if (!options_.ramp) break;
      Log("saturated at an offered " + Fixed(rate, 0) + " msg/s");
      // Saturation lies between the last rate kept up with and this one: narrow it down.
      double fell_behind = rate;
      for (int r = 0; kept_up && r < options_.ramp_refine; ++r) {
        double middle = (*kept_up + fell_behind) / 2;
        if (run_step(middle)) fell_behind = middle;
        else kept_up = middle;
      }
      break;
    }
    FinalVerification(all_verified);
    return all_verified ? 0 : 1;
  }

  json TrafficStep(int step, double rate, bool reconnect) {
    OnEachWorker([this](int w) {
      workers_[static_cast<std::size_t>(w)]->latency_us.clear();
      workers_[static_cast<std::size_t>(w)]->ack_us.clear();
    });
    std::vector<int> senders = Senders();
    Snapshot before = Take();
    ProcSample proc_before = ReadProc(options_.server_pid);
    auto start = Clock::now() + std::chrono::milliseconds(100);
    auto end = start + std::chrono::microseconds(static_cast<long>(options_.seconds * 1e6));
    auto interval = std::chrono::nanoseconds(static_cast<long>(1e9 * static_cast<double>(senders.size()) / rate));
    counters_.active_senders += static_cast<long>(senders.size());
    for (std::size_t s = 0; s < senders.size(); ++s) {
      Client& c = clients_[static_cast<std::size_t>(senders[s])];
      auto phase = interval * static_cast<long>(s) / static_cast<long>(senders.size());
      asio::co_spawn(ExecutorOf(c), SendLoop(c, interval, start + phase, end), asio::detached);
    }
    Log("step " + std::to_string(step) + ": " + Fixed(rate, 0) + " msg/s offered by " + std::to_string(senders.size()) +
        " senders for " + Fixed(options_.seconds, 1) + " s");

    double resume_s = -1;
    long resumed_clients = 0;
    if (reconnect) {
      std::this_thread::sleep_until(start + (end - start) / 2);
      // Every client drops at once and resumes from its cursor while the senders keep posting.
      auto dropped_at = Clock::now();
      std::uint64_t dropped_us = NowMicros();
      counters_.last_ready_us = 0;
      long reconnected_before = counters_.reconnected.load();
      OnEachWorker([this](int w) {
        for (auto& c : clients_) {
          if (c.worker != w) continue;
          c.reconnect_on_close = true;
          c.session->Drop();
        }
      });
      Log("dropped every connection");
      while (SecondsSince(dropped_at) < 120) {
        long back = counters_.reconnected.load() - reconnected_before;
        if (back >= static_cast<long>(clients_.size()) && counters_.ready.load() >= static_cast<long>(clients_.size())) break;
        if (counters_.connect_errors.load() > 0 && back + counters_.connect_errors.load() >= static_cast<long>(clients_.size())) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      resumed_clients = counters_.reconnected.load() - reconnected_before;
      resume_s = static_cast<double>(counters_.last_ready_us.load() - dropped_us) / 1e6;
      Log(std::to_string(resumed_clients) + " clients resumed in " + Fixed(resume_s, 3) + " s");
    }

    while (counters_.active_senders.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto sending_done = Clock::now();
    // Drain: wait until every acknowledged message reached every recipient, or the drain timeout.
    while (SecondsSince(sending_done) < options_.drain_seconds) {
      Snapshot now = Take();
      if (now.deliveries - before.deliveries >= now.expected - before.expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto finished = Clock::now();
    Snapshot after = Take();
    ProcSample proc_after = ReadProc(options_.server_pid);

    std::vector<std::uint32_t> latencies, acks;
    std::mutex collect;
    OnEachWorker([&](int w) {
      std::lock_guard lock(collect);
      auto& worker = *workers_[static_cast<std::size_t>(w)];
      latencies.insert(latencies.end(), worker.latency_us.begin(), worker.latency_us.end());
      acks.insert(acks.end(), worker.ack_us.begin(), worker.ack_us.end());
      worker.latency_us.clear();
      worker.ack_us.clear();
    });
    Percentiles latency = Summarize(latencies);
    Percentiles ack = Summarize(acks);
    double elapsed = std::chrono::duration<double>(finished - start).count();
    long deliveries = after.deliveries - before.deliveries;
    long expected = after.expected - before.expected;
    long acked = after.acked - before.acked;
    long missing = std::max(0L, expected - deliveries);
    long duplicates = after.duplicates - before.duplicates;
    long out_of_order = after.out_of_order - before.out_of_order;
    long seq_gaps = after.seq_gaps - before.seq_gaps;
    long seq_repeats = after.seq_repeats - before.seq_repeats;
    bool ok = missing == 0 && duplicates == 0 && out_of_order == 0 && seq_gaps == 0 && seq_repeats == 0 &&
              after.foreign == before.foreign && (!reconnect || resumed_clients == static_cast<long>(clients_.size()));

    json r = {{"scenario", options_.scenario},
              {"adapter", adapter_.Name()},
              {"label", options_.label},
              {"step", step},
              {"clients", clients_.size()},
              {"groups", topology_.groups.size()},
              {"group_size", group_size_.empty() ? 0 : group_size_[0]},
              {"senders", senders.size()},
              {"offered_rate", rate},
              {"seconds", options_.seconds},
              {"sent_rate", std::round(static_cast<double>(acked) / options_.seconds * 10) / 10},
              {"acked", acked},
              {"deliveries", deliveries},
              {"expected_deliveries", expected},
              {"deliveries_per_s", std::round(static_cast<double>(deliveries) / elapsed * 10) / 10},
              {"messages_per_s", std::round(static_cast<double>(acked) / elapsed * 10) / 10},
              {"elapsed_s", std::round(elapsed * 1000) / 1000},
              {"latency_ms", ToJson(latency)},
              {"ack_latency_ms", ToJson(ack)},
              {"verify",
               {{"ok", ok}, {"missing", missing}, {"duplicates", duplicates}, {"out_of_order", out_of_order},
                {"seq_gaps", seq_gaps}, {"seq_repeats", seq_repeats}, {"foreign", after.foreign - before.foreign}}},
              {"errors",
               {{"send", after.send_errors - before.send_errors},
                {"connect", after.connect_errors - before.connect_errors},
                {"closed", after.unexpected_closes - before.unexpected_closes},
                {"too_slow_resumed", after.too_slow - before.too_slow}}},
              {"connect_s", std::round(connect_seconds_ * 1000) / 1000},
              {"sender_echo", adapter_.EchoesToSender(topology_) ? "ignored" : "none"}};
    if (reconnect) r["resume"] = {{"clients", resumed_clients}, {"seconds", std::round(resume_s * 1000) / 1000}};
    AddServer(r, proc_before, proc_after, elapsed);

    std::ostringstream line;
    line << options_.scenario << " " << adapter_.Name() << " step " << step << ": offered " << Fixed(rate, 0)
         << " msg/s, acked " << acked << " (" << Fixed(static_cast<double>(acked) / elapsed, 1) << " msg/s), "
         << deliveries << " deliveries (" << Fixed(static_cast<double>(deliveries) / elapsed, 1) << "/s), latency ms p50 "
         << Fixed(latency.p50, 2) << " p90 " << Fixed(latency.p90, 2) << " p99 " << Fixed(latency.p99, 2) << " max "
         << Fixed(latency.max, 2) << "; send errors " << (after.send_errors - before.send_errors);
    if (after.too_slow > before.too_slow) line << "; closed as too slow and resumed " << (after.too_slow - before.too_slow);
    if (proc_after.ok) {
      line << "; server CPU " << Fixed(100 * (proc_after.cpu_seconds - proc_before.cpu_seconds) / elapsed, 0)
           << "%, RSS " << proc_after.rss_kib / 1024 << " MiB";
    }
    if (reconnect) line << "; resumed " << resumed_clients << " clients in " << Fixed(resume_s, 3) << " s";
    line << (ok ? "; verified: every acknowledged message once, in order"
                : "; VERIFICATION FAILED: missing " + std::to_string(missing) + ", duplicates " + std::to_string(duplicates) +
                      ", out of order " + std::to_string(out_of_order) + ", seq gaps " + std::to_string(seq_gaps) +
                      ", seq repeats " + std::to_string(seq_repeats));
    Summary(line.str());
    return r;
  }

  // Per recipient and sender: the last message received is the last one acknowledged, so with the
  // in-order check on every receipt each acknowledged message arrived exactly once.
  void FinalVerification(bool& all_verified) {
    std::atomic<long> missing{0}, unacknowledged{0};
    OnEachWorker([&](int w) {
      for (auto& c : clients_) {
        if (c.worker != w || c.group < 0) continue;
        const auto& members = topology_.groups[static_cast<std::size_t>(c.group)];
        for (std::size_t m = 0; m < members.size(); ++m) {
          if (static_cast<int>(m) == c.member) continue;
          const Client& sender = clients_[static_cast<std::size_t>(members[m])];
          std::uint32_t last = c.last_from[m];
          if (last < sender.acked) missing += sender.acked - last;
          // A send that failed may still have been committed: one more than acknowledged is fine then.
          if (last > sender.acked && !(sender.send_failed && last == sender.acked + 1)) unacknowledged += last - sender.acked;
        }
      }
    });
    if (missing.load() || unacknowledged.load()) {
      all_verified = false;
      Fail("delivery verification failed: " + std::to_string(missing.load()) + " acknowledged deliveries missing, " +
           std::to_string(unacknowledged.load()) + " deliveries of messages never acknowledged");
    } else {
      Summary("final check: every recipient's last message from every sender is that sender's last acknowledged one");
    }
  }

  int RunIdle() {
    Topology t;
    t.clients = options_.connections;
    if (Status e = Prepare(t); !e.empty()) {
      Fail("set-up failed: " + e);
      return 1;
    }
    ProcSample before = ReadProc(options_.server_pid);
    double connect_s = ConnectAll(600);
    long ready = counters_.ready.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(options_.settle_seconds * 1000)));
    ProcSample after = ReadProc(options_.server_pid);
    long still_open = counters_.ready.load();
    json r = {{"scenario", "idle"},
              {"adapter", adapter_.Name()},
              {"label", options_.label},
              {"connections", options_.connections},
              {"ready", ready},
              {"open_after_settle", still_open},
              {"connect_s", std::round(connect_s * 1000) / 1000},
              {"connect_rate", options_.connect_rate},
              {"errors", {{"connect", counters_.connect_errors.load()}, {"closed", counters_.unexpected_closes.load()},
                          {"too_slow_resumed", counters_.too_slow.load()}}}};
    AddServer(r, before, after, connect_s + options_.settle_seconds);
    std::ostringstream line;
    line << "idle " << adapter_.Name() << ": " << still_open << " of " << options_.connections << " signed-in sockets open ("
         << Fixed(connect_s, 1) << " s to connect";
    if (counters_.too_slow.load() > 0) line << ", " << counters_.too_slow.load() << " closed as too slow and resumed";
    line << ")";
    if (before.ok && after.ok && still_open > 0) {
      double per = static_cast<double>(after.rss_kib - before.rss_kib) / static_cast<double>(still_open);
      r["per_connection_kib"] = std::round(per * 100) / 100;
      line << "; server RSS " << before.rss_kib / 1024 << " -> " << after.rss_kib / 1024 << " MiB, " << Fixed(per, 1)
           << " KiB per connection";
    }
    bool ok = still_open == options_.connections;
    r["ok"] = ok;
    Summary(line.str());
    Emit(r);
    stopping_ = true;
    return ok ? 0 : 1;
  }

  void AddServer(json& r, const ProcSample& before, const ProcSample& after, double elapsed) {
    if (!before.ok || !after.ok) return;
    r["server"] = {{"pid", options_.server_pid},
                   {"cpu_s", std::round((after.cpu_seconds - before.cpu_seconds) * 100) / 100},
                   {"cpu_pct", std::round(100 * (after.cpu_seconds - before.cpu_seconds) / elapsed)},
                   {"rss_kib_before", before.rss_kib},
                   {"rss_kib_after", after.rss_kib}};
  }

  // ---- Output ---------------------------------------------------------------------------------------

  static std::string Fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
  }
  void Log(const std::string& text) { std::cerr << "loadgen: " << text << std::endl; }
  void Fail(const std::string& text) { std::cerr << "loadgen: FAILED: " << text << std::endl; }
  void Summary(const std::string& text) {
    (options_.json_file.empty() ? std::cerr : std::cout) << text << std::endl;
  }
  void Emit(const json& r) {
    if (options_.json_file.empty()) {
      std::cout << r.dump() << std::endl;
    } else {
      std::ofstream out(options_.json_file, std::ios::app);
      out << r.dump() << "\n";
    }
  }

  const RunOptions& options_;
  Adapter& adapter_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<Client> clients_;
  Topology topology_;
  std::vector<int> group_size_;
  Counters counters_;
  double connect_seconds_ = 0;
  std::atomic<bool> stopping_{false};
};

}  // namespace

int RunScenario(const RunOptions& options, Adapter& adapter) {
  Runner runner(options, adapter);
  return runner.Run();
}

}  // namespace rounds::loadgen
