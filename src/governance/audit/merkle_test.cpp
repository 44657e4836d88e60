#include "governance/audit/merkle.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/crypto.hpp"

namespace rounds::governance::audit {
namespace {

MerkleHash H(std::string_view hex) {
  auto hash = MerkleHashFromHex(hex);
  EXPECT_TRUE(hash.has_value()) << hex;
  return hash.value_or(MerkleHash{});
}

std::string Bytes(std::string_view hex) { return crypto::FromHex(hex).value(); }

// The eight-leaf tree of RFC 6962's reference implementation, whose roots and proofs the
// Certificate Transparency code and transparency-dev/merkle test against.
std::vector<std::string> ReferenceLeaves() {
  return {Bytes(""),         Bytes("00"),       Bytes("10"),
          Bytes("2021"),     Bytes("3031"),     Bytes("40414243"),
          Bytes("5051525354555657"), Bytes("606162636465666768696a6b6c6d6e6f")};
}

const std::vector<std::string>& ReferenceRoots() {
  static const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  return roots;
}

// Complete subtrees computed from the leaves themselves, and how many were asked for.
struct MemoryTree {
  std::vector<MerkleHash> leaves;
  int asked = 0;

  MerkleHash Subtree(int level, std::uint64_t index) const {
    if (level == 0) return leaves.at(index);
    return MerkleNodeHash(Subtree(level - 1, index * 2), Subtree(level - 1, index * 2 + 1));
  }
  SubtreeSource Source() {
    return [this](int level, std::uint64_t index) -> Result<MerkleHash> {
      ++asked;
      if (((index + 1) << level) > leaves.size()) return Internal("subtree past the tree's end");
      return Subtree(level, index);
    };
  }
};

MemoryTree ReferenceTree() {
  MemoryTree tree;
  for (const std::string& leaf : ReferenceLeaves()) tree.leaves.push_back(MerkleLeafHash(leaf));
  return tree;
}

MemoryTree RandomTree(std::size_t size, std::uint32_t seed) {
  std::mt19937 random(seed);
  MemoryTree tree;
  for (std::size_t i = 0; i < size; ++i) tree.leaves.push_back(MerkleLeafHash(std::to_string(random())));
  return tree;
}

std::vector<MerkleHash> Hashes(std::initializer_list<std::string_view> hexes) {
  std::vector<MerkleHash> out;
  for (std::string_view hex : hexes) out.push_back(H(hex));
  return out;
}

TEST(MerkleTest, HashesAreDomainSeparatedSha256) {
  EXPECT_EQ(MerkleHex(MerkleEmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // A leaf of nothing is SHA-256 of the one byte 0x00, the reference tree's first root.
  EXPECT_EQ(MerkleHex(MerkleLeafHash("")), ReferenceRoots()[0]);
  const MerkleHash a = MerkleLeafHash("a");
  const MerkleHash b = MerkleLeafHash("b");
  std::string concatenated(reinterpret_cast<const char*>(a.data()), 32);
  concatenated.append(reinterpret_cast<const char*>(b.data()), 32);
  EXPECT_NE(MerkleNodeHash(a, b), MerkleLeafHash(concatenated)) << "a node must not pass for a leaf";
  EXPECT_NE(MerkleNodeHash(a, b), MerkleNodeHash(b, a));
}

TEST(MerkleTest, AuditLeavesAreTheRecordHashesBytes) {
  const std::string record_hash = crypto::Sha256Hex("a record");
  ASSERT_TRUE(AuditLeafHash(record_hash).has_value());
  EXPECT_EQ(*AuditLeafHash(record_hash), MerkleLeafHash(crypto::FromHex(record_hash).value()));
  EXPECT_FALSE(AuditLeafHash(record_hash.substr(2)).has_value());
  EXPECT_FALSE(AuditLeafHash(std::string(64, 'g')).has_value());
  EXPECT_FALSE(MerkleHashFromHex("abc").has_value());
  EXPECT_EQ(MerkleHex(H(record_hash)), record_hash);
}

TEST(MerkleTest, RootsOfTheReferenceTree) {
  MemoryTree tree = ReferenceTree();
  for (std::uint64_t size = 1; size <= 8; ++size) {
    auto root = MerkleRangeRoot(0, size, tree.Source());
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(MerkleHex(*root), ReferenceRoots()[size - 1]) << "size " << size;
    MerkleFrontier frontier;
    for (std::uint64_t i = 0; i < size; ++i) frontier.Append(tree.leaves[i]);
    EXPECT_EQ(MerkleHex(frontier.Root()), ReferenceRoots()[size - 1]) << "size " << size;
  }
  EXPECT_EQ(MerkleFrontier().Root(), MerkleEmptyRoot());
  EXPECT_FALSE(MerkleRangeRoot(3, 3, tree.Source()).has_value());
}

struct InclusionVector {
  std::uint64_t index;
  std::uint64_t size;
  std::vector<MerkleHash> proof;
};

std::vector<InclusionVector> InclusionVectors() {
  return {
      {0, 1, {}},
      {0, 8,
       Hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       Hashes({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, Hashes({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5,
       Hashes({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
}

TEST(MerkleTest, InclusionProofsMatchTheReferenceVectors) {
  MemoryTree tree = ReferenceTree();
  for (const InclusionVector& v : InclusionVectors()) {
    SCOPED_TRACE("leaf " + std::to_string(v.index) + " of " + std::to_string(v.size));
    auto proof = MerkleInclusionProof(v.index, v.size, tree.Source());
    ASSERT_TRUE(proof.has_value());
    EXPECT_EQ(*proof, v.proof);
    const MerkleHash root = H(ReferenceRoots()[v.size - 1]);
    const MerkleHash leaf = tree.leaves[v.index];
    EXPECT_TRUE(VerifyMerkleInclusion(v.index, v.size, leaf, v.proof, root));

    // Every corruption of the proof, its claims or its inputs fails.
    const auto fails = [&](std::uint64_t index, std::uint64_t size, const MerkleHash& l,
                           const std::vector<MerkleHash>& p, const MerkleHash& r, const char* what) {
      EXPECT_FALSE(VerifyMerkleInclusion(index, size, l, p, r)) << what;
    };
    if (v.index > 0) fails(v.index - 1, v.size, leaf, v.proof, root, "index - 1");
    fails(v.index + 1, v.size, leaf, v.proof, root, "index + 1");
    fails(v.index ^ 2, v.size, leaf, v.proof, root, "index ^ 2");
    fails(v.index, v.size * 2, leaf, v.proof, root, "size * 2");
    fails(v.index, v.size / 2, leaf, v.proof, root, "size / 2");
    fails(v.index, v.size, MerkleLeafHash("wrong leaf"), v.proof, root, "wrong leaf");
    fails(v.index, v.size, leaf, v.proof, MerkleEmptyRoot(), "empty root");
    auto longer = v.proof;
    longer.push_back(root);
    fails(v.index, v.size, leaf, longer, root, "trailing root");
    auto preceded = v.proof;
    preceded.insert(preceded.begin(), root);
    fails(v.index, v.size, leaf, preceded, root, "preceding root");
    for (std::size_t i = 0; i < v.proof.size(); ++i) {
      auto flipped = v.proof;
      flipped[i][0] ^= 8;
      fails(v.index, v.size, leaf, flipped, root, "a bit flipped");
    }
    if (!v.proof.empty()) {
      fails(v.index, v.size, leaf, std::vector<MerkleHash>(v.proof.begin(), v.proof.end() - 1), root, "removed");
    }
  }
  EXPECT_FALSE(MerkleInclusionProof(8, 8, tree.Source()).has_value());
  EXPECT_FALSE(VerifyMerkleInclusion(0, 0, MerkleEmptyRoot(), {}, MerkleEmptyRoot()));
}

struct ConsistencyVector {
  std::uint64_t from;
  std::uint64_t to;
  std::vector<MerkleHash> proof;
};

std::vector<ConsistencyVector> ConsistencyVectors() {
  return {
      {1, 1, {}},
      {1, 8,
       Hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       Hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       Hashes({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {6, 7,
       Hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
}

TEST(MerkleTest, ConsistencyProofsMatchTheReferenceVectors) {
  MemoryTree tree = ReferenceTree();
  for (const ConsistencyVector& v : ConsistencyVectors()) {
    SCOPED_TRACE(std::to_string(v.from) + " to " + std::to_string(v.to));
    auto proof = MerkleConsistencyProof(v.from, v.to, tree.Source());
    ASSERT_TRUE(proof.has_value());
    EXPECT_EQ(*proof, v.proof);
    const MerkleHash first = H(ReferenceRoots()[v.from - 1]);
    const MerkleHash second = H(ReferenceRoots()[v.to - 1]);
    EXPECT_TRUE(VerifyMerkleConsistency(v.from, v.to, first, second, v.proof));
    if (v.proof.empty()) continue;

    const auto fails = [&](std::uint64_t from, std::uint64_t to, const MerkleHash& r1, const MerkleHash& r2,
                           const std::vector<MerkleHash>& p, const char* what) {
      EXPECT_FALSE(VerifyMerkleConsistency(from, to, r1, r2, p)) << what;
    };
    fails(v.from - 1, v.to, first, second, v.proof, "from - 1");
    fails(v.from + 1, v.to, first, second, v.proof, "from + 1");
    fails(v.from ^ 2, v.to, first, second, v.proof, "from ^ 2");
    fails(v.from, v.to * 2, first, second, v.proof, "to * 2");
    fails(v.from, v.to / 2, first, second, v.proof, "to / 2");
    fails(v.from, v.to, MerkleLeafHash("wrong"), second, v.proof, "wrong first root");
    fails(v.from, v.to, first, MerkleLeafHash("wrong"), v.proof, "wrong second root");
    fails(v.from, v.to, second, first, v.proof, "swapped roots");
    fails(v.from, v.to, first, second, {}, "empty proof");
    for (const MerkleHash& extra : {first, second}) {
      auto longer = v.proof;
      longer.push_back(extra);
      fails(v.from, v.to, first, second, longer, "trailing root");
      auto preceded = v.proof;
      preceded.insert(preceded.begin(), extra);
      fails(v.from, v.to, first, second, preceded, "preceding root");
    }
    fails(v.from, v.to, first, second, std::vector<MerkleHash>(v.proof.begin(), v.proof.end() - 1), "truncated");
    for (std::size_t i = 0; i < v.proof.size(); ++i) {
      auto flipped = v.proof;
      flipped[i][0] ^= 16;
      fails(v.from, v.to, first, second, flipped, "a bit flipped");
    }
  }
  // The sizes that are always consistent, and time travel.
  const MerkleHash some = MerkleLeafHash("some");
  EXPECT_TRUE(VerifyMerkleConsistency(0, 0, some, some, {}));
  EXPECT_TRUE(VerifyMerkleConsistency(0, 5, some, MerkleEmptyRoot(), {}));
  EXPECT_FALSE(VerifyMerkleConsistency(1, 1, some, MerkleEmptyRoot(), {}));
  EXPECT_FALSE(VerifyMerkleConsistency(2, 1, some, some, {}));
  EXPECT_FALSE(VerifyMerkleConsistency(1, 1, some, some, std::vector<MerkleHash>{some}));
  EXPECT_FALSE(MerkleConsistencyProof(3, 2, tree.Source()).has_value());
}

TEST(MerkleTest, EveryProofOfEverySmallTreeVerifies) {
  MemoryTree tree = RandomTree(70, 7);
  for (std::uint64_t size = 1; size <= tree.leaves.size(); ++size) {
    const MerkleHash root = MerkleRangeRoot(0, size, tree.Source()).value();
    for (std::uint64_t index = 0; index < size; ++index) {
      auto proof = MerkleInclusionProof(index, size, tree.Source());
      ASSERT_TRUE(proof.has_value());
      ASSERT_TRUE(VerifyMerkleInclusion(index, size, tree.leaves[index], *proof, root)) << index << " of " << size;
      if (size > 1) {
        const std::uint64_t other = (index + 1) % size;
        EXPECT_FALSE(VerifyMerkleInclusion(index, size, tree.leaves[other], *proof, root)) << index << " of " << size;
      }
    }
    for (std::uint64_t from = 1; from <= size; ++from) {
      const MerkleHash first = MerkleRangeRoot(0, from, tree.Source()).value();
      auto proof = MerkleConsistencyProof(from, size, tree.Source());
      ASSERT_TRUE(proof.has_value());
      ASSERT_TRUE(VerifyMerkleConsistency(from, size, first, root, *proof)) << from << " to " << size;
      // A tree whose earlier records changed is not consistent with the first one.
      if (from < size) {
        MemoryTree changed = tree;
        changed.leaves[from - 1] = MerkleLeafHash("changed");
        const MerkleHash changed_root = MerkleRangeRoot(0, size, changed.Source()).value();
        auto changed_proof = MerkleConsistencyProof(from, size, changed.Source()).value();
        EXPECT_FALSE(VerifyMerkleConsistency(from, size, first, changed_root, changed_proof)) << from << " to " << size;
      }
    }
  }
}

TEST(MerkleTest, AProofAsksForAboutTwoSubtreesALevel) {
  MemoryTree tree = RandomTree(1000, 11);
  tree.asked = 0;
  ASSERT_TRUE(MerkleInclusionProof(517, 1000, tree.Source()).has_value());
  EXPECT_LE(tree.asked, 2 * 10);
  tree.asked = 0;
  ASSERT_TRUE(MerkleConsistencyProof(300, 1000, tree.Source()).has_value());
  EXPECT_LE(tree.asked, 2 * 10 + 2);
}

TEST(MerkleTest, TheFrontierGrowsAsTheTreeAndHandsOverEachCompleteSubtree) {
  MemoryTree tree = RandomTree(600, 3);
  MerkleFrontier frontier;
  std::size_t completed = 0;
  for (std::uint64_t i = 0; i < tree.leaves.size(); ++i) {
    frontier.Append(tree.leaves[i], [&](int level, std::uint64_t index, const MerkleHash& hash) {
      ++completed;
      EXPECT_GE(level, 1);
      EXPECT_EQ(((index + 1) << level), i + 1) << "a subtree completes with its last leaf";
      EXPECT_EQ(hash, tree.Subtree(level, index)) << level << "/" << index;
    });
    ASSERT_EQ(frontier.size(), i + 1);
    ASSERT_EQ(frontier.Root(), MerkleRangeRoot(0, i + 1, tree.Source()).value()) << "size " << i + 1;
  }
  EXPECT_EQ(completed, tree.leaves.size() - std::popcount(tree.leaves.size()));

  // A frontier rebuilt from the complete subtrees of a size grows on as the original does.
  for (std::uint64_t size : {0u, 1u, 255u, 256u, 300u, 511u}) {
    std::vector<MerkleHash> subtrees;
    for (auto [level, index] : MerkleFrontier::SubtreesOf(size)) subtrees.push_back(tree.Subtree(level, index));
    auto rebuilt = MerkleFrontier::FromSubtrees(size, subtrees);
    ASSERT_TRUE(rebuilt.has_value());
    for (std::uint64_t i = size; i < tree.leaves.size(); ++i) rebuilt->Append(tree.leaves[i]);
    EXPECT_EQ(rebuilt->Root(), frontier.Root()) << "from size " << size;
  }
  EXPECT_EQ(MerkleFrontier::SubtreesOf(300),
            (std::vector<std::pair<int, std::uint64_t>>{{8, 0}, {5, 8}, {3, 36}, {2, 74}}));
  EXPECT_FALSE(MerkleFrontier::FromSubtrees(3, {MerkleEmptyRoot()}).has_value());
}

}  // namespace
}  // namespace rounds::governance::audit
