#include "governance/policy/pseudonym.hpp"

#include <array>
#include <cctype>

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

// A bijection of the 24-bit values, different for every space: a four-round Feistel network on
// two 12-bit halves whose round function mixes the space id in (splitmix64's finalizer).
std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint32_t Permute24(std::uint32_t value, std::uint64_t key) {
  std::uint32_t left = (value >> 12) & 0xFFF;
  std::uint32_t right = value & 0xFFF;
  for (std::uint64_t round = 0; round < 4; ++round) {
    const std::uint32_t f = static_cast<std::uint32_t>(Mix(key * 4 + round + (static_cast<std::uint64_t>(right) << 40))) & 0xFFF;
    const std::uint32_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << 12) | right;
}

}  // namespace

PseudonymName Pseudonym(std::int64_t space_id, std::int64_t user_id) {
  const std::uint64_t key = Mix(0x726f756e64730000ULL ^ static_cast<std::uint64_t>(space_id));
  const std::uint64_t id = static_cast<std::uint64_t>(user_id);
  // The low 24 bits are permuted; the rest (ids of 2^24 and more) go on in the number.
  const std::uint32_t p = Permute24(static_cast<std::uint32_t>(id & 0xFFFFFF), key);
  const std::uint64_t number = (p & 0xFFF) + 4096 * (id >> 24);
  PseudonymName out;
  out.display_name = std::string(kAdjectives[p >> 18]) + " " + kAnimals[(p >> 12) & 63] + " " + std::to_string(number);
  for (char c : out.display_name) {
    out.handle.push_back(c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace rounds::governance::policy
