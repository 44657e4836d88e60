// The authorization matrix at the service level: every service action, tried by every kind of
// caller, against a public community and a private channel, with the decision written out.
//
// Each cell runs in a fresh space (and fresh messages) so one caller's successful change cannot
// decide the next caller's outcome. The disabled caller holds an Actor taken before an
// administrator disabled the account — what a request in flight, or another node's session cache,
// would present.
#include <functional>
#include <string>
#include <vector>

#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;

// A: allowed. F: kForbidden (may see it, may not do it). H: kNotFound (may not know it exists; for
// replay and search, nothing returned). U: kUnauthenticated. B: authorized, then refused on the
// request's content or the current state (kInvalidArgument, kConflict). -: not applicable.
char Letter(const Status& status) {
  if (status) return 'A';
  switch (status.error().code) {
    case ErrorCode::kForbidden: return 'F';
    case ErrorCode::kNotFound: return 'H';
    case ErrorCode::kUnauthenticated: return 'U';
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kConflict: return 'B';
    default: return '?';
  }
}

template <class T>
char Letter(const Result<T>& result) {
  if (result) return 'A';
  return Letter(Status(tl::unexpected(result.error())));
}

// Everything one space-level cell needs: a space with an owner, a moderator, a member, a
// read-only member, a disabled member and a spare member to act on; a message by the member; in
// communities also a question with an answer, an idea and a poll, all by the member.
struct Scene {
  SpaceId space = 0;
  MessageId by_member = 0;
  MessageId answer = 0;
  MessageId idea = 0;
  MessageId poll = 0;
  std::string marker;  // a word only this scene's message contains
};

enum Column { kOutsider, kReadOnly, kMember, kModerator, kOwner, kAdmin, kDisabled, kColumns };
constexpr const char* kColumnNames[] = {"non-member", "read-only", "member", "moderator",
                                        "owner",      "admin",     "disabled"};

using SpaceAct = std::function<char(Services&, const Actor&, const Scene&)>;

struct SpaceRow {
  const char* action;
  const char* in_public_community;  // one letter per Column
  const char* in_private_channel;
  SpaceAct act;
};

class AuthorizationMatrix : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    owner_ = MakeUser("owner");
    moderator_ = MakeUser("moderator");
    member_ = MakeUser("member");
    read_only_ = MakeUser("reader");
    outsider_ = MakeUser("outsider");
    admin_ = MakeUser("admin", /*admin=*/true);
    resting_admin_ = MakeUser("resting", /*admin=*/true);
    resting_admin_.admin_elevated = false;  // a session that has not taken up administration
    disabled_ = MakeUser("gone");
    target_ = MakeUser("target");
    newcomer_ = MakeUser("newcomer");
    UserPatch disable;
    disable.disabled = true;
    ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), disabled_.user.id, disable));
  }

  const Actor& Caller(Column column) const {
    switch (column) {
      case kOutsider: return outsider_;
      case kReadOnly: return read_only_;
      case kMember: return member_;
      case kModerator: return moderator_;
      case kOwner: return owner_;
      case kAdmin: return admin_;
      default: return disabled_;
    }
  }

  Scene MakeScene(bool community) {
    Scene scene;
    // Letters only: "member scene12" would read as a health plan member id to the PHI scanner.
    scene.marker = "scene";
    for (int n = ++scenes_; n > 0; n /= 26) scene.marker.push_back(static_cast<char>('a' + n % 26));
    scene.space = community ? MakeSpace(owner_, SpaceKind::kCommunity, "Community " + scene.marker)
                            : MakeSpace(owner_, SpaceKind::kChannel, "Channel " + scene.marker, Visibility::kPrivate);
    for (auto [who, role] : {std::pair{&moderator_, MemberRole::kModerator}, std::pair{&member_, MemberRole::kMember},
                             std::pair{&read_only_, MemberRole::kReadOnly}, std::pair{&target_, MemberRole::kMember}}) {
      EXPECT_TRUE(services_->spaces.AddMember(owner_, scene.space, who->user.id, role));
    }
    // The disabled person was a member before the account was disabled.
    EXPECT_TRUE(store_->Write([&](store::WriteTx& tx) {
      return tx.UpsertMembership({scene.space, disabled_.user.id, MemberRole::kMember, 0, clock_.NowMillis()});
    }));
    scene.by_member = Post(member_, scene.space, "hello from the member " + scene.marker)["id"];
    if (community) {
      MessageId question = Post(member_, scene.space, "where is the policy?", MessageKind::kQuestion)["id"];
      scene.answer = Post(moderator_, scene.space, "on the intranet", MessageKind::kMessage, question)["id"];
      scene.idea = Post(member_, scene.space, "open the lounge earlier", MessageKind::kIdea)["id"];
      scene.poll = Post(member_, scene.space, "which day?", MessageKind::kPoll, std::nullopt, {"Tuesday", "Friday"})["id"];
    }
    return scene;
  }

  Actor owner_, moderator_, member_, read_only_, outsider_, admin_, disabled_, target_, newcomer_;
  Actor resting_admin_;  // an administrator whose session does not administer: staff like any other
  int scenes_ = 0;
};

TEST_F(AuthorizationMatrix, SpaceActionsForEveryCaller) {
  // Columns: non-member, read-only, member, moderator, owner, admin (not a member), disabled.
  const std::vector<SpaceRow> rows = {
      {"get space", "AAAAAAU", "HAAAAAU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.spaces.Get(a, c.space)); }},
      {"list members", "AAAAAAU", "HAAAAAU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.spaces.ListMembers(a, c.space, 0, 50)); }},
      {"update space", "FFFFAAU", "HFFFAAU",
       [](Services& s, const Actor& a, const Scene& c) {
         SpacePatch patch;
         patch.topic = "a new topic";
         return Letter(s.spaces.Update(a, c.space, patch));
       }},
      {"add member", "FFFAAAU", "HFFAAAU",
       [this](Services& s, const Actor& a, const Scene& c) {
         return Letter(s.spaces.AddMember(a, c.space, newcomer_.user.id, MemberRole::kMember));
       }},
      {"change a role", "FFFFAAU", "HFFFAAU",
       [this](Services& s, const Actor& a, const Scene& c) {
         return Letter(s.spaces.SetRole(a, c.space, target_.user.id, MemberRole::kModerator));
       }},
      {"remove member", "FFFAAAU", "HFFAAAU",
       [this](Services& s, const Actor& a, const Scene& c) {
         return Letter(s.spaces.RemoveMember(a, c.space, target_.user.id));
       }},
      // Members are already in (B); the only owner cannot leave (B).
      {"join", "ABBBBAU", "HBBBBFU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.spaces.Join(a, c.space)); }},
      {"leave", "HAAABHU", "HAAABHU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.spaces.Leave(a, c.space)); }},
      {"mark read", "FAAAAFU", "HAAAAFU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.spaces.MarkRead(a, c.space, 1)); }},
      {"list messages", "AAAAAAU", "HAAAAAU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.messages.List(a, c.space, {})); }},
      {"list pins", "AAAAAAU", "HAAAAAU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.messages.Pins(a, c.space)); }},
      {"post", "FFAAAFU", "HFAAAFU",
       [](Services& s, const Actor& a, const Scene& c) {
         Draft d;
         d.body = "a new message";
         return Letter(s.messages.Post(a, c.space, d));
       }},
      {"reply", "FFAAAFU", "HFAAAFU",
       [](Services& s, const Actor& a, const Scene& c) {
         Draft d;
         d.body = "a reply";
         d.parent_id = c.by_member;
         return Letter(s.messages.Post(a, c.space, d));
       }},
      // Channels take no announcements: the owner passes authorization, then the kind is refused.
      {"post an announcement", "FFFFAFU", "HFFFBFU",
       [](Services& s, const Actor& a, const Scene& c) {
         Draft d;
         d.body = "news for everyone";
         d.kind = MessageKind::kAnnouncement;
         return Letter(s.messages.Post(a, c.space, d));
       }},
      {"get a message", "AAAAAAU", "HAAAAAU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.messages.Get(a, c.by_member)); }},
      {"read a thread", "AAAAAAU", "HAAAAAU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.messages.Thread(a, c.by_member)); }},
      {"edit the member's message", "FFAFFFU", "HFAFFFU",
       [](Services& s, const Actor& a, const Scene& c) {
         return Letter(s.messages.Edit(a, c.by_member, "changed", std::nullopt));
       }},
      {"delete the member's message", "FFAFFFU", "HFAFFFU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.messages.Delete(a, c.by_member)); }},
      {"read an edit history", "FFAAAAU", "HFAAAAU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.messages.History(a, c.by_member)); }},
      {"react", "FFAAAFU", "HFAAAFU",
       [](Services& s, const Actor& a, const Scene& c) {
         return Letter(s.messages.React(a, c.by_member, "\xf0\x9f\x91\x8d", true));
       }},
      // In the channel the target is a plain message: authorization first, then "not an idea".
      {"vote for an idea", "FFAAAFU", "HFBBBFU",
       [](Services& s, const Actor& a, const Scene& c) {
         return Letter(s.messages.Vote(a, c.idea != 0 ? c.idea : c.by_member, true));
       }},
      {"vote in a poll", "FFAAAFU", "HFBBBFU",
       [](Services& s, const Actor& a, const Scene& c) {
         return Letter(s.messages.PollVote(a, c.poll != 0 ? c.poll : c.by_member, 0));
       }},
      // The member asked; moderators and owners may accept for them. Channels have no questions.
      {"accept an answer", "FFAAAFU", "-------",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.messages.Accept(a, c.answer, true)); }},
      {"pin", "FFFAAFU", "HFFAAFU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.messages.Pin(a, c.by_member, true)); }},
      {"send typing", "HHAAAHU", "HHAAAHU",
       [](Services& s, const Actor& a, const Scene& c) { return Letter(s.events.Typing(a, c.space)); }},
      // Events stream to members only; others get nothing back (H).
      {"replay events", "HAAAAHU", "HAAAAHU",
       [](Services& s, const Actor& a, const Scene& c) {
         auto replay = s.events.Replay(a, {{c.space, 0}});
         if (!replay) return Letter(replay);
         return replay->empty() ? 'H' : 'A';
       }},
      // Search covers member spaces and public ones: found (A) or not (H).
      {"find the message by search", "AAAAAAU", "HAAAAHU",
       [](Services& s, const Actor& a, const Scene& c) {
         auto found = s.search.Search(a, c.marker, 20, 0);
         if (!found) return Letter(found);
         return (*found)["messages"].empty() ? 'H' : 'A';
       }},
  };
  int cells = 0;
  for (const SpaceRow& row : rows) {
    for (bool community : {true, false}) {
      const std::string expected = community ? row.in_public_community : row.in_private_channel;
      ASSERT_EQ(expected.size(), static_cast<std::size_t>(kColumns)) << row.action;
      for (int column = 0; column < kColumns; ++column) {
        if (expected[column] == '-') continue;
        Scene scene = MakeScene(community);
        char got = row.act(*services_, Caller(static_cast<Column>(column)), scene);
        EXPECT_EQ(got, expected[column]) << row.action << " by " << kColumnNames[column] << " in a "
                                         << (community ? "public community" : "private channel");
        ++cells;
      }
      // An administrator whose session does not administer stands where a non-member does.
      if (expected[kOutsider] != '-') {
        Scene scene = MakeScene(community);
        EXPECT_EQ(row.act(*services_, resting_admin_, scene), expected[kOutsider])
            << row.action << " by an administrator not administering in a "
            << (community ? "public community" : "private channel");
      }
    }
  }
  EXPECT_GE(cells, 27 * 2 * kColumns - kColumns);
}

TEST_F(AuthorizationMatrix, DirectoryAndPersonalActionsForEveryCaller) {
  using Act = std::function<char(Services&, const Actor&, int)>;
  struct Row {
    const char* action;
    const char* expected;  // staff member, administrator, disabled
    Act act;
  };
  const std::vector<Row> rows = {
      {"list users", "AAU", [](Services& s, const Actor& a, int) { return Letter(s.directory.ListUsers(a, {})); }},
      {"get a user", "AAU",
       [this](Services& s, const Actor& a, int) { return Letter(s.directory.GetUser(a, target_.user.id)); }},
      {"list departments", "AAU", [](Services& s, const Actor& a, int) { return Letter(s.directory.ListDepartments(a)); }},
      {"create a user", "FAU",
       [](Services& s, const Actor& a, int cell) {
         NewUser u;
         u.username = "created" + std::to_string(cell);
         u.display_name = "Created";
         u.password = testing::kPassword;
         u.fast_hash = true;
         return Letter(s.directory.CreateUser(a, u));
       }},
      {"update another user", "FAU",
       [this](Services& s, const Actor& a, int) {
         UserPatch patch;
         patch.job_role = "Charge Nurse";
         return Letter(s.directory.UpdateUser(a, target_.user.id, patch));
       }},
      {"reset another user's password", "FAU",
       [this](Services& s, const Actor& a, int) {
         return Letter(s.directory.ResetPassword(a, target_.user.id, "a different long passphrase"));
       }},
      {"create a department", "FAU",
       [](Services& s, const Actor& a, int cell) {
         return Letter(s.directory.CreateDepartment(a, "Department " + std::to_string(cell), std::nullopt));
       }},
      {"import users", "FAU",
       [](Services& s, const Actor& a, int cell) {
         return Letter(s.directory.ImportUsersCsv(a, "username,display_name,email,job_role,department\nimported" +
                                                         std::to_string(cell) + ",Imported,,Porter,Estates\n"));
       }},
      {"update own profile", "AAU",
       [](Services& s, const Actor& a, int) {
         UserPatch patch;
         patch.display_name = "A New Name";
         return Letter(s.directory.UpdateProfile(a, patch));
       }},
      {"change own password", "AAU",
       [](Services& s, const Actor& a, int) {
         char got = Letter(s.auth.ChangePassword(a, testing::kPassword, "an entirely new passphrase"));
         if (got == 'A') {
           EXPECT_TRUE(s.directory.ResetPassword(Actor::System(), a.user.id, testing::kPassword));
         }
         return got;
       }},
      {"create a space", "AAU",
       [](Services& s, const Actor& a, int cell) {
         return Letter(s.spaces.Create(a, {SpaceKind::kCommunity, "Made " + std::to_string(cell), "",
                                           Visibility::kPublic, JoinPolicy::kOpen}));
       }},
      {"list own spaces", "AAU", [](Services& s, const Actor& a, int) { return Letter(s.spaces.ListMine(a)); }},
      {"discover spaces", "AAU", [](Services& s, const Actor& a, int) { return Letter(s.spaces.Discover(a, "", 0, 50)); }},
      // Compliance officers' directory of every space (tested with an officer in space_service_test).
      {"list every space", "FFU",
       [](Services& s, const Actor& a, int) { return Letter(s.spaces.Directory(a, "", std::nullopt, 0, 50)); }},
      {"start a direct conversation", "AAU",
       [this](Services& s, const Actor& a, int) { return Letter(s.spaces.Direct(a, {target_.user.id})); }},
      {"list own mentions", "AAU", [](Services& s, const Actor& a, int) { return Letter(s.messages.Mentions(a, 0, 50)); }},
      {"search", "AAU", [](Services& s, const Actor& a, int) { return Letter(s.search.Search(a, "policy", 20, 0)); }},
  };
  const Actor* callers[] = {&member_, &admin_, &disabled_};
  const char* names[] = {"staff member", "administrator", "disabled"};
  int cell = 0;
  for (const Row& row : rows) {
    ASSERT_EQ(std::string(row.expected).size(), 3u) << row.action;
    for (int c = 0; c < 3; ++c) {
      char got = row.act(*services_, *callers[c], ++cell);
      EXPECT_EQ(got, row.expected[c]) << row.action << " by " << names[c];
    }
    // An administrator whose session does not administer is a staff member.
    EXPECT_EQ(row.act(*services_, resting_admin_, ++cell), row.expected[0])
        << row.action << " by an administrator not administering";
  }
}

TEST_F(AuthorizationMatrix, RevokedAdministratorRightsStopAtOnce) {
  // The Actor was taken while the account was an administrator.
  Actor stale = admin_;
  UserPatch demote;
  demote.is_admin = false;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), admin_.user.id, demote));
  auto created = services_->directory.CreateDepartment(stale, "Estates", std::nullopt);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().problem, "admin_required");
  SpaceId hidden = MakeSpace(owner_, SpaceKind::kChannel, "Hidden", Visibility::kPrivate);
  auto read = services_->spaces.Get(stale, hidden);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace rounds::app
