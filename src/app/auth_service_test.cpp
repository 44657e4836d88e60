// AuthService against a real SQLite store with a manual clock.
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::kPassword;

class AuthServiceTest : public testing::ServiceTest {
 protected:
  Result<LoginResult> SignIn(const std::string& username, const std::string& password, bool bearer = true) {
    return services_->auth.Login({username, password, bearer, "192.0.2.7", "test-agent"});
  }
  std::optional<Session> StoredSession(SessionId id, UserId user) {
    auto sessions = store_->Read([&](store::ReadTx& tx) { return tx.ListSessionsForUser(user); });
    EXPECT_TRUE(sessions);
    for (const auto& s : *sessions) {
      if (s.id == id) return s;
    }
    return std::nullopt;
  }
};

TEST_F(AuthServiceTest, LoginReturnsATokenThatIsStoredOnlyAsItsHash) {
  Actor ana = MakeUser("ana");
  auto login = SignIn("ana", kPassword);
  ASSERT_TRUE(login) << login.error().public_message;
  EXPECT_GE(login->token.size(), 40u);
  EXPECT_EQ(login->session.token_hash, crypto::Sha256Hex(login->token));
  EXPECT_FALSE(login->session.csrf_token.empty());
  EXPECT_EQ(login->session.expires_at, clock_.NowMillis() + config_.absolute_timeout_seconds * 1000);
  auto stored = StoredSession(login->session.id, ana.user.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->token_hash, login->session.token_hash);
  EXPECT_NE(stored->token_hash, login->token);
  EXPECT_EQ(stored->address, "192.0.2.7");
  auto actor = services_->auth.Authenticate(login->token);
  ASSERT_TRUE(actor);
  EXPECT_EQ(actor->user.id, ana.user.id);
  EXPECT_EQ(actor->session_id, login->session.id);
  EXPECT_TRUE(actor->is_bearer);
  EXPECT_EQ(actor->session_expires_at, login->session.expires_at);
}

TEST_F(AuthServiceTest, UsernamesAreCaseInsensitiveAtSignIn) {
  MakeUser("ben");
  EXPECT_TRUE(SignIn("BEN", kPassword));
}

TEST_F(AuthServiceTest, UnknownUserAndWrongPasswordGetTheSameAnswer) {
  MakeUser("cara");
  auto unknown = SignIn("nobody-here", kPassword);
  auto wrong = SignIn("cara", "not the right passphrase");
  ASSERT_FALSE(unknown);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(unknown.error().code, wrong.error().code);
  EXPECT_EQ(unknown.error().problem, "invalid_credentials");
  EXPECT_EQ(unknown.error().problem, wrong.error().problem);
  EXPECT_EQ(unknown.error().public_message, wrong.error().public_message);
}

TEST_F(AuthServiceTest, ATokenThatWasNeverIssuedIsRefused) {
  for (const std::string& token : std::vector<std::string>{"", "made-up", std::string(500, 'x')}) {
    auto actor = services_->auth.Authenticate(token);
    ASSERT_FALSE(actor);
    EXPECT_EQ(actor.error().code, ErrorCode::kUnauthenticated);
  }
}

TEST_F(AuthServiceTest, SessionEndsAfterIdleTimeoutAndReportsIt) {
  MakeUser("idle");
  std::vector<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.push_back(id); });
  auto login = SignIn("idle", kPassword);
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

TEST_F(AuthServiceTest, WebSocketActivityKeepsOnlyThatSessionAlive) {
  MakeUser("wsa");
  MakeUser("wsb");
  std::vector<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.push_back(id); });
  auto chatty = SignIn("wsa", kPassword);
  auto other_device = SignIn("wsa", kPassword);
  auto quiet = SignIn("wsb", kPassword);
  ASSERT_TRUE(chatty && other_device && quiet);
  for (int i = 0; i < 4; ++i) {  // an hour of frames on one socket, no HTTP request
    clock_.Advance(14 * 60 * 1000);
    services_->auth.Touch(chatty->session.id);
  }
  services_->auth.ExpireSessions();
  EXPECT_EQ(std::set<SessionId>(ended.begin(), ended.end()),
            (std::set<SessionId>{other_device->session.id, quiet->session.id}));
  EXPECT_TRUE(services_->auth.Authenticate(chatty->token));
  EXPECT_FALSE(services_->auth.Authenticate(other_device->token));
  EXPECT_FALSE(services_->auth.Authenticate(quiet->token));
  // An ended session stays ended, however its socket keeps talking.
  auto actor = services_->auth.Authenticate(chatty->token);
  ASSERT_TRUE(actor);
  ASSERT_TRUE(services_->auth.Logout(*actor));
  services_->auth.Touch(chatty->session.id);
  EXPECT_FALSE(services_->auth.Authenticate(chatty->token));
}

TEST_F(AuthServiceTest, ASessionIssuedByAnotherProcessIsFoundByItsTokenAndTouchedById) {
  MakeUser("elsewhere");
  auto login = SignIn("elsewhere", kPassword);
  ASSERT_TRUE(login);
  // A second service over the same database (a restart) knows the session only from the store.
  AuthService restarted(*store_, clock_, config_);
  clock_.Advance(10 * 60 * 1000);
  auto actor = restarted.Authenticate(login->token);
  ASSERT_TRUE(actor) << actor.error().public_message;
  EXPECT_EQ(actor->session_id, login->session.id);
  clock_.Advance(10 * 60 * 1000);
  restarted.Touch(login->session.id);
  clock_.Advance(10 * 60 * 1000);  // 20 minutes after the last request, 10 after the last frame
  restarted.ExpireSessions();
  EXPECT_TRUE(restarted.Authenticate(login->token));
}

TEST_F(AuthServiceTest, AnIdleSessionIsRefusedEvenBeforeTheSweep) {
  MakeUser("dozy");
  auto login = SignIn("dozy", kPassword);
  ASSERT_TRUE(login);
  clock_.Advance(config_.idle_timeout_seconds * 1000);
  auto actor = services_->auth.Authenticate(login->token);
  ASSERT_FALSE(actor);
  EXPECT_EQ(actor.error().problem, "session_expired");
}

TEST_F(AuthServiceTest, SessionEndsAtItsAbsoluteLifetimeEvenWhenActive) {
  MakeUser("busy");
  auto login = SignIn("busy", kPassword);
  ASSERT_TRUE(login);
  for (int i = 0; i < 47; ++i) {  // active every 15 minutes for 11 h 45 min
    clock_.Advance(15 * 60 * 1000 - 1000);
    ASSERT_TRUE(services_->auth.Authenticate(login->token)) << i;
  }
  clock_.Advance(20 * 60 * 1000);
  EXPECT_FALSE(services_->auth.Authenticate(login->token));
}

TEST_F(AuthServiceTest, LastSeenIsWrittenLazilyNotOnEveryRequest) {
  Actor dee = MakeUser("dee");
  auto login = SignIn("dee", kPassword);
  ASSERT_TRUE(login);
  UnixMillis signed_in = clock_.NowMillis();
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(1000);
    ASSERT_TRUE(services_->auth.Authenticate(login->token));
  }
  EXPECT_EQ(StoredSession(login->session.id, dee.user.id)->last_seen_at, signed_in) << "20 requests, no writes";
  clock_.Advance(60'000);
  ASSERT_TRUE(services_->auth.Authenticate(login->token));
  EXPECT_EQ(StoredSession(login->session.id, dee.user.id)->last_seen_at, clock_.NowMillis());
}

// The server's I/O threads authenticate with AuthenticateKept: only a live session this process
// knows and whose activity needs no write yet. Everything else is Authenticate's, with the store.
TEST_F(AuthServiceTest, AuthenticateKeptAnswersOnlyWhatNeedsNoStore) {
  Actor eve = MakeUser("eve");
  auto login = SignIn("eve", kPassword);
  ASSERT_TRUE(login);
  EXPECT_FALSE(services_->auth.AuthenticateKept("never issued", "192.0.2.7"));
  EXPECT_FALSE(services_->auth.AuthenticateKept("", "192.0.2.7"));

  // A session issued by another process (here: before a restart) is first found in the store.
  AuthService restarted(*store_, clock_, config_);
  EXPECT_FALSE(restarted.AuthenticateKept(login->token, "192.0.2.7"));
  ASSERT_TRUE(restarted.Authenticate(login->token));
  const UnixMillis persisted = StoredSession(login->session.id, eve.user.id)->last_seen_at;
  clock_.Advance(30'000);
  auto kept = restarted.AuthenticateKept(login->token, "192.0.2.8");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->session_id, login->session.id);
  EXPECT_EQ(kept->user.id, eve.user.id);
  EXPECT_EQ(kept->address, "192.0.2.8");
  EXPECT_TRUE(kept->is_bearer);
  EXPECT_EQ(kept->csrf_token, login->session.csrf_token);

  // Once its activity is due to be written, Authenticate writes it; then kept answers resume.
  clock_.Advance(31'000);
  EXPECT_FALSE(restarted.AuthenticateKept(login->token, "192.0.2.8"));
  EXPECT_EQ(StoredSession(login->session.id, eve.user.id)->last_seen_at, persisted) << "declining wrote nothing";
  ASSERT_TRUE(restarted.Authenticate(login->token));
  EXPECT_EQ(StoredSession(login->session.id, eve.user.id)->last_seen_at, clock_.NowMillis());
  EXPECT_TRUE(restarted.AuthenticateKept(login->token, "192.0.2.8"));

  // An idle session, and an ended one, are never answered kept.
  clock_.Advance(config_.idle_timeout_seconds * 1000);
  EXPECT_FALSE(restarted.AuthenticateKept(login->token, "192.0.2.8"));
  auto second = SignIn("eve", kPassword);
  ASSERT_TRUE(second);
  ASSERT_TRUE(services_->auth.Authenticate(second->token));
  EXPECT_TRUE(services_->auth.AuthenticateKept(second->token, "192.0.2.8"));
  ASSERT_TRUE(services_->auth.EndSessionsForUser(eve.user.id));
  EXPECT_FALSE(services_->auth.AuthenticateKept(second->token, "192.0.2.8"));
}

TEST_F(AuthServiceTest, SessionsSurviveARestartOfTheServices) {
  MakeUser("eve");
  auto login = SignIn("eve", kPassword);
  ASSERT_TRUE(login);
  services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);  // an empty cache
  EXPECT_TRUE(services_->auth.Authenticate(login->token));
}

TEST_F(AuthServiceTest, LogoutEndsTheSessionAndReportsIt) {
  MakeUser("finn");
  std::vector<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.push_back(id); });
  auto first = SignIn("finn", kPassword);
  auto second = SignIn("finn", kPassword, /*bearer=*/false);
  ASSERT_TRUE(first && second);
  auto actor = services_->auth.Authenticate(first->token);
  ASSERT_TRUE(actor);
  ASSERT_TRUE(services_->auth.Logout(*actor));
  EXPECT_EQ(ended, std::vector<SessionId>{first->session.id});
  EXPECT_FALSE(services_->auth.Authenticate(first->token));
  EXPECT_TRUE(services_->auth.Authenticate(second->token)) << "other sessions stay";
}

TEST_F(AuthServiceTest, LockOutAfterThresholdAndUnlockAfterItsTime) {
  MakeUser("locky");
  for (int i = 0; i < 2; ++i) {
    auto r = SignIn("locky", "wrong password here");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().problem, "invalid_credentials");
  }
  auto third = SignIn("locky", "wrong password here");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(third.error().retry_after_seconds, config_.lockout_seconds);
  auto right = SignIn("locky", kPassword);
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().problem, "account_locked");
  clock_.Advance(config_.lockout_seconds * 1000 - 10'000);
  auto nearly = SignIn("locky", kPassword);
  ASSERT_FALSE(nearly);
  EXPECT_EQ(nearly.error().retry_after_seconds, 10);
  clock_.Advance(10'001);
  EXPECT_TRUE(SignIn("locky", kPassword));
}

TEST_F(AuthServiceTest, ASuccessResetsTheFailureCount) {
  MakeUser("gale");
  for (int round = 0; round < 3; ++round) {
    ASSERT_FALSE(SignIn("gale", "wrong password here"));
    ASSERT_FALSE(SignIn("gale", "wrong password here"));
    ASSERT_TRUE(SignIn("gale", kPassword)) << "two failures then a success never lock, round " << round;
  }
}

TEST_F(AuthServiceTest, UnknownUsernamesLockOutExactlyLikeAccounts) {
  MakeUser("real");
  for (const std::string& name : std::vector<std::string>{"real", "imaginary"}) {
    std::vector<std::string> problems;
    for (int i = 0; i < 4; ++i) problems.push_back(SignIn(name, "wrong password here").error().problem);
    EXPECT_EQ(problems, (std::vector<std::string>{"invalid_credentials", "invalid_credentials", "account_locked",
                                                  "account_locked"}))
        << name;
  }
  clock_.Advance(config_.lockout_seconds * 1000 + 1);
  EXPECT_EQ(SignIn("imaginary", "wrong password here").error().problem, "invalid_credentials");
}

// A guesser who locks an account out does not lock its owner out: a sign-in with the device
// token of an earlier sign-in passes the lock-out, which stays for everyone else.
TEST_F(AuthServiceTest, TheOwnersDeviceSignsInThroughALockOut) {
  MakeUser("nadia");
  auto earlier = SignIn("nadia", kPassword, /*bearer=*/false);
  ASSERT_TRUE(earlier);
  ASSERT_FALSE(earlier->device_token.empty());
  for (int i = 0; i < 3; ++i) {
    (void)services_->auth.Login({"nadia", "a guess of the password", true, "203.0.113." + std::to_string(i), "bot", ""});
  }
  auto untrusted = SignIn("nadia", kPassword);
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.error().problem, "account_locked");
  auto trusted = services_->auth.Login({"nadia", kPassword, true, "192.0.2.7", "test-agent", earlier->device_token});
  ASSERT_TRUE(trusted) << trusted.error().public_message;
  EXPECT_NE(trusted->device_token, earlier->device_token) << "a fresh token for the next time";
  auto still = services_->auth.Login({"nadia", kPassword, true, "203.0.113.9", "bot", ""});
  ASSERT_FALSE(still);
  EXPECT_EQ(still.error().problem, "account_locked") << "the owner's sign-in does not lift the guesser's lock-out";
  MakeUser("omar");
  auto omar = SignIn("omar", kPassword);
  ASSERT_TRUE(omar);
  auto borrowed = services_->auth.Login({"nadia", kPassword, true, "192.0.2.7", "test-agent", omar->device_token});
  ASSERT_FALSE(borrowed) << "another account's token is no proof";
}

// Wrong passwords with a device token count against that token, not the account: after the
// threshold the token is untrusted (and then meets the account's own lock-out rules).
TEST_F(AuthServiceTest, FailuresWithADeviceTokenLockThatTokenOnly) {
  MakeUser("pia");
  auto earlier = SignIn("pia", kPassword);
  ASSERT_TRUE(earlier);
  for (int i = 0; i < 3; ++i) {
    auto wrong = services_->auth.Login({"pia", "not her password at all", true, "192.0.2.7", "x", earlier->device_token});
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().problem, "invalid_credentials") << i;
  }
  EXPECT_TRUE(SignIn("pia", kPassword)) << "the account itself was never locked";
  auto after = SignIn("pia", kPassword);
  ASSERT_TRUE(after);
  for (int i = 0; i < 3; ++i) (void)SignIn("pia", "not her password at all");
  auto locked_token = services_->auth.Login({"pia", kPassword, true, "192.0.2.7", "x", earlier->device_token});
  ASSERT_FALSE(locked_token);
  EXPECT_EQ(locked_token.error().problem, "account_locked") << "a locked token is untrusted";
  EXPECT_TRUE(services_->auth.Login({"pia", kPassword, true, "192.0.2.7", "x", after->device_token}));
}

// One address guessing one password for many accounts is stopped by the address's throttle,
// whatever the accounts' own counts; the real users with a device token still sign in from it.
TEST_F(AuthServiceTest, OneAddressGuessingManyAccountsIsThrottled) {
  config_.address_lockout_threshold = 6;
  std::vector<std::string> names{"quinn", "rosa", "sami", "tess"};
  std::map<std::string, std::string> devices;
  for (const auto& name : names) {
    MakeUser(name);
    devices[name] = SignIn(name, kPassword)->device_token;
  }
  const std::string attacker = "198.51.100.66";
  std::vector<std::string> problems;
  for (int round = 0; round < 2; ++round) {
    for (const auto& name : names) {
      problems.push_back(services_->auth.Login({name, "Summer2026!Summer", true, attacker, "bot", ""}).error().problem);
    }
  }
  // The sixth failure is answered like the others and throttles the address.
  EXPECT_EQ(problems, (std::vector<std::string>{"invalid_credentials", "invalid_credentials", "invalid_credentials",
                                                "invalid_credentials", "invalid_credentials", "invalid_credentials",
                                                "too_many_attempts", "too_many_attempts"}));
  auto refused = services_->auth.Login({"quinn", kPassword, true, attacker, "browser", ""});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "too_many_attempts");
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(refused.error().retry_after_seconds, config_.lockout_seconds);
  EXPECT_TRUE(services_->auth.Login({"quinn", kPassword, true, attacker, "browser", devices["quinn"]}));
  EXPECT_TRUE(services_->auth.Login({"rosa", kPassword, true, "192.0.2.8", "browser", ""})) << "other addresses";
  EXPECT_EQ(services_->auth.Login({"nobody", "guess", true, attacker, "bot", ""}).error().problem, "too_many_attempts")
      << "unknown names get the same answer";
  clock_.Advance(config_.lockout_seconds * 1000);
  EXPECT_TRUE(services_->auth.Login({"sami", kPassword, true, attacker, "browser", ""}));
}

// Changing the password ends the trust of every device token made before it.
TEST_F(AuthServiceTest, ANewPasswordEndsTheOldDeviceTokens) {
  MakeUser("uri");
  auto earlier = SignIn("uri", kPassword);
  ASSERT_TRUE(earlier);
  auto actor = services_->auth.Authenticate(earlier->token);
  ASSERT_TRUE(actor);
  ASSERT_TRUE(services_->auth.ChangePassword(*actor, kPassword, "another long passphrase"));
  for (int i = 0; i < 3; ++i) (void)SignIn("uri", "wrong password here");
  auto old_device = services_->auth.Login({"uri", "another long passphrase", true, "192.0.2.7", "x", earlier->device_token});
  ASSERT_FALSE(old_device);
  EXPECT_EQ(old_device.error().problem, "account_locked");
}

TEST_F(AuthServiceTest, ConcurrentFailuresAllCount) {
  config_.lockout_threshold = 5;
  MakeUser("herd");
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) threads.emplace_back([&] { (void)SignIn("herd", "wrong password here"); });
  for (auto& t : threads) t.join();
  auto after = SignIn("herd", kPassword);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().problem, "account_locked");
}

TEST_F(AuthServiceTest, DisabledAccountsCannotSignInAndLoseTheirSessions) {
  Actor ivy = MakeUser("ivy");
  std::set<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.insert(id); });
  auto one = SignIn("ivy", kPassword);
  auto two = SignIn("ivy", kPassword, false);
  ASSERT_TRUE(one && two);
  UserPatch patch;
  patch.disabled = true;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), ivy.user.id, patch));
  EXPECT_EQ(ended, (std::set<SessionId>{one->session.id, two->session.id}));
  EXPECT_FALSE(services_->auth.Authenticate(one->token));
  EXPECT_FALSE(services_->auth.Authenticate(two->token));
  auto again = SignIn("ivy", kPassword);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "account_disabled");
}

TEST_F(AuthServiceTest, ChangingThePasswordEndsOtherSessionsButKeepsThisOne) {
  MakeUser("jo.k");
  auto here = SignIn("jo.k", kPassword);
  auto elsewhere = SignIn("jo.k", kPassword);
  ASSERT_TRUE(here && elsewhere);
  std::vector<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.push_back(id); });
  auto actor = services_->auth.Authenticate(here->token);
  ASSERT_TRUE(actor);
  ASSERT_TRUE(services_->auth.ChangePassword(*actor, kPassword, "a brand new long passphrase"));
  EXPECT_EQ(ended, std::vector<SessionId>{elsewhere->session.id});
  EXPECT_TRUE(services_->auth.Authenticate(here->token));
  EXPECT_FALSE(services_->auth.Authenticate(elsewhere->token));
  EXPECT_FALSE(SignIn("jo.k", kPassword));
  EXPECT_TRUE(SignIn("jo.k", "a brand new long passphrase"));
}

TEST_F(AuthServiceTest, ChangingThePasswordAppliesThePolicy) {
  Actor kai = MakeUser("kai");
  auto weak = services_->auth.ChangePassword(kai, kPassword, "password1234");
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().problem, "weak_password");
  EXPECT_EQ(weak.error().field, "/password");
  EXPECT_TRUE(SignIn("kai", kPassword)) << "the old password still works";
}

TEST_F(AuthServiceTest, WrongCurrentPasswordsCountTowardsTheLockOut) {
  Actor lee = MakeUser("lee");
  std::vector<std::string> problems;
  for (int i = 0; i < 3; ++i) {
    problems.push_back(services_->auth.ChangePassword(lee, "a wrong guess at it", "a brand new long passphrase").error().problem);
  }
  EXPECT_EQ(problems, (std::vector<std::string>{"invalid_credentials", "invalid_credentials", "account_locked"}));
  EXPECT_EQ(SignIn("lee", kPassword).error().problem, "account_locked");
}

TEST_F(AuthServiceTest, ProfileChangesAreSeenByTheNextAuthenticate) {
  MakeUser("mo");
  auto login = SignIn("mo", kPassword);
  ASSERT_TRUE(login);
  auto actor = services_->auth.Authenticate(login->token);
  ASSERT_TRUE(actor);
  UserPatch patch;
  patch.display_name = "Mo the Charge Nurse";
  ASSERT_TRUE(services_->directory.UpdateProfile(*actor, patch));
  EXPECT_EQ(services_->auth.Authenticate(login->token)->user.display_name, "Mo the Charge Nurse");
  UserPatch promote;
  promote.is_admin = true;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), actor->user.id, promote));
  EXPECT_TRUE(services_->auth.Authenticate(login->token)->user.is_admin);
}

TEST_F(AuthServiceTest, AResetPasswordEndsEverySessionAndUnlocks) {
  Actor nia = MakeUser("nia");
  auto login = SignIn("nia", kPassword);
  ASSERT_TRUE(login);
  for (int i = 0; i < 3; ++i) (void)SignIn("nia", "wrong password here");
  ASSERT_EQ(SignIn("nia", kPassword).error().problem, "account_locked");
  ASSERT_TRUE(services_->directory.ResetPassword(Actor::System(), nia.user.id, "a reset long passphrase"));
  EXPECT_FALSE(services_->auth.Authenticate(login->token));
  EXPECT_TRUE(SignIn("nia", "a reset long passphrase"));
}

// The audit records of sign-ins and sign-outs, newest last: (action, outcome, reason, object_id).
std::vector<std::tuple<std::string, std::string, std::string, std::string>> AuthTrail(store::Store& store) {
  auto records = store.Read([](store::ReadTx& tx) { return tx.ListAudit(0, 1000); });
  EXPECT_TRUE(records);
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> out;
  for (const auto& r : *records) {
    if (r.action.rfind("auth.", 0) == 0) {
      out.emplace_back(r.action, std::string(ToString(r.outcome)), r.reason, r.object_id);
    }
  }
  return out;
}

TEST_F(AuthServiceTest, EverySignInOutcomeIsAuditedWithItsReasonButNeverAnUnknownName) {
  Actor nia = MakeUser("nia");
  const std::string id = std::to_string(nia.user.id);
  ASSERT_FALSE(SignIn("nobody-at-all", "some password"));
  ASSERT_FALSE(SignIn("nia", "not the password"));
  auto good = SignIn("nia", kPassword);
  ASSERT_TRUE(good);
  Actor signed_in = *services_->auth.Authenticate(good->token);
  ASSERT_TRUE(services_->auth.Logout(signed_in));
  for (int i = 0; i < 3; ++i) (void)SignIn("nia", "not the password");  // threshold 3: locked
  ASSERT_FALSE(SignIn("nia", kPassword));
  using Row = std::tuple<std::string, std::string, std::string, std::string>;
  EXPECT_EQ(AuthTrail(*store_), (std::vector<Row>{{"auth.login", "failure", "unknown_user", ""},
                                                  {"auth.login", "failure", "wrong_password", id},
                                                  {"auth.login", "success", "", id},
                                                  {"auth.logout", "success", "", id},
                                                  {"auth.login", "failure", "wrong_password", id},
                                                  {"auth.login", "failure", "wrong_password", id},
                                                  {"auth.login", "failure", "wrong_password", id},
                                                  {"auth.login", "denied", "locked", id}}));
  auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 1000); });
  for (const auto& r : *records) {
    EXPECT_EQ(r.details_json.find("nobody"), std::string::npos);
    EXPECT_EQ(r.details_json.find("password\""), std::string::npos);
  }
}

// ---- Own sessions and re-authentication (security target 10) ----

TEST_F(AuthServiceTest, UsersListTheirOwnLiveSessionsOnly) {
  Actor gil = MakeUser("gil");
  MakeUser("hana");
  auto first = SignIn("gil", kPassword, /*bearer=*/false);
  auto second = SignIn("gil", kPassword);
  ASSERT_TRUE(first && second && SignIn("hana", kPassword));
  Actor actor = *services_->auth.Authenticate(second->token);
  auto listed = services_->auth.ListOwnSessions(actor);
  ASSERT_TRUE(listed);
  const json& items = (*listed)["items"];
  ASSERT_EQ(items.size(), 2u) << "not another user's";
  EXPECT_EQ(items[0]["id"], second->session.id) << "newest first";
  EXPECT_TRUE(items[0]["current"].get<bool>());
  EXPECT_TRUE(items[0]["bearer"].get<bool>());
  EXPECT_FALSE(items[1]["current"].get<bool>());
  EXPECT_FALSE(items[1]["bearer"].get<bool>());
  EXPECT_EQ(items[1]["address"], "192.0.2.7");
  EXPECT_EQ(items[1]["user_agent"], "test-agent");
  const std::string text = listed->dump();
  EXPECT_EQ(text.find(first->session.token_hash), std::string::npos);
  EXPECT_EQ(text.find(first->session.csrf_token), std::string::npos);
  EXPECT_EQ(text.find("token"), std::string::npos);
  // One that has gone idle is not listed, even before the sweep removes it.
  clock_.Advance(10 * 60 * 1000);
  ASSERT_TRUE(services_->auth.Authenticate(second->token));
  clock_.Advance(6 * 60 * 1000);
  actor = *services_->auth.Authenticate(second->token);
  EXPECT_EQ((*services_->auth.ListOwnSessions(actor))["items"].size(), 1u);
}

TEST_F(AuthServiceTest, UsersEndOneOfTheirSessionsOrAllTheOthers) {
  Actor ian = MakeUser("ian");
  MakeUser("jin");
  auto a = SignIn("ian", kPassword);
  auto b = SignIn("ian", kPassword);
  auto c = SignIn("ian", kPassword);
  auto other = SignIn("jin", kPassword);
  std::vector<SessionId> ended;
  services_->auth.OnSessionEnded([&](SessionId id) { ended.push_back(id); });
  Actor actor = *services_->auth.Authenticate(a->token);

  auto foreign = services_->auth.EndOwnSession(actor, other->session.id);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound) << "another account's session is not found, not forbidden";
  EXPECT_TRUE(services_->auth.Authenticate(other->token));

  ASSERT_TRUE(services_->auth.EndOwnSession(actor, b->session.id));
  EXPECT_EQ(ended, std::vector<SessionId>{b->session.id});
  EXPECT_FALSE(services_->auth.Authenticate(b->token));
  EXPECT_EQ(services_->auth.EndOwnSession(actor, b->session.id).error().code, ErrorCode::kNotFound);

  auto count = services_->auth.EndOtherOwnSessions(actor);
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
  EXPECT_FALSE(services_->auth.Authenticate(c->token));
  EXPECT_TRUE(services_->auth.Authenticate(a->token)) << "the caller's own session stays";
  EXPECT_TRUE(services_->auth.Authenticate(other->token));
  auto audit = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 1000); });
  ASSERT_TRUE(audit);
  EXPECT_TRUE(std::any_of(audit->begin(), audit->end(), [&](const AuditRecord& r) {
    return r.action == "auth.session_end" && r.object_id == std::to_string(b->session.id);
  }));
  EXPECT_TRUE(std::any_of(audit->begin(), audit->end(), [&](const AuditRecord& r) {
    return r.action == "auth.sessions_end_others" && r.details_json.find("\"sessions_ended\":1") != std::string::npos;
  }));
}

TEST_F(AuthServiceTest, ANewEmailAddressNeedsThePassword) {
  Actor kai = MakeUser("kai");
  Actor actor = *services_->auth.Authenticate(SignIn("kai", kPassword)->token);
  UserPatch patch;
  patch.email = "kai.new@example.org";
  auto without = services_->directory.UpdateProfile(actor, patch);
  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().problem, "reauthentication_required");
  patch.current_password = "not the right passphrase";
  auto wrong = services_->directory.UpdateProfile(actor, patch);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "invalid_credentials");
  auto creds = store_->Read([&](store::ReadTx& tx) { return tx.FindCredentials(kai.user.id); });
  EXPECT_EQ((*creds)->failed_attempts, 1) << "counted like a failed sign-in";
  auto stored = store_->Read([&](store::ReadTx& tx) { return tx.FindUser(kai.user.id); });
  EXPECT_EQ((*stored)->email, "kai@example.org");

  patch.current_password = kPassword;
  auto right = services_->directory.UpdateProfile(actor, patch);
  ASSERT_TRUE(right) << right.error().problem;
  EXPECT_EQ((*right)["email"], "kai.new@example.org");
  // The form sends the address back unchanged with a new name: no password needed.
  UserPatch rename;
  rename.display_name = "Kai K.";
  rename.email = "kai.new@example.org";
  EXPECT_TRUE(services_->directory.UpdateProfile(actor, rename));
}

TEST_F(AuthServiceTest, AdministratorsSignSomeoneOutEverywhereWithoutDisablingThem) {
  Actor admin = MakeUser("root", /*admin=*/true);
  Actor lou = MakeUser("lou");
  auto a = SignIn("lou", kPassword);
  auto b = SignIn("lou", kPassword);
  Actor as_lou = *services_->auth.Authenticate(a->token);
  auto refused = services_->directory.EndSessions(as_lou, lou.user.id);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(services_->auth.Authenticate(b->token));

  const std::string admin_token = SignIn("root", kPassword)->token;
  Actor resting = *services_->auth.Authenticate(admin_token);
  auto not_yet = services_->directory.EndSessions(resting, lou.user.id);
  ASSERT_FALSE(not_yet) << "an administrator's session administers only once elevated";
  EXPECT_EQ(not_yet.error().problem, "admin_elevation_required");
  EXPECT_TRUE(services_->auth.Authenticate(b->token));
  ASSERT_TRUE(services_->auth.Elevate(resting, kPassword, ""));
  Actor as_admin = *services_->auth.Authenticate(admin_token);
  auto ended = services_->directory.EndSessions(as_admin, lou.user.id);
  ASSERT_TRUE(ended);
  EXPECT_EQ(*ended, 2);
  EXPECT_FALSE(services_->auth.Authenticate(a->token));
  EXPECT_FALSE(services_->auth.Authenticate(b->token));
  EXPECT_TRUE(SignIn("lou", kPassword)) << "not disabled";
  EXPECT_EQ(services_->directory.EndSessions(as_admin, 424242).error().code, ErrorCode::kNotFound);
  auto audit = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 1000); });
  ASSERT_TRUE(audit);
  EXPECT_TRUE(std::any_of(audit->begin(), audit->end(), [&](const AuditRecord& r) {
    return r.action == "user.sessions_end" && r.object_id == std::to_string(lou.user.id) &&
           r.outcome == AuditOutcome::kSuccess && r.details_json.find("\"sessions_ended\":2") != std::string::npos;
  }));
}

}  // namespace
}  // namespace rounds::app
