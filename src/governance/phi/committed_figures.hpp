// Held-out figures of the PHI scanner on the synthetic corpus (default CorpusOptions), as
// committed: the regression test fails when a new build does worse. Regenerate with
// `rounds-bench-phi --committed` after an improvement, never to paper over a drop.
#pragma once

#include <array>

#include "governance/phi/types.hpp"

namespace rounds::governance::phi::committed {

struct TypeFloor {
  PhiType type;
  double recall;
  double precision;
};

inline constexpr std::array<TypeFloor, kPhiTypeCount> kTypes = {{
    {PhiType::kName, 0.982, 1.000},
    {PhiType::kAddress, 0.992, 1.000},
    {PhiType::kZip, 1.000, 1.000},
    {PhiType::kDate, 0.998, 1.000},
    {PhiType::kAge, 0.989, 1.000},
    {PhiType::kPhone, 1.000, 1.000},
    {PhiType::kEmail, 1.000, 1.000},
    {PhiType::kSsn, 1.000, 1.000},
    {PhiType::kMrn, 1.000, 1.000},
    {PhiType::kHealthPlan, 0.996, 1.000},
    {PhiType::kAccount, 1.000, 1.000},
    {PhiType::kCard, 1.000, 1.000},
    {PhiType::kLicense, 1.000, 1.000},
    {PhiType::kNpi, 1.000, 1.000},
    {PhiType::kVehicle, 1.000, 1.000},
    {PhiType::kDevice, 1.000, 1.000},
    {PhiType::kUrl, 1.000, 1.000},
    {PhiType::kIp, 1.000, 1.000},
}};

inline constexpr double kAnyPhiRecall = 0.992;
inline constexpr double kLeakRate = 0.016;
inline constexpr double kFalsePositivesPer1000 = 0.00;

// PHI split between two posts (EvaluateSplit), each second post read after the first.
inline constexpr double kSplitAnyPhiRecall = 0.969;
inline constexpr double kSplitLeakRate = 0.062;
inline constexpr double kSplitFalsePositivesPer1000 = 5.89;

// PHI split between two authors (EvaluateSplit, SplitReading::kReply), each reply read after the
// post it answers.
inline constexpr double kReplyAnyPhiRecall = 0.992;
inline constexpr double kReplyLeakRate = 0.016;
inline constexpr double kReplyFalsePositivesPer1000 = 2.08;

}  // namespace rounds::governance::phi::committed
