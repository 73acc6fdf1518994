#pragma once

#include <span>
#include <string>
#include <string_view>

#include "model/principal.h"

namespace zebros::auth {

enum class Action { kRead, kCreate, kUpdate, kDelete, kRestore, kExport, kAdmin };

inline constexpr Action kAllActions[] = {Action::kRead,   Action::kCreate,  Action::kUpdate,
                                         Action::kDelete, Action::kRestore, Action::kExport,
                                         Action::kAdmin};

std::string_view ActionName(Action action);

// Every object and admin area the policy table names, in the order it is documented.
std::span<const std::string_view> PolicyObjects();

// The one place that decides whether a role may perform an action on an object (or on an admin
// area: "schema", "users", "api_keys", "audit_log"). Rendered into docs/security.md.
bool IsAllowed(model::Role role, std::string_view object, Action action);

// Whether the role sees the values of `pii` fields masked (`j***@example.com`). A role that sees
// masked values may not filter, sort or search on those fields either.
bool MasksPii(model::Role role);

// The policy as Markdown, for docs/security.md (between its generated-section markers) and for
// `zebros admin print-policy`: a table with a row per object and admin area, a column per role,
// each cell the allowed actions; then the masking rule per role. Deterministic.
std::string RenderPolicyMarkdown();

}  // namespace zebros::auth
