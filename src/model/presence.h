#pragma once

#include <boost/json/object.hpp>
#include <vector>

#include "core/result.h"
#include "model/object_type.h"

namespace zebros::model {

// Field errors for required fields without a value and require-one-of groups with none set.
// Used on create and again after an update's patch is merged, so a patch cannot clear them.
std::vector<core::FieldError> CheckPresence(const ObjectType& type,
                                            const boost::json::object& values);

}  // namespace zebros::model
