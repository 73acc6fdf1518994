#pragma once

#include <vector>

#include "model/object_type.h"

namespace zebros::domain {

// The object types every tenant starts with (accounts, contacts, leads), as schema data. The
// engine serves them without any per-object code; adding an object means adding a definition.
const std::vector<model::ObjectTypePtr>& BuiltinObjectTypes();

}  // namespace zebros::domain
