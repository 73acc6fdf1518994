#include "api/audit_query.h"

#include "api/query_parsing.h"
#include "core/time_format.h"
#include "model/query.h"

namespace zebros::api {
namespace {

constexpr std::size_t kMaxParameters = 20;

core::Error InvalidParameter(std::string message) {
  return core::MakeError(core::Code::kBadRequest, "invalid_parameter", std::move(message));
}

core::Result<core::EpochMillis> ParseTime(std::string_view name, const std::string& value) {
  auto parsed = core::ParseTimestamp(value);
  if (!parsed) {
    return InvalidParameter(std::string(name) +
                            " must be an RFC 3339 date-time, e.g. 2026-11-25T15:20:00Z.");
  }
  return *parsed;
}

}  // namespace

core::Result<storage::AuditQuery> ParseAuditQuery(std::string_view query_string, AuditScope scope) {
  storage::AuditQuery query;
  query.limit = model::kDefaultPageSize;
  auto parameters = SplitQueryString(query_string, kMaxParameters);
  if (!parameters.ok()) return std::move(parameters).error();
  for (auto& [key, value] : *parameters) {
    const bool tenant_scope = scope == AuditScope::kTenant;
    if (key == "object" && tenant_scope) {
      query.object = std::move(value);
    } else if (key == "record_id" && tenant_scope) {
      query.record_id = std::move(value);
    } else if (key == "actor") {
      query.actor = std::move(value);
    } else if (key == "action") {
      query.action = std::move(value);
    } else if (key == "since" || key == "until") {
      auto at = ParseTime(key, value);
      if (!at.ok()) return std::move(at).error();
      (key == "since" ? query.since : query.until) = *at;
    } else if (key == "cursor") {
      query.cursor = std::move(value);
    } else if (key == "limit") {
      auto limit = ParseLimit(value);
      if (!limit.ok()) return std::move(limit).error();
      query.limit = *limit;
    } else {
      return InvalidParameter("Unknown query parameter '" + key + "'.");
    }
  }
  if (query.since && query.until && *query.since >= *query.until) {
    return InvalidParameter("since must be before until.");
  }
  return query;
}

}  // namespace zebros::api
