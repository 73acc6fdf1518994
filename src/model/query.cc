#include "model/query.h"

namespace zebros::model {
namespace {
struct OpName {
  FilterOp op;
  std::string_view name;
};
constexpr OpName kOpNames[] = {
    {FilterOp::kEq, "eq"},
    {FilterOp::kNe, "ne"},
    {FilterOp::kLt, "lt"},
    {FilterOp::kLte, "lte"},
    {FilterOp::kGt, "gt"},
    {FilterOp::kGte, "gte"},
    {FilterOp::kIn, "in"},
    {FilterOp::kContains, "contains"},
    {FilterOp::kStartsWith, "starts_with"},
    {FilterOp::kIsNull, "is_null"},
};
}  // namespace

std::string_view FilterOpName(FilterOp op) {
  for (const auto& entry : kOpNames) {
    if (entry.op == op) return entry.name;
  }
  return "eq";
}

std::optional<FilterOp> ParseFilterOp(std::string_view name) {
  for (const auto& entry : kOpNames) {
    if (entry.name == name) return entry.op;
  }
  return std::nullopt;
}

}  // namespace zebros::model
