#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "core/thread_name.hpp"

namespace rounds::log {
namespace {

std::atomic<Level> g_minimum{Level::kInfo};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

// Where lines go. The request lines (one per HTTP request) are gathered in memory and written by a
// thread of the sink's own every 50 ms: written one at a time, each was a write(2) under a lock
// every I/O and pool thread shares, 5% of the CPU time of serving a kept page. Every other line
// is written at once, after whatever request lines are waiting, so the order is kept; so is
// everything waiting when the output changes and when the process exits. A request line can be
// lost only with the process itself (a kill or crash), at most 50 ms of them.
class Sink {
 public:
  Sink() {
    std::atexit([] { Instance().Flush(/*closing=*/true); });
    std::thread([this] { Run(); }).detach();
  }

  // Never destroyed: lines may be written from any thread until the process ends.
  static Sink& Instance() {
    static Sink* const sink = new Sink();
    return *sink;
  }

  void Later(const std::string& line) {
    {
      std::lock_guard lock(pending_mutex_);
      pending_ += line;
      if (pending_.size() < kMaxPending) return;
    }
    Flush();  // a burst larger than the buffer: its writer waits, not the memory
  }

  void Now(const std::string& line) {
    std::lock_guard io(io_mutex_);
    WriteLocked(TakePending() + line);
  }

  void Flush(bool closing = false) {
    std::lock_guard io(io_mutex_);
    WriteLocked(TakePending());
    if (closing) closed_ = true;
  }

  void SetOutputFile(const std::string& path) {
    std::lock_guard io(io_mutex_);
    WriteLocked(TakePending());
    if (out_ != nullptr) std::fclose(out_);
    out_ = path.empty() ? nullptr : std::fopen(path.c_str(), "a");
  }

 private:
  static constexpr std::size_t kMaxPending = 256 * 1024;

  void Run() {
    NameThisThread("log");
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::lock_guard io(io_mutex_);
      if (closed_) return;  // exit has begun; its handler wrote the rest
      WriteLocked(TakePending());
    }
  }

  std::string TakePending() {
    std::string out;
    std::lock_guard lock(pending_mutex_);
    out.swap(pending_);
    return out;
  }

  void WriteLocked(const std::string& text) {
    if (text.empty()) return;
    std::FILE* out = out_ != nullptr ? out_ : stderr;
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
  }

  std::mutex io_mutex_;       // held while writing, so lines leave in the order they were taken
  std::FILE* out_ = nullptr;  // guarded by io_mutex_; null means stderr
  bool closed_ = false;       // guarded by io_mutex_
  std::mutex pending_mutex_;  // held only to append or take, never across a write
  std::string pending_;       // guarded by pending_mutex_
};

}  // namespace

void SetMinimumLevel(Level level) { g_minimum = level; }

void SetOutputFile(const std::string& path) { Sink::Instance().SetOutputFile(path); }

void Flush() { Sink::Instance().Flush(); }

void Request(std::string_view method, std::string_view route, int status, int ms, std::string_view address) {
  if (Level::kInfo < g_minimum.load(std::memory_order_relaxed)) return;
  // Keys in the order Write's object sorts them.
  std::string text;
  text.reserve(160 + route.size());
  text += "{\"address\":";
  AppendJsonString(text, address, Utf8Errors::kReplace);
  text += ",\"event\":\"http_request\",\"level\":\"info\",\"method\":";
  AppendJsonString(text, method, Utf8Errors::kReplace);
  text += ",\"ms\":";
  AppendJsonInt(text, ms);
  text += ",\"route\":";
  AppendJsonString(text, route, Utf8Errors::kReplace);
  text += ",\"status\":";
  AppendJsonInt(text, status);
  text += ",\"time\":\"";
  text += FormatIso8601(SystemClock().NowMillis());
  text += "\"}\n";
  Sink::Instance().Later(text);
}

void Write(Level level, std::string_view event, nlohmann::json fields) {
  if (level < g_minimum.load(std::memory_order_relaxed)) return;
  nlohmann::json line = nlohmann::json::object();
  line["time"] = FormatIso8601(SystemClock().NowMillis());
  line["level"] = LevelName(level);
  line["event"] = event;
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) line[key] = std::move(value);
  }
  // Replace invalid UTF-8 rather than throw: a log line must never take the server down.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  Sink::Instance().Now(text);
}

}  // namespace rounds::log
