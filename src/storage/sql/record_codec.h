#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "model/object_type.h"
#include "model/record.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

// How one field (built-in, custom or system) is reached in SQL. Built-in fields are real columns
// of obj_<type>; custom fields live in the row's `custom` JSON; system fields are fixed columns.
struct ColumnRef {
  std::string
      expr;  // SQL expression over alias `o`, e.g. o."email" or json_extract(o.custom,'$.x')
  model::FieldType type = model::FieldType::kText;
  bool custom = false;
};

// Resolves `name` for `type`; nullopt for an unknown field. System fields id, created_at,
// updated_at, created_by and version resolve too.
std::optional<ColumnRef> ResolveColumn(const model::ObjectType& type, std::string_view name,
                                       Dialect dialect);

// The canonical API value (as validated by domain) in the form stored in SQL for `ref`: money in
// minor units, datetimes in epoch ms for real columns, bools as 0/1, tags as JSON text.
boost::json::value ToSqlValue(const ColumnRef& ref, const boost::json::value& api_value);
// Binds a value produced by ToSqlValue (null, int64, double, string).
void BindSqlValue(Statement& stmt, int index, const boost::json::value& sql_value);
// `session`'s statement for `sql` with `params` bound from `?` number 1 on.
core::Result<Statement> PrepareBound(Session& session, const std::string& sql,
                                     const std::vector<boost::json::value>& params);
// The same for anything with Statement's Bind* members (PostgreSQL's parameter lists).
template <class Target>
void BindSqlValueTo(Target& target, int index, const boost::json::value& sql_value) {
  switch (sql_value.kind()) {
    case boost::json::kind::null:
      return target.BindNull(index);
    case boost::json::kind::bool_:
      return target.BindInt(index, sql_value.get_bool() ? 1 : 0);
    case boost::json::kind::int64:
      return target.BindInt(index, sql_value.get_int64());
    case boost::json::kind::uint64:
      return target.BindDouble(index, static_cast<double>(sql_value.get_uint64()));
    case boost::json::kind::double_:
      return target.BindDouble(index, sql_value.get_double());
    case boost::json::kind::string:
      return target.BindText(index, sql_value.get_string());
    default:
      return target.BindText(index, core::WriteJson(sql_value));
  }
}

// Storage for the values of one page of up to `rows` records, freed with the last of them: one
// arena instead of an allocation per record's table and per string that does not fit inline.
boost::json::storage_ptr PageArena(int rows);

// The table and search index names of an object type.
std::string TableName(const model::ObjectType& type);
std::string SearchTableName(const model::ObjectType& type);

// "o.rowid, o.id, o.version, o.created_at, o.updated_at, o.created_by, o.deleted_at, o.custom,
// o."field1", …" — every built-in field of `type`, in schema order.
// `qualifier` prefixes each column: "o." for the table alias of reads, "" for RETURNING (SQLite
// does not let RETURNING name the table's alias).
std::string SelectColumns(const model::ObjectType& type, std::string_view qualifier = "o.");
// Decodes a row selected with SelectColumns (starting at column 0). Sets `rowid`. The values
// live in `storage` (the default allocator unless given; a page of records shares one arena).
model::Record DecodeRecord(const Statement& stmt, const model::ObjectType& type,
                           std::int64_t& rowid, boost::json::storage_ptr storage = {});

// The storage keys (rowids) of a tenant's records: tenant number n owns [n << 40, (n+1) << 40).
// Keeping a tenant's rows in one range clusters them on disk and lets the search index keep to
// one tenant with a key-range seek instead of a lookup per match.
struct RowidRange {
  std::int64_t first = 0;
  std::int64_t last = 0;
};
RowidRange TenantRowids(std::int64_t tenant_number);

// The text indexed for full-text search: the values of the searchable fields whose pii flag
// equals `pii`, space-separated. pii and other values go to separate columns of the search index
// so that a principal who sees pii masked can search without matching it.
std::string SearchText(const model::ObjectType& type, const boost::json::object& values, bool pii);

// The terms of free text as full-text search sees them: runs of ASCII letters and digits and of
// non-ASCII bytes; everything else separates. Both dialects index and query these terms, so an
// e-mail address is found by its parts in PostgreSQL as in SQLite.
std::vector<std::string> SplitSearchTerms(std::string_view text);
// A term lower-cased with its diacritics removed (Latin letters to their base letter, "Ångström"
// to "angstrom"; Greek and Cyrillic capitals lower-cased), as SQLite's unicode61 tokenizer with
// remove_diacritics does. PostgreSQL's own folding depends on the database's locale, so its terms
// are folded here on both sides, index and query.
std::string FoldForSearch(std::string_view term);
// The folded terms of `text` joined by single spaces.
std::string SearchTerms(std::string_view text);

// Reads a custom field definition as stored in custom_fields.definition (marked custom);
// nullopt when it does not parse.
std::optional<model::Field> DecodeCustomField(std::string_view definition);

}  // namespace zebros::storage::sql
