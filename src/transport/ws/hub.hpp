// The WebSocket hub: who is connected, and delivery of bus events to their sockets.
//
// A Subscriber is one open socket. Deliver() must be cheap and non-blocking: it queues the shared
// frame (serialized once for every recipient) and returns. The hub snapshots the recipients'
// subscribers under its lock and delivers outside it, so a slow socket never holds the lock.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/bus.hpp"

namespace rounds::transport {

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual domain::UserId user_id() const = 0;
  virtual domain::SessionId session_id() const = 0;
  // Whether the socket's user is staff (not a patient, not a guest): events marked staff_only
  // reach staff only.
  virtual bool staff() const = 0;
  // Queues the event's frame (event.space_id and event.seq are 0 for unsequenced frames); keeps
  // what it needs of the event, never the event itself.
  virtual void Deliver(const bus::Event& event) = 0;
  // Puts what the socket was sent live on the audit trail if it has waited long enough
  // (transport/ws/live_reads.hpp). Never blocks.
  virtual void RecordReadsIfDue() {}
  // Asks the socket to close with `code` and `reason`.
  virtual void Close(std::uint16_t code, const std::string& reason) = 0;
};

class Hub {
 public:
  // `presence` is called when a user's first socket opens (true) or last one closes (false).
  explicit Hub(std::function<void(domain::UserId, bool)> presence);

  void Add(const std::shared_ptr<Subscriber>& subscriber);
  void Remove(const Subscriber* subscriber);
  // Delivers one bus event to its recipients (all connected users when recipients is null).
  void Dispatch(const bus::Event& event);
  void CloseSession(domain::SessionId session_id, std::uint16_t code, const std::string& reason);
  void CloseAll(std::uint16_t code, const std::string& reason);
  // Subscriber::RecordReadsIfDue on every socket.
  void RecordReadsIfDue();
  std::size_t connection_count() const;
  // Whether the user has at least one open socket.
  bool IsOnline(domain::UserId user) const;

 private:
  std::vector<std::shared_ptr<Subscriber>> Snapshot(const std::vector<domain::UserId>* users) const;

  std::function<void(domain::UserId, bool)> presence_;
  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::unordered_map<domain::UserId, std::vector<std::weak_ptr<Subscriber>>> by_user_;
  std::unordered_map<const Subscriber*, domain::UserId> users_of_;
};

}  // namespace rounds::transport
