// Governance in the write path: the PHI rule of each template (allow, warn, hold, block,
// redact), pre-moderation, the moderation queue with reports, actions and appeals, restricted
// events, template versions and assignment with a dry run, and the audit records each writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "app/service_test_support.hpp"
#include "governance/audit/audit_chain.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::Parsed;
using testing::ServiceTest;

// Reserved-range identifiers only: the 987-65-432x SSN block and 555-01xx phone numbers.
constexpr const char* kSsnText = "Patient SSN 987-65-4321 needs review";
constexpr const char* kPhoneText = "call the family at 617-555-0123 today";

class GovernanceTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    owner_ = MakeUser("owner");
    member_ = MakeUser("member");
    other_ = MakeUser("other");
    compliance_ = MakeUser("privacy");
    UserPatch patch;
    patch.is_compliance = true;
    ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), compliance_.user.id, patch));
    compliance_.user.is_compliance = true;
  }

  SpaceId SpaceWith(const std::string& template_key, const std::string& name) {
    NewSpace s{SpaceKind::kCommunity, name, "", Visibility::kPublic, JoinPolicy::kOpen, template_key};
    auto created = services_->spaces.Create(owner_, s);
    EXPECT_TRUE(created) << created.error().problem;
    SpaceId id = created ? (*created)["id"].get<SpaceId>() : 0;
    // Added by the owner: clinical teams and patient forums are not joined by walking in.
    EXPECT_TRUE(services_->spaces.AddMember(owner_, id, member_.user.id, MemberRole::kMember));
    EXPECT_TRUE(services_->spaces.AddMember(owner_, id, other_.user.id, MemberRole::kMember));
    return id;
  }

  Result<PostResult> Try(const Actor& a, SpaceId space, const std::string& body, bool confirm = false) {
    Draft d;
    d.body = body;
    d.confirm_phi = confirm;
    return services_->messages.Post(a, space, d);
  }

  std::vector<AuditRecord> Audit() {
    auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100000); });
    EXPECT_TRUE(records);
    return records ? *records : std::vector<AuditRecord>{};
  }

  json Items(const Actor& a, SpaceId space) {
    auto listed = services_->messages.List(a, space, {});
    EXPECT_TRUE(listed) << listed.error().problem;
    return listed ? Parsed(listed)["items"] : json::array();
  }

  // A blocked post by member_ in `forum`: nothing stored, one refusal on the trail, without the PHI.
  void ExpectOneRefusalStoringNothing(SpaceId forum) {
    EXPECT_TRUE(Items(owner_, forum).empty());
    auto refusals = AuditOf("message.phi_refuse");
    ASSERT_EQ(refusals.size(), 1u);
    EXPECT_EQ(refusals[0].outcome, AuditOutcome::kDenied);
    EXPECT_EQ(refusals[0].actor_id, member_.user.id);
    EXPECT_EQ(refusals[0].details_json.find("987"), std::string::npos);
  }
  // A custom template's document: internal-community's with `changes` applied.
  static json TemplateDoc(const std::string& key, const json& changes) {
    json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
    doc["key"] = key;
    doc["name"] = "Test " + key;
    for (auto& [k, v] : changes.items()) doc[k] = v;
    return doc;
  }
  // A custom template (TemplateDoc), created by the compliance officer.
  void MakeTemplate(const std::string& key, const json& changes) {
    auto created = services_->governance.CreateTemplate(compliance_, TemplateDoc(key, changes));
    ASSERT_TRUE(created) << created.error().problem << " " << created.error().public_message;
  }

  // A space under a new template `key` (`changes` applied) with the patient `pat` a member, once
  // Zanele Okonkwo-Barros is in the patient index.
  SpaceId CircleWithPatient(const std::string& key, const json& changes, Actor& patient) {
    EXPECT_TRUE(services_->governance.ImportPatients(compliance_, "mrn,first,last\nA7654321,Zanele,Okonkwo-Barros\n"));
    patient = MakePatient("pat");
    MakeTemplate(key, changes);
    const SpaceId circle = SpaceWith(key, "Circle " + key);
    EXPECT_TRUE(services_->spaces.AddMember(owner_, circle, patient.user.id, MemberRole::kMember));
    return circle;
  }

  Actor owner_, member_, other_, compliance_;
};

TEST_F(GovernanceTest, BlockRefusesWithTypesAndSpansAndStoresNothing) {
  SpaceId forum = SpaceWith("patient-forum", "Heart health forum");
  auto refused = Try(member_, forum, kSsnText);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPolicyDenied);
  EXPECT_EQ(refused.error().problem, "phi_blocked");
  json ext = json::parse(refused.error().extensions_json);
  ASSERT_FALSE(ext["findings"].empty());
  bool ssn = false;
  for (const auto& f : ext["findings"]) {
    if (f["type"] == "ssn") {
      ssn = true;
      EXPECT_EQ(f["field"], "body");
      EXPECT_EQ(std::string(kSsnText).substr(f["begin"].get<std::size_t>(),
                                             f["end"].get<std::size_t>() - f["begin"].get<std::size_t>()),
                "987-65-4321");
    }
  }
  EXPECT_TRUE(ssn) << ext.dump();
  EXPECT_EQ(ext.dump().find("987-65"), std::string::npos);  // spans, never the text
  ExpectOneRefusalStoringNothing(forum);
}

// PostAsync, the server's path for posts it takes on an I/O thread: the same checks, rule, unit
// and audit as Post. Its caller's thread is never held: the answer comes through `defer`, whose
// work the caller runs (here the test's thread, as an I/O thread would), never on the writer.
TEST_F(GovernanceTest, AnAsynchronousPostIsGovernedLikeAPost) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> deferred;
  const auto defer = [&](std::function<void()> work) {
    std::lock_guard lock(mu);
    deferred.push_back(std::move(work));
    cv.notify_all();
  };
  const std::thread::id caller = std::this_thread::get_id();
  // Posts, then runs deferred work on this thread until the answer comes.
  const auto post = [&](const Actor& a, SpaceId space, const std::string& body) {
    std::optional<Result<PostResult>> answer;
    Draft d;
    d.body = body;
    services_->messages.PostAsync(a, space, d, defer, [&](Result<PostResult> r) {
      EXPECT_EQ(std::this_thread::get_id(), caller) << "answered through defer, not on the writer";
      answer.emplace(std::move(r));
    });
    while (!answer) {
      std::unique_lock lock(mu);
      EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !deferred.empty(); }));
      if (deferred.empty()) break;
      std::function<void()> work = std::move(deferred.front());
      deferred.pop_front();
      lock.unlock();
      work();
    }
    return answer.value_or(Result<PostResult>(tl::unexpected(Error{})));
  };

  // Blocked: nothing stored, the refusal on the trail before the answer.
  SpaceId forum = SpaceWith("patient-forum", "Async forum");
  auto refused = post(member_, forum, kSsnText);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "phi_blocked");
  ExpectOneRefusalStoringNothing(forum);

  // Refused before the unit: answered at once on the caller's thread.
  auto blank = post(member_, forum, "   ");
  ASSERT_FALSE(blank);
  EXPECT_EQ(blank.error().problem, "empty_message");
  // Refused inside the unit: not a member.
  SpaceId clinical = SpaceWith("clinical-team", "Async ward");
  Actor stranger = MakeUser("stranger");
  auto outside = post(stranger, clinical, "hello");
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, ErrorCode::kForbidden);

  // Allowed: stored, published to the members, audited in a PHI-bearing space, the same document
  // Post returns.
  ClearPublished();
  auto posted = post(member_, clinical, kPhoneText);
  ASSERT_TRUE(posted) << posted.error().problem;
  EXPECT_TRUE(posted->created);
  json items = Items(owner_, clinical);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], posted->Message());
  bool published = false;
  for (const auto& e : Published()) {
    if (e.type == "message.created" && e.space_id == clinical) {
      published = true;
      EXPECT_EQ(json::parse(*e.frame)["data"], posted->Message());
    }
  }
  EXPECT_TRUE(published);
  auto created = AuditOf("message.create");
  ASSERT_FALSE(created.empty());
  EXPECT_EQ(created.back().object_id, std::to_string(posted->Message()["id"].get<MessageId>()));
  auto sync = Try(member_, clinical, "and a plain post");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->Message()["seq"], posted->Message()["seq"].get<Seq>() + 1);
}

TEST_F(GovernanceTest, WarnNeedsConfirmationThenStoresWithTheTypes) {
  SpaceId community = SpaceWith("internal-community", "Unit 4 huddle");
  auto warned = Try(member_, community, kPhoneText);
  ASSERT_FALSE(warned);
  EXPECT_EQ(warned.error().problem, "phi_warning");
  EXPECT_TRUE(Items(owner_, community).empty());

  auto confirmed = Try(member_, community, kPhoneText, true);
  ASSERT_TRUE(confirmed) << confirmed.error().problem;
  EXPECT_EQ(confirmed->Message()["body"], kPhoneText);
  EXPECT_EQ(confirmed->Message()["state"], "published");
  EXPECT_EQ(confirmed->Message()["phi_types"], json::array({"phone"}));
  EXPECT_EQ(AuditOf("message.phi_confirm").size(), 1u);

  // Text without findings needs no confirmation.
  EXPECT_TRUE(Try(member_, community, "handover at 7, all beds staffed"));
}

TEST_F(GovernanceTest, RedactReplacesSpansBeforeAnythingIsStored) {
  MakeTemplate("redacting", json{{"phi", "redact"}});
  SpaceId space = SpaceWith("redacting", "Redacting space");
  auto posted = Try(member_, space, kSsnText);
  ASSERT_TRUE(posted) << posted.error().problem;
  std::string body = posted->Message()["body"];
  EXPECT_NE(body.find("[REDACTED:SSN]"), std::string::npos) << body;
  EXPECT_EQ(body.find("987-65-4321"), std::string::npos);
  // Not in the edit history, the event log or search either.
  auto history = services_->messages.History(member_, posted->Message()["id"]);
  ASSERT_TRUE(history);
  EXPECT_EQ(history->dump().find("987-65-4321"), std::string::npos);
  auto events = store_->Read([&](store::ReadTx& tx) { return tx.ListEvents(space, 0, 100); });
  ASSERT_TRUE(events);
  for (const auto& e : *events) EXPECT_EQ(e.payload_json.find("987-65-4321"), std::string::npos);
  auto found = services_->search.Search(owner_, "4321", 20, 0);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->dump().find("987-65-4321"), std::string::npos);
}

TEST_F(GovernanceTest, HoldShowsThePostToItsAuthorAndModeratorsUntilApproved) {
  MakeTemplate("holding", json{{"phi", "hold"}});
  SpaceId space = SpaceWith("holding", "Holding space");
  ClearPublished();
  auto posted = Try(member_, space, kPhoneText);
  ASSERT_TRUE(posted) << posted.error().problem;
  EXPECT_EQ(posted->Message()["state"], "held");
  EXPECT_EQ(posted->Message()["hold_reason"], "phi");
  MessageId id = posted->Message()["id"];

  EXPECT_EQ(Items(member_, space).size(), 1u);  // the author
  EXPECT_EQ(Items(owner_, space).size(), 1u);   // a moderator (owner)
  EXPECT_TRUE(Items(other_, space).empty());    // everyone else
  EXPECT_FALSE(services_->messages.Get(other_, id));
  EXPECT_FALSE(services_->messages.React(other_, id, "👍", true));

  // Live: the real event to the author and moderators, a placeholder with the same seq to others.
  bool real_to_others = false, placeholder_to_other = false, real_to_owner = false;
  for (const auto& e : Published()) {
    if (e.space_id != space) continue;
    auto& r = *e.recipients;
    bool to_other = std::find(r.begin(), r.end(), other_.user.id) != r.end();
    bool to_owner = std::find(r.begin(), r.end(), owner_.user.id) != r.end();
    if (e.type == "message.held" && to_other) real_to_others = true;
    if (e.type == "message.held" && to_owner) real_to_owner = true;
    if (e.type == "restricted" && to_other) {
      placeholder_to_other = true;
      EXPECT_EQ(e.frame->find("555"), std::string::npos);
    }
  }
  EXPECT_FALSE(real_to_others);
  EXPECT_TRUE(real_to_owner);
  EXPECT_TRUE(placeholder_to_other);
  // Replay: the same split.
  auto replay = services_->events.Replay(other_, {{space, 0}});
  ASSERT_TRUE(replay);
  for (const auto& e : *replay) EXPECT_EQ(e.frame->find("555-0123"), std::string::npos);

  auto queue = services_->governance.Queue(owner_, space, 0, 50);
  ASSERT_TRUE(queue);
  ASSERT_EQ((*queue)["items"].size(), 1u);
  EXPECT_EQ((*queue)["items"][0]["hold_reason"], "phi");
  EXPECT_FALSE(services_->governance.Queue(other_, space, 0, 50));  // not a moderator

  ClearPublished();
  auto approved = services_->governance.Moderate(owner_, id, {ModerationKind::kApprove, "family number, ok", {}});
  ASSERT_TRUE(approved) << approved.error().problem;
  EXPECT_EQ(Items(other_, space).size(), 1u);
  bool published_to_other = false, told_author = false;
  for (const auto& e : Published()) {
    auto& r = *e.recipients;
    if (e.type == "message.published" && std::find(r.begin(), r.end(), other_.user.id) != r.end()) published_to_other = true;
    if (e.type == "moderation.action" && r == std::vector<UserId>{member_.user.id}) told_author = true;
  }
  EXPECT_TRUE(published_to_other);
  EXPECT_TRUE(told_author);
  EXPECT_TRUE((*services_->governance.Queue(owner_, space, 0, 50))["items"].empty());
  EXPECT_EQ(AuditOf("message.hold").size(), 1u);
  EXPECT_EQ(AuditOf("moderation.approve").size(), 1u);
}

TEST_F(GovernanceTest, PreModerationHoldsMembersButNotModerators) {
  SpaceId forum = SpaceWith("patient-forum", "Knee surgery recovery");
  auto held = Try(member_, forum, "Day 3 after surgery, walking with a frame");
  ASSERT_TRUE(held) << held.error().problem;
  EXPECT_EQ(held->Message()["state"], "held");
  EXPECT_EQ(held->Message()["hold_reason"], "pre_moderation");
  auto own = Try(owner_, forum, "Welcome! Be kind.");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->Message()["state"], "published");
  EXPECT_EQ(Items(other_, forum).size(), 1u);
}

TEST_F(GovernanceTest, ReportsHideAppealAndReversal) {
  SpaceId space = SpaceWith("clinical-team", "Ward 7");
  auto posted = Try(member_, space, "this rota is a joke");
  ASSERT_TRUE(posted);
  MessageId id = posted->Message()["id"];
  ASSERT_TRUE(services_->governance.Report(other_, id, "rude"));
  auto again = services_->governance.Report(other_, id, "rude");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "already_reported");
  EXPECT_FALSE(services_->governance.Report(member_, id, "own"));
  auto queue = services_->governance.Queue(owner_, space, 0, 50);
  ASSERT_TRUE(queue);
  ASSERT_EQ((*queue)["items"].size(), 1u);
  EXPECT_EQ((*queue)["items"][0]["reports"].size(), 1u);
  // Compliance officers see every space's queue.
  EXPECT_EQ((*services_->governance.Queue(compliance_, std::nullopt, 0, 50))["items"].size(), 1u);

  // A member may not moderate; the refusal is audited.
  auto denied = services_->governance.Moderate(other_, id, {ModerationKind::kHide, "no", {}});
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().problem, "moderator_required");
  auto denials = AuditOf("moderation.hide");
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0].outcome, AuditOutcome::kDenied);

  auto hidden = services_->governance.Moderate(owner_, id, {ModerationKind::kHide, "tone", {}});
  ASSERT_TRUE(hidden) << hidden.error().problem;
  EXPECT_TRUE(Items(other_, space).empty());
  EXPECT_TRUE((*services_->governance.Queue(owner_, space, 0, 50))["items"].empty());  // reports resolved
  ModerationActionId action = (*hidden)["id"];

  auto mine = services_->governance.MyActions(member_);
  ASSERT_TRUE(mine);
  ASSERT_EQ((*mine)["items"].size(), 1u);
  EXPECT_EQ((*mine)["items"][0]["reason"], "tone");
  EXPECT_FALSE((*mine)["items"][0].contains("moderator_id"));

  EXPECT_FALSE(services_->governance.Appeal(other_, action, "not yours"));
  ASSERT_TRUE(services_->governance.Appeal(member_, action, "it was a joke among colleagues"));
  auto twice = services_->governance.Appeal(member_, action, "again");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().problem, "already_appealed");

  // The moderator who acted does not judge the appeal; a compliance officer does.
  EXPECT_FALSE(services_->governance.DecideAppeal(owner_, action, AppealOutcome::kReversed, "fine"));
  auto pending = services_->governance.ListActions(compliance_, std::nullopt, true, 0, 50);
  ASSERT_TRUE(pending);
  EXPECT_EQ((*pending)["items"].size(), 1u);
  // Across spaces, a moderator sees the appeals of the spaces they moderate, and no one else's.
  const SpaceId elsewhere = SpaceWith("internal-community", "Elsewhere");
  auto elsewhere_post = Try(other_, elsewhere, "a second post");
  ASSERT_TRUE(elsewhere_post);
  auto elsewhere_hidden =
      services_->governance.Moderate(owner_, elsewhere_post->Message()["id"], {ModerationKind::kHide, "off topic", {}});
  ASSERT_TRUE(elsewhere_hidden);
  ASSERT_TRUE(services_->governance.Appeal(other_, (*elsewhere_hidden)["id"], "it was on topic"));
  auto owners = services_->governance.ListActions(owner_, std::nullopt, true, 0, 50);
  ASSERT_TRUE(owners) << owners.error().problem;
  EXPECT_EQ((*owners)["items"].size(), 2u);
  ASSERT_TRUE(services_->spaces.SetRole(owner_, elsewhere, member_.user.id, MemberRole::kModerator));
  auto members = services_->governance.ListActions(member_, std::nullopt, true, 0, 50);
  ASSERT_TRUE(members) << members.error().problem;
  ASSERT_EQ((*members)["items"].size(), 1u) << "only the space member_ moderates";
  EXPECT_EQ((*members)["items"][0]["space_id"], elsewhere);
  auto none = services_->governance.ListActions(other_, std::nullopt, true, 0, 50);
  ASSERT_TRUE(none);
  EXPECT_TRUE((*none)["items"].empty()) << "other_ moderates nothing";
  auto decided = services_->governance.DecideAppeal(compliance_, action, AppealOutcome::kReversed, "context given");
  ASSERT_TRUE(decided) << decided.error().problem;
  EXPECT_EQ((*decided)["appeal"]["outcome"], "reversed");
  EXPECT_EQ(Items(other_, space).size(), 1u);  // back
}

// A post held or taken down under one rule is published only if the template in force when it
// would go live lets it: after the space moved to blocking PHI, approving a held post with PHI
// or restoring a hidden one on appeal is refused with the findings, and the post stays unseen.
TEST_F(GovernanceTest, APostGoesLiveOnlyUnderTheRuleInForceThen) {
  MakeTemplate("holding", json{{"phi", "hold"}});
  SpaceId space = SpaceWith("holding", "Holding space");
  auto held = Try(member_, space, kSsnText);
  ASSERT_TRUE(held);
  ASSERT_EQ(held->Message()["state"], "held");
  auto clean = Try(member_, space, "all beds cleaned");
  ASSERT_TRUE(clean);
  ASSERT_TRUE(services_->messages.Edit(member_, clean->Message()["id"], "bed 4 cleaned", std::nullopt));
  auto hidden = services_->governance.Moderate(owner_, clean->Message()["id"], {ModerationKind::kHide, "tone", {}});
  ASSERT_TRUE(hidden) << hidden.error().problem;
  ASSERT_TRUE(services_->governance.Appeal(member_, (*hidden)["id"], "it was fine"));
  // A phone number approved under the hold rule, then hidden and appealed.
  auto phone = Try(member_, space, kPhoneText);
  ASSERT_TRUE(phone);
  ASSERT_TRUE(services_->governance.Moderate(owner_, phone->Message()["id"], {ModerationKind::kApprove, "family", {}}));
  auto phone_hidden = services_->governance.Moderate(owner_, phone->Message()["id"], {ModerationKind::kHide, "PHI", {}});
  ASSERT_TRUE(phone_hidden);
  ASSERT_TRUE(services_->governance.Appeal(member_, (*phone_hidden)["id"], "family asked"));

  json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
  doc["key"] = "holding";
  doc["name"] = "Test holding";
  doc["phi"] = "block";
  doc["version"] = 2;
  ASSERT_TRUE(services_->governance.NewVersion(compliance_, "holding", doc));
  ASSERT_TRUE(services_->governance.AssignTemplate(compliance_, space, "holding", 2, "no PHI here any more"));

  auto approved = services_->governance.Moderate(owner_, held->Message()["id"], {ModerationKind::kApprove, "ok", {}});
  ASSERT_FALSE(approved);
  EXPECT_EQ(approved.error().problem, "phi_blocked");
  auto refused = AuditOf("moderation.approve");
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused.back().outcome, AuditOutcome::kDenied);
  EXPECT_EQ(refused.back().reason, "phi_blocked");
  EXPECT_NE(approved.error().extensions_json.find("\"ssn\""), std::string::npos);
  EXPECT_TRUE(Items(other_, space).empty());
  // Removing it is still the moderator's to do.
  ASSERT_TRUE(services_->governance.Moderate(owner_, held->Message()["id"], {ModerationKind::kRemove, "PHI", {}}));

  auto restored = services_->governance.DecideAppeal(compliance_, (*phone_hidden)["id"], AppealOutcome::kReversed, "ok");
  ASSERT_FALSE(restored);
  EXPECT_EQ(restored.error().problem, "phi_blocked");
  EXPECT_TRUE(Items(other_, space).empty());
  // The hidden post holds no PHI: restored on appeal as before.
  auto reversed = services_->governance.DecideAppeal(compliance_, (*hidden)["id"], AppealOutcome::kReversed, "fine");
  ASSERT_TRUE(reversed) << reversed.error().problem;
  EXPECT_EQ(Items(other_, space).size(), 1u);
}

// Only its author deletes a message: a moderator takes someone else's down with a reason, which
// its author is told of and may appeal. A delete did neither and destroyed the text.
TEST_F(GovernanceTest, ModeratorsRemoveOthersMessagesWithAReasonRatherThanDeleteThem) {
  MakeTemplate("premoderated", json{{"phi", "block"}, {"moderation", "pre-moderation"}});
  SpaceId space = SpaceWith("premoderated", "Social");
  auto held = Try(member_, space, "posted for review");
  ASSERT_TRUE(held);
  ASSERT_EQ(held->Message()["state"], "held");
  const MessageId id = held->Message()["id"];
  for (const Actor* who : {&owner_, &compliance_}) {
    auto deleted = services_->messages.Delete(*who, id);
    ASSERT_FALSE(deleted);
    EXPECT_EQ(deleted.error().code, ErrorCode::kForbidden);
  }
  EXPECT_EQ(services_->messages.Delete(owner_, id).error().problem, "moderate_instead");
  ASSERT_TRUE(services_->governance.Moderate(owner_, id, {ModerationKind::kApprove, "fine", {}}));
  EXPECT_EQ(services_->messages.Delete(other_, id).error().problem, "author_only");
  EXPECT_EQ(services_->messages.Delete(owner_, id).error().problem, "moderate_instead");
  // Removed with a reason: on the author's record, and open to one appeal.
  auto removed = services_->governance.Moderate(owner_, id, {ModerationKind::kRemove, "off topic", {}});
  ASSERT_TRUE(removed) << removed.error().problem;
  auto mine = services_->governance.MyActions(member_);
  ASSERT_TRUE(mine);
  const json& items = (*mine)["items"];
  EXPECT_TRUE(std::any_of(items.begin(), items.end(), [](const json& a) {
    return a["action"] == "remove" && a["reason"] == "off topic";
  })) << items;
  EXPECT_TRUE(services_->governance.Appeal(member_, (*removed)["id"], "it was on topic"));
  // Its author still deletes their own.
  auto own = Try(member_, space, "mine to take back");
  ASSERT_TRUE(own);
  EXPECT_TRUE(services_->messages.Delete(member_, own->Message()["id"]));
}

// Redaction takes the whole span: a mention inside it ("…/@other" in a profile URL) is gone
// with it, and no one is told of a mention the stored text does not hold.
TEST_F(GovernanceTest, AMentionInsideARedactedSpanMentionsNoOne) {
  MakeTemplate("redacting", json{{"phi", "redact"}});
  SpaceId space = SpaceWith("redacting", "Redacting space");
  auto posted = Try(member_, space, "her profile is https://social.example.com/@other and @other knows");
  ASSERT_TRUE(posted) << posted.error().problem;
  const std::string body = posted->Message()["body"];
  ASSERT_NE(body.find("[REDACTED:URL]"), std::string::npos) << body;
  EXPECT_EQ(posted->Message()["mentions"], json::array({other_.user.id})) << "the mention outside the URL counts";
  auto hidden = Try(member_, space, "her profile is https://social.example.com/@other");
  ASSERT_TRUE(hidden) << hidden.error().problem;
  EXPECT_EQ(hidden->Message()["mentions"], json::array()) << hidden->Message().dump();
}

TEST_F(GovernanceTest, SuspensionStopsPostingUntilLifted) {
  SpaceId space = SpaceWith("clinical-team", "Ward 9");
  auto posted = Try(member_, space, "spam spam spam");
  ASSERT_TRUE(posted);
  auto suspended = services_->governance.Moderate(owner_, posted->Message()["id"],
                                                  {ModerationKind::kSuspend, "spam", 1});
  ASSERT_TRUE(suspended) << suspended.error().problem;
  auto refused = Try(member_, space, "more");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "suspended");
  clock_.Advance(25LL * 60 * 60 * 1000);
  EXPECT_TRUE(Try(member_, space, "sorry"));
}

TEST_F(GovernanceTest, TemplatesAreVersionedAssignedAndDryRun) {
  EXPECT_FALSE(services_->governance.ListTemplates(owner_));  // compliance only
  auto listed = services_->governance.ListTemplates(compliance_);
  ASSERT_TRUE(listed);
  EXPECT_GE((*listed)["items"].size(), 5u);

  SpaceId space = SpaceWith("internal-community", "Pharmacy");
  ASSERT_TRUE(Try(member_, space, kPhoneText, true));
  ASSERT_TRUE(Try(member_, space, "inventory count friday"));

  // A new version of a built-in: block PHI from now on.
  json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
  doc["phi"] = "block";
  doc["version"] = 2;
  auto v2 = services_->governance.NewVersion(compliance_, "internal-community", doc);
  ASSERT_TRUE(v2) << v2.error().problem;
  EXPECT_EQ((*v2)["version"], 2);
  auto diff = services_->governance.DiffTemplate(compliance_, "internal-community", 1, 2);
  ASSERT_TRUE(diff);
  ASSERT_EQ((*diff)["changes"].size(), 1u);
  EXPECT_EQ((*diff)["changes"][0]["path"], "/phi");
  EXPECT_EQ((*diff)["changes"][0]["from"], "warn");
  EXPECT_EQ((*diff)["changes"][0]["to"], "block");

  // The space stays on version 1 until assigned.
  EXPECT_EQ((*services_->spaces.Get(member_, space))["template"]["version"], 1);
  auto dry = services_->governance.DryRun(compliance_, space, "internal-community", 2, 50);
  ASSERT_TRUE(dry) << dry.error().problem;
  EXPECT_EQ((*dry)["messages_checked"], 2);
  EXPECT_EQ((*dry)["blocked"], 1);
  EXPECT_EQ((*dry)["allowed"], 1);
  EXPECT_EQ(Items(owner_, space).size(), 2u);  // a dry run changes nothing

  EXPECT_FALSE(services_->governance.AssignTemplate(owner_, space, "internal-community", 2, "owners cannot"));
  auto assigned = services_->governance.AssignTemplate(compliance_, space, "internal-community", 2, "PHI audit finding");
  ASSERT_TRUE(assigned) << assigned.error().problem;
  EXPECT_EQ((*services_->spaces.Get(member_, space))["template"]["version"], 2);
  // Each version names the spaces under it.
  auto names = [&](int version) {
    auto got = services_->governance.GetTemplate(compliance_, "internal-community", version);
    EXPECT_TRUE(got);
    std::vector<std::string> out;
    for (const auto& s : (*got)["spaces"]) out.push_back(s["name"]);
    EXPECT_EQ((*got)["space_count"], out.size());
    return out;
  };
  EXPECT_EQ(names(2), std::vector<std::string>{"Pharmacy"});
  const auto on_v1 = names(1);
  EXPECT_EQ(std::count(on_v1.begin(), on_v1.end(), "Pharmacy"), 0);
  auto refused = Try(member_, space, kPhoneText, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "phi_blocked");
  auto records = AuditOf("template.assign");
  ASSERT_EQ(records.size(), 2u) << "the owner's refusal, then the officer's assignment";
  EXPECT_EQ(records[0].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(records[0].actor_id, owner_.user.id);
  EXPECT_EQ(records[1].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(records[1].reason, "PHI audit finding");

  // Invalid documents are refused with their paths; duplicates with a conflict.
  json bad = doc;
  bad["phi"] = "sometimes";
  bad["colour"] = "blue";
  auto invalid = services_->governance.NewVersion(compliance_, "internal-community", bad);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().problem, "invalid_template");
  json issues = json::parse(invalid.error().extensions_json)["issues"];
  std::set<std::string> paths;
  for (const auto& i : issues) paths.insert(i["path"]);
  EXPECT_TRUE(paths.contains("/phi"));
  EXPECT_TRUE(paths.contains("/colour"));
  doc["version"] = 1;
  auto dup = services_->governance.CreateTemplate(compliance_, doc);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().problem, "template_exists");
  auto clone = services_->governance.CloneTemplate(compliance_, "internal-community", "pharmacy-community", "Pharmacy");
  ASSERT_TRUE(clone) << clone.error().problem;
  EXPECT_EQ((*clone)["document"]["phi"], "block");  // from the latest version
}

// The issues of a refused template document, as {path, code} pairs.
std::set<std::pair<std::string, std::string>> IssuesOf(const Result<json>& refused) {
  if (refused) return {};
  if (refused.error().problem != "invalid_template") return {{"", refused.error().problem}};
  std::set<std::pair<std::string, std::string>> out;
  const json problem = json::parse(refused.error().extensions_json);
  for (const auto& i : problem["issues"]) out.insert({i["path"].get<std::string>(), i["code"].get<std::string>()});
  return out;
}

TEST_F(GovernanceTest, ADocumentNamesOnlyTheKeyAndVersionItIsStoredAs) {
  json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
  doc["key"] = "ward-rules";
  using Issues = std::set<std::pair<std::string, std::string>>;
  // What validate refuses, creating refuses the same way.
  for (const auto& [version, code] : std::vector<std::pair<json, std::string>>{{0, "invalid_value"}, {"banana", "invalid_type"}}) {
    doc["version"] = version;
    EXPECT_EQ(IssuesOf(services_->governance.CreateTemplate(compliance_, doc)), (Issues{{"/version", code}}));
    json checked = GovernanceService::ValidateTemplate(doc);
    EXPECT_FALSE(checked["valid"]);
    ASSERT_EQ(checked["issues"].size(), 1u);
    EXPECT_EQ(checked["issues"][0]["code"], code);
  }
  // A valid version that is not the one stored is refused, not replaced.
  doc["version"] = 7;
  EXPECT_EQ(IssuesOf(services_->governance.CreateTemplate(compliance_, doc)), (Issues{{"/version", "version_mismatch"}}));
  doc.erase("version");
  auto created = services_->governance.CreateTemplate(compliance_, doc);
  ASSERT_TRUE(created) << created.error().problem;
  EXPECT_EQ((*created)["version"], 1);

  // A new version: its key is the URL's, its version the next one; either may be left out.
  doc["key"] = "Totally Invalid KEY!!";
  EXPECT_EQ(IssuesOf(services_->governance.NewVersion(compliance_, "ward-rules", doc)), (Issues{{"/key", "invalid_value"}}));
  doc["key"] = "internal-community";
  EXPECT_EQ(IssuesOf(services_->governance.NewVersion(compliance_, "ward-rules", doc)), (Issues{{"/key", "key_mismatch"}}));
  doc["key"] = "ward-rules";
  doc["version"] = 1;
  EXPECT_EQ(IssuesOf(services_->governance.NewVersion(compliance_, "ward-rules", doc)),
            (Issues{{"/version", "version_mismatch"}}));
  doc["version"] = "2";
  EXPECT_EQ(IssuesOf(services_->governance.NewVersion(compliance_, "ward-rules", doc)), (Issues{{"/version", "invalid_type"}}));
  EXPECT_FALSE(services_->governance.GetTemplate(compliance_, "ward-rules", 2)) << "nothing refused was stored";
  doc["version"] = 2;
  auto v2 = services_->governance.NewVersion(compliance_, "ward-rules", doc);
  ASSERT_TRUE(v2) << v2.error().problem;
  EXPECT_EQ((*v2)["version"], 2);
  doc.erase("key");
  doc.erase("version");
  auto v3 = services_->governance.NewVersion(compliance_, "ward-rules", doc);
  ASSERT_TRUE(v3) << v3.error().problem;
  EXPECT_EQ((*v3)["key"], "ward-rules");
  EXPECT_EQ((*v3)["version"], 3);
}

TEST_F(GovernanceTest, ACloneIsOnRecordWithItsSource) {
  json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("clinical-team"));
  doc["version"] = 2;
  ASSERT_TRUE(services_->governance.NewVersion(compliance_, "clinical-team", doc));
  auto clone = services_->governance.CloneTemplate(compliance_, "clinical-team", "ward-team", "");
  ASSERT_TRUE(clone) << clone.error().problem;
  EXPECT_EQ((*clone)["version"], 1);
  auto records = AuditOf("template.create");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].object_id, "ward-team@1");
  EXPECT_EQ(json::parse(records[0].details_json)["cloned_from"], "clinical-team@2");
}

TEST_F(GovernanceTest, DirectConversationsKeepTheirTemplate) {
  auto direct = services_->spaces.Direct(owner_, {member_.user.id});
  ASSERT_TRUE(direct) << direct.error().problem;
  const SpaceId id = (*direct)["id"].get<SpaceId>();
  auto assigned = services_->governance.AssignTemplate(compliance_, id, "announcements", 1, "lock it down");
  ASSERT_FALSE(assigned);
  EXPECT_EQ(assigned.error().code, ErrorCode::kPolicyDenied);
  EXPECT_EQ(assigned.error().problem, "direct_conversation");
  auto dry = services_->governance.DryRun(compliance_, id, "announcements", 1, 50);
  ASSERT_FALSE(dry);
  EXPECT_EQ(dry.error().problem, "direct_conversation");
  // Both members still post there.
  EXPECT_TRUE(Try(member_, id, "still ours"));
  EXPECT_TRUE(Try(owner_, id, "yes"));
  // An archived space may still be given a template.
  SpaceId archived = SpaceWith("internal-community", "Old rota");
  SpacePatch patch;
  patch.archived = true;
  ASSERT_TRUE(services_->spaces.Update(owner_, archived, patch));
  EXPECT_TRUE(services_->governance.AssignTemplate(compliance_, archived, "announcements", 1, "read-only now"));
}

TEST_F(GovernanceTest, ADryRunChecksRepliesAsWellAsPosts) {
  SpaceId space = SpaceWith("internal-community", "Bed management");
  auto post = Try(member_, space, "beds free on 4 west?");
  ASSERT_TRUE(post);
  Draft reply;
  reply.body = kPhoneText;
  reply.parent_id = post->Message()["id"].get<MessageId>();
  reply.confirm_phi = true;
  auto replied = services_->messages.Post(other_, space, reply);
  ASSERT_TRUE(replied) << replied.error().problem;
  auto dry = services_->governance.DryRun(compliance_, space, "announcements", 1, 50);
  ASSERT_TRUE(dry) << dry.error().problem;
  EXPECT_EQ((*dry)["messages_checked"], 2);
  EXPECT_EQ((*dry)["blocked"], 1);
  ASSERT_EQ((*dry)["items"].size(), 2u);
  EXPECT_EQ((*dry)["items"][0]["message_id"], replied->Message()["id"]) << "newest first, whatever its thread";
  EXPECT_EQ((*dry)["items"][0]["action"], "blocked");
  // The limit counts replies too: the last message only.
  dry = services_->governance.DryRun(compliance_, space, "announcements", 1, 1);
  ASSERT_TRUE(dry);
  EXPECT_EQ((*dry)["messages_checked"], 1);
  EXPECT_EQ((*dry)["items"][0]["message_id"], replied->Message()["id"]);
}

TEST_F(GovernanceTest, ADryRunJudgesEachMessagesFilesAsTheNewVersionWould) {
  // The space takes images and text files and warns on PHI.
  json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
  doc["attachments"]["types"] = {"image/png", "text/plain"};
  doc.erase("version");  // each new version below is the next one
  ASSERT_TRUE(services_->governance.NewVersion(compliance_, "internal-community", doc));  // v2
  SpaceId space = SpaceWith("internal-community", "Discharge planning");
  ASSERT_TRUE(services_->governance.AssignTemplate(compliance_, space, "internal-community", 2, "files"));
  auto post_file = [&](const std::string& name, const std::string& content, const std::string& body) {
    auto up = services_->messages.Upload(member_, space, UploadRequest{name, "", content, true});
    EXPECT_TRUE(up) << up.error().problem;
    Draft d;
    d.body = body;
    d.attachment_ids = {up ? (*up)["id"].get<AttachmentId>() : 0};
    auto posted = services_->messages.Post(member_, space, d);
    EXPECT_TRUE(posted) << posted.error().problem;
    return posted ? posted->Message()["id"].get<MessageId>() : 0;
  };
  const MessageId with_csv = post_file("callbacks.csv", "bed,callback\n4,617-555-0142\n", "tonight's list");
  const MessageId with_png = post_file("scan.png", std::string("\x89PNG\r\n\x1a\n", 8) + "pixels", "the scan");
  ASSERT_TRUE(Try(member_, space, "no files here"));

  // v3 blocks PHI and takes images only: the CSV's phone number blocks its message, which the
  // version would not take the file of either.
  doc["phi"] = "block";
  doc["attachments"]["types"] = {"image/png"};
  ASSERT_TRUE(services_->governance.NewVersion(compliance_, "internal-community", doc));
  auto dry = services_->governance.DryRun(compliance_, space, "internal-community", 3, 50);
  ASSERT_TRUE(dry) << dry.error().problem;
  EXPECT_EQ((*dry)["messages_checked"], 3);
  EXPECT_EQ((*dry)["blocked"], 1);
  EXPECT_EQ((*dry)["allowed"], 2);
  EXPECT_EQ((*dry)["with_refused_files"], 1);
  EXPECT_EQ((*dry)["files_not_screened"], 0);
  std::map<MessageId, json> items;
  for (const auto& item : (*dry)["items"]) items[item["message_id"].get<MessageId>()] = item;
  EXPECT_EQ(items[with_csv]["action"], "blocked");
  EXPECT_EQ(items[with_csv]["finding_types"], json::array({"phone"}));
  ASSERT_EQ(items[with_csv]["file_refusals"].size(), 1u);
  EXPECT_EQ(items[with_csv]["file_refusals"][0]["code"], "attachment_type_not_allowed");
  EXPECT_EQ(items[with_png]["action"], "allowed");
  EXPECT_FALSE(items[with_png].contains("file_refusals"));

  // v4 takes no files: both messages' files would be refused.
  doc["attachments"]["allowed"] = false;
  ASSERT_TRUE(services_->governance.NewVersion(compliance_, "internal-community", doc));
  dry = services_->governance.DryRun(compliance_, space, "internal-community", 4, 50);
  ASSERT_TRUE(dry) << dry.error().problem;
  EXPECT_EQ((*dry)["with_refused_files"], 2);
  items.clear();
  for (const auto& item : (*dry)["items"]) items[item["message_id"].get<MessageId>()] = item;
  EXPECT_EQ(items[with_png]["file_refusals"][0]["code"], "attachments_not_allowed");
}

// The queue tells moderators what a held message holds now: an edit's screening replaces the
// first post's types (it once kept them, so an SSN edited in showed as nothing, or as a phone).
TEST_F(GovernanceTest, AnEditTellsModeratorsWhatTheNewTextHolds) {
  MakeTemplate("holding", json{{"phi", "hold"}});
  SpaceId space = SpaceWith("holding", "Holding space");
  auto clean = Try(member_, space, "meeting at noon");
  ASSERT_TRUE(clean);
  ASSERT_EQ(clean->Message()["state"], "published");
  EXPECT_EQ(clean->Message()["phi_types"], json::array());
  auto edited = services_->messages.Edit(member_, clean->Message()["id"], kSsnText, std::nullopt);
  ASSERT_TRUE(edited) << edited.error().problem;
  EXPECT_EQ((*edited)["state"], "held");
  EXPECT_EQ((*edited)["phi_types"], json::array({"ssn"}));

  auto phone = Try(member_, space, kPhoneText);
  ASSERT_TRUE(phone);
  EXPECT_EQ(phone->Message()["phi_types"], json::array({"phone"}));
  auto rewritten = services_->messages.Edit(member_, phone->Message()["id"], kSsnText, std::nullopt);
  ASSERT_TRUE(rewritten) << rewritten.error().problem;
  EXPECT_EQ((*rewritten)["phi_types"], json::array({"ssn"}));

  auto queue = services_->governance.Queue(owner_, space, 0, 50);
  ASSERT_TRUE(queue);
  ASSERT_EQ((*queue)["items"].size(), 2u);
  for (const auto& item : (*queue)["items"]) EXPECT_EQ(item["message"]["phi_types"], json::array({"ssn"})) << item;
  // What an edit keeps (a poll's options, a title not given again) still counts.
  Draft poll;
  poll.body = "Which number for the family?";
  poll.kind = MessageKind::kPoll;
  poll.poll_options = {"617-555-0123", "the ward's"};
  auto asked = services_->messages.Post(member_, space, poll);
  ASSERT_TRUE(asked) << asked.error().problem;
  EXPECT_EQ(asked->Message()["phi_types"], json::array({"phone"}));
  auto reworded = services_->messages.Edit(member_, asked->Message()["id"], "Which number to call?", std::nullopt);
  ASSERT_TRUE(reworded) << reworded.error().problem;
  EXPECT_EQ((*reworded)["phi_types"], json::array({"phone"}));
  // Edited back to nothing of note: held still, and shown as holding nothing.
  auto cleaned = services_->messages.Edit(member_, phone->Message()["id"], "call the family today", std::nullopt);
  ASSERT_TRUE(cleaned) << cleaned.error().problem;
  EXPECT_EQ((*cleaned)["phi_types"], json::array());
}

TEST_F(GovernanceTest, EditsAreScreenedAndKeptWithinTheEditWindow) {
  MakeTemplate("short-edits", json{{"edit_window_minutes", 5}, {"phi", "block"}});
  SpaceId space = SpaceWith("short-edits", "Quick edits");
  auto posted = Try(member_, space, "meeting at noon");
  ASSERT_TRUE(posted);
  MessageId id = posted->Message()["id"];
  auto blocked = services_->messages.Edit(member_, id, kSsnText, std::nullopt);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().problem, "phi_blocked");
  EXPECT_EQ((*services_->messages.Get(member_, id))["body"], "meeting at noon");
  clock_.Advance(6 * 60 * 1000);
  auto late = services_->messages.Edit(member_, id, "meeting at one", std::nullopt);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().problem, "edit_window_closed");
}

TEST_F(GovernanceTest, ReadsOfPhiBearingSpacesAreAuditedAndTheChainVerifies) {
  SpaceId clinical = SpaceWith("clinical-team", "ICU handover");
  MakeTemplate("no-phi", json{{"phi", "block"}});
  SpaceId plain = SpaceWith("no-phi", "Social");
  ASSERT_TRUE(Try(member_, clinical, "bed 4 stable"));
  ASSERT_TRUE(Try(member_, plain, "lunch?"));
  Items(other_, clinical);
  Items(other_, plain);
  auto reads = AuditOf("message.list");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].object_id, std::to_string(clinical));
  EXPECT_EQ(reads[0].actor_id, other_.user.id);

  auto records = Audit();
  ASSERT_FALSE(records.empty());
  auto report = governance::audit::VerifyChain(records, {}, "");
  EXPECT_TRUE(report.ok) << report.problem;
  for (const auto& r : records) EXPECT_EQ(r.details_json.find("bed 4"), std::string::npos);
}

// The queue, a pin and an accepted answer show messages whole: in a PHI-bearing space each is a
// read on record, and in any other space none is.
TEST_F(GovernanceTest, QueuePinsAndAcceptedAnswersOfPhiBearingSpacesAreReadsOnRecord) {
  MakeTemplate("holding", json{{"phi", "hold"}});
  SpaceId held_space = SpaceWith("holding", "Holding space");
  MakeTemplate("premoderated", json{{"phi", "block"}, {"moderation", "pre-moderation"}});
  SpaceId plain = SpaceWith("premoderated", "Social");
  auto held = Try(member_, held_space, kPhoneText);
  ASSERT_TRUE(held) << held.error().problem;
  ASSERT_EQ(held->Message()["state"], "held");
  ASSERT_TRUE(Try(member_, plain, "lunch at noon?"));

  ASSERT_TRUE(services_->governance.Queue(owner_, held_space, 0, 50));
  auto reads = AuditOf("moderation.queue");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].actor_id, owner_.user.id);
  EXPECT_EQ(reads[0].object_id, std::to_string(held_space));
  EXPECT_EQ(json::parse(reads[0].details_json)["count"], 1);
  EXPECT_EQ(reads[0].details_json.find("555"), std::string::npos);
  // Across spaces: one record per PHI-bearing space shown, none for the other.
  auto across = services_->governance.Queue(compliance_, std::nullopt, 0, 50);
  ASSERT_TRUE(across);
  EXPECT_EQ((*across)["items"].size(), 2u);
  reads = AuditOf("moderation.queue");
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[1].actor_id, compliance_.user.id);
  EXPECT_EQ(reads[1].object_id, std::to_string(held_space));
  ASSERT_TRUE(services_->governance.Queue(owner_, plain, 0, 50));
  EXPECT_EQ(AuditOf("moderation.queue").size(), 2u);

  SpaceId clinical = SpaceWith("clinical-team", "ICU handover");
  auto note = Try(member_, clinical, "bed 4 stable");
  ASSERT_TRUE(note);
  const std::size_t before = AuditOf("message.read").size();
  ASSERT_TRUE(services_->messages.Pin(owner_, note->Message()["id"], true));
  auto pinned = AuditOf("message.read");
  ASSERT_EQ(pinned.size(), before + 1);
  EXPECT_EQ(pinned.back().actor_id, owner_.user.id);
  EXPECT_EQ(json::parse(pinned.back().details_json)["message_id"], note->Message()["id"]);

  json asked = Post(member_, clinical, "who has the crash cart key?", MessageKind::kQuestion);
  json answered = Post(other_, clinical, "charge nurse", MessageKind::kMessage, asked["id"].get<MessageId>());
  ASSERT_TRUE(services_->messages.Accept(member_, answered["id"], true));
  auto accepted = AuditOf("message.read");
  ASSERT_EQ(accepted.size(), before + 2);
  EXPECT_EQ(accepted.back().actor_id, member_.user.id);
  EXPECT_EQ(json::parse(accepted.back().details_json)["message_id"], asked["id"]);
}

TEST_F(GovernanceTest, PatientIndexNamesAreFoundOnceImported) {
  SpaceId forum = SpaceWith("patient-forum", "Diabetes support");
  EXPECT_FALSE(services_->governance.ImportPatients(member_, "mrn,first,last\nA1234567,Zanele,Okonkwo-Barros\n"));
  auto imported = services_->governance.ImportPatients(compliance_, "mrn,first,last\nA1234567,Zanele,Okonkwo-Barros\n");
  ASSERT_TRUE(imported) << imported.error().problem;
  EXPECT_EQ((*imported)["imported"], 1);
  auto refused = Try(member_, forum, "saw zanele okonkwo-barros at clinic");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "phi_blocked");
  EXPECT_NE(refused.error().extensions_json.find("\"name\""), std::string::npos);
  // The index survives a restart: a new engine loads it from the store.
  services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);
  ASSERT_TRUE(services_->governance.LoadPatients());
  EXPECT_FALSE(Try(member_, forum, "saw zanele okonkwo-barros at clinic"));
  auto check = services_->governance.PhiCheck(member_, forum, "saw zanele okonkwo-barros", "");
  ASSERT_TRUE(check);
  EXPECT_EQ((*check)["action"], "block");
}

// A new space starts on the newest version of its template, named or the default one, and so does
// a new direct conversation: only spaces already assigned keep a version that was replaced.
TEST_F(GovernanceTest, NewSpacesStartOnTheNewestVersionOfTheirTemplate) {
  const SpaceId before = SpaceWith("internal-community", "Pharmacy");
  for (const char* key : {"internal-community", "clinical-team"}) {
    json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn(key));
    doc.erase("version");
    doc["retention_days"] = 400;
    auto v2 = services_->governance.NewVersion(compliance_, key, doc);
    ASSERT_TRUE(v2) << key << " " << v2.error().problem << " " << v2.error().public_message;
  }
  EXPECT_EQ((*services_->spaces.Get(member_, before))["template"]["version"], 1) << "kept until assigned";
  NewSpace unnamed{SpaceKind::kCommunity, "Wound care", "", Visibility::kPublic, JoinPolicy::kOpen, ""};
  auto created = services_->spaces.Create(owner_, unnamed);
  ASSERT_TRUE(created) << created.error().problem;
  const json view = *services_->spaces.Get(owner_, (*created)["id"].get<SpaceId>());
  EXPECT_EQ(view["template"]["key"], "internal-community");
  EXPECT_EQ(view["template"]["version"], 2);
  EXPECT_EQ((*services_->spaces.Get(member_, SpaceWith("internal-community", "Nights")))["template"]["version"], 2);
  auto direct = services_->spaces.Direct(owner_, {member_.user.id});
  ASSERT_TRUE(direct) << direct.error().problem;
  const json dm = *services_->spaces.Get(owner_, (*direct)["id"].get<SpaceId>());
  EXPECT_EQ(dm["template"]["key"], "clinical-team");
  EXPECT_EQ(dm["template"]["version"], 2);
}

// A write that answers with content of a PHI-bearing space reads it: a poll vote returns the
// options' text, a retried post the message first posted. Each is on record with the write, and a
// retry returns nothing its author could no longer read.
TEST_F(GovernanceTest, WritesThatReturnContentOfAPhiBearingSpaceAreReads) {
  const SpaceId team = SpaceWith("clinical-team", "ward 7 team");
  auto reads_of = [&](MessageId id) {
    std::size_t n = 0;
    for (const auto& r : AuditOf("message.read")) n += json::parse(r.details_json)["message_id"] == id;
    return n;
  };
  Draft poll;
  poll.kind = MessageKind::kPoll;
  poll.body = "which bay for the new admission";
  poll.poll_options = {"bay 2", "bay 4"};
  auto posted = services_->messages.Post(member_, team, poll);
  ASSERT_TRUE(posted) << posted.error().problem;
  const MessageId poll_id = posted->Message()["id"];
  ASSERT_TRUE(services_->messages.PollVote(other_, poll_id, 1));
  EXPECT_EQ(reads_of(poll_id), 1u);
  ASSERT_TRUE(services_->messages.PollVote(other_, poll_id, std::nullopt));
  EXPECT_EQ(reads_of(poll_id), 2u);

  Draft first;
  first.body = "bed 4 is free";
  first.client_id = "retry-1";
  auto original = services_->messages.Post(member_, team, first);
  ASSERT_TRUE(original);
  const MessageId id = original->Message()["id"];
  EXPECT_EQ(reads_of(id), 0u) << "posting is no read";
  auto retried = services_->messages.Post(member_, team, first);
  ASSERT_TRUE(retried);
  EXPECT_FALSE(retried->created);
  EXPECT_EQ(reads_of(id), 1u);
  // Taken down by a moderator: the author no longer reads it, by a retry either.
  ASSERT_TRUE(services_->governance.Moderate(owner_, id, {ModerationKind::kRemove, "wrong space", {}}));
  auto after_removal = services_->messages.Post(member_, team, first);
  ASSERT_FALSE(after_removal);
  EXPECT_EQ(after_removal.error().code, ErrorCode::kConflict);
  EXPECT_EQ(after_removal.error().problem, "client_id_used");
  EXPECT_EQ(after_removal.error().extensions_json.find("bed 4"), std::string::npos);
  // Deleted by its author: the same.
  first.client_id = "retry-2";
  auto second = services_->messages.Post(member_, team, first);
  ASSERT_TRUE(second);
  ASSERT_TRUE(services_->messages.Delete(member_, second->Message()["id"]));
  auto after_delete = services_->messages.Post(member_, team, first);
  ASSERT_FALSE(after_delete);
  EXPECT_EQ(after_delete.error().problem, "client_id_used");
}

// Whether someone is a patient of the hospital is itself protected. A patient is never told what
// the patient index matched: not by the PHI check, a refusal or a redaction, and not by a post
// that is refused, changed or held where another would not be. Where the rule keeps PHI from
// members, every post of theirs waits for a moderator, so one the index finds a name in is not
// told apart.
TEST_F(GovernanceTest, APatientIsNeverToldWhoIsInThePatientIndex) {
  Actor patient;
  const SpaceId circle =
      CircleWithPatient("patient-circle", json{{"audience", "patients"}, {"phi", "block"}, {"moderation", "none"}}, patient);
  const std::string named = "I sat next to Zanele Okonkwo-Barros at the clinic";

  // Staff are told: the check names the finding, and the post is refused with it.
  auto staff_check = services_->governance.PhiCheck(member_, circle, named, "");
  ASSERT_TRUE(staff_check);
  EXPECT_EQ((*staff_check)["action"], "block");
  auto refused = Try(member_, circle, named);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().extensions_json.find("\"name\""), std::string::npos);

  // The patient's check says what it says of a stranger's name.
  for (const std::string& text : {named, std::string("I sat next to Wilhelmina Quarrendon at the clinic")}) {
    auto check = services_->governance.PhiCheck(patient, circle, text, "");
    ASSERT_TRUE(check);
    EXPECT_EQ((*check)["action"], "allow") << text;
    EXPECT_TRUE((*check)["findings"].empty()) << check->dump();
  }
  // What the index cannot tell is still refused, with its findings.
  auto ssn = Try(patient, circle, kSsnText);
  ASSERT_FALSE(ssn);
  EXPECT_EQ(ssn.error().problem, "phi_blocked");
  EXPECT_NE(ssn.error().extensions_json.find("\"ssn\""), std::string::npos);

  // The post is taken, waits for a moderator, and says nothing of why: a stranger's waits alike,
  // though the space is not pre-moderated (publishing it at once would tell the two apart).
  auto held = Try(patient, circle, named);
  ASSERT_TRUE(held) << held.error().problem;
  auto plain = Try(patient, circle, "I sat next to Wilhelmina Quarrendon at the clinic");
  ASSERT_TRUE(plain) << plain.error().problem;
  for (const auto* posted : {&*held, &*plain}) {
    EXPECT_EQ(posted->Message()["state"], "held");
    EXPECT_EQ(posted->Message()["hold_reason"], "pre_moderation");
    EXPECT_TRUE(posted->Message()["phi_types"].empty()) << posted->Message().dump();
  }
  EXPECT_EQ(held->Message()["body"], named) << "nothing redacted";
  const MessageId held_id = held->Message()["id"];
  for (const auto& item : Items(other_, circle)) EXPECT_NE(item["id"], held_id) << "members do not see it";
  // The trail says what the index found, for the moderators and auditors.
  auto holds = AuditOf("message.hold");
  ASSERT_GE(holds.size(), 2u);
  EXPECT_EQ(holds[holds.size() - 2].reason, "pre_moderation");
  EXPECT_EQ(json::parse(holds[holds.size() - 2].details_json)["withheld_types"], "name");
  EXPECT_FALSE(json::parse(holds.back().details_json).contains("withheld_types"));
  // Approving it is judged by the rule in force, which tells the moderator why.
  auto approved = services_->governance.Moderate(owner_, held_id, {ModerationKind::kApprove, "fine", {}});
  ASSERT_FALSE(approved);
  EXPECT_EQ(approved.error().problem, "phi_blocked");
  EXPECT_NE(approved.error().extensions_json.find("\"name\""), std::string::npos);

  // The stranger's is approved; any edit of it goes back to the moderators, whatever it names.
  ASSERT_TRUE(services_->governance.Moderate(owner_, plain->Message()["id"], {ModerationKind::kApprove, "fine", {}}));
  auto edited = services_->messages.Edit(patient, plain->Message()["id"], named, std::nullopt);
  ASSERT_TRUE(edited) << edited.error().problem;
  auto reworded = Try(patient, circle, "See you at the clinic");
  ASSERT_TRUE(reworded);
  EXPECT_EQ(reworded->Message()["state"], "held");
  ASSERT_TRUE(services_->governance.Moderate(owner_, reworded->Message()["id"], {ModerationKind::kApprove, "fine", {}}));
  auto edited_plain =
      services_->messages.Edit(patient, reworded->Message()["id"], "See you at the clinic on Friday", std::nullopt);
  ASSERT_TRUE(edited_plain) << edited_plain.error().problem;
  for (const json* e : {&*edited, &*edited_plain}) {
    EXPECT_EQ((*e)["state"], "held");
    EXPECT_EQ((*e)["hold_reason"], "pre_moderation");
    EXPECT_TRUE((*e)["phi_types"].empty());
  }

  // In a pre-moderated forum every post waits: the index's finding changes nothing the author sees.
  const SpaceId forum = SpaceWith("patient-forum", "Heart forum");
  ASSERT_TRUE(services_->spaces.AddMember(owner_, forum, patient.user.id, MemberRole::kMember));
  for (const std::string& text : {named, std::string("I sat next to Wilhelmina Quarrendon at the clinic")}) {
    auto posted = Try(patient, forum, text);
    ASSERT_TRUE(posted) << text;
    EXPECT_EQ(posted->Message()["hold_reason"], "pre_moderation") << text;
    EXPECT_TRUE(posted->Message()["phi_types"].empty());
  }
}

// A dry run says what a version would do to each post as its author would have met it: a
// patient's post that only the patient index flags would wait for review, where a member of
// staff's would be refused. The officer running it is staff, and is told what the index found.
TEST_F(GovernanceTest, ADryRunJudgesAnOutsidersPostAsItsPostWouldBe) {
  Actor patient;
  const json mixed{{"audience", "mixed"}, {"phi", "allow"}, {"moderation", "none"}};
  const SpaceId circle = CircleWithPatient("mixed-circle", mixed, patient);
  const std::string named = "I sat next to Zanele Okonkwo-Barros at the clinic";
  auto by_staff = Try(member_, circle, named);
  ASSERT_TRUE(by_staff) << by_staff.error().problem;
  auto by_patient = Try(patient, circle, named);
  ASSERT_TRUE(by_patient) << by_patient.error().problem;
  EXPECT_EQ(by_patient->Message()["state"], "published") << "PHI is allowed here";

  json blocking = mixed;
  blocking["phi"] = "block";
  blocking["version"] = 2;
  ASSERT_TRUE(services_->governance.NewVersion(compliance_, "mixed-circle", TemplateDoc("mixed-circle", blocking)));
  auto dry = services_->governance.DryRun(compliance_, circle, "mixed-circle", 2, 50);
  ASSERT_TRUE(dry) << dry.error().problem;
  EXPECT_EQ((*dry)["blocked"], 1);
  EXPECT_EQ((*dry)["held"], 1);
  for (const auto& item : (*dry)["items"]) {
    const bool patients = item["message_id"] == by_patient->Message()["id"];
    EXPECT_EQ(item["action"], patients ? "held" : "blocked") << item.dump();
    EXPECT_EQ(item["finding_types"], json::array({"name"})) << item.dump();
  }
  // What the dry run said is what the version does.
  ASSERT_TRUE(services_->governance.AssignTemplate(compliance_, circle, "mixed-circle", 2, "no PHI here"));
  EXPECT_EQ(Try(member_, circle, named).error().problem, "phi_blocked");
  auto again = Try(patient, circle, named);
  ASSERT_TRUE(again) << again.error().problem;
  EXPECT_EQ(again->Message()["state"], "held");
}

// The "moderation.queue" user events among `events`: what each says, and to whom (sorted).
std::vector<std::pair<json, std::vector<UserId>>> QueueChanges(const std::vector<bus::Event>& events) {
  std::vector<std::pair<json, std::vector<UserId>>> out;
  for (const auto& e : events) {
    if (e.type != "moderation.queue") continue;
    std::vector<UserId> to = *e.recipients;
    std::sort(to.begin(), to.end());
    out.emplace_back(json::parse(*e.frame)["data"], std::move(to));
  }
  return out;
}

std::vector<UserId> Ids(std::initializer_list<const Actor*> actors) {
  std::vector<UserId> ids;
  for (const Actor* a : actors) ids.push_back(a->user.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST_F(GovernanceTest, ComplianceOfficersAreToldOfEveryChangeToAQueueTheyAreNotMembersOf) {
  SpaceId space = SpaceWith("clinical-team", "Ward 5");
  const std::vector<UserId> watchers = Ids({&owner_, &compliance_});  // the officer is no member
  auto posted = Try(member_, space, "swap my night shift for a bike");
  ASSERT_TRUE(posted);
  MessageId id = posted->Message()["id"];

  ClearPublished();
  ASSERT_TRUE(services_->governance.Report(other_, id, "selling things"));
  auto changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, (json{{"kind", "report"}, {"space_id", space}, {"message_id", id}}));
  EXPECT_EQ(changes[0].second, watchers);

  // A decision takes it off the queue.
  ClearPublished();
  auto hidden = services_->governance.Moderate(owner_, id, {ModerationKind::kHide, "off topic", {}});
  ASSERT_TRUE(hidden) << hidden.error().problem;
  ModerationActionId action = (*hidden)["id"];
  changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, (json{{"kind", "decided"}, {"space_id", space}, {"message_id", id}}));
  EXPECT_EQ(changes[0].second, watchers);

  ClearPublished();
  ASSERT_TRUE(services_->governance.Appeal(member_, action, "it was a question, not a sale"));
  changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, (json{{"kind", "appeal"}, {"space_id", space}, {"action_id", action}}));
  EXPECT_EQ(changes[0].second, watchers);

  ClearPublished();
  ASSERT_TRUE(services_->governance.DecideAppeal(compliance_, action, AppealOutcome::kUpheld, "it was a sale"));
  changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, (json{{"kind", "decided"}, {"space_id", space}, {"action_id", action}}));
  EXPECT_EQ(changes[0].second, watchers);

  // A decision on a message that was not waiting changes no queue.
  auto quiet = Try(member_, space, "handover at 7");
  ASSERT_TRUE(quiet);
  ClearPublished();
  ASSERT_TRUE(services_->governance.Moderate(owner_, quiet->Message()["id"], {ModerationKind::kWarn, "mind the tone", {}}));
  EXPECT_TRUE(QueueChanges(Published()).empty());
}

TEST_F(GovernanceTest, AHeldPostOrEditTellsTheQueueByIdsAlone) {
  SpaceId forum = SpaceWith("patient-forum", "Hip recovery");
  Actor moderator = MakeUser("moderator");
  ASSERT_TRUE(services_->spaces.AddMember(owner_, forum, moderator.user.id, MemberRole::kModerator));
  const std::vector<UserId> watchers = Ids({&owner_, &moderator, &compliance_});  // not the author

  ClearPublished();
  auto held = Try(member_, forum, "Day 3 after the operation, walking with a frame");
  ASSERT_TRUE(held) << held.error().problem;
  ASSERT_EQ(held->Message()["state"], "held");
  MessageId id = held->Message()["id"];
  auto changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, (json{{"kind", "held"}, {"space_id", forum}, {"message_id", id}}));
  EXPECT_EQ(changes[0].second, watchers);

  // Edited while it waits: the queue shows the new text.
  ClearPublished();
  ASSERT_TRUE(services_->messages.Edit(member_, id, "Day 4 after the operation, walking with a stick", std::nullopt));
  changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, (json{{"kind", "held"}, {"space_id", forum}, {"message_id", id}}));
  EXPECT_EQ(changes[0].second, watchers);

  // A moderator's post is not held, and changes no queue.
  ClearPublished();
  auto welcome = Try(moderator, forum, "Welcome, everyone");
  ASSERT_TRUE(welcome);
  ASSERT_EQ(welcome->Message()["state"], "published");
  EXPECT_TRUE(QueueChanges(Published()).empty());

  ClearPublished();
  ASSERT_TRUE(services_->governance.Moderate(moderator, id, {ModerationKind::kApprove, "fine", {}}));
  changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, (json{{"kind", "decided"}, {"space_id", forum}, {"message_id", id}}));
  EXPECT_EQ(changes[0].second, watchers);

  // An asynchronous post that is held tells the queue the same, from the work it defers.
  std::mutex mu;
  std::condition_variable cv;
  std::function<void()> deferred;
  std::optional<Result<PostResult>> answer;
  Draft draft;
  draft.body = "Any tips for the stairs?";
  ClearPublished();
  services_->messages.PostAsync(
      member_, forum, draft,
      [&](std::function<void()> work) {
        std::lock_guard lock(mu);
        deferred = std::move(work);
        cv.notify_all();
      },
      [&](Result<PostResult> r) { answer.emplace(std::move(r)); });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return deferred != nullptr; }));
  }
  deferred();
  ASSERT_TRUE(answer && *answer);
  changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first["kind"], "held");
  EXPECT_EQ(changes[0].first["message_id"], (**answer).Message()["id"]);
  EXPECT_EQ(changes[0].second, watchers);

  // Never the text.
  for (const auto& e : Published()) {
    if (e.type == "moderation.queue") {
      EXPECT_EQ(e.frame->find("stairs"), std::string::npos);
    }
  }
}

TEST_F(GovernanceTest, AHeldOrReportedPostDeletedByItsAuthorLeavesTheQueueForAllWhoWorkIt) {
  SpaceId forum = SpaceWith("patient-forum", "Knee recovery");
  auto held = Try(member_, forum, "Week two, stairs are hard");
  ASSERT_TRUE(held);
  ASSERT_EQ(held->Message()["state"], "held");
  MessageId id = held->Message()["id"];
  ClearPublished();
  ASSERT_TRUE(services_->messages.Delete(member_, id));
  auto changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first, (json{{"kind", "decided"}, {"space_id", forum}, {"message_id", id}}));
  EXPECT_EQ(changes[0].second, Ids({&owner_, &compliance_})) << "not the author, who deleted it";

  SpaceId ward = SpaceWith("clinical-team", "Ward 6");
  auto reported = Try(member_, ward, "selling a bike, ask me");
  ASSERT_TRUE(reported);
  ASSERT_TRUE(services_->governance.Report(other_, reported->Message()["id"], "selling things"));
  auto plain = Try(member_, ward, "handover at 7");
  ASSERT_TRUE(plain);
  ClearPublished();
  ASSERT_TRUE(services_->messages.Delete(member_, reported->Message()["id"]));
  changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].first["message_id"], reported->Message()["id"]);
  EXPECT_EQ(changes[0].second, Ids({&owner_, &compliance_}));
  // A message that was on no queue changes none.
  ClearPublished();
  ASSERT_TRUE(services_->messages.Delete(member_, plain->Message()["id"]));
  EXPECT_TRUE(QueueChanges(Published()).empty());
}

TEST_F(GovernanceTest, OfficersNamedOrStandingDownAreToldFromTheNextChange) {
  SpaceId forum = SpaceWith("patient-forum", "Carers corner");
  ASSERT_TRUE(Try(member_, forum, "First week at home, any advice?"));
  Actor newcomer = MakeUser("newcomer");
  UserPatch named;
  named.is_compliance = true;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), newcomer.user.id, named));
  UserPatch stood_down;
  stood_down.is_compliance = false;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), compliance_.user.id, stood_down));

  ClearPublished();
  ASSERT_TRUE(Try(member_, forum, "Second week, sleeping better"));
  auto changes = QueueChanges(Published());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].second, Ids({&owner_, &newcomer}));
}

}  // namespace
}  // namespace rounds::app

// A template says who a space is for. A patient account is never made a member of a space for
// staff (it would read what staff say of other patients), and a space with patients among its
// members is not moved to a template for staff; patient forums take them.
namespace rounds::app {
namespace {

TEST_F(GovernanceTest, PatientsAreMembersOnlyOfSpacesWhoseAudienceIncludesThem) {
  Actor patient = MakePatient("pat");

  const SpaceId clinical = SpaceWith("clinical-team", "ward 7 team");
  auto refused = services_->spaces.AddMember(owner_, clinical, patient.user.id, MemberRole::kMember);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPolicyDenied);
  EXPECT_EQ(refused.error().problem, "audience_staff_only");
  auto membership = store_->Read([&](store::ReadTx& tx) { return tx.FindMembership(clinical, patient.user.id); });
  ASSERT_TRUE(membership);
  EXPECT_FALSE(membership->has_value()) << "nothing stored";

  const SpaceId forum = SpaceWith("patient-forum", "heart health circle");
  ASSERT_TRUE(services_->spaces.AddMember(owner_, forum, patient.user.id, MemberRole::kMember));
  // A staff template that keeps the forum's pseudonyms (turning them off in a used space is
  // refused on its own account).
  MakeTemplate("staff-circle", json{{"pseudonyms", true}});
  // Staff templates are refused for the forum while a patient is in it, named as such...
  auto moved = services_->governance.AssignTemplate(compliance_, forum, "staff-circle", 1, "consolidation");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().problem, "audience_staff_only");
  EXPECT_NE(moved.error().public_message.find("1 patient"), std::string::npos) << moved.error().public_message;
  auto space = store_->Read([&](store::ReadTx& tx) { return tx.FindSpace(forum); });
  ASSERT_TRUE(space && *space);
  EXPECT_EQ((*space)->template_key, "patient-forum") << "the space keeps its template";
  // ... and given once the patient is no longer a member.
  ASSERT_TRUE(services_->spaces.RemoveMember(owner_, forum, patient.user.id));
  EXPECT_TRUE(services_->governance.AssignTemplate(compliance_, forum, "staff-circle", 1, "consolidation"));
}

TEST_F(GovernanceTest, TextsKeptBesideModerationDecisionsKeepNoPhi) {
  SpaceId space = SpaceWith("patient-care-messaging", "Ward 5 families");
  auto posted = Try(member_, space, "visiting hours changed again");
  ASSERT_TRUE(posted);
  MessageId id = posted->Message()["id"];
  // Reasons and appeals are typed by people: a report, a moderator, an appeal, its answer.
  ASSERT_TRUE(services_->governance.Report(other_, id, kSsnText));
  ClearPublished();
  auto hidden = services_->governance.Moderate(owner_, id, {ModerationKind::kHide, kPhoneText, {}});
  ASSERT_TRUE(hidden) << hidden.error().problem;
  ModerationActionId action = (*hidden)["id"];
  ASSERT_TRUE(services_->governance.Appeal(member_, action, std::string("my number is ") + kPhoneText));
  ASSERT_TRUE(services_->governance.DecideAppeal(compliance_, action, AppealOutcome::kUpheld, kSsnText));
  std::string seen;
  auto queue = services_->governance.Queue(compliance_, std::nullopt, 0, 50);
  ASSERT_TRUE(queue);
  seen += queue->dump();
  auto actions = services_->governance.ListActions(compliance_, std::nullopt, false, 0, 50);
  ASSERT_TRUE(actions);
  seen += actions->dump();
  auto mine = services_->governance.MyActions(member_);
  ASSERT_TRUE(mine);
  seen += mine->dump();
  for (const auto& e : Published()) seen += *e.frame;
  for (const auto& r : Audit()) seen += r.reason + r.details_json;
  EXPECT_EQ(seen.find("987-65-4321"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("555-0123"), std::string::npos) << seen;
  EXPECT_NE(seen.find("[REDACTED:"), std::string::npos) << "the rest of the text is kept";
  EXPECT_NE((*mine)["items"][0]["reason"].get<std::string>().find("call the family at"), std::string::npos);
}

// An appeal is shown back to its author. A patient's is redacted as their post would be, by the
// rules without the patient index: a patient's name in it is kept as a stranger's would be, and
// what anyone would be told of (a phone number) goes. A member of staff's loses the name too.
TEST_F(GovernanceTest, AnOutsidersAppealSaysNothingOfWhoIsInThePatientIndex) {
  Actor patient;
  const SpaceId circle =
      CircleWithPatient("appeal-circle", json{{"audience", "mixed"}, {"phi", "allow"}, {"moderation", "none"}}, patient);
  const std::string appeal = std::string("Zanele Okonkwo-Barros asked me to, ") + kPhoneText;
  for (const Actor* author : {&patient, &member_}) {
    auto posted = Try(*author, circle, "the garden is open again");
    ASSERT_TRUE(posted) << posted.error().problem;
    auto hidden = services_->governance.Moderate(owner_, posted->Message()["id"], {ModerationKind::kHide, "off topic", {}});
    ASSERT_TRUE(hidden) << hidden.error().problem;
    auto appealed = services_->governance.Appeal(*author, (*hidden)["id"], appeal);
    ASSERT_TRUE(appealed) << appealed.error().problem;
    auto mine = services_->governance.MyActions(*author);
    ASSERT_TRUE(mine);
    for (const json& shown : {(*appealed)["appeal"]["text"], (*mine)["items"][0]["appeal"]["text"]}) {
      const std::string text = shown.get<std::string>();
      EXPECT_EQ(text.find("617-555-0123"), std::string::npos) << text;
      EXPECT_NE(text.find("[REDACTED:PHONE]"), std::string::npos) << text;
      const bool staff = author == &member_;
      EXPECT_EQ(text.find("Okonkwo-Barros") == std::string::npos, staff) << text;
      EXPECT_EQ(text.find("[REDACTED:NAME]") != std::string::npos, staff) << text;
    }
  }
  for (const auto& r : Audit()) EXPECT_EQ((r.reason + r.details_json).find("Okonkwo"), std::string::npos);
}

TEST_F(GovernanceTest, AModeratorDoesNotDecideOnTheirOwnPost) {
  MakeTemplate("holding", json{{"phi", "hold"}});
  NewSpace s{SpaceKind::kCommunity, "Holding ward", "", Visibility::kPublic, JoinPolicy::kOpen, "holding"};
  auto created = services_->spaces.Create(owner_, s);
  ASSERT_TRUE(created);
  const SpaceId space = (*created)["id"];
  ASSERT_TRUE(services_->spaces.AddMember(owner_, space, other_.user.id, MemberRole::kModerator));
  ASSERT_TRUE(services_->spaces.AddMember(owner_, space, member_.user.id, MemberRole::kMember));
  // Held for its PHI: its author does not release it, another moderator does.
  auto held = Try(owner_, space, kSsnText);
  ASSERT_TRUE(held);
  ASSERT_EQ(held->Message()["state"], "held");
  auto own = services_->governance.Moderate(owner_, held->Message()["id"], {ModerationKind::kApprove, "mine", {}});
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().problem, "own_message");
  EXPECT_TRUE(services_->governance.Moderate(other_, held->Message()["id"], {ModerationKind::kApprove, "reviewed", {}}));
  // Reported: its author does not clear the reports by approving it.
  auto plain = Try(owner_, space, "rota for December");
  ASSERT_TRUE(plain);
  ASSERT_TRUE(services_->governance.Report(member_, plain->Message()["id"], "wrong dates"));
  auto cleared = services_->governance.Moderate(owner_, plain->Message()["id"], {ModerationKind::kApprove, "fine", {}});
  ASSERT_FALSE(cleared);
  EXPECT_EQ(cleared.error().problem, "own_message");
  EXPECT_EQ((*services_->governance.Queue(other_, space, 0, 50))["items"].size(), 1u) << "still waiting for another";
}

TEST_F(GovernanceTest, RefusedTemplateActionsAreOnRecord) {
  json doc = governance::policy::ToJson(*governance::policy::FindBuiltIn("internal-community"));
  doc["key"] = "mine";
  auto created = services_->governance.CreateTemplate(member_, doc);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().problem, "compliance_required");
  SpaceId space = SpaceWith("internal-community", "Nursing practice");
  auto assigned = services_->governance.AssignTemplate(owner_, space, "clinical-team", 1, "tighter");
  ASSERT_FALSE(assigned);
  auto dry = services_->governance.DryRun(member_, space, "clinical-team", 1, 10);
  ASSERT_FALSE(dry);
  EXPECT_FALSE(services_->governance.NewVersion(member_, "clinical-team", doc));
  EXPECT_FALSE(services_->governance.CloneTemplate(member_, "clinical-team", "mine", "Mine"));
  for (const char* action : {"template.create", "template.assign", "template.dry_run", "template.version", "template.clone"}) {
    auto records = AuditOf(action);
    ASSERT_EQ(records.size(), 1u) << action;
    EXPECT_EQ(records[0].outcome, AuditOutcome::kDenied) << action;
    EXPECT_EQ(records[0].reason, "compliance_required") << action;
  }
  EXPECT_EQ(AuditOf("template.create")[0].actor_id, member_.user.id);
  // A refused act on a space names the space.
  EXPECT_EQ(AuditOf("template.assign")[0].object_id, std::to_string(space));
  EXPECT_EQ(AuditOf("template.dry_run")[0].object_id, std::to_string(space));
  // A refused act on a template names the template.
  EXPECT_EQ(AuditOf("template.version")[0].object_id, "clinical-team");
  EXPECT_EQ(AuditOf("template.clone")[0].object_id, "clinical-team");
}

TEST_F(GovernanceTest, PhiRefusedInTheNameOfASpacePatientsSeeIsOnRecord) {
  NewSpace s{SpaceKind::kCommunity, "Family of 617-555-0123", "", Visibility::kPublic, JoinPolicy::kOpen, "patient-forum"};
  auto created = services_->spaces.Create(owner_, s);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().problem, "phi_blocked");
  SpaceId forum = SpaceWith("patient-forum", "Heart health");
  SpacePatch patch;
  patch.topic = "Ask for Jo at 617-555-0123";
  auto updated = services_->spaces.Update(owner_, forum, patch);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().problem, "phi_blocked");
  auto records = AuditOf("space.phi_refuse");
  ASSERT_EQ(records.size(), 2u);
  for (const auto& r : records) {
    EXPECT_EQ(r.outcome, AuditOutcome::kDenied);
    EXPECT_EQ(r.actor_id, owner_.user.id);
    EXPECT_NE(r.details_json.find("phone"), std::string::npos) << r.details_json;
    EXPECT_EQ(r.details_json.find("555"), std::string::npos) << "types, never the text";
  }
  EXPECT_EQ(records[1].object_id, std::to_string(forum));
}

TEST_F(GovernanceTest, AnEditIsPostingAgainUnderTheRulesInForceNow) {
  // A member made read-only does not rewrite what members read.
  SpaceId space = SpaceWith("clinical-team", "Ward 3");
  auto posted = Try(member_, space, "handover at seven");
  ASSERT_TRUE(posted);
  ASSERT_TRUE(services_->spaces.SetRole(owner_, space, member_.user.id, MemberRole::kReadOnly));
  auto edited = services_->messages.Edit(member_, posted->Message()["id"], "handover at eight", std::nullopt, false);
  ASSERT_FALSE(edited);
  EXPECT_EQ(edited.error().problem, "read_only");
  // An owner who is no longer one does not change announcements.
  SpaceId news = SpaceWith("announcements", "Hospital news");
  ASSERT_TRUE(services_->spaces.SetRole(owner_, news, other_.user.id, MemberRole::kOwner));
  Draft d;
  d.body = "The car park closes on Friday";
  d.kind = MessageKind::kAnnouncement;
  auto announced = services_->messages.Post(owner_, news, d);
  ASSERT_TRUE(announced) << announced.error().problem;
  ASSERT_TRUE(services_->spaces.SetRole(other_, news, owner_.user.id, MemberRole::kMember));
  auto rewritten = services_->messages.Edit(owner_, announced->Message()["id"], "The car park stays open", std::nullopt, false);
  ASSERT_FALSE(rewritten);
  EXPECT_EQ(Items(member_, news)[0]["body"], "The car park closes on Friday");
  // A suspended author is refused too.
  auto mine = Try(other_, space, "rota is up");
  ASSERT_TRUE(mine);
  auto suspended = services_->governance.Moderate(owner_, mine->Message()["id"], {ModerationKind::kSuspend, "pause", 1});
  ASSERT_TRUE(suspended);
  auto after = services_->messages.Edit(other_, mine->Message()["id"], "rota is down", std::nullopt, false);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().problem, "suspended");
}

TEST_F(GovernanceTest, AnEditSentBackToPreModerationIsOnRecordAsAHold) {
  SpaceId forum = SpaceWith("patient-forum", "Knee replacement circle");
  auto posted = Try(member_, forum, "Day three, walking with a frame");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->Message()["state"], "held");
  ASSERT_TRUE(services_->governance.Moderate(owner_, posted->Message()["id"], {ModerationKind::kApprove, "ok", {}}));
  const std::size_t holds = AuditOf("message.hold").size();
  auto edited = services_->messages.Edit(member_, posted->Message()["id"], "Day four, walking with a stick", std::nullopt, false);
  ASSERT_TRUE(edited) << edited.error().problem;
  EXPECT_EQ((*edited)["state"], "held");
  auto records = AuditOf("message.hold");
  ASSERT_EQ(records.size(), holds + 1);
  EXPECT_EQ(records.back().object_id, std::to_string(posted->Message()["id"].get<MessageId>()));
  EXPECT_EQ(records.back().actor_id, member_.user.id);
}

TEST_F(GovernanceTest, ASuspendedOrReadOnlyAskerDoesNotAcceptAnAnswer) {
  SpaceId space = SpaceWith("internal-community", "Pharmacy questions");
  Draft q;
  q.body = "Which fridge holds the insulin?";
  q.title = "Insulin storage";
  q.kind = MessageKind::kQuestion;
  auto question = services_->messages.Post(member_, space, q);
  ASSERT_TRUE(question) << question.error().problem;
  Draft a;
  a.body = "The one in room 4";
  a.parent_id = question->Message()["id"].get<MessageId>();
  auto answer = services_->messages.Post(other_, space, a);
  ASSERT_TRUE(answer) << answer.error().problem;
  ASSERT_TRUE(services_->governance.Moderate(owner_, question->Message()["id"], {ModerationKind::kSuspend, "pause", 1}));
  auto refused = services_->messages.Accept(member_, answer->Message()["id"], true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "suspended");
  clock_.Advance(25LL * 60 * 60 * 1000);
  ASSERT_TRUE(services_->spaces.SetRole(owner_, space, member_.user.id, MemberRole::kReadOnly));
  auto read_only = services_->messages.Accept(member_, answer->Message()["id"], true);
  ASSERT_FALSE(read_only);
  EXPECT_EQ(read_only.error().problem, "read_only");
  EXPECT_TRUE(services_->messages.Accept(owner_, answer->Message()["id"], true)) << "a moderator still may";
}

TEST_F(GovernanceTest, AQuestionApprovedMinutesAfterItWasSentIsAnsweredFromItsApproval) {
  MakeTemplate("held-questions", {{"phi", "block"}, {"moderation", "pre-moderation"}});
  const SpaceId space = SpaceWith("held-questions", "Held questions");
  auto question = Try(member_, space, "what's the pt's dob?");
  ASSERT_TRUE(question) << question.error().problem;
  ASSERT_EQ(question->Message()["state"], "held");
  clock_.Advance(5 * 60 * 1000);
  ASSERT_TRUE(services_->governance.Moderate(owner_, question->Message()["id"], {ModerationKind::kApprove, "fine", {}}));
  // A post deleted in between has the conversation read again from the store, where the question
  // was sent five minutes ago but has been read only since its approval.
  auto brb = Try(other_, space, "brb");
  ASSERT_TRUE(brb) << brb.error().problem;
  ASSERT_TRUE(services_->messages.Delete(other_, brb->Message()["id"]));
  clock_.Advance(1000);
  auto answer = Try(other_, space, "3/4/1950");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().problem, "phi_blocked");
  // Two minutes after the approval it asks nothing any more.
  clock_.Advance(PolicyEngine::kCarryMillis);
  auto late = Try(other_, space, "3/4/1950");
  ASSERT_TRUE(late) << late.error().problem;
}

}  // namespace
}  // namespace rounds::app
