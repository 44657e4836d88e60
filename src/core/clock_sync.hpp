// Whether this machine's clock is kept in step with a time source (NTP, chrony, PTP), as the
// kernel knows it (adjtimex): audit records carry this clock's UTC time, and a trail whose nodes'
// clocks disagree cannot be read in order (security target A5: alarm when skew exceeds 1 s).
#pragma once

#include <optional>

namespace rounds {

struct ClockSync {
  bool synchronized = false;       // the kernel's clock is disciplined by a time source
  double max_error_seconds = 0;    // the kernel's bound on the clock's error
  double estimated_error_seconds = 0;
};

// How far a clock may be from true time before it is an alarm.
inline constexpr double kClockSkewAlarmSeconds = 1.0;

// From adjtimex's answer: `state` its return value (TIME_ERROR: not synchronized), and its
// maxerror and esterror in microseconds.
ClockSync ClockSyncFrom(int state, long max_error_us, long estimated_error_us);
// The kernel's view now; std::nullopt when it cannot be read.
std::optional<ClockSync> ReadClockSync();
// An alarm: not synchronized, or possibly more than kClockSkewAlarmSeconds off.
bool ClockSkewAlarm(const ClockSync& sync);

}  // namespace rounds
