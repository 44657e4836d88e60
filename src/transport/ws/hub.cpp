#include "transport/ws/hub.hpp"

#include <algorithm>

namespace rounds::transport {

Hub::Hub(std::function<void(domain::UserId, bool)> presence) : presence_(std::move(presence)) {}

void Hub::Add(const std::shared_ptr<Subscriber>& subscriber) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    auto& list = by_user_[subscriber->user_id()];
    first = list.empty();
    list.push_back(subscriber);
    users_of_[subscriber.get()] = subscriber->user_id();
  }
  if (first && presence_) presence_(subscriber->user_id(), true);
}

void Hub::Remove(const Subscriber* subscriber) {
  bool last = false;
  domain::UserId user = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = users_of_.find(subscriber);
    if (it == users_of_.end()) return;
    user = it->second;
    users_of_.erase(it);
    auto& list = by_user_[user];
    std::erase_if(list, [subscriber](const std::weak_ptr<Subscriber>& w) {
      auto s = w.lock();
      return !s || s.get() == subscriber;
    });
    if (list.empty()) {
      by_user_.erase(user);
      last = true;
    }
  }
  if (last && presence_) presence_(user, false);
}

std::vector<std::shared_ptr<Subscriber>> Hub::Snapshot(const std::vector<domain::UserId>* users) const {
  std::vector<std::shared_ptr<Subscriber>> out;
  std::lock_guard lock(mutex_);
  auto add_user = [&](const std::vector<std::weak_ptr<Subscriber>>& list) {
    for (const auto& w : list) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
  };
  if (users == nullptr) {
    for (const auto& [user, list] : by_user_) add_user(list);
  } else {
    for (domain::UserId user : *users) {
      auto it = by_user_.find(user);
      if (it != by_user_.end()) add_user(it->second);
    }
  }
  return out;
}

void Hub::Dispatch(const bus::Event& event) {
  auto targets = Snapshot(event.recipients.get());
  for (const auto& s : targets) {
    if (event.staff_only && !s->staff()) continue;
    s->Deliver(event);
  }
}

void Hub::CloseSession(domain::SessionId session_id, std::uint16_t code, const std::string& reason) {
  for (const auto& s : Snapshot(nullptr)) {
    if (s->session_id() == session_id) s->Close(code, reason);
  }
}

void Hub::CloseAll(std::uint16_t code, const std::string& reason) {
  for (const auto& s : Snapshot(nullptr)) s->Close(code, reason);
}

void Hub::RecordReadsIfDue() {
  for (const auto& s : Snapshot(nullptr)) s->RecordReadsIfDue();
}

bool Hub::IsOnline(domain::UserId user) const {
  std::lock_guard lock(mutex_);
  return by_user_.contains(user);
}

std::size_t Hub::connection_count() const {
  std::lock_guard lock(mutex_);
  return users_of_.size();
}

}  // namespace rounds::transport
