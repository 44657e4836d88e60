// Store contract: messages, threads, edits, reactions and votes, read markers, mentions, events
// and search.
#include <map>
#include <set>

#include "store/storetest/contract_helpers.hpp"
#include "store/storetest/store_contract.hpp"

namespace rounds::store::storetest {
namespace {

// ---- Messages -------------------------------------------------------------------------------

TEST_P(StoreContractTest, InsertsAndFindsMessagesWithEveryField) {
  UserId a = AddUser(store(), "author");
  UserId b = AddUser(store(), "mentioned");
  SpaceId space = AddSpace(store(), "Fields", a);
  auto posted = Post(store(), space, a,
                     Draft{.body = "Body text", .title = "A title", .kind = MessageKind::kQuestion,
                           .client_id = "c-42", .mentions = {b}});
  ASSERT_TRUE(posted) << Describe(posted);
  EXPECT_EQ(posted->seq, 1);
  auto found = FindMessage(store(), posted->id, a);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, posted->id);
  EXPECT_EQ(found->space_id, space);
  EXPECT_EQ(found->seq, 1);
  EXPECT_EQ(found->author_id, a);
  EXPECT_EQ(found->kind, MessageKind::kQuestion);
  EXPECT_FALSE(found->parent_id);
  EXPECT_EQ(found->title, "A title");
  EXPECT_EQ(found->body, "Body text");
  EXPECT_EQ(found->client_id, "c-42");
  EXPECT_EQ(found->created_at, kNow);
  EXPECT_EQ(found->edited_at, 0);
  EXPECT_FALSE(found->deleted);
  EXPECT_FALSE(found->pinned);
  EXPECT_FALSE(found->accepted_answer_id);
  EXPECT_EQ(found->reply_count, 0);
  EXPECT_EQ(found->vote_count, 0);
  EXPECT_EQ(found->mentions, std::vector<UserId>{b});
  EXPECT_TRUE(found->reactions.empty());
  EXPECT_TRUE(found->poll_options.empty());

  auto second = Post(store(), space, a, "second");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->seq, 2);
  auto space_row = store().Read([&](ReadTx& tx) { return tx.FindSpace(space); });
  EXPECT_EQ((*space_row)->last_seq, 2);
  EXPECT_FALSE(FindMessage(store(), 424242, a));
}

TEST_P(StoreContractTest, NextSeqOfAMissingSpaceIsNotFound) {
  auto seq = store().Write([](WriteTx& tx) { return tx.NextSeq(424242); });
  ASSERT_FALSE(seq);
  EXPECT_EQ(seq.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, DuplicateClientIdIsConflictAndFindable) {
  UserId u = AddUser(store(), "retry");
  SpaceId space = AddSpace(store(), "Retry", u);
  auto first = Post(store(), space, u, Draft{.body = "once", .client_id = "c-1"});
  ASSERT_TRUE(first) << Describe(first);
  auto second = Post(store(), space, u, Draft{.body = "once again", .client_id = "c-1"});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  auto found = store().Read([&](ReadTx& tx) { return tx.FindMessageByClientId(space, u, "c-1"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, first->id);
  EXPECT_EQ((*found)->body, "once");
  // The rejected retry consumed no sequence number and left no message.
  EXPECT_EQ(List(store(), {.space_id = space}).size(), 1u);
  auto next = Post(store(), space, u, "next");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 2);

  // The same client id from another author, or in another space, is a different message.
  UserId other = AddUser(store(), "other");
  EXPECT_TRUE(Post(store(), space, other, Draft{.body = "mine", .client_id = "c-1"}));
  SpaceId elsewhere = AddSpace(store(), "Elsewhere", u);
  EXPECT_TRUE(Post(store(), elsewhere, u, Draft{.body = "there", .client_id = "c-1"}));
  // No client id means no idempotency: two posts are two messages.
  EXPECT_TRUE(Post(store(), space, u, "plain"));
  EXPECT_TRUE(Post(store(), space, u, "plain"));
  auto none = store().Read([&](ReadTx& tx) { return tx.FindMessageByClientId(space, u, ""); });
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_P(StoreContractTest, PagesMessagesBothWaysAndThreads) {
  UserId u = AddUser(store(), "pager");
  SpaceId space = AddSpace(store(), "Pages", u);
  std::vector<Message> posted;
  for (int i = 0; i < 10; ++i) {
    auto m = Post(store(), space, u, "m" + std::to_string(i));
    ASSERT_TRUE(m);
    posted.push_back(*m);
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(Post(store(), space, u, Draft{.body = "r" + std::to_string(i), .parent_id = posted[2].id}));
  }

  // Newest first by default and with before_seq; thread replies stay out of the top level.
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .limit = 3})), (std::vector<std::string>{"m9", "m8", "m7"}));
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .before_seq = posted[7].seq, .limit = 3})),
            (std::vector<std::string>{"m6", "m5", "m4"}));
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .before_seq = posted[1].seq, .limit = 3})),
            (std::vector<std::string>{"m0"}));
  EXPECT_EQ(List(store(), {.space_id = space, .limit = 100}).size(), 10u);
  // Oldest first with after_seq.
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .after_seq = 0, .limit = 2})),
            (std::vector<std::string>{"m0", "m1"}));
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .after_seq = posted[7].seq, .limit = 5})),
            (std::vector<std::string>{"m8", "m9"}));
  EXPECT_TRUE(List(store(), {.space_id = space, .after_seq = posted[9].seq + 100}).empty());

  // A thread pages the same way.
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .parent_id = posted[2].id, .after_seq = 0, .limit = 3})),
            (std::vector<std::string>{"r0", "r1", "r2"}));
  auto newest_replies = List(store(), {.space_id = space, .parent_id = posted[2].id, .limit = 2});
  EXPECT_EQ(Bodies(newest_replies), (std::vector<std::string>{"r3", "r2"}));
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .parent_id = posted[2].id,
                                  .before_seq = newest_replies.back().seq, .limit = 5})),
            (std::vector<std::string>{"r1", "r0"}));
  EXPECT_TRUE(List(store(), {.space_id = space, .parent_id = posted[3].id}).empty());
  for (const auto& r : List(store(), {.space_id = space, .parent_id = posted[2].id})) {
    EXPECT_EQ(r.parent_id, posted[2].id);
  }
  auto root = FindMessage(store(), posted[2].id, u);
  ASSERT_TRUE(root);
  EXPECT_EQ(root->reply_count, 4);

  // Every thread at once: the space's messages in seq order, replies among the posts.
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .all_threads = true, .limit = 5})),
            (std::vector<std::string>{"r3", "r2", "r1", "r0", "m9"}));
  EXPECT_EQ(Bodies(List(store(), {.space_id = space, .all_threads = true, .after_seq = posted[8].seq, .limit = 3})),
            (std::vector<std::string>{"m9", "r0", "r1"}));
  EXPECT_EQ(List(store(), {.space_id = space, .all_threads = true, .limit = 100}).size(), 14u);

  // Another space's messages never leak into this one's pages.
  SpaceId other = AddSpace(store(), "Other", u);
  ASSERT_TRUE(Post(store(), other, u, "elsewhere"));
  EXPECT_EQ(List(store(), {.space_id = space, .limit = 100}).size(), 10u);
}

TEST_P(StoreContractTest, RepliesMustStayInTheirSpace) {
  UserId u = AddUser(store(), "threader");
  SpaceId one = AddSpace(store(), "One", u);
  SpaceId two = AddSpace(store(), "Two", u);
  auto root = Post(store(), one, u, "root");
  ASSERT_TRUE(root);
  auto crossed = Post(store(), two, u, Draft{.body = "wrong space", .parent_id = root->id});
  ASSERT_FALSE(crossed);
  EXPECT_EQ(crossed.error().code, ErrorCode::kInvalidArgument);
  auto dangling = Post(store(), one, u, Draft{.body = "no parent", .parent_id = 424242});
  ASSERT_FALSE(dangling);
  EXPECT_EQ(FindMessage(store(), root->id, u)->reply_count, 0);
  auto two_row = store().Read([&](ReadTx& tx) { return tx.FindSpace(two); });
  EXPECT_EQ((*two_row)->last_seq, 0);
}

TEST_P(StoreContractTest, EditsKeepHistoryAndDeletesTombstone) {
  UserId u = AddUser(store(), "editor");
  UserId mod = AddUser(store(), "moderator");
  SpaceId space = AddSpace(store(), "Edits", u);
  auto m = Post(store(), space, u, Draft{.body = "first draft", .title = "T1"});
  ASSERT_TRUE(m);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(m->id, "T2", "second draft", kNow + 5, u); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(m->id, "T2", "third draft", kNow + 9, mod); }));
  auto edits = store().Read([&](ReadTx& tx) { return tx.ListEdits(m->id); });
  ASSERT_TRUE(edits) << Describe(edits);
  ASSERT_EQ(edits->size(), 3u);
  EXPECT_EQ((*edits)[0].version, 1);
  EXPECT_EQ((*edits)[0].body, "first draft");
  EXPECT_EQ((*edits)[0].edited_at, kNow);
  EXPECT_EQ((*edits)[0].editor_id, u);
  EXPECT_EQ((*edits)[1].version, 2);
  EXPECT_EQ((*edits)[1].body, "second draft");
  EXPECT_EQ((*edits)[2].version, 3);
  EXPECT_EQ((*edits)[2].body, "third draft");
  EXPECT_EQ((*edits)[2].editor_id, mod);
  EXPECT_EQ((*edits)[2].edited_at, kNow + 9);
  auto current = FindMessage(store(), m->id, u);
  ASSERT_TRUE(current);
  EXPECT_EQ(current->edited_at, kNow + 9);
  EXPECT_EQ(current->title, "T2");
  EXPECT_EQ(current->body, "third draft");
  auto unedited = Post(store(), space, u, "never edited");
  auto none = store().Read([&](ReadTx& tx) { return tx.ListEdits(unedited->id); });
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(m->id, kNow + 20); }));
  auto deleted = FindMessage(store(), m->id, u);
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(deleted->deleted);
  EXPECT_TRUE(deleted->body.empty());
  EXPECT_TRUE(deleted->title.empty());
  EXPECT_EQ(deleted->seq, m->seq);
  EXPECT_EQ(Bodies(List(store(), {.space_id = space})), std::vector<std::string>{"never edited"});
  auto with_tombstones = List(store(), {.space_id = space, .include_deleted = true});
  ASSERT_EQ(with_tombstones.size(), 2u);
  EXPECT_TRUE(with_tombstones[1].deleted);
  // No legal hold covers it: its earlier versions went with the text (a held one keeps them, see
  // DeletingAMessageTakesItsHistoryAndPollTextUnlessHeld).
  EXPECT_TRUE(store().Read([&](ReadTx& tx) { return tx.ListEdits(m->id); })->empty());

  // A tombstone cannot be edited; deleting it again changes nothing; missing ids are not found.
  auto edit_deleted = store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(m->id, "", "zombie", kNow, u); });
  ASSERT_FALSE(edit_deleted);
  EXPECT_EQ(edit_deleted.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(m->id, kNow + 30); }));
  auto edit_missing = store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(424242, "", "x", kNow, u); });
  ASSERT_FALSE(edit_missing);
  EXPECT_EQ(edit_missing.error().code, ErrorCode::kNotFound);
  auto delete_missing = store().Write([&](WriteTx& tx) { return tx.DeleteMessage(424242, kNow); });
  ASSERT_FALSE(delete_missing);
  EXPECT_EQ(delete_missing.error().code, ErrorCode::kNotFound);
}

// A delete leaves a tombstone and nothing of what it said: no earlier versions, no poll options
// (their text is the author's, screened like the body) and no votes on them. Under a legal hold
// everything stays for e-discovery, the final text in its held deletion.
TEST_P(StoreContractTest, DeletingAMessageTakesItsHistoryAndPollTextUnlessHeld) {
  UserId u = AddUser(store(), "pollster");
  UserId voter = AddUser(store(), "voter");
  SpaceId free_space = AddSpace(store(), "Free", u);
  SpaceId held_space = AddSpace(store(), "Held", u);
  LegalHold hold;
  hold.name = "Matter 9";
  hold.space_ids = {held_space};
  hold.created_by = 1;
  hold.created_at = kNow;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertLegalHold(hold); }));
  auto poll_in = [&](SpaceId space) {
    auto poll = Post(store(), space, u,
                     Draft{.body = "Which ward, Mrs Adeyemi?", .kind = MessageKind::kPoll,
                           .poll_options = {"Ward 7", "Ward 9"}});
    EXPECT_TRUE(poll) << Describe(poll);
    MessageId id = poll ? poll->id : 0;
    EXPECT_TRUE(store().Write([&](WriteTx& tx) -> Status {
      ROUNDS_RETURN_IF_ERROR(tx.UpdateMessageBody(id, "", "Which ward?", kNow + 1, u));
      ROUNDS_RETURN_IF_ERROR(tx.SetPollVote(id, voter, 1).map([](bool) {}));
      return tx.DeleteMessage(id, kNow + 2);
    }));
    return id;
  };
  MessageId free_id = poll_in(free_space);
  MessageId held_id = poll_in(held_space);
  auto edits = [&](MessageId id) {
    auto versions = store().Read([&](ReadTx& tx) { return tx.ListEdits(id); });
    EXPECT_TRUE(versions) << Describe(versions);
    return versions.value_or(std::vector<MessageEdit>{});
  };

  auto free_tombstone = FindMessage(store(), free_id, voter);
  ASSERT_TRUE(free_tombstone);
  EXPECT_TRUE(free_tombstone->deleted);
  EXPECT_TRUE(free_tombstone->body.empty());
  EXPECT_TRUE(edits(free_id).empty());
  EXPECT_TRUE(free_tombstone->poll_options.empty());
  EXPECT_FALSE(free_tombstone->my_poll_vote);
  auto no_held_text = store().Read([&](ReadTx& tx) { return tx.FindHeldDeletion(free_id); });
  ASSERT_TRUE(no_held_text);
  EXPECT_FALSE(*no_held_text);

  auto held_tombstone = FindMessage(store(), held_id, voter);
  ASSERT_TRUE(held_tombstone);
  EXPECT_TRUE(held_tombstone->deleted);
  EXPECT_TRUE(held_tombstone->body.empty());
  auto held_versions = edits(held_id);
  ASSERT_EQ(held_versions.size(), 2u);
  EXPECT_EQ(held_versions[0].body, "Which ward, Mrs Adeyemi?");
  ASSERT_EQ(held_tombstone->poll_options.size(), 2u);
  EXPECT_EQ(held_tombstone->poll_options[1].text, "Ward 9");
  EXPECT_EQ(held_tombstone->poll_options[1].votes, 1);
  auto held_text = store().Read([&](ReadTx& tx) { return tx.FindHeldDeletion(held_id); });
  ASSERT_TRUE(held_text && *held_text) << Describe(held_text);
  EXPECT_EQ((*held_text)->body, "Which ward?");

  // Deleting the tombstone again takes nothing more of the held one.
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(held_id, kNow + 3); }));
  EXPECT_EQ(edits(held_id).size(), 2u);
}

TEST_P(StoreContractTest, DeletedRepliesLeaveTheReplyCount) {
  UserId u = AddUser(store(), "counter");
  SpaceId space = AddSpace(store(), "Counts", u);
  auto root = Post(store(), space, u, "root");
  ASSERT_TRUE(root);
  std::vector<MessageId> replies;
  for (int i = 0; i < 3; ++i) {
    auto r = Post(store(), space, u, Draft{.body = "reply", .parent_id = root->id});
    ASSERT_TRUE(r);
    replies.push_back(r->id);
  }
  EXPECT_EQ(FindMessage(store(), root->id, u)->reply_count, 3);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(replies[1], kNow); }));
  EXPECT_EQ(FindMessage(store(), root->id, u)->reply_count, 2);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(replies[1], kNow); }));
  EXPECT_EQ(FindMessage(store(), root->id, u)->reply_count, 2);
  EXPECT_EQ(List(store(), {.space_id = space, .parent_id = root->id}).size(), 2u);
}

// ---- Reactions, votes, polls, pins ----------------------------------------------------------

TEST_P(StoreContractTest, ReactionsVotesAndPollsArePerViewer) {
  UserId a = AddUser(store(), "ra");
  UserId b = AddUser(store(), "rb");
  SpaceId space = AddSpace(store(), "React", a);
  auto idea = Post(store(), space, a, Draft{.body = "Discharge lounge", .kind = MessageKind::kIdea});
  auto poll = Post(store(), space, a,
                   Draft{.body = "Huddle time?", .kind = MessageKind::kPoll, .poll_options = {"07:00", "07:30", "08:00"}});
  ASSERT_TRUE(idea && poll);
  auto set_reaction = [&](MessageId id, UserId user, const char* emoji, bool on) {
    auto changed = store().Write([&](WriteTx& tx) { return tx.SetReaction(id, user, emoji, on); });
    EXPECT_TRUE(changed) << Describe(changed);
    return changed.value_or(false);
  };
  EXPECT_TRUE(set_reaction(idea->id, a, "👍", true));
  EXPECT_FALSE(set_reaction(idea->id, a, "👍", true));
  EXPECT_TRUE(set_reaction(idea->id, b, "👍", true));
  EXPECT_TRUE(set_reaction(idea->id, b, "🎉", true));
  EXPECT_TRUE(set_reaction(idea->id, b, "🎉", false));
  EXPECT_FALSE(set_reaction(idea->id, b, "🎉", false));
  EXPECT_TRUE(set_reaction(idea->id, a, "❤️", true));

  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetIdeaVote(idea->id, b, true); }));
  EXPECT_FALSE(*store().Write([&](WriteTx& tx) { return tx.SetIdeaVote(idea->id, b, true); }));
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(poll->id, b, 1); }));
  EXPECT_FALSE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(poll->id, b, 1); }));
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(poll->id, a, 0); }));
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(poll->id, a, 2); }));  // a changes their mind
  auto bad = store().Write([&](WriteTx& tx) { return tx.SetPollVote(poll->id, a, 7); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto not_a_poll = store().Write([&](WriteTx& tx) { return tx.SetPollVote(idea->id, a, 0); });
  ASSERT_FALSE(not_a_poll);
  EXPECT_EQ(not_a_poll.error().code, ErrorCode::kInvalidArgument);

  auto seen_by_b = FindMessage(store(), idea->id, b);
  ASSERT_TRUE(seen_by_b);
  ASSERT_EQ(seen_by_b->reactions.size(), 2u);
  EXPECT_EQ(seen_by_b->reactions[0].emoji, "👍");  // most used first
  EXPECT_EQ(seen_by_b->reactions[0].count, 2);
  EXPECT_TRUE(seen_by_b->reactions[0].mine);
  EXPECT_EQ(seen_by_b->reactions[1].count, 1);
  EXPECT_FALSE(seen_by_b->reactions[1].mine);
  EXPECT_EQ(seen_by_b->vote_count, 1);
  EXPECT_TRUE(seen_by_b->my_vote);
  auto seen_by_a = FindMessage(store(), idea->id, a);
  EXPECT_TRUE(seen_by_a->reactions[1].mine);
  EXPECT_FALSE(seen_by_a->my_vote);

  auto poll_by_b = FindMessage(store(), poll->id, b);
  ASSERT_TRUE(poll_by_b);
  ASSERT_EQ(poll_by_b->poll_options.size(), 3u);
  EXPECT_EQ(poll_by_b->poll_options[0].text, "07:00");
  EXPECT_EQ(poll_by_b->poll_options[0].votes, 0);
  EXPECT_EQ(poll_by_b->poll_options[1].votes, 1);
  EXPECT_EQ(poll_by_b->poll_options[2].votes, 1);
  EXPECT_EQ(poll_by_b->my_poll_vote, 1);
  EXPECT_EQ(FindMessage(store(), poll->id, a)->my_poll_vote, 2);

  // A page of messages carries the same per-viewer details as FindMessage.
  for (UserId viewer : {a, b}) {
    auto page = List(store(), {.space_id = space, .viewer_id = viewer});
    ASSERT_EQ(page.size(), 2u);
    for (const auto& m : page) {
      auto single = FindMessage(store(), m.id, viewer);
      ASSERT_TRUE(single);
      EXPECT_EQ(m.reactions.size(), single->reactions.size());
      for (std::size_t i = 0; i < m.reactions.size(); ++i) {
        EXPECT_EQ(m.reactions[i].emoji, single->reactions[i].emoji);
        EXPECT_EQ(m.reactions[i].count, single->reactions[i].count);
        EXPECT_EQ(m.reactions[i].mine, single->reactions[i].mine);
      }
      EXPECT_EQ(m.my_vote, single->my_vote);
      EXPECT_EQ(m.my_poll_vote, single->my_poll_vote);
      EXPECT_EQ(m.poll_options.size(), single->poll_options.size());
      EXPECT_EQ(m.vote_count, single->vote_count);
    }
  }

  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetIdeaVote(idea->id, b, false); }));
  EXPECT_EQ(FindMessage(store(), idea->id, a)->vote_count, 0);
  EXPECT_TRUE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(poll->id, b, std::nullopt); }));
  EXPECT_FALSE(*store().Write([&](WriteTx& tx) { return tx.SetPollVote(poll->id, b, std::nullopt); }));
  auto after = FindMessage(store(), poll->id, b);
  EXPECT_FALSE(after->my_poll_vote);
  EXPECT_EQ(after->poll_options[1].votes, 0);

  auto on_missing = store().Write([&](WriteTx& tx) { return tx.SetReaction(424242, a, "👍", true); });
  ASSERT_FALSE(on_missing);
  EXPECT_EQ(on_missing.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, PinsAndAcceptedAnswers) {
  UserId u = AddUser(store(), "pin");
  SpaceId space = AddSpace(store(), "Pins", u);
  auto q = Post(store(), space, u, Draft{.body = "Which pump?", .kind = MessageKind::kQuestion});
  auto a = Post(store(), space, u, Draft{.body = "The new one", .parent_id = q->id});
  auto old = Post(store(), space, u, "Old notice");
  ASSERT_TRUE(q && a && old);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetPinned(q->id, true); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetPinned(old->id, true); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetAcceptedAnswer(q->id, a->id); }));
  auto pinned = store().Read([&](ReadTx& tx) { return tx.ListPinned(space, u); });
  ASSERT_TRUE(pinned);
  ASSERT_EQ(pinned->size(), 2u);
  EXPECT_EQ((*pinned)[0].id, old->id);  // newest first
  EXPECT_EQ((*pinned)[1].accepted_answer_id, a->id);
  EXPECT_TRUE((*pinned)[1].pinned);

  // Deleted messages drop off the pins; unpinning and clearing an answer work.
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(old->id, kNow); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetAcceptedAnswer(q->id, std::nullopt); }));
  pinned = store().Read([&](ReadTx& tx) { return tx.ListPinned(space, u); });
  ASSERT_EQ(pinned->size(), 1u);
  EXPECT_FALSE((*pinned)[0].accepted_answer_id);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetPinned(q->id, false); }));
  EXPECT_TRUE(store().Read([&](ReadTx& tx) { return tx.ListPinned(space, u); })->empty());

  auto missing = store().Write([&](WriteTx& tx) { return tx.SetPinned(424242, true); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto missing_answer = store().Write([&](WriteTx& tx) { return tx.SetAcceptedAnswer(424242, a->id); });
  ASSERT_FALSE(missing_answer);
  EXPECT_EQ(missing_answer.error().code, ErrorCode::kNotFound);
}

// ---- Read markers and mentions --------------------------------------------------------------

TEST_P(StoreContractTest, ReadMarkersDriveUnreadCounts) {
  UserId alice = AddUser(store(), "alice");
  UserId bob = AddUser(store(), "bob");
  SpaceId space = AddSpace(store(), "Unread", alice);
  ASSERT_TRUE(Join(store(), space, bob));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Post(store(), space, alice, "note"));          // seq 1-4
  auto mention = Post(store(), space, alice, Draft{.body = "@bob please check", .mentions = {bob}});  // 5
  ASSERT_TRUE(mention);
  ASSERT_TRUE(Post(store(), space, bob, "my own message"));                              // 6
  auto doomed = Post(store(), space, alice, Draft{.body = "@bob oops", .mentions = {bob}});          // 7
  ASSERT_TRUE(doomed);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(doomed->id, kNow); }));

  auto entry = SidebarEntry(store(), bob, space);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->unread_count, 5);    // not his own, not the deleted one
  EXPECT_EQ(entry->unread_mentions, 1);  // not the deleted one
  EXPECT_EQ(entry->space.member_count, 2);
  EXPECT_EQ(entry->space.last_seq, 7);
  auto for_alice = SidebarEntry(store(), alice, space);
  EXPECT_EQ(for_alice->unread_count, 1);
  EXPECT_EQ(for_alice->unread_mentions, 0);

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReadSeq(space, bob, 4); }));
  entry = SidebarEntry(store(), bob, space);
  EXPECT_EQ(entry->unread_count, 1);
  EXPECT_EQ(entry->unread_mentions, 1);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReadSeq(space, bob, 5); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReadSeq(space, bob, 2); }));  // never backwards
  entry = SidebarEntry(store(), bob, space);
  EXPECT_EQ(entry->unread_count, 0);
  EXPECT_EQ(entry->unread_mentions, 0);
  EXPECT_EQ(entry->membership.read_seq, 5);
  // Never past the newest message: a marker from the future would hide what comes next.
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReadSeq(space, bob, 1'000'000); }));
  EXPECT_EQ(SidebarEntry(store(), bob, space)->membership.read_seq, 7);
  ASSERT_TRUE(Post(store(), space, alice, "after"));
  EXPECT_EQ(SidebarEntry(store(), bob, space)->unread_count, 1);
}

TEST_P(StoreContractTest, MentionsAreListedNewestFirstAndPaged) {
  UserId alice = AddUser(store(), "malice");
  UserId bob = AddUser(store(), "mbob");
  SpaceId one = AddSpace(store(), "M1", alice);
  SpaceId two = AddSpace(store(), "M2", alice);
  std::vector<MessageId> ids;
  for (int i = 0; i < 5; ++i) {
    auto m = Post(store(), i % 2 ? two : one, alice, Draft{.body = "@mbob", .mentions = {bob, bob}});
    ASSERT_TRUE(m) << Describe(m);
    ids.push_back(m->id);
  }
  ASSERT_TRUE(Post(store(), one, alice, Draft{.body = "@malice self", .mentions = {alice}}));
  auto page1 = store().Read([&](ReadTx& tx) { return tx.ListMentions(bob, 0, 3); });
  ASSERT_TRUE(page1) << Describe(page1);
  ASSERT_EQ(page1->size(), 3u);
  EXPECT_EQ((*page1)[0].message_id, ids[4]);
  EXPECT_EQ((*page1)[0].user_id, bob);
  EXPECT_EQ((*page1)[0].space_id, one);
  EXPECT_EQ((*page1)[0].created_at, kNow);
  EXPECT_EQ((*page1)[1].space_id, two);
  auto page2 = store().Read([&](ReadTx& tx) { return tx.ListMentions(bob, page1->back().message_id, 3); });
  ASSERT_TRUE(page2);
  ASSERT_EQ(page2->size(), 2u);
  EXPECT_EQ((*page2)[0].message_id, ids[1]);
  EXPECT_EQ((*page2)[1].message_id, ids[0]);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(ids[4], kNow); }));
  auto after_delete = store().Read([&](ReadTx& tx) { return tx.ListMentions(bob, 0, 10); });
  EXPECT_EQ(after_delete->size(), 4u);
  EXPECT_EQ(FindMessage(store(), ids[0], bob)->mentions, std::vector<UserId>{bob});
}

// ---- Events ---------------------------------------------------------------------------------

// A message taken down keeps its events, restricted to its author (and the moderators); one
// deleted keeps their seqs without their content. Events about other messages, events already
// restricted, and the message's later events are left as they are.
TEST_P(StoreContractTest, AMessagesEventsAreRestrictedOrScrubbedAndNoOthers) {
  UserId u = AddUser(store(), "takedown");
  UserId v = AddUser(store(), "bystander");
  SpaceId space = AddSpace(store(), "Take-downs", u);
  auto a = Post(store(), space, u, "first");
  auto b = Post(store(), space, v, "second");
  ASSERT_TRUE(a && b);
  const std::string reaction = "{\"message_id\":" + std::to_string(a->id) + ",\"emoji\":\"x\"}";
  ASSERT_TRUE(store().Write([&](WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(Seq seq, tx.NextSeq(space));
    ROUNDS_RETURN_IF_ERROR(tx.InsertEvent({space, seq, "reaction.changed", reaction, kNow}));
    ROUNDS_ASSIGN_OR_RETURN(seq, tx.NextSeq(space));
    SpaceEvent held{space, seq, "message.edited", "{\"id\":" + std::to_string(a->id) + ",\"body\":\"x\"}", kNow};
    held.restricted_to = v;  // already restricted to someone: left as it is
    return tx.InsertEvent(held);
  }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.RestrictMessageEvents(a->id, u); }));
  auto events = store().Read([&](ReadTx& tx) { return tx.ListEvents(space, 0, 100); });
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[0].restricted_to, u);
  EXPECT_EQ((*events)[1].restricted_to, 0) << "another message's event";
  EXPECT_EQ((*events)[2].restricted_to, u);
  EXPECT_EQ((*events)[2].payload_json, reaction);
  EXPECT_EQ((*events)[3].restricted_to, v);

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.ScrubMessageEvents(a->id); }));
  events = store().Read([&](ReadTx& tx) { return tx.ListEvents(space, 0, 100); });
  ASSERT_EQ(events->size(), 4u);
  const std::string empty = "{\"id\":" + std::to_string(a->id) + ",\"space_id\":" + std::to_string(space) + "}";
  for (std::size_t i : {0u, 2u, 3u}) {
    EXPECT_EQ((*events)[i].seq, static_cast<Seq>(i + 1));
    EXPECT_EQ((*events)[i].type, "message.purged");
    EXPECT_EQ((*events)[i].payload_json, empty);
  }
  EXPECT_EQ((*events)[1].type, "message.created");
  // An event appended afterwards is not touched by an earlier scrub.
  ASSERT_TRUE(store().Write([&](WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(Seq seq, tx.NextSeq(space));
    return tx.InsertEvent({space, seq, "message.deleted", "{\"id\":" + std::to_string(a->id) + "}", kNow});
  }));
  events = store().Read([&](ReadTx& tx) { return tx.ListEvents(space, 4, 10); });
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, "message.deleted");
}

TEST_P(StoreContractTest, EventsAreListedInOrderAndPaged) {
  UserId u = AddUser(store(), "events");
  SpaceId space = AddSpace(store(), "Events", u);
  SpaceId other = AddSpace(store(), "Other", u);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(Post(store(), space, u, "e"));
  ASSERT_TRUE(Post(store(), other, u, "o"));
  auto all = store().Read([&](ReadTx& tx) { return tx.ListEvents(space, 0, 100); });
  ASSERT_TRUE(all) << Describe(all);
  ASSERT_EQ(all->size(), 7u);
  for (std::size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].seq, static_cast<Seq>(i + 1));
    EXPECT_EQ((*all)[i].space_id, space);
    EXPECT_EQ((*all)[i].type, "message.created");
    EXPECT_EQ((*all)[i].created_at, kNow);
    EXPECT_FALSE((*all)[i].payload_json.empty());
  }
  auto page = store().Read([&](ReadTx& tx) { return tx.ListEvents(space, 3, 2); });
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].seq, 4);
  EXPECT_EQ((*page)[1].seq, 5);
  EXPECT_TRUE(store().Read([&](ReadTx& tx) { return tx.ListEvents(space, 7, 10); })->empty());

  auto duplicate = store().Write([&](WriteTx& tx) { return tx.InsertEvent({space, 3, "x", "{}", kNow}); });
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);
  // An event without a message, e.g. a member joining, takes the next seq too.
  auto joined = store().Write([&](WriteTx& tx) -> Result<Seq> {
    ROUNDS_ASSIGN_OR_RETURN(Seq seq, tx.NextSeq(space));
    ROUNDS_RETURN_IF_ERROR(tx.InsertEvent({space, seq, "member.joined", "{\"user_id\":1}", kNow + 1}));
    return seq;
  });
  ASSERT_TRUE(joined);
  EXPECT_EQ(*joined, 8);
  auto last = store().Read([&](ReadTx& tx) { return tx.ListEvents(space, 7, 10); });
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].type, "member.joined");
  EXPECT_EQ((*last)[0].payload_json, "{\"user_id\":1}");
}

// ---- Search ---------------------------------------------------------------------------------

// Only the last word of a search matches as a prefix (results follow what is being typed); the
// others are whole words. The newest matches are ranked: the best of them come first.
TEST_P(StoreContractTest, SearchMatchesTheLastWordAsAPrefixAndRanksByRelevance) {
  UserId u = AddUser(store(), "prefixer");
  SpaceId space = AddSpace(store(), "Prefix", u);
  auto once = Post(store(), space, u, "sepsis bundle reviewed on the ward round with the team today");
  auto thrice = Post(store(), space, u, "sepsis sepsis sepsis bundle");
  ASSERT_TRUE(once && thrice);
  EXPECT_EQ(Search(store(), "sepsis bun", {space}).size(), 2u);
  EXPECT_EQ(Search(store(), "bundle seps", {space}).size(), 2u);
  EXPECT_TRUE(Search(store(), "seps bundle", {space}).empty());
  auto ranked = Search(store(), "sepsis", {space});
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].message.id, thrice->id);
  EXPECT_LE(ranked[0].rank, ranked[1].rank);  // lower is better
  EXPECT_NE(ranked[1].snippet.find("[[sepsis]] bundle"), std::string::npos) << ranked[1].snippet;
  // A last word of four letters or more matches every longer word it begins, and itself.
  auto sepsisbundle = Post(store(), space, u, "the sepsisbundle checklist, septic shock, SEPSIS-3");
  ASSERT_TRUE(sepsisbundle);
  EXPECT_EQ(Search(store(), "seps", {space}).size(), 3u);
  EXPECT_EQ(Search(store(), "sepsis", {space}).size(), 3u);
  EXPECT_EQ(Search(store(), "sepsisb", {space}).size(), 1u);
  EXPECT_EQ(Search(store(), "checklist seps", {space}).size(), 1u);
  EXPECT_EQ(Search(store(), "SEPT", {space}).size(), 1u);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(sepsisbundle->id, kNow + 40); }));
  EXPECT_EQ(Search(store(), "sepsis", {space}).size(), 2u);
  auto second_page = Search(store(), "sepsis", {space}, 1, 1);
  ASSERT_EQ(second_page.size(), 1u);
  EXPECT_EQ(second_page[0].message.id, once->id);
  EXPECT_TRUE(Search(store(), "sepsis", {space}, 20, 2).empty());
}

TEST_P(StoreContractTest, SearchNeverFindsDeletedOrEditedAwayTextAndRespectsSpaces) {
  UserId u = AddUser(store(), "searcher");
  SpaceId open = AddSpace(store(), "Open", u);
  SpaceId secret = AddSpace(store(), "Secret", u, Visibility::kPrivate);
  auto kept = Post(store(), open, u, "The sepsis bundle checklist is updated");
  auto edited = Post(store(), open, u, "Tachycardia protocol draft");
  auto retitled = Post(store(), open, u, Draft{.body = "See attached", .title = "Hyperkalemia pathway"});
  auto removed = Post(store(), open, u, Draft{.body = "Obsolete triage flowchart", .title = "Triage"});
  auto hidden = Post(store(), secret, u, "Sepsis escalation in the secret space");
  ASSERT_TRUE(kept && edited && retitled && removed && hidden);
  EXPECT_EQ(Search(store(), "tachycardia", {open}).size(), 1u);
  EXPECT_EQ(Search(store(), "hyperkalemia", {open}).size(), 1u);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(edited->id, "", "Bradycardia protocol final", kNow, u); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(retitled->id, "Potassium pathway", "See attached", kNow, u); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(removed->id, kNow); }));

  auto hits = Search(store(), "sepsis", {open});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].message.id, kept->id);
  EXPECT_EQ(hits[0].message.body, "The sepsis bundle checklist is updated");
  EXPECT_NE(hits[0].snippet.find("[[sepsis]]"), std::string::npos) << hits[0].snippet;
  EXPECT_EQ(Search(store(), "sepsis", {open, secret}).size(), 2u);
  EXPECT_EQ(Search(store(), "sepsis", {secret}).size(), 1u);
  EXPECT_TRUE(Search(store(), "sepsis", {}).empty());
  EXPECT_TRUE(Search(store(), "sepsis", {424242}).empty());
  EXPECT_TRUE(Search(store(), "tachycardia", {open}).empty());
  EXPECT_TRUE(Search(store(), "draft", {open}).empty());
  EXPECT_EQ(Search(store(), "bradycardia", {open}).size(), 1u);
  EXPECT_TRUE(Search(store(), "hyperkalemia", {open}).empty());
  EXPECT_EQ(Search(store(), "potassium", {open}).size(), 1u);
  EXPECT_TRUE(Search(store(), "flowchart", {open}).empty());
  EXPECT_TRUE(Search(store(), "triage", {open}).empty());
  EXPECT_EQ(Search(store(), "sep", {open}).size(), 1u);  // a word is also a prefix
  EXPECT_EQ(Search(store(), "SEPSIS Bundle", {open}).size(), 1u);
  EXPECT_TRUE(Search(store(), "sepsis flowchart", {open}).empty());  // every word must match
  EXPECT_TRUE(Search(store(), "", {open}).empty());

  // Deleting the secret message removes it however it is searched.
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(hidden->id, kNow); }));
  EXPECT_TRUE(Search(store(), "escalation", {open, secret}).empty());
}

TEST_P(StoreContractTest, SearchTreatsFtsSyntaxAsPlainText) {
  UserId u = AddUser(store(), "fts");
  SpaceId open = AddSpace(store(), "Open", u);
  SpaceId secret = AddSpace(store(), "Secret", u, Visibility::kPrivate);
  ASSERT_TRUE(Post(store(), open, u, "insulin drip order"));
  ASSERT_TRUE(Post(store(), open, u, "Potassium (K+) 5.9 mmol/L -- recheck"));
  ASSERT_TRUE(Post(store(), secret, u, "insulin secret"));
  ASSERT_TRUE(Post(store(), secret, u, "secret only"));
  // Each text must run without an error and find only messages of the allowed space.
  for (const char* text :
       {"\"insulin", "insulin\"", "\"insulin\"", "insulin*", "*insulin", "NEAR(insulin drip)",
        "NEAR(insulin secret, 5)", "-insulin", "insulin -drip", "(insulin", "insulin)", "((((", "))",
        "body:insulin", "title:secret", "{title body}:insulin", "insulin OR secret", "insulin NOT drip",
        "secret OR insulin", "^insulin", "insulin AND", "AND", "OR", "NOT", "NEAR", "''", "*", "\"",
        "\"\"", "insulin\" OR \"secret", "insulin + drip", "K+", "(K+)", "5.9", "mmol/L", "\\", "%",
        "_", "\x01\x02", "\xff\xfe", "insulin\xc3", "\xe2\x80", "insulin\ttab", "rowid:1", "message_search:insulin", "insulin; DROP TABLE messages"}) {
    ASSERT_TRUE(store().CatchUpSearch());
    auto hits = store().Read([&](ReadTx& tx) { return tx.SearchMessages({text, {open}, 20, 0}); });
    ASSERT_TRUE(hits) << "[" << text << "]: " << Describe(hits);
    for (const auto& h : *hits) EXPECT_EQ(h.message.space_id, open) << text;
  }
  // Operators are words like any other.
  EXPECT_EQ(Search(store(), "insulin*", {open}).size(), 1u);
  EXPECT_EQ(Search(store(), "-insulin", {open}).size(), 1u);
  EXPECT_EQ(Search(store(), "\"insulin", {open}).size(), 1u);
  EXPECT_EQ(Search(store(), "(insulin", {open}).size(), 1u);
  EXPECT_EQ(Search(store(), "body:insulin", {open}).size(), 0u);  // "body" is a word that must match
  EXPECT_TRUE(Search(store(), "insulin OR secret", {open}).empty());
  EXPECT_TRUE(Search(store(), "secret", {open}).empty());
  EXPECT_EQ(Search(store(), "(K+) 5.9", {open}).size(), 1u);
  EXPECT_EQ(Search(store(), "mmol/L", {open}).size(), 1u);
  EXPECT_TRUE(Search(store(), "*", {open}).empty());
  EXPECT_TRUE(Search(store(), "((((", {open}).empty());
  // The table is still there.
  EXPECT_EQ(List(store(), {.space_id = open}).size(), 2u);
}

TEST_P(StoreContractTest, SearchRanksPagesAndMarksSnippets) {
  UserId u = AddUser(store(), "ranker");
  SpaceId space = AddSpace(store(), "Rank", u);
  auto dense = Post(store(), space, u, Draft{.body = "heparin heparin heparin dosing", .title = "Heparin"});
  ASSERT_TRUE(dense);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(Post(store(), space, u,
                     "A long note about ward routines, staffing, handover, beds and, once, heparin " +
                         std::to_string(i)));
  }
  ASSERT_TRUE(Post(store(), space, u, "Café au lait spots noted"));
  auto first = Search(store(), "heparin", {space}, 3, 0);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].message.id, dense->id);
  for (std::size_t i = 1; i < first.size(); ++i) EXPECT_LE(first[i - 1].rank, first[i].rank);
  for (const auto& hit : first) {
    bool marked = hit.snippet.find("[[heparin]]") != std::string::npos ||
                  hit.snippet.find("[[Heparin]]") != std::string::npos;
    EXPECT_TRUE(marked) << hit.snippet;
    EXPECT_EQ(hit.snippet.find('<'), std::string::npos);
  }
  std::set<MessageId> seen;
  for (int offset = 0; offset < 9; offset += 3) {
    for (const auto& hit : Search(store(), "heparin", {space}, 3, offset)) {
      EXPECT_TRUE(seen.insert(hit.message.id).second) << "hit repeated across pages";
    }
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_TRUE(Search(store(), "heparin", {space}, 3, 7).empty());
  EXPECT_EQ(Search(store(), "cafe", {space}).size(), 1u);  // diacritics fold
  EXPECT_EQ(Search(store(), "café", {space}).size(), 1u);
}

// What the index matched by folding letters or splitting at punctuation outside ASCII is ranked
// and marked like any other match: "cafe" finds "Café", "patient" finds "patient’s", and the one
// with more of them comes first.
TEST_P(StoreContractTest, SearchRanksAndMarksWordsTheIndexFolded) {
  UserId u = AddUser(store(), "folder");
  SpaceId space = AddSpace(store(), "Folded", u);
  auto dense = Post(store(), space, u, "Café CAFÉ café: the patient\u2019s patient\u2019s file");
  ASSERT_TRUE(dense);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Post(store(), space, u, "cafe rota for the week, and a patient list number " + std::to_string(i)));
  }
  auto cafe = Search(store(), "cafe", {space});
  ASSERT_EQ(cafe.size(), 4u);
  EXPECT_EQ(cafe[0].message.id, dense->id);
  EXPECT_NE(cafe[0].snippet.find("[[Café]] [[CAFÉ]] [[café]]:"), std::string::npos) << cafe[0].snippet;
  auto patient = Search(store(), "PATIENT", {space});
  ASSERT_EQ(patient.size(), 4u);
  EXPECT_EQ(patient[0].message.id, dense->id);
  EXPECT_NE(patient[0].snippet.find("the [[patient]]\u2019s [[patient]]\u2019s file"), std::string::npos)
      << patient[0].snippet;
  // Spelled out from the vocabulary as a folded term: a long last word with a diacritic.
  ASSERT_TRUE(Post(store(), space, u, "naïveté noted"));
  EXPECT_EQ(Search(store(), "naïv", {space}).size(), 1u);
  EXPECT_EQ(Search(store(), "NAIVETE", {space}).size(), 1u);
  auto naive = Search(store(), "naïve", {space});
  ASSERT_EQ(naive.size(), 1u);
  EXPECT_EQ(naive[0].snippet, "[[naïveté]] noted");
}

}  // namespace
}  // namespace rounds::store::storetest
