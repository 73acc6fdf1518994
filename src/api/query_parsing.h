#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/query.h"

namespace zebros::api {

// Reads `limit`, `cursor`, `sort` (comma list, '-' = descending), `q` and
// `filter[field]=v` / `filter[field][op]=v` from a raw query string. Brackets may be raw or
// percent-encoded; values are percent-decoded ('+' is a space). Condition values stay strings
// (the domain types them). kBadRequest (`invalid_parameter` / `invalid_filter`) otherwise.
core::Result<model::Query> ParseListQuery(std::string_view query_string);

// Reads a search body {"filter":{and|or|field/op/value},"q","sort":[{field,dir}],"limit","cursor"}.
core::Result<model::Query> ParseSearchBody(const boost::json::object& body);

// A page size: an integer in 1..model::kMaxPageSize, else kBadRequest `invalid_parameter`.
core::Result<int> ParseLimit(std::string_view text);

struct QueryParameter {
  std::string key;
  std::string value;
};

// Splits a raw query string into percent-decoded pairs ('+' is a space; empty pairs are
// skipped). kBadRequest `invalid_parameter` for a bad escape or more than `max_parameters`.
core::Result<std::vector<QueryParameter>> SplitQueryString(std::string_view query_string,
                                                           std::size_t max_parameters);

// Percent-decodes `text` ('+' as space when `plus_is_space`); nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace zebros::api
