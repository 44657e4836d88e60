// rounds-ceiling-loopback: TCP bulk bandwidth over 127.0.0.1 with one sending and one receiving
// thread: the most bytes per second any server on this machine can move to its clients.
//
//   rounds-ceiling-loopback [--seconds S] [--chunk BYTES]
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "ceiling_util.hpp"

namespace {

using rounds::bench::NowSeconds;
using rounds::bench::Round3;

constexpr char kUsage[] =
    "usage: rounds-ceiling-loopback [--seconds S] [--chunk BYTES]\n"
    "  one thread sends BYTES-sized writes (default 131072) for S seconds (default 3) to one\n"
    "  receiving thread over TCP on 127.0.0.1; prints Gbit/s.\n";

[[noreturn]] void Fail(const char* what) {
  std::cerr << "rounds-ceiling-loopback: " << what << ": " << std::strerror(errno) << "\n";
  std::exit(1);
}

struct Received {
  std::uint64_t bytes = 0;
  double seconds = 0;
};

// Reads until the sender closes; the clock runs from the first byte to the end of the stream.
Received Receive(int listener, std::size_t chunk) {
  int fd = accept(listener, nullptr, nullptr);
  if (fd < 0) Fail("accept");
  std::vector<char> buffer(chunk);
  Received received;
  double start = 0;
  while (true) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail("read");
    if (n == 0) break;
    if (received.bytes == 0) start = NowSeconds();
    received.bytes += static_cast<std::uint64_t>(n);
  }
  received.seconds = NowSeconds() - start;
  close(fd);
  return received;
}

void Send(std::uint16_t port, std::size_t chunk, double seconds) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) Fail("connect");
  std::vector<char> buffer(chunk, 'r');
  double deadline = NowSeconds() + seconds;
  while (NowSeconds() < deadline) {
    std::size_t done = 0;
    while (done < buffer.size()) {
      ssize_t n = write(fd, buffer.data() + done, buffer.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) Fail("write");
      done += static_cast<std::size_t>(n);
    }
  }
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  rounds::bench::Flags flags(argc, argv, {"--seconds", "--chunk"}, kUsage);
  double seconds = flags.Number("--seconds", 3);
  auto chunk = static_cast<std::size_t>(flags.Number("--chunk", 128 * 1024));
  if (seconds <= 0 || chunk == 0) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) Fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;  // any free port
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) Fail("bind");
  if (listen(listener, 1) != 0) Fail("listen");
  socklen_t length = sizeof address;
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) Fail("getsockname");

  Received received;
  std::thread receiver([&] { received = Receive(listener, chunk); });
  Send(ntohs(address.sin_port), chunk, seconds);
  receiver.join();
  close(listener);

  double gbit_per_second = received.seconds > 0 ? static_cast<double>(received.bytes) * 8 / received.seconds / 1e9 : 0;
  std::printf("loopback ceiling, TCP 127.0.0.1, 1 sender + 1 receiver thread, %zu B writes: %.2f Gbit/s (%.0f MiB/s)\n",
              chunk, gbit_per_second, static_cast<double>(received.bytes) / received.seconds / (1 << 20));
  nlohmann::json line = {{"ceiling", "loopback"},
                         {"chunk_bytes", chunk},
                         {"seconds", Round3(received.seconds)},
                         {"bytes", received.bytes},
                         {"gbit_per_s", Round3(gbit_per_second)}};
  std::cout << line.dump() << std::endl;
  return 0;
}
