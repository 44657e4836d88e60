// The command line, run in-process against a real database in a temporary folder.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "app/audit_service.hpp"
#include "app/database.hpp"
#include "app/services.hpp"
#include "bus/bus.hpp"
#include "cli/cli.hpp"
#include "core/crypto.hpp"
#include "store/store.hpp"

namespace rounds::cli {
namespace {

struct Outcome {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::InitCrypto());
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("rounds-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `rounds args...` with `input` on standard input, capturing both outputs.
  Outcome Rounds(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), "rounds");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    std::istringstream in(input);
    std::ostringstream out, err;
    auto* old_in = std::cin.rdbuf(in.rdbuf());
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    Outcome run;
    run.exit_code = Main(static_cast<int>(argv.size()), argv.data(),
                         [this](const Config& config) {
                           served_ = config;
                           return 0;
                         },
                         [] { return 0; });
    std::cin.rdbuf(old_in);
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    run.out = out.str();
    run.err = err.str();
    return run;
  }

  Outcome AddUser(const std::string& username, const std::string& password = "a sound passphrase 2026",
              std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"admin", "user", "add", "--username", username, "--display-name", "Test " + username,
                                     "--email", username + "@example.org", "--job-role", "Administrator",
                                     "--password-stdin", "--data-dir", dir_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Rounds(args, password + "\n");
  }

  // The database the commands wrote, opened as they open it: with the key file they made.
  Result<std::unique_ptr<store::Store>> OpenStored(const std::string& db = "rounds.db") {
    Config config;
    config.data_dir = dir_.string();
    config.database_file = (dir_ / db).string();
    return app::OpenDatabase(config, 1);
  }

  // Runs `use` with the application services over the data folder's database, as a server would.
  template <class Use>
  void WithServices(Use use) {
    auto store = OpenStored();
    ASSERT_TRUE(store) << store.error().internal_message;
    bus::InProcessBus bus;
    SystemClock clock;
    Config config;
    config.data_dir = dir_.string();
    app::Services services(**store, bus, clock, config);
    use(services);
    (*store)->Close();
  }

  // A server's start and stop, which signs the trail's head.
  void SignTheHead() {
    WithServices([](app::Services& services) {
      ASSERT_TRUE(services.audit.Start());
      services.audit.Stop();
    });
  }

  std::optional<domain::User> StoredUser(const std::string& username, const std::string& db = "rounds.db") {
    auto store = OpenStored(db);
    EXPECT_TRUE(store);
    auto user = (*store)->Read([&](store::ReadTx& tx) { return tx.FindUserByUsername(username); });
    (*store)->Close();
    EXPECT_TRUE(user);
    return *user;
  }

  // The first audit record of `action` in the database of the data folder `folder`.
  std::optional<domain::AuditRecord> StoredAudit(const std::filesystem::path& folder, const std::string& action) {
    Config config;
    config.data_dir = folder.string();
    auto store = app::OpenDatabase(config, 1);
    EXPECT_TRUE(store);
    if (!store) return std::nullopt;
    auto audit = (*store)->Read([&](store::ReadTx& tx) { return tx.ListAudit(0, 1000); });
    (*store)->Close();
    EXPECT_TRUE(audit);
    if (!audit) return std::nullopt;
    auto found = std::find_if(audit->begin(), audit->end(), [&](const domain::AuditRecord& r) { return r.action == action; });
    if (found == audit->end()) return std::nullopt;
    return *found;
  }

  std::filesystem::path dir_;
  std::optional<Config> served_;
};

TEST_F(CliTest, VersionPrintsTheVersion) {
  Outcome run = Rounds({"version"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, std::string("rounds ") + ROUNDS_VERSION_STRING + "\n");
}

TEST_F(CliTest, AddsAnAdministratorFromStandardInput) {
  Outcome run = AddUser("admin", "integration-root-secret-2026", {"--admin"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("created user admin"), std::string::npos);
  auto user = StoredUser("admin");
  ASSERT_TRUE(user);
  EXPECT_TRUE(user->is_admin);
  EXPECT_EQ(user->display_name, "Test admin");
  EXPECT_EQ(user->job_role, "Administrator");
  EXPECT_EQ(run.out.find("integration-root-secret-2026"), std::string::npos) << "the password is never echoed";
}

TEST_F(CliTest, ADuplicateUsernameSaysItExistsAndFails) {
  ASSERT_EQ(AddUser("ravi").exit_code, 0);
  Outcome again = AddUser("ravi", "another passphrase 2026");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
}

TEST_F(CliTest, AWeakOrMissingPasswordIsRefused) {
  Outcome weak = AddUser("mina", "password1234");
  EXPECT_EQ(weak.exit_code, 2);
  EXPECT_NE(weak.err.find("common"), std::string::npos) << weak.err;
  Outcome none = AddUser("mina", "");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_FALSE(StoredUser("mina"));
}

TEST_F(CliTest, DepartmentsAreAddedWithParentsAndListed) {
  ASSERT_EQ(Rounds({"admin", "department", "add", "Nursing", "--data-dir", dir_.string()}).exit_code, 0);
  ASSERT_EQ(Rounds({"admin", "department", "add", "Ward 7", "--parent", "Nursing", "--data-dir", dir_.string()}).exit_code, 0);
  EXPECT_EQ(Rounds({"admin", "department", "add", "Ward 8", "--parent", "Nowhere", "--data-dir", dir_.string()}).exit_code, 2);
  Outcome list = Rounds({"admin", "department", "list", "--data-dir", dir_.string()});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("Nursing"), std::string::npos);
  EXPECT_NE(list.out.find("Ward 7\tparent 1"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("Ward 8"), std::string::npos);
}

TEST_F(CliTest, UsersAreListedDisabledEnabledAndReset) {
  ASSERT_EQ(AddUser("nadia").exit_code, 0);
  ASSERT_EQ(Rounds({"admin", "user", "disable", "nadia", "--data-dir", dir_.string()}).exit_code, 0);
  EXPECT_TRUE(StoredUser("nadia")->disabled);
  Outcome list = Rounds({"admin", "user", "list", "--data-dir", dir_.string()});
  EXPECT_NE(list.out.find("nadia\tTest nadia\tAdministrator\tdisabled"), std::string::npos) << list.out;
  ASSERT_EQ(Rounds({"admin", "user", "enable", "nadia", "--data-dir", dir_.string()}).exit_code, 0);
  EXPECT_FALSE(StoredUser("nadia")->disabled);
  Outcome reset = Rounds({"admin", "user", "reset-password", "nadia", "--password-stdin", "--data-dir", dir_.string()},
                     "a fresh passphrase 2026\n");
  EXPECT_EQ(reset.exit_code, 0) << reset.err;
  Outcome unknown = Rounds({"admin", "user", "disable", "nobody", "--data-dir", dir_.string()});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("not found"), std::string::npos) << unknown.err;
}

TEST_F(CliTest, ResetMfaClearsTheSecondFactorAndRecordsIt) {
  ASSERT_EQ(AddUser("nadia").exit_code, 0);
  const domain::UserId id = StoredUser("nadia")->id;
  {
    auto store = OpenStored();
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->Write([&](store::WriteTx& tx) -> Status {
      ROUNDS_ASSIGN_OR_RETURN(auto creds, tx.FindCredentials(id));
      creds->totp_secret = "sealed-seed";
      creds->recovery_codes = {"hash"};
      return tx.UpdateCredentials(*creds);
    }));
    (*store)->Close();
  }
  Outcome reset = Rounds({"admin", "user", "reset-mfa", "nadia", "--data-dir", dir_.string()});
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_NE(reset.out.find("two-step sign-in removed for nadia"), std::string::npos) << reset.out;
  auto store = OpenStored();
  ASSERT_TRUE(store);
  auto creds = (*store)->Read([&](store::ReadTx& tx) { return tx.FindCredentials(id); });
  ASSERT_TRUE(creds && *creds);
  EXPECT_FALSE((*creds)->mfa_enabled());
  EXPECT_TRUE((*creds)->recovery_codes.empty());
  auto audit = (*store)->Read([&](store::ReadTx& tx) { return tx.ListAudit(0, 1000); });
  (*store)->Close();
  ASSERT_TRUE(audit);
  EXPECT_TRUE(std::any_of(audit->begin(), audit->end(), [&](const domain::AuditRecord& r) {
    return r.action == "user.mfa_reset" && r.object_id == std::to_string(id);
  }));
  EXPECT_NE(Rounds({"admin", "user", "reset-mfa", "nobody", "--data-dir", dir_.string()}).exit_code, 0);
}

TEST_F(CliTest, ImportReportsEachBadRowByLine) {
  std::ofstream(dir_ / "staff.csv") << "username,display_name,email,job_role,department\n"
                                    << "ok.one,Ok One,one@example.org,Nurse,Cardiology\n"
                                    << "Bad Name,Bad,bad@example.org,Nurse,Cardiology\n"
                                    << "ok.two,Ok Two,two@example.org,Porter,Estates\n";
  Outcome run = Rounds({"admin", "import-users", (dir_ / "staff.csv").string(), "--data-dir", dir_.string()});
  EXPECT_EQ(run.exit_code, 1) << "problems are an error exit";
  EXPECT_NE(run.err.find("staff.csv:3:"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("imported 2 users, 1 rows with problems"), std::string::npos) << run.out;
  EXPECT_TRUE(StoredUser("ok.two"));
}

TEST_F(CliTest, ANewDatabaseIsEncryptedAndAPlainOneCanBe) {
  ASSERT_EQ(AddUser("ana").exit_code, 0);
  const auto key_file = dir_ / "keys" / "database.key";
  ASSERT_TRUE(std::filesystem::exists(key_file));
  EXPECT_EQ(std::filesystem::status(key_file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(store::InspectDatabaseFile((dir_ / "rounds.db").string()), store::DatabaseFileKind::kEncrypted);
  Outcome check = Rounds({"admin", "database", "check", "--data-dir", dir_.string()});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("(encrypted): ok"), std::string::npos) << check.out;

  // A database made before encryption existed: plain, with a user in it.
  const auto plain = dir_ / "plain";
  {
    Config config;
    config.data_dir = plain.string();
    config.database_encryption = false;
    std::filesystem::create_directories(plain);
    auto store = app::OpenDatabase(config, 1);
    ASSERT_TRUE(store);
    domain::User user;
    user.username = "bea";
    user.display_name = "Bea Plainfield";
    ASSERT_TRUE((*store)->Write([&](store::WriteTx& tx) { return tx.InsertUser(user, "hash"); }));
    (*store)->Close();
  }
  ASSERT_EQ(store::InspectDatabaseFile((plain / "rounds.db").string()), store::DatabaseFileKind::kPlain);
  Outcome encrypt = Rounds({"admin", "database", "encrypt", "--data-dir", plain.string()});
  ASSERT_EQ(encrypt.exit_code, 0) << encrypt.err;
  EXPECT_NE(encrypt.out.find("back that key file up"), std::string::npos) << encrypt.out;
  EXPECT_EQ(store::InspectDatabaseFile((plain / "rounds.db").string()), store::DatabaseFileKind::kEncrypted);
  Outcome listed = Rounds({"admin", "user", "list", "--data-dir", plain.string()});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("Bea Plainfield"), std::string::npos) << listed.out;
  Outcome again = Rounds({"admin", "database", "encrypt", "--data-dir", plain.string()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("encrypted already"), std::string::npos) << again.err;
  EXPECT_TRUE(StoredAudit(plain, "database.encrypt"));

  // Another key file's key does not open it, and says so.
  std::filesystem::remove(plain / "keys" / "database.key");
  std::ofstream(plain / "keys" / "database.key") << std::string(64, 'a') << "\n";
  Outcome wrong = Rounds({"admin", "user", "list", "--data-dir", plain.string()});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("key does not open"), std::string::npos) << wrong.err;
  std::filesystem::remove(plain / "keys" / "database.key");
  Outcome missing = Rounds({"admin", "database", "check", "--data-dir", plain.string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("cannot be read"), std::string::npos) << missing.err;
}

// Key rotation: the database and its backups-to-come move to a new key, the old key is kept in a
// retired key file (which still opens an older backup), and the change is on record.
TEST_F(CliTest, RekeyMovesTheDatabaseToANewKeyAndKeepsTheOldOneForBackups) {
  ASSERT_EQ(AddUser("cara").exit_code, 0);
  ASSERT_EQ(Rounds({"backup", "--to", (dir_ / "before.db").string(), "--data-dir", dir_.string()}).exit_code, 0);
  const auto key_file = dir_ / "keys" / "database.key";
  auto read_key = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string hex;
    in >> hex;
    return hex;
  };
  const std::string old_hex = read_key(key_file);
  Outcome rekey = Rounds({"admin", "database", "rekey", "--data-dir", dir_.string()});
  ASSERT_EQ(rekey.exit_code, 0) << rekey.err;
  EXPECT_NE(rekey.out.find("backups made before now need it"), std::string::npos) << rekey.out;
  const std::string new_hex = read_key(key_file);
  EXPECT_EQ(new_hex.size(), 64u);
  EXPECT_NE(new_hex, old_hex);
  std::filesystem::path retired;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "keys")) {
    if (entry.path().filename().string().starts_with("database.key.retired-")) retired = entry.path();
  }
  ASSERT_FALSE(retired.empty());
  EXPECT_NE(rekey.out.find(retired.string()), std::string::npos) << rekey.out;
  EXPECT_EQ(read_key(retired), old_hex);
  EXPECT_TRUE(StoredUser("cara"));
  Outcome check = Rounds({"admin", "database", "check", "--data-dir", dir_.string()});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  {
    const auto record = StoredAudit(dir_, "database.rekey");
    ASSERT_TRUE(record);
    EXPECT_NE(record->details_json.find("retired_key_file"), std::string::npos) << record->details_json;
    EXPECT_EQ(record->details_json.find(old_hex), std::string::npos) << "no key in the audit trail";
    EXPECT_EQ(record->details_json.find(new_hex), std::string::npos) << "no key in the audit trail";
  }
  // The backup made before opens with the retired key file, not with the new one.
  ::setenv("ROUNDS_DATABASE_FILE", (dir_ / "before.db").string().c_str(), 1);
  Outcome old_backup = Rounds({"admin", "database", "check", "--data-dir", dir_.string(), "--database-key-file",
                               retired.string()});
  Outcome new_key = Rounds({"admin", "database", "check", "--data-dir", dir_.string()});
  ::unsetenv("ROUNDS_DATABASE_FILE");
  EXPECT_EQ(old_backup.exit_code, 0) << old_backup.err;
  EXPECT_NE(old_backup.out.find("(encrypted): ok"), std::string::npos) << old_backup.out;
  EXPECT_NE(new_key.exit_code, 0);
  EXPECT_NE(new_key.err.find("key does not open"), std::string::npos) << new_key.err;
}

TEST_F(CliTest, BackupCopiesTheDatabase) {
  ASSERT_EQ(AddUser("kept").exit_code, 0);
  Outcome run = Rounds({"backup", "--to", (dir_ / "copy.db").string(), "--data-dir", dir_.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(StoredUser("kept", "copy.db"));
}

// A nurse breaks the glass into a clinical channel through the app layer; the command line lists the
// grant and revokes it as the system, on record, and the nurse's reads stop.
TEST_F(CliTest, EmergencyGrantsAreListedAndRevoked) {
  const std::string password = "a sound passphrase 2026";
  std::int64_t grant_id = 0;
  domain::SpaceId space_id = 0;
  app::Actor nurse;
  ASSERT_EQ(AddUser("owner", password).exit_code, 0);
  ASSERT_EQ(AddUser("nurse", password).exit_code, 0);
  app::Actor owner;
  owner.user = *StoredUser("owner");
  nurse.user = *StoredUser("nurse");
  WithServices([&](app::Services& services) {
    auto space = services.spaces.Create(owner, app::NewSpace{domain::SpaceKind::kChannel, "ICU handover", "",
                                                             domain::Visibility::kPrivate, domain::JoinPolicy::kInvite,
                                                             "clinical-team"});
    ASSERT_TRUE(space) << space.error().problem;
    space_id = (*space)["id"].get<domain::SpaceId>();
    auto grant = services.emergency.Open(nurse, app::EmergencyRequest{space_id, "Covering the ICU tonight, patient deteriorating",
                                                                      password, "", 30});
    ASSERT_TRUE(grant) << grant.error().problem;
    grant_id = (*grant)["id"].get<std::int64_t>();
  });
  ASSERT_NE(grant_id, 0);
  const std::string id = std::to_string(grant_id);

  Outcome listed = Rounds({"emergency", "list", "--data-dir", dir_.string()});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out.rfind(id + "\tnurse\tICU handover (" + std::to_string(space_id) + ")\tstarted ", 0), 0u) << listed.out;
  EXPECT_NE(listed.out.find("\tactive until "), std::string::npos) << listed.out;
  Outcome as_json = Rounds({"emergency", "list", "--state", "active", "--json", "--data-dir", dir_.string()});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  auto parsed = nlohmann::json::parse(as_json.out);
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0]["id"], grant_id);
  EXPECT_EQ(parsed[0]["reason"], "Covering the ICU tonight, patient deteriorating");

  Outcome revoked = Rounds({"emergency", "revoke", id, "--data-dir", dir_.string()});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("\trevoked "), std::string::npos) << revoked.out;
  EXPECT_NE(revoked.out.find("\tawaiting review"), std::string::npos) << revoked.out;
  EXPECT_EQ(revoked.out.find(" by "), std::string::npos) << "no account revoked it: " << revoked.out;

  Outcome active = Rounds({"emergency", "list", "--state", "active", "--data-dir", dir_.string()});
  ASSERT_EQ(active.exit_code, 0) << active.err;
  EXPECT_EQ(active.out, "");
  Outcome unreviewed = Rounds({"emergency", "list", "--state", "unreviewed", "--data-dir", dir_.string()});
  EXPECT_EQ(unreviewed.out.rfind(id + "\t", 0), 0u) << unreviewed.out;

  Outcome again = Rounds({"emergency", "revoke", id, "--data-dir", dir_.string()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already ended"), std::string::npos) << again.err;
  Outcome missing = Rounds({"emergency", "revoke", "999999", "--data-dir", dir_.string()});
  EXPECT_EQ(missing.exit_code, 1);
  Outcome bad_state = Rounds({"emergency", "list", "--state", "open", "--data-dir", dir_.string()});
  EXPECT_NE(bad_state.exit_code, 0);

  auto stop = StoredAudit(dir_, "emergency.stop");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->reason, "revoked");
  EXPECT_EQ(stop->actor_role, "system");
  EXPECT_EQ(stop->object_id, std::to_string(space_id));
  WithServices([&](app::Services& services) {
    EXPECT_FALSE(services.messages.List(nurse, space_id, {})) << "the nurse reads nothing once the grant is revoked";
  });
}

TEST_F(CliTest, ServeTakesEverySettingWithFlagsOverEnvironmentOverFile) {
  std::ofstream(dir_ / "rounds.toml") << "port = 7000\nlog_level = \"warn\"\nmax_message_chars = 500\n";
  ::setenv("ROUNDS_PORT", "7100", 1);
  ::setenv("ROUNDS_LOCKOUT_THRESHOLD", "4", 1);
  Outcome run = Rounds({"serve", "--config", (dir_ / "rounds.toml").string(), "--port", "7200", "--data-dir",
                    dir_.string(), "--listen-address", "0.0.0.0", "--threads", "3", "--public-origin",
                    "https://rounds.example.org", "--allowed-origin", "https://a.example.org", "--allowed-origin",
                    "https://b.example.org", "--trust-proxy", "--database-file", (dir_ / "x.db").string(),
                    "--read-connections", "2", "--web-root", "/srv/web", "--idle-timeout-seconds", "60",
                    "--absolute-timeout-seconds", "3600", "--lockout-seconds", "30", "--max-body-bytes", "4096",
                    "--ws-send-queue-limit", "8", "--header-timeout-seconds", "5", "--idle-connection-seconds", "9",
                    "--mfa-required", "privileged", "--log-file", (dir_ / "log.jsonl").string(), "--demo"});
  ::unsetenv("ROUNDS_PORT");
  ::unsetenv("ROUNDS_LOCKOUT_THRESHOLD");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(served_);
  const Config& c = *served_;
  EXPECT_EQ(c.port, 7200) << "a flag beats the environment and the file";
  EXPECT_EQ(c.lockout_threshold, 4) << "the environment beats the default";
  EXPECT_EQ(c.log_level, "warn") << "the file beats the default";
  EXPECT_EQ(c.max_message_chars, 500);
  EXPECT_EQ(c.listen_address, "0.0.0.0");
  EXPECT_EQ(c.threads, 3);
  EXPECT_EQ(c.public_origin, "https://rounds.example.org");
  EXPECT_EQ(c.allowed_origins, (std::vector<std::string>{"https://a.example.org", "https://b.example.org"}));
  EXPECT_TRUE(c.trust_proxy);
  EXPECT_EQ(c.data_dir, dir_.string());
  EXPECT_EQ(c.DatabasePath(), (dir_ / "x.db").string());
  EXPECT_EQ(c.read_connections, 2);
  EXPECT_EQ(c.web_root, "/srv/web");
  EXPECT_EQ(c.idle_timeout_seconds, 60);
  EXPECT_EQ(c.absolute_timeout_seconds, 3600);
  EXPECT_EQ(c.lockout_seconds, 30);
  EXPECT_EQ(c.max_body_bytes, 4096);
  EXPECT_EQ(c.ws_send_queue_limit, 8);
  EXPECT_EQ(c.header_timeout_seconds, 5);
  EXPECT_EQ(c.idle_connection_seconds, 9);
  EXPECT_EQ(c.mfa_required, "privileged");
  EXPECT_EQ(c.log_file, (dir_ / "log.jsonl").string());
  EXPECT_TRUE(c.demo);
}

TEST_F(CliTest, ServeRefusesABadConfigFile) {
  std::ofstream(dir_ / "bad.toml") << "no_such_setting = 1\n";
  Outcome run = Rounds({"serve", "--config", (dir_ / "bad.toml").string()});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("no_such_setting"), std::string::npos) << run.err;
  EXPECT_FALSE(served_) << "the server never started";
}

// `audit prove` prints proofs against the signed checkpoints a server left; `audit check-proof`
// checks them with the public key alone, and refuses one that was changed.
TEST_F(CliTest, AuditProofsArePrintedAndCheckedWithThePublicKeyAlone) {
  ASSERT_EQ(AddUser("first").exit_code, 0);
  SignTheHead();
  auto first = app::ReadLastCheckpoint((dir_ / "audit" / "checkpoints.log").string());
  ASSERT_TRUE(first && *first);
  ASSERT_FALSE((*first)->root.empty());
  ASSERT_EQ(AddUser("second").exit_code, 0);
  SignTheHead();

  Outcome inclusion = Rounds({"audit", "prove", "--seq", "1", "--data-dir", dir_.string()});
  ASSERT_EQ(inclusion.exit_code, 0) << inclusion.err;
  const auto document = nlohmann::json::parse(inclusion.out);
  EXPECT_EQ(document["kind"], "inclusion");
  EXPECT_EQ(document["verified"], true);
  const std::string key_file = (dir_ / "audit" / "signing.pub").string();
  const std::string proof = (dir_ / "proof.json").string();
  std::ofstream(proof) << inclusion.out;
  Outcome checked = Rounds({"audit", "check-proof", proof, "--public-key-file", key_file});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_NE(checked.out.find("ok: record 1 is in the signed tree of"), std::string::npos) << checked.out;

  // What is checked is the signed line; the fields beside it are for people.
  auto bare = document;
  bare["checkpoint"] = {{"line", document["checkpoint"]["line"]}};
  std::ofstream(proof) << bare.dump();
  checked = Rounds({"audit", "check-proof", proof, "--public-key-file", key_file});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;

  auto changed = document;
  changed["seq"] = 2;
  std::ofstream(proof) << changed.dump();
  checked = Rounds({"audit", "check-proof", proof, "--public-key-file", key_file});
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_NE(checked.out.find("INVALID"), std::string::npos) << checked.out;

  Outcome consistency = Rounds({"audit", "prove", "--from", std::to_string((*first)->seq), "--data-dir", dir_.string()});
  ASSERT_EQ(consistency.exit_code, 0) << consistency.err;
  std::ofstream(proof) << consistency.out;
  checked = Rounds({"audit", "check-proof", proof, "--public-key-file", key_file});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_NE(checked.out.find("is a prefix of the signed tree"), std::string::npos) << checked.out;

  // A size no checkpoint signed, both kinds at once, and no key: refused with a reason.
  Outcome unsigned_size = Rounds({"audit", "prove", "--seq", "1", "--tree-size", "999999", "--data-dir", dir_.string()});
  EXPECT_EQ(unsigned_size.exit_code, 2);
  EXPECT_NE(unsigned_size.err.find("No checkpoint signs the tree of 999999 records"), std::string::npos) << unsigned_size.err;
  EXPECT_EQ(Rounds({"audit", "prove", "--seq", "1", "--from", "1", "--data-dir", dir_.string()}).exit_code, 2);
  EXPECT_EQ(Rounds({"audit", "check-proof", proof}).exit_code, 2);
  std::ofstream(proof) << "not json";
  EXPECT_EQ(Rounds({"audit", "check-proof", proof, "--public-key-file", key_file}).exit_code, 2);
}

TEST_F(CliTest, AuditRotateKeyHandsSigningOverAndTheFirstPublicKeyStillChecksAll) {
  ASSERT_EQ(AddUser("first").exit_code, 0);
  // Before any server start there is no key to change, and the command says so.
  Outcome no_key = Rounds({"audit", "rotate-key", "--data-dir", dir_.string()});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_NE(no_key.err.find("no audit signing key to change"), std::string::npos) << no_key.err;
  SignTheHead();
  const std::string key_file = (dir_ / "audit" / "signing.pub").string();
  const std::string first_key = app::ReadPublicKeyFile(key_file).value();

  Outcome rotated = Rounds({"audit", "rotate-key", "--data-dir", dir_.string()});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const app::AuditFiles files = app::AuditFiles::For(Config{.data_dir = dir_.string()});
  const auto now_signing = app::LoadOrCreateSigningKey(files).value().public_key_hex;
  EXPECT_NE(now_signing, first_key);
  EXPECT_NE(rotated.out.find("signed by " + now_signing), std::string::npos) << rotated.out;
  EXPECT_EQ(app::ReadPublicKeyFile(key_file).value(), first_key);
  // The change is on the trail, naming both keys and no secret.
  const auto record = StoredAudit(dir_, "audit.key_changed");
  ASSERT_TRUE(record);
  EXPECT_NE(record->details_json.find(first_key), std::string::npos) << record->details_json;
  EXPECT_NE(record->details_json.find(now_signing), std::string::npos) << record->details_json;

  ASSERT_EQ(AddUser("second").exit_code, 0);
  SignTheHead();  // the new key signs the change's record and the user after it
  Outcome verified = Rounds({"audit", "verify", "--data-dir", dir_.string()});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("signing key changes followed: 1"), std::string::npos) << verified.out;
  Outcome newest_only = Rounds({"audit", "verify", "--data-dir", dir_.string(), "--public-key", now_signing});
  EXPECT_EQ(newest_only.exit_code, 1) << newest_only.out;

  // A proof against the newest tree carries the hand-over, and the first public key checks it.
  Outcome inclusion = Rounds({"audit", "prove", "--seq", "1", "--data-dir", dir_.string()});
  ASSERT_EQ(inclusion.exit_code, 0) << inclusion.err;
  EXPECT_EQ(nlohmann::json::parse(inclusion.out)["key_changes"].size(), 1u);
  const std::string proof = (dir_ / "proof.json").string();
  std::ofstream(proof) << inclusion.out;
  Outcome checked = Rounds({"audit", "check-proof", proof, "--public-key-file", key_file});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;

  // Not while a server signs with the key.
  WithServices([this](app::Services& services) {
    ASSERT_TRUE(services.audit.Start());
    Outcome busy = Rounds({"audit", "rotate-key", "--data-dir", dir_.string()});
    EXPECT_EQ(busy.exit_code, 2);
    EXPECT_NE(busy.err.find("stop the server"), std::string::npos) << busy.err;
    services.audit.Stop();
  });
}

TEST_F(CliTest, UnknownCommandsAndMissingArgumentsFail) {
  EXPECT_NE(Rounds({"frobnicate"}).exit_code, 0);
  EXPECT_NE(Rounds({}).exit_code, 0);
  EXPECT_NE(Rounds({"admin", "user", "add", "--data-dir", dir_.string()}).exit_code, 0);
}

}  // namespace
}  // namespace rounds::cli
