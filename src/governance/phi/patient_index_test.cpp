#include "governance/phi/patient_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <array>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "governance/phi/normalize.hpp"

namespace rounds::governance::phi {
namespace {

// The index of a CSV's patients, or null when the CSV does not parse.
std::shared_ptr<const PatientIndexSnapshot> SnapshotOf(std::string_view csv) {
  auto records = PatientIndex::ParseCsv(csv);
  if (!records) return nullptr;
  PatientIndex index;
  index.Replace(*records);
  return index.Snapshot();
}

// A name as typed, keyed as the scanner keys the text it reads.
std::uint64_t TypedKey(std::string_view typed) { return NameKey::Of(NormalizeForScan(typed).text()); }

TEST(PhiPatientIndex, ParsesCsvWithHeaderInAnyOrderAndQuotes) {
  auto records = PatientIndex::ParseCsv(
      "last,first,mrn\r\nGarcia,Maria,48213377\n\"De La Cruz\",\"Mary Ann\",00123456\n\n");
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].last, "De La Cruz");
  EXPECT_EQ((*records)[1].first, "Mary Ann");
  EXPECT_EQ((*records)[1].mrn, "00123456");
}

TEST(PhiPatientIndex, CsvErrorsNameTheLineButNotItsContent) {
  auto missing = PatientIndex::ParseCsv("mrn,first\n1,Maria\n");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);

  auto short_line = PatientIndex::ParseCsv("mrn,first,last\n1,Maria,Garcia\n2,Ahmed\n");
  ASSERT_FALSE(short_line);
  EXPECT_NE(short_line.error().public_message.find("Line 3"), std::string::npos);
  EXPECT_EQ(short_line.error().public_message.find("Ahmed"), std::string::npos);

  auto no_mrn = PatientIndex::ParseCsv("mrn,first,last\n  ,Maria,Garcia\n");
  ASSERT_FALSE(no_mrn);
}

TEST(PhiPatientIndex, NameKeysIgnoreCaseAndPunctuation) {
  EXPECT_EQ(NameKey::Of("O'Brien"), NameKey::Of("OBRIEN"));
  EXPECT_EQ(NameKey::Of("Smith-Jones"), NameKey::Of("smith jones"));
  EXPECT_EQ(NameKey::Extend(NameKey::Extend(NameKey::Of("de"), "la"), "Cruz"),
            NameKey::Of("De La Cruz"));
  EXPECT_NE(NameKey::Of("Garcia"), NameKey::Of("Garcias"));
  EXPECT_EQ(NormalizeMrn("mr-0012 345"), "MR0012345");
}

// The index keys its names as the scanner keys the text it reads, folded by NormalizeForScan: a
// Cyrillic or Greek name loaded from CSV meets the name typed in any case.
TEST(PhiPatientIndex, CyrillicAndGreekNamesFromCsvMeetTheirTextInAnyCase) {
  const auto snap = SnapshotOf(
      "mrn,first,last\n"
      "70000001,Дмитрий,Иванов\n"
      "70000002,Δημήτρης,Παπαδόπουλος\n"
      "70000003,СЕРГЕЙ,Орлов\n");
  ASSERT_TRUE(snap);
  for (const auto& [first, last] : std::vector<std::pair<std::string, std::string>>{
           {"Дмитрий", "Иванов"}, {"дмитрий", "иванов"}, {"ДМИТРИЙ", "ИВАНОВ"},
           {"Δημήτρης", "Παπαδόπουλος"}, {"δημήτρης", "παπαδόπουλος"}, {"ΔΗΜΗΤΡΗΣ", "ΠΑΠΑΔΟΠΟΥΛΟΣ"},
           // Look-alikes are Latin in either case: "Сергей" has four of them, "Орлов" three.
           {"Сергей", "Орлов"}, {"сергей", "орлов"}}) {
    EXPECT_TRUE(snap->IsNamePair(TypedKey(first), TypedKey(last))) << first << " " << last;
  }
  EXPECT_FALSE(snap->IsNamePair(TypedKey("Дмитрий"), TypedKey("Петров")));
  EXPECT_FALSE(snap->IsFirstName(TypedKey("Νίκος")));
}

// So does an Armenian or Georgian name: written in capitals or in small letters in the index, it
// meets the name typed in the other (Georgian Mtavruli and Mkhedruli, Asomtavruli and Nuskhuri).
TEST(PhiPatientIndex, ArmenianAndGeorgianNamesFromCsvMeetTheirTextInAnyCase) {
  const auto snap = SnapshotOf(
      "mrn,first,last\n"
      "70000011,ՀԱՅԿ,ՊԵՏՐՈՍՅԱՆ\n"
      "70000012,ნინო,ბერიძე\n"
      "70000013,ᲚᲔᲕᲐᲜ,ᲒᲔᲚᲝᲕᲐᲜᲘ\n"
      "70000014,\xE1\x82\xA0\xE1\x82\xA1,\xE1\x82\xA2\xE1\x82\xA3\n");  // Ⴀ Ⴁ, Ⴂ Ⴃ
  ASSERT_TRUE(snap);
  for (const auto& [first, last] : std::vector<std::pair<std::string, std::string>>{
           {"Հայկ", "Պետրոսյան"}, {"հայկ", "պետրոսյան"}, {"ՀԱՅԿ", "ՊԵՏՐՈՍՅԱՆ"},
           {"ნინო", "ბერიძე"}, {"ᲜᲘᲜᲝ", "ᲑᲔᲠᲘᲫᲔ"}, {"Ნინო", "Ბერიძე"},
           {"ლევან", "გელოვანი"}, {"ᲚᲔᲕᲐᲜ", "ᲒᲔᲚᲝᲕᲐᲜᲘ"},
           {"\xE2\xB4\x80\xE2\xB4\x81", "\xE2\xB4\x82\xE2\xB4\x83"}}) {  // ⴀⴁ ⴂⴃ
    EXPECT_TRUE(snap->IsNamePair(TypedKey(first), TypedKey(last))) << first << " " << last;
  }
  EXPECT_FALSE(snap->IsNamePair(TypedKey("Հայկ"), TypedKey("Սարգսյան")));
  EXPECT_FALSE(snap->IsFirstName(TypedKey("ԱՐԱՄ")));
}

TEST(PhiPatientIndex, OneSlipIsOneLetterOutInChangedOrSwappedNeverTheFirst) {
  EXPECT_TRUE(NearNames::OneSlip("garica", "garcia"));    // swapped
  EXPECT_TRUE(NearNames::OneSlip("washingon", "washington"));  // left out
  EXPECT_TRUE(NearNames::OneSlip("garciaa", "garcia"));   // added
  EXPECT_TRUE(NearNames::OneSlip("kowalczik", "kowalczyk"));  // changed
  EXPECT_TRUE(NearNames::OneSlip("garci", "garcia"));     // the last letter left out
  EXPECT_FALSE(NearNames::OneSlip("garcia", "garcia"));   // the name itself
  EXPECT_FALSE(NearNames::OneSlip("harcia", "garcia"));   // the first letter
  EXPECT_FALSE(NearNames::OneSlip("gracai", "garcia"));   // two swaps
  EXPECT_FALSE(NearNames::OneSlip("garza", "garcia"));
  EXPECT_FALSE(NearNames::OneSlip("garciaaa", "garcia"));
}

TEST(PhiPatientIndex, FindsNamesOneSlipAwayAndOnlyThose) {
  const NearNames near({"garcia", "garza", "washington", "lopez", "lopes", "kowalczyk", "lee",
                        "llama", "sara", "maryann"});
  std::array<std::uint64_t, 8> out{};
  auto found = [&](std::string_view word) {
    std::vector<std::uint64_t> keys(out.begin(), out.begin() + near.Find(word, out));
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  EXPECT_EQ(found("garica"), std::vector<std::uint64_t>{NameKey::Of("garcia")});
  EXPECT_EQ(found("washingon"), std::vector<std::uint64_t>{NameKey::Of("washington")});
  EXPECT_EQ(found("garciaa"), std::vector<std::uint64_t>{NameKey::Of("garcia")});
  EXPECT_EQ(found("kowalczik"), std::vector<std::uint64_t>{NameKey::Of("kowalczyk")});
  EXPECT_EQ(found("lama"), std::vector<std::uint64_t>{NameKey::Of("llama")});  // a doubled first letter
  std::vector<std::uint64_t> both = {NameKey::Of("lopez"), NameKey::Of("lopes")};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(found("lopex"), both);        // one slip from two names
  EXPECT_TRUE(found("garcia").empty());    // a name is not a slip of itself
  EXPECT_TRUE(found("harcia").empty());
  EXPECT_TRUE(found("gracai").empty());    // two slips
  EXPECT_TRUE(found("lea").empty());       // names under four letters are left out
  // A word of three letters is a four-letter name with one left out, and no more.
  EXPECT_EQ(found("sar"), std::vector<std::uint64_t>{NameKey::Of("sara")});
  EXPECT_EQ(found("saa"), std::vector<std::uint64_t>{NameKey::Of("sara")});
  EXPECT_EQ(found("sra"), std::vector<std::uint64_t>{NameKey::Of("sara")});  // its first a left out
  EXPECT_TRUE(found("sa").empty());
  EXPECT_TRUE(found("sab").empty());
  // A name of several words, folded, is found from its words joined.
  EXPECT_EQ(found("maaryann"), std::vector<std::uint64_t>{NameKey::Of("mary ann")});
  EXPECT_TRUE(NearNames().Find("garica", out) == 0);
}

TEST(PhiPatientIndex, UpdatesPublishNewSnapshotsAndKeepOldOnesIntact) {
  PatientIndex index;
  index.Replace(std::vector<PatientRecord>{{"48213377", "Maria", "Garcia"}});
  const auto before = index.Snapshot();
  EXPECT_TRUE(before->IsNamePair(NameKey::Of("maria"), NameKey::Of("GARCIA")));
  EXPECT_TRUE(before->HasMrn("48213377"));

  index.Upsert({"55501234", "Ahmed", "Haddad"});
  index.Remove("48213377");
  const auto after = index.Snapshot();
  EXPECT_TRUE(after->IsNamePair(NameKey::Of("Ahmed"), NameKey::Of("Haddad")));
  EXPECT_FALSE(after->HasMrn("48213377"));
  EXPECT_FALSE(after->IsNamePair(NameKey::Of("Maria"), NameKey::Of("Garcia")));
  // A scan holding the old snapshot still sees the old state.
  EXPECT_TRUE(before->HasMrn("48213377"));
  EXPECT_EQ(before->size(), 1u);
  EXPECT_EQ(after->size(), 1u);
}

// Patients "First<i> Last<i>" with MRN 10000000 + i.
std::vector<PatientRecord> NumberedPatients(int count) {
  std::vector<PatientRecord> records;
  for (int i = 0; i < count; ++i) {
    records.push_back({std::to_string(10000000 + i), "First" + std::to_string(i),
                       "Last" + std::to_string(i)});
  }
  return records;
}

TEST(PhiPatientIndex, FilterHasNoFalseNegatives) {
  PatientIndex index;
  index.Replace(NumberedPatients(5000));
  const auto snap = index.Snapshot();
  int filtered_out = 0;
  for (int i = 0; i < 5000; ++i) {
    EXPECT_TRUE(snap->MaybeName(NameKey::Of("first" + std::to_string(i))));
    EXPECT_TRUE(snap->MaybeName(NameKey::Of("last" + std::to_string(i))));
    if (!snap->MaybeName(NameKey::Of("word" + std::to_string(i)))) ++filtered_out;
  }
  EXPECT_GT(filtered_out, 4500);  // the filter rules out most words that are not names
}

// The pair filter in front of the pair set is sized by the number of patients: every patient's
// pair must pass it at every size, and a pair of two patients' names must still be refused.
TEST(PhiPatientIndex, EveryPatientsPairIsFoundAtEverySize) {
  for (const int count : {1, 2, 63, 64, 65, 1000, 20000}) {
    PatientIndex index;
    index.Replace(NumberedPatients(count));
    const auto snap = index.Snapshot();
    int missing = 0;
    int mixed_found = 0;
    for (int i = 0; i < count; ++i) {
      const std::uint64_t first = NameKey::Of("first" + std::to_string(i));
      if (!snap->IsNamePair(first, NameKey::Of("last" + std::to_string(i)))) ++missing;
      if (snap->IsNamePair(first, NameKey::Of("last" + std::to_string(i + 1)))) ++mixed_found;
    }
    EXPECT_EQ(missing, 0) << count << " patients";
    EXPECT_EQ(mixed_found, 0) << count << " patients";
  }
  EXPECT_FALSE(PatientIndexSnapshot().IsNamePair(NameKey::Of("maria"), NameKey::Of("garcia")));
}

TEST(PhiPatientIndex, VersionChangesWithEverySnapshotSoCachedSnapshotsAreRefreshed) {
  PatientIndex index;
  const std::uint64_t empty = index.Version();
  index.Upsert({"48213377", "Maria", "Garcia"});
  const std::uint64_t one = index.Version();
  EXPECT_NE(one, empty);
  EXPECT_TRUE(index.Snapshot()->IsNamePair(NameKey::Of("Maria"), NameKey::Of("Garcia")));
  index.Remove("48213377");
  EXPECT_NE(index.Version(), one);
  EXPECT_FALSE(index.Snapshot()->IsNamePair(NameKey::Of("Maria"), NameKey::Of("Garcia")));
}

TEST(PhiPatientIndex, KeySetKeepsEveryKeyWhenShrunk) {
  KeySet set(100000);  // sized for far more than it gets
  for (std::uint64_t k = 0; k < 3000; ++k) set.Insert(k * 7919);
  set.ShrinkToFit();
  EXPECT_EQ(set.size(), 3000u);
  for (std::uint64_t k = 0; k < 3000; ++k) EXPECT_TRUE(set.Contains(k * 7919)) << k;
  EXPECT_FALSE(set.Contains(7919 * 3000));
  set.Insert(12345);  // still grows after shrinking
  EXPECT_TRUE(set.Contains(12345));
}

}  // namespace
}  // namespace rounds::governance::phi
