#include "domain/audit.hpp"

#include <algorithm>

namespace rounds::domain {

std::string_view ToString(AuditOutcome outcome) {
  switch (outcome) {
    case AuditOutcome::kSuccess: return "success";
    case AuditOutcome::kDenied: return "denied";
    case AuditOutcome::kFailure: return "failure";
  }
  return "failure";
}

std::optional<AuditOutcome> ParseAuditOutcome(std::string_view text) {
  if (text == "success") return AuditOutcome::kSuccess;
  if (text == "denied") return AuditOutcome::kDenied;
  if (text == "failure") return AuditOutcome::kFailure;
  return std::nullopt;
}

std::string JoinPatientRefs(std::vector<std::string> refs) {
  std::erase_if(refs, [](const std::string& ref) { return ref.empty(); });
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  std::string out;
  for (const std::string& ref : refs) {
    if (!out.empty()) out += ' ';
    out += ref;
  }
  return out;
}

std::vector<std::string> SplitPatientRefs(std::string_view joined) {
  std::vector<std::string> refs;
  ForEachPatientRef(joined, [&](std::string_view ref) { refs.emplace_back(ref); });
  return refs;
}

std::string MergePatientRefs(std::string_view a, std::string_view b) {
  if (b.empty() || a == b) return std::string(a);
  if (a.empty()) return std::string(b);
  std::vector<std::string> refs = SplitPatientRefs(a);
  for (std::string& ref : SplitPatientRefs(b)) refs.push_back(std::move(ref));
  return JoinPatientRefs(std::move(refs));
}

void PatientSet::Add(std::string_view joined) {
  ForEachPatientRef(joined, [&](std::string_view ref) {
    if (!refs_.contains(ref)) refs_.emplace(ref);
  });
}

std::string PatientSet::Joined() const {
  std::string out;
  for (const std::string& ref : refs_) {
    if (!out.empty()) out += ' ';
    out += ref;
  }
  return out;
}

}  // namespace rounds::domain
