#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace zebros::core {

// Issues record ids: `<prefix>_<26 Crockford base32 chars>`, a ULID (48-bit millisecond time,
// 80 random bits). Ids from one generator sort by creation time, also within one millisecond
// (the random part is incremented, as the ULID spec's monotonic mode says). Thread-safe.
class IdGenerator {
 public:
  explicit IdGenerator(const Clock& clock) : clock_(clock) {}
  std::string Next(std::string_view prefix);

 private:
  const Clock& clock_;
};

// True when `id` has the shape `<prefix>_<26 base32 chars>`; says nothing about existence.
bool IsWellFormedId(std::string_view id, std::string_view prefix);

// When an id was issued: the millisecond time in its ULID. REQUIRES: IsWellFormedId(id, prefix).
EpochMillis IdTime(std::string_view id, std::string_view prefix);

}  // namespace zebros::core
