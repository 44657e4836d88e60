// An audit record: who did what to which object, when, from where, with what outcome. Stored
// append-only and hash-chained (governance/audit). Never carries message bodies or other free-text
// PHI: only ids, codes and reasons.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace rounds::domain {

enum class AuditOutcome { kSuccess, kDenied, kFailure };
std::string_view ToString(AuditOutcome outcome);
std::optional<AuditOutcome> ParseAuditOutcome(std::string_view text);

// Several patient references in one field (AuditRecord::patient_ref, Message::patient_refs):
// sorted, distinct, separated by single spaces; "" for none. References hold no spaces.
std::string JoinPatientRefs(std::vector<std::string> refs);
std::vector<std::string> SplitPatientRefs(std::string_view joined);
// Calls fn(std::string_view) with each reference of `joined`, in order, without copying them.
template <class F>
void ForEachPatientRef(std::string_view joined, F&& fn) {
  while (!joined.empty()) {
    const std::size_t space = joined.find(' ');
    const std::string_view ref = joined.substr(0, space);
    if (!ref.empty()) fn(ref);
    if (space == std::string_view::npos) break;
    joined.remove_prefix(space + 1);
  }
}
// The references of both, joined.
std::string MergePatientRefs(std::string_view a, std::string_view b);

// The patients several items name (a page, a thread, an export), each once: lists are added as
// they are stored, and the whole read back joined, for the record of what read them.
class PatientSet {
 public:
  void Add(std::string_view joined);  // one item's references, joined ("" for none)
  bool empty() const { return refs_.empty(); }
  std::string Joined() const;         // as JoinPatientRefs writes them

 private:
  std::set<std::string, std::less<>> refs_;
};

struct AuditRecord {
  std::int64_t seq = 0;            // 1, 2, 3, ... without gaps
  UnixMillis time = 0;             // UTC milliseconds
  std::int64_t actor_id = 0;       // 0 for the system or an unauthenticated caller
  std::string actor_role;          // "staff", "guest", "admin", "compliance", "patient", "system", "anonymous"
  std::string action;              // "auth.login", "user.disable", "space.create", ...
  std::string object_type;         // "space", "message", "user", "session", ...
  std::string object_id;
  // The patients the action concerns when PHI is involved, else empty: one reference
  // ("Patient/mrn-..."), or several separated by single spaces (a page that names three
  // patients), as JoinPatientRefs writes them.
  std::string patient_ref;
  AuditOutcome outcome = AuditOutcome::kSuccess;
  std::string address;             // source IP
  std::string session_hash;        // a hash of the session id, never the token
  std::string reason;              // break-the-glass or moderation reason, denial reason
  std::string details_json;        // a JSON object of ids and counts; never content
  std::string prev_hash;           // hex SHA-256 of the previous record (all zeros for seq 1)
  std::string hash;                // hex SHA-256 over prev_hash and the canonical encoding
};

}  // namespace rounds::domain
