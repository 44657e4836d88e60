#include "transport/ws/sequencer.hpp"

#include <algorithm>

namespace rounds::transport {

void EventSequencer::DropHeldUpTo(SpaceState& state, domain::Seq seq) {
  while (!state.held.empty() && state.held.begin()->first <= seq) {
    state.held.erase(state.held.begin());
    --held_count_;
  }
  if (state.held.empty()) state.hole_since.reset();
}

void EventSequencer::Drain(SpaceState& state, std::vector<Frame>& out) {
  while (!state.held.empty() && state.held.begin()->first == state.last + 1) {
    out.push_back(std::move(state.held.begin()->second));
    state.held.erase(state.held.begin());
    --held_count_;
    ++state.last;
  }
  if (state.held.empty()) state.hole_since.reset();
}

void EventSequencer::SetCursor(domain::SpaceId space_id, domain::Seq seq) {
  SpaceState& state = spaces_[space_id];
  state.last = std::max(state.last, seq);
  DropHeldUpTo(state, state.last);
}

void EventSequencer::Replayed(Frame frame, std::vector<Frame>& out) {
  SpaceState& state = spaces_[frame.space_id];
  if (frame.seq <= state.last) return;
  state.last = frame.seq;
  out.push_back(std::move(frame));
  DropHeldUpTo(state, state.last);
}

bool EventSequencer::Live(Frame frame, TimePoint now, std::vector<Frame>& out) {
  SpaceState& state = spaces_[frame.space_id];
  if (frame.seq <= state.last || state.held.contains(frame.seq)) return false;  // already delivered or waiting
  if (!holding_ && (state.last == 0 || frame.seq == state.last + 1)) {
    // In order, or the first event of a space the client has no cursor for: it starts live.
    state.last = frame.seq;
    out.push_back(std::move(frame));
    Drain(state, out);
    return false;
  }
  domain::Seq seq = frame.seq;
  state.held.emplace(seq, std::move(frame));
  ++held_count_;
  if (holding_ || state.hole_since) return false;
  state.hole_since = now;
  return true;
}

bool EventSequencer::Release(TimePoint now, std::vector<Frame>& out) {
  holding_ = false;
  bool hole = false;
  for (auto& [space_id, state] : spaces_) {
    if (state.held.empty()) continue;
    // A space without a cursor starts live at the oldest event held for it.
    if (state.last == 0) state.last = state.held.begin()->first - 1;
    Drain(state, out);
    if (!state.held.empty() && !state.hole_since) {
      state.hole_since = now;
      hole = true;
    }
  }
  return hole;
}

std::vector<std::pair<domain::SpaceId, domain::Seq>> EventSequencer::FillsDue(TimePoint now,
                                                                               std::chrono::milliseconds grace) {
  std::vector<std::pair<domain::SpaceId, domain::Seq>> due;
  if (holding_) return due;
  for (auto& [space_id, state] : spaces_) {
    if (state.filling || state.held.empty() || !state.hole_since || *state.hole_since + grace > now) continue;
    state.filling = true;
    state.fill_upto = state.held.rbegin()->first;
    due.emplace_back(space_id, state.last);
  }
  return due;
}

void EventSequencer::FillDone(domain::SpaceId space_id, TimePoint now, std::vector<Frame>& out) {
  SpaceState& state = spaces_[space_id];
  state.filling = false;
  Drain(state, out);
  // Every event below fill_upto was committed before the fill read the store: one it did not
  // return is not for this caller. Later holes may still be in flight and get their own grace.
  while (!state.held.empty() && state.held.begin()->first <= state.fill_upto) {
    state.last = state.held.begin()->first - 1;
    Drain(state, out);
  }
  if (!state.held.empty()) state.hole_since = now;
}

std::optional<EventSequencer::TimePoint> EventSequencer::NextFillTime(std::chrono::milliseconds grace) const {
  std::optional<TimePoint> next;
  if (holding_) return next;
  for (const auto& [space_id, state] : spaces_) {
    if (state.filling || state.held.empty() || !state.hole_since) continue;
    TimePoint at = *state.hole_since + grace;
    if (!next || at < *next) next = at;
  }
  return next;
}

}  // namespace rounds::transport
