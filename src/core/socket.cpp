#include "core/socket.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rounds::net {
namespace {

tl::unexpected<Error> Unavailable(std::string internal) {
  return Fail(ErrorCode::kUnavailable, "unavailable", "A service this needs cannot be reached.", std::move(internal));
}

}  // namespace

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void Socket::Close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

Status WaitFor(int fd, short events, Deadline deadline, const char* what) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Unavailable(std::string("timed out ") + what);
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return Ok();
    if (n < 0 && errno != EINTR) return Unavailable(std::string("poll: ") + std::strerror(errno));
  }
}

std::optional<HostPort> SplitHostPort(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return std::nullopt;
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return std::nullopt;
  return HostPort{std::move(host), address.substr(colon + 1)};
}

Result<Socket> Connect(const std::string& address, Deadline deadline) {
  Socket socket;
  int rc = 0;
  if (!address.empty() && address.front() == '/') {
    sockaddr_un sa{};
    if (address.size() >= sizeof sa.sun_path) return Unavailable("socket path too long: " + address);
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, address.c_str(), address.size() + 1);
    socket = Socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket.open()) return Unavailable(std::string("socket: ") + std::strerror(errno));
    rc = ::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  } else {
    const auto split = SplitHostPort(address);
    if (!split) return Unavailable("address is neither a path nor host:port: " + address);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(split->host.c_str(), split->port.c_str(), &hints, &found) != 0 ||
        found == nullptr) {
      return Unavailable("cannot resolve " + address);
    }
    socket = Socket(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (socket.open()) rc = ::connect(socket.fd(), found->ai_addr, found->ai_addrlen);
    const int saved = errno;
    ::freeaddrinfo(found);
    errno = saved;
    if (!socket.open()) return Unavailable(std::string("socket: ") + std::strerror(errno));
  }
  if (rc < 0 && errno != EINPROGRESS && errno != EAGAIN) {
    return Unavailable("connect to " + address + ": " + std::strerror(errno));
  }
  if (rc < 0) {
    ROUNDS_RETURN_IF_ERROR(WaitFor(socket.fd(), POLLOUT, deadline, "connecting"));
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) return Unavailable("connect to " + address + ": " + std::strerror(error));
  }
  return socket;
}

Status SendAll(int fd, const char* data, std::size_t size, Deadline deadline) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ROUNDS_RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline, "sending"));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return Unavailable(std::string("send: ") + std::strerror(errno));
    }
  }
  return Ok();
}

}  // namespace rounds::net
