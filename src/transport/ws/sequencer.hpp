// Orders one WebSocket's space events so the client sees every event of a space exactly once and
// in seq order, across the replay/live boundary and across out-of-order publishing.
//
// Why it is needed: services publish after their commit, from whichever thread committed, so two
// events of one space committed in the same group-commit batch can reach the hub as seq 11 then
// seq 10. Dropping the late 10 would leave a hole the client never fills (its next cursor is 11).
// Instead an event that skips ahead is held until the missing ones arrive; a hole that is still
// open after a grace period is filled from the store (the missing events were committed no later
// than the held one), and whatever the store does not return for this caller is skipped.
//
// Frames without a space or seq (user events, typing, presence) do not pass through here.
// Pure logic, no I/O and no clock of its own; not thread-safe: one socket's strand owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/types.hpp"

namespace rounds::transport {

class EventSequencer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Frame {
    domain::SpaceId space_id = 0;
    domain::Seq seq = 0;
    std::shared_ptr<const std::string> frame;
    // A live event that carries its data (not a placeholder): a read to record once it is sent,
    // naming `patients` (bus::Event::patient_refs). Replayed frames are recorded by the replay.
    bool live_read = false;
    std::shared_ptr<const std::string> patients;
  };

  // Starts holding: live events are buffered, not released, until Release(). A new socket holds
  // until the client's first resume (or a deadline the caller keeps).
  void Hold() { holding_ = true; }
  bool holding() const { return holding_; }

  // The client already has every event of `space_id` up to `seq` (its resume cursor).
  void SetCursor(domain::SpaceId space_id, domain::Seq seq);

  // A replayed or gap-fill event, read from the store in seq order for its space. Appends it to
  // `out` unless the client already has it.
  void Replayed(Frame frame, std::vector<Frame>& out);

  // A live event from the hub. Appends to `out` what can be delivered now, in order. Returns true
  // when the event opened a new hole (the caller arms a timer for FillsDue()).
  bool Live(Frame frame, TimePoint now, std::vector<Frame>& out);

  // Stops holding and releases the buffered events that are now in order. Returns true when a
  // hole remains open (see Live).
  bool Release(TimePoint now, std::vector<Frame>& out);

  // Spaces whose hole has been open for at least `grace`, with the last seq delivered in each:
  // the caller replays each from that seq (Replayed()) and then calls FillDone(). A space is not
  // returned again until its FillDone().
  std::vector<std::pair<domain::SpaceId, domain::Seq>> FillsDue(TimePoint now, std::chrono::milliseconds grace);

  // Ends a fill: releases the held events of `space_id` in order, skipping a hole the fill could
  // not close (events this caller may not see).
  void FillDone(domain::SpaceId space_id, TimePoint now, std::vector<Frame>& out);

  // When the oldest open, not yet filling hole reaches `grace`; nullopt when there is none.
  std::optional<TimePoint> NextFillTime(std::chrono::milliseconds grace) const;

  // Events buffered (while holding or behind a hole).
  std::size_t held_count() const { return held_count_; }

 private:
  struct SpaceState {
    domain::Seq last = 0;                           // highest seq handed out (or the cursor)
    std::map<domain::Seq, Frame> held;              // events waiting behind a hole or the hold
    std::optional<TimePoint> hole_since;            // when the current hole was noticed
    bool filling = false;
    domain::Seq fill_upto = 0;                      // highest held seq when the fill started
  };

  // Moves the held events that follow `state.last` without a hole to `out`.
  void Drain(SpaceState& state, std::vector<Frame>& out);
  void DropHeldUpTo(SpaceState& state, domain::Seq seq);

  std::map<domain::SpaceId, SpaceState> spaces_;
  std::size_t held_count_ = 0;
  bool holding_ = true;
};

}  // namespace rounds::transport
