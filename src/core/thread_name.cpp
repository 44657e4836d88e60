#include "core/thread_name.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>

namespace rounds {

void NameThisThread(std::string_view name) {
  std::array<char, 16> buffer{};
  const std::size_t length = std::min(name.size(), buffer.size() - 1);
  std::copy_n(name.begin(), length, buffer.begin());
  (void)pthread_setname_np(pthread_self(), buffer.data());
}

}  // namespace rounds
