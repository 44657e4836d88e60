// Names the calling thread as the kernel shows it (`top -H`, `ps -L`, `/proc/PID/task/*/comm`,
// profilers), so an operator can tell the store's writer from the pool at a glance.
#pragma once

#include <string_view>

namespace rounds {

// Linux keeps 15 bytes of a thread's name; a longer one is cut there. Failure is ignored: a name
// is a convenience, never a reason to stop.
void NameThisThread(std::string_view name);

}  // namespace rounds
