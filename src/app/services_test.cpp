// App services against a real SQLite store in a temporary folder, with a manual clock.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "app/services.hpp"
#include "core/crypto.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    dir_ = std::filesystem::path(::testing::TempDir()) / ("rounds-app-" + std::to_string(::getpid()) + "-" +
                                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = store::OpenSqliteStore({.path = (dir_ / "rounds.db").string(), .read_connections = 2});
    ASSERT_TRUE(opened);
    store_ = std::move(*opened);
    config_.idle_timeout_seconds = 15 * 60;
    config_.absolute_timeout_seconds = 12 * 60 * 60;
    config_.lockout_threshold = 3;
    services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);
    bus_.Subscribe([this](const bus::Event& e) {
      std::lock_guard lock(mutex_);
      published_.push_back(e);
    });
  }
  void TearDown() override {
    services_.reset();
    store_->Close();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Actor MakeUser(const std::string& username, bool admin = false) {
    NewUser u;
    u.username = username;
    u.display_name = "User " + username;
    u.password = "correct horse battery staple";
    u.is_admin = admin;
    u.fast_hash = true;
    auto created = services_->directory.CreateUser(Actor::System(), u);
    EXPECT_TRUE(created) << created.error().public_message;
    Actor a;
    a.user = *created;
    return a;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  bus::InProcessBus bus_;
  ManualClock clock_;
  Config config_;
  std::unique_ptr<Services> services_;
  std::mutex mutex_;
  std::vector<bus::Event> published_;
};

TEST_F(ServicesTest, SessionEndsAfterIdleTimeoutAndReportsIt) {
  MakeUser("idle");
  std::vector<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.push_back(id); });
  auto login = services_->auth.Login({"idle", "correct horse battery staple", true, "127.0.0.1", "test"});
  ASSERT_TRUE(login);
  clock_.Advance(14 * 60 * 1000);
  ASSERT_TRUE(services_->auth.Authenticate(login->token));  // activity resets the idle timer
  clock_.Advance(14 * 60 * 1000);
  ASSERT_TRUE(services_->auth.Authenticate(login->token));
  clock_.Advance(15 * 60 * 1000 + 1000);
  services_->auth.ExpireSessions();
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0], login->session.id);
  auto after = services_->auth.Authenticate(login->token);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(ServicesTest, SessionEndsAtItsAbsoluteLifetimeEvenWhenActive) {
  MakeUser("busy");
  auto login = services_->auth.Login({"busy", "correct horse battery staple", true, "", ""});
  ASSERT_TRUE(login);
  for (int i = 0; i < 47; ++i) {  // active every 15 minutes for 11 h 45 min
    clock_.Advance(15 * 60 * 1000 - 1000);
    ASSERT_TRUE(services_->auth.Authenticate(login->token)) << i;
  }
  clock_.Advance(20 * 60 * 1000);
  EXPECT_FALSE(services_->auth.Authenticate(login->token));
}

TEST_F(ServicesTest, LockOutAfterThresholdAndUnlockAfterItsTime) {
  MakeUser("locky");
  for (int i = 0; i < 2; ++i) {
    auto r = services_->auth.Login({"locky", "wrong password here", true, "", ""});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().problem, "invalid_credentials");
  }
  auto third = services_->auth.Login({"locky", "wrong password here", true, "", ""});
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::kRateLimited);
  EXPECT_GT(third.error().retry_after_seconds, 0);
  auto right = services_->auth.Login({"locky", "correct horse battery staple", true, "", ""});
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().problem, "account_locked");
  clock_.Advance(config_.lockout_seconds * 1000 + 1);
  EXPECT_TRUE(services_->auth.Login({"locky", "correct horse battery staple", true, "", ""}));
}

TEST_F(ServicesTest, ConcurrentRetriesWithOneClientIdStoreOneMessage) {
  Actor owner = MakeUser("owner");
  auto space = services_->spaces.Create(owner, {SpaceKind::kChannel, "Retries", "", Visibility::kPublic, JoinPolicy::kOpen});
  ASSERT_TRUE(space);
  SpaceId id = (*space)["id"];
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<MessageId> ids;
  std::atomic<int> created{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      Draft d;
      d.body = "once";
      d.client_id = "same-key";
      auto r = services_->messages.Post(owner, id, d);
      ASSERT_TRUE(r);
      if (r->created) ++created;
      std::lock_guard lock(mutex);
      ids.insert(r->message["id"].get<MessageId>());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(created, 1);
  int message_events = 0;
  for (const auto& e : published_) message_events += e.type == "message.created";
  EXPECT_EQ(message_events, 1) << "a retry publishes nothing";
}

TEST_F(ServicesTest, EventsArePublishedOnlyAfterTheirCommitAndMatchTheLog) {
  Actor owner = MakeUser("pub");
  auto space = services_->spaces.Create(owner, {SpaceKind::kChannel, "Log", "", Visibility::kPublic, JoinPolicy::kOpen});
  SpaceId id = (*space)["id"];
  Draft d;
  d.body = "hello";
  ASSERT_TRUE(services_->messages.Post(owner, id, d));
  // Every sequenced event that was published is in the store's log with the same frame.
  auto replay = services_->events.Replay(owner, {{id, 0}});
  ASSERT_TRUE(replay);
  std::vector<std::string> logged;
  for (const auto& e : *replay) logged.push_back(*e.frame);
  std::vector<std::string> live;
  for (const auto& e : published_) {
    if (e.space_id == id && e.seq > 0) live.push_back(*e.frame);
  }
  EXPECT_EQ(live, logged);
  EXPECT_EQ(live.size(), 2u);  // member.joined, message.created
}

TEST_F(ServicesTest, PrivateSpacesAreNotFoundForOutsidersButVisibleToAdmins) {
  Actor owner = MakeUser("priv");
  Actor outsider = MakeUser("outsider");
  Actor admin = MakeUser("boss", /*admin=*/true);
  auto space = services_->spaces.Create(owner, {SpaceKind::kChannel, "Hidden", "", Visibility::kPrivate, JoinPolicy::kInvite});
  SpaceId id = (*space)["id"];
  auto denied = services_->spaces.Get(outsider, id);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(services_->spaces.Get(admin, id));
  Draft d;
  d.body = "admins read but do not post without joining";
  auto post = services_->messages.Post(admin, id, d);
  ASSERT_FALSE(post);
  EXPECT_EQ(post.error().problem, "not_a_member");
}

TEST_F(ServicesTest, MentionsNotifyOnlyMembersWhoCanRead) {
  Actor owner = MakeUser("alma");
  Actor member = MakeUser("bert");
  MakeUser("carl");
  auto space = services_->spaces.Create(owner, {SpaceKind::kChannel, "Mentions", "", Visibility::kPrivate, JoinPolicy::kInvite});
  SpaceId id = (*space)["id"];
  ASSERT_TRUE(services_->spaces.AddMember(owner, id, member.user.id, MemberRole::kMember));
  Draft d;
  d.body = "@bert and @carl please look";
  auto posted = services_->messages.Post(owner, id, d);
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->message["mentions"], json::array({member.user.id}));
}

TEST_F(ServicesTest, ImportReportsBadRowsByLineAndImportsTheRest) {
  std::string csv =
      "username,display_name,email,job_role,department\n"
      "ok.one,Ok One,one@example.org,Nurse,Cardiology\n"
      "Bad Name,Bad,bad@example.org,Nurse,Cardiology\n"
      "ok.two,Ok Two,not-an-email,Nurse,Oncology\n"
      "too,few,fields\n"
      "ok.three,\"Three, The\",three@example.org,Pharmacist,Pharmacy\n";
  auto report = services_->directory.ImportUsersCsv(Actor::System(), csv);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->imported, 2);
  ASSERT_EQ(report->errors.size(), 3u);
  EXPECT_EQ(report->errors[0].first, 3);
  EXPECT_EQ(report->errors[1].first, 4);
  EXPECT_EQ(report->errors[2].first, 5);
  auto three = store_->Read([](store::ReadTx& tx) { return tx.FindUserByUsername("ok.three"); });
  ASSERT_TRUE(three && *three);
  EXPECT_EQ((*three)->display_name, "Three, The");
}

TEST_F(ServicesTest, DemoSeedingIsIdempotent) {
  auto first = SeedDemo(*services_, *store_);
  ASSERT_TRUE(first) << first.error().internal_message;
  auto count = [&] {
    return store_->Read([](store::ReadTx& tx) -> Result<std::pair<std::int64_t, std::size_t>> {
      ROUNDS_ASSIGN_OR_RETURN(auto users, tx.CountUsers());
      ROUNDS_ASSIGN_OR_RETURN(auto spaces, tx.ListSpaces({.public_only = false, .include_archived = true, .limit = 1000}));
      return std::make_pair(users, spaces.size());
    });
  };
  auto before = count();
  ASSERT_TRUE(before);
  EXPECT_GE(before->first, 50);
  EXPECT_GE(before->second, 9u);
  ASSERT_TRUE(SeedDemo(*services_, *store_));
  EXPECT_EQ(*count(), *before);
}

}  // namespace
}  // namespace rounds::app
