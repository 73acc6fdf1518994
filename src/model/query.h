#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zebros::model {

enum class FilterOp { kEq, kNe, kLt, kLte, kGt, kGte, kIn, kContains, kStartsWith, kIsNull };

std::string_view FilterOpName(FilterOp op);
std::optional<FilterOp> ParseFilterOp(std::string_view name);

// `field op value`. The value is already checked and normalised for the field's type (domain
// does that), so storage only binds it: for kIn an array, for kIsNull a bool, else a scalar.
struct Condition {
  std::string field;
  FilterOp op = FilterOp::kEq;
  boost::json::value value;
};

// A boolean tree of conditions (the HubSpot/Salesforce search style).
struct FilterNode {
  enum class Kind { kAnd, kOr, kCondition };
  Kind kind = Kind::kAnd;
  std::vector<FilterNode> children;  // kAnd, kOr
  Condition condition;               // kCondition
};

struct SortKey {
  std::string field;
  bool descending = false;
};

// A list or search request over one object type, in one tenant.
struct Query {
  std::optional<FilterNode> filter;
  std::string text;           // full-text search terms; empty = none
  std::vector<SortKey> sort;  // empty = default order (newest first); with `text`, by rank
  int limit = 50;
  std::string cursor;  // opaque, from a previous page; empty = first page
};

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

}  // namespace zebros::model
