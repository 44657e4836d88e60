// PHI finding types shared by the scanner, the patient index, the corpus generator and the
// evaluation (pure values, thread-safe to copy).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rounds::governance::phi {

// The HIPAA Safe Harbor identifiers (45 CFR 164.514(b)(2)(i)) that can appear in text, split
// finely enough that each has its own validator and its own line in the evaluation.
enum class PhiType {
  kName,        // (A) patient names from the organization's index
  kAddress,     // (B) street address, city
  kZip,         // (B) ZIP code
  kDate,        // (C) dates tied to a person
  kAge,         // (C) ages over 89
  kPhone,       // (D, E) telephone and fax
  kEmail,       // (F)
  kSsn,         // (G)
  kMrn,         // (H) medical record number
  kHealthPlan,  // (I) Medicare MBI, member ids
  kAccount,     // (J) account numbers
  kCard,        // (J) payment card numbers
  kLicense,     // (K) DEA, state and driver's licence numbers
  kNpi,         // (K) National Provider Identifier
  kVehicle,     // (L) VIN, plates
  kDevice,      // (M) IMEI, MAC, serials, UDI
  kUrl,         // (N)
  kIp,          // (O)
};
inline constexpr std::size_t kPhiTypeCount = 18;

inline constexpr std::array<PhiType, kPhiTypeCount> kAllPhiTypes = {
    PhiType::kName,  PhiType::kAddress, PhiType::kZip,        PhiType::kDate,    PhiType::kAge,
    PhiType::kPhone, PhiType::kEmail,   PhiType::kSsn,        PhiType::kMrn,     PhiType::kHealthPlan,
    PhiType::kAccount, PhiType::kCard,  PhiType::kLicense,    PhiType::kNpi,     PhiType::kVehicle,
    PhiType::kDevice, PhiType::kUrl,    PhiType::kIp};

// Upper-case label used in redaction markers and reports: "NAME", "SSN", "HEALTH_PLAN".
std::string_view ToString(PhiType type);
std::optional<PhiType> ParsePhiType(std::string_view label);

// Structured identifiers are held to a higher recall target than names, places and dates.
bool IsStructured(PhiType type);

// One detected identifier. Offsets are bytes into the text that was scanned, [begin, end).
struct Finding {
  PhiType type = PhiType::kName;
  std::size_t begin = 0;
  std::size_t end = 0;
  double confidence = 0;  // 0..1
  std::string rule_id;    // e.g. "ssn.valid", "name.pair" (short enough to stay in place)
  // Found only with the end of the author's previous message before the text (continuation.hpp).
  bool across_messages = false;
  // ... of another author's: the text answers what they asked (FindingsInReply).
  bool in_reply = false;
  // Found only with the message after the text: an identifier the text begins and that one
  // finishes, or a value there the text gives its context (an edit; FindingsIntoNext,
  // FindingsLentToNext).
  bool before_next = false;

  friend bool operator==(const Finding&, const Finding&) = default;
};

}  // namespace rounds::governance::phi
