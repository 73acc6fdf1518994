#include "storage/sqlite/database.h"

#include <unordered_map>

#include "storage/sql/migration_runner.h"
#include "storage/sql/search_index.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/search_upkeep.h"

namespace zebros::storage::sqlite {
namespace {
std::atomic<std::uint64_t> g_next_instance{1};
}  // namespace

Database::Database(std::string path, const core::Clock& clock)
    : path_(std::move(path)), clock_(clock), instance_(g_next_instance.fetch_add(1)) {}

Database::~Database() {
  if (writer_) writer_->Stop();
}

core::Result<std::unique_ptr<Database>> Database::Open(
    const std::string& path, const std::vector<model::ObjectTypePtr>& types,
    const core::Clock& clock, std::optional<std::chrono::milliseconds> upkeep_after) {
  auto connection = Connection::Open(path, Connection::Mode::kReadWrite);
  if (!connection.ok()) return std::move(connection).error();
  auto status = ApplyMigrations(**connection, clock);
  if (!status.ok()) return std::move(status).error();
  {
    auto txn = Transaction::Begin(**connection);
    if (!txn.ok()) return std::move(txn).error();
    std::vector<const model::ObjectType*> stale_indexes;
    for (const auto& type : types) {
      auto rebuilt = SyncObjectTable(**connection, *type);
      if (!rebuilt.ok()) return std::move(rebuilt).error();
      if (*rebuilt) stale_indexes.push_back(type.get());
    }
    // Filled once every table exists: a record's index entry holds its references' names.
    sql::SearchIndex search(types);
    for (const auto* type : stale_indexes) {
      status = search.Rebuild(**connection, *type);
      if (!status.ok()) return std::move(status).error();
    }
    status = (*txn)->Commit();
    if (!status.ok()) return std::move(status).error();
  }
  auto audit_log = sql::AuditLog::Open(**connection);
  if (!audit_log.ok()) return std::move(audit_log).error();
  std::unique_ptr<Database> database(new Database(path, clock));
  database->types_ = types;
  database->audit_log_ = std::move(audit_log).value();
  auto checkpoints = Connection::Open(path, Connection::Mode::kReadWrite);
  if (!checkpoints.ok()) return std::move(checkpoints).error();
  database->checkpointer_ = std::make_unique<Checkpointer>(std::move(checkpoints).value());
  database->checkpointer_->Watch(**connection);
  Writer::Upkeep upkeep;
  if (upkeep_after) {
    upkeep = [types](Connection& writer) { return MergeSearchIndexes(writer, types); };
  }
  database->writer_ = std::make_unique<Writer>(std::move(connection).value(), std::move(upkeep),
                                               upkeep_after.value_or(Writer::kUpkeepAfter));
  return database;
}

core::Result<sql::ReadLease> Database::Reader() {
  auto connection = ReaderConnection();
  if (!connection.ok()) return std::move(connection).error();
  return sql::ReadLease(*connection, nullptr);
}

core::Result<Connection*> Database::ReaderConnection() {
  // Keyed by instance so a thread that outlives one Database never reuses its closed readers.
  thread_local std::unordered_map<std::uint64_t, Connection*> readers;
  auto found = readers.find(instance_);
  if (found != readers.end()) return found->second;
  auto connection = Connection::Open(path_, Connection::Mode::kReadOnly);
  if (!connection.ok()) return std::move(connection).error();
  Connection* raw = connection->get();
  {
    std::lock_guard lock(readers_mutex_);
    readers_.push_back(std::move(connection).value());
  }
  readers.emplace(instance_, raw);
  return raw;
}

core::Result<int> Database::AppliedSchemaVersion() {
  auto reader = Reader();
  if (!reader.ok()) return std::move(reader).error();
  return sql::ReadSchemaVersion(**reader);
}

core::Status Database::PrepareCustomField(sql::Session& session, const model::ObjectType& type,
                                          const model::Field& field) const {
  // The writer's session is always this database's own connection.
  return EnsureCustomFieldIndex(static_cast<Connection&>(session), type, field);
}

int Database::LatestSchemaVersion() const { return LatestMigrationVersion(); }

}  // namespace zebros::storage::sqlite
