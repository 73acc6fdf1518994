#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/sql/engine.h"

namespace zebros::storage::sql {

struct TransferOptions {
  // Copy into a target that already holds data, skipping rows it has (by primary key): how an
  // interrupted transfer is finished. Without it a target with any tenant is refused.
  bool resume = false;
  int batch_rows = 1000;  // rows per target transaction
};

// Rows of one table: copied so far and in all.
struct TransferProgress {
  std::string table;
  std::int64_t copied = 0;
  std::int64_t total = 0;
};

struct TableCount {
  std::string table;
  std::int64_t source = 0;
  std::int64_t target = 0;
};

struct TransferReport {
  std::vector<TableCount> tables;  // every copied table, counted on both sides afterwards
  std::int64_t audit_entries = 0;  // verified on the target
};

// Copies a whole install — tenants, users, keys, custom fields, records, the audit chain and the
// identity provider's sessions — from `source` into `target`, table by table in batches, then
// lays out the target's search index, moves its key sequences past the copied rows, counts every
// table on both sides and verifies the target's audit chain. kConflict (`target_not_empty`) when
// the target holds a tenant and !resume; kInternal (`transfer_mismatch`) naming the first table
// whose counts differ or the first broken audit entry. Nothing may write to either database
// meanwhile (servers stopped).
core::Result<TransferReport> Transfer(Engine& source, Engine& target,
                                      const TransferOptions& options,
                                      const std::function<void(const TransferProgress&)>& progress);

}  // namespace zebros::storage::sql
