// SqliteTx: the audit trail's batched search indexes and filtered search (schema:
// migrations/sqlite/0003_audit.sql, 0006_audit_batched_index.sql, 0027_patient_refs.sql and
// 0029_patient_index_keys.sql), and the Merkle tree's kept subtrees (0030_audit_tree.sql). Appending and paging by seq
// are in sqlite_tx.cpp.
//
// A search with a patient, an actor, or an object type and id, walks that index table from its seq bound
// and joins the records; the records after audit_index_state.indexed_seq (the tail the writer has
// not indexed yet, a few thousand at most) are read by walking audit_log itself. Any other search
// walks audit_log's primary key. A page costs what it returns plus what the filters skip.
#include <algorithm>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_rows.hpp"
#include "store/sqlite/sqlite_tx.hpp"

namespace rounds::store::sqlite {
namespace {

// One statement per access path and direction; an unset filter is bound as NULL (or '') and
// matches everything, so no SQL is ever built from input. ?1 actor, ?2 action prefix, ?3 object
// type, ?4 object id, ?5 outcome, ?6 from, ?7 to, ?8 seq bound (before or after), ?9 limit,
// ?10 indexed_seq, ?11 patient reference (one of a record's space-separated ones), ?12 its key in
// audit_index_patient (PatientKey).
#define ROUNDS_AUDIT_SELECT_A                                                                          \
  "SELECT a.seq, a.time, a.actor_id, a.actor_role, a.action, a.object_type, a.object_id, "             \
  "a.patient_ref, a.outcome, a.address, a.session_hash, a.reason, a.details, a.prev_hash, a.hash "
#define ROUNDS_AUDIT_FILTERS_A                                                                         \
  "(?1 IS NULL OR a.actor_id = ?1) "                                                                   \
  "AND (?2 = '' OR substr(a.action, 1, length(?2)) = ?2) "                                             \
  "AND (?3 = '' OR a.object_type = ?3) AND (?4 = '' OR a.object_id = ?4) "                             \
  "AND (?5 IS NULL OR a.outcome = ?5) AND (?6 IS NULL OR a.time >= ?6) AND (?7 IS NULL OR a.time < ?7) "  \
  "AND (?11 = '' OR instr(' ' || a.patient_ref || ' ', ' ' || ?11 || ' ') > 0) "

// Walking audit_log (every search without an indexed filter, and the unindexed tail of the rest).
constexpr const char kLogNewestFirst[] =
    ROUNDS_AUDIT_SELECT_A "FROM audit_log a WHERE " ROUNDS_AUDIT_FILTERS_A
    "AND (?8 IS NULL OR a.seq < ?8) AND a.seq > ?10 ORDER BY a.seq DESC LIMIT ?9";
constexpr const char kLogOldestFirst[] =
    ROUNDS_AUDIT_SELECT_A "FROM audit_log a WHERE " ROUNDS_AUDIT_FILTERS_A
    "AND a.seq > max(?8, ?10) ORDER BY a.seq LIMIT ?9";

// Walking an index table up to indexed_seq. CROSS JOIN keeps the index table the outer loop.
constexpr const char kActorNewestFirst[] =
    ROUNDS_AUDIT_SELECT_A "FROM audit_index_actor i CROSS JOIN audit_log a ON a.seq = i.seq "
    "WHERE i.actor_id = ?1 AND i.seq <= ?10 AND (?8 IS NULL OR i.seq < ?8) AND " ROUNDS_AUDIT_FILTERS_A
    "ORDER BY i.seq DESC LIMIT ?9";
constexpr const char kActorOldestFirst[] =
    ROUNDS_AUDIT_SELECT_A "FROM audit_index_actor i CROSS JOIN audit_log a ON a.seq = i.seq "
    "WHERE i.actor_id = ?1 AND i.seq <= ?10 AND i.seq > ?8 AND " ROUNDS_AUDIT_FILTERS_A
    "ORDER BY i.seq LIMIT ?9";
constexpr const char kObjectNewestFirst[] =
    ROUNDS_AUDIT_SELECT_A "FROM audit_index_object i CROSS JOIN audit_log a ON a.seq = i.seq "
    "WHERE i.object_type = ?3 AND i.object_id = ?4 AND i.seq <= ?10 AND (?8 IS NULL OR i.seq < ?8) AND "
    ROUNDS_AUDIT_FILTERS_A "ORDER BY i.seq DESC LIMIT ?9";
constexpr const char kObjectOldestFirst[] =
    ROUNDS_AUDIT_SELECT_A "FROM audit_index_object i CROSS JOIN audit_log a ON a.seq = i.seq "
    "WHERE i.object_type = ?3 AND i.object_id = ?4 AND i.seq <= ?10 AND i.seq > ?8 AND "
    ROUNDS_AUDIT_FILTERS_A "ORDER BY i.seq LIMIT ?9";
constexpr const char kPatientNewestFirst[] =
    ROUNDS_AUDIT_SELECT_A "FROM audit_index_patient i CROSS JOIN audit_log a ON a.seq = i.seq "
    "WHERE i.patient_key = ?12 AND i.seq <= ?10 AND (?8 IS NULL OR i.seq < ?8) AND " ROUNDS_AUDIT_FILTERS_A
    "ORDER BY i.seq DESC LIMIT ?9";
constexpr const char kPatientOldestFirst[] =
    ROUNDS_AUDIT_SELECT_A "FROM audit_index_patient i CROSS JOIN audit_log a ON a.seq = i.seq "
    "WHERE i.patient_key = ?12 AND i.seq <= ?10 AND i.seq > ?8 AND " ROUNDS_AUDIT_FILTERS_A
    "ORDER BY i.seq LIMIT ?9";
#undef ROUNDS_AUDIT_FILTERS_A
#undef ROUNDS_AUDIT_SELECT_A

constexpr const char kIndexedSeq[] = "SELECT indexed_seq FROM audit_index_state WHERE id = 1";
// The next batch of records to index: how many, and the last one's seq.
constexpr const char kUnindexed[] =
    "SELECT count(*), coalesce(max(seq), 0) FROM (SELECT seq FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2)";
// Each index's entries for records (?1, ?2], inserted in key order so that each index page is
// visited once per batch; SQLite sorts them, and no row passes through the caller.
constexpr const char kIndexActor[] =
    "INSERT OR IGNORE INTO audit_index_actor (actor_id, seq) "
    "SELECT actor_id, seq FROM audit_log WHERE seq > ?1 AND seq <= ?2 ORDER BY actor_id, seq";
constexpr const char kIndexObject[] =
    "INSERT OR IGNORE INTO audit_index_object (object_type, object_id, seq) "
    "SELECT object_type, object_id, seq FROM audit_log WHERE seq > ?1 AND seq <= ?2 "
    "ORDER BY object_type, object_id, seq";
// A record's patient references, one entry each: read here, split at the spaces between them,
// turned into their keys (PatientKey) and inserted in key order by the caller. Split in SQL (a
// recursive substr of the rest), a record naming the 20-odd patients of a page of 50 messages
// copied its list once per reference, and the writer spent more time on that than on anything
// else an audited read asked of it.
constexpr const char kPatientRefsOf[] =
    "SELECT seq, patient_ref FROM audit_log WHERE seq > ?1 AND seq <= ?2 AND patient_ref != ''";
constexpr const char kIndexPatient[] = "INSERT OR IGNORE INTO audit_index_patient (patient_key, seq) VALUES (?1, ?2)";
constexpr const char kSetIndexedSeq[] = "UPDATE audit_index_state SET indexed_seq = ?1 WHERE id = 1";
// Records up to ?1 without their entry in each index, and entries no record up to ?1 matches; each
// probe is a primary-key lookup, so the check costs a walk of the log and of each index.
constexpr const char kIndexMismatch[] =
    "SELECT min(seq) FROM ("
    "SELECT a.seq FROM audit_log a WHERE a.seq <= ?1 AND NOT EXISTS "
    "(SELECT 1 FROM audit_index_actor i WHERE i.actor_id = a.actor_id AND i.seq = a.seq) "
    "UNION ALL SELECT a.seq FROM audit_log a WHERE a.seq <= ?1 AND NOT EXISTS "
    "(SELECT 1 FROM audit_index_object i WHERE i.object_type = a.object_type AND i.object_id = a.object_id "
    "AND i.seq = a.seq) "
    "UNION ALL SELECT i.seq FROM audit_index_actor i WHERE NOT EXISTS "
    "(SELECT 1 FROM audit_log a WHERE a.seq = i.seq AND a.actor_id = i.actor_id AND a.seq <= ?1) "
    "UNION ALL SELECT i.seq FROM audit_index_object i WHERE NOT EXISTS "
    "(SELECT 1 FROM audit_log a WHERE a.seq = i.seq AND a.object_type = i.object_type "
    "AND a.object_id = i.object_id AND a.seq <= ?1) "
    // Each patient reference of a record up to ?1 has its entry, and each entry is one of its record's.
    "UNION ALL SELECT seq FROM (WITH RECURSIVE split(seq, ref, rest) AS ("
    "SELECT seq, '', patient_ref || ' ' FROM audit_log WHERE seq <= ?1 AND patient_ref != '' "
    "UNION ALL SELECT seq, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1) "
    "FROM split WHERE rest != '') "
    "SELECT s.seq FROM split s WHERE s.ref != '' AND NOT EXISTS "
    "(SELECT 1 FROM audit_index_patient i WHERE i.patient_key = rounds_patient_key(s.ref) AND i.seq = s.seq)) "
    "UNION ALL SELECT i.seq FROM audit_index_patient i WHERE NOT EXISTS "
    "(SELECT 1 FROM audit_log a WHERE a.seq = i.seq AND a.seq <= ?1 "
    "AND instr(' ' || a.patient_ref || ' ', ' ' || rounds_patient_ref(i.patient_key) || ' ') > 0))";

// The Merkle tree's leaves and kept subtrees.
constexpr const char kListAuditHashes[] = "SELECT seq, hash FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2";
constexpr const char kFindTreeNode[] = "SELECT hash FROM audit_tree WHERE level = ?1 AND idx = ?2";
constexpr const char kLastTreeNode[] = "SELECT max(idx) FROM audit_tree WHERE level = ?1";
constexpr const char kInsertTreeNode[] = "INSERT INTO audit_tree (level, idx, hash) VALUES (?1, ?2, ?3)";

}  // namespace

Result<std::vector<AuditChainHead>> SqliteTx::ListAuditHashes(std::int64_t after_seq, int limit) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kListAuditHashes));
  s->Bind(1, after_seq).Bind(2, limit <= 0 ? 1000 : limit);
  return ReadAll<AuditChainHead>(*s, [](const Statement& r) { return AuditChainHead{r.Int(0), r.Text(1)}; });
}

Result<std::optional<std::string>> SqliteTx::FindAuditTreeNode(int level, std::int64_t idx) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kFindTreeNode));
  s->Bind(1, level).Bind(2, idx);
  return ReadOne<std::string>(*s, [](const Statement& r) { return r.Blob(0); });
}

Result<std::optional<std::int64_t>> SqliteTx::LastAuditTreeNode(int level) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kLastTreeNode));
  s->Bind(1, level);
  ROUNDS_ASSIGN_OR_RETURN(auto last, ReadOne<std::optional<std::int64_t>>(
                                         *s, [](const Statement& r) { return r.OptionalInt(0); }));
  return last ? *last : std::nullopt;
}

Status SqliteTx::InsertAuditTreeNodes(std::span<const AuditTreeNode> nodes) {
  for (const AuditTreeNode& node : nodes) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kInsertTreeNode));
    s->Bind(1, node.level).Bind(2, node.idx).BindBlobView(3, node.hash);
    ROUNDS_RETURN_IF_ERROR(s->Run());
  }
  return Ok();
}

Result<std::int64_t> SqliteTx::AuditIndexedSeq() {
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kIndexedSeq));
  ROUNDS_ASSIGN_OR_RETURN(auto seq, ReadOne<std::int64_t>(*s, [](const Statement& r) { return r.Int(0); }));
  return seq.value_or(0);
}

Result<std::optional<std::int64_t>> SqliteTx::FirstAuditIndexMismatch() {
  ROUNDS_ASSIGN_OR_RETURN(std::int64_t indexed, AuditIndexedSeq());
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kIndexMismatch));
  s->Bind(1, indexed);
  ROUNDS_ASSIGN_OR_RETURN(auto first, ReadOne<std::optional<std::int64_t>>(
                                          *s, [](const Statement& r) { return r.OptionalInt(0); }));
  return first ? *first : std::nullopt;
}

Status SqliteTx::IndexPatients(std::int64_t after, std::int64_t upto) {
  ROUNDS_ASSIGN_OR_RETURN(Statement * read, db_.Prepare(kPatientRefsOf));
  read->Bind(1, after).Bind(2, upto);
  // (key, seq). A reference of another form has no key and no entry: verification names its
  // record, which only a hand could have put there.
  std::vector<std::pair<std::int64_t, std::int64_t>> entries;
  while (true) {
    ROUNDS_ASSIGN_OR_RETURN(bool row, read->Step());
    if (!row) break;
    const std::int64_t seq = read->Int(0);
    const std::string refs = read->Text(1);
    domain::ForEachPatientRef(refs, [&](std::string_view ref) {
      if (auto key = PatientKey(ref)) entries.emplace_back(*key, seq);
    });
  }
  read->Reset();
  // In key order, so that each index page is visited once per batch.
  std::sort(entries.begin(), entries.end());
  for (const auto& [key, seq] : entries) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * insert, db_.Prepare(kIndexPatient));  // reset for each row
    ROUNDS_RETURN_IF_ERROR(insert->Bind(1, key).Bind(2, seq).Run());
  }
  return Ok();
}

Result<int> SqliteTx::IndexAudit(int limit) {
  ROUNDS_ASSIGN_OR_RETURN(std::int64_t indexed, AuditIndexedSeq());
  ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(kUnindexed));
  s->Bind(1, indexed).Bind(2, std::max(1, limit));
  struct Batch {
    std::int64_t count = 0;
    std::int64_t last = 0;
  };
  ROUNDS_ASSIGN_OR_RETURN(auto batch, ReadOne<Batch>(*s, [](const Statement& r) { return Batch{r.Int(0), r.Int(1)}; }));
  if (!batch || batch->count == 0) return 0;
  for (const char* sql : {kIndexActor, kIndexObject}) {
    ROUNDS_ASSIGN_OR_RETURN(Statement * index, db_.Prepare(sql));
    ROUNDS_RETURN_IF_ERROR(index->Bind(1, indexed).Bind(2, batch->last).Run());
  }
  ROUNDS_RETURN_IF_ERROR(IndexPatients(indexed, batch->last));
  ROUNDS_ASSIGN_OR_RETURN(Statement * state, db_.Prepare(kSetIndexedSeq));
  state->Bind(1, batch->last);
  ROUNDS_RETURN_IF_ERROR(state->Run());
  return static_cast<int>(batch->count);
}

Result<std::vector<AuditRecord>> SqliteTx::SearchAudit(const AuditQuery& q) {
  const bool oldest_first = q.after_seq.has_value();
  const int limit = q.limit <= 0 ? 50 : q.limit;
  const char* indexed_sql = nullptr;
  if (!q.patient_ref.empty()) {
    indexed_sql = oldest_first ? kPatientOldestFirst : kPatientNewestFirst;  // a patient's records are few
  } else if (q.actor_id) {
    indexed_sql = oldest_first ? kActorOldestFirst : kActorNewestFirst;
  } else if (!q.object_type.empty() && !q.object_id.empty()) {
    indexed_sql = oldest_first ? kObjectOldestFirst : kObjectNewestFirst;
  }
  // Without an indexed filter, the whole log is "the tail": every seq, a forged one below 1 too.
  std::int64_t indexed_seq = std::numeric_limits<std::int64_t>::min();
  if (indexed_sql != nullptr) {
    ROUNDS_ASSIGN_OR_RETURN(indexed_seq, AuditIndexedSeq());
  }
  auto run = [&](const char* sql, int rows) -> Result<std::vector<AuditRecord>> {
    ROUNDS_ASSIGN_OR_RETURN(Statement * s, db_.Prepare(sql));
    s->Bind(1, q.actor_id).Bind(2, q.action_prefix).Bind(3, q.object_type).Bind(4, q.object_id);
    if (q.outcome) {
      s->Bind(5, ToString(*q.outcome));
    } else {
      s->BindNull(5);
    }
    s->Bind(6, q.from).Bind(7, q.to);
    if (oldest_first) {
      s->Bind(8, *q.after_seq);
    } else {
      s->Bind(8, q.before_seq);
    }
    s->Bind(9, rows).Bind(10, indexed_seq).Bind(11, q.patient_ref).Bind(12, PatientKey(q.patient_ref));
    return ReadAll<AuditRecord>(*s, ReadAudit);
  };
  // The tail is newer than anything indexed: newest first reads it first, oldest first last.
  const char* tail_sql = oldest_first ? kLogOldestFirst : kLogNewestFirst;
  const char* first = oldest_first && indexed_sql != nullptr ? indexed_sql : tail_sql;
  const char* second = indexed_sql == nullptr ? nullptr : (first == tail_sql ? indexed_sql : tail_sql);
  ROUNDS_ASSIGN_OR_RETURN(auto records, run(first, limit));
  if (second != nullptr && static_cast<int>(records.size()) < limit) {
    ROUNDS_ASSIGN_OR_RETURN(auto more, run(second, limit - static_cast<int>(records.size())));
    records.insert(records.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return records;
}

}  // namespace rounds::store::sqlite
