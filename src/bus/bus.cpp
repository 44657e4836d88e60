#include "bus/bus.hpp"

namespace rounds::bus {

void InProcessBus::Publish(const Event& event) {
  std::vector<std::shared_ptr<Handler>> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = handlers_;
  }
  for (const auto& handler : snapshot) (*handler)(event);
}

void InProcessBus::Subscribe(Handler handler) {
  std::lock_guard lock(mutex_);
  handlers_.push_back(std::make_shared<Handler>(std::move(handler)));
}

}  // namespace rounds::bus
