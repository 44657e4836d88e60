// Administration as a separate, time-boxed standing of a session (HIPAA NPRM: administrator
// identities apart from normal ones, with step-up): an administrator's account acts as staff until
// its session is elevated with the password (and a two-step code), and only until it lapses.
// Against a real SQLite store with a manual clock.
#include <algorithm>

#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::kPassword;

class AdminElevationTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    MakeUser("root", /*admin=*/true);
    nurse_ = MakeUser("nurse");
  }
  // A fresh session of `username`, signed in with the password; returns its token.
  std::string SignIn(const std::string& username, const std::string& code = "") {
    auto login = services_->auth.Login({username, kPassword, true, "192.0.2.7", "test-agent", "", code});
    EXPECT_TRUE(login && !login->token.empty());
    return login ? login->token : "";
  }
  Actor As(const std::string& token) {
    auto actor = services_->auth.Authenticate(token, "192.0.2.7");
    EXPECT_TRUE(actor) << (actor ? "" : actor.error().problem);
    return actor ? *actor : Actor{};
  }
  std::vector<AuditRecord> Audit(const std::string& action) {
    auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 10'000); });
    EXPECT_TRUE(records);
    std::vector<AuditRecord> out;
    for (auto& r : *records) {
      if (r.action == action) out.push_back(r);
    }
    return out;
  }
  Actor nurse_;
};

TEST_F(AdminElevationTest, AnAdministratorsSessionActsAsStaffUntilElevatedAndThenOnlyUntilItLapses) {
  const std::string token = SignIn("root");
  Actor resting = As(token);
  EXPECT_TRUE(resting.user.is_admin);
  EXPECT_FALSE(resting.IsAdmin());
  EXPECT_EQ(resting.admin_elevated_until, 0);

  // At rest the account is staff: administration is refused with a code a client can act on,
  // and the refusal is on record under the staff role.
  auto refused = services_->directory.CreateDepartment(resting, "Estates", std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(refused.error().problem, "admin_elevation_required");
  auto denials = Audit("department.create");
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(denials[0].reason, "admin_elevation_required");
  EXPECT_EQ(denials[0].actor_role, "staff");
  // Nor does the flag open private spaces.
  SpaceId ward = MakeSpace(nurse_, SpaceKind::kChannel, "Ward 4 handover", Visibility::kPrivate);
  EXPECT_EQ(services_->spaces.Get(resting, ward).error().code, ErrorCode::kNotFound);

  // A wrong password elevates nothing and is on record.
  auto wrong = services_->auth.Elevate(resting, "not the password at all", "");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "invalid_credentials");
  EXPECT_FALSE(As(token).IsAdmin());

  const UnixMillis asked = clock_.NowMillis();
  auto until = services_->auth.Elevate(resting, kPassword, "");
  ASSERT_TRUE(until) << until.error().problem;
  EXPECT_EQ(*until, asked + config_.admin_elevation_seconds * 1000);
  Actor admin = As(token);
  EXPECT_TRUE(admin.IsAdmin());
  EXPECT_EQ(admin.admin_elevated_until, *until);
  auto made = services_->directory.CreateDepartment(admin, "Estates", std::nullopt);
  ASSERT_TRUE(made) << made.error().problem;
  EXPECT_TRUE(services_->spaces.Get(admin, ward));
  auto elevations = Audit("auth.elevate");
  ASSERT_EQ(elevations.size(), 2u) << "the wrong password and the elevation";
  EXPECT_EQ(elevations[0].outcome, AuditOutcome::kFailure);
  EXPECT_EQ(elevations[1].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(elevations[1].actor_role, "admin");
  EXPECT_EQ(elevations[1].object_id, std::to_string(admin.session_id));
  EXPECT_NE(elevations[1].details_json.find("\"until\":" + std::to_string(*until)), std::string::npos);
  auto created = Audit("department.create");
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[1].actor_role, "admin");

  // Another session of the same account is not elevated by this one.
  Actor other = As(SignIn("root"));
  EXPECT_FALSE(other.IsAdmin());

  // It survives a restart of the session cache (it is the session's, in the store) ...
  auto reread = store_->Read([&](store::ReadTx& tx) { return tx.ListSessionsForUser(admin.user.id); });
  ASSERT_TRUE(reread);
  EXPECT_TRUE(std::any_of(reread->begin(), reread->end(), [&](const Session& s) {
    return s.id == admin.session_id && s.admin_elevated_until == *until;
  }));
  // ... and lapses at its time, while the session goes on (kept alive by use).
  clock_.Advance(config_.admin_elevation_seconds * 1000 / 2);
  EXPECT_TRUE(As(token).IsAdmin());
  clock_.Set(*until - 1);
  EXPECT_TRUE(As(token).IsAdmin());
  clock_.Set(*until);
  Actor lapsed = As(token);
  EXPECT_FALSE(lapsed.IsAdmin());
  EXPECT_EQ(services_->directory.CreateDepartment(lapsed, "Pharmacy", std::nullopt).error().problem,
            "admin_elevation_required");
}

TEST_F(AdminElevationTest, EndingItReturnsTheSessionToStaffOnRecord) {
  const std::string token = SignIn("root");
  ASSERT_TRUE(services_->auth.Elevate(As(token), kPassword, ""));
  Actor admin = As(token);
  ASSERT_TRUE(admin.IsAdmin());
  ASSERT_TRUE(services_->auth.EndElevation(admin));
  EXPECT_FALSE(As(token).IsAdmin());
  auto ended = Audit("auth.elevation_end");
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].object_id, std::to_string(admin.session_id));
  // Ending it again is not an act: nothing more on record.
  ASSERT_TRUE(services_->auth.EndElevation(As(token)));
  EXPECT_EQ(Audit("auth.elevation_end").size(), 1u);
}

TEST_F(AdminElevationTest, OnlyAdministratorsElevateAndARevokedRoleEndsItAtOnce) {
  Actor nurse = As(SignIn("nurse"));
  auto refused = services_->auth.Elevate(nurse, kPassword, "");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "admin_required");
  auto denied = Audit("auth.elevate");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(denied[0].actor_id, nurse.user.id);
  auto stored = store_->Read([&](store::ReadTx& tx) { return tx.ListSessionsForUser(nurse.user.id); });
  ASSERT_TRUE(stored);
  for (const Session& s : *stored) EXPECT_EQ(s.admin_elevated_until, 0);

  const std::string token = SignIn("root");
  ASSERT_TRUE(services_->auth.Elevate(As(token), kPassword, ""));
  Actor admin = As(token);
  ASSERT_TRUE(admin.IsAdmin());
  UserPatch demote;
  demote.is_admin = false;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), admin.user.id, demote));
  // The snapshot taken while elevated is checked against the account as it is now.
  EXPECT_EQ(services_->directory.CreateDepartment(admin, "Estates", std::nullopt).error().problem, "admin_required");
  EXPECT_FALSE(As(token).IsAdmin());
}

TEST_F(AdminElevationTest, WithTwoStepSignInItTakesACodeWhichIsSpent) {
  const std::string first = SignIn("root");
  Actor enrolling = As(first);
  auto setup = services_->auth.BeginTotp(enrolling, kPassword);
  ASSERT_TRUE(setup);
  const auto secret = *crypto::Base32Decode(setup->secret);
  auto code = [&] { return crypto::TotpCode(secret, clock_.NowMillis() / 30'000); };
  ASSERT_TRUE(services_->auth.ConfirmTotp(enrolling, code()));
  clock_.Advance(30'000);  // the set-up spent this step's code
  Actor admin = As(first);

  auto bare = services_->auth.Elevate(admin, kPassword, "");
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().problem, "code_required");
  EXPECT_FALSE(As(first).IsAdmin());

  const std::string now_code = code();
  ASSERT_TRUE(services_->auth.Elevate(admin, kPassword, now_code));
  EXPECT_TRUE(As(first).IsAdmin());
  ASSERT_TRUE(services_->auth.EndElevation(As(first)));
  auto again = services_->auth.Elevate(admin, kPassword, now_code);
  ASSERT_FALSE(again) << "each code works once";
  EXPECT_EQ(again.error().problem, "invalid_code");
  EXPECT_FALSE(As(first).IsAdmin());
}

TEST_F(AdminElevationTest, ItNeverOutlivesTheSession) {
  const std::string token = SignIn("root");
  Actor admin = As(token);
  // Near the session's absolute end, administration ends with it.
  const UnixMillis end = admin.session_expires_at;
  for (UnixMillis t = clock_.NowMillis(); t < end - 60'000; t += 10 * 60'000) {
    clock_.Set(t);
    As(token);  // keeps the session from idling out
  }
  clock_.Set(end - 60'000);
  auto until = services_->auth.Elevate(As(token), kPassword, "");
  ASSERT_TRUE(until);
  EXPECT_EQ(*until, end);
}

}  // namespace
}  // namespace rounds::app
