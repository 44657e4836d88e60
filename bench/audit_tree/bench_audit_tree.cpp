// What the audit trail's Merkle tree (app/audit_tree.hpp) costs: a trail of N records written to a
// fresh SQLite store, then
//   - building the tree from the whole trail, as the first start after an upgrade does;
//   - loading it again from the subtrees the store keeps, as every later start does;
//   - growing it by one checkpoint's worth of records (1,000), as the checkpoint thread does;
//   - inclusion proofs of random records in the whole tree, and consistency proofs from random
//     earlier sizes, each checked against the root;
//   - the rows the kept subtrees add to the database.
//
//   rounds-bench-audit-tree [--records N] [--proofs P] [--dir FOLDER]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/audit_log.hpp"
#include "app/audit_tree.hpp"
#include "app/database.hpp"
#include "core/log.hpp"

namespace app = rounds::app;
namespace audit = rounds::governance::audit;
namespace fs = std::filesystem;

namespace {

void WriteRecords(rounds::store::Store& store, int from, int count) {
  app::Actor nurse;
  nurse.user.id = 42;
  nurse.session_id = 7;
  nurse.address = "10.20.30.40";
  for (int written = 0; written < count;) {
    const int batch = std::min(1000, count - written);
    auto ok = store.RunWrite([&](rounds::store::WriteTx& tx) -> rounds::Status {
      for (int i = 0; i < batch; ++i) {
        const int n = from + written + i;
        auto r = app::AuditEntry(nurse, n % 3 == 0 ? "message.read" : "message.list", "space", std::to_string(n % 40),
                                 1'765'000'000'000 + n);
        ROUNDS_RETURN_IF_ERROR(app::AppendAudit(tx, r, {{"count", 50}, {"space_id", n % 40}}));
      }
      return rounds::Ok();
    });
    if (!ok) throw std::runtime_error(ok.error().internal_message);
    written += batch;
  }
}

rounds::store::AuditChainHead Head(rounds::store::Store& store) {
  auto head = store.Write([](rounds::store::WriteTx& tx) { return tx.AuditHead(); });
  if (!head) throw std::runtime_error(head.error().internal_message);
  return *head;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int records = 1'000'000;
  int proofs = 1'000;
  fs::path dir = fs::current_path() / ("rounds-bench-audit-tree-" + std::to_string(::getpid()));
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--records" && i + 1 < argc) {
      records = std::max(1'000, std::atoi(argv[++i]));
    } else if (arg == "--proofs" && i + 1 < argc) {
      proofs = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: rounds-bench-audit-tree [--records N] [--proofs P] [--dir FOLDER]\n");
      return 2;
    }
  }
  rounds::log::SetMinimumLevel(rounds::log::Level::kError);
  fs::remove_all(dir);
  fs::create_directories(dir);
  rounds::Config config;
  config.data_dir = dir.string();
  config.database_encryption = false;
  auto store = app::OpenDatabase(config, 2);
  if (!store) {
    std::fprintf(stderr, "cannot open the store: %s\n", store.error().internal_message.c_str());
    return 1;
  }
  auto started = std::chrono::steady_clock::now();
  WriteRecords(**store, 0, records);
  const double write_seconds = Seconds(started);
  const auto size_before = fs::file_size(dir / "rounds.db");

  rounds::store::AuditChainHead head = Head(**store);
  started = std::chrono::steady_clock::now();
  app::AuditTreeKeeper first(**store);
  auto root = first.GrowTo(head.seq, head.hash);
  const double build_seconds = Seconds(started);
  if (!root) {
    std::fprintf(stderr, "cannot build the tree: %s\n", root.error().internal_message.c_str());
    return 1;
  }

  started = std::chrono::steady_clock::now();
  app::AuditTreeKeeper reloaded(**store);
  auto again = reloaded.GrowTo(head.seq, head.hash);
  const double load_seconds = Seconds(started);
  if (!again || *again != *root) {
    std::fprintf(stderr, "the reloaded tree has another root\n");
    return 1;
  }

  WriteRecords(**store, records, 1'000);
  head = Head(**store);
  started = std::chrono::steady_clock::now();
  auto grown = reloaded.GrowTo(head.seq, head.hash);
  const double grow_seconds = Seconds(started);
  if (!grown) return 1;

  // What verification adds per record: each record's leaf and its place in the tree, from hashes
  // already in memory (the walk reads them anyway).
  std::vector<std::string> hashes;
  for (std::int64_t after = 0;;) {
    auto rows = (*store)->Read([&](rounds::store::ReadTx& tx) { return tx.ListAuditHashes(after, 10'000); });
    if (!rows || rows->empty()) break;
    for (const auto& row : *rows) hashes.push_back(row.hash);
    after = rows->back().seq;
  }
  started = std::chrono::steady_clock::now();
  audit::MerkleFrontier frontier;
  for (const std::string& hash : hashes) frontier.Append(*audit::AuditLeafHash(hash));
  const double verify_extra_seconds = Seconds(started);
  if (frontier.Root() != *grown) {
    std::fprintf(stderr, "the tree of the records in memory has another root\n");
    return 1;
  }

  std::mt19937_64 random(20261207);
  const auto size = head.seq;
  std::vector<double> inclusion_ms, consistency_ms;
  std::size_t proof_hashes = 0;
  for (int i = 0; i < proofs; ++i) {
    const std::int64_t seq = std::uniform_int_distribution<std::int64_t>(1, size)(random);
    started = std::chrono::steady_clock::now();
    auto proof = app::StoredInclusionProof(**store, seq, size);
    inclusion_ms.push_back(Seconds(started) * 1e3);
    auto rows = (*store)->Read([&](rounds::store::ReadTx& tx) { return tx.ListAuditHashes(seq - 1, 1); });
    if (!proof || !rows || rows->empty() ||
        !audit::VerifyMerkleInclusion(seq - 1, size, *audit::AuditLeafHash(rows->front().hash), *proof, *grown)) {
      std::fprintf(stderr, "an inclusion proof of record %lld did not verify\n", static_cast<long long>(seq));
      return 1;
    }
    proof_hashes += proof->size();
    const std::int64_t from = std::uniform_int_distribution<std::int64_t>(1, size)(random);
    started = std::chrono::steady_clock::now();
    auto consistency = app::StoredConsistencyProof(**store, from, size);
    consistency_ms.push_back(Seconds(started) * 1e3);
    auto from_root = app::StoredTreeRoot(**store, from);
    if (!consistency || !from_root ||
        !audit::VerifyMerkleConsistency(from, size, *from_root, *grown, *consistency)) {
      std::fprintf(stderr, "a consistency proof from %lld did not verify\n", static_cast<long long>(from));
      return 1;
    }
  }
  std::int64_t kept = 0;
  for (int level = app::kAuditTreeKeptLevel; level < 64; ++level) {
    auto last = (*store)->Read([&](rounds::store::ReadTx& tx) { return tx.LastAuditTreeNode(level); });
    if (!last || !*last) break;
    kept += **last + 1;
  }
  (*store)->Close();
  fs::remove_all(dir);

  std::printf("audit Merkle tree over %d records (written in %.1f s)\n", records, write_seconds);
  std::printf("  build from the whole trail       %8.2f s   (%.2f s per million records)\n", build_seconds,
              build_seconds * 1e6 / records);
  std::printf("  load from the kept subtrees      %8.1f ms\n", load_seconds * 1e3);
  std::printf("  grow by 1,000 records            %8.1f ms\n", grow_seconds * 1e3);
  std::printf("  verification's extra work       %8.2f µs a record (the leaf and its place in the tree)\n",
              verify_extra_seconds * 1e6 / static_cast<double>(hashes.size()));
  std::printf("  inclusion proof   p50 %6.2f ms   p99 %6.2f ms   (%.1f hashes, %d proofs)\n",
              Percentile(inclusion_ms, 0.5), Percentile(inclusion_ms, 0.99),
              static_cast<double>(proof_hashes) / proofs, proofs);
  std::printf("  consistency proof p50 %6.2f ms   p99 %6.2f ms\n", Percentile(consistency_ms, 0.5),
              Percentile(consistency_ms, 0.99));
  std::printf("  kept subtrees %lld rows, %.1f KB of hashes; the trail's database %.1f MB\n", static_cast<long long>(kept),
              static_cast<double>(kept) * 32 / 1e3, static_cast<double>(size_before) / 1e6);
  return 0;
}
