#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/store_location.h"

namespace zebros::app {

struct ServeConfig {
  StoreLocation where;
  std::string listen;  // HOST:PORT
  int io_threads = 0;
  // The external base URL (behind a proxy); the issuer of realm T is `{public_url}/realms/T`.
  // Empty: http://HOST:PORT as bound.
  std::string public_url;
  // External OIDC issuers: "URL[=TENANT]" each, and how their tokens map to Zebros.
  std::vector<std::string> oidc_issuers;
  std::string oidc_audience = "zebros-api";
  std::string oidc_tenant_claim = "tenant";
  std::string oidc_roles_claim = "realm_access.roles";
  std::string oidc_role_map;
  // Memory for rendered list and search pages (api/page_cache.h); 0 turns it off.
  int page_cache_mb = 32;
};

// `zebros serve`: runs until SIGINT/SIGTERM; returns the process exit code.
int RunServe(const ServeConfig& config);
// `zebros migrate`: applies pending migrations to the data dir's database.
int RunMigrate(const StoreLocation& where);
// `zebros admin create-tenant NAME`: prints the tenant id.
int RunCreateTenant(const StoreLocation& where, const std::string& name);
// `zebros admin create-api-key`: prints the key alone.
int RunCreateApiKey(const StoreLocation& where, const std::string& tenant, const std::string& role,
                    const std::string& label);
// `zebros admin verify-audit`: recomputes every tenant's audit hash chain. Exit 0 and
// "audit chain ok: N entries" when intact; exit 1 naming the tenant and seq of the first broken
// entry otherwise (2 when the database cannot be read).
int RunVerifyAudit(const StoreLocation& where);

// `zebros admin create-user`: prints the user id. Without `password_stdin` the user is invited
// (no password until `set-password`).
int RunCreateUser(const StoreLocation& where, const std::string& tenant, const std::string& email,
                  const std::string& role, const std::string& username, bool password_stdin);
// `zebros admin set-password`: reads the password from standard input.
int RunSetPassword(const StoreLocation& where, const std::string& tenant, const std::string& email);
// `zebros admin rotate-keys`: a new signing key for the built-in identity provider; prints its
// kid. A running server picks it up on its next token.
int RunRotateKeys(const StoreLocation& where);
// `zebros transfer --from sqlite:PATH --to postgres://…`: copies a whole embedded install into an
// empty PostgreSQL database with a progress bar, then verifies counts and the audit chain. Exit 0
// when verified, 3 when the target is not empty (without `resume`), 1 on failure, 2 on bad usage.
int RunTransfer(const std::string& from, const std::string& to, bool resume, int batch_rows);
// `zebros admin print-policy`: prints auth::RenderPolicyMarkdown() (needs no data dir).
int RunPrintPolicy();

}  // namespace zebros::app
