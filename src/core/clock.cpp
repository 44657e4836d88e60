#include "core/clock.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace rounds {

UnixMillis SystemClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatIso8601(UnixMillis millis) {
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  int ms = static_cast<int>(millis % 1000);
  if (ms < 0) {
    ms += 1000;
    seconds -= 1;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buffer;
}

std::optional<UnixMillis> ParseIso8601(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    UnixMillis millis = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), millis);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return millis;
  }
  // Fixed-width fields, each read whole: "YYYY-MM-DD" then optionally "THH:MM:SS", a fraction and
  // the zone.
  auto number = [&](std::size_t at, std::size_t width, int& out) {
    if (at + width > text.size()) return false;
    for (std::size_t i = at; i < at + width; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
    }
    out = 0;
    for (std::size_t i = at; i < at + width; ++i) out = out * 10 + (text[i] - '0');
    return true;
  };
  auto is = [&](std::size_t at, char c) { return at < text.size() && text[at] == c; };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!number(0, 4, year) || !is(4, '-') || !number(5, 2, month) || !is(7, '-') || !number(8, 2, day)) {
    return std::nullopt;
  }
  int offset_minutes = 0;
  if (text.size() > 10) {
    if (!is(10, 'T') || !number(11, 2, hour) || !is(13, ':') || !number(14, 2, minute) || !is(16, ':') ||
        !number(17, 2, second)) {
      return std::nullopt;
    }
    std::size_t at = 19;
    if (is(at, '.')) {
      std::size_t end = at + 1;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      const std::size_t digits = end - at - 1;
      if (digits == 0 || digits > 3 || !number(at + 1, digits, millis)) return std::nullopt;
      for (std::size_t i = digits; i < 3; ++i) millis *= 10;
      at = end;
    }
    if (is(at, 'Z') && at + 1 == text.size()) {
      offset_minutes = 0;
    } else if ((is(at, '+') || is(at, '-')) && at + 6 == text.size() && is(at + 3, ':')) {
      int hours = 0, minutes = 0;
      if (!number(at + 1, 2, hours) || !number(at + 4, 2, minutes) || hours > 23 || minutes > 59) return std::nullopt;
      offset_minutes = (text[at] == '+' ? 1 : -1) * (hours * 60 + minutes);
    } else {
      return std::nullopt;  // a time of day needs its zone: nothing here is local time
    }
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t seconds = ::timegm(&tm);
  // timegm carries 2026-02-30 into March; a day the month does not have is an error instead.
  if (tm.tm_mday != day || tm.tm_mon != month - 1) return std::nullopt;
  return (static_cast<UnixMillis>(seconds) - offset_minutes * 60LL) * 1000 + millis;
}

}  // namespace rounds
