// Two-step sign-in (TOTP) in AuthService and DirectoryService, against a real SQLite store with a
// manual clock: codes are computed here from the secret the set-up hands out, as an
// authenticator app would.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>

#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::kPassword;

constexpr std::int64_t kStep = 30'000;

class TwoStepTest : public testing::ServiceTest {
 protected:
  Result<LoginResult> SignIn(const std::string& username, const std::string& password, const std::string& code = "",
                             const std::string& address = "192.0.2.7") {
    return services_->auth.Login({username, password, true, address, "test-agent", "", code});
  }
  Result<LoginResult> Second(const std::string& token, const std::string& code, const std::string& address = "192.0.2.7") {
    return services_->auth.CompleteMfa({token, code, true, address, "test-agent", ""});
  }
  // A signed-in actor of `username` (password only).
  Actor Session(const std::string& username) {
    auto login = SignIn(username, kPassword);
    EXPECT_TRUE(login && !login->mfa_required);
    auto actor = services_->auth.Authenticate(login->token);
    EXPECT_TRUE(actor);
    return *actor;
  }
  std::string Code(const std::string& secret, std::int64_t step_offset = 0) {
    return crypto::TotpCode(*crypto::Base32Decode(secret), clock_.NowMillis() / kStep + step_offset);
  }
  // Turns two-step sign-in on for `actor`; returns the base32 secret and fills `codes`.
  std::string Enroll(const Actor& actor, std::vector<std::string>* codes = nullptr) {
    auto setup = services_->auth.BeginTotp(actor, kPassword);
    EXPECT_TRUE(setup) << setup.error().problem;
    auto confirmed = services_->auth.ConfirmTotp(actor, Code(setup->secret));
    EXPECT_TRUE(confirmed) << confirmed.error().problem;
    if (codes != nullptr && confirmed) *codes = *confirmed;
    return setup->secret;
  }
  Credentials Stored(UserId id) {
    auto creds = store_->Read([&](store::ReadTx& tx) { return tx.FindCredentials(id); });
    EXPECT_TRUE(creds && *creds);
    return **creds;
  }
  std::vector<AuditRecord> Audit() {
    auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 10'000); });
    EXPECT_TRUE(records);
    return *records;
  }
};

TEST_F(TwoStepTest, AfterSetUpThePasswordAloneOpensNoSessionAndTheCodeDoes) {
  Actor ana = MakeUser("ana");
  const std::string secret = Enroll(Session("ana"));
  EXPECT_EQ(crypto::Base32Decode(secret)->size(), 20u) << "160-bit seeds";
  clock_.Advance(kStep);

  auto first = SignIn("ana", kPassword);
  ASSERT_TRUE(first) << first.error().problem;
  EXPECT_TRUE(first->mfa_required);
  EXPECT_TRUE(first->token.empty());
  EXPECT_EQ(first->session.id, 0);
  auto sessions = store_->Read([&](store::ReadTx& tx) { return tx.ListSessionsForUser(ana.user.id); });
  ASSERT_TRUE(sessions);
  EXPECT_EQ(sessions->size(), 1u) << "only the set-up's own session";

  auto done = Second(first->mfa_token, Code(secret));
  ASSERT_TRUE(done) << done.error().problem;
  EXPECT_FALSE(done->mfa_required);
  auto actor = services_->auth.Authenticate(done->token);
  ASSERT_TRUE(actor);
  EXPECT_EQ(actor->user.id, ana.user.id);
  EXPECT_TRUE(done->session.second_factor);
  auto audit = Audit();
  EXPECT_TRUE(std::any_of(audit.begin(), audit.end(), [](const AuditRecord& r) {
    return r.action == "auth.login" && r.outcome == AuditOutcome::kSuccess &&
           r.details_json.find("\"second_factor\":true") != std::string::npos;
  }));
  EXPECT_TRUE(std::any_of(audit.begin(), audit.end(), [](const AuditRecord& r) { return r.action == "auth.login.password"; }));
}

TEST_F(TwoStepTest, ACodeWorksOnceAndOnlyWithinOneStepOfNow) {
  MakeUser("ben");
  const std::string secret = Enroll(Session("ben"));
  clock_.Advance(kStep);
  const std::string code = Code(secret);
  auto first = SignIn("ben", kPassword);
  ASSERT_TRUE(Second(first->mfa_token, code));

  // The same code again, from a second sign-in in the same step: refused (RFC 6238 section 5.2).
  auto again = SignIn("ben", kPassword);
  auto replay = Second(again->mfa_token, code);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().problem, "invalid_code");
  // An older step's code is no good after a newer one was used, the next step's is.
  EXPECT_FALSE(Second(again->mfa_token, Code(secret, -1)));
  EXPECT_TRUE(Second(again->mfa_token, Code(secret, +1)));
  // Two steps away is too far either way.
  clock_.Advance(3 * kStep);
  auto later = SignIn("ben", kPassword);
  EXPECT_FALSE(Second(later->mfa_token, Code(secret, -2)));
  EXPECT_FALSE(Second(later->mfa_token, Code(secret, +2)));
  EXPECT_TRUE(Second(later->mfa_token, "  " + Code(secret).substr(0, 3) + " " + Code(secret).substr(3) + " "))
      << "spaces as apps show them";
}

TEST_F(TwoStepTest, WrongCodesCountTowardsTheLockOut) {
  MakeUser("cara");
  const std::string secret = Enroll(Session("cara"));
  clock_.Advance(kStep);
  auto first = SignIn("cara", kPassword);
  const std::string right = Code(secret);
  const std::string wrong = right == "000000" ? "111111" : "000000";
  for (int i = 0; i < config_.lockout_threshold - 1; ++i) {
    auto r = Second(first->mfa_token, wrong);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().problem, "invalid_code");
  }
  auto locking = Second(first->mfa_token, wrong);
  ASSERT_FALSE(locking);
  EXPECT_EQ(locking.error().problem, "account_locked");
  auto locked = Second(first->mfa_token, right);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().problem, "account_locked") << "the right code does not get past a lock-out";
  auto audit = Audit();
  EXPECT_GE(std::count_if(audit.begin(), audit.end(), [](const AuditRecord& r) { return r.reason == "wrong_code"; }),
            config_.lockout_threshold);
}

TEST_F(TwoStepTest, TheSecondStepsTokenIsForgeryProofShortLivedAndDiesWithThePassword) {
  Actor dee = MakeUser("dee");
  const std::string secret = Enroll(Session("dee"));
  clock_.Advance(kStep);
  auto first = SignIn("dee", kPassword);
  const std::string token = first->mfa_token;
  EXPECT_EQ(token.find(secret), std::string::npos);
  for (std::size_t i = 0; i < token.size(); i += 5) {
    std::string forged = token;
    forged[i] = forged[i] == 'a' ? 'b' : 'a';
    auto r = Second(forged, Code(secret));
    ASSERT_FALSE(r) << i;
    EXPECT_EQ(r.error().problem, "invalid_mfa_token") << i;
  }
  // A device token (also HMAC'd under the password hash) does not pass for one.
  EXPECT_EQ(Second(SignInGuard::IssueDeviceToken(dee.user.id, Stored(dee.user.id).password_hash, clock_.NowMillis()),
                   Code(secret))
                .error()
                .problem,
            "invalid_mfa_token");
  // Five minutes.
  clock_.Advance(5 * 60 * 1000);
  EXPECT_EQ(Second(token, Code(secret)).error().problem, "invalid_mfa_token");
  // Changed password: tokens from before it are void.
  auto fresh = SignIn("dee", kPassword);
  Actor in_session = *services_->auth.Authenticate(Second(fresh->mfa_token, Code(secret))->token);
  auto pending = SignIn("dee", kPassword);
  ASSERT_TRUE(services_->auth.ChangePassword(in_session, kPassword, "an entirely new passphrase 2026"));
  clock_.Advance(kStep);
  EXPECT_EQ(Second(pending->mfa_token, Code(secret)).error().problem, "invalid_mfa_token");
}

TEST_F(TwoStepTest, RecoveryCodesAreTenDistinctKeptAsHashesAndWorkOnce) {
  Actor eve = MakeUser("eve");
  std::vector<std::string> codes;
  Enroll(Session("eve"), &codes);
  ASSERT_EQ(codes.size(), 10u);
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), 10u);
  const std::regex shape("[a-hj-km-np-z2-9]{5}-[a-hj-km-np-z2-9]{5}");
  for (const auto& c : codes) EXPECT_TRUE(std::regex_match(c, shape)) << c;
  Credentials stored = Stored(eve.user.id);
  EXPECT_EQ(stored.recovery_codes.size(), 10u);
  for (const auto& c : codes) {
    EXPECT_EQ(std::find(stored.recovery_codes.begin(), stored.recovery_codes.end(), c), stored.recovery_codes.end());
  }

  auto first = SignIn("eve", kPassword);
  std::string typed = codes[3];
  std::transform(typed.begin(), typed.end(), typed.begin(), [](unsigned char c) { return std::toupper(c); });
  ASSERT_TRUE(Second(first->mfa_token, typed)) << "either case";
  auto again = SignIn("eve", kPassword);
  auto reused = Second(again->mfa_token, codes[3]);
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().problem, "invalid_code");
  EXPECT_TRUE(Second(again->mfa_token, codes[4]));
  Actor actor = *services_->auth.Authenticate(SignIn("eve", kPassword, codes[5])->token);
  auto status = services_->auth.GetMfaStatus(actor);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->enabled);
  EXPECT_EQ(status->recovery_codes_left, 7);
}

TEST_F(TwoStepTest, ClientsMaySendTheCodeWithThePassword) {
  MakeUser("fay");
  const std::string secret = Enroll(Session("fay"));
  clock_.Advance(kStep);
  auto wrong = SignIn("fay", kPassword, Code(secret) == "123456" ? "654321" : "123456");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "invalid_code");
  auto right = SignIn("fay", kPassword, Code(secret));
  ASSERT_TRUE(right) << right.error().problem;
  EXPECT_FALSE(right->mfa_required);
  EXPECT_TRUE(services_->auth.Authenticate(right->token));
  // A right code with a wrong password is still a wrong password.
  auto bad_password = SignIn("fay", "not the right passphrase", Code(secret, 1));
  ASSERT_FALSE(bad_password);
  EXPECT_EQ(bad_password.error().problem, "invalid_credentials");
}

TEST_F(TwoStepTest, SetUpNeedsThePasswordSealsTheSeedAndEndsOtherSessions) {
  Actor gus = MakeUser("gus");
  Actor here = Session("gus");
  Actor elsewhere = Session("gus");
  auto refused = services_->auth.BeginTotp(here, "not the right passphrase");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "invalid_credentials");
  EXPECT_EQ(Stored(gus.user.id).failed_attempts, 1) << "a wrong password here counts like one at sign-in";
  auto confirm_first = services_->auth.ConfirmTotp(here, "123456");
  ASSERT_FALSE(confirm_first);
  EXPECT_EQ(confirm_first.error().problem, "mfa_setup_not_started");

  auto setup = services_->auth.BeginTotp(here, kPassword);
  ASSERT_TRUE(setup);
  EXPECT_EQ(setup->otpauth_uri,
            "otpauth://totp/Rounds:gus?secret=" + setup->secret + "&issuer=Rounds&algorithm=SHA1&digits=6&period=30");
  const Credentials pending = Stored(gus.user.id);
  EXPECT_FALSE(pending.mfa_enabled()) << "not on before a code confirms it";
  EXPECT_FALSE(pending.totp_pending.empty());
  const std::string raw = *crypto::Base32Decode(setup->secret);
  EXPECT_EQ(pending.totp_pending.find(setup->secret), std::string::npos);
  EXPECT_EQ(pending.totp_pending.find(crypto::ToHex(raw)), std::string::npos) << "the seed is sealed, not stored";

  auto wrong = services_->auth.ConfirmTotp(here, Code(setup->secret) == "000000" ? "111111" : "000000");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "invalid_code");
  EXPECT_FALSE(Stored(gus.user.id).mfa_enabled());

  std::vector<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.push_back(id); });
  ASSERT_TRUE(services_->auth.ConfirmTotp(here, Code(setup->secret)));
  EXPECT_TRUE(Stored(gus.user.id).mfa_enabled());
  EXPECT_EQ(ended, std::vector<SessionId>{elsewhere.session_id});
  EXPECT_FALSE(services_->auth.Authenticate(SignIn("gus", kPassword)->mfa_token)) << "a challenge is no session";
  auto again = services_->auth.BeginTotp(here, kPassword);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "mfa_already_enabled");

  // The key lives outside the database, owner-only.
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "keys" / "mfa.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(TwoStepTest, ASeedSealedUnderAnotherKeyIsAClearErrorNotASignIn) {
  MakeUser("hal");
  const std::string secret = Enroll(Session("hal"));
  clock_.Advance(kStep);
  services_.reset();
  std::filesystem::remove(dir_ / "keys" / "mfa.key");
  services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);
  auto first = SignIn("hal", kPassword);
  ASSERT_TRUE(first && first->mfa_required);
  auto r = Second(first->mfa_token, Code(secret));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  EXPECT_EQ(r.error().problem, "mfa_key");
}

TEST_F(TwoStepTest, AKeyFileThatIsNotAKeyStopsSetUpWithAClearError) {
  MakeUser("hux");
  std::filesystem::create_directories(dir_ / "keys");
  std::ofstream(dir_ / "keys" / "mfa.key") << "not a key\n";
  auto setup = services_->auth.BeginTotp(Session("hux"), kPassword);
  ASSERT_FALSE(setup);
  EXPECT_EQ(setup.error().code, ErrorCode::kInternal);
  EXPECT_EQ(setup.error().problem, "mfa_key");
  std::ifstream kept(dir_ / "keys" / "mfa.key");
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "not a key") << "an existing file is never overwritten";
}

TEST_F(TwoStepTest, TurningItOffNeedsThePasswordAndACode) {
  Actor ida = MakeUser("ida");
  Actor session = Session("ida");
  const std::string secret = Enroll(session);
  clock_.Advance(kStep);
  EXPECT_EQ(services_->auth.DisableTotp(session, "not the right passphrase", Code(secret)).error().problem,
            "invalid_credentials");
  EXPECT_EQ(services_->auth.DisableTotp(session, kPassword, "000000" == Code(secret) ? "111111" : "000000").error().problem,
            "invalid_code");
  EXPECT_TRUE(Stored(ida.user.id).mfa_enabled());
  ASSERT_TRUE(services_->auth.DisableTotp(session, kPassword, Code(secret)));
  const Credentials off = Stored(ida.user.id);
  EXPECT_FALSE(off.mfa_enabled());
  EXPECT_TRUE(off.recovery_codes.empty());
  auto plain = SignIn("ida", kPassword);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->mfa_required);
}

TEST_F(TwoStepTest, NewRecoveryCodesReplaceTheOldOnes) {
  MakeUser("jo");
  Actor session = Session("jo");
  std::vector<std::string> old_codes;
  const std::string secret = Enroll(session, &old_codes);
  clock_.Advance(kStep);
  auto fresh = services_->auth.NewRecoveryCodes(session, kPassword, Code(secret));
  ASSERT_TRUE(fresh);
  ASSERT_EQ(fresh->size(), 10u);
  auto first = SignIn("jo", kPassword);
  EXPECT_EQ(Second(first->mfa_token, old_codes[0]).error().problem, "invalid_code");
  EXPECT_TRUE(Second(first->mfa_token, (*fresh)[0]));
}

class RequiredTwoStepTest : public TwoStepTest {
 protected:
  void Configure(Config& config) override { config.mfa_required = "privileged"; }
};

TEST_F(RequiredTwoStepTest, APrivilegedAccountWithoutItMaySetItUpOnly) {
  MakeUser("root", /*admin=*/true);
  MakeUser("kim");
  Actor admin = Session("root");
  EXPECT_TRUE(admin.mfa_enrollment_required);
  EXPECT_FALSE(Session("kim").mfa_enrollment_required) << "the rule covers administrators and compliance officers";
  auto status = services_->auth.GetMfaStatus(admin);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->required);
  EXPECT_FALSE(status->enabled);

  const std::string secret = Enroll(admin);
  // The session that set it up now holds the second factor.
  auto stored = store_->Read([&](store::ReadTx& tx) { return tx.ListSessionsForUser(admin.user.id); });
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_TRUE((*stored)[0].second_factor);
  clock_.Advance(kStep);
  auto with_code = SignIn("root", kPassword, Code(secret));
  ASSERT_TRUE(with_code);
  auto actor = services_->auth.Authenticate(with_code->token);
  ASSERT_TRUE(actor);
  EXPECT_FALSE(actor->mfa_enrollment_required);
  EXPECT_EQ(services_->auth.DisableTotp(*actor, kPassword, Code(secret, 1)).error().problem, "mfa_required_by_policy");
}

TEST_F(RequiredTwoStepTest, TheSessionThatSetsItUpIsLetThroughAtOnce) {
  MakeUser("root", /*admin=*/true);
  auto login = SignIn("root", kPassword);
  ASSERT_TRUE(login && !login->mfa_required);
  auto before = services_->auth.Authenticate(login->token);
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->mfa_enrollment_required);
  Enroll(*before);
  auto after = services_->auth.Authenticate(login->token);
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->mfa_enrollment_required);
}

TEST_F(TwoStepTest, AnAdministratorResetsItAndTheAccountsSessionsEnd) {
  Actor admin = MakeUser("root", /*admin=*/true);
  Actor lee = MakeUser("lee");
  Actor session = Session("lee");
  Enroll(session);
  auto refused = services_->directory.ResetMfa(session, lee.user.id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(Stored(lee.user.id).mfa_enabled());

  std::vector<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.push_back(id); });
  const std::string root_token = SignIn("root", kPassword)->token;
  Actor root = *services_->auth.Authenticate(root_token);
  EXPECT_EQ(services_->directory.ResetMfa(root, lee.user.id).error().problem, "admin_elevation_required");
  ASSERT_TRUE(services_->auth.Elevate(root, kPassword, ""));
  root = *services_->auth.Authenticate(root_token);
  ASSERT_TRUE(services_->directory.ResetMfa(root, lee.user.id));
  EXPECT_FALSE(Stored(lee.user.id).mfa_enabled());
  EXPECT_EQ(ended, std::vector<SessionId>{session.session_id});
  auto plain = SignIn("lee", kPassword);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->mfa_required);
  auto audit = Audit();
  EXPECT_TRUE(std::any_of(audit.begin(), audit.end(), [&](const AuditRecord& r) {
    return r.action == "user.mfa_reset" && r.object_id == std::to_string(lee.user.id) &&
           r.outcome == AuditOutcome::kSuccess;
  }));
  EXPECT_TRUE(std::any_of(audit.begin(), audit.end(), [&](const AuditRecord& r) {
    return r.action == "user.mfa_reset" && r.outcome == AuditOutcome::kDenied;
  }));
}

}  // namespace
}  // namespace rounds::app
