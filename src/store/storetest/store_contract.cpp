#include "store/storetest/store_contract.hpp"

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

namespace rounds::store::storetest {

void StoreContractTest::SetUp() {
  static std::atomic<int> counter{0};
  location_ = (std::filesystem::path(::testing::TempDir()) /
               ("rounds-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
                  .string();
  std::filesystem::remove_all(location_);
  std::filesystem::create_directories(location_);
  auto opened = GetParam().open(location_);
  ASSERT_TRUE(opened) << opened.error().internal_message;
  store_ = std::move(*opened);
}

void StoreContractTest::TearDown() {
  if (store_) store_->Close();
  store_.reset();
  std::filesystem::remove_all(location_);
}

void StoreContractTest::Reopen() {
  store_->Close();
  store_.reset();
  auto opened = GetParam().open(location_);
  ASSERT_TRUE(opened) << opened.error().internal_message;
  store_ = std::move(*opened);
}

namespace {

constexpr UnixMillis kNow = 1'750'000'000'000;

User MakeUser(const std::string& username) {
  User u;
  u.username = username;
  u.display_name = "User " + username;
  u.email = username + "@example.org";
  u.job_role = "Registered Nurse";
  u.created_at = kNow;
  return u;
}

UserId AddUser(Store& store, const std::string& username) {
  auto id = store.Write([&](WriteTx& tx) { return tx.InsertUser(MakeUser(username), "hash"); });
  EXPECT_TRUE(id) << (id ? "" : id.error().internal_message);
  return id.value_or(0);
}

SpaceId AddSpace(Store& store, const std::string& name, UserId owner,
                 Visibility visibility = Visibility::kPublic) {
  auto id = store.Write([&](WriteTx& tx) -> Result<SpaceId> {
    Space s;
    s.kind = SpaceKind::kCommunity;
    s.name = name;
    s.visibility = visibility;
    s.created_by = owner;
    s.created_at = kNow;
    ROUNDS_ASSIGN_OR_RETURN(SpaceId space_id, tx.InsertSpace(s));
    ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership({space_id, owner, MemberRole::kOwner, 0, kNow}));
    return space_id;
  });
  EXPECT_TRUE(id);
  return id.value_or(0);
}

// Posts a message the way the app does: reserve the seq, insert the message and its event.
Result<Message> Post(Store& store, SpaceId space, UserId author, const std::string& body,
                     std::optional<MessageId> parent = std::nullopt, std::string client_id = {}) {
  return store.Write([&](WriteTx& tx) -> Result<Message> {
    Message m;
    m.space_id = space;
    m.author_id = author;
    m.body = body;
    m.parent_id = parent;
    m.client_id = client_id;
    m.created_at = kNow;
    ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(space));
    ROUNDS_ASSIGN_OR_RETURN(m.id, tx.InsertMessage(m));
    ROUNDS_RETURN_IF_ERROR(tx.InsertEvent({space, m.seq, "message.created", "{\"id\":" + std::to_string(m.id) + "}", kNow}));
    return m;
  });
}

std::vector<SearchHit> Search(Store& store, const std::string& text, std::vector<SpaceId> spaces) {
  auto hits = store.Read([&](ReadTx& tx) { return tx.SearchMessages({text, std::move(spaces), 20, 0}); });
  EXPECT_TRUE(hits) << (hits ? "" : hits.error().internal_message);
  return hits.value_or(std::vector<SearchHit>{});
}

TEST_P(StoreContractTest, InsertsAndFindsUsersWithDepartments) {
  auto dept = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Cardiology", std::nullopt}); });
  ASSERT_TRUE(dept);
  auto child = store().Write([&](WriteTx& tx) { return tx.InsertDepartment({0, "Cath Lab", *dept}); });
  ASSERT_TRUE(child);
  User u = MakeUser("asha");
  u.department_ids = {*dept, *child};
  auto id = store().Write([&](WriteTx& tx) { return tx.InsertUser(u, "argon"); });
  ASSERT_TRUE(id);
  auto found = store().Read([&](ReadTx& tx) { return tx.FindUserByUsername("asha"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, *id);
  EXPECT_EQ((*found)->department_ids.size(), 2u);
  auto creds = store().Read([&](ReadTx& tx) { return tx.FindCredentials(*id); });
  ASSERT_TRUE(creds && *creds);
  EXPECT_EQ((*creds)->password_hash, "argon");
  auto departments = store().Read([](ReadTx& tx) { return tx.ListDepartments(); });
  ASSERT_TRUE(departments);
  ASSERT_EQ(departments->size(), 2u);
  auto by_name = store().Read([](ReadTx& tx) { return tx.FindDepartmentByName("cardiology"); });
  ASSERT_TRUE(by_name && *by_name);
  EXPECT_EQ((*by_name)->id, *dept);
}

TEST_P(StoreContractTest, DuplicateUsernameIsConflict) {
  AddUser(store(), "dup");
  auto again = store().Write([](WriteTx& tx) { return tx.InsertUser(MakeUser("dup"), "h"); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_P(StoreContractTest, ListUsersFiltersByTextRoleDepartmentAndPages) {
  auto dept = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Pharmacy", std::nullopt}); });
  ASSERT_TRUE(dept);
  for (int i = 0; i < 5; ++i) {
    User u = MakeUser("pharm" + std::to_string(i));
    u.job_role = "Pharmacist";
    u.department_ids = {*dept};
    ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertUser(u, "h"); }));
  }
  AddUser(store(), "nurse_1");
  auto pharmacists = store().Read([](ReadTx& tx) { return tx.ListUsers({.job_role = "pharmacist", .limit = 50}); });
  ASSERT_TRUE(pharmacists);
  EXPECT_EQ(pharmacists->size(), 5u);
  auto in_dept = store().Read([&](ReadTx& tx) { return tx.ListUsers({.department_id = *dept}); });
  ASSERT_TRUE(in_dept);
  EXPECT_EQ(in_dept->size(), 5u);
  auto text = store().Read([](ReadTx& tx) { return tx.ListUsers({.text = "nurse_"}); });
  ASSERT_TRUE(text);
  ASSERT_EQ(text->size(), 1u);  // '_' is literal, not a LIKE wildcard
  auto page1 = store().Read([](ReadTx& tx) { return tx.ListUsers({.limit = 4}); });
  ASSERT_TRUE(page1);
  ASSERT_EQ(page1->size(), 4u);
  auto page2 = store().Read([&](ReadTx& tx) { return tx.ListUsers({.after_id = page1->back().id, .limit = 4}); });
  ASSERT_TRUE(page2);
  EXPECT_EQ(page2->size(), 2u);
}

TEST_P(StoreContractTest, SessionsAreFoundByTokenHashAndExpire) {
  UserId u = AddUser(store(), "sess");
  Session s{0, u, "tokenhash", "csrf", false, kNow, kNow, kNow + 1000, "ua", "127.0.0.1"};
  auto id = store().Write([&](WriteTx& tx) { return tx.InsertSession(s); });
  ASSERT_TRUE(id);
  auto found = store().Read([](ReadTx& tx) { return tx.FindSessionByTokenHash("tokenhash"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->csrf_token, "csrf");
  auto removed = store().Write([&](WriteTx& tx) { return tx.DeleteExpiredSessions(kNow + 1000, 1'000'000); });
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1);
  auto gone = store().Read([](ReadTx& tx) { return tx.FindSessionByTokenHash("tokenhash"); });
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
}

TEST_P(StoreContractTest, DeletingAUsersSessionsReturnsTheirIds) {
  UserId u = AddUser(store(), "many");
  for (int i = 0; i < 3; ++i) {
    Session s{0, u, "t" + std::to_string(i), "c", true, kNow, kNow, kNow + 10, "", ""};
    ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertSession(s); }));
  }
  auto ids = store().Write([&](WriteTx& tx) { return tx.DeleteSessionsForUser(u); });
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->size(), 3u);
  auto left = store().Read([&](ReadTx& tx) { return tx.ListSessionsForUser(u); });
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
}

TEST_P(StoreContractTest, SequencesHaveNoGapsUnderConcurrentWriters) {
  UserId u = AddUser(store(), "writer");
  SpaceId space = AddSpace(store(), "Busy", u);
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!Post(store(), space, u, "hello")) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  auto events = store().Read([&](ReadTx& tx) { return tx.ListEvents(space, 0, 10'000); });
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), static_cast<std::size_t>(kThreads * kPerThread));
  for (std::size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, static_cast<Seq>(i + 1));
  auto space_row = store().Read([&](ReadTx& tx) { return tx.FindSpace(space); });
  ASSERT_TRUE(space_row && *space_row);
  EXPECT_EQ((*space_row)->last_seq, kThreads * kPerThread);
  // Group commit: concurrent units share transactions.
  StoreMetrics metrics = store().Metrics();
  EXPECT_LT(metrics.write_batches, metrics.write_units);
}

TEST_P(StoreContractTest, AFailingUnitRollsBackAloneInItsBatch) {
  UserId u = AddUser(store(), "solo");
  SpaceId space = AddSpace(store(), "Mixed", u);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, failed{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      Status status = store().RunWrite([&](WriteTx& tx) -> Status {
        Message m;
        m.space_id = space;
        m.author_id = u;
        m.body = "unit " + std::to_string(t);
        m.created_at = kNow;
        ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(space));
        ROUNDS_RETURN_IF_ERROR(tx.InsertMessage(m).map([](MessageId) {}));
        if (t % 4 == 0) return Fail(ErrorCode::kInvalidArgument, "injected", "injected failure");
        return Ok();
      });
      status ? ++ok : ++failed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 12);
  EXPECT_EQ(failed, 4);
  auto messages = store().Read([&](ReadTx& tx) { return tx.ListMessages({.space_id = space, .limit = 100}); });
  ASSERT_TRUE(messages);
  EXPECT_EQ(messages->size(), 12u);
  for (const auto& m : *messages) EXPECT_NE(std::stoi(m.body.substr(5)) % 4, 0) << m.body;
  // The failed units' sequence numbers were rolled back too: no gaps.
  std::set<Seq> seqs;
  for (const auto& m : *messages) seqs.insert(m.seq);
  EXPECT_EQ(*seqs.rbegin(), 12);
}

TEST_P(StoreContractTest, DuplicateClientIdIsConflictAndFindable) {
  UserId u = AddUser(store(), "retry");
  SpaceId space = AddSpace(store(), "Retry", u);
  auto first = Post(store(), space, u, "once", std::nullopt, "c-1");
  ASSERT_TRUE(first);
  auto second = Post(store(), space, u, "once", std::nullopt, "c-1");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  auto found = store().Read([&](ReadTx& tx) { return tx.FindMessageByClientId(space, u, "c-1"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, first->id);
  // The same client id from another author is a different message.
  UserId other = AddUser(store(), "other");
  EXPECT_TRUE(Post(store(), space, other, "mine", std::nullopt, "c-1"));
}

TEST_P(StoreContractTest, PagesMessagesBothWaysAndThreads) {
  UserId u = AddUser(store(), "pager");
  SpaceId space = AddSpace(store(), "Pages", u);
  std::vector<Message> posted;
  for (int i = 0; i < 10; ++i) posted.push_back(*Post(store(), space, u, "m" + std::to_string(i)));
  auto reply = Post(store(), space, u, "reply", posted[2].id);
  ASSERT_TRUE(reply);
  auto newest = store().Read([&](ReadTx& tx) { return tx.ListMessages({.space_id = space, .limit = 3}); });
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 3u);
  EXPECT_EQ((*newest)[0].body, "m9");
  EXPECT_EQ((*newest)[2].body, "m7");
  auto older = store().Read([&](ReadTx& tx) {
    return tx.ListMessages({.space_id = space, .before_seq = (*newest)[2].seq, .limit = 3});
  });
  ASSERT_TRUE(older);
  EXPECT_EQ((*older)[0].body, "m6");
  auto after = store().Read([&](ReadTx& tx) {
    return tx.ListMessages({.space_id = space, .after_seq = posted[0].seq, .limit = 2});
  });
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].body, "m1");
  auto thread = store().Read([&](ReadTx& tx) {
    return tx.ListMessages({.space_id = space, .parent_id = posted[2].id, .after_seq = 0});
  });
  ASSERT_TRUE(thread);
  ASSERT_EQ(thread->size(), 1u);
  EXPECT_EQ((*thread)[0].body, "reply");
  auto root = store().Read([&](ReadTx& tx) { return tx.FindMessage(posted[2].id, u); });
  ASSERT_TRUE(root && *root);
  EXPECT_EQ((*root)->reply_count, 1);
}

TEST_P(StoreContractTest, EditsKeepHistoryAndDeletesTombstone) {
  UserId u = AddUser(store(), "editor");
  SpaceId space = AddSpace(store(), "Edits", u);
  auto m = Post(store(), space, u, "first draft");
  ASSERT_TRUE(m);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(m->id, "", "second draft", kNow + 5, u); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(m->id, "", "third draft", kNow + 9, u); }));
  auto edits = store().Read([&](ReadTx& tx) { return tx.ListEdits(m->id); });
  ASSERT_TRUE(edits);
  ASSERT_EQ(edits->size(), 3u);
  EXPECT_EQ((*edits)[0].body, "first draft");
  EXPECT_EQ((*edits)[2].body, "third draft");
  auto current = store().Read([&](ReadTx& tx) { return tx.FindMessage(m->id, u); });
  EXPECT_EQ((*current)->edited_at, kNow + 9);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(m->id, kNow + 20); }));
  auto deleted = store().Read([&](ReadTx& tx) { return tx.FindMessage(m->id, u); });
  ASSERT_TRUE(deleted && *deleted);
  EXPECT_TRUE((*deleted)->deleted);
  EXPECT_TRUE((*deleted)->body.empty());
  auto listed = store().Read([&](ReadTx& tx) { return tx.ListMessages({.space_id = space}); });
  EXPECT_TRUE(listed->empty());
  auto with_tombstones = store().Read([&](ReadTx& tx) { return tx.ListMessages({.space_id = space, .include_deleted = true}); });
  EXPECT_EQ(with_tombstones->size(), 1u);
}

TEST_P(StoreContractTest, SearchNeverFindsDeletedOrEditedAwayTextAndRespectsSpaces) {
  UserId u = AddUser(store(), "searcher");
  SpaceId open = AddSpace(store(), "Open", u);
  SpaceId secret = AddSpace(store(), "Secret", u, Visibility::kPrivate);
  auto kept = Post(store(), open, u, "The sepsis bundle checklist is updated");
  auto edited = Post(store(), open, u, "Tachycardia protocol draft");
  auto removed = Post(store(), open, u, "Obsolete triage flowchart");
  auto hidden = Post(store(), secret, u, "Sepsis escalation in the secret space");
  ASSERT_TRUE(kept && edited && removed && hidden);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(edited->id, "", "Bradycardia protocol final", kNow, u); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(removed->id, kNow); }));

  auto hits = Search(store(), "sepsis", {open});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].message.id, kept->id);
  EXPECT_NE(hits[0].snippet.find("[[sepsis]]"), std::string::npos) << hits[0].snippet;
  EXPECT_EQ(Search(store(), "sepsis", {open, secret}).size(), 2u);
  EXPECT_TRUE(Search(store(), "tachycardia", {open}).empty());
  EXPECT_EQ(Search(store(), "bradycardia", {open}).size(), 1u);
  EXPECT_TRUE(Search(store(), "flowchart", {open}).empty());
  EXPECT_EQ(Search(store(), "sep", {open}).size(), 1u);  // prefix match
  EXPECT_TRUE(Search(store(), "sepsis", {}).empty());
}

TEST_P(StoreContractTest, SearchTreatsFtsSyntaxAsPlainText) {
  UserId u = AddUser(store(), "fts");
  SpaceId open = AddSpace(store(), "Open", u);
  SpaceId secret = AddSpace(store(), "Secret", u, Visibility::kPrivate);
  ASSERT_TRUE(Post(store(), open, u, "insulin drip order"));
  ASSERT_TRUE(Post(store(), secret, u, "insulin secret"));
  for (const char* text : {"\"insulin", "insulin*", "NEAR(insulin drip)", "-insulin", "(insulin",
                           "body:insulin", "insulin OR secret", "^insulin", "insulin AND", "''", "*"}) {
    auto hits = store().Read([&](ReadTx& tx) { return tx.SearchMessages({text, {open}, 20, 0}); });
    ASSERT_TRUE(hits) << text << ": " << hits.error().internal_message;
    for (const auto& h : *hits) EXPECT_EQ(h.message.space_id, open) << text;
  }
}

TEST_P(StoreContractTest, ReadMarkersDriveUnreadCounts) {
  UserId alice = AddUser(store(), "alice");
  UserId bob = AddUser(store(), "bob");
  SpaceId space = AddSpace(store(), "Unread", alice);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpsertMembership({space, bob, MemberRole::kMember, 0, kNow}); }));
  Message with_mention;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Post(store(), space, alice, "note"));
  auto mention = store().Write([&](WriteTx& tx) -> Result<MessageId> {
    Message m;
    m.space_id = space;
    m.author_id = alice;
    m.body = "@bob please check";
    m.mentions = {bob};
    m.created_at = kNow;
    ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(space));
    return tx.InsertMessage(m);
  });
  ASSERT_TRUE(mention);
  ASSERT_TRUE(Post(store(), space, bob, "my own message"));
  auto spaces = store().Read([&](ReadTx& tx) { return tx.ListSpacesForUser(bob); });
  ASSERT_TRUE(spaces);
  ASSERT_EQ(spaces->size(), 1u);
  EXPECT_EQ((*spaces)[0].unread_count, 5);
  EXPECT_EQ((*spaces)[0].unread_mentions, 1);
  EXPECT_EQ((*spaces)[0].space.member_count, 2);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReadSeq(space, bob, 5); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReadSeq(space, bob, 2); }));  // never backwards
  spaces = store().Read([&](ReadTx& tx) { return tx.ListSpacesForUser(bob); });
  EXPECT_EQ((*spaces)[0].unread_count, 0);
  EXPECT_EQ((*spaces)[0].membership.read_seq, 5);
  auto mentions = store().Read([&](ReadTx& tx) { return tx.ListMentions(bob, 0, 10); });
  ASSERT_TRUE(mentions);
  ASSERT_EQ(mentions->size(), 1u);
  EXPECT_EQ((*mentions)[0].message_id, *mention);
}

TEST_P(StoreContractTest, ReactionsVotesAndPolls) {
  UserId a = AddUser(store(), "ra");
  UserId b = AddUser(store(), "rb");
  SpaceId space = AddSpace(store(), "React", a);
  auto idea = store().Write([&](WriteTx& tx) -> Result<MessageId> {
    Message m;
    m.space_id = space;
    m.author_id = a;
    m.kind = MessageKind::kIdea;
    m.body = "Discharge lounge";
    ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(space));
    return tx.InsertMessage(m);
  });
  auto poll = store().Write([&](WriteTx& tx) -> Result<MessageId> {
    Message m;
    m.space_id = space;
    m.author_id = a;
    m.kind = MessageKind::kPoll;
    m.body = "Huddle time?";
    m.poll_options = {{0, "07:00", 0}, {1, "07:30", 0}};
    ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(space));
    return tx.InsertMessage(m);
  });
  ASSERT_TRUE(idea && poll);
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetReaction(*idea, a, "👍", true); }));
  EXPECT_FALSE(*store().Write([&](WriteTx& tx) { return tx.SetReaction(*idea, a, "👍", true); }));
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetReaction(*idea, b, "👍", true); }));
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetIdeaVote(*idea, b, true); }));
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(*poll, b, 1); }));
  EXPECT_FALSE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(*poll, b, 1); }));
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(*poll, a, 0); }));
  auto bad = store().Write([&](WriteTx& tx) { return tx.SetPollVote(*poll, a, 7); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  auto seen_by_b = store().Read([&](ReadTx& tx) { return tx.FindMessage(*idea, b); });
  ASSERT_TRUE(seen_by_b && *seen_by_b);
  ASSERT_EQ((*seen_by_b)->reactions.size(), 1u);
  EXPECT_EQ((*seen_by_b)->reactions[0].count, 2);
  EXPECT_TRUE((*seen_by_b)->reactions[0].mine);
  EXPECT_EQ((*seen_by_b)->vote_count, 1);
  EXPECT_TRUE((*seen_by_b)->my_vote);
  auto poll_by_b = store().Read([&](ReadTx& tx) { return tx.FindMessage(*poll, b); });
  ASSERT_EQ((*poll_by_b)->poll_options.size(), 2u);
  EXPECT_EQ((*poll_by_b)->poll_options[0].votes, 1);
  EXPECT_EQ((*poll_by_b)->poll_options[1].votes, 1);
  EXPECT_EQ((*poll_by_b)->my_poll_vote, 1);
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetIdeaVote(*idea, b, false); }));
  auto after = store().Read([&](ReadTx& tx) { return tx.FindMessage(*idea, a); });
  EXPECT_EQ((*after)->vote_count, 0);
}

TEST_P(StoreContractTest, MembershipsSpacesAndDirectKeys) {
  UserId a = AddUser(store(), "ma");
  UserId b = AddUser(store(), "mb");
  SpaceId pub = AddSpace(store(), "Public Place", a);
  SpaceId priv = AddSpace(store(), "Private Place", a, Visibility::kPrivate);
  auto direct = store().Write([&](WriteTx& tx) {
    Space s;
    s.kind = SpaceKind::kDirect;
    s.name = "";
    s.visibility = Visibility::kPrivate;
    s.join_policy = JoinPolicy::kInvite;
    s.direct_key = std::to_string(a) + "," + std::to_string(b);
    return tx.InsertSpace(s);
  });
  ASSERT_TRUE(direct);
  auto found = store().Read([&](ReadTx& tx) { return tx.FindDirectSpace(std::to_string(a) + "," + std::to_string(b)); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, *direct);
  auto discover = store().Read([&](ReadTx& tx) { return tx.ListSpaces({.not_member_of = b}); });
  ASSERT_TRUE(discover);
  ASSERT_EQ(discover->size(), 1u);  // public only, no direct spaces
  EXPECT_EQ((*discover)[0].id, pub);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpsertMembership({pub, b, MemberRole::kMember, 0, kNow}); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpsertMembership({pub, b, MemberRole::kModerator, 0, kNow}); }));
  auto membership = store().Read([&](ReadTx& tx) { return tx.FindMembership(pub, b); });
  ASSERT_TRUE(membership && *membership);
  EXPECT_EQ((*membership)->role, MemberRole::kModerator);
  auto ids = store().Read([&](ReadTx& tx) { return tx.ListMemberIds(pub); });
  EXPECT_EQ(ids->size(), 2u);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMembership(pub, b); }));
  auto space = store().Read([&](ReadTx& tx) { return tx.FindSpace(pub); });
  EXPECT_EQ((*space)->member_count, 1);
  auto a_spaces = store().Read([&](ReadTx& tx) { return tx.ListSpaceIdsForUser(a); });
  EXPECT_EQ(std::set<SpaceId>(a_spaces->begin(), a_spaces->end()), (std::set<SpaceId>{pub, priv}));
  Space renamed = **space;
  renamed.name = "Renamed";
  renamed.archived = true;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateSpace(renamed); }));
  auto archived = store().Read([&](ReadTx& tx) { return tx.ListSpaces({.not_member_of = b}); });
  EXPECT_TRUE(archived->empty());
}

TEST_P(StoreContractTest, PinsAndAcceptedAnswers) {
  UserId u = AddUser(store(), "pin");
  SpaceId space = AddSpace(store(), "Pins", u);
  auto q = Post(store(), space, u, "Which pump?");
  auto a = Post(store(), space, u, "The new one", q->id);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetPinned(q->id, true); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetAcceptedAnswer(q->id, a->id); }));
  auto pinned = store().Read([&](ReadTx& tx) { return tx.ListPinned(space, u); });
  ASSERT_EQ(pinned->size(), 1u);
  EXPECT_EQ((*pinned)[0].accepted_answer_id, a->id);
  auto missing = store().Write([&](WriteTx& tx) { return tx.SetPinned(999999, true); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, DataSurvivesReopen) {
  UserId u = AddUser(store(), "durable");
  SpaceId space = AddSpace(store(), "Durable", u);
  ASSERT_TRUE(Post(store(), space, u, "persisted before close"));
  Reopen();
  auto messages = store().Read([&](ReadTx& tx) { return tx.ListMessages({.space_id = space}); });
  ASSERT_TRUE(messages);
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].body, "persisted before close");
  EXPECT_EQ(Search(store(), "persisted", {space}).size(), 1u);
  auto next = Post(store(), space, u, "after reopen");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 2);
}

TEST_P(StoreContractTest, WritesAfterCloseAreRefused) {
  store().Close();
  auto refused = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Late", std::nullopt}); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
}

TEST_P(StoreContractTest, BackupWhileWritingProducesAConsistentCopy) {
  if (!GetParam().backup_reopens) GTEST_SKIP() << "backend backs up outside the store";
  UserId u = AddUser(store(), "backup");
  SpaceId space = AddSpace(store(), "Backup", u);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Post(store(), space, u, "before " + std::to_string(i)));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) (void)Post(store(), space, u, "during");
  });
  std::string copy_dir = location_ + "-copy";
  std::filesystem::create_directories(copy_dir);
  Status backed_up = store().Backup(copy_dir + "/rounds.db");
  stop = true;
  writer.join();
  ASSERT_TRUE(backed_up) << backed_up.error().internal_message;
  auto copy = GetParam().open(copy_dir);
  ASSERT_TRUE(copy) << copy.error().internal_message;
  auto events = (*copy)->Read([&](ReadTx& tx) { return tx.ListEvents(space, 0, 100'000); });
  ASSERT_TRUE(events);
  ASSERT_GE(events->size(), 50u);
  for (std::size_t i = 0; i < events->size(); ++i) ASSERT_EQ((*events)[i].seq, static_cast<Seq>(i + 1));
  auto messages = (*copy)->Read([&](ReadTx& tx) { return tx.ListMessages({.space_id = space, .limit = 1000}); });
  EXPECT_EQ(messages->size(), events->size());
  (*copy)->Close();
  std::filesystem::remove_all(copy_dir);
}

}  // namespace
}  // namespace rounds::store::storetest
