#include "governance/policy/pseudonym.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

#include "core/crypto.hpp"
#include "governance/phi/patient_index.hpp"

namespace rounds::governance::policy {
namespace {

constexpr std::array<const char*, 64> kAdjectives = {
    "Amber",  "Brave",  "Bright", "Calm",   "Clever", "Cosy",   "Curious", "Daring",
    "Eager",  "Early",  "Fair",   "Gentle", "Glad",   "Golden", "Grand",   "Happy",
    "Hardy",  "Honest", "Humble", "Jolly",  "Keen",   "Kind",   "Lively",  "Loyal",
    "Lucky",  "Mellow", "Merry",  "Mild",   "Modest", "Neat",   "Noble",   "Patient",
    "Plucky", "Polite", "Proud",  "Quick",  "Quiet",  "Rapid",  "Ready",   "Silver",
    "Sincere","Smart",  "Snowy",  "Steady", "Sturdy", "Sunny",  "Swift",   "Tender",
    "Thrifty","Tidy",   "True",   "Upbeat", "Valiant","Vivid",  "Warm",    "Wise",
    "Witty",  "Young",  "Zesty",  "Breezy", "Cheery", "Dapper", "Earnest", "Frosty"};

constexpr std::array<const char*, 64> kAnimals = {
    "Badger",  "Bear",    "Beaver",  "Bison",   "Crane",   "Robin",   "Deer",    "Dolphin",
    "Dove",    "Eagle",   "Egret",   "Falcon",  "Finch",   "Fox",     "Gecko",   "Gull",
    "Hare",    "Hawk",    "Heron",   "Ibis",    "Jay",     "Kestrel", "Kiwi",    "Koala",
    "Lark",    "Lemur",   "Lynx",    "Magpie",  "Marten",  "Mole",    "Moose",   "Newt",
    "Otter",   "Owl",     "Panda",   "Pelican", "Puffin",  "Quail",   "Rabbit",  "Raven",
    "Seal",    "Sparrow", "Squirrel","Stork",   "Swan",    "Condor",   "Tern",    "Thrush",
    "Toucan",  "Turtle",  "Vole",    "Walrus",  "Wren",    "Yak",     "Zebra",   "Ferret",
    "Llama",   "Oriole",  "Plover",  "Salmon",  "Tapir",   "Wombat",  "Osprey",  "Bobcat"};

// A bijection of the 24-bit values, different for every space key: a four-round Feistel network
// on two 12-bit halves whose round function mixes the key in (splitmix64's finalizer).
std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint32_t Round(std::uint64_t key, std::uint64_t round, std::uint32_t half) {
  return static_cast<std::uint32_t>(Mix(key * 4 + round + (static_cast<std::uint64_t>(half) << 40))) & 0xFFF;
}

std::uint32_t Permute24(std::uint32_t value, std::uint64_t key) {
  std::uint32_t left = (value >> 12) & 0xFFF;
  std::uint32_t right = value & 0xFFF;
  for (std::uint64_t round = 0; round < 4; ++round) {
    const std::uint32_t next = left ^ Round(key, round, right);
    left = right;
    right = next;
  }
  return (left << 12) | right;
}

// Permute24's inverse: the rounds undone in reverse order.
std::uint32_t Unpermute24(std::uint32_t value, std::uint64_t key) {
  std::uint32_t left = (value >> 12) & 0xFFF;
  std::uint32_t right = value & 0xFFF;
  for (std::uint64_t round = 4; round-- > 0;) {
    const std::uint32_t previous = right ^ Round(key, round, left);
    right = left;
    left = previous;
  }
  return (left << 12) | right;
}

// The index of `word` (any case) in `table`, or -1.
template <std::size_t N>
int IndexOf(const std::array<const char*, N>& table, std::string_view word) {
  for (std::size_t i = 0; i < N; ++i) {
    std::string_view entry(table[i]);
    if (entry.size() != word.size()) continue;
    bool same = true;
    for (std::size_t c = 0; c < entry.size() && same; ++c) {
      same = std::tolower(static_cast<unsigned char>(entry[c])) == std::tolower(static_cast<unsigned char>(word[c]));
    }
    if (same) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Pseudonyms::Pseudonyms(std::string key) : key_(std::move(key)) {}

std::uint64_t Pseudonyms::SpaceKey(std::int64_t space_id) const {
  const std::string mac = crypto::HmacSha256Hex(key_, "pseudonym-space:" + std::to_string(space_id));
  std::uint64_t k = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    const char c = mac[i];
    k = (k << 4) | static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return k;
}

namespace {

// The permuted low 24 bits of `user_id` with the rest of the id above them.
std::uint64_t Permuted(std::uint64_t space_key, std::int64_t user_id) {
  const std::uint64_t id = static_cast<std::uint64_t>(user_id);
  return ((id >> 24) << 24) | Permute24(static_cast<std::uint32_t>(id & 0xFFFFFF), space_key);
}

}  // namespace

PseudonymName Pseudonyms::Name(std::int64_t space_id, std::int64_t user_id) const {
  const std::uint64_t permuted = Permuted(SpaceKey(space_id), user_id);
  const std::uint32_t p = static_cast<std::uint32_t>(permuted & 0xFFFFFF);
  // The low 24 bits are permuted; the rest (ids of 2^24 and more) go on in the number.
  const std::uint64_t number = (p & 0xFFF) + 4096 * (permuted >> 24);
  PseudonymName out;
  out.id = -1 - static_cast<std::int64_t>(permuted);
  out.display_name = std::string(kAdjectives[p >> 18]) + " " + kAnimals[(p >> 12) & 63] + " " + std::to_string(number);
  for (char c : out.display_name) {
    out.handle.push_back(c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::int64_t Pseudonyms::Id(std::int64_t space_id, std::int64_t user_id) const {
  return -1 - static_cast<std::int64_t>(Permuted(SpaceKey(space_id), user_id));  // as Name's id
}

std::optional<std::int64_t> Pseudonyms::UserOfId(std::int64_t space_id, std::int64_t pseudonymous_id) const {
  if (pseudonymous_id >= 0) return std::nullopt;
  const std::uint64_t permuted = static_cast<std::uint64_t>(-1 - pseudonymous_id);
  const std::uint64_t id =
      ((permuted >> 24) << 24) | Unpermute24(static_cast<std::uint32_t>(permuted & 0xFFFFFF), SpaceKey(space_id));
  if (id == 0 || id > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<std::int64_t>(id);
}

std::optional<std::int64_t> Pseudonyms::UserOfHandle(std::int64_t space_id, std::string_view handle) const {
  const auto first = handle.find('-');
  const auto second = first == std::string_view::npos ? first : handle.find('-', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const int adjective = IndexOf(kAdjectives, handle.substr(0, first));
  const int animal = IndexOf(kAnimals, handle.substr(first + 1, second - first - 1));
  const std::string_view digits = handle.substr(second + 1);
  if (adjective < 0 || animal < 0 || digits.empty() || digits.size() > 12 || (digits.size() > 1 && digits[0] == '0')) {
    return std::nullopt;
  }
  std::uint64_t number = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    number = number * 10 + static_cast<std::uint64_t>(c - '0');
  }
  const std::uint32_t p = (static_cast<std::uint32_t>(adjective) << 18) | (static_cast<std::uint32_t>(animal) << 12) |
                          static_cast<std::uint32_t>(number % 4096);
  const std::uint64_t id = ((number / 4096) << 24) | Unpermute24(p, SpaceKey(space_id));
  if (id == 0 || id > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<std::int64_t>(id);
}

std::string Pseudonyms::PatientRef(std::string_view mrn) const {
  return "Patient/mrn-" + crypto::HmacSha256Hex(key_, "patient-ref:" + phi::NormalizeMrn(mrn)).substr(0, 16);
}

}  // namespace rounds::governance::policy
