// The name a member goes by in a space whose template has `pseudonyms` (patient forums): an
// adjective, an animal and a number, such as "Quiet Heron 2731". Computed, never stored: the same
// member has the same pseudonym in a space for as long as the space exists, a different one in
// every other space, and no two members of a space share one (for user ids below 2^24; past that
// the number grows to keep it so).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rounds::governance::policy {

struct PseudonymName {
  std::string display_name;  // "Quiet Heron 2731"
  std::string handle;        // "quiet-heron-2731": where clients show a username
};

PseudonymName Pseudonym(std::int64_t space_id, std::int64_t user_id);

// The user whose pseudonym in `space_id` has `handle` ("quiet-heron-2731", any case), so that an
// @mention of a pseudonym reaches its member; std::nullopt when `handle` is no pseudonym's.
// Whether that user exists or belongs to the space is the caller's to check.
std::optional<std::int64_t> PseudonymUser(std::int64_t space_id, std::string_view handle);

}  // namespace rounds::governance::policy
