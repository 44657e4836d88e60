// The Beast/Asio server: one coroutine per HTTP connection, two (reader and writer) per
// WebSocket on the connection's strand, app services run on a separate blocking pool.
#include "transport/server.hpp"

#include <utility>  // before Asio: g++ 12 needs std::exchange declared

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <deque>
#include <exception>
#include <filesystem>
#include <optional>
#include <vector>

#include <unistd.h>

#include "app/json_codec.hpp"
#include "core/log.hpp"
#include "core/thread_name.hpp"
#include "transport/http/api.hpp"
#include "transport/http/static_files.hpp"
#include "transport/metrics.hpp"
#include "transport/ws/hub.hpp"
#include "transport/ws/live_reads.hpp"
#include "transport/ws/presence.hpp"
#include "transport/ws/sequencer.hpp"

namespace rounds::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using nlohmann::json;

namespace {

constexpr const char* kEventsPath = "/api/v1/events";

// A request target without its query.
std::string_view PathOf(beast::string_view target) {
  const std::string_view t(target.data(), target.size());
  return t.substr(0, t.find('?'));
}

// A header value without the spaces and tabs around it.
std::string_view Trimmed(beast::string_view value) {
  std::string_view v(value.data(), value.size());
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// POST /api/v1/spaces/{id}/attachments: the one request whose body may exceed max_body_bytes.
template <class Header>
bool IsUpload(const Header& header) {
  if (header.method() != http::verb::post) return false;
  const std::string_view target = PathOf(header.target());
  constexpr std::string_view kPrefix = "/api/v1/spaces/";
  constexpr std::string_view kSuffix = "/attachments";
  if (target.size() <= kPrefix.size() + kSuffix.size() || !target.starts_with(kPrefix) || !target.ends_with(kSuffix)) {
    return false;
  }
  const std::string_view id = target.substr(kPrefix.size(), target.size() - kPrefix.size() - kSuffix.size());
  return std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}
constexpr int kBlockingThreads = 64;  // many waiters let group commit batch their writes
// Presence changes are announced in one frame per interval (transport/ws/presence.hpp).
constexpr auto kPresenceInterval = std::chrono::milliseconds(250);

// `connect_src` lists the WebSocket origins the page may connect to besides 'self' (older
// browsers do not let 'self' cover ws:/wss:).
void AddSecurityHeaders(http::fields& fields, bool api, bool tls, const std::string& connect_src) {
  fields.set("Content-Security-Policy",
             "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
             "script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
             "connect-src 'self'" + connect_src + "; form-action 'self'");
  fields.set("X-Content-Type-Options", "nosniff");
  fields.set("Referrer-Policy", "no-referrer");
  fields.set("X-Frame-Options", "DENY");
  fields.set("Cross-Origin-Opener-Policy", "same-origin");
  fields.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  if (api) fields.set(http::field::cache_control, "no-store");
  if (tls) fields.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

// A Host header that is a plain host[:port] (no spaces, quotes or semicolons that could change a
// header it is copied into).
bool IsPlainHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

// Whether `folder` holds a built web app (its index.html).
bool HoldsWebApp(const std::filesystem::path& folder) {
  std::error_code ec;
  return !folder.empty() && std::filesystem::is_regular_file(folder / "index.html", ec);
}

// The built web app: the configured folder, else the first of these holding an index.html: beside
// the working directory (a checkout), beside the binary (build/rounds of a checkout, or an install
// under a prefix: bin/rounds and share/rounds/web), then the system's. Empty when none does.
std::string ResolveWebRoot(const Config& config) {
  if (!config.web_root.empty()) return config.web_root;
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates = {"web/dist", "../web/dist"};
  std::error_code ec;
  if (const fs::path exe = fs::read_symlink("/proc/self/exe", ec); !ec) {
    candidates.push_back(exe.parent_path() / "../web/dist");
    candidates.push_back(exe.parent_path() / "../share/rounds/web");
  }
  candidates.emplace_back("/usr/share/rounds/web");
  for (const fs::path& candidate : candidates) {
    if (HoldsWebApp(candidate)) return fs::absolute(candidate).lexically_normal().string();
  }
  return {};
}

// The request bodies being read or handled, in bytes. A body takes its bytes as they arrive and
// returns them once its request is answered; a body that no longer fits is refused, not queued,
// and returns what it took before its refusal is written.
// This bounds what clients can make the server hold at once, whatever the number of connections,
// and a client that announces a large body and sends it slowly holds only what it has sent.
class BodyBudget {
 public:
  explicit BodyBudget(std::int64_t bytes) : limit_(bytes), available_(bytes) {}

  // Bytes of the bodies being read or handled now.
  std::int64_t Held() const { return limit_ - available_.load(std::memory_order_relaxed); }

  class Reservation {
   public:
    explicit Reservation(BodyBudget* budget) : budget_(budget) {}
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() { Release(); }

    // Holds `bytes` in all, taking what it lacks; false, holding what it held, when that is not
    // available.
    bool GrowTo(std::int64_t bytes) {
      if (bytes <= bytes_) return true;
      if (!budget_->Take(bytes - bytes_)) return false;
      bytes_ = bytes;
      return true;
    }
    // Returns what it holds now: the body was refused and its bytes freed.
    void Release() {
      budget_->available_.fetch_add(bytes_, std::memory_order_relaxed);
      bytes_ = 0;
    }

   private:
    BodyBudget* budget_;
    std::int64_t bytes_ = 0;
  };

  Reservation Nothing() { return Reservation(this); }

 private:
  bool Take(std::int64_t bytes) {
    std::int64_t available = available_.load(std::memory_order_relaxed);
    do {
      if (available < bytes) return false;
    } while (!available_.compare_exchange_weak(available, available - bytes, std::memory_order_relaxed));
    return true;
  }

  const std::int64_t limit_;
  std::atomic<std::int64_t> available_;
};

}  // namespace

class Server::Impl {
 public:
  Impl(const Config& config, app::Services& services, store::Store& store, bus::Bus& bus)
      : config_(config),
        services_(services),
        store_(store),
        threads_(config.threads > 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency())),
        ioc_(threads_),
        blocking_(kBlockingThreads),
        acceptor_(ioc_),
        signals_(ioc_, SIGINT, SIGTERM),
        static_files_(ResolveWebRoot(config)),
        hub_([this](domain::UserId user, bool) {
          if (presence_.Changed(user)) SchedulePresenceFlush();
        }),
        presence_([this](domain::UserId user) { return hub_.IsOnline(user); }),
        presence_strand_(asio::make_strand(ioc_)),
        presence_timer_(presence_strand_),
        api_{services, store, config, state_, config.public_origin.rfind("https://", 0) == 0} {
    if (auto scheme_end = config.public_origin.find("://"); scheme_end != std::string::npos) {
      std::string host = config.public_origin.substr(scheme_end + 3);
      host = host.substr(0, host.find('/'));
      if (IsPlainHost(host)) own_ws_origin_ = (api_.tls ? "wss://" : "ws://") + host;
    }
    RegisterApiRoutes(router_, api_);
    // The WebSocket route is served by the upgrade path; this entry documents it and answers
    // plain GETs with 426.
    router_.Add("GET", kEventsPath, [this](Request& request) {
      auto actor = Authenticate(services_, request, api_.tls);
      if (!actor) return ProblemResponse(actor.error());
      Response r = ProtocolProblem(426, "upgrade_required", "Connect with a WebSocket client.");
      r.headers.emplace_back("Upgrade", "websocket");
      return r;
    });
    state_.metrics_text = [this] {
      const auto pages = services_.messages.PageCacheStats();
      const auto verdict = services_.audit.LastVerdict();
      std::optional<store::GrantCounts> grants;
      if (auto counts = services_.emergency.Counts()) grants = *counts;
      return metrics_.Render(store_.Metrics()) +
             Metrics::RenderPageCache(pages.hits, pages.misses, pages.entries, pages.bytes,
                                      services_.messages.KeptReadsAnswered()) +
             Metrics::RenderAuditVerification(verdict.ok, verdict.checked_at, verdict.running) +
             Metrics::RenderAuditWitness(services_.audit.WitnessState()) +
             Metrics::RenderRequestBodies(body_budget_.Held(), config_.max_body_bytes_in_flight) +
             Metrics::RenderClockSync(ReadClockSync()) + Metrics::RenderEmergencyGrants(grants);
    };
    bus.Subscribe([this](const bus::Event& event) {
      if (event.type == "message.created") metrics_.MessageStored();
      hub_.Dispatch(event);
    });
    services_.auth.OnSessionEnded([this](domain::SessionId id) { hub_.CloseSession(id, 4001, "session ended"); });
  }

  Status Run() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(config_.listen_address, ec);
    if (ec) return InvalidArgument("bad_config", "listen_address is not an IP address.", "listen_address");
    if (config_.max_body_bytes_in_flight < std::max(config_.max_body_bytes, config_.max_attachment_bytes)) {
      return InvalidArgument("bad_config",
                             "max_body_bytes_in_flight must be at least max_body_bytes and max_attachment_bytes: "
                             "one body of the largest allowed size must fit.",
                             "max_body_bytes_in_flight");
    }
    tcp::endpoint endpoint(address, static_cast<unsigned short>(config_.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Fail(ErrorCode::kUnavailable, "bind_failed",
                  "Cannot listen on " + config_.listen_address + ":" + std::to_string(config_.port) + ": " + ec.message());
    }
    asio::co_spawn(ioc_, Accept(), asio::detached);
    asio::co_spawn(ioc_, Housekeeping(), asio::detached);
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
      if (!error) {
        log::Info("signal", {{"signal", signal}});
        Stop();
      }
    });
    state_.ready = true;
    services_.retention.Start();  // the purge job; stopped before the store closes
    services_.emergency.Start();  // closes lapsed emergency access grants; stopped likewise
    if (!HoldsWebApp(static_files_.root())) {
      // The API works without it; a browser at / finds nothing, which is worth saying once.
      log::Warn("web_app_missing", {{"web_root", static_files_.root()},
                                    {"hint", "no built web app (index.html) found: set web_root (--web-root) to its folder"}});
    }
    log::Info("listening", {{"address", config_.listen_address},
                            {"port", acceptor_.local_endpoint().port()},
                            {"pid", static_cast<int>(::getpid())},
                            {"web_root", static_files_.root()},
                            {"threads", threads_}});
    std::vector<std::thread> workers;
    for (int i = 1; i < threads_; ++i) {
      workers.emplace_back([this] {
        NameThisThread("io");
        ioc_.run();
      });
    }
    ioc_.run();
    for (auto& t : workers) t.join();
    blocking_.join();
    services_.retention.Stop();
    services_.emergency.Stop();
    // Signs the final head (after the last write: the live reads recorded as the sockets closed)
    // while the store can still be read; the clean-shutdown checkpoint failed when it came after.
    services_.audit.Stop();
    store_.Close();
    log::Info("stopped");
    return Ok();
  }

  std::vector<std::pair<std::string, std::string>> Routes() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& route : router_.routes()) out.emplace_back(route.method, route.pattern);
    return out;
  }

  void Stop() {
    asio::post(ioc_, [this] {
      if (state_.draining.exchange(true)) return;
      log::Info("draining", {{"in_flight", in_flight_.load()}, {"websockets", hub_.connection_count()}});
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      signals_.cancel(ignored);
      hub_.CloseAll(1001, "server going away");
      asio::co_spawn(ioc_, FinishShutdown(), asio::detached);
    });
  }

 private:
  // ---- Accepting and housekeeping ----------------------------------------------------------

  awaitable<void> Accept() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, HttpSession(beast::tcp_stream(std::move(socket))), LogFailure);
    }
  }

  // Completion of a detached connection coroutine: an exception ends that connection only.
  static void LogFailure(std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      log::Error("session_failed", {{"reason", error.what()}});
    }
  }

  awaitable<void> Housekeeping() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    int ticks = 0;
    while (!state_.draining) {
      // The clock at start and every 30 s: audit times are only as good as it is.
      if (ticks++ % 15 == 0) CheckClock();
      hub_.RecordReadsIfDue();  // what sockets were sent live, on the audit trail (LiveReads)
      timer.expires_after(std::chrono::seconds(2));
      co_await timer.async_wait(kTuple);
      if (state_.draining) break;
      // Idle sessions end within seconds of their deadline; their sockets close with 4001.
      co_await RunBlocking([this] {
        services_.auth.ExpireSessions();
        return 0;
      });
    }
  }

  // Logs the clock's state at start, then the moment it goes out of step (not synchronized, or
  // possibly more than a second off) and the moment it is back, once each (security target A5).
  void CheckClock() {
    auto sync = ReadClockSync();
    if (!sync) return;
    const bool alarm = ClockSkewAlarm(*sync);
    if (clock_alarm_ == alarm) return;
    clock_alarm_ = alarm;
    json fields{{"synchronized", sync->synchronized}, {"max_error_seconds", sync->max_error_seconds}};
    if (alarm) log::Warn("clock_out_of_step", fields);
    else log::Info("clock_in_step", fields);
  }

  awaitable<void> FinishShutdown() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((in_flight_ > 0 || hub_.connection_count() > 0) && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kTuple);
    }
    ioc_.stop();
  }

  // Runs blocking work (app services, the file system) off the I/O threads.
  // The coroutine itself moves: one post to the pool, one back to the caller's executor (its
  // strand). co_spawn onto the pool cost a dispatch and a post there and a third hand-off back,
  // each a lock of the pool's one queue and often a thread woken.
  template <class F>
  awaitable<std::invoke_result_t<F>> RunBlocking(F fn) {
    using R = std::invoke_result_t<F>;
    auto home = co_await asio::this_coro::executor;
    std::optional<R> result;
    std::exception_ptr failure;
    co_await asio::post(asio::bind_executor(blocking_, use_awaitable));
    thread_local const bool named = (NameThisThread("blocking"), true);  // the pool's threads are its own
    (void)named;
    try {
      result.emplace(fn());
    } catch (...) {
      failure = std::current_exception();
    }
    co_await asio::post(asio::bind_executor(home, use_awaitable));  // back before anything else
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*result);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  // The request's line and header fields; the body is the caller's to move in (an upload's may be
  // tens of megabytes, never copied).
  Request ToRequest(const http::request<http::string_body>& req, const std::string& peer, bool* ok) const {
    Request out;
    out.method = std::string(req.method_string());
    *ok = ParseTarget(std::string_view(req.target().data(), req.target().size()), out.path, out.query);
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      out.headers[name] = std::string(field.value());
    }
    out.remote_address = ClientAddress(peer, out.Header("x-forwarded-for"));
    return out;
  }

  // The client's address: the peer, or behind a trusted proxy the address that proxy appended
  // last to X-Forwarded-For (earlier entries are whatever the client claimed). Without
  // trust_proxy the header is ignored, so clients cannot choose their lock-out or audit address.
  std::string ClientAddress(const std::string& peer, const std::string& forwarded_for) const {
    if (!config_.trust_proxy || forwarded_for.empty()) return peer;
    auto comma = forwarded_for.rfind(',');
    std::string last = forwarded_for.substr(comma == std::string::npos ? 0 : comma + 1);
    auto begin = last.find_first_not_of(" \t");
    auto end = last.find_last_not_of(" \t");
    if (begin == std::string::npos) return peer;
    last = last.substr(begin, end - begin + 1);
    boost::system::error_code ec;
    auto address = asio::ip::make_address(last, ec);
    return ec ? peer : address.to_string();
  }

  // The answer to a route's code that threw, logged with the route.
  static Response HandlerFailed(const char* event, const std::string& route, const std::exception& e) {
    log::Error(event, {{"route", route}, {"reason", e.what()}});
    return ProblemResponse(Error{ErrorCode::kInternal, "internal", "Something went wrong on the server.", {}});
  }

  // Routes a request: API routes, then static files for GET outside /api. Runs on the blocking pool.
  Response Handle(Request& request, const Match& match, std::string& route_name) {
    if (match.route != nullptr) {
      route_name = match.route->pattern;
      try {
        return match.route->handler(request);
      } catch (const std::exception& e) {
        return HandlerFailed("handler_failed", route_name, e);
      }
    }
    if (!match.allowed_methods.empty()) {
      route_name = "method_not_allowed";
      Response r = ProtocolProblem(405, "method_not_allowed", "That method is not allowed here.");
      // Every GET route answers HEAD as well (Router::Find), so HEAD is allowed wherever GET is.
      std::vector<std::string> methods(match.allowed_methods.begin(), match.allowed_methods.end());
      if (std::find(methods.begin(), methods.end(), "GET") != methods.end() &&
          std::find(methods.begin(), methods.end(), "HEAD") == methods.end()) {
        methods.insert(std::find(methods.begin(), methods.end(), "GET") + 1, "HEAD");
      }
      std::string allow;
      for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
      r.headers.emplace_back("Allow", allow);
      return r;
    }
    if (request.path.rfind("/api/", 0) == 0 || request.path == "/api") {
      route_name = "not_found";
      return ProblemResponse(Error{ErrorCode::kNotFound, "not_found", "There is no such endpoint.", {}});
    }
    route_name = "static";
    if (request.method != "GET" && request.method != "HEAD") {
      Response r = ProtocolProblem(405, "method_not_allowed", "That method is not allowed here.");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    return static_files_.Serve(request);
  }

  // A route's quick handler, on this I/O thread: a kept page needs no pool thread and no waiting.
  // std::nullopt when there is none or it declines; Handle then answers on the pool.
  std::optional<Response> TryQuick(Request& request, const Match& match, std::string& route_name) {
    if (match.route == nullptr || !match.route->quick) return std::nullopt;
    try {
      std::optional<Response> answer = match.route->quick(request);
      if (answer) route_name = match.route->pattern;
      return answer;
    } catch (const std::exception& e) {
      log::Error("quick_handler_failed", {{"route", match.route->pattern}, {"reason", e.what()}});
      return std::nullopt;
    }
  }

  // A route's asynchronous handler, on this I/O thread: the coroutine waits for `reply` while no
  // thread waits for it (a post's commit). std::nullopt when the handler declines; Handle then
  // answers on the pool. Work the handler defers runs on this coroutine's executor; a throw there
  // answers 500 unless the handler already replied. The store completes every unit before Run
  // lets this context go (store_.Close() after ioc_.run()), so no completion outlives it.
  awaitable<std::optional<Response>> TryAsync(Request& request, const Match& match, std::string& route_name) {
    auto home = co_await asio::this_coro::executor;
    std::optional<Response> answer = co_await asio::async_initiate<decltype(use_awaitable), void(std::optional<Response>)>(
        [&](auto handler) {
          using Handler = decltype(handler);
          struct Held {
            std::atomic<bool> resumed{false};
            std::optional<Handler> handler;
          };
          auto held = std::make_shared<Held>();
          held->handler.emplace(std::move(handler));
          // Exactly once, whichever of reply, a refusal or a throw comes first.
          auto resume = [held](std::optional<Response> response) {
            if (held->resumed.exchange(true)) return;
            Handler h = std::move(*held->handler);
            held->handler.reset();
            auto executor = asio::get_associated_executor(h);
            asio::post(executor, [h = std::move(h), response = std::move(response)]() mutable {
              std::move(h)(std::move(response));
            });
          };
          Deferred later;
          const std::string pattern = match.route->pattern;
          later.defer = [home, resume, pattern](std::function<void()> work) {
            asio::post(home, [work = std::move(work), resume, pattern] {
              try {
                work();
              } catch (const std::exception& e) {
                resume(HandlerFailed("async_handler_failed", pattern, e));
              }
            });
          };
          later.reply = [resume](Response response) { resume(std::move(response)); };
          bool taken = false;
          try {
            taken = match.route->async(request, later);
          } catch (const std::exception& e) {
            log::Error("async_handler_failed", {{"route", pattern}, {"reason", e.what()}});
          }
          if (!taken) resume(std::nullopt);
        },
        use_awaitable);
    if (answer) route_name = match.route->pattern;
    co_return answer;
  }

  template <class Body>
  void Finish(http::response<Body>& res, bool api, const std::string& connect_src) const {
    AddSecurityHeaders(res.base(), api, api_.tls, connect_src);
    res.set(http::field::server, "Rounds");
  }

  // The page's own WebSocket origin(s) for CSP connect-src: from public_origin when set, else
  // from the Host header the browser used.
  std::string ConnectSource(std::string_view host) const {
    if (!own_ws_origin_.empty()) return " " + own_ws_origin_;
    if (!IsPlainHost(host)) return {};
    std::string h(host);
    return api_.tls ? " wss://" + h : " ws://" + h + " wss://" + h;
  }

  // The refusal of the route's check before the body, if it has one and refuses; run on the pool
  // (it may read the store). Counted and logged like any answered request.
  awaitable<std::optional<Response>> CheckBeforeBody(const http::request<http::string_body>& header,
                                                     const std::string& peer) {
    bool target_ok = false;
    Request request = ToRequest(header, peer, &target_ok);
    if (!target_ok) co_return std::nullopt;  // answered as a bad target once the body is read
    const Match match = router_.Find(request);
    if (match.route == nullptr || !match.route->check_before_body) co_return std::nullopt;
    const auto started = std::chrono::steady_clock::now();
    std::optional<Response> refusal = co_await RunBlocking([&match, &request]() -> std::optional<Response> {
      try {
        return match.route->check_before_body(request);
      } catch (const std::exception& e) {
        return HandlerFailed("body_check_failed", match.route->pattern, e);
      }
    });
    if (refusal) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      metrics_.RecordRequest(request.method, match.route->pattern, refusal->status, seconds);
      log::Request(request.method, match.route->pattern, refusal->status, static_cast<int>(seconds * 1000),
                   request.remote_address);
    }
    co_return refusal;
  }

  // A refusal written before the request's body was read: the connection closes after it.
  awaitable<void> WriteRefusal(beast::tcp_stream& stream, const Response& refusal) {
    http::response<http::string_body> res{static_cast<http::status>(refusal.status), 11};
    if (!refusal.content_type.empty()) res.set(http::field::content_type, refusal.content_type);
    for (const auto& [name, value] : refusal.headers) res.set(name, value);
    res.body() = refusal.body;
    res.keep_alive(false);
    Finish(res, true, {});
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, kTuple);
  }

  awaitable<void> WriteProblem(beast::tcp_stream& stream, http::status status, const std::string& code,
                               const std::string& detail) {
    http::response<http::string_body> res{status, 11};
    json body{{"type", "https://rounds.example/problems/" + code}, {"title", std::string(http::obsolete_reason(status))},
              {"status", static_cast<int>(status)}, {"code", code}, {"detail", detail}};
    res.set(http::field::content_type, "application/problem+json; charset=utf-8");
    res.body() = body.dump();
    res.keep_alive(false);
    Finish(res, true, {});
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, kTuple);
  }

  // Writes `res`, or for HEAD its headers alone (keeping the GET's Content-Length).
  template <class Body>
  static awaitable<beast::error_code> WriteAnswer(beast::tcp_stream& stream, http::response<Body>& res, bool head) {
    beast::error_code error;
    if (head) {
      http::response_serializer<Body> serializer{res};
      std::tie(error, std::ignore) = co_await http::async_write_header(stream, serializer, kTuple);
    } else {
      std::tie(error, std::ignore) = co_await http::async_write(stream, res, kTuple);
    }
    co_return error;
  }

  // After refusing a request whose body is still arriving, read and discard what the client
  // sends for a moment before closing, so it can read the refusal instead of a reset.
  static awaitable<void> LingeringClose(beast::tcp_stream& stream) {
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(std::chrono::seconds(2));
    std::array<char, 16 * 1024> sink;
    std::size_t discarded = 0;
    while (discarded < 16u * 1024 * 1024) {
      auto [read_error, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (read_error) break;
      discarded += n;
    }
  }

  // Counts a request from its headers until its response is written: shutdown waits for these.
  class InFlight {
   public:
    explicit InFlight(std::atomic<int>& count) : count_(count) { ++count_; }
    ~InFlight() { --count_; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    std::atomic<int>& count_;
  };

  awaitable<void> HttpSession(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    std::string peer = stream.socket().remote_endpoint(ec).address().to_string();
    bool first = true;
    while (!state_.draining) {
      // Slow-loris: a connection gets idle_connection_seconds (header_timeout_seconds when new)
      // to start a request, then header_timeout_seconds for the whole header block.
      if (buffer.size() == 0) {
        stream.expires_after(std::chrono::seconds(first ? config_.header_timeout_seconds : config_.idle_connection_seconds));
        auto [wait_error, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
        if (wait_error) break;
        buffer.commit(n);
      }
      auto parser = std::make_unique<http::request_parser<http::string_body>>();
      parser->header_limit(16 * 1024);
      // The larger of the two limits until the header says which request this is.
      parser->body_limit(static_cast<std::uint64_t>(std::max(config_.max_body_bytes, config_.max_attachment_bytes)));
      stream.expires_after(std::chrono::seconds(config_.header_timeout_seconds));
      auto [read_error, header_bytes] = co_await http::async_read_header(stream, buffer, *parser, kTuple);
      std::int64_t body_limit = config_.max_body_bytes;
      // (A declared length over the larger limit stops the header read with the header parsed.)
      if ((!read_error || read_error == http::error::body_limit) && IsUpload(parser->get())) {
        body_limit = config_.max_attachment_bytes;
      }
      const auto declared = read_error ? boost::optional<std::uint64_t>() : parser->content_length();
      if (read_error == http::error::body_limit ||
          (declared && *declared > static_cast<std::uint64_t>(body_limit))) {  // a declared Content-Length over the limit
        co_await WriteProblem(stream, http::status::payload_too_large, "payload_too_large",
                              "The request body is larger than " + std::to_string(body_limit) + " bytes.");
        co_await LingeringClose(stream);
        break;
      }
      if (read_error) {
        // Malformed requests get a 400; timeouts and closed connections get nothing.
        if (read_error.category() == make_error_code(http::error::bad_target).category() &&
            read_error != http::error::end_of_stream && read_error != http::error::partial_message) {
          co_await WriteProblem(stream, http::status::bad_request, "bad_request", "The request is malformed.");
        }
        break;
      }
      parser->body_limit(static_cast<std::uint64_t>(body_limit));
      const auto& header = parser->get();
      // Request smuggling (RFC 9112 section 6.3): a message with both framings, or several
      // lengths, is refused and the connection closed, whatever the values.
      if (header.count(http::field::content_length) > 1 ||
          (header.count(http::field::content_length) > 0 && header.count(http::field::transfer_encoding) > 0)) {
        co_await WriteProblem(stream, http::status::bad_request, "ambiguous_framing",
                              "The request has conflicting Content-Length and Transfer-Encoding.");
        break;
      }
      // A Transfer-Encoding whose last coding is not chunked leaves the body's length unknown: the
      // parser would read no body and take the bytes that follow for the next request. Any coding
      // but chunked alone is one this server does not implement.
      if (header.count(http::field::transfer_encoding) > 0) {
        if (!parser->chunked()) {
          co_await WriteProblem(stream, http::status::bad_request, "ambiguous_framing",
                                "The request's Transfer-Encoding does not end in chunked.");
          break;
        }
        if (header.count(http::field::transfer_encoding) > 1 ||
            !beast::iequals(Trimmed(header[http::field::transfer_encoding]), "chunked")) {
          co_await WriteProblem(stream, http::status::not_implemented, "unsupported_transfer_encoding",
                                "The only transfer coding accepted is chunked.");
          break;
        }
      }
      if (websocket::is_upgrade(header) && PathOf(header.target()) == kEventsPath) {
        // The WebSocket runs on as a coroutine of its own: this one ends, and with it its read
        // buffer, parser and frame, which an idle socket would otherwise keep for hours.
        auto executor = stream.get_executor();
        asio::co_spawn(executor, WebSocketUpgrade(std::move(stream), parser->release(), std::move(peer)), LogFailure);
        co_return;
      }
      InFlight in_flight(in_flight_);
      // The body's bytes, taken from the budget as they arrive and returned once this request is
      // answered: a client holds only what it has really sent, never what it announced.
      BodyBudget::Reservation reservation = body_budget_.Nothing();
      if (!parser->is_done()) {
        // Before the body is read: the route's own check of the header (an upload's caller is
        // authenticated first).
        if (std::optional<Response> refusal = co_await CheckBeforeBody(parser->get(), peer)) {
          co_await WriteRefusal(stream, *refusal);
          co_await LingeringClose(stream);
          break;
        }
        stream.expires_after(std::chrono::seconds(config_.header_timeout_seconds + 20));
        // A client that waits to be told to send its body (curl does, for large ones) is told at
        // once now that its header has passed (RFC 9110 section 10.1.1).
        if (beast::iequals(parser->get()[http::field::expect], "100-continue")) {
          http::response<http::empty_body> go_on{http::status::continue_, parser->get().version()};
          auto [continue_error, continue_bytes] = co_await http::async_write(stream, go_on, kTuple);
          if (continue_error) break;
        }
        beast::error_code body_error;
        bool fits = true;
        while (!parser->is_done()) {
          auto [read_error, read_bytes] = co_await http::async_read_some(stream, buffer, *parser, kTuple);
          if (read_error) {
            body_error = read_error;
            break;
          }
          fits = reservation.GrowTo(static_cast<std::int64_t>(parser->get().body().size()));
          if (!fits) break;
        }
        if (!fits || body_error == http::error::body_limit) {
          // A refused body is discarded: its bytes go back to the budget before the answer, not
          // after the lingering close, which may wait seconds for the client to stop sending.
          parser.reset();
          reservation.Release();
        }
        if (!fits) {
          metrics_.BodyRefusedBusy();
          log::Warn("http_body_refused_busy", {{"limit", config_.max_body_bytes_in_flight}});
          Response busy = ProtocolProblem(
              503, "server_busy", "The server is holding as many request bodies as it takes in at once. Try again shortly.");
          busy.headers.emplace_back("Retry-After", "1");
          co_await WriteRefusal(stream, busy);
          co_await LingeringClose(stream);
          break;
        }
        if (body_error == http::error::body_limit) {
          co_await WriteProblem(stream, http::status::payload_too_large, "payload_too_large",
                                "The request body is larger than " + std::to_string(body_limit) + " bytes.");
          co_await LingeringClose(stream);
          break;
        }
        if (body_error) {
          if (body_error != beast::error::timeout && body_error != http::error::end_of_stream) {
            co_await WriteProblem(stream, http::status::bad_request, "bad_request", "The request body is malformed.");
          }
          break;
        }
      }
      http::request<http::string_body> req = parser->release();
      bool keep_alive = req.keep_alive();
      unsigned version = req.version();
      bool head = req.method() == http::verb::head;
      bool target_ok = false;
      Request request = ToRequest(req, peer, &target_ok);
      request.body = std::move(req.body());
      auto started = std::chrono::steady_clock::now();
      std::string route_name;
      Response response;
      if (!target_ok) {
        route_name = "bad_target";
        response = ProblemResponse(Error{ErrorCode::kInvalidArgument, "bad_target", "The request path or query is malformed: a bad percent-escape, an encoded NUL, or text that is not UTF-8.", {}});
      } else {
        const Match match = router_.Find(request);
        std::optional<Response> quick = TryQuick(request, match, route_name);
        std::optional<Response> later;
        if (!quick && match.route != nullptr && match.route->async) {
          later = co_await TryAsync(request, match, route_name);
        }
        if (quick) {
          metrics_.AnsweredQuick();
          response = std::move(*quick);
        } else if (later) {
          metrics_.AnsweredAsync();
          response = std::move(*later);
        } else {
          response = co_await RunBlocking([this, &request, &match, &route_name] { return Handle(request, match, route_name); });
        }
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      metrics_.RecordRequest(request.method, route_name, response.status, seconds);
      // One line per request: the route template, never the path or query (search text, ids of
      // what was read), no bodies, tokens or cookies.
      log::Request(request.method, route_name, response.status, static_cast<int>(seconds * 1000), request.remote_address);

      bool api = request.path.rfind("/api/", 0) == 0 || route_name != "static";
      auto headers = [&](auto& res) {
        if (!response.content_type.empty()) res.set(http::field::content_type, response.content_type);
        Finish(res, api, ConnectSource(request.Header("host")));
        for (const auto& [name, value] : response.headers) {
          if (name == "Set-Cookie") {
            res.insert(http::field::set_cookie, value);
          } else {
            res.set(name, value);
          }
        }
        res.keep_alive(keep_alive && !state_.draining);
      };
      if (response.body_file && response.body_file->valid()) {
        // An export: sent from disk a piece at a time, never read into memory whole.
        http::response<http::file_body> res{static_cast<http::status>(response.status), version};
        beast::file_posix file;
        file.native_handle(response.body_file->Release());
        beast::error_code file_error;
        res.body().reset(std::move(file), file_error);
        if (!file_error) {
          headers(res);
          res.prepare_payload();
          stream.expires_after(AnswerWriteTimeout(res.body().size()));
          const beast::error_code write_error = co_await WriteAnswer(stream, res, head);
          if (write_error || !res.keep_alive()) break;
          first = false;
          continue;
        }
        log::Error("http_body_file_failed", {{"route", route_name}, {"reason", file_error.message()}});
        response = ProblemResponse(Error{ErrorCode::kInternal, "internal", "The file could not be sent.", {}});
      }
      if (response.pieces) {
        // A large attachment: the header, then each piece as it is read, never the whole file.
        const std::shared_ptr<Response::Pieces> pieces = std::move(response.pieces);
        http::response<http::empty_body> res{static_cast<http::status>(response.status), version};
        headers(res);
        res.content_length(pieces->size);
        http::response_serializer<http::empty_body> serializer{res};
        stream.expires_after(std::chrono::seconds(30));
        auto [header_error, header_bytes] = co_await http::async_write_header(stream, serializer, kTuple);
        if (header_error) break;
        bool complete = true;
        std::uint64_t sent = 0;
        for (std::int64_t piece = 0; !head && piece < pieces->count; ++piece) {
          std::string bytes;
          if (piece == 0) {
            bytes = std::move(response.body);
          } else {
            Result<std::string> next = co_await RunBlocking([&pieces, piece] { return pieces->next(piece); });
            if (!next) {
              // A file deleted or purged mid-download is expected now and then; anything else is not.
              const bool gone = next.error().code == ErrorCode::kNotFound;
              log::Write(gone ? log::Level::kInfo : log::Level::kError, gone ? "download_file_gone" : "http_piece_failed",
                         {{"route", route_name}, {"piece", piece}, {"reason", next.error().internal_message}});
              complete = false;
              break;
            }
            bytes = std::move(*next);
          }
          // The app checks each piece's size; never more than the header announced.
          if (sent + bytes.size() > pieces->size) {
            log::Error("http_piece_failed", {{"route", route_name}, {"piece", piece}, {"reason", "longer than announced"}});
            complete = false;
            break;
          }
          stream.expires_after(AnswerWriteTimeout(bytes.size()));
          auto [write_error, written] = co_await asio::async_write(stream, asio::buffer(bytes), kTuple);
          if (write_error) {
            complete = false;
            break;
          }
          sent += written;
        }
        if (!head && sent != pieces->size) complete = false;
        if (!complete || !res.keep_alive()) break;
        first = false;
        continue;
      }
      if (response.shared_body) {
        // A kept page: written from the cache's own text, which this frame holds until it is sent.
        const std::shared_ptr<const std::string> shared = std::move(response.shared_body);
        http::response<http::span_body<const char>> res{static_cast<http::status>(response.status), version};
        headers(res);
        res.body() = beast::span<const char>(shared->data(), shared->size());
        res.prepare_payload();
        stream.expires_after(AnswerWriteTimeout(shared->size()));
        const beast::error_code write_error = co_await WriteAnswer(stream, res, head);
        if (write_error || !res.keep_alive()) break;
        first = false;
        continue;
      }
      http::response<http::string_body> res{static_cast<http::status>(response.status), version};
      headers(res);
      res.body() = std::move(response.body);
      res.prepare_payload();
      // A file (an attachment of up to max_attachment_bytes) gets the time a slow reader needs.
      stream.expires_after(AnswerWriteTimeout(res.body().size()));
      const beast::error_code write_error = co_await WriteAnswer(stream, res, head);
      if (write_error || !res.keep_alive()) break;
      first = false;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  class WsSession;

  // Cross-site WebSocket hijacking defence (ASVS 4.4.2): a browser's handshake must come from our
  // own origin. With public_origin set that is the only own origin; without it, the origin the
  // Host header names. allowed_origins adds more either way.
  bool OriginAllowed(const Request& request, bool bearer) const {
    std::string origin = request.Header("origin");
    if (origin.empty()) return bearer;  // browsers always send Origin; only API clients may omit it
    if (std::find(config_.allowed_origins.begin(), config_.allowed_origins.end(), origin) != config_.allowed_origins.end()) {
      return true;
    }
    if (!config_.public_origin.empty()) return origin == config_.public_origin;
    std::string host = request.Header("host");
    if (host.empty()) return false;
    return origin == "http://" + host || origin == "https://" + host;  // https: TLS ended at a proxy
  }

  awaitable<void> WebSocketUpgrade(beast::tcp_stream stream, http::request<http::string_body> req, std::string remote) {
    bool target_ok = false;
    Request request = ToRequest(req, remote, &target_ok);
    bool bearer = !request.Header("authorization").empty();
    auto deny = [&](http::status status, const std::string& code, const std::string& detail) -> awaitable<void> {
      metrics_.RecordRequest("GET", kEventsPath, static_cast<int>(status), 0);
      log::Info("ws_refused", {{"code", code}, {"address", request.remote_address}});
      co_await WriteProblem(stream, status, code, detail);
    };
    if (state_.draining) {
      co_await deny(http::status::service_unavailable, "shutting_down", "The server is shutting down.");
      co_return;
    }
    if (SessionToken(request, api_.tls).empty()) {
      co_await deny(http::status::unauthorized, "unauthenticated", "Please sign in.");
      co_return;
    }
    if (!OriginAllowed(request, bearer)) {
      co_await deny(http::status::forbidden, "origin_not_allowed", "WebSocket connections from this origin are refused.");
      co_return;
    }
    auto actor = co_await RunBlocking([this, &request] { return Authenticate(services_, request, api_.tls); });
    if (!actor) {
      co_await deny(static_cast<http::status>(HttpStatusFor(actor.error().code)), actor.error().problem,
                    actor.error().public_message);
      co_return;
    }
    // The stream outlives any administration the session takes up: it always acts as the user.
    actor->admin_elevated = false;
    actor->admin_elevated_until = 0;
    auto session = std::make_shared<WsSession>(*this, std::move(stream), *actor);
    // Detached too: the request, its copy and this frame go now, not when the socket closes.
    asio::co_spawn(session->executor(), session->Run(session, std::move(req)), LogFailure);
  }

  // One WebSocket, on the connection's strand: one coroutine that reads (Run), a send path of
  // completion handlers (Pump) over a bounded send queue, a gap filler only while a hole is open,
  // and an EventSequencer that hands out each space's events once and in order.
  class WsSession final : public Subscriber, public std::enable_shared_from_this<WsSession> {
   public:
    WsSession(Impl& server, beast::tcp_stream stream, app::Actor actor)
        : server_(server),
          ws_(std::move(stream)),
          actor_(std::move(actor)),
          drained_(ws_.get_executor()),
          fill_timer_(ws_.get_executor()),
          hard_close_(ws_.get_executor()) {}

    domain::UserId user_id() const override { return actor_.user.id; }
    domain::SessionId session_id() const override { return actor_.session_id; }
    bool staff() const override { return actor_.IsStaff(); }

    asio::any_io_executor executor() { return ws_.get_executor(); }

    // The whole life of the socket; `self` keeps the session alive while it runs.
    awaitable<void> Run([[maybe_unused]] std::shared_ptr<WsSession> self, http::request<http::string_body> req) {
      // The handshake is a coroutine of its own so that the upgrade request (moved out of this
      // frame) is freed once it is answered.
      if (!co_await Handshake(std::move(req))) co_return;
      server_.metrics_.SocketOpened();
      server_.metrics_.RecordRequest("GET", kEventsPath, 101, 0);
      server_.hub_.Add(shared_from_this());
      // Space events are held until the client's first resume (or 3 s) so the replay and the live
      // stream join without a gap or a duplicate.
      asio::co_spawn(ws_.get_executor(), ResumeDeadline(self), asio::detached);
      const auto opened = std::chrono::steady_clock::now();
      // The reader, in this frame rather than one of its own.
      while (true) {
        beast::flat_buffer buffer;
        auto [ec, n] = co_await ws_.async_read(buffer, kTuple);
        if (ec) break;
        Inbound inbound = OnFrame(beast::buffers_to_string(buffer.data()));
        if (inbound.kind == Inbound::kResume) {
          co_await Resume(std::move(inbound.cursors));
        } else if (inbound.kind == Inbound::kTyping) {
          const domain::SpaceId space_id = inbound.space_id;
          co_await server_.RunBlocking([this, space_id] { return server_.services_.events.Typing(actor_, space_id); });
        }
      }
      closing_ = true;
      WakeAll();
      live_reads_.CloseOpened(server_.services_.clock.NowMillis());
      co_await RecordLiveReads(self);  // before the hub lets go of it: a draining server waits
      Closed(opened);
    }


    // Any thread. Never blocks: counts the frame against the bound and posts it to the strand.
    void Deliver(const bus::Event& event) override {
      if (pending_.fetch_add(1) + 1 > server_.config_.ws_send_queue_limit) {
        pending_.fetch_sub(1);
        Close(4008, "too slow: reconnect and resume");
        return;
      }
      EventSequencer::Frame frame{event.space_id, event.seq, event.frame, !event.placeholder, event.patient_refs};
      asio::post(ws_.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
        self->pending_.fetch_sub(1);
        self->OnEvent(std::move(frame));
      });
    }

    // Any thread. Cheap when nothing waits: only a socket whose oldest unrecorded read is due
    // posts to its strand.
    void RecordReadsIfDue() override {
      const std::int64_t since = reads_since_.load(std::memory_order_relaxed);
      if (since == 0 || SteadyNanos() - since < LiveReadInterval().count() * 1'000'000'000) return;
      asio::post(ws_.get_executor(), [self = shared_from_this()] {
        if (self->closing_ || !self->live_reads_.Due(std::chrono::steady_clock::now(), self->LiveReadInterval())) return;
        asio::co_spawn(self->ws_.get_executor(), self->RecordLiveReads(self), asio::detached);
      });
    }

    void Close(std::uint16_t code, const std::string& reason) override {
      asio::post(ws_.get_executor(), [self = shared_from_this(), code, reason] { self->BeginClose(code, reason); });
    }

   private:
    // Work between suspension points lives in plain functions: a coroutine's frame holds every
    // local of its body for as long as it runs, which for these is the life of the socket.
    void Closed(std::chrono::steady_clock::time_point opened) {
      server_.hub_.Remove(this);
      server_.metrics_.SocketClosed();
      log::Info("ws_closed", {{"user_id", actor_.user.id},
                              {"code", closing_by_server_ ? static_cast<int>(close_reason_.code) : 0},
                              {"seconds", std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - opened).count()},
                              {"frames_received", frames_received_}});
    }

    awaitable<bool> Handshake(http::request<http::string_body> req) {
      beast::get_lowest_layer(ws_).expires_never();
      websocket::stream_base::timeout timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
      timeouts.idle_timeout = std::chrono::seconds(30);  // pings every 15 s, dead peers gone in 30 s
      timeouts.keep_alive_pings = true;
      ws_.set_option(timeouts);
      ws_.read_message_max(64 * 1024);
      bool tls = server_.api_.tls;
      std::string connect_src = server_.ConnectSource(req[http::field::host]);
      ws_.set_option(websocket::stream_base::decorator([tls, connect_src](websocket::response_type& res) {
        res.set(http::field::server, "Rounds");
        AddSecurityHeaders(res.base(), true, tls, connect_src);
      }));
      auto [ec] = co_await ws_.async_accept(req, kTuple);
      co_return !ec;
    }

    using Frames = std::vector<EventSequencer::Frame>;
    // How long a hole in a space's seqs may stay open before it is filled from the store. Holes
    // from out-of-order publishing close within microseconds; this only bounds the rare real ones.
    static constexpr std::chrono::milliseconds kFillGrace{250};
    static constexpr int kReplayPage = 2000;
    // Replayed frames queued before the replay reads its next page (memory stays bounded).
    static constexpr std::size_t kReplayHighWater = 4000;

    // ---- On the strand from here on.

    void OnEvent(EventSequencer::Frame frame) {
      if (closing_) return;
      if (frame.space_id == 0 || frame.seq == 0) {  // user events, typing, presence: not sequenced
        PushLive(frame.frame);
        return;
      }
      Frames out;
      bool hole = sequencer_.Live(std::move(frame), std::chrono::steady_clock::now(), out);
      PushLive(out);
      if (sequencer_.held_count() > static_cast<std::size_t>(server_.config_.ws_send_queue_limit)) {
        BeginClose(4008, "too slow: reconnect and resume");
        return;
      }
      if (hole) WakeFiller();
    }

    // Live frames count against the bound; a socket that falls behind is closed, never waited for.
    // Returns whether the frame was queued.
    bool PushLive(const std::shared_ptr<const std::string>& frame) {
      if (closing_) return false;
      if (queue_.size() - replay_queued_ >= static_cast<std::size_t>(server_.config_.ws_send_queue_limit)) {
        BeginClose(4008, "too slow: reconnect and resume");
        return false;
      }
      queue_.push_back({frame, false});
      Pump();
      return true;
    }

    // Sequenced live frames, in order. Each one queued that carries its event's data is a read,
    // gathered for the audit trail (LiveReads). A space's first such frame on this socket waits
    // for the record that the socket reads the space live (OpenLiveRead), and every frame after it
    // waits behind it, so that no event of a PHI-bearing space leaves before a durable record of
    // its reading does.
    void PushLive(const Frames& frames) {
      UnixMillis at = 0;
      for (const auto& f : frames) {
        const bool opening = !opening_wait_.empty();  // an opening is being written
        if (opening || (f.live_read && !live_reads_.Opened(f.space_id, std::chrono::steady_clock::now(),
                                                             server_.services_.policy.Assignments()))) {
          if (closing_) return;
          if (queue_.size() - replay_queued_ + opening_wait_.size() >= static_cast<std::size_t>(server_.config_.ws_send_queue_limit)) {
            BeginClose(4008, "too slow: reconnect and resume");
            return;
          }
          opening_wait_.push_back(f);
          if (!opening) asio::co_spawn(ws_.get_executor(), OpenLiveRead(shared_from_this(), f), asio::detached);
          continue;
        }
        if (!PushLive(f.frame) || !f.live_read) continue;
        if (at == 0) at = server_.services_.clock.NowMillis();
        const bool first = live_reads_.empty();
        live_reads_.Add(f.space_id, f.seq, f.patients.get(), std::chrono::steady_clock::now(), at);
        if (first) reads_since_.store(SteadyNanos(), std::memory_order_relaxed);
      }
    }

    std::chrono::seconds LiveReadInterval() const {
      return std::chrono::seconds(std::max<std::int64_t>(1, server_.config_.audit_live_read_seconds));
    }
    static std::int64_t SteadyNanos() {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }

    // Writes the record that this socket reads `first`'s space live, then lets the frames that
    // waited for it go. Without the record nothing of them goes: the socket closes, and the client
    // resumes from its cursor (a replay is recorded before it is sent).
    awaitable<void> OpenLiveRead([[maybe_unused]] std::shared_ptr<WsSession> self, EventSequencer::Frame first) {
      const UnixMillis at = server_.services_.clock.NowMillis();
      const std::uint64_t assignments = server_.services_.policy.Assignments();  // before asking
      auto open = [this, space_id = first.space_id, seq = first.seq, patients = first.patients, at] {
        return server_.services_.events.OpenLiveRead(actor_, space_id, seq, patients ? *patients : std::string(), at);
      };
      Result<bool> written = co_await server_.RunBlocking(std::move(open));
      Frames waited = std::exchange(opening_wait_, {});  // ends the opening
      if (closing_) co_return;
      if (!written) {
        log::Error("ws_live_read_unrecorded", {{"user_id", actor_.user.id},
                                               {"space_id", first.space_id},
                                               {"reason", written.error().internal_message}});
        BeginClose(1011, "the audit trail is unavailable: reconnect and resume");
        co_return;
      }
      if (*written) {
        live_reads_.MarkOpened(first.space_id);
      } else {  // asked again once a template is assigned, and an interval on in any case
        live_reads_.MarkNotAudited(first.space_id, std::chrono::steady_clock::now() + LiveReadInterval(), assignments);
      }
      PushLive(waited);
    }

    // Puts what was gathered on the audit trail (app::EventService::RecordLiveReads). What could
    // not be recorded is gathered again and tried at the next interval, or at the close.
    awaitable<void> RecordLiveReads([[maybe_unused]] std::shared_ptr<WsSession> self) {
      reads_since_.store(0, std::memory_order_relaxed);
      auto reads = std::make_shared<const std::map<domain::SpaceId, app::LiveRead>>(live_reads_.Take());
      if (reads->empty()) co_return;
      auto record = [this, reads, closed = closing_] { return server_.services_.events.RecordLiveReads(actor_, *reads, closed); };
      Status status = co_await server_.RunBlocking(std::move(record));
      if (status) co_return;
      log::Error("ws_live_reads_unrecorded", {{"user_id", actor_.user.id},
                                               {"spaces", reads->size()},
                                               {"reason", status.error().internal_message}});
      if (closing_) co_return;
      const bool first = live_reads_.empty();
      live_reads_.Restore(*reads, std::chrono::steady_clock::now());
      if (first) reads_since_.store(SteadyNanos(), std::memory_order_relaxed);
    }

    // Replayed frames are paced by the replay itself (kReplayHighWater), not by the live bound.
    void PushReplayed(const Frames& frames) {
      if (closing_) return;
      for (const auto& f : frames) queue_.push_back({f.frame, true});
      replay_queued_ += frames.size();
      Pump();
    }

    void SendNow(std::string frame) { SendNow(std::make_shared<const std::string>(std::move(frame))); }
    void SendNow(std::shared_ptr<const std::string> frame) {
      if (closing_) return;
      queue_.push_back({std::move(frame), false});
      Pump();
    }

    void WakeAll() {
      Pump();
      drained_.cancel();
      fill_timer_.cancel();
    }

    // A hole opened or moved: the running filler picks up the new deadline, or one is started.
    // Holes are rare, so an idle socket has no filler (and no coroutine frame for one).
    void WakeFiller() {
      if (filling_) {
        fill_timer_.cancel();
      } else if (!closing_ && sequencer_.NextFillTime(kFillGrace)) {
        filling_ = true;
        asio::co_spawn(ws_.get_executor(), GapFiller(shared_from_this()), asio::detached);
      }
    }

    void BeginClose(std::uint16_t code, const std::string& reason) {
      if (closing_) return;
      closing_ = true;
      closing_by_server_ = true;
      if (code == 4008) {
        server_.metrics_.SocketDroppedSlow();
        queue_.clear();  // a slow client resumes from its cursor instead
        replay_queued_ = 0;
      }
      close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
      WakeAll();
      // If the peer never reads, the close frame cannot go out: drop the connection after 5 s.
      hard_close_.expires_after(std::chrono::seconds(5));
      hard_close_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) beast::get_lowest_layer(self->ws_).close();
      });
    }

    void ReleaseHeld() {
      Frames out;
      sequencer_.Release(std::chrono::steady_clock::now(), out);
      PushLive(out);
      WakeFiller();
    }

    // `self` keeps the session alive for as long as each coroutine runs.
    awaitable<void> ResumeDeadline([[maybe_unused]] std::shared_ptr<WsSession> self) {
      asio::steady_timer timer(ws_.get_executor());
      timer.expires_after(std::chrono::seconds(3));
      co_await timer.async_wait(kTuple);
      if (sequencer_.holding() && !resuming_ && !closing_) ReleaseHeld();
    }

    // Starts the next write unless one is in flight; once closing and drained, the close frame.
    // The send path is completion handlers rather than a coroutine, so an idle socket has no
    // writer frame and no pending wait.
    void Pump() {
      if (writing_ || close_started_) return;
      if (queue_.empty()) {
        if (!closing_) return;
        close_started_ = true;
        ws_.async_close(close_reason_, [self = shared_from_this()](const boost::system::error_code&) {
          self->hard_close_.cancel();
        });
        return;
      }
      Queued item = queue_.pop_front();
      if (item.replayed && --replay_queued_ <= kReplayHighWater / 2) drained_.cancel();
      writing_ = true;
      ws_.text(true);
      const asio::const_buffer bytes = asio::buffer(*item.frame);  // the lambda keeps the frame
      ws_.async_write(bytes, [self = shared_from_this(), frame = std::move(item.frame)](const boost::system::error_code& ec,
                                                                                          std::size_t) {
        self->writing_ = false;
        if (ec) {  // the connection is gone: no close frame either
          self->closing_ = true;
          self->close_started_ = true;
          self->WakeAll();
          return;
        }
        self->Pump();
      });
    }

    // Closes the holes EventSequencer could not close by itself, from the store; runs while
    // there are holes (see WakeFiller).
    awaitable<void> GapFiller([[maybe_unused]] std::shared_ptr<WsSession> self) {
      while (!closing_) {
        auto next = sequencer_.NextFillTime(kFillGrace);
        if (!next) break;
        fill_timer_.expires_at(*next);
        co_await fill_timer_.async_wait(kTuple);
        if (closing_) break;
        for (auto [space_id, after] : sequencer_.FillsDue(std::chrono::steady_clock::now(), kFillGrace)) {
          std::map<domain::SpaceId, domain::Seq> cursor{{space_id, after}};
          bool more = true;
          while (more && !closing_) {
            auto read = [this, cursor] { return server_.services_.events.Replay(actor_, cursor, kReplayPage); };
            auto replay = co_await server_.RunBlocking(std::move(read));
            if (!replay) {
              log::Warn("ws_fill_failed", {{"space_id", space_id}, {"reason", replay.error().internal_message}});
              break;
            }
            Frames out;
            for (auto& e : *replay) {
              cursor[space_id] = e.seq;
              sequencer_.Replayed({e.space_id, e.seq, e.frame}, out);
            }
            PushReplayed(out);
            more = replay->size() >= static_cast<std::size_t>(kReplayPage);
          }
          server_.metrics_.GapFilled();
          Frames out;
          sequencer_.FillDone(space_id, std::chrono::steady_clock::now(), out);
          PushLive(out);
        }
      }
      filling_ = false;
    }

    // What a client frame asks of the reader once OnFrame has answered what it can at once.
    struct Inbound {
      enum Kind { kNone, kResume, kTyping } kind = kNone;
      std::map<domain::SpaceId, domain::Seq> cursors;  // kResume
      domain::SpaceId space_id = 0;                    // kTyping
    };

    Inbound OnFrame(const std::string& text) {
      ++frames_received_;
      if (closing_) return {};
      // A client sends a resume per connection, a typing frame every few seconds and a ping every
      // 15 s; each frame may cost a read of the store. One that sends more than kFramesPerSecond
      // for longer than a burst of kFrameBurst is closed, and may reconnect and resume.
      if (!frame_budget_.Take(kFrameBurst, kFramesPerSecond, std::chrono::steady_clock::now())) {
        server_.metrics_.SocketDroppedFlooding();
        BeginClose(4029, "too many frames: reconnect and resume");
        return {};
      }
      // The same strict parser as HTTP bodies: UTF-8, depth, duplicate keys.
      auto parsed = app::ParseRequestBody(text);
      if (!parsed || !parsed->contains("type") || !(*parsed)["type"].is_string()) {
        SendNow(R"({"type":"error","code":"malformed_frame","detail":"Frames are JSON objects with a type."})");
        return {};
      }
      const json& message = *parsed;
      const std::string& type = message["type"].get_ref<const std::string&>();
      Inbound inbound;
      if (type == "ping") {
        SendNow(R"({"type":"pong"})");
      } else if (type == "resume") {
        server_.services_.auth.Touch(actor_.session_id);
        inbound.kind = Inbound::kResume;
        if (message.contains("cursors") && message["cursors"].is_object()) {
          for (const auto& [key, value] : message["cursors"].items()) {
            if (!value.is_number_integer() || value.get<domain::Seq>() < 0) continue;
            domain::SpaceId space_id = 0;
            auto [ptr, parse_error] = std::from_chars(key.data(), key.data() + key.size(), space_id);
            if (parse_error != std::errc() || ptr != key.data() + key.size() || space_id <= 0) continue;
            inbound.cursors[space_id] = value.get<domain::Seq>();
          }
        }
      } else if (type == "typing" && message.contains("space_id") && message["space_id"].is_number_integer()) {
        server_.services_.auth.Touch(actor_.session_id);
        domain::SpaceId space_id = message["space_id"];
        // Clients announce typing every few seconds (and again right after sending); a client
        // that announces more often is relayed from a bucket of 5 that refills once a second.
        const auto now = std::chrono::steady_clock::now();
        if (typing_budget_.size() >= kTypingSpacesKept) {
          // A bucket untouched for 5 s is full again, the same as none: forget those.
          std::erase_if(typing_budget_, [&](const auto& kv) { return now - kv.second.refilled >= std::chrono::seconds(5); });
        }
        auto [it, fresh] = typing_budget_.try_emplace(space_id, Bucket{5.0, now});
        if (it->second.Take(5.0, 1.0, now)) {
          inbound.kind = Inbound::kTyping;
          inbound.space_id = space_id;
        }
      } else {
        SendNow(R"({"type":"error","code":"unknown_frame","detail":"Unknown frame type."})");
      }
      return inbound;
    }

    awaitable<void> Resume(std::map<domain::SpaceId, domain::Seq> cursors) {
      // Live events wait in the sequencer while the replay reads the log; what the replay
      // delivers is not delivered again when they are released.
      resuming_ = true;
      sequencer_.Hold();
      for (const auto& [space_id, seq] : cursors) sequencer_.SetCursor(space_id, seq);
      while (!cursors.empty() && !closing_) {
        auto read_page = [this, cursors] { return server_.services_.events.Replay(actor_, cursors, kReplayPage); };
        auto replay = co_await server_.RunBlocking(std::move(read_page));
        if (!replay) {
          log::Warn("ws_replay_failed", {{"reason", replay.error().internal_message}});
          break;
        }
        std::map<domain::SpaceId, int> counts;
        Frames out;
        for (auto& e : *replay) {
          ++counts[e.space_id];
          cursors[e.space_id] = e.seq;
          sequencer_.Replayed({e.space_id, e.seq, e.frame}, out);
        }
        PushReplayed(out);
        std::erase_if(cursors, [&](const auto& kv) { return counts[kv.first] < kReplayPage; });
        while (replay_queued_ > kReplayHighWater && !closing_) {
          drained_.expires_at(std::chrono::steady_clock::time_point::max());
          co_await drained_.async_wait(kTuple);
        }
      }
      SendNow(R"({"type":"resumed"})");
      // Who was online at the last presence flush; later flushes follow as "presence" frames.
      // Staff only: patients and guests are not told who else is online.
      if (actor_.IsStaff()) SendNow(server_.presence_.Snapshot());  // shared by every socket that resumes
      resuming_ = false;
      ReleaseHeld();
    }

    struct Queued {
      std::shared_ptr<const std::string> frame;
      bool replayed = false;  // replayed frames do not count against the live bound
    };

    // The send queue: a vector read from `head_`. An idle socket's queue holds no memory (a
    // std::deque allocates 576 bytes up front), and a drained burst gives its memory back.
    class SendQueue {
     public:
      bool empty() const { return head_ == items_.size(); }
      std::size_t size() const { return items_.size() - head_; }
      void push_back(Queued item) { items_.push_back(std::move(item)); }
      Queued pop_front() {
        Queued item = std::move(items_[head_++]);
        if (empty()) {
          if (items_.capacity() > kKeptCapacity) {
            clear();
          } else {
            items_.clear();
            head_ = 0;
          }
        } else if (head_ >= kKeptCapacity && head_ * 2 >= items_.size()) {
          // A queue that never drains: the consumed front goes once it is half the vector.
          items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
          head_ = 0;
        }
        return item;
      }
      void clear() {
        std::vector<Queued>().swap(items_);
        head_ = 0;
      }

     private:
      static constexpr std::size_t kKeptCapacity = 16;
      std::vector<Queued> items_;
      std::size_t head_ = 0;
    };

    Impl& server_;
    websocket::stream<beast::tcp_stream> ws_;
    app::Actor actor_;
    asio::steady_timer drained_;     // cancelled when the replay backlog falls to half the high-water mark
    asio::steady_timer fill_timer_;  // fires when a hole's grace period ends; cancelled on a new hole
    asio::steady_timer hard_close_;
    std::atomic<int> pending_{0};    // posted but not yet on the strand (any thread)
    // Strand-only state.
    SendQueue queue_;
    std::size_t replay_queued_ = 0;
    EventSequencer sequencer_;
    LiveReads live_reads_;
    // Frames waiting, in order, for the record that this socket reads a space live (OpenLiveRead):
    // not empty exactly while one is being written.
    Frames opening_wait_;
    // When live_reads_ gathered its oldest read (steady clock, ns); 0: nothing gathered. Read
    // from any thread by RecordReadsIfDue.
    std::atomic<std::int64_t> reads_since_{0};
    bool resuming_ = false;
    bool filling_ = false;        // a GapFiller runs
    bool writing_ = false;        // an async_write is in flight
    bool close_started_ = false;  // the close frame was sent, or the connection failed
    bool closing_ = false;
    bool closing_by_server_ = false;
    // A token bucket: up to `capacity` at once, refilled at `per_second`.
    struct Bucket {
      double tokens;
      std::chrono::steady_clock::time_point refilled;
      bool Take(double capacity, double per_second, std::chrono::steady_clock::time_point now) {
        tokens = std::min(capacity, tokens + per_second * std::chrono::duration<double>(now - refilled).count());
        refilled = now;
        if (tokens < 1.0) return false;
        tokens -= 1.0;
        return true;
      }
    };
    static constexpr double kFrameBurst = 40;
    static constexpr double kFramesPerSecond = 10;
    static constexpr std::size_t kTypingSpacesKept = 64;  // buckets kept before idle ones are dropped
    Bucket frame_budget_{kFrameBurst, std::chrono::steady_clock::now()};
    std::map<domain::SpaceId, Bucket> typing_budget_;
    std::int64_t frames_received_ = 0;
    websocket::close_reason close_reason_{websocket::close_code::normal};
  };

  const Config& config_;
  // Flushes the presence batcher after kPresenceInterval and announces what changed; scheduled by
  // the first change after each flush.
  void SchedulePresenceFlush() {
    asio::dispatch(presence_strand_, [this] {
      presence_timer_.expires_after(kPresenceInterval);
      presence_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        if (auto changes = presence_.Flush()) {
          services_.events.Presence(changes->online, changes->offline, changes->version);
        }
      });
    });
  }

  app::Services& services_;
  store::Store& store_;
  int threads_;
  asio::io_context ioc_;
  asio::thread_pool blocking_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  Router router_;
  StaticFiles static_files_;
  ServerState state_;
  Metrics metrics_;
  std::optional<bool> clock_alarm_;  // the last CheckClock verdict; Housekeeping's alone
  Hub hub_;
  PresenceBatcher presence_;
  asio::strand<asio::io_context::executor_type> presence_strand_;
  asio::steady_timer presence_timer_;  // on presence_strand_
  ApiContext api_;
  std::string own_ws_origin_;  // "wss://host" from public_origin, or empty
  std::atomic<int> in_flight_{0};
  BodyBudget body_budget_{config_.max_body_bytes_in_flight};
};

Server::Server(const Config& config, app::Services& services, store::Store& store, bus::Bus& bus)
    : impl_(std::make_unique<Impl>(config, services, store, bus)) {}
Server::~Server() = default;
Status Server::Run() { return impl_->Run(); }
void Server::Stop() { impl_->Stop(); }
std::vector<std::pair<std::string, std::string>> Server::Routes() const { return impl_->Routes(); }

}  // namespace rounds::transport
