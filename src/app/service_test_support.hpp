// Test support for app service tests: a real SQLite store in a fresh temporary folder, an
// in-process bus that records what was published, a manual clock, and helpers to make people
// and spaces. Included only by *_test.cpp files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/services.hpp"
#include "core/crypto.hpp"

namespace rounds::app::testing {

inline constexpr const char* kPassword = "correct horse battery staple";

// A document answered as text (a page of messages), parsed back; an error leaves it null.
inline json Parsed(const Result<JsonText>& answer) {
  return answer ? json::parse(answer->view()) : json();
}

class ServiceTest : public ::testing::Test {
 protected:
  // Durability is the store suite's concern; these tests skip the fsync to stay fast.
  virtual bool SyncFull() const { return false; }
  virtual void Configure(Config&) {}

  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("rounds-app-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = store::OpenSqliteStore(
        {.path = (dir_ / "rounds.db").string(), .read_connections = 2, .sync_full = SyncFull()});
    ASSERT_TRUE(opened) << opened.error().internal_message;
    store_ = std::move(*opened);
    config_.idle_timeout_seconds = 15 * 60;
    config_.absolute_timeout_seconds = 12 * 60 * 60;
    config_.lockout_threshold = 3;
    config_.data_dir = dir_.string();  // keys the services create stay in the test's folder
    Configure(config_);
    services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);
    bus_.Subscribe([this](const bus::Event& e) {
      std::lock_guard lock(mutex_);
      published_.push_back(e);
    });
  }
  void TearDown() override {
    services_.reset();
    if (store_) store_->Close();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A staff account (fast hash) and the Actor a session of it would produce.
  Actor MakeUser(const std::string& username, bool admin = false) {
    NewUser u;
    u.username = username;
    u.display_name = "User " + username;
    u.email = username + "@example.org";
    u.job_role = "Registered Nurse";
    u.password = kPassword;
    u.is_admin = admin;
    u.fast_hash = true;
    auto created = services_->directory.CreateUser(Actor::System(), u);
    EXPECT_TRUE(created) << created.error().public_message;
    Actor a;
    if (created) a.user = *created;
    // An administrator's Actor as an elevated session produces it (AuthService::Elevate); an
    // administrator who has not taken up administration is MakeUser(...) with this cleared.
    a.admin_elevated = admin;
    return a;
  }
  // A staff account made a compliance officer, as an administrator would.
  Actor MakeOfficer(const std::string& username) {
    Actor officer = MakeUser(username, false);
    UserPatch patch;
    patch.is_compliance = true;
    EXPECT_TRUE(services_->directory.UpdateUser(Actor::System(), officer.user.id, patch));
    officer.user.is_compliance = true;
    return officer;
  }
  // A patient's account (patients are not created through the directory's API).
  Actor MakePatient(const std::string& username) {
    Actor a = MakeUser(username);
    a.user.kind = domain::AccountKind::kPatient;
    EXPECT_TRUE(store_->Write([&](store::WriteTx& tx) { return tx.UpdateUser(a.user); }));
    return a;
  }

  domain::SpaceId MakeSpace(const Actor& owner, domain::SpaceKind kind, const std::string& name,
                            domain::Visibility visibility = domain::Visibility::kPublic) {
    NewSpace s{kind, name, "", visibility,
               visibility == domain::Visibility::kPublic ? domain::JoinPolicy::kOpen : domain::JoinPolicy::kInvite};
    auto created = services_->spaces.Create(owner, s);
    EXPECT_TRUE(created) << created.error().public_message;
    return created ? (*created)["id"].get<domain::SpaceId>() : 0;
  }

  json Post(const Actor& author, domain::SpaceId space, const std::string& body,
            domain::MessageKind kind = domain::MessageKind::kMessage,
            std::optional<domain::MessageId> parent = std::nullopt, std::vector<std::string> options = {}) {
    Draft d;
    d.body = body;
    d.kind = kind;
    d.parent_id = parent;
    d.poll_options = std::move(options);
    auto posted = services_->messages.Post(author, space, d);
    EXPECT_TRUE(posted) << posted.error().problem << ": " << posted.error().public_message;
    return posted ? posted->Message() : json();
  }

  // The audit records of `action`, oldest first.
  std::vector<domain::AuditRecord> AuditOf(const std::string& action) {
    auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100000); });
    EXPECT_TRUE(records);
    std::vector<domain::AuditRecord> out;
    for (auto& r : records ? *records : std::vector<domain::AuditRecord>{}) {
      if (r.action == action) out.push_back(r);
    }
    return out;
  }

  std::vector<bus::Event> Published() {
    std::lock_guard lock(mutex_);
    return published_;
  }
  void ClearPublished() {
    std::lock_guard lock(mutex_);
    published_.clear();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  bus::InProcessBus bus_;
  ManualClock clock_;
  Config config_;
  std::unique_ptr<Services> services_;
  std::mutex mutex_;
  std::vector<bus::Event> published_;  // guarded by mutex_
};

}  // namespace rounds::app::testing
