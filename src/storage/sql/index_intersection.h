#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/object_type.h"
#include "model/principal.h"
#include "model/query.h"
#include "storage/record_store.h"
#include "storage/sql/query_compiler.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

// A list filtered by equality on two or more indexed fields, in creation order: the most common
// list of a CRM ("customers in Germany, newest first"). SQLite has no index intersection: it
// scans one field's index and reads every candidate's row to test the others, so a page costs a
// row read per candidate — thousands when the scanned value is common among recent rows and the
// other is not. This reads the fields' indexes side by side instead, each in (created_at, rowid)
// order, and leapfrogs them to their common entries (stepping a few entries, seeking further),
// then reads only the page's rows. Every index entry it reads is sequential and no row but the
// page's is touched. (PostgreSQL intersects indexes itself, with a bitmap AND.)
struct IntersectionPlan {
  struct Stream {
    std::string
        index;  // ix_<type>_<field>: (tenant_id, field, created_at) WHERE deleted_at IS NULL
    std::string column;        // o."field"
    boost::json::value value;  // the SQL value the field equals
  };
  std::vector<Stream> streams;
  bool descending = true;
};

// A plan when `query` is exactly that shape (no text, every condition an equality on a distinct
// indexed built-in field, ANDed, at least two; sorted by created_at or by default; a caller who
// sees the whole object); nullopt otherwise.
std::optional<IntersectionPlan> PlanIntersection(const model::ObjectType& type,
                                                 const model::Principal& principal,
                                                 const model::Query& query, Dialect dialect);

// The page `compiled` (the same query, compiled as usual: its limit, cursor and signature) asks
// for, read by the plan. The same records, order and next cursor as compiled.sql gives.
core::Result<Page> ListByIntersection(Session& session, const model::ObjectType& type,
                                      const model::Principal& principal,
                                      const IntersectionPlan& plan, const CompiledQuery& compiled);

}  // namespace zebros::storage::sql
