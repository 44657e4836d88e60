// The event bus carries committed events from app services to whoever delivers them (the
// WebSocket hub on this node; other nodes through NATS/Redis later). Publish is called only after
// the durable commit. Thread-safe; handlers run on the publisher's thread and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "domain/types.hpp"

namespace rounds::bus {

struct Event {
  domain::SpaceId space_id = 0;       // 0 for events addressed to users, not a space
  domain::Seq seq = 0;                // 0 for ephemeral events (typing, presence, read markers)
  std::string type;
  // The complete WebSocket frame, serialized once and shared by every recipient.
  std::shared_ptr<const std::string> frame;
  // Who receives it: the space's members at commit time, or the addressed users.
  std::shared_ptr<const std::vector<domain::UserId>> recipients;
  // Only the staff among them (not patients, not guests): who is online is the staff's to see.
  bool staff_only = false;
  // A restricted event's stand-in, sent to the members who may not see it: its seq, nothing of it.
  bool placeholder = false;
  // The patients the message this event carries names (domain::JoinPatientRefs); null for none.
  // Never sent: the reader's socket records them on the audit trail with what it delivered.
  std::shared_ptr<const std::string> patient_refs;
};

class Bus {
 public:
  using Handler = std::function<void(const Event&)>;
  virtual ~Bus() = default;
  virtual void Publish(const Event& event) = 0;
  // Handlers are called in subscription order for every event published after subscribing.
  virtual void Subscribe(Handler handler) = 0;
};

class InProcessBus final : public Bus {
 public:
  void Publish(const Event& event) override;
  void Subscribe(Handler handler) override;

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<Handler>> handlers_;  // guarded by mutex_
};

}  // namespace rounds::bus
