// How fast the audit feed (config.audit_feed) sends the trail to a collector: a trail of N records
// written to a fresh SQLite store (half of them about a patient, as the reads of PHI-bearing
// spaces are), then a server's AuditService started with its cursor at 0 and a collector on the
// loopback that reads RFC 6587 frames, as rsyslog's imtcp does. It prints the records a second
// the collector received and the bytes they took, and how long a trail of one day at a busy
// hospital's rate would take to catch up after an outage. TLS is not in this measurement.
//
//   rounds-bench-audit-feed [--records N] [--rounds R] [--dir FOLDER]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "app/audit_log.hpp"
#include "app/audit_service.hpp"
#include "app/database.hpp"
#include "core/log.hpp"

namespace app = rounds::app;
namespace fs = std::filesystem;

namespace {

// Counts the feed's frames arriving on one connection at a time.
class Collector {
 public:
  Collector() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::listen(listener_, 4);
    socklen_t len = sizeof sa;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Collector() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::int64_t records() const { return records_; }
  std::int64_t bytes() const { return bytes_; }

 private:
  void Serve() {
    int fd = -1;
    std::string pending;
    std::vector<char> buffer(1 << 16);
    while (!stop_) {
      pollfd p{fd >= 0 ? fd : listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (fd < 0) {
        fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        continue;
      }
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) {
        ::close(fd);
        fd = -1;
        pending.clear();
        continue;
      }
      bytes_ += n;
      pending.append(buffer.data(), static_cast<std::size_t>(n));
      std::size_t at = 0;
      for (;;) {
        const std::size_t space = pending.find(' ', at);
        if (space == std::string::npos) break;
        const std::size_t length = std::stoul(pending.substr(at, space - at));
        if (pending.size() < space + 1 + length) break;
        if (std::string_view(pending).substr(space + 1, length).find(app::kFeedMarker) != std::string_view::npos) {
          ++records_;
        }
        at = space + 1 + length;
      }
      pending.erase(0, at);
    }
    if (fd >= 0) ::close(fd);
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> records_{0};
  std::atomic<std::int64_t> bytes_{0};
  std::thread thread_;
};

void WriteTrail(rounds::store::Store& store, int records) {
  app::Actor nurse;
  nurse.user.id = 42;
  nurse.session_id = 7;
  nurse.address = "10.20.30.40";
  const char* actions[] = {"message.list", "message.read", "message.create", "auth.login", "search.query"};
  for (int written = 0; written < records;) {
    const int batch = std::min(500, records - written);
    auto ok = store.RunWrite([&](rounds::store::WriteTx& tx) -> rounds::Status {
      for (int i = 0; i < batch; ++i) {
        const int n = written + i;
        auto r = app::AuditEntry(nurse, actions[n % 5], "space", std::to_string(n % 40), 1'765'000'000'000 + n);
        if (n % 2 == 0) r.patient_ref = "Patient/" + std::to_string(1000 + n % 977);
        ROUNDS_RETURN_IF_ERROR(app::AppendAudit(tx, r, {{"count", 50}, {"space_id", n % 40}}));
      }
      return rounds::Ok();
    });
    if (!ok) throw std::runtime_error(ok.error().internal_message);
    written += batch;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int records = 100'000;
  int rounds = 3;
  fs::path dir = fs::current_path() / ("rounds-bench-audit-feed-" + std::to_string(::getpid()));
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--records" && i + 1 < argc) {
      records = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: rounds-bench-audit-feed [--records N] [--rounds R] [--dir FOLDER]\n");
      return 2;
    }
  }
  rounds::log::SetMinimumLevel(rounds::log::Level::kError);
  std::vector<double> rates;
  std::int64_t bytes_per_record = 0;
  for (int round = 0; round < rounds; ++round) {
    fs::remove_all(dir);
    fs::create_directories(dir / "audit");
    Collector collector;
    rounds::Config config;
    config.data_dir = dir.string();
    config.database_encryption = false;
    config.audit_witness = collector.address();
    config.audit_feed = true;
    config.audit_checkpoint_records = 1'000'000'000;  // no checkpoint interleaves with the records
    config.audit_checkpoint_seconds = 3'600;
    config.audit_verify_hours = 0;
    auto store = app::OpenDatabase(config, 2);
    if (!store) {
      std::fprintf(stderr, "cannot open the store: %s\n", store.error().internal_message.c_str());
      return 1;
    }
    WriteTrail(**store, records);
    std::ofstream(app::AuditFiles::For(config).feed_cursor) << "0\n";
    rounds::SystemClock clock;
    {
      app::AuditService audit(**store, clock, config);
      const auto start = std::chrono::steady_clock::now();
      if (auto started = audit.Start(); !started) {
        std::fprintf(stderr, "cannot start: %s\n", started.error().public_message.c_str());
        return 1;
      }
      while (collector.records() < records &&
             std::chrono::steady_clock::now() - start < std::chrono::minutes(5)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (collector.records() < records) {
        std::fprintf(stderr, "the collector got %lld of %d records in 5 minutes\n",
                     static_cast<long long>(collector.records()), records);
        return 1;
      }
      rates.push_back(records / seconds);
      bytes_per_record = collector.bytes() / records;
      audit.Stop();
    }
    (*store)->Close();
  }
  fs::remove_all(dir);
  std::sort(rates.begin(), rates.end());
  const double median = rates[rates.size() / 2];
  std::printf("audit feed, %d records to a collector on the loopback (plain TCP), %d rounds\n", records, rounds);
  std::printf("  records a second (median)  %10.0f   (min %.0f, max %.0f)\n", median, rates.front(), rates.back());
  std::printf("  bytes a record             %10lld\n", static_cast<long long>(bytes_per_record));
  std::printf("  MB/s                       %10.1f\n", median * static_cast<double>(bytes_per_record) / 1e6);
  // A day of a busy hospital's trail (2 million records) after a day's outage.
  std::printf("  a day of 2,000,000 records sent in %.0f s\n", 2e6 / median);
  return 0;
}
