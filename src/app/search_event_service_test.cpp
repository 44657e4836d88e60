// SearchService and EventService against a real SQLite store.
#include <set>

#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;

class SearchEventTest : public testing::ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ana_ = MakeUser("ana");
    ben_ = MakeUser("ben");
    cy_ = MakeUser("cy");
    open_ = MakeSpace(ana_, SpaceKind::kCommunity, "Sepsis Quality Improvement");
    closed_ = MakeSpace(ana_, SpaceKind::kChannel, "cardiology-team", Visibility::kPrivate);
    EXPECT_TRUE(services_->spaces.AddMember(ana_, closed_, ben_.user.id, MemberRole::kMember));
  }
  std::set<std::string> FoundBodies(const Actor& who, const std::string& text) {
    auto found = services_->search.Search(who, text, 20, 0);
    EXPECT_TRUE(found) << found.error().public_message;
    std::set<std::string> bodies;
    for (const auto& hit : (*found)["messages"]) bodies.insert(hit["message"]["body"]);
    return bodies;
  }
  Actor ana_, ben_, cy_;
  SpaceId open_ = 0, closed_ = 0;
};

TEST_F(SearchEventTest, SearchFindsOnlyWhatTheSearcherMayRead) {
  Post(ana_, open_, "lactate recheck within two hours");
  Post(ana_, closed_, "lactate trend for the cath lab list");
  SpaceId dm = (*services_->spaces.Direct(ana_, {ben_.user.id}))["id"];
  Post(ana_, dm, "lactate question between us");
  EXPECT_EQ(FoundBodies(ana_, "lactate").size(), 3u);
  EXPECT_EQ(FoundBodies(ben_, "lactate").size(), 3u);
  EXPECT_EQ(FoundBodies(cy_, "lactate"), std::set<std::string>{"lactate recheck within two hours"});
  Actor admin = MakeUser("boss", true);
  EXPECT_EQ(FoundBodies(admin, "lactate").size(), 1u) << "administrators search like everyone else";
}

TEST_F(SearchEventTest, SearchResultsCarryTheirSpaceAndASnippet) {
  Post(ana_, open_, "bundle compliance improved on ward seven");
  auto found = services_->search.Search(cy_, "compliance", 20, 0);
  ASSERT_TRUE(found);
  ASSERT_EQ((*found)["messages"].size(), 1u);
  const json& hit = (*found)["messages"][0];
  EXPECT_EQ(hit["space"], (json{{"id", open_}, {"name", "Sepsis Quality Improvement"}, {"kind", "community"}}));
  EXPECT_NE(hit["snippet"].get<std::string>().find("[[compliance]]"), std::string::npos) << hit["snippet"];
}

TEST_F(SearchEventTest, SearchAlsoFindsPeopleAndPublicSpaces) {
  auto found = services_->search.Search(cy_, "sepsis", 20, 0);
  ASSERT_TRUE(found);
  ASSERT_EQ((*found)["spaces"].size(), 1u);
  EXPECT_EQ((*found)["spaces"][0]["id"], open_);
  auto cardiology = services_->search.Search(cy_, "cardiology", 20, 0);
  EXPECT_TRUE((*cardiology)["spaces"].empty()) << "private spaces are not listed";
  auto people = services_->search.Search(cy_, "ben", 20, 0);
  ASSERT_FALSE((*people)["people"].empty());
  EXPECT_EQ((*people)["people"][0]["username"], "ben");
}

TEST_F(SearchEventTest, SearchPagesWithAnOffsetCursor) {
  for (int i = 0; i < 5; ++i) Post(ana_, open_, "handover note " + std::to_string(i));
  auto first = services_->search.Search(ana_, "handover", 3, 0);
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)["messages"].size(), 3u);
  ASSERT_EQ((*first)["next_cursor"], "3");
  auto second = services_->search.Search(ana_, "handover", 3, 3);
  EXPECT_EQ((*second)["messages"].size(), 2u);
  EXPECT_TRUE((*second)["next_cursor"].is_null());
  EXPECT_TRUE((*second)["people"].empty()) << "people and spaces come with the first page only";
}

TEST_F(SearchEventTest, SearchTextIsBoundedAndAnyPunctuationIsSafe) {
  EXPECT_EQ(services_->search.Search(ana_, std::string(501, 'q'), 20, 0).error().field, "/q");
  EXPECT_EQ(services_->search.Search(ana_, "bad \xff", 20, 0).error().problem, "invalid_query");
  EXPECT_EQ(services_->search.Search(ana_, "x", 20, -1).error().field, "/cursor");
  for (const char* odd : {"\"", "AND OR NOT", "a* NEAR(b)", "col:value", "(((", "'; DROP TABLE messages; --"}) {
    EXPECT_TRUE(services_->search.Search(ana_, odd, 20, 0)) << odd;
  }
}

TEST_F(SearchEventTest, ReplayReturnsEventsAfterEachCursorInOrder) {
  Post(ana_, open_, "one");
  Post(ana_, open_, "two");
  Post(ana_, closed_, "three");
  auto replay = services_->events.Replay(ana_, {{open_, 2}, {closed_, 0}});
  ASSERT_TRUE(replay);
  std::vector<std::pair<SpaceId, Seq>> got;
  for (const auto& e : *replay) got.emplace_back(e.space_id, e.seq);
  // open_: 1 member.joined, 2 "one", 3 "two". closed_: 1 joined (ana), 2 joined (ben), 3 "three".
  EXPECT_EQ(got, (std::vector<std::pair<SpaceId, Seq>>{{open_, 3}, {closed_, 1}, {closed_, 2}, {closed_, 3}}));
  EXPECT_EQ(json::parse(*(*replay)[0].frame)["data"]["body"], "two");
}

TEST_F(SearchEventTest, ReplaySkipsSpacesTheCallerIsNotIn) {
  Post(ana_, closed_, "members only");
  auto replay = services_->events.Replay(cy_, {{closed_, 0}, {open_, 0}, {999'999, 0}});
  ASSERT_TRUE(replay);
  EXPECT_TRUE(replay->empty()) << "not a member of either; unknown ids are ignored too";
}

TEST_F(SearchEventTest, ReplayStopsAtTheLimitSoTheClientAsksAgain) {
  for (int i = 0; i < 5; ++i) Post(ana_, open_, "m" + std::to_string(i));
  auto replay = services_->events.Replay(ana_, {{open_, 0}}, 3);
  ASSERT_TRUE(replay);
  ASSERT_EQ(replay->size(), 3u);
  EXPECT_EQ(replay->back().seq, 3);
}

TEST_F(SearchEventTest, TypingGoesToTheOtherMembersOnly) {
  ClearPublished();
  ASSERT_TRUE(services_->events.Typing(ben_, closed_));
  auto published = Published();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(*published[0].recipients, std::vector<UserId>{ana_.user.id});
  EXPECT_EQ(published[0].seq, 0) << "ephemeral: never sequenced";
  EXPECT_EQ(json::parse(*published[0].frame),
            (json{{"type", "typing"}, {"space_id", closed_}, {"user_id", ben_.user.id}}));
  EXPECT_EQ(services_->events.Typing(cy_, closed_).error().code, ErrorCode::kNotFound);
  auto replay = services_->events.Replay(ana_, {{closed_, 0}});
  for (const auto& e : *replay) EXPECT_NE(json::parse(*e.frame)["event"], "typing");
}

TEST_F(SearchEventTest, PresenceIsAnnouncedToEveryone) {
  ClearPublished();
  services_->events.Presence({ben_.user.id}, {cy_.user.id}, 7);
  auto published = Published();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].recipients, nullptr);
  EXPECT_EQ(json::parse(*published[0].frame),
            (json{{"type", "presence"}, {"version", 7}, {"online", {ben_.user.id}}, {"offline", {cy_.user.id}}}));
}

TEST_F(SearchEventTest, EventFramesSpliceThePayloadVerbatim) {
  SpaceEvent e{7, 42, "message.created", R"({"id":1,"body":"a \"quoted\" word"})", 0};
  json frame = json::parse(*EventService::EventFrame(e));
  EXPECT_EQ(frame, (json{{"type", "event"}, {"space_id", 7}, {"seq", 42}, {"event", "message.created"},
                         {"data", {{"id", 1}, {"body", "a \"quoted\" word"}}}}));
}

}  // namespace
}  // namespace rounds::app
