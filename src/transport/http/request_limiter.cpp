#include "transport/http/request_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace rounds::transport {

int RequestLimiter::Take(std::int64_t user, double rate, double burst, Clock::time_point now) {
  if (rate <= 0) return 0;
  burst = std::max(burst, 1.0);
  Shard& shard = shards_[static_cast<std::uint64_t>(user) % kShards];
  std::lock_guard lock(shard.mutex);
  auto refill = [&](Bucket& b) {
    const double seconds = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(burst, b.tokens + std::max(0.0, seconds) * rate);
    b.refilled = now;
  };
  if (shard.buckets.size() >= shard.sweep_at && !shard.buckets.contains(user)) {
    // A bucket that has refilled to the burst is the same as none. The next sweep waits until the
    // shard has doubled what is left, so sweeping stays a constant cost per request however many
    // users are active.
    for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
      refill(it->second);
      it = it->second.tokens >= burst ? shard.buckets.erase(it) : std::next(it);
    }
    shard.sweep_at = std::max(kBucketsPerShard, 2 * shard.buckets.size());
  }
  auto [it, fresh] = shard.buckets.try_emplace(user, Bucket{burst, now});
  Bucket& bucket = it->second;
  if (!fresh) refill(bucket);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - bucket.tokens) / rate)));
}

}  // namespace rounds::transport
