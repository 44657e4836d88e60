#include <algorithm>
#include <sstream>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"

namespace rounds::app {

using namespace rounds::domain;

namespace {

// The checks read the caller's current record: rights revoked since sign-in are gone at once. A
// refusal is put on the audit trail as `action` denied before the caller hears of it.
Status RequireAdmin(store::Store& store, const Clock& clock, const Actor& actor, const char* action,
                    const char* object_type, std::string object_id = {}) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, store.Read([&](store::ReadTx& tx) { return internal::Current(tx, actor); }));
  if (!current.IsAdmin()) {
    AuditRecord denied = AuditEntry(current, action, object_type, std::move(object_id), clock.NowMillis());
    denied.outcome = AuditOutcome::kDenied;
    denied.reason = internal::AdminRefusalReason(current);
    ROUNDS_RETURN_IF_ERROR(AuditNow(store, std::move(denied)));
    return internal::AdminRefusal(current);
  }
  return Ok();
}

// The audit actions an accepted patch performs: the account switched on or off, its rights
// changed, its profile changed (each with the names of the fields, never their values).
std::vector<std::pair<std::string, json>> PatchActions(const User& before, const User& after) {
  std::vector<std::pair<std::string, json>> actions;
  if (before.disabled != after.disabled) actions.emplace_back(after.disabled ? "user.disable" : "user.enable", json::object());
  if (before.is_admin != after.is_admin || before.is_compliance != after.is_compliance ||
      before.is_guest != after.is_guest) {
    actions.emplace_back("user.roles", json{{"is_admin", after.is_admin},
                                            {"is_compliance", after.is_compliance},
                                            {"is_guest", after.is_guest}});
  }
  json fields = json::array();
  if (before.display_name != after.display_name) fields.push_back("display_name");
  if (before.email != after.email) fields.push_back("email");
  if (before.job_role != after.job_role) fields.push_back("job_role");
  if (before.department_ids != after.department_ids) fields.push_back("department_ids");
  if (!fields.empty()) {
    json details{{"fields", fields}};
    if (before.department_ids != after.department_ids) details["department_ids"] = after.department_ids;
    actions.emplace_back("user.update", details);
  }
  return actions;
}

// A guest administers nothing and audits nothing, and is never a patient.
Status ValidateRights(const User& user) {
  if (!user.is_guest) return Ok();
  if (user.is_admin || user.is_compliance) {
    return InvalidArgument("guest_rights", "A guest cannot be an administrator or a compliance officer.", "/is_guest");
  }
  if (user.kind != AccountKind::kStaff) return InvalidArgument("guest_rights", "A patient's account is not a guest's.", "/is_guest");
  return Ok();
}

Result<Actor> RequireStaff(store::Store& store, const Actor& actor) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, store.Read([&](store::ReadTx& tx) { return internal::Current(tx, actor); }));
  if (!current.IsStaff()) return Forbidden("staff_only", "Only staff can use the directory.");
  return current;
}

Status ValidateProfile(const std::optional<std::string>& display_name, const std::optional<std::string>& email) {
  if (display_name) {
    if (!IsDisplayText(*display_name) || CodePointCount(*display_name) > 100) {
      return InvalidArgument("invalid_value",
                             "The display name must be 1 to 100 characters on one line, not only spaces.",
                             "/display_name");
    }
  }
  if (email && !email->empty()) {
    auto at = email->find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= email->size() || email->size() > 254 ||
        email->find_first_of(" \t\r\n<>") != std::string::npos) {
      return InvalidArgument("invalid_value", "That is not an e-mail address.", "/email");
    }
  }
  return Ok();
}

// Splits one CSV line, honouring double quotes ("a, b" and "" inside quotes).
std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else {
      field.push_back(c);
    }
  }
  fields.push_back(field);
  for (auto& f : fields) {
    while (!f.empty() && (f.back() == ' ' || f.back() == '\r')) f.pop_back();
    while (!f.empty() && f.front() == ' ') f.erase(f.begin());
  }
  return fields;
}

}  // namespace

DirectoryService::DirectoryService(store::Store& store, AuthService& auth, const Clock& clock)
    : store_(store), auth_(auth), clock_(clock) {}

Result<User> DirectoryService::CreateUser(const Actor& actor, const NewUser& request) {
  ROUNDS_RETURN_IF_ERROR(RequireAdmin(store_, clock_, actor, "user.create", "user"));
  User user;
  user.username = request.username;
  std::transform(user.username.begin(), user.username.end(), user.username.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (!IsValidUsername(user.username)) {
    return InvalidArgument("invalid_username",
                           "A username is 2 to 64 lower-case letters, digits, '.', '_' or '-'.", "/username");
  }
  ROUNDS_RETURN_IF_ERROR(ValidateProfile(request.display_name, request.email));
  if (request.job_role.size() > 100) return InvalidArgument("invalid_value", "The job role is too long.", "/job_role");
  user.display_name = request.display_name;
  user.email = request.email;
  user.job_role = request.job_role;
  user.department_ids = internal::Distinct(request.department_ids);  // each once: as stored
  user.is_admin = request.is_admin;
  user.is_compliance = request.is_compliance;
  user.is_guest = request.is_guest;
  ROUNDS_RETURN_IF_ERROR(ValidateRights(user));
  user.created_at = clock_.NowMillis();
  std::string hash;
  if (request.fast_hash) {
    if (auto violation = CheckPassword(request.password, user.username)) {
      return InvalidArgument(violation->problem, violation->message, "/password");
    }
    ROUNDS_ASSIGN_OR_RETURN(hash, crypto::HashPassword(request.password, /*fast=*/true));
  } else {
    ROUNDS_ASSIGN_OR_RETURN(hash, auth_.HashNewPassword(request.password, user.username));
  }
  auto id = store_.Write([&](store::WriteTx& tx) -> Result<UserId> {
    for (DepartmentId d : user.department_ids) {
      ROUNDS_ASSIGN_OR_RETURN(auto dept, tx.FindDepartment(d));
      if (!dept) return InvalidArgument("unknown_department", "No department has id " + std::to_string(d) + ".", "/department_ids");
    }
    ROUNDS_ASSIGN_OR_RETURN(UserId created, tx.InsertUser(user, hash));
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "user.create", "user", std::to_string(created), user.created_at),
                                       json{{"is_admin", user.is_admin},
                                            {"is_compliance", user.is_compliance},
                                            {"is_guest", user.is_guest},
                                            {"department_ids", user.department_ids}}));
    return created;
  });
  if (!id) {
    if (id.error().code == ErrorCode::kConflict) {
      return Fail(ErrorCode::kConflict, "duplicate_username", "A user named '" + user.username + "' already exists.");
    }
    return tl::unexpected(id.error());
  }
  user.id = *id;
  log::Info("user_created", {{"user_id", user.id}, {"by", actor.user.id}});
  return user;
}

Result<json> DirectoryService::ListUsers(const Actor& actor, const store::UserQuery& query) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, RequireStaff(store_, actor));
  store::UserQuery q = query;
  q.limit = internal::ClampLimit(q.limit);
  // Administrators manage disabled accounts; compliance officers name them as custodians of
  // legal holds and exports (a departed employee's messages are still held).
  q.include_disabled = q.include_disabled && (current.IsAdmin() || current.IsCompliance());
  ROUNDS_ASSIGN_OR_RETURN(auto users, store_.Read([&](store::ReadTx& tx) { return tx.ListUsers(q); }));
  json items = json::array();
  for (const auto& u : users) items.push_back(UserJson(u));
  json next = users.size() == static_cast<std::size_t>(q.limit) ? json(std::to_string(users.back().id)) : json(nullptr);
  return json{{"items", items}, {"next_cursor", next}};
}

Result<json> DirectoryService::GetUser(const Actor& actor, UserId id) {
  ROUNDS_ASSIGN_OR_RETURN(Actor current, store_.Read([&](store::ReadTx& tx) { return internal::Current(tx, actor); }));
  if (current.user.id != id) ROUNDS_RETURN_IF_ERROR(RequireStaff(store_, current).map([](auto&&) {}));
  ROUNDS_ASSIGN_OR_RETURN(auto user, store_.Read([&](store::ReadTx& tx) { return tx.FindUser(id); }));
  if (!user) return NotFound("User");
  return UserJson(*user);
}

Result<json> DirectoryService::UpdateUser(const Actor& actor, UserId id, const UserPatch& patch) {
  ROUNDS_RETURN_IF_ERROR(RequireAdmin(store_, clock_, actor, "user.update", "user", std::to_string(id)));
  ROUNDS_RETURN_IF_ERROR(ValidateProfile(patch.display_name, patch.email));
  if (patch.disabled && *patch.disabled && id == actor.user.id) {
    return Fail(ErrorCode::kConflict, "cannot_disable_self", "You cannot disable your own account.");
  }
  ROUNDS_ASSIGN_OR_RETURN(User updated, store_.Write([&](store::WriteTx& tx) -> Result<User> {
    ROUNDS_ASSIGN_OR_RETURN(auto user, tx.FindUser(id));
    if (!user) return NotFound("User");
    const User before = *user;
    if (patch.display_name) user->display_name = *patch.display_name;
    if (patch.email) user->email = *patch.email;
    if (patch.job_role) user->job_role = *patch.job_role;
    if (patch.department_ids) {
      for (DepartmentId d : *patch.department_ids) {
        ROUNDS_ASSIGN_OR_RETURN(auto dept, tx.FindDepartment(d));
        if (!dept) return InvalidArgument("unknown_department", "No department has id " + std::to_string(d) + ".", "/department_ids");
      }
      user->department_ids = internal::Distinct(*patch.department_ids);
    }
    if (patch.is_admin) user->is_admin = *patch.is_admin;
    if (patch.is_compliance) user->is_compliance = *patch.is_compliance;
    if (patch.is_guest && *patch.is_guest && !before.is_guest) {
      return Fail(ErrorCode::kConflict, "guest_on_creation_only",
                  "An account is made a guest when it is created: create a guest account instead.");
    }
    if (patch.is_guest) user->is_guest = *patch.is_guest;
    ROUNDS_RETURN_IF_ERROR(ValidateRights(*user));
    if (patch.disabled) user->disabled = *patch.disabled;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateUser(*user));
    UnixMillis now = clock_.NowMillis();
    for (auto& [action, details] : PatchActions(before, *user)) {
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, action, "user", std::to_string(id), now), details));
    }
    return *user;
  }));
  auth_.UserChanged(updated);
  if (updated.disabled) {
    ROUNDS_ASSIGN_OR_RETURN(int ended, auth_.EndSessionsForUser(id));
    log::Info("user_disabled", {{"user_id", id}, {"by", actor.user.id}, {"sessions_ended", ended}});
  }
  return UserJson(updated);
}

Result<json> DirectoryService::UpdateProfile(const Actor& actor, const UserPatch& patch) {
  if (actor.is_system) return Forbidden();
  UserPatch own;
  own.display_name = patch.display_name;
  own.email = patch.email;
  ROUNDS_RETURN_IF_ERROR(ValidateProfile(own.display_name, own.email));
  if (own.email) {
    // A new address is where a password reset would go: whoever holds the session must show
    // they also know the password. The same address sent back with the form needs nothing.
    ROUNDS_ASSIGN_OR_RETURN(auto stored, store_.Read([&](store::ReadTx& tx) { return tx.FindUser(actor.user.id); }));
    if (stored && stored->email != *own.email) {
      if (!patch.current_password || patch.current_password->empty()) {
        return Forbidden("reauthentication_required", "Enter your password to change your e-mail address.");
      }
      ROUNDS_RETURN_IF_ERROR(auth_.ConfirmPassword(actor, *patch.current_password, "user.update"));
    }
  }
  ROUNDS_ASSIGN_OR_RETURN(User updated, store_.Write([&](store::WriteTx& tx) -> Result<User> {
    ROUNDS_ASSIGN_OR_RETURN(Actor current, internal::Current(tx, actor));
    std::optional<User> user = current.user;
    if (own.display_name) user->display_name = *own.display_name;
    if (own.email) user->email = *own.email;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateUser(*user));
    UnixMillis now = clock_.NowMillis();
    for (auto& [action, details] : PatchActions(current.user, *user)) {
      ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, action, "user", std::to_string(user->id), now), details));
    }
    return *user;
  }));
  auth_.UserChanged(updated);
  return UserJson(updated);
}

Status DirectoryService::ResetPassword(const Actor& actor, UserId id, const std::string& password) {
  ROUNDS_RETURN_IF_ERROR(RequireAdmin(store_, clock_, actor, "user.password_reset", "user", std::to_string(id)));
  ROUNDS_ASSIGN_OR_RETURN(auto user, store_.Read([&](store::ReadTx& tx) { return tx.FindUser(id); }));
  if (!user) return NotFound("User");
  ROUNDS_ASSIGN_OR_RETURN(std::string hash, auth_.HashNewPassword(password, user->username));
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto creds, tx.FindCredentials(id));
    if (!creds) return NotFound("User");
    creds->password_hash = hash;
    creds->failed_attempts = 0;
    creds->locked_until = 0;
    ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*creds));
    return AppendAudit(tx, AuditEntry(actor, "user.password_reset", "user", std::to_string(id), clock_.NowMillis()));
  }));
  // A reset ends every session: whoever knew the old password is out.
  ROUNDS_RETURN_IF_ERROR(auth_.EndSessionsForUser(id).map([](int) {}));
  log::Info("password_reset", {{"user_id", id}, {"by", actor.user.id}});
  return Ok();
}

Status DirectoryService::ResetMfa(const Actor& actor, UserId id) {
  ROUNDS_RETURN_IF_ERROR(RequireAdmin(store_, clock_, actor, "user.mfa_reset", "user", std::to_string(id)));
  bool was_on = false;
  ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(auto creds, tx.FindCredentials(id));
    if (!creds) return NotFound("User");
    was_on = creds->mfa_enabled();
    creds->totp_secret.clear();
    creds->totp_pending.clear();
    creds->totp_last_step = 0;
    creds->recovery_codes.clear();
    ROUNDS_RETURN_IF_ERROR(tx.UpdateCredentials(*creds));
    return AppendAudit(tx, AuditEntry(actor, "user.mfa_reset", "user", std::to_string(id), clock_.NowMillis()),
                       json{{"was_enabled", was_on}});
  }));
  ROUNDS_RETURN_IF_ERROR(auth_.EndSessionsForUser(id).map([](int) {}));
  log::Info("mfa_reset", {{"user_id", id}, {"by", actor.user.id}, {"was_enabled", was_on}});
  return Ok();
}

Result<int> DirectoryService::EndSessions(const Actor& actor, UserId id) {
  ROUNDS_RETURN_IF_ERROR(RequireAdmin(store_, clock_, actor, "user.sessions_end", "user", std::to_string(id)));
  ROUNDS_ASSIGN_OR_RETURN(auto user, store_.Read([&](store::ReadTx& tx) { return tx.FindUser(id); }));
  if (!user) return NotFound("User");
  ROUNDS_ASSIGN_OR_RETURN(int ended, auth_.EndSessionsForUser(
                                          id, AuditEntry(actor, "user.sessions_end", "user", std::to_string(id),
                                                         clock_.NowMillis())));
  log::Info("sessions_ended_by_admin", {{"user_id", id}, {"by", actor.user.id}, {"sessions_ended", ended}});
  return ended;
}

Result<json> DirectoryService::ListDepartments(const Actor& actor) {
  ROUNDS_RETURN_IF_ERROR(RequireStaff(store_, actor).map([](auto&&) {}));
  ROUNDS_ASSIGN_OR_RETURN(auto departments, store_.Read([](store::ReadTx& tx) { return tx.ListDepartments(); }));
  json items = json::array();
  for (const auto& d : departments) items.push_back(DepartmentJson(d));
  return json{{"items", items}};
}

Result<Department> DirectoryService::CreateDepartment(const Actor& actor, const std::string& name,
                                                      std::optional<DepartmentId> parent_id) {
  ROUNDS_RETURN_IF_ERROR(RequireAdmin(store_, clock_, actor, "department.create", "department"));
  if (name.empty() || CodePointCount(name) > 100 || !IsValidUtf8(name)) {
    return InvalidArgument("invalid_value", "A department name is 1 to 100 characters.", "/name");
  }
  auto created = store_.Write([&](store::WriteTx& tx) -> Result<Department> {
    if (parent_id) {
      ROUNDS_ASSIGN_OR_RETURN(auto parent, tx.FindDepartment(*parent_id));
      if (!parent) return InvalidArgument("unknown_department", "The parent department does not exist.", "/parent_id");
    }
    Department d{0, name, parent_id};
    ROUNDS_ASSIGN_OR_RETURN(d.id, tx.InsertDepartment(d));
    // The id, not the name: records carry ids and codes only.
    ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(actor, "department.create", "department", std::to_string(d.id), clock_.NowMillis()),
                                       json{{"parent_id", parent_id ? json(*parent_id) : json(nullptr)}}));
    return d;
  });
  if (!created && created.error().code == ErrorCode::kConflict) {
    return Fail(ErrorCode::kConflict, "duplicate_department", "A department named '" + name + "' already exists.");
  }
  return created;
}

Result<ImportReport> DirectoryService::ImportUsersCsv(const Actor& actor, const std::string& csv) {
  ROUNDS_RETURN_IF_ERROR(RequireAdmin(store_, clock_, actor, "user.import", "user"));
  ImportReport report;
  std::istringstream in(csv);
  std::string line;
  int line_number = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    auto fields = SplitCsvLine(line);
    if (header.empty()) {
      header = fields;
      for (const char* required : {"username", "display_name", "email", "job_role", "department"}) {
        if (std::find(header.begin(), header.end(), required) == header.end()) {
          return InvalidArgument("invalid_csv", std::string("The header must name the column '") + required + "'.");
        }
      }
      continue;
    }
    if (fields.size() != header.size()) {
      report.errors.emplace_back(line_number, "expected " + std::to_string(header.size()) + " fields, found " +
                                                  std::to_string(fields.size()));
      continue;
    }
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i) row[header[i]] = fields[i];
    NewUser user;
    user.username = row["username"];
    user.display_name = row["display_name"];
    user.email = row["email"];
    user.job_role = row["job_role"];
    user.is_admin = row["is_admin"] == "true" || row["is_admin"] == "1";
    if (row.contains("password") && !row["password"].empty()) {
      user.password = row["password"];
    } else {
      // A random password must pass the policy too: 24 random characters can contain the username
      // ("lee") or look like a walk, and such a row was refused as if the file were wrong.
      do {
        user.password = crypto::RandomToken(18);
      } while (CheckPassword(user.password, user.username));
    }
    if (!row["department"].empty()) {
      auto dept = store_.Read([&](store::ReadTx& tx) { return tx.FindDepartmentByName(row["department"]); });
      if (!dept) return tl::unexpected(dept.error());
      if (*dept) {
        user.department_ids.push_back((**dept).id);
      } else {
        auto created = CreateDepartment(actor, row["department"], std::nullopt);
        if (!created) {
          report.errors.emplace_back(line_number, created.error().public_message);
          continue;
        }
        user.department_ids.push_back(created->id);
      }
    }
    auto created = CreateUser(actor, user);
    if (created) {
      ++report.imported;
    } else if (created.error().problem == "duplicate_username") {
      ++report.skipped_existing;
      report.errors.emplace_back(line_number, created.error().public_message);
    } else {
      report.errors.emplace_back(line_number, created.error().public_message);
    }
  }
  if (header.empty()) return InvalidArgument("invalid_csv", "The file is empty.");
  // Each account and department the import created has its own record; this one sums it up.
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, AuditEntry(actor, "user.import", "user", "", clock_.NowMillis()),
                                  json{{"imported", report.imported},
                                       {"skipped_existing", report.skipped_existing},
                                       {"rejected", report.errors.size() - static_cast<std::size_t>(report.skipped_existing)}}));
  return report;
}

}  // namespace rounds::app
