#include "domain/rules.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

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

// The whole permission table, written out. Columns, left to right: not a member, read-only,
// member, moderator, owner, organization administrator who is not a member. 'Y' allows.
struct MatrixRow {
  A action;
  const char* public_space;
  const char* private_space;
  const char* archived_space;  // public and archived
};

constexpr MatrixRow kMatrix[] = {
    //                          public    private   archived
    {A::kRead,                 "YYYYYY", "NYYYYY", "YYYYYY"},
    {A::kPost,                 "NNYYYN", "NNYYYN", "NNNNNN"},
    {A::kReply,                "NNYYYN", "NNYYYN", "NNNNNN"},
    {A::kReact,                "NNYYYN", "NNYYYN", "NNNNNN"},
    {A::kAnnounce,             "NNNNYN", "NNNNYN", "NNNNNN"},
    {A::kPin,                  "NNNYYN", "NNNYYN", "NNNNNN"},
    {A::kAcceptAnyAnswer,      "NNNYYN", "NNNYYN", "NNNNNN"},
    {A::kReadOthersHistory,    "NNNYYY", "NNNYYY", "NNNYYY"},
    {A::kAddMembers,           "NNNYYY", "NNNYYY", "NNNNNY"},
    {A::kRemoveMembers,        "NNNYYY", "NNNYYY", "NNNYYY"},
    {A::kChangeRoles,          "NNNNYY", "NNNNYY", "NNNNYY"},
    {A::kUpdateSpace,          "NNNNYY", "NNNNYY", "NNNNYY"},
    {A::kExport,               "NNNYYN", "NNNYYN", "NNNYYN"},
    {A::kModerate,             "NNNYYN", "NNNYYN", "NNNYYN"},
};

struct Caller {
  const char* name;
  std::optional<MemberRole> role;
  bool admin;
};
constexpr Caller kCallers[] = {{"non-member", std::nullopt, false}, {"read-only", R::kReadOnly, false},
                               {"member", R::kMember, false},       {"moderator", R::kModerator, false},
                               {"owner", R::kOwner, false},         {"admin", std::nullopt, true}};

TEST(SpacePermissions, MatchTheFullTableForEveryRoleActionAndSpaceState) {
  int checked = 0;
  for (const MatrixRow& row : kMatrix) {
    struct State { const char* name; bool is_public; bool archived; const char* expected; };
    for (const State& state : {State{"public", true, false, row.public_space},
                               State{"private", false, false, row.private_space},
                               State{"archived", true, true, row.archived_space}}) {
      ASSERT_EQ(std::string(state.expected).size(), std::size(kCallers));
      for (std::size_t c = 0; c < std::size(kCallers); ++c) {
        Standing s{kCallers[c].role, kCallers[c].admin, state.is_public, state.archived};
        EXPECT_EQ(Can(s, row.action), state.expected[c] == 'Y')
            << ToString(row.action) << " by " << kCallers[c].name << " in a " << state.name << " space";
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 14 * 3 * 6);
}

TEST(SpacePermissions, EveryActionIsInTheTable) {
  std::set<A> listed;
  for (const MatrixRow& row : kMatrix) listed.insert(row.action);
  for (int a = static_cast<int>(A::kRead); a <= static_cast<int>(A::kModerate); ++a) {
    EXPECT_TRUE(listed.contains(static_cast<A>(a))) << ToString(static_cast<A>(a));
    EXPECT_NE(ToString(static_cast<A>(a)), "unknown");
  }
}

TEST(SpacePermissions, AnAdministratorWhoIsAlsoAMemberHasTheUnionOfBoth) {
  Standing member_admin{R::kMember, true, false, false};
  EXPECT_TRUE(Can(member_admin, A::kPost));          // from the membership
  EXPECT_TRUE(Can(member_admin, A::kUpdateSpace));   // from being an administrator
  EXPECT_FALSE(Can(member_admin, A::kAnnounce));     // neither grants it
  EXPECT_FALSE(Can(member_admin, A::kPin));
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

TEST(DisplayText, IsOneVisibleLineWithoutControlsOrDirectionOverrides) {
  for (const char* ok : {"Amara Okafor", "Zo\u00EB \u00D8stergaard", "\u674E\u534E", "Dr. O'Brien (nights)"}) {
    EXPECT_TRUE(IsDisplayText(ok)) << ok;
  }
  for (const std::string& bad : {std::string(""), std::string("   "), std::string("\u00A0\u3000"), std::string("a\nb"),
                                std::string("a\tb"), std::string("bell\x07"), std::string("nul\0x", 5), std::string("x\x7F"),
                                std::string("\u202Egnp.exe"), std::string("a\u2066b"), std::string("\xC2\x85"), std::string("\xff")}) {
    EXPECT_FALSE(IsDisplayText(bad)) << bad;
  }
}

TEST(Emoji, AreReactionsAndNothingElse) {
  for (const char* ok : {"\U0001F44D", "\u2705", "\u2764\uFE0F", "\U0001F44D\U0001F3FD", "\U0001F1FA\U0001F1F8",
                         "\U0001F469\u200D\u2695\uFE0F", "1\uFE0F\u20E3", "#\uFE0F\u20E3", "\U0001F389\U0001F389"}) {
    EXPECT_TRUE(IsEmoji(ok)) << ok;
  }
  for (const char* bad : {"", "a", "55509876", "Zo\u00EB", "+1", "\U0001F44D ", "ok\U0001F44D", "1", "\uFE0F",
                          "\u200D", "\u20E3", "<script>", "\xff", "\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600"
                          "\U0001F600\U0001F600\U0001F600\U0001F600"}) {
    EXPECT_FALSE(IsEmoji(bad)) << bad;
  }
}

// A keycap makes exactly one digit, '#' or '*' an emoji, and tag characters belong only to a
// subdivision flag (black flag, a short tag spec, cancel tag): neither may carry text.
TEST(Emoji, KeycapsAndTagsCarryNoText) {
  for (const char* ok : {"1\uFE0F\u20E3", "1\u20E3", "#\u20E3", "*\uFE0F\u20E3", "0\uFE0F\u20E3\U0001F44D",
                         "1\uFE0F\u20E32\uFE0F\u20E3",
                         "\U0001F3F4",                                                       // black flag alone
                         "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F",  // England
                         "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",  // Scotland
                         "\U0001F3F4\U000E0067\U000E0062\U000E0077\U000E006C\U000E0073\U000E007F",  // Wales
                         "\U0001F3F4\u200D\u2620\uFE0F"}) {                                // pirate flag
    EXPECT_TRUE(IsEmoji(ok)) << ok;
  }
  // The web app's picker (web/src/space/actions.ts, EMOJI).
  for (const char* picked : {"\U0001F44D", "\u2764\uFE0F", "\U0001F389", "\u2705", "\U0001F440", "\U0001F64F",
                             "\U0001F602", "\U0001F62E"}) {
    EXPECT_TRUE(IsEmoji(picked)) << picked;
  }
  for (const char* bad : {
           "5550142\u20E3",           // a phone number with one keycap at the end
           "12\u20E3", "1\uFE0F2\u20E3", "\U0001F44D5\u20E3\u20E3", "\U0001F44D\u20E3", "\u20E31",
           "1\uFE0F\uFE0F\u20E3", "a\u20E3",
           // A flag and seven tag characters spelling "5550142", then no cancel tag.
           "\U0001F3F4\U000E0035\U000E0035\U000E0035\U000E0030\U000E0031\U000E0034\U000E0032",
           // Tags after any other base, or without their flag.
           "\U0001F44D\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F",
           "\U000E0067\U000E0062\U000E007F", "\U0001F3F4\U000E007F", "\U0001F3F4\U000E0067",
           // Upper-case or punctuation tags (no subdivision is spelled so), a tag spec too long.
           "\U0001F3F4\U000E0047\U000E0042\U000E0045\U000E004E\U000E0047\U000E007F",
           "\U0001F3F4\U000E0040\U000E0021\U000E0040\U000E007F",
           "\U0001F3F4\U000E0061\U000E0062\U000E0063\U000E0064\U000E0065\U000E0066\U000E007F",
           // A cancel tag on its own after a complete flag.
           "\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F\U000E007F"}) {
    EXPECT_FALSE(IsEmoji(bad)) << bad;
  }
}

// Letters in boxes and circles, and regional indicators beyond one flag, would spell a name in a
// reaction that no screening reads; the enclosed letters that are emoji stay.
TEST(Emoji, EnclosedLettersAndRegionalIndicatorsSpellNothing) {
  for (const char* ok : {"\U0001F170", "\U0001F171\uFE0F", "\U0001F18E", "\U0001F197", "\U0001F198",
                         "\U0001F1EC\U0001F1E7", "\U0001F1FA\U0001F1F8\U0001F44D"}) {
    EXPECT_TRUE(IsEmoji(ok)) << ok;
  }
  for (const char* bad : {
           "\U0001F176\U0001F170\U0001F181\U0001F172\U0001F178\U0001F170",  // GARCIA, negative squared
           "\U0001F136\U0001F130\U0001F141\U0001F132",                        // GARC, squared
           "\U0001F156\U0001F150",                                              // GA, negative circled
           "\U0001F110", "\U0001F100",                                          // parenthesized A, digit zero full stop
           "\U0001F1EC\U0001F1E6\U0001F1F7\U0001F1E8",                         // two pairs: G A R C
           "\U0001F1EC", "\U0001F1EC\U0001F44D"}) {                              // one indicator alone
    EXPECT_FALSE(IsEmoji(bad)) << bad;
  }
}

TEST(PasswordPolicy, AcceptsLongPassphrases) {
  for (const char* good : {"correct horse battery staple", "ünïcödé-pässwörd",
                           "a sound passphrase 2026", "integration-password-2026", "rounds-demo-2026",
                           "CANARYPASSWORD7731 long enough", "Ward 7 kettle is always cold", "tulip-orbit-canoe-42"}) {
    auto violation = CheckPassword(good, "asha");
    EXPECT_FALSE(violation) << good << ": " << violation->message;
  }
}

TEST(PasswordPolicy, RejectsWeakOnesWithAReason) {
  struct Case { std::string password; const char* username; const char* why; };
  const std::vector<Case> cases = {
      {"short", "x", "too short"},
      {"elevenchars", "x", "too short"},
      {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "x", "12 bytes but 6 characters"},
      {"password1234", "x", "listed"},
      {"PASSWORD1234", "x", "listed, any case"},
      {"iloveyou123456", "x", "listed"},
      {"1q2w3e4r5t6y", "x", "listed"},
      {"aaaaaaaaaaaaaaa", "x", "one character repeated"},
      {"abcabcabcabcabc", "x", "a short unit repeated"},
      {"121212121212121", "x", "a short unit repeated"},
      {"qwertyuiopasdfg", "x", "keyboard walk"},
      {"lkjhgfdsapoiuytr", "x", "keyboard walk backwards"},
      {"0123456789012", "x", "digit run"},
      {"P@ssw0rd-2024!!", "x", "common word, swapped letters, padded"},
      {"Summer2031!!!", "x", "season and year"},
      {"2025-hospital-2025", "x", "common word padded both sides"},
      {"monkey monkey 1", "x", "common word repeated"},
      {"$uperman$uperman", "x", "common word repeated with swaps"},
      {"nurse.asha-2024-ward", "nurse.asha", "contains the username"},
      {"bad\xff\xfe utf8 bytes", "x", "not UTF-8"},
      {std::string(300, 'k') + "xyz", "x", "too long"},
  };
  for (const Case& c : cases) {
    auto violation = CheckPassword(c.password, c.username);
    ASSERT_TRUE(violation) << testing::PrintToString(c.password) << " should be refused: " << c.why;
    EXPECT_FALSE(violation->message.empty());
  }
  EXPECT_EQ(CheckPassword("short", "x")->problem, "weak_password");
  EXPECT_EQ(CheckPassword("bad\xff\xfe utf8 bytes", "x")->problem, "invalid_utf8");
}

TEST(PasswordPolicy, VeryShortUsernamesDoNotRuleOutPasswords) {
  EXPECT_FALSE(CheckPassword("tulip-orbit-canoe-42", "or"));
  EXPECT_TRUE(CheckPassword("tulip-orbit-canoe-42", "orbit"));
  EXPECT_TRUE(CheckPassword("tulip-orbit-canoe-42", "Orbit")) << "a username in any case";
  EXPECT_TRUE(CheckPassword("tulip-ORBIT-canoe-42", "orbit"));
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

TEST(Utf8, TableOfValidityAndLength) {
  struct Case { std::string text; bool valid; std::size_t code_points; };
  const std::vector<Case> cases = {
      {"", true, 0},
      {"a", true, 1},
      {"\xc2\xa9", true, 1},                  // U+00A9, two bytes
      {"\xe2\x82\xac", true, 1},              // U+20AC, three bytes
      {"\xf0\x9f\x98\x80", true, 1},          // U+1F600, four bytes
      {"\xf4\x8f\xbf\xbf", true, 1},          // U+10FFFF, the last code point
      {"\xef\xbb\xbf", true, 1},              // a byte-order mark is still a code point
      {std::string("a\0b", 3), true, 3},       // NUL is valid UTF-8
      {"\x80", false, 0},                      // lone continuation byte
      {"\xe2\x82", false, 0},                  // truncated three-byte form
      {"\xe0\x80\xaf", false, 0},              // overlong three-byte '/'
      {"\xf0\x80\x80\xaf", false, 0},          // overlong four-byte '/'
      {"\xf8\x88\x80\x80\x80", false, 0},      // five-byte form
      {"\xc3\x28", false, 0},                  // continuation missing
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsValidUtf8(c.text), c.valid) << testing::PrintToString(c.text);
    if (c.valid) {
      EXPECT_EQ(CodePointCount(c.text), c.code_points) << testing::PrintToString(c.text);
    }
  }
}

TEST(Mentions, TableOfBodies) {
  struct Case { const char* body; std::vector<std::string> names; };
  const std::vector<Case> cases = {
      {"", {}},
      {"no mentions here", {}},
      {"@ana", {"ana"}},
      {"hi @ana!", {"ana"}},
      {"@ana, @ben; @cara: thanks", {"ana", "ben", "cara"}},
      {"@ANA and @ana", {"ana"}},                      // case-insensitive, once each
      {"see @ana.k.", {"ana.k"}},                       // sentence full stop is not part of the name
      {"ask @night-shift-", {"night-shift"}},
      {"email ana@example.org", {}},                    // not after a word character
      {"x@ana", {}},
      {"@a", {}},                                       // too short to be a username
      {"`@ana` in code still counts", {"ana"}},
      {"line one\n@ben line two", {"ben"}},
      {"caf\xc3\xa9 @zo\xc3\xab", {}},                // "@zo\u00eb" is not a mention of "zo"
      {"\xc3\xa9@ana", {}},                            // a letter of any script before '@' 
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ExtractMentions(c.body), c.names) << c.body;
  }
}

TEST(DirectKeys, AreOrderIndependent) {
  EXPECT_EQ(DirectKey({5, 2, 9, 2}), "2,5,9");
  EXPECT_EQ(DirectKey({9, 5, 2}), DirectKey({2, 9, 5}));
}

TEST(Attachments, TheTypeIsToldByTheContent) {
  const struct {
    std::string content;
    const char* type;
  } cases[] = {
      {std::string("\x89PNG\r\n\x1a\n", 8) + "IHDR", "image/png"},
      {std::string("\xFF\xD8\xFF\xE0", 4) + "JFIF", "image/jpeg"},
      {"GIF89a....", "image/gif"},
      {std::string("RIFF\x10\0\0\0WEBPVP8 ", 16), "image/webp"},
      {"%PDF-1.7\n%...", "application/pdf"},
      {std::string("PK\x03\x04", 4) + "[Content_Types].xml", "application/zip"},
      {"plain words, a list:\n- one\n", "text/plain"},
      {"caf\xc3\xa9 au lait", "text/plain"},
      {"<!DOCTYPE html><p>hi", "text/html"},
      {"  <HTML><body onload=x>", "text/html"},
      {"notes <script>alert(1)</script>", "text/html"},
      {"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\">", "image/svg+xml"},
      {std::string("text\0with a NUL", 14), "application/octet-stream"},
      {"\xff\xfe\x00", "application/octet-stream"},
      {"%PD", "text/plain"},  // too short to be a PDF
  };
  for (const auto& c : cases) EXPECT_EQ(DetectContentType(c.content), c.type) << c.content;
}

TEST(Attachments, ADeclaredTypeFitsOnlyWhatTheContentIs) {
  EXPECT_TRUE(DeclaredTypeFits("image/png", "image/png"));
  EXPECT_TRUE(DeclaredTypeFits("", "image/png"));
  EXPECT_TRUE(DeclaredTypeFits("application/octet-stream", "application/pdf"));
  EXPECT_TRUE(DeclaredTypeFits("text/csv", "text/plain"));
  EXPECT_TRUE(DeclaredTypeFits("text/markdown", "text/plain"));
  EXPECT_TRUE(DeclaredTypeFits("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip"));
  EXPECT_FALSE(DeclaredTypeFits("image/png", "text/html"));
  EXPECT_FALSE(DeclaredTypeFits("image/jpeg", "image/png"));
  EXPECT_FALSE(DeclaredTypeFits("text/html", "text/plain"));
  EXPECT_FALSE(DeclaredTypeFits("text/plain", "text/html"));
  EXPECT_FALSE(DeclaredTypeFits("application/pdf", "application/zip"));
}

TEST(Attachments, TextTypesAreScreenedAndOthersAreNot) {
  for (const char* t : {"text/plain", "text/html", "image/svg+xml"}) EXPECT_TRUE(IsTextualType(t)) << t;
  for (const char* t : {"image/png", "image/jpeg", "application/pdf", "application/zip", "application/octet-stream", ""}) {
    EXPECT_FALSE(IsTextualType(t)) << t;
  }
  // What the detector calls text is screened whatever the client declared.
  EXPECT_TRUE(IsTextualType(DetectContentType("mrn,name\n4829103,Maria Garcia\n")));
  EXPECT_FALSE(IsTextualType(DetectContentType("\x89PNG\r\n\x1a\n617-555-0142")));
}

TEST(Attachments, OnlyTypesThatCannotRunScriptAreShownInline) {
  for (const char* t : {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"}) {
    EXPECT_TRUE(IsInlineSafeType(t)) << t;
  }
  for (const char* t : {"text/html", "image/svg+xml", "application/zip", "application/octet-stream", "text/csv", ""}) {
    EXPECT_FALSE(IsInlineSafeType(t)) << t;
  }
}

TEST(Attachments, FileNamesAreOneLineOfTextWithoutPaths) {
  for (const std::string& ok : std::vector<std::string>{"scan.png", "chest x-ray (2).png", "résumé.pdf", ".hidden", "a",
                                                        std::string(255, 'n')}) {
    EXPECT_TRUE(IsValidFileName(ok)) << ok;
  }
  for (const std::string& bad : {std::string(), std::string("."), std::string(".."), std::string("a/b"),
                                std::string("a\\b"), std::string("line\nbreak"), std::string("nul\0x", 5),
                                std::string("del\x7f"), std::string(256, 'n'), std::string("caf\xc3")}) {
    EXPECT_FALSE(IsValidFileName(bad)) << bad;
  }
}

}  // namespace
}  // namespace rounds::domain
