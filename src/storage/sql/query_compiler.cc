#include "storage/sql/query_compiler.h"

#include <algorithm>
#include <boost/json/parse.hpp>

#include "core/crypto.h"
#include "core/json.h"
#include "storage/sql/dialect.h"
#include "storage/sql/record_codec.h"
#include "storage/sql/record_scope.h"
#include "storage/sql/search_index.h"

namespace zebros::storage::sql {
namespace json = boost::json;
using model::FilterNode;
using model::FilterOp;

namespace {

// Ranked search scores the newest kRankWindow matches (after tenant, deletion and filters) and
// orders those by zrank (BM25's term frequency, see search_rank.h), equal scores newest first
// (PostgreSQL: ts_rank, likewise). Every match of a specific query
// ("ada lovelace", an e-mail) falls in the window, so its ranking is exact; a broad one ("john")
// ranks its most recent matches instead of scoring hundreds of thousands of rows, which keeps a
// search at a millisecond or two.
constexpr std::int64_t kRankWindow = 200;

core::Error InvalidFilter(const std::string& message) {
  return core::MakeError(core::Code::kBadRequest, "invalid_filter", message);
}
core::Error InvalidCursor() {
  return core::MakeError(core::Code::kBadRequest, "invalid_cursor",
                         "The cursor is malformed or belongs to a different query.");
}

std::string EscapeLike(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

class FilterCompiler {
 public:
  FilterCompiler(const model::ObjectType& type, Dialect dialect, std::vector<json::value>& params)
      : type_(type), dialect_(dialect), params_(params) {}

  core::Status Compile(const FilterNode& node, std::string& sql, int depth) {
    if (depth > 16) return InvalidFilter("The filter is nested too deeply.");
    if (node.kind == FilterNode::Kind::kCondition) return Condition(node.condition, sql);
    if (node.children.empty()) {
      sql += node.kind == FilterNode::Kind::kAnd ? "TRUE" : "FALSE";
      return core::OkStatus();
    }
    sql += "(";
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      if (i > 0) sql += node.kind == FilterNode::Kind::kAnd ? " AND " : " OR ";
      auto status = Compile(node.children[i], sql, depth + 1);
      if (!status.ok()) return status;
    }
    sql += ")";
    return core::OkStatus();
  }

 private:
  void Bind(const ColumnRef& ref, const json::value& api_value) {
    params_.push_back(ToSqlValue(ref, api_value));
  }

  core::Status Condition(const model::Condition& condition, std::string& sql) {
    auto ref = ResolveColumn(type_, condition.field, dialect_);
    if (!ref) return InvalidFilter("Unknown field '" + condition.field + "'.");
    const std::string& expr = ref->expr;
    const json::value& value = condition.value;
    switch (condition.op) {
      case FilterOp::kEq:
        if (ref->type == model::FieldType::kTags) return TagContains(*ref, value, sql);
        sql += value.is_null() ? expr + " IS NULL" : expr + " = ?";
        if (!value.is_null()) Bind(*ref, value);
        return core::OkStatus();
      case FilterOp::kNe:
        if (ref->type == model::FieldType::kTags) {
          sql += "NOT ";
          return TagContains(*ref, value, sql);
        }
        sql += expr + " " + std::string(NullSafeNotEqual(dialect_)) + " ?";
        Bind(*ref, value);
        return core::OkStatus();
      case FilterOp::kLt:
        sql += expr + " < ?";
        Bind(*ref, value);
        return core::OkStatus();
      case FilterOp::kLte:
        sql += expr + " <= ?";
        Bind(*ref, value);
        return core::OkStatus();
      case FilterOp::kGt:
        sql += expr + " > ?";
        Bind(*ref, value);
        return core::OkStatus();
      case FilterOp::kGte:
        sql += expr + " >= ?";
        Bind(*ref, value);
        return core::OkStatus();
      case FilterOp::kIn: {
        if (!value.is_array() || value.get_array().empty()) {
          return InvalidFilter("'in' needs a non-empty list of values.");
        }
        sql += expr + " IN (";
        bool first = true;
        for (const auto& item : value.get_array()) {
          sql += first ? "?" : ",?";
          first = false;
          Bind(*ref, item);
        }
        sql += ")";
        return core::OkStatus();
      }
      case FilterOp::kContains:
        if (ref->type == model::FieldType::kTags) return TagContains(*ref, value, sql);
        if (!value.is_string()) return InvalidFilter("'contains' needs a string.");
        sql += CaseInsensitiveLike(expr);
        params_.emplace_back("%" + EscapeLike(value.get_string()) + "%");
        return core::OkStatus();
      case FilterOp::kStartsWith:
        if (!value.is_string()) return InvalidFilter("'starts_with' needs a string.");
        sql += CaseInsensitiveLike(expr);
        params_.emplace_back(EscapeLike(value.get_string()) + "%");
        return core::OkStatus();
      case FilterOp::kIsNull:
        sql += expr + (value.is_bool() && !value.get_bool() ? " IS NOT NULL" : " IS NULL");
        return core::OkStatus();
    }
    return InvalidFilter("Unknown operator.");
  }

  core::Status TagContains(const ColumnRef& ref, const json::value& value, std::string& sql) {
    if (!value.is_string()) return InvalidFilter("A tag filter needs a string.");
    if (dialect_ == Dialect::kPostgres) {
      sql += "COALESCE((" + ref.expr + ")::jsonb, '[]'::jsonb) @> jsonb_build_array(?::text)";
    } else {
      sql += "EXISTS (SELECT 1 FROM json_each(" + ref.expr + ") WHERE value = ?)";
    }
    params_.push_back(value);
    return core::OkStatus();
  }

  // SQLite's LIKE ignores ASCII case; PostgreSQL's does not, and lower(column) is what its
  // text_pattern_ops indexes hold.
  std::string CaseInsensitiveLike(const std::string& expr) const {
    if (dialect_ == Dialect::kSqlite) return expr + " LIKE ? ESCAPE '\\'";
    return "lower((" + expr + ")::text) LIKE lower(?) ESCAPE '\\'";
  }

  const model::ObjectType& type_;
  const Dialect dialect_;
  std::vector<json::value>& params_;
};

struct SortPart {
  ColumnRef ref;
  bool descending;
};

std::string Signature(const std::vector<SortPart>& sort, const std::string& text) {
  std::string raw;
  for (const auto& part : sort) raw += (part.descending ? "-" : "+") + part.ref.expr + ",";
  raw += "|" + text;
  return core::Sha256Hex(raw).substr(0, 16);
}

bool NotNullColumn(const ColumnRef& ref) {
  return ref.expr == "o.created_at" || ref.expr == "o.updated_at" || ref.expr == "o.id" ||
         ref.expr == "o.version" || ref.expr == "o.created_by" || ref.expr == "o.rowid";
}

// Rows strictly after `keys` in the order of `sort`. Row-value comparison when it is exact (one
// direction, and no NULL can sit on either side of the cursor) so SQLite can seek the index;
// otherwise the expanded OR form, which handles NULLs (smallest in SQLite's order).
std::string KeysetCondition(const std::vector<SortPart>& sort, const json::array& keys,
                            Dialect dialect, std::vector<json::value>& params) {
  bool same_direction = true;
  bool exact_row_value = true;
  for (std::size_t i = 0; i < sort.size(); ++i) {
    same_direction = same_direction && sort[i].descending == sort[0].descending;
    const bool null_key = keys[i].is_null();
    if (null_key || (sort[i].descending && !NotNullColumn(sort[i].ref))) exact_row_value = false;
  }
  if (same_direction && exact_row_value) {
    std::string lhs = "(", rhs = "(";
    for (std::size_t i = 0; i < sort.size(); ++i) {
      lhs += (i ? "," : "") + sort[i].ref.expr;
      rhs += i ? ",?" : "?";
      params.push_back(keys[i]);
    }
    return lhs + ") " + (sort[0].descending ? "<" : ">") + " " + rhs + ")";
  }
  std::string sql = "(";
  for (std::size_t i = 0; i < sort.size(); ++i) {
    if (i > 0) sql += " OR ";
    sql += "(";
    for (std::size_t j = 0; j < i; ++j) {
      sql += sort[j].ref.expr + " " + std::string(NullSafeEqual(dialect)) + " ? AND ";
      params.push_back(keys[j]);
    }
    const std::string& expr = sort[i].ref.expr;
    if (keys[i].is_null()) {
      sql += sort[i].descending ? "FALSE" : expr + " IS NOT NULL";
    } else if (sort[i].descending) {
      sql += "(" + expr + " < ? OR " + expr + " IS NULL)";
      params.push_back(keys[i]);
    } else {
      sql += expr + " > ?";
      params.push_back(keys[i]);
    }
    sql += ")";
  }
  return sql + ")";
}

core::Result<json::object> DecodeCursor(const std::string& cursor, const std::string& signature) {
  auto raw = core::Base64UrlDecode(cursor);
  if (!raw || raw->size() > 8192) return InvalidCursor();
  boost::system::error_code ec;
  json::value value = json::parse(*raw, ec);
  if (ec || !value.is_object()) return InvalidCursor();
  auto& object = value.get_object();
  const auto* sig = object.if_contains("s");
  if (sig == nullptr || !sig->is_string() || sig->get_string() != signature) return InvalidCursor();
  return std::move(object);
}

// Whether the text's last term runs to its end (is still being typed): then it is a prefix.
bool EndsInTerm(std::string_view text) {
  return !text.empty() && !SplitSearchTerms(text.substr(text.size() - 1)).empty();
}

// PostgreSQL: a subquery of the tenant's terms that begin with `prefix` (a folded term), in
// order, at most `limit` (0: all), from its term table `fts` (see SyncPgTermTable): one index
// probe per term past the last. Its terms run from `prefix` to `prefix` followed by the last code
// point, which in the column's byte order ("C") is every term that begins with it; a range, not
// LIKE, because a prepared statement's generic plan cannot turn LIKE ? into an index range.
std::string PrefixTerms(const std::string& fts, std::int64_t tenant, const std::string& prefix,
                        int limit, std::vector<json::value>& params) {
  const std::string high = prefix + "\xF4\x8F\xBF\xBF";  // U+10FFFF
  params.insert(params.end(), {json::value(tenant), json::value(prefix), json::value(high),
                               json::value(tenant), json::value(high)});
  return "(WITH RECURSIVE w(term) AS ((SELECT term FROM " + fts +
         " WHERE tenant = ? AND term >= ? AND term < ? ORDER BY term LIMIT 1) UNION ALL SELECT"
         " (SELECT t.term FROM " +
         fts +
         " t WHERE t.tenant = ? AND t.term > w.term AND t.term < ? ORDER BY t.term LIMIT 1) FROM w"
         " WHERE w.term IS NOT NULL) SELECT term FROM w WHERE term IS NOT NULL" +
         (limit > 0 ? " LIMIT " + std::to_string(limit) : std::string()) + ")";
}

// Whether PostgreSQL's term table holds `term` (a folded term): all but terms of digits alone
// (see SyncPgTermTable).
bool InTermTable(const std::string& term) {
  return term.find_first_not_of("0123456789") != std::string::npos;
}

// How many terms a prefix may stand for in a tsquery; beyond, it stays a prefix (see below).
constexpr int kMaxPrefixTerms = 64;

}  // namespace

std::string EncodeKeysetCursor(const std::string& signature, const json::array& keys) {
  json::object cursor{{"s", signature}, {"k", keys}};
  return core::Base64UrlEncode(core::WriteJson(cursor));
}

std::string EncodeOffsetCursor(const std::string& signature, std::int64_t offset,
                               std::int64_t window) {
  json::object cursor{{"s", signature}, {"o", offset}, {"w", window}};
  return core::Base64UrlEncode(core::WriteJson(cursor));
}

std::string BuildMatchExpression(std::string_view text, bool match_pii) {
  std::vector<std::string> terms = SplitSearchTerms(text);
  if (terms.empty()) return {};
  const bool last_is_prefix = EndsInTerm(text);
  if (terms.size() > 16) terms.resize(16);
  std::string expr = match_pii ? "{body related pii} : (" : "{body related} : (";
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (i > 0) expr += " ";
    expr += "\"" + terms[i] + "\"";  // terms hold no quotes: only letters and digits
    if (i + 1 == terms.size() && last_is_prefix) expr += "*";
  }
  return expr + ")";
}

std::string BuildTsQuery(std::string_view text) {
  std::vector<std::string> terms = SplitSearchTerms(text);
  if (terms.empty()) return {};
  const bool last_is_prefix = EndsInTerm(text);
  if (terms.size() > 16) terms.resize(16);
  std::string query;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (i > 0) query += " & ";
    query += "'" + FoldForSearch(terms[i]) + "'";  // terms hold no quotes: letters and digits
    if (i + 1 == terms.size() && last_is_prefix) query += ":*";
  }
  return query;
}

core::Result<CompiledQuery> CompileQuery(const model::ObjectType& type,
                                         const model::Principal& principal,
                                         const model::Query& query, Dialect dialect) {
  const std::string& tenant_id = principal.tenant_id;
  const bool postgres = dialect == Dialect::kPostgres;
  const RowidRange rowids = TenantRowids(principal.tenant_number);
  CompiledQuery compiled;
  compiled.limit = query.limit;
  const std::string table = TableName(type);
  const std::string fts = SearchTableName(type);
  const bool has_text = !query.text.empty();

  std::vector<SortPart> sort;
  for (const auto& key : query.sort) {
    auto ref = ResolveColumn(type, key.field, dialect);
    if (!ref) return InvalidFilter("Cannot sort by unknown field '" + key.field + "'.");
    if (ref->type == model::FieldType::kLongText || ref->type == model::FieldType::kTags) {
      return InvalidFilter("Field '" + key.field + "' cannot be sorted.");
    }
    sort.push_back({*ref, key.descending});
  }
  compiled.rank_order = has_text && sort.empty();
  // Every page of one search ranks the same window (the cursor carries it): the first page's.
  if (compiled.rank_order) compiled.window = std::max<std::int64_t>(kRankWindow, query.limit);
  if (sort.empty() && !compiled.rank_order) {
    sort.push_back({*ResolveColumn(type, "created_at", dialect), true});
  }
  if (!compiled.rank_order) {
    // The rowid makes the order total, so a cursor never skips or repeats a row.
    sort.push_back(
        {ColumnRef{"o.rowid", model::FieldType::kInteger, false}, sort.front().descending});
  }
  compiled.signature = Signature(sort, query.text);

  std::string match;
  if (has_text) {
    match =
        postgres ? BuildTsQuery(query.text) : BuildMatchExpression(query.text, !principal.mask_pii);
    if (match.empty()) {
      compiled.empty_result = true;
      return compiled;
    }
  }

  // A scoped caller's candidates need the record's owner, as filters need its fields.
  std::vector<boost::json::value> probe;
  const bool needs_row =
      query.filter.has_value() || !ScopeCondition(type, principal, probe).empty();

  // Ranked text search first gathers candidates (rowid and score only, no full rows), newest
  // first, from at most a window of matches, then fetches the page's rows. See kRankWindow.
  // PostgreSQL keeps two vectors on the row; one leaves pii out (see SearchIndex::Write).
  const std::string vector_column = principal.mask_pii ? "search_body" : "search_all";
  // PostgreSQL's terms, folded as its vectors hold them.
  std::vector<std::string> terms =
      has_text ? SplitSearchTerms(query.text) : std::vector<std::string>{};
  if (terms.size() > 16) terms.resize(16);  // as BuildTsQuery
  for (auto& term : terms) term = FoldForSearch(term);
  const bool last_is_prefix = has_text && EndsInTerm(query.text);
  // The term table leaves out terms of digits alone, so only a last term with something else in
  // it is read there: then every term it begins has something else too.
  const bool last_in_term_table = !terms.empty() && InTermTable(terms.back());
  // The tenant's terms the last term begins, at most kMaxPrefixTerms + 1: one CTE that each use
  // reads (the tsquery, and the gates of the plans below), so they are looked up once.
  bool prefix_terms_used = false;
  const auto last_prefix_terms = [&] {
    prefix_terms_used = true;
    return std::string("prefix_terms");
  };
  // PostgreSQL's tsqueries for GIN. A prefix is matched as the terms it stands for ('david' |
  // 'davis' rather than 'davi':*), read from the term table as the statement starts: the GIN index
  // merges a prefix's posting lists whole into a bitmap, while whole terms let it skip through the
  // longer lists by the shorter (2 ms instead of 8 for "william davi" over 1M contacts). A prefix
  // of more than kMaxPrefixTerms terms stays one. No term with the prefix: NULL, no match.
  //
  // The other terms and the prefix's are two conditions, which GIN scans as two keys: in one key
  // ('mark' & ('william' | 'williams' | ...)) every item of any term but the most frequent is a
  // candidate, checked against all the key's terms (61 for "mark will": 14 ms); as two keys, the
  // candidates of each are checked against the other's (5.8 ms). Over the two-word searches of
  // bench/, 17 % less time in the index, and faster for 925 of 1,042 (docs/performance.md).
  const bool prefix_spelled_out = last_is_prefix && last_in_term_table;
  const auto add_text_match = [&](std::string& sql_text) {
    if (!prefix_spelled_out) {
      sql_text += "o.search_all @@ to_tsquery('simple', ?)";
      compiled.params.emplace_back(match);
    } else {
      if (terms.size() > 1) {
        std::string head;
        for (std::size_t i = 0; i + 1 < terms.size(); ++i) {
          head += (i > 0 ? " & '" : "'") + terms[i] + "'";
        }
        sql_text += "o.search_all @@ to_tsquery('simple', ?) AND ";
        compiled.params.emplace_back(head);
      }
      sql_text += "o.search_all @@ (SELECT to_tsquery('simple', CASE WHEN count(*) > " +
                  std::to_string(kMaxPrefixTerms) +
                  " THEN ? ELSE string_agg(quote_literal(term), ' | ') END) FROM " +
                  last_prefix_terms() + " x)";
      compiled.params.emplace_back("'" + terms.back() + "':*");
    }
    // Only search_all has a GIN index: search_body's terms are a subset of its, so a match in
    // search_body is one in search_all, checked on the row (see SyncPgObjectTable).
    if (principal.mask_pii) {
      sql_text += " AND o.search_body @@ to_tsquery('simple', ?)";
      compiled.params.emplace_back(match);
    }
  };
  // When the last term is a prefix of more than kMaxPrefixTerms terms, GIN would merge all their
  // posting lists ("jun ma": 190 ms); then the matches are read from the longest other term's
  // list in the term table, newest first, each checked on its row, until the window is full.
  std::string driver;
  if (postgres && compiled.rank_order && terms.size() > 1 && last_is_prefix && last_in_term_table) {
    for (std::size_t i = 0; i + 1 < terms.size(); ++i) {
      if (InTermTable(terms[i]) && terms[i].size() > driver.size()) driver = terms[i];
    }
  }
  // Where the conditions all candidate queries share (scope, filters) begin: text and params.
  std::pair<std::size_t, std::size_t> shared_from{0, 0};
  // PostgreSQL reads a one-term search from the term table fts_<type> (see SyncPgTermTable):
  // each term's newest matches straight from its index. Several terms are intersected by the GIN
  // index, whose posting lists meet in a bitmap before any row is read, leaving few to fetch.
  const bool term_table =
      postgres && compiled.rank_order && terms.size() == 1 && last_in_term_table;
  std::string sql;
  if (term_table) {
    // One term's matches, newest first, each with the term's share of its rank (the term is
    // bound where this is wrapped, below).
    sql = "SELECT f.rowid AS r, f." + std::string(principal.mask_pii ? "score_body" : "score_all") +
          " AS score FROM " + fts + " f";
    if (needs_row) sql += " JOIN " + table + " o ON o.rowid = f.rowid";
    sql += " WHERE f.tenant = ? AND f.term = v.term";
    compiled.params.emplace_back(principal.tenant_number);
    if (principal.mask_pii) sql += " AND NOT f.pii";
    if (needs_row) {
      sql += " AND o.tenant_id = ? AND o.deleted_at IS NULL";
      compiled.params.emplace_back(tenant_id);
    }
  } else if (postgres && compiled.rank_order) {
    // The matches' rowids and vectors, read together; scored once the window is cut (below).
    sql = "SELECT o.rowid AS r, o." + vector_column + " AS v FROM " + table + " o WHERE ";
    add_text_match(sql);
    sql += " AND o.tenant_id = ? AND o.deleted_at IS NULL";
    compiled.params.emplace_back(tenant_id);
    if (!driver.empty()) {
      sql += " AND (SELECT count(*) FROM " + last_prefix_terms() +
             " x) <= " + std::to_string(kMaxPrefixTerms);
    }
    shared_from = {sql.size(), compiled.params.size()};
  } else if (postgres) {
    sql = "SELECT " + SelectColumns(type);
    for (std::size_t i = 0; i < sort.size(); ++i) sql += ", " + sort[i].ref.expr;
    sql += " FROM " + table + " o WHERE ";
    if (has_text) {
      add_text_match(sql);
      sql += " AND ";
    }
    sql += "o.tenant_id = ? AND o.deleted_at IS NULL";
    compiled.params.emplace_back(tenant_id);
  } else if (compiled.rank_order) {
    // The tenant's key range keeps candidates to the tenant inside the search index itself;
    // soft-deleted records have left the index. Filters need the record, so only then a join.
    sql = "SELECT " + fts + ".rowid AS r, zrank(" + fts + ") AS score FROM " + fts;
    if (needs_row) sql += " JOIN " + table + " o ON o.rowid = " + fts + ".rowid";
    sql += " WHERE " + fts + " MATCH ? AND " + fts + ".rowid BETWEEN ? AND ?";
    compiled.params.emplace_back(match);
    compiled.params.emplace_back(rowids.first);
    compiled.params.emplace_back(rowids.last);
    if (needs_row) {
      sql += " AND o.tenant_id = ? AND o.deleted_at IS NULL";
      compiled.params.emplace_back(tenant_id);
    }
  } else {
    sql = "SELECT " + SelectColumns(type);
    for (std::size_t i = 0; i < sort.size(); ++i) sql += ", " + sort[i].ref.expr;
    if (has_text) {
      sql += " FROM " + fts + " JOIN " + table + " o ON o.rowid = " + fts + ".rowid WHERE " + fts +
             " MATCH ? AND o.tenant_id = ? AND o.deleted_at IS NULL";
      compiled.params.emplace_back(match);
    } else {
      sql += " FROM " + table + " o WHERE o.tenant_id = ? AND o.deleted_at IS NULL";
    }
    compiled.params.emplace_back(tenant_id);
  }
  sql += ScopeCondition(type, principal, compiled.params);
  compiled.sort_key_count = compiled.rank_order ? 0 : static_cast<int>(sort.size());

  if (query.filter) {
    std::string filter_sql;
    FilterCompiler filter_compiler(type, dialect, compiled.params);
    auto status = filter_compiler.Compile(*query.filter, filter_sql, 0);
    if (!status.ok()) return std::move(status).error();
    sql += " AND " + filter_sql;
  }

  if (!query.cursor.empty()) {
    auto cursor = DecodeCursor(query.cursor, compiled.signature);
    if (!cursor.ok()) return std::move(cursor).error();
    if (compiled.rank_order) {
      const auto* offset = cursor->if_contains("o");
      const auto* window = cursor->if_contains("w");
      if (offset == nullptr || !offset->is_int64() || window == nullptr || !window->is_int64() ||
          window->get_int64() < kRankWindow || window->get_int64() > model::kMaxPageSize ||
          offset->get_int64() < 0 || offset->get_int64() >= window->get_int64()) {
        return InvalidCursor();
      }
      compiled.offset = offset->get_int64();
      compiled.window = window->get_int64();
    } else {
      const auto* keys = cursor->if_contains("k");
      if (keys == nullptr || !keys->is_array() || keys->get_array().size() != sort.size()) {
        return InvalidCursor();
      }
      for (const auto& key : keys->get_array()) {
        if (key.is_array() || key.is_object() || key.is_bool()) return InvalidCursor();
      }
      if (!keys->get_array().back().is_int64()) return InvalidCursor();
      sql += " AND " + KeysetCondition(sort, keys->get_array(), dialect, compiled.params);
      compiled.cursor_keys = keys->get_array();
    }
  }

  if (compiled.rank_order && postgres) {
    const std::int64_t window = compiled.window;
    const std::string limit = " LIMIT " + std::to_string(window);
    std::string candidates;
    if (term_table) {
      // The terms the query's term stands for (itself, or every term it begins when it is a
      // prefix); then each one's newest matches, merged.
      const std::string& term = terms.front();
      std::vector<json::value> vocabulary;
      std::string terms_sql = "(SELECT ?::text AS term)";
      if (last_is_prefix) {
        terms_sql = PrefixTerms(fts, principal.tenant_number, term, 0, vocabulary);
      } else {
        vocabulary.emplace_back(term);
      }
      // A record in the window is in the window of each of its terms, so the sum of its terms'
      // shares is its ts_rank for the query (one term, or a prefix: the sum over the terms it
      // begins), and no row is read before the page's.
      std::string terms_from = terms_sql + " v";
      std::string per_term = sql;
      if (last_is_prefix && !needs_row) {
        // A prefix of many terms read each one's newest `window` whole and summed them all
        // ("li", 137 terms: 15,875 entries, 10.5 ms). The window's oldest match is no older than
        // any term's window-th newest, so that bound, found first, leaves each term only its
        // entries that can be in the window (3.4 ms). One term has no use for it.
        const std::vector<json::value> per_term_params(compiled.params);
        compiled.params.insert(compiled.params.end(), per_term_params.begin(),
                               per_term_params.end());
        const std::string none = "-9223372036854775807";  // no bound: below every key
        per_term += " AND f.rowid >= (SELECT CASE WHEN count(*) < 2 THEN " + none +
                    " ELSE (SELECT coalesce(max(b.r), " + none + ") FROM v CROSS JOIN LATERAL (" +
                    sql + " ORDER BY f.rowid DESC OFFSET " + std::to_string(window - 1) +
                    " LIMIT 1) b) END FROM v)";
        terms_from = "v";
        candidates = "WITH v AS MATERIALIZED (SELECT term FROM " + terms_sql + " x) ";
      }
      compiled.params.insert(compiled.params.begin(), vocabulary.begin(), vocabulary.end());
      candidates += "SELECT s.r, sum(s.score) AS score FROM " + terms_from +
                    " CROSS JOIN LATERAL (" + per_term + " ORDER BY f.rowid DESC" + limit +
                    ") s GROUP BY s.r ORDER BY s.r DESC" + limit;
    } else {
      // The newest `window` matches, from the GIN index: `rowid + 0` keeps the key's order out of
      // the planner's reach, which would otherwise walk the primary key backwards for a query it
      // expects to match often, filtering row by row (seconds, when the newest rows do not match).
      candidates = sql + " ORDER BY o.rowid + 0 DESC" + limit;
      if (!driver.empty()) {
        // Only one of the two runs: each is gated on the prefix's count, which PostgreSQL reads
        // once, before either.
        const std::string shared = sql.substr(shared_from.first);
        const std::vector<json::value> shared_params(
            compiled.params.begin() + static_cast<std::ptrdiff_t>(shared_from.second),
            compiled.params.end());
        // ts_match_vq is @@ in a form the planner cannot hand to the GIN index.
        std::string walk = "SELECT f.rowid AS r, o." + vector_column + " AS v FROM " + fts +
                           " f JOIN " + table +
                           " o ON o.rowid = f.rowid WHERE f.tenant = ? AND f.term = ? AND "
                           "ts_match_vq(o.search_all, to_tsquery('simple', ?))";
        compiled.params.insert(compiled.params.end(), {json::value(principal.tenant_number),
                                                       json::value(driver), json::value(match)});
        if (principal.mask_pii) {
          walk += " AND ts_match_vq(o.search_body, to_tsquery('simple', ?))";
          compiled.params.emplace_back(match);
        }
        walk += " AND o.tenant_id = ? AND o.deleted_at IS NULL AND (SELECT count(*) FROM ";
        compiled.params.emplace_back(tenant_id);
        walk += last_prefix_terms() + " x) > " + std::to_string(kMaxPrefixTerms) + shared;
        compiled.params.insert(compiled.params.end(), shared_params.begin(), shared_params.end());
        candidates =
            "(" + candidates + ") UNION ALL (" + walk + " ORDER BY f.rowid DESC" + limit + ")";
      }
    }
    // GIN's matches are scored after the cut, only the window's, from the vectors read with
    // them; the query is parsed once (a subquery: a generic plan would parse it for every row).
    std::string scored = "c.score";
    if (!term_table) {
      compiled.params.insert(compiled.params.begin(), json::value(match));
      scored = std::string("ts_rank(") + kPgRankWeights +
               ", c.v, (SELECT to_tsquery('simple', ?))) AS score";
    }
    std::string page = "SELECT c.r, " + scored + " FROM (" + candidates +
                       ") c ORDER BY score DESC, c.r DESC LIMIT " + std::to_string(query.limit + 1);
    if (compiled.offset > 0) page += " OFFSET " + std::to_string(compiled.offset);
    sql = "SELECT " + SelectColumns(type) + " FROM (" + page + ") k JOIN " + table +
          " o ON o.rowid = k.r WHERE o.tenant_id = ? AND o.deleted_at IS NULL"
          " ORDER BY k.score DESC, k.r DESC";
    compiled.params.emplace_back(tenant_id);
  } else if (compiled.rank_order) {
    const std::int64_t window = compiled.window;
    // Candidates are ordered and cut to the page before any record is read, so only the page's
    // rows are fetched.
    std::string page = "SELECT r, score FROM (" + sql + " ORDER BY " + fts + ".rowid DESC LIMIT " +
                       std::to_string(window) + ") ORDER BY score, r DESC LIMIT " +
                       std::to_string(query.limit + 1);
    if (compiled.offset > 0) page += " OFFSET " + std::to_string(compiled.offset);
    // The tenant check on the page's rows is a second line of defence, not the filter.
    sql = "SELECT " + SelectColumns(type) + " FROM (" + page + ") k JOIN " + table +
          " o ON o.rowid = k.r WHERE o.tenant_id = ? AND o.deleted_at IS NULL"
          " ORDER BY k.score, k.r DESC";
    compiled.params.emplace_back(tenant_id);
  } else {
    sql += " ORDER BY ";
    for (std::size_t i = 0; i < sort.size(); ++i) {
      sql += (i ? ", " : "") + sort[i].ref.expr + (sort[i].descending ? " DESC" : "");
      // SQLite sorts NULL first; PostgreSQL is told to, so both page alike (and the keyset
      // condition's NULL handling holds for both).
      // Columns that are never NULL say nothing, so PostgreSQL can read them from an index.
      if (postgres && !NotNullColumn(sort[i].ref)) {
        sql += sort[i].descending ? " NULLS LAST" : " NULLS FIRST";
      }
    }
    sql += " LIMIT " + std::to_string(query.limit + 1);
  }
  if (prefix_terms_used) {
    std::vector<json::value> params;
    sql = "WITH prefix_terms AS MATERIALIZED (SELECT term FROM " +
          PrefixTerms(fts, principal.tenant_number, terms.back(), kMaxPrefixTerms + 1, params) +
          " x) " + sql;
    compiled.params.insert(compiled.params.begin(), params.begin(), params.end());
  }
  compiled.sql = std::move(sql);
  return compiled;
}

}  // namespace zebros::storage::sql
