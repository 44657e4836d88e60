// A per-user limit on state-changing requests (anti-automation): a token bucket per user, refilled
// at `rate` a second up to `burst`. People never come near it; a script or a stolen token that
// floods a space, or posts, reacts or reports in a loop, gets 429 with Retry-After instead of the
// writer's time. Thread-safe; sharded so that posting threads rarely share a lock; each shard
// forgets its idle buckets (full again) once it holds many.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace rounds::transport {

class RequestLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // 0 when `user` may make one more request now (one token taken), else the seconds until it may
  // (nothing taken). A `rate` of 0 or less means no limit.
  int Take(std::int64_t user, double rate, double burst, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point refilled{};
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::int64_t, Bucket> buckets;  // guarded by mutex
    std::size_t sweep_at = kBucketsPerShard;           // guarded by mutex
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kBucketsPerShard = 4096;  // before idle ones are first forgotten
  std::array<Shard, kShards> shards_;
};

}  // namespace rounds::transport
