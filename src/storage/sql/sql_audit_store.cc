#include "storage/sql/sql_audit_store.h"

#include <boost/json/parse.hpp>
#include <charconv>

#include "core/crypto.h"
#include "storage/audit_chain.h"
#include "storage/sql/audit_log.h"
#include "storage/sql/dialect.h"

namespace zebros::storage::sql {
namespace json = boost::json;

namespace {

constexpr char kColumns[] =
    "seq, tenant_id, at, actor, action, object, record_id, request_id, ip, details, prev_hash,"
    " hash";
constexpr std::string_view kCursorPrefix = "audit:";

core::Error InvalidCursor() {
  return core::MakeError(core::Code::kBadRequest, "invalid_cursor",
                         "The cursor is not one this list issued.");
}

std::string EncodeCursor(std::int64_t seq) {
  return core::Base64UrlEncode(std::string(kCursorPrefix) + std::to_string(seq));
}

std::optional<std::int64_t> DecodeCursor(std::string_view cursor) {
  auto text = core::Base64UrlDecode(cursor);
  if (!text || text->substr(0, kCursorPrefix.size()) != kCursorPrefix) return std::nullopt;
  std::string_view digits = std::string_view(*text).substr(kCursorPrefix.size());
  std::int64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || seq < 1) return std::nullopt;
  return seq;
}

std::string TextOrEmpty(const Statement& stmt, int column) {
  return stmt.IsNull(column) ? std::string() : std::string(stmt.Text(column));
}

// Reads the columns of kColumns; `details_json` gets the stored text, `entry.details` is left
// empty unless `parse_details`.
AuditEntry ReadEntry(const Statement& stmt, std::string& details_json, bool parse_details) {
  AuditEntry entry;
  entry.seq = stmt.Int(0);
  entry.tenant_id = TextOrEmpty(stmt, 1);
  entry.at = stmt.Int(2);
  entry.actor = TextOrEmpty(stmt, 3);
  entry.action = TextOrEmpty(stmt, 4);
  entry.object = TextOrEmpty(stmt, 5);
  entry.record_id = TextOrEmpty(stmt, 6);
  entry.request_id = TextOrEmpty(stmt, 7);
  entry.ip = TextOrEmpty(stmt, 8);
  details_json = TextOrEmpty(stmt, 9);
  entry.prev_hash = TextOrEmpty(stmt, 10);
  entry.hash = TextOrEmpty(stmt, 11);
  if (parse_details) {
    boost::system::error_code ec;
    json::value parsed = json::parse(details_json, ec);
    if (!ec && parsed.is_object()) entry.details = std::move(parsed.get_object());
  }
  return entry;
}

// Ends a read transaction on every path (a reader is reused by its thread).
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Session& connection) : connection_(connection) {}
  ~ReadSnapshot() {
    if (open_) (void)connection_.Exec("ROLLBACK");
  }
  core::Status Begin() {
    // One snapshot for every statement: PostgreSQL's default (read committed) would give each
    // statement its own and could see an entry without its head, or the reverse.
    auto status = connection_.Exec(connection_.dialect() == Dialect::kPostgres
                                       ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                       : "BEGIN");
    open_ = status.ok();
    return status;
  }

 private:
  Session& connection_;
  bool open_ = false;
};

}  // namespace

void SqlAuditStore::Append(const model::Principal& principal, AuditEntry entry,
                           std::function<void(core::Status)> done) {
  if (entry.tenant_id.empty()) entry.tenant_id = principal.tenant_id;
  if (entry.actor.empty()) entry.actor = principal.subject;
  if (entry.request_id.empty()) entry.request_id = principal.request_id;
  if (entry.ip.empty()) entry.ip = principal.client_ip;
  if (entry.at == 0) entry.at = database_.clock().NowMillis();
  const AuditLog& log = database_.audit_log();
  const std::string tenant_id = entry.tenant_id;
  database_.SubmitForTenant(
      tenant_id,
      [&log, entry = std::move(entry)](Session& connection) mutable {
        return log.Append(connection, entry);
      },
      std::move(done));
}

core::Result<AuditPage> SqlAuditStore::List(const std::string& tenant_id, const AuditQuery& query) {
  std::optional<std::int64_t> before;
  if (!query.cursor.empty()) {
    before = DecodeCursor(query.cursor);
    if (!before) return InvalidCursor();
  }
  // Only the conditions in use appear, so each combination is its own cached statement and can
  // use the (tenant_id, record_id|actor, seq) indexes.
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_log WHERE tenant_id = ?";
  std::vector<std::string> texts;
  auto text_condition = [&](const std::string& value, const char* column) {
    if (value.empty()) return;
    sql += std::string(" AND ") + column + " = ?";
    texts.push_back(value);
  };
  text_condition(query.object, "object");
  text_condition(query.record_id, "record_id");
  text_condition(query.actor, "actor");
  text_condition(query.action, "action");
  if (query.since) sql += " AND at >= ?";
  if (query.until) sql += " AND at < ?";
  if (before) sql += " AND seq < ?";
  sql += " ORDER BY seq DESC LIMIT ?";

  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(sql);
  if (!stmt.ok()) return std::move(stmt).error();
  int index = 1;
  stmt->BindText(index++, tenant_id);
  for (const auto& text : texts) stmt->BindText(index++, text);
  if (query.since) stmt->BindInt(index++, *query.since);
  if (query.until) stmt->BindInt(index++, *query.until);
  if (before) stmt->BindInt(index++, *before);
  const int limit = query.limit < 1 ? 1 : query.limit;
  stmt->BindInt(index++, limit + 1);  // one more tells whether a next page exists

  AuditPage page;
  std::string details_json;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    if (static_cast<int>(page.entries.size()) == limit) {
      page.next_cursor = EncodeCursor(page.entries.back().seq);
      break;
    }
    page.entries.push_back(ReadEntry(*stmt, details_json, true));
  }
  return page;
}

core::Result<AuditVerification> SqlAuditStore::Verify() {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  Session& connection = **reader;
  ReadSnapshot snapshot(connection);
  auto begun = snapshot.Begin();
  if (!begun.ok()) return std::move(begun).error();

  AuditChainChecker checker;
  // In pages, in the snapshot: one statement over the whole log held every row in the client at
  // once (PostgreSQL hands a result over whole) and outlasted the statement timeout (2M entries:
  // longer than 15 s).
  std::string last_tenant;
  std::int64_t last_seq = 0;
  std::string details_json;
  for (bool more = true; more;) {
    auto stmt = connection.Prepare(std::string("SELECT ") + kColumns +
                                   " FROM audit_log WHERE (tenant_id, seq) > (?, ?)"
                                   " ORDER BY tenant_id, seq LIMIT " +
                                   std::to_string(verify_page_size_));
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, last_tenant);
    stmt->BindInt(2, last_seq);
    std::int64_t rows = 0;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) break;
      // Two statements: the view of `details_json` must be taken after ReadEntry fills it.
      const AuditEntry entry = ReadEntry(*stmt, details_json, false);
      checker.Add(entry, details_json);
      last_tenant = entry.tenant_id;
      last_seq = entry.seq;
      ++rows;
    }
    more = rows == verify_page_size_;
  }
  auto heads = connection.Prepare("SELECT tenant_id, seq, hash, entries FROM audit_heads");
  if (!heads.ok()) return std::move(heads).error();
  for (;;) {
    auto row = heads->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    checker.AddHead(
        {std::string(heads->Text(0)), heads->Int(1), std::string(heads->Text(2)), heads->Int(3)});
  }
  return checker.Finish();
}

}  // namespace zebros::storage::sql
