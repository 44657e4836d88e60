#include "app/page_cache.hpp"

#include <functional>

namespace rounds::app {

std::size_t PageCache::KeyHash::operator()(const Key& k) const noexcept {
  std::size_t h = std::hash<std::int64_t>{}(k.space_id);
  h = h * 1000003u ^ std::hash<std::int64_t>{}(k.before.value_or(-1));
  return h * 1000003u ^ static_cast<std::size_t>(k.limit);
}

std::size_t PageCache::SizeOf(const Page& page) {
  // The text and the list, plus what the map, the list node and the shared page cost around them.
  return page.text.capacity() + page.marked.capacity() * sizeof(domain::MessageId) + 256;
}

std::shared_ptr<const PageCache::Page> PageCache::Find(const Key& key, const store::PageVersion& version) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(key);
  if (it == slots_.end() || !(it->second.page->version == version)) return nullptr;
  recent_.splice(recent_.begin(), recent_, it->second.recent);
  return it->second.page;
}

void PageCache::Count(bool hit) { (hit ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed); }

void PageCache::Put(const Key& key, std::shared_ptr<const Page> page) {
  const std::size_t bytes = SizeOf(*page);
  if (bytes > capacity_) return;
  std::lock_guard lock(mutex_);
  auto it = slots_.find(key);
  if (it != slots_.end()) {
    // A reader whose transaction began before the last writer's must not replace a newer page.
    const store::PageVersion& kept = it->second.page->version;
    if (kept.content >= page->version.content && kept.directory >= page->version.directory) return;
    bytes_ -= it->second.bytes;
    it->second.page = std::move(page);
    it->second.bytes = bytes;
    recent_.splice(recent_.begin(), recent_, it->second.recent);
  } else {
    recent_.push_front(key);
    slots_.emplace(key, Slot{std::move(page), bytes, recent_.begin()});
  }
  bytes_ += bytes;
  while (bytes_ > capacity_ && !recent_.empty()) {
    auto last = slots_.find(recent_.back());
    bytes_ -= last->second.bytes;
    slots_.erase(last);
    recent_.pop_back();
  }
}

PageCache::Stats PageCache::stats() const {
  std::lock_guard lock(mutex_);
  return {hits_.load(std::memory_order_relaxed), misses_.load(std::memory_order_relaxed), slots_.size(), bytes_};
}

KeptReads::KeptReads(std::size_t capacity) : per_shard_(capacity == 0 ? 0 : capacity / kShards + 1) {}

std::size_t KeptReads::ReaderKeyHash::operator()(const ReaderKey& k) const noexcept {
  return PageCache::KeyHash{}(k.page) * 1000003u ^ std::hash<std::int64_t>{}(k.user);
}

KeptReads::Shard& KeptReads::ShardOf(const ReaderKey& key) {
  return shards_[ReaderKeyHash{}(key) % kShards];
}

std::optional<store::PageVersion> KeptReads::Find(domain::UserId user, const PageCache::Key& key,
                                                  const store::ChangeStamp& stamp, std::int64_t now) {
  if (per_shard_ == 0) return std::nullopt;
  const ReaderKey reader{user, key};
  Shard& shard = ShardOf(reader);
  std::lock_guard lock(shard.mutex);
  auto it = shard.checks.find(reader);
  if (it == shard.checks.end()) return std::nullopt;
  const Check& check = it->second;
  const std::int64_t age = now - check.checked_at;
  // A clock that went back makes a check older than it looks, not younger.
  if (!(check.stamp == stamp) || age < 0 || age >= kTrustMillis) {
    shard.checks.erase(it);
    return std::nullopt;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  return check.version;
}

void KeptReads::Put(domain::UserId user, const PageCache::Key& key, const Check& check) {
  if (per_shard_ == 0) return;
  const ReaderKey reader{user, key};
  Shard& shard = ShardOf(reader);
  std::lock_guard lock(shard.mutex);
  // Full: start the shard over. Checks are cheap to make again; a bound matters, an order does not.
  if (shard.checks.size() >= per_shard_ && shard.checks.find(reader) == shard.checks.end()) shard.checks.clear();
  shard.checks.insert_or_assign(reader, check);
}

}  // namespace rounds::app
