// The Rounds adapter: users sign in over HTTP (bearer tokens), groups are private channels under the
// clinical-team template (PHI allowed, so bodies are stored as written) or direct conversations,
// events arrive on /api/v1/events, and messages are posted with HTTP keep-alive: the WebSocket
// carries only resume, typing and ping from a client (docs/api/README.md), and the 201 answers
// only after the durable commit, which is the acknowledgement.
#include <atomic>
#include <chrono>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "adapter.hpp"

// g++ 12 reports Asio's coroutine frames, allocated and freed by awaitable_frame_base's own
// operator new and delete, as mismatched when it inlines a long coroutine (a false positive).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace rounds::loadgen {

using nlohmann::json;

Task<Status> ForEachConcurrently(int count, int concurrency, std::function<Task<Status>(int)> fn) {
  if (count <= 0) co_return Status{};
  auto executor = co_await asio::this_coro::executor;
  struct State {
    explicit State(asio::any_io_executor e) : done(e) {}
    int next = 0;
    int running = 0;
    Status error;
    asio::steady_timer done;
  };
  auto state = std::make_shared<State>(executor);
  int workers = std::max(1, std::min(concurrency, count));
  state->running = workers;
  for (int w = 0; w < workers; ++w) {
    asio::co_spawn(executor, [state, count, fn]() -> Task<void> {
      while (state->next < count && state->error.empty()) {
        int index = state->next++;
        Status e = co_await fn(index);
        if (!e.empty() && state->error.empty()) state->error = e;
      }
      if (--state->running == 0) state->done.cancel();
    }, asio::detached);
  }
  while (state->running > 0) {
    state->done.expires_after(std::chrono::hours(24));
    co_await state->done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return state->error;
}

namespace {

// Reads an unsigned decimal right after `key` in `text`; -1 when absent.
std::int64_t NumberAfter(std::string_view text, std::string_view key, std::size_t from = 0) {
  auto at = text.find(key, from);
  if (at == std::string_view::npos) return -1;
  std::int64_t value = 0;
  const char* begin = text.data() + at + key.size();
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc() || end == begin) return -1;
  return value;
}

// The JSON string value right after `key` in `text` (no escapes: markers have none); empty when absent.
std::string_view StringAfter(std::string_view text, std::string_view key) {
  auto at = text.find(key);
  if (at == std::string_view::npos) return {};
  auto begin = at + key.size();
  auto end = text.find('"', begin);
  return end == std::string_view::npos ? std::string_view{} : text.substr(begin, end - begin);
}

// The wall-clock time in microseconds as 14 hex digits (enough for thousands of years): ids that
// begin with it sort by it.
std::string TimeFirst() {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  char text[17];
  std::snprintf(text, sizeof text, "%014llx", static_cast<unsigned long long>(micros));
  return std::string(text);
}

// 16 hex digits drawn once per process: what makes this run's client ids its own.
const std::string& RunNonce() {
  static const std::string nonce = [] {
    std::random_device device;
    const std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return std::string(text);
  }();
  return nonce;
}

std::string Describe(const HttpResponse& r) {
  if (!r.error.empty()) return r.error;
  return "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300);
}

// Request bodies, built outside coroutines: g++ 12 rejects braced initializers holding string
// literals inside a coroutine body ("array used as initializer").
std::string LoginBody(const std::string& username, const std::string& password) {
  return json{{"username", username}, {"password", password}, {"bearer", true}}.dump();
}
std::string NewUserBody(const std::string& username, const std::string& password) {
  return json{{"username", username}, {"display_name", "Load " + username}, {"email", username + "@loadgen.example"},
              {"job_role", "Registered Nurse"}, {"password", password}}.dump();
}
std::string DirectBody(std::int64_t peer_id) { return json{{"user_ids", {peer_id}}}.dump(); }
std::string SpaceBody(const std::string& name) {
  return json{{"kind", "channel"}, {"name", name}, {"visibility", "private"}, {"template", "clinical-team"}}.dump();
}
std::string MemberBody(std::int64_t user_id) { return json{{"user_id", user_id}}.dump(); }

// What Prepare learns and the sessions use; written before any session exists, read-only after.
struct Shared {
  struct User {
    std::int64_t id = 0;
    std::string token;
    std::int64_t space_id = 0;
    std::int64_t space_seq = 0;  // the space's last_seq once set up: the first resume cursor
  };
  std::vector<User> users;
};

class RoundsSession final : public Session {
 public:
  RoundsSession(asio::any_io_executor executor, const AdapterOptions& options, const Url& http_url, const Url& ws_url,
                const Shared::User& user, std::string bind_address)
      : options_(options), ws_url_(ws_url), user_(user), bind_address_(std::move(bind_address)),
        http_(executor, http_url, bind_address_), ws_(executor), last_seq_(user.space_seq) {}

  Task<Status> Connect(bool /*resume*/) override {
    // (Built before co_await: g++ 12 miscompiles braced string literals inside a co_await argument.)
    std::vector<std::pair<std::string, std::string>> headers;
    headers.emplace_back("Authorization", "Bearer " + user_.token);
    Status e = co_await ws_.Connect(ws_url_, std::move(headers), "", bind_address_);
    if (!e.empty()) co_return e;
    // The cursor is always sent: the first one is the space's last_seq after set-up, so a message
    // posted between set-up and this connection is replayed rather than missed.
    std::string resume = R"({"type":"resume","cursors":{)";
    if (user_.space_id != 0) resume += "\"" + std::to_string(user_.space_id) + "\":" + std::to_string(last_seq_);
    resume += "}}";
    co_return co_await ws_.Write(std::move(resume));
  }

  Task<Status> Send(std::string marker) override {
    // client_id makes a retry after a broken connection safe: the server answers 200 with the original.
    // Markers repeat from one generator run to the next (member, seq and a clock that starts with the
    // process), so the client_id adds the run's own nonce: a post that reused an earlier run's id
    // would be answered with that run's message and never stored. It begins with the wall-clock
    // time, as the web app's UUIDv7 ids do, so the generator costs the server's client id index
    // what Rounds' own clients cost it (docs/api/README.md, "client_id").
    // Half the nonce is plenty once the time leads; the id stays well inside the server's 64 bytes.
    const std::string client_id = TimeFirst() + "." + marker + "." + RunNonce().substr(0, 8);
    std::string body = R"({"body":")" + marker + R"(","client_id":")" + client_id + R"("})";
    std::string target = "/api/v1/spaces/" + std::to_string(user_.space_id) + "/messages";
    HttpResponse r;
    for (int attempt = 0; attempt < 2; ++attempt) {
      r = co_await http_.Request("POST", target, body, user_.token);
      if (r.error.empty()) break;
      // Rare, and worth seeing: the retry is answered 200 if the first attempt was stored.
      static std::atomic<int> logged{0};
      if (attempt == 0 && logged.fetch_add(1) < 5) std::cerr << "loadgen: post " << marker << " retried after: " << r.error << "\n";
    }
    if (r.status != 201 && r.status != 200) co_return "post: " + Describe(r);
    // The answer must be this post's message: an acknowledgement of another one would hide a loss.
    std::string_view answered = StringAfter(r.body, R"("client_id":")");
    if (answered != client_id) {
      co_return "post " + client_id + " answered HTTP " + std::to_string(r.status) + " with the message of client_id '" +
                std::string(answered) + "'";
    }
    co_return Status{};
  }

  Task<Incoming> Next() override {
    Incoming out;
    for (;;) {
      WsFrame frame = co_await ws_.Read();
      if (!frame.ok) {
        out.kind = Incoming::Kind::kClosed;
        out.close_code = frame.close_code;
        out.error = frame.error;
        co_return out;
      }
      std::string_view text = frame.text;
      if (text.starts_with(R"({"type":"event")")) {
        std::int64_t seq = NumberAfter(text, R"("seq":)");
        // Each space's events are numbered without gaps; every member gets every event once.
        if (seq <= last_seq_) {
          ++out.seq_repeats;
          continue;
        }
        if (seq != last_seq_ + 1) out.seq_gaps += static_cast<int>(seq - last_seq_ - 1);
        last_seq_ = seq;
        auto event_at = text.find(R"("event":"message.created")");
        if (event_at == std::string_view::npos) continue;
        auto body_at = text.find(R"("body":"lgm.)", event_at);
        if (body_at == std::string_view::npos) continue;
        auto begin = body_at + 8;
        auto end = text.find('"', begin);
        if (end == std::string_view::npos) continue;
        out.kind = Incoming::Kind::kMessage;
        out.marker = std::string(text.substr(begin, end - begin));
        co_return out;
      }
      if (text == R"({"type":"resumed"})") {
        out.kind = Incoming::Kind::kReady;
        co_return out;
      }
      // pong, presence, typing, user events: not part of the measurement.
    }
  }

  void Drop() override { ws_.Abort(); }
  Task<void> Close() override { co_await ws_.Close(); }

 private:
  const AdapterOptions& options_;
  const Url& ws_url_;
  const Shared::User& user_;
  std::string bind_address_;
  HttpConnection http_;
  WsConnection ws_;
  std::int64_t last_seq_;
};

class RoundsAdapter final : public Adapter {
 public:
  RoundsAdapter(AdapterOptions options, Url http_url, Url ws_url)
      : options_(std::move(options)), http_url_(std::move(http_url)), ws_url_(std::move(ws_url)) {}

  std::string Name() const override { return "rounds"; }
  AckMode Ack() const override { return AckMode::kServer; }
  bool SupportsResume() const override { return true; }
  bool EchoesToSender(const Topology&) const override { return true; }

  Task<Status> Prepare(asio::any_io_executor executor, const Topology& topology,
                       std::function<void(const std::string&)> log) override {
    shared_.users.assign(static_cast<std::size_t>(topology.clients), {});
    int concurrency = std::max(1, options_.setup_concurrency);
    std::vector<std::unique_ptr<HttpConnection>> pool;
    for (int i = 0; i < concurrency; ++i) pool.push_back(std::make_unique<HttpConnection>(executor, http_url_));
    // Each worker of ForEachConcurrently takes one connection of the pool for its request.
    std::vector<bool> busy(pool.size(), false);
    auto take = [&]() -> HttpConnection* {
      for (std::size_t i = 0; i < pool.size(); ++i) {
        if (!busy[i]) {
          busy[i] = true;
          return pool[i].get();
        }
      }
      return nullptr;
    };
    auto give = [&](HttpConnection* c) {
      for (std::size_t i = 0; i < pool.size(); ++i) {
        if (pool[i].get() == c) busy[i] = false;
      }
    };
    auto call = [&](std::string method, std::string target, std::string body, std::string token) -> Task<HttpResponse> {
      HttpConnection* c = take();
      HttpResponse r = co_await c->Request(method, target, body, token);
      if (!r.error.empty()) r = co_await c->Request(method, target, body, token);  // a stale keep-alive
      give(c);
      co_return r;
    };

    std::string admin_token;
    if (!options_.admin_password.empty()) {
      auto r = co_await call("POST", "/api/v1/auth/login",
                             LoginBody(options_.admin_user, options_.admin_password), "");
      if (r.status != 200) co_return "admin sign-in: " + Describe(r);
      admin_token = json::parse(r.body).at("token").get<std::string>();
      // Creating accounts is administration: the session takes it up with the password again.
      json elevation;
      elevation["password"] = options_.admin_password;
      auto e = co_await call("POST", "/api/v1/auth/elevation", elevation.dump(), admin_token);
      if (e.status != 200) co_return "admin elevation: " + Describe(e);
    }

    // Sign every user in; create the ones that do not exist yet (Argon2id makes both slow at
    // interactive cost: `rounds-loadgen seed-sql` makes many users cheap to sign in).
    int created = 0;
    auto sign_in = [&](int index) -> Task<Status> {
      std::string username = options_.user_prefix + std::to_string(index);
      std::string login = LoginBody(username, options_.password);
      auto r = co_await call("POST", "/api/v1/auth/login", login, "");
      if (r.status == 401 && !admin_token.empty()) {
        auto c = co_await call("POST", "/api/v1/users",
                               NewUserBody(username, options_.password),
                               admin_token);
        if (c.status != 201) co_return "create " + username + ": " + Describe(c);
        ++created;
        r = co_await call("POST", "/api/v1/auth/login", login, "");
      }
      if (r.status != 200) co_return "sign in " + username + ": " + Describe(r);
      auto body = json::parse(r.body);
      auto& user = shared_.users[static_cast<std::size_t>(index)];
      user.token = body.at("token").get<std::string>();
      user.id = body.at("user").at("id").get<std::int64_t>();
      if ((index + 1) % 1000 == 0) log("signed in " + std::to_string(index + 1) + " users");
      co_return Status{};
    };
    if (Status e = co_await ForEachConcurrently(topology.clients, concurrency, sign_in); !e.empty()) co_return e;
    if (created > 0) log("created " + std::to_string(created) + " users");

    const auto stamp = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    auto make_group = [&](int g) -> Task<Status> {
      const auto& members = topology.groups[static_cast<std::size_t>(g)];
      if (members.empty()) co_return Status{};
      const auto& owner = shared_.users[static_cast<std::size_t>(members[0])];
      std::int64_t space_id = 0;
      if (topology.direct && members.size() == 2) {
        auto r = co_await call("POST", "/api/v1/direct",
                               DirectBody(shared_.users[static_cast<std::size_t>(members[1])].id), owner.token);
        if (r.status != 200 && r.status != 201) co_return "direct conversation: " + Describe(r);
        space_id = json::parse(r.body).at("id").get<std::int64_t>();
      } else {
        auto r = co_await call("POST", "/api/v1/spaces",
                               SpaceBody("loadgen " + stamp + " " + std::to_string(g)),
                               owner.token);
        if (r.status != 201) co_return "create space: " + Describe(r);
        space_id = json::parse(r.body).at("id").get<std::int64_t>();
        for (std::size_t m = 1; m < members.size(); ++m) {
          auto a = co_await call("POST", "/api/v1/spaces/" + std::to_string(space_id) + "/members",
                                 MemberBody(shared_.users[static_cast<std::size_t>(members[m])].id), owner.token);
          if (a.status != 201) co_return "add member: " + Describe(a);
        }
      }
      auto s = co_await call("GET", "/api/v1/spaces/" + std::to_string(space_id), "", owner.token);
      if (s.status != 200) co_return "read space: " + Describe(s);
      std::int64_t last_seq = json::parse(s.body).at("last_seq").get<std::int64_t>();
      for (int member : members) {
        shared_.users[static_cast<std::size_t>(member)].space_id = space_id;
        shared_.users[static_cast<std::size_t>(member)].space_seq = last_seq;
      }
      if ((g + 1) % 500 == 0) log("set up " + std::to_string(g + 1) + " groups");
      co_return Status{};
    };
    co_return co_await ForEachConcurrently(static_cast<int>(topology.groups.size()), concurrency, make_group);
  }

  std::unique_ptr<Session> NewSession(asio::any_io_executor executor, int index, std::string bind_address) override {
    return std::make_unique<RoundsSession>(executor, options_, http_url_, ws_url_,
                                           shared_.users[static_cast<std::size_t>(index)], std::move(bind_address));
  }

 private:
  AdapterOptions options_;
  Url http_url_;
  Url ws_url_;
  Shared shared_;
};

}  // namespace

std::unique_ptr<Adapter> MakeRoundsAdapter(const AdapterOptions& options, std::string& error) {
  auto url = ParseUrl(options.url);
  if (!url || (url->scheme != "http" && url->scheme != "ws")) {
    error = "--url must be http://host:port of a Rounds server";
    return nullptr;
  }
  Url http_url = *url;
  http_url.scheme = "http";
  Url ws_url = *url;
  ws_url.scheme = "ws";
  ws_url.target = "/api/v1/events";
  return std::make_unique<RoundsAdapter>(options, http_url, ws_url);
}

}  // namespace rounds::loadgen
