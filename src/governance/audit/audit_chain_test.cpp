#include "governance/audit/audit_chain.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/crypto.hpp"

namespace rounds::governance::audit {
namespace {

std::vector<AuditRecord> MakeChain(int count) {
  std::vector<AuditRecord> records;
  for (int i = 0; i < count; ++i) {
    AuditRecord r;
    r.time = 1'700'000'000'000 + i;
    r.actor_id = 10 + i % 7;
    r.actor_role = i % 3 == 0 ? "admin" : "staff";
    r.action = i % 2 == 0 ? "message.read" : "auth.login";
    r.object_type = "space";
    r.object_id = std::to_string(i % 5);
    r.address = "127.0.0.1";
    r.details_json = "{\"count\":" + std::to_string(i) + "}";
    Chain(r, records.empty() ? nullptr : &records.back());
    records.push_back(r);
  }
  return records;
}

// The Merkle root of the first `n` records, in hex.
std::string RootOf(const std::vector<AuditRecord>& records, std::size_t n) {
  MerkleFrontier tree;
  for (std::size_t i = 0; i < n; ++i) tree.Append(*AuditLeafHash(records[i].hash));
  return MerkleHex(tree.Root());
}

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::InitCrypto()); }
  SigningKey key_ = SigningKey::Generate();
};

TEST_F(AuditChainTest, IntactChainWithCheckpointsVerifies) {
  auto records = MakeChain(50);
  std::vector<Checkpoint> checkpoints = {SignCheckpoint(20, records[19].hash, 1, key_),
                                         SignCheckpoint(50, records[49].hash, 2, key_)};
  VerifyReport report = VerifyChain(records, checkpoints, key_.public_key_hex);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.records_checked, 50);
  EXPECT_EQ(report.checkpoints_checked, 2);
}

TEST_F(AuditChainTest, CanonicalEncodingSortsKeysAndEscapesControlCharacters) {
  AuditRecord r;
  r.action = "auth.login";
  r.reason = "line\nbreak \"quoted\"";
  std::string encoded = CanonicalEncoding(r);
  EXPECT_LT(encoded.find("\"action\""), encoded.find("\"actor_id\""));
  EXPECT_LT(encoded.find("\"session_hash\""), encoded.find("\"time\""));
  EXPECT_NE(encoded.find("line\\nbreak \\\"quoted\\\""), std::string::npos);
  EXPECT_EQ(encoded.find('\n'), std::string::npos);
}

// Hashes already in databases were computed over exactly these bytes: the encoding must never
// change, however it is built.
TEST_F(AuditChainTest, CanonicalEncodingAndHashAreByteStable) {
  AuditRecord r;
  r.seq = 3;
  r.time = 1700000000000;
  r.actor_id = 7;
  r.actor_role = "staff";
  r.action = "auth.login";
  r.object_type = "space";
  r.object_id = "12";
  r.address = "192.0.2.1";
  r.session_hash = "s";
  r.reason = "tab\there\x01" "ctl \\ \xc3\xa9";
  r.details_json = "{\"n\":1}";
  r.prev_hash = std::string(32, 'a');
  for (std::size_t i = 0; i < r.prev_hash.size(); ++i) r.prev_hash[i] = "ab"[i % 2];
  r.prev_hash += r.prev_hash;
  EXPECT_EQ(CanonicalEncoding(r),
            "{\"action\":\"auth.login\",\"actor_id\":7,\"actor_role\":\"staff\",\"address\":\"192.0.2.1\","
            "\"details\":\"{\\\"n\\\":1}\",\"object_id\":\"12\",\"object_type\":\"space\",\"outcome\":\"success\","
            "\"patient_ref\":\"\",\"prev_hash\":\"" + r.prev_hash + "\",\"reason\":\"tab\\there\\u0001ctl \\\\ \xc3\xa9\","
            "\"seq\":3,\"session_hash\":\"s\",\"time\":1700000000000}");
  EXPECT_EQ(ComputeHash(r), "1cce616b8ae4aa35d312aaa1e501ceeae0aba9b97b4e10facb7668f1c03036dc");
}

TEST_F(AuditChainTest, NamesTheFirstAlteredRecord) {
  auto records = MakeChain(30);
  records[11].object_id = "999";
  VerifyReport report = VerifyChain(records, {}, key_.public_key_hex);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 12);
}

TEST_F(AuditChainTest, RewrittenChainIsCaughtByItsCheckpoint) {
  auto records = MakeChain(30);
  std::vector<Checkpoint> checkpoints = {SignCheckpoint(3, records[2].hash, 1, key_),
                                         SignCheckpoint(30, records[29].hash, 2, key_)};
  // Whoever controls the database rewrites a record and recomputes every hash after it.
  records[4].actor_id = 1;
  for (std::size_t i = 4; i < records.size(); ++i) {
    Chain(records[i], &records[i - 1]);
  }
  VerifyReport report = VerifyChain(records, checkpoints, key_.public_key_hex);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 30);
  // The edit (seq 5) cannot be named, only bounded by the checkpoints around it.
  EXPECT_NE(report.problem.find("after seq 3 (the last checkpoint that matches) and at or before seq 30"),
            std::string::npos)
      << report.problem;
  report = VerifyChain(records, std::span(checkpoints).subspan(1), key_.public_key_hex);
  EXPECT_NE(report.problem.find("after seq 0 (no earlier checkpoint matches)"), std::string::npos) << report.problem;
}

TEST_F(AuditChainTest, TailTruncationIsCaughtByItsCheckpoint) {
  auto records = MakeChain(30);
  std::vector<Checkpoint> checkpoints = {SignCheckpoint(30, records[29].hash, 1, key_)};
  records.resize(25);
  VerifyReport report = VerifyChain(records, checkpoints, key_.public_key_hex);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 26);
}

TEST_F(AuditChainTest, TheChainsFailureComesFirstThenTheCheckpointsInTheirOrder) {
  auto records = MakeChain(30);
  // Checkpoints given out of seq order: two that disagree with the chain and one past its end.
  std::vector<Checkpoint> checkpoints = {SignCheckpoint(20, records[19].hash, 1, key_),
                                         SignCheckpoint(40, "f" + records[29].hash.substr(1), 2, key_),
                                         SignCheckpoint(8, records[8].hash, 3, key_),
                                         SignCheckpoint(3, records[3].hash, 4, key_)};
  VerifyReport report = VerifyChain(records, checkpoints, key_.public_key_hex);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 31) << report.problem;  // the first failing checkpoint given: 40
  EXPECT_EQ(report.checkpoints_checked, 4);

  checkpoints.erase(checkpoints.begin() + 1);
  report = VerifyChain(records, checkpoints, key_.public_key_hex);
  EXPECT_EQ(report.first_bad_seq, 8) << report.problem;

  // A broken chain is named before any checkpoint.
  records[14].reason = "forged";
  report = VerifyChain(records, checkpoints, key_.public_key_hex);
  EXPECT_EQ(report.first_bad_seq, 15) << report.problem;

  // Fed one record at a time, the verifier reports exactly what VerifyChain does.
  ChainVerifier verifier(checkpoints, key_.public_key_hex);
  for (const AuditRecord& r : records) verifier.Add(r);
  VerifyReport streamed = verifier.Finish();
  EXPECT_EQ(streamed.ok, report.ok);
  EXPECT_EQ(streamed.first_bad_seq, report.first_bad_seq);
  EXPECT_EQ(streamed.problem, report.problem);
  EXPECT_EQ(streamed.records_checked, 30);
  EXPECT_EQ(streamed.checkpoints_checked, 3);
}

TEST_F(AuditChainTest, ForgedCheckpointSignatureFails) {
  auto records = MakeChain(5);
  SigningKey other = SigningKey::Generate();
  std::vector<Checkpoint> checkpoints = {SignCheckpoint(5, records[4].hash, 1, other)};
  EXPECT_FALSE(VerifyChain(records, checkpoints, key_.public_key_hex).ok);
}

TEST_F(AuditChainTest, CheckpointsSignTheMerkleRootOfTheRecordsTheyCover) {
  auto records = MakeChain(300);
  std::vector<Checkpoint> checkpoints = {SignCheckpoint(1, records[0].hash, 1, key_, RootOf(records, 1)),
                                         SignCheckpoint(256, records[255].hash, 2, key_, RootOf(records, 256)),
                                         SignCheckpoint(300, records[299].hash, 3, key_, RootOf(records, 300))};
  // The root of one record is its leaf.
  EXPECT_EQ(checkpoints[0].root, MerkleHex(*AuditLeafHash(records[0].hash)));
  VerifyReport report = VerifyChain(records, checkpoints, key_.public_key_hex);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checkpoints_checked, 3);

  // A root that is not the tree of those records, validly signed, is caught and named.
  checkpoints[1] = SignCheckpoint(256, records[255].hash, 2, key_, RootOf(records, 255));
  report = VerifyChain(records, checkpoints, key_.public_key_hex);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 256);
  EXPECT_NE(report.problem.find("Merkle root"), std::string::npos) << report.problem;

  // The signature covers the root: changing it breaks the signature.
  Checkpoint changed = SignCheckpoint(300, records[299].hash, 3, key_, RootOf(records, 300));
  changed.root = RootOf(records, 299);
  EXPECT_FALSE(VerifyCheckpointSignature(changed, key_.public_key_hex));
  report = VerifyChain(records, std::vector<Checkpoint>{changed}, key_.public_key_hex);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("invalid signature"), std::string::npos) << report.problem;
}

TEST_F(AuditChainTest, CheckpointsFromBeforeTheTreeStillVerify) {
  auto records = MakeChain(20);
  // A version 1 line as files written before the tree hold them: four fields, no root.
  const Checkpoint old = SignCheckpoint(10, records[9].hash, 5, key_);
  EXPECT_EQ(old.SignedText().rfind("rounds-audit-checkpoint v1\n", 0), 0u);
  auto parsed = Checkpoint::FromLine(old.ToLine());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->root.empty());
  const Checkpoint current = SignCheckpoint(20, records[19].hash, 6, key_, RootOf(records, 20));
  EXPECT_EQ(current.SignedText().rfind("rounds-audit-checkpoint v2\n", 0), 0u);
  VerifyReport report = VerifyChain(records, std::vector<Checkpoint>{*parsed, current}, key_.public_key_hex);
  EXPECT_TRUE(report.ok) << report.problem;
  // Without its root, a version 2 checkpoint's signature no longer holds.
  Checkpoint stripped = current;
  stripped.root.clear();
  EXPECT_FALSE(VerifyCheckpointSignature(stripped, key_.public_key_hex));
}

TEST_F(AuditChainTest, CheckpointLineRoundTrips) {
  Checkpoint c = SignCheckpoint(7, std::string(64, 'a'), 123, key_);
  auto parsed = Checkpoint::FromLine(c.ToLine());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->seq, 7);
  EXPECT_TRUE(VerifyCheckpointSignature(*parsed, key_.public_key_hex));
  EXPECT_FALSE(Checkpoint::FromLine("7 abc"));

  const std::string root = crypto::Sha256Hex("a root");
  Checkpoint v2 = SignCheckpoint(8, std::string(64, 'b'), 124, key_, root);
  EXPECT_EQ(v2.ToLine(), "8 " + std::string(64, 'b') + " 124 " + v2.signature_hex + " " + root);
  auto parsed_v2 = Checkpoint::FromLine(v2.ToLine());
  ASSERT_TRUE(parsed_v2);
  EXPECT_EQ(parsed_v2->root, root);
  EXPECT_TRUE(VerifyCheckpointSignature(*parsed_v2, key_.public_key_hex));
  EXPECT_FALSE(Checkpoint::FromLine(c.ToLine() + " nothex"));
  EXPECT_FALSE(Checkpoint::FromLine(v2.ToLine() + " " + root));
}

TEST_F(AuditChainTest, AKeyChangeLineRoundTripsAndSignsTheKeyItNames) {
  const SigningKey next = SigningKey::Generate();
  const std::string root = crypto::Sha256Hex("a root");
  const Checkpoint at = SignCheckpoint(8, std::string(64, 'b'), 124, key_, root);
  const Checkpoint change = SignKeyChange(at, 125, key_, next.public_key_hex);
  EXPECT_EQ(change.SignedText().rfind("rounds-audit-checkpoint v3\n", 0), 0u);
  EXPECT_EQ(change.ToLine(), "8 " + std::string(64, 'b') + " 125 " + change.signature_hex + " " + root +
                                 " next-key=" + next.public_key_hex);
  auto parsed = Checkpoint::FromLine(change.ToLine());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->next_key, next.public_key_hex);
  EXPECT_EQ(parsed->root, root);
  EXPECT_TRUE(VerifyCheckpointSignature(*parsed, key_.public_key_hex));
  // The key named is signed: naming another breaks the signature.
  Checkpoint swapped = *parsed;
  swapped.next_key = SigningKey::Generate().public_key_hex;
  EXPECT_FALSE(VerifyCheckpointSignature(swapped, key_.public_key_hex));
  // At seq 0 (no records yet) a key change has no root.
  const Checkpoint empty = SignKeyChange(SignCheckpoint(0, std::string(kGenesisHash), 1, key_), 2, key_,
                                         next.public_key_hex);
  auto parsed_empty = Checkpoint::FromLine(empty.ToLine());
  ASSERT_TRUE(parsed_empty);
  EXPECT_TRUE(parsed_empty->root.empty());
  EXPECT_TRUE(VerifyCheckpointSignature(*parsed_empty, key_.public_key_hex));
  // A key that is not one, a second key change or a root after it: the line is refused.
  const std::string line = at.ToLine();
  EXPECT_FALSE(Checkpoint::FromLine(line + " next-key=abc"));
  EXPECT_FALSE(Checkpoint::FromLine(line + " next-key=" + std::string(64, 'G')));
  EXPECT_FALSE(Checkpoint::FromLine(change.ToLine() + " next-key=" + next.public_key_hex));
  EXPECT_FALSE(Checkpoint::FromLine(change.ToLine() + " " + root));
}

TEST_F(AuditChainTest, AFileWhoseKeyChangedVerifiesFromItsFirstKeyAlone) {
  const auto records = MakeChain(40);
  const SigningKey second = SigningKey::Generate();
  const SigningKey third = SigningKey::Generate();
  const Checkpoint ten = SignCheckpoint(10, records[9].hash, 1, key_, RootOf(records, 10));
  const Checkpoint to_second = SignKeyChange(ten, 2, key_, second.public_key_hex);
  const Checkpoint twenty = SignCheckpoint(20, records[19].hash, 3, second, RootOf(records, 20));
  const Checkpoint to_third = SignKeyChange(twenty, 4, second, third.public_key_hex);
  const Checkpoint forty = SignCheckpoint(40, records[39].hash, 5, third, RootOf(records, 40));
  const std::vector<Checkpoint> file = {ten, to_second, twenty, to_third, forty};
  VerifyReport report = VerifyChain(records, file, key_.public_key_hex);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.key_changes, 2);
  EXPECT_EQ(report.last_key_hex, third.public_key_hex);
  EXPECT_EQ(report.checkpoints_checked, 5);

  // The later keys alone do not check the lines the first one signed.
  EXPECT_FALSE(VerifyChain(records, file, third.public_key_hex).ok);
  // A retired key's signature after its hand-over counts for nothing.
  std::vector<Checkpoint> retired = file;
  retired[4] = SignCheckpoint(40, records[39].hash, 5, second, RootOf(records, 40));
  report = VerifyChain(records, retired, key_.public_key_hex);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.problem.find("checkpoint at seq 40 has an invalid signature"), std::string::npos) << report.problem;
  // A key change signed by a key not in use (a forged hand-over) fails, and what its key signed.
  const SigningKey stranger = SigningKey::Generate();
  std::vector<Checkpoint> forged = {ten, SignKeyChange(ten, 2, stranger, stranger.public_key_hex),
                                    SignCheckpoint(20, records[19].hash, 3, stranger, RootOf(records, 20))};
  report = VerifyChain(records, forged, key_.public_key_hex);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.key_changes, 0);
  EXPECT_NE(report.problem.find("checkpoint at seq 10 has an invalid signature"), std::string::npos) << report.problem;
  // The change just followed, told again (a witness sent it twice), is a repeat.
  std::vector<Checkpoint> repeated = {ten, to_second, to_second, twenty};
  report = VerifyChain(records, repeated, key_.public_key_hex);
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.key_changes, 1);
  // A second file of the same checkpoints (a witness's copy) starts from the first key again.
  ChainVerifier both(file, key_.public_key_hex);
  both.StartAnotherFile();
  for (const Checkpoint& c : {ten, to_second, twenty}) both.Expect(c);
  for (const AuditRecord& r : records) both.Add(r);
  report = both.Finish();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.key_changes, 2) << "the copy's changes are the same changes, not more";
  EXPECT_EQ(report.last_key_hex, third.public_key_hex);
  ChainVerifier carried_on(file, key_.public_key_hex);
  carried_on.Expect(ten);  // without StartAnotherFile: the first key's line is checked with the third key
  for (const AuditRecord& r : records) carried_on.Add(r);
  EXPECT_FALSE(carried_on.Finish().ok);
  // The hand-over is followed in the file's order: moved after the lines its key signed, they fail.
  std::vector<Checkpoint> reordered = {ten, twenty, to_second};
  EXPECT_FALSE(VerifyChain(records, reordered, key_.public_key_hex).ok);
}

// Every single random tampering — edit, delete, reorder, insert, tail truncation — is detected
// against the last checkpoint.
TEST_F(AuditChainTest, ThousandRandomTamperingsAreAllDetected) {
  const auto pristine = MakeChain(200);
  std::vector<Checkpoint> checkpoints = {SignCheckpoint(200, pristine.back().hash, 1, key_, RootOf(pristine, 200))};
  std::mt19937 rng(20261124);
  int detected = 0;
  const int kTrials = 1000;
  for (int trial = 0; trial < kTrials; ++trial) {
    auto records = pristine;
    std::uniform_int_distribution<std::size_t> pick(0, records.size() - 1);
    switch (trial % 5) {
      case 0: {  // edit one field
        auto& r = records[pick(rng)];
        r.actor_id += 1 + static_cast<std::int64_t>(rng() % 5);
        break;
      }
      case 1:  // delete
        records.erase(records.begin() + static_cast<std::ptrdiff_t>(pick(rng)));
        break;
      case 2: {  // reorder two distinct records
        std::size_t a = pick(rng), b = pick(rng);
        if (a == b) b = (a + 1) % records.size();
        std::swap(records[a], records[b]);
        break;
      }
      case 3: {  // insert a forged record that chains correctly from its predecessor
        std::size_t at = 1 + pick(rng) % (records.size() - 1);
        AuditRecord forged = records[at - 1];
        forged.action = "admin.forged";
        Chain(forged, &records[at - 1]);
        records.insert(records.begin() + static_cast<std::ptrdiff_t>(at), forged);
        break;
      }
      case 4:  // tail truncation
        records.resize(records.size() - 1 - rng() % 20);
        break;
    }
    if (!VerifyChain(records, checkpoints, key_.public_key_hex).ok) ++detected;
  }
  EXPECT_EQ(detected, kTrials);
}

}  // namespace
}  // namespace rounds::governance::audit
