// Time source. Domain code never reads the clock; services receive a Clock so tests can move time.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rounds {

// Milliseconds since the Unix epoch, UTC.
using UnixMillis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixMillis NowMillis() const override;
};

// A clock tests set and advance by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixMillis start = 1'700'000'000'000) : now_(start) {}
  UnixMillis NowMillis() const override { return now_.load(); }
  void Advance(std::int64_t millis) { now_ += millis; }
  void Set(UnixMillis now) { now_ = now; }

 private:
  std::atomic<UnixMillis> now_;
};

// "2026-11-24T16:15:37.123Z"
std::string FormatIso8601(UnixMillis millis);

// A time an operator types: Unix milliseconds, an ISO 8601 date (2026-11-29, midnight UTC), or a
// date-time with seconds, up to three decimals and an explicit zone (2026-11-29T18:00:00Z,
// 2026-11-29T18:00:00.250Z, 2026-11-29T19:00:00+01:00). Nullopt for anything else: other text
// around it, a day the month does not have (2026-02-30), an hour past 23, a number too large.
std::optional<UnixMillis> ParseIso8601(std::string_view text);

}  // namespace rounds
