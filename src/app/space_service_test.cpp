// SpaceService against a real SQLite store: membership, direct conversations, read markers and
// the events each change publishes.
#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::Parsed;

class SpaceTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ana_ = MakeUser("ana");
    ben_ = MakeUser("ben");
    cy_ = MakeUser("cy");
  }
  json FindIn(const json& items, SpaceId id) {
    for (const auto& s : items) {
      if (s["id"] == id) return s;
    }
    return nullptr;
  }
  std::vector<std::string> EventTypes(SpaceId space) {
    std::vector<std::string> types;
    for (const auto& e : Published()) {
      if (e.space_id == space) types.push_back(e.type);
    }
    return types;
  }
  // User-addressed events of `type` that reached `user`.
  std::vector<json> UserEvents(const std::string& type, UserId user) {
    std::vector<json> out;
    for (const auto& e : Published()) {
      if (e.space_id != 0 || e.type != type || !e.recipients) continue;
      if (std::find(e.recipients->begin(), e.recipients->end(), user) != e.recipients->end()) {
        out.push_back(json::parse(*e.frame));
      }
    }
    return out;
  }
  Actor ana_, ben_, cy_;
};

TEST_F(SpaceTest, CreatingMakesTheCreatorOwnerAndAnnouncesIt) {
  auto created = services_->spaces.Create(ana_, {SpaceKind::kCommunity, "Sepsis QI", "Faster antibiotics",
                                                 Visibility::kPublic, JoinPolicy::kOpen});
  ASSERT_TRUE(created);
  EXPECT_EQ((*created)["my_role"], "owner");
  EXPECT_EQ((*created)["member_count"], 1);
  EXPECT_EQ((*created)["kind"], "community");
  EXPECT_EQ((*created)["topic"], "Faster antibiotics");
  SpaceId id = (*created)["id"];
  EXPECT_EQ(EventTypes(id), std::vector<std::string>{"member.joined"});
  ASSERT_EQ(UserEvents("space.added", ana_.user.id).size(), 1u);
  EXPECT_EQ(UserEvents("space.added", ana_.user.id)[0]["data"]["id"], id);
}

TEST_F(SpaceTest, NamesAndTopicsAreValidatedAndPrivateSpacesAreInviteOnly) {
  EXPECT_EQ(services_->spaces.Create(ana_, {SpaceKind::kChannel, "", "", Visibility::kPublic, JoinPolicy::kOpen})
                .error().field, "/name");
  EXPECT_EQ(services_->spaces.Create(ana_, {SpaceKind::kChannel, std::string(81, 'n'), "", Visibility::kPublic,
                                            JoinPolicy::kOpen}).error().field, "/name");
  EXPECT_EQ(services_->spaces.Create(ana_, {SpaceKind::kChannel, "ok", std::string(501, 't'), Visibility::kPublic,
                                            JoinPolicy::kOpen}).error().field, "/topic");
  EXPECT_EQ(services_->spaces.Create(ana_, {SpaceKind::kDirect, "dm", "", Visibility::kPrivate, JoinPolicy::kInvite})
                .error().field, "/kind");
  auto hidden = services_->spaces.Create(ana_, {SpaceKind::kChannel, "hidden", "", Visibility::kPrivate, JoinPolicy::kOpen});
  ASSERT_TRUE(hidden);
  EXPECT_EQ((*hidden)["join_policy"], "invite");
}

TEST_F(SpaceTest, JoiningAPublicSpaceStartsWithNothingUnread) {
  SpaceId id = MakeSpace(ana_, SpaceKind::kChannel, "huddle");
  for (int i = 0; i < 3; ++i) Post(ana_, id, "before you came " + std::to_string(i));
  auto joined = services_->spaces.Join(ben_, id);
  ASSERT_TRUE(joined);
  EXPECT_EQ((*joined)["my_role"], "member");
  EXPECT_EQ((*joined)["unread_count"], 0);
  json mine = FindIn((*services_->spaces.ListMine(ben_))["items"], id);
  EXPECT_EQ(mine["unread_count"], 0);
  EXPECT_EQ(services_->spaces.Join(ben_, id).error().problem, "already_member");
}

TEST_F(SpaceTest, InviteOnlyAndArchivedSpacesCannotBeJoined) {
  SpaceId invite = MakeSpace(ana_, SpaceKind::kCommunity, "by invitation");
  SpacePatch closed;
  closed.join_policy = JoinPolicy::kInvite;
  ASSERT_TRUE(services_->spaces.Update(ana_, invite, closed));
  EXPECT_EQ(services_->spaces.Join(ben_, invite).error().problem, "invitation_required");
  SpaceId archived = MakeSpace(ana_, SpaceKind::kCommunity, "old project");
  SpacePatch archive;
  archive.archived = true;
  ASSERT_TRUE(services_->spaces.Update(ana_, archived, archive));
  EXPECT_EQ(services_->spaces.Join(ben_, archived).error().problem, "space_archived");
}

TEST_F(SpaceTest, UnreadCountsCountOthersMessagesAfterTheReadMarker) {
  SpaceId id = MakeSpace(ana_, SpaceKind::kChannel, "ward-7");
  ASSERT_TRUE(services_->spaces.AddMember(ana_, id, ben_.user.id, MemberRole::kMember));
  Post(ana_, id, "one");
  Post(ana_, id, "two");
  json last = Post(ana_, id, "three @ben");
  Post(ben_, id, "my own message does not count");
  json ben_view = FindIn((*services_->spaces.ListMine(ben_))["items"], id);
  EXPECT_EQ(ben_view["unread_count"], 3);
  EXPECT_EQ(ben_view["unread_mentions"], 1);
  EXPECT_EQ(FindIn((*services_->spaces.ListMine(ana_))["items"], id)["unread_count"], 1);
  ASSERT_TRUE(services_->spaces.MarkRead(ben_, id, last["seq"]));
  ben_view = FindIn((*services_->spaces.ListMine(ben_))["items"], id);
  EXPECT_EQ(ben_view["unread_count"], 0);
  EXPECT_EQ(ben_view["read_seq"], last["seq"]);
}

TEST_F(SpaceTest, ReadMarkersOnlyMoveForwardAndTellTheReadersOtherTabs) {
  SpaceId id = MakeSpace(ana_, SpaceKind::kChannel, "markers");
  json m1 = Post(ana_, id, "one");
  json m2 = Post(ana_, id, "two");
  ASSERT_TRUE(services_->spaces.MarkRead(ana_, id, m2["seq"]));
  ASSERT_TRUE(services_->spaces.MarkRead(ana_, id, m1["seq"]));
  EXPECT_EQ((*services_->spaces.Get(ana_, id))["read_seq"], m2["seq"]);
  ASSERT_TRUE(services_->spaces.MarkRead(ana_, id, 1'000'000));
  EXPECT_EQ((*services_->spaces.Get(ana_, id))["read_seq"], (*services_->spaces.Get(ana_, id))["last_seq"])
      << "capped at the newest event";
  auto updates = UserEvents("read.updated", ana_.user.id);
  ASSERT_EQ(updates.size(), 3u);
  EXPECT_EQ(updates[0], (json{{"type", "user"}, {"event", "read.updated"},
                              {"data", {{"space_id", id}, {"read_seq", m2["seq"]}}}}));
  EXPECT_EQ(updates[1]["data"]["read_seq"], m2["seq"]) << "a stale marker reports the stored one";
  EXPECT_EQ(services_->spaces.MarkRead(ana_, id, -1).error().field, "/seq");
}

TEST_F(SpaceTest, DiscoverListsPublicSpacesTheCallerIsNotIn) {
  SpaceId open = MakeSpace(ana_, SpaceKind::kCommunity, "Pharmacy Q&A");
  SpaceId mine = MakeSpace(ben_, SpaceKind::kCommunity, "Pharmacy rota");
  SpaceId hidden = MakeSpace(ana_, SpaceKind::kChannel, "pharmacy-leads", Visibility::kPrivate);
  auto found = services_->spaces.Discover(ben_, "pharmacy", 0, 50);
  ASSERT_TRUE(found);
  EXPECT_FALSE(FindIn((*found)["items"], open).is_null());
  EXPECT_TRUE(FindIn((*found)["items"], mine).is_null());
  EXPECT_TRUE(FindIn((*found)["items"], hidden).is_null());
  EXPECT_TRUE(FindIn((*found)["items"], open)["my_role"].is_null());
}

TEST_F(SpaceTest, ComplianceOfficersListEverySpaceAndNobodyElseDoes) {
  SpaceId open = MakeSpace(ana_, SpaceKind::kCommunity, "Pharmacy Q&A");
  SpaceId hidden = MakeSpace(ana_, SpaceKind::kChannel, "pharmacy-leads", Visibility::kPrivate);
  SpaceId closed = MakeSpace(ana_, SpaceKind::kChannel, "pharmacy-2019");
  SpacePatch archive;
  archive.archived = true;
  ASSERT_TRUE(services_->spaces.Update(ana_, closed, archive));
  SpaceId other = MakeSpace(ana_, SpaceKind::kChannel, "wound-care", Visibility::kPrivate);
  auto direct = services_->spaces.Direct(ana_, {ben_.user.id});
  ASSERT_TRUE(direct);
  const SpaceId dm = (*direct)["id"];
  Post(ana_, hidden, "the lead rota");

  // Nobody but an officer, whatever else they may do: not the owner of every space, not an admin.
  for (const Actor& caller : {ana_, ben_, MakeUser("root", true)}) {
    auto refused = services_->spaces.Directory(caller, "", std::nullopt, 0, 50);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
    EXPECT_EQ(refused.error().problem, "compliance_required");
  }
  // The account is read again: a session of an officer whose role was taken away is refused.
  Actor officer = MakeUser("officer");
  officer.user.is_compliance = true;
  EXPECT_EQ(services_->spaces.Directory(officer, "", std::nullopt, 0, 50).error().problem, "compliance_required");
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) -> Status { return tx.UpdateUser(officer.user); }));

  // Private, archived and direct spaces too, found by name, none of them the officer's.
  auto found = services_->spaces.Directory(officer, "pharmacy", std::nullopt, 0, 50);
  ASSERT_TRUE(found) << found.error().public_message;
  std::vector<SpaceId> ids;
  for (const auto& s : (*found)["items"]) ids.push_back(s["id"]);
  EXPECT_EQ(ids, (std::vector<SpaceId>{open, hidden, closed}));
  const json leads = FindIn((*found)["items"], hidden);
  EXPECT_EQ(leads["visibility"], "private");
  EXPECT_TRUE(leads["my_role"].is_null());
  EXPECT_EQ(leads["template"]["key"], "internal-community");
  EXPECT_EQ(FindIn((*found)["items"], closed)["archived"], true);
  EXPECT_FALSE(leads.contains("last_message")) << "what a space is, never what it says";
  // Without a kind, communities and channels; direct conversations when asked for, named by their
  // people.
  auto all = services_->spaces.Directory(officer, "", std::nullopt, 0, 50);
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)["items"].size(), 4u);
  EXPECT_FALSE(FindIn((*all)["items"], other).is_null());
  EXPECT_TRUE(FindIn((*all)["items"], dm).is_null());
  auto directs = services_->spaces.Directory(officer, "", SpaceKind::kDirect, 0, 50);
  ASSERT_TRUE(directs);
  ASSERT_EQ((*directs)["items"].size(), 1u);
  EXPECT_EQ((*directs)["items"][0]["id"], dm);
  EXPECT_EQ((*directs)["items"][0]["members"].size(), 2u);
  // A direct conversation is found by a member's name (it has none of its own), and only then.
  auto by_member = services_->spaces.Directory(officer, ben_.user.display_name, SpaceKind::kDirect, 0, 50);
  ASSERT_TRUE(by_member);
  ASSERT_EQ((*by_member)["items"].size(), 1u);
  EXPECT_EQ((*by_member)["items"][0]["id"], dm);
  EXPECT_TRUE((*services_->spaces.Directory(officer, "nobody-by-this-name", SpaceKind::kDirect, 0, 50))["items"].empty());
  auto channels = services_->spaces.Directory(officer, "", SpaceKind::kChannel, 0, 50);
  ASSERT_TRUE(channels);
  EXPECT_EQ((*channels)["items"].size(), 3u);

  // Pages in id order.
  auto first = services_->spaces.Directory(officer, "", std::nullopt, 0, 2);
  ASSERT_TRUE(first);
  ASSERT_EQ((*first)["items"].size(), 2u);
  ASSERT_TRUE((*first)["next_cursor"].is_string());
  auto second = services_->spaces.Directory(officer, "", std::nullopt, std::stoll((*first)["next_cursor"].get<std::string>()), 50);
  ASSERT_TRUE(second);
  ASSERT_EQ((*second)["items"].size(), 2u);
  EXPECT_EQ((*second)["items"][0]["id"], closed);
  EXPECT_TRUE((*second)["next_cursor"].is_null());
}

TEST_F(SpaceTest, MembersAreAddedRolesChangedAndRemovedWithEvents) {
  SpaceId id = MakeSpace(ana_, SpaceKind::kCommunity, "team");
  auto added = services_->spaces.AddMember(ana_, id, ben_.user.id, MemberRole::kModerator);
  ASSERT_TRUE(added);
  EXPECT_EQ((*added)["role"], "moderator");
  EXPECT_EQ((*added)["user"]["username"], "ben");
  EXPECT_EQ(services_->spaces.AddMember(ana_, id, ben_.user.id, MemberRole::kMember).error().problem, "already_member");
  EXPECT_EQ(services_->spaces.AddMember(ana_, id, 999'999, MemberRole::kMember).error().problem, "unknown_user");
  // A moderator may add people but not owners.
  EXPECT_EQ(services_->spaces.AddMember(ben_, id, cy_.user.id, MemberRole::kOwner).error().problem, "owner_required");
  ASSERT_TRUE(services_->spaces.AddMember(ben_, id, cy_.user.id, MemberRole::kMember));
  ASSERT_TRUE(services_->spaces.SetRole(ana_, id, cy_.user.id, MemberRole::kReadOnly));
  auto members = services_->spaces.ListMembers(ana_, id, 0, 50);
  ASSERT_TRUE(members);
  ASSERT_EQ((*members)["items"].size(), 3u);
  EXPECT_EQ((*members)["items"][2]["role"], "read_only");
  ASSERT_TRUE(services_->spaces.RemoveMember(ben_, id, cy_.user.id));
  EXPECT_EQ(EventTypes(id), (std::vector<std::string>{"member.joined", "member.joined", "member.joined",
                                                      "member.role", "member.left"}));
  // The removed person hears about it on both channels.
  for (const auto& e : Published()) {
    if (e.type == "member.left") {
      EXPECT_NE(std::find(e.recipients->begin(), e.recipients->end(), cy_.user.id), e.recipients->end());
    }
  }
  EXPECT_EQ(UserEvents("space.removed", cy_.user.id).size(), 1u);
  EXPECT_EQ(UserEvents("space.added", cy_.user.id).size(), 1u);
  EXPECT_EQ(services_->spaces.RemoveMember(ben_, id, ana_.user.id).error().problem, "owner_required")
      << "moderators cannot remove owners";
}

TEST_F(SpaceTest, TheLastOwnerCannotLeaveOrBeDemoted) {
  SpaceId id = MakeSpace(ana_, SpaceKind::kCommunity, "owned");
  ASSERT_TRUE(services_->spaces.AddMember(ana_, id, ben_.user.id, MemberRole::kMember));
  EXPECT_EQ(services_->spaces.Leave(ana_, id).error().problem, "last_owner");
  EXPECT_EQ(services_->spaces.SetRole(ana_, id, ana_.user.id, MemberRole::kMember).error().problem, "last_owner");
  ASSERT_TRUE(services_->spaces.SetRole(ana_, id, ben_.user.id, MemberRole::kOwner));
  EXPECT_TRUE(services_->spaces.Leave(ana_, id));
  EXPECT_EQ(services_->spaces.Get(ben_, id).value()["member_count"], 1);
}

TEST_F(SpaceTest, ArchivingStopsPostingButKeepsReading) {
  SpaceId id = MakeSpace(ana_, SpaceKind::kChannel, "closing");
  Post(ana_, id, "last words");
  SpacePatch archive;
  archive.archived = true;
  auto updated = services_->spaces.Update(ana_, id, archive);
  ASSERT_TRUE(updated);
  EXPECT_EQ((*updated)["archived"], true);
  Draft d;
  d.body = "too late";
  EXPECT_EQ(services_->messages.Post(ana_, id, d).error().problem, "space_archived");
  EXPECT_EQ(Parsed(services_->messages.List(ana_, id, {}))["items"].size(), 1u);
  EXPECT_EQ(EventTypes(id).back(), "space.updated");
}

TEST_F(SpaceTest, ADirectConversationIsOnePerSetOfPeople) {
  auto first = services_->spaces.Direct(ana_, {ben_.user.id});
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)["kind"], "direct");
  EXPECT_EQ((*first)["visibility"], "private");
  EXPECT_EQ((*first)["members"].size(), 2u);
  auto back = services_->spaces.Direct(ben_, {ana_.user.id, ben_.user.id});
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)["id"], (*first)["id"]) << "the same two people, whoever starts it";
  auto group = services_->spaces.Direct(ana_, {cy_.user.id, ben_.user.id, cy_.user.id});
  ASSERT_TRUE(group);
  EXPECT_NE((*group)["id"], (*first)["id"]) << "a different set is a different conversation";
  EXPECT_EQ((*group)["members"].size(), 3u);
  EXPECT_EQ((*services_->spaces.Direct(cy_, {ben_.user.id, ana_.user.id}))["id"], (*group)["id"]);
  EXPECT_EQ(UserEvents("space.added", cy_.user.id).size(), 1u) << "announced once, when created";
  // Each person is told of it as they see it: under their own id, which is how the app tells their
  // messages from the others' (a view with the starter's id counted no one else's as unread).
  for (const Actor* person : {&ana_, &ben_, &cy_}) {
    const auto told = UserEvents("space.added", person->user.id);
    ASSERT_FALSE(told.empty());
    EXPECT_EQ(told.back()["data"]["id"], (*group)["id"]);
    EXPECT_EQ(told.back()["data"]["my_member_id"], person->user.id) << person->user.username;
    EXPECT_EQ(told.back()["data"]["members"].size(), 3u);
  }
}

// A conversation left while leaving was still possible (its membership gone from the store) is
// its person's again when they open it: a member once more, and able to read it.
TEST_F(SpaceTest, ADirectConversationLeftBeforeLeavingWasRefusedTakesItsPersonBack) {
  auto first = services_->spaces.Direct(ana_, {ben_.user.id});
  ASSERT_TRUE(first);
  const SpaceId id = (*first)["id"];
  EXPECT_EQ(services_->spaces.RemoveMember(ana_, id, ana_.user.id).error().problem, "invalid_value");
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) -> Status { return tx.DeleteMembership(id, ana_.user.id); }));
  ASSERT_FALSE(services_->messages.List(ana_, id, {}));
  const std::size_t ben_told = UserEvents("space.added", ben_.user.id).size();
  auto back = services_->spaces.Direct(ana_, {ben_.user.id});
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)["id"], id);
  EXPECT_EQ((*back)["my_role"], "member");
  EXPECT_EQ(UserEvents("space.added", ana_.user.id).back()["data"]["my_member_id"], ana_.user.id);
  EXPECT_EQ(UserEvents("space.added", ben_.user.id).size(), ben_told) << "Ben had it all along";
  EXPECT_TRUE(services_->messages.List(ana_, id, {}));
}

TEST_F(SpaceTest, DirectConversationsRefuseBadPeopleAndStayClosed) {
  EXPECT_EQ(services_->spaces.Direct(ana_, {ana_.user.id}).error().field, "/user_ids");
  std::vector<UserId> crowd;
  for (int i = 0; i < 9; ++i) crowd.push_back(MakeUser("crowd" + std::to_string(i)).user.id);
  EXPECT_EQ(services_->spaces.Direct(ana_, crowd).error().field, "/user_ids");
  EXPECT_EQ(services_->spaces.Direct(ana_, {424242}).error().problem, "unknown_user");
  Actor gone = MakeUser("gone");
  UserPatch disable;
  disable.disabled = true;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), gone.user.id, disable));
  EXPECT_EQ(services_->spaces.Direct(ana_, {gone.user.id}).error().problem, "unknown_user");

  SpaceId dm = (*services_->spaces.Direct(ana_, {ben_.user.id}))["id"];
  EXPECT_EQ(services_->spaces.Get(cy_, dm).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(services_->spaces.Join(cy_, dm).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(services_->spaces.Leave(ana_, dm).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(services_->spaces.AddMember(ana_, dm, cy_.user.id, MemberRole::kMember).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace rounds::app

// A space whose template admits people on request: staff ask, its moderators and owners are told
// and decide, an approved request makes a member and a declined one tells its asker. No one gets
// in by asking alone, and only those who may add members see or decide the requests.
namespace rounds::app {
namespace {

TEST_F(SpaceTest, ASpaceJoinedOnRequestAdmitsWhomItsModeratorsApprove) {
  NewSpace forum{SpaceKind::kCommunity, "heart health circle", "", Visibility::kPublic, JoinPolicy::kOpen, "patient-forum"};
  auto created = services_->spaces.Create(ana_, forum);
  ASSERT_TRUE(created) << created.error().public_message;
  const SpaceId id = (*created)["id"];
  ASSERT_TRUE(services_->spaces.AddMember(ana_, id, cy_.user.id, MemberRole::kModerator));

  auto seen = services_->spaces.Get(ben_, id);
  ASSERT_TRUE(seen);
  EXPECT_EQ((*seen)["joining"], "request");
  EXPECT_EQ((*seen)["join_requested"], false);
  EXPECT_EQ(services_->spaces.Join(ben_, id).error().problem, "join_request_required");

  ClearPublished();
  auto asked = services_->spaces.RequestToJoin(ben_, id);
  ASSERT_TRUE(asked) << asked.error().public_message;
  EXPECT_EQ((*asked)["user"]["id"], ben_.user.id);
  EXPECT_EQ(services_->spaces.Get(ben_, id)->at("join_requested"), true);
  EXPECT_EQ(services_->spaces.RequestToJoin(ben_, id).error().problem, "already_requested");
  // The owner and the moderator are told; the asker is not yet a member.
  EXPECT_EQ(UserEvents("space.join_request", ana_.user.id).size(), 1u);
  EXPECT_EQ(UserEvents("space.join_request", cy_.user.id).size(), 1u);
  EXPECT_FALSE(store_->Read([&](store::ReadTx& tx) { return tx.FindMembership(id, ben_.user.id); })->has_value());
  EXPECT_FALSE(services_->messages.Post(ben_, id, Draft{.body = "hello"}));

  // Only those who may add members see and decide requests.
  Actor dee = MakeUser("dee");
  EXPECT_EQ(services_->spaces.ListJoinRequests(dee, id).error().problem, "moderator_required");
  EXPECT_EQ(services_->spaces.DecideJoinRequest(dee, id, ben_.user.id, true).error().problem, "moderator_required");
  auto listed = services_->spaces.ListJoinRequests(cy_, id);
  ASSERT_TRUE(listed);
  ASSERT_EQ((*listed)["items"].size(), 1u);
  EXPECT_EQ((*listed)["items"][0]["user"]["id"], ben_.user.id);

  ClearPublished();
  auto approved = services_->spaces.DecideJoinRequest(cy_, id, ben_.user.id, true);
  ASSERT_TRUE(approved) << approved.error().public_message;
  EXPECT_EQ((*approved)["decision"], "approved");
  auto membership = store_->Read([&](store::ReadTx& tx) { return tx.FindMembership(id, ben_.user.id); });
  ASSERT_TRUE(membership && *membership);
  EXPECT_EQ((*membership)->role, MemberRole::kMember);
  EXPECT_EQ(UserEvents("space.added", ben_.user.id).size(), 1u);
  EXPECT_EQ(EventTypes(id), std::vector<std::string>{"member.joined"});
  EXPECT_TRUE(services_->spaces.ListJoinRequests(cy_, id)->at("items").empty());
  EXPECT_EQ(services_->spaces.DecideJoinRequest(cy_, id, ben_.user.id, true).error().code, ErrorCode::kNotFound)
      << "decided once";

  // Declined: the asker is told and may ask again; a withdrawn request is gone.
  ASSERT_TRUE(services_->spaces.RequestToJoin(dee, id));
  ClearPublished();
  auto declined = services_->spaces.DecideJoinRequest(ana_, id, dee.user.id, false);
  ASSERT_TRUE(declined);
  EXPECT_EQ((*declined)["decision"], "declined");
  ASSERT_EQ(UserEvents("space.join_request", dee.user.id).size(), 1u);
  EXPECT_EQ(UserEvents("space.join_request", dee.user.id)[0]["data"]["change"], "declined");
  EXPECT_FALSE(store_->Read([&](store::ReadTx& tx) { return tx.FindMembership(id, dee.user.id); })->has_value());
  ASSERT_TRUE(services_->spaces.RequestToJoin(dee, id));
  ASSERT_TRUE(services_->spaces.WithdrawJoinRequest(dee, id));
  EXPECT_EQ(services_->spaces.WithdrawJoinRequest(dee, id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(services_->spaces.ListJoinRequests(ana_, id)->at("items").empty());

  // Adding someone who asked settles their request.
  ASSERT_TRUE(services_->spaces.RequestToJoin(dee, id));
  ASSERT_TRUE(services_->spaces.AddMember(ana_, id, dee.user.id, MemberRole::kMember));
  EXPECT_TRUE(services_->spaces.ListJoinRequests(ana_, id)->at("items").empty());

  // Open and invitation spaces are not asked to join.
  const SpaceId open = MakeSpace(ana_, SpaceKind::kChannel, "open-room");
  EXPECT_EQ(services_->spaces.RequestToJoin(ben_, open).error().problem, "join_open");
  NewSpace team{SpaceKind::kChannel, "ward team", "", Visibility::kPublic, JoinPolicy::kOpen, "clinical-team"};
  auto clinical = services_->spaces.Create(ana_, team);
  ASSERT_TRUE(clinical);
  EXPECT_EQ(services_->spaces.RequestToJoin(ben_, (*clinical)["id"]).error().problem, "invitation_required");

  // Each request and decision is on the audit trail.
  auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 10000); });
  ASSERT_TRUE(records);
  std::map<std::string, int> actions;
  for (const auto& r : *records) ++actions[r.action];
  EXPECT_EQ(actions["member.join_request"], 4);
  EXPECT_EQ(actions["member.join_approve"], 1);
  EXPECT_EQ(actions["member.join_decline"], 1);
  EXPECT_EQ(actions["member.join_withdraw"], 1);
}

}  // namespace
}  // namespace rounds::app
