#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "core/result.h"
#include "model/object_type.h"
#include "model/query.h"

namespace zebros::domain {

// Checks a create body against `type` and returns the canonical values to store: unknown and
// server-owned fields rejected, each value type-checked and normalised (emails lower-cased,
// datetimes in UTC, tags de-duplicated), defaults applied, presence rules checked. All problems
// are reported together as kValidation `validation_failed` with one field error each.
core::Result<boost::json::object> ValidateCreate(const model::ObjectType& type,
                                                 const boost::json::object& body);

// The same for a partial update: only the named fields, `null` clears (but not a required one).
core::Result<boost::json::object> ValidatePatch(const model::ObjectType& type,
                                                const boost::json::object& body);

// Checks one value for `field`; on success returns its canonical form.
core::Result<boost::json::value> NormalizeValue(const model::Field& field,
                                                const boost::json::value& value);

// Checks fields, operators and sort keys of `query` against `type` and normalises condition
// values in place. `text_values`: values came from a query string, so "42" may stand for 42.
// kBadRequest `invalid_filter` otherwise.
core::Status NormalizeQuery(const model::ObjectType& type, model::Query& query, bool text_values);

}  // namespace zebros::domain
