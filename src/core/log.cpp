#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/clock.hpp"

namespace rounds::log {
namespace {

std::atomic<Level> g_minimum{Level::kInfo};
std::mutex g_mutex;
std::FILE* g_out = nullptr;  // guarded by g_mutex; null means stderr

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

void SetMinimumLevel(Level level) { g_minimum = level; }

void SetOutputFile(const std::string& path) {
  std::lock_guard lock(g_mutex);
  if (g_out != nullptr) std::fclose(g_out);
  g_out = path.empty() ? nullptr : std::fopen(path.c_str(), "a");
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
  std::lock_guard lock(g_mutex);
  std::FILE* out = g_out != nullptr ? g_out : stderr;
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

}  // namespace rounds::log
