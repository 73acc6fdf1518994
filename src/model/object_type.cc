#include "model/object_type.h"

namespace zebros::model {

const Field* ObjectType::FindField(std::string_view field_name) const {
  for (const auto& field : fields) {
    if (field.name == field_name) return &field;
  }
  return nullptr;
}

}  // namespace zebros::model
