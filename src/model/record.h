#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"

namespace zebros::model {

// One record of any object type. `values` holds the non-system fields in their canonical API
// form (strings normalised, datetimes in UTC, money as a number); a field that is absent or null
// has no value.
struct Record {
  std::string id;
  std::int64_t version = 0;
  core::EpochMillis created_at = 0;
  core::EpochMillis updated_at = 0;
  std::string created_by;
  std::optional<core::EpochMillis> deleted_at;
  boost::json::object values;
};

}  // namespace zebros::model
