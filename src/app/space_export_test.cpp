// MessageService::ExportSpace against a real SQLite store: who may export a space's conversation,
// what the template allows, what the file holds and leaves out, and the audit trail of each try.
#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;

class SpaceExportTest : public testing::ServiceTest {
 protected:
  void Configure(Config& config) override { config.space_export_max_messages = 8; }
  void SetUp() override {
    ServiceTest::SetUp();
    ana_ = MakeUser("ana");
    ben_ = MakeUser("ben");
    cy_ = MakeUser("cy");
    channel_ = MakeSpace(ana_, SpaceKind::kChannel, "Ward 7 / Nights!", Visibility::kPrivate);
    EXPECT_TRUE(services_->spaces.AddMember(ana_, channel_, ben_.user.id, MemberRole::kMember));
    EXPECT_TRUE(services_->spaces.AddMember(ana_, channel_, cy_.user.id, MemberRole::kModerator));
  }
  std::string Text(SpaceExport& out) {
    auto text = out.file.ReadAll();
    EXPECT_TRUE(text);
    return text.value_or("");
  }
  std::vector<AuditRecord> ExportRecords() { return AuditOf("space.export"); }
  Actor ana_, ben_, cy_;
  SpaceId channel_ = 0;
};

TEST_F(SpaceExportTest, HoldsThePublishedConversationWithEachThreadAfterItsRoot) {
  json first = Post(ana_, channel_, "Handover at 19:00");
  json second = Post(ben_, channel_, "Bed 4 needs a porter");
  Post(cy_, channel_, "On it", MessageKind::kMessage, first["id"].get<MessageId>());
  json gone = Post(ben_, channel_, "typo message");
  ASSERT_TRUE(services_->messages.Delete(ben_, gone["id"]));
  json hidden = Post(ben_, channel_, "something to hide");
  ModerationRequest hide{ModerationKind::kHide, "off topic", std::nullopt};
  ASSERT_TRUE(services_->governance.Moderate(cy_, hidden["id"], hide));
  ASSERT_TRUE(services_->messages.Edit(ben_, second["id"], "Bed 4 needs a porter now", std::nullopt));

  auto exported = services_->messages.ExportSpace(cy_, channel_, SpaceExportFormat::kText);
  ASSERT_TRUE(exported) << exported.error().public_message;
  EXPECT_EQ(exported->messages, 3u);
  EXPECT_EQ(exported->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(exported->file_name.substr(0, 15), "ward-7-nights-2") << exported->file_name;
  EXPECT_EQ(exported->file_name.substr(exported->file_name.size() - 4), ".txt");
  const std::string text = Text(*exported);
  const auto handover = text.find("Handover at 19:00");
  const auto reply = text.find("On it");
  const auto porter = text.find("Bed 4 needs a porter now");
  ASSERT_NE(handover, std::string::npos) << text;
  ASSERT_NE(reply, std::string::npos) << text;
  ASSERT_NE(porter, std::string::npos) << text;
  EXPECT_LT(handover, reply);
  EXPECT_LT(reply, porter) << "a thread follows its root, before the next post";
  EXPECT_NE(text.find("reply to #" + std::to_string(first["id"].get<MessageId>())), std::string::npos);
  EXPECT_NE(text.find("{edited "), std::string::npos);
  EXPECT_NE(text.find("User ben"), std::string::npos) << "authors by name";
  EXPECT_NE(text.find("by User cy (@cy)"), std::string::npos);
  EXPECT_EQ(text.find("typo message"), std::string::npos) << "deleted";
  EXPECT_EQ(text.find("something to hide"), std::string::npos) << "hidden";
  EXPECT_NE(text.find("End of export: 3 messages."), std::string::npos);

  auto as_json = services_->messages.ExportSpace(ana_, channel_, SpaceExportFormat::kJson);
  ASSERT_TRUE(as_json) << as_json.error().public_message;
  EXPECT_EQ(as_json->content_type, "application/json; charset=utf-8");
  json doc = json::parse(Text(*as_json));
  EXPECT_EQ(doc["space"]["id"], channel_);
  EXPECT_EQ(doc["exported_by"]["username"], "ana");
  EXPECT_EQ(doc["template"]["key"], "internal-community");
  ASSERT_EQ(doc["messages"].size(), 3u);
  EXPECT_EQ(doc["count"], 3);
  EXPECT_EQ(doc["messages"][0]["body"], "Handover at 19:00");
  EXPECT_EQ(doc["messages"][1]["parent_id"], first["id"]);
  EXPECT_EQ(doc["messages"][2]["body"], "Bed 4 needs a porter now");

  // Each export is on record with its format and count, never its text.
  auto records = ExportRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].actor_id, cy_.user.id);
  EXPECT_EQ(records[0].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(records[0].object_id, std::to_string(channel_));
  json details = json::parse(records[0].details_json);
  EXPECT_EQ(details["format"], "text");
  EXPECT_EQ(details["count"], 3);
  EXPECT_EQ(records[0].details_json.find("Handover"), std::string::npos);
  EXPECT_EQ(json::parse(records[1].details_json)["format"], "json");
}

TEST_F(SpaceExportTest, IsForOwnersAndModeratorsWhereTheTemplateAllowsIt) {
  Post(ana_, channel_, "Handover at 19:00");
  auto member = services_->messages.ExportSpace(ben_, channel_, SpaceExportFormat::kText);
  ASSERT_FALSE(member);
  EXPECT_EQ(member.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(member.error().problem, "moderator_required");
  // Someone who may not read the space learns nothing of it; the refusal is on the record.
  Actor dee = MakeUser("dee");
  auto outsider = services_->messages.ExportSpace(dee, channel_, SpaceExportFormat::kText);
  ASSERT_FALSE(outsider);
  EXPECT_EQ(outsider.error().code, ErrorCode::kNotFound);

  // A space whose template forbids exports: even its owner is refused.
  NewSpace forum{SpaceKind::kCommunity, "heart health circle", "", Visibility::kPublic, JoinPolicy::kOpen, "patient-forum"};
  auto created = services_->spaces.Create(ana_, forum);
  ASSERT_TRUE(created) << created.error().public_message;
  EXPECT_EQ((*created)["template"]["export_allowed"], false);
  auto owner = services_->messages.ExportSpace(ana_, (*created)["id"], SpaceExportFormat::kJson);
  ASSERT_FALSE(owner);
  EXPECT_EQ(owner.error().code, ErrorCode::kPolicyDenied);
  EXPECT_EQ(owner.error().problem, "export_not_allowed");

  auto records = ExportRecords();
  ASSERT_EQ(records.size(), 3u) << "every refusal, the unreadable space's too";
  EXPECT_EQ(records[0].actor_id, ben_.user.id);
  EXPECT_EQ(records[0].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(records[0].reason, "moderator_required");
  EXPECT_EQ(records[1].actor_id, dee.user.id);
  EXPECT_EQ(records[1].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(records[1].reason, "not_found");
  EXPECT_EQ(records[1].object_id, std::to_string(channel_));
  EXPECT_EQ(records[2].actor_id, ana_.user.id);
  EXPECT_EQ(records[2].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(records[2].reason, "export_not_allowed");
}

TEST_F(SpaceExportTest, LeavesOutPostsHeldForReviewEvenTheExportersOwn) {
  Actor officer = MakeUser("privacy");
  UserPatch patch;
  patch.is_compliance = true;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), officer.user.id, patch));
  officer.user.is_compliance = true;
  json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
  doc["key"] = "holding";
  doc["name"] = "Holding";
  doc["phi"] = "hold";
  ASSERT_TRUE(services_->governance.CreateTemplate(officer, doc));
  ASSERT_TRUE(services_->governance.AssignTemplate(officer, channel_, "holding", 1, "review PHI"));
  Post(ana_, channel_, "Rounds at nine");
  json held = Post(ana_, channel_, "Call the patient back on 617-555-0142");
  ASSERT_EQ(held["state"], "held");

  auto exported = services_->messages.ExportSpace(ana_, channel_, SpaceExportFormat::kText);
  ASSERT_TRUE(exported) << exported.error().public_message;
  EXPECT_EQ(exported->messages, 1u);
  const std::string text = Text(*exported);
  EXPECT_NE(text.find("Rounds at nine"), std::string::npos);
  EXPECT_EQ(text.find("617-555-0142"), std::string::npos) << text;
}

TEST_F(SpaceExportTest, ASpaceLargerThanTheLimitIsRefusedWithNothingSent) {
  for (int i = 0; i < 8; ++i) Post(ana_, channel_, "note " + std::to_string(i));
  auto at_limit = services_->messages.ExportSpace(ana_, channel_, SpaceExportFormat::kText);
  ASSERT_TRUE(at_limit) << at_limit.error().public_message;
  EXPECT_EQ(at_limit->messages, 8u);
  Post(ana_, channel_, "one too many");
  auto over = services_->messages.ExportSpace(ana_, channel_, SpaceExportFormat::kText);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().problem, "export_too_large");
  auto records = ExportRecords();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(records[1].reason, "export_too_large");
}

}  // namespace
}  // namespace rounds::app
