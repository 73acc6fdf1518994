#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/object_type.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

// PostgreSQL's ts_rank weights for D, C (pii), B (related names) and A (own values): pii counts
// as much as own values. A search ranks with them, and the term table holds each term's share.
inline constexpr const char* kPgRankWeights = "'{0.1, 1.0, 0.4, 1.0}'";

// Keeps the search index in step with the records, inside the write transaction: SQLite's
// fts_<type> table, or PostgreSQL's search_body/search_all columns of the row (whose term table
// fts_<type> follows search_all by trigger: see SyncPgTermTable). Each row indexes
// three texts: `body`, the record's own searchable values that are not pii; `related`, the display
// names of the records its searchable built-in references point to — so a contact is found by
// its account's name, and renaming the account re-indexes its contacts; and `pii`, its
// searchable pii values, which a principal who sees pii masked does not match (see
// BuildMatchExpression).
class SearchIndex {
 public:
  // `types`: the built-in object types (the only ones whose references are followed).
  explicit SearchIndex(const std::vector<model::ObjectTypePtr>& types) : types_(types) {}

  core::Status Write(Session& connection, const model::ObjectType& type,
                     const std::string& tenant_id, std::int64_t rowid,
                     const boost::json::object& values, bool insert);

  // PostgreSQL keeps the vectors on the record's row, so a record write sets them in its own
  // INSERT or UPDATE (one row version, one pass over the indexes): the expressions
  // PgBodyVectorSql() (two parameters) and PgAllVectorSql() (three) take the five texts of
  // PgVectorParams, in order.
  core::Result<std::vector<std::string>> PgVectorParams(Session& connection,
                                                        const model::ObjectType& type,
                                                        const std::string& tenant_id,
                                                        const boost::json::object& values);
  static std::string PgBodyVectorSql();
  static std::string PgAllVectorSql();

  // Takes a soft-deleted record out of the index (Write with insert puts a restored one back).
  core::Status Remove(Session& connection, const model::ObjectType& type, std::int64_t rowid);

  // Fills the (empty) index of `type` from the live rows of its table, each tenant's rows with
  // that tenant's custom fields. For an index laid out anew by SyncObjectTable.
  core::Status Rebuild(Session& connection, const model::ObjectType& type);

  // Call after a record of `type` was written whose display fields may have changed from
  // `previous` to `current`; refreshes `related` of every record that references it.
  core::Status RefreshReferrers(Session& connection, const model::ObjectType& type,
                                const std::string& tenant_id, const std::string& id,
                                const boost::json::object& previous,
                                const boost::json::object& current);

 private:
  core::Result<std::string> RelatedText(Session& connection, const model::ObjectType& type,
                                        const std::string& tenant_id,
                                        const boost::json::object& values);
  const model::ObjectType* FindType(const std::string& name) const;

  const std::vector<model::ObjectTypePtr>& types_;
};

// Each tenant's `type` that has custom fields: the built-in type plus the tenant's custom fields
// of that object. Tenants without any are absent (they see `type` itself).
core::Result<std::map<std::string, model::ObjectType>> TenantTypes(Session& session,
                                                                   const model::ObjectType& type);

// True for a built-in reference field whose target's display name is searched with the record.
bool IsSearchableReference(const model::Field& field);

}  // namespace zebros::storage::sql
