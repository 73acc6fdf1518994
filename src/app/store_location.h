#pragma once

#include <string>

namespace zebros::app {

// Where an install keeps its state: files in the data dir, and the database there (SQLite, the
// embedded default) or at a PostgreSQL URL.
struct StoreLocation {
  std::string data_dir;
  std::string database_url;  // postgres://… or empty for SQLite in the data dir
  int database_pool_size = 16;
  // PostgreSQL connections for ranked searches, besides the pool (see PgDatabaseOptions).
  int database_search_connections = 2;
  // A long-lived server (`serve`): the embedded database's writer merges the search indexes while
  // idle. The CLI's short runs leave the file as it is.
  bool serving = false;
  // For messages: the data dir, and the database host and name when it is not SQLite. Never
  // the URL's password.
  std::string Describe() const;
};

}  // namespace zebros::app
