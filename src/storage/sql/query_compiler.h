#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "model/object_type.h"
#include "model/principal.h"
#include "model/query.h"
#include "model/record.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

// A list or search query turned into one parameterised SELECT. Values are never spliced into
// the SQL text: only identifiers from the schema and fixed operators are.
struct CompiledQuery {
  std::string sql;
  std::vector<boost::json::value> params;  // SQL values, bound 1..n in order
  int limit = 0;                           // rows the caller asked for (the SQL asks one more)
  // After the record columns, the SQL selects one column per sort key; the next cursor is built
  // from the last row's values of those (plus its rowid), or from the offset in rank order.
  int sort_key_count = 0;
  bool rank_order = false;
  std::int64_t offset = 0;
  // Rank order: how many of the newest matches are ranked (200, or the page size if larger);
  // the pages of one search end there.
  std::int64_t window = 0;
  std::string signature;           // ties a cursor to the sort and text it was issued for
  boost::json::array cursor_keys;  // the keyset cursor's sort-key values (rowid last); or empty
  bool empty_result = false;       // the text has no searchable terms: nothing can match
};

// kBadRequest `invalid_filter` for unknown fields, `invalid_cursor` for a cursor not issued for
// this sort. The tenant is bound as the first parameter. Free text matches pii values only when
// the principal does not see them masked (`mask_pii`); refusing filters and sorts on pii fields
// is the domain's job (CheckQueryAvoidsPii).
core::Result<CompiledQuery> CompileQuery(const model::ObjectType& type,
                                         const model::Principal& principal,
                                         const model::Query& query, Dialect dialect);

// Encodes the cursor that continues after a row whose sort-key SQL values are `keys` (rowid
// last), or after `offset` rows of a ranked `window` in rank order.
std::string EncodeKeysetCursor(const std::string& signature, const boost::json::array& keys);
std::string EncodeOffsetCursor(const std::string& signature, std::int64_t offset,
                               std::int64_t window);

// The FTS5 query for free text `text`: every term must match, the last one as a prefix.
// Without `match_pii` the terms match only the `body` and `related` columns, never `pii`: a
// principal who sees pii masked must not find a record by a value it cannot see.
// Empty when `text` has no terms.
std::string BuildMatchExpression(std::string_view text, bool match_pii);
// The PostgreSQL tsquery for free text: the same terms, all required, the last as a prefix.
std::string BuildTsQuery(std::string_view text);

}  // namespace zebros::storage::sql
