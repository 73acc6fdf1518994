#pragma once

#include <string_view>

#include "core/result.h"
#include "storage/audit_store.h"

namespace zebros::api {

// Which filters an audit list takes: all of them on /audit; on a record's history the record is
// given by the path, so `object` and `record_id` are unknown parameters there.
enum class AuditScope { kTenant, kRecord };

// Reads `object`, `record_id`, `actor`, `action`, `since`, `until` (RFC 3339), `cursor` and
// `limit` (1..500, default 50) from a raw query string. Values are percent-decoded; a repeated
// parameter keeps its last value. kBadRequest `invalid_parameter` for an unknown parameter, a
// bad escape, a bad time or limit, or `since` not before `until`.
core::Result<storage::AuditQuery> ParseAuditQuery(std::string_view query_string, AuditScope scope);

}  // namespace zebros::api
