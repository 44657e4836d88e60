#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>
#include <set>

#include "transport/ws/hub.hpp"
#include "transport/ws/live_reads.hpp"
#include "transport/ws/presence.hpp"
#include "transport/ws/sequencer.hpp"

namespace rounds::transport {
namespace {

using namespace std::chrono_literals;
using Frame = EventSequencer::Frame;

Frame F(domain::SpaceId space, domain::Seq seq) {
  return {space, seq, std::make_shared<const std::string>(std::to_string(space) + ":" + std::to_string(seq))};
}

std::vector<domain::Seq> Seqs(const std::vector<Frame>& frames) {
  std::vector<domain::Seq> out;
  for (const auto& f : frames) out.push_back(f.seq);
  return out;
}

const EventSequencer::TimePoint kT0{};

TEST(EventSequencer, HoldsLiveEventsDuringTheReplayAndDeliversEachOnce) {
  EventSequencer seq;  // a new socket holds until the client resumes
  std::vector<Frame> out;
  seq.SetCursor(1, 10);
  seq.Live(F(1, 12), kT0, out);  // live events arrive while the replay reads the log
  seq.Live(F(1, 11), kT0, out);
  seq.Live(F(1, 9), kT0, out);   // older than the cursor: the client has it
  EXPECT_TRUE(out.empty());
  seq.Replayed(F(1, 11), out);
  seq.Replayed(F(1, 12), out);
  seq.Release(kT0, out);
  EXPECT_EQ(Seqs(out), (std::vector<domain::Seq>{11, 12}));
  EXPECT_EQ(seq.held_count(), 0u);
  out.clear();
  seq.Live(F(1, 12), kT0, out);
  seq.Live(F(1, 13), kT0, out);
  EXPECT_EQ(Seqs(out), (std::vector<domain::Seq>{13}));
}

TEST(EventSequencer, ReordersEventsPublishedOutOfOrder) {
  EventSequencer seq;
  std::vector<Frame> out;
  seq.SetCursor(1, 10);
  seq.Release(kT0, out);
  EXPECT_TRUE(seq.Live(F(1, 12), kT0, out)) << "a hole opens";
  EXPECT_FALSE(seq.Live(F(1, 13), kT0, out)) << "the same hole";
  EXPECT_TRUE(out.empty());
  seq.Live(F(1, 11), kT0 + 1ms, out);
  EXPECT_EQ(Seqs(out), (std::vector<domain::Seq>{11, 12, 13}));
  EXPECT_FALSE(seq.NextFillTime(200ms).has_value());
}

TEST(EventSequencer, FillsAHoleThatStaysOpenFromTheStore) {
  EventSequencer seq;
  std::vector<Frame> out;
  seq.SetCursor(1, 10);
  seq.Release(kT0, out);
  seq.Live(F(1, 13), kT0, out);
  EXPECT_TRUE(seq.FillsDue(kT0 + 100ms, 200ms).empty()) << "still within the grace period";
  ASSERT_EQ(seq.NextFillTime(200ms), kT0 + 200ms);
  auto due = seq.FillsDue(kT0 + 200ms, 200ms);
  ASSERT_EQ(due, (std::vector<std::pair<domain::SpaceId, domain::Seq>>{{1, 10}}));
  EXPECT_TRUE(seq.FillsDue(kT0 + 300ms, 200ms).empty()) << "one fill at a time";
  seq.Live(F(1, 14), kT0 + 210ms, out);  // arrives while the fill runs
  seq.Replayed(F(1, 11), out);
  seq.Replayed(F(1, 12), out);
  seq.Replayed(F(1, 13), out);
  seq.FillDone(1, kT0 + 220ms, out);
  EXPECT_EQ(Seqs(out), (std::vector<domain::Seq>{11, 12, 13, 14}));
  EXPECT_EQ(seq.held_count(), 0u);
}

TEST(EventSequencer, SkipsAHoleTheStoreDoesNotFillButNotOneStillInFlight) {
  EventSequencer seq;
  std::vector<Frame> out;
  seq.SetCursor(1, 10);
  seq.Release(kT0, out);
  seq.Live(F(1, 12), kT0, out);  // 11 is not for this caller
  ASSERT_EQ(seq.FillsDue(kT0 + 1s, 200ms).size(), 1u);
  seq.Live(F(1, 15), kT0 + 1s, out);  // committed after the fill read the store; 13 and 14 may follow
  seq.FillDone(1, kT0 + 1s, out);
  EXPECT_EQ(Seqs(out), (std::vector<domain::Seq>{12}));
  seq.Live(F(1, 14), kT0 + 1s, out);
  seq.Live(F(1, 13), kT0 + 1s, out);
  EXPECT_EQ(Seqs(out), (std::vector<domain::Seq>{12, 13, 14, 15}));
}

TEST(EventSequencer, SpacesWithoutACursorStartLiveInOrder) {
  EventSequencer seq;
  std::vector<Frame> out;
  seq.Live(F(2, 7), kT0, out);  // held before the first resume
  seq.Live(F(2, 6), kT0, out);
  seq.Release(kT0, out);
  EXPECT_EQ(Seqs(out), (std::vector<domain::Seq>{6, 7}));
  out.clear();
  seq.Live(F(3, 40), kT0, out);  // a space joined later: its first event sets the start
  seq.Live(F(3, 41), kT0, out);
  EXPECT_EQ(Seqs(out), (std::vector<domain::Seq>{40, 41}));
}

TEST(EventSequencer, KeepsSpacesIndependent) {
  EventSequencer seq;
  std::vector<Frame> out;
  seq.SetCursor(1, 1);
  seq.SetCursor(2, 1);
  seq.Release(kT0, out);
  seq.Live(F(1, 3), kT0, out);  // hole in space 1
  seq.Live(F(2, 2), kT0, out);  // space 2 flows
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].space_id, 2);
  EXPECT_EQ(seq.held_count(), 1u);
}

class FakeSubscriber final : public Subscriber {
 public:
  FakeSubscriber(domain::UserId user, domain::SessionId session, bool staff = true)
      : user_(user), session_(session), staff_(staff) {}
  domain::UserId user_id() const override { return user_; }
  domain::SessionId session_id() const override { return session_; }
  bool staff() const override { return staff_; }
  void Deliver(const bus::Event& event) override { frames.push_back(event.frame); }
  void RecordReadsIfDue() override { ++asked_to_record; }
  void Close(std::uint16_t code, const std::string&) override { closed_with = code; }

  std::vector<std::shared_ptr<const std::string>> frames;
  int closed_with = 0;
  int asked_to_record = 0;

 private:
  domain::UserId user_;
  domain::SessionId session_;
  bool staff_;
};

bus::Event EventFor(std::vector<domain::UserId> users) {
  bus::Event e;
  e.space_id = 1;
  e.seq = 1;
  e.frame = std::make_shared<const std::string>("frame");
  e.recipients = std::make_shared<const std::vector<domain::UserId>>(std::move(users));
  return e;
}

// What a live event carries for the audit trail passes through holds and holes with the event.
TEST(EventSequencer, ALiveEventKeepsItsReadAndPatientsThroughAHold) {
  EventSequencer seq;
  std::vector<Frame> out;
  seq.SetCursor(1, 10);
  Frame live = F(1, 12);
  live.live_read = true;
  live.patients = std::make_shared<const std::string>("ref-a");
  seq.Live(std::move(live), kT0, out);
  seq.Replayed(F(1, 11), out);  // replayed frames are the replay's to record
  seq.Release(kT0, out);
  ASSERT_EQ(Seqs(out), (std::vector<domain::Seq>{11, 12}));
  EXPECT_FALSE(out[0].live_read);
  EXPECT_EQ(out[0].patients, nullptr);
  EXPECT_TRUE(out[1].live_read);
  ASSERT_NE(out[1].patients, nullptr);
  EXPECT_EQ(*out[1].patients, "ref-a");
}

TEST(LiveReads, GathersPerSpaceTheCountSeqsTimesAndPatients) {
  LiveReads reads;
  EXPECT_TRUE(reads.empty());
  EXPECT_FALSE(reads.Due(kT0 + 1h, 60s)) << "nothing gathered is never due";
  const std::string a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  const std::string ab = a + " " + b;
  reads.Add(7, 41, &b, kT0, 5000);
  reads.Add(7, 40, nullptr, kT0 + 1s, 6000);  // a seq released late from a hole
  reads.Add(7, 43, &a, kT0 + 2s, 7000);
  reads.Add(7, 44, &ab, kT0 + 3s, 8000);
  reads.Add(9, 2, nullptr, kT0 + 4s, 9000);
  EXPECT_FALSE(reads.empty());
  EXPECT_FALSE(reads.Due(kT0 + 59s, 60s));
  EXPECT_TRUE(reads.Due(kT0 + 60s, 60s)) << "timed from the oldest read gathered";
  auto taken = reads.Take();
  ASSERT_EQ(taken.size(), 2u);
  const app::LiveRead& seven = taken[7];
  EXPECT_EQ(seven.count, 4u);
  EXPECT_EQ(seven.first_seq, 40);
  EXPECT_EQ(seven.last_seq, 44);
  EXPECT_EQ(seven.first_at, 5000);
  EXPECT_EQ(seven.last_at, 8000);
  EXPECT_EQ(seven.patients, ab) << "each patient once, in order";
  EXPECT_EQ(taken[9].count, 1u);
  EXPECT_EQ(taken[9].patients, "");
  EXPECT_TRUE(reads.empty());
  EXPECT_FALSE(reads.Due(kT0 + 1h, 60s));

  // What could not be recorded is gathered again, merged with what came since, and due an
  // interval after it came back.
  reads.Add(7, 45, nullptr, kT0 + 70s, 70000);
  reads.Restore(taken, kT0 + 80s);
  EXPECT_FALSE(reads.Due(kT0 + 129s, 60s));
  EXPECT_TRUE(reads.Due(kT0 + 130s, 60s));
  auto again = reads.Take();
  EXPECT_EQ(again[7].count, 5u);
  EXPECT_EQ(again[7].first_seq, 40);
  EXPECT_EQ(again[7].last_seq, 45);
  EXPECT_EQ(again[7].first_at, 5000);
  EXPECT_EQ(again[7].last_at, 70000);
  EXPECT_EQ(again[7].patients, ab);
  EXPECT_EQ(again[9].count, 1u);

  // Spaces whose reading was opened are closed at the socket's close: those with nothing gathered
  // since get an entry of no events at the last seq gathered; the others keep theirs.
  EXPECT_FALSE(reads.Opened(7, kT0, 0));
  // A space found not PHI-bearing needs no opening until the time given, then is asked again;
  // and at once when a space has been given another template since it was asked.
  reads.MarkNotAudited(7, kT0 + 260s, 4);
  EXPECT_TRUE(reads.Opened(7, kT0 + 259s, 4));
  EXPECT_FALSE(reads.Opened(7, kT0 + 260s, 4));
  EXPECT_FALSE(reads.Opened(7, kT0 + 1s, 5)) << "a template was assigned since";
  reads.MarkNotAudited(7, kT0 + 260s, 5);
  EXPECT_TRUE(reads.Opened(7, kT0 + 1s, 5));
  reads.MarkOpened(7);
  reads.MarkOpened(9);
  reads.MarkOpened(11);
  EXPECT_TRUE(reads.Opened(7, kT0 + 1h, 6)) << "opened holds whatever is assigned";
  reads.Add(7, 50, nullptr, kT0 + 200s, 200000);
  reads.Add(9, 3, nullptr, kT0 + 201s, 201000);
  (void)reads.Take();
  reads.Add(9, 4, nullptr, kT0 + 202s, 202000);
  reads.CloseOpened(300000);
  auto closing = reads.Take();
  ASSERT_EQ(closing.size(), 3u);
  EXPECT_EQ(closing[7].count, 0u);
  EXPECT_EQ(closing[7].first_seq, 50);
  EXPECT_EQ(closing[7].last_seq, 50);
  EXPECT_EQ(closing[7].first_at, 300000);
  EXPECT_EQ(closing[9].count, 1u) << "what was gathered stays as it is";
  EXPECT_EQ(closing[9].first_seq, 4);
  EXPECT_EQ(closing[11].count, 0u);
  EXPECT_EQ(closing[11].first_seq, 0) << "opened, and nothing of it ever sent";
  EXPECT_TRUE(reads.Opened(7, kT0 + 100h, 0)) << "for the socket's life";
}

TEST(PresenceBatcher, AnnouncesWhatChangedSinceTheLastFlushAsTheHubSeesIt) {
  std::set<domain::UserId> online;  // the hub's truth
  PresenceBatcher batcher([&](domain::UserId u) { return online.contains(u); });
  auto snapshot = [&] { return nlohmann::json::parse(*batcher.Snapshot()); };
  EXPECT_EQ(snapshot(), (nlohmann::json{{"type", "presence_snapshot"}, {"version", 0}, {"user_ids", nlohmann::json::array()}}));
  EXPECT_FALSE(batcher.Flush());  // nothing noted
  // A burst: only the first note asks for a flush.
  for (domain::UserId u : {5, 3, 9}) online.insert(u);
  EXPECT_TRUE(batcher.Changed(5));
  EXPECT_FALSE(batcher.Changed(3));
  EXPECT_FALSE(batcher.Changed(9));
  auto first = batcher.Flush();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->version, 1u);
  EXPECT_EQ(first->online, (std::vector<domain::UserId>{3, 5, 9}));
  EXPECT_TRUE(first->offline.empty());
  EXPECT_EQ(snapshot(), (nlohmann::json{{"type", "presence_snapshot"}, {"version", 1}, {"user_ids", {3, 5, 9}}}));
  EXPECT_EQ(batcher.Snapshot(), batcher.Snapshot());  // built once per version
  // A user who leaves and comes back within one interval changed nothing; notes that arrive out of
  // order do not matter, only the hub's state at the flush.
  EXPECT_TRUE(batcher.Changed(5));
  EXPECT_FALSE(batcher.Changed(5));
  EXPECT_FALSE(batcher.Flush());
  online.erase(9);
  online.insert(12);
  EXPECT_TRUE(batcher.Changed(12));
  EXPECT_FALSE(batcher.Changed(9));
  auto second = batcher.Flush();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->version, 2u);
  EXPECT_EQ(second->online, (std::vector<domain::UserId>{12}));
  EXPECT_EQ(second->offline, (std::vector<domain::UserId>{9}));
  EXPECT_EQ(snapshot()["user_ids"], (nlohmann::json{3, 5, 12}));
  EXPECT_EQ(snapshot()["version"], 2);
}

TEST(Hub, DeliversOneSharedFrameToTheRecipientsSocketsOnly) {
  std::vector<std::pair<domain::UserId, bool>> presence;
  Hub hub([&](domain::UserId user, bool online) { presence.emplace_back(user, online); });
  auto a1 = std::make_shared<FakeSubscriber>(1, 100);
  auto a2 = std::make_shared<FakeSubscriber>(1, 101);
  auto b = std::make_shared<FakeSubscriber>(2, 200);
  auto c = std::make_shared<FakeSubscriber>(3, 300);
  hub.Add(a1);
  hub.Add(a2);
  hub.Add(b);
  hub.Add(c);
  EXPECT_EQ(presence, (std::vector<std::pair<domain::UserId, bool>>{{1, true}, {2, true}, {3, true}}));
  bus::Event e = EventFor({1, 2});
  hub.Dispatch(e);
  ASSERT_EQ(a1->frames.size(), 1u);
  ASSERT_EQ(a2->frames.size(), 1u);
  ASSERT_EQ(b->frames.size(), 1u);
  EXPECT_TRUE(c->frames.empty());
  EXPECT_EQ(a1->frames[0].get(), e.frame.get()) << "serialized once, shared";
  EXPECT_EQ(b->frames[0].get(), e.frame.get());
  bus::Event all = EventFor({});
  all.recipients = nullptr;
  hub.Dispatch(all);
  EXPECT_EQ(c->frames.size(), 1u);
  hub.Remove(a1.get());
  EXPECT_EQ(presence.size(), 3u) << "user 1 still has a socket";
  hub.Remove(a2.get());
  EXPECT_EQ(presence.back(), (std::pair<domain::UserId, bool>{1, false}));
  EXPECT_EQ(hub.connection_count(), 2u);
  // Every socket still connected is asked to record what it was sent live.
  hub.RecordReadsIfDue();
  EXPECT_EQ(a1->asked_to_record, 0);
  EXPECT_EQ(b->asked_to_record, 1);
  EXPECT_EQ(c->asked_to_record, 1);
}

TEST(Hub, AStaffOnlyEventReachesNoPatientOrGuest) {
  Hub hub(nullptr);
  auto nurse = std::make_shared<FakeSubscriber>(1, 100);
  auto patient = std::make_shared<FakeSubscriber>(2, 200, false);
  hub.Add(nurse);
  hub.Add(patient);
  bus::Event presence = EventFor({});
  presence.recipients = nullptr;
  presence.staff_only = true;
  hub.Dispatch(presence);
  EXPECT_EQ(nurse->frames.size(), 1u);
  EXPECT_TRUE(patient->frames.empty());
  bus::Event addressed = EventFor({2});
  hub.Dispatch(addressed);
  EXPECT_EQ(patient->frames.size(), 1u) << "other events reach them as before";
}

TEST(Hub, ClosesTheSocketsOfAnEndedSessionOnly) {
  Hub hub(nullptr);
  auto a = std::make_shared<FakeSubscriber>(1, 100);
  auto b = std::make_shared<FakeSubscriber>(1, 101);
  hub.Add(a);
  hub.Add(b);
  hub.CloseSession(100, 4001, "session ended");
  EXPECT_EQ(a->closed_with, 4001);
  EXPECT_EQ(b->closed_with, 0);
  hub.CloseAll(1001, "going away");
  EXPECT_EQ(b->closed_with, 1001);
}

TEST(Hub, ASocketThatIsGoneIsSkipped) {
  Hub hub(nullptr);
  auto keep = std::make_shared<FakeSubscriber>(1, 100);
  hub.Add(keep);
  {
    auto gone = std::make_shared<FakeSubscriber>(1, 101);
    hub.Add(gone);
  }  // destroyed without Remove (its coroutine ended abruptly)
  hub.Dispatch(EventFor({1}));
  EXPECT_EQ(keep->frames.size(), 1u);
}

TEST(Hub, DispatchFromManyThreadsWhileSocketsComeAndGo) {
  Hub hub(nullptr);
  auto steady = std::make_shared<FakeSubscriber>(1, 1);
  hub.Add(steady);
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    for (int i = 0; !stop; ++i) {
      auto s = std::make_shared<FakeSubscriber>(2, 1000 + i);
      hub.Add(s);
      hub.Remove(s.get());
    }
  });
  // Only the dispatching thread touches `steady`'s frames: one dispatcher.
  for (int i = 0; i < 20000; ++i) hub.Dispatch(EventFor({1, 2}));
  stop = true;
  churn.join();
  EXPECT_EQ(steady->frames.size(), 20000u);
}

}  // namespace
}  // namespace rounds::transport
