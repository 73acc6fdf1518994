#include "storage/sql/record_scope.h"

namespace zebros::storage::sql {

std::string ScopeCondition(const model::ObjectType& type, const model::Principal& principal,
                           std::vector<boost::json::value>& params) {
  if (principal.ScopeFor(type.name) == model::RecordScope::kAll) return {};
  const model::Field* owner = type.FindField("owner_id");
  if (owner == nullptr || owner->custom) return {};
  const auto owners = principal.VisibleOwners(type.name);
  if (owners.empty()) return " AND FALSE";
  std::string sql = " AND o.owner_id IN (";
  for (std::size_t i = 0; i < owners.size(); ++i) {
    sql += i ? ", ?" : "?";
    params.emplace_back(owners[i]);
  }
  return sql + ")";
}

}  // namespace zebros::storage::sql
