// Structured logs: one JSON object per line on stderr (or a file), with UTC time, level and event.
//
// Fields are values the caller chooses; never pass message bodies, passwords, tokens or cookies
// (a test scans the logs of the integration suite for planted canaries). Strings are JSON-escaped,
// so CR/LF in user input cannot forge log lines. Thread-safe.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace rounds::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void SetMinimumLevel(Level level);
// Sends lines to `path` (appending) instead of stderr. Empty path: stderr.
void SetOutputFile(const std::string& path);
void Write(Level level, std::string_view event, nlohmann::json fields = nlohmann::json::object());
// Writes the request lines still waiting (also done at exit and when the output changes).
void Flush();

// The line every HTTP request writes (event "http_request", level info): the same line as Write
// with these fields, written straight to text. It runs once per request on an I/O thread, where
// building and dumping a JSON object cost more than the rest of serving a kept page's headers.
// Request lines are written in batches, every 50 ms; every other line at once, after the request
// lines before it.
void Request(std::string_view method, std::string_view route, int status, int ms, std::string_view address);

inline void Debug(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kDebug, event, std::move(fields));
}
inline void Info(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kInfo, event, std::move(fields));
}
inline void Warn(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kWarn, event, std::move(fields));
}
inline void Error(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kError, event, std::move(fields));
}

}  // namespace rounds::log
