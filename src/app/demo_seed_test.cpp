// The demo hospital: idempotent, resumable after an interrupted run, every post kind present, and
// no patient identifiers in any message.
#include <atomic>
#include <map>
#include <set>

#include "app/service_test_support.hpp"
#include "domain/rules.hpp"
#include "governance/phi/scanner.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;

// A store that refuses every write after the first `writes_allowed` (an interrupted run).
class InterruptedStore final : public store::Store {
 public:
  InterruptedStore(store::Store& inner, int writes_allowed) : inner_(inner), writes_left_(writes_allowed) {}
  Status RunWrite(std::function<Status(store::WriteTx&)> unit) override {
    if (writes_left_-- <= 0) return Internal("injected: the process stopped");
    return inner_.RunWrite(std::move(unit));
  }
  Status RunRead(std::function<Status(store::ReadTx&)> unit) override { return inner_.RunRead(std::move(unit)); }
  Status CatchUpSearch() override { return inner_.CatchUpSearch(); }
  Status Backup(const std::string& path) override { return inner_.Backup(path); }
  store::StoreMetrics Metrics() const override { return inner_.Metrics(); }
  void Close() override {}

 private:
  store::Store& inner_;
  std::atomic<int> writes_left_;
};

struct Census {
  std::int64_t users = 0;
  std::size_t spaces = 0;
  Seq events = 0;  // the sum of every space's last_seq: one per stored change
  std::map<std::string, int> kinds;
  int accepted = 0, pinned = 0, with_votes = 0, with_reactions = 0, with_mentions = 0, replies = 0;
  std::vector<std::string> texts;

  bool operator==(const Census& o) const {
    return users == o.users && spaces == o.spaces && events == o.events && kinds == o.kinds;
  }
};

Census Count(store::Store& store) {
  Census c;
  auto status = store.RunRead([&](store::ReadTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(c.users, tx.CountUsers());
    // Every space, direct ones included, is some demo member's; the administrator is in all but DMs.
    std::set<SpaceId> ids;
    ROUNDS_ASSIGN_OR_RETURN(auto listed, tx.ListSpaces({.public_only = false, .include_archived = true, .limit = 1000}));
    for (const auto& s : listed) ids.insert(s.id);
    for (SpaceId id = 1; id <= 200; ++id) {
      ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(id));
      if (space) ids.insert(id);
    }
    c.spaces = ids.size();
    for (SpaceId id : ids) {
      ROUNDS_ASSIGN_OR_RETURN(auto space, tx.FindSpace(id));
      if (!space) return Internal("space " + std::to_string(id) + " vanished");
      c.events += space->last_seq;
      ROUNDS_ASSIGN_OR_RETURN(auto events, tx.ListEvents(id, 0, 100'000));
      for (const auto& e : events) {
        if (e.type != "message.created") continue;
        json m = json::parse(e.payload_json);
        ROUNDS_ASSIGN_OR_RETURN(auto stored, tx.FindMessage(m["id"], 0));
        c.kinds[m["kind"]] += 1;
        c.accepted += stored->accepted_answer_id.has_value();
        c.pinned += stored->pinned;
        c.with_votes += stored->vote_count > 0;
        c.with_reactions += !stored->reactions.empty();
        c.with_mentions += !stored->mentions.empty();
        c.replies += stored->parent_id.has_value();
        c.texts.push_back(stored->title);
        c.texts.push_back(stored->body);
      }
    }
    return Ok();
  });
  EXPECT_TRUE(status) << status.error().internal_message;
  return c;
}

class DemoSeedTest : public testing::ServiceTest {};

TEST_F(DemoSeedTest, SeedsABelievableHospitalWithEveryPostKind) {
  auto accounts = SeedDemo(*services_, *store_);
  ASSERT_TRUE(accounts) << accounts.error().internal_message;
  ASSERT_FALSE(accounts->empty());
  EXPECT_EQ(accounts->front().first, "admin");
  for (const auto& [username, password] : *accounts) {
    EXPECT_GE(password.size(), 12u);
    EXPECT_FALSE(CheckPassword(password, username)) << "the demo password meets the policy";
    EXPECT_TRUE(services_->auth.Login({username, password, true, "", ""})) << username;
  }
  auto compliance = store_->Read([](store::ReadTx& tx) { return tx.FindUserByUsername("compliance"); });
  ASSERT_TRUE(compliance && *compliance);
  EXPECT_TRUE((*compliance)->is_compliance);
  Census c = Count(*store_);
  EXPECT_GE(c.users, 50);
  EXPECT_GE(c.spaces, 9u + 4u) << "communities, channels and direct conversations";
  for (const char* kind : {"message", "discussion", "question", "idea", "poll", "announcement"}) {
    EXPECT_GT(c.kinds[kind], 0) << kind;
  }
  int total = 0;
  for (const auto& [kind, n] : c.kinds) total += n;
  EXPECT_GE(total, 300) << "a few hundred messages";
  EXPECT_GT(c.accepted, 0);
  EXPECT_GT(c.pinned, 0);
  EXPECT_GT(c.with_votes, 0);
  EXPECT_GT(c.with_reactions, 0);
  EXPECT_GT(c.with_mentions, 0);
  EXPECT_GT(c.replies, 0);
}

TEST_F(DemoSeedTest, SeedingTwiceAddsNothing) {
  ASSERT_TRUE(SeedDemo(*services_, *store_));
  Census first = Count(*store_);
  ClearPublished();
  ASSERT_TRUE(SeedDemo(*services_, *store_));
  EXPECT_EQ(Count(*store_), first);
  EXPECT_TRUE(Published().empty()) << "a finished seed is recognised without touching anything";
}

TEST_F(DemoSeedTest, AnInterruptedSeedIsCompletedWithoutDuplicates) {
  // The reference: a clean run in a second database.
  auto clean_store = store::OpenSqliteStore({.path = (dir_ / "clean.db").string(), .read_connections = 1, .sync_full = false});
  ASSERT_TRUE(clean_store);
  {
    Services clean(**clean_store, bus_, clock_, config_);
    ASSERT_TRUE(SeedDemo(clean, **clean_store));
  }
  Census expected = Count(**clean_store);
  (*clean_store)->Close();

  for (int writes_allowed : {70, 400}) {  // stops among the people, then in the middle of the messages
    InterruptedStore interrupted(*store_, writes_allowed);
    Services dying(interrupted, bus_, clock_, config_);
    auto failed = SeedDemo(dying, interrupted);
    ASSERT_FALSE(failed) << "the injected stop must interrupt the seed";
  }
  ASSERT_TRUE(SeedDemo(*services_, *store_));
  EXPECT_EQ(Count(*store_), expected);
}

TEST_F(DemoSeedTest, NoMessageCarriesAPatientIdentifier) {
  ASSERT_TRUE(SeedDemo(*services_, *store_));
  auto scanner = governance::phi::Scanner::Create(governance::phi::DefaultRuleSet(), nullptr);
  ASSERT_TRUE(scanner) << scanner.error().public_message;
  Census c = Count(*store_);
  ASSERT_FALSE(c.texts.empty());
  for (const std::string& text : c.texts) {
    for (const auto& finding : (*scanner)->Scan(text)) {
      ADD_FAILURE() << governance::phi::ToString(finding.type) << " (" << finding.rule_id << ") in: " << text;
    }
  }
}

}  // namespace
}  // namespace rounds::app
