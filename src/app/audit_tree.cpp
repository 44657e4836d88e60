#include "app/audit_tree.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "app/audit_service.hpp"

namespace rounds::app {
namespace {

using governance::audit::Checkpoint;
using governance::audit::MerkleFrontier;
using governance::audit::MerkleHex;
using governance::audit::MerkleNodeHash;
using nlohmann::json;

constexpr int kLeafBatch = 4096;

// The leaf of whatever the record holds, as verification computes it: a hash that is not 64 hex
// digits (only a hand could have put it there) makes a tree no signed root matches.
MerkleHash LeafOf(const store::AuditChainHead& record) {
  return governance::audit::AuditLeafHash(record.hash).value_or(governance::audit::MerkleLeafHash(record.hash));
}

Status ForEachLeaf(store::Store& store, std::int64_t after_seq, std::int64_t count,
                   const std::function<Status(const store::AuditChainHead&, const MerkleHash&)>& visit) {
  std::int64_t next = after_seq + 1;
  const std::int64_t end = after_seq + count;
  while (next <= end) {
    const int limit = static_cast<int>(std::min<std::int64_t>(kLeafBatch, end - next + 1));
    ROUNDS_ASSIGN_OR_RETURN(auto rows, store.Read([&](store::ReadTx& tx) { return tx.ListAuditHashes(next - 1, limit); }));
    for (const store::AuditChainHead& row : rows) {
      if (row.seq != next) break;
      ROUNDS_RETURN_IF_ERROR(visit(row, LeafOf(row)));
      ++next;
    }
    if (rows.empty() || rows.back().seq != next - 1) break;
  }
  if (next <= end) {
    return Fail(ErrorCode::kNotFound, "audit_tree_range",
                "The audit trail holds no record " + std::to_string(next) + ": the tree asked for is larger than the trail.");
  }
  return Ok();
}

// The subtree of 2^level leaves at `index`, from the records alone.
Result<MerkleHash> SubtreeFromRecords(store::Store& store, int level, std::uint64_t index) {
  MerkleFrontier frontier;
  const std::int64_t width = std::int64_t{1} << level;
  ROUNDS_RETURN_IF_ERROR(ForEachLeaf(store, static_cast<std::int64_t>(index) * width, width,
                                     [&frontier](const store::AuditChainHead&, const MerkleHash& leaf) {
                                       frontier.Append(leaf);
                                       return Ok();
                                     }));
  return frontier.Root();
}

Result<MerkleHash> Subtree(store::Store& store, int level, std::uint64_t index) {
  if (level < kAuditTreeKeptLevel) return SubtreeFromRecords(store, level, index);
  ROUNDS_ASSIGN_OR_RETURN(auto kept, store.Read([&](store::ReadTx& tx) {
                            return tx.FindAuditTreeNode(level, static_cast<std::int64_t>(index));
                          }));
  if (kept && kept->size() == sizeof(MerkleHash)) {
    MerkleHash hash{};
    std::memcpy(hash.data(), kept->data(), hash.size());
    return hash;
  }
  // Not kept (the tree was not grown this far): from its halves.
  ROUNDS_ASSIGN_OR_RETURN(MerkleHash left, Subtree(store, level - 1, index * 2));
  ROUNDS_ASSIGN_OR_RETURN(MerkleHash right, Subtree(store, level - 1, index * 2 + 1));
  return MerkleNodeHash(left, right);
}

Status RequireSize(std::int64_t size, const char* field) {
  if (size < 0) return InvalidArgument("bad_tree_size", "A tree size is a count of records, 0 or more.", field);
  return Ok();
}

}  // namespace

governance::audit::SubtreeSource StoredSubtrees(store::Store& store) {
  return [&store](int level, std::uint64_t index) { return Subtree(store, level, index); };
}

Result<MerkleHash> StoredTreeRoot(store::Store& store, std::int64_t size) {
  ROUNDS_RETURN_IF_ERROR(RequireSize(size, "tree_size"));
  if (size == 0) return governance::audit::MerkleEmptyRoot();
  return governance::audit::MerkleRangeRoot(0, static_cast<std::uint64_t>(size), StoredSubtrees(store));
}

Result<std::vector<MerkleHash>> StoredInclusionProof(store::Store& store, std::int64_t seq, std::int64_t size) {
  ROUNDS_RETURN_IF_ERROR(RequireSize(size, "tree_size"));
  if (seq < 1 || seq > size) {
    return InvalidArgument("record_not_in_tree", "Record " + std::to_string(seq) + " is not in a tree of " +
                                                     std::to_string(size) + " records.", "seq");
  }
  return governance::audit::MerkleInclusionProof(static_cast<std::uint64_t>(seq - 1), static_cast<std::uint64_t>(size),
                                                 StoredSubtrees(store));
}

Result<std::vector<MerkleHash>> StoredConsistencyProof(store::Store& store, std::int64_t from, std::int64_t to) {
  ROUNDS_RETURN_IF_ERROR(RequireSize(from, "from"));
  ROUNDS_RETURN_IF_ERROR(RequireSize(to, "to"));
  if (from > to) {
    return InvalidArgument("bad_tree_sizes", "A consistency proof goes from a smaller tree to a larger one.", "from");
  }
  return governance::audit::MerkleConsistencyProof(static_cast<std::uint64_t>(from), static_cast<std::uint64_t>(to),
                                                   StoredSubtrees(store));
}

namespace {

json CheckpointJson(const Checkpoint& c) {
  return json{{"seq", c.seq}, {"head_hash", c.head_hash}, {"root", c.root}, {"time", c.time},
              {"signature", c.signature_hex}, {"line", c.ToLine()}};
}

// The key changes before `checkpoint` in the file, as lines: with them the first key's public
// half checks a checkpoint a later key signed.
Result<json> KeyChangeLines(const std::string& checkpoints_path, const Checkpoint& checkpoint) {
  ROUNDS_ASSIGN_OR_RETURN(auto changes, KeyChangesBefore(checkpoints_path, &checkpoint));
  json lines = json::array();
  for (const Checkpoint& c : changes) lines.push_back(c.ToLine());
  return lines;
}

json HexList(const std::vector<MerkleHash>& hashes) {
  json out = json::array();
  for (const MerkleHash& h : hashes) out.push_back(MerkleHex(h));
  return out;
}

}  // namespace

Result<Checkpoint> FindSignedTree(const std::string& checkpoints_path, std::optional<std::int64_t> size,
                                  const char* field) {
  ROUNDS_ASSIGN_OR_RETURN(auto found, FindRootedCheckpoint(checkpoints_path, size));
  if (found) return *found;
  if (!size) {
    return Fail(ErrorCode::kNotFound, "no_signed_tree",
                "No checkpoint signs a Merkle root yet: the server signs one with the trail's next record.");
  }
  Error error{ErrorCode::kNotFound, "unsigned_tree_size",
              "No checkpoint signs the tree of " + std::to_string(*size) +
                  " records: a proof is given against a tree size a checkpoint signed.", {}};
  error.field = field;
  return Fail(std::move(error));
}

Result<json> InclusionProofDocument(store::Store& store, const std::string& checkpoints_path, std::int64_t seq,
                                    std::optional<std::int64_t> tree_size) {
  ROUNDS_ASSIGN_OR_RETURN(Checkpoint checkpoint, FindSignedTree(checkpoints_path, tree_size, "tree_size"));
  ROUNDS_ASSIGN_OR_RETURN(auto proof, StoredInclusionProof(store, seq, checkpoint.seq));
  ROUNDS_ASSIGN_OR_RETURN(auto rows, store.Read([&](store::ReadTx& tx) { return tx.ListAuditHashes(seq - 1, 1); }));
  if (rows.empty() || rows.front().seq != seq) return NotFound("Audit record " + std::to_string(seq));
  const MerkleHash leaf = LeafOf(rows.front());
  const auto root = governance::audit::MerkleHashFromHex(checkpoint.root);
  const bool verified = root && governance::audit::VerifyMerkleInclusion(
                                    static_cast<std::uint64_t>(seq - 1), static_cast<std::uint64_t>(checkpoint.seq),
                                    leaf, proof, *root);
  ROUNDS_ASSIGN_OR_RETURN(json key_changes, KeyChangeLines(checkpoints_path, checkpoint));
  return json{{"kind", "inclusion"},       {"seq", seq},
              {"leaf_index", seq - 1},     {"tree_size", checkpoint.seq},
              {"record_hash", rows.front().hash}, {"leaf_hash", MerkleHex(leaf)},
              {"proof", HexList(proof)},   {"checkpoint", CheckpointJson(checkpoint)},
              {"key_changes", std::move(key_changes)}, {"verified", verified}};
}

Result<json> ConsistencyProofDocument(store::Store& store, const std::string& checkpoints_path, std::int64_t from,
                                      std::optional<std::int64_t> to) {
  ROUNDS_ASSIGN_OR_RETURN(Checkpoint second, FindSignedTree(checkpoints_path, to, "to"));
  ROUNDS_ASSIGN_OR_RETURN(Checkpoint first, FindSignedTree(checkpoints_path, from, "from"));
  ROUNDS_ASSIGN_OR_RETURN(auto proof, StoredConsistencyProof(store, first.seq, second.seq));
  const auto first_root = governance::audit::MerkleHashFromHex(first.root);
  const auto second_root = governance::audit::MerkleHashFromHex(second.root);
  const bool verified = first_root && second_root &&
                        governance::audit::VerifyMerkleConsistency(static_cast<std::uint64_t>(first.seq),
                                                                   static_cast<std::uint64_t>(second.seq),
                                                                   *first_root, *second_root, proof);
  ROUNDS_ASSIGN_OR_RETURN(json key_changes, KeyChangeLines(checkpoints_path, second));
  return json{{"kind", "consistency"}, {"from", first.seq}, {"to", second.seq}, {"proof", HexList(proof)},
              {"from_checkpoint", CheckpointJson(first)}, {"to_checkpoint", CheckpointJson(second)},
              {"key_changes", std::move(key_changes)}, {"verified", verified}};
}

Result<std::string> CheckProofDocument(const json& document, const std::string& public_key_hex) {
  const auto bad = [](const std::string& what) {
    return InvalidArgument("bad_proof_document", "Not a proof document: " + what + ".");
  };
  if (!document.is_object() || !document.contains("kind") || !document["kind"].is_string()) return bad("no kind");
  const auto integer = [&document](const char* name) -> std::optional<std::int64_t> {
    if (!document.contains(name) || !document[name].is_number_integer()) return std::nullopt;
    return document[name].get<std::int64_t>();
  };
  const auto checkpoint = [](const json& c) -> std::optional<Checkpoint> {
    if (!c.is_object() || !c.contains("line") || !c["line"].is_string()) return std::nullopt;
    auto parsed = Checkpoint::FromLine(c["line"].get<std::string>());
    if (!parsed || parsed->root.empty()) return std::nullopt;
    return *parsed;
  };
  std::vector<MerkleHash> proof;
  if (!document.contains("proof") || !document["proof"].is_array()) return bad("no proof");
  for (const json& h : document["proof"]) {
    auto hash = h.is_string() ? governance::audit::MerkleHashFromHex(h.get<std::string>()) : std::nullopt;
    if (!hash) return bad("a proof hash is not 64 hex digits");
    proof.push_back(*hash);
  }
  // The keys that signed, from the first, each with the seqs it signed: a key change at seq s hands
  // over from the key that signed up to s to the next, which signs from s on.
  struct KeyInUse {
    std::string key;
    std::int64_t from = 0;
    std::int64_t to = std::numeric_limits<std::int64_t>::max();
  };
  std::vector<KeyInUse> keys{{public_key_hex}};
  if (document.contains("key_changes")) {
    if (!document["key_changes"].is_array()) return bad("key_changes is not a list of checkpoint lines");
    for (const json& line : document["key_changes"]) {
      if (!line.is_string()) return bad("a key change is not a checkpoint line");
      auto change = Checkpoint::FromLine(line.get<std::string>());
      if (!change || !change->ChangesKey()) return bad("a key change is not a key change's checkpoint line");
      if (!governance::audit::VerifyCheckpointSignature(*change, keys.back().key) || change->seq < keys.back().from) {
        return "the key change at record " + std::to_string(change->seq) + " is not signed by the key in use there";
      }
      keys.back().to = change->seq;
      keys.push_back({change->next_key, change->seq});
    }
  }
  const auto signed_by_key = [&keys](const Checkpoint& c) {
    return std::any_of(keys.begin(), keys.end(), [&c](const KeyInUse& k) {
      return c.seq >= k.from && c.seq <= k.to && governance::audit::VerifyCheckpointSignature(c, k.key);
    });
  };
  const std::string kind = document["kind"].get<std::string>();
  if (kind == "inclusion") {
    const auto seq = integer("seq");
    const auto c = checkpoint(document.value("checkpoint", json()));
    if (!seq || !c || !document.contains("record_hash") || !document["record_hash"].is_string()) {
      return bad("an inclusion proof needs seq, record_hash and a checkpoint with its line");
    }
    if (!signed_by_key(*c)) return std::string("the checkpoint is not signed by this key");
    if (*seq < 1 || *seq > c->seq) return "record " + std::to_string(*seq) + " is not in the checkpoint's tree";
    const auto leaf = governance::audit::AuditLeafHash(document["record_hash"].get<std::string>());
    if (!leaf) return bad("record_hash is not 64 hex digits");
    const auto root = governance::audit::MerkleHashFromHex(c->root);
    if (!governance::audit::VerifyMerkleInclusion(static_cast<std::uint64_t>(*seq - 1),
                                                  static_cast<std::uint64_t>(c->seq), *leaf, proof, *root)) {
      return "the proof does not lead from record " + std::to_string(*seq) + " to the signed root of the tree of " +
             std::to_string(c->seq) + " records";
    }
    return std::string();
  }
  if (kind == "consistency") {
    const auto first = checkpoint(document.value("from_checkpoint", json()));
    const auto second = checkpoint(document.value("to_checkpoint", json()));
    if (!first || !second) return bad("a consistency proof needs both checkpoints with their lines");
    if (!signed_by_key(*first) || !signed_by_key(*second)) return std::string("a checkpoint is not signed by this key");
    const auto first_root = governance::audit::MerkleHashFromHex(first->root);
    const auto second_root = governance::audit::MerkleHashFromHex(second->root);
    if (first->seq < 0 || first->seq > second->seq ||
        !governance::audit::VerifyMerkleConsistency(static_cast<std::uint64_t>(first->seq),
                                                    static_cast<std::uint64_t>(second->seq), *first_root,
                                                    *second_root, proof)) {
      return "the proof does not show the signed tree of " + std::to_string(first->seq) +
             " records to be a prefix of the signed tree of " + std::to_string(second->seq) + " records";
    }
    return std::string();
  }
  return bad("kind is neither inclusion nor consistency");
}

Status AuditTreeKeeper::Load(std::int64_t size) {
  ROUNDS_ASSIGN_OR_RETURN(auto last, store_.Read([](store::ReadTx& tx) { return tx.LastAuditTreeNode(kAuditTreeKeptLevel); }));
  const std::int64_t kept = last ? (*last + 1) << kAuditTreeKeptLevel : 0;
  const std::int64_t start = std::min(kept, size);
  kept_leaves_ = kept;
  std::vector<MerkleHash> subtrees;
  for (auto [level, index] : MerkleFrontier::SubtreesOf(static_cast<std::uint64_t>(start))) {
    ROUNDS_ASSIGN_OR_RETURN(MerkleHash hash, Subtree(store_, level, index));
    subtrees.push_back(hash);
  }
  ROUNDS_ASSIGN_OR_RETURN(frontier_, MerkleFrontier::FromSubtrees(static_cast<std::uint64_t>(start), std::move(subtrees)));
  loaded_ = true;
  return Ok();
}

Result<MerkleHash> AuditTreeKeeper::GrowTo(std::int64_t size, const std::string& head_hash) {
  auto root = Grow(size, head_hash);
  // Subtrees kept by another keeper meanwhile (a tool run against the same database): start again
  // from what the store keeps now.
  if (!root && root.error().code == ErrorCode::kConflict) root = Grow(size, head_hash);
  return root;
}

Result<MerkleHash> AuditTreeKeeper::Grow(std::int64_t size, const std::string& head_hash) {
  if (!loaded_ || size < static_cast<std::int64_t>(frontier_.size())) {
    if (loaded_) {
      loaded_ = false;
      return Internal("the audit trail holds " + std::to_string(size) + " records, fewer than its tree's " +
                      std::to_string(frontier_.size()));
    }
    ROUNDS_RETURN_IF_ERROR(Load(size));
  }
  const std::int64_t from = static_cast<std::int64_t>(frontier_.size());
  if (from == size) return frontier_.Root();
  // Grown a batch at a time: each batch's completed subtrees are kept before the next is read, so
  // a crash keeps what was done and the next start goes on from it.
  std::vector<store::AuditTreeNode> completed;
  std::string last_hash;
  MerkleFrontier grown = frontier_;
  const auto keep = [this, &completed](int level, std::uint64_t index, const MerkleHash& hash) {
    // Below the level kept, or kept already (grown past the last checkpoint before a restart).
    if (level < kAuditTreeKeptLevel || static_cast<std::int64_t>((index + 1) << level) <= kept_leaves_) return;
    completed.push_back({level, static_cast<std::int64_t>(index),
                         std::string(reinterpret_cast<const char*>(hash.data()), hash.size())});
  };
  const auto flush = [&]() -> Status {
    if (!completed.empty()) {
      ROUNDS_RETURN_IF_ERROR(store_.Write([&](store::WriteTx& tx) { return tx.InsertAuditTreeNodes(completed); }));
      completed.clear();
    }
    return Ok();
  };
  Status grew = ForEachLeaf(store_, from, size - from,
                            [&](const store::AuditChainHead& record, const MerkleHash& leaf) -> Status {
                              grown.Append(leaf, keep);
                              last_hash = record.hash;
                              if (completed.size() >= 64) return flush();
                              return Ok();
                            });
  if (grew && last_hash != head_hash) {
    grew = Internal("audit record " + std::to_string(size) + " no longer has the hash the head had");
  }
  if (grew) grew = flush();
  if (!grew) {
    // Some batches may be kept already: the next call starts again from what the store keeps.
    loaded_ = false;
    return tl::unexpected(grew.error());
  }
  frontier_ = std::move(grown);
  return frontier_.Root();
}

}  // namespace rounds::app
