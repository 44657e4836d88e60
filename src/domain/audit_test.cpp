#include "domain/audit.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rounds::domain {
namespace {

TEST(PatientRefs, JoinSortsDropsRepeatsAndEmptiesAndSplitReadsItBack) {
  EXPECT_EQ(JoinPatientRefs({}), "");
  EXPECT_EQ(JoinPatientRefs({"Patient/mrn-b", "", "Patient/mrn-a", "Patient/mrn-b"}), "Patient/mrn-a Patient/mrn-b");
  EXPECT_EQ(SplitPatientRefs("Patient/mrn-a Patient/mrn-b"), (std::vector<std::string>{"Patient/mrn-a", "Patient/mrn-b"}));
  EXPECT_EQ(SplitPatientRefs(""), std::vector<std::string>{});
  EXPECT_EQ(SplitPatientRefs("Patient/mrn-a"), std::vector<std::string>{"Patient/mrn-a"});
  // Stray spaces (a hand-edited row) split into no empty reference.
  EXPECT_EQ(SplitPatientRefs(" Patient/mrn-a  Patient/mrn-b "),
            (std::vector<std::string>{"Patient/mrn-a", "Patient/mrn-b"}));
}

TEST(PatientRefs, MergeIsTheSortedUnion) {
  EXPECT_EQ(MergePatientRefs("", ""), "");
  EXPECT_EQ(MergePatientRefs("Patient/mrn-b", ""), "Patient/mrn-b");
  EXPECT_EQ(MergePatientRefs("", "Patient/mrn-b"), "Patient/mrn-b");
  EXPECT_EQ(MergePatientRefs("Patient/mrn-c Patient/mrn-a", "Patient/mrn-b Patient/mrn-a"),
            "Patient/mrn-a Patient/mrn-b Patient/mrn-c");
}

}  // namespace
}  // namespace rounds::domain
