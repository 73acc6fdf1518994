#pragma once

#include "storage/audit_store.h"
#include "storage/sql/engine.h"

namespace zebros::storage::sql {

// AuditStore over an Engine (SQLite or PostgreSQL): each Append is one piece of the tenant's
// write group, reads borrow a read session. Thread-safe.
class SqlAuditStore final : public AuditStore {
 public:
  explicit SqlAuditStore(Engine& database) : database_(database) {}

  void Append(const model::Principal& principal, AuditEntry entry,
              std::function<void(core::Status)> done) override;
  core::Result<AuditPage> List(const std::string& tenant_id, const AuditQuery& query) override;
  // Reads every entry inside one read transaction, so a server appending meanwhile never makes a
  // consistent log look broken.
  core::Result<AuditVerification> Verify() override;

 private:
  Engine& database_;
};

}  // namespace zebros::storage::sql
