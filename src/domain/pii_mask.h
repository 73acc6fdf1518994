#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "core/result.h"
#include "model/object_type.h"
#include "model/principal.h"
#include "model/query.h"
#include "model/record.h"

namespace zebros::domain {

// PII masking: what a principal with `mask_pii` sees of fields flagged `pii` (built-in or custom),
// and the rule that keeps it from learning the clear values by querying them instead.
//
// Masks, by field type (a masked value keeps its JSON type where a placeholder can):
//   email                 "j***@example.com"   first character of the local part, whole domain
//   phone                 "***-***-1234"       last 4 digits, when the number has at least 7;
//                                              "***-***-****" otherwise
//   date                  "****-**-**"
//   datetime              "****-**-**T**:**:**Z"
//   other strings         "***"                text, long text, url, enum, reference
//   tags                  ["***"]              one placeholder, whatever the count
//   number, money, bool   null                 no placeholder of those types exists
// Null values stay null, so "not set" remains visible.

// The masked form of `value` of `field`. Pure; `value` may be of any JSON kind.
boost::json::value MaskValue(const model::Field& field, const boost::json::value& value);

// Masks every pii field of `record` in place. The one function every output that shows records
// to a masking principal goes through (reads, lists, search, write responses, exports, events).
void MaskRecord(const model::ObjectType& type, model::Record& record);

// kForbidden `forbidden` when `query` filters (anywhere in its tree) or sorts on a pii field of
// `type`, naming the field: a principal who sees a field masked may not use it as an oracle.
// Unknown fields pass (validation reports them). Full-text `q` is not refused here: storage
// leaves pii values out of what a masking principal's text matches.
core::Status CheckQueryAvoidsPii(const model::ObjectType& type, const model::Query& query);

// kForbidden `forbidden` for using pii field `field_name` in a way named by `use`
// ("filter on", "sort by", "upsert by"); OkStatus when the field is not pii (or unknown).
core::Status CheckFieldUseAvoidsPii(const model::ObjectType& type, std::string_view field_name,
                                    std::string_view use);

}  // namespace zebros::domain
