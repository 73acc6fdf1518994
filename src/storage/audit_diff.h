#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "model/object_type.h"

namespace zebros::storage {

// Replaces a personal value by a keyed digest ("hmac-sha256:<hex>").
using PiiDigester = std::function<std::string(const boost::json::value&)>;

// "hmac-sha256:" + HMAC-SHA256 under `key` of the value's compact JSON text. Equal values give
// equal digests under one key, so an auditor can match a value without it being stored.
std::string PiiDigest(std::string_view key, const boost::json::value& value);

// The `details` of record entries. Only fields of `type` appear, in the type's order; values of
// `pii` fields pass through `digest`.
//   record.create:            {"version":1,"fields":{"name":value,…}}   (set fields only)
//   record.update:            {"version":n,"fields":{"name":{"from":old,"to":new},…}}
//                             (changed fields only; an absent value is null)
//   record.delete / restore:  {"version":n}
boost::json::object CreateDetails(const model::ObjectType& type, const boost::json::object& values,
                                  std::int64_t version, const PiiDigester& digest);
boost::json::object UpdateDetails(const model::ObjectType& type, const boost::json::object& before,
                                  const boost::json::object& after, std::int64_t version,
                                  const PiiDigester& digest);
boost::json::object StateDetails(std::int64_t version);

}  // namespace zebros::storage
