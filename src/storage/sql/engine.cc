#include "storage/sql/engine.h"

#include "storage/sql/record_codec.h"

namespace zebros::storage::sql {

void Engine::ReadAsync(const std::string& sql, const std::vector<boost::json::value>& params,
                       ReadDone done) {
  auto reader = Reader();
  if (!reader.ok()) return done(std::move(reader).error());
  auto stmt = (*reader)->Prepare(sql);
  if (!stmt.ok()) return done(std::move(stmt).error());
  for (std::size_t i = 0; i < params.size(); ++i) {
    BindSqlValue(*stmt, static_cast<int>(i) + 1, params[i]);
  }
  done(std::move(stmt));
}

}  // namespace zebros::storage::sql
