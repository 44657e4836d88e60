// rounds-bare-http: the history-read ceiling. An HTTP/1.1 server with no storage, no sessions and
// no JSON: every GET is answered 200 with the same body, read once from a file at start-up (a real
// page of messages, saved by bench/data/run.sh). What a page read could cost on this machine if
// finding, authorizing and writing the page cost nothing; wrk drives it exactly as it drives
// Rounds' history read.
//
//   rounds-bare-http --body FILE [--port P] [--address A] [--threads 1|2] [--pool N]
//
// Built the way Rounds' HTTP connections are: one io_context run by 1 or 2 threads, a coroutine per
// keep-alive connection on its own strand, Beast's parser and serializer, a flat read buffer
// reused across requests. `--pool N` (default 0) hands each request to a pool of N threads and
// back before answering, as Rounds hands every API request to its blocking pool, so the cost of
// that round trip can be read apart. The body is sent from one shared buffer, never copied. On
// SIGINT/SIGTERM it prints connections and requests (and per second) as a human line and a JSON
// line.
#include <utility>  // before Asio: g++ 12 needs std::exchange declared

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

// The project compiles Asio and Beast separately (BOOST_*_SEPARATE_COMPILATION); this program
// carries its own copy so that it needs none of Rounds' libraries.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>

#include <nlohmann/json.hpp>

#include "bare_server.hpp"
#include "ceiling_util.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using rounds::bench::Round3;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

constexpr char kUsage[] =
    "usage: rounds-bare-http --body FILE [--port P] [--address A] [--threads 1|2] [--pool N]\n"
    "  listens on A:P (default 127.0.0.1:9301); every GET, any path, is answered 200 with FILE's\n"
    "  bytes as application/json; anything else 405. --pool N hands each request to a pool of N\n"
    "  threads and back first (default 0: answered on the I/O thread). SIGINT/SIGTERM stops it\n"
    "  and prints counters.\n";

struct Counters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> requests{0};
};

struct Shared {
  std::string body;
  asio::thread_pool* pool = nullptr;  // null: answer on the I/O thread
  Counters counters;
};

awaitable<void> Connection(beast::tcp_stream stream, Shared& shared) {
  shared.counters.connections.fetch_add(1, std::memory_order_relaxed);
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    stream.expires_after(std::chrono::seconds(60));
    auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (read_error) break;
    const auto& req = parser.get();
    if (shared.pool != nullptr) {
      // There and back, as an API request goes to Rounds' blocking pool.
      co_await asio::post(asio::bind_executor(*shared.pool, asio::use_awaitable));
      co_await asio::post(asio::bind_executor(stream.get_executor(), asio::use_awaitable));
    }
    http::response<http::span_body<const char>> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    if (req.method() == http::verb::get) {
      res.result(http::status::ok);
      res.set(http::field::content_type, "application/json");
      res.set(http::field::cache_control, "no-store");
      res.body() = http::span_body<const char>::value_type(shared.body.data(), shared.body.size());
    } else {
      res.result(http::status::method_not_allowed);
    }
    res.prepare_payload();
    auto [write_error, written] = co_await http::async_write(stream, res, kTuple);
    if (write_error) break;
    shared.counters.requests.fetch_add(1, std::memory_order_relaxed);
    if (!res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

int main(int argc, char** argv) {
  rounds::bench::Flags flags(argc, argv, {"--body", "--port", "--address", "--threads", "--pool"}, kUsage);
  std::string body_path = flags.Text("--body", "");
  auto port = static_cast<unsigned short>(flags.Number("--port", 9301));
  std::string address = flags.Text("--address", "127.0.0.1");
  int threads = static_cast<int>(flags.Number("--threads", 2));
  int pool_threads = static_cast<int>(flags.Number("--pool", 0));
  if (body_path.empty() || threads < 1 || threads > 2 || pool_threads < 0) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Shared shared;
  {
    std::ifstream in(body_path, std::ios::binary);
    if (!in) {
      std::cerr << "rounds-bare-http: cannot read " << body_path << "\n";
      return 1;
    }
    shared.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::optional<asio::thread_pool> pool;
  if (pool_threads > 0) {
    pool.emplace(pool_threads);
    shared.pool = &*pool;
  }

  asio::io_context ioc(threads);
  tcp::acceptor acceptor(ioc);
  if (int failed = rounds::bench::Listen(acceptor, address, port, "rounds-bare-http")) return failed;
  asio::co_spawn(ioc, rounds::bench::AcceptLoop(acceptor, [&shared](tcp::socket socket) {
    auto executor = socket.get_executor();
    asio::co_spawn(executor, Connection(beast::tcp_stream(std::move(socket)), shared), asio::detached);
  }), asio::detached);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (!error) ioc.stop();
  });

  std::printf("rounds-bare-http listening on http://%s:%u/ (threads=%d, pool=%d, body %zu bytes)\n", address.c_str(),
              acceptor.local_endpoint().port(), threads, pool_threads, shared.body.size());
  std::fflush(stdout);
  double start = rounds::bench::NowSeconds();
  rounds::bench::RunThreads(ioc, threads);
  if (pool) pool->join();
  double seconds = rounds::bench::NowSeconds() - start;

  std::uint64_t requests = shared.counters.requests.load();
  std::printf("bare http: %llu connections, %llu requests (%.0f/s over %.1f s), body %zu bytes\n",
              static_cast<unsigned long long>(shared.counters.connections.load()),
              static_cast<unsigned long long>(requests), static_cast<double>(requests) / seconds, seconds,
              shared.body.size());
  nlohmann::json line = {{"ceiling", "bare-http"},
                         {"threads", threads},
                         {"pool", pool_threads},
                         {"body_bytes", shared.body.size()},
                         {"seconds", Round3(seconds)},
                         {"connections", shared.counters.connections.load()},
                         {"requests", requests}};
  std::cout << line.dump() << std::endl;
  return 0;
}
