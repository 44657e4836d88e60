// Pseudonyms in spaces whose template has them (patient forums), against a real SQLite store:
// members read each other under pseudonyms everywhere a name leaves the server for them —
// message pages, threads, events, search, the member list — and the space's moderators and
// owners can still tell who is who.
#include "app/service_test_support.hpp"
#include "governance/policy/pseudonym.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;

class ForumPseudonymTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ana_ = MakeUser("ana");  // the forum's owner
    ben_ = MakeUser("ben");
    cy_ = MakeUser("cy");
    NewSpace forum{SpaceKind::kCommunity, "heart health circle", "", Visibility::kPublic, JoinPolicy::kOpen, "patient-forum"};
    auto created = services_->spaces.Create(ana_, forum);
    ASSERT_TRUE(created) << created.error().public_message;
    forum_ = (*created)["id"];
    EXPECT_EQ((*created)["template"]["pseudonyms"], true);
    ASSERT_TRUE(services_->spaces.AddMember(ana_, forum_, ben_.user.id, MemberRole::kMember));
    ASSERT_TRUE(services_->spaces.AddMember(ana_, forum_, cy_.user.id, MemberRole::kMember));
  }
  // A member's post, approved by the owner (the forum holds every member's post).
  MessageId Approved(const Actor& author, const std::string& body, std::optional<MessageId> parent = std::nullopt) {
    json posted = Post(author, forum_, body, parent ? MessageKind::kMessage : MessageKind::kDiscussion, parent);
    EXPECT_EQ(posted["state"], "held");
    const MessageId id = posted["id"];
    EXPECT_TRUE(services_->governance.Moderate(ana_, id, {ModerationKind::kApprove, "fine", {}}));
    return id;
  }
  // Every frame published to members of the forum, as text.
  std::string ForumFrames() {
    std::string all;
    for (const auto& e : Published()) {
      if (e.space_id == forum_) all += *e.frame;
    }
    return all;
  }
  Actor ana_, ben_, cy_;
  SpaceId forum_ = 0;
};

TEST_F(ForumPseudonymTest, MembersReadEachOtherUnderPseudonyms) {
  ClearPublished();
  const MessageId post = Approved(ben_, "Walking after my bypass: how far did you start?");
  Approved(cy_, "Ten minutes a day, then more", post);
  const std::string ben_name = governance::policy::Pseudonym(forum_, ben_.user.id).display_name;
  const std::string cy_name = governance::policy::Pseudonym(forum_, cy_.user.id).display_name;
  ASSERT_NE(ben_name, cy_name);

  // The page, the thread and the events carry pseudonyms and never the accounts' names.
  auto page = services_->messages.List(cy_, forum_, MessagePage{});
  ASSERT_TRUE(page);
  const std::string text(page->view());
  EXPECT_NE(text.find(ben_name), std::string::npos) << text;
  EXPECT_EQ(text.find("User ben"), std::string::npos) << text;
  EXPECT_EQ(text.find("\"ben\""), std::string::npos) << "no username either";
  auto thread = services_->messages.Thread(ben_, post);
  ASSERT_TRUE(thread);
  EXPECT_EQ((*thread)["root"]["author"]["display_name"], ben_name);
  EXPECT_EQ((*thread)["items"][0]["author"]["display_name"], cy_name);
  EXPECT_EQ((*thread)["items"][0]["author_id"], cy_.user.id) << "clients still know their own messages";
  const std::string frames = ForumFrames();
  EXPECT_NE(frames.find(ben_name), std::string::npos);
  EXPECT_EQ(frames.find("User ben"), std::string::npos) << frames;
  EXPECT_EQ(frames.find("User cy"), std::string::npos) << frames;

  // Each member is told the name they go by.
  auto seen = services_->spaces.Get(ben_, forum_);
  ASSERT_TRUE(seen);
  EXPECT_EQ((*seen)["my_pseudonym"], ben_name);

  // Search answers the same way.
  auto found = services_->search.Search(cy_, "bypass", 20, 0);
  ASSERT_TRUE(found) << found.error().public_message;
  ASSERT_EQ((*found)["messages"].size(), 1u);
  EXPECT_EQ((*found)["messages"][0]["message"]["author"]["display_name"], ben_name);
}

TEST_F(ForumPseudonymTest, AMentionOfAPseudonymReachesItsMember) {
  const auto cy = governance::policy::Pseudonym(forum_, cy_.user.id);
  Actor dee = MakeUser("dee");  // not a member
  const auto dee_handle = governance::policy::Pseudonym(forum_, dee.user.id).handle;
  json posted = Post(ana_, forum_, "Welcome @" + cy.handle + " and @" + dee_handle, MessageKind::kDiscussion);
  ASSERT_EQ(posted["state"], "published") << "an owner's post is not held";
  EXPECT_EQ(posted["mentions"], json::array({cy_.user.id})) << "members only";
}

TEST_F(ForumPseudonymTest, TheMemberListShowsAccountsToModeratorsOnly) {
  const std::string ben_name = governance::policy::Pseudonym(forum_, ben_.user.id).display_name;
  auto as_member = services_->spaces.ListMembers(cy_, forum_, 0, 50);
  ASSERT_TRUE(as_member);
  const std::string member_view = as_member->dump();
  EXPECT_EQ(member_view.find("User ben"), std::string::npos) << member_view;
  EXPECT_EQ(member_view.find("\"account\""), std::string::npos);
  EXPECT_NE(member_view.find(ben_name), std::string::npos);

  auto as_owner = services_->spaces.ListMembers(ana_, forum_, 0, 50);
  ASSERT_TRUE(as_owner);
  bool found = false;
  for (const auto& m : (*as_owner)["items"]) {
    if (m["user_id"] != ben_.user.id) continue;
    found = true;
    EXPECT_EQ(m["user"]["display_name"], ben_name);
    EXPECT_EQ(m["pseudonym"], ben_name);
    EXPECT_EQ(m["account"]["display_name"], "User ben");
  }
  EXPECT_TRUE(found);

  // A member added later is announced by pseudonym.
  ClearPublished();
  Actor dee = MakeUser("dee");
  ASSERT_TRUE(services_->spaces.AddMember(ana_, forum_, dee.user.id, MemberRole::kMember));
  const std::string frames = ForumFrames();
  EXPECT_NE(frames.find(governance::policy::Pseudonym(forum_, dee.user.id).display_name), std::string::npos) << frames;
  EXPECT_EQ(frames.find("User dee"), std::string::npos) << frames;
}

TEST_F(ForumPseudonymTest, SpacesWithoutPseudonymsShowNames) {
  const SpaceId team = MakeSpace(ana_, SpaceKind::kChannel, "ward-7");
  ASSERT_TRUE(services_->spaces.AddMember(ana_, team, ben_.user.id, MemberRole::kMember));
  Post(ben_, team, "Handover at seven");
  auto page = services_->messages.List(ana_, team, MessagePage{});
  ASSERT_TRUE(page);
  EXPECT_NE(std::string(page->view()).find("User ben"), std::string::npos);
  EXPECT_FALSE(services_->spaces.Get(ben_, team)->contains("my_pseudonym"));
  // And one member's pseudonym differs from forum to forum.
  EXPECT_NE(governance::policy::Pseudonym(forum_, ben_.user.id).display_name,
            governance::policy::Pseudonym(team, ben_.user.id).display_name);
}

}  // namespace
}  // namespace rounds::app
