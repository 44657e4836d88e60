#include "av/malware_scanner.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace rounds::av {
namespace {

Error Unavailable(std::string internal) {
  Error e;
  e.code = ErrorCode::kUnavailable;
  e.problem = "antivirus_unavailable";
  e.public_message = "Files cannot be checked for malware right now, so none are taken. Try again later.";
  e.internal_message = std::move(internal);
  return e;
}

// A connected socket, closed when it goes.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events` or `deadline` passes.
Status WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline, const char* what) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return tl::unexpected(Unavailable(std::string("clamd timed out ") + what));
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return Ok();
    if (n < 0 && errno != EINTR) return tl::unexpected(Unavailable(std::string("poll: ") + std::strerror(errno)));
  }
}

// Opens a non-blocking connection to a Unix socket path or host:port.
Result<int> Connect(const std::string& address, std::chrono::steady_clock::time_point deadline) {
  int fd = -1;
  int rc = 0;
  if (!address.empty() && address.front() == '/') {
    sockaddr_un sa{};
    if (address.size() >= sizeof sa.sun_path) return tl::unexpected(Unavailable("clamd socket path too long"));
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, address.c_str(), address.size() + 1);
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return tl::unexpected(Unavailable(std::string("socket: ") + std::strerror(errno)));
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  } else {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string::npos) return tl::unexpected(Unavailable("clamd address is neither a path nor host:port"));
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints, &found) != 0 ||
        found == nullptr) {
      return tl::unexpected(Unavailable("cannot resolve the clamd address"));
    }
    fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    if (fd < 0) return tl::unexpected(Unavailable(std::string("socket: ") + std::strerror(errno)));
  }
  Socket guard(fd);
  if (rc < 0 && errno != EINPROGRESS && errno != EAGAIN) {
    return tl::unexpected(Unavailable(std::string("connect to clamd: ") + std::strerror(errno)));
  }
  if (rc < 0) {
    ROUNDS_RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline, "connecting"));
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) return tl::unexpected(Unavailable(std::string("connect to clamd: ") + std::strerror(error)));
  }
  return guard.release();
}

Status SendAll(int fd, const char* data, std::size_t size, std::chrono::steady_clock::time_point deadline) {
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
      // clamd closes the stream when it exceeds its StreamMaxLength; its reply says so.
      return tl::unexpected(Unavailable(std::string("send to clamd: ") + std::strerror(errno)));
    }
  }
  return Ok();
}

class ClamdScanner final : public MalwareScanner {
 public:
  ClamdScanner(std::string address, std::chrono::milliseconds timeout)
      : address_(std::move(address)), timeout_(timeout) {}

  Result<Verdict> Scan(std::string_view content) const override {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    ROUNDS_ASSIGN_OR_RETURN(const int fd, Connect(address_, deadline));
    Socket socket(fd);
    // z: NUL-terminated command and reply. The stream goes in chunks, each after its length as
    // a big-endian 32-bit number; a zero length ends it.
    static constexpr char kCommand[] = "zINSTREAM";
    Status sent = SendAll(fd, kCommand, sizeof kCommand, deadline);
    constexpr std::size_t kChunk = 256 * 1024;
    for (std::size_t at = 0; sent && at < content.size(); at += kChunk) {
      const auto n = static_cast<std::uint32_t>(std::min(kChunk, content.size() - at));
      const std::array<char, 4> length{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                       static_cast<char>(n >> 8), static_cast<char>(n)};
      sent = SendAll(fd, length.data(), length.size(), deadline);
      if (sent) sent = SendAll(fd, content.data() + at, n, deadline);
    }
    if (sent) {
      static constexpr std::array<char, 4> kEnd{};
      sent = SendAll(fd, kEnd.data(), kEnd.size(), deadline);
    }
    // Read the reply even when sending stopped early: clamd says why it closed the stream.
    std::string reply;
    std::array<char, 512> buffer;
    for (;;) {
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n > 0) {
        reply.append(buffer.data(), static_cast<std::size_t>(n));
        if (reply.find('\0') != std::string::npos || reply.size() > 4096) break;
      } else if (n == 0) {
        break;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        ROUNDS_RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline, "answering"));
      } else if (errno != EINTR) {
        return tl::unexpected(Unavailable(std::string("recv from clamd: ") + std::strerror(errno)));
      }
    }
    if (reply.empty() && !sent) return tl::unexpected(sent.error());
    const std::size_t nul = reply.find('\0');
    return ParseClamdReply(std::string_view(reply).substr(0, nul));
  }

 private:
  const std::string address_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace

Result<Verdict> ParseClamdReply(std::string_view reply) {
  const std::string_view whole = reply;
  while (!reply.empty() && (reply.back() == '\n' || reply.back() == ' ')) reply.remove_suffix(1);
  // A daemon that numbers its replies (IDSESSION) puts "N: " first; then "stream: " for INSTREAM.
  const std::size_t digits = reply.find_first_not_of("0123456789");
  if (digits != 0 && digits != std::string_view::npos && reply.substr(digits).starts_with(": ")) {
    reply.remove_prefix(digits + 2);
  }
  constexpr std::string_view kStream = "stream: ";
  constexpr std::string_view kFound = " FOUND";
  if (reply.starts_with(kStream)) {
    const std::string_view result = reply.substr(kStream.size());
    if (result == "OK") return Verdict{};
    if (result.size() > kFound.size() && result.ends_with(kFound)) {
      return Verdict{false, std::string(result.substr(0, result.size() - kFound.size()))};
    }
  }
  return tl::unexpected(Unavailable("clamd answered: " + std::string(whole.substr(0, 200))));
}

std::unique_ptr<MalwareScanner> MakeClamdScanner(std::string address, std::chrono::milliseconds timeout) {
  return std::make_unique<ClamdScanner>(std::move(address), timeout);
}

}  // namespace rounds::av
