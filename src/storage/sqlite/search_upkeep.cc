#include "storage/sqlite/search_upkeep.h"

#include "storage/sql/record_codec.h"

namespace zebros::storage::sqlite {
namespace {
// Pages written per step and index: about a megabyte, a few milliseconds of the writer's time,
// so work that arrives meanwhile waits little.
constexpr int kMergePagesPerStep = 256;
}  // namespace

core::Result<bool> MergeSearchIndexes(Connection& connection,
                                      const std::vector<model::ObjectTypePtr>& types) {
  bool merged = false;
  for (const auto& type : types) {
    const std::string fts = sql::SearchTableName(*type);
    // FTS5 counts a step that merged as two or more changes, one that found nothing as fewer.
    const sqlite3_int64 before = sqlite3_total_changes64(connection.handle());
    auto status = connection.Exec("INSERT INTO " + fts + " (" + fts + ", rank) VALUES ('merge', " +
                                  std::to_string(kMergePagesPerStep) + ")");
    if (!status.ok()) return std::move(status).error();
    if (sqlite3_total_changes64(connection.handle()) - before >= 2) merged = true;
  }
  return merged;
}

}  // namespace zebros::storage::sqlite
