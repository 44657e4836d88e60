// Fuzz targets: each takes arbitrary bytes, must never crash, throw or read out of bounds, and
// checks the invariants its code promises; a broken invariant aborts with a message naming it.
//
// The same targets run two ways: under libFuzzer (scripts/fuzz.sh, clang, coverage-guided, for as
// long as one likes) and in the test suite (fuzz_test: every committed seed and input that once
// failed, plus a fixed number of deterministic mutations of them), so that anything a campaign
// found stays found.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace rounds::fuzz {

using Input = std::span<const std::uint8_t>;

struct Target {
  std::string_view name;  // also the folder of its corpus: fuzz/corpus/<name>/
  void (*run)(Input input);
};

// Every target, in a fixed order.
std::span<const Target> Targets();
const Target* FindTarget(std::string_view name);

}  // namespace rounds::fuzz
