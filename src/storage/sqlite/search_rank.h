#pragma once

#include <sqlite3.h>

#include "core/result.h"

namespace zebros::storage::sqlite {

// Registers `zrank(fts_table)`, the ranking function of ranked search, on a connection.
//
// It is BM25 (k1 = 1.2, b = 0.75) without the IDF factor, with column weights (a record's own
// fields 1.0, pii or not, its references' names 0.5), negated so smaller is better, as for bm25().
// Search terms are ANDed, so every result holds every term and IDF would scale all of them alike;
// what it costs is a count of each term's documents over the whole index on every query, which for
// a common name among a million contacts dominates the search.
core::Status RegisterSearchRank(sqlite3* db);

}  // namespace zebros::storage::sqlite
