#include "storage/sqlite/migrations.h"

#include <set>
#include <string_view>

#include "storage/sql/dialect.h"
#include "storage/sql/migration_runner.h"

namespace zebros::storage::sqlite {
namespace {

// Append only: a released migration never changes.
constexpr sql::Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  number INTEGER NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER,
  last_used_at INTEGER
);
CREATE INDEX ix_api_keys_tenant ON api_keys(tenant_id);
CREATE TABLE custom_fields (
  tenant_id TEXT NOT NULL,
  object TEXT NOT NULL,
  name TEXT NOT NULL,
  definition TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (tenant_id, object, name)
) WITHOUT ROWID;
CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  location TEXT NOT NULL,
  etag TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;
CREATE INDEX ix_idempotency_created ON idempotency_keys(created_at);
)sql"},
    {2, R"sql(
-- People. issuer '' is the built-in identity provider; users of an external issuer are created
-- on first sign-in (just in time) and carry its subject.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  username TEXT NOT NULL,
  email TEXT,
  display_name TEXT,
  role TEXT NOT NULL,
  issuer TEXT NOT NULL DEFAULT '',
  external_subject TEXT,
  password_hash TEXT,
  active INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deactivated_at INTEGER,
  last_login_at INTEGER
);
CREATE UNIQUE INDEX ux_users_username ON users(tenant_id, username COLLATE NOCASE);
CREATE UNIQUE INDEX ux_users_email ON users(tenant_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX ux_users_external ON users(tenant_id, issuer, external_subject)
  WHERE external_subject IS NOT NULL;

CREATE TABLE teams (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_teams_name ON teams(tenant_id, name);
CREATE TABLE team_members (
  tenant_id TEXT NOT NULL,
  team_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;
CREATE INDEX ix_team_members_user ON team_members(user_id);

-- Record-level scope per role and object: 'all' (the default when no row), 'team' or 'own'.
CREATE TABLE record_scopes (
  tenant_id TEXT NOT NULL,
  role TEXT NOT NULL,
  object TEXT NOT NULL,
  scope TEXT NOT NULL,
  PRIMARY KEY (tenant_id, role, object)
) WITHOUT ROWID;

-- The built-in identity provider's state. Secrets (codes, refresh tokens) are stored hashed.
CREATE TABLE idp_sessions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  scope TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX ix_idp_sessions_user ON idp_sessions(user_id);
CREATE INDEX ix_idp_sessions_created ON idp_sessions(created_at);
CREATE TABLE idp_refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) WITHOUT ROWID;
CREATE INDEX ix_idp_refresh_session ON idp_refresh_tokens(session_id);
CREATE INDEX ix_idp_refresh_expires ON idp_refresh_tokens(expires_at);
CREATE TABLE idp_auth_codes (
  code_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  nonce TEXT,
  scope TEXT,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) WITHOUT ROWID;
CREATE INDEX ix_idp_codes_expires ON idp_auth_codes(expires_at);

-- Tamper-evident audit log: each entry's hash covers its content and the hash of the tenant's
-- previous entry (storage/audit_chain.h says exactly what is covered).
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT,
  record_id TEXT,
  request_id TEXT,
  ip TEXT,
  details TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX ix_audit_tenant ON audit_log(tenant_id, seq);
CREATE INDEX ix_audit_record ON audit_log(tenant_id, record_id, seq);
CREATE INDEX ix_audit_actor ON audit_log(tenant_id, actor, seq);
-- Each tenant's newest entry, written in the same transaction as it: the next append links to it,
-- and verification notices when a tenant's newest entries were removed.
CREATE TABLE audit_heads (
  tenant_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  entries INTEGER NOT NULL
) WITHOUT ROWID;
-- Per-install secrets of the audit log (base64url): 'pii_hmac' keys the digests that stand in for
-- personal values in audit details. Never logged, never served.
CREATE TABLE audit_keys (
  name TEXT PRIMARY KEY,
  secret TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE api_keys ADD COLUMN created_by TEXT;
)sql"},
    {3, R"sql(
-- The built-in identity provider's signing keys (private keys, PEM): in the database so that
-- every node of an install signs and verifies with the same ones. Older installs kept them in
-- <data-dir>/idp-keys/, imported on first start (auth/idp_keys.cc).
CREATE TABLE idp_signing_keys (
  kid TEXT PRIMARY KEY,
  pem TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
};

std::string ColumnType(model::FieldType type) {
  return std::string(sql::ColumnTypeFor(sql::Dialect::kSqlite, type));
}

std::string Quote(const std::string& identifier) { return sql::QuoteIdentifier(identifier); }

// Built-in indexed fields carry created_at so that "filter by field, newest first" — the most
// common list — is one index range scan with no sort.
std::string IndexSql(const model::ObjectType& type, const model::Field& field,
                     const std::string& expr) {
  const std::string table = "obj_" + type.name;
  if (field.unique) {
    return "CREATE UNIQUE INDEX IF NOT EXISTS ux_" + type.name + "_" + field.name + " ON " + table +
           "(tenant_id, " + expr + ") WHERE deleted_at IS NULL AND " + expr + " IS NOT NULL";
  }
  return "CREATE INDEX IF NOT EXISTS ix_" + type.name + "_" + field.name + " ON " + table +
         "(tenant_id, " + expr + ", created_at) WHERE deleted_at IS NULL";
}

// The rowid is the record's, so the tenant's rowid range (TenantRowids) keeps a search to one
// tenant; a tenant token in the index would intersect every query with the tenant's whole
// posting list. Prefix indexes for 1 to 8 characters: the last search term is a prefix, and
// without one of its length FTS5 merges the postings of every term it begins into one list on
// each query ("davi": david, davis, davies, …; "william": william, williams, williamson). Over
// a million contacts and the benchmark's 2,000 searches, the candidates took 0.82 ms per search
// with indexes for 2 and 3 characters ("al s": 91 ms), 0.36 ms with 1 to 5 (worst 2.4 ms); over
// 1.8M, 1 to 8 took 32 % less than 1 to 5 ("martin": 4.2 ms → 0.1 ms, "elizabeth martin": 9.3 →
// 0.7 ms), for an index 23 % larger and 20 % more work per record indexed.
constexpr std::string_view kSearchTableOptions =
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4 5 6 7 8'";

std::string SearchTableSql(const std::string& name) {
  return "CREATE VIRTUAL TABLE IF NOT EXISTS " + name + " USING fts5(body, related, pii, " +
         std::string(kSearchTableOptions) + ")";
}

// The statement that created `table` as SQLite keeps it; empty when there is no such table.
core::Result<std::string> TableSql(Connection& connection, const std::string& table) {
  auto stmt = connection.Prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, table);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  return *row ? std::string(stmt->Text(0)) : std::string();
}

// The column names of `table` (a virtual table's too); empty when there is no such table.
core::Result<std::set<std::string>> ColumnNames(Connection& connection, const std::string& table) {
  std::set<std::string> names;
  auto stmt = connection.Prepare("SELECT name FROM pragma_table_info(?)");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, table);
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    names.emplace(stmt->Text(0));
  }
  return names;
}

}  // namespace

int LatestMigrationVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

core::Status ApplyMigrations(Connection& connection, const core::Clock& clock) {
  auto txn = Transaction::Begin(connection);
  if (!txn.ok()) return std::move(txn).error();
  auto status = sql::ApplyMigrationList(connection, kMigrations,
                                        "CREATE TABLE IF NOT EXISTS schema_migrations (version"
                                        " INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                                        clock);
  if (!status.ok()) return status;
  return (*txn)->Commit();
}

core::Result<bool> SyncObjectTable(Connection& connection, const model::ObjectType& type) {
  const std::string table = "obj_" + type.name;
  std::string create = "CREATE TABLE IF NOT EXISTS " + table +
                       " (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, tenant_id TEXT NOT NULL,"
                       " version INTEGER NOT NULL, created_at INTEGER NOT NULL,"
                       " updated_at INTEGER NOT NULL, created_by TEXT NOT NULL,"
                       " deleted_at INTEGER, custom TEXT";
  for (const auto& field : type.fields) {
    if (!field.custom) create += ", " + Quote(field.name) + " " + ColumnType(field.type);
  }
  create += ")";
  auto status = connection.Exec(create);
  if (!status.ok()) return std::move(status).error();

  auto existing = ColumnNames(connection, table);
  if (!existing.ok()) return std::move(existing).error();
  for (const auto& field : type.fields) {
    if (field.custom || existing->count(field.name)) continue;
    status = connection.Exec("ALTER TABLE " + table + " ADD COLUMN " + Quote(field.name) + " " +
                             ColumnType(field.type));
    if (!status.ok()) return std::move(status).error();
  }

  status = connection.Exec("CREATE UNIQUE INDEX IF NOT EXISTS ux_" + type.name + "_id ON " + table +
                           "(id);"
                           "CREATE INDEX IF NOT EXISTS ix_" +
                           type.name + "_created ON " + table +
                           "(tenant_id, created_at) WHERE deleted_at IS NULL;"
                           "CREATE INDEX IF NOT EXISTS ix_" +
                           type.name + "_updated ON " + table +
                           "(tenant_id, updated_at) WHERE deleted_at IS NULL;");
  if (!status.ok()) return std::move(status).error();
  for (const auto& field : type.fields) {
    if (field.custom || !(field.indexed || field.unique)) continue;
    status = connection.Exec(IndexSql(type, field, Quote(field.name)));
    if (!status.ok()) return std::move(status).error();
  }
  // An index from before pii values had a column of their own mixes them into `body`, where a
  // principal who sees them masked would match them: it is laid out anew and refilled.
  const std::string fts = "fts_" + type.name;
  auto fts_columns = ColumnNames(connection, fts);
  if (!fts_columns.ok()) return std::move(fts_columns).error();
  const bool stale = !fts_columns->empty() && fts_columns->count("pii") == 0;
  if (stale) {
    status = connection.Exec("DROP TABLE " + fts);
    if (!status.ok()) return std::move(status).error();
  }
  // An index with other options (fewer prefix indexes) keeps its text: copied into the new
  // layout, which indexes it afresh, then merged into one segment at once rather than by the
  // server's idle merges (see MergeSearchIndexes), as the copy leaves dozens.
  auto fts_sql = TableSql(connection, fts);
  if (!fts_sql.ok()) return std::move(fts_sql).error();
  if (!stale && !fts_sql->empty() && fts_sql->find(kSearchTableOptions) == std::string::npos) {
    const std::string relaid = fts + "_relaid";
    status = connection.Exec(SearchTableSql(relaid) + "; INSERT INTO " + relaid +
                             " (rowid, body, related, pii) SELECT rowid, body, related, pii FROM " +
                             fts + "; INSERT INTO " + relaid + " (" + relaid +
                             ") VALUES ('optimize'); DROP TABLE " + fts + "; ALTER TABLE " +
                             relaid + " RENAME TO " + fts);
    if (!status.ok()) return std::move(status).error();
  }
  status = connection.Exec(SearchTableSql(fts));
  if (!status.ok()) return std::move(status).error();
  // The writer's idle merges (MergeSearchIndexes) join any two segments of a level; FTS5's own,
  // as writes come, wait for four (automerge). Set once: FTS5 keeps it in the table's config.
  auto usermerge = connection.Prepare("SELECT v FROM " + fts + "_config WHERE k = 'usermerge'");
  if (!usermerge.ok()) return std::move(usermerge).error();
  auto set = usermerge->Step();
  if (!set.ok()) return std::move(set).error();
  const bool unset = !*set || usermerge->Int(0) != 2;
  usermerge->Reset();
  if (unset) {
    status = connection.Exec("INSERT INTO " + fts + " (" + fts + ", rank) VALUES ('usermerge', 2)");
    if (!status.ok()) return std::move(status).error();
  }
  return stale;
}

core::Status EnsureCustomFieldIndex(Connection& connection, const model::ObjectType& type,
                                    const model::Field& field) {
  if (!(field.indexed || field.unique)) return core::OkStatus();
  // Tenants may each define a custom field of this name, so the index is not unique in SQL; the
  // writer checks uniqueness within the tenant before each write.
  model::Field plain = field;
  plain.unique = false;
  return connection.Exec(IndexSql(type, plain, "json_extract(custom,'$." + field.name + "')"));
}

}  // namespace zebros::storage::sqlite
