#include "model/presence.h"

namespace zebros::model {
namespace {
bool HasValue(const boost::json::object& values, const std::string& name) {
  const auto* value = values.if_contains(name);
  if (value == nullptr || value->is_null()) return false;
  if (value->is_string()) return !value->get_string().empty();
  return true;
}
}  // namespace

std::vector<core::FieldError> CheckPresence(const ObjectType& type,
                                            const boost::json::object& values) {
  std::vector<core::FieldError> errors;
  for (const auto& field : type.fields) {
    if (field.required && !HasValue(values, field.name)) {
      errors.push_back({field.name, "required", "This field is required.", -1});
    }
  }
  for (const auto& group : type.require_one_of) {
    bool any = false;
    for (const auto& name : group) any = any || HasValue(values, name);
    if (!any) {
      std::string names;
      for (const auto& name : group) names += (names.empty() ? "" : " or ") + name;
      errors.push_back(
          {group.front(), "required", "At least one of " + names + " is required.", -1});
    }
  }
  return errors;
}

}  // namespace zebros::model
