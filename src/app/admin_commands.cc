#include <filesystem>
#include <iostream>
#include <optional>

#include "app/commands.h"
#include "app/environment.h"
#include "auth/idp_keys.h"
#include "auth/passwords.h"
#include "auth/policy.h"

namespace zebros::app {

namespace {

// Prints why a command failed and returns its exit status.
int Fail(const core::Error& error) {
  std::cerr << "zebros: " << error.public_message << "\n";
  return 1;
}

bool RoleFlag(const std::string& name, model::Role& role) {
  if (model::ParseRole(name, role)) return true;
  std::cerr << "zebros: --role must be admin, sales, support or read_only\n";
  return false;
}

std::optional<storage::TenantInfo> TenantNamed(Environment& env, const std::string& name) {
  auto tenant = env.directory->FindTenantByName(name);
  if (tenant.ok()) return std::move(tenant).value();
  std::cerr << "zebros: no tenant named '" << name << "'\n";
  return std::nullopt;
}

// The argon2id hash of the password on standard input (--password-stdin).
core::Result<std::string> PasswordHashFromStdin() {
  auth::PasswordHasher hasher;
  return hasher.Hash(ReadSecretLine());
}

}  // namespace

int RunMigrate(const StoreLocation& where) {
  auto env = Environment::Open(where);
  if (!env) return 1;
  auto version = env->database->AppliedSchemaVersion();
  if (!version.ok()) {
    std::cerr << "zebros: " << version.error().detail << "\n";
    return 1;
  }
  std::cout << "schema version " << *version << "\n";
  return 0;
}

int RunCreateTenant(const StoreLocation& where, const std::string& name) {
  auto env = Environment::Open(where);
  if (!env) return 1;
  auto tenant = env->directory->CreateTenant(name);
  if (!tenant.ok()) return Fail(tenant.error());
  std::cout << tenant->id << "\n";
  return 0;
}

int RunCreateApiKey(const StoreLocation& where, const std::string& tenant_name,
                    const std::string& role_name, const std::string& label) {
  model::Role role;
  if (!RoleFlag(role_name, role)) return 2;
  auto env = Environment::Open(where);
  if (!env) return 1;
  auto tenant = TenantNamed(*env, tenant_name);
  if (!tenant) return 1;
  const std::string secret = auth::NewApiKeySecret();
  auto key = env->directory->CreateApiKey(tenant->id, label.empty() ? role_name : label, role,
                                          auth::HashApiKeySecret(secret), std::nullopt,
                                          storage::SystemActor(tenant->id));
  if (!key.ok()) return Fail(key.error());
  std::cout << secret << "\n";
  return 0;
}

int RunCreateUser(const StoreLocation& where, const std::string& tenant_name,
                  const std::string& email, const std::string& role_name,
                  const std::string& username, bool password_stdin) {
  model::Role role;
  if (!RoleFlag(role_name, role)) return 2;
  if (email.find('@') == std::string::npos) {
    std::cerr << "zebros: --email must be an e-mail address\n";
    return 2;
  }
  auto env = Environment::Open(where);
  if (!env) return 1;
  auto tenant = TenantNamed(*env, tenant_name);
  if (!tenant) return 1;
  storage::NewUser user;
  user.tenant_id = tenant->id;
  user.username = username.empty() ? email : username;
  user.email = email;
  user.role = role;
  if (password_stdin) {
    auto hash = PasswordHashFromStdin();
    if (!hash.ok()) return Fail(hash.error());
    user.password_hash = std::move(hash).value();
  }
  auto created = env->identity->CreateUser(user, storage::SystemActor(tenant->id));
  if (!created.ok()) return Fail(created.error());
  std::cout << created->id << "\n";
  return 0;
}

int RunSetPassword(const StoreLocation& where, const std::string& tenant_name,
                   const std::string& email) {
  auto env = Environment::Open(where);
  if (!env) return 1;
  auto tenant = TenantNamed(*env, tenant_name);
  if (!tenant) return 1;
  auto user = env->identity->FindUserForLogin(tenant->id, email);
  if (!user.ok()) {
    std::cerr << "zebros: no user '" << email << "' in tenant '" << tenant_name << "'\n";
    return 1;
  }
  auto hash = PasswordHashFromStdin();
  if (!hash.ok()) return Fail(hash.error());
  auto status = env->identity->SetPassword(tenant->id, user->first.id, *hash);
  if (!status.ok()) return Fail(status.error());
  return 0;
}

int RunRotateKeys(const StoreLocation& where) {
  auto env = Environment::Open(where);
  if (!env) return 1;
  auto kid = auth::KeyRing::Rotate(*env->identity, env->ids);
  if (!kid.ok()) {
    std::cerr << "zebros: " << kid.error().public_message << " " << kid.error().detail << "\n";
    return 1;
  }
  std::cout << *kid << "\n";
  return 0;
}

int RunVerifyAudit(const StoreLocation& where) {
  // Opening would create an empty database, which verifies trivially: name the mistake instead.
  if (where.database_url.empty() && !std::filesystem::exists(where.data_dir + "/zebros.db")) {
    std::cerr << "zebros: no database in " << where.data_dir << "\n";
    return 2;
  }
  auto env = Environment::Open(where);
  if (!env) return 2;
  auto verdict = env->audit->Verify();
  if (!verdict.ok()) {
    std::cerr << "zebros: cannot read the audit log: " << verdict.error().detail << "\n";
    return 2;
  }
  if (verdict->ok) {
    std::cout << "audit chain ok: " << verdict->entries << " entries\n";
    return 0;
  }
  std::cout << "audit chain broken: tenant " << verdict->tenant_id << " seq " << verdict->seq
            << ": " << verdict->reason << " (" << verdict->entries << " entries checked)\n";
  return 1;
}

int RunPrintPolicy() {
  std::cout << auth::RenderPolicyMarkdown();
  return 0;
}

}  // namespace zebros::app
