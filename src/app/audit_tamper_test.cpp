// The audit trail against someone who controls the database file: a real database of a few
// hundred records written by the app, signed checkpoints outside it, then a thousand random
// tamperings of copies of the file with raw SQL (triggers dropped first) — edits, deletions,
// reordering, forged insertions, tail truncations, and rewrites that re-chain every hash after the
// change. Every one must be caught by VerifyAuditFiles, the function `rounds audit verify` runs.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string_view>
#include <thread>

#include <unistd.h>

#include "app/audit_log.hpp"
#include "app/audit_service.hpp"
#include "app/service_test_support.hpp"
#include "core/crypto.hpp"
#include "governance/audit/audit_chain.hpp"

namespace rounds::app {
namespace {

using domain::AuditOutcome;
using domain::AuditRecord;

constexpr int kTamperings = 1000;

// A patient reference as records carry them ("Patient/mrn-" and 16 hex digits), spelling `n`;
// the patient index files it under n itself.
std::string PatientRefOf(std::uint64_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string ref = "Patient/mrn-";
  for (int shift = 60; shift >= 0; shift -= 4) ref.push_back(kHex[(n >> shift) & 0xf]);
  return ref;
}
constexpr std::uint64_t kSharedPatient = 0x5ed;  // named with another on every eighth record

// A raw connection to a copy of the database, as an attacker with file access would open it.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    // The server may be committing or copying its log back at that moment: wait for the lock, as
    // any other tool opening a live database does.
    sqlite3_busy_timeout(db_, 30'000);
    Exec("PRAGMA synchronous=OFF");
    // The append-only triggers are defence in depth; whoever has the file drops them first.
    Exec("DROP TRIGGER IF EXISTS audit_log_no_update");
    Exec("DROP TRIGGER IF EXISTS audit_log_no_delete");
  }
  ~RawDb() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  // Runs `sql` with text parameters ?1, ?2, ...
  void Run(const std::string& sql, const std::vector<std::string>& params) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    for (std::size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }
  // Replaces the whole table with `records`, as a forger rewriting the chain would.
  void Rewrite(const std::vector<AuditRecord>& records) {
    Exec("BEGIN");
    Exec("DELETE FROM audit_log");
    for (const auto& r : records) {
      Run("INSERT INTO audit_log (seq, time, actor_id, actor_role, action, object_type, object_id, patient_ref, "
          "outcome, address, session_hash, reason, details, prev_hash, hash) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
          {std::to_string(r.seq), std::to_string(r.time), std::to_string(r.actor_id), r.actor_role, r.action,
           r.object_type, r.object_id, r.patient_ref, std::string(domain::ToString(r.outcome)), r.address,
           r.session_hash, r.reason, r.details_json, r.prev_hash, r.hash});
    }
    Exec("COMMIT");
  }

 private:
  sqlite3* db_ = nullptr;
};

// Recomputes seq, prev_hash and hash of every record from `from_index` on, so the chain is
// internally consistent again: only the signed checkpoints can tell.
void Rechain(std::vector<AuditRecord>& records, std::size_t from_index) {
  for (std::size_t i = from_index; i < records.size(); ++i) {
    governance::audit::Chain(records[i], i == 0 ? nullptr : &records[i - 1]);
  }
}

enum class Tamper {
  kEditField,         // one column of one record
  kDelete,            // one record removed, a gap left
  kSwap,              // two records' contents exchanged (reordering)
  kInsertForged,      // a forged record spliced in (later records renumbered, not re-hashed)
  kTruncateTail,      // the last k records removed
  kEditRechained,     // an edit, then every later hash recomputed
  kDeleteRechained,   // a deletion, renumbered and re-hashed
  kInsertRechained,   // a forged record spliced in and everything after re-hashed
  kTruncateRechained, // the tail removed and the rest re-hashed from genesis (a full rewrite)
  kCount
};

const char* Name(Tamper t) {
  static constexpr std::array<const char*, static_cast<int>(Tamper::kCount)> kNames = {
      "edit", "delete", "swap", "insert", "truncate", "edit+rechain", "delete+rechain", "insert+rechain",
      "truncate+rechain"};
  return kNames[static_cast<int>(t)];
}

class AuditTamperTest : public testing::ServiceTest {
 protected:
  void Configure(Config& config) override {
    config.data_dir = dir_.string();
    config.audit_checkpoint_records = 1'000'000;  // this test decides when to sign
  }

  // A trail written the way the server writes it: sign-ins that succeed and fail, administration,
  // and records about patients, with checkpoints signed along the way and at the end.
  void BuildTrail() {
    ASSERT_TRUE(services_->audit.Start());
    std::vector<Actor> staff;
    for (int i = 0; i < 12; ++i) staff.push_back(MakeUser("nurse" + std::to_string(i), i == 0));
    for (int round = 0; round < 8; ++round) {
      for (int i = 0; i < 12; ++i) {
        clock_.Advance(1'000);
        bool wrong = (round + i) % 3 == 0;
        LoginRequest request{"nurse" + std::to_string(i), wrong ? "wrong password" : testing::kPassword, false,
                             "10.0.0." + std::to_string(i), "test"};
        (void)services_->auth.Login(request);
      }
      // A name that is no account costs a full Argon2id (so timing reveals nothing): only twice.
      if (round % 4 == 0) (void)services_->auth.Login({"nobody" + std::to_string(round), "x", false, "203.0.113.9", "test"});
      ASSERT_TRUE(services_->audit.CheckpointNow());
    }
    // Enough wrong passwords in a row to lock an account, and one more try while it is locked.
    for (int i = 0; i < 4; ++i) (void)services_->auth.Login({"nurse11", "wrong password", false, "10.0.0.11", "test"});
    for (int i = 0; i < 150; ++i) {
      clock_.Advance(250);
      AuditRecord r = AuditEntry(staff[i % staff.size()], "message.read", "message", std::to_string(1000 + i),
                                 clock_.NowMillis());
      // One patient, or two (a page that named both).
      if (i % 4 == 0) r.patient_ref = PatientRefOf(static_cast<std::uint64_t>(i));
      if (i % 8 == 0) r.patient_ref = domain::JoinPatientRefs({r.patient_ref, PatientRefOf(kSharedPatient)});
      if (i % 7 == 0) {
        r.outcome = AuditOutcome::kDenied;
        r.reason = "not_a_member";
      }
      ASSERT_TRUE(AuditNow(*store_, r, json{{"space_id", i % 9}}));
      if (i % 40 == 39) {
        ASSERT_TRUE(services_->audit.CheckpointNow());
      }
    }
    services_->audit.Stop();  // the clean-shutdown checkpoint covers the head
    services_.reset();
    store_->Close();
    store_.reset();  // the last connection folds the WAL into the database file
  }

  std::string Database() const { return (dir_ / "rounds.db").string(); }
  AuditFiles Files() const { return AuditFiles::For(config_); }
};

std::vector<AuditRecord> LoadRecords(const std::string& path) {
  auto store = store::OpenSqliteStore({.path = path, .read_connections = 1});
  EXPECT_TRUE(store);
  auto records = (*store)->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100'000); });
  EXPECT_TRUE(records);
  (*store)->Close();
  return *records;
}

TEST_F(AuditTamperTest, EveryRandomTamperingOfTheDatabaseFileIsDetected) {
  BuildTrail();
  const AuditFiles files = Files();
  auto public_key = ReadPublicKeyFile(files.public_key);
  ASSERT_TRUE(public_key);
  auto checkpoints = ReadCheckpoints(files.checkpoints);
  ASSERT_TRUE(checkpoints);
  ASSERT_GE(checkpoints->size(), 10u);

  auto pristine = VerifyAuditFiles(Database(), files.checkpoints, *public_key);
  ASSERT_TRUE(pristine) << pristine.error().internal_message;
  ASSERT_TRUE(pristine->ok) << pristine->problem;
  const std::vector<AuditRecord> original = LoadRecords(Database());
  const auto n = static_cast<std::int64_t>(original.size());
  ASSERT_GE(n, 250);
  ASSERT_EQ(pristine->records_checked, n);
  // The trail holds what was done: sign-ins that failed for each reason, and the accounts created.
  std::map<std::string, int> seen;
  for (const auto& r : original) ++seen[r.action + "/" + std::string(domain::ToString(r.outcome)) + "/" + r.reason];
  EXPECT_GT(seen["auth.login/success/"], 0);
  EXPECT_GT(seen["auth.login/failure/wrong_password"], 0);
  EXPECT_GT(seen["auth.login/failure/unknown_user"], 0);
  EXPECT_GT(seen["auth.login/denied/locked"], 0);
  EXPECT_EQ(seen["user.create/success/"], 12);

  const std::string copy = (dir_ / "tampered.db").string();
  auto fresh_copy = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
    std::filesystem::copy_file(Database(), copy);
  };

  // Dropping the triggers alone changes no record: still intact.
  fresh_copy();
  { RawDb db(copy); }
  auto untouched = VerifyAuditFiles(copy, files.checkpoints, *public_key);
  ASSERT_TRUE(untouched && untouched->ok) << (untouched ? untouched->problem : untouched.error().internal_message);

  std::mt19937_64 random(20261129);
  auto pick = [&](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(random); };
  static const std::vector<std::string> kTextColumns = {"actor_role", "action", "object_type", "object_id",
                                                        "patient_ref", "address", "session_hash", "reason",
                                                        "details", "prev_hash", "hash"};
  static const std::vector<std::string> kIntColumns = {"time", "actor_id"};
  std::map<std::string, int> detected;
  for (int trial = 0; trial < kTamperings; ++trial) {
    const auto kind = static_cast<Tamper>(trial % static_cast<int>(Tamper::kCount));
    fresh_copy();
    std::int64_t expected_bad = 0;  // the first bad seq the verifier must name, when it is certain
    std::string what;
    {
      RawDb db(copy);
      std::vector<AuditRecord> records = original;
      switch (kind) {
        case Tamper::kEditField: {
          std::int64_t seq = pick(1, n);
          auto column_index = pick(0, static_cast<std::int64_t>(kTextColumns.size() + kIntColumns.size()));
          if (column_index == static_cast<std::int64_t>(kTextColumns.size() + kIntColumns.size())) {
            // The outcome, to another value the schema allows.
            std::string now = std::string(domain::ToString(records[seq - 1].outcome));
            std::string other = now == "success" ? "denied" : "success";
            db.Run("UPDATE audit_log SET outcome = ?1 WHERE seq = ?2", {other, std::to_string(seq)});
            what = "outcome";
          } else if (column_index < static_cast<std::int64_t>(kTextColumns.size())) {
            what = kTextColumns[column_index];
            // Flip one character, or add one to an empty value.
            db.Run("UPDATE audit_log SET " + what + " = CASE WHEN length(" + what + ") = 0 THEN 'x' "
                   "WHEN substr(" + what + ", 1, 1) = 'a' THEN 'b' || substr(" + what + ", 2) "
                   "ELSE 'a' || substr(" + what + ", 2) END WHERE seq = ?1",
                   {std::to_string(seq)});
          } else {
            what = kIntColumns[column_index - kTextColumns.size()];
            db.Run("UPDATE audit_log SET " + what + " = " + what + " + ?1 WHERE seq = ?2",
                   {std::to_string(pick(1, 100'000)), std::to_string(seq)});
          }
          expected_bad = seq;
          break;
        }
        case Tamper::kDelete: {
          std::int64_t seq = pick(1, n);
          db.Run("DELETE FROM audit_log WHERE seq = ?1", {std::to_string(seq)});
          expected_bad = seq;
          break;
        }
        case Tamper::kSwap: {
          std::int64_t a = pick(1, n - 1);
          std::int64_t b = pick(a + 1, n);
          std::swap(records[a - 1], records[b - 1]);
          std::swap(records[a - 1].seq, records[b - 1].seq);  // contents move, positions stay
          db.Rewrite(records);
          expected_bad = a;
          break;
        }
        case Tamper::kInsertForged:
        case Tamper::kInsertRechained: {
          // A plausible record (a copy of another with a different object), chained properly
          // after its predecessor; spliced in before an existing record so nothing is appended.
          std::size_t at = static_cast<std::size_t>(pick(0, n - 1));
          AuditRecord forged = records[static_cast<std::size_t>(pick(0, n - 1))];
          forged.object_id = "forged-" + std::to_string(trial);
          governance::audit::Chain(forged, at == 0 ? nullptr : &records[at - 1]);
          records.insert(records.begin() + static_cast<std::ptrdiff_t>(at), forged);
          for (std::size_t i = at + 1; i < records.size(); ++i) records[i].seq += 1;
          if (kind == Tamper::kInsertRechained) Rechain(records, at + 1);
          db.Rewrite(records);
          if (kind == Tamper::kInsertForged) expected_bad = static_cast<std::int64_t>(at) + 2;
          break;
        }
        case Tamper::kTruncateTail: {
          std::int64_t k = pick(1, std::min<std::int64_t>(n - 1, 40));
          db.Run("DELETE FROM audit_log WHERE seq > ?1", {std::to_string(n - k)});
          expected_bad = n - k + 1;
          break;
        }
        case Tamper::kEditRechained: {
          std::size_t at = static_cast<std::size_t>(pick(0, n - 1));
          records[at].object_id += "-edited";
          Rechain(records, at);
          db.Rewrite(records);
          break;
        }
        case Tamper::kDeleteRechained: {
          std::size_t at = static_cast<std::size_t>(pick(0, n - 1));
          records.erase(records.begin() + static_cast<std::ptrdiff_t>(at));
          for (std::size_t i = at; i < records.size(); ++i) records[i].seq -= 1;
          Rechain(records, at);
          db.Rewrite(records);
          break;
        }
        case Tamper::kTruncateRechained: {
          // The whole chain rebuilt from genesis without its last k records and one edit.
          std::int64_t k = pick(1, std::min<std::int64_t>(n - 1, 40));
          records.resize(static_cast<std::size_t>(n - k));
          records[static_cast<std::size_t>(pick(0, n - k - 1))].actor_role = "system";
          Rechain(records, 0);
          db.Rewrite(records);
          break;
        }
        case Tamper::kCount: break;
      }
    }
    auto report = VerifyAuditFiles(copy, files.checkpoints, *public_key);
    ASSERT_TRUE(report) << report.error().internal_message;
    ASSERT_FALSE(report->ok) << "trial " << trial << ": " << Name(kind) << " " << what << " went undetected";
    EXPECT_FALSE(report->problem.empty());
    if (expected_bad != 0) {
      EXPECT_EQ(report->first_bad_seq, expected_bad) << "trial " << trial << ": " << Name(kind) << " " << what << ": "
                                                     << report->problem;
    }
    ++detected[Name(kind)];
  }
  int total = 0;
  for (const auto& [name, count] : detected) total += count;
  EXPECT_EQ(total, kTamperings);
  EXPECT_EQ(detected.size(), static_cast<std::size_t>(Tamper::kCount));
}

// Verification reads the trail a page (5,000 records) at a time and holds none of them: a trail
// of several pages verifies, and a change in any page, or past the last checkpoint, is named.
TEST_F(AuditTamperTest, ATrailOfSeveralPagesVerifiesAndEachChangeIsNamedInItsPage) {
  ASSERT_TRUE(services_->audit.Start());
  const Actor nurse = MakeUser("nurse", false);
  constexpr int kRecords = 12'400;
  for (int written = 0; written < kRecords;) {
    const int unit = std::min(400, kRecords - written);
    ASSERT_TRUE(store_->RunWrite([&](store::WriteTx& tx) -> Status {
      for (int i = 0; i < unit; ++i) {
        AuditRecord r = AuditEntry(nurse, "message.read", "message", std::to_string(written + i), clock_.NowMillis());
        ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, r, json{{"space_id", (written + i) % 7}}));
      }
      return Ok();
    }));
    written += unit;
    if (written == 4'000 || written == 10'800) {
      ASSERT_TRUE(services_->audit.CheckpointNow());
    }
  }
  services_->audit.Stop();  // signs the head
  services_.reset();
  store_->Close();
  store_.reset();

  const AuditFiles files = Files();
  auto public_key = ReadPublicKeyFile(files.public_key);
  ASSERT_TRUE(public_key);
  auto intact = VerifyAuditFiles(Database(), files.checkpoints, *public_key);
  ASSERT_TRUE(intact) << intact.error().internal_message;
  ASSERT_TRUE(intact->ok) << intact->problem;
  const std::int64_t n = intact->records_checked;
  ASSERT_GT(n, 12'400);  // the nurse's creation is in the trail too
  EXPECT_GE(intact->checkpoints_checked, 3);

  const std::string copy = (dir_ / "tampered.db").string();
  auto verify_after = [&](const std::string& sql) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
    std::filesystem::copy_file(Database(), copy);
    { RawDb(copy).Exec(sql); }
    auto report = VerifyAuditFiles(copy, files.checkpoints, *public_key);
    EXPECT_TRUE(report) << report.error().internal_message;
    return report ? *report : governance::audit::VerifyReport{};
  };
  // An edit in the third page.
  auto edited = verify_after("UPDATE audit_log SET object_id = 'forged' WHERE seq = 11000");
  EXPECT_FALSE(edited.ok);
  EXPECT_EQ(edited.first_bad_seq, 11000) << edited.problem;
  EXPECT_EQ(edited.records_checked, n);
  // A deletion right at a page's edge.
  auto deleted = verify_after("DELETE FROM audit_log WHERE seq = 5001");
  EXPECT_FALSE(deleted.ok);
  EXPECT_EQ(deleted.first_bad_seq, 5001) << deleted.problem;
  // The tail removed: the chain is whole, the last checkpoint names where it now ends.
  auto truncated = verify_after("DELETE FROM audit_log WHERE seq > " + std::to_string(n - 100));
  EXPECT_FALSE(truncated.ok);
  EXPECT_EQ(truncated.first_bad_seq, n - 99) << truncated.problem;
  EXPECT_NE(truncated.problem.find("chain ends before"), std::string::npos) << truncated.problem;
}

// A verification runs on a thread of its own: the request that starts it returns at once, the
// verdict is reported by its status, recorded on the trail, and kept across a restart; an edit
// made meanwhile by whoever holds the file is named by the next one.
TEST_F(AuditTamperTest, AVerificationRunsInTheBackgroundAndItsVerdictOutlivesARestart) {
  ASSERT_TRUE(services_->audit.Start());
  const Actor nurse = MakeUser("nurse", false);
  const Actor officer = MakeOfficer("officer");
  for (int written = 0; written < 11'000; written += 500) {
    ASSERT_TRUE(store_->RunWrite([&](store::WriteTx& tx) -> Status {
      for (int i = 0; i < 500; ++i) {
        clock_.Advance(1);
        ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(nurse, "message.read", "message", std::to_string(written + i),
                                                          clock_.NowMillis()), json::object()));
      }
      return Ok();
    }));
  }
  ASSERT_TRUE(services_->audit.CheckpointNow());

  auto never = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(never);
  EXPECT_TRUE((*never)["ok"].is_null());
  EXPECT_TRUE((*never)["checked_at"].is_null());
  EXPECT_EQ((*never)["running"], false);
  auto refused = services_->audit.StartVerification(nurse);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "compliance_required");
  EXPECT_FALSE(services_->audit.VerificationStatus(nurse));

  clock_.Advance(1'000);
  auto started = services_->audit.StartVerification(officer);
  ASSERT_TRUE(started) << started.error().internal_message;
  services_->audit.AwaitVerification();
  auto done = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(done);
  EXPECT_EQ((*done)["ok"], true) << (*done)["problem"];
  EXPECT_EQ((*done)["running"], false);
  EXPECT_TRUE((*done)["first_bad_seq"].is_null());
  EXPECT_GT((*done)["records_checked"].get<std::int64_t>(), 11'000);
  EXPECT_EQ((*done)["head_seq"], (*done)["records_checked"]);
  EXPECT_GE((*done)["checkpoints_checked"].get<int>(), 1);
  EXPECT_EQ((*done)["started_by"], "officer");
  EXPECT_EQ((*done)["checked_at"], clock_.NowMillis());
  // On the trail: who asked, before the chain was walked, then the verdict.
  auto trail = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100'000); });
  ASSERT_TRUE(trail);
  ASSERT_GE(trail->size(), 2u);
  const AuditRecord& asked = (*trail)[trail->size() - 2];
  const AuditRecord& verdict = trail->back();
  EXPECT_EQ(asked.action, "audit.verify");
  EXPECT_EQ(asked.actor_id, officer.user.id);
  EXPECT_EQ(asked.seq, (*done)["records_checked"].get<std::int64_t>());  // the verdict covers its request
  EXPECT_EQ(verdict.action, "audit.verified");
  EXPECT_EQ(verdict.outcome, AuditOutcome::kSuccess);
  EXPECT_NE(verdict.details_json.find("\"records_checked\":" + (*done)["records_checked"].dump()), std::string::npos)
      << verdict.details_json;

  // A restart: the verdict is still reported.
  services_->audit.Stop();
  services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);
  ASSERT_TRUE(services_->audit.Start());
  auto kept = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(kept);
  EXPECT_EQ((*kept)["ok"], true);
  EXPECT_EQ((*kept)["checked_at"], (*done)["checked_at"]);
  EXPECT_EQ((*kept)["records_checked"], (*done)["records_checked"]);

  // Someone with the file edits a record while the server runs: the next verification names it.
  { RawDb(Database()).Exec("UPDATE audit_log SET object_id = 'forged' WHERE seq = 7000"); }
  clock_.Advance(1'000);
  ASSERT_TRUE(services_->audit.StartVerification(officer));
  services_->audit.AwaitVerification();
  auto broken = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(broken);
  EXPECT_EQ((*broken)["ok"], false);
  EXPECT_EQ((*broken)["first_bad_seq"], 7000) << (*broken)["problem"];
  auto after = store_->Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); });
  ASSERT_TRUE(after && *after);
  EXPECT_EQ((*after)->action, "audit.verified");
  EXPECT_EQ((*after)->outcome, AuditOutcome::kFailure);
}

// The server verifies by itself, audit_verify_hours after the last verification (or its start).
TEST_F(AuditTamperTest, TheServerVerifiesTheChainByItselfOnceTheIntervalHasPassed) {
  config_.audit_verify_hours = 24;
  ASSERT_TRUE(services_->audit.Start());
  MakeUser("nurse", false);
  auto status = [&] {
    auto s = services_->audit.VerificationStatus(Actor::System());
    EXPECT_TRUE(s);
    return s ? *s : json();
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the loop polls every 250 ms
  EXPECT_TRUE(status()["checked_at"].is_null()) << "not due yet";
  clock_.Advance(24LL * 3'600'000);
  json verified;
  for (int i = 0; i < 100 && (verified = status())["checked_at"].is_null(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  services_->audit.AwaitVerification();
  verified = status();
  EXPECT_EQ(verified["ok"], true) << verified.dump();
  EXPECT_EQ(verified["started_by"], "system");
  // The next one is due a whole interval after this one.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(status()["checked_at"], verified["checked_at"]);
}

// An export streams: pieces of about 64 KiB reach the sink as the records are read, none held
// whole, and the pieces together are exactly the document a whole render gives.
TEST_F(AuditTamperTest, AnExportOfSeveralPagesReachesItsSinkInPiecesAndMatchesAWholeRender) {
  const Actor nurse = MakeUser("nurse", false);
  const Actor compliance = MakeOfficer("officer");
  constexpr int kRecords = 11'000;
  for (int written = 0; written < kRecords; written += 500) {
    ASSERT_TRUE(store_->RunWrite([&](store::WriteTx& tx) -> Status {
      for (int i = 0; i < 500; ++i) {
        clock_.Advance(1);
        AuditRecord r = AuditEntry(nurse, "message.read", "message", std::to_string(written + i), clock_.NowMillis());
        if (i % 5 == 0) r.patient_ref = PatientRefOf(static_cast<std::uint64_t>(i));
        ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, r, json{{"space_id", (written + i) % 7}}));
      }
      return Ok();
    }));
  }
  auto all = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100'000); });
  ASSERT_TRUE(all);
  const std::size_t n = all->size();
  ASSERT_GT(n, static_cast<std::size_t>(kRecords));

  for (AuditExportFormat format : {AuditExportFormat::kCsv, AuditExportFormat::kNdjson, AuditExportFormat::kFhir}) {
    // Each export adds its own record to the trail, after what it exports.
    auto before = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100'000); });
    ASSERT_TRUE(before);
    std::vector<std::size_t> pieces;
    std::string streamed;
    auto count = services_->audit.Export(compliance, format, std::nullopt, std::nullopt, [&](std::string_view piece) -> Status {
      pieces.push_back(piece.size());
      streamed += piece;
      return Ok();
    });
    ASSERT_TRUE(count) << count.error().internal_message;
    EXPECT_EQ(*count, before->size());
    EXPECT_GT(pieces.size(), 10u);
    for (std::size_t size : pieces) {
      EXPECT_LT(size, 64u * 1024 + 16 * 1024);
    }
    EXPECT_EQ(streamed, RenderAuditExport(*before, format));
    if (format == AuditExportFormat::kFhir) {
      // Byte for byte the Bundle a whole JSON document would have been.
      json entries = json::array();
      for (const auto& r : *before) {
        entries.push_back({{"fullUrl", "urn:rounds:audit:" + std::to_string(r.seq)}, {"resource", FhirAuditEvent(r)}});
      }
      EXPECT_EQ(streamed,
                json({{"resourceType", "Bundle"}, {"type", "collection"}, {"entry", entries}}).dump());
    }
    if (format == AuditExportFormat::kNdjson) {
      // Each event carries its record's place in the chain, and names the hash of the one before.
      std::istringstream lines(streamed);
      std::string line;
      std::size_t index = 0;
      std::string previous;
      while (std::getline(lines, line)) {
        ASSERT_LT(index, before->size());
        const json event = json::parse(line);
        const auto& record = (*before)[index++];
        EXPECT_EQ(event["id"], std::to_string(record.seq));
        const json& chain = event["extension"][0];
        EXPECT_EQ(chain["url"], "urn:rounds:audit:chain");
        EXPECT_EQ(chain["extension"][0]["url"], "previous");
        EXPECT_EQ(chain["extension"][1]["url"], "hash");
        EXPECT_EQ(chain["extension"][1]["valueString"], record.hash);
        if (!previous.empty()) {
          EXPECT_EQ(chain["extension"][0]["valueString"], previous);
        }
        previous = chain["extension"][1]["valueString"];
      }
      EXPECT_EQ(index, before->size());
    }
    auto last = store_->Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); });
    ASSERT_TRUE(last && *last);
    EXPECT_EQ((*last)->action, "audit.export");
    EXPECT_EQ(json::parse((*last)->details_json)["count"], before->size());
  }

  // For the HTTP API: into a file with no name in the data folder, rewound.
  {
    auto before = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100'000); });
    ASSERT_TRUE(before);
    auto file = services_->audit.ExportToFile(compliance, AuditExportFormat::kCsv, std::nullopt, std::nullopt);
    ASSERT_TRUE(file) << file.error().internal_message;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      EXPECT_EQ(entry.path().filename().string().find(".rounds-body-"), std::string::npos) << entry.path();
    }
    EXPECT_EQ(file->Size().value(), RenderAuditExport(*before, AuditExportFormat::kCsv).size());
    EXPECT_EQ(file->ReadAll().value(), RenderAuditExport(*before, AuditExportFormat::kCsv));
  }

  // A sink that fails stops the export with its error.
  int calls = 0;
  auto failed = services_->audit.Export(compliance, AuditExportFormat::kNdjson, std::nullopt, std::nullopt,
                                        [&](std::string_view) -> Status {
                                          ++calls;
                                          return Fail(ErrorCode::kInternal, "disk_full", "No space left.");
                                        });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kInternal);
  EXPECT_EQ(calls, 1);
}

// Verification and export read the trail a page per read, bounded by the newest record when they
// start: records appended meanwhile are neither checked nor exported, and break nothing.
TEST_F(AuditTamperTest, VerifyingAndExportingWhileRecordsAreAppendedSeeTheTrailAsItStood) {
  const Actor nurse = MakeUser("nurse", false);
  auto append = [&](int count) {
    for (int written = 0; written < count; written += 250) {
      ASSERT_TRUE(store_->RunWrite([&](store::WriteTx& tx) -> Status {
        for (int i = 0; i < 250; ++i) {
          ROUNDS_RETURN_IF_ERROR(AppendAudit(tx, AuditEntry(nurse, "message.read", "message", std::to_string(i), 1), json::object()));
        }
        return Ok();
      }));
    }
  };
  append(11'000);
  const auto before = store_->Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); });
  ASSERT_TRUE(before && *before);
  const std::int64_t head = (*before)->seq;

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) append(250);
  });
  auto key = governance::audit::SigningKey::Generate();
  for (int round = 0; round < 3; ++round) {
    auto report = VerifyStoredChain(*store_, {}, key.public_key_hex);
    ASSERT_TRUE(report) << report.error().internal_message;
    EXPECT_TRUE(report->ok) << report->problem;
    EXPECT_GE(report->records_checked, head);
    std::string csv;
    auto count = services_->audit.Export(Actor::System(), AuditExportFormat::kCsv, std::nullopt, std::nullopt,
                                         [&csv](std::string_view piece) -> Status {
                                           csv += piece;
                                           return Ok();
                                         });
    ASSERT_TRUE(count) << count.error().internal_message;
    EXPECT_GE(*count, static_cast<std::size_t>(head));
    const auto rows = static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')) - 1;  // less the header
    EXPECT_EQ(rows, *count);
  }
  stop = true;
  writer.join();
  auto after = VerifyStoredChain(*store_, {}, key.public_key_hex);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->ok) << after->problem;
  EXPECT_GT(after->records_checked, head) << "records went on being appended";
}

// A key with records and no checkpoint: the checkpoint file was removed, since the server signs
// one as soon as it has a key. Without a key, what that means is the caller's to say.
TEST_F(AuditTamperTest, AKeyWithRecordsAndNoCheckpointIsATamperedTrail) {
  BuildTrail();
  const AuditFiles files = Files();
  auto public_key = ReadPublicKeyFile(files.public_key);
  ASSERT_TRUE(public_key);
  const std::string removed = files.checkpoints + ".removed";
  auto keyed = VerifyAuditFiles(Database(), removed, *public_key);
  ASSERT_TRUE(keyed) << keyed.error().internal_message;
  EXPECT_FALSE(keyed->ok);
  EXPECT_EQ(keyed->checkpoints_checked, 0);
  EXPECT_NE(keyed->problem.find("missing or empty, though a signing key exists"), std::string::npos)
      << keyed->problem;
  auto unkeyed = VerifyAuditFiles(Database(), removed, "");
  ASSERT_TRUE(unkeyed);
  EXPECT_TRUE(unkeyed->ok) << unkeyed->problem;
  EXPECT_GT(unkeyed->records_checked, 0);
}

TEST_F(AuditTamperTest, ACheckpointSignedWithAnotherKeyIsRejected) {
  BuildTrail();
  const AuditFiles files = Files();
  auto other = governance::audit::SigningKey::Generate();
  auto report = VerifyAuditFiles(Database(), files.checkpoints, other.public_key_hex);
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->ok);
  EXPECT_NE(report->problem.find("invalid signature"), std::string::npos) << report->problem;
}

// Reopens the database and the services over the folder BuildTrail left.
void Reopen(std::unique_ptr<store::Store>& store, std::unique_ptr<Services>& services, bus::Bus& bus,
            const Clock& clock, const Config& config, const std::string& path) {
  auto opened = store::OpenSqliteStore({.path = path, .read_connections = 2});
  ASSERT_TRUE(opened) << opened.error().internal_message;
  store = std::move(*opened);
  services = std::make_unique<Services>(*store, bus, clock, config);
}

// The verification status of a server that stopped signing: not ok, not anchored, and `why`.
void ExpectUnanchored(const json& status, std::string_view why) {
  EXPECT_EQ(status["ok"], false);
  EXPECT_EQ(status["anchored"], false);
  EXPECT_NE(status["problem"].get<std::string>().find(why), std::string::npos) << status["problem"];
}

std::size_t CheckpointLines(const std::string& path) {
  auto checkpoints = ReadCheckpoints(path);
  EXPECT_TRUE(checkpoints);
  return checkpoints ? checkpoints->size() : 0;
}

// Someone who can write the data folder rewrites the trail from a record on, re-hashing every later
// one, and restarts the server: signing the head at start would vouch for the rewrite (the next
// verification would find every checkpoint after the rewrite matching). The server checks the
// trail against its last checkpoint first: it serves, signs nothing, records and reports why.
TEST_F(AuditTamperTest, AServerStartedOnATrailThatLeftItsLastCheckpointSignsNothing) {
  BuildTrail();
  const AuditFiles files = Files();
  const std::size_t lines = CheckpointLines(files.checkpoints);
  auto checkpoints = ReadCheckpoints(files.checkpoints);
  ASSERT_TRUE(checkpoints && !checkpoints->empty());
  const std::int64_t last = checkpoints->back().seq;
  { RawDb(Database()).Run("UPDATE audit_log SET hash = ?1 WHERE seq = ?2", {std::string(64, 'a'), std::to_string(last)}); }
  Reopen(store_, services_, bus_, clock_, config_, Database());
  ASSERT_TRUE(services_->audit.Start());
  const Actor officer = MakeOfficer("officer");
  (void)services_->auth.Login({"nurse1", testing::kPassword, false, "10.0.0.1", "test"});
  ASSERT_TRUE(services_->audit.CheckpointNow());
  auto status = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(status);
  ExpectUnanchored(*status, "differs from the last signed checkpoint");
  EXPECT_EQ((*status)["first_bad_seq"], last);
  services_->audit.Stop();
  EXPECT_EQ(CheckpointLines(files.checkpoints), lines) << "nothing signed over the altered trail";
  auto trail = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100'000); });
  ASSERT_TRUE(trail);
  EXPECT_TRUE(std::any_of(trail->begin(), trail->end(), [](const AuditRecord& r) {
    return r.action == "audit.anchor_mismatch" && r.outcome == AuditOutcome::kFailure;
  }));
  services_.reset();
  store_->Close();

  // The checkpoint file removed as well: a key that signed before and no checkpoint left.
  std::filesystem::remove(files.checkpoints);
  Reopen(store_, services_, bus_, clock_, config_, Database());
  ASSERT_TRUE(services_->audit.Start());
  auto removed = services_->audit.VerificationStatus(MakeOfficer("officer3"));
  ASSERT_TRUE(removed);
  ExpectUnanchored(*removed, "missing or empty");
  services_->audit.Stop();
  EXPECT_FALSE(std::filesystem::exists(files.checkpoints)) << "nothing signed";
  services_.reset();
  store_->Close();
  {
    std::ofstream restore(files.checkpoints);
    for (const auto& c : *checkpoints) restore << c.ToLine() << "\n";
  }

  // Records removed from the end (or a restore of an older copy) are named as such.
  { RawDb(Database()).Run("DELETE FROM audit_log WHERE seq >= ?1", {std::to_string(last)}); }
  Reopen(store_, services_, bus_, clock_, config_, Database());
  ASSERT_TRUE(services_->audit.Start());
  auto shortened = services_->audit.VerificationStatus(MakeOfficer("officer2"));
  ASSERT_TRUE(shortened);
  ExpectUnanchored(*shortened, "ends before its last signed checkpoint");
  services_->audit.Stop();
  EXPECT_EQ(CheckpointLines(files.checkpoints), lines);
}

// The checkpoint file changed while the server runs: removed (someone who rewrote the trail then
// lets the server start a new file that vouches for the rewrite), cut short, replaced by another
// file, or written to by something else. The server notices at its next poll or checkpoint, signs
// nothing from then on, and says why on the trail and in the verification status; its own
// verification judges a keyed trail with no checkpoint as the CLI does.
TEST_F(AuditTamperTest, ACheckpointFileChangedWhileTheServerRunsStopsTheSigning) {
  BuildTrail();
  const AuditFiles files = Files();
  auto checkpoints = ReadCheckpoints(files.checkpoints);
  ASSERT_TRUE(checkpoints && checkpoints->size() > 2);
  const auto restore = [&](std::size_t lines) {
    std::ofstream out(files.checkpoints, std::ios::trunc);
    for (std::size_t i = 0; i < lines; ++i) out << (*checkpoints)[i].ToLine() << "\n";
  };
  struct Change {
    const char* expected;
    std::function<void()> make;
  };
  const std::vector<Change> changes = {
      {"was removed while the server ran", [&] { std::filesystem::remove(files.checkpoints); }},
      {"was cut short while the server ran", [&] {
         std::filesystem::resize_file(files.checkpoints, std::filesystem::file_size(files.checkpoints) - 10);
       }},
      {"was replaced by another file while the server ran", [&] {
         const std::string copy = files.checkpoints + ".copy";
         std::filesystem::copy_file(files.checkpoints, copy);
         std::filesystem::rename(copy, files.checkpoints);
       }},
      {"was rewritten in place while the server ran", [&] {
         std::fstream file(files.checkpoints, std::ios::in | std::ios::out | std::ios::binary);
         file.seekp(10);
         file.put('f');
       }},
      {"was written to by something other than the server", [&] {
         std::ofstream out(files.checkpoints, std::ios::app);
         out << checkpoints->back().ToLine() << "\n";
       }},
  };
  int round = 0;
  for (const Change& change : changes) {
    SCOPED_TRACE(change.expected);
    restore(checkpoints->size());
    Reopen(store_, services_, bus_, clock_, config_, Database());
    ASSERT_TRUE(services_->audit.Start());
    const Actor officer = MakeOfficer("officer" + std::to_string(round++));
    ASSERT_TRUE(services_->audit.CheckpointNow());  // the officer's account, signed while intact
    const std::size_t lines = CheckpointLines(files.checkpoints);
    auto intact = services_->audit.VerificationStatus(officer);
    ASSERT_TRUE(intact);
    EXPECT_EQ((*intact)["anchored"], true);

    change.make();
    (void)services_->auth.Login({"nurse1", testing::kPassword, false, "10.0.0.1", "test"});
    ASSERT_TRUE(services_->audit.CheckpointNow());
    auto status = services_->audit.VerificationStatus(officer);
    ASSERT_TRUE(status);
    ExpectUnanchored(*status, change.expected);
    auto trail = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 100'000); });
    ASSERT_TRUE(trail);
    EXPECT_EQ(trail->back().action, "audit.anchor_mismatch");
    EXPECT_EQ(trail->back().outcome, AuditOutcome::kFailure);
    if (round == static_cast<int>(changes.size())) {
      // A verification afterwards may find the chain and the lines it has whole (here a signed
      // line repeated): the status still says the server stopped signing, and why.
      clock_.Advance(1'000);
      ASSERT_TRUE(services_->audit.StartVerification(officer));
      services_->audit.AwaitVerification();
      auto after = services_->audit.VerificationStatus(officer);
      ASSERT_TRUE(after);
      ExpectUnanchored(*after, change.expected);
    }
    services_->audit.Stop();  // the shutdown checkpoint is refused too
    const bool removed = !std::filesystem::exists(files.checkpoints);
    EXPECT_EQ(removed, round == 1) << "a removed file is not started again";
    if (!removed) {
      EXPECT_LE(CheckpointLines(files.checkpoints), lines + 1) << "nothing signed after the change";
    }
    services_.reset();
    store_->Close();
  }

  // The server's own verification: a keyed trail whose checkpoint file is gone is tampered with,
  // as `rounds audit verify` says.
  std::filesystem::remove(files.checkpoints);
  Reopen(store_, services_, bus_, clock_, config_, Database());
  ASSERT_TRUE(services_->audit.Start());
  const Actor officer = MakeOfficer("officer-last");
  clock_.Advance(1'000);
  ASSERT_TRUE(services_->audit.StartVerification(officer));
  services_->audit.AwaitVerification();
  auto verdict = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(verdict);
  EXPECT_EQ((*verdict)["ok"], false);
  EXPECT_EQ((*verdict)["checkpoints_checked"], 0);
  // The status leads with why the server stopped signing; the verification's own verdict is on
  // the trail, a failure.
  EXPECT_NE((*verdict)["problem"].get<std::string>().find("missing or empty"), std::string::npos)
      << (*verdict)["problem"];
  auto newest = store_->Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); });
  ASSERT_TRUE(newest && *newest);
  EXPECT_EQ((*newest)->action, "audit.verified");
  EXPECT_EQ((*newest)->outcome, AuditOutcome::kFailure) << (*newest)->details_json;
  EXPECT_NE((*newest)->details_json.find("\"checkpoints_checked\":0"), std::string::npos) << (*newest)->details_json;
  services_->audit.Stop();
  EXPECT_FALSE(std::filesystem::exists(files.checkpoints));
}

// Two alterations the random ones above do not make: a record forged below seq 1 (verification
// walked from seq 1 while searches showed it as genuine), and a value stored as another type than
// the appender writes (reading converts "1796448095096x" to a time that verifies, while searches
// by time, actor or object compare the stored value and miss the record).
TEST_F(AuditTamperTest, ARecordBelowSeqOneAValueOfAnotherTypeOrAMisfiledIndexEntryIsNamed) {
  BuildTrail();
  const AuditFiles files = Files();
  auto public_key = ReadPublicKeyFile(files.public_key);
  ASSERT_TRUE(public_key);
  const std::string copy = (dir_ / "tampered.db").string();
  auto fresh_copy = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
    std::filesystem::copy_file(Database(), copy);
  };
  fresh_copy();
  {
    RawDb(copy).Exec(
        "INSERT INTO audit_log SELECT 0, time, actor_id, actor_role, 'user.disable', object_type, object_id, "
        "patient_ref, outcome, address, session_hash, 'forged', details, prev_hash, hash FROM audit_log WHERE seq = 1");
  }
  auto below = VerifyAuditFiles(copy, files.checkpoints, *public_key);
  ASSERT_TRUE(below);
  EXPECT_FALSE(below->ok);
  EXPECT_NE(below->problem.find("found seq 0"), std::string::npos) << below->problem;

  const std::vector<std::pair<std::string, std::string>> retyped = {
      {"time", "CAST(time AS TEXT) || 'x'"}, {"actor_id", "CAST(actor_id AS TEXT) || '.0x'"},
      {"object_id", "CAST(object_id AS BLOB)"}, {"reason", "zeroblob(2)"}};
  for (const auto& [column, value] : retyped) {
    fresh_copy();
    { RawDb(copy).Exec("UPDATE audit_log SET " + column + " = " + value + " WHERE seq = 20"); }
    auto report = VerifyAuditFiles(copy, files.checkpoints, *public_key);
    ASSERT_TRUE(report);
    EXPECT_FALSE(report->ok) << column;
    EXPECT_EQ(report->first_bad_seq, 20) << column << ": " << report->problem;
  }

  // The search indexes are no part of the chain: a record dropped from the index by actor (a
  // search for what that account did then leaves it out), one misfiled under another object, or
  // an entry no record matches, is named too. So is a record's second patient dropped from the
  // index by patient, its entries filed under another patient, or an entry naming a patient its
  // record does not.
  std::int64_t two = 0;  // the first record that names two patients
  for (const auto& r : LoadRecords(Database())) {
    if (r.patient_ref.find(' ') != std::string::npos) {
      two = r.seq;
      break;
    }
  }
  ASSERT_GT(two, 0);
  const std::string seq = std::to_string(two);
  const std::vector<std::pair<std::string, std::int64_t>> misfilings = {
      {"DELETE FROM audit_index_actor WHERE seq = 30", 30},
      {"UPDATE audit_index_object SET object_id = object_id || 'x' WHERE seq = 30", 30},
      {"INSERT INTO audit_index_actor (actor_id, seq) SELECT actor_id + 1000, seq FROM audit_log WHERE seq = 30", 30},
      {"DELETE FROM audit_index_patient WHERE seq = " + seq + " AND patient_key = " + std::to_string(kSharedPatient), two},
      {"UPDATE audit_index_patient SET patient_key = patient_key + 1 WHERE seq = " + seq, two},
      {"INSERT INTO audit_index_patient (patient_key, seq) VALUES (424242, " + seq + ")", two}};
  for (const auto& [sql, bad] : misfilings) {
    fresh_copy();
    { RawDb(copy).Exec(sql); }
    auto report = VerifyAuditFiles(copy, files.checkpoints, *public_key);
    ASSERT_TRUE(report);
    EXPECT_FALSE(report->ok) << sql;
    EXPECT_EQ(report->first_bad_seq, bad) << sql << ": " << report->problem;
  }
}

// The signing key removed (with or without its public half): a server that made a new one would
// sign whatever the database holds, and overwrite the key the old checkpoints are checked with.
// It refuses to start until the key is restored or the old checkpoints are moved aside on purpose.
TEST_F(AuditTamperTest, AMissingSigningKeyIsNotReplacedWhileCheckpointsExist) {
  BuildTrail();
  const AuditFiles files = Files();
  auto public_key = ReadPublicKeyFile(files.public_key);
  ASSERT_TRUE(public_key);
  const std::size_t lines = CheckpointLines(files.checkpoints);
  std::filesystem::remove(files.signing_key);
  Reopen(store_, services_, bus_, clock_, config_, Database());
  auto refused = services_->audit.Start();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "audit_key_missing");
  EXPECT_EQ(ReadPublicKeyFile(files.public_key).value_or(""), *public_key) << "the old public key is kept";
  std::filesystem::remove(files.public_key);
  refused = services_->audit.Start();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "audit_key_missing");
  EXPECT_FALSE(std::filesystem::exists(files.signing_key));
  EXPECT_EQ(CheckpointLines(files.checkpoints), lines);

  // Moved aside, the old checkpoints still verify the trail with the old public key, and a new
  // key starts a new file.
  const std::string old_checkpoints = files.checkpoints + ".old";
  std::filesystem::rename(files.checkpoints, old_checkpoints);
  ASSERT_TRUE(services_->audit.Start());
  services_->audit.Stop();
  auto old = VerifyAuditFiles(Database(), old_checkpoints, *public_key);
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->ok) << old->problem;
  EXPECT_NE(ReadPublicKeyFile(files.public_key).value_or(""), *public_key);
  EXPECT_EQ(CheckpointLines(files.checkpoints), 2u);  // the new key's empty chain, then the head
}

// A search's text filters are recorded on the trail (who looked for what), and a record's details
// are JSON: a filter that is not UTF-8 failed the search with an internal error, for the officer
// and for anyone refused. It is a bad request now, from any caller; one too long is too.
TEST_F(AuditTamperTest, ASearchFilterThatIsNotTextIsABadRequestForAnyone) {
  const Actor nurse = MakeUser("nurse", false);
  const Actor officer = MakeOfficer("officer");
  for (const Actor& who : {officer, nurse}) {
    for (std::string store::AuditQuery::*field :
         {&store::AuditQuery::action_prefix, &store::AuditQuery::object_type, &store::AuditQuery::object_id}) {
      for (const std::string& bad : {std::string("\xff\xfe"), std::string("caf\xc3"), std::string(201, 'a')}) {
        store::AuditQuery query;
        query.*field = bad;
        auto searched = services_->audit.Search(who, query);
        ASSERT_FALSE(searched);
        EXPECT_EQ(searched.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(searched.error().problem, "invalid_value");
      }
    }
  }
  store::AuditQuery fine;
  fine.action_prefix = "audit.";
  fine.object_id = std::string(200, 'a');
  EXPECT_TRUE(services_->audit.Search(officer, fine));
}

// Details are JSON whatever text a caller passes: bytes that are not UTF-8 are kept as U+FFFD
// instead of failing the change the record belongs to.
TEST_F(AuditTamperTest, DetailsThatAreNotUtf8AreRecordedNotRefused) {
  const Actor nurse = MakeUser("nurse", false);
  ASSERT_TRUE(AuditNow(*store_, AuditEntry(nurse, "test.details", "user", "1", clock_.NowMillis()),
                       json{{"filter", "caf\xc3"}}));
  auto last = store_->Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); });
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->action, "test.details");
  EXPECT_EQ((*last)->details_json, "{\"filter\":\"caf\xef\xbf\xbd\"}");
  // A field that is not UTF-8 in the file (edited there, or stored by an older build) does not
  // stop an export halfway: it is exported with U+FFFD.
  { RawDb(Database()).Run("UPDATE audit_log SET reason = ?1 WHERE seq = ?2", {"caf\xff", std::to_string((*last)->seq)}); }
  const Actor officer = MakeOfficer("officer");
  for (AuditExportFormat format : {AuditExportFormat::kNdjson, AuditExportFormat::kFhir}) {
    auto exported = services_->audit.Export(officer, format, std::nullopt, std::nullopt);
    ASSERT_TRUE(exported) << exported.error().internal_message;
    EXPECT_NE(exported->find("caf\xef\xbf\xbd"), std::string::npos);
  }
}

// FHIR AuditEvent.action: reads of content are R, whatever the verb that shows them; a search
// executes a query (E). These were E once for lists, history pages and replays.
TEST(FhirAuditEventTest, ReadsOfContentAreReadsAndSearchesExecute) {
  AuditRecord r;
  r.seq = 7;
  r.time = 1796448095096;
  r.actor_id = 3;
  r.actor_role = "staff";
  r.object_type = "space";
  r.object_id = "12";
  r.outcome = AuditOutcome::kSuccess;
  const std::pair<const char*, const char*> cases[] = {
      {"message.read", "R"},      {"message.list", "R"},    {"message.history", "R"},
      {"message.replay", "R"},    {"message.live", "R"},    {"message.thread", "R"},  {"attachment.read", "R"},
      {"ediscovery.download", "R"}, {"legal_hold.list", "R"}, {"moderation.queue", "R"},
      {"message.search", "E"},
      {"audit.search", "E"},      {"message.create", "C"},  {"message.delete", "D"},
      {"message.edit", "U"},      {"auth.login", "E"},
  };
  for (const auto& [action, expected] : cases) {
    r.action = action;
    EXPECT_EQ(FhirAuditEvent(r)["action"], expected) << action;
  }
}

// The checkpoint file is read a line at a time: a torn last line (a crash while appending) ends
// it, any other bad line is an error naming it, and the last checkpoint is found without holding
// the others.
TEST(CheckpointFileTest, ReadsLineByLineStopsAtATornTailAndNamesABadLine) {
  ASSERT_TRUE(crypto::InitCrypto());
  const auto key = governance::audit::SigningKey::Generate();
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / ("checkpoints-" + std::to_string(::getpid()) + ".log")).string();
  const std::string hash(64, 'a');
  const std::string first = governance::audit::SignCheckpoint(1, hash, 10, key).ToLine();
  const std::string second = governance::audit::SignCheckpoint(2, hash, 20, key).ToLine();
  auto write = [&](const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  };
  write(first + "\n\n" + second + "\n" + second.substr(0, 30));  // torn: no newline
  auto all = ReadCheckpoints(path);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].seq, 2);
  auto last = ReadLastCheckpoint(path);
  ASSERT_TRUE(last);
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->seq, 2);

  write(first + "\n" + second.substr(0, 30) + "\n" + second + "\n");  // damage inside the file
  auto damaged = ReadCheckpoints(path);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(damaged.error().public_message.find(path + ":2:"), std::string::npos) << damaged.error().public_message;
  EXPECT_FALSE(ReadLastCheckpoint(path));

  std::filesystem::remove(path);
  auto none = ReadLastCheckpoint(path);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace rounds::app
