#include "governance/policy/pseudonym.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/crypto.hpp"

namespace rounds::governance::policy {
namespace {

const Pseudonyms kNames(std::string(32, '\x5a'));

PseudonymName Pseudonym(std::int64_t space, std::int64_t user) { return kNames.Name(space, user); }
std::optional<std::int64_t> PseudonymUser(std::int64_t space, std::string_view handle) {
  return kNames.UserOfHandle(space, handle);
}

TEST(Pseudonym, IsStableAndReadable) {
  const PseudonymName a = Pseudonym(7, 42);
  EXPECT_EQ(a.display_name, Pseudonym(7, 42).display_name);
  EXPECT_EQ(a.handle, Pseudonym(7, 42).handle);
  // "Adjective Animal N": three words, the last a number.
  const auto first = a.display_name.find(' ');
  const auto last = a.display_name.rfind(' ');
  ASSERT_NE(first, last) << a.display_name;
  EXPECT_NE(a.display_name.substr(last + 1).find_first_of("0123456789"), std::string::npos);
  for (char c : a.handle) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') << a.handle;
}

TEST(Pseudonym, NoTwoMembersOfASpaceShareOne) {
  for (std::int64_t space : {1, 2, 977}) {
    std::set<std::string> seen;
    for (std::int64_t user = 1; user <= 200000; ++user) {
      ASSERT_TRUE(seen.insert(Pseudonym(space, user).display_name).second) << "space " << space << " user " << user;
    }
  }
  // Past 2^24 the number carries the rest of the id.
  EXPECT_NE(Pseudonym(3, 5).display_name, Pseudonym(3, 5 + (std::int64_t{1} << 24)).display_name);
}

TEST(Pseudonym, DiffersFromSpaceToSpace) {
  int same = 0;
  for (std::int64_t user = 1; user <= 1000; ++user) same += Pseudonym(1, user).display_name == Pseudonym(2, user).display_name;
  EXPECT_LE(same, 2) << "a member is not followed from forum to forum by one name";
}

TEST(Pseudonym, AHandleLeadsBackToItsMemberInItsSpaceOnly) {
  for (std::int64_t user : {std::int64_t{1}, std::int64_t{42}, std::int64_t{4095}, std::int64_t{4096},
                            std::int64_t{1} << 23, (std::int64_t{1} << 24) + 7, std::int64_t{123456789}}) {
    const PseudonymName name = Pseudonym(9, user);
    EXPECT_EQ(PseudonymUser(9, name.handle), user) << name.handle;
    std::string upper = name.handle;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(PseudonymUser(9, upper), user) << "any case";
    EXPECT_NE(PseudonymUser(10, name.handle), user) << "another space's member";
  }
  for (const char* not_one : {"ana", "quiet-heron", "quiet-heron-", "quiet-heron-x1", "loud-heron-12", "quiet-dragon-12",
                              "quiet-heron-012", "quiet-heron-12-3"}) {
    EXPECT_FALSE(PseudonymUser(9, not_one).has_value()) << not_one;
  }
}

TEST(Pseudonym, TheIdMembersSeeIsNoAccountsAndLeadsBackOnlyInItsSpace) {
  std::set<std::int64_t> seen;
  for (std::int64_t user = 1; user <= 50000; ++user) {
    const std::int64_t id = kNames.Id(4, user);
    ASSERT_LT(id, 0) << "never an account's id";
    ASSERT_TRUE(seen.insert(id).second) << "user " << user;
    ASSERT_EQ(kNames.UserOfId(4, id), user);
    ASSERT_EQ(kNames.Name(4, user).id, id) << "the name carries the same id";
  }
  const std::int64_t big = (std::int64_t{1} << 40) + 3;
  EXPECT_EQ(kNames.UserOfId(4, kNames.Id(4, big)), big);
  EXPECT_NE(kNames.Id(4, 42), kNames.Id(5, 42));
  EXPECT_NE(kNames.UserOfId(5, kNames.Id(4, 42)), 42);
  EXPECT_FALSE(kNames.UserOfId(4, 0).has_value());
  EXPECT_FALSE(kNames.UserOfId(4, 42).has_value()) << "an account id is no pseudonymous id";
}

TEST(Pseudonym, WithoutTheServersKeyANameLeadsNowhere) {
  // The same code with another key: names, ids and handles are another server's.
  const Pseudonyms other(std::string(32, '\x17'));
  int same_name = 0;
  int led_back = 0;
  for (std::int64_t user = 1; user <= 1000; ++user) {
    same_name += other.Name(3, user).display_name == kNames.Name(3, user).display_name;
    led_back += other.UserOfHandle(3, kNames.Name(3, user).handle) == user;
    led_back += other.UserOfId(3, kNames.Id(3, user)) == user;
  }
  EXPECT_LE(same_name, 2);
  EXPECT_LE(led_back, 2);
}

// An audit record's patient reference: the same for one MRN, different for another, and not the
// unkeyed hash it once was (anyone could hash every 8-digit MRN and read the patient back).
TEST(Pseudonym, APatientReferenceIsKeyedAndStable) {
  const std::string ref = kNames.PatientRef("48213377");
  EXPECT_EQ(ref, kNames.PatientRef("48213377"));
  EXPECT_NE(ref, kNames.PatientRef("48213378"));
  EXPECT_EQ(kNames.PatientRef("mr-0012 345"), kNames.PatientRef("MR0012345"));
  EXPECT_NE(kNames.PatientRef("MR0012345"), kNames.PatientRef("0012345"));
  EXPECT_EQ(ref.rfind("Patient/mrn-", 0), 0u);
  EXPECT_EQ(ref.size(), std::string("Patient/mrn-").size() + 16);
  EXPECT_NE(ref, "Patient/mrn-" + crypto::Sha256Hex("48213377").substr(0, 16));
  EXPECT_NE(ref, Pseudonyms(std::string(32, '\x17')).PatientRef("48213377"));
}

}  // namespace
}  // namespace rounds::governance::policy
