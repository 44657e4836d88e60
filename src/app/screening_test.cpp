// Screening bookkeeping: a long text's findings are cut down for the store's writer without
// losing any type or the count.
#include "app/screening.hpp"

#include <gtest/gtest.h>

namespace rounds::app {
namespace {

phi::Finding At(phi::PhiType type, std::size_t begin) { return {type, begin, begin + 3, 0.9, "rule"}; }

TEST(Screening, KeepFindingsKeepsTheFirstAndOneOfEveryOtherTypeAndCountsTheRest) {
  ScreenedField field{"content", {}, {}, 0};
  for (std::size_t i = 0; i < 250; ++i) field.findings.push_back(At(phi::PhiType::kPhone, i * 10));
  field.findings.push_back(At(phi::PhiType::kSsn, 5000));
  field.findings.push_back(At(phi::PhiType::kPhone, 5010));
  field.findings.push_back(At(phi::PhiType::kSsn, 5020));
  field.findings.push_back(At(phi::PhiType::kEmail, 5030));
  KeepFindings(field, 100);
  ASSERT_EQ(field.findings.size(), 102u);  // 100 phones, the first SSN, the e-mail address
  EXPECT_EQ(field.findings[99].begin, 990u);
  EXPECT_EQ(field.findings[100].type, phi::PhiType::kSsn);
  EXPECT_EQ(field.findings[100].begin, 5000u);
  EXPECT_EQ(field.findings[101].type, phi::PhiType::kEmail);
  EXPECT_EQ(field.omitted, 152u);

  Screening s;
  s.fields.push_back(field);
  EXPECT_EQ(s.FindingCount(), 254u);
  EXPECT_EQ(s.TypesCsv(), "email,phone,ssn");
  EXPECT_EQ(s.FindingsJson(100).size(), 100u);

  // Short lists are left as they are.
  ScreenedField few{"name", {}, {At(phi::PhiType::kPhone, 0)}, 0};
  KeepFindings(few, 100);
  EXPECT_EQ(few.findings.size(), 1u);
  EXPECT_EQ(few.omitted, 0u);
}

}  // namespace
}  // namespace rounds::app
