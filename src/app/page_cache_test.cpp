// Kept pages of messages (PageCache, used by MessageService::List): after every kind of change to
// what a page shows, made through the services, by another connection to the database or to the
// directory, every reader gets exactly the text a service that keeps nothing renders for them.
#include <sqlite3.h>

#include "app/page_cache.hpp"
#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::Parsed;

class PageCacheTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ana_ = MakeUser("ana");
    ben_ = MakeUser("ben");
    cai_ = MakeUser("cai");
    community_ = MakeSpace(ana_, SpaceKind::kCommunity, "Patient Flow");
    EXPECT_TRUE(services_->spaces.Join(ben_, community_));
    EXPECT_TRUE(services_->spaces.Join(cai_, community_));
    fresh_config_ = config_;
    fresh_config_.page_cache_bytes = 0;
    fresh_ = std::make_unique<MessageService>(*store_, bus_, clock_, fresh_config_, services_->policy);
  }
  void TearDown() override {
    fresh_.reset();
    ServiceTest::TearDown();
  }

  PageCache::Stats Stats() const { return services_->messages.PageCacheStats(); }

  // Each reader's page, twice (the second from the kept page where it may be), against a render
  // that keeps nothing. Returns ana's page.
  json ExpectEveryReaderSeesTheStore(SpaceId space, std::vector<const Actor*> readers = {}, MessagePage page = {}) {
    if (readers.empty()) readers = {&ana_, &ben_, &cai_};
    json first;
    for (int round = 0; round < 2; ++round) {
      for (const Actor* reader : readers) {
        auto kept = services_->messages.List(*reader, space, page);
        auto fresh = fresh_->List(*reader, space, page);
        EXPECT_TRUE(kept && fresh);
        if (!kept || !fresh) return json();
        EXPECT_EQ(kept->view(), fresh->view()) << "as " << reader->user.username << ", round " << round;
        if (first.is_null()) first = json::parse(kept->view());
      }
    }
    return first;
  }

  // Runs SQL on a connection of its own, as another process (the rounds CLI) would.
  void ExecElsewhere(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((dir_ / "rounds.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  Actor ana_, ben_, cai_;
  SpaceId community_ = 0;
  Config fresh_config_;
  std::unique_ptr<MessageService> fresh_;
};

TEST_F(PageCacheTest, AnUnchangedPageIsServedKept) {
  for (int i = 0; i < 3; ++i) Post(ana_, community_, "round " + std::to_string(i));
  ExpectEveryReaderSeesTheStore(community_);
  const auto before = Stats();
  EXPECT_EQ(before.entries, 1u);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(services_->messages.List(ben_, community_, {}));
  EXPECT_EQ(Stats().hits, before.hits + 5) << "nothing changed: every read is served kept";
  EXPECT_EQ(Stats().misses, before.misses);
  // Another cursor or size is another page; threads and catch-up pages are not kept.
  MessagePage older;
  older.before = 3;
  ExpectEveryReaderSeesTheStore(community_, {}, older);
  MessagePage small;
  small.limit = 2;
  ExpectEveryReaderSeesTheStore(community_, {}, small);
  EXPECT_EQ(Stats().entries, 3u);
  MessagePage after;
  after.after = 1;
  ExpectEveryReaderSeesTheStore(community_, {}, after);
  EXPECT_EQ(Stats().entries, 3u);
}

// A kept page is answered with the kept text itself, shared rather than copied into each answer.
TEST_F(PageCacheTest, AKeptPageIsAnsweredWithTheKeptTextNotACopy) {
  Post(ana_, community_, "shared, not copied");
  auto first = services_->messages.List(ben_, community_, {});  // read and kept
  ASSERT_TRUE(first);
  EXPECT_EQ(first->shared, nullptr) << "the page just rendered is the reader's own";
  auto second = services_->messages.List(cai_, community_, {});
  auto third = services_->messages.List(ben_, community_, {});
  ASSERT_TRUE(second && third);
  ASSERT_NE(second->shared, nullptr);
  EXPECT_EQ(second->shared, third->shared) << "both answers point at the one kept text";
  EXPECT_TRUE(second->text.empty());
  EXPECT_EQ(second->view(), first->view());
}

// The server's I/O threads answer with ListKept: only a page List would serve kept, to a reader
// List would serve it to, and never one whose read is to be audited first.
TEST_F(PageCacheTest, ListKeptAnswersOnlyWhatListWouldServeKeptUnaudited) {
  NewSpace s{SpaceKind::kCommunity, "Ward bulletins", "", Visibility::kPrivate, JoinPolicy::kInvite, "announcements"};
  auto created = services_->spaces.Create(ana_, s);
  ASSERT_TRUE(created) << created.error().public_message;
  const SpaceId board = (*created)["id"].get<SpaceId>();
  ASSERT_TRUE(services_->spaces.AddMember(ana_, board, ben_.user.id, MemberRole::kMember));
  const json first = Post(ana_, board, "Ward 4 reopens Monday");

  EXPECT_FALSE(services_->messages.ListKept(ben_, board, {})) << "nothing kept yet";
  auto listed = services_->messages.List(ben_, board, {});
  ASSERT_TRUE(listed);
  auto hits = Stats().hits;
  auto kept = services_->messages.ListKept(ben_, board, {});
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->view(), listed->view());
  EXPECT_NE(kept->shared, nullptr);
  EXPECT_EQ(Stats().hits, hits + 1);

  // Not a member: refused by List, never answered by ListKept.
  EXPECT_FALSE(services_->messages.List(cai_, board, {}));
  EXPECT_FALSE(services_->messages.ListKept(cai_, board, {}));
  // Pages that are never kept.
  MessagePage after;
  after.after = 0;
  EXPECT_FALSE(services_->messages.ListKept(ben_, board, after));
  MessagePage thread;
  thread.parent_id = first["id"].get<MessageId>();
  EXPECT_FALSE(services_->messages.ListKept(ben_, board, thread));

  // A change: the kept page is no longer the one to serve.
  Post(ana_, board, "Ward 4 reopens Tuesday");
  EXPECT_FALSE(services_->messages.ListKept(ben_, board, {}));
  listed = services_->messages.List(ben_, board, {});
  kept = services_->messages.ListKept(ben_, board, {});
  ASSERT_TRUE(listed && kept);
  EXPECT_EQ(kept->view(), listed->view());
  EXPECT_NE(kept->view().find("Tuesday"), std::string::npos);

  // A reader whose own reaction shows on the page gets it rendered for them, by List.
  ASSERT_TRUE(services_->messages.React(ana_, first["id"].get<MessageId>(), "👍", true));
  ASSERT_TRUE(services_->messages.List(ben_, board, {}));  // kept, with the reacted message marked
  EXPECT_TRUE(services_->messages.ListKept(ben_, board, {}));
  EXPECT_FALSE(services_->messages.ListKept(ana_, board, {}));

  // The internal community's reads are audited: List answers them, kept page or not.
  Post(ana_, community_, "handover at 7");
  ASSERT_TRUE(services_->messages.List(ben_, community_, {}));
  ASSERT_TRUE(services_->messages.List(ben_, community_, {}));
  EXPECT_FALSE(services_->messages.ListKept(ben_, community_, {}));
}

// ListKept remembers that a reader was allowed a page (KeptReads) and answers their next read of it
// without a read transaction, but never past a change that could decide it differently: such a
// change in this process is seen at once, one made by another process within kTrustMillis.
TEST_F(PageCacheTest, ListKeptTrustsAReadersCheckOnlyWhileNothingThatDecidedItChanged) {
  NewSpace s{SpaceKind::kCommunity, "Ward bulletins", "", Visibility::kPrivate, JoinPolicy::kInvite, "announcements"};
  auto created = services_->spaces.Create(ana_, s);
  ASSERT_TRUE(created) << created.error().public_message;
  const SpaceId board = (*created)["id"].get<SpaceId>();
  auto join = [&] { ASSERT_TRUE(services_->spaces.AddMember(ana_, board, ben_.user.id, MemberRole::kMember)); };
  join();
  Post(ana_, board, "Ward 4 reopens Monday");
  // Ben reads the page through List (kept), then ListKept checks it in full, then trusts the check.
  auto checked = [&] {
    EXPECT_TRUE(services_->messages.List(ben_, board, {}));
    EXPECT_TRUE(services_->messages.ListKept(ben_, board, {})) << "checked in full";
    const auto answered = services_->messages.KeptReadsAnswered();
    auto again = services_->messages.ListKept(ben_, board, {});
    EXPECT_TRUE(again);
    EXPECT_EQ(services_->messages.KeptReadsAnswered(), answered + 1) << "the check is trusted";
  };
  checked();
  // Within the trust window, for as long as nothing changes.
  clock_.Advance(KeptReads::kTrustMillis - 1);
  auto answered = services_->messages.KeptReadsAnswered();
  EXPECT_TRUE(services_->messages.ListKept(ben_, board, {}));
  EXPECT_EQ(services_->messages.KeptReadsAnswered(), answered + 1);
  // Another reader's read trusts nothing of Ben's.
  ASSERT_TRUE(services_->messages.ListKept(ana_, board, {}));
  EXPECT_EQ(services_->messages.KeptReadsAnswered(), answered + 1);

  // Removed from the space: refused at once.
  ASSERT_TRUE(services_->spaces.RemoveMember(ana_, board, ben_.user.id));
  EXPECT_FALSE(services_->messages.ListKept(ben_, board, {}));
  EXPECT_FALSE(services_->messages.List(ben_, board, {}));
  join();
  checked();

  // The account disabled: refused at once.
  ASSERT_TRUE(store_->RunWrite([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(ben_.user.id));
    user->disabled = true;
    return tx.UpdateUser(*user);
  }));
  EXPECT_FALSE(services_->messages.ListKept(ben_, board, {}));
  ASSERT_TRUE(store_->RunWrite([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(ben_.user.id));
    user->disabled = false;
    return tx.UpdateUser(*user);
  }));
  checked();

  // The space moved to a template whose reads are audited: List's from now on.
  ASSERT_TRUE(store_->RunWrite([&](store::WriteTx& tx) { return tx.SetSpaceTemplate(board, "internal-community", 1); }));
  EXPECT_FALSE(services_->messages.ListKept(ben_, board, {}));
  ASSERT_TRUE(store_->RunWrite([&](store::WriteTx& tx) { return tx.SetSpaceTemplate(board, "announcements", 1); }));
  checked();

  // Removed by another process (the rounds CLI): refused once the check is kTrustMillis old, or
  // once this process's writer has run, whichever comes first.
  const std::string remove_ben = "DELETE FROM memberships WHERE space_id = " + std::to_string(board) +
                                 " AND user_id = " + std::to_string(ben_.user.id);
  ExecElsewhere(remove_ben);
  clock_.Advance(KeptReads::kTrustMillis);
  EXPECT_FALSE(services_->messages.ListKept(ben_, board, {}));
  EXPECT_FALSE(services_->messages.List(ben_, board, {}));
  join();
  checked();
  ExecElsewhere(remove_ben);
  Post(ana_, community_, "the writer runs");
  EXPECT_FALSE(services_->messages.ListKept(ben_, board, {}));
  join();

  // An administering session reads through the full check every time.
  Actor administering = ben_;
  administering.admin_elevated = true;
  ASSERT_TRUE(services_->messages.List(administering, board, {}));
  answered = services_->messages.KeptReadsAnswered();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(services_->messages.ListKept(administering, board, {}));
  EXPECT_EQ(services_->messages.KeptReadsAnswered(), answered);
}

TEST_F(PageCacheTest, EveryChangeThroughTheServicesShowsAtOnce) {
  json first = Post(ana_, community_, "first");
  const MessageId id = first["id"];
  ExpectEveryReaderSeesTheStore(community_);

  Post(ben_, community_, "second");
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"].size(), 2u);

  ASSERT_TRUE(services_->messages.Edit(ana_, id, "first, edited", std::nullopt));
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][1]["body"], "first, edited");

  // A reply changes its parent's reply count.
  Post(cai_, community_, "a reply", MessageKind::kMessage, id);
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][1]["reply_count"], 1);

  ASSERT_TRUE(services_->messages.React(ana_, id, "👍", true));
  json page = ExpectEveryReaderSeesTheStore(community_);
  EXPECT_EQ(page["items"][1]["reactions"][0]["mine"], true) << "ana's own page";
  ASSERT_TRUE(services_->messages.React(ben_, id, "👍", true));
  ASSERT_TRUE(services_->messages.React(ben_, id, "👍", false));
  ASSERT_TRUE(services_->messages.React(ana_, id, "👍", false));
  EXPECT_TRUE(ExpectEveryReaderSeesTheStore(community_)["items"][1]["reactions"].empty());

  json idea = Post(ana_, community_, "open the lounge at 08:00", MessageKind::kIdea);
  ExpectEveryReaderSeesTheStore(community_);
  ASSERT_TRUE(services_->messages.Vote(ben_, idea["id"], true));
  ExpectEveryReaderSeesTheStore(community_);
  json poll = Post(ana_, community_, "best day?", MessageKind::kPoll, std::nullopt, {"Mon", "Tue"});
  ASSERT_TRUE(services_->messages.PollVote(cai_, poll["id"], 1));
  ExpectEveryReaderSeesTheStore(community_);
  ASSERT_TRUE(services_->messages.PollVote(cai_, poll["id"], 0));
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][0]["poll_options"][0]["votes"], 1);

  ASSERT_TRUE(services_->messages.Pin(ana_, id, true));
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][3]["pinned"], true);

  UserPatch renamed;
  renamed.display_name = "Ana Ruiz, RN";
  ASSERT_TRUE(services_->directory.UpdateProfile(ana_, renamed));
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][0]["author"]["display_name"], "Ana Ruiz, RN");

  ASSERT_TRUE(services_->messages.Delete(ana_, id));
  ExpectEveryReaderSeesTheStore(community_);
  EXPECT_GT(Stats().hits, 0u);
}

TEST_F(PageCacheTest, ChangesMadeByAnotherConnectionShowAtOnce) {
  json first = Post(ana_, community_, "first");
  const std::string id = std::to_string(first["id"].get<MessageId>());
  ASSERT_TRUE(services_->messages.React(ben_, first["id"], "👍", true));
  ExpectEveryReaderSeesTheStore(community_);
  const auto hits = Stats().hits;

  ExecElsewhere("UPDATE messages SET body = 'changed elsewhere' WHERE id = " + id);
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][0]["body"], "changed elsewhere");
  ExecElsewhere("INSERT INTO reactions (message_id, emoji, user_id) VALUES (" + id + ", '🎉', " +
                std::to_string(cai_.user.id) + ")");
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][0]["reactions"].size(), 2u);
  ExecElsewhere("DELETE FROM reactions WHERE emoji = '👍'");
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][0]["reactions"].size(), 1u);
  ExecElsewhere("UPDATE users SET username = 'ana.ruiz' WHERE id = " + std::to_string(ana_.user.id));
  EXPECT_EQ(ExpectEveryReaderSeesTheStore(community_)["items"][0]["author"]["username"], "ana.ruiz");
  ExecElsewhere("UPDATE messages SET deleted = 1 WHERE id = " + id);
  EXPECT_TRUE(ExpectEveryReaderSeesTheStore(community_)["items"].empty());
  EXPECT_GT(Stats().hits, hits) << "each version was served kept after it was rendered once";
}

TEST_F(PageCacheTest, HeldMessagesAreNeverServedFromAKeptPage) {
  NewSpace s{SpaceKind::kCommunity, "Knee surgery recovery", "", Visibility::kPublic, JoinPolicy::kOpen,
             "patient-forum"};
  auto created = services_->spaces.Create(ana_, s);
  ASSERT_TRUE(created) << created.error().problem;
  const SpaceId forum = (*created)["id"];
  // A patient forum is joined on request: its owner adds people.
  ASSERT_TRUE(services_->spaces.AddMember(ana_, forum, ben_.user.id, MemberRole::kMember));
  ASSERT_TRUE(services_->spaces.AddMember(ana_, forum, cai_.user.id, MemberRole::kMember));
  Post(ana_, forum, "Welcome! Be kind.");
  ExpectEveryReaderSeesTheStore(forum);
  auto held = services_->messages.Post(ben_, forum, [] {
    Draft d;
    d.body = "Day 3 after surgery, walking with a frame";
    return d;
  }());
  ASSERT_TRUE(held);
  ASSERT_EQ(held->Message()["state"], "held");
  const auto entries = Stats().entries;
  // ben (the author) and ana (the owner, a moderator) see the held post; cai does not.
  ExpectEveryReaderSeesTheStore(forum);
  EXPECT_EQ(Parsed(services_->messages.List(ben_, forum, {}))["items"].size(), 2u);
  EXPECT_EQ(Parsed(services_->messages.List(ana_, forum, {}))["items"].size(), 2u);
  EXPECT_EQ(Parsed(services_->messages.List(cai_, forum, {}))["items"].size(), 1u);
  EXPECT_EQ(Stats().entries, entries) << "nothing is kept while the space holds a post";

  ASSERT_TRUE(services_->governance.Moderate(ana_, held->Message()["id"], {ModerationKind::kApprove, "fine", {}}));
  ExpectEveryReaderSeesTheStore(forum);
  EXPECT_EQ(Parsed(services_->messages.List(cai_, forum, {}))["items"].size(), 2u);
}

TEST(PageCache, KeepsTheMostRecentlyUsedPagesWithinItsCapacity) {
  auto page = [](std::int64_t content, std::size_t size) {
    auto p = std::make_shared<PageCache::Page>();
    p->version.content = content;
    p->text.assign(size, 'x');
    return p;
  };
  PageCache cache(3000);
  const PageCache::Key a{1, std::nullopt, 50}, b{2, std::nullopt, 50}, c{3, std::nullopt, 50};
  cache.Put(a, page(1, 1000));
  cache.Put(b, page(1, 1000));
  ASSERT_TRUE(cache.Find(a, {1, 0, false}));  // a is now the most recent
  cache.Put(c, page(1, 1000));                // over capacity: b goes
  EXPECT_TRUE(cache.Find(a, {1, 0, false}));
  EXPECT_FALSE(cache.Find(b, {1, 0, false}));
  EXPECT_TRUE(cache.Find(c, {1, 0, false}));
  EXPECT_LE(cache.stats().bytes, 3000u);
  EXPECT_EQ(cache.stats().entries, 2u);

  EXPECT_FALSE(cache.Find(a, {2, 0, false})) << "another version of the space";
  EXPECT_FALSE(cache.Find(a, {1, 1, false})) << "another version of the directory";
  cache.Put(a, page(2, 100));
  EXPECT_TRUE(cache.Find(a, {2, 0, false}));
  cache.Put(a, page(1, 100));  // rendered by a reader that began before the change
  EXPECT_TRUE(cache.Find(a, {2, 0, false})) << "an older page never replaces a newer one";

  cache.Put(b, page(1, 5000));
  EXPECT_FALSE(cache.Find(b, {1, 0, false})) << "a page larger than the whole capacity is not kept";
  PageCache off(0);
  EXPECT_FALSE(off.enabled());
  off.Put(a, page(1, 10));
  EXPECT_FALSE(off.Find(a, {1, 0, false}));
}

}  // namespace
}  // namespace rounds::app
