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

TEST(Screening, ABodyIsScreenedAfterTheEndOfItsAuthorsPreviousPost) {
  Config config;
  PolicyEngine policy(config, std::string(32, 'k'));
  policy.SetPatients({{"48213377", "Maria", "Garcia"}});
  // Staff are told what continues their previous post, the patient index's names included.
  Screening staff = Screen(policy, {{"body", "Garcia, bed 4"}, {"title", "Garcia"}}, Author::kStaff, {.previous = "pt is Maria"});
  ASSERT_EQ(staff.fields[0].findings.size(), 1u);
  EXPECT_EQ(staff.fields[0].findings[0].type, phi::PhiType::kName);
  EXPECT_TRUE(staff.fields[0].findings[0].across_messages);
  EXPECT_TRUE(staff.fields[1].findings.empty());  // only the body continues the previous post
  EXPECT_EQ(staff.FindingsJson()[0]["across_messages"], true);
  // An outsider is never told what the index matched across two posts either ...
  Screening outsider = Screen(policy, {{"body", "Garcia, bed 4"}}, Author::kOutsider, {.previous = "pt is Maria"});
  EXPECT_TRUE(outsider.fields[0].findings.empty());
  ASSERT_EQ(outsider.fields[0].withheld.size(), 1u);
  // ... but is of what the rules alone find.
  Screening ssn = Screen(policy, {{"body", "4320"}}, Author::kOutsider, {.previous = "her ssn is 987-65-"});
  ASSERT_EQ(ssn.fields[0].findings.size(), 1u);
  EXPECT_EQ(ssn.fields[0].findings[0].type, phi::PhiType::kSsn);
  EXPECT_TRUE(ssn.fields[0].withheld.empty());
  EXPECT_TRUE(Screen(policy, {{"body", "4320"}}, Author::kOutsider).fields[0].findings.empty());
}

TEST(Screening, APostIsCarriedForTwoMinutesInItsOwnConversationOnly) {
  Config config;
  PolicyEngine policy(config, std::string(32, 'k'));
  const UnixMillis t = 1'700'000'000'000;
  policy.RememberPosted(7, 0, 3, "first line\nher ssn is 987-65-  ", t);
  EXPECT_EQ(policy.Carried(7, 0, 3, t), "her ssn is 987-65-");
  EXPECT_EQ(policy.Carried(7, 0, 3, t + PolicyEngine::kCarryMillis), "her ssn is 987-65-");
  EXPECT_EQ(policy.Carried(7, 0, 3, t + PolicyEngine::kCarryMillis + 1), "");
  EXPECT_EQ(policy.Carried(7, 0, 4, t), "");   // another author
  EXPECT_EQ(policy.Carried(7, 11, 3, t), "");  // a thread
  EXPECT_EQ(policy.Carried(8, 0, 3, t), "");   // another space
  EXPECT_EQ(policy.Carried(7, 0, 3, t - 1), "");  // the clock went back
  // A newer post replaces it; one of nothing but blanks leaves nothing to continue.
  policy.RememberPosted(7, 0, 3, "thanks", t + 10);
  EXPECT_EQ(policy.Carried(7, 0, 3, t + 10), "thanks");
  policy.RememberPosted(7, 0, 3, " \n ", t + 20);
  EXPECT_EQ(policy.Carried(7, 0, 3, t + 20), "");
  // Nothing is kept where nothing is scanned.
  policy.SetSafeguardsForMeasurement({.phi_scan = false, .audit = true});
  policy.RememberPosted(9, 0, 3, "her dob is", t);
  EXPECT_EQ(policy.Carried(9, 0, 3, t), "");
}

TEST(Screening, APostIsAskedOfEveryoneElseInItsConversationOnceMembersCanReadIt) {
  Config config;
  PolicyEngine policy(config, std::string(32, 'k'));
  const UnixMillis t = 1'700'000'000'000;
  // Ana (3) asks; Ben (4) answers what she asked, not what he said himself.
  policy.RememberPosted(7, 0, 3, "what's her dob?", t);
  EXPECT_EQ(policy.Asked(7, 0, 4, t + 5), "what's her dob?");
  EXPECT_EQ(policy.Asked(7, 0, 3, t + 5), "");  // nobody asked Ana anything
  policy.RememberPosted(7, 0, 4, "one sec", t + 10);
  EXPECT_EQ(policy.Asked(7, 0, 4, t + 20), "what's her dob?");  // still hers, after his own post
  EXPECT_EQ(policy.Asked(7, 0, 3, t + 20), "one sec");
  EXPECT_EQ(policy.Asked(7, 0, 5, t + 20), "one sec");  // a third member answers the newest
  // Only within two minutes, in the same conversation, on a clock that did not go back.
  EXPECT_EQ(policy.Asked(7, 0, 4, t + PolicyEngine::kCarryMillis), "what's her dob?");
  EXPECT_EQ(policy.Asked(7, 0, 4, t + PolicyEngine::kCarryMillis + 1), "");
  EXPECT_EQ(policy.Asked(7, 11, 4, t + 20), "");
  EXPECT_EQ(policy.Asked(8, 0, 4, t + 20), "");
  EXPECT_EQ(policy.Asked(7, 0, 4, t - 1), "");
  // A post members cannot read yet (held for a moderator) is asked of nobody, but its author's
  // next post still continues it.
  policy.RememberPosted(7, 0, 6, "pt dob is", t + 30, /*seen=*/false);
  EXPECT_EQ(policy.Asked(7, 0, 4, t + 40), "what's her dob?");
  EXPECT_EQ(policy.Carried(7, 0, 6, t + 40), "pt dob is");
  // Once a moderator approves it, members read it: from then on it is what the others answer, and
  // its author's own memory is left as their posts made it.
  policy.RememberPosted(7, 0, 6, "and now?", t + 45, /*seen=*/false);
  policy.RememberApproved(7, 0, 6, "pt dob is", t + 48);
  EXPECT_EQ(policy.Asked(7, 0, 4, t + 49), "pt dob is");
  EXPECT_EQ(policy.Carried(7, 0, 6, t + 49), "and now?");
  // A post of blanks asks nothing.
  policy.RememberPosted(7, 0, 5, "  ", t + 50);
  EXPECT_EQ(policy.Asked(7, 0, 4, t + 60), "");
}

TEST(Screening, WhatIsRememberedFollowsEditsAndDeletions) {
  Config config;
  PolicyEngine policy(config, std::string(32, 'k'));
  const UnixMillis t = 1'700'000'000'000;
  policy.RememberPosted(7, 0, 3, "her ssn is 987-65-", t);
  policy.RememberPosted(7, 0, 3, "junk", t + 5);
  policy.RememberPosted(7, 0, 4, "anything new?", t + 6);
  // Ana (3) deletes "junk" and Ben (4) edits his question: read again, newest first, what Ana can
  // read of the conversation is her first half, Ben's edited question and a post held for review.
  const std::vector<PolicyEngine::RecentPost> recent{
      {5, t + 8, "pt dob is", false}, {4, t + 6, "what's her dob?", true}, {3, t, "her ssn is 987-65-", true}};
  policy.Recall(7, 0, 3, recent, t + 10);
  EXPECT_EQ(policy.Carried(7, 0, 3, t + 10), "her ssn is 987-65-");
  EXPECT_EQ(policy.Asked(7, 0, 3, t + 10), "what's her dob?");
  EXPECT_EQ(policy.Asked(7, 0, 4, t + 10), "her ssn is 987-65-");
  EXPECT_EQ(policy.Asked(7, 0, 6, t + 10), "what's her dob?");  // not the held one
  // Only what was sent within two minutes counts; with nothing left, nothing is remembered.
  policy.Recall(7, 0, 3, recent, t + PolicyEngine::kCarryMillis + 1);
  EXPECT_EQ(policy.Carried(7, 0, 3, t + 10), "");
  EXPECT_EQ(policy.Asked(7, 0, 3, t + 10), "what's her dob?");
  EXPECT_EQ(policy.Asked(7, 0, 4, t + 10), "");
  policy.Recall(7, 0, 3, {}, t + 10);
  EXPECT_EQ(policy.Asked(7, 0, 3, t + 10), "");
  EXPECT_EQ(policy.Asked(7, 0, 4, t + 10), "");
  // Other conversations are left as they were.
  policy.RememberPosted(7, 11, 3, "her dob is", t);
  policy.Recall(7, 0, 3, {}, t + 10);
  EXPECT_EQ(policy.Carried(7, 11, 3, t + 10), "her dob is");
}

TEST(Screening, AnEditIsReadBeforeWhatFollowsIt) {
  Config config;
  PolicyEngine policy(config, std::string(32, 'k'));
  // A colleague answered "3/4/1950" to "anything new?"; the question cannot now ask for it.
  const std::vector<std::string> answers{"one sec", "3/4/1950"};
  Screening edit = Screen(policy, {{"body", "what's her dob?"}}, Author::kStaff,
                          {.before = "anything new?", .answers = answers});
  ASSERT_EQ(edit.fields[0].findings.size(), 1u);
  EXPECT_EQ(edit.fields[0].findings[0].type, phi::PhiType::kDate);
  EXPECT_EQ(edit.FindingsJson()[0]["before_next"], true);
  EXPECT_FALSE(edit.FindingsJson()[0].contains("in_reply"));
  // Nor can the author's own "ok" become the context of their next post; an outsider is told the same.
  Screening own = Screen(policy, {{"body", "her dob is"}}, Author::kOutsider, {.next = "3/4/1950", .before = "ok"});
  ASSERT_EQ(own.fields[0].findings.size(), 1u);
  EXPECT_TRUE(own.fields[0].findings[0].before_next);
  // Edits that lend nothing new pass.
  EXPECT_TRUE(Screen(policy, {{"body", "anything else?"}}, Author::kStaff, {.before = "anything new?", .answers = answers})
                  .fields[0].findings.empty());
  EXPECT_TRUE(Screen(policy, {{"body", "her dob?"}}, Author::kStaff, {.before = "dob?", .answers = answers})
                  .fields[0].findings.empty());
}

TEST(Screening, ABodyIsReadAsAReplyToWhatWasAsked) {
  Config config;
  PolicyEngine policy(config, std::string(32, 'k'));
  EXPECT_TRUE(Screen(policy, {{"body", "3/4/1950"}}).fields[0].findings.empty());
  Screening reply = Screen(policy, {{"body", "3/4/1950"}, {"title", "3/4/1950"}}, Author::kStaff,
                           {.asked = "what's her dob?"});
  ASSERT_EQ(reply.fields[0].findings.size(), 1u);
  EXPECT_EQ(reply.fields[0].findings[0].type, phi::PhiType::kDate);
  EXPECT_TRUE(reply.fields[0].findings[0].across_messages);
  EXPECT_EQ(reply.FindingsJson()[0]["in_reply"], true);
  EXPECT_TRUE(reply.fields[1].findings.empty());  // only the body answers
  // An outsider is told the same: the rules alone find it.
  Screening outsider = Screen(policy, {{"body", "3/4/1950"}}, Author::kOutsider, {.asked = "what's her dob?"});
  ASSERT_EQ(outsider.fields[0].findings.size(), 1u);
  EXPECT_TRUE(outsider.fields[0].withheld.empty());
}

}  // namespace
}  // namespace rounds::app
