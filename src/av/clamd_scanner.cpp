#include "av/malware_scanner.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/socket.hpp"

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

// A failure of the connection to clamd, as the antivirus' own.
Error FromNet(const Error& e) { return Unavailable("clamd: " + e.internal_message); }

class ClamdScanner final : public MalwareScanner {
 public:
  ClamdScanner(std::string address, std::chrono::milliseconds timeout)
      : address_(std::move(address)), timeout_(timeout) {}

  Result<Verdict> Scan(std::string_view content) const override {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    ROUNDS_ASSIGN_OR_RETURN(net::Socket socket, net::Connect(address_, deadline).map_error(FromNet));
    const int fd = socket.fd();
    // z: NUL-terminated command and reply. The stream goes in chunks, each after its length as
    // a big-endian 32-bit number; a zero length ends it.
    static constexpr char kCommand[] = "zINSTREAM";
    Status sent = net::SendAll(fd, kCommand, sizeof kCommand, deadline).map_error(FromNet);
    constexpr std::size_t kChunk = 256 * 1024;
    for (std::size_t at = 0; sent && at < content.size(); at += kChunk) {
      const auto n = static_cast<std::uint32_t>(std::min(kChunk, content.size() - at));
      const std::array<char, 4> length{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                       static_cast<char>(n >> 8), static_cast<char>(n)};
      sent = net::SendAll(fd, length.data(), length.size(), deadline).map_error(FromNet);
      if (sent) sent = net::SendAll(fd, content.data() + at, n, deadline).map_error(FromNet);
    }
    if (sent) {
      static constexpr std::array<char, 4> kEnd{};
      sent = net::SendAll(fd, kEnd.data(), kEnd.size(), deadline).map_error(FromNet);
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
        ROUNDS_RETURN_IF_ERROR(net::WaitFor(fd, POLLIN, deadline, "answering").map_error(FromNet));
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
