// Outbound stream sockets with deadlines: what the clients of other services (the antivirus
// daemon, the audit witness) share. Plain POSIX sockets, non-blocking, waited on with poll().
// Every failure is kUnavailable with what happened in internal_message; callers give it the
// problem and the public message of their own service.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "core/result.hpp"

namespace rounds::net {

using Deadline = std::chrono::steady_clock::time_point;

// A socket, closed when it goes.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { Close(); }
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close();

 private:
  int fd_ = -1;
};

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT) or `deadline` passes; `what` names
// the wait in the error ("connecting", "sending").
Status WaitFor(int fd, short events, Deadline deadline, const char* what);

// "host:port" split at its last colon; an IPv6 literal is written in brackets ("[::1]:6514") and
// comes out without them. nullopt when there is no colon or either side is empty.
struct HostPort {
  std::string host;
  std::string port;
};
std::optional<HostPort> SplitHostPort(const std::string& address);

// A non-blocking connection to a Unix socket path ("/run/clamav/clamd.ctl") or "host:port".
Result<Socket> Connect(const std::string& address, Deadline deadline);

// Sends all of `data`, waiting while the peer's window is full. Never raises SIGPIPE.
Status SendAll(int fd, const char* data, std::size_t size, Deadline deadline);

}  // namespace rounds::net
