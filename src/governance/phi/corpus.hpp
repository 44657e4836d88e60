// A synthetic labelled corpus for evaluating the PHI scanner (pure and deterministic: the same
// options give the same corpus on every machine).
//
// No real PHI: names are random pairings from public frequency lists and made-up surnames;
// phones are 555-01xx; e-mail and URLs use example.com/.org/.net and .test; IPs come from the
// documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32); SSNs are
// the 987-65-432x advertising block or random valid-format numbers; card numbers are test PANs
// or random Luhn-valid numbers; NPI, DEA, VIN, IMEI and MBI values are generated with valid
// check digits. Messages come from templates in five genres with typed slots, so every gold span
// is right by construction; chat perturbations (lower case, typos, split and spaced digits,
// full-width digits, zero-width characters, dropped punctuation) are applied per message.
// Templates are split in two: messages from tuning templates never share a template with
// held-out messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "governance/phi/patient_index.hpp"
#include "governance/phi/types.hpp"

namespace rounds::governance::phi {

struct GoldSpan {
  PhiType type = PhiType::kName;
  std::size_t begin = 0;  // bytes into the message text
  std::size_t end = 0;
};

enum class Genre { kStaffChat, kPatientMessage, kTriageNote, kForumPost, kEhrFragment };
enum class Perturbation {
  kNone,
  kLowerCase,
  kTypos,
  kSplitDigits,
  kSpacedDigits,
  kFullWidth,
  kZeroWidth,
  kNoPunctuation,
};
inline constexpr std::size_t kPerturbationCount = 8;
std::string_view ToString(Genre genre);
std::string_view ToString(Perturbation perturbation);

enum class MessageKind { kPhi, kClean, kHardNegative };

struct LabelledMessage {
  std::string text;
  std::vector<GoldSpan> gold;  // empty for clean and hard-negative messages
  Genre genre = Genre::kStaffChat;
  MessageKind kind = MessageKind::kPhi;
  Perturbation perturbation = Perturbation::kNone;
  int template_id = 0;
  bool held_out = false;
};

struct CorpusOptions {
  std::uint64_t seed = 20261124;
  std::size_t messages = 14000;       // split roughly evenly between the halves, and one in
                                      // twenty more from the later templates (corpus.cpp)
  std::size_t index_size = 100000;    // patients in the synthetic index
};

struct Corpus {
  std::vector<PatientRecord> patients;
  std::vector<LabelledMessage> messages;
};

Corpus GenerateCorpus(const CorpusOptions& options = {});

// A small deterministic generator (SplitMix64): std::uniform_int_distribution differs between
// standard libraries, this does not.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  std::size_t Below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(Next() % n); }
  int Between(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<std::size_t>(hi - lo + 1))); }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }
  template <class T>
  const T& Pick(const std::vector<T>& items) { return items[Below(items.size())]; }

 private:
  std::uint64_t state_;
};

}  // namespace rounds::governance::phi
