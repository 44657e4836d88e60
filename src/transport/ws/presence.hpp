// Presence in batches: who came online or went offline, announced once per interval.
//
// Announcing every connect and disconnect to every connected socket costs O(N²) frames for a burst
// of N connects (a reconnect storm, the morning shift signing in), enough to overflow sockets'
// queues past a few thousand. The hub reports that a user's presence may have changed; the server
// flushes the batcher on a timer and publishes one frame with every change since the last flush.
// Each flush has a version; the snapshot a resuming socket receives carries the version it is
// current to, so a client ignores any change frame that is not newer than its snapshot.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/types.hpp"

namespace rounds::transport {

struct PresenceChanges {
  std::uint64_t version = 0;
  std::vector<domain::UserId> online;   // came online since the last flush, ascending
  std::vector<domain::UserId> offline;  // went offline since the last flush, ascending
};

class PresenceBatcher {
 public:
  // `is_online` answers from the hub at flush time: the hub, not the order in which its
  // notifications arrived, is the truth.
  explicit PresenceBatcher(std::function<bool(domain::UserId)> is_online);

  // Notes that the user's presence may have changed. True when it is the first note since the last
  // flush: the caller then schedules one.
  bool Changed(domain::UserId user);
  // The changes since the last flush (nullopt when nobody's presence actually changed). Called by
  // one flusher at a time.
  std::optional<PresenceChanges> Flush();
  // {"type":"presence_snapshot","version":V,"user_ids":[...]}: who was online as of flush V.
  // Built once per version and shared.
  std::shared_ptr<const std::string> Snapshot();

 private:
  std::function<bool(domain::UserId)> is_online_;
  std::mutex mutex_;
  // Guarded by mutex_.
  std::set<domain::UserId> pending_;
  std::set<domain::UserId> online_;  // as of the last flush
  std::uint64_t version_ = 0;
  bool scheduled_ = false;
  std::shared_ptr<const std::string> snapshot_;  // for version_, built on demand
};

}  // namespace rounds::transport
