// Guests against a real SQLite store: accounts from outside the organization that reach only the
// spaces they are added to, and only where the space's policy template allows guests.
#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;

class GuestTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ana_ = MakeUser("ana");
    officer_ = MakeUser("privacy");
    UserPatch patch;
    patch.is_compliance = true;
    ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), officer_.user.id, patch));
    officer_.user.is_compliance = true;
    json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
    doc["key"] = "with-guests";
    doc["name"] = "Community with guests";
    doc["guests_allowed"] = true;
    ASSERT_TRUE(services_->governance.CreateTemplate(officer_, doc));
    NewSpace shared{SpaceKind::kChannel, "vendor go-live", "", Visibility::kPrivate, JoinPolicy::kInvite, "with-guests"};
    auto created = services_->spaces.Create(ana_, shared);
    ASSERT_TRUE(created) << created.error().public_message;
    shared_ = (*created)["id"];
    internal_ = MakeSpace(ana_, SpaceKind::kCommunity, "Nursing practice");  // public, no guests
    guest_ = MakeGuest("vic");
  }
  Actor MakeGuest(const std::string& username) {
    NewUser u;
    u.username = username;
    u.display_name = "Guest " + username;
    u.password = testing::kPassword;
    u.is_guest = true;
    u.fast_hash = true;
    auto created = services_->directory.CreateUser(Actor::System(), u);
    EXPECT_TRUE(created) << created.error().public_message;
    Actor a;
    if (created) a.user = *created;
    return a;
  }
  bool IsMember(SpaceId space, UserId user) {
    auto found = store_->Read([&](store::ReadTx& tx) { return tx.FindMembership(space, user); });
    return found && found->has_value();
  }
  Actor ana_, officer_, guest_;
  SpaceId shared_ = 0, internal_ = 0;
};

TEST_F(GuestTest, AreMembersOnlyWhereTheSpacesPolicyAllowsGuests) {
  EXPECT_TRUE(guest_.user.is_guest);
  EXPECT_EQ(app::UserJson(guest_.user)["is_guest"], true);

  auto refused = services_->spaces.AddMember(ana_, internal_, guest_.user.id, MemberRole::kMember);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPolicyDenied);
  EXPECT_EQ(refused.error().problem, "guests_not_allowed");
  EXPECT_FALSE(IsMember(internal_, guest_.user.id)) << "nothing stored";

  ASSERT_TRUE(services_->spaces.AddMember(ana_, shared_, guest_.user.id, MemberRole::kMember));
  auto posted = services_->messages.Post(guest_, shared_, Draft{.body = "Interface cut-over at 02:00"});
  ASSERT_TRUE(posted) << posted.error().public_message;
  auto created = AuditOf("message.create");
  ASSERT_FALSE(created.empty());
  EXPECT_EQ(created.back().actor_role, "guest") << "the trail says who was a guest";

  // A template that does not allow guests is not given to a space with guests in it.
  auto moved = services_->governance.AssignTemplate(officer_, shared_, "internal-community", 1, "consolidation");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().problem, "guests_not_allowed");
  EXPECT_NE(moved.error().public_message.find("1 guest is a member"), std::string::npos) << moved.error().public_message;
  ASSERT_TRUE(services_->spaces.RemoveMember(ana_, shared_, guest_.user.id));
  EXPECT_TRUE(services_->governance.AssignTemplate(officer_, shared_, "internal-community", 1, "consolidation"));

  // Direct conversations run under a template without guests.
  auto direct = services_->spaces.Direct(ana_, {guest_.user.id});
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().problem, "guests_not_allowed");
}

TEST_F(GuestTest, SeeOnlyTheSpacesTheyAreIn) {
  ASSERT_TRUE(services_->spaces.AddMember(ana_, shared_, guest_.user.id, MemberRole::kMember));
  Post(ana_, internal_, "Falls bundle audit results");
  Post(ana_, shared_, "Falls in the go-live runbook");

  auto own = services_->spaces.Get(guest_, shared_);
  ASSERT_TRUE(own) << own.error().public_message;
  // A public community is public to the organization's staff, not to a guest.
  auto other = services_->spaces.Get(guest_, internal_);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(services_->messages.List(guest_, internal_, MessagePage{}));
  EXPECT_TRUE(services_->spaces.Discover(guest_, "", 0, 50)->at("items").empty());
  EXPECT_EQ(services_->spaces.Join(guest_, internal_).error().problem, "staff_only");
  EXPECT_EQ(services_->spaces.Create(guest_, NewSpace{SpaceKind::kChannel, "side room"}).error().problem, "staff_only");
  EXPECT_EQ(services_->spaces.Direct(guest_, {ana_.user.id}).error().problem, "staff_only");
  EXPECT_EQ(services_->directory.ListUsers(guest_, store::UserQuery{}).error().problem, "staff_only");

  auto found = services_->search.Search(guest_, "falls", 20, 0);
  ASSERT_TRUE(found) << found.error().public_message;
  ASSERT_EQ((*found)["messages"].size(), 1u);
  EXPECT_EQ((*found)["messages"][0]["space"]["id"], shared_);
  EXPECT_TRUE((*found)["people"].empty());

  // Staff still see the public community.
  EXPECT_TRUE(services_->spaces.Get(MakeUser("bea"), internal_));
}

TEST_F(GuestTest, AreMadeWhenTheAccountIsCreatedAndHoldNoRights) {
  NewUser both;
  both.username = "vendor-admin";
  both.display_name = "Vendor admin";
  both.password = testing::kPassword;
  both.is_guest = true;
  both.is_admin = true;
  both.fast_hash = true;
  auto refused = services_->directory.CreateUser(Actor::System(), both);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "guest_rights");

  UserPatch make_guest;
  make_guest.is_guest = true;
  auto late = services_->directory.UpdateUser(Actor::System(), ana_.user.id, make_guest);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().problem, "guest_on_creation_only");

  UserPatch officer;
  officer.is_compliance = true;
  EXPECT_EQ(services_->directory.UpdateUser(Actor::System(), guest_.user.id, officer).error().problem, "guest_rights");

  // Taken on as staff: the flag is cleared, on record, and the public community opens.
  UserPatch hired;
  hired.is_guest = false;
  auto staff = services_->directory.UpdateUser(Actor::System(), guest_.user.id, hired);
  ASSERT_TRUE(staff) << staff.error().public_message;
  EXPECT_EQ((*staff)["is_guest"], false);
  auto roles = AuditOf("user.roles");
  ASSERT_FALSE(roles.empty());
  EXPECT_EQ(json::parse(roles.back().details_json)["is_guest"], false);
  Actor now_staff = guest_;
  now_staff.user.is_guest = false;
  EXPECT_TRUE(services_->spaces.Get(now_staff, internal_));
}

TEST_F(GuestTest, TakePartButDoNotModerateOrOwnSpaces) {
  // A guest moderator could add people by id and be answered with their names: the directory by
  // another door.
  for (MemberRole role : {MemberRole::kModerator, MemberRole::kOwner}) {
    auto refused = services_->spaces.AddMember(ana_, shared_, guest_.user.id, role);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().problem, "guest_role");
    EXPECT_EQ(refused.error().code, ErrorCode::kPolicyDenied);
  }
  EXPECT_FALSE(IsMember(shared_, guest_.user.id));
  ASSERT_TRUE(services_->spaces.AddMember(ana_, shared_, guest_.user.id, MemberRole::kMember));
  auto promoted = services_->spaces.SetRole(ana_, shared_, guest_.user.id, MemberRole::kModerator);
  ASSERT_FALSE(promoted);
  EXPECT_EQ(promoted.error().problem, "guest_role");
  EXPECT_TRUE(services_->spaces.SetRole(ana_, shared_, guest_.user.id, MemberRole::kReadOnly)) << "a reader is fine";
  auto membership = store_->Read([&](store::ReadTx& tx) { return tx.FindMembership(shared_, guest_.user.id); });
  ASSERT_TRUE(membership && *membership);
  EXPECT_EQ((*membership)->role, MemberRole::kReadOnly);
}

// Whether someone is a patient of the hospital is protected, and a guest is not the hospital's own
// staff: a guest is told what a patient is told of the patient index, which is nothing.
TEST_F(GuestTest, AreNeverToldWhoIsInThePatientIndex) {
  ASSERT_TRUE(services_->governance.ImportPatients(officer_, "mrn,first,last\nA7654321,Zanele,Okonkwo-Barros\n"));
  json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
  doc["key"] = "guests-held";
  doc["name"] = "Guests, PHI held";
  doc["guests_allowed"] = true;
  doc["phi"] = "hold";
  ASSERT_TRUE(services_->governance.CreateTemplate(officer_, doc));
  NewSpace desk{SpaceKind::kChannel, "vendor desk", "", Visibility::kPrivate, JoinPolicy::kInvite, "guests-held"};
  auto created = services_->spaces.Create(ana_, desk);
  ASSERT_TRUE(created) << created.error().public_message;
  const SpaceId space = (*created)["id"];
  ASSERT_TRUE(services_->spaces.AddMember(ana_, space, guest_.user.id, MemberRole::kMember));
  const std::string named = "the printer by Zanele Okonkwo-Barros's bed jams";
  const std::string stranger = "the printer by Wilhelmina Quarrendon's bed jams";

  // The organization's staff are told.
  auto staff_check = services_->governance.PhiCheck(ana_, space, named, "");
  ASSERT_TRUE(staff_check);
  EXPECT_EQ((*staff_check)["action"], "hold");
  EXPECT_NE(staff_check->dump().find("\"name\""), std::string::npos);

  // The guest's check answers as it does for a stranger's name.
  for (const std::string& text : {named, stranger}) {
    auto check = services_->governance.PhiCheck(guest_, space, text, "");
    ASSERT_TRUE(check);
    EXPECT_EQ((*check)["action"], "allow") << text;
    EXPECT_TRUE((*check)["findings"].empty()) << check->dump();
  }
  // Both posts wait for review without a finding: where PHI is held, a guest's posts all wait.
  for (const std::string& text : {named, stranger}) {
    Draft d;
    d.body = text;
    auto held = services_->messages.Post(guest_, space, d);
    ASSERT_TRUE(held) << held.error().problem;
    EXPECT_EQ(held->Message()["state"], "held") << text;
    EXPECT_EQ(held->Message()["hold_reason"], "pre_moderation") << text;
    EXPECT_TRUE(held->Message()["phi_types"].empty()) << held->Message().dump();
  }
  // Staff's posts there are published as before.
  Draft d;
  d.body = "the printer by bed 4 jams";
  auto staff_post = services_->messages.Post(ana_, space, d);
  ASSERT_TRUE(staff_post) << staff_post.error().problem;
  EXPECT_EQ(staff_post->Message()["state"], "published");
}

}  // namespace
}  // namespace rounds::app
