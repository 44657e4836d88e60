// The name a member goes by in a space whose template has `pseudonyms` (patient forums): an
// adjective, an animal and a number, such as "Quiet Heron 2731", and the id the space's members
// know them by. Computed, never stored: the same member has the same pseudonym in a space for as
// long as the space exists, a different one in every other space, and no two members of a space
// share one (for user ids below 2^24; past that the number grows to keep it so).
//
// Both come from a keyed permutation of the user id. The key is the server's secret (schema 22's
// server_secrets), and each space's permutation is keyed by an HMAC of the space's id under it:
// without the secret, a pseudonym or a pseudonymous id cannot be turned back into the account, and
// knowing whose pseudonym is whose in one space says nothing of another.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rounds::governance::policy {

struct PseudonymName {
  std::string display_name;  // "Quiet Heron 2731"
  std::string handle;        // "quiet-heron-2731": where clients show a username
  std::int64_t id = 0;       // Id(space, user): the same permutation, so computed with the name
};

class Pseudonyms {
 public:
  // `key`: at least 16 secret bytes.
  explicit Pseudonyms(std::string key);

  PseudonymName Name(std::int64_t space_id, std::int64_t user_id) const;

  // The id that stands for `user_id` wherever the space's members would see an account id: below
  // zero, so that it is never an account's, and one to one with the pseudonym.
  std::int64_t Id(std::int64_t space_id, std::int64_t user_id) const;

  // The user whose pseudonym in `space_id` has `handle` ("quiet-heron-2731", any case), so that an
  // @mention of a pseudonym reaches its member; std::nullopt when `handle` is no pseudonym's.
  // Whether that user exists or belongs to the space is the caller's to check.
  std::optional<std::int64_t> UserOfHandle(std::int64_t space_id, std::string_view handle) const;

  // The user behind Id(space_id, user); std::nullopt for an id that is not a pseudonymous one.
  std::optional<std::int64_t> UserOfId(std::int64_t space_id, std::int64_t pseudonymous_id) const;
  // The reference an audit record carries for the patient with `mrn` ("Patient/mrn-" and 16 hex
  // digits of an HMAC under the key): the same patient has the same reference on every record, and
  // without the key no list of record numbers, however short, leads back to one. The MRN is
  // taken as the patient index files it (phi::NormalizeMrn): "mr-0012" and "MR0012" are one
  // patient, with one reference.
  std::string PatientRef(std::string_view mrn) const;

 private:
  std::uint64_t SpaceKey(std::int64_t space_id) const;
  std::string key_;
};

}  // namespace rounds::governance::policy
