// Counters and histograms for /metrics in the Prometheus text format. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "app/audit_witness.hpp"
#include "core/clock_sync.hpp"
#include "store/store.hpp"

namespace rounds::transport {

class Metrics {
 public:
  void RecordRequest(const std::string& method, const std::string& route, int status, double seconds);
  void SocketOpened() { ++open_sockets_; }
  void SocketClosed() { --open_sockets_; }
  void SocketDroppedSlow() { ++slow_drops_; }
  void SocketDroppedFlooding() { ++flooding_drops_; }
  // A socket's hole in a space's seqs was filled from the store (see ws/sequencer.hpp).
  void GapFilled() { ++gap_fills_; }
  void MessageStored() { ++messages_stored_; }
  // A request answered on its I/O thread by a route's quick handler, not handed to the pool.
  void AnsweredQuick() { ++quick_answers_; }
  void AnsweredAsync() { ++async_answers_; }
  // A request refused with 503 before its body was read: max_body_bytes_in_flight was taken.
  void BodyRefusedBusy() { ++bodies_refused_busy_; }
  std::string Render(const store::StoreMetrics& store) const;
  // The kept pages of messages (app::PageCache): served from it, rendered from the store, kept.
  // The audit chain's last verification: rounds_audit_chain_verified (1 intact, 0 broken; absent
  // before the first), its time, and whether one runs.
  static std::string RenderAuditVerification(std::optional<bool> ok, std::int64_t checked_at_millis, bool running);
  // The audit witness off the host (config.audit_witness), when there is one: whether it is
  // connected, and the messages sent, waiting and dropped; with the audit feed on, the records it
  // sent and those it has still to send.
  static std::string RenderAuditWitness(const std::optional<app::AuditWitness::Stats>& witness);
  // The request bodies being read or handled (bytes held) and max_body_bytes_in_flight.
  static std::string RenderRequestBodies(std::int64_t held, std::int64_t limit);
  // The kernel's clock discipline (security target A5): rounds_clock_synchronized (1/0) and
  // rounds_clock_max_error_seconds; nothing when it cannot be read.
  static std::string RenderClockSync(const std::optional<ClockSync>& sync);
  // Emergency access grants running now and waiting for review (nothing when they could not be read).
  static std::string RenderEmergencyGrants(const std::optional<store::GrantCounts>& grants);
  static std::string RenderPageCache(std::uint64_t hits, std::uint64_t misses, std::uint64_t entries,
                                     std::uint64_t bytes, std::uint64_t trusted);

 private:
  static constexpr double kBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  struct Histogram {
    std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(std::size(kBounds), 0);
    std::uint64_t total = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;  // guarded by mutex_
  std::map<std::string, Histogram> latency_;                                      // guarded by mutex_
  std::atomic<std::int64_t> open_sockets_{0};
  std::atomic<std::uint64_t> slow_drops_{0};
  std::atomic<std::uint64_t> flooding_drops_{0};
  std::atomic<std::uint64_t> gap_fills_{0};
  std::atomic<std::uint64_t> messages_stored_{0};
  std::atomic<std::uint64_t> quick_answers_{0};
  std::atomic<std::uint64_t> async_answers_{0};
  std::atomic<std::uint64_t> bodies_refused_busy_{0};
};

}  // namespace rounds::transport
