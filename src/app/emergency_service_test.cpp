// Emergency access ("break the glass", security target A4) through the app layer, against a real
// SQLite store with a manual clock: who may open a grant and how, what it lets its holder do, that
// every read through it is on record with its purpose, and how it ends and is reviewed.
#include <gtest/gtest.h>

#include "app/service_test_support.hpp"
#include "core/crypto.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::kPassword;
using testing::Parsed;

constexpr const char* kReason = "Covering the ICU tonight, patient deteriorating";

class EmergencyTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    owner_ = MakeUser("owner");
    outsider_ = MakeUser("outsider");
    officer_ = MakeUser("privacy");
    UserPatch patch;
    patch.is_compliance = true;
    ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), officer_.user.id, patch));
    officer_.user.is_compliance = true;
    ward_ = Space("ICU handover", "clinical-team");
    Post(owner_, ward_, "Bed 4 needs a review before midnight");
  }

  // A private channel under `template_key`, owned by owner_.
  SpaceId Space(const std::string& name, const std::string& template_key) {
    NewSpace s{SpaceKind::kChannel, name, "", Visibility::kPrivate, JoinPolicy::kInvite, template_key};
    auto created = services_->spaces.Create(owner_, s);
    EXPECT_TRUE(created) << created.error().problem;
    return created ? (*created)["id"].get<SpaceId>() : 0;
  }

  Result<json> Open(const Actor& who, SpaceId space, const std::string& password = kPassword,
                    const std::string& reason = kReason, int minutes = 30, const std::string& code = "") {
    return services_->emergency.Open(who, EmergencyRequest{space, reason, password, code, minutes});
  }

  // The user events of `type` published since the last ClearPublished, with their recipients.
  std::vector<std::pair<json, std::vector<UserId>>> UserEvents(const std::string& type) {
    std::vector<std::pair<json, std::vector<UserId>>> out;
    for (const auto& e : Published()) {
      if (e.type != type) continue;
      out.emplace_back(json::parse(*e.frame)["data"], *e.recipients);
    }
    return out;
  }

  Actor owner_, outsider_, officer_;
  SpaceId ward_ = 0;
};

TEST_F(EmergencyTest, AGrantOpensAPhiBearingSpaceToReadOnlyAndEveryReadIsOnRecord) {
  ASSERT_FALSE(services_->messages.List(outsider_, ward_, {}));  // not a member: not found
  auto eligible = services_->emergency.EligibleSpaces(outsider_, "", 50);
  ASSERT_TRUE(eligible) << eligible.error().problem;
  ASSERT_EQ((*eligible)["items"].size(), 1u);
  EXPECT_EQ((*eligible)["items"][0]["id"], ward_);
  EXPECT_EQ((*eligible)["items"][0]["template"], "Clinical team (PHI allowed)");

  ClearPublished();
  const UnixMillis opened_at = clock_.NowMillis();
  auto grant = Open(outsider_, ward_);
  ASSERT_TRUE(grant) << grant.error().problem;
  EXPECT_EQ((*grant)["user"]["id"], outsider_.user.id);
  EXPECT_EQ((*grant)["space"]["name"], "ICU handover");
  EXPECT_EQ((*grant)["reason"], kReason);
  EXPECT_EQ((*grant)["purpose"], "BTG");
  EXPECT_EQ((*grant)["expires_at"], opened_at + 30 * 60'000);
  EXPECT_TRUE((*grant)["active"].get<bool>());
  const auto grant_id = (*grant)["id"].get<std::int64_t>();

  // On record with its reason, and the compliance officers told at once.
  auto started = AuditOf("emergency.start");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(started[0].reason, kReason);
  EXPECT_EQ(started[0].object_id, std::to_string(ward_));
  EXPECT_EQ(json::parse(started[0].details_json)["grant_id"], grant_id);
  auto alerts = UserEvents("emergency.started");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].first["id"], grant_id);
  EXPECT_EQ(alerts[0].second, std::vector<UserId>{officer_.user.id});

  // The holder reads the space, each read on record with the grant and its purpose.
  auto page = services_->messages.List(outsider_, ward_, {});
  ASSERT_TRUE(page) << page.error().problem;
  auto items = Parsed(page)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["body"], "Bed 4 needs a review before midnight");
  auto reads = AuditOf("message.list");
  ASSERT_FALSE(reads.empty());
  EXPECT_EQ(reads.back().actor_id, outsider_.user.id);
  EXPECT_EQ(reads.back().reason, "break-the-glass");
  auto details = json::parse(reads.back().details_json);
  EXPECT_EQ(details["grant_id"], grant_id);
  EXPECT_EQ(details["purpose"], "BTG");
  const MessageId message_id = items[0]["id"].get<MessageId>();
  ASSERT_TRUE(services_->messages.Get(outsider_, message_id));
  ASSERT_TRUE(services_->messages.Thread(outsider_, message_id));
  EXPECT_EQ(json::parse(AuditOf("message.read").back().details_json)["grant_id"], grant_id);
  EXPECT_EQ(json::parse(AuditOf("message.thread").back().details_json)["grant_id"], grant_id);
  // As FHIR AuditEvents: a security alert that the override started, and reads for BTG.
  json start_event = FhirAuditEvent(started[0]);
  EXPECT_EQ(start_event["type"]["code"], "110113");
  EXPECT_EQ(start_event["subtype"][0]["code"], "110127");
  EXPECT_EQ(start_event["purposeOfEvent"][0]["coding"][0]["code"], "BTG");
  json read_event = FhirAuditEvent(reads.back());
  EXPECT_EQ(read_event["agent"][0]["purposeOfUse"][0]["coding"][0]["code"], "BTG");
  auto space = services_->spaces.Get(outsider_, ward_);
  ASSERT_TRUE(space);
  EXPECT_EQ((*space)["emergency"]["grant_id"], grant_id);
  EXPECT_TRUE((*space)["my_role"].is_null());

  // Reading is all it allows.
  Draft d;
  d.body = "I was here";
  EXPECT_FALSE(services_->messages.Post(outsider_, ward_, d));
  EXPECT_FALSE(services_->messages.React(outsider_, message_id, "👍", true));
  EXPECT_FALSE(services_->spaces.Join(outsider_, ward_));
  EXPECT_FALSE(services_->spaces.AddMember(outsider_, ward_, outsider_.user.id, MemberRole::kMember));
  auto search = services_->search.Search(outsider_, "midnight", 20, 0);
  ASSERT_TRUE(search);
  EXPECT_TRUE((*search)["items"].empty()) << "search does not reach a space through a grant";

  // A second grant on the same space while this one runs: refused.
  auto again = Open(outsider_, ward_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "grant_active");
  // The space is no longer offered.
  EXPECT_TRUE((*services_->emergency.EligibleSpaces(outsider_, "", 50))["items"].empty());
}

TEST_F(EmergencyTest, WrongPasswordsAndBadRequestsOpenNothingAndFailuresAreOnRecord) {
  auto wrong = Open(outsider_, ward_, "not the password");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "invalid_credentials");
  auto failures = AuditOf("emergency.start");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].outcome, AuditOutcome::kFailure);
  EXPECT_EQ(failures[0].reason, "wrong_password");

  auto short_reason = Open(outsider_, ward_, kPassword, "  urgent  ");
  ASSERT_FALSE(short_reason);
  EXPECT_EQ(short_reason.error().problem, "invalid_value");
  EXPECT_EQ(short_reason.error().field, "/reason");
  auto too_long = Open(outsider_, ward_, kPassword, kReason, 61);
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().field, "/minutes");

  auto unknown = Open(outsider_, 999'999);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  // A member can already read it; a space that is not PHI-bearing and a direct conversation are
  // not what emergency access is for. None of these costs a password attempt.
  auto member = Open(owner_, ward_, "wrong anyway");
  ASSERT_FALSE(member);
  EXPECT_EQ(member.error().problem, "already_readable");
  auto forum = Open(outsider_, Space("Family forum", "patient-forum"), "wrong anyway");
  ASSERT_FALSE(forum);
  EXPECT_EQ(forum.error().problem, "not_applicable");
  auto direct = services_->spaces.Direct(owner_, {officer_.user.id});
  ASSERT_TRUE(direct);
  auto dm = Open(outsider_, (*direct)["id"].get<SpaceId>(), "wrong anyway");
  ASSERT_FALSE(dm);
  EXPECT_EQ(dm.error().problem, "not_applicable");
  EXPECT_EQ(AuditOf("emergency.start").size(), 1u) << "only the wrong password was a failed attempt";

  // Patients never break the glass.
  auto patient_id = store_->Write([](store::WriteTx& tx) {
    User u;
    u.username = "pat";
    u.display_name = "Pat Patient";
    u.email = "pat@example.org";
    u.kind = AccountKind::kPatient;
    return tx.InsertUser(u, crypto::HashPassword(kPassword, true).value_or(""));
  });
  ASSERT_TRUE(patient_id);
  Actor patient;
  patient.user.id = *patient_id;
  patient.user.kind = AccountKind::kPatient;
  auto refused = Open(patient, ward_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "staff_required");

  auto none = services_->emergency.List(outsider_, false, store::GrantState::kAll, 0, 50);
  ASSERT_TRUE(none);
  EXPECT_TRUE((*none)["items"].empty());
}

TEST_F(EmergencyTest, ReadsStopAtExpiryAndTheSweepClosesTheGrantOnRecord) {
  auto grant = Open(outsider_, ward_, kPassword, kReason, 5);
  ASSERT_TRUE(grant);
  ASSERT_TRUE(services_->messages.List(outsider_, ward_, {}));
  EXPECT_EQ(services_->emergency.CloseLapsed().value_or(-1), 0) << "nothing has lapsed yet";

  clock_.Advance(5 * 60'000);
  auto late = services_->messages.List(outsider_, ward_, {});
  ASSERT_FALSE(late) << "reads stop at the expiry itself, before any sweep";
  EXPECT_EQ(late.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(services_->spaces.Get(outsider_, ward_));

  ClearPublished();
  EXPECT_EQ(services_->emergency.CloseLapsed().value_or(-1), 1);
  EXPECT_EQ(services_->emergency.CloseLapsed().value_or(-1), 0) << "closed once";
  auto stops = AuditOf("emergency.stop");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].reason, "expired");
  EXPECT_EQ(FhirAuditEvent(stops[0])["subtype"][0]["code"], "110138");
  EXPECT_EQ(json::parse(stops[0].details_json)["user_id"], outsider_.user.id);
  auto ended = UserEvents("emergency.ended");
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].first["end"], "expired");
  EXPECT_EQ(ended[0].first["ended_at"], (*grant)["expires_at"]);
  std::vector<UserId> told = ended[0].second;
  std::sort(told.begin(), told.end());
  EXPECT_EQ(told, (std::vector<UserId>{outsider_.user.id, officer_.user.id}));

  // Over: the holder may open a new one (with a new reason and password).
  ASSERT_TRUE(Open(outsider_, ward_));
}

TEST_F(EmergencyTest, HoldersEndTheirOwnOfficersRevokeAndReviewWhatIsOver) {
  Actor second = MakeUser("second");
  auto mine = Open(outsider_, ward_);
  auto theirs = Open(second, ward_);
  ASSERT_TRUE(mine && theirs);
  const auto mine_id = (*mine)["id"].get<std::int64_t>();
  const auto theirs_id = (*theirs)["id"].get<std::int64_t>();

  // Nobody but the holder and the officers sees or ends a grant.
  auto foreign = services_->emergency.End(second, mine_id);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::kNotFound);
  auto listed = services_->emergency.List(second, false, store::GrantState::kAll, 0, 50);
  ASSERT_TRUE(listed);
  ASSERT_EQ((*listed)["items"].size(), 1u);
  EXPECT_EQ((*listed)["items"][0]["id"], theirs_id);
  auto everyone = services_->emergency.List(second, true, store::GrantState::kAll, 0, 50);
  ASSERT_FALSE(everyone);
  EXPECT_EQ(everyone.error().problem, "compliance_required");

  auto ended = services_->emergency.End(outsider_, mine_id);
  ASSERT_TRUE(ended) << ended.error().problem;
  EXPECT_EQ((*ended)["end"], "ended");
  EXPECT_FALSE((*ended)["active"].get<bool>());
  EXPECT_FALSE(services_->messages.List(outsider_, ward_, {}));
  auto twice = services_->emergency.End(outsider_, mine_id);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().problem, "grant_ended");

  auto revoked = services_->emergency.End(officer_, theirs_id);
  ASSERT_TRUE(revoked);
  EXPECT_EQ((*revoked)["end"], "revoked");
  EXPECT_EQ((*revoked)["ended_by"]["id"], officer_.user.id);
  EXPECT_FALSE(services_->messages.List(second, ward_, {}));
  auto stops = AuditOf("emergency.stop");
  ASSERT_EQ(stops.size(), 2u);
  EXPECT_EQ(stops[0].reason, "ended");
  EXPECT_EQ(stops[1].reason, "revoked");
  EXPECT_EQ(stops[1].actor_id, officer_.user.id);

  // Reviews: officers only, of what is over, once, and "unjustified" says why.
  auto active = Open(outsider_, ward_);
  ASSERT_TRUE(active);
  auto early = services_->emergency.Review(officer_, (*active)["id"].get<std::int64_t>(), "justified", "");
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().problem, "grant_active");
  auto self = services_->emergency.Review(outsider_, mine_id, "justified", "");
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().problem, "compliance_required");
  auto denied = AuditOf("emergency.review");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].outcome, AuditOutcome::kDenied);
  auto bare = services_->emergency.Review(officer_, theirs_id, "unjustified", "  ");
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().field, "/note");
  auto odd = services_->emergency.Review(officer_, theirs_id, "fine", "");
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().field, "/outcome");

  auto unreviewed = services_->emergency.List(officer_, true, store::GrantState::kUnreviewed, 0, 50);
  ASSERT_TRUE(unreviewed);
  ASSERT_EQ((*unreviewed)["items"].size(), 2u);
  auto verdict = services_->emergency.Review(officer_, theirs_id, "unjustified", "No patient of theirs in this unit");
  ASSERT_TRUE(verdict) << verdict.error().problem;
  EXPECT_EQ((*verdict)["review"]["outcome"], "unjustified");
  EXPECT_EQ((*verdict)["review"]["by"]["id"], officer_.user.id);
  auto again = services_->emergency.Review(officer_, theirs_id, "justified", "");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "grant_reviewed");
  auto reviews = AuditOf("emergency.review");
  ASSERT_EQ(reviews.size(), 2u);
  EXPECT_EQ(reviews[1].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(json::parse(reviews[1].details_json)["outcome"], "unjustified");

  auto left = services_->emergency.List(officer_, true, store::GrantState::kUnreviewed, 0, 50);
  ASSERT_EQ((*left)["items"].size(), 1u);
  EXPECT_EQ((*left)["items"][0]["id"], mine_id);
  auto now_active = services_->emergency.List(officer_, true, store::GrantState::kActive, 0, 50);
  ASSERT_EQ((*now_active)["items"].size(), 1u);
  EXPECT_EQ((*now_active)["items"][0]["id"], (*active)["id"]);
  auto page = services_->emergency.List(officer_, true, store::GrantState::kAll, 0, 2);
  ASSERT_EQ((*page)["items"].size(), 2u);
  ASSERT_TRUE((*page)["next_cursor"].is_string());
  auto rest = services_->emergency.List(officer_, true, store::GrantState::kAll,
                                        std::stoll((*page)["next_cursor"].get<std::string>()), 2);
  ASSERT_EQ((*rest)["items"].size(), 1u);
  EXPECT_EQ((*rest)["items"][0]["id"], mine_id);
}

// The command line revokes as the system: no account is named as having ended the grant, the
// record's actor is the system, and the holder and the officers are told as for an officer's.
TEST_F(EmergencyTest, TheSystemRevokesAGrantOnRecordWithoutNamingAnAccount) {
  auto grant = Open(outsider_, ward_);
  ASSERT_TRUE(grant) << grant.error().problem;
  const auto id = (*grant)["id"].get<std::int64_t>();
  ASSERT_TRUE(services_->messages.List(outsider_, ward_, {}));
  ClearPublished();

  auto revoked = services_->emergency.End(Actor::System(), id);
  ASSERT_TRUE(revoked) << revoked.error().problem;
  EXPECT_EQ((*revoked)["end"], "revoked");
  EXPECT_TRUE((*revoked)["ended_by"].is_null());
  EXPECT_FALSE((*revoked)["active"].get<bool>());
  EXPECT_FALSE(services_->messages.List(outsider_, ward_, {})) << "reads stop at once";

  auto stops = AuditOf("emergency.stop");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].reason, "revoked");
  EXPECT_EQ(stops[0].actor_role, "system");
  auto ended = UserEvents("emergency.ended");
  ASSERT_EQ(ended.size(), 1u);
  auto& told = ended[0].second;
  EXPECT_NE(std::find(told.begin(), told.end(), outsider_.user.id), told.end());
  EXPECT_NE(std::find(told.begin(), told.end(), officer_.user.id), told.end());

  auto twice = services_->emergency.End(Actor::System(), id);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().problem, "grant_ended");
  auto unreviewed = services_->emergency.List(Actor::System(), true, store::GrantState::kUnreviewed, 0, 50);
  ASSERT_TRUE(unreviewed);
  ASSERT_EQ((*unreviewed)["items"].size(), 1u);
  EXPECT_EQ((*unreviewed)["items"][0]["id"], id);
}

TEST_F(EmergencyTest, WithTwoStepSignInTheCodeIsAskedForAndSpent) {
  auto setup = services_->auth.BeginTotp(outsider_, kPassword);
  ASSERT_TRUE(setup);
  auto secret = *crypto::Base32Decode(setup->secret);
  auto code = [&] { return crypto::TotpCode(secret, clock_.NowMillis() / 30'000); };
  ASSERT_TRUE(services_->auth.ConfirmTotp(outsider_, code()));
  clock_.Advance(30'000);  // the set-up spent this step's code

  auto without = Open(outsider_, ward_);
  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().problem, "code_required");
  auto wrong = Open(outsider_, ward_, kPassword, kReason, 30, "000000" == code() ? "111111" : "000000");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "invalid_code");
  const std::string right = code();
  ASSERT_TRUE(Open(outsider_, ward_, kPassword, kReason, 30, right));
  ASSERT_TRUE(services_->emergency.End(outsider_, 1));
  auto replay = Open(outsider_, ward_, kPassword, kReason, 30, right);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().problem, "invalid_code") << "a code works once";
}

TEST_F(EmergencyTest, PatientIdentifiersInTheReasonAndTheReviewNoteNeverReachTheRecord) {
  // Reserved, synthetic identifiers: a 555-01xx phone, the 987-65-432x SSN block.
  auto grant = Open(outsider_, ward_, kPassword, "Covering the ward: the patient's son called from 617-555-0142, crashing");
  ASSERT_TRUE(grant) << grant.error().problem;
  EXPECT_EQ((*grant)["reason_redacted"], "phone");
  const std::string reason = (*grant)["reason"];
  EXPECT_EQ(reason.find("555-0142"), std::string::npos) << reason;
  EXPECT_NE(reason.find("[REDACTED:PHONE]"), std::string::npos) << reason;
  EXPECT_NE(reason.find("Covering the ward"), std::string::npos) << "the rest of the reason stays";
  auto started = AuditOf("emergency.start");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].reason, reason);
  const auto id = (*grant)["id"].get<std::int64_t>();
  auto stored = store_->Read([&](store::ReadTx& tx) { return tx.FindEmergencyGrant(id); });
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->reason, reason);

  // A reason without identifiers is kept as it was, and says nothing was taken out.
  SpaceId other = Space("Oncology huddle", "clinical-team");
  auto plain = Open(outsider_, other);
  ASSERT_TRUE(plain) << plain.error().problem;
  EXPECT_EQ((*plain)["reason"], kReason);
  EXPECT_FALSE(plain->contains("reason_redacted"));

  ASSERT_TRUE(services_->emergency.End(outsider_, id));
  auto reviewed = services_->emergency.Review(officer_, id, "unjustified", "Looked up SSN 987-65-4321 with no clinical need");
  ASSERT_TRUE(reviewed) << reviewed.error().problem;
  EXPECT_EQ((*reviewed)["note_redacted"], "ssn");
  auto review = AuditOf("emergency.review");
  ASSERT_EQ(review.size(), 1u);
  EXPECT_EQ(review[0].reason.find("987-65-4321"), std::string::npos) << review[0].reason;
  EXPECT_NE(review[0].reason.find("[REDACTED:SSN]"), std::string::npos) << review[0].reason;
}

}  // namespace
}  // namespace rounds::app
