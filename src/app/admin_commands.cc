#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "app/environment.h"
#include "auth/idp_keys.h"
#include "auth/passwords.h"
#include "auth/policy.h"

namespace zebros::app {

int RunMigrate(const std::string& data_dir) {
  auto env = Environment::Open(data_dir);
  if (!env) return 1;
  auto version = env->database->AppliedSchemaVersion();
  if (!version.ok()) {
    std::cerr << "zebros: " << version.error().detail << "\n";
    return 1;
  }
  std::cout << "schema version " << *version << "\n";
  return 0;
}

int RunCreateTenant(const std::string& data_dir, const std::string& name) {
  auto env = Environment::Open(data_dir);
  if (!env) return 1;
  auto tenant = env->directory->CreateTenant(name);
  if (!tenant.ok()) {
    std::cerr << "zebros: " << tenant.error().public_message << "\n";
    return 1;
  }
  std::cout << tenant->id << "\n";
  return 0;
}

int RunCreateApiKey(const std::string& data_dir, const std::string& tenant_name,
                    const std::string& role_name, const std::string& label) {
  model::Role role;
  if (!model::ParseRole(role_name, role)) {
    std::cerr << "zebros: --role must be admin, sales, support or read_only\n";
    return 2;
  }
  auto env = Environment::Open(data_dir);
  if (!env) return 1;
  auto tenant = env->directory->FindTenantByName(tenant_name);
  if (!tenant.ok()) {
    std::cerr << "zebros: no tenant named '" << tenant_name << "'\n";
    return 1;
  }
  const std::string secret = auth::NewApiKeySecret();
  auto key = env->directory->CreateApiKey(tenant->id, label.empty() ? role_name : label, role,
                                          auth::HashApiKeySecret(secret), std::nullopt);
  if (!key.ok()) {
    std::cerr << "zebros: " << key.error().public_message << "\n";
    return 1;
  }
  std::cout << secret << "\n";
  return 0;
}

int RunCreateUser(const std::string& data_dir, const std::string& tenant_name,
                  const std::string& email, const std::string& role_name,
                  const std::string& username, bool password_stdin) {
  model::Role role;
  if (!model::ParseRole(role_name, role)) {
    std::cerr << "zebros: --role must be admin, sales, support or read_only\n";
    return 2;
  }
  if (email.find('@') == std::string::npos) {
    std::cerr << "zebros: --email must be an e-mail address\n";
    return 2;
  }
  auto env = Environment::Open(data_dir);
  if (!env) return 1;
  auto tenant = env->directory->FindTenantByName(tenant_name);
  if (!tenant.ok()) {
    std::cerr << "zebros: no tenant named '" << tenant_name << "'\n";
    return 1;
  }
  storage::NewUser user;
  user.tenant_id = tenant->id;
  user.username = username.empty() ? email : username;
  user.email = email;
  user.role = role;
  if (password_stdin) {
    auth::PasswordHasher hasher;
    auto hash = hasher.Hash(ReadSecretLine());
    if (!hash.ok()) {
      std::cerr << "zebros: " << hash.error().public_message << "\n";
      return 1;
    }
    user.password_hash = std::move(hash).value();
  }
  auto created = env->identity->CreateUser(user);
  if (!created.ok()) {
    std::cerr << "zebros: " << created.error().public_message << "\n";
    return 1;
  }
  std::cout << created->id << "\n";
  return 0;
}

int RunSetPassword(const std::string& data_dir, const std::string& tenant_name,
                   const std::string& email) {
  auto env = Environment::Open(data_dir);
  if (!env) return 1;
  auto tenant = env->directory->FindTenantByName(tenant_name);
  if (!tenant.ok()) {
    std::cerr << "zebros: no tenant named '" << tenant_name << "'\n";
    return 1;
  }
  auto user = env->identity->FindUserForLogin(tenant->id, email);
  if (!user.ok()) {
    std::cerr << "zebros: no user '" << email << "' in tenant '" << tenant_name << "'\n";
    return 1;
  }
  auth::PasswordHasher hasher;
  auto hash = hasher.Hash(ReadSecretLine());
  if (!hash.ok()) {
    std::cerr << "zebros: " << hash.error().public_message << "\n";
    return 1;
  }
  auto status = env->identity->SetPassword(tenant->id, user->first.id, *hash);
  if (!status.ok()) {
    std::cerr << "zebros: " << status.error().public_message << "\n";
    return 1;
  }
  return 0;
}

int RunRotateKeys(const std::string& data_dir) {
  auto env = Environment::Open(data_dir);
  if (!env) return 1;
  auto kid = auth::KeyRing::Rotate(env->IdpKeyDir(), env->ids);
  if (!kid.ok()) {
    std::cerr << "zebros: " << kid.error().public_message << " " << kid.error().detail << "\n";
    return 1;
  }
  std::cout << *kid << "\n";
  return 0;
}

int RunVerifyAudit(const std::string& data_dir) {
  // Opening would create an empty database, which verifies trivially: name the mistake instead.
  if (!std::filesystem::exists(data_dir + "/zebros.db")) {
    std::cerr << "zebros: no database in " << data_dir << "\n";
    return 2;
  }
  auto env = Environment::Open(data_dir);
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
