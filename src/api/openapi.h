#pragma once

#include <boost/json/value.hpp>
#include <vector>

#include "model/object_type.h"

namespace zebros::api {

// Builds the OpenAPI 3.1.0 document (JSON Schema 2020-12 dialect) of the REST API as a tenant
// sees it: for every type in `types`, its record schemas (`<Singular>`, `<Singular>Create`,
// `<Singular>Update`, `<Singular>List`, batch request/result) and its paths under
// `/api/v1/<name>`, followed by the health and schema endpoints. Custom fields appear like
// built-in ones, flagged `x-zebros.custom`.
//
// Pure and deterministic: the same `types` (in the same order) give the same document, so a
// caller may cache it per schema version. Never fails; every entry of `types` must be non-null.
// Types are expected to have distinct names and singulars; an object named like a fixed path
// ("schema") or a singular equal to a shared schema name ("problem") would shadow it.
// Serialise with core::WriteJson.
boost::json::value BuildOpenApiDocument(const std::vector<model::ObjectTypePtr>& types);

}  // namespace zebros::api
