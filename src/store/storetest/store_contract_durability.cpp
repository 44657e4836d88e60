// Store contract: units of work under concurrency, group commit, rollback of a failing unit,
// snapshot reads, shutdown, durability across reopen, and online backup.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "store/storetest/contract_helpers.hpp"
#include "store/storetest/fault_injection_store.hpp"
#include "store/storetest/store_contract.hpp"

namespace rounds::store::storetest {
namespace {

// Every space's events are numbered 1..N without gaps or repeats, and last_seq is N.
void ExpectGaplessSequence(Store& store, SpaceId space, std::size_t expected) {
  auto events = store.Read([&](ReadTx& tx) { return tx.ListEvents(space, 0, 1'000'000); });
  ASSERT_TRUE(events) << Describe(events);
  ASSERT_EQ(events->size(), expected);
  for (std::size_t i = 0; i < events->size(); ++i) ASSERT_EQ((*events)[i].seq, static_cast<Seq>(i + 1));
  auto row = store.Read([&](ReadTx& tx) { return tx.FindSpace(space); });
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->last_seq, static_cast<Seq>(expected));
}

TEST_P(StoreContractTest, SequencesHaveNoGapsUnderConcurrentWriters) {
  UserId u = AddUser(store(), "writer");
  SpaceId spaces[2] = {AddSpace(store(), "Busy", u), AddSpace(store(), "Also busy", u)};
  const StoreMetrics before = store().Metrics();
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!Post(store(), spaces[(t + i) % 2], u, "t" + std::to_string(t) + " #" + std::to_string(i))) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  ExpectGaplessSequence(store(), spaces[0], kThreads * kPerThread / 2);
  ExpectGaplessSequence(store(), spaces[1], kThreads * kPerThread / 2);
  // Each message's seq is its event's seq, and every seq has exactly one message.
  for (SpaceId space : spaces) {
    auto messages = List(store(), {.space_id = space, .after_seq = 0, .limit = 1000});
    ASSERT_EQ(messages.size(), static_cast<std::size_t>(kThreads * kPerThread / 2));
    for (std::size_t i = 0; i < messages.size(); ++i) EXPECT_EQ(messages[i].seq, static_cast<Seq>(i + 1));
  }
  // Group commit: concurrent units share transactions.
  const StoreMetrics after = store().Metrics();
  const auto units = after.write_units - before.write_units;
  const auto batches = after.write_batches - before.write_batches;
  EXPECT_EQ(units, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_LT(batches, units);
  EXPECT_EQ(after.failed_units, before.failed_units);
}

TEST_P(StoreContractTest, AUnitThatFailsAfterWritingLeavesNothing) {
  UserId u = AddUser(store(), "solo");
  SpaceId space = AddSpace(store(), "Solo", u);
  Status failed = store().RunWrite([&](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.InsertUser(MakeUser("ghost"), "h").map([](UserId) {}));
    ROUNDS_RETURN_IF_ERROR(PostIn(tx, NewMessage(space, u, {.body = "never"})).map([](Message) {}));
    ROUNDS_RETURN_IF_ERROR(tx.SetReadSeq(space, u, 1));
    return Fail(ErrorCode::kConflict, "changed_mind", "Changed my mind.");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kConflict);
  EXPECT_EQ(failed.error().problem, "changed_mind");
  auto ghost = store().Read([](ReadTx& tx) { return tx.FindUserByUsername("ghost"); });
  ASSERT_TRUE(ghost);
  EXPECT_FALSE(*ghost);
  EXPECT_TRUE(List(store(), {.space_id = space, .include_deleted = true}).empty());
  EXPECT_TRUE(Search(store(), "never", {space}).empty());
  ExpectGaplessSequence(store(), space, 0);
  EXPECT_EQ(SidebarEntry(store(), u, space)->membership.read_seq, 0);
  auto next = Post(store(), space, u, "real");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 1);
}

TEST_P(StoreContractTest, AFailingUnitRollsBackAloneAmongConcurrentUnits) {
  UserId u = AddUser(store(), "mixed");
  SpaceId space = AddSpace(store(), "Mixed", u);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, failed{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      Status status = store().RunWrite([&](WriteTx& tx) -> Status {
        ROUNDS_RETURN_IF_ERROR(PostIn(tx, NewMessage(space, u, {.body = "unit " + std::to_string(t)})).map([](Message) {}));
        if (t % 4 == 0) return Fail(ErrorCode::kInvalidArgument, "injected", "injected failure");
        return Ok();
      });
      status ? ++ok : ++failed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 12);
  EXPECT_EQ(failed, 4);
  auto messages = List(store(), {.space_id = space, .limit = 100});
  EXPECT_EQ(messages.size(), 12u);
  for (const auto& m : messages) EXPECT_NE(std::stoi(m.body.substr(5)) % 4, 0) << m.body;
  ExpectGaplessSequence(store(), space, 12);  // the failed units' seqs were rolled back too
}

// Faults injected from outside the store: the n-th unit runs in full, then reports an error.
TEST_P(StoreContractTest, AnInjectedFaultRollsBackOnlyItsUnit) {
  UserId u = AddUser(store(), "faulty");
  SpaceId space = AddSpace(store(), "Faulty", u);
  FaultInjectionStore faulty(store());
  faulty.FailNthWrite(5);
  const StoreMetrics before = store().Metrics();
  constexpr int kUnits = 24;
  std::vector<std::thread> threads;
  std::vector<Result<Message>> results(kUnits, tl::unexpected(Error{}));
  for (int t = 0; t < kUnits; ++t) {
    threads.emplace_back([&, t] { results[t] = Post(faulty, space, u, "unit-" + std::to_string(t)); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(faulty.injected(), 1);
  std::set<std::string> committed;
  int injected = 0;
  for (int t = 0; t < kUnits; ++t) {
    if (results[t]) {
      committed.insert("unit-" + std::to_string(t));
    } else {
      EXPECT_EQ(results[t].error().problem, FaultInjectionStore::kProblem) << Describe(results[t]);
      ++injected;
    }
  }
  EXPECT_EQ(injected, 1);
  auto messages = List(store(), {.space_id = space, .limit = 100});
  std::set<std::string> stored;
  for (const auto& m : messages) stored.insert(m.body);
  EXPECT_EQ(stored, committed);
  ExpectGaplessSequence(store(), space, kUnits - 1);
  const StoreMetrics after = store().Metrics();
  EXPECT_EQ(after.failed_units - before.failed_units, 1u);
  EXPECT_EQ(after.write_units - before.write_units, static_cast<std::uint64_t>(kUnits - 1));
}

// RunWriteAsync: the caller does not wait; each unit is completed exactly once, after its commit,
// with what RunWrite would have said, and a failing unit rolls back alone. A completion sees its
// unit's writes from any read connection, since it runs only once the commit is durable.
TEST_P(StoreContractTest, AsynchronousUnitsCompleteOnceAfterTheirCommit) {
  UserId u = AddUser(store(), "async");
  SpaceId space = AddSpace(store(), "Async", u);
  constexpr int kUnits = 200;
  std::mutex mu;
  std::condition_variable cv;
  int completed = 0;
  std::vector<int> calls(kUnits, 0);
  std::vector<Status> statuses(kUnits);
  std::vector<bool> visible(kUnits, false);
  std::vector<MessageId> ids(kUnits, 0);
  for (int i = 0; i < kUnits; ++i) {
    store().RunWriteAsync(
        [&, i](WriteTx& tx) -> Status {
          ROUNDS_ASSIGN_OR_RETURN(Message m, PostIn(tx, NewMessage(space, u, {.body = "async " + std::to_string(i)})));
          ids[i] = m.id;
          if (i % 10 == 3) return Fail(ErrorCode::kInvalidArgument, "injected", "injected failure");
          return Ok();
        },
        [&, i](Status status) {
          // Durable and visible before the completion: a read sees the message (or, for a failed
          // unit, does not).
          auto found = store().Read([&](ReadTx& tx) { return tx.FindMessage(ids[i], u); });
          std::lock_guard lock(mu);
          ++calls[i];
          statuses[i] = std::move(status);
          // By body: a failed unit's id is free again, and the next unit may have taken it.
          visible[i] = found && found->has_value() && (*found)->body == "async " + std::to_string(i);
          ++completed;
          cv.notify_all();
        });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return completed == kUnits; }));
  }
  int failed = 0;
  for (int i = 0; i < kUnits; ++i) {
    EXPECT_EQ(calls[i], 1) << i;
    if (i % 10 == 3) {
      ++failed;
      ASSERT_FALSE(statuses[i]) << i;
      EXPECT_EQ(statuses[i].error().problem, "injected");
      EXPECT_FALSE(visible[i]) << i;
    } else {
      EXPECT_TRUE(statuses[i]) << i << " " << Describe(statuses[i]);
      EXPECT_TRUE(visible[i]) << i;
    }
  }
  ExpectGaplessSequence(store(), space, kUnits - failed);

  // After Close, a unit is refused through its completion, never run.
  store().Close();
  bool ran = false;
  std::optional<Status> refused;
  store().RunWriteAsync([&](WriteTx&) -> Status {
    ran = true;
    return Ok();
  }, [&](Status status) { refused = std::move(status); });
  ASSERT_TRUE(refused.has_value());
  ASSERT_FALSE(*refused);
  EXPECT_EQ(refused->error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(ran);
}

TEST_P(StoreContractTest, ReadsSeeOneSnapshotAndDoNotBlockWrites) {
  UserId u = AddUser(store(), "snap");
  SpaceId space = AddSpace(store(), "Snapshot", u);
  ASSERT_TRUE(Post(store(), space, u, "before"));
  std::promise<void> read_started, write_done;
  std::shared_future<void> written = write_done.get_future().share();
  std::vector<std::size_t> counts;
  Seq last_seq_seen = -1;
  auto read_future = std::async(std::launch::async, [&] {
    return store().RunRead([&](ReadTx& tx) -> Status {
      // Started whatever the read answers: a read that fails fails the test, and never hangs it.
      auto first = tx.ListMessages({.space_id = space});
      read_started.set_value();
      if (!first) return tl::unexpected(first.error());
      counts.push_back(first->size());
      // Hold the read open while a write commits; it must not wait for us.
      if (written.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        return Internal("the write waited for the read");
      }
      ROUNDS_ASSIGN_OR_RETURN(auto second, tx.ListMessages({.space_id = space}));
      counts.push_back(second.size());
      ROUNDS_ASSIGN_OR_RETURN(auto found, tx.FindSpace(space));
      if (!found) return NotFound("Space");
      last_seq_seen = found->last_seq;
      return Ok();
    });
  });
  read_started.get_future().wait();
  ASSERT_TRUE(Post(store(), space, u, "during"));
  write_done.set_value();
  Status read = read_future.get();
  ASSERT_TRUE(read) << Describe(read);
  EXPECT_EQ(counts, (std::vector<std::size_t>{1, 1}));  // the same snapshot throughout
  EXPECT_EQ(last_seq_seen, 1);
  EXPECT_EQ(List(store(), {.space_id = space}).size(), 2u);  // a new read sees the write
}

TEST_P(StoreContractTest, WritesDuringCloseEitherCommitOrAreRefused) {
  UserId u = AddUser(store(), "closer");
  SpaceId space = AddSpace(store(), "Closing", u);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> committed(4);
  std::atomic<int> refused{0}, other{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < 400; ++i) {
        std::string body = "w" + std::to_string(t) + "-" + std::to_string(i);
        auto posted = Post(store(), space, u, body);
        if (posted) {
          committed[t].push_back(body);
        } else if (posted.error().code == ErrorCode::kUnavailable) {
          ++refused;
          return;  // once refused, always refused
        } else {
          ++other;
        }
      }
    });
  }
  go = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  store().Close();
  store().Close();  // idempotent
  for (auto& t : threads) t.join();
  EXPECT_EQ(other, 0);
  auto late = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Late", std::nullopt}); });
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kUnavailable);
  auto read_after_close = store().Read([](ReadTx& tx) { return tx.CountUsers(); });
  ASSERT_TRUE(read_after_close) << Describe(read_after_close);  // reads keep working
  EXPECT_EQ(*read_after_close, 1);

  // Everything acknowledged before the close is there after reopening, and nothing else.
  Reopen();
  std::set<std::string> acknowledged;
  for (const auto& bodies : committed) acknowledged.insert(bodies.begin(), bodies.end());
  auto stored = List(store(), {.space_id = space, .limit = 1000});
  std::set<std::string> bodies;
  for (const auto& m : stored) bodies.insert(m.body);
  EXPECT_EQ(bodies, acknowledged);
  ExpectGaplessSequence(store(), space, acknowledged.size());
}

TEST_P(StoreContractTest, DataSurvivesReopen) {
  auto dept = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Oncology", std::nullopt}); });
  ASSERT_TRUE(dept);
  User user = MakeUser("durable");
  user.department_ids = {*dept};
  auto u = store().Write([&](WriteTx& tx) { return tx.InsertUser(user, "argon-hash"); });
  ASSERT_TRUE(u);
  UserId other = AddUser(store(), "durable2");
  SpaceId space = AddSpace(store(), "Durable", *u);
  ASSERT_TRUE(Join(store(), space, other, MemberRole::kModerator));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) {
    return tx.InsertSession({0, *u, "durable-token", "csrf", false, kNow, kNow, kNow + 1000, "", ""});
  }));
  auto first = Post(store(), space, *u, Draft{.body = "persisted before close", .client_id = "c-9", .mentions = {other}});
  auto poll = Post(store(), space, *u, Draft{.body = "lunch?", .kind = MessageKind::kPoll, .poll_options = {"yes", "no"}});
  ASSERT_TRUE(first && poll);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateMessageBody(first->id, "", "persisted and edited", kNow + 1, *u); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReaction(first->id, other, "👍", true); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetPollVote(poll->id, other, 1); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReadSeq(space, other, 1); }));

  Reopen();

  auto found = store().Read([](ReadTx& tx) { return tx.FindUserByUsername("durable"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->department_ids, std::vector<DepartmentId>{*dept});
  EXPECT_EQ(store().Read([&](ReadTx& tx) { return tx.FindCredentials(*u); }).value()->password_hash, "argon-hash");
  EXPECT_TRUE(*store().Read([](ReadTx& tx) { return tx.FindSessionByTokenHash("durable-token"); }));
  auto membership = store().Read([&](ReadTx& tx) { return tx.FindMembership(space, other); });
  ASSERT_TRUE(membership && *membership);
  EXPECT_EQ((*membership)->role, MemberRole::kModerator);
  EXPECT_EQ((*membership)->read_seq, 1);
  auto messages = List(store(), {.space_id = space, .viewer_id = other});
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].body, "persisted and edited");
  EXPECT_EQ(messages[1].mentions, std::vector<UserId>{other});
  ASSERT_EQ(messages[1].reactions.size(), 1u);
  EXPECT_TRUE(messages[1].reactions[0].mine);
  EXPECT_EQ(messages[0].my_poll_vote, 1);
  EXPECT_EQ(store().Read([&](ReadTx& tx) { return tx.ListEdits(first->id); })->size(), 2u);
  EXPECT_EQ(Search(store(), "edited", {space}).size(), 1u);
  EXPECT_TRUE(Search(store(), "close", {space}).empty());
  auto by_client = store().Read([&](ReadTx& tx) { return tx.FindMessageByClientId(space, *u, "c-9"); });
  ASSERT_TRUE(by_client && *by_client);
  ExpectGaplessSequence(store(), space, 2);
  auto next = Post(store(), space, *u, "after reopen");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->seq, 3);
  auto again = Post(store(), space, *u, Draft{.body = "retry", .client_id = "c-9"});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
}

TEST_P(StoreContractTest, BackupWhileWritingProducesAConsistentCopy) {
  if (!GetParam().backup_reopens) GTEST_SKIP() << "this backend backs up outside the store";
  UserId u = AddUser(store(), "backup");
  SpaceId space = AddSpace(store(), "Backup", u);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Post(store(), space, u, "before " + std::to_string(i)));
  std::atomic<bool> stop{false};
  std::atomic<int> during{0};
  std::thread writer([&] {
    while (!stop) {
      if (Post(store(), space, u, "during")) ++during;
    }
  });
  while (during < 10) std::this_thread::yield();
  std::string copy_dir = NewFolder("copy");
  Status backed_up = store().Backup(copy_dir + "/" + GetParam().backup_file_name);
  stop = true;
  writer.join();
  ASSERT_TRUE(backed_up) << Describe(backed_up);

  auto copy = GetParam().open(copy_dir);
  ASSERT_TRUE(copy) << Describe(copy);
  auto events = (*copy)->Read([&](ReadTx& tx) { return tx.ListEvents(space, 0, 100'000); });
  ASSERT_TRUE(events);
  ASSERT_GE(events->size(), 60u);
  for (std::size_t i = 0; i < events->size(); ++i) ASSERT_EQ((*events)[i].seq, static_cast<Seq>(i + 1));
  auto row = (*copy)->Read([&](ReadTx& tx) { return tx.FindSpace(space); });
  EXPECT_EQ((*row)->last_seq, static_cast<Seq>(events->size()));
  auto messages = (*copy)->Read([&](ReadTx& tx) { return tx.ListMessages({.space_id = space, .limit = 1000}); });
  ASSERT_TRUE(messages);
  EXPECT_EQ(messages->size(), events->size());
  EXPECT_EQ(Search(**copy, "before", {space}).size(), 20u);  // a full page
  // The copy is a working store of its own.
  auto posted = Post(**copy, space, u, "restored");
  ASSERT_TRUE(posted) << Describe(posted);
  EXPECT_EQ(posted->seq, static_cast<Seq>(events->size() + 1));
  (*copy)->Close();
}

}  // namespace
}  // namespace rounds::store::storetest
