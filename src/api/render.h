#pragma once

#include <string>
#include <vector>

#include "model/object_type.h"
#include "model/record.h"
#include "storage/record_store.h"

namespace zebros::api {

// {"id":…, every field of `type` in schema order (null when unset), "created_at", "updated_at",
// "created_by", "version"} — the one JSON shape of a record everywhere in the API.
void AppendRecord(std::string& out, const model::ObjectType& type, const model::Record& record);
std::string RenderRecord(const model::ObjectType& type, const model::Record& record);
// {"data":[records…],"next_cursor":…|null}
std::string RenderPage(const model::ObjectType& type, const storage::Page& page);
// The strong ETag of a record's current version.
std::string ETagFor(const model::Record& record);

}  // namespace zebros::api
