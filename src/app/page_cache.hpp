// Rendered pages of a space's messages, kept for the next reader who would see the same text.
//
// A page is kept with the store's PageVersion it was read at, and found only by a reader whose own
// read transaction sees that same version: the versions move with every write to what a page
// shows, whichever process writes, so a page found is exactly the page the reader would render.
// Only pages that are the same for every reader are kept: none while the space holds messages
// awaiting review (their authors and the moderators see more), and none rendered for a viewer whose
// own reactions or votes show on it. A kept page lists the messages that carry reactions, polls or
// idea votes, so a reader checks only those for marks of their own before taking it.
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/types.hpp"
#include "store/store.hpp"

namespace rounds::app {

class PageCache {
 public:
  // Which page: the newest messages of the space before `before` (none: the newest), `limit` many.
  struct Key {
    domain::SpaceId space_id = 0;
    std::optional<domain::Seq> before;
    int limit = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Page {
    store::PageVersion version;
    std::string text;                         // the whole response body
    std::vector<domain::MessageId> marked;    // messages with reactions, a poll or idea votes
    std::size_t count = 0;                    // messages on the page
    std::string patients;                     // whom they name (PatientsRead), for a read's record
  };
  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
  };

  // Keeps at most `capacity_bytes` of pages (texts and lists), dropping the least recently used.
  // 0 keeps nothing.
  explicit PageCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The page kept for `key` if it was read at `version`.
  std::shared_ptr<const Page> Find(const Key& key, const store::PageVersion& version);
  // Keeps `page` for `key`, replacing an older one kept for it (never a newer one).
  void Put(const Key& key, std::shared_ptr<const Page> page);
  // A page served from the cache (hit) or rendered from the store (miss), for the metrics.
  void Count(bool hit);
  Stats stats() const;
  bool enabled() const { return capacity_ > 0; }

 private:
  struct Slot {
    std::shared_ptr<const Page> page;
    std::size_t bytes = 0;
    std::list<Key>::iterator recent;  // position in recent_
  };
  static std::size_t SizeOf(const Page& page);

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<Key, Slot, KeyHash> slots_;  // guarded by mutex_
  std::list<Key> recent_;                         // most recently used first; guarded by mutex_
  std::size_t bytes_ = 0;                         // guarded by mutex_
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

// What the server's I/O threads remember of a reader's last full check of a kept page
// (MessageService::ListKept): that this user was allowed this page at this page version, with the
// store's change stamp of the space read before the check began. The same user's next read of the
// page is answered from the page cache without a read transaction while the space's change stamp
// is unchanged and the check is younger than kTrustMillis. The stamp moves with every commit of
// this process that could change the answer (an account, a membership, the space, its template,
// its pages); a change another process commits moves it only when this process's writer next
// runs, and the age bounds how long such a change may go unseen here.
//
// Only plain standing is remembered: an administering session or the system reads through the
// full check every time.
//
// Thread safety: every member may be called from any thread.
class KeptReads {
 public:
  static constexpr std::int64_t kTrustMillis = 1000;
  struct Check {
    store::ChangeStamp stamp;   // read before the check's transaction began
    store::PageVersion version; // the page version the check saw
    std::int64_t checked_at = 0;
  };

  // Remembers at most about `capacity` checks (0: none).
  explicit KeptReads(std::size_t capacity);

  // The page version `user` was allowed `key` at, if that check still holds at `stamp` and `now`.
  std::optional<store::PageVersion> Find(domain::UserId user, const PageCache::Key& key,
                                         const store::ChangeStamp& stamp, std::int64_t now);
  void Put(domain::UserId user, const PageCache::Key& key, const Check& check);
  // Reads answered by Find.
  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }

 private:
  struct ReaderKey {
    domain::UserId user = 0;
    PageCache::Key page;
    bool operator==(const ReaderKey&) const = default;
  };
  struct ReaderKeyHash {
    std::size_t operator()(const ReaderKey& k) const noexcept;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<ReaderKey, Check, ReaderKeyHash> checks;  // guarded by mutex
  };
  static constexpr std::size_t kShards = 16;
  Shard& ShardOf(const ReaderKey& key);

  const std::size_t per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> hits_{0};
};

}  // namespace rounds::app
