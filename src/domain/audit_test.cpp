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

// What a page, a thread or an export names: each item's list added as stored, every patient once.
TEST(PatientRefs, ASetGathersTheListsOfManyItemsEachPatientOnce) {
  PatientSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.Joined(), "");
  set.Add("");
  EXPECT_TRUE(set.empty()) << "an item that names no one adds no one";
  set.Add("Patient/mrn-c Patient/mrn-a");
  set.Add("Patient/mrn-b");
  set.Add("Patient/mrn-a  Patient/mrn-d ");  // stray spaces are no references
  EXPECT_FALSE(set.empty());
  EXPECT_EQ(set.Joined(), "Patient/mrn-a Patient/mrn-b Patient/mrn-c Patient/mrn-d");
  EXPECT_EQ(set.Joined(), JoinPatientRefs(SplitPatientRefs(set.Joined()))) << "as JoinPatientRefs writes them";
}

}  // namespace
}  // namespace rounds::domain
