// RetentionService against a real SQLite store with a manual clock: expiry by retention and by
// lifespan, legal holds over both and over user deletes, purges that leave no content anywhere,
// audit records with ids and counts only, compliance-only holds and exports, export manifests, and
// a purge killed mid-run (SIGKILL of a child process) that resumes with whole batches only.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "app/retention_service.hpp"
#include "core/crypto.hpp"
#include "app/service_test_support.hpp"
#include "store/storetest/fault_injection_store.hpp"

namespace rounds::app {
namespace {

using testing::ServiceTest;
using namespace rounds::domain;

constexpr std::int64_t kDay = 24LL * 60 * 60 * 1000;
constexpr std::int64_t kYear = 365 * kDay;

class RetentionServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    clock_.Set(1'800'000'000'000);
    officer_ = MakeUser("officer");
    NewUserPatchCompliance(officer_);
    alice_ = MakeUser("alice");
    bob_ = MakeUser("bob");
    admin_ = MakeUser("root", /*admin=*/true);
    space_ = MakeSpace(alice_, SpaceKind::kCommunity, "Cardiology");
    ASSERT_TRUE(services_->spaces.Join(bob_, space_));
  }

  // The password the fixtures' accounts have: what a release or a removal is confirmed with.
  static Confirmation Confirmed() { return Confirmation{testing::kPassword, ""}; }

  void NewUserPatchCompliance(Actor& actor) {
    auto updated = store_->Write([&](store::WriteTx& tx) -> Status {
      actor.user.is_compliance = true;
      return tx.UpdateUser(actor.user);
    });
    ASSERT_TRUE(updated) << updated.error().internal_message;
  }

  // Puts the space under a stored template that keeps messages `ttl_days` (lifespan) within 30 days.
  void LimitLifespan(SpaceId id, int ttl_days) {
    auto doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
    const std::string key = "short-lived-" + std::to_string(id);
    doc["key"] = key;
    doc["version"] = 1;
    doc["retention_days"] = 30;
    doc["message_ttl_days"] = ttl_days;
    EXPECT_TRUE(store_->Write([&](store::WriteTx& tx) -> Status {
      ROUNDS_RETURN_IF_ERROR(tx.InsertTemplate({key, 1, doc.dump(), 0, clock_.NowMillis()}));
      return tx.SetSpaceTemplate(id, key, 1);
    }));
  }

  SpaceId ShortLivedSpace(int ttl_days) {
    SpaceId id = MakeSpace(alice_, SpaceKind::kChannel, "Ephemeral");
    EXPECT_TRUE(services_->spaces.Join(bob_, id));
    LimitLifespan(id, ttl_days);
    return id;
  }

  // The direct conversation of `from` and `others`, made as the app makes it.
  SpaceId Direct(const Actor& from, std::vector<UserId> others) {
    auto direct = services_->spaces.Direct(from, others);
    EXPECT_TRUE(direct) << direct.error().problem;
    return direct ? (*direct)["id"].get<SpaceId>() : 0;
  }

  RetentionReport Run(int max_batches = 0) {
    auto report = services_->retention.RunOnce(officer_, max_batches);
    EXPECT_TRUE(report) << report.error().problem << ": " << report.error().internal_message;
    return report.value_or(RetentionReport{});
  }

  bool Exists(MessageId id) {
    auto found = store_->Read([&](store::ReadTx& tx) { return tx.FindMessage(id, 0); });
    EXPECT_TRUE(found);
    return found && found->has_value();
  }

  store::LegalHoldId Hold(std::vector<UserId> custodians, std::vector<SpaceId> spaces) {
    HoldDraft d{"Matter 17", "pending litigation", std::move(custodians), std::move(spaces), std::nullopt, std::nullopt};
    auto created = services_->retention.CreateHold(officer_, d);
    EXPECT_TRUE(created) << created.error().problem;
    return created ? (*created)["id"].get<store::LegalHoldId>() : 0;
  }

  std::vector<AuditRecord> Audit() {
    auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 10000); });
    EXPECT_TRUE(records);
    return records.value_or(std::vector<AuditRecord>{});
  }

  Actor officer_, alice_, bob_, admin_;
  SpaceId space_ = 0;
};

MessageId IdOf(const json& message) { return message["id"].get<MessageId>(); }

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(RetentionServiceTest, PurgesMessagesPastTheTemplatesRetentionOnly) {
  MessageId old_id = IdOf(Post(alice_, space_, "written long ago"));
  clock_.Advance(2 * kYear);
  MessageId recent_id = IdOf(Post(bob_, space_, "written two years later"));
  clock_.Advance(kYear + 30 * kDay);  // the first is past internal-community's 3 years, the second is not

  RetentionReport report = Run();
  EXPECT_EQ(report.messages_deleted, 1);
  EXPECT_TRUE(report.complete);
  EXPECT_FALSE(Exists(old_id));
  EXPECT_TRUE(Exists(recent_id));
  EXPECT_EQ(Run().messages_deleted, 0);  // nothing left to do
}

TEST_F(RetentionServiceTest, PurgesMessagesPastTheirLifespan) {
  SpaceId ephemeral = ShortLivedSpace(7);
  MessageId short_lived = IdOf(Post(alice_, ephemeral, "gone in a week"));
  MessageId long_lived = IdOf(Post(alice_, space_, "kept for years"));
  clock_.Advance(6 * kDay);
  EXPECT_EQ(Run().messages_deleted, 0);
  clock_.Advance(2 * kDay);
  EXPECT_EQ(Run().messages_deleted, 1);
  EXPECT_FALSE(Exists(short_lived));
  EXPECT_TRUE(Exists(long_lived));
}

// Releasing a hold and removing an export let evidence go: a session alone does neither. The
// officer's password is asked again (and a code, with two-step sign-in), a wrong one is refused on
// record and changes nothing, and what is refused without it (an unknown or released hold) costs
// no attempt. The command line, the system, confirms nothing.
TEST_F(RetentionServiceTest, ReleasingAHoldOrRemovingAnExportTakesTheOfficersPasswordAgain) {
  config_.data_dir = dir_.string();
  store::LegalHoldId hold = Hold({bob_.user.id}, {});
  auto missing = services_->retention.ReleaseHold(officer_, hold, Confirmation{});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.error().field, "/password");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto refused = services_->retention.ReleaseHold(officer_, hold, Confirmation{"not my password", ""});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kForbidden);
    EXPECT_EQ(refused.error().problem, "invalid_credentials");
  }
  auto held = services_->retention.ListHolds(officer_, false);
  ASSERT_TRUE(held);
  ASSERT_EQ((*held)["items"].size(), 1u) << "still active";
  auto denials = AuditOf("legal_hold.release");
  ASSERT_EQ(denials.size(), 2u);
  for (const auto& r : denials) EXPECT_EQ(r.outcome, AuditOutcome::kFailure);  // as a failed sign-in is

  auto unknown = services_->retention.ReleaseHold(officer_, hold + 100, Confirmation{"not my password", ""});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound) << "refused before the password is checked";

  // With two-step sign-in, the code too.
  auto setup = services_->auth.BeginTotp(officer_, testing::kPassword);
  ASSERT_TRUE(setup);
  const auto secret = *crypto::Base32Decode(setup->secret);
  auto code = [&] { return crypto::TotpCode(secret, clock_.NowMillis() / 30'000); };
  ASSERT_TRUE(services_->auth.ConfirmTotp(officer_, code()));
  clock_.Advance(30'000);  // the set-up spent this step's code
  auto without = services_->retention.ReleaseHold(officer_, hold, Confirmed());
  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().problem, "code_required");
  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, hold, Confirmation{testing::kPassword, code()}));
  auto again = services_->retention.ReleaseHold(officer_, hold, Confirmation{"not my password", ""});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "hold_released") << "refused before the password is checked";

  // An export's files stay until the removal is confirmed.
  Post(bob_, space_, "for counsel");
  auto manifest = services_->retention.ExportToDataDir(officer_, {});
  ASSERT_TRUE(manifest);
  const std::string id = (*manifest)["export_id"];
  auto kept = services_->retention.RemoveExport(officer_, id, Confirmation{testing::kPassword, ""});
  ASSERT_FALSE(kept);
  EXPECT_EQ(kept.error().problem, "code_required");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "exports" / id / "transcript.txt"));
  clock_.Advance(30'000);
  ASSERT_TRUE(services_->retention.RemoveExport(officer_, id, Confirmation{testing::kPassword, code()}));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "exports" / id));

  // The command line confirms nothing: it runs as whoever holds the data folder and its keys.
  store::LegalHoldId second = Hold({bob_.user.id}, {});
  ASSERT_TRUE(services_->retention.ReleaseHold(Actor::System(), second, {}));
}

TEST_F(RetentionServiceTest, HoldsOverrideRetentionLifespanAndUserDeletes) {
  SpaceId ephemeral = ShortLivedSpace(7);
  MessageId bobs = IdOf(Post(bob_, space_, "bob said the budget was wrong"));
  MessageId bobs_ephemeral = IdOf(Post(bob_, ephemeral, "bob, short-lived"));
  MessageId alices = IdOf(Post(alice_, space_, "alice's note"));
  store::LegalHoldId hold = Hold({bob_.user.id}, {});

  // Bob deletes his message: users see a tombstone, the text is kept for the hold.
  ASSERT_TRUE(services_->messages.Delete(bob_, bobs));
  auto seen = services_->messages.Get(alice_, bobs);
  EXPECT_TRUE(!seen || (*seen)["body"] == "");
  auto kept = store_->Read([&](store::ReadTx& tx) { return tx.FindHeldDeletion(bobs); });
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->body, "bob said the budget was wrong");

  clock_.Advance(4 * kYear);
  RetentionReport report = Run();
  EXPECT_EQ(report.messages_deleted, 1);  // alice's only
  EXPECT_EQ(report.held_skipped, 2) << "bob's two, past their cutoffs, kept for the hold";
  auto recorded = AuditOf("retention.run");
  ASSERT_FALSE(recorded.empty());
  EXPECT_NE(recorded.back().details_json.find("\"held_skipped\":2"), std::string::npos) << recorded.back().details_json;
  EXPECT_FALSE(Exists(alices));
  EXPECT_TRUE(Exists(bobs));
  EXPECT_TRUE(Exists(bobs_ephemeral));

  // Released, the held messages are purgeable like any other, held text included.
  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, hold, Confirmed()));
  RetentionReport released = Run();
  EXPECT_EQ(released.messages_deleted, 2);
  EXPECT_EQ(released.held_skipped, 0);
  EXPECT_FALSE(Exists(bobs));
  EXPECT_FALSE(Exists(bobs_ephemeral));
  auto gone = store_->Read([&](store::ReadTx& tx) { return tx.FindHeldDeletion(bobs); });
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  auto again = services_->retention.ReleaseHold(officer_, hold, Confirmed());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

// A delete under a hold is finished when no hold covers the message any more: its kept text,
// earlier versions and poll go then, not years later at its retention cutoff. The release takes
// the first batch and names it on its record; retention runs take the rest, batch by batch.
TEST_F(RetentionServiceTest, ADeleteUnderAHoldFinishesWhenTheLastHoldCoveringItIsReleased) {
  config_.retention_batch_size = 1;
  MessageId note = IdOf(Post(bob_, space_, "original wording kiwi"));
  ASSERT_TRUE(services_->messages.Edit(bob_, note, "edited wording mango", std::nullopt));
  clock_.Advance(1000);
  const UnixMillis poll_time = clock_.NowMillis();
  MessageId poll = IdOf(Post(bob_, space_, "Which bed?", MessageKind::kPoll, std::nullopt, {"Bed 4, kiwi", "Bed 5"}));
  clock_.Advance(1000);
  MessageId later = IdOf(Post(bob_, space_, "kiwi again"));
  store::LegalHoldId wide = Hold({bob_.user.id}, {});
  // A second hold covers only the poll.
  HoldDraft narrow{"Matter 18", "", {bob_.user.id}, {}, poll_time, poll_time + 1};
  auto second = services_->retention.CreateHold(officer_, narrow);
  ASSERT_TRUE(second) << second.error().problem;
  for (MessageId id : {note, poll, later}) ASSERT_TRUE(services_->messages.Delete(bob_, id));
  auto kept = [&](MessageId id) {
    auto held = store_->Read([&](store::ReadTx& tx) { return tx.FindHeldDeletion(id); });
    EXPECT_TRUE(held);
    return held && held->has_value();
  };
  ASSERT_TRUE(kept(note) && kept(poll) && kept(later));

  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, wide, Confirmed()));
  EXPECT_FALSE(kept(note));  // the first batch, with the release
  EXPECT_TRUE(kept(poll));   // still held by the second hold
  EXPECT_TRUE(kept(later));  // the next batch
  auto released = AuditOf("legal_hold.release");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(json::parse(released[0].details_json)["finished_deletion_ids"], json({note}));
  auto history = store_->Read([&](store::ReadTx& tx) { return tx.ListEdits(note); });
  ASSERT_TRUE(history);
  EXPECT_TRUE(history->empty());

  RetentionReport report = Run();
  EXPECT_EQ(report.deletions_finished, 1);
  EXPECT_EQ(report.messages_deleted, 0);
  EXPECT_FALSE(kept(later));
  auto finished = AuditOf("retention.finish_deletions");
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(json::parse(finished[0].details_json)["message_ids"], json({later}));
  EXPECT_EQ(finished[0].details_json.find("kiwi"), std::string::npos);

  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, (*second)["id"].get<store::LegalHoldId>(), Confirmed()));
  EXPECT_FALSE(kept(poll));
  auto options = store_->Read([&](store::ReadTx& tx) { return tx.FindMessage(poll, 0); });
  ASSERT_TRUE(options && *options);
  EXPECT_TRUE((*options)->poll_options.empty());
  // Nothing of them is left to find.
  store::ExportQuery query{.custodian_ids = {bob_.user.id}, .keywords = {"kiwi"}};
  auto exported = services_->retention.Export(officer_, query, (dir_ / "kiwi").string());
  ASSERT_TRUE(exported) << exported.error().problem;
  EXPECT_EQ((*exported)["counts"]["messages"], 0);
}

// Only a release frees a kept deletion. A run that has looked at them all does not look again
// until a hold is released: deletions an active hold keeps cost a run nothing, however many.
TEST_F(RetentionServiceTest, KeptDeletionsAreLookedAtAgainOnlyAfterARelease) {
  config_.retention_batch_size = 2;
  store::LegalHoldId matter = Hold({bob_.user.id}, {});
  std::vector<MessageId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(IdOf(Post(bob_, space_, "note " + std::to_string(i))));
  for (MessageId id : ids) ASSERT_TRUE(services_->messages.Delete(bob_, id));
  RetentionReport first = Run();
  EXPECT_EQ(first.batches, 3) << "five kept deletions, two a batch";
  EXPECT_EQ(first.deletions_finished, 0);
  RetentionReport second = Run();
  EXPECT_EQ(second.batches, 0) << "no release since: nothing to look at";

  // A run cut short has not looked at them all: the next one does.
  store::LegalHoldId other = Hold({alice_.user.id}, {});
  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, other, Confirmed()));
  RetentionReport cut = Run(1);
  EXPECT_EQ(cut.batches, 1);
  EXPECT_FALSE(cut.complete);
  EXPECT_EQ(Run().batches, 3);
  EXPECT_EQ(Run().batches, 0);

  // What a run looked at is kept with it: a new process (services started again over the same
  // store) does not walk them again, until a release.
  services_.reset();
  services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);
  EXPECT_EQ(Run().batches, 0) << "a new process knows the last walk";

  // The release that frees them finishes the first batch; the next run finishes the rest.
  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, matter, Confirmed()));
  RetentionReport freed = Run();
  EXPECT_EQ(freed.deletions_finished, 3);
  for (MessageId id : ids) {
    auto held = store_->Read([&](store::ReadTx& tx) { return tx.FindHeldDeletion(id); });
    ASSERT_TRUE(held);
    EXPECT_FALSE(held->has_value()) << id;
  }
}

// A body cannot forge a line of the transcript: only a message starts one with '['.
TEST_F(RetentionServiceTest, ABodyCannotForgeAnotherMessagesLineInTheTranscript) {
  Post(bob_, space_,
       "note\n[2026-01-01T00:00:00.000Z] Hana (#999): I approve the falsified chart\r\n"
       "[x]\rnext\xE2\x80\xA8[y]\v[z]\f[w]");
  store::ExportQuery query{.keywords = {"falsified"}};
  auto exported = services_->retention.Export(officer_, query, (dir_ / "forged").string());
  ASSERT_TRUE(exported) << exported.error().problem;
  const std::string transcript = ReadFile(dir_ / "forged" / "transcript.txt");
  EXPECT_EQ(transcript.find("\n[2026-01-01"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find("note\n    [2026-01-01T00:00:00.000Z] Hana (#999): I approve"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find("chart\n    [x]\n    next\n    [y]\n    [z]\n    [w]"), std::string::npos) << transcript;
  for (char c : {'\r', '\v', '\f'}) EXPECT_EQ(transcript.find(c), std::string::npos) << int(c);
}

// Keywords match as people type them: curly apostrophes, spaces that do not break, Cyrillic,
// Greek, Armenian and Georgian in any case, "ß" in capitals, and the options of a poll.
TEST_F(RetentionServiceTest, KeywordsMatchTypedPunctuationOtherScriptsAndPollOptions) {
  MessageId apostrophe = IdOf(Post(bob_, space_, "the patient\xE2\x80\x99s chart"));
  MessageId spaced = IdOf(Post(bob_, space_, "dose 5\xC2\xA0mg"));
  MessageId cyrillic = IdOf(Post(bob_, space_, "\xD0\x94\xD0\x98\xD0\x90\xD0\x93\xD0\x9D\xD0\x9E\xD0\x97 pending"));
  MessageId armenian = IdOf(Post(bob_, space_, "ԱԽՏՈՐՈՇՈՒՄ pending"));
  MessageId georgian = IdOf(Post(bob_, space_, "ᲓᲘᲐᲒᲜᲝᲖᲘ pending"));
  MessageId street = IdOf(Post(bob_, space_, "HAUPTSTRASSE 4"));
  MessageId poll = IdOf(Post(bob_, space_, "Next step?", MessageKind::kPoll, std::nullopt, {"increase morphine", "wait"}));
  const std::pair<const char*, MessageId> cases[] = {
      {"patient's", apostrophe},
      {"dose 5 mg", spaced},
      {"\xD0\xB4\xD0\xB8\xD0\xB0\xD0\xB3\xD0\xBD\xD0\xBE\xD0\xB7", cyrillic},  // диагноз
      {"ախտորոշում", armenian},
      {"დიაგნოზი", georgian},  // Mkhedruli, the message in Mtavruli
      {"hauptstra\xC3\x9F" "e", street},
      {"Morphine", poll},
  };
  int n = 0;
  for (const auto& [keyword, id] : cases) {
    store::ExportQuery query{.keywords = {keyword}};
    const auto folder = dir_ / ("k" + std::to_string(n++));
    auto exported = services_->retention.Export(officer_, query, folder.string());
    ASSERT_TRUE(exported) << keyword << ": " << exported.error().problem;
    EXPECT_EQ((*exported)["counts"]["messages"], 1) << keyword;
    json messages = json::parse(ReadFile(folder / "messages.json"));
    ASSERT_EQ(messages.size(), 1u) << keyword;
    EXPECT_EQ(messages[0]["id"], id) << keyword;
  }
  // The transcript shows what a poll offered, as a space's own transcript does.
  const std::string transcript = ReadFile(dir_ / ("k" + std::to_string(n - 1)) / "transcript.txt");
  EXPECT_NE(transcript.find("Next step?\n      ( ) increase morphine — 0 votes\n      ( ) wait — 0 votes\n"),
            std::string::npos) << transcript;
}

// A hold's reason is text: bytes that are not UTF-8 are refused before anything is stored.
TEST_F(RetentionServiceTest, AHoldReasonThatIsNotTextIsRefusedAndNothingIsStored) {
  HoldDraft d{"Bad reason", "b\xFF" "c", {bob_.user.id}, {}, std::nullopt, std::nullopt};
  auto created = services_->retention.CreateHold(officer_, d);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().problem, "invalid_utf8");
  EXPECT_EQ(created.error().field, "/reason");
  auto holds = services_->retention.ListHolds(officer_, true);
  ASSERT_TRUE(holds);
  EXPECT_TRUE((*holds)["items"].empty());
  EXPECT_TRUE(AuditOf("legal_hold.create").empty());
}

// Without a hold a delete leaves a tombstone and nothing else: e-discovery finds no earlier
// version and no poll option of it, as its transcript line says.
TEST_F(RetentionServiceTest, AMessageDeletedWithoutAHoldLeavesOnlyItsTombstoneForEDiscovery) {
  MessageId note = IdOf(Post(bob_, space_, "move the quokka case to ward 7"));
  ASSERT_TRUE(services_->messages.Edit(bob_, note, "move planned", std::nullopt));
  MessageId poll = IdOf(Post(bob_, space_, "Which bed?", MessageKind::kPoll, std::nullopt, {"Bed 4, quokka", "Bed 5"}));
  ASSERT_TRUE(services_->messages.PollVote(alice_, poll, 0));
  ASSERT_TRUE(services_->messages.Delete(bob_, note));
  ASSERT_TRUE(services_->messages.Delete(bob_, poll));

  store::ExportQuery by_old_text{.custodian_ids = {bob_.user.id}, .keywords = {"quokka"}};
  auto found = services_->retention.Export(officer_, by_old_text, (dir_ / "quokka").string());
  ASSERT_TRUE(found) << found.error().problem << " " << found.error().internal_message;
  EXPECT_EQ((*found)["counts"]["messages"], 0);

  store::ExportQuery everything{.custodian_ids = {bob_.user.id}};
  auto all = services_->retention.Export(officer_, everything, (dir_ / "all").string());
  ASSERT_TRUE(all) << all.error().problem << " " << all.error().internal_message;
  EXPECT_EQ((*all)["counts"]["messages"], 2);
  EXPECT_EQ((*all)["counts"]["edits"], 0);
  EXPECT_EQ((*all)["counts"]["held_deletions"], 0);
  for (const char* name : {"messages.json", "transcript.txt", "edits.json"}) {
    EXPECT_EQ(ReadFile(dir_ / "all" / name).find("quokka"), std::string::npos) << name;
  }
  const std::string transcript = ReadFile(dir_ / "all" / "transcript.txt");
  EXPECT_NE(transcript.find("{DELETED; text not retained}"), std::string::npos) << transcript;
  auto history = services_->messages.History(bob_, note);
  ASSERT_FALSE(history);
  EXPECT_EQ(history.error().code, ErrorCode::kNotFound);
}

// rounds_fold drops combining marks, and every text holds the empty string: a keyword of marks
// alone would select every message of the query's scope.
TEST_F(RetentionServiceTest, AKeywordThatFoldsToNothingIsRefusedRatherThanMatchingEverything) {
  Post(bob_, space_, "anything at all");
  for (const char* keyword : {"\u0301", "\u0301\u0300\u0308", " ", " \t \u0301 "}) {
    store::ExportQuery query{.keywords = {"ward", keyword}};
    auto exported = services_->retention.Export(officer_, query, (dir_ / "marks").string());
    ASSERT_FALSE(exported) << keyword;
    EXPECT_EQ(exported.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(exported.error().problem, "invalid_value");
    EXPECT_EQ(exported.error().field, "/keywords");
    EXPECT_FALSE(std::filesystem::exists(dir_ / "marks"));
    auto under_data_dir = services_->retention.ExportToDataDir(officer_, query);
    ASSERT_FALSE(under_data_dir) << keyword;
    EXPECT_EQ(under_data_dir.error().problem, "invalid_value");
  }
  // A mark on a letter is a keyword like any other: it folds to the letter.
  store::ExportQuery accented{.keywords = {"a\u0301ll"}};
  auto exported = services_->retention.Export(officer_, accented, (dir_ / "accented").string());
  ASSERT_TRUE(exported) << exported.error().problem;
  EXPECT_EQ((*exported)["counts"]["messages"], 1);
}

// A hold on a custodian keeps their received direct messages, the two-person and the group kind,
// past lifespan and retention, and nothing of a space they merely belong to.
TEST_F(RetentionServiceTest, ACustodianHoldKeepsTheDirectMessagesTheyReceivedUntilReleased) {
  Actor carol = MakeUser("carol");
  const SpaceId direct = Direct(alice_, {bob_.user.id});
  const SpaceId group = Direct(carol, {alice_.user.id, bob_.user.id});
  LimitLifespan(direct, 7);
  MessageId received = IdOf(Post(alice_, direct, "alice to bob"));
  MessageId in_group = IdOf(Post(carol, group, "carol to the group"));
  MessageId in_space = IdOf(Post(alice_, space_, "alice in a space bob belongs to"));
  MessageId elsewhere = IdOf(Post(alice_, Direct(alice_, {carol.user.id}), "alice to carol"));
  store::LegalHoldId hold = Hold({bob_.user.id}, {});

  clock_.Advance(8 * kDay);  // past the direct conversation's lifespan only
  EXPECT_EQ(Run().messages_deleted, 0);
  EXPECT_TRUE(Exists(received));

  clock_.Advance(8 * kYear);  // past every template's retention (direct conversations: 7 years)
  EXPECT_EQ(Run().messages_deleted, 2);
  EXPECT_FALSE(Exists(in_space));
  EXPECT_FALSE(Exists(elsewhere));
  EXPECT_TRUE(Exists(received));
  EXPECT_TRUE(Exists(in_group));

  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, hold, Confirmed()));
  EXPECT_EQ(Run().messages_deleted, 2);
  EXPECT_FALSE(Exists(received));
  EXPECT_FALSE(Exists(in_group));
}

// The hold is on bob, the reader: alice deleting what she sent him takes it (and its file) from
// every user, but not from e-discovery.
TEST_F(RetentionServiceTest, AReceivedDirectMessageDeletedUnderHoldVanishesForUsersButIsExported) {
  const SpaceId direct = Direct(alice_, {bob_.user.id});
  auto upload = services_->messages.Upload(
      alice_, direct, UploadRequest{"scan.png", "image/png", std::string("\x89PNG\r\n\x1a\n", 8) + "pixels", false});
  ASSERT_TRUE(upload) << upload.error().problem;
  const AttachmentId file = (*upload)["id"];
  Draft draft;
  draft.body = "the dose was doubled";
  draft.attachment_ids = {file};
  auto posted = services_->messages.Post(alice_, direct, draft);
  ASSERT_TRUE(posted) << posted.error().problem;
  const MessageId received = IdOf(posted->Message());
  MessageId in_space = IdOf(Post(alice_, space_, "the dose in cardiology"));
  Hold({bob_.user.id}, {});

  ASSERT_TRUE(services_->messages.Delete(alice_, received));
  ASSERT_TRUE(services_->messages.Delete(alice_, in_space));
  for (const Actor* reader : {&alice_, &bob_}) {
    auto seen = services_->messages.Get(*reader, received);
    EXPECT_TRUE(!seen || (*seen)["body"] == "");
    EXPECT_FALSE(services_->messages.Download(*reader, file));
  }
  auto kept = store_->Read([&](store::ReadTx& tx) { return tx.FindHeldDeletion(received); });
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->body, "the dose was doubled");
  auto stored = store_->Read([&](store::ReadTx& tx) { return tx.FindAttachment(file); });
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->has_value()) << "the file of a held message stays for e-discovery";
  auto not_kept = store_->Read([&](store::ReadTx& tx) { return tx.FindHeldDeletion(in_space); });
  ASSERT_TRUE(not_kept);
  EXPECT_FALSE(*not_kept);

  store::ExportQuery query{.custodian_ids = {bob_.user.id}, .keywords = {"dose"}};
  auto manifest = services_->retention.Export(officer_, query, (dir_ / "received").string());
  ASSERT_TRUE(manifest) << manifest.error().problem << " " << manifest.error().internal_message;
  EXPECT_EQ((*manifest)["counts"]["messages"], 1);
  EXPECT_EQ((*manifest)["counts"]["held_deletions"], 1);
  json messages = json::parse(ReadFile(dir_ / "received" / "messages.json"));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["id"], received);
  EXPECT_EQ(messages[0]["held_deletion"]["body"], "the dose was doubled");
  EXPECT_EQ(messages[0]["legal_hold_ids"].size(), 1u);
  const std::string transcript = ReadFile(dir_ / "received" / "transcript.txt");
  EXPECT_NE(transcript.find("the dose was doubled  {DELETED"), std::string::npos) << transcript;
}

TEST_F(RetentionServiceTest, AnExportByCustodianHoldsTheirDirectMessagesButNotSpaceMessagesOthersWrote) {
  Actor carol = MakeUser("carol");
  MessageId received = IdOf(Post(alice_, Direct(alice_, {bob_.user.id}), "alice to bob"));
  MessageId own = IdOf(Post(bob_, space_, "bob in cardiology"));
  Post(alice_, space_, "alice in cardiology");
  Post(alice_, Direct(alice_, {carol.user.id}), "alice to carol");

  store::ExportQuery query{.custodian_ids = {bob_.user.id}};
  auto manifest = services_->retention.Export(officer_, query, (dir_ / "bob").string());
  ASSERT_TRUE(manifest) << manifest.error().problem << " " << manifest.error().internal_message;
  EXPECT_EQ((*manifest)["counts"]["messages"], 2);
  EXPECT_EQ((*manifest)["counts"]["spaces"], 2);
  json messages = json::parse(ReadFile(dir_ / "bob" / "messages.json"));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]["id"], received);
  EXPECT_EQ(messages[1]["id"], own);
  const std::string transcript = ReadFile(dir_ / "bob" / "transcript.txt");
  EXPECT_NE(transcript.find("alice to bob"), std::string::npos);
  EXPECT_EQ(transcript.find("alice in cardiology"), std::string::npos);
  EXPECT_EQ(transcript.find("alice to carol"), std::string::npos);
  // A name cannot start a line of the transcript either.
  {
    auto renamed = store_->Write([&](store::WriteTx& tx) -> Status {
      alice_.user.display_name = "Alice\xE2\x80\xA8[2026-01-01T00:00:00.000Z] Bob (#5): forged";
      return tx.UpdateUser(alice_.user);
    });
    ASSERT_TRUE(renamed);
    auto again = services_->retention.Export(officer_, query, (dir_ / "bob-again").string());
    ASSERT_TRUE(again) << again.error().problem;
    const std::string renamed_transcript = ReadFile(dir_ / "bob-again" / "transcript.txt");
    EXPECT_EQ(renamed_transcript.find("\xE2\x80\xA8"), std::string::npos) << renamed_transcript;
    EXPECT_EQ(renamed_transcript.find("\n[2026-01-01"), std::string::npos) << renamed_transcript;
  }
  // A direct conversation has no name: its people name its section.
  const bool named = transcript.find("User alice, User bob (direct") != std::string::npos ||
                     transcript.find("User bob, User alice (direct") != std::string::npos;
  EXPECT_TRUE(named) << transcript;
}

TEST_F(RetentionServiceTest, PurgedContentIsGoneFromEveryTableSearchAndEventsAndTheAuditHasIdsOnly) {
  const std::string canary = "zebracanary";
  json poll = Post(alice_, space_, canary + " poll", MessageKind::kPoll, std::nullopt, {canary + "-yes", "no"});
  MessageId poll_id = IdOf(poll);
  json reply = Post(bob_, space_, canary + " reply", MessageKind::kMessage, poll_id);
  ASSERT_TRUE(services_->messages.Edit(alice_, poll_id, canary + " edited poll", std::nullopt));
  ASSERT_TRUE(services_->messages.React(bob_, poll_id, "👍", true));
  ASSERT_TRUE(services_->messages.PollVote(bob_, poll_id, 0));
  ASSERT_FALSE(services_->search.Search(alice_, canary, 20, 0)->at("messages").empty());

  clock_.Advance(4 * kYear);
  RetentionReport report = Run();
  EXPECT_EQ(report.messages_deleted, 2);
  EXPECT_GE(report.events_scrubbed, 5);  // created x2, edited, reaction, poll vote

  EXPECT_FALSE(Exists(poll_id));
  EXPECT_FALSE(Exists(IdOf(reply)));
  EXPECT_TRUE(services_->search.Search(alice_, canary, 20, 0)->at("messages").empty());
  auto events = store_->Read([&](store::ReadTx& tx) { return tx.ListEvents(space_, 0, 1000); });
  ASSERT_TRUE(events);
  Seq expected_seq = 1;
  for (const auto& e : *events) {
    EXPECT_EQ(e.seq, expected_seq++);  // no gaps: clients resume by seq
    EXPECT_EQ(e.payload_json.find(canary), std::string::npos) << e.type << " " << e.payload_json;
  }
  auto edits = store_->Read([&](store::ReadTx& tx) { return tx.ListEdits(poll_id); });
  ASSERT_TRUE(edits);
  EXPECT_TRUE(edits->empty());

  bool saw_purge = false;
  for (const auto& record : Audit()) {
    EXPECT_EQ(record.details_json.find(canary), std::string::npos) << record.action;
    if (record.action == "retention.purge") {
      saw_purge = true;
      json details = json::parse(record.details_json);
      EXPECT_EQ(details["deleted"], 2);
      EXPECT_EQ(details["deleted_ids"], json({poll_id, IdOf(reply)}));
      EXPECT_EQ(record.object_type, "space");
      EXPECT_EQ(record.object_id, std::to_string(space_));
    }
  }
  EXPECT_TRUE(saw_purge);
}

TEST_F(RetentionServiceTest, BatchesAreBoundedAndMaxBatchesCutsARunShort) {
  config_.retention_batch_size = 3;
  for (int i = 0; i < 10; ++i) Post(alice_, space_, "message " + std::to_string(i));
  clock_.Advance(4 * kYear);
  RetentionReport first = Run(2);
  EXPECT_EQ(first.batches, 2);
  EXPECT_EQ(first.messages_deleted, 6);
  EXPECT_FALSE(first.complete);
  RetentionReport rest = Run();
  EXPECT_EQ(rest.messages_deleted, 4);
  EXPECT_EQ(rest.batches, 2);
  EXPECT_TRUE(rest.complete);
}

TEST_F(RetentionServiceTest, OnlyComplianceOfficersManageHoldsAndExports) {
  HoldDraft d{"Matter", "", {bob_.user.id}, {}, std::nullopt, std::nullopt};
  for (const Actor* who : {&alice_, &admin_}) {
    auto hold = services_->retention.CreateHold(*who, d);
    ASSERT_FALSE(hold);
    EXPECT_EQ(hold.error().code, ErrorCode::kForbidden);
    EXPECT_EQ(hold.error().problem, "compliance_required");
    auto exported = services_->retention.ExportToDataDir(*who, {});
    ASSERT_FALSE(exported);
    EXPECT_EQ(exported.error().code, ErrorCode::kForbidden);
    EXPECT_FALSE(services_->retention.ListHolds(*who, true));
    EXPECT_FALSE(services_->retention.ListExports(*who));
  }
  EXPECT_FALSE(services_->retention.RunOnce(alice_));
  EXPECT_TRUE(services_->retention.RunOnce(admin_));  // administrators may run retention by hand
  EXPECT_TRUE(services_->retention.CreateHold(Actor::System(), d));
  EXPECT_TRUE(services_->retention.CreateHold(officer_, d));

  int denials = 0;
  for (const auto& record : Audit()) {
    if (record.outcome == AuditOutcome::kDenied && record.reason == "compliance_required") ++denials;
  }
  EXPECT_GE(denials, 9);

  auto empty = services_->retention.CreateHold(officer_, HoldDraft{"No scope", "", {}, {}, std::nullopt, std::nullopt});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  auto unknown = services_->retention.CreateHold(officer_, HoldDraft{"Ghost", "", {9999}, {}, std::nullopt, std::nullopt});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().problem, "unknown_custodian");
}

TEST_F(RetentionServiceTest, HoldsAndExportsAreListedWithThePeopleAndSpacesTheyName) {
  const store::LegalHoldId id = Hold({bob_.user.id}, {space_});
  auto holds = services_->retention.ListHolds(officer_, true);
  ASSERT_TRUE(holds);
  ASSERT_EQ((*holds)["items"].size(), 1u);
  const json& hold = (*holds)["items"][0];
  ASSERT_EQ(hold["custodians"].size(), 1u);
  EXPECT_EQ(hold["custodians"][0]["username"], bob_.user.username);
  ASSERT_EQ(hold["spaces"].size(), 1u);
  EXPECT_EQ(hold["spaces"][0]["id"], space_);
  auto space = store_->Read([&](store::ReadTx& tx) { return tx.FindSpace(space_); });
  ASSERT_TRUE(space && *space);
  EXPECT_EQ(hold["spaces"][0]["name"], (*space)->name);
  EXPECT_EQ(hold["created_by_user"]["username"], officer_.user.username);

  // A direct conversation, which has no name of its own, is named by its people.
  auto direct = services_->spaces.Direct(bob_, {officer_.user.id});
  ASSERT_TRUE(direct);
  const store::LegalHoldId dm_hold = Hold({}, {(*direct)["id"].get<SpaceId>()});
  auto with_dm = services_->retention.ListHolds(officer_, true);
  ASSERT_TRUE(with_dm);
  int seen = 0;
  for (const auto& h : (*with_dm)["items"]) {
    if (h["id"] != dm_hold) continue;
    ++seen;
    const std::string name = h["spaces"][0]["name"];
    EXPECT_NE(name.find(bob_.user.display_name), std::string::npos) << name;
    EXPECT_NE(name.find(officer_.user.display_name), std::string::npos) << name;
  }
  EXPECT_EQ(seen, 1);
  EXPECT_FALSE(hold.contains("released_by_user")) << "not released";

  // A released hold names who released it.
  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, dm_hold, Confirmed()));
  auto after_release = services_->retention.ListHolds(officer_, true);
  ASSERT_TRUE(after_release);
  for (const auto& h : (*after_release)["items"]) {
    if (h["id"] == dm_hold) {
      EXPECT_EQ(h["released_by_user"]["username"], officer_.user.username) << h.dump();
    }
  }

  // Names as they are now: a renamed custodian reads under the new name.
  UserPatch rename;
  rename.display_name = "Robert Stone";
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), bob_.user.id, rename));
  store::ExportQuery query{.custodian_ids = {bob_.user.id}, .space_ids = {space_}};
  ASSERT_TRUE(services_->retention.Export(officer_, query, (dir_ / "named-export").string()));
  auto exports = services_->retention.ListExports(officer_);
  ASSERT_TRUE(exports);
  ASSERT_EQ((*exports)["items"].size(), 1u);
  const json& record = (*exports)["items"][0];
  ASSERT_EQ(record["custodians"].size(), 1u);
  EXPECT_EQ(record["custodians"][0]["display_name"], "Robert Stone");
  EXPECT_EQ(record["spaces"][0]["id"], space_);
  EXPECT_EQ((*services_->retention.ListHolds(officer_, true))["items"][0]["custodians"][0]["display_name"], "Robert Stone");
  // Placing and releasing answer the hold the same way.
  auto released = services_->retention.ReleaseHold(officer_, id, Confirmed());
  ASSERT_TRUE(released);
  EXPECT_EQ((*released)["custodians"][0]["display_name"], "Robert Stone");
  EXPECT_EQ((*released)["spaces"][0]["id"], space_);
  auto placed = services_->retention.CreateHold(officer_, HoldDraft{"Matter 18", "", {bob_.user.id}, {}, std::nullopt, std::nullopt});
  ASSERT_TRUE(placed);
  EXPECT_EQ((*placed)["custodians"][0]["username"], bob_.user.username);
  EXPECT_EQ((*placed)["spaces"], json::array());
}

TEST_F(RetentionServiceTest, HoldAuditRecordsCarryIdsButNotNamesOrReasons) {
  store::LegalHoldId id = Hold({bob_.user.id}, {space_});
  ASSERT_TRUE(services_->retention.ReleaseHold(officer_, id, Confirmed()));
  int seen = 0;
  for (const auto& record : Audit()) {
    if (record.action != "legal_hold.create" && record.action != "legal_hold.release") continue;
    ++seen;
    EXPECT_EQ(record.object_id, std::to_string(id));
    EXPECT_EQ(record.details_json.find("litigation"), std::string::npos);
    EXPECT_EQ(record.details_json.find("Matter"), std::string::npos);
    EXPECT_EQ(json::parse(record.details_json)["custodian_ids"], json({bob_.user.id}));
  }
  EXPECT_EQ(seen, 2);
  // A list names who is under investigation: who looked is on record too, with a count alone.
  ASSERT_TRUE(services_->retention.ListHolds(officer_, true));
  ASSERT_TRUE(services_->retention.ListExports(officer_, "", 50));
  auto listed = AuditOf("legal_hold.list");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].actor_id, officer_.user.id);
  EXPECT_EQ(json::parse(listed[0].details_json)["count"], 1);
  EXPECT_EQ(listed[0].details_json.find("Matter"), std::string::npos);
  ASSERT_EQ(AuditOf("ediscovery.list").size(), 1u);
}

TEST_F(RetentionServiceTest, ExportWritesMessagesTranscriptEditsAndAManifestWhoseHashesMatch) {
  MessageId edited = IdOf(Post(bob_, space_, "first draft about the merger"));
  ASSERT_TRUE(services_->messages.Edit(bob_, edited, "final wording", std::nullopt));
  MessageId deleted = IdOf(Post(bob_, space_, "regret this merger remark"));
  Hold({bob_.user.id}, {});
  ASSERT_TRUE(services_->messages.Delete(bob_, deleted));
  Post(alice_, space_, "unrelated");

  store::ExportQuery query{.custodian_ids = {bob_.user.id}, .keywords = {"merger"}};
  auto manifest = services_->retention.Export(officer_, query, (dir_ / "export").string());
  ASSERT_TRUE(manifest) << manifest.error().problem << " " << manifest.error().internal_message;
  EXPECT_EQ((*manifest)["counts"]["messages"], 2);
  EXPECT_EQ((*manifest)["counts"]["held_deletions"], 1);
  EXPECT_EQ((*manifest)["created_by"]["username"], "officer");
  EXPECT_EQ((*manifest)["query"]["keywords"], json({"merger"}));
  std::set<std::string> names;
  for (const auto& file : (*manifest)["files"]) {
    std::string bytes = ReadFile(dir_ / "export" / file["name"].get<std::string>());
    EXPECT_EQ(file["sha256"], crypto::Sha256Hex(bytes)) << file["name"];
    EXPECT_EQ(file["bytes"], bytes.size());
    names.insert(file["name"]);
  }
  EXPECT_EQ(names, (std::set<std::string>{"messages.json", "transcript.txt", "edits.json", "attachments.json"}));
  EXPECT_EQ(json::parse(ReadFile(dir_ / "export" / "manifest.json")), *manifest);

  std::string transcript = ReadFile(dir_ / "export" / "transcript.txt");
  EXPECT_NE(transcript.find("Cardiology"), std::string::npos);
  EXPECT_NE(transcript.find("bob (User bob)"), std::string::npos);
  EXPECT_NE(transcript.find("final wording  {edited 1x"), std::string::npos);
  EXPECT_NE(transcript.find("regret this merger remark  {DELETED"), std::string::npos);
  EXPECT_EQ(transcript.find("unrelated"), std::string::npos);
  json edits = json::parse(ReadFile(dir_ / "export" / "edits.json"));
  ASSERT_EQ(edits.size(), 2u);  // every version: the original and the edit
  EXPECT_EQ(edits[0]["body"], "first draft about the merger");
  EXPECT_EQ(json::parse(ReadFile(dir_ / "export" / "attachments.json")), json::array());

  // Audited with the query's shape and counts, never its keywords or any message text.
  bool audited = false;
  for (const auto& record : Audit()) {
    if (record.action != "ediscovery.export") continue;
    audited = true;
    EXPECT_EQ(record.object_id, (*manifest)["export_id"]);
    json details = json::parse(record.details_json);
    EXPECT_EQ(details["messages"], 2);
    EXPECT_EQ(details["keyword_count"], 1);
    EXPECT_EQ(record.details_json.find("merger"), std::string::npos);
  }
  EXPECT_TRUE(audited);
  auto listed = services_->retention.ListExports(officer_);
  ASSERT_TRUE(listed);
  ASSERT_EQ((*listed)["items"].size(), 1u);

  // A second export into a folder that is not empty is refused.
  auto clash = services_->retention.Export(officer_, query, (dir_ / "export").string());
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().problem, "folder_not_empty");
}

// An export of several pages (500 messages each) is written as it is read: every message once,
// in order, the files laid out as whole documents would be, each space's transcript section in
// one piece, and nothing left over beside the files.
TEST_F(RetentionServiceTest, AnExportOfSeveralPagesHoldsEveryMessageOnceWithEachSpaceInOneSection) {
  SpaceId second = MakeSpace(alice_, SpaceKind::kChannel, "Oncology");
  ASSERT_TRUE(services_->spaces.Join(bob_, second));
  constexpr int kMessages = 1'150;
  std::vector<MessageId> ids;
  for (int i = 0; i < kMessages; ++i) {
    ids.push_back(IdOf(Post(bob_, i % 3 == 0 ? second : space_, "note " + std::to_string(i))));
  }
  ASSERT_TRUE(services_->messages.Edit(bob_, ids[700], "note 700, corrected", std::nullopt));

  store::ExportQuery query{.custodian_ids = {bob_.user.id}};
  auto manifest = services_->retention.Export(officer_, query, (dir_ / "big").string());
  ASSERT_TRUE(manifest) << manifest.error().problem << " " << manifest.error().internal_message;
  EXPECT_EQ((*manifest)["counts"]["messages"], kMessages);
  EXPECT_EQ((*manifest)["counts"]["spaces"], 2);
  EXPECT_EQ((*manifest)["counts"]["edits"], 2);
  for (const auto& file : (*manifest)["files"]) {
    std::string bytes = ReadFile(dir_ / "big" / file["name"].get<std::string>());
    EXPECT_EQ(file["sha256"], crypto::Sha256Hex(bytes)) << file["name"];
    EXPECT_EQ(file["bytes"], bytes.size());
  }
  std::set<std::string> present;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "big")) present.insert(entry.path().filename());
  EXPECT_EQ(present, (std::set<std::string>{"messages.json", "transcript.txt", "edits.json", "attachments.json",
                                            "manifest.json"}));

  const std::string text = ReadFile(dir_ / "big" / "messages.json");
  json messages = json::parse(text);
  EXPECT_EQ(messages.dump(2) + "\n", text);  // the layout of the whole document
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(messages[i]["id"], ids[i]) << i;
  const std::string edits = ReadFile(dir_ / "big" / "edits.json");
  EXPECT_EQ(json::parse(edits).dump(2) + "\n", edits);

  const std::string transcript = ReadFile(dir_ / "big" / "transcript.txt");
  EXPECT_NE(transcript.find("Messages: 1150\n"), std::string::npos);
  const std::size_t cardiology = transcript.find("\n== Cardiology");
  const std::size_t oncology = transcript.find("\n== Oncology");
  ASSERT_NE(cardiology, std::string::npos);
  ASSERT_NE(oncology, std::string::npos);
  EXPECT_EQ(transcript.find("\n== Cardiology", cardiology + 1), std::string::npos);
  EXPECT_EQ(transcript.find("\n== Oncology", oncology + 1), std::string::npos);
  // Each message's line once, in its own space's section, in order.
  std::size_t last_in[2] = {0, 0};
  for (int i = 0; i < kMessages; ++i) {
    const std::string body = i == 700 ? "note 700, corrected" : "note " + std::to_string(i);
    const std::size_t at = transcript.find("): " + body + (i == 700 ? "  {edited" : "\n"));
    ASSERT_NE(at, std::string::npos) << body;
    const bool in_second = i % 3 == 0;
    const std::size_t section = in_second ? oncology : cardiology;
    const std::size_t other = in_second ? cardiology : oncology;
    EXPECT_GT(at, section) << body;
    if (other > section) {
      EXPECT_LT(at, other) << body;
    }
    EXPECT_GT(at, last_in[in_second]) << body;
    last_in[in_second] = at;
  }
}

TEST_F(RetentionServiceTest, AnExportThatFailsAnywhereLeavesNothingBehind) {
  for (int i = 0; i < 1'150; ++i) Post(bob_, space_, "note " + std::to_string(i));  // three pages
  store::storetest::FaultInjectionStore faulty(*store_);
  Services services(faulty, bus_, clock_, config_);
  store::ExportQuery query{.custodian_ids = {bob_.user.id}};
  auto entries = [](const std::filesystem::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename());
    return names;
  };

  // Every read the export makes fails in turn, the first to the last page's.
  int failed = 0;
  for (int n = 1;; ++n) {
    const auto dir = dir_ / ("read-" + std::to_string(n));
    faulty.FailNthRead(n);
    auto manifest = services.retention.Export(officer_, query, dir.string());
    faulty.FailNthRead(0);
    if (manifest) {
      EXPECT_EQ((*manifest)["counts"]["messages"], 1'150);
      break;
    }
    ++failed;
    EXPECT_EQ(manifest.error().problem, store::storetest::FaultInjectionStore::kProblem) << n;
    EXPECT_FALSE(std::filesystem::exists(dir)) << "read " << n << " left " << *entries(dir).begin();
    ASSERT_LT(n, 50);
  }
  EXPECT_GE(failed, 3);  // at least the pages of messages

  // The audit record is the last write: refused, the finished files go too. A folder given
  // empty stays, empty.
  const auto given = dir_ / "given";
  std::filesystem::create_directories(given);
  faulty.FailNthWrite(1);
  auto unrecorded = services.retention.Export(officer_, query, given.string());
  ASSERT_FALSE(unrecorded);
  EXPECT_TRUE(std::filesystem::is_directory(given));
  EXPECT_TRUE(entries(given).empty());

  auto listed = services_->retention.ListExports(officer_);
  ASSERT_TRUE(listed);
  EXPECT_EQ((*listed)["items"].size(), 1u);  // the one that succeeded
}

TEST_F(RetentionServiceTest, ExportsUnderTheDataFolderCanBeDownloadedByNameOnly) {
  config_.data_dir = dir_.string();
  Post(bob_, space_, "hello");
  auto manifest = services_->retention.ExportToDataDir(officer_, {});
  ASSERT_TRUE(manifest);
  std::string id = (*manifest)["export_id"];
  auto file = services_->retention.ReadExportFile(officer_, id, "transcript.txt");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->content_type, "text/plain; charset=utf-8");
  auto text = file->file.ReadAll();
  ASSERT_TRUE(text);
  EXPECT_EQ(file->bytes, text->size());
  EXPECT_NE(text->find("hello"), std::string::npos);
  EXPECT_FALSE(services_->retention.ReadExportFile(officer_, id, "../rounds.db"));
  EXPECT_FALSE(services_->retention.ReadExportFile(officer_, "nope", "manifest.json"));
  auto denied = services_->retention.ReadExportFile(alice_, id, "manifest.json");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kForbidden);
}

// The whole export in one ZIP: Info-ZIP's unzip reads back every file as it is in the folder;
// the same export gives the same bytes; the download is on record with the archive's digest. A
// file changed since the export, or the manifest, refuses the archive, and that is on record too.
TEST_F(RetentionServiceTest, AnExportIsArchivedWhole_AsExported_OrNotAtAll) {
  config_.data_dir = dir_.string();
  Post(bob_, space_, "hello from the archive");
  auto manifest = services_->retention.ExportToDataDir(officer_, {});
  ASSERT_TRUE(manifest);
  const std::string id = (*manifest)["export_id"];
  const auto folder = dir_ / "exports" / id;

  auto archive = services_->retention.ArchiveExport(officer_, id);
  ASSERT_TRUE(archive) << archive.error().internal_message;
  EXPECT_EQ(archive->file_name, "export-" + id + ".zip");
  auto bytes = archive->file.ReadAll();
  ASSERT_TRUE(bytes);
  EXPECT_EQ(archive->bytes, bytes->size());
  EXPECT_EQ(archive->sha256, crypto::Sha256Hex(*bytes));
  const auto zip = dir_ / "archive.zip";
  { std::ofstream(zip, std::ios::binary) << *bytes; }
  const auto out = dir_ / "unzipped";
  const std::string command = "LC_ALL=C.UTF-8 unzip -q '" + zip.string() + "' -d '" + out.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const char* names[] = {"messages.json", "transcript.txt", "edits.json", "attachments.json", "manifest.json"};
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  for (const char* name : names) {
    EXPECT_EQ(read(out / ("export-" + id) / name), read(folder / name)) << name;
  }
  EXPECT_NE(read(out / ("export-" + id) / "transcript.txt").find("hello from the archive"), std::string::npos);
  auto again = services_->retention.ArchiveExport(officer_, id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->sha256, archive->sha256);
  auto downloads = AuditOf("ediscovery.download");
  ASSERT_EQ(downloads.size(), 2u);
  const json details = json::parse(downloads[0].details_json);
  EXPECT_EQ(details["sha256"], archive->sha256);
  EXPECT_EQ(details["bytes"], archive->bytes);
  EXPECT_EQ(downloads[0].outcome, AuditOutcome::kSuccess);

  // Nobody else, nothing unknown.
  auto denied = services_->retention.ArchiveExport(alice_, id);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(services_->retention.ArchiveExport(officer_, "nope").error().code, ErrorCode::kNotFound);

  // A line of the transcript changed on disk: refused, named, recorded.
  const std::string transcript = read(folder / "transcript.txt");
  std::string changed = transcript;
  changed.replace(changed.find("hello"), 5, "HELLO");
  { std::ofstream(folder / "transcript.txt", std::ios::binary) << changed; }
  auto altered = services_->retention.ArchiveExport(officer_, id);
  ASSERT_FALSE(altered);
  EXPECT_EQ(altered.error().code, ErrorCode::kConflict);
  EXPECT_EQ(altered.error().problem, "export_altered");
  EXPECT_NE(altered.error().public_message.find("transcript.txt"), std::string::npos);
  downloads = AuditOf("ediscovery.download");
  ASSERT_EQ(downloads.size(), 4u);  // two archives, Alice's denial, this refusal
  EXPECT_EQ(downloads[2].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(downloads.back().outcome, AuditOutcome::kFailure);
  EXPECT_EQ(json::parse(downloads.back().details_json)["altered"], "transcript.txt");
  // ... and a manifest re-written to match the changed file is refused too: the record holds its hash.
  { std::ofstream(folder / "transcript.txt", std::ios::binary) << transcript; }
  std::string listed = read(folder / "manifest.json");
  listed.replace(listed.find("\"bytes\""), 7, "\"bytes\" ");
  { std::ofstream(folder / "manifest.json", std::ios::binary) << listed; }
  altered = services_->retention.ArchiveExport(officer_, id);
  ASSERT_FALSE(altered);
  EXPECT_NE(altered.error().public_message.find("manifest.json"), std::string::npos);
}

// A delivered export's files are removed by a compliance officer: the record stays, listed as
// removed by them, on record; downloads then say so; a second removal conflicts; others may not.
TEST_F(RetentionServiceTest, AnExportsFilesAreRemovedOnceDeliveredAndItsRecordStays) {
  config_.data_dir = dir_.string();
  Post(bob_, space_, "delivered to counsel");
  auto manifest = services_->retention.ExportToDataDir(officer_, {});
  ASSERT_TRUE(manifest);
  const std::string id = (*manifest)["export_id"];
  const auto folder = dir_ / "exports" / id;
  ASSERT_TRUE(std::filesystem::exists(folder / "transcript.txt"));

  auto denied = services_->retention.RemoveExport(alice_, id, Confirmed());
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(std::filesystem::exists(folder / "transcript.txt"));

  auto removed = services_->retention.RemoveExport(officer_, id, Confirmed());
  ASSERT_TRUE(removed) << removed.error().internal_message;
  EXPECT_EQ((*removed)["removed_at"], clock_.NowMillis());
  EXPECT_EQ((*removed)["removed_by"], officer_.user.id);
  EXPECT_EQ((*removed)["removed_by_user"]["username"], "officer");
  EXPECT_FALSE(std::filesystem::exists(folder));
  auto listed = services_->retention.ListExports(officer_);
  ASSERT_TRUE(listed);
  ASSERT_EQ((*listed)["items"].size(), 1u);
  EXPECT_EQ((*listed)["items"][0]["removed_by_user"]["username"], "officer");
  auto records = AuditOf("ediscovery.remove");
  ASSERT_EQ(records.size(), 2u);  // Alice's denial, the removal
  EXPECT_EQ(records[1].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(json::parse(records[1].details_json)["reason"], "removed");

  for (auto attempt : {services_->retention.ReadExportFile(officer_, id, "transcript.txt").error(),
                       services_->retention.ArchiveExport(officer_, id).error(),
                       services_->retention.RemoveExport(officer_, id, Confirmed()).error()}) {
    EXPECT_EQ(attempt.code, ErrorCode::kConflict);
    EXPECT_EQ(attempt.problem, "export_removed");
  }
}

// Exports under the data folder older than export_keep_days lose their files to the expiry, on
// record as the system's; younger ones, and those the command line wrote elsewhere, stay; 0 keeps
// them all. A stop between the recorded removal and the files' removal is finished at start.
TEST_F(RetentionServiceTest, ExportsExpireAfterTheirKeepDaysUnderTheDataFolderOnly) {
  config_.data_dir = dir_.string();
  config_.export_keep_days = 30;
  Post(bob_, space_, "hello");
  auto old_export = services_->retention.ExportToDataDir(officer_, {});
  auto elsewhere = services_->retention.Export(officer_, {}, (dir_ / "case-42").string());
  ASSERT_TRUE(old_export && elsewhere);
  clock_.Advance(20 * kDay);
  auto young = services_->retention.ExportToDataDir(officer_, {});
  ASSERT_TRUE(young);
  const std::string old_id = (*old_export)["export_id"];
  const std::string young_id = (*young)["export_id"];

  EXPECT_TRUE(services_->retention.ExpireExports().empty());  // 20 days: nothing yet
  clock_.Advance(11 * kDay);
  config_.export_keep_days = 0;
  EXPECT_TRUE(services_->retention.ExpireExports().empty());  // 0: kept until removed
  config_.export_keep_days = 30;
  // The list says when each kept export's files go; none for those elsewhere.
  auto listed = services_->retention.ListExports(officer_);
  ASSERT_TRUE(listed);
  std::map<std::string, json> expiry;
  for (const json& item : (*listed)["items"]) expiry[item["id"]] = item["expires_at"];
  EXPECT_EQ(expiry[old_id], (*old_export)["created_at"].get<std::int64_t>() + 30 * kDay);
  EXPECT_EQ(expiry[(*elsewhere)["export_id"]], nullptr);
  EXPECT_EQ(services_->retention.ExpireExports(), std::vector<std::string>{old_id});
  EXPECT_FALSE(std::filesystem::exists(dir_ / "exports" / old_id));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "exports" / young_id / "manifest.json"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "case-42" / "manifest.json"));
  auto records = AuditOf("ediscovery.remove");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].object_id, old_id);
  EXPECT_EQ(records[0].actor_id, 0);
  EXPECT_EQ(json::parse(records[0].details_json)["reason"], "expired");
  EXPECT_TRUE(services_->retention.ExpireExports().empty());
  listed = services_->retention.ListExports(officer_);
  ASSERT_TRUE(listed);
  for (const json& item : (*listed)["items"]) {
    if (item["id"] == old_id) {
      EXPECT_EQ(item["expires_at"], nullptr);  // removed: nothing left to expire
    }
  }

  // The removal on record, the files still there (the process stopped in between): gone at start,
  // and only the export's own files: something else put in its folder keeps the folder.
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) { return tx.MarkExportRemoved(young_id, 0, clock_.NowMillis()); }));
  { std::ofstream(dir_ / "exports" / young_id / "operator-notes.txt") << "kept"; }
  services_->retention.Start();
  services_->retention.Stop();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "exports" / young_id / "manifest.json"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "exports" / young_id / "operator-notes.txt"));
}

// An export the command line wrote elsewhere is archived by the command line only.
TEST_F(RetentionServiceTest, AnExportOutsideTheDataFolderIsArchivedForTheSystemOnly) {
  config_.data_dir = dir_.string();
  Post(bob_, space_, "hello");
  auto manifest = services_->retention.Export(officer_, {}, (dir_ / "elsewhere").string());
  ASSERT_TRUE(manifest);
  const std::string id = (*manifest)["export_id"];
  auto served = services_->retention.ArchiveExport(officer_, id);
  ASSERT_FALSE(served);
  EXPECT_EQ(served.error().code, ErrorCode::kNotFound);
  auto archived = services_->retention.ArchiveExport(Actor::System(), id);
  ASSERT_TRUE(archived) << archived.error().internal_message;
  EXPECT_GT(archived->bytes, 0u);
}

// A process that stopped between writing an export's files and committing its record left
// patient data no audit record covers: the next start removes it, on record, and keeps every
// export that has its record.
TEST_F(RetentionServiceTest, AnExportFolderWithoutItsRecordIsRemovedAtStart) {
  Post(bob_, space_, "hello");
  auto recorded = services_->retention.ExportToDataDir(officer_, {});
  ASSERT_TRUE(recorded) << recorded.error().problem;
  const std::string kept = (*recorded)["export_id"];
  const auto orphan = dir_ / "exports" / "0123456789abcdef01234567";
  std::filesystem::create_directories(orphan);
  { std::ofstream(orphan / "messages.json") << "[{\"body\":\"hello\"}]"; }
  services_->retention.Start();
  services_->retention.Stop();
  EXPECT_FALSE(std::filesystem::exists(orphan));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "exports" / kept / "manifest.json"));
  auto discarded = AuditOf("ediscovery.discard");
  ASSERT_EQ(discarded.size(), 1u);
  EXPECT_EQ(discarded[0].object_id, "0123456789abcdef01234567");
  EXPECT_TRUE(services_->retention.RemoveUnrecordedExports().empty());

  // What is not an API export's folder stays: a command-line export into the same folder (its
  // record has another id), a folder of the operator's, and a link.
  const auto by_cli = dir_ / "exports" / "case-42";
  auto cli = services_->retention.Export(officer_, {}, by_cli.string());
  ASSERT_TRUE(cli) << cli.error().problem;
  const auto operators = dir_ / "exports" / "fedcba9876543210fedcba98-notes";
  std::filesystem::create_directories(operators);
  const auto link = dir_ / "exports" / "abcdefabcdefabcdefabcdef";
  std::filesystem::create_directory_symlink(dir_ / "exports" / kept, link);
  EXPECT_TRUE(services_->retention.RemoveUnrecordedExports().empty());
  EXPECT_TRUE(std::filesystem::exists(by_cli / "manifest.json"));
  EXPECT_TRUE(std::filesystem::exists(operators));
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "exports" / kept / "manifest.json"));
}

TEST_F(RetentionServiceTest, BackgroundJobRunsAtStartAndStopsPromptly) {
  MessageId old_id = IdOf(Post(alice_, space_, "old"));
  clock_.Advance(4 * kYear);
  config_.retention_interval_seconds = 3600;
  services_->retention.Start();
  for (int i = 0; i < 200 && Exists(old_id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(Exists(old_id));
  auto started = std::chrono::steady_clock::now();
  services_->retention.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

// ---- Another process's run ----------------------------------------------------------------------

// `rounds retention run` beside a serving server: while one process runs, the other is refused
// and leaves that run's row alone; once the running process dies (the kernel lets go of its lock)
// the next run closes the row as interrupted and carries on.
TEST_F(RetentionServiceTest, ARunWhileAnotherProcessRunsIsRefusedAndLeavesThatRunOpen) {
  MessageId old_id = IdOf(Post(alice_, space_, "old"));
  clock_.Advance(4 * kYear);
  // The other process's run, as its RunOnce leaves it mid-way: the lock held, its row open.
  auto other = store_->Write([&](store::WriteTx& tx) { return tx.BeginRetentionRun(0, clock_.NowMillis()); });
  ASSERT_TRUE(other) << other.error().internal_message;
  const std::string lock_path = (dir_ / "retention.lock").string();
  int ready[2];
  int never[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(never), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(never[1]);  // the read below ends when the test's end closes the other end
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) _exit(3);
    char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) _exit(4);
    while (::read(never[0], &byte, 1) < 0) {
    }
    _exit(0);
  }
  struct Reap {  // whatever assertion fails, the child does not outlive the test
    pid_t pid;
    ~Reap() {
      if (pid <= 0) return;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reap{child};
  ::close(ready[1]);
  ::close(never[0]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child could not take the lock";

  auto refused = services_->retention.RunOnce(officer_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().problem, "retention_running");
  EXPECT_TRUE(Exists(old_id));
  auto runs = store_->Read([](store::ReadTx& tx) { return tx.ListRetentionRuns(10); });
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u) << "the refused run opened a row";
  EXPECT_FALSE((*runs)[0].finished_at);
  EXPECT_FALSE((*runs)[0].interrupted);

  kill(child, SIGKILL);  // dies mid-run
  waitpid(child, nullptr, 0);
  reap.pid = 0;
  ::close(ready[0]);
  ::close(never[1]);
  RetentionReport resumed = Run();
  EXPECT_EQ(resumed.interrupted_run_ids, std::vector<std::int64_t>{other->run_id});
  EXPECT_EQ(resumed.messages_deleted, 1);
  EXPECT_FALSE(Exists(old_id));
}

// ---- Killed mid-run ---------------------------------------------------------------------------

// Fills the store directly (fast): `expired` messages four years old with an edit and a reaction
// each, then `fresh` ones written now.
std::vector<MessageId> Fill(store::Store& store, SpaceId space, UserId author, UnixMillis now, int expired, int fresh) {
  std::vector<MessageId> ids;
  for (int done = 0; done < expired + fresh;) {
    auto unit = store.Write([&](store::WriteTx& tx) -> Status {
      for (int i = 0; i < 1000 && done < expired + fresh; ++i, ++done) {
        Message m;
        m.space_id = space;
        m.author_id = author;
        m.body = "body of message " + std::to_string(done);
        m.created_at = done < expired ? now - 4 * kYear : now;
        ROUNDS_ASSIGN_OR_RETURN(m.seq, tx.NextSeq(space));
        ROUNDS_ASSIGN_OR_RETURN(m.id, tx.InsertMessage(m));
        ROUNDS_RETURN_IF_ERROR(tx.InsertEvent({space, m.seq, "message.created",
                                               json{{"id", m.id}, {"body", m.body}}.dump(), m.created_at}));
        ROUNDS_RETURN_IF_ERROR(tx.UpdateMessageBody(m.id, "", m.body + " (edited)", m.created_at + 1, author));
        ROUNDS_ASSIGN_OR_RETURN(bool reacted, tx.SetReaction(m.id, author, "👍", true));
        (void)reacted;
        ids.push_back(m.id);
      }
      return Ok();
    });
    EXPECT_TRUE(unit) << unit.error().internal_message;
    if (!unit) break;
  }
  return ids;
}

class RetentionKillTest : public RetentionServiceTest {
 protected:
  bool SyncFull() const override { return true; }  // what a crash must not undo, it does not
};

TEST_F(RetentionKillTest, APurgeKilledMidRunResumesWithWholeBatchesOnly) {
  constexpr int kExpired = 12000;
  constexpr int kFresh = 1000;
  const UnixMillis now = clock_.NowMillis();
  std::vector<MessageId> ids = Fill(*store_, space_, bob_.user.id, now, kExpired, kFresh);
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kExpired + kFresh));
  const std::string db_path = (dir_ / "rounds.db").string();
  services_.reset();
  store_->Close();
  store_.reset();

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child purges the same database with batches of 250 until killed.
    auto opened = store::OpenSqliteStore({.path = db_path, .read_connections = 1, .sync_full = true});
    if (!opened) _exit(3);
    Config config = config_;
    config.retention_batch_size = 250;
    ManualClock clock(now);
    bus::InProcessBus bus;
    Services services(**opened, bus, clock, config);
    auto report = services.retention.RunOnce(Actor::System());
    _exit(report ? 0 : 4);
  }
  // Kill it once a few batches have committed, most likely in the middle of the next one.
  auto observer = store::OpenSqliteStore({.path = db_path, .read_connections = 1, .sync_full = true});
  ASSERT_TRUE(observer);
  std::int64_t batches_seen = 0;
  for (int i = 0; i < 3000 && batches_seen < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto runs = (*observer)->Read([](store::ReadTx& tx) { return tx.ListRetentionRuns(1); });
    if (runs && !runs->empty()) batches_seen = (*runs)[0].batches;
  }
  kill(child, SIGKILL);
  std::cerr << "killed after " << batches_seen << " committed batches\n";
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child finished before it was killed; raise kExpired";
  (*observer)->Close();
  observer->reset();

  store_ = std::move(*store::OpenSqliteStore({.path = db_path, .read_connections = 2, .sync_full = true}));
  services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);

  // Whole batches only: every expired message is either entirely there (text, edit history,
  // reaction, its event's content) or entirely gone, and the gone ones are exactly the ids the
  // committed batches audited.
  std::set<MessageId> audited_gone;
  for (const auto& record : Audit()) {
    if (record.action != "retention.purge") continue;
    json details = json::parse(record.details_json);  // kept alive for the loop below
    for (MessageId id : details["deleted_ids"]) audited_gone.insert(id);
  }
  EXPECT_GE(audited_gone.size(), 250u);
  EXPECT_LT(audited_gone.size(), static_cast<std::size_t>(kExpired));
  EXPECT_EQ(audited_gone.size() % 250, 0u);
  auto check = store_->Read([&](store::ReadTx& tx) -> Status {
    auto events = tx.ListEvents(space_, 0, 100000);
    if (!events) return tl::unexpected(events.error());
    std::map<MessageId, std::string> event_type;
    for (const auto& e : *events) {
      json payload = json::parse(e.payload_json);
      if (payload.contains("id") && e.type != "member.joined") event_type[payload["id"].get<MessageId>()] = e.type;
    }
    for (MessageId id : ids) {
      ROUNDS_ASSIGN_OR_RETURN(auto m, tx.FindMessage(id, 0));
      ROUNDS_ASSIGN_OR_RETURN(auto edits, tx.ListEdits(id));
      bool gone = audited_gone.count(id) > 0;
      EXPECT_EQ(!m.has_value(), gone) << id;
      if (gone) {
        EXPECT_TRUE(edits.empty()) << id;
        EXPECT_EQ(event_type[id], "message.purged") << id;
      } else {
        EXPECT_EQ(edits.size(), 2u) << id;  // the original and the edit
        EXPECT_EQ(event_type[id], "message.created") << id;
        EXPECT_TRUE(m && m->reactions.size() == 1) << id;
      }
    }
    return Ok();
  });
  ASSERT_TRUE(check);

  // Resume: the killed run is closed as interrupted and everything past retention goes.
  auto resume_started = std::chrono::steady_clock::now();
  RetentionReport resumed = Run();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - resume_started).count();
  std::cerr << "resumed purge: " << resumed.messages_deleted << " messages in " << seconds << " s ("
            << static_cast<int>(resumed.messages_deleted / seconds) << " messages/s, batches of "
            << config_.retention_batch_size << ", synchronous=FULL)\n";
  EXPECT_EQ(resumed.interrupted_run_ids.size(), 1u);
  EXPECT_EQ(resumed.messages_deleted, static_cast<std::int64_t>(kExpired - audited_gone.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(Exists(ids[i]), i >= static_cast<std::size_t>(kExpired)) << ids[i];
  }
  bool resume_audited = false;
  for (const auto& record : Audit()) resume_audited |= record.action == "retention.resume";
  EXPECT_TRUE(resume_audited);
}

}  // namespace
}  // namespace rounds::app
