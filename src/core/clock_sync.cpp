#include "core/clock_sync.hpp"

#include <sys/timex.h>

namespace rounds {

ClockSync ClockSyncFrom(int state, long max_error_us, long estimated_error_us) {
  ClockSync sync;
  sync.synchronized = state != TIME_ERROR && state >= 0;
  sync.max_error_seconds = static_cast<double>(max_error_us) / 1e6;
  sync.estimated_error_seconds = static_cast<double>(estimated_error_us) / 1e6;
  return sync;
}

std::optional<ClockSync> ReadClockSync() {
  struct timex tx {};
  tx.modes = 0;  // read only
  const int state = ::adjtimex(&tx);
  if (state < 0) return std::nullopt;
  return ClockSyncFrom(state, tx.maxerror, tx.esterror);
}

bool ClockSkewAlarm(const ClockSync& sync) {
  return !sync.synchronized || sync.max_error_seconds > kClockSkewAlarmSeconds;
}

}  // namespace rounds
