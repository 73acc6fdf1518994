#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "model/object_type.h"
#include "model/principal.h"

namespace zebros::storage::sql {

// The SQL that keeps a caller to the records its scope shows (model::RecordScope): empty when it
// sees all of the tenant's records of `type` (or the type has no owner), else
// " AND o.owner_id IN (?, …)" with the owner ids appended to `params`, or " AND 0" when it may
// see none. Every read, list, search and write path appends it next to the tenant condition.
std::string ScopeCondition(const model::ObjectType& type, const model::Principal& principal,
                           std::vector<boost::json::value>& params);

}  // namespace zebros::storage::sql
