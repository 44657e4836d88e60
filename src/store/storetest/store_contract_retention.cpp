// Store contract: legal holds, retention purges, retention runs and e-discovery selection.
#include <algorithm>
#include <limits>

#include "store/storetest/contract_helpers.hpp"
#include "store/storetest/store_contract.hpp"

namespace rounds::store::storetest {
namespace {

constexpr UnixMillis kDay = 24LL * 60 * 60 * 1000;

Message PostAt(Store& store, SpaceId space, UserId author, const Draft& draft, UnixMillis at) {
  auto posted = store.Write([&](WriteTx& tx) {
    Message m = NewMessage(space, author, draft);
    m.created_at = at;
    return PostIn(tx, m);
  });
  EXPECT_TRUE(posted) << Describe(posted);
  return posted.value_or(Message{});
}

LegalHold Hold(std::vector<UserId> custodians, std::vector<SpaceId> spaces,
               std::optional<UnixMillis> from = std::nullopt, std::optional<UnixMillis> to = std::nullopt) {
  LegalHold h;
  h.name = "Matter 17";
  h.reason = "litigation";
  h.custodian_ids = std::move(custodians);
  h.space_ids = std::move(spaces);
  h.from = from;
  h.to = to;
  h.created_by = 1;
  h.created_at = kNow;
  return h;
}

LegalHoldId AddHold(Store& store, const LegalHold& hold) {
  auto id = store.Write([&](WriteTx& tx) { return tx.InsertLegalHold(hold); });
  EXPECT_TRUE(id) << Describe(id);
  return id.value_or(0);
}

PurgeResult Purge(Store& store, std::vector<MessageId> ids) {
  auto purged = store.Write([&](WriteTx& tx) { return tx.PurgeMessages(ids, kNow); });
  EXPECT_TRUE(purged) << Describe(purged);
  return purged.value_or(PurgeResult{});
}

std::vector<MessageId> Candidates(Store& store, SpaceId space, UnixMillis cutoff, int limit = 100) {
  auto ids = store.Read([&](ReadTx& tx) { return tx.ListPurgeCandidates(space, cutoff, limit); });
  EXPECT_TRUE(ids) << Describe(ids);
  return ids.value_or(std::vector<MessageId>{});
}

bool Contains(const std::vector<MessageId>& ids, MessageId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

TEST_P(StoreContractTest, LegalHoldsInsertListAndReleaseOnce) {
  UserId alice = AddUser(store(), "alice");
  LegalHoldId id = AddHold(store(), Hold({alice}, {}, kNow - kDay, kNow));
  ASSERT_GT(id, 0);
  auto found = store().Read([&](ReadTx& tx) { return tx.FindLegalHold(id); });
  ASSERT_TRUE(found && *found) << Describe(found);
  EXPECT_EQ((*found)->name, "Matter 17");
  EXPECT_EQ((*found)->custodian_ids, std::vector<UserId>{alice});
  EXPECT_TRUE((*found)->space_ids.empty());
  EXPECT_EQ((*found)->from, kNow - kDay);
  EXPECT_EQ((*found)->to, kNow);
  EXPECT_FALSE((*found)->released_at);

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.ReleaseLegalHold(id, alice, kNow + 5); }));
  auto again = store().Write([&](WriteTx& tx) { return tx.ReleaseLegalHold(id, alice, kNow + 6); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto missing = store().Write([&](WriteTx& tx) { return tx.ReleaseLegalHold(id + 100, alice, kNow); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto active = store().Read([](ReadTx& tx) { return tx.ListLegalHolds(false); });
  ASSERT_TRUE(active);
  EXPECT_TRUE(active->empty());
  auto all = store().Read([](ReadTx& tx) { return tx.ListLegalHolds(true); });
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].released_by, alice);
  EXPECT_EQ((*all)[0].released_at, kNow + 5);
}

// Finishing held deletions looks at a bounded number of them per call, in id order after a
// cursor: the deletions a hold still keeps are passed over, not looked at again and again.
TEST_P(StoreContractTest, FinishingHeldDeletionsLooksAtABoundedBatchAfterACursor) {
  UserId alice = AddUser(store(), "alice");
  SpaceId kept_space = AddSpace(store(), "Kept", alice);
  SpaceId freed_space = AddSpace(store(), "Freed", alice);
  AddHold(store(), Hold({}, {kept_space}));
  const LegalHoldId freed_hold = AddHold(store(), Hold({}, {freed_space}));
  std::vector<MessageId> kept, freed;
  for (int i = 0; i < 3; ++i) kept.push_back(PostAt(store(), kept_space, alice, Draft{.body = "kept"}, kNow).id);
  for (int i = 0; i < 2; ++i) freed.push_back(PostAt(store(), freed_space, alice, Draft{.body = "freed"}, kNow).id);
  for (MessageId id : kept) ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(id, kNow + 1); }));
  for (MessageId id : freed) ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMessage(id, kNow + 1); }));
  auto released = [&] {
    auto n = store().Read([](ReadTx& tx) { return tx.CountReleasedLegalHolds(); });
    EXPECT_TRUE(n) << Describe(n);
    return n.value_or(-1);
  };
  EXPECT_EQ(released(), 0);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.ReleaseLegalHold(freed_hold, alice, kNow + 2); }));
  EXPECT_EQ(released(), 1);
  auto finish = [&](MessageId after, int limit) {
    auto done = store().Write([&](WriteTx& tx) { return tx.FinishHeldDeletions(after, limit); });
    EXPECT_TRUE(done) << Describe(done);
    return done.value_or(FinishedDeletions{});
  };
  // The first two looked at are still held: nothing finished, the cursor moves past them.
  FinishedDeletions first = finish(0, 2);
  EXPECT_EQ(first.looked_at, 2u);
  EXPECT_TRUE(first.finished_ids.empty());
  EXPECT_EQ(first.last_id, kept[1]);
  FinishedDeletions second = finish(first.last_id, 2);
  EXPECT_EQ(second.looked_at, 2u);
  EXPECT_EQ(second.finished_ids, std::vector<MessageId>({freed[0]}));
  EXPECT_EQ(second.last_id, freed[0]);
  FinishedDeletions third = finish(second.last_id, 2);
  EXPECT_EQ(third.looked_at, 1u) << "fewer than the limit: the end";
  EXPECT_EQ(third.finished_ids, std::vector<MessageId>({freed[1]}));
  // Finished deletions keep no text; held ones keep theirs, and are looked at again from the start.
  auto text = [&](MessageId id) {
    auto found = store().Read([&](ReadTx& tx) { return tx.FindHeldDeletion(id); });
    EXPECT_TRUE(found) << Describe(found);
    return found && found->has_value();
  };
  EXPECT_FALSE(text(freed[0]));
  EXPECT_TRUE(text(kept[0]));
  FinishedDeletions again = finish(0, 10);
  EXPECT_EQ(again.looked_at, 3u);
  EXPECT_TRUE(again.finished_ids.empty());
}

TEST_P(StoreContractTest, LegalHoldWithoutCustodiansOrSpacesIsRefused) {
  auto refused = store().Write([](WriteTx& tx) { return tx.InsertLegalHold(Hold({}, {})); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  auto backwards = store().Write([](WriteTx& tx) { return tx.InsertLegalHold(Hold({1}, {}, kNow, kNow - 1)); });
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().code, ErrorCode::kInvalidArgument);
}

// Two people, two spaces; messages written ten days ago and today.
struct World {
  explicit World(Store& store) : store(store) {
    alice = AddUser(store, "alice");
    bob = AddUser(store, "bob");
    space = AddSpace(store, "Cardiology", alice);
    other_space = AddSpace(store, "Oncology", alice);
  }
  Message Old(UserId author, const std::string& body, SpaceId in = 0) {
    return PostAt(store, in ? in : space, author, Draft{.body = body}, kNow - 10 * kDay);
  }
  Message New(UserId author, const std::string& body, SpaceId in = 0) {
    return PostAt(store, in ? in : space, author, Draft{.body = body}, kNow);
  }
  Store& store;
  UserId alice = 0, bob = 0;
  SpaceId space = 0, other_space = 0;
};

TEST_P(StoreContractTest, PurgeCandidatesArePastTheCutoffAndNotHeld) {
  World w(store());
  Message old_alice = w.Old(w.alice, "old from alice");
  Message old_bob = w.Old(w.bob, "old from bob");
  Message new_alice = w.New(w.alice, "new from alice");
  Message old_elsewhere = w.Old(w.bob, "old elsewhere", w.other_space);
  LegalHoldId hold = AddHold(store(), Hold({w.bob}, {w.space}));

  auto candidates = Candidates(store(), w.space, kNow - kDay);
  EXPECT_EQ(candidates, std::vector<MessageId>{old_alice.id});
  EXPECT_EQ(Candidates(store(), w.other_space, kNow - kDay), std::vector<MessageId>{old_elsewhere.id});
  auto covering = store().Read([&](ReadTx& tx) { return tx.HoldsCovering(old_bob.id); });
  ASSERT_TRUE(covering);
  EXPECT_EQ(*covering, std::vector<LegalHoldId>{hold});
  EXPECT_TRUE(Contains(Candidates(store(), w.space, kNow + 1), new_alice.id));

  // A date range limits the hold: bob's old message falls outside [kNow - 1 day, open).
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.ReleaseLegalHold(hold, w.alice, kNow); }));
  AddHold(store(), Hold({w.bob}, {}, kNow - kDay));
  EXPECT_TRUE(Contains(Candidates(store(), w.space, kNow - kDay), old_bob.id));
  EXPECT_TRUE(Contains(Candidates(store(), w.space, kNow + 1), new_alice.id));
}

TEST_P(StoreContractTest, PurgeRemovesContentFromEveryTableAndKeepsEventSeqs) {
  World w(store());
  auto poll = store().Write([&](WriteTx& tx) {
    Message m = NewMessage(w.space, w.alice, Draft{.body = "canary-poll question", .kind = MessageKind::kPoll,
                                                    .mentions = {w.bob}, .poll_options = {"yes", "no"}});
    m.created_at = kNow - 10 * kDay;
    return PostIn(tx, m);
  });
  ASSERT_TRUE(poll) << Describe(poll);
  MessageId id = poll->id;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.UpdateMessageBody(id, "", "canary-edited text", kNow - 9 * kDay, w.alice));
    ROUNDS_ASSIGN_OR_RETURN(bool r, tx.SetReaction(id, w.bob, "👍", true));
    ROUNDS_ASSIGN_OR_RETURN(bool v, tx.SetPollVote(id, w.bob, 1));
    (void)r;
    (void)v;
    ROUNDS_ASSIGN_OR_RETURN(Seq seq, tx.NextSeq(w.space));
    ROUNDS_RETURN_IF_ERROR(tx.InsertEvent({w.space, seq, "message.edited",
                                           "{\"id\":" + std::to_string(id) + ",\"body\":\"canary-edited text\"}", kNow}));
    ROUNDS_ASSIGN_OR_RETURN(Seq seq2, tx.NextSeq(w.space));
    return tx.InsertEvent({w.space, seq2, "poll.changed",
                           "{\"message_id\":" + std::to_string(id) + ",\"poll_options\":[\"yes\"]}", kNow});
  }));
  Message kept = w.New(w.bob, "canary-kept text");
  ASSERT_EQ(Search(store(), "canary", {w.space}).size(), 2u);

  PurgeResult result = Purge(store(), {id});
  EXPECT_EQ(result.deleted_ids, std::vector<MessageId>{id});
  EXPECT_TRUE(result.scrubbed_ids.empty());
  EXPECT_EQ(result.events_scrubbed, 3);

  EXPECT_FALSE(FindMessage(store(), id, w.alice));
  auto hits = Search(store(), "canary", {w.space});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].message.id, kept.id);
  auto edits = store().Read([&](ReadTx& tx) { return tx.ListEdits(id); });
  ASSERT_TRUE(edits);
  EXPECT_TRUE(edits->empty());
  auto mentions = store().Read([&](ReadTx& tx) { return tx.ListMentions(w.bob, std::numeric_limits<MessageId>::max(), 50); });
  ASSERT_TRUE(mentions);
  EXPECT_TRUE(mentions->empty());
  auto events = store().Read([&](ReadTx& tx) { return tx.ListEvents(w.space, 0, 100); });
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 4u);  // seqs 1..4 all still there
  for (std::size_t i = 0; i < events->size(); ++i) {
    const SpaceEvent& e = (*events)[i];
    EXPECT_EQ(e.seq, static_cast<Seq>(i + 1));
    EXPECT_EQ(e.payload_json.find("canary-edited"), std::string::npos) << e.payload_json;
    EXPECT_EQ(e.payload_json.find("yes"), std::string::npos) << e.payload_json;
    if (i < 3) {
      EXPECT_EQ(e.type, "message.purged");
      EXPECT_EQ(e.payload_json, "{\"id\":" + std::to_string(id) + ",\"space_id\":" + std::to_string(w.space) + "}");
    }
  }
  EXPECT_EQ((*events)[3].type, "message.created");

  // Idempotent: nothing left to do.
  PurgeResult again = Purge(store(), {id});
  EXPECT_TRUE(again.deleted_ids.empty());
  EXPECT_EQ(again.events_scrubbed, 0);
}

TEST_P(StoreContractTest, PurgeKeepsAParentWithLiveRepliesEmptyUntilTheyGo) {
  World w(store());
  Message parent = w.Old(w.alice, "old thread root");
  Message reply = PostAt(store(), w.space, w.bob, Draft{.body = "new reply", .parent_id = parent.id}, kNow);

  PurgeResult first = Purge(store(), {parent.id});
  EXPECT_EQ(first.scrubbed_ids, std::vector<MessageId>{parent.id});
  EXPECT_TRUE(first.deleted_ids.empty());
  auto scrubbed = FindMessage(store(), parent.id, w.alice);
  ASSERT_TRUE(scrubbed);
  EXPECT_TRUE(scrubbed->deleted);
  EXPECT_EQ(scrubbed->body, "");
  EXPECT_TRUE(Search(store(), "root", {w.space}).empty());
  // Not listed again while the reply lives (a run must not loop on it).
  EXPECT_FALSE(Contains(Candidates(store(), w.space, kNow - kDay), parent.id));

  PurgeResult second = Purge(store(), {reply.id});
  EXPECT_EQ(second.deleted_ids, std::vector<MessageId>{reply.id});
  EXPECT_EQ(Candidates(store(), w.space, kNow - kDay), std::vector<MessageId>{parent.id});
  PurgeResult third = Purge(store(), {parent.id});
  EXPECT_EQ(third.deleted_ids, std::vector<MessageId>{parent.id});
  EXPECT_FALSE(FindMessage(store(), parent.id, w.alice));
}

TEST_P(StoreContractTest, PurgeTakesAThreadWholeAndFixesReplyCounts) {
  World w(store());
  Message parent = w.Old(w.alice, "root");
  Message old_reply = PostAt(store(), w.space, w.bob, Draft{.body = "r1", .parent_id = parent.id}, kNow - 9 * kDay);
  Message new_reply = PostAt(store(), w.space, w.bob, Draft{.body = "r2", .parent_id = parent.id}, kNow);
  ASSERT_EQ(FindMessage(store(), parent.id, w.alice)->reply_count, 2);
  Purge(store(), {old_reply.id});
  EXPECT_EQ(FindMessage(store(), parent.id, w.alice)->reply_count, 1);
  PurgeResult both = Purge(store(), {parent.id, new_reply.id});
  EXPECT_EQ(both.deleted_ids, (std::vector<MessageId>{parent.id, new_reply.id}));
}

TEST_P(StoreContractTest, PurgeNeverTouchesHeldMessagesUntilTheHoldIsReleased) {
  World w(store());
  Message held = w.Old(w.bob, "held text");
  LegalHoldId hold = AddHold(store(), Hold({}, {w.space}));
  PurgeResult refused = Purge(store(), {held.id});
  EXPECT_EQ(refused.held_ids, std::vector<MessageId>{held.id});
  EXPECT_TRUE(refused.deleted_ids.empty());
  EXPECT_EQ(FindMessage(store(), held.id, w.bob)->body, "held text");

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.ReleaseLegalHold(hold, w.alice, kNow); }));
  PurgeResult purged = Purge(store(), {held.id});
  EXPECT_EQ(purged.deleted_ids, std::vector<MessageId>{held.id});
}

TEST_P(StoreContractTest, DeletingAHeldMessageKeepsItsFinalTextOutOfSight) {
  World w(store());
  Message held = w.Old(w.bob, "held final text");
  Message free = w.Old(w.alice, "free text");
  AddHold(store(), Hold({w.bob}, {}));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.DeleteMessage(held.id, kNow));
    return tx.DeleteMessage(free.id, kNow);
  }));
  auto tombstone = FindMessage(store(), held.id, w.bob);
  ASSERT_TRUE(tombstone);
  EXPECT_TRUE(tombstone->deleted);
  EXPECT_EQ(tombstone->body, "");
  EXPECT_TRUE(Search(store(), "final", {w.space}).empty());
  auto kept = store().Read([&](ReadTx& tx) { return tx.FindHeldDeletion(held.id); });
  ASSERT_TRUE(kept && *kept) << Describe(kept);
  EXPECT_EQ((*kept)->body, "held final text");
  EXPECT_EQ((*kept)->deleted_at, kNow);
  auto not_kept = store().Read([&](ReadTx& tx) { return tx.FindHeldDeletion(free.id); });
  ASSERT_TRUE(not_kept);
  EXPECT_FALSE(*not_kept);
}

TEST_P(StoreContractTest, RetentionRunsCountBatchesAndCloseInterruptedRuns) {
  World w(store());
  auto last_walk = [&] {
    auto walked = store().Read([](ReadTx& tx) { return tx.LastKeptDeletionsWalk(); });
    EXPECT_TRUE(walked) << Describe(walked);
    return walked.value_or(-1);
  };
  EXPECT_EQ(last_walk(), std::nullopt) << "no run has finished";
  auto first = store().Write([&](WriteTx& tx) { return tx.BeginRetentionRun(0, kNow); });
  ASSERT_TRUE(first) << Describe(first);
  EXPECT_TRUE(first->interrupted_run_ids.empty());
  PurgeResult batch;
  batch.deleted_ids = {1, 2, 3};
  batch.scrubbed_ids = {4};
  batch.events_scrubbed = 7;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.RecordRetentionBatch(first->run_id, batch); }));
  // Never finished (killed): the next run closes it.
  auto second = store().Write([&](WriteTx& tx) { return tx.BeginRetentionRun(0, kNow + 1); });
  ASSERT_TRUE(second);
  EXPECT_EQ(second->interrupted_run_ids, std::vector<std::int64_t>{first->run_id});
  EXPECT_EQ(last_walk(), std::nullopt) << "an interrupted run looked at nothing to the end";
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.FinishRetentionRun(second->run_id, kNow + 2, 4); }));
  EXPECT_EQ(last_walk(), 4);
  // A run still open is not counted; the newest finished one decides, a walk cut short too.
  auto third = store().Write([&](WriteTx& tx) { return tx.BeginRetentionRun(0, kNow + 3); });
  ASSERT_TRUE(third);
  EXPECT_EQ(last_walk(), 4);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.FinishRetentionRun(third->run_id, kNow + 4, std::nullopt); }));
  EXPECT_EQ(last_walk(), std::nullopt);
  auto runs = store().Read([](ReadTx& tx) { return tx.ListRetentionRuns(10); });
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[1].finished_at, kNow + 2);
  EXPECT_FALSE((*runs)[1].interrupted);
  EXPECT_TRUE((*runs)[2].interrupted);
  EXPECT_EQ((*runs)[2].batches, 1);
  EXPECT_EQ((*runs)[2].messages_deleted, 3);
  EXPECT_EQ((*runs)[2].messages_scrubbed, 1);
  EXPECT_EQ((*runs)[2].events_scrubbed, 7);
}

TEST_P(StoreContractTest, ExportSelectsByCustodianSpaceRangeAndKeywordInAnyVersion) {
  World w(store());
  Message a1 = w.Old(w.alice, "Budget review Thursday");
  Message b1 = w.Old(w.bob, "lunch plans");
  Message b2 = w.New(w.bob, "nothing here", w.other_space);
  Message b3 = w.New(w.bob, "will be deleted: merger talk");
  AddHold(store(), Hold({w.bob}, {}));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.UpdateMessageBody(b1.id, "", "dinner plans", kNow, w.bob));  // "lunch" only in history
    return tx.DeleteMessage(b3.id, kNow);                                                   // "merger" only held
  }));
  auto select = [&](ExportQuery q) {
    auto ids = store().Read([&](ReadTx& tx) { return tx.ListExportMessageIds(q, 0, 100); });
    EXPECT_TRUE(ids) << Describe(ids);
    return ids.value_or(std::vector<MessageId>{});
  };
  EXPECT_EQ(select({.custodian_ids = {w.bob}}), (std::vector<MessageId>{b1.id, b2.id, b3.id}));
  EXPECT_EQ(select({.space_ids = {w.other_space}}), std::vector<MessageId>{b2.id});
  EXPECT_EQ(select({.from = kNow - kDay}), (std::vector<MessageId>{b2.id, b3.id}));
  EXPECT_EQ(select({.to = kNow - kDay}), (std::vector<MessageId>{a1.id, b1.id}));
  EXPECT_EQ(select({.keywords = {"BUDGET"}}), std::vector<MessageId>{a1.id});
  EXPECT_EQ(select({.keywords = {"lunch"}}), std::vector<MessageId>{b1.id});
  EXPECT_EQ(select({.keywords = {"merger", "budget"}}), (std::vector<MessageId>{a1.id, b3.id}));
  EXPECT_TRUE(select({.keywords = {"absent"}}).empty());
  // A keyword that folds to nothing (combining marks alone) matches nothing, not everything.
  EXPECT_TRUE(select({.keywords = {"\u0301"}}).empty());
  EXPECT_TRUE(select({.keywords = {"\u0301\u0308"}}).empty());
  EXPECT_EQ(select({.keywords = {"\u0301", "BUDGET"}}), std::vector<MessageId>{a1.id});
  auto page = store().Read([&](ReadTx& tx) { return tx.ListExportMessageIds({}, a1.id, 2); });
  ASSERT_TRUE(page);
  EXPECT_EQ(*page, (std::vector<MessageId>{b1.id, b2.id}));
}

// ---- A custodian's conversations ----------------------------------------------------------------

// Bob's conversations: a direct one with alice and a group one with alice and carol. Beside them a
// channel all three belong to and a direct conversation of alice and carol without bob.
struct Conversations {
  explicit Conversations(Store& store) : store(store) {
    alice = AddUser(store, "alice");
    bob = AddUser(store, "bob");
    carol = AddUser(store, "carol");
    channel = AddSpace(store, "Cardiology", alice, Visibility::kPublic, SpaceKind::kChannel);
    EXPECT_TRUE(Join(store, channel, bob));
    EXPECT_TRUE(Join(store, channel, carol));
    direct = Direct({alice, bob});
    group = Direct({alice, bob, carol});
    without_bob = Direct({alice, carol});
  }
  // A direct conversation of `people`, each a member, keyed as the app keys it.
  SpaceId Direct(std::vector<UserId> people) {
    std::sort(people.begin(), people.end());
    std::string key;
    for (UserId id : people) key += (key.empty() ? "" : ",") + std::to_string(id);
    auto id = store.Write([&](WriteTx& tx) -> Result<SpaceId> {
      Space s;
      s.kind = SpaceKind::kDirect;
      s.visibility = Visibility::kPrivate;
      s.join_policy = JoinPolicy::kInvite;
      s.direct_key = key;
      s.created_by = people.front();
      s.created_at = kNow;
      ROUNDS_ASSIGN_OR_RETURN(SpaceId space_id, tx.InsertSpace(s));
      for (UserId person : people) {
        ROUNDS_RETURN_IF_ERROR(tx.UpsertMembership({space_id, person, MemberRole::kMember, 0, kNow}));
      }
      return space_id;
    });
    EXPECT_TRUE(id) << Describe(id);
    return id.value_or(0);
  }
  Message Old(UserId author, SpaceId in, const std::string& body) {
    return PostAt(store, in, author, Draft{.body = body}, kNow - 10 * kDay);
  }
  Message New(UserId author, SpaceId in, const std::string& body) {
    return PostAt(store, in, author, Draft{.body = body}, kNow);
  }
  Store& store;
  UserId alice = 0, bob = 0, carol = 0;
  SpaceId channel = 0, direct = 0, group = 0, without_bob = 0;
};

std::vector<MessageId> Sorted(std::vector<MessageId> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<LegalHoldId> Covering(Store& store, MessageId id) {
  auto holds = store.Read([&](ReadTx& tx) { return tx.HoldsCovering(id); });
  EXPECT_TRUE(holds) << Describe(holds);
  return holds.value_or(std::vector<LegalHoldId>{});
}

std::vector<MessageId> Exported(Store& store, const ExportQuery& query) {
  auto ids = store.Read([&](ReadTx& tx) { return tx.ListExportMessageIds(query, 0, 100); });
  EXPECT_TRUE(ids) << Describe(ids);
  return ids.value_or(std::vector<MessageId>{});
}

// A custodian's received direct messages are their records: a hold on bob keeps what alice and
// carol wrote to him, and nothing of a channel he merely belongs to.
TEST_P(StoreContractTest, ACustodianHoldKeepsTheirConversationsButNotChannelsTheyBelongTo) {
  Conversations w(store());
  Message received = w.Old(w.alice, w.direct, "alice to bob");
  Message sent = w.Old(w.bob, w.direct, "bob to alice");
  Message in_group = w.Old(w.carol, w.group, "carol to the group");
  Message in_channel = w.Old(w.alice, w.channel, "alice in the channel");
  Message elsewhere = w.Old(w.alice, w.without_bob, "alice to carol");
  LegalHoldId hold = AddHold(store(), Hold({w.bob}, {}));

  const UnixMillis cutoff = kNow - kDay;
  EXPECT_TRUE(Candidates(store(), w.direct, cutoff).empty());
  EXPECT_TRUE(Candidates(store(), w.group, cutoff).empty());
  EXPECT_EQ(Candidates(store(), w.channel, cutoff), std::vector<MessageId>{in_channel.id});
  EXPECT_EQ(Candidates(store(), w.without_bob, cutoff), std::vector<MessageId>{elsewhere.id});
  EXPECT_EQ(Covering(store(), received.id), std::vector<LegalHoldId>{hold});
  EXPECT_EQ(Covering(store(), in_group.id), std::vector<LegalHoldId>{hold});
  EXPECT_TRUE(Covering(store(), in_channel.id).empty());

  // The purge's own check refuses them whatever the caller selected.
  PurgeResult refused = Purge(store(), {received.id, in_group.id, in_channel.id});
  EXPECT_EQ(Sorted(refused.held_ids), (std::vector<MessageId>{received.id, in_group.id}));
  EXPECT_EQ(refused.deleted_ids, std::vector<MessageId>{in_channel.id});
  EXPECT_EQ(FindMessage(store(), received.id, w.bob)->body, "alice to bob");

  // Released, they are purgeable like any other.
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.ReleaseLegalHold(hold, w.alice, kNow); }));
  EXPECT_EQ(Candidates(store(), w.direct, cutoff), (std::vector<MessageId>{received.id, sent.id}));
  PurgeResult purged = Purge(store(), {received.id, sent.id, in_group.id});
  EXPECT_EQ(purged.deleted_ids, (std::vector<MessageId>{received.id, sent.id, in_group.id}));
  EXPECT_TRUE(purged.held_ids.empty());
}

TEST_P(StoreContractTest, ACustodianHoldOnConversationsIsStillNarrowedByItsSpacesAndDates) {
  Conversations w(store());
  Message old_received = w.Old(w.alice, w.direct, "old, to bob");
  Message new_received = w.New(w.alice, w.direct, "new, to bob");
  Message in_group = w.Old(w.carol, w.group, "carol to the group");
  Message own_in_channel = w.Old(w.bob, w.channel, "bob in the channel");
  LegalHoldId in_channel_only = AddHold(store(), Hold({w.bob}, {w.channel}));
  EXPECT_EQ(Covering(store(), own_in_channel.id), std::vector<LegalHoldId>{in_channel_only});
  EXPECT_TRUE(Covering(store(), old_received.id).empty());
  EXPECT_TRUE(Covering(store(), in_group.id).empty());
  LegalHoldId in_group_only = AddHold(store(), Hold({w.bob}, {w.group}));
  EXPECT_TRUE(Covering(store(), old_received.id).empty());
  EXPECT_EQ(Covering(store(), in_group.id), std::vector<LegalHoldId>{in_group_only});
  LegalHoldId recent = AddHold(store(), Hold({w.bob}, {}, kNow - kDay));
  EXPECT_TRUE(Covering(store(), old_received.id).empty());
  EXPECT_EQ(Covering(store(), new_received.id), std::vector<LegalHoldId>{recent});
}

// Membership history is not stored: a custodian whose membership row is gone still has the
// conversations they wrote in, but not one they never wrote in. Exports select the same.
TEST_P(StoreContractTest, ACustodianKeepsAConversationTheyWroteInAfterTheirMembershipIsGone) {
  Conversations w(store());
  Message received = w.Old(w.alice, w.direct, "alice to bob");
  Message answered = w.Old(w.bob, w.direct, "bob answers");
  Message unanswered = w.Old(w.carol, w.group, "bob never wrote here");
  ASSERT_TRUE(store().Write([&](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.DeleteMembership(w.direct, w.bob));
    return tx.DeleteMembership(w.group, w.bob);
  }));
  LegalHoldId hold = AddHold(store(), Hold({w.bob}, {}));
  EXPECT_TRUE(Candidates(store(), w.direct, kNow - kDay).empty());
  EXPECT_EQ(Covering(store(), received.id), std::vector<LegalHoldId>{hold});
  EXPECT_EQ(Candidates(store(), w.group, kNow - kDay), std::vector<MessageId>{unanswered.id});
  EXPECT_EQ(Exported(store(), {.custodian_ids = {w.bob}}), (std::vector<MessageId>{received.id, answered.id}));
}

TEST_P(StoreContractTest, AReceivedDirectMessageDeletedUnderACustodianHoldKeepsItsTextForEDiscovery) {
  Conversations w(store());
  Message received = w.New(w.alice, w.direct, "the dose was doubled");
  Message in_channel = w.New(w.alice, w.channel, "the dose in the channel");
  AddHold(store(), Hold({w.bob}, {}));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.DeleteMessage(received.id, kNow + 5));
    return tx.DeleteMessage(in_channel.id, kNow + 5);
  }));
  auto tombstone = FindMessage(store(), received.id, w.bob);
  ASSERT_TRUE(tombstone);
  EXPECT_TRUE(tombstone->deleted);
  EXPECT_EQ(tombstone->body, "");
  EXPECT_TRUE(Search(store(), "doubled", {w.direct}).empty());
  auto kept = store().Read([&](ReadTx& tx) { return tx.FindHeldDeletion(received.id); });
  ASSERT_TRUE(kept && *kept) << Describe(kept);
  EXPECT_EQ((*kept)->body, "the dose was doubled");
  EXPECT_EQ((*kept)->deleted_at, kNow + 5);
  auto not_kept = store().Read([&](ReadTx& tx) { return tx.FindHeldDeletion(in_channel.id); });
  ASSERT_TRUE(not_kept);
  EXPECT_FALSE(*not_kept);
  // Found by its custodian and by the kept text only.
  EXPECT_EQ(Exported(store(), {.custodian_ids = {w.bob}, .keywords = {"doubled"}}), std::vector<MessageId>{received.id});
}

TEST_P(StoreContractTest, AnExportByCustodianHoldsTheirConversationsButNotChannelMessagesOthersWrote) {
  Conversations w(store());
  Message received = w.Old(w.alice, w.direct, "alice to bob");
  Message in_group = w.Old(w.carol, w.group, "carol to the group");
  Message own = w.New(w.bob, w.channel, "bob in the channel");
  Message in_channel = w.New(w.alice, w.channel, "alice in the channel");
  Message elsewhere = w.New(w.alice, w.without_bob, "alice to carol");
  EXPECT_EQ(Exported(store(), {.custodian_ids = {w.bob}}), (std::vector<MessageId>{received.id, in_group.id, own.id}));
  EXPECT_EQ(Exported(store(), {.custodian_ids = {w.bob}, .space_ids = {w.direct, w.channel}}),
            (std::vector<MessageId>{received.id, own.id}));
  EXPECT_EQ(Exported(store(), {.custodian_ids = {w.bob}, .from = kNow - kDay}), std::vector<MessageId>{own.id});
  EXPECT_EQ(Exported(store(), {.custodian_ids = {w.carol}}), (std::vector<MessageId>{in_group.id, elsewhere.id}));
  EXPECT_EQ(Exported(store(), {.custodian_ids = {w.bob, w.carol}}),
            (std::vector<MessageId>{received.id, in_group.id, own.id, elsewhere.id}));
  EXPECT_EQ(Exported(store(), {}).size(), 5u);
  EXPECT_FALSE(Contains(Exported(store(), {.custodian_ids = {w.bob}}), in_channel.id));
}

TEST_P(StoreContractTest, ExportRecordsInsertListAndFind) {
  ExportRecord e{"abc123", 5, kNow, "{\"spaces\":[1]}", "/tmp/x", 12, 5, std::string(64, 'f')};
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertExport(e); }));
  auto dup = store().Write([&](WriteTx& tx) { return tx.InsertExport(e); });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  auto found = store().Read([](ReadTx& tx) { return tx.FindExport("abc123"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->message_count, 12);
  EXPECT_EQ((*found)->manifest_sha256, e.manifest_sha256);
  auto list = store().Read([](ReadTx& tx) { return tx.ListExports(10, std::nullopt); });
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].query_json, e.query_json);
}

// An export's files removed: marked once, with who and when; the record stays, listed and found;
// the expiry sees only the exports still kept in the folder it names, oldest first.
TEST_P(StoreContractTest, AnExportIsMarkedRemovedOnceAndLeavesTheKeptList) {
  for (const auto& [id, at] : std::vector<std::pair<std::string, UnixMillis>>{
           {"old", kNow}, {"mid", kNow + 10}, {"new", kNow + 20}, {"elsewhere", kNow}}) {
    ExportRecord e{id, 5, at, "{}", (id == "elsewhere" ? "/srv/case/" : "/data/exports/") + id, 1, 5, std::string(64, 'a')};
    ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertExport(e); }));
  }
  auto kept = [&](UnixMillis before) {
    std::vector<std::string> ids;
    auto list = store().Read([&](ReadTx& tx) { return tx.ListKeptExportsBefore(before, "/data/exports/", 10); });
    EXPECT_TRUE(list);
    if (list) for (const auto& e : *list) ids.push_back(e.id);
    return ids;
  };
  EXPECT_EQ(kept(kNow + 15), (std::vector<std::string>{"old", "mid"}));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.MarkExportRemoved("old", 7, kNow + 30); }));
  auto again = store().Write([&](WriteTx& tx) { return tx.MarkExportRemoved("old", 8, kNow + 40); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().problem, "export_removed");
  auto unknown = store().Write([&](WriteTx& tx) { return tx.MarkExportRemoved("nope", 8, kNow + 40); });
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto found = store().Read([](ReadTx& tx) { return tx.FindExport("old"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->removed_at, kNow + 30);
  EXPECT_EQ((*found)->removed_by, 7);
  auto mid = store().Read([](ReadTx& tx) { return tx.FindExport("mid"); });
  ASSERT_TRUE(mid && *mid);
  EXPECT_FALSE((*mid)->removed_at);
  EXPECT_FALSE((*mid)->removed_by);
  EXPECT_EQ(kept(kNow + 100), (std::vector<std::string>{"mid", "new"}));
  auto listed = store().Read([](ReadTx& tx) { return tx.ListExports(10, std::nullopt); });
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 4u);
  // A prefix is a prefix, not a pattern: '%' and '_' in it match only themselves.
  auto patterned = store().Read([&](ReadTx& tx) { return tx.ListKeptExportsBefore(kNow + 100, "/data/export_", 10); });
  ASSERT_TRUE(patterned);
  EXPECT_TRUE(patterned->empty());
}

// Pages of exports follow one another, newest first, ties in time by id, with no export twice or
// left out.
TEST_P(StoreContractTest, ExportsArePagedNewestFirstWithoutGapsOrRepeats) {
  for (const auto& [id, at] : std::vector<std::pair<std::string, UnixMillis>>{
           {"e1", kNow}, {"e3", kNow + 5}, {"e2", kNow + 5}, {"e4", kNow + 9}, {"e5", kNow + 5}}) {
    ExportRecord e{id, 5, at, "{}", "/tmp/" + id, 1, 5, std::string(64, 'a')};
    ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertExport(e); }));
  }
  std::vector<std::string> seen;
  std::optional<ExportCursor> after;
  for (int page = 0; page < 10; ++page) {
    auto list = store().Read([&](ReadTx& tx) { return tx.ListExports(2, after); });
    ASSERT_TRUE(list);
    if (list->empty()) break;
    for (const auto& e : *list) seen.push_back(e.id);
    after = ExportCursor{list->back().created_at, list->back().id};
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"e4", "e2", "e3", "e5", "e1"}));
}

}  // namespace
}  // namespace rounds::store::storetest
