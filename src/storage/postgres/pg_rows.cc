#include "storage/postgres/pg_rows.h"

#include <charconv>
#include <cmath>

namespace zebros::storage::postgres {
namespace {

// Type oids of pg_type (stable since PostgreSQL 7).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

}  // namespace

void PgParameters::Set(int index, std::optional<std::string> value) {
  if (index < 1 || static_cast<std::size_t>(index) > values_.size()) {
    bad_index_ = true;
    return;
  }
  values_[static_cast<std::size_t>(index) - 1] = std::move(value);
}

void PgParameters::BindNull(int index) { Set(index, std::nullopt); }

void PgParameters::BindInt(int index, std::int64_t value) { Set(index, std::to_string(value)); }

void PgParameters::BindDouble(int index, double value) {
  char buffer[32];
  // Shortest text that reads back as the same double; "inf", "-inf" and "nan" are accepted by
  // float8 and numeric input too.
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  Set(index, ec == std::errc() ? std::string(buffer, end) : std::string("nan"));
}

void PgParameters::BindText(int index, std::string_view value) {
  if (value.find('\0') != std::string_view::npos) nul_in_text_ = true;
  Set(index, std::string(value));
}

core::Status PgParameters::Check(std::string_view what) const {
  if (bad_index_) {
    return core::MakeError(core::Code::kInternal, "internal", "An internal error occurred.",
                           "bind: parameter index out of range in statement " + std::string(what));
  }
  if (nul_in_text_) {
    return core::MakeError(
        core::Code::kBadRequest, "bad_request", "Text values may not contain NUL characters.",
        "bind: NUL character in a text parameter of statement " + std::string(what));
  }
  return core::OkStatus();
}

std::vector<const char*> PgParameters::Pointers() const {
  std::vector<const char*> pointers(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) {
    pointers[i] = values_[i] ? values_[i]->c_str() : nullptr;
  }
  return pointers;
}

void PgParameters::Clear() {
  for (auto& value : values_) value.reset();
  bad_index_ = false;
  nul_in_text_ = false;
}

bool PgRows::Next() {
  if (HasRow()) ++row_;
  return HasRow();
}

bool PgRows::HasRow() const { return result_ && row_ >= 0 && row_ < PQntuples(result_.get()); }

int PgRows::ColumnCount() const { return result_ ? PQnfields(result_.get()) : 0; }

bool PgRows::IsNull(int column) const {
  if (!HasRow() || column < 0 || column >= PQnfields(result_.get())) return true;
  return PQgetisnull(result_.get(), row_, column) != 0;
}

sql::ColumnKind PgRows::Kind(int column) const {
  if (IsNull(column)) return sql::ColumnKind::kNull;
  switch (PQftype(result_.get(), column)) {
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid:
    case kBoolOid:
      return sql::ColumnKind::kInt;
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return sql::ColumnKind::kDouble;
    default:
      return sql::ColumnKind::kText;
  }
}

std::int64_t PgRows::Int(int column) const {
  if (IsNull(column)) return 0;
  const std::string_view text = Text(column);
  if (PQftype(result_.get(), column) == kBoolOid) return text == "t" ? 1 : 0;
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto parsed = std::from_chars(text.data(), end, value);
  if (parsed.ec == std::errc() && parsed.ptr == end) return value;
  // A decimal (numeric, float): truncated like SQLite's conversion; out of range reads as 0.
  const double real = Double(column);
  constexpr double kLimit = 9.2e18;
  return std::isfinite(real) && real > -kLimit && real < kLimit ? static_cast<std::int64_t>(real)
                                                                : 0;
}

double PgRows::Double(int column) const {
  if (IsNull(column)) return 0;
  const std::string_view text = Text(column);
  if (PQftype(result_.get(), column) == kBoolOid) return text == "t" ? 1 : 0;
  double value = 0;
  auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  return parsed.ec == std::errc() ? value : 0;
}

std::string_view PgRows::Text(int column) const {
  if (IsNull(column)) return {};
  return {PQgetvalue(result_.get(), row_, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row_, column))};
}

core::Result<bool> PgRead::Step() {
  if (!stepped_) {
    stepped_ = true;
    return rows_.HasRow();
  }
  return rows_.Next();
}

}  // namespace zebros::storage::postgres
