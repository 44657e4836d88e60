// What the ceiling programs share: `--name value` flags, a monotonic clock in seconds, latency
// percentiles, and a whole positioned write. Header-only; single-threaded use.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace rounds::bench {

inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Flags of the form `--name value`. `usage` is printed for --help and for any flag not in
// `known`, after which the program exits (0 for --help, 2 otherwise).
class Flags {
 public:
  Flags(int argc, char** argv, const std::vector<std::string>& known, const char* usage) {
    for (int arg_idx = 1; arg_idx < argc; ++arg_idx) {
      std::string name = argv[arg_idx];
      if (name == "--help" || name == "-h") Exit(usage, 0);
      bool is_known = std::find(known.begin(), known.end(), name) != known.end();
      if (!is_known || arg_idx + 1 >= argc) Exit(usage, 2);
      values_[name] = argv[++arg_idx];
    }
  }

  std::string Text(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }

  double Number(const std::string& name, double fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::strtod(it->second.c_str(), nullptr);
  }

 private:
  [[noreturn]] static void Exit(const char* usage, int code) {
    std::fputs(usage, code == 0 ? stdout : stderr);
    std::exit(code);
  }

  std::map<std::string, std::string> values_;
};

// Durations of single operations, in seconds; reported in milliseconds.
class Latencies {
 public:
  void Add(double seconds) {
    samples_.push_back(seconds);
    sorted_ = false;
  }
  std::size_t count() const { return samples_.size(); }
  // How many took longer than `seconds`.
  std::size_t CountOver(double seconds) const {
    return static_cast<std::size_t>(std::count_if(samples_.begin(), samples_.end(), [seconds](double s) { return s > seconds; }));
  }

  // The p-quantile (0 <= p <= 1) in milliseconds; 0 when nothing was recorded.
  double PercentileMillis(double p) {
    if (samples_.empty()) return 0;
    if (!sorted_) {
      std::sort(samples_.begin(), samples_.end());
      sorted_ = true;
    }
    auto rank = static_cast<std::size_t>(p * static_cast<double>(samples_.size() - 1) + 0.5);
    return samples_[std::min(rank, samples_.size() - 1)] * 1e3;
  }

 private:
  std::vector<double> samples_;
  bool sorted_ = false;
};

// Writes all of `size` bytes at `offset`, retrying short and interrupted writes. False, with errno
// set, on failure.
inline bool PwriteAll(int fd, const char* data, std::size_t size, off_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Keeps a figure readable in a JSON line: three significant decimals are plenty for a ceiling.
inline double Round3(double value) { return static_cast<double>(static_cast<long long>(value * 1e3 + 0.5)) / 1e3; }

}  // namespace rounds::bench
