// Client ends of HTTP/1.1 keep-alive and WebSocket connections for the load generator. This header
// shows no Beast type, so only transport.cpp pays for Beast.
//
// Thread safety: an object belongs to the executor it was made with; every call on it must run
// there. One Read and one Write may be outstanding on a WsConnection at the same time, never two of
// either. Errors come back as values (an empty string means success).
#pragma once

#include <utility>  // before Asio (Boost 1.81 with g++ 12)

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace rounds::loadgen {

namespace asio = boost::asio;
template <class T>
using Task = asio::awaitable<T>;

// An error description; empty when the operation succeeded.
using Status = std::string;

// ws://host:port/target or http://host:port/target (no TLS: the load generator runs on loopback).
struct Url {
  std::string scheme;
  std::string host;
  std::string port;
  std::string target = "/";
};
std::optional<Url> ParseUrl(std::string_view text);

struct HttpResponse {
  int status = 0;     // 0 when the request never got an answer
  std::string body;
  Status error;       // transport failure
};

// One keep-alive HTTP connection, opened on first use and again after a failure.
class HttpConnection {
 public:
  // `bind_address` (optional) is the local address to connect from, to spread ephemeral ports.
  HttpConnection(asio::any_io_executor executor, Url url, std::string bind_address = {});
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request (JSON body when not empty; bearer token when not empty) and reads the answer.
  // A request that fails on a reused connection is not retried here: the caller decides.
  Task<HttpResponse> Request(std::string method, std::string target, std::string body, std::string bearer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct WsFrame {
  bool ok = false;
  std::string text;
  int close_code = 0;  // the peer's close code when it closed the connection
  Status error;
};

class WsConnection {
 public:
  explicit WsConnection(asio::any_io_executor executor);
  ~WsConnection();
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  // TCP connect (from `bind_address` when given) and the WebSocket handshake with extra headers and
  // an optional subprotocol. May be called again after Abort() to reconnect.
  Task<Status> Connect(const Url& url, std::vector<std::pair<std::string, std::string>> headers,
                       std::string subprotocol, std::string bind_address);
  Task<Status> Write(std::string text);
  Task<WsFrame> Read();
  // Closes the socket without a close handshake: the server sees the connection drop.
  void Abort();
  // The close handshake (1000), bounded by a short timeout.
  Task<void> Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rounds::loadgen
