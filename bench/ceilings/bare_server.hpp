// What the bare servers (rounds-bare-broadcaster, rounds-bare-http) share: opening the listening
// socket, the accept loop, and running one io_context on several threads. Include after Asio.
#pragma once

#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>

namespace rounds::bench {

// Binds and listens on address:port (port 0: any free port). On failure prints why, prefixed
// with `program`, and returns the exit code to use (2 for a bad address, 1 otherwise); 0 on
// success.
inline int Listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, unsigned short port,
                  const char* program) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    std::cerr << program << ": bad address " << address << "\n";
    return 2;
  }
  asio::ip::tcp::endpoint endpoint(ip, port);
  if (acceptor.open(endpoint.protocol(), ec); !ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << program << ": cannot listen on " << address << ":" << port << ": " << ec.message() << "\n";
    return 1;
  }
  return 0;
}

// Accepts until the acceptor is closed. Each socket gets a strand of its own and no Nagle delay,
// and is handed to `serve` (which must start its work and return).
template <typename Serve>
boost::asio::awaitable<void> AcceptLoop(boost::asio::ip::tcp::acceptor& acceptor, Serve serve) {
  namespace asio = boost::asio;
  while (true) {
    asio::ip::tcp::socket socket(asio::make_strand(acceptor.get_executor()));
    auto [ec] = co_await acceptor.async_accept(socket, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. out of file descriptors: keep serving the others
    socket.set_option(asio::ip::tcp::no_delay(true));
    serve(std::move(socket));
  }
}

// Runs `ioc` on this thread and threads - 1 others until it stops.
inline void RunThreads(boost::asio::io_context& ioc, int threads) {
  std::vector<std::thread> extra;
  for (int thread_idx = 1; thread_idx < threads; ++thread_idx) extra.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& thread : extra) thread.join();
}

}  // namespace rounds::bench
