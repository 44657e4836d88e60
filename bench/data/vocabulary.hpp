// Words for synthetic messages: common English words, in roughly the order of how often people
// use them, and a clinical vocabulary (conditions, drugs, procedures, ward life). The seeder draws
// from them with a Zipf-like distribution, so a few words are in most messages, many are in some
// and a long tail is rare: the spread search has to cope with in a real hospital's history.
// Lower-case ASCII letters only: no digits, names or anything a PHI scanner could take for an
// identifier.
#pragma once

#include <span>
#include <string_view>

namespace rounds::bench {

// Function words and everyday words, most frequent first.
std::span<const std::string_view> CommonWords();
// Clinical and hospital terms, in no particular order.
std::span<const std::string_view> ClinicalWords();

}  // namespace rounds::bench
