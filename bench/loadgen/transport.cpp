// The only file of the load generator that includes Beast.
#include "transport.hpp"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace rounds::loadgen {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::optional<Url> ParseUrl(std::string_view text) {
  Url url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  url.scheme = std::string(text.substr(0, scheme_end));
  text.remove_prefix(scheme_end + 3);
  auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  if (slash != std::string_view::npos) url.target = std::string(text.substr(slash));
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    url.host = std::string(authority);
    url.port = (url.scheme == "https" || url.scheme == "wss") ? "443" : "80";
  } else {
    url.host = std::string(authority.substr(0, colon));
    url.port = std::string(authority.substr(colon + 1));
  }
  if (url.host.empty() || url.port.empty()) return std::nullopt;
  return url;
}

namespace {

// Connects `socket` to url's host:port, from bind_address when given. Numeric hosts skip the resolver.
Task<Status> ConnectSocket(tcp::socket& socket, const Url& url, const std::string& bind_address) {
  boost::system::error_code ec;
  tcp::endpoint remote;
  auto address = asio::ip::make_address(url.host, ec);
  if (!ec) {
    remote = tcp::endpoint(address, static_cast<unsigned short>(std::stoi(url.port)));
  } else {
    tcp::resolver resolver(socket.get_executor());
    auto [rec, results] = co_await resolver.async_resolve(url.host, url.port, kNoThrow);
    if (rec || results.empty()) co_return "resolve " + url.host + ": " + rec.message();
    remote = *results.begin();
  }
  if (socket.is_open()) socket.close(ec);
  socket.open(remote.protocol(), ec);
  if (ec) co_return "socket: " + ec.message();
  if (!bind_address.empty()) {
    auto local = asio::ip::make_address(bind_address, ec);
    if (!ec) socket.bind(tcp::endpoint(local, 0), ec);
    if (ec) co_return "bind " + bind_address + ": " + ec.message();
  }
  auto [cec] = co_await socket.async_connect(remote, kNoThrow);
  if (cec) co_return "connect: " + cec.message();
  socket.set_option(tcp::no_delay(true), ec);
  co_return Status{};
}

}  // namespace

// ---- HTTP ------------------------------------------------------------------------------------------

struct HttpConnection::Impl {
  Impl(asio::any_io_executor executor, Url u, std::string bind) : stream(executor), url(std::move(u)), bind_address(std::move(bind)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  Url url;
  std::string bind_address;
  bool connected = false;
};

HttpConnection::HttpConnection(asio::any_io_executor executor, Url url, std::string bind_address)
    : impl_(std::make_unique<Impl>(executor, std::move(url), std::move(bind_address))) {}
HttpConnection::~HttpConnection() = default;

Task<HttpResponse> HttpConnection::Request(std::string method, std::string target, std::string body, std::string bearer) {
  Impl& s = *impl_;
  HttpResponse out;
  if (!s.connected) {
    s.buffer.clear();
    if (Status e = co_await ConnectSocket(s.stream.socket(), s.url, s.bind_address); !e.empty()) {
      out.error = e;
      co_return out;
    }
    s.connected = true;
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, s.url.host + ":" + s.url.port);
  req.keep_alive(true);
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  if (!body.empty() || method == "POST") {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  s.stream.expires_after(std::chrono::seconds(60));
  auto [wec, wn] = co_await http::async_write(s.stream, req, kNoThrow);
  if (wec) {
    s.connected = false;
    out.error = "http write: " + wec.message();
    co_return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  auto [rec, rn] = co_await http::async_read(s.stream, s.buffer, parser, kNoThrow);
  s.stream.expires_never();
  if (rec) {
    s.connected = false;
    boost::system::error_code ignored;
    s.stream.socket().close(ignored);
    out.error = "http read: " + rec.message();
    co_return out;
  }
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  if (!res.keep_alive()) {
    s.connected = false;
    boost::system::error_code ignored;
    s.stream.socket().close(ignored);
  }
  co_return out;
}

// ---- WebSocket -------------------------------------------------------------------------------------

struct WsConnection::Impl {
  explicit Impl(asio::any_io_executor e) : executor(e) {}
  asio::any_io_executor executor;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buffer;
};

WsConnection::WsConnection(asio::any_io_executor executor) : impl_(std::make_unique<Impl>(executor)) {}
WsConnection::~WsConnection() = default;

Task<Status> WsConnection::Connect(const Url& url, std::vector<std::pair<std::string, std::string>> headers,
                                   std::string subprotocol, std::string bind_address) {
  Impl& s = *impl_;
  // A fresh stream per connection: a Beast stream that has failed or closed cannot be reused.
  s.ws = std::make_unique<websocket::stream<beast::tcp_stream>>(s.executor);
  s.buffer.clear();
  s.buffer.shrink_to_fit();
  if (Status e = co_await ConnectSocket(beast::get_lowest_layer(*s.ws).socket(), url, bind_address); !e.empty()) {
    co_return e;
  }
  beast::get_lowest_layer(*s.ws).expires_after(std::chrono::seconds(30));
  s.ws->set_option(websocket::stream_base::decorator([&headers, &subprotocol](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
    if (!subprotocol.empty()) req.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  s.ws->read_message_max(16 * 1024 * 1024);
  websocket::response_type response;
  auto [ec] = co_await s.ws->async_handshake(response, url.host + ":" + url.port, url.target, kNoThrow);
  beast::get_lowest_layer(*s.ws).expires_never();
  if (ec) {
    std::string status = response.result_int() ? " (HTTP " + std::to_string(response.result_int()) + ")" : "";
    co_return "websocket handshake: " + ec.message() + status;
  }
  s.ws->text(true);
  co_return Status{};
}

Task<Status> WsConnection::Write(std::string text) {
  Impl& s = *impl_;
  if (!s.ws) co_return "not connected";
  auto [ec, n] = co_await s.ws->async_write(asio::buffer(text), kNoThrow);
  if (ec) co_return "websocket write: " + ec.message();
  co_return Status{};
}

Task<WsFrame> WsConnection::Read() {
  Impl& s = *impl_;
  WsFrame frame;
  if (!s.ws) {
    frame.error = "not connected";
    co_return frame;
  }
  s.buffer.consume(s.buffer.size());
  auto [ec, n] = co_await s.ws->async_read(s.buffer, kNoThrow);
  if (ec) {
    if (ec == websocket::error::closed) frame.close_code = s.ws->reason().code;
    frame.error = "websocket read: " + ec.message();
    co_return frame;
  }
  frame.ok = true;
  frame.text = beast::buffers_to_string(s.buffer.data());
  co_return frame;
}

void WsConnection::Abort() {
  if (!impl_->ws) return;
  boost::system::error_code ignored;
  beast::get_lowest_layer(*impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(*impl_->ws).socket().close(ignored);
}

Task<void> WsConnection::Close() {
  Impl& s = *impl_;
  if (!s.ws || !s.ws->is_open()) co_return;
  beast::get_lowest_layer(*s.ws).expires_after(std::chrono::seconds(2));
  co_await s.ws->async_close(websocket::close_code::normal, kNoThrow);
  Abort();
}

}  // namespace rounds::loadgen
