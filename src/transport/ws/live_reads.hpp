// What one WebSocket has sent live, per space, since it was last put on the audit trail.
//
// A post in a PHI-bearing space reaches its members' open sockets without a request: each of those
// deliveries is a read of the content as much as a page read is (security target A4, "every read
// of content in spaces whose template is PHI-bearing"). One record per recipient per event would
// multiply the writer's work by the space's size, so a socket gathers what it sent here and the
// server records it per space at most audit_live_read_seconds after the first event gathered, and
// when the socket closes (app::EventService::RecordLiveReads). Replayed events are recorded by the
// replay itself and are not gathered here; nor are placeholders, which carry nothing. Before the
// socket's first event from a space, a record that it reads the space live is written and waited
// for (OpenLiveRead): a server killed between those records leaves them saying what was being read.
//
// Not thread-safe: one socket's strand owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "app/services.hpp"

namespace rounds::transport {

class LiveReads {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // One event of `space_id` with data, queued to the socket at `now` (`at` on the wall clock),
  // naming `patients` (joined refs; null or empty: no one).
  void Add(domain::SpaceId space_id, domain::Seq seq, const std::string* patients, TimePoint now, UnixMillis at);

  bool empty() const { return reads_.empty(); }
  // Whether the oldest event gathered was sent at least `interval` before `now`.
  bool Due(TimePoint now, std::chrono::seconds interval) const;
  // What was gathered, per space; gathering starts afresh.
  std::map<domain::SpaceId, app::LiveRead> Take();
  // Gathers again what Take() gave and could not be recorded, as if gathered at `now`.
  void Restore(const std::map<domain::SpaceId, app::LiveRead>& reads, TimePoint now);

  // Whether the socket's live reading of the space needs no opening now
  // (app::EventService::OpenLiveRead): it is on record as opened, which holds for the socket's
  // life whatever Take() takes, or the space was found not PHI-bearing less than an interval
  // before `now` and no space has been given another template since (`assignments`,
  // app::PolicyEngine::Assignments(), as it was when asked and as it is now).
  bool Opened(domain::SpaceId space_id, TimePoint now, std::uint64_t assignments) const {
    if (opened_.contains(space_id)) return true;
    auto checked = checked_.find(space_id);
    return checked != checked_.end() && now < checked->second.until && checked->second.assignments == assignments;
  }
  void MarkOpened(domain::SpaceId space_id) {
    opened_.try_emplace(space_id, 0);
    checked_.erase(space_id);
  }
  // The space needs no opening until `until`, or until a space is given another template: it was
  // not PHI-bearing when asked, `assignments` having been read before asking.
  void MarkNotAudited(domain::SpaceId space_id, TimePoint until, std::uint64_t assignments) {
    checked_[space_id] = {until, assignments};
  }
  // At the socket's close: an entry of no events (count 0, at the last seq sent, `at`) for each
  // space opened and with nothing gathered since the last Take(), so that the closing records
  // say the reading ended.
  void CloseOpened(UnixMillis at);

 private:
  std::map<domain::SpaceId, app::LiveRead> reads_;
  std::map<domain::SpaceId, domain::Seq> opened_;  // the last seq gathered of each
  struct Checked {
    TimePoint until;                 // asked again after this
    std::uint64_t assignments = 0;   // or once this has moved
  };
  std::map<domain::SpaceId, Checked> checked_;  // not PHI-bearing when asked
  std::optional<TimePoint> oldest_;
};

}  // namespace rounds::transport
