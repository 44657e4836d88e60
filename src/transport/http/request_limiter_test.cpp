// RequestLimiter with a clock of the test's own: the burst, the rate, Retry-After, and users apart.
#include "transport/http/request_limiter.hpp"

#include <gtest/gtest.h>

namespace rounds::transport {
namespace {

using namespace std::chrono_literals;

TEST(RequestLimiter, ABurstThenTheRate) {
  RequestLimiter limiter;
  const auto start = RequestLimiter::Clock::time_point{} + 1000s;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Take(1, 2, 5, start), 0) << i;
  EXPECT_EQ(limiter.Take(1, 2, 5, start), 1) << "the sixth waits; a token comes in half a second";
  EXPECT_EQ(limiter.Take(1, 2, 5, start + 400ms), 1);
  EXPECT_EQ(limiter.Take(1, 2, 5, start + 500ms), 0);
  EXPECT_EQ(limiter.Take(1, 2, 5, start + 600ms), 1);
  EXPECT_EQ(limiter.Take(1, 2, 5, start + 10s), 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Take(1, 2, 5, start + 10s), 0) << "refilled to the burst, no more";
  EXPECT_EQ(limiter.Take(1, 2, 5, start + 10s), 1);
}

TEST(RequestLimiter, UsersHaveBucketsOfTheirOwn) {
  RequestLimiter limiter;
  const auto now = RequestLimiter::Clock::time_point{} + 5s;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take(7, 1, 3, now), 0);
  EXPECT_GT(limiter.Take(7, 1, 3, now), 0);
  EXPECT_EQ(limiter.Take(8, 1, 3, now), 0);
  EXPECT_EQ(limiter.Take(7 + 16, 1, 3, now), 0) << "the same shard, another user";
}

TEST(RequestLimiter, ASlowRateWaitsWholeSecondsAndNoRateIsNoLimit) {
  RequestLimiter limiter;
  const auto now = RequestLimiter::Clock::time_point{} + 5s;
  EXPECT_EQ(limiter.Take(3, 0.25, 1, now), 0);
  EXPECT_EQ(limiter.Take(3, 0.25, 1, now), 4);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.Take(4, 0, 0, now), 0);
}

// Many users at once (idle buckets are swept as the shards grow), and an idle user starts full.
TEST(RequestLimiter, ManyUsersAreServedAndAnIdleOneStartsFull) {
  RequestLimiter limiter;
  auto now = RequestLimiter::Clock::time_point{} + 5s;
  for (std::int64_t user = 0; user < 200'000; ++user) ASSERT_EQ(limiter.Take(user, 10, 2, now), 0);
  now += 1s;
  EXPECT_EQ(limiter.Take(5, 10, 2, now), 0);
  EXPECT_EQ(limiter.Take(5, 10, 2, now), 0);
  EXPECT_GT(limiter.Take(5, 10, 2, now), 0);
}

}  // namespace
}  // namespace rounds::transport
