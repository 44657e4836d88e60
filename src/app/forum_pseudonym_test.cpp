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
  std::string NameOf(const Actor& a) { return services_->policy.pseudonyms().Name(forum_, a.user.id).display_name; }
  std::string HandleOf(const Actor& a) { return services_->policy.pseudonyms().Name(forum_, a.user.id).handle; }
  UserId IdOf(const Actor& a) { return services_->policy.pseudonyms().Id(forum_, a.user.id); }
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
  const std::string ben_name = NameOf(ben_);
  const std::string cy_name = NameOf(cy_);
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
  EXPECT_EQ((*thread)["items"][0]["author_id"], IdOf(cy_)) << "the id members know cy by";
  const std::string frames = ForumFrames();
  EXPECT_NE(frames.find(ben_name), std::string::npos);
  EXPECT_EQ(frames.find("User ben"), std::string::npos) << frames;
  EXPECT_EQ(frames.find("User cy"), std::string::npos) << frames;

  // Each member is told the name they go by.
  auto seen = services_->spaces.Get(ben_, forum_);
  ASSERT_TRUE(seen);
  EXPECT_EQ((*seen)["my_pseudonym"], ben_name);
  EXPECT_EQ((*seen)["my_member_id"], IdOf(ben_)) << "how clients know their own messages";

  // Search answers the same way.
  auto found = services_->search.Search(cy_, "bypass", 20, 0);
  ASSERT_TRUE(found) << found.error().public_message;
  ASSERT_EQ((*found)["messages"].size(), 1u);
  EXPECT_EQ((*found)["messages"][0]["message"]["author"]["display_name"], ben_name);
}

TEST_F(ForumPseudonymTest, AMentionOfAPseudonymReachesItsMember) {
  Actor dee = MakeUser("dee");  // not a member
  json posted = Post(ana_, forum_, "Welcome @" + HandleOf(cy_) + " and @" + HandleOf(dee), MessageKind::kDiscussion);
  ASSERT_EQ(posted["state"], "published") << "an owner's post is not held";
  EXPECT_EQ(posted["mentions"], json::array({IdOf(cy_)})) << "members only, by the ids members know";
  // The mentioned member is told by the id the forum knows the author by.
  bool told = false;
  for (const auto& e : Published()) {
    if (e.type != "mention") continue;
    told = true;
    EXPECT_EQ(json::parse(*e.frame)["data"]["author_id"], IdOf(ana_)) << *e.frame;
  }
  EXPECT_TRUE(told);
}

TEST_F(ForumPseudonymTest, AUsernameMentionsNoOneWherePseudonymsAreUsed) {
  // "@ben" would tell the poster whether ben is a member, and which pseudonym is his.
  json posted = Post(ana_, forum_, "Is @ben here? Or @cy?", MessageKind::kDiscussion);
  ASSERT_EQ(posted["state"], "published");
  EXPECT_EQ(posted["mentions"], json::array());
}

TEST_F(ForumPseudonymTest, TheMemberListShowsAccountsToModeratorsOnly) {
  const std::string ben_name = NameOf(ben_);
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
    if (m["user_id"] != IdOf(ben_)) continue;
    found = true;
    EXPECT_EQ(m["account"]["id"], ben_.user.id) << "moderators see whose it is";
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
  EXPECT_NE(frames.find(NameOf(dee)), std::string::npos) << frames;
  EXPECT_EQ(frames.find("User dee"), std::string::npos) << frames;
  // And told, in the space they were added to, the name and the id they go by: theirs, not the
  // name of the owner who added them.
  bool told = false;
  for (const auto& e : Published()) {
    if (e.type != "space.added") continue;
    told = true;
    const json view = json::parse(*e.frame)["data"];
    EXPECT_EQ(view["my_pseudonym"], NameOf(dee)) << view.dump();
    EXPECT_EQ(view["my_member_id"], IdOf(dee));
  }
  EXPECT_TRUE(told);
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
  EXPECT_NE(NameOf(ben_), services_->policy.pseudonyms().Name(team, ben_.user.id).display_name);
  EXPECT_EQ((*services_->spaces.Get(ben_, team))["my_member_id"], ben_.user.id) << "the account's id elsewhere";
}

// Every id of a person in `j` that a forum's members read: an author's, a member's, a mention's,
// the user's of an event. `where` names the place for the failure message.
void ExpectNoAccountIds(const json& j, const std::string& where) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if ((key == "author_id" || key == "user_id") && value.is_number_integer()) {
        EXPECT_LT(value.get<std::int64_t>(), 0) << where << ": " << key << " in " << j.dump();
      }
      if ((key == "author" || key == "user") && value.is_object() && value.contains("id")) {
        EXPECT_LT(value["id"].get<std::int64_t>(), 0) << where << ": " << key << ".id in " << j.dump();
      }
      if (key == "mentions" && value.is_array()) {
        for (const auto& id : value) EXPECT_LT(id.get<std::int64_t>(), 0) << where << ": mentions in " << j.dump();
      }
      ExpectNoAccountIds(value, where);
    }
  } else if (j.is_array()) {
    for (const auto& item : j) ExpectNoAccountIds(item, where);
  }
}

TEST_F(ForumPseudonymTest, NoAccountIdOfAMemberLeavesTheForumForItsMembers) {
  ClearPublished();
  const MessageId post = Approved(ben_, "Walking after my bypass: how far did you start? @" + HandleOf(cy_));
  const MessageId reply = Approved(cy_, "Ten minutes a day, then more", post);
  auto reacted = services_->messages.React(cy_, post, "\xF0\x9F\x91\x8D", true);
  ASSERT_TRUE(reacted) << reacted.error().public_message;
  EXPECT_EQ((*reacted)["user_id"], IdOf(cy_));
  ASSERT_TRUE(services_->events.Typing(ben_, forum_));

  auto page = services_->messages.List(cy_, forum_, MessagePage{});
  ASSERT_TRUE(page);
  ExpectNoAccountIds(json::parse(page->view()), "page");
  auto thread = services_->messages.Thread(cy_, post);
  ASSERT_TRUE(thread);
  ExpectNoAccountIds(*thread, "thread");
  EXPECT_EQ((*thread)["root"]["mentions"], json::array({IdOf(cy_)}));
  auto members = services_->spaces.ListMembers(cy_, forum_, 0, 50);
  ASSERT_TRUE(members);
  ExpectNoAccountIds(*members, "member list");
  auto found = services_->search.Search(cy_, "bypass", 20, 0);
  ASSERT_TRUE(found);
  ExpectNoAccountIds(*found, "search");
  int frames = 0;
  for (const auto& e : Published()) {
    const json frame = json::parse(*e.frame);
    // Events of the forum, typing in it, and mentions of what was posted in it.
    const bool forum_frame = e.space_id == forum_ || frame.value("space_id", SpaceId{0}) == forum_ ||
                             (frame.contains("data") && frame["data"].is_object() &&
                              frame["data"].value("space_id", SpaceId{0}) == forum_ && e.type != "moderation.action");
    if (!forum_frame) continue;
    ++frames;
    ExpectNoAccountIds(frame, e.type);
  }
  EXPECT_GE(frames, 5);

  // Members are taken out and given roles by the ids they are listed by.
  ASSERT_TRUE(services_->spaces.SetRole(ana_, forum_, IdOf(ben_), MemberRole::kReadOnly));
  auto membership = store_->Read([&](store::ReadTx& tx) { return tx.FindMembership(forum_, ben_.user.id); });
  ASSERT_TRUE(membership && *membership);
  EXPECT_EQ((*membership)->role, MemberRole::kReadOnly);
  ASSERT_TRUE(services_->spaces.RemoveMember(ana_, forum_, IdOf(cy_)));
  membership = store_->Read([&](store::ReadTx& tx) { return tx.FindMembership(forum_, cy_.user.id); });
  ASSERT_TRUE(membership);
  EXPECT_FALSE(membership->has_value());
  auto nobody = services_->spaces.RemoveMember(ana_, forum_, IdOf(cy_) - 7919);
  EXPECT_FALSE(nobody);
  (void)reply;
}

TEST_F(ForumPseudonymTest, PseudonymsAreNotTurnedOnOrOffInASpacePeopleHaveUsed) {
  Actor officer = MakeUser("officer");
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) -> Status {
    officer.user.is_compliance = true;
    return tx.UpdateUser(officer.user);
  }));
  const int forum_version = governance::policy::FindBuiltIn("patient-forum")->version;
  const int community_version = governance::policy::FindBuiltIn("internal-community")->version;
  // A channel people have written in keeps the names its members posted under.
  const SpaceId team = MakeSpace(ana_, SpaceKind::kCommunity, "walking group", Visibility::kPublic);
  ASSERT_TRUE(services_->spaces.AddMember(ana_, team, ben_.user.id, MemberRole::kMember));
  Post(ben_, team, "Saturday at nine", MessageKind::kDiscussion);
  auto on = services_->governance.AssignTemplate(officer, team, "patient-forum", forum_version, "move it");
  ASSERT_FALSE(on);
  EXPECT_EQ(on.error().problem, "pseudonyms_fixed");
  // Nor does a forum whose members posted under pseudonyms lose them.
  Approved(ben_, "Under my pseudonym");
  auto off = services_->governance.AssignTemplate(officer, forum_, "internal-community", community_version, "open it");
  ASSERT_FALSE(off);
  EXPECT_EQ(off.error().problem, "pseudonyms_fixed");
  // A space no one has used yet can still be given them.
  const SpaceId fresh = MakeSpace(ana_, SpaceKind::kCommunity, "new circle", Visibility::kPublic);
  auto assigned = services_->governance.AssignTemplate(officer, fresh, "patient-forum", forum_version, "set up");
  ASSERT_TRUE(assigned) << assigned.error().public_message;
  EXPECT_EQ((*services_->spaces.Get(ana_, fresh))["my_pseudonym"],
            services_->policy.pseudonyms().Name(fresh, ana_.user.id).display_name);
}

}  // namespace
}  // namespace rounds::app
