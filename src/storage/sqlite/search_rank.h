#pragma once

#include <sqlite3.h>

#include "core/result.h"

namespace zebros::storage::sqlite {

// Registers `zrank(fts_table)`, the ranking function of ranked search, on a connection.
//
// It is BM25's term-frequency saturation (k1 = 1.2) with column weights (a record's own fields
// 1.0, pii or not, its references' names 0.5), negated so smaller is better, as for bm25(); equal
// scores are ordered newest first by the query. Without BM25's two other parts:
// - IDF: search terms are ANDed, so every result holds every term and IDF would scale all of them
//   alike; what it costs is a count of each term's documents over the whole index on every query,
//   which for a common name among a million contacts dominates the search.
// - Length normalisation: it needs each candidate's column sizes, a lookup in FTS5's docsize
//   table per candidate — a third of a search read afresh over a million contacts (1,284 against
//   1,748 searches/s without it). A CRM record's searchable fields are short (names, title, city,
//   e-mail), and PostgreSQL's ts_rank, as Zebros calls it, does not normalise by length either:
//   both backends rank by the same things.
core::Status RegisterSearchRank(sqlite3* db);

}  // namespace zebros::storage::sqlite
