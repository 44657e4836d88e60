#include "governance/audit/audit_chain.hpp"

#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <sstream>
#include <string_view>

#include "core/crypto.hpp"
#include "core/json_text.hpp"

namespace rounds::governance::audit {
namespace {

// The canonical encoding hashes the record's bytes as stored (RFC 8785 escaping).
void AppendCanonicalString(std::string& out, std::string_view s) { AppendJsonString(out, s, Utf8Errors::kKeep); }

std::string ToHex(const unsigned char* data, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();
  return hex;
}

std::optional<std::string> FromHex(const std::string& hex, std::size_t expected_bytes) {
  std::string bin(expected_bytes, '\0');
  std::size_t length = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), hex.data(),
                     hex.size(), nullptr, &length, nullptr) != 0 ||
      length != expected_bytes) {
    return std::nullopt;
  }
  return bin;
}

}  // namespace

namespace {

// Appends the canonical encoding of `r` to `out`.
void AppendCanonical(std::string& out, const AuditRecord& r) {
  // Keys in lexicographic order, as RFC 8785 requires.
  out.push_back('{');
  bool first = true;
  auto key = [&out, &first](std::string_view k) {
    if (!first) out.push_back(',');
    first = false;
    AppendCanonicalString(out, k);
    out.push_back(':');
  };
  key("action"); AppendCanonicalString(out, r.action);
  key("actor_id"); out += std::to_string(r.actor_id);
  key("actor_role"); AppendCanonicalString(out, r.actor_role);
  key("address"); AppendCanonicalString(out, r.address);
  key("details"); AppendCanonicalString(out, r.details_json);
  key("object_id"); AppendCanonicalString(out, r.object_id);
  key("object_type"); AppendCanonicalString(out, r.object_type);
  key("outcome"); AppendCanonicalString(out, domain::ToString(r.outcome));
  key("patient_ref"); AppendCanonicalString(out, r.patient_ref);
  key("prev_hash"); AppendCanonicalString(out, r.prev_hash);
  key("reason"); AppendCanonicalString(out, r.reason);
  key("seq"); out += std::to_string(r.seq);
  key("session_hash"); AppendCanonicalString(out, r.session_hash);
  key("time"); out += std::to_string(r.time);
  out.push_back('}');
}

std::size_t EncodedSizeHint(const AuditRecord& r) {
  return 320 + r.prev_hash.size() + r.details_json.size() + r.reason.size() + r.object_id.size() + r.address.size();
}

}  // namespace

std::string CanonicalEncoding(const AuditRecord& r) {
  std::string out;
  out.reserve(EncodedSizeHint(r));
  AppendCanonical(out, r);
  return out;
}

std::string ComputeHash(const AuditRecord& record) {
  std::string input;
  input.reserve(EncodedSizeHint(record) + record.prev_hash.size() + 1);
  input += record.prev_hash;
  input.push_back('\n');
  AppendCanonical(input, record);
  return crypto::Sha256Hex(input);
}

void Chain(AuditRecord& record, const AuditRecord* previous) {
  if (previous == nullptr) return Chain(record, 0, kGenesisHash);
  Chain(record, previous->seq, previous->hash);
}

void Chain(AuditRecord& record, std::int64_t previous_seq, std::string_view previous_hash) {
  record.seq = previous_seq + 1;
  record.prev_hash = previous_seq == 0 ? std::string(kGenesisHash) : std::string(previous_hash);
  record.hash = ComputeHash(record);
}

std::string Checkpoint::SignedText() const {
  if (!next_key.empty()) {
    return "rounds-audit-checkpoint v3\n" + std::to_string(seq) + "\n" + head_hash + "\n" + root + "\n" +
           std::to_string(time) + "\nnext-key " + next_key + "\n";
  }
  if (root.empty()) {
    return "rounds-audit-checkpoint v1\n" + std::to_string(seq) + "\n" + head_hash + "\n" +
           std::to_string(time) + "\n";
  }
  return "rounds-audit-checkpoint v2\n" + std::to_string(seq) + "\n" + head_hash + "\n" + root + "\n" +
         std::to_string(time) + "\n";
}

std::string Checkpoint::ToLine() const {
  std::string line = std::to_string(seq) + " " + head_hash + " " + std::to_string(time) + " " + signature_hex;
  if (!root.empty()) line += " " + root;
  if (!next_key.empty()) line += " next-key=" + next_key;
  return line;
}

bool IsPublicKeyHex(std::string_view hex) {
  return hex.size() == crypto_sign_PUBLICKEYBYTES * 2 &&
         std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<Checkpoint> Checkpoint::FromLine(const std::string& line) {
  std::istringstream in(line);
  Checkpoint c;
  std::string seq_text, time_text;
  if (!(in >> seq_text >> c.head_hash >> time_text >> c.signature_hex)) {
    return InvalidArgument("bad_checkpoint", "A checkpoint line must have four or five fields.");
  }
  // Then a Merkle root, a key change, or both in that order.
  static constexpr std::string_view kNextKey = "next-key=";
  std::string field;
  int extra = 0;
  while (in >> field) {
    ++extra;
    if (field.compare(0, kNextKey.size(), kNextKey) == 0 && c.next_key.empty()) {
      c.next_key = field.substr(kNextKey.size());
      if (!IsPublicKeyHex(c.next_key)) {
        return InvalidArgument("bad_checkpoint", "A key change must name a public key of 64 lower-case hex digits.");
      }
    } else if (extra == 1 && MerkleHashFromHex(field)) {
      c.root = field;
    } else {
      return InvalidArgument("bad_checkpoint",
                             "A checkpoint line's fifth field must be a Merkle root, and a sixth a key change.");
    }
  }
  auto parse = [](const std::string& text, std::int64_t& out) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
  };
  if (!parse(seq_text, c.seq) || !parse(time_text, c.time) || c.head_hash.size() != 64 ||
      c.signature_hex.size() != crypto_sign_BYTES * 2) {
    return InvalidArgument("bad_checkpoint", "A checkpoint line is malformed.");
  }
  return c;
}

SigningKey SigningKey::Generate() {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  SigningKey key{ToHex(pk, sizeof pk), ToHex(sk, sizeof sk)};
  sodium_memzero(sk, sizeof sk);
  return key;
}

namespace {

// Signs whatever `c` states (SignedText), filling its signature.
void Sign(Checkpoint& c, const SigningKey& key) {
  auto sk = FromHex(key.secret_key_hex, crypto_sign_SECRETKEYBYTES);
  unsigned char sig[crypto_sign_BYTES] = {};
  if (sk) {
    std::string text = c.SignedText();
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(text.data()),
                         text.size(), reinterpret_cast<const unsigned char*>(sk->data()));
    sodium_memzero(sk->data(), sk->size());
  }
  c.signature_hex = ToHex(sig, sizeof sig);
}

}  // namespace

Checkpoint SignCheckpoint(std::int64_t seq, const std::string& head_hash, UnixMillis time,
                          const SigningKey& key, const std::string& root) {
  Checkpoint c{seq, head_hash, time, {}, root, {}};
  Sign(c, key);
  return c;
}

Checkpoint SignKeyChange(const Checkpoint& at, UnixMillis time, const SigningKey& key,
                         const std::string& next_public_key_hex) {
  Checkpoint c{at.seq, at.head_hash, time, {}, at.root, next_public_key_hex};
  Sign(c, key);
  return c;
}

bool VerifyCheckpointSignature(const Checkpoint& checkpoint, const std::string& public_key_hex) {
  auto pk = FromHex(public_key_hex, crypto_sign_PUBLICKEYBYTES);
  auto sig = FromHex(checkpoint.signature_hex, crypto_sign_BYTES);
  if (!pk || !sig) return false;
  std::string text = checkpoint.SignedText();
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     text.size(),
                                     reinterpret_cast<const unsigned char*>(pk->data())) == 0;
}

VerifyReport VerifyChain(std::span<const AuditRecord> records,
                         std::span<const Checkpoint> checkpoints,
                         const std::string& public_key_hex) {
  ChainVerifier verifier(checkpoints, public_key_hex);
  for (const AuditRecord& r : records) verifier.Add(r);
  return verifier.Finish();
}

ChainVerifier::ChainVerifier(const std::string& public_key_hex)
    : first_key_hex_(public_key_hex), public_key_hex_(public_key_hex), expected_prev_(kGenesisHash) {}

ChainVerifier::ChainVerifier(std::span<const Checkpoint> checkpoints, const std::string& public_key_hex)
    : ChainVerifier(public_key_hex) {
  checkpoints_.reserve(checkpoints.size());
  for (const Checkpoint& c : checkpoints) Expect(c);
}

void ChainVerifier::Expect(const Checkpoint& c) {
  // Given after the records began, a checkpoint could not be compared with the records before it.
  assert(!sorted_ && "ChainVerifier::Expect() after Add()");
  Expected e;
  e.seq = c.seq;
  e.signature_ok = VerifyCheckpointSignature(c, public_key_hex_);
  // A key change hands signing over only if the key in use signed it: one that does not verify
  // fails here, and so does everything its next key signed. The very change just followed, given
  // again (a witness told it twice), is a repeat and changes nothing.
  if (c.ChangesKey() && !e.signature_ok && c.next_key == public_key_hex_ && c.ToLine() == last_change_line_) {
    e.signature_ok = true;
  } else if (e.signature_ok && c.ChangesKey()) {
    public_key_hex_ = c.next_key;
    last_change_line_ = c.ToLine();
    ++key_changes_;
  }
  e.head_ok = c.head_hash.size() == e.head.size();
  if (e.head_ok) std::copy(c.head_hash.begin(), c.head_hash.end(), e.head.begin());
  if (!c.root.empty()) {
    e.root = MerkleHashFromHex(c.root);
    // A root that is not one matches no tree.
    if (!e.root) e.head_ok = false;
  }
  checkpoints_.push_back(e);
  // Only a validly signed checkpoint of a record is compared with the chain.
  if (e.signature_ok && c.seq > 0) by_seq_.push_back(checkpoints_.size() - 1);
}

void ChainVerifier::StartAnotherFile() {
  if (!first_file_) {
    // The report speaks of the first file's changes: a witness's copy repeats them.
    first_file_ = FirstFile{key_changes_, public_key_hex_};
  }
  public_key_hex_ = first_key_hex_;
  last_change_line_.clear();
}

void ChainVerifier::SortOnce() {
  if (sorted_) return;
  sorted_ = true;
  std::stable_sort(by_seq_.begin(), by_seq_.end(),
                   [this](std::size_t a, std::size_t b) { return checkpoints_[a].seq < checkpoints_[b].seq; });
}

void ChainVerifier::Fail(std::int64_t seq, std::string problem) {
  if (!report_.ok) return;
  report_.ok = false;
  report_.first_bad_seq = seq;
  report_.problem = std::move(problem);
}

void ChainVerifier::Add(const AuditRecord& r) {
  SortOnce();
  ++report_.records_checked;
  ++position_;
  if (r.seq != expected_seq_) {
    Fail(expected_seq_, "record " + std::to_string(expected_seq_) + " is missing or out of order "
                        "(found seq " + std::to_string(r.seq) + ")");
  } else if (r.prev_hash != expected_prev_) {
    Fail(r.seq, "record " + std::to_string(r.seq) + " does not chain from the record before it");
  } else if (ComputeHash(r) != r.hash) {
    Fail(r.seq, "record " + std::to_string(r.seq) + " was altered (hash mismatch)");
  }
  expected_prev_ = r.hash;
  expected_seq_ = r.seq + 1;
  // A leaf of whatever the record holds: a hash that is not 64 hex digits has failed above.
  tree_.Append(AuditLeafHash(r.hash).value_or(MerkleLeafHash(r.hash)), on_tree_node_);
  // A checkpoint of seq N is compared with the Nth record of the chain as stored, and its root
  // with the tree of the first N records.
  while (next_ < by_seq_.size() && checkpoints_[by_seq_[next_]].seq == position_) {
    Expected& e = checkpoints_[by_seq_[next_++]];
    const bool same_hash = e.head_ok && r.hash == std::string_view(e.head.data(), e.head.size());
    e.match = r.seq != e.seq ? Match::kOtherSeq : !same_hash ? Match::kDiffers : Match::kMatches;
    if (e.match == Match::kMatches && e.root && *e.root != tree_.Root()) e.match = Match::kRootDiffers;
  }
}

VerifyReport ChainVerifier::Finish() {
  SortOnce();
  report_.key_changes = first_file_ ? first_file_->key_changes : key_changes_;
  report_.last_key_hex = first_file_ ? first_file_->last_key_hex : public_key_hex_;
  // The chain's failures first, then the checkpoints' in the order given.
  for (const Expected& e : checkpoints_) {
    ++report_.checkpoints_checked;
    if (!report_.ok) continue;  // the first failure is the one reported
    if (!e.signature_ok) {
      Fail(0, "checkpoint at seq " + std::to_string(e.seq) + " has an invalid signature");
      continue;
    }
    if (e.seq <= 0) continue;
    if (e.match == Match::kRootDiffers) {
      // The chain and the head agree, so every record's hash is as signed: the signed root was
      // not the tree of these records when it was signed.
      Fail(e.seq, "checkpoint at seq " + std::to_string(e.seq) +
                      " signs a Merkle root that is not the root of the trail's first " + std::to_string(e.seq) +
                      " records");
    } else if (e.match == Match::kNotReached || e.match == Match::kOtherSeq) {
      Fail(position_ + 1, "the chain ends before checkpoint seq " + std::to_string(e.seq) + " (records were removed)");
    } else if (e.match == Match::kDiffers) {
      // The chain itself holds, so the records were re-hashed after an edit: the edit lies after
      // the last checkpoint below that still matches, which is as near as the chain can tell.
      std::int64_t matched = 0;
      for (const std::size_t i : by_seq_) {
        const Expected& below = checkpoints_[i];
        if (below.seq >= e.seq) break;
        if (below.match == Match::kMatches) matched = below.seq;
      }
      Fail(e.seq, "record " + std::to_string(e.seq) + " does not match its signed checkpoint: the trail was " +
                      "rewritten at a record after seq " + std::to_string(matched) +
                      (matched > 0 ? " (the last checkpoint that matches)" : " (no earlier checkpoint matches)") +
                      " and at or before seq " + std::to_string(e.seq));
    }
  }
  return report_;
}

}  // namespace rounds::governance::audit
