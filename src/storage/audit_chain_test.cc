#include "storage/audit_chain.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/crypto.h"

namespace zebros::storage {
namespace {

AuditEntry Sample(std::int64_t seq, const std::string& tenant) {
  AuditEntry entry;
  entry.seq = seq;
  entry.tenant_id = tenant;
  entry.at = 1767225600000 + seq;
  entry.actor = "key:k1";
  entry.action = "record.update";
  entry.object = "contacts";
  entry.record_id = "con_1";
  entry.request_id = "req-" + std::to_string(seq);
  entry.ip = "127.0.0.1";
  return entry;
}

struct StoredRow {
  AuditEntry entry;
  std::string details;
};

// A well-formed chain of `count` entries for `tenant`, seqs starting at `first_seq` step 2.
std::vector<StoredRow> Chain(const std::string& tenant, int count, std::int64_t first_seq) {
  std::vector<StoredRow> rows;
  std::string prev(kAuditGenesisHash);
  for (int i = 0; i < count; ++i) {
    StoredRow row{Sample(first_seq + 2 * i, tenant), "{\"version\":" + std::to_string(i) + "}"};
    row.entry.prev_hash = prev;
    row.entry.hash = AuditHash(row.entry, row.details);
    prev = row.entry.hash;
    rows.push_back(row);
  }
  return rows;
}

AuditHead HeadOf(const std::vector<StoredRow>& rows) {
  return {rows.back().entry.tenant_id, rows.back().entry.seq, rows.back().entry.hash,
          static_cast<std::int64_t>(rows.size())};
}

AuditVerification Check(const std::vector<StoredRow>& rows, const std::vector<AuditHead>& heads) {
  AuditChainChecker checker;
  for (const auto& row : rows) checker.Add(row.entry, row.details);
  for (const auto& head : heads) checker.AddHead(head);
  return checker.Finish();
}

TEST(AuditHashTest, CoversEveryFieldButSeqAndTheParsedDetails) {
  AuditEntry entry = Sample(1, "ten_a");
  entry.prev_hash = std::string(kAuditGenesisHash);
  const std::string details = "{\"version\":1}";
  EXPECT_EQ(AuditHashInput(entry, details),
            "[\"zebros.audit.v1\",\"" + std::string(kAuditGenesisHash) +
                "\",\"ten_a\",1767225600001,\"key:k1\",\"record.update\",\"contacts\",\"con_1\","
                "\"req-1\",\"127.0.0.1\",\"{\\\"version\\\":1}\"]");
  EXPECT_EQ(AuditHash(entry, details), core::Sha256Hex(AuditHashInput(entry, details)));

  const std::string base = AuditHash(entry, details);
  auto changed = [&](auto mutate, std::string other_details = "{\"version\":1}") {
    AuditEntry copy = entry;
    mutate(copy);
    return AuditHash(copy, other_details);
  };
  EXPECT_EQ(changed([](AuditEntry& e) { e.seq = 99; }), base);
  EXPECT_EQ(changed([](AuditEntry& e) { e.details["x"] = 1; }), base);
  EXPECT_NE(changed([](AuditEntry&) {}, "{\"version\":2}"), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.prev_hash[0] = '1'; }), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.tenant_id = "ten_b"; }), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.at += 1; }), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.actor = "key:k2"; }), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.action = "record.delete"; }), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.object = "leads"; }), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.record_id = "con_2"; }), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.request_id = "other"; }), base);
  EXPECT_NE(changed([](AuditEntry& e) { e.ip = "10.0.0.1"; }), base);
}

TEST(AuditHashTest, FieldBoundariesAreUnambiguous) {
  AuditEntry a = Sample(1, "ten_a");
  AuditEntry b = a;
  a.actor = "x\",\"y";
  a.action = "z";
  b.actor = "x";
  b.action = "y\",\"z";
  EXPECT_NE(AuditHash(a, "{}"), AuditHash(b, "{}"));
}

TEST(AuditChainCheckerTest, IntactChainsOfSeveralTenantsPass) {
  auto a = Chain("ten_a", 4, 1);
  auto b = Chain("ten_b", 3, 2);
  std::vector<StoredRow> rows = a;
  rows.insert(rows.end(), b.begin(), b.end());
  const auto verdict = Check(rows, {HeadOf(a), HeadOf(b)});
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(verdict.entries, 7);
}

TEST(AuditChainCheckerTest, EmptyLogPasses) {
  const auto verdict = Check({}, {});
  EXPECT_TRUE(verdict.ok);
  EXPECT_EQ(verdict.entries, 0);
}

TEST(AuditChainCheckerTest, ChangedContentNamesThatEntryOnly) {
  auto rows = Chain("ten_a", 5, 1);
  const auto head = HeadOf(rows);
  rows[2].details = "{\"version\":42}";
  const auto verdict = Check(rows, {head});
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.tenant_id, "ten_a");
  EXPECT_EQ(verdict.seq, rows[2].entry.seq);
  EXPECT_EQ(verdict.entries, 5);
}

TEST(AuditChainCheckerTest, RehashedEntryIsCaughtByItsSuccessor) {
  auto rows = Chain("ten_a", 4, 1);
  const auto head = HeadOf(rows);
  rows[1].details = "{\"version\":42}";
  rows[1].entry.hash = AuditHash(rows[1].entry, rows[1].details);
  const auto verdict = Check(rows, {head});
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.seq, rows[2].entry.seq);
}

TEST(AuditChainCheckerTest, RemovedMiddleEntryNamesTheNextOne) {
  auto rows = Chain("ten_a", 4, 1);
  const auto head = HeadOf(rows);
  const std::int64_t next_seq = rows[2].entry.seq;
  rows.erase(rows.begin() + 1);
  const auto verdict = Check(rows, {head});
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.seq, next_seq);
}

TEST(AuditChainCheckerTest, RemovedNewestEntryIsCaughtByTheHead) {
  auto rows = Chain("ten_a", 3, 1);
  const auto head = HeadOf(rows);
  rows.pop_back();
  const auto verdict = Check(rows, {head});
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.seq, head.seq);
}

TEST(AuditChainCheckerTest, AllEntriesRemovedIsCaughtByTheHead) {
  auto rows = Chain("ten_a", 2, 1);
  const auto verdict = Check({}, {HeadOf(rows)});
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.tenant_id, "ten_a");
}

TEST(AuditChainCheckerTest, EntriesWithoutAHeadFail) {
  auto rows = Chain("ten_a", 2, 1);
  EXPECT_FALSE(Check(rows, {}).ok);
}

TEST(AuditChainCheckerTest, ReportsTheLowestBrokenSeqAcrossTenants) {
  auto a = Chain("ten_a", 4, 1);  // seqs 1 3 5 7
  auto b = Chain("ten_b", 4, 2);  // seqs 2 4 6 8
  const auto head_a = HeadOf(a), head_b = HeadOf(b);
  a[3].details = "{}";  // seq 7
  b[1].details = "{}";  // seq 4
  std::vector<StoredRow> rows = a;
  rows.insert(rows.end(), b.begin(), b.end());
  const auto verdict = Check(rows, {head_a, head_b});
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.tenant_id, "ten_b");
  EXPECT_EQ(verdict.seq, 4);
}

TEST(AuditChainCheckerTest, AnEntryMovedToAnotherTenantBreaksBothChains) {
  auto a = Chain("ten_a", 3, 1);
  auto b = Chain("ten_b", 3, 2);
  const auto head_a = HeadOf(a), head_b = HeadOf(b);
  a[1].entry.tenant_id = "ten_b";
  std::vector<StoredRow> rows{a[0], a[2], b[0], a[1], b[1], b[2]};
  const auto verdict = Check(rows, {head_a, head_b});
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.seq, a[1].entry.seq);
}

}  // namespace
}  // namespace zebros::storage
