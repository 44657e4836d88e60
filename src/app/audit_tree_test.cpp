// The audit trail's Merkle tree as the server keeps it: grown with each checkpoint, kept in the
// store from 256 leaves up, signed into version 2 checkpoints, proved to officers as documents the
// public key alone checks, carried across restarts, upgrades and changes of the signing key, and
// caught when altered.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "app/audit_log.hpp"
#include "app/audit_service.hpp"
#include "app/key_file.hpp"
#include "app/audit_tree.hpp"
#include "app/service_test_support.hpp"
#include "core/crypto.hpp"
#include "governance/audit/audit_chain.hpp"

namespace rounds::app {
namespace {

using governance::audit::Checkpoint;
using governance::audit::MerkleFrontier;
using governance::audit::MerkleHex;

class AuditTreeTest : public testing::ServiceTest {
 protected:
  void Configure(Config& config) override {
    config.audit_checkpoint_records = 1'000'000;  // this test decides when to sign
  }

  // Appends `count` records as the app does.
  void Append(int count) {
    for (int i = 0; i < count; ++i) {
      clock_.Advance(5);
      domain::AuditRecord r = AuditEntry(Actor::System(), "message.read", "message", std::to_string(i), clock_.NowMillis());
      ASSERT_TRUE(AuditNow(*store_, r));
    }
  }

  std::vector<domain::AuditRecord> Records() {
    auto records = store_->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 1'000'000); });
    EXPECT_TRUE(records);
    return records.value_or(std::vector<domain::AuditRecord>{});
  }

  // The root of the first `size` records, from the records alone.
  std::string RootFromRecords(std::int64_t size) {
    MerkleFrontier tree;
    for (const auto& r : Records()) {
      if (r.seq > size) break;
      tree.Append(*governance::audit::AuditLeafHash(r.hash));
    }
    return MerkleHex(tree.Root());
  }

  std::vector<Checkpoint> Checkpoints() {
    auto checkpoints = ReadCheckpoints(AuditFiles::For(config_).checkpoints);
    EXPECT_TRUE(checkpoints);
    return checkpoints.value_or(std::vector<Checkpoint>{});
  }

  std::string PublicKey() { return ReadPublicKeyFile(AuditFiles::For(config_).public_key).value(); }

  void Restart() {
    services_->audit.Stop();
    services_.reset();
    store_->Close();
    auto opened = store::OpenSqliteStore({.path = (dir_ / "rounds.db").string(), .read_connections = 2});
    ASSERT_TRUE(opened) << opened.error().internal_message;
    store_ = std::move(*opened);
    services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);
  }

  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "rounds.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 30'000);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
};

// A proof's checkpoint is looked up in a file of any length by reading a few KiB of it: found as
// reading the whole file would find it.
TEST(RootedCheckpointLookupTest, FindsWhatAWholeReadFindsInAFileOfAnyLength) {
  const auto path = std::filesystem::path(::testing::TempDir()) / ("rounds-checkpoints-" + std::to_string(::getpid()));
  std::vector<Checkpoint> written;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    const std::string signature(128, 'a');
    const auto line = [&](std::int64_t seq, bool rooted) {
      Checkpoint c{seq, crypto::Sha256Hex("head " + std::to_string(seq)), seq * 10, signature,
                   rooted ? crypto::Sha256Hex("root " + std::to_string(seq)) : std::string()};
      written.push_back(c);
      out << c.ToLine() << "\n";
    };
    line(0, false);  // a new key's first line: the empty trail
    for (std::int64_t seq = 1; seq <= 30'000; ++seq) {
      if (seq % 7 == 0) continue;         // sizes never signed
      if (seq % 1'000 == 0) line(seq, false);  // signed before the tree, then again with its root
      line(seq, seq % 11 != 0);           // some signed before the tree only
    }
    for (std::int64_t seq = 30'001; seq <= 31'000; ++seq) line(seq, false);  // 200 KB of old lines at the end
    out << "31001 " << std::string(20, 'b');  // a torn last line
  }
  const auto whole = [&](std::optional<std::int64_t> seq) {
    std::optional<Checkpoint> found;
    for (const Checkpoint& c : written) {
      if (!c.root.empty() && c.seq > 0 && (!seq || c.seq == *seq)) found = c;
    }
    return found;
  };
  std::vector<std::int64_t> asked = {-1, 0, 1, 2, 7, 11, 1'000, 2'000, 29'999, 30'000, 30'500, 31'001, 99'999};
  std::mt19937 random(7);
  for (int i = 0; i < 300; ++i) asked.push_back(std::uniform_int_distribution<std::int64_t>(1, 30'000)(random));
  for (std::int64_t seq : asked) {
    auto found = FindRootedCheckpoint(path.string(), seq);
    ASSERT_TRUE(found);
    const auto expected = whole(seq);
    ASSERT_EQ(found->has_value(), expected.has_value()) << seq;
    if (expected) {
      EXPECT_EQ((*found)->ToLine(), expected->ToLine()) << seq;
    }
  }
  auto last = FindRootedCheckpoint(path.string(), std::nullopt);
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->ToLine(), whole(std::nullopt)->ToLine());
  EXPECT_EQ((*last)->seq, 30'000) << "the newest rooted line, from before the old lines at the end";
  auto missing = FindRootedCheckpoint(path.string() + ".none", std::nullopt);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  std::filesystem::remove(path);
}

TEST_F(AuditTreeTest, CheckpointsSignTheRootOfTheTrailAndTheStoreKeepsItsLargeSubtrees) {
  ASSERT_TRUE(services_->audit.Start());
  Append(300);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  Append(500);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const auto checkpoints = Checkpoints();
  ASSERT_GE(checkpoints.size(), 3u);
  for (const Checkpoint& c : checkpoints) {
    if (c.seq == 0) continue;  // the new key's first line: the empty trail
    EXPECT_EQ(c.root, RootFromRecords(c.seq)) << "checkpoint " << c.seq;
    auto stored = StoredTreeRoot(*store_, c.seq);
    ASSERT_TRUE(stored);
    EXPECT_EQ(MerkleHex(*stored), c.root);
  }
  const std::int64_t head = checkpoints.back().seq;
  ASSERT_GE(head, 800);
  // Every complete subtree of 256 leaves up to the head is kept, and no more.
  auto last = store_->Read([](store::ReadTx& tx) { return tx.LastAuditTreeNode(kAuditTreeKeptLevel); });
  ASSERT_TRUE(last && *last);
  EXPECT_EQ(**last, head / 256 - 1);
  auto above = store_->Read([](store::ReadTx& tx) { return tx.LastAuditTreeNode(kAuditTreeKeptLevel + 1); });
  ASSERT_TRUE(above && *above);
  EXPECT_EQ(**above, head / 512 - 1);
  auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), AuditFiles::For(config_).checkpoints, PublicKey());
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->problem;
  // The verification status names the last signed tree.
  auto status = services_->audit.VerificationStatus(MakeOfficer("officer"));
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["signed_tree"]["size"], head);
  EXPECT_EQ((*status)["signed_tree"]["root"], checkpoints.back().root);
  EXPECT_EQ((*status)["signed_tree"]["time"], checkpoints.back().time);
}

TEST_F(AuditTreeTest, OfficersGetProofsThatThePublicKeyAloneChecks) {
  ASSERT_TRUE(services_->audit.Start());
  const Actor officer = MakeOfficer("officer");
  Append(280);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const std::int64_t first = Checkpoints().back().seq;
  Append(400);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const std::int64_t second = Checkpoints().back().seq;
  const std::string key = PublicKey();

  for (std::int64_t seq : {std::int64_t{1}, std::int64_t{2}, std::int64_t{255}, std::int64_t{256}, std::int64_t{257},
                           first, second}) {
    auto document = services_->audit.InclusionProof(officer, seq, std::nullopt);
    ASSERT_TRUE(document) << seq << ": " << document.error().public_message;
    EXPECT_EQ((*document)["tree_size"], second);
    EXPECT_EQ((*document)["record_hash"], Records()[seq - 1].hash);
    EXPECT_EQ((*document)["verified"], true);
    EXPECT_EQ((*document)["checkpoint"]["root"], RootFromRecords(second));
    auto problem = CheckProofDocument(*document, key);
    ASSERT_TRUE(problem);
    EXPECT_EQ(*problem, "") << seq;
  }
  // Against the earlier signed tree, and a consistency proof between the two.
  auto earlier = services_->audit.InclusionProof(officer, 3, first);
  ASSERT_TRUE(earlier);
  EXPECT_EQ((*earlier)["tree_size"], first);
  EXPECT_EQ(CheckProofDocument(*earlier, key).value(), "");
  auto consistency = services_->audit.ConsistencyProof(officer, first, std::nullopt);
  ASSERT_TRUE(consistency);
  EXPECT_EQ((*consistency)["from"], first);
  EXPECT_EQ((*consistency)["to"], second);
  EXPECT_EQ((*consistency)["verified"], true);
  EXPECT_EQ(CheckProofDocument(*consistency, key).value(), "");

  // Anything changed in a document is caught by the check.
  auto document = services_->audit.InclusionProof(officer, 100, std::nullopt).value();
  auto changed = document;
  changed["record_hash"] = Records()[100].hash;  // another record's hash
  EXPECT_NE(CheckProofDocument(changed, key).value(), "");
  changed = document;
  changed["seq"] = 101;
  EXPECT_NE(CheckProofDocument(changed, key).value(), "");
  changed = document;
  std::string hash = changed["proof"][0].get<std::string>();
  hash[0] = hash[0] == '0' ? '1' : '0';
  changed["proof"][0] = hash;
  EXPECT_NE(CheckProofDocument(changed, key).value(), "");
  changed = document;
  changed["proof"].erase(changed["proof"].size() - 1);
  EXPECT_NE(CheckProofDocument(changed, key).value(), "");
  const auto other = governance::audit::SigningKey::Generate();
  EXPECT_NE(CheckProofDocument(document, other.public_key_hex).value(), "");
  changed = *consistency;
  changed["from_checkpoint"] = (*consistency)["to_checkpoint"];
  changed["to_checkpoint"] = (*consistency)["from_checkpoint"];
  EXPECT_NE(CheckProofDocument(changed, key).value(), "");
  EXPECT_FALSE(CheckProofDocument(json{{"kind", "inclusion"}}, key));
  EXPECT_FALSE(CheckProofDocument(json::array(), key));

  // Sizes no checkpoint signed, records past the tree, and backwards proofs are refused clearly.
  auto unsigned_size = services_->audit.InclusionProof(officer, 3, first + 1);
  ASSERT_FALSE(unsigned_size);
  EXPECT_EQ(unsigned_size.error().problem, "unsigned_tree_size");
  EXPECT_EQ(unsigned_size.error().field, "tree_size");
  auto past = services_->audit.InclusionProof(officer, second + 1, std::nullopt);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().problem, "record_not_in_tree");
  auto backwards = services_->audit.ConsistencyProof(officer, second, first);
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().code, ErrorCode::kInvalidArgument);

  // Someone who is not a compliance officer gets nothing, and the refusal is on the trail; every
  // proof given is too.
  const Actor nurse = MakeUser("nurse", false);
  auto refused = services_->audit.InclusionProof(nurse, 3, std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "compliance_required");
  int given = 0, denied = 0;
  for (const auto& r : Records()) {
    if (r.action != "audit.proof") continue;
    if (r.outcome == domain::AuditOutcome::kDenied) {
      ++denied;
      EXPECT_EQ(r.actor_id, nurse.user.id);
    } else {
      ++given;
      EXPECT_EQ(r.actor_id, officer.user.id);
    }
  }
  EXPECT_EQ(given, 10);
  EXPECT_EQ(denied, 1);
}

TEST_F(AuditTreeTest, TheTreeGoesOnAcrossRestartsFromWhatTheStoreKeeps) {
  ASSERT_TRUE(services_->audit.Start());
  Append(600);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  Restart();
  ASSERT_TRUE(services_->audit.Start());
  Append(300);
  ASSERT_TRUE(services_->audit.CheckpointNow());

  // Grown past the last checkpoint without signing (a crash between the two), then restarted:
  // the subtrees kept already are not kept twice.
  Append(400);
  auto head = store_->Write([](store::WriteTx& tx) { return tx.AuditHead(); });
  ASSERT_TRUE(head);
  AuditTreeKeeper keeper(*store_);
  ASSERT_TRUE(keeper.GrowTo(head->seq, head->hash));
  Restart();
  EXPECT_EQ(Checkpoints().back().seq, head->seq) << "the server signed its head as it stopped";
  ASSERT_TRUE(services_->audit.Start());
  Append(10);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const Checkpoint last = Checkpoints().back();
  EXPECT_EQ(last.root, RootFromRecords(last.seq));
  auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), AuditFiles::For(config_).checkpoints, PublicKey());
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->problem;
  auto status = services_->audit.VerificationStatus(MakeOfficer("officer"));
  ASSERT_TRUE(status);
  EXPECT_NE((*status)["anchored"], false);
}

TEST_F(AuditTreeTest, ATrailSignedBeforeTheTreeIsSignedAgainWithItsRoot) {
  // Records and a version 1 checkpoint of their head, as a server before the tree left them.
  Append(300);
  const AuditFiles files = AuditFiles::For(config_);
  auto key = LoadOrCreateSigningKey(files);
  ASSERT_TRUE(key);
  auto head = store_->Write([](store::WriteTx& tx) { return tx.AuditHead(); });
  ASSERT_TRUE(head);
  ASSERT_TRUE(AppendCheckpoint(files.checkpoints, governance::audit::SignCheckpoint(0, std::string(64, '0'), 1, *key)));
  ASSERT_TRUE(AppendCheckpoint(files.checkpoints, governance::audit::SignCheckpoint(head->seq, head->hash, 2, *key)));
  ASSERT_TRUE(Checkpoints().back().root.empty());
  const Actor officer = MakeOfficer("officer");
  auto none = services_->audit.InclusionProof(officer, 1, std::nullopt);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().problem, "no_signed_tree");

  ASSERT_TRUE(services_->audit.Start());
  const auto checkpoints = Checkpoints();
  // The head is signed at once with its root (making the officer added records after the old one).
  const Checkpoint& last = checkpoints.back();
  EXPECT_FALSE(last.root.empty());
  EXPECT_GE(last.seq, head->seq);
  EXPECT_EQ(last.root, RootFromRecords(last.seq));
  auto document = services_->audit.InclusionProof(officer, 1, std::nullopt);
  ASSERT_TRUE(document);
  EXPECT_EQ(CheckProofDocument(*document, key->public_key_hex).value(), "");
  auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), files.checkpoints, key->public_key_hex);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->problem;
}

TEST_F(AuditTreeTest, AKeptSubtreeAlteredInTheDatabaseIsCaught) {
  ASSERT_TRUE(services_->audit.Start());
  const Actor officer = MakeOfficer("officer");
  Append(700);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const std::size_t lines = Checkpoints().size();
  services_->audit.Stop();

  // Whoever has the file drops the trigger and changes a kept subtree.
  RawSql("DROP TRIGGER audit_tree_no_update; "
         "UPDATE audit_tree SET hash = zeroblob(32) WHERE (level = 8 AND idx = 1) OR (level = 9 AND idx = 0)");
  // A proof through it no longer reaches the signed root, and says so.
  auto document = services_->audit.InclusionProof(officer, 100, std::nullopt);
  ASSERT_TRUE(document);
  EXPECT_EQ((*document)["verified"], false);
  EXPECT_NE(CheckProofDocument(*document, PublicKey()).value(), "");
  // Verification compares the kept tree with the records, and names the first subtree that differs.
  auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), AuditFiles::For(config_).checkpoints, PublicKey());
  ASSERT_TRUE(verified);
  EXPECT_FALSE(verified->ok);
  EXPECT_EQ(verified->first_bad_seq, 257);
  EXPECT_NE(verified->problem.find("records 257 to 512"), std::string::npos) << verified->problem;

  // The server started on it signs nothing: the tree it would go on from does not make the root
  // it signed last.
  Restart();
  ASSERT_TRUE(services_->audit.Start());
  Append(5);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  EXPECT_EQ(Checkpoints().size(), lines);
  auto status = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["ok"], false);
  EXPECT_NE((*status)["problem"].get<std::string>().find("Merkle tree"), std::string::npos) << (*status)["problem"];
}

// The signing key changed (the server stopped): the old key hands over to a new one, which signs
// from then on; the first key's public half alone still checks every checkpoint, the server's own
// verification and every proof, before the change and after, across two changes.
TEST_F(AuditTreeTest, ASigningKeyChangeLeavesEveryCheckpointCheckedByTheFirstKey) {
  ASSERT_TRUE(services_->audit.Start());
  const Actor officer = MakeOfficer("officer");
  Append(300);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const std::int64_t before = Checkpoints().back().seq;  // a tree only the first key signs
  Append(20);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const AuditFiles files = AuditFiles::For(config_);
  const std::string first_key = PublicKey();

  // Not under a running server: it signs with the key.
  auto refused = ChangeSigningKey(files, clock_.NowMillis());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "audit_in_use");
  EXPECT_FALSE(std::filesystem::exists(files.next_signing_key));

  std::vector<std::string> keys = {first_key};
  for (int change = 1; change <= 2; ++change) {
    Restart();
    clock_.Advance(1'000);
    auto changed = ChangeSigningKey(files, clock_.NowMillis());
    ASSERT_TRUE(changed) << changed.error().public_message;
    EXPECT_EQ(changed->previous_public_key, keys.back());
    EXPECT_NE(changed->public_key, keys.back());
    keys.push_back(changed->public_key);
    EXPECT_EQ(LoadOrCreateSigningKey(files).value().public_key_hex, changed->public_key) << "the old secret is gone";
    EXPECT_EQ(PublicKey(), first_key) << "the public key file keeps the first key";
    EXPECT_FALSE(std::filesystem::exists(files.next_signing_key));
    // The hand-over, signed by the old key, then the same head signed by the new one.
    const auto lines = Checkpoints();
    ASSERT_GE(lines.size(), 2u);
    const Checkpoint& handover = lines[lines.size() - 2];
    EXPECT_EQ(handover.next_key, changed->public_key);
    EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(handover, changed->previous_public_key));
    EXPECT_EQ(lines.back().seq, handover.seq);
    EXPECT_EQ(changed->seq, handover.seq);
    EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(lines.back(), changed->public_key));

    ASSERT_TRUE(services_->audit.Start());
    Append(200);
    ASSERT_TRUE(services_->audit.CheckpointNow());
    const Checkpoint last = Checkpoints().back();
    EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(last, changed->public_key));
    EXPECT_FALSE(governance::audit::VerifyCheckpointSignature(last, changed->previous_public_key));

    auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), files.checkpoints, first_key);
    ASSERT_TRUE(verified);
    EXPECT_TRUE(verified->ok) << verified->problem;
    EXPECT_EQ(verified->key_changes, change);
    EXPECT_EQ(verified->last_key_hex, changed->public_key);
    // The newest key alone does not check what the first signed.
    auto newest_only = VerifyAuditFiles((dir_ / "rounds.db").string(), files.checkpoints, changed->public_key);
    ASSERT_TRUE(newest_only);
    EXPECT_FALSE(newest_only->ok);
  }
  // The public key file lost after a change is not made again from the key in use, which does
  // not check what the first key signed: the server does not start until it is restored.
  Restart();
  std::filesystem::rename(files.public_key, files.public_key + ".aside");
  auto refused_start = services_->audit.Start();
  ASSERT_FALSE(refused_start);
  EXPECT_EQ(refused_start.error().problem, "audit_key_missing");
  EXPECT_FALSE(std::filesystem::exists(files.public_key));
  std::filesystem::rename(files.public_key + ".aside", files.public_key);
  Restart();
  ASSERT_TRUE(services_->audit.Start());
  // The server's own verification follows the changes too.
  ASSERT_TRUE(services_->audit.StartVerification(officer));
  services_->audit.AwaitVerification();
  auto status = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["ok"], true) << (*status)["problem"];
  EXPECT_EQ((*status)["key_changes"], 2);

  // Proofs: against a tree the first key signed, the newest key signed, and from one to the other,
  // each checked with the first key alone, carrying the hand-overs before its checkpoint.
  auto old_tree = services_->audit.InclusionProof(officer, 5, before);
  ASSERT_TRUE(old_tree);
  EXPECT_EQ((*old_tree)["key_changes"].size(), 0u);
  EXPECT_EQ(CheckProofDocument(*old_tree, first_key).value(), "");
  auto newest = services_->audit.InclusionProof(officer, 5, std::nullopt);
  ASSERT_TRUE(newest);
  EXPECT_EQ((*newest)["key_changes"].size(), 2u);
  EXPECT_EQ(CheckProofDocument(*newest, first_key).value(), "");
  auto consistency = services_->audit.ConsistencyProof(officer, before, std::nullopt);
  ASSERT_TRUE(consistency);
  EXPECT_EQ(CheckProofDocument(*consistency, first_key).value(), "");
  // Without its hand-overs, with one left out or forged, the newest tree's checkpoint is refused.
  auto changed = *newest;
  changed.erase("key_changes");
  EXPECT_NE(CheckProofDocument(changed, first_key).value(), "");
  changed = *newest;
  changed["key_changes"].erase(0);
  EXPECT_NE(CheckProofDocument(changed, first_key).value(), "");
  const auto stranger = governance::audit::SigningKey::Generate();
  const auto handed = Checkpoint::FromLine((*newest)["key_changes"][0].get<std::string>()).value();
  changed = *newest;
  changed["key_changes"][0] = governance::audit::SignKeyChange(handed, handed.time, stranger, keys[1]).ToLine();
  EXPECT_NE(CheckProofDocument(changed, first_key).value(), "");
  // Hand-overs that are not a list of key-change lines make it no proof document.
  for (const json& bad : {json("x"), json::array({1}), json::array({(*newest)["checkpoint"]["line"]})}) {
    changed = *newest;
    changed["key_changes"] = bad;
    auto refused_document = CheckProofDocument(changed, first_key);
    ASSERT_FALSE(refused_document) << bad;
    EXPECT_EQ(refused_document.error().problem, "bad_proof_document");
  }
  // A retired key cannot sign a tree after its hand-over: its checkpoint is not accepted.
  changed = *newest;
  changed["key_changes"].erase(1);
  EXPECT_NE(CheckProofDocument(changed, first_key).value(), "");
}

// An officer changes the signing key while the server runs: confirmed with the password, the
// head signed then is handed over, the new key signs on, the change is on record, and the first
// key's public half still checks everything, in the server's verification, the command line's and
// proofs, and after a restart. Anyone else, or a wrong password, changes nothing.
TEST_F(AuditTreeTest, AnOfficerChangesTheSigningKeyWhileTheServerRuns) {
  ASSERT_TRUE(services_->audit.Start());
  const Actor officer = MakeOfficer("officer");
  const Actor staff = MakeUser("alice");
  Append(100);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const AuditFiles files = AuditFiles::For(config_);
  const std::string first_key = PublicKey();
  const std::size_t lines_before = Checkpoints().size();
  const auto unchanged = [&] {
    EXPECT_EQ(LoadOrCreateSigningKey(files).value().public_key_hex, first_key);
    EXPECT_FALSE(std::filesystem::exists(files.next_signing_key));
    EXPECT_EQ(Checkpoints().size(), lines_before);
  };

  auto not_officer = services_->audit.ChangeKey(staff, services_->auth, Confirmation{testing::kPassword, ""}, "");
  ASSERT_FALSE(not_officer);
  EXPECT_EQ(not_officer.error().problem, "compliance_required");
  auto no_password = services_->audit.ChangeKey(officer, services_->auth, Confirmation{}, "");
  ASSERT_FALSE(no_password);
  EXPECT_EQ(no_password.error().field, "/password");
  auto wrong = services_->audit.ChangeKey(officer, services_->auth, Confirmation{"not my password", ""}, "");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().problem, "invalid_credentials");
  auto long_reason = services_->audit.ChangeKey(officer, services_->auth, Confirmation{testing::kPassword, ""},
                                                std::string(501, 'x'));
  ASSERT_FALSE(long_reason);
  EXPECT_EQ(long_reason.error().field, "/reason");
  unchanged();
  std::vector<std::string> refused;
  for (const auto& r : Records()) {
    if (r.action == "audit.key_change") refused.push_back(r.reason);
  }
  EXPECT_EQ(refused, (std::vector<std::string>{"compliance_required", "wrong_password"}));

  // Records not yet signed: the change signs the head first, and hands over there.
  Append(7);
  const std::int64_t head = Records().back().seq;
  clock_.Advance(1'000);
  auto changed = services_->audit.ChangeKey(officer, services_->auth, Confirmation{testing::kPassword, ""},
                                            "yearly key change");
  ASSERT_TRUE(changed) << changed.error().public_message;
  EXPECT_EQ(changed->previous_public_key, first_key);
  EXPECT_EQ(changed->seq, head);
  EXPECT_EQ(LoadOrCreateSigningKey(files).value().public_key_hex, changed->public_key) << "the old secret is gone";
  EXPECT_EQ(PublicKey(), first_key) << "the public key file keeps the first key";
  EXPECT_FALSE(std::filesystem::exists(files.next_signing_key));
  auto lines = Checkpoints();
  ASSERT_EQ(lines.size(), lines_before + 3) << "the head, the hand-over, the head again";
  EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(lines[lines_before], first_key));
  EXPECT_EQ(lines[lines_before].seq, head);
  EXPECT_EQ(lines[lines_before + 1].next_key, changed->public_key);
  EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(lines[lines_before + 1], first_key));
  EXPECT_EQ(lines[lines_before + 2].seq, head);
  EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(lines[lines_before + 2], changed->public_key));

  // The record of the change, by the officer with the reason, signed by the new key.
  const auto records = Records();
  const auto record = std::find_if(records.begin(), records.end(),
                                   [](const domain::AuditRecord& r) { return r.action == "audit.key_changed"; });
  ASSERT_NE(record, records.end());
  EXPECT_EQ(record->actor_id, officer.user.id);
  EXPECT_EQ(record->reason, "yearly key change");
  EXPECT_EQ(record->seq, head + 1);
  const auto details = json::parse(record->details_json);
  EXPECT_EQ(details["previous_public_key"], first_key);
  EXPECT_EQ(details["public_key"], changed->public_key);
  EXPECT_EQ(details["seq"], head);
  Append(30);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(Checkpoints().back(), changed->public_key));
  EXPECT_FALSE(governance::audit::VerifyCheckpointSignature(Checkpoints().back(), first_key));

  ASSERT_TRUE(services_->audit.StartVerification(officer));
  services_->audit.AwaitVerification();
  auto status = services_->audit.VerificationStatus(officer);
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["ok"], true) << (*status)["problem"];
  EXPECT_EQ((*status)["key_changes"], 1);
  auto proof = services_->audit.InclusionProof(officer, record->seq, std::nullopt);
  ASSERT_TRUE(proof);
  EXPECT_EQ((*proof)["key_changes"].size(), 1u);
  EXPECT_EQ(CheckProofDocument(*proof, first_key).value(), "");

  // A restart signs on with the new key; the command line's verification follows the change.
  Restart();
  ASSERT_TRUE(services_->audit.Start());
  Append(5);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(Checkpoints().back(), changed->public_key));
  auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), files.checkpoints, first_key);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->problem;
  EXPECT_EQ(verified->key_changes, 1);
  EXPECT_EQ(verified->last_key_hex, changed->public_key);
}

// The keys an officer reads: the first, the one in use and since when, each change between them,
// and the next scheduled change; only officers may read them (a refusal is on record). Once the
// key in use has signed audit_key_days, the server hands over to a new key by itself, on record as
// the system's, and the first key's public half still checks the whole trail.
TEST_F(AuditTreeTest, OfficersReadTheSigningKeysAndTheServerChangesTheKeyOnSchedule) {
  config_.audit_key_days = 30;
  const UnixMillis started = clock_.NowMillis();
  ASSERT_TRUE(services_->audit.Start());
  const Actor officer = MakeOfficer("officer");
  const Actor staff = MakeUser("alice");
  const AuditFiles files = AuditFiles::For(config_);
  const std::string first_key = PublicKey();
  constexpr UnixMillis kDay = 86'400'000;

  auto refused = services_->audit.SigningKeys(staff);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().problem, "compliance_required");
  EXPECT_EQ(Records().back().action, "audit.signing_key");
  EXPECT_EQ(Records().back().outcome, domain::AuditOutcome::kDenied);

  auto keys = services_->audit.SigningKeys(officer);
  ASSERT_TRUE(keys) << keys.error().public_message;
  EXPECT_EQ((*keys)["anchor_public_key"], first_key);
  EXPECT_EQ((*keys)["public_key"], first_key);
  EXPECT_EQ((*keys)["since"], started) << "the first key signs from the file's first line";
  EXPECT_EQ((*keys)["since_seq"], 0);
  EXPECT_EQ((*keys)["changes"], json::array());
  EXPECT_EQ((*keys)["change_days"], 30);
  EXPECT_EQ((*keys)["next_change_at"], started + 30 * kDay);
  EXPECT_TRUE((*keys)["problem"].is_null());

  // An officer's change restarts the period.
  Append(10);
  clock_.Advance(10 * kDay);
  auto changed = services_->audit.ChangeKey(officer, services_->auth, Confirmation{testing::kPassword, ""}, "");
  ASSERT_TRUE(changed) << changed.error().public_message;
  const UnixMillis changed_at = clock_.NowMillis();
  keys = services_->audit.SigningKeys(officer);
  ASSERT_TRUE(keys);
  EXPECT_EQ((*keys)["anchor_public_key"], first_key);
  EXPECT_EQ((*keys)["public_key"], changed->public_key);
  EXPECT_EQ((*keys)["since"], changed_at);
  EXPECT_EQ((*keys)["since_seq"], changed->seq);
  ASSERT_EQ((*keys)["changes"].size(), 1u);
  EXPECT_EQ((*keys)["changes"][0]["previous_public_key"], first_key);
  EXPECT_EQ((*keys)["changes"][0]["public_key"], changed->public_key);
  EXPECT_EQ((*keys)["changes"][0]["seq"], changed->seq);
  EXPECT_EQ((*keys)["next_change_at"], changed_at + 30 * kDay);

  // Not due a day before the period ends (the thread polls every 250 ms).
  Append(5);
  clock_.Advance(29 * kDay);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(LoadOrCreateSigningKey(files).value().public_key_hex, changed->public_key);
  // Due once it ends: the server changes the key by itself.
  clock_.Advance(kDay);
  std::string scheduled_key;
  for (int i = 0; i < 100; ++i) {
    scheduled_key = LoadOrCreateSigningKey(files).value().public_key_hex;
    if (scheduled_key != changed->public_key) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(scheduled_key, changed->public_key) << "no scheduled change";
  json after;
  for (int i = 0; i < 100; ++i) {  // its record follows the hand-over
    after = services_->audit.SigningKeys(officer).value();
    const auto records = Records();
    if (std::any_of(records.begin(), records.end(), [](const domain::AuditRecord& r) {
          return r.action == "audit.key_changed" && r.actor_id == 0;
        })) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(after["public_key"], scheduled_key);
  ASSERT_EQ(after["changes"].size(), 2u);
  EXPECT_EQ(after["changes"][1]["previous_public_key"], changed->public_key);
  EXPECT_EQ(after["changes"][1]["public_key"], scheduled_key);
  EXPECT_EQ(after["next_change_at"], after["since"].get<UnixMillis>() + 30 * kDay);
  const auto records = Records();
  const auto record = std::find_if(records.begin(), records.end(), [](const domain::AuditRecord& r) {
    return r.action == "audit.key_changed" && r.actor_id == 0;
  });
  ASSERT_NE(record, records.end());
  EXPECT_EQ(record->reason, "scheduled: the key had signed for 30 days");
  EXPECT_EQ(json::parse(record->details_json)["public_key"], scheduled_key);
  // Only once per period.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(LoadOrCreateSigningKey(files).value().public_key_hex, scheduled_key);

  Append(5);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), files.checkpoints, first_key);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->problem;
  EXPECT_EQ(verified->key_changes, 2);

  // A restart reads the same history from the checkpoint file.
  Restart();
  ASSERT_TRUE(services_->audit.Start());
  auto reread = services_->audit.SigningKeys(officer);
  ASSERT_TRUE(reread);
  EXPECT_EQ((*reread)["changes"], after["changes"]);
  EXPECT_EQ((*reread)["since"], after["since"]);
  EXPECT_EQ((*reread)["since_seq"], after["since_seq"]);
  EXPECT_EQ((*reread)["public_key"], scheduled_key);
}

// A key change line not signed by the key before it (written by hand) ends the list there, and says
// so; the server, whose key no longer continues the file, schedules nothing.
TEST_F(AuditTreeTest, AKeyChangeNotSignedByTheKeyBeforeItEndsTheListOfKeys) {
  config_.audit_key_days = 30;
  ASSERT_TRUE(services_->audit.Start());
  const Actor officer = MakeOfficer("officer");
  Append(10);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  services_->audit.Stop();
  const AuditFiles files = AuditFiles::For(config_);
  const Checkpoint last = Checkpoints().back();
  const auto stranger = governance::audit::SigningKey::Generate();
  const auto other = governance::audit::SigningKey::Generate();
  std::ofstream(files.checkpoints, std::ios::app)
      << governance::audit::SignKeyChange(last, clock_.NowMillis(), stranger, other.public_key_hex).ToLine() << "\n";
  Restart();
  ASSERT_TRUE(services_->audit.Start());
  auto keys = services_->audit.SigningKeys(officer);
  ASSERT_TRUE(keys);
  EXPECT_EQ((*keys)["changes"], json::array());
  EXPECT_EQ((*keys)["problem"], "The key change at record " + std::to_string(last.seq) +
                                    " is not signed by the key before it.");
  EXPECT_EQ((*keys)["anchor_public_key"], PublicKey());
  EXPECT_TRUE((*keys)["next_change_at"].is_null()) << "nothing is signed, nor changed";
  EXPECT_FALSE(services_->audit.VerificationStatus(officer).value()["anchored"].get<bool>());
}

// A change that cannot be made leaves the key in use signing, and one refused while the trail
// does not continue its last checkpoint (nothing is signed then) changes nothing.
TEST_F(AuditTreeTest, AKeyChangeThatFailsWhileTheServerRunsLeavesTheKeyInUse) {
  ASSERT_TRUE(services_->audit.Start());
  Append(20);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const AuditFiles files = AuditFiles::For(config_);
  const std::string first_key = PublicKey();
  // The new key cannot be written where it goes (something else is there).
  std::filesystem::create_directories(files.next_signing_key);
  auto failed = services_->audit.ChangeKey(Actor::System(), services_->auth, Confirmation{}, "");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kInternal);
  EXPECT_FALSE(std::filesystem::exists(files.next_signing_key)) << "the change is undone";
  EXPECT_EQ(LoadOrCreateSigningKey(files).value().public_key_hex, first_key);
  for (const auto& c : Checkpoints()) EXPECT_FALSE(c.ChangesKey());
  Append(5);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(Checkpoints().back(), first_key));
  auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), files.checkpoints, first_key);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok) << verified->problem;

  // The checkpoint file written by something else: the server signs nothing, nor hands over.
  std::ofstream(files.checkpoints, std::ios::app) << "not a checkpoint\n";
  auto unanchored = services_->audit.ChangeKey(Actor::System(), services_->auth, Confirmation{}, "");
  ASSERT_FALSE(unanchored);
  EXPECT_EQ(unanchored.error().problem, "audit_not_anchored");
  EXPECT_EQ(LoadOrCreateSigningKey(files).value().public_key_hex, first_key);
  EXPECT_FALSE(std::filesystem::exists(files.next_signing_key));

  // Once stopped, the service has let the folder go: a change is the command line's.
  services_->audit.Stop();
  auto stopped = services_->audit.ChangeKey(Actor::System(), services_->auth, Confirmation{}, "");
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().problem, "audit_not_started");
}

// The lock a server holds lives in the data folder, not beside a key file kept elsewhere (a
// secret mounted read-only): nothing but the key and its public half is written there.
TEST_F(AuditTreeTest, TheAuditLockLivesInTheDataFolderWhereverTheKeyIs) {
  const auto keys = dir_ / "mounted-secret";
  config_.audit_signing_key_file = (keys / "signing.key").string();
  Restart();
  ASSERT_TRUE(services_->audit.Start());
  const AuditFiles files = AuditFiles::For(config_);
  EXPECT_EQ(files.key_lock, (dir_ / "audit" / "signing.lock").string());
  EXPECT_TRUE(std::filesystem::exists(files.key_lock));
  std::vector<std::string> written;
  for (const auto& entry : std::filesystem::directory_iterator(keys)) written.push_back(entry.path().filename());
  std::sort(written.begin(), written.end());
  EXPECT_EQ(written, (std::vector<std::string>{"signing.key", "signing.pub"}));
  auto busy = ChangeSigningKey(files, clock_.NowMillis());
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().problem, "audit_in_use");
}

// A key change that stopped half-way is settled at the next start: undone if the hand-over never
// reached the checkpoint file, finished if it did, whichever step it stopped after.
TEST_F(AuditTreeTest, AKeyChangeStoppedHalfWayIsSettledAtTheNextStart) {
  ASSERT_TRUE(services_->audit.Start());
  Append(50);
  ASSERT_TRUE(services_->audit.CheckpointNow());
  const AuditFiles files = AuditFiles::For(config_);
  const std::string first_key = PublicKey();
  enum Step { kKeyWritten, kHandedOver, kSignedByNext };
  for (Step step : {kKeyWritten, kHandedOver, kSignedByNext}) {
    Restart();
    const auto current = LoadOrCreateSigningKey(files).value();
    const Checkpoint last = Checkpoints().back();
    const auto next = governance::audit::SigningKey::Generate();
    ASSERT_TRUE(WriteNewFile(files.next_signing_key, next.secret_key_hex + "\n", 0600, "audit_key", "the next key"));
    if (step >= kHandedOver) {
      ASSERT_TRUE(AppendCheckpoint(files.checkpoints,
                                   governance::audit::SignKeyChange(last, clock_.NowMillis(), current, next.public_key_hex)));
    }
    if (step >= kSignedByNext) {
      ASSERT_TRUE(AppendCheckpoint(files.checkpoints, governance::audit::SignCheckpoint(
                                                          last.seq, last.head_hash, clock_.NowMillis(), next, last.root)));
    }
    ASSERT_TRUE(services_->audit.Start());
    EXPECT_FALSE(std::filesystem::exists(files.next_signing_key)) << step;
    const std::string expected = step == kKeyWritten ? current.public_key_hex : next.public_key_hex;
    EXPECT_EQ(LoadOrCreateSigningKey(files).value().public_key_hex, expected) << step;
    EXPECT_TRUE(governance::audit::VerifyCheckpointSignature(Checkpoints().back(), expected)) << step;
    Append(10);
    ASSERT_TRUE(services_->audit.CheckpointNow());
    auto status = services_->audit.VerificationStatus(MakeOfficer("officer" + std::to_string(step)));
    ASSERT_TRUE(status);
    EXPECT_NE((*status)["anchored"], false) << step << ": " << (*status)["problem"];
    auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), files.checkpoints, first_key);
    ASSERT_TRUE(verified);
    EXPECT_TRUE(verified->ok) << step << ": " << verified->problem;
  }
}

}  // namespace
}  // namespace rounds::app
