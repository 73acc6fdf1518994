#include "storage/sqlite/search_rank.h"

#include <array>
#include <vector>

namespace zebros::storage::sqlite {
namespace {

constexpr double kK1 = 1.2;
// body, related, pii: a record's own values weigh alike whether or not they are personal data.
constexpr std::array<double, 3> kColumnWeights = {1.0, 0.5, 1.0};

void SearchRank(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* context,
                int /*argc*/, sqlite3_value** /*argv*/) {
  const int phrases = api->xPhraseCount(fts);
  const int columns = api->xColumnCount(fts);
  if (phrases <= 0 || columns <= 0) {
    sqlite3_result_error_code(context, SQLITE_ERROR);
    return;
  }
  // Term frequency per (phrase, column) in this row, from the posting lists already read.
  std::vector<int> frequency(static_cast<std::size_t>(phrases * columns), 0);
  int instances = 0;
  if (api->xInstCount(fts, &instances) != SQLITE_OK) {
    sqlite3_result_error_code(context, SQLITE_ERROR);
    return;
  }
  for (int i = 0; i < instances; ++i) {
    int phrase = 0, column = 0, offset = 0;
    if (api->xInst(fts, i, &phrase, &column, &offset) != SQLITE_OK) continue;
    ++frequency[static_cast<std::size_t>(phrase * columns + column)];
  }
  double score = 0;
  for (int column = 0; column < columns; ++column) {
    const double weight =
        column < static_cast<int>(kColumnWeights.size()) ? kColumnWeights[column] : 1.0;
    for (int phrase = 0; phrase < phrases; ++phrase) {
      const int tf = frequency[static_cast<std::size_t>(phrase * columns + column)];
      if (tf > 0) score += weight * tf * (kK1 + 1) / (tf + kK1);
    }
  }
  sqlite3_result_double(context, -score);
}

}  // namespace

core::Status RegisterSearchRank(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (api == nullptr || api->iVersion < 2 ||
      api->xCreateFunction(api, "zrank", nullptr, &SearchRank, nullptr) != SQLITE_OK) {
    return core::MakeError(core::Code::kUnavailable, "database_unavailable",
                           "The database could not be opened.",
                           "FTS5 is missing: cannot register zrank()");
  }
  return core::OkStatus();
}

}  // namespace zebros::storage::sqlite
