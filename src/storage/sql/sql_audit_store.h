#pragma once

#include <cstdint>

#include "storage/audit_store.h"
#include "storage/sql/engine.h"

namespace zebros::storage::sql {

// AuditStore over an Engine (SQLite or PostgreSQL): each Append is one piece of the tenant's
// write group, reads borrow a read session. Thread-safe.
class SqlAuditStore final : public AuditStore {
 public:
  // Entries Verify reads per statement, by default.
  static constexpr std::int64_t kVerifyPageSize = 10000;

  explicit SqlAuditStore(Engine& database, std::int64_t verify_page_size = kVerifyPageSize)
      : database_(database), verify_page_size_(verify_page_size) {}

  void Append(const model::Principal& principal, AuditEntry entry,
              std::function<void(core::Status)> done) override;
  core::Result<AuditPage> List(const std::string& tenant_id, const AuditQuery& query) override;
  // Reads every entry inside one read transaction, so a server appending meanwhile never makes a
  // consistent log look broken; verify_page_size entries per statement, so neither the client's
  // memory nor a statement's time grows with the log.
  core::Result<AuditVerification> Verify() override;

 private:
  Engine& database_;
  const std::int64_t verify_page_size_;
};

}  // namespace zebros::storage::sql
