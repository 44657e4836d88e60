#include "domain/rules.hpp"

#include <gtest/gtest.h>

namespace rounds::domain {
namespace {

using R = MemberRole;
using A = SpaceAction;

struct Row {
  std::optional<MemberRole> role;
  bool admin;
  bool is_public;
  A action;
  bool allowed;
};

TEST(SpacePermissions, MatchTheTable) {
  const std::vector<Row> rows = {
      // Reading: members always; anyone for public spaces; admins everywhere.
      {std::nullopt, false, false, A::kRead, false},
      {std::nullopt, false, true, A::kRead, true},
      {std::nullopt, true, false, A::kRead, true},
      {R::kReadOnly, false, false, A::kRead, true},
      // Writing needs membership of at least member.
      {std::nullopt, false, true, A::kPost, false},
      {std::nullopt, true, true, A::kPost, false},
      {R::kReadOnly, false, true, A::kPost, false},
      {R::kReadOnly, false, true, A::kReact, false},
      {R::kMember, false, true, A::kPost, true},
      {R::kMember, false, true, A::kReply, true},
      {R::kMember, false, true, A::kReact, true},
      // Announcements: owners only.
      {R::kMember, false, true, A::kAnnounce, false},
      {R::kModerator, false, true, A::kAnnounce, false},
      {R::kOwner, false, true, A::kAnnounce, true},
      // Moderation.
      {R::kMember, false, true, A::kPin, false},
      {R::kModerator, false, true, A::kPin, true},
      {R::kMember, false, true, A::kDeleteOthers, false},
      {R::kModerator, false, true, A::kDeleteOthers, true},
      {std::nullopt, true, true, A::kDeleteOthers, true},
      {R::kMember, false, true, A::kAcceptAnyAnswer, false},
      {R::kModerator, false, true, A::kAcceptAnyAnswer, true},
      {R::kMember, false, false, A::kAddMembers, false},
      {R::kModerator, false, false, A::kAddMembers, true},
      {R::kModerator, false, false, A::kRemoveMembers, true},
      {R::kModerator, false, false, A::kChangeRoles, false},
      {R::kOwner, false, false, A::kChangeRoles, true},
      {R::kModerator, false, false, A::kUpdateSpace, false},
      {R::kOwner, false, false, A::kUpdateSpace, true},
      {std::nullopt, true, false, A::kUpdateSpace, true},
  };
  for (const Row& row : rows) {
    Standing s{row.role, row.admin, row.is_public, false};
    EXPECT_EQ(Can(s, row.action), row.allowed)
        << "role=" << (row.role ? ToString(*row.role) : "none") << " admin=" << row.admin
        << " public=" << row.is_public << " action=" << ToString(row.action);
  }
}

TEST(SpacePermissions, ArchivedSpacesAreReadOnlyForEveryone) {
  for (auto role : {R::kMember, R::kModerator, R::kOwner}) {
    Standing s{role, false, true, true};
    EXPECT_TRUE(Can(s, A::kRead));
    EXPECT_FALSE(Can(s, A::kPost));
    EXPECT_FALSE(Can(s, A::kReact));
    EXPECT_FALSE(Can(s, A::kPin));
  }
  EXPECT_TRUE(Can({R::kOwner, false, true, true}, A::kUpdateSpace));  // so it can be unarchived
}

TEST(PasswordPolicy, AcceptsLongPassphrases) {
  EXPECT_FALSE(CheckPassword("correct horse battery staple", "asha"));
  EXPECT_FALSE(CheckPassword("ünïcödé-pässwörd", "asha"));
}

TEST(PasswordPolicy, RejectsWeakOnes) {
  struct Case { const char* password; const char* username; };
  for (const Case& c : std::vector<Case>{{"short", "x"},
                                         {"elevenchars", "x"},
                                         {"password1234", "x"},
                                         {"PASSWORD1234", "x"},
                                         {"aaaaaaaaaaaaaaa", "x"},
                                         {"nurse.asha-2024-ward", "nurse.asha"},
                                         {"bad\xff\xfe utf8 bytes", "x"}}) {
    auto violation = CheckPassword(c.password, c.username);
    ASSERT_TRUE(violation) << c.password;
  }
  EXPECT_EQ(CheckPassword("short", "x")->problem, "weak_password");
}

TEST(Usernames, Validation) {
  EXPECT_TRUE(IsValidUsername("asha.k"));
  EXPECT_TRUE(IsValidUsername("r2"));
  EXPECT_FALSE(IsValidUsername("a"));
  EXPECT_FALSE(IsValidUsername("Asha"));
  EXPECT_FALSE(IsValidUsername(".asha"));
  EXPECT_FALSE(IsValidUsername("asha k"));
  EXPECT_FALSE(IsValidUsername(std::string(65, 'a')));
}

TEST(Utf8, ValidatesAndCounts) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x91\x8d"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_EQ(CodePointCount("caf\xc3\xa9 \xf0\x9f\x91\x8d"), 6u);
}

TEST(Mentions, ExtractsWordBoundedUsernames) {
  EXPECT_EQ(ExtractMentions("@asha and @Ben.K, can you check? cc @asha."),
            (std::vector<std::string>{"asha", "ben.k"}));
  EXPECT_TRUE(ExtractMentions("mail pharmacy@example.org").empty());
  EXPECT_TRUE(ExtractMentions("@ alone, @@double").empty());
  EXPECT_EQ(ExtractMentions("(@ravi)"), (std::vector<std::string>{"ravi"}));
}

TEST(DirectKeys, AreOrderIndependent) {
  EXPECT_EQ(DirectKey({5, 2, 9, 2}), "2,5,9");
  EXPECT_EQ(DirectKey({9, 5, 2}), DirectKey({2, 9, 5}));
}

}  // namespace
}  // namespace rounds::domain
