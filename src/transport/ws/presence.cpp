#include "transport/ws/presence.hpp"

#include <nlohmann/json.hpp>

namespace rounds::transport {

PresenceBatcher::PresenceBatcher(std::function<bool(domain::UserId)> is_online) : is_online_(std::move(is_online)) {}

bool PresenceBatcher::Changed(domain::UserId user) {
  std::lock_guard lock(mutex_);
  pending_.insert(user);
  if (scheduled_) return false;
  scheduled_ = true;
  return true;
}

std::optional<PresenceChanges> PresenceBatcher::Flush() {
  std::set<domain::UserId> pending;
  {
    std::lock_guard lock(mutex_);
    pending.swap(pending_);
    scheduled_ = false;
  }
  // The hub is asked outside the lock (it takes its own); a change noted meanwhile waits for the
  // next flush, which the note has scheduled.
  std::vector<std::pair<domain::UserId, bool>> now;
  now.reserve(pending.size());
  for (domain::UserId user : pending) now.emplace_back(user, is_online_(user));
  std::lock_guard lock(mutex_);
  PresenceChanges changes;
  for (const auto& [user, online] : now) {
    if (online && online_.insert(user).second) changes.online.push_back(user);
    if (!online && online_.erase(user) > 0) changes.offline.push_back(user);
  }
  if (changes.online.empty() && changes.offline.empty()) return std::nullopt;
  changes.version = ++version_;
  snapshot_.reset();
  return changes;
}

std::shared_ptr<const std::string> PresenceBatcher::Snapshot() {
  std::lock_guard lock(mutex_);
  if (!snapshot_) {
    std::vector<domain::UserId> users(online_.begin(), online_.end());
    snapshot_ = std::make_shared<const std::string>(
        nlohmann::json{{"type", "presence_snapshot"}, {"version", version_}, {"user_ids", users}}.dump());
  }
  return snapshot_;
}

}  // namespace rounds::transport
