#include "governance/phi/continuation.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "governance/phi/scanner.hpp"

namespace rounds::governance::phi {
namespace {

class ContinuationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = std::make_shared<PatientIndex>();
    index->Replace(std::vector<PatientRecord>{{"48213377", "Maria", "Garcia"}, {"55501234", "Ahmed", "Haddad"}});
    auto scanner = Scanner::Create(DefaultRuleSet(), index);
    ASSERT_TRUE(scanner) << scanner.error().public_message;
    scanner_ = std::move(*scanner);
  }

  // The findings of `text` after `previous`, as "TYPE:text", with what `text` alone shows first
  // merged in as a post does.
  std::vector<std::string> After(std::string_view previous, const std::string& text) const {
    std::vector<Finding> findings = scanner_->Scan(text);
    MergeAcross(findings, FindingsAcross(CarriedTail(previous), text,
                                         [this](std::string_view t) { return scanner_->Scan(t); }));
    std::vector<std::string> out;
    for (const Finding& f : findings) {
      out.push_back(std::string(ToString(f.type)) + ":" + text.substr(f.begin, f.end - f.begin) +
                    (f.across_messages ? "+" : ""));
    }
    return out;
  }

  // The same for `text` sent as a reply to another author's `asked`.
  std::vector<std::string> Reply(std::string_view asked, const std::string& text) const {
    std::vector<Finding> findings = ScanBetween({}, text, {}, [this](std::string_view t) { return scanner_->Scan(t); },
                                                CarriedTail(asked));
    std::vector<std::string> out;
    for (const Finding& f : findings) {
      out.push_back(std::string(ToString(f.type)) + ":" + text.substr(f.begin, f.end - f.begin) +
                    (f.across_messages ? "+" : ""));
    }
    return out;
  }

  std::unique_ptr<Scanner> scanner_;
};

using Found = std::vector<std::string>;

TEST_F(ContinuationTest, AnIdentifierSplitBetweenTwoMessagesIsTheSecondsFinding) {
  // Alone, neither half is anything.
  EXPECT_TRUE(scanner_->Scan("her ssn is 987-65-").empty());
  EXPECT_TRUE(scanner_->Scan("4320").empty());
  EXPECT_EQ(After("her ssn is 987-65-", "4320"), (Found{"SSN:4320+"}));
  EXPECT_EQ(After("call her back at 617-555", "0142 after 5"), (Found{"PHONE:0142+"}));
  EXPECT_EQ(After("pt is Maria", "Garcia, bed 4"), (Found{"NAME:Garcia+"}));
}

TEST_F(ContinuationTest, AWordCutAtAJoiningMarkIsReadWhole) {
  EXPECT_EQ(After("she gave her email cerrelld@patients.", "example.org for the invite"),
            (Found{"EMAIL:example.org+"}));
  EXPECT_EQ(After("I was admitted on 12-24-", "2020 and discharged the 27th"), (Found{"DATE:2020+"}));
  EXPECT_EQ(After("the link is https://portal.example.", "org/patient/14990680"),
            (Found{"URL:org/patient/14990680+"}));
  // A number in it that is an MRN alone stays the text's own finding, and the rest of the URL is
  // the second message's too (it was dropped whole for overlapping the MRN).
  ASSERT_EQ(After("", "org/patient/48213377"), (Found{"MRN:48213377"}));
  EXPECT_EQ(After("the link is https://portal.example.", "org/patient/48213377"),
            (Found{"URL:org/patient/+", "MRN:48213377"}));
  // Blanks opening the second message are the break between the two, outside the span.
  const std::vector<Finding> across =
      FindingsAcross("Returned call to (347)", "  555-0159, left VM", [this](std::string_view t) { return scanner_->Scan(t); });
  ASSERT_EQ(across.size(), 1u);
  EXPECT_EQ(across[0].type, PhiType::kPhone);
  EXPECT_EQ(across[0].begin, 2u);
  EXPECT_EQ(across[0].end, 10u);
  EXPECT_TRUE(FindingsAcross("her ssn is", "   ", [this](std::string_view t) { return scanner_->Scan(t); }).empty());
  // An SSN masked but for its last digits, cut inside its mask.
  EXPECT_EQ(After("his social on the form is ***-*", "*-4321, pls fix"), (Found{"SSN:*-4321+"}));
  EXPECT_EQ(After("ssn ###-##", "-4322"), (Found{"SSN:-4322+"}));
  EXPECT_EQ(After("rated it ***", "*-ish, 2024 edition"), Found{});
}

// An identifier cut where it has no mark is read both ways: with a space, and as one word.
TEST_F(ContinuationTest, AnIdentifierCutBetweenDigitsIsAlsoReadAsOneWord) {
  ASSERT_EQ(After("", "3377 is her chart"), Found{});
  EXPECT_EQ(After("MRN 4821", "3377 is her chart"), (Found{"MRN:3377+"}));
  EXPECT_EQ(After("my driver's license number is J586", "9011 for the parking permit"), (Found{"LICENSE:9011+"}));
  EXPECT_EQ(After("Triage: 1", "04yo F, SOB"), (Found{"AGE:04+"}));
  // Numbers that only meet stay clean.
  EXPECT_EQ(After("BP 120", "80 and stable"), Found{});
  EXPECT_EQ(After("bed 12", "3 patients waiting"), Found{});
  EXPECT_EQ(After("room 4", "2nd floor"), Found{});
  EXPECT_EQ(After("she takes 5", "0 mg of nothing"), Found{});
}

// A number typed spaced counts as one word at either end: the window of eight words does not
// cut it.
TEST_F(ContinuationTest, ANumberTypedSpacedIsReadWholeAcross) {
  EXPECT_EQ(After("Kevin's SSN", "9 8 7 6 5 4 3 2 0 needed for the disability form"),
            (Found{"SSN:9 8 7 6 5 4 3 2 0+"}));
  EXPECT_EQ(CarriedTail("please put on file that the SSN is 9 8 7 6 5 4 3 2 0"), "put on file that the SSN is 9 8 7 6 5 4 3 2 0");
  EXPECT_EQ(CarriedTail("one two three four five six seven eight nine ten"), "three four five six seven eight nine ten")
      << "words that are not a number's groups count as before";
}

TEST_F(ContinuationTest, AContextWordSentBeforeMakesTheValueAFinding) {
  EXPECT_TRUE(scanner_->Scan("3/4/1950").empty());
  EXPECT_EQ(After("her dob is", "3/4/1950"), (Found{"DATE:3/4/1950+"}));
}

TEST_F(ContinuationTest, AFinishedSentenceLendsNoContextToTheNextMessage) {
  EXPECT_EQ(After("any tips for sleeping after shoulder surgery", "5/13/2026 works for me"),
            (Found{"DATE:5/13/2026+"}));
  EXPECT_EQ(After("any tips for sleeping after shoulder surgery?", "5/13/2026 works for me"), Found{});
  // An identifier it began still carries over.
  EXPECT_EQ(After("reach me at 617.555.", "0142"), (Found{"PHONE:0142+"}));
}

TEST_F(ContinuationTest, WhatTheTextAloneShowsStaysItsOwn) {
  EXPECT_EQ(After("ok", "ssn 987-65-4320"), (Found{"SSN:987-65-4320"}));
  // The previous message's own finding is not the new one's.
  EXPECT_EQ(After("her ssn is 987-65-4320", "thanks, got it"), Found{});
}

TEST_F(ContinuationTest, UnrelatedNumbersInTwoMessagesStayClean) {
  for (const auto& [previous, text] : std::vector<std::pair<std::string, std::string>>{
           {"bed 12", "3 pts waiting"},
           {"meeting moved to 3", "pm in room 4"},
           {"BP 120/80", "HR 72"},
           {"give 5 mg", "at 0800 and 2000"},
           {"see you at 2", "30 minutes late sorry"}}) {
    EXPECT_EQ(After(previous, text), Found{}) << previous << " | " << text;
  }
}

TEST_F(ContinuationTest, OnlyTheLastLineOfThePreviousMessageIsCarried) {
  EXPECT_EQ(CarriedTail("her dob is 3/4/1950\nthanks  \n "), "thanks");
  EXPECT_EQ(CarriedTail("  \n\t"), "");
  EXPECT_EQ(CarriedTail("dob"), "dob");
  // The last words of a long line ...
  static_assert(kMaxCarriedWords == 8);
  EXPECT_EQ(CarriedTail("one two three four five six seven eight nine ten"),
            "three four five six seven eight nine ten");
  // ... cut at the start of a word past kMaxCarriedBytes ...
  std::string line = std::string(kMaxCarriedBytes - 10, 'y') + " then tail";
  EXPECT_EQ(CarriedTail(line), line);  // kMaxCarriedBytes exactly
  line = "y" + line;
  EXPECT_EQ(CarriedTail(line), "then tail");
  line = std::string(kMaxCarriedBytes - 10, 'w') + " " + std::string(9, 'z');
  EXPECT_EQ(CarriedTail("start " + line), line);
  // ... or of a character, never inside one.
  std::string word;
  for (int i = 0; i < 100; ++i) word += "é";
  const std::string tail = CarriedTail(word);
  EXPECT_LE(tail.size(), kMaxCarriedBytes);
  EXPECT_EQ(tail.size() % 2, 0u);
  EXPECT_EQ(tail.substr(0, 2), "é");
}

TEST_F(ContinuationTest, OnlyTheStartOfALongMessageIsScannedAfterIt) {
  const std::string text = "0142 " + std::string(400, 'a') + " 987-65-4320";
  std::vector<Finding> across =
      FindingsAcross("call 617-555", text, [this](std::string_view t) { return scanner_->Scan(t); });
  ASSERT_EQ(across.size(), 1u);
  EXPECT_EQ(across[0].type, PhiType::kPhone);
  EXPECT_EQ(across[0].begin, 0u);
  EXPECT_EQ(across[0].end, 4u);
  EXPECT_TRUE(FindingsAcross("", text, [this](std::string_view t) { return scanner_->Scan(t); }).empty());
}

TEST_F(ContinuationTest, AnEditThatBeginsWhatTheNextMessageEndsIsFoundInTheEdit) {
  const auto scan = [this](std::string_view t) { return scanner_->Scan(t); };
  const std::string edited = "first line\nher ssn is 987-65-  ";
  std::vector<Finding> into = FindingsIntoNext(edited, "4320 thanks", scan);
  ASSERT_EQ(into.size(), 1u);
  EXPECT_EQ(into[0].type, PhiType::kSsn);
  EXPECT_EQ(edited.substr(into[0].begin, into[0].end - into[0].begin), "987-65-");
  EXPECT_TRUE(into[0].across_messages);
  // Cut where it has no mark, as a post after it reads it (one finding, read both ways).
  std::vector<Finding> digits = FindingsIntoNext("her chart is MRN 4821", "3377", scan);
  ASSERT_EQ(digits.size(), 1u);
  EXPECT_EQ(digits[0].type, PhiType::kMrn);
  EXPECT_EQ(digits[0].begin, 17u);  // "4821"
  EXPECT_TRUE(FindingsIntoNext("bed 12", "3 patients waiting", scan).empty());
  // A value in the next message that the edit only gives context to is the next one's.
  EXPECT_TRUE(FindingsIntoNext("her dob is", "3/4/1950", scan).empty());
  // The edit's own identifiers are its own, and a next message of blanks continues nothing.
  EXPECT_TRUE(FindingsIntoNext("ssn 987-65-4320", "thanks", scan).empty());
  EXPECT_TRUE(FindingsIntoNext("her ssn is 987-65-", "  ", scan).empty());
}

TEST_F(ContinuationTest, AnEditThatGivesTheNextMessageItsContextIsFoundInTheEdit) {
  const auto scan = [this](std::string_view t) { return scanner_->Scan(t); };
  // The author's own "3/4/1950" after "ok", which is edited into "her dob is": found over the
  // words of the edit that lend the context.
  const std::string edited = "first line\nher dob is ";
  std::vector<Finding> lent = FindingsLentToNext("ok", edited, "3/4/1950", false, scan);
  ASSERT_EQ(lent.size(), 1u);
  EXPECT_EQ(lent[0].type, PhiType::kDate);
  EXPECT_EQ(edited.substr(lent[0].begin, lent[0].end - lent[0].begin), "her dob is");
  EXPECT_TRUE(lent[0].across_messages);
  EXPECT_TRUE(lent[0].before_next);
  EXPECT_FALSE(lent[0].in_reply);
  // A colleague's answer after a question edited into asking for it.
  lent = FindingsLentToNext("anything new?", "what's her dob?", "3/4/1950", true, scan);
  ASSERT_EQ(lent.size(), 1u);
  EXPECT_EQ(lent[0].type, PhiType::kDate);
  EXPECT_EQ(lent[0].begin, 0u);
  EXPECT_EQ(lent[0].end, 15u);
  // A finished sentence of the author's own lends the next nothing; a question lends its answer
  // its words whatever it ended with.
  EXPECT_TRUE(FindingsLentToNext("ok", "her dob is.", "3/4/1950", false, scan).empty());
  EXPECT_EQ(FindingsLentToNext("ok", "her dob.", "3/4/1950", true, scan).size(), 1u);
}

TEST_F(ContinuationTest, AnEditLendsNothingTheNextMessageAlreadyHad) {
  const auto scan = [this](std::string_view t) { return scanner_->Scan(t); };
  // Read the same after the text it replaces, or holding it alone: the next message's own.
  EXPECT_TRUE(FindingsLentToNext("dob?", "her dob?", "3/4/1950", true, scan).empty());
  EXPECT_TRUE(FindingsLentToNext("her dob is", "pt dob", "3/4/1950", false, scan).empty());
  EXPECT_TRUE(FindingsLentToNext("ok", "her dob is", "dob 3/4/1950", false, scan).empty());
  EXPECT_TRUE(FindingsLentToNext("ok", "her ssn?", "987-65-4320", true, scan).empty());
  // An edit that lends nothing, a next message of blanks, and an empty edit.
  EXPECT_TRUE(FindingsLentToNext("ok", "see you at 3", "3/4 works", true, scan).empty());
  EXPECT_TRUE(FindingsLentToNext("ok", "her dob is", "   ", false, scan).empty());
  EXPECT_TRUE(FindingsLentToNext("ok", "  ", "3/4/1950", false, scan).empty());
  // What begins in the edit and runs on into the next message is FindingsIntoNext's, not this.
  EXPECT_TRUE(FindingsLentToNext("ok", "her ssn is 987-65-", "4320", false, scan).empty());
  EXPECT_TRUE(FindingsIntoNext("her ssn is 987-65-", "4320", scan)[0].before_next);
}

TEST_F(ContinuationTest, AReplyToAnotherAuthorsQuestionIsReadAfterIt) {
  // The question mark that ends the question is what makes the reply an answer.
  EXPECT_EQ(Reply("what's her dob?", "3/4/1950"), (Found{"DATE:3/4/1950+"}));
  EXPECT_EQ(Reply("Can you send me the pt's DOB", "  3/4/1950 per the chart"), (Found{"DATE:3/4/1950+"}));
  EXPECT_EQ(Reply("which ssn did registration take?", "987-65-4320"), (Found{"SSN:987-65-4320"}));
  const std::vector<Finding> found =
      FindingsInReply("dob?", "  3/4/1950", [this](std::string_view t) { return scanner_->Scan(t); });
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].begin, 2u);
  EXPECT_EQ(found[0].end, 10u);
  EXPECT_TRUE(found[0].across_messages);
  EXPECT_TRUE(found[0].in_reply);
  EXPECT_FALSE(FindingsAcross("dob", "3/4/1950", [this](std::string_view t) { return scanner_->Scan(t); })[0].in_reply);
  // A question that lends no context word leaves the reply as it is.
  EXPECT_EQ(Reply("when can we meet?", "3/4 works"), Found{});
  EXPECT_EQ(Reply("how many pts today?", "12 so far"), Found{});
}

TEST_F(ContinuationTest, AReplyNeverFinishesWhatAnotherAuthorBegan) {
  const auto scan = [this](std::string_view t) { return scanner_->Scan(t); };
  // An identifier begun by one author is theirs, screened when sent, and two authors' words are
  // never joined into one.
  EXPECT_TRUE(FindingsInReply("her ssn is 987-65-", "4320", scan).empty());
  EXPECT_TRUE(FindingsInReply("the link is https://portal.example.", "org/patient/14990680", scan).empty());
  EXPECT_TRUE(FindingsInReply("pt is Maria", "Garcia?", scan).empty());
  // What the question holds itself is not the reply's.
  EXPECT_EQ(Reply("is her ssn 987-65-4320?", "yes, thanks"), Found{});
  EXPECT_TRUE(FindingsInReply("dob?", "   ", scan).empty());
  EXPECT_TRUE(FindingsInReply("", "3/4/1950", scan).empty());
}

// An abbreviation's stop ends no sentence: what it leads into is read after it.
TEST_F(ContinuationTest, AnAbbreviationsStopLendsItsContext) {
  ASSERT_EQ(After("", "Box 80, Manchester"), Found{});
  EXPECT_EQ(After("please mail my records to P.O.", "Box 80, Manchester"), (Found{"ADDRESS:Box 80+", "ADDRESS:Manchester+"}));
  ASSERT_EQ(After("", "Garcia in bed 4"), Found{});
  EXPECT_EQ(After("I spoke with Mrs.", "Garcia in bed 4"), (Found{"NAME:Garcia+"}));
  EXPECT_EQ(After("I spoke with mrs.", "garcia in bed 4"), (Found{"NAME:garcia+"}));
  // A sentence that ended lends nothing, nor does a word that only ends like an abbreviation.
  EXPECT_EQ(After("I spoke with the office.", "Garcia in bed 4"), Found{});
  EXPECT_EQ(After("I spoke with the office.", "Box 80, Manchester"), Found{});
}

TEST_F(ContinuationTest, MergingKeepsTheTextsOwnFindingsAndOrder) {
  std::vector<Finding> own{{PhiType::kSsn, 10, 21, 0.9, "ssn.valid"}};
  MergeAcross(own, {{PhiType::kDate, 0, 8, 0.8, "date.context", true}, {PhiType::kSsn, 12, 21, 0.9, "x", true}});
  ASSERT_EQ(own.size(), 2u);
  EXPECT_EQ(own[0].type, PhiType::kDate);
  EXPECT_TRUE(own[0].across_messages);
  EXPECT_EQ(own[1].rule_id, "ssn.valid");
  EXPECT_FALSE(own[1].across_messages);

  // One that the text's own findings cover in part adds the parts they leave, and no overlap.
  std::vector<Finding> partly{{PhiType::kMrn, 12, 20, 0.9, "mrn.index"}, {PhiType::kPhone, 24, 30, 0.9, "phone"}};
  MergeAcross(partly, {{PhiType::kUrl, 0, 28, 0.9, "url.scheme", true}, {PhiType::kDate, 12, 16, 0.8, "d", true}});
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (const Finding& f : partly) spans.emplace_back(f.begin, f.end);
  EXPECT_EQ(spans, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 12}, {12, 20}, {20, 24}, {24, 30}}));
  EXPECT_EQ(partly[0].type, PhiType::kUrl);
  EXPECT_TRUE(partly[0].across_messages);
  EXPECT_EQ(partly[2].type, PhiType::kUrl);
  EXPECT_EQ(partly[1].rule_id, "mrn.index") << "a span wholly covered adds nothing";
}

}  // namespace
}  // namespace rounds::governance::phi
