#pragma once

#include <boost/json/object.hpp>

#include "core/result.h"
#include "model/field.h"

namespace zebros::model {

// The JSON form of a field definition, as the schema API shows it and as custom field
// definitions are stored: {"name","type","label","required","unique","indexed","searchable",
// "pii","custom","max_length","enum_values","reference_target","description"}.
boost::json::object FieldToJson(const Field& field);

// Reads a definition written by a client or by FieldToJson. Checks shape and consistency
// (valid name and type, enum values present for enums, sane max_length), not name clashes.
// Errors are kValidation with field errors.
core::Result<Field> FieldFromJson(const boost::json::object& json);

}  // namespace zebros::model
