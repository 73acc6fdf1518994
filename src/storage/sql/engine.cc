#include "storage/sql/engine.h"

#include "storage/sql/record_codec.h"

namespace zebros::storage::sql {

void Engine::ReadAsync(const std::string& sql, const std::vector<boost::json::value>& params,
                       ReadDone done) {
  auto reader = Reader();
  if (!reader.ok()) return done(std::move(reader).error());
  done(PrepareBound(**reader, sql, params));
}

}  // namespace zebros::storage::sql
