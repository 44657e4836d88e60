// MessageService against a real SQLite store: validation, post kinds, threads, edits and deletes,
// reactions and votes, idempotent retries, and the events every change stores and publishes.
#include <atomic>
#include <set>
#include <thread>

#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::Parsed;

class MessageTest : public testing::ServiceTest {
 protected:
  void Configure(Config& config) override { config.max_message_chars = 40; }
  void SetUp() override {
    ServiceTest::SetUp();
    ana_ = MakeUser("ana");
    ben_ = MakeUser("ben");
    community_ = MakeSpace(ana_, SpaceKind::kCommunity, "Ideas for Patient Flow");
    channel_ = MakeSpace(ana_, SpaceKind::kChannel, "ed-charge-nurses", Visibility::kPrivate);
    for (SpaceId id : {community_, channel_}) {
      EXPECT_TRUE(services_->spaces.AddMember(ana_, id, ben_.user.id, MemberRole::kMember));
    }
    ClearPublished();
  }
  Result<PostResult> TryPost(const Actor& author, SpaceId space, Draft draft) {
    return services_->messages.Post(author, space, draft);
  }
  Draft Body(std::string body) {
    Draft d;
    d.body = std::move(body);
    return d;
  }
  std::vector<json> Frames(SpaceId space) {
    std::vector<json> frames;
    for (const auto& e : Published()) {
      if (e.space_id == space && e.seq > 0) frames.push_back(json::parse(*e.frame));
    }
    return frames;
  }
  Actor ana_, ben_;
  SpaceId community_ = 0, channel_ = 0;
};

TEST_F(MessageTest, LengthIsCountedInCodePointsNotBytes) {
  std::string forty_emoji;
  for (int i = 0; i < 40; ++i) forty_emoji += "\xf0\x9f\x92\x89";  // 160 bytes, 40 characters
  EXPECT_TRUE(TryPost(ana_, channel_, Body(forty_emoji)));
  auto refused = TryPost(ana_, channel_, Body(forty_emoji + "!"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "message_too_long");
  EXPECT_EQ(refused.error().field, "/body");
}

TEST_F(MessageTest, BodiesMustBeValidTextAndNotBlank) {
  EXPECT_EQ(TryPost(ana_, channel_, Body("bad \xc3\x28 bytes")).error().problem, "invalid_utf8");
  EXPECT_EQ(TryPost(ana_, channel_, Body(" \n\t ")).error().problem, "empty_message");
  EXPECT_EQ(TryPost(ana_, channel_, Body("")).error().problem, "empty_message");
  Draft long_id = Body("fine");
  long_id.client_id = std::string(65, 'k');
  EXPECT_EQ(TryPost(ana_, channel_, long_id).error().field, "/client_id");
  EXPECT_TRUE(Frames(channel_).empty()) << "nothing refused was stored or published";
}

TEST_F(MessageTest, PollsHaveTwoToTenDistinctOptions) {
  auto poll = [&](std::vector<std::string> options) {
    Draft d = Body("which?");
    d.kind = MessageKind::kPoll;
    d.poll_options = std::move(options);
    return TryPost(ana_, community_, d);
  };
  EXPECT_EQ(poll({"only one"}).error().problem, "invalid_poll");
  EXPECT_EQ(poll({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}).error().problem, "invalid_poll");
  EXPECT_EQ(poll({"same", "same"}).error().problem, "invalid_poll");
  EXPECT_EQ(poll({"", "b"}).error().problem, "invalid_poll");
  auto ok = poll({"Tuesday", "Wednesday", "Thursday"});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->Message()["poll_options"].size(), 3u);
  EXPECT_EQ(ok->Message()["poll_options"][1], (json{{"index", 1}, {"text", "Wednesday"}, {"votes", 0}}));
  Draft not_a_poll = Body("options without a poll");
  not_a_poll.poll_options = {"a", "b"};
  EXPECT_EQ(TryPost(ana_, community_, not_a_poll).error().problem, "invalid_poll");
}

TEST_F(MessageTest, PostKindsBelongInCommunities) {
  for (MessageKind kind : {MessageKind::kDiscussion, MessageKind::kQuestion, MessageKind::kIdea}) {
    Draft d = Body("a post");
    d.kind = kind;
    EXPECT_EQ(TryPost(ana_, channel_, d).error().problem, "invalid_kind") << ToString(kind);
    auto posted = TryPost(ana_, community_, d);
    ASSERT_TRUE(posted);
    EXPECT_EQ(posted->Message()["kind"], ToString(kind));
  }
  EXPECT_EQ(Post(ana_, community_, "plain")["kind"], "discussion") << "a top-level community post is a discussion";
  EXPECT_EQ(Post(ana_, channel_, "plain")["kind"], "message");
}

TEST_F(MessageTest, AnnouncementsAreForOwners) {
  Draft d = Body("News");
  d.kind = MessageKind::kAnnouncement;
  d.title = "Car park";
  EXPECT_EQ(TryPost(ben_, community_, d).error().problem, "owner_required");
  auto posted = TryPost(ana_, community_, d);
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->Message()["kind"], "announcement");
  EXPECT_EQ(posted->Message()["title"], "Car park");
}

TEST_F(MessageTest, ThreadsAreOneLevelDeepAndCountReplies) {
  json root = Post(ana_, channel_, "root");
  json r1 = Post(ben_, channel_, "first reply", MessageKind::kMessage, root["id"].get<MessageId>());
  json r2 = Post(ana_, channel_, "second reply", MessageKind::kMessage, root["id"].get<MessageId>());
  EXPECT_EQ(r1["parent_id"], root["id"]);
  Draft nested = Body("reply to a reply");
  nested.parent_id = r1["id"].get<MessageId>();
  EXPECT_EQ(TryPost(ana_, channel_, nested).error().problem, "invalid_parent");
  Draft elsewhere = Body("reply across spaces");
  elsewhere.parent_id = root["id"].get<MessageId>();
  EXPECT_EQ(TryPost(ana_, community_, elsewhere).error().problem, "invalid_parent");
  Draft titled_reply = Body("a reply that claims to be a question");
  titled_reply.parent_id = root["id"].get<MessageId>();
  titled_reply.kind = MessageKind::kQuestion;
  EXPECT_EQ(TryPost(ana_, channel_, titled_reply).error().field, "/kind");
  auto thread = services_->messages.Thread(ben_, root["id"]);
  ASSERT_TRUE(thread);
  EXPECT_EQ((*thread)["root"]["reply_count"], 2);
  ASSERT_EQ((*thread)["items"].size(), 2u);
  EXPECT_EQ((*thread)["items"][0]["id"], r1["id"]);
  EXPECT_EQ((*thread)["items"][1]["id"], r2["id"]);
  auto top = services_->messages.List(ben_, channel_, {});
  ASSERT_TRUE(top);
  EXPECT_EQ(Parsed(top)["items"].size(), 1u) << "replies stay in their thread";
}

TEST_F(MessageTest, ListingPagesNewestFirstOrOldestFirst) {
  std::vector<Seq> seqs;
  for (int i = 0; i < 5; ++i) seqs.push_back(Post(ana_, channel_, "m" + std::to_string(i))["seq"]);
  MessagePage newest;
  newest.limit = 2;
  auto page1 = services_->messages.List(ben_, channel_, newest);
  ASSERT_TRUE(page1);
  ASSERT_EQ(Parsed(page1)["items"].size(), 2u);
  EXPECT_EQ(Parsed(page1)["items"][0]["seq"], seqs[4]);
  EXPECT_EQ(Parsed(page1)["items"][1]["seq"], seqs[3]);
  ASSERT_TRUE(Parsed(page1)["next_cursor"].is_string());
  MessagePage older;
  older.limit = 2;
  older.before = std::stoll(Parsed(page1)["next_cursor"].get<std::string>());
  auto page2 = services_->messages.List(ben_, channel_, older);
  EXPECT_EQ(Parsed(page2)["items"][0]["seq"], seqs[2]);
  MessagePage forward;
  forward.after = seqs[2];
  auto after = services_->messages.List(ben_, channel_, forward);
  ASSERT_EQ(Parsed(after)["items"].size(), 2u);
  EXPECT_EQ(Parsed(after)["items"][0]["seq"], seqs[3]);
  EXPECT_TRUE(Parsed(after)["next_cursor"].is_null());
  MessagePage both;
  both.before = 3;
  both.after = 1;
  EXPECT_EQ(services_->messages.List(ben_, channel_, both).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(MessageTest, EditsKeepTheirHistory) {
  json m = Post(ana_, channel_, "first draft");
  clock_.Advance(5000);
  auto edited = services_->messages.Edit(ana_, m["id"], "second draft", std::nullopt);
  ASSERT_TRUE(edited);
  EXPECT_EQ((*edited)["body"], "second draft");
  EXPECT_EQ((*edited)["edited_at"], clock_.NowMillis());
  EXPECT_EQ(services_->messages.Edit(ben_, m["id"], "not mine", std::nullopt).error().problem, "author_only");
  EXPECT_EQ(services_->messages.Edit(ana_, m["id"], std::string(41, 'x'), std::nullopt).error().problem,
            "message_too_long");
  auto history = services_->messages.History(ana_, m["id"]);
  ASSERT_TRUE(history);
  ASSERT_GE((*history)["items"].size(), 1u);
  EXPECT_EQ((*history)["items"][0]["body"], "first draft");
  EXPECT_EQ((*history)["items"][0]["version"], 1);
  auto frames = Frames(channel_);
  ASSERT_EQ(frames.back()["event"], "message.edited");
  EXPECT_EQ(frames.back()["data"], *edited);
}

TEST_F(MessageTest, DeletingLeavesATombstoneThatNobodyCanRead) {
  json m = Post(ben_, channel_, "oops, wrong channel");
  ASSERT_TRUE(services_->messages.Delete(ben_, m["id"]));
  EXPECT_EQ(services_->messages.Get(ana_, m["id"]).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(services_->messages.Delete(ben_, m["id"]).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(services_->messages.Edit(ben_, m["id"], "back", std::nullopt).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(Parsed(services_->messages.List(ana_, channel_, {}))["items"].empty());
  auto found = services_->search.Search(ana_, "wrong channel", 20, 0);
  ASSERT_TRUE(found);
  EXPECT_TRUE((*found)["messages"].empty());
  auto frames = Frames(channel_);
  EXPECT_EQ(frames.back()["event"], "message.deleted");
  EXPECT_EQ(frames.back()["data"]["id"], m["id"]);
}

TEST_F(MessageTest, ReactionsToggleAndPublishOnlyRealChanges) {
  json m = Post(ana_, channel_, "coffee is here");
  const std::string thumbs = "\xf0\x9f\x91\x8d";
  ASSERT_TRUE(services_->messages.React(ben_, m["id"], thumbs, true));
  ASSERT_TRUE(services_->messages.React(ben_, m["id"], thumbs, true));
  auto both = services_->messages.React(ana_, m["id"], thumbs, true);
  ASSERT_TRUE(both);
  EXPECT_EQ((*both)["count"], 2);
  auto seen = services_->messages.Get(ben_, m["id"]);
  ASSERT_EQ((*seen)["reactions"].size(), 1u);
  EXPECT_EQ((*seen)["reactions"][0], (json{{"emoji", thumbs}, {"count", 2}, {"mine", true}}));
  ASSERT_TRUE(services_->messages.React(ben_, m["id"], thumbs, false));
  EXPECT_EQ((*services_->messages.Get(ana_, m["id"]))["reactions"][0]["count"], 1);
  int reaction_events = 0;
  for (const auto& f : Frames(channel_)) reaction_events += f["event"] == "reaction.changed";
  EXPECT_EQ(reaction_events, 3) << "the repeated reaction changed nothing and published nothing";
  for (const char* bad : {"", "two words", "<script>", "\xff"}) {
    EXPECT_EQ(services_->messages.React(ben_, m["id"], bad, true).error().problem, "invalid_emoji") << bad;
  }
  // A reaction stored before the emoji rules tightened is refused anew but can be taken back.
  const std::string spelled = "\xF0\x9F\x85\xB6\xF0\x9F\x85\xB0";  // boxed G, A
  ASSERT_TRUE(store_->Write([&](store::WriteTx& tx) { return tx.SetReaction(m["id"], ben_.user.id, spelled, true); }));
  EXPECT_EQ(services_->messages.React(ben_, m["id"], spelled, true).error().problem, "invalid_emoji");
  ASSERT_TRUE(services_->messages.React(ben_, m["id"], spelled, false));
  auto after = services_->messages.Get(ben_, m["id"]);
  ASSERT_TRUE(after);
  for (const auto& r : (*after)["reactions"]) EXPECT_NE(r["emoji"], spelled);
  EXPECT_EQ(services_->messages.React(ben_, m["id"], "\xff", false).error().problem, "invalid_emoji");
}

TEST_F(MessageTest, IdeaVotesAndPollVotesAreOneEach) {
  json idea = Post(ana_, community_, "open the lounge at 08:00", MessageKind::kIdea);
  ASSERT_TRUE(services_->messages.Vote(ben_, idea["id"], true));
  ASSERT_TRUE(services_->messages.Vote(ben_, idea["id"], true));
  ASSERT_TRUE(services_->messages.Vote(ana_, idea["id"], true));
  auto as_ben = services_->messages.Get(ben_, idea["id"]);
  EXPECT_EQ((*as_ben)["vote_count"], 2);
  EXPECT_EQ((*as_ben)["my_vote"], true);
  ASSERT_TRUE(services_->messages.Vote(ben_, idea["id"], false));
  EXPECT_EQ((*services_->messages.Get(ben_, idea["id"]))["vote_count"], 1);
  EXPECT_EQ(services_->messages.Vote(ben_, Post(ana_, community_, "not an idea")["id"], true).error().problem,
            "not_an_idea");

  json poll = Post(ana_, community_, "best day?", MessageKind::kPoll, std::nullopt, {"Mon", "Tue"});
  ASSERT_TRUE(services_->messages.PollVote(ben_, poll["id"], 0));
  ASSERT_TRUE(services_->messages.PollVote(ben_, poll["id"], 1));  // changed their mind
  ASSERT_TRUE(services_->messages.PollVote(ana_, poll["id"], 1));
  auto counted = services_->messages.Get(ben_, poll["id"]);
  EXPECT_EQ((*counted)["poll_options"][0]["votes"], 0);
  EXPECT_EQ((*counted)["poll_options"][1]["votes"], 2);
  EXPECT_EQ((*counted)["my_poll_vote"], 1);
  ASSERT_TRUE(services_->messages.PollVote(ben_, poll["id"], std::nullopt));
  EXPECT_TRUE((*services_->messages.Get(ben_, poll["id"]))["my_poll_vote"].is_null());
  EXPECT_FALSE(services_->messages.PollVote(ben_, poll["id"], 7)) << "no such option";
}

TEST_F(MessageTest, TheAskerAcceptsAnAnswer) {
  json question = Post(ben_, community_, "where is the sepsis tool?", MessageKind::kQuestion);
  json answer = Post(ana_, community_, "pinned in this community", MessageKind::kMessage, question["id"].get<MessageId>());
  auto accepted = services_->messages.Accept(ben_, answer["id"], true);
  ASSERT_TRUE(accepted);
  EXPECT_EQ((*accepted)["id"], question["id"]);
  EXPECT_EQ((*accepted)["accepted_answer_id"], answer["id"]);
  EXPECT_EQ(Frames(community_).back()["event"], "answer.accepted");
  ASSERT_TRUE(services_->messages.Accept(ben_, answer["id"], false));
  EXPECT_TRUE((*services_->messages.Get(ben_, question["id"]))["accepted_answer_id"].is_null());
  json discussion = Post(ben_, community_, "a discussion");
  json comment = Post(ana_, community_, "a comment", MessageKind::kMessage, discussion["id"].get<MessageId>());
  EXPECT_EQ(services_->messages.Accept(ben_, comment["id"], true).error().problem, "not_an_answer");
  EXPECT_EQ(services_->messages.Accept(ben_, question["id"], true).error().problem, "not_an_answer");
}

TEST_F(MessageTest, ModeratorsPinAndUnpin) {
  json m = Post(ben_, channel_, "hand-over checklist");
  EXPECT_EQ(services_->messages.Pin(ben_, m["id"], true).error().problem, "moderator_required");
  ASSERT_TRUE(services_->messages.Pin(ana_, m["id"], true));
  auto pins = services_->messages.Pins(ben_, channel_);
  ASSERT_EQ((*pins)["items"].size(), 1u);
  EXPECT_EQ((*pins)["items"][0]["pinned"], true);
  ASSERT_TRUE(services_->messages.Pin(ana_, m["id"], false));
  EXPECT_TRUE((*services_->messages.Pins(ben_, channel_))["items"].empty());
}

TEST_F(MessageTest, ConcurrentRetriesWithOneClientIdStoreOneMessage) {
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<MessageId> ids;
  std::atomic<int> created{0};
  std::atomic<int> failures{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      Draft d = Body("once");
      d.client_id = "same-key";
      auto r = services_->messages.Post(ana_, channel_, d);
      if (!r) {
        ++failures;
        return;
      }
      if (r->created) ++created;
      std::lock_guard lock(mutex);
      ids.insert(r->Message()["id"].get<MessageId>());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(created, 1);
  EXPECT_EQ(Frames(channel_).size(), 1u) << "a retry publishes nothing";
}

TEST_F(MessageTest, ARetryReturnsTheOriginalEvenIfTheBodyDiffers) {
  Draft d = Body("first attempt");
  d.client_id = "k-1";
  auto first = TryPost(ana_, channel_, d);
  d.body = "second attempt";
  auto retry = TryPost(ana_, channel_, d);
  ASSERT_TRUE(first && retry);
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->Message()["id"], first->Message()["id"]);
  EXPECT_EQ(retry->Message()["body"], "first attempt");
  Draft other_author = Body("another person, same key");
  other_author.client_id = "k-1";
  auto separate = TryPost(ben_, channel_, other_author);
  ASSERT_TRUE(separate);
  EXPECT_TRUE(separate->created) << "client ids are per author";
}

TEST_F(MessageTest, MentionsResolveToMembersAndNotifyThem) {
  Actor cy = MakeUser("cy");  // not a member of the channel
  ClearPublished();
  json m = Post(ana_, channel_, "@ben @cy @ana @nobody");
  EXPECT_EQ(m["mentions"], json::array({ben_.user.id})) << "not outsiders, not oneself, not unknown names";
  std::vector<UserId> notified;
  for (const auto& e : Published()) {
    if (e.type == "mention") notified = *e.recipients;
  }
  EXPECT_EQ(notified, std::vector<UserId>{ben_.user.id});
  auto mentions = services_->messages.Mentions(ben_, 0, 50);
  ASSERT_TRUE(mentions);
  ASSERT_EQ((*mentions)["items"].size(), 1u);
  EXPECT_EQ((*mentions)["items"][0]["message"]["id"], m["id"]);
  EXPECT_EQ((*mentions)["items"][0]["space"]["name"], "ed-charge-nurses");
  ASSERT_TRUE(services_->spaces.Leave(ben_, channel_));
  EXPECT_TRUE((*services_->messages.Mentions(ben_, 0, 50))["items"].empty())
      << "after leaving a private channel its mentions are no longer readable";
}

TEST_F(MessageTest, EveryChangeIsLoggedInOrderAndPublishedAsTheSameFrame) {
  json m = Post(ana_, channel_, "hello");
  ASSERT_TRUE(services_->messages.React(ben_, m["id"], "\xe2\x9c\x85", true));
  ASSERT_TRUE(services_->messages.Edit(ana_, m["id"], "hello all", std::nullopt));
  ASSERT_TRUE(services_->messages.Pin(ana_, m["id"], true));
  auto logged_frames = [&] {
    auto replay = services_->events.Replay(ana_, {{channel_, 0}});
    EXPECT_TRUE(replay);
    std::vector<std::string> logged;
    Seq expected_seq = 1;
    for (const auto& e : *replay) {
      EXPECT_EQ(e.seq, expected_seq++) << "no gaps";
      logged.push_back(*e.frame);
    }
    return logged;
  };
  auto live_frames = [&] {
    std::vector<std::string> live;
    for (const auto& e : Published()) {
      if (e.space_id == channel_ && e.seq > 0) live.push_back(*e.frame);
    }
    return live;
  };
  std::vector<std::string> logged = logged_frames();
  std::vector<std::string> live = live_frames();
  ASSERT_EQ(live.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(logged.end() - 4, logged.end()), live);
  std::vector<std::string> types;
  for (const auto& f : live) {
    json frame = json::parse(f);
    EXPECT_EQ(frame["type"], "event");
    EXPECT_EQ(frame["space_id"], channel_);
    types.push_back(frame["event"]);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"message.created", "reaction.changed", "message.edited", "message.pinned"}));
  json created = json::parse(live[0]);
  EXPECT_EQ(created["seq"], m["seq"]);
  EXPECT_EQ(created["data"], m) << "the event carries the same Message the poster got back";

  // Deleting it logs and publishes the deletion, and what was logged about it before keeps its
  // seq but no longer its content: a replay does not bring a deleted message back.
  ASSERT_TRUE(services_->messages.Delete(ana_, m["id"]));
  const std::vector<std::string> after = logged_frames();
  live = live_frames();
  ASSERT_EQ(live.size(), 5u);
  ASSERT_EQ(after.size(), logged.size() + 1);
  EXPECT_EQ(after.back(), live.back());
  EXPECT_EQ(json::parse(after.back())["event"], "message.deleted");
  for (std::size_t i = after.size() - 5; i + 1 < after.size(); ++i) {
    json frame = json::parse(after[i]);
    EXPECT_EQ(frame["seq"], json::parse(logged[i])["seq"]);
    EXPECT_EQ(frame["event"], "message.purged");
    EXPECT_EQ(frame["data"], (json{{"id", m["id"]}, {"space_id", channel_}}));
    EXPECT_EQ(after[i].find("hello"), std::string::npos);
  }
}

TEST_F(MessageTest, EventsGoToTheMembersAtCommitTime) {
  json m = Post(ana_, channel_, "to members");
  for (const auto& e : Published()) {
    if (e.type != "message.created") continue;
    std::set<UserId> recipients(e.recipients->begin(), e.recipients->end());
    EXPECT_EQ(recipients, (std::set<UserId>{ana_.user.id, ben_.user.id}));
  }
  (void)m;
}

TEST_F(MessageTest, TheMessageDocumentHasEveryDocumentedField) {
  json m = Post(ana_, community_, "shape");
  for (const char* field : {"id", "space_id", "seq", "author_id", "author", "kind", "parent_id", "title", "body",
                            "client_id", "created_at", "edited_at", "deleted", "pinned", "accepted_answer_id",
                            "reply_count", "vote_count", "my_vote", "poll_options", "my_poll_vote", "reactions",
                            "mentions", "state", "hold_reason", "phi_types", "attachments"}) {
    EXPECT_TRUE(m.contains(field)) << field;
  }
  EXPECT_EQ(m["author"], (json{{"id", ana_.user.id}, {"username", "ana"}, {"display_name", "User ana"}}));
  EXPECT_EQ(m["attachments"], json::array());
  EXPECT_EQ(m.size(), 26u) << m.dump();
}

}  // namespace
}  // namespace rounds::app
