// Store contract: the append-only audit trail.
#include "store/storetest/contract_helpers.hpp"
#include "store/storetest/store_contract.hpp"

namespace rounds::store::storetest {
namespace {

AuditRecord MakeAudit(std::int64_t seq, const std::string& prev_hash) {
  AuditRecord a;
  a.seq = seq;
  a.time = kNow + seq;
  a.actor_id = 7;
  a.actor_role = "staff";
  a.action = "space.create";
  a.object_type = "space";
  a.object_id = std::to_string(100 + seq);
  a.patient_ref = seq % 2 ? "Patient/mrn-000000000000000c" : "";
  a.outcome = seq % 3 == 0 ? AuditOutcome::kDenied : AuditOutcome::kSuccess;
  a.address = "10.0.0.1";
  a.session_hash = "session-hash";
  a.reason = seq % 3 == 0 ? "not a member" : "";
  a.details_json = "{\"n\":" + std::to_string(seq) + "}";
  a.prev_hash = prev_hash;
  a.hash = "hash-" + std::to_string(seq);
  return a;
}

TEST_P(StoreContractTest, AuditRecordsAppendInOrderAndPage) {
  auto empty = store().Read([](ReadTx& tx) { return tx.LastAuditRecord(); });
  ASSERT_TRUE(empty) << Describe(empty);
  EXPECT_FALSE(*empty);
  // Each unit chains from the last record, as the app does.
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store().Write([](WriteTx& tx) -> Status {
      ROUNDS_ASSIGN_OR_RETURN(auto last, tx.LastAuditRecord());
      std::int64_t seq = last ? last->seq + 1 : 1;
      return tx.InsertAudit(MakeAudit(seq, last ? last->hash : std::string(64, '0')));
    }));
  }
  auto last = store().Read([](ReadTx& tx) { return tx.LastAuditRecord(); });
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->seq, 7);
  EXPECT_EQ((*last)->prev_hash, "hash-6");

  auto page = store().Read([](ReadTx& tx) { return tx.ListAudit(0, 4); });
  ASSERT_TRUE(page) << Describe(page);
  ASSERT_EQ(page->size(), 4u);
  const AuditRecord expected = MakeAudit(3, "hash-2");
  const AuditRecord& got = (*page)[2];
  EXPECT_EQ(got.seq, expected.seq);
  EXPECT_EQ(got.time, expected.time);
  EXPECT_EQ(got.actor_id, expected.actor_id);
  EXPECT_EQ(got.actor_role, expected.actor_role);
  EXPECT_EQ(got.action, expected.action);
  EXPECT_EQ(got.object_type, expected.object_type);
  EXPECT_EQ(got.object_id, expected.object_id);
  EXPECT_EQ(got.patient_ref, expected.patient_ref);
  EXPECT_EQ(got.outcome, AuditOutcome::kDenied);
  EXPECT_EQ(got.address, expected.address);
  EXPECT_EQ(got.session_hash, expected.session_hash);
  EXPECT_EQ(got.reason, expected.reason);
  EXPECT_EQ(got.details_json, expected.details_json);
  EXPECT_EQ(got.prev_hash, expected.prev_hash);
  EXPECT_EQ(got.hash, expected.hash);
  EXPECT_EQ((*page)[0].prev_hash, std::string(64, '0'));
  auto rest = store().Read([&](ReadTx& tx) { return tx.ListAudit(page->back().seq, 100); });
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ((*rest)[0].seq, 5);
  EXPECT_TRUE(store().Read([](ReadTx& tx) { return tx.ListAudit(7, 100); })->empty());

  // A taken seq is a conflict (two writers that chained from the same record).
  auto duplicate = store().Write([](WriteTx& tx) { return tx.InsertAudit(MakeAudit(7, "hash-6")); });
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);
  // A record written in a unit that fails is rolled back with it.
  Status failed = store().RunWrite([](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(tx.InsertAudit(MakeAudit(8, "hash-7")));
    return Fail(ErrorCode::kForbidden, "no", "No.");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(store().Read([](ReadTx& tx) { return tx.LastAuditRecord(); }).value()->seq, 7);
  Reopen();
  EXPECT_EQ(store().Read([](ReadTx& tx) { return tx.ListAudit(0, 100); })->size(), 7u);
}

// Appends one record chained from AuditHead(), as the app does.
Status AppendFromHead(WriteTx& tx) {
  ROUNDS_ASSIGN_OR_RETURN(AuditChainHead head, tx.AuditHead());
  return tx.InsertAudit(MakeAudit(head.seq + 1, head.seq == 0 ? std::string(64, '0') : head.hash));
}

TEST_P(StoreContractTest, AuditTreeKeepsSubtreesOnceAndListsTheLeaves) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store().Write([](WriteTx& tx) -> Status {
      ROUNDS_ASSIGN_OR_RETURN(auto head, tx.AuditHead());
      return tx.InsertAudit(MakeAudit(head.seq + 1, head.seq == 0 ? std::string(64, '0') : head.hash));
    }));
  }
  auto hashes = store().Read([](ReadTx& tx) { return tx.ListAuditHashes(2, 2); });
  ASSERT_TRUE(hashes) << Describe(hashes);
  ASSERT_EQ(hashes->size(), 2u);
  EXPECT_EQ((*hashes)[0].seq, 3);
  EXPECT_EQ((*hashes)[0].hash, "hash-3");
  EXPECT_EQ((*hashes)[1].seq, 4);

  auto none = store().Read([](ReadTx& tx) { return tx.LastAuditTreeNode(8); });
  ASSERT_TRUE(none) << Describe(none);
  EXPECT_FALSE(*none);
  const std::string a(32, '\x01');
  std::string b(32, '\0');
  b[31] = '\xff';
  const std::vector<AuditTreeNode> nodes = {{8, 0, a}, {8, 1, b}, {9, 0, a}};
  ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertAuditTreeNodes(nodes); }));
  auto found = store().Read([](ReadTx& tx) { return tx.FindAuditTreeNode(8, 1); });
  ASSERT_TRUE(found && *found) << Describe(found);
  EXPECT_EQ(**found, b) << "a hash is kept byte for byte, zeros and all";
  auto missing = store().Read([](ReadTx& tx) { return tx.FindAuditTreeNode(8, 2); });
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto last = store().Read([](ReadTx& tx) { return tx.LastAuditTreeNode(8); });
  ASSERT_TRUE(last && *last);
  EXPECT_EQ(**last, 1);

  // A kept subtree never changes: keeping it again fails and the unit keeps nothing of itself.
  const std::vector<AuditTreeNode> again = {{8, 2, a}, {8, 1, a}};
  auto conflict = store().Write([&](WriteTx& tx) { return tx.InsertAuditTreeNodes(again); });
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict) << Describe(conflict);
  found = store().Read([](ReadTx& tx) { return tx.FindAuditTreeNode(8, 1); });
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(**found, b);
  missing = store().Read([](ReadTx& tx) { return tx.FindAuditTreeNode(8, 2); });
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_P(StoreContractTest, AuditHeadFollowsAppendsAndFailedUnits) {
  auto empty = store().Write([](WriteTx& tx) { return tx.AuditHead(); });
  ASSERT_TRUE(empty) << Describe(empty);
  EXPECT_EQ(empty->seq, 0);
  // Several appends in one unit and in separate units.
  ASSERT_TRUE(store().RunWrite([](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(AppendFromHead(tx));
    ROUNDS_RETURN_IF_ERROR(AppendFromHead(tx));
    ROUNDS_ASSIGN_OR_RETURN(AuditChainHead head, tx.AuditHead());
    if (head.seq != 2 || head.hash != "hash-2") return Fail(ErrorCode::kInternal, "head", "wrong head in the unit");
    return Ok();
  }));
  ASSERT_TRUE(store().RunWrite(AppendFromHead));
  // A unit that appends and then fails leaves the head where it was.
  Status failed = store().RunWrite([](WriteTx& tx) -> Status {
    ROUNDS_RETURN_IF_ERROR(AppendFromHead(tx));
    return Fail(ErrorCode::kForbidden, "no", "No.");
  });
  ASSERT_FALSE(failed);
  auto head = store().Write([](WriteTx& tx) { return tx.AuditHead(); });
  ASSERT_TRUE(head) << Describe(head);
  EXPECT_EQ(head->seq, 3);
  EXPECT_EQ(head->hash, "hash-3");
  // A record written with a seq of its own (not chained from the head) is what the head shows next.
  ASSERT_TRUE(store().Write([](WriteTx& tx) { return tx.InsertAudit(MakeAudit(4, "hash-3")); }));
  ASSERT_TRUE(store().RunWrite(AppendFromHead));
  Reopen();
  ASSERT_TRUE(store().RunWrite(AppendFromHead));
  auto all = store().Read([](ReadTx& tx) { return tx.ListAudit(0, 100); });
  ASSERT_TRUE(all) << Describe(all);
  ASSERT_EQ(all->size(), 6u);
  for (std::size_t i = 1; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].seq, (*all)[i - 1].seq + 1);
    EXPECT_EQ((*all)[i].prev_hash, (*all)[i - 1].hash);
  }
}

TEST_P(StoreContractTest, AuditSearchFiltersAndPagesBothWays) {
  for (std::int64_t seq = 1; seq <= 12; ++seq) {
    AuditRecord a = MakeAudit(seq, seq == 1 ? std::string(64, '0') : "hash-" + std::to_string(seq - 1));
    a.actor_id = seq % 2 ? 7 : 8;
    a.action = seq % 4 == 0 ? "auth.login" : "space.create";
    ASSERT_TRUE(store().Write([&](WriteTx& tx) { return tx.InsertAudit(a); }));
  }
  auto seqs = [&](const AuditQuery& q) {
    auto found = store().Read([&](ReadTx& tx) { return tx.SearchAudit(q); });
    EXPECT_TRUE(found) << Describe(found);
    std::vector<std::int64_t> out;
    for (const auto& r : *found) out.push_back(r.seq);
    return out;
  };
  EXPECT_EQ(seqs({.limit = 3}), (std::vector<std::int64_t>{12, 11, 10}));  // newest first
  EXPECT_EQ(seqs({.before_seq = 10, .limit = 3}), (std::vector<std::int64_t>{9, 8, 7}));
  EXPECT_EQ(seqs({.after_seq = 10, .limit = 5}), (std::vector<std::int64_t>{11, 12}));  // oldest first
  EXPECT_EQ(seqs({.actor_id = 8, .action_prefix = "auth.", .limit = 50}), (std::vector<std::int64_t>{12, 8, 4}));
  EXPECT_EQ(seqs({.action_prefix = "auth.logi", .limit = 50}).size(), 3u);
  EXPECT_TRUE(seqs({.action_prefix = "auth.x", .limit = 50}).empty());
  EXPECT_EQ(seqs({.object_type = "space", .object_id = "105", .limit = 50}), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(seqs({.outcome = AuditOutcome::kDenied, .limit = 50}), (std::vector<std::int64_t>{12, 9, 6, 3}));
  // Time is [from, to): MakeAudit puts record n at kNow + n.
  EXPECT_EQ(seqs({.from = kNow + 3, .to = kNow + 6, .limit = 50}), (std::vector<std::int64_t>{5, 4, 3}));
}

}  // namespace
}  // namespace rounds::store::storetest
