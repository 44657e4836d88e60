#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/clock.hpp"
#include "core/json_text.hpp"

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

namespace {

void Emit(const std::string& text) {
  std::lock_guard lock(g_mutex);
  std::FILE* out = g_out != nullptr ? g_out : stderr;
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

}  // namespace

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
  Emit(text);
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
  Emit(text);
}

}  // namespace rounds::log
