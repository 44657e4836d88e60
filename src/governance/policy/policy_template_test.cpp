#include "governance/policy/policy_template.hpp"

#include <gtest/gtest.h>

namespace rounds::governance::policy {
namespace {

using nlohmann::json;

json ValidDocument() {
  return json{{"key", "ward-huddle"},       {"name", "Ward huddle"},  {"audience", "staff"},
              {"joining", "invite"},        {"posting", "members"},   {"threads", "members"},
              {"moderation", "none"},       {"phi", "hold"},          {"retention_days", 365},
              {"message_ttl_days", nullptr}, {"edit_window_minutes", 30},
              {"attachments", {{"types", {"image/png"}}, {"max_bytes", 1024}}}};
}

TEST(PolicyTemplate, ParsesAValidDocument) {
  auto parsed = ParseTemplate(ValidDocument());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->key, "ward-huddle");
  EXPECT_EQ(parsed->phi, PhiRule::kHold);
  EXPECT_EQ(parsed->retention_days, 365);
  EXPECT_FALSE(parsed->message_ttl_days);
  EXPECT_EQ(parsed->attachments.max_bytes, 1024);
}

TEST(PolicyTemplate, RoundTripsThroughJson) {
  for (const auto& builtin : BuiltInTemplates()) {
    auto parsed = ParseTemplate(ToJson(builtin));
    ASSERT_TRUE(parsed) << builtin.key;
    EXPECT_EQ(ToJson(*parsed), ToJson(builtin));
  }
}

struct BadCase {
  const char* name;
  std::function<void(json&)> mutate;
  const char* path;
  const char* code;
};

TEST(PolicyTemplate, ReportsEachProblemWithItsPath) {
  const std::vector<BadCase> cases = {
      {"unknown field", [](json& d) { d["colour"] = "blue"; }, "/colour", "unknown_field"},
      {"bad enum", [](json& d) { d["phi"] = "maybe"; }, "/phi", "invalid_value"},
      {"missing", [](json& d) { d.erase("moderation"); }, "/moderation", "missing_field"},
      {"wrong type", [](json& d) { d["retention_days"] = "ten"; }, "/retention_days", "invalid_type"},
      {"out of range", [](json& d) { d["retention_days"] = 0; }, "/retention_days", "invalid_value"},
      {"bad key", [](json& d) { d["key"] = "Ward Huddle"; }, "/key", "invalid_value"},
      {"nested unknown", [](json& d) { d["attachments"]["virus_scan"] = true; },
       "/attachments/virus_scan", "unknown_field"},
      {"bad mime", [](json& d) { d["attachments"]["types"] = {"png"}; }, "/attachments/types/0",
       "invalid_value"},
      {"ttl beyond retention", [](json& d) { d["message_ttl_days"] = 400; }, "/message_ttl_days",
       "invalid_value"},
      {"enum of another type", [](json& d) { d["phi"] = 5; }, "/phi", "invalid_type"},
      {"size as a string", [](json& d) { d["attachments"]["max_bytes"] = "10"; },
       "/attachments/max_bytes", "invalid_type"},
      {"mime of another type", [](json& d) { d["attachments"]["types"] = {7}; },
       "/attachments/types/0", "invalid_type"},
      {"too many mime types",
       [](json& d) { d["attachments"]["types"] = std::vector<std::string>(101, "image/png"); },
       "/attachments/types", "invalid_value"},
      {"unknown field needing escapes", [](json& d) { d["a/b~c"] = 1; }, "/a~1b~0c", "unknown_field"},
      {"blank name", [](json& d) { d["name"] = " \t "; }, "/name", "invalid_value"},
      {"name with a NUL", [](json& d) { d["name"] = std::string("Ward\0huddle", 11); }, "/name",
       "invalid_value"},
      {"name on two lines", [](json& d) { d["name"] = "Ward\nhuddle"; }, "/name", "invalid_value"},
  };
  for (const auto& c : cases) {
    json doc = ValidDocument();
    c.mutate(doc);
    auto parsed = ParseTemplate(doc);
    ASSERT_FALSE(parsed) << c.name;
    ASSERT_EQ(parsed.error().size(), 1u) << c.name;
    EXPECT_EQ(parsed.error()[0].path, c.path) << c.name;
    EXPECT_EQ(parsed.error()[0].code, c.code) << c.name;
  }
}

TEST(PolicyTemplate, CountsLengthsInCharactersNotBytes) {
  json doc = ValidDocument();
  std::string name;
  for (int i = 0; i < 61; ++i) name += "\u00e9";  // 122 bytes, 61 characters
  doc["name"] = name;
  EXPECT_TRUE(ParseTemplate(doc));
  name.clear();
  for (int i = 0; i < 121; ++i) name += "\u00e9";
  doc["name"] = name;
  auto parsed = ParseTemplate(doc);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error()[0].path, "/name");
  EXPECT_NE(parsed.error()[0].message.find("120 characters"), std::string::npos);
}

TEST(PolicyTemplate, EchoesOnlyTheStartOfALongUnknownName) {
  json doc = ValidDocument();
  const std::string long_name(5000, 'x');
  doc[long_name] = 1;
  auto parsed = ParseTemplate(doc);
  ASSERT_FALSE(parsed);
  ASSERT_EQ(parsed.error().size(), 1u);
  EXPECT_EQ(parsed.error()[0].path, "/" + long_name);  // still a pointer to the field
  EXPECT_LT(parsed.error()[0].message.size(), 200u);
  EXPECT_NE(parsed.error()[0].message.find(std::string(100, 'x')), std::string::npos);
}

TEST(PolicyTemplate, CollectsSeveralProblemsAtOnce) {
  json doc = ValidDocument();
  doc["phi"] = 3;
  doc["extra"] = 1;
  doc.erase("name");
  auto parsed = ParseTemplate(doc);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().size(), 3u);
}

TEST(PolicyTemplate, MalformedTextIsOneIssue) {
  auto parsed = ParseTemplateText("{\"key\": ");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error()[0].code, "malformed_json");
}

TEST(PolicyTemplate, ShipsTheFiveBuiltIns) {
  for (const char* key : {"internal-community", "clinical-team", "announcements", "patient-forum",
                          "patient-care-messaging"}) {
    EXPECT_NE(FindBuiltIn(key), nullptr) << key;
  }
  EXPECT_EQ(FindBuiltIn("patient-forum")->moderation, Moderation::kPreModeration);
  EXPECT_EQ(FindBuiltIn("patient-care-messaging")->retention_days, 3650);
}

TEST(PolicyEvaluator, AnnouncementsLetOnlyOwnersPostButMembersComment) {
  const PolicyTemplate& t = *FindBuiltIn("announcements");
  EXPECT_FALSE(MayPost(t, Standing::kMember, /*reply=*/false));
  EXPECT_FALSE(MayPost(t, Standing::kModerator, false));
  EXPECT_TRUE(MayPost(t, Standing::kOwner, false));
  EXPECT_TRUE(MayPost(t, Standing::kMember, /*reply=*/true));
}

TEST(PolicyEvaluator, HoldsMemberPostsInPreModeratedPatientForum) {
  const PolicyTemplate& t = *FindBuiltIn("patient-forum");
  EXPECT_EQ(DecidePublication(t, Standing::kMember, /*outsider=*/false), Publication::kHoldForReview);
  EXPECT_EQ(DecidePublication(t, Standing::kModerator, false), Publication::kPublish);
  EXPECT_EQ(DecidePublication(*FindBuiltIn("internal-community"), Standing::kMember, false),
            Publication::kPublish);
}

// Where what the patient index alone finds in an outsider's text is kept from members, holding
// only those posts would tell their author who is a patient: every post of theirs waits.
TEST(PolicyEvaluator, HoldsEveryOutsiderPostWhereTheRuleKeepsPhiFromMembers) {
  PolicyTemplate t = *FindBuiltIn("patient-care-messaging");
  ASSERT_EQ(t.moderation, Moderation::kNone);
  for (PhiRule rule : {PhiRule::kAllow, PhiRule::kWarn, PhiRule::kHold, PhiRule::kBlock, PhiRule::kRedact}) {
    t.phi = rule;
    const bool reviewed = rule == PhiRule::kHold || rule == PhiRule::kBlock || rule == PhiRule::kRedact;
    EXPECT_EQ(ReviewsWithheld(rule), reviewed) << ToString(rule);
    for (Standing standing : {Standing::kMember, Standing::kModerator, Standing::kOwner}) {
      EXPECT_EQ(DecidePublication(t, standing, /*outsider=*/true),
                reviewed ? Publication::kHoldForReview : Publication::kPublish)
          << ToString(rule);
      EXPECT_EQ(DecidePublication(t, standing, /*outsider=*/false), Publication::kPublish) << ToString(rule);
    }
  }
}

TEST(PolicyEvaluator, PhiRuleAppliesOnlyWhenSomethingWasFound) {
  const PolicyTemplate& forum = *FindBuiltIn("patient-forum");
  EXPECT_EQ(DecidePhi(forum, 0), PhiRule::kAllow);
  EXPECT_EQ(DecidePhi(forum, 2), PhiRule::kBlock);
  EXPECT_EQ(DecidePhi(*FindBuiltIn("announcements"), 1), PhiRule::kBlock);
}

TEST(PolicyEvaluator, EditWindow) {
  const PolicyTemplate& t = *FindBuiltIn("patient-care-messaging");
  EXPECT_TRUE(MayEdit(t, 15));
  EXPECT_FALSE(MayEdit(t, 16));
  EXPECT_TRUE(MayEdit(*FindBuiltIn("internal-community"), 100000));
}

}  // namespace
}  // namespace rounds::governance::policy
