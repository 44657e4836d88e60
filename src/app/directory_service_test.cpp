// DirectoryService against a real SQLite store.
#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace rounds::domain;
using testing::kPassword;

class DirectoryTest : public testing::ServiceTest {
 protected:
  NewUser Candidate(const std::string& username) {
    NewUser u;
    u.username = username;
    u.display_name = "Candidate";
    u.password = kPassword;
    u.fast_hash = true;
    return u;
  }
  std::vector<std::string> Usernames(const json& page) {
    std::vector<std::string> names;
    for (const auto& u : page["items"]) names.push_back(u["username"]);
    return names;
  }
};

TEST_F(DirectoryTest, ADuplicateUsernameIsAConflictThatSaysItExists) {
  ASSERT_TRUE(services_->directory.CreateUser(Actor::System(), Candidate("omar")));
  auto again = services_->directory.CreateUser(Actor::System(), Candidate("OMAR"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(again.error().problem, "duplicate_username");
  EXPECT_NE(again.error().public_message.find("exists"), std::string::npos);
}

TEST_F(DirectoryTest, UsernamesAreLowerCasedAndValidated) {
  auto created = services_->directory.CreateUser(Actor::System(), Candidate("Pia.Lund"));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->username, "pia.lund");
  for (const char* bad : {"a", "has space", ".dot-first", "sla/sh", ""}) {
    auto refused = services_->directory.CreateUser(Actor::System(), Candidate(bad));
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().problem, "invalid_username") << bad;
    EXPECT_EQ(refused.error().field, "/username");
  }
}

TEST_F(DirectoryTest, NewAccountsFollowThePasswordPolicyAndProfileRules) {
  NewUser weak = Candidate("quinn");
  weak.password = "password1234";
  EXPECT_EQ(services_->directory.CreateUser(Actor::System(), weak).error().problem, "weak_password");
  NewUser bad_mail = Candidate("quinn");
  bad_mail.email = "not an address";
  EXPECT_EQ(services_->directory.CreateUser(Actor::System(), bad_mail).error().field, "/email");
  NewUser no_name = Candidate("quinn");
  no_name.display_name = "";
  EXPECT_EQ(services_->directory.CreateUser(Actor::System(), no_name).error().field, "/display_name");
  NewUser bad_dept = Candidate("quinn");
  bad_dept.department_ids = {999};
  EXPECT_EQ(services_->directory.CreateUser(Actor::System(), bad_dept).error().problem, "unknown_department");
  auto nobody = store_->Read([](store::ReadTx& tx) { return tx.FindUserByUsername("quinn"); });
  ASSERT_TRUE(nobody);
  EXPECT_FALSE(*nobody) << "nothing was created by the refused attempts";
}

TEST_F(DirectoryTest, DepartmentsFormATree) {
  auto nursing = services_->directory.CreateDepartment(Actor::System(), "Nursing", std::nullopt);
  ASSERT_TRUE(nursing);
  auto ward = services_->directory.CreateDepartment(Actor::System(), "Ward 7", nursing->id);
  ASSERT_TRUE(ward);
  EXPECT_EQ(ward->parent_id, nursing->id);
  EXPECT_EQ(services_->directory.CreateDepartment(Actor::System(), "Ward 8", 12345).error().problem,
            "unknown_department");
  EXPECT_EQ(services_->directory.CreateDepartment(Actor::System(), "Nursing", std::nullopt).error().problem,
            "duplicate_department");
  EXPECT_EQ(services_->directory.CreateDepartment(Actor::System(), "", std::nullopt).error().field, "/name");
  Actor staff = MakeUser("rhea");
  auto list = services_->directory.ListDepartments(staff);
  ASSERT_TRUE(list);
  ASSERT_EQ((*list)["items"].size(), 2u);
  json expected_ward = {{"id", ward->id}, {"name", "Ward 7"}, {"parent_id", nursing->id}};
  EXPECT_TRUE((*list)["items"][0] == expected_ward || (*list)["items"][1] == expected_ward) << list->dump();
}

TEST_F(DirectoryTest, PeopleAreFoundByNameJobRoleAndDepartment) {
  auto cardiology = services_->directory.CreateDepartment(Actor::System(), "Cardiology", std::nullopt);
  ASSERT_TRUE(cardiology);
  auto make = [&](const char* username, const char* name, const char* role, bool in_cardiology) {
    NewUser u = Candidate(username);
    u.display_name = name;
    u.job_role = role;
    if (in_cardiology) u.department_ids = {cardiology->id};
    ASSERT_TRUE(services_->directory.CreateUser(Actor::System(), u));
  };
  make("sol.ito", "Sol Ito", "Cardiologist", true);
  make("tam.ray", "Tam Ray", "Registered Nurse", true);
  make("una.bell", "Una Bell", "Registered Nurse", false);
  Actor me = MakeUser("viewer");
  EXPECT_EQ(Usernames(*services_->directory.ListUsers(me, {.text = "tam"})), std::vector<std::string>{"tam.ray"});
  EXPECT_EQ(Usernames(*services_->directory.ListUsers(me, {.text = "Bell"})), std::vector<std::string>{"una.bell"});
  EXPECT_EQ(Usernames(*services_->directory.ListUsers(me, {.job_role = "registered nurse"})),
            (std::vector<std::string>{"tam.ray", "una.bell", "viewer"}));
  EXPECT_EQ(Usernames(*services_->directory.ListUsers(me, {.department_id = cardiology->id})),
            (std::vector<std::string>{"sol.ito", "tam.ray"}));
}

TEST_F(DirectoryTest, ListingPagesWithACursor) {
  for (int i = 0; i < 5; ++i) MakeUser("pager" + std::to_string(i));
  Actor me = MakeUser("reader");
  auto first = services_->directory.ListUsers(me, {.text = "pager", .limit = 3});
  ASSERT_TRUE(first);
  ASSERT_EQ((*first)["items"].size(), 3u);
  ASSERT_TRUE((*first)["next_cursor"].is_string());
  UserId after = std::stoll((*first)["next_cursor"].get<std::string>());
  auto second = services_->directory.ListUsers(me, {.text = "pager", .after_id = after, .limit = 3});
  ASSERT_TRUE(second);
  EXPECT_EQ(Usernames(*second), (std::vector<std::string>{"pager3", "pager4"}));
  EXPECT_TRUE((*second)["next_cursor"].is_null());
}

TEST_F(DirectoryTest, DisabledPeopleAreListedOnlyForAdministratorsAndComplianceOfficers) {
  Actor gone = MakeUser("gone.away");
  UserPatch patch;
  patch.disabled = true;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), gone.user.id, patch));
  Actor staff = MakeUser("staffer");
  Actor admin = MakeUser("boss", true);
  Actor officer = MakeUser("officer");
  UserPatch role;
  role.is_compliance = true;
  ASSERT_TRUE(services_->directory.UpdateUser(Actor::System(), officer.user.id, role));
  EXPECT_TRUE(Usernames(*services_->directory.ListUsers(staff, {.text = "gone", .include_disabled = true})).empty());
  EXPECT_TRUE(Usernames(*services_->directory.ListUsers(officer, {.text = "gone"})).empty()) << "only when asked";
  EXPECT_EQ(Usernames(*services_->directory.ListUsers(admin, {.text = "gone", .include_disabled = true})),
            std::vector<std::string>{"gone.away"});
  // A departed employee is still a custodian of legal holds and exports.
  EXPECT_EQ(Usernames(*services_->directory.ListUsers(officer, {.text = "gone", .include_disabled = true})),
            std::vector<std::string>{"gone.away"});
}

TEST_F(DirectoryTest, AdministratorsCannotDisableThemselves) {
  Actor admin = MakeUser("boss", true);
  UserPatch patch;
  patch.disabled = true;
  auto refused = services_->directory.UpdateUser(admin, admin.user.id, patch);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "cannot_disable_self");
}

TEST_F(DirectoryTest, TheProfileEndpointChangesOnlyNameAndEmail) {
  Actor me = MakeUser("wren");
  UserPatch patch;
  patch.display_name = "Wren Adler";
  patch.email = "wren@example.org";
  patch.is_admin = true;  // ignored: people cannot promote themselves
  patch.job_role = "Chief Executive";
  auto updated = services_->directory.UpdateProfile(me, patch);
  ASSERT_TRUE(updated);
  EXPECT_EQ((*updated)["display_name"], "Wren Adler");
  EXPECT_EQ((*updated)["email"], "wren@example.org");
  EXPECT_EQ((*updated)["is_admin"], false);
  EXPECT_EQ((*updated)["job_role"], "Registered Nurse");
}

TEST_F(DirectoryTest, ImportReportsBadRowsByLineAndImportsTheRest) {
  std::string csv =
      "username,display_name,email,job_role,department\n"
      "ok.one,Ok One,one@example.org,Nurse,Cardiology\n"
      "Bad Name,Bad,bad@example.org,Nurse,Cardiology\n"
      "ok.two,Ok Two,not-an-email,Nurse,Oncology\n"
      "too,few,fields\n"
      "ok.three,\"Three, The\",three@example.org,Pharmacist,Pharmacy\n";
  auto report = services_->directory.ImportUsersCsv(Actor::System(), csv);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->imported, 2);
  ASSERT_EQ(report->errors.size(), 3u);
  EXPECT_EQ(report->errors[0].first, 3);
  EXPECT_EQ(report->errors[1].first, 4);
  EXPECT_EQ(report->errors[2].first, 5);
  auto three = store_->Read([](store::ReadTx& tx) { return tx.FindUserByUsername("ok.three"); });
  ASSERT_TRUE(three && *three);
  EXPECT_EQ((*three)->display_name, "Three, The");
  auto departments = store_->Read([](store::ReadTx& tx) { return tx.ListDepartments(); });
  ASSERT_TRUE(departments);
  EXPECT_EQ(departments->size(), 3u) << "Cardiology, Oncology and Pharmacy were created as needed";
}

TEST_F(DirectoryTest, ImportTakesOptionalPasswordAndAdminColumnsAndSkipsExistingPeople) {
  std::string csv =
      "username,display_name,email,job_role,department,password,is_admin\r\n"
      "xena,Xena Vos,xena@example.org,IT Manager,IT,a long imported passphrase,true\r\n"
      "yuri,Yuri Pak,yuri@example.org,Porter,Estates,,\r\n";
  auto first = services_->directory.ImportUsersCsv(Actor::System(), csv);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->imported, 2);
  EXPECT_TRUE(first->errors.empty());
  auto xena = services_->auth.Login({"xena", "a long imported passphrase", true, "", ""});
  ASSERT_TRUE(xena);
  EXPECT_TRUE(xena->user.is_admin);
  auto second = services_->directory.ImportUsersCsv(Actor::System(), csv);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->imported, 0);
  EXPECT_EQ(second->skipped_existing, 2);
}

TEST_F(DirectoryTest, ImportRefusesAFileWithoutTheRequiredColumns) {
  auto refused = services_->directory.ImportUsersCsv(Actor::System(), "username,email\nzed,zed@example.org\n");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "invalid_csv");
  EXPECT_EQ(services_->directory.ImportUsersCsv(Actor::System(), "").error().problem, "invalid_csv");
}

TEST_F(DirectoryTest, EveryAdministrativeActIsAuditedAndARefusalToo) {
  Actor admin = MakeUser("ada", /*admin=*/true);
  Actor staff = MakeUser("ben");
  auto dept = services_->directory.CreateDepartment(admin, "Cardiology", std::nullopt);
  ASSERT_TRUE(dept);
  auto created = services_->directory.CreateUser(admin, Candidate("cal"));
  ASSERT_TRUE(created);
  UserPatch patch;
  patch.is_compliance = true;
  patch.job_role = "Privacy Officer";
  ASSERT_TRUE(services_->directory.UpdateUser(admin, created->id, patch));
  UserPatch disable;
  disable.disabled = true;
  ASSERT_TRUE(services_->directory.UpdateUser(admin, created->id, disable));
  ASSERT_TRUE(services_->directory.ResetPassword(admin, created->id, "another long passphrase"));
  auto report = services_->directory.ImportUsersCsv(
      admin, "username,display_name,email,job_role,department\ndee,Dee,,Nurse,Cardiology\nBad Name,X,,,\n");
  ASSERT_TRUE(report);
  EXPECT_FALSE(services_->directory.CreateUser(staff, Candidate("eve")));

  auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 1000); });
  ASSERT_TRUE(records);
  std::vector<std::string> acts;
  for (const auto& r : *records) {
    if (r.actor_id == admin.user.id || r.actor_id == staff.user.id) {
      acts.push_back(r.action + " " + std::string(ToString(r.outcome)));
    }
    EXPECT_EQ(r.details_json.find("Cardiology"), std::string::npos) << "names are not recorded, ids are";
  }
  EXPECT_EQ(acts, (std::vector<std::string>{"department.create success", "user.create success", "user.roles success",
                                            "user.update success", "user.disable success", "user.password_reset success",
                                            "user.create success", "user.import success", "user.create denied"}));
  const auto& import = (*records)[records->size() - 2];
  EXPECT_EQ(json::parse(import.details_json), (json{{"imported", 1}, {"skipped_existing", 0}, {"rejected", 1}}));
}

}  // namespace
}  // namespace rounds::app
