// rounds-ceiling-fsync: how many durable 4 KiB writes per second the data disk takes, i.e. the
// most commits per second any store that syncs each commit can reach on it.
//
//   rounds-ceiling-fsync [--dir DIR] [--seconds S] [--block BYTES]
//
// Two patterns, S seconds each, on a scratch file in DIR (default ./, removed afterwards):
//   append     each write extends the file, so fdatasync also commits the new size (a log
//              that grows: a fresh WAL, an append-only journal);
//   overwrite  writes cycle over a region written and synced beforehand, so fdatasync flushes
//              data only (a WAL that is reused after a checkpoint, SQLite's steady state).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "ceiling_util.hpp"

namespace {

using rounds::bench::Latencies;
using rounds::bench::NowSeconds;
using rounds::bench::Round3;

constexpr char kUsage[] =
    "usage: rounds-ceiling-fsync [--dir DIR] [--seconds S] [--block BYTES]\n"
    "  writes BYTES (default 4096) then fdatasync, for S seconds (default 3) per pattern,\n"
    "  on a scratch file in DIR (default ./); prints ops/s, latency p50/p99/max and the syncs over 10 ms.\n";
constexpr off_t kOverwriteRegion = 16 << 20;

struct PhaseResult {
  double ops_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  // The disk's stalls: a durable server's every commit waits out the sync it is in, so one slow
  // sync delays every message that arrives meanwhile, which is what a p99 at load sees.
  double max_ms = 0;
  std::size_t over_10ms = 0;
  std::size_t ops = 0;
};

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "rounds-ceiling-fsync: " << what << ": " << std::strerror(errno) << "\n";
  std::exit(1);
}

// Writes a block at the offset `next_offset` returns, then fdatasync, until `seconds` pass.
template <class NextOffset>
PhaseResult RunPhase(int fd, std::vector<char>& block, double seconds, NextOffset next_offset) {
  Latencies latencies;
  double start = NowSeconds();
  double now = start;
  while (now - start < seconds) {
    block[latencies.count() % block.size()]++;  // never the same bytes twice
    double t0 = NowSeconds();
    if (!rounds::bench::PwriteAll(fd, block.data(), block.size(), next_offset())) Fail("pwrite");
    if (fdatasync(fd) != 0) Fail("fdatasync");
    now = NowSeconds();
    latencies.Add(now - t0);
  }
  PhaseResult result;
  result.ops = latencies.count();
  result.ops_per_second = static_cast<double>(result.ops) / (now - start);
  result.p50_ms = latencies.PercentileMillis(0.50);
  result.p99_ms = latencies.PercentileMillis(0.99);
  result.max_ms = latencies.PercentileMillis(1.0);
  result.over_10ms = latencies.CountOver(0.010);
  return result;
}

nlohmann::json ToJson(const PhaseResult& r) {
  return {{"ops_per_s", Round3(r.ops_per_second)}, {"p50_ms", Round3(r.p50_ms)}, {"p99_ms", Round3(r.p99_ms)},
          {"max_ms", Round3(r.max_ms)}, {"over_10ms", r.over_10ms}, {"ops", r.ops}};
}

void PrintHuman(const char* pattern, std::size_t block_bytes, const PhaseResult& r) {
  std::printf("fsync ceiling, %-9s %zu B + fdatasync: %8.0f ops/s, p50 %.3f ms, p99 %.3f ms, max %.1f ms, %zu over 10 ms (%zu ops)\n",
              pattern, block_bytes, r.ops_per_second, r.p50_ms, r.p99_ms, r.max_ms, r.over_10ms, r.ops);
}

}  // namespace

int main(int argc, char** argv) {
  rounds::bench::Flags flags(argc, argv, {"--dir", "--seconds", "--block"}, kUsage);
  std::string dir = flags.Text("--dir", ".");
  double seconds = flags.Number("--seconds", 3);
  auto block_bytes = static_cast<std::size_t>(flags.Number("--block", 4096));
  if (seconds <= 0 || block_bytes == 0 || static_cast<off_t>(block_bytes) > kOverwriteRegion) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string path = dir + "/rounds-ceiling-fsync.tmp";
  std::vector<char> block(block_bytes, 'x');

  int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) Fail("open " + path);
  off_t end = 0;
  PhaseResult append = RunPhase(fd, block, seconds, [&] {
    off_t offset = end;
    end += static_cast<off_t>(block_bytes);
    return offset;
  });

  // Real writes, not fallocate: preallocated extents are "unwritten" and their first write
  // would still change metadata.
  if (ftruncate(fd, 0) != 0) Fail("ftruncate");
  for (off_t offset = 0; offset + static_cast<off_t>(block_bytes) <= kOverwriteRegion;
       offset += static_cast<off_t>(block_bytes)) {
    if (!rounds::bench::PwriteAll(fd, block.data(), block.size(), offset)) Fail("pwrite");
  }
  if (fsync(fd) != 0) Fail("fsync");
  off_t slots = kOverwriteRegion / static_cast<off_t>(block_bytes);
  off_t slot = 0;
  PhaseResult overwrite = RunPhase(fd, block, seconds, [&] {
    off_t offset = (slot++ % slots) * static_cast<off_t>(block_bytes);
    return offset;
  });
  close(fd);
  unlink(path.c_str());

  PrintHuman("append", block_bytes, append);
  PrintHuman("overwrite", block_bytes, overwrite);
  nlohmann::json line = {{"ceiling", "fsync"},         {"dir", dir},
                         {"block_bytes", block_bytes}, {"seconds", seconds},
                         {"append", ToJson(append)},   {"overwrite", ToJson(overwrite)}};
  std::cout << line.dump() << std::endl;
  return 0;
}
