#include "storage/sql/record_codec.h"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <cmath>

#include "core/json.h"
#include "core/time_format.h"
#include "model/field_json.h"

namespace zebros::storage::sql {
namespace json = boost::json;
using model::FieldType;

namespace {

struct SystemColumn {
  std::string_view name;
  FieldType type;
};
constexpr SystemColumn kSystemColumns[] = {
    {"id", FieldType::kText},
    {"created_at", FieldType::kDateTime},
    {"updated_at", FieldType::kDateTime},
    {"created_by", FieldType::kText},
    {"version", FieldType::kInteger},
};

// Number of leading fixed columns in SelectColumns.
constexpr int kFixedColumns = 8;

double AsDouble(const json::value& value) {
  if (value.is_int64()) return static_cast<double>(value.get_int64());
  if (value.is_uint64()) return static_cast<double>(value.get_uint64());
  if (value.is_double()) return value.get_double();
  return 0;
}

}  // namespace

std::optional<ColumnRef> ResolveColumn(const model::ObjectType& type, std::string_view name,
                                       Dialect dialect) {
  for (const auto& system : kSystemColumns) {
    if (system.name == name) return ColumnRef{"o." + std::string(name), system.type, false};
  }
  const model::Field* field = type.FindField(name);
  if (field == nullptr) return std::nullopt;
  if (field->custom) {
    // Custom field names are validated identifiers, so they are safe inside the JSON path.
    if (dialect == Dialect::kSqlite) {
      return ColumnRef{"json_extract(o.custom,'$." + field->name + "')", field->type, true};
    }
    // PostgreSQL's ->> yields text: numbers and booleans are cast so that they compare and
    // sort as values, as json_extract's do in SQLite. Tags stay JSON (see TagContains).
    const std::string key = "'" + field->name + "'";
    switch (field->type) {
      case FieldType::kTags:
        return ColumnRef{"(o.custom->" + key + ")", field->type, true};
      case FieldType::kInteger:
      case FieldType::kNumber:
      case FieldType::kMoney:
        return ColumnRef{"((o.custom->>" + key + ")::numeric)", field->type, true};
      case FieldType::kBool:
        return ColumnRef{"((o.custom->>" + key + ")::boolean)", field->type, true};
      default:
        return ColumnRef{"(o.custom->>" + key + ")", field->type, true};
    }
  }
  return ColumnRef{"o.\"" + field->name + "\"", field->type, false};
}

json::value ToSqlValue(const ColumnRef& ref, const json::value& api_value) {
  if (api_value.is_null()) return nullptr;
  if (api_value.is_bool()) return static_cast<std::int64_t>(api_value.get_bool() ? 1 : 0);
  if (ref.custom) {
    if (ref.type == FieldType::kTags) return json::value(core::WriteJson(api_value));
    return api_value;
  }
  switch (ref.type) {
    case FieldType::kMoney:
      return static_cast<std::int64_t>(std::llround(AsDouble(api_value) * 100.0));
    case FieldType::kDateTime:
      if (api_value.is_string()) {
        if (auto ms = core::ParseTimestamp(api_value.get_string())) return *ms;
      }
      return api_value;
    case FieldType::kTags:
      return json::value(core::WriteJson(api_value));
    default:
      return api_value;
  }
}

void BindSqlValue(Statement& stmt, int index, const json::value& sql_value) {
  BindSqlValueTo(stmt, index, sql_value);
}

core::Result<Statement> PrepareBound(Session& session, const std::string& sql,
                                     const std::vector<json::value>& params) {
  auto stmt = session.Prepare(sql);
  if (!stmt.ok()) return stmt;
  for (std::size_t i = 0; i < params.size(); ++i) {
    BindSqlValue(*stmt, static_cast<int>(i) + 1, params[i]);
  }
  return stmt;
}

std::string TableName(const model::ObjectType& type) { return "obj_" + type.name; }
std::string SearchTableName(const model::ObjectType& type) { return "fts_" + type.name; }

std::string SelectColumns(const model::ObjectType& type, std::string_view qualifier) {
  std::string sql;
  for (const char* column : {"rowid", "id", "version", "created_at", "updated_at", "created_by",
                             "deleted_at", "custom"}) {
    if (!sql.empty()) sql += ", ";
    sql += qualifier;
    sql += column;
  }
  for (const auto& field : type.fields) {
    if (field.custom) continue;
    sql += ", ";
    sql += qualifier;
    sql += "\"" + field.name + "\"";
  }
  return sql;
}

json::storage_ptr PageArena(int rows) {
  // ~1.5 KB per record of the built-in types; the arena grows past it when records are larger.
  constexpr std::size_t kBytesPerRecord = 1536;
  return json::make_shared_resource<json::monotonic_resource>(
      kBytesPerRecord * static_cast<std::size_t>(std::max(rows, 1)));
}

model::Record DecodeRecord(const Statement& stmt, const model::ObjectType& type,
                           std::int64_t& rowid, json::storage_ptr storage) {
  // Made in `storage` from the start: assigning an object of another storage would copy it into
  // the default one.
  model::Record record{.values = json::object(std::move(storage))};
  rowid = stmt.Int(0);
  record.id = std::string(stmt.Text(1));
  record.version = stmt.Int(2);
  record.created_at = stmt.Int(3);
  record.updated_at = stmt.Int(4);
  record.created_by = std::string(stmt.Text(5));
  if (!stmt.IsNull(6)) record.deleted_at = stmt.Int(6);
  json::object custom_values;
  bool has_custom = false;
  if (!stmt.IsNull(7)) {
    boost::system::error_code ec;
    json::value parsed = json::parse(stmt.Text(7), ec);
    if (!ec && parsed.is_object()) {
      custom_values = std::move(parsed.get_object());
      has_custom = true;
    }
  }
  // Each value is made in place, in the record's own storage (a page's records share one).
  json::object& values = record.values;
  values.reserve(type.fields.size());
  int column = kFixedColumns;
  for (const auto& field : type.fields) {
    if (field.custom) {
      const json::value* value = has_custom ? custom_values.if_contains(field.name) : nullptr;
      if (value != nullptr) {
        values.emplace(field.name, *value);
      } else {
        values.emplace(field.name, nullptr);
      }
      continue;
    }
    const int col = column++;
    if (stmt.IsNull(col)) {
      values.emplace(field.name, nullptr);
      continue;
    }
    // Date-times are JSON strings but stored as epoch milliseconds.
    if (model::IsJsonString(field.type) && field.type != FieldType::kDateTime) {
      values.emplace(field.name, stmt.Text(col));
      continue;
    }
    switch (field.type) {
      case FieldType::kInteger:
        values.emplace(field.name, stmt.Int(col));
        break;
      case FieldType::kNumber:
        values.emplace(field.name, stmt.Double(col));
        break;
      case FieldType::kBool:
        values.emplace(field.name, stmt.Int(col) != 0);
        break;
      case FieldType::kMoney: {
        const std::int64_t cents = stmt.Int(col);
        if (cents % 100 == 0) {
          values.emplace(field.name, cents / 100);
        } else {
          values.emplace(field.name, static_cast<double>(cents) / 100.0);
        }
        break;
      }
      case FieldType::kDateTime:
        values.emplace(field.name, std::string_view(core::FormatTimestamp(stmt.Int(col))));
        break;
      case FieldType::kTags: {
        boost::system::error_code ec;
        json::value tags = json::parse(stmt.Text(col), ec, values.storage());
        if (ec) tags = json::array(values.storage());
        values.emplace(field.name, std::move(tags));
        break;
      }
      default:
        values.emplace(field.name, stmt.Text(col));
        break;
    }
  }
  return record;
}

std::optional<model::Field> DecodeCustomField(std::string_view definition) {
  boost::system::error_code ec;
  json::value parsed = json::parse(definition, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  auto field = model::FieldFromJson(parsed.get_object());
  if (!field.ok()) return std::nullopt;
  field->custom = true;
  return std::move(field).value();
}

RowidRange TenantRowids(std::int64_t tenant_number) {
  constexpr int kShift = 40;
  return {tenant_number << kShift, ((tenant_number + 1) << kShift) - 1};
}

std::string SearchText(const model::ObjectType& type, const json::object& values, bool pii) {
  std::string text;
  for (const auto& field : type.fields) {
    // A reference's id is no text to search; SearchIndex indexes its target's name instead.
    if (!field.searchable || field.pii != pii || field.type == FieldType::kReference) continue;
    const json::value* value = values.if_contains(field.name);
    if (value == nullptr) continue;
    if (value->is_string()) {
      if (!text.empty()) text.push_back(' ');
      text.append(value->get_string());
    } else if (value->is_array()) {
      for (const auto& item : value->get_array()) {
        if (!item.is_string()) continue;
        if (!text.empty()) text.push_back(' ');
        text.append(item.get_string());
      }
    }
  }
  return text;
}

std::vector<std::string> SplitSearchTerms(std::string_view text) {
  std::vector<std::string> terms;
  std::string current;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z') ||
        (byte >= 'A' && byte <= 'Z') || byte >= 0x80) {
      current.push_back(c);
    } else if (!current.empty()) {
      terms.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) terms.push_back(std::move(current));
  return terms;
}

namespace {

// Lower-case base letters of U+00C0..U+017F ('\0': keep the letter, lower-cased by the caller's
// +0x20 for U+00C0..U+00DE); what SQLite's unicode61 tokenizer does with remove_diacritics.
constexpr char kLatin1Base[64 + 1] =
    "aaaaaa\0ceeeeiiii\0nooooo\0ouuuuy\0\0aaaaaa\0ceeeeiiii\0nooooo\0ouuuuy\0y";
constexpr char kLatinExtendedABase[128 + 1] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii\0\0"
    "jjkkkllllllllllnnnnnnnnnoooooo\0\0rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

}  // namespace

std::string FoldForSearch(std::string_view term) {
  std::string out;
  out.reserve(term.size());
  for (std::size_t i = 0; i < term.size();) {
    const auto byte = static_cast<unsigned char>(term[i]);
    if (byte < 0x80) {
      out.push_back(static_cast<char>(byte >= 'A' && byte <= 'Z' ? byte + 32 : byte));
      ++i;
      continue;
    }
    // Two- and three-byte sequences carry every letter folded here; anything else is copied.
    char32_t c = 0;
    std::size_t length = 0;
    if ((byte & 0xE0) == 0xC0 && i + 1 < term.size()) {
      c = ((byte & 0x1Fu) << 6) | (static_cast<unsigned char>(term[i + 1]) & 0x3Fu);
      length = 2;
    } else if ((byte & 0xF0) == 0xE0 && i + 2 < term.size()) {
      c = ((byte & 0x0Fu) << 12) | ((static_cast<unsigned char>(term[i + 1]) & 0x3Fu) << 6) |
          (static_cast<unsigned char>(term[i + 2]) & 0x3Fu);
      length = 3;
    } else {
      out.push_back(term[i]);
      ++i;
      continue;
    }
    if (c >= 0xC0 && c <= 0xFF && kLatin1Base[c - 0xC0] != '\0') {
      out.push_back(kLatin1Base[c - 0xC0]);
    } else if (c >= 0x100 && c <= 0x17F && kLatinExtendedABase[c - 0x100] != '\0') {
      out.push_back(kLatinExtendedABase[c - 0x100]);
    } else if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB) ||
               (c >= 0x410 && c <= 0x42F)) {
      AppendUtf8(out, c + 0x20);  // Latin-1, Greek and Cyrillic capitals without a base letter
    } else if (c >= 0x400 && c <= 0x40F) {
      AppendUtf8(out, c + 0x50);
    } else if (c >= 0x132 && c <= 0x17F && (c % 2 == 0)) {
      AppendUtf8(out, c + 1);  // Ĳ, Œ: capitals of pairs without a base letter
    } else {
      out.append(term.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::string SearchTerms(std::string_view text) {
  std::string joined;
  for (const auto& term : SplitSearchTerms(text)) {
    if (!joined.empty()) joined.push_back(' ');
    joined += FoldForSearch(term);
  }
  return joined;
}

}  // namespace zebros::storage::sql
