// The Rounds network server: HTTP/1.1 API, static web app and the WebSocket event stream, on
// Boost.Beast/Asio coroutines. Only main.cpp includes this header; Beast stays inside server.cpp.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/services.hpp"
#include "bus/bus.hpp"
#include "core/config.hpp"
#include "store/store.hpp"

namespace rounds::transport {

class Server {
 public:
  Server(const Config& config, app::Services& services, store::Store& store, bus::Bus& bus);
  ~Server();

  // Listens, serves until SIGINT/SIGTERM (or Stop()), then shuts down gracefully: stops
  // accepting, finishes in-flight requests, closes WebSockets with 1001 and closes the store.
  // kUnavailable if the address cannot be bound.
  Status Run();
  // Starts a graceful shutdown from any thread.
  void Stop();
  // Every registered route as (method, pattern), in registration order.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rounds::transport
