#include "transport/ws/live_reads.hpp"

#include <algorithm>
#include <utility>

#include "domain/audit.hpp"

namespace rounds::transport {

void LiveReads::Add(domain::SpaceId space_id, domain::Seq seq, const std::string* patients, TimePoint now,
                    UnixMillis at) {
  app::LiveRead& read = reads_[space_id];
  if (read.count == 0) {
    read.first_seq = read.last_seq = seq;
    read.first_at = at;
  }
  ++read.count;
  read.first_seq = std::min(read.first_seq, seq);
  read.last_seq = std::max(read.last_seq, seq);
  read.last_at = std::max(read.last_at, at);
  if (patients != nullptr && !patients->empty() && *patients != read.patients) {
    read.patients = domain::MergePatientRefs(read.patients, *patients);
  }
  if (!oldest_) oldest_ = now;
  if (auto opened = opened_.find(space_id); opened != opened_.end()) opened->second = std::max(opened->second, seq);
}

void LiveReads::CloseOpened(UnixMillis at) {
  for (const auto& [space_id, last_seq] : opened_) {
    auto [read, added] = reads_.try_emplace(space_id);
    if (!added) continue;
    read->second.first_seq = read->second.last_seq = last_seq;
    read->second.first_at = read->second.last_at = at;
  }
}

bool LiveReads::Due(TimePoint now, std::chrono::seconds interval) const {
  return oldest_ && now - *oldest_ >= interval;
}

std::map<domain::SpaceId, app::LiveRead> LiveReads::Take() {
  oldest_.reset();
  return std::exchange(reads_, {});
}

void LiveReads::Restore(const std::map<domain::SpaceId, app::LiveRead>& reads, TimePoint now) {
  for (const auto& [space_id, back] : reads) {
    if (back.count == 0) continue;
    app::LiveRead& read = reads_[space_id];
    if (read.count == 0) {
      read = back;
    } else {
      read.count += back.count;
      read.first_seq = std::min(read.first_seq, back.first_seq);
      read.last_seq = std::max(read.last_seq, back.last_seq);
      read.first_at = std::min(read.first_at, back.first_at);
      read.last_at = std::max(read.last_at, back.last_at);
      read.patients = domain::MergePatientRefs(read.patients, back.patients);
    }
    if (!oldest_) oldest_ = now;
  }
}

}  // namespace rounds::transport
