#include "domain/audit.hpp"

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

}  // namespace rounds::domain
