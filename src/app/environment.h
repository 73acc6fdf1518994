#pragma once

#include <memory>
#include <string>

#include "app/store_location.h"
#include "auth/api_keys.h"
#include "core/clock.h"
#include "core/ids.h"
#include "domain/record_service.h"
#include "domain/schema_registry.h"
#include "storage/sql/engine.h"
#include "storage/sql/sql_audit_store.h"
#include "storage/sql/sql_directory_store.h"
#include "storage/sql/sql_identity_store.h"
#include "storage/sql/sql_record_store.h"

namespace zebros::app {

// The composition root: the database (SQLite or PostgreSQL) and the services wired over it. Members
// are declared in dependency order so they are destroyed in reverse (services before the database).
struct Environment {
  core::SystemClock clock;
  core::IdGenerator ids{clock};
  std::string data_dir;
  std::unique_ptr<storage::sql::Engine> database;
  std::unique_ptr<storage::sql::SqlDirectoryStore> directory;
  std::unique_ptr<storage::sql::SqlIdentityStore> identity;
  std::unique_ptr<storage::sql::SqlRecordStore> record_store;
  std::unique_ptr<storage::sql::SqlAuditStore> audit;
  std::unique_ptr<domain::SchemaRegistry> schemas;
  std::unique_ptr<domain::RecordService> records;
  std::unique_ptr<auth::ApiKeyAuthenticator> authenticator;

  // Creates the data dir (0700) when missing and opens the database (applying migrations).
  // Prints the reason to stderr and returns nullptr on failure.
  static std::unique_ptr<Environment> Open(const StoreLocation& where);

  // Where installs before schema version 3 kept the identity provider's signing keys; serve moves
  // them into the database on start.
  std::string IdpKeyDir() const { return data_dir + "/idp-keys"; }
};

// Opens (creating when new, applying migrations) the database `where` names: SQLite in the data
// dir, or PostgreSQL at the URL.
core::Result<std::unique_ptr<storage::sql::Engine>> OpenDatabase(
    const StoreLocation& where, const std::vector<model::ObjectTypePtr>& types,
    const core::Clock& clock);

// Writes `content` to a new file readable by the owner only (0600), replacing any old one.
// False when the file cannot be written.
bool WriteSecretFile(const std::string& path, const std::string& content);

// Reads one line from standard input (a password given with --password-stdin), without its
// line ending.
std::string ReadSecretLine();

}  // namespace zebros::app
