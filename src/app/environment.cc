#include "app/environment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "domain/builtin_schemas.h"

namespace zebros::app {

std::unique_ptr<Environment> Environment::Open(const std::string& data_dir) {
  if (::mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::cerr << "zebros: cannot create data dir " << data_dir << ": " << std::strerror(errno)
              << "\n";
    return nullptr;
  }
  auto env = std::make_unique<Environment>();
  env->data_dir = data_dir;
  const auto& types = domain::BuiltinObjectTypes();
  auto database = storage::sqlite::Database::Open(data_dir + "/zebros.db", types, env->clock);
  if (!database.ok()) {
    std::cerr << "zebros: cannot open the database: " << database.error().detail << "\n";
    return nullptr;
  }
  env->database = std::move(database).value();
  env->directory =
      std::make_unique<storage::sqlite::SqliteDirectoryStore>(*env->database, env->ids, types);
  env->identity = std::make_unique<storage::sqlite::SqliteIdentityStore>(*env->database, env->ids);
  env->record_store = std::make_unique<storage::sqlite::SqliteRecordStore>(*env->database);
  env->audit = std::make_unique<storage::sqlite::SqliteAuditStore>(*env->database);
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
