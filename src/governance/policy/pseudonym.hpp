// The name a member goes by in a space whose template has `pseudonyms` (patient forums): an
// adjective, an animal and a number, such as "Quiet Heron 2731". Computed, never stored: the same
// member has the same pseudonym in a space for as long as the space exists, a different one in
// every other space, and no two members of a space share one (for user ids below 2^24; past that
// the number grows to keep it so).
#pragma once

#include <cstdint>
#include <string>

namespace rounds::governance::policy {

struct PseudonymName {
  std::string display_name;  // "Quiet Heron 2731"
  std::string handle;        // "quiet-heron-2731": where clients show a username
};

PseudonymName Pseudonym(std::int64_t space_id, std::int64_t user_id);

}  // namespace rounds::governance::policy
