// libFuzzer's entry point for one target, chosen when built (scripts/fuzz.sh builds one binary
// per target with ROUNDS_FUZZ_TARGET set to its name).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const rounds::fuzz::Target* target = [] {
    const auto* found = rounds::fuzz::FindTarget(ROUNDS_FUZZ_TARGET);
    if (found == nullptr) {
      std::fprintf(stderr, "no fuzz target named %s\n", ROUNDS_FUZZ_TARGET);
      std::abort();
    }
    return found;
  }();
  target->run({data, size});
  return 0;
}
