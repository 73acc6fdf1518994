#pragma once

#include <vector>

#include "core/result.h"
#include "model/object_type.h"
#include "storage/sqlite/connection.h"

namespace zebros::storage::sqlite {

// One step of merging the search indexes' segments, as the writer's upkeep (see Writer::Upkeep):
// true when a step did some merging. Every write group leaves an FTS5 segment and FTS5 merges
// them only as four gather on a level, so an index that grew by writes holds a dozen or more
// (25 after a bulk copy of 1.2M contacts), and a search looks each of its terms up in every one
// (the benchmark's searches: 0.55 ms of candidates each with 25 segments, 0.40 ms with one).
// Idle time merges any two on a level (the table's `usermerge` is 2), a few hundred pages a step.
core::Result<bool> MergeSearchIndexes(Connection& connection,
                                      const std::vector<model::ObjectTypePtr>& types);

}  // namespace zebros::storage::sqlite
