// Store contract: the fixture, and the directory, sessions, spaces and membership repositories.
#include "store/storetest/store_contract.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>

#include "store/storetest/contract_helpers.hpp"

namespace rounds::store::storetest {

void StoreContractTest::SetUp() {
  location_ = NewFolder("main");
  auto opened = GetParam().open(location_);
  ASSERT_TRUE(opened) << Describe(opened);
  store_ = std::move(*opened);
}

void StoreContractTest::TearDown() {
  if (store_) store_->Close();
  store_.reset();
  for (const auto& folder : extra_folders_) std::filesystem::remove_all(folder);
}

std::string StoreContractTest::NewFolder(const std::string& suffix) {
  static std::atomic<int> counter{0};
  std::string folder = (std::filesystem::path(::testing::TempDir()) /
                        ("rounds-contract-" + std::to_string(::getpid()) + "-" +
                         std::to_string(counter++) + "-" + suffix))
                           .string();
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  extra_folders_.push_back(folder);
  return folder;
}

void StoreContractTest::Reopen() {
  store_->Close();
  store_.reset();
  auto opened = GetParam().open(location_);
  ASSERT_TRUE(opened) << Describe(opened);
  store_ = std::move(*opened);
}

namespace {

// ---- Directory ------------------------------------------------------------------------------

TEST_P(StoreContractTest, InsertsAndFindsUsersWithDepartments) {
  auto dept = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Cardiology", std::nullopt}); });
  ASSERT_TRUE(dept) << Describe(dept);
  auto child = store().Write([&](WriteTx& tx) { return tx.InsertDepartment({0, "Cath Lab", *dept}); });
  ASSERT_TRUE(child) << Describe(child);
  User u = MakeUser("asha");
  u.department_ids = {*dept, *child};
  u.kind = AccountKind::kPatient;
  u.is_compliance = true;
  auto id = store().Write([&](WriteTx& tx) { return tx.InsertUser(u, "argon"); });
  ASSERT_TRUE(id) << Describe(id);

  auto found = store().Read([&](ReadTx& tx) { return tx.FindUserByUsername("asha"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, *id);
  EXPECT_EQ((*found)->display_name, "User asha");
  EXPECT_EQ((*found)->email, "asha@example.org");
  EXPECT_EQ((*found)->kind, AccountKind::kPatient);
  EXPECT_TRUE((*found)->is_compliance);
  EXPECT_FALSE((*found)->is_admin);
  EXPECT_EQ((*found)->created_at, kNow);
  EXPECT_EQ(std::set<DepartmentId>((*found)->department_ids.begin(), (*found)->department_ids.end()),
            (std::set<DepartmentId>{*dept, *child}));
  auto by_id = store().Read([&](ReadTx& tx) { return tx.FindUser(*id); });
  ASSERT_TRUE(by_id && *by_id);
  EXPECT_EQ((*by_id)->username, "asha");
  EXPECT_EQ((*by_id)->department_ids.size(), 2u);

  auto creds = store().Read([&](ReadTx& tx) { return tx.FindCredentials(*id); });
  ASSERT_TRUE(creds && *creds);
  EXPECT_EQ((*creds)->password_hash, "argon");
  EXPECT_EQ((*creds)->failed_attempts, 0);
  EXPECT_EQ((*creds)->locked_until, 0);

  auto departments = store().Read([](ReadTx& tx) { return tx.ListDepartments(); });
  ASSERT_TRUE(departments);
  ASSERT_EQ(departments->size(), 2u);
  auto by_name = store().Read([](ReadTx& tx) { return tx.FindDepartmentByName("cardiology"); });
  ASSERT_TRUE(by_name && *by_name);
  EXPECT_EQ((*by_name)->id, *dept);
  auto lab = store().Read([&](ReadTx& tx) { return tx.FindDepartment(*child); });
  ASSERT_TRUE(lab && *lab);
  EXPECT_EQ((*lab)->name, "Cath Lab");
  EXPECT_EQ((*lab)->parent_id, *dept);

  auto missing = store().Read([](ReadTx& tx) { return tx.FindUser(424242); });
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto no_name = store().Read([](ReadTx& tx) { return tx.FindUserByUsername("nobody"); });
  ASSERT_TRUE(no_name);
  EXPECT_FALSE(*no_name);
  auto no_dept = store().Read([](ReadTx& tx) { return tx.FindDepartment(424242); });
  ASSERT_TRUE(no_dept);
  EXPECT_FALSE(*no_dept);
}

// A page of messages reads its authors' short forms in one query.
TEST_P(StoreContractTest, FindsTheShortFormsOfManyUsersAtOnce) {
  UserId zoe = AddUser(store(), "zoe");
  AddUser(store(), "ali");  // exists, but is not asked for
  UserId bo = AddUser(store(), "bo");
  std::vector<UserId> ids = {bo, 424242, zoe, bo};  // unordered, repeated, one with no user
  auto refs = store().Read([&](ReadTx& tx) { return tx.FindUserRefs(ids); });
  ASSERT_TRUE(refs) << Describe(refs);
  ASSERT_EQ(refs->size(), 2u);
  EXPECT_EQ((*refs)[0].id, std::min(zoe, bo));
  EXPECT_EQ((*refs)[1].id, std::max(zoe, bo));
  for (const UserRef& ref : *refs) {
    EXPECT_EQ(ref.username, ref.id == zoe ? "zoe" : "bo");
    EXPECT_EQ(ref.display_name, ref.id == zoe ? "User zoe" : "User bo");
  }
  auto none = store().Read([](ReadTx& tx) { return tx.FindUserRefs({}); });
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  // One id (a post's author) has a lookup of its own.
  const std::vector<UserId> just_zoe = {zoe};
  auto one = store().Read([&](ReadTx& tx) { return tx.FindUserRefs(just_zoe); });
  ASSERT_TRUE(one) << Describe(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].id, zoe);
  EXPECT_EQ((*one)[0].username, "zoe");
  EXPECT_EQ((*one)[0].display_name, "User zoe");
  const std::vector<UserId> nobody = {424242};
  auto gone = store().Read([&](ReadTx& tx) { return tx.FindUserRefs(nobody); });
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());
}

// What every request on a space checks of its caller, read without the rest of the account.
TEST_P(StoreContractTest, FindsAnAccountsFlagsAsTheAccountHasThem) {
  User u = MakeUser("flags");
  u.kind = AccountKind::kPatient;
  u.is_compliance = true;
  auto id = store().Write([&](WriteTx& tx) { return tx.InsertUser(u, "h"); });
  ASSERT_TRUE(id) << Describe(id);
  auto flags = store().Read([&](ReadTx& tx) { return tx.FindAccountFlags(*id); });
  ASSERT_TRUE(flags && *flags) << Describe(flags);
  EXPECT_EQ((*flags)->kind, AccountKind::kPatient);
  EXPECT_TRUE((*flags)->is_compliance);
  EXPECT_FALSE((*flags)->is_admin);
  EXPECT_FALSE((*flags)->disabled);

  u.id = *id;
  u.kind = AccountKind::kStaff;
  u.is_admin = true;
  u.disabled = true;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateUser(u); }));
  flags = store().Read([&](ReadTx& tx) { return tx.FindAccountFlags(*id); });
  ASSERT_TRUE(flags && *flags);
  EXPECT_EQ((*flags)->kind, AccountKind::kStaff);
  EXPECT_TRUE((*flags)->is_admin);
  EXPECT_TRUE((*flags)->disabled);

  auto missing = store().Read([](ReadTx& tx) { return tx.FindAccountFlags(424242); });
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_P(StoreContractTest, DuplicateUsernameAndDepartmentAreConflicts) {
  AddUser(store(), "dup");
  auto again = store().Write([](WriteTx& tx) { return tx.InsertUser(MakeUser("dup"), "h"); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Radiology", std::nullopt}); }));
  auto same = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "RADIOLOGY", std::nullopt}); });
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, ErrorCode::kConflict);
  auto count = store().Read([](ReadTx& tx) { return tx.CountUsers(); });
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
}

TEST_P(StoreContractTest, UsernamesMustBeLowerCase) {
  auto upper = store().Write([](WriteTx& tx) { return tx.InsertUser(MakeUser("Mixed.Case"), "h"); });
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().code, ErrorCode::kInvalidArgument);
  auto none = store().Read([](ReadTx& tx) { return tx.CountUsers(); });
  EXPECT_EQ(*none, 0);
}

TEST_P(StoreContractTest, DepartmentsMustExistForUsersAndParents) {
  User u = MakeUser("orphan");
  u.department_ids = {987654};
  auto inserted = store().Write([&](WriteTx& tx) { return tx.InsertUser(u, "h"); });
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, ErrorCode::kNotFound);
  auto child = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Ward 9", 987654}); });
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().code, ErrorCode::kNotFound);
  // The failed unit left nothing behind.
  EXPECT_EQ(*store().Read([](ReadTx& tx) { return tx.CountUsers(); }), 0);
}

TEST_P(StoreContractTest, UpdatesUsersAndCredentials) {
  auto a = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "ICU", std::nullopt}); });
  auto b = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "ED", std::nullopt}); });
  ASSERT_TRUE(a && b);
  User u = MakeUser("nadia");
  u.department_ids = {*a};
  auto id = store().Write([&](WriteTx& tx) { return tx.InsertUser(u, "old-hash"); });
  ASSERT_TRUE(id);

  User changed = u;
  changed.id = *id;
  changed.username = "ignored";  // not updatable
  changed.created_at = 1;        // not updatable
  changed.display_name = "Nadia K.";
  changed.email = "nadia@hospital.example";
  changed.job_role = "Charge Nurse";
  changed.department_ids = {*b};
  changed.is_admin = true;
  changed.disabled = true;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateUser(changed); }));
  auto found = store().Read([&](ReadTx& tx) { return tx.FindUser(*id); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->username, "nadia");
  EXPECT_EQ((*found)->created_at, kNow);
  EXPECT_EQ((*found)->display_name, "Nadia K.");
  EXPECT_EQ((*found)->email, "nadia@hospital.example");
  EXPECT_EQ((*found)->job_role, "Charge Nurse");
  EXPECT_EQ((*found)->department_ids, std::vector<DepartmentId>{*b});
  EXPECT_TRUE((*found)->is_admin);
  EXPECT_TRUE((*found)->disabled);

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateCredentials({*id, "new-hash", 3, kNow + 60'000}); }));
  auto creds = store().Read([&](ReadTx& tx) { return tx.FindCredentials(*id); });
  ASSERT_TRUE(creds && *creds);
  EXPECT_EQ((*creds)->password_hash, "new-hash");
  EXPECT_EQ((*creds)->failed_attempts, 3);
  EXPECT_EQ((*creds)->locked_until, kNow + 60'000);
  EXPECT_FALSE((*creds)->mfa_enabled());
  EXPECT_TRUE((*creds)->recovery_codes.empty());

  Credentials two_step = **creds;
  two_step.totp_secret = "sealed-seed";
  two_step.totp_pending = "sealed-pending";
  two_step.totp_last_step = 59'000'123;
  two_step.recovery_codes = {"hash-one", "hash-two", "hash-three"};
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateCredentials(two_step); }));
  creds = store().Read([&](ReadTx& tx) { return tx.FindCredentials(*id); });
  ASSERT_TRUE(creds && *creds);
  EXPECT_TRUE((*creds)->mfa_enabled());
  EXPECT_EQ((*creds)->totp_secret, "sealed-seed");
  EXPECT_EQ((*creds)->totp_pending, "sealed-pending");
  EXPECT_EQ((*creds)->totp_last_step, 59'000'123);
  EXPECT_EQ((*creds)->recovery_codes, two_step.recovery_codes);
  EXPECT_EQ((*creds)->password_hash, "new-hash");

  User ghost = changed;
  ghost.id = 424242;
  auto missing = store().Write([&](WriteTx& tx) { return tx.UpdateUser(ghost); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto no_creds = store().Write([](WriteTx& tx) { return tx.UpdateCredentials({424242, "h", 0, 0}); });
  ASSERT_FALSE(no_creds);
  EXPECT_EQ(no_creds.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ListUsersFiltersByTextRoleDepartmentAndPages) {
  auto dept = store().Write([](WriteTx& tx) { return tx.InsertDepartment({0, "Pharmacy", std::nullopt}); });
  ASSERT_TRUE(dept);
  for (int i = 0; i < 5; ++i) {
    User u = MakeUser("pharm" + std::to_string(i));
    u.job_role = "Pharmacist";
    u.department_ids = {*dept};
    ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertUser(u, "h"); }));
  }
  AddUser(store(), "nurse_1");
  AddUser(store(), "nursex1");
  User gone = MakeUser("retired");
  gone.display_name = "Margaret Okafor";
  gone.disabled = true;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertUser(gone, "h"); }));

  auto pharmacists = store().Read([](ReadTx& tx) { return tx.ListUsers({.job_role = "pharmacist", .limit = 50}); });
  ASSERT_TRUE(pharmacists);
  EXPECT_EQ(pharmacists->size(), 5u);
  for (const auto& p : *pharmacists) EXPECT_EQ(p.department_ids.size(), 1u);
  auto in_dept = store().Read([&](ReadTx& tx) { return tx.ListUsers({.department_id = *dept}); });
  ASSERT_TRUE(in_dept);
  EXPECT_EQ(in_dept->size(), 5u);
  auto text = store().Read([](ReadTx& tx) { return tx.ListUsers({.text = "nurse_"}); });
  ASSERT_TRUE(text);
  ASSERT_EQ(text->size(), 1u);  // '_' is literal, not a LIKE wildcard
  EXPECT_EQ((*text)[0].username, "nurse_1");
  auto percent = store().Read([](ReadTx& tx) { return tx.ListUsers({.text = "%"}); });
  ASSERT_TRUE(percent);
  EXPECT_TRUE(percent->empty());  // '%' is literal too

  // Disabled accounts only when asked for; display names match on any word's prefix.
  auto hidden = store().Read([](ReadTx& tx) { return tx.ListUsers({.text = "okaf"}); });
  ASSERT_TRUE(hidden);
  EXPECT_TRUE(hidden->empty());
  auto shown = store().Read([](ReadTx& tx) { return tx.ListUsers({.text = "okaf", .include_disabled = true}); });
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->size(), 1u);
  EXPECT_EQ((*shown)[0].username, "retired");

  auto page1 = store().Read([](ReadTx& tx) { return tx.ListUsers({.limit = 4}); });
  ASSERT_TRUE(page1);
  ASSERT_EQ(page1->size(), 4u);
  auto page2 = store().Read([&](ReadTx& tx) { return tx.ListUsers({.after_id = page1->back().id, .limit = 4}); });
  ASSERT_TRUE(page2);
  ASSERT_EQ(page2->size(), 3u);
  EXPECT_GT(page2->front().id, page1->back().id);
  auto count = store().Read([](ReadTx& tx) { return tx.CountUsers(); });
  EXPECT_EQ(*count, 8);
}

// ---- Sessions -------------------------------------------------------------------------------

TEST_P(StoreContractTest, SessionsAreFoundByTokenHashTouchedAndExpired) {
  UserId u = AddUser(store(), "sess");
  Session s{0, u, "tokenhash", "csrf", false, kNow, kNow, kNow + 100'000, "ua", "127.0.0.1"};
  auto id = store().Write([&](WriteTx& tx) { return tx.InsertSession(s); });
  ASSERT_TRUE(id) << Describe(id);
  Session idle{0, u, "idlehash", "csrf2", true, kNow, kNow, kNow + 100'000, "", ""};
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertSession(idle); }));

  auto found = store().Read([](ReadTx& tx) { return tx.FindSessionByTokenHash("tokenhash"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, *id);
  EXPECT_EQ((*found)->user_id, u);
  EXPECT_EQ((*found)->csrf_token, "csrf");
  EXPECT_FALSE((*found)->is_bearer);
  EXPECT_EQ((*found)->expires_at, kNow + 100'000);
  EXPECT_EQ((*found)->user_agent, "ua");
  EXPECT_EQ((*found)->address, "127.0.0.1");
  EXPECT_FALSE((*found)->second_factor);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetSessionSecondFactor(*id); }));
  found = store().Read([](ReadTx& tx) { return tx.FindSessionByTokenHash("tokenhash"); });
  ASSERT_TRUE(found && *found);
  EXPECT_TRUE((*found)->second_factor);
  EXPECT_EQ((*found)->admin_elevated_until, 0);
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetSessionAdminElevation(*id, kNow + 900'000); }));
  found = store().Read([](ReadTx& tx) { return tx.FindSessionByTokenHash("tokenhash"); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->admin_elevated_until, kNow + 900'000);
  auto listed = store().Read([&](ReadTx& tx) { return tx.ListSessionsForUser(u); });
  ASSERT_TRUE(listed);
  for (const Session& x : *listed) EXPECT_EQ(x.admin_elevated_until, x.id == *id ? kNow + 900'000 : 0) << x.id;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetSessionAdminElevation(*id, 0); }));
  found = store().Read([](ReadTx& tx) { return tx.FindSessionByTokenHash("tokenhash"); });
  EXPECT_EQ((*found)->admin_elevated_until, 0);
  EXPECT_EQ(store().Write([&](WriteTx& tx) { return tx.SetSessionAdminElevation(424242, 1); }).error().code,
            ErrorCode::kNotFound);

  auto duplicate = store().Write([&](WriteTx& tx) { return tx.InsertSession(s); });
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);

  // Touching keeps a session alive through an idle sweep; the untouched one goes.
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.TouchSession(*id, kNow + 50'000); }));
  auto removed = store().Write([&](WriteTx& tx) { return tx.DeleteExpiredSessions(kNow + 60'000, 30'000); });
  ASSERT_TRUE(removed) << Describe(removed);
  EXPECT_EQ(*removed, 1);
  auto left = store().Read([&](ReadTx& tx) { return tx.ListSessionsForUser(u); });
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, *id);
  EXPECT_EQ((*left)[0].last_seen_at, kNow + 50'000);

  // Past the absolute lifetime it goes however recently it was used.
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.TouchSession(*id, kNow + 99'000); }));
  auto expired = store().Write([&](WriteTx& tx) { return tx.DeleteExpiredSessions(kNow + 100'000, 30'000); });
  ASSERT_TRUE(expired);
  EXPECT_EQ(*expired, 1);
  auto gone = store().Read([](ReadTx& tx) { return tx.FindSessionByTokenHash("tokenhash"); });
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
}

TEST_P(StoreContractTest, DeletesOneSessionOrAllOfAUsers) {
  UserId u = AddUser(store(), "many");
  UserId other = AddUser(store(), "other");
  std::vector<SessionId> ids;
  for (int i = 0; i < 3; ++i) {
    Session s{0, u, "t" + std::to_string(i), "c", true, kNow, kNow, kNow + 10, "", ""};
    auto id = store().Write([&](WriteTx& tx) { return tx.InsertSession(s); });
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  Session theirs{0, other, "theirs", "c", false, kNow, kNow, kNow + 10, "", ""};
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertSession(theirs); }));

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteSession(ids[0]); }));
  auto two = store().Read([&](ReadTx& tx) { return tx.ListSessionsForUser(u); });
  ASSERT_TRUE(two);
  EXPECT_EQ(two->size(), 2u);

  auto deleted = store().Write([&](WriteTx& tx) { return tx.DeleteSessionsForUser(u); });
  ASSERT_TRUE(deleted);
  EXPECT_EQ(std::set<SessionId>(deleted->begin(), deleted->end()), (std::set<SessionId>{ids[1], ids[2]}));
  auto left = store().Read([&](ReadTx& tx) { return tx.ListSessionsForUser(u); });
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
  auto kept = store().Read([&](ReadTx& tx) { return tx.ListSessionsForUser(other); });
  EXPECT_EQ(kept->size(), 1u);
}

// ---- Spaces and membership ------------------------------------------------------------------

TEST_P(StoreContractTest, InsertsFindsAndUpdatesSpaces) {
  UserId a = AddUser(store(), "owner");
  auto id = store().Write([&](WriteTx& tx) {
    Space s;
    s.kind = SpaceKind::kChannel;
    s.name = "Night shift";
    s.topic = "Handover notes";
    s.visibility = Visibility::kPrivate;
    s.join_policy = JoinPolicy::kInvite;
    s.created_by = a;
    s.created_at = kNow;
    return tx.InsertSpace(s);
  });
  ASSERT_TRUE(id) << Describe(id);
  auto found = store().Read([&](ReadTx& tx) { return tx.FindSpace(*id); });
  ASSERT_TRUE(found && *found);
  const Space& s = **found;
  EXPECT_EQ(s.kind, SpaceKind::kChannel);
  EXPECT_EQ(s.name, "Night shift");
  EXPECT_EQ(s.topic, "Handover notes");
  EXPECT_EQ(s.visibility, Visibility::kPrivate);
  EXPECT_EQ(s.join_policy, JoinPolicy::kInvite);
  EXPECT_FALSE(s.archived);
  EXPECT_EQ(s.created_by, a);
  EXPECT_EQ(s.created_at, kNow);
  EXPECT_EQ(s.last_seq, 0);
  EXPECT_EQ(s.member_count, 0);

  Space changed = s;
  changed.name = "Nights";
  changed.topic = "";
  changed.visibility = Visibility::kPublic;
  changed.join_policy = JoinPolicy::kOpen;
  changed.archived = true;
  changed.kind = SpaceKind::kCommunity;  // not updatable
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateSpace(changed); }));
  auto updated = store().Read([&](ReadTx& tx) { return tx.FindSpace(*id); });
  ASSERT_TRUE(updated && *updated);
  EXPECT_EQ((*updated)->name, "Nights");
  EXPECT_EQ((*updated)->topic, "");
  EXPECT_EQ((*updated)->visibility, Visibility::kPublic);
  EXPECT_EQ((*updated)->join_policy, JoinPolicy::kOpen);
  EXPECT_TRUE((*updated)->archived);
  EXPECT_EQ((*updated)->kind, SpaceKind::kChannel);

  changed.id = 424242;
  auto missing = store().Write([&](WriteTx& tx) { return tx.UpdateSpace(changed); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto none = store().Read([](ReadTx& tx) { return tx.FindSpace(424242); });
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_P(StoreContractTest, DirectSpacesAreUniquePerKey) {
  UserId a = AddUser(store(), "da");
  UserId b = AddUser(store(), "db");
  std::string key = std::to_string(a) + "," + std::to_string(b);
  auto make = [&](WriteTx& tx) {
    Space s;
    s.kind = SpaceKind::kDirect;
    s.visibility = Visibility::kPrivate;
    s.join_policy = JoinPolicy::kInvite;
    s.direct_key = key;
    s.created_by = a;
    return tx.InsertSpace(s);
  };
  auto direct = store().Write(make);
  ASSERT_TRUE(direct) << Describe(direct);
  auto again = store().Write(make);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto found = store().Read([&](ReadTx& tx) { return tx.FindDirectSpace(key); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, *direct);
  EXPECT_EQ((*found)->direct_key, key);
  auto other = store().Read([&](ReadTx& tx) { return tx.FindDirectSpace(key + ",9"); });
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
  // Spaces that are not direct have no key and never collide on it.
  AddSpace(store(), "One", a);
  AddSpace(store(), "Two", a);
  auto one = store().Read([&](ReadTx& tx) { return tx.ListSpaces({.text = "One"}); });
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].direct_key, "");
}

TEST_P(StoreContractTest, ListSpacesFiltersAndPages) {
  UserId a = AddUser(store(), "la");
  UserId b = AddUser(store(), "lb");
  SpaceId pub = AddSpace(store(), "Wound care", a);
  SpaceId priv = AddSpace(store(), "Private 50% club", a, Visibility::kPrivate);
  SpaceId channel = AddSpace(store(), "Pharmacy desk", a, Visibility::kPublic, SpaceKind::kChannel);
  SpaceId archived = AddSpace(store(), "Old ward", a);
  SpaceId joined = AddSpace(store(), "Joined ward", a);
  ASSERT_TRUE(Join(store(), joined, b));
  auto old = store().Read([&](ReadTx& tx) { return tx.FindSpace(archived); });
  Space archived_space = **old;
  archived_space.archived = true;
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.UpdateSpace(archived_space); }));
  auto direct = store().Write([&](WriteTx& tx) {
    Space s;
    s.kind = SpaceKind::kDirect;
    s.visibility = Visibility::kPublic;  // even a public-looking direct space is never listed by default
    s.direct_key = "1,2";
    return tx.InsertSpace(s);
  });
  ASSERT_TRUE(direct);

  auto ids = [&](SpaceQuery q) {
    auto spaces = store().Read([&](ReadTx& tx) { return tx.ListSpaces(q); });
    EXPECT_TRUE(spaces) << Describe(spaces);
    std::vector<SpaceId> out;
    for (const auto& s : spaces.value_or(std::vector<Space>{})) out.push_back(s.id);
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<SpaceId>{pub, channel, joined}));
  EXPECT_EQ(ids({.not_member_of = b}), (std::vector<SpaceId>{pub, channel}));
  EXPECT_EQ(ids({.kind = SpaceKind::kChannel}), (std::vector<SpaceId>{channel}));
  EXPECT_EQ(ids({.kind = SpaceKind::kDirect}), (std::vector<SpaceId>{*direct}));
  EXPECT_EQ(ids({.public_only = false}), (std::vector<SpaceId>{pub, priv, channel, joined}));
  EXPECT_EQ(ids({.include_archived = true}), (std::vector<SpaceId>{pub, channel, archived, joined}));
  EXPECT_EQ(ids({.text = "WARD"}), (std::vector<SpaceId>{joined}));
  EXPECT_EQ(ids({.text = "50%", .public_only = false}), (std::vector<SpaceId>{priv}));
  EXPECT_EQ(ids({.text = "%"}), (std::vector<SpaceId>{}));
  EXPECT_EQ(ids({.limit = 2}), (std::vector<SpaceId>{pub, channel}));
  EXPECT_EQ(ids({.after_id = channel, .limit = 2}), (std::vector<SpaceId>{joined}));
}

TEST_P(StoreContractTest, MembershipsRolesCountsAndPages) {
  UserId owner = AddUser(store(), "mowner");
  SpaceId space = AddSpace(store(), "Members", owner);
  std::vector<UserId> members;
  for (int i = 0; i < 5; ++i) {
    UserId u = AddUser(store(), "member" + std::to_string(i));
    ASSERT_TRUE(Join(store(), space, u));
    members.push_back(u);
  }
  auto space_row = store().Read([&](ReadTx& tx) { return tx.FindSpace(space); });
  EXPECT_EQ((*space_row)->member_count, 6);

  // A role change keeps the read marker and the join time.
  ASSERT_TRUE(Post(store(), space, owner, "one"));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.SetReadSeq(space, members[0], 1); }));
  ASSERT_TRUE(store().Write([&](WriteTx& tx) {
    return tx.UpsertMembership({space, members[0], MemberRole::kModerator, 0, kNow + 999});
  }));
  auto m0 = store().Read([&](ReadTx& tx) { return tx.FindMembership(space, members[0]); });
  ASSERT_TRUE(m0 && *m0);
  EXPECT_EQ((*m0)->role, MemberRole::kModerator);
  EXPECT_EQ((*m0)->read_seq, 1);
  EXPECT_EQ((*m0)->joined_at, kNow);
  space_row = store().Read([&](ReadTx& tx) { return tx.FindSpace(space); });
  EXPECT_EQ((*space_row)->member_count, 6);

  auto page1 = store().Read([&](ReadTx& tx) { return tx.ListMembers(space, 0, 4); });
  ASSERT_TRUE(page1);
  ASSERT_EQ(page1->size(), 4u);
  auto page2 = store().Read([&](ReadTx& tx) { return tx.ListMembers(space, page1->back().user_id, 4); });
  ASSERT_TRUE(page2);
  ASSERT_EQ(page2->size(), 2u);
  std::set<UserId> seen;
  for (const auto& m : *page1) seen.insert(m.user_id);
  for (const auto& m : *page2) seen.insert(m.user_id);
  EXPECT_EQ(seen.size(), 6u);
  auto ids = store().Read([&](ReadTx& tx) { return tx.ListMemberIds(space); });
  ASSERT_TRUE(ids);
  EXPECT_EQ(std::set<UserId>(ids->begin(), ids->end()), seen);

  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.DeleteMembership(space, members[1]); }));
  auto gone = store().Read([&](ReadTx& tx) { return tx.FindMembership(space, members[1]); });
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  space_row = store().Read([&](ReadTx& tx) { return tx.FindSpace(space); });
  EXPECT_EQ((*space_row)->member_count, 5);
  auto theirs = store().Read([&](ReadTx& tx) { return tx.ListSpaceIdsForUser(members[1]); });
  ASSERT_TRUE(theirs);
  EXPECT_TRUE(theirs->empty());
  auto mine = store().Read([&](ReadTx& tx) { return tx.ListSpaceIdsForUser(members[2]); });
  EXPECT_EQ(*mine, std::vector<SpaceId>{space});

  auto no_user = store().Write([&](WriteTx& tx) { return tx.UpsertMembership({space, 424242, MemberRole::kMember, 0, kNow}); });
  ASSERT_FALSE(no_user);
  EXPECT_EQ(no_user.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, SidebarListsEveryMembershipWithRoleAndCounts) {
  UserId a = AddUser(store(), "sa");
  UserId b = AddUser(store(), "sb");
  SpaceId one = AddSpace(store(), "One", a);
  SpaceId two = AddSpace(store(), "Two", b);
  AddSpace(store(), "Not mine", b);
  ASSERT_TRUE(Join(store(), two, a, MemberRole::kReadOnly));
  auto spaces = store().Read([&](ReadTx& tx) { return tx.ListSpacesForUser(a); });
  ASSERT_TRUE(spaces) << Describe(spaces);
  ASSERT_EQ(spaces->size(), 2u);
  std::map<SpaceId, MemberSpace> by_id;
  for (const auto& s : *spaces) by_id[s.space.id] = s;
  ASSERT_TRUE(by_id.count(one) && by_id.count(two));
  EXPECT_EQ(by_id[one].membership.role, MemberRole::kOwner);
  EXPECT_EQ(by_id[two].membership.role, MemberRole::kReadOnly);
  EXPECT_EQ(by_id[two].membership.user_id, a);
  EXPECT_EQ(by_id[two].space.name, "Two");
  EXPECT_EQ(by_id[two].space.member_count, 2);
  EXPECT_EQ(by_id[two].unread_count, 0);
}

}  // namespace
}  // namespace rounds::store::storetest
