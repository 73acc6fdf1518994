#include "app/environment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "domain/builtin_schemas.h"
#include "storage/postgres/pg_database.h"
#include "storage/sqlite/database.h"

namespace zebros::app {

std::string StoreLocation::Describe() const {
  if (database_url.empty()) return data_dir;
  auto url = boost::urls::parse_uri(database_url);
  const std::string prefix = data_dir.empty() ? "" : data_dir + ", ";
  if (!url) return prefix + "PostgreSQL";
  return prefix + "PostgreSQL at " + std::string(url->encoded_host_and_port()) +
         std::string(url->encoded_path());
}

namespace {

bool IsPostgresUrl(const std::string& url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

}  // namespace

core::Result<std::unique_ptr<storage::sql::Engine>> OpenDatabase(
    const StoreLocation& where, const std::vector<model::ObjectTypePtr>& types,
    const core::Clock& clock) {
  if (where.database_url.empty()) {
    auto database = storage::sqlite::Database::Open(
        where.data_dir + "/zebros.db", types, clock,
        where.serving ? std::optional(storage::sqlite::Writer::kUpkeepAfter) : std::nullopt);
    if (!database.ok()) return std::move(database).error();
    return std::unique_ptr<storage::sql::Engine>(std::move(database).value());
  }
  if (!IsPostgresUrl(where.database_url)) {
    return core::MakeError(core::Code::kBadRequest, "bad_database_url", "",
                           "the database URL must start with postgres:// or postgresql://");
  }
  storage::postgres::PgDatabaseOptions options;
  options.pool_size = where.database_pool_size;
  options.search_pool_size = where.database_search_connections;
  auto database = storage::postgres::PgDatabase::Open(where.database_url, types, clock, options);
  if (!database.ok()) return std::move(database).error();
  return std::unique_ptr<storage::sql::Engine>(std::move(database).value());
}

std::unique_ptr<Environment> Environment::Open(const StoreLocation& where) {
  const std::string& data_dir = where.data_dir;
  if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::cerr << "zebros: cannot create data dir " << data_dir << ": " << std::strerror(errno)
              << "\n";
    return nullptr;
  }
  auto env = std::make_unique<Environment>();
  env->data_dir = data_dir;
  const auto& types = domain::BuiltinObjectTypes();
  auto database = OpenDatabase(where, types, env->clock);
  if (!database.ok()) {
    std::cerr << "zebros: cannot open the database: " << database.error().detail << "\n";
    return nullptr;
  }
  env->database = std::move(database).value();
  env->directory =
      std::make_unique<storage::sql::SqlDirectoryStore>(*env->database, env->ids, types);
  env->identity = std::make_unique<storage::sql::SqlIdentityStore>(*env->database, env->ids);
  env->record_store = std::make_unique<storage::sql::SqlRecordStore>(*env->database);
  env->audit = std::make_unique<storage::sql::SqlAuditStore>(*env->database);
  env->schemas = std::make_unique<domain::SchemaRegistry>(*env->directory, types);
  env->records = std::make_unique<domain::RecordService>(*env->record_store, env->ids);
  env->authenticator = std::make_unique<auth::ApiKeyAuthenticator>(*env->directory, env->clock);
  return env;
}

bool WriteSecretFile(const std::string& path, const std::string& content) {
  ::unlink(path.c_str());  // a new file gets 0600 even if an old one was laxer
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool written =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  return written;
}

std::string ReadSecretLine() {
  std::string line;
  std::getline(std::cin, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

}  // namespace zebros::app
