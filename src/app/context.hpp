// Who is asking: the authenticated caller every app service receives. Built by AuthService from a
// session token (HTTP, WebSocket) or as the system principal (CLI, demo seeding). A value type.
#pragma once

#include <string>

#include "domain/types.hpp"

namespace rounds::app {

struct Actor {
  domain::User user;
  domain::SessionId session_id = 0;
  std::string csrf_token;         // the session's CSRF token (cookie sessions)
  UnixMillis session_expires_at = 0;  // the session's absolute end
  bool is_bearer = false;         // authenticated by bearer token rather than cookie
  bool is_system = false;         // the CLI or the server itself: an administrator with no session
  std::string address;            // client address, for audit
  std::string user_agent;
  // The server requires two-step sign-in of this account and its session has none: it may only
  // set it up (the transport refuses everything else with 403 mfa_enrollment_required).
  bool mfa_enrollment_required = false;
  // An administrator's account acts as staff until its session is elevated with the password
  // (AuthService::Elevate), and then only until `admin_elevated_until`. Set for requests; the
  // event stream's connection never carries it.
  bool admin_elevated = false;
  UnixMillis admin_elevated_until = 0;

  bool IsAdmin() const { return is_system || (user.is_admin && admin_elevated); }
  bool IsCompliance() const { return is_system || user.is_compliance; }
  // The organization's own staff; a guest's account is staff-side but is not.
  bool IsStaff() const { return is_system || (user.kind == domain::AccountKind::kStaff && !user.is_guest); }

  static Actor System() {
    Actor a;
    a.is_system = true;
    a.user.username = "system";
    a.user.display_name = "Rounds";
    a.user.is_admin = true;
    return a;
  }
};

// What confirms an act that lets evidence go or changes what vouches for it (releasing a legal
// hold, removing an export's files, changing the audit signing key): the officer's password and,
// with two-step sign-in, a code (AuthService::StepUp), as emergency access asks. A stolen session
// alone cannot do them. The system actor (the command line, run by whoever holds the data folder
// and its keys) confirms nothing.
struct Confirmation {
  std::string password;
  std::string code;
};

}  // namespace rounds::app
