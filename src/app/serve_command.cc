#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <thread>

#include "api/api_handler.h"
#include "api/idp_routes.h"
#include "api/problem.h"
#include "app/commands.h"
#include "app/environment.h"
#include "app/serve_lock.h"
#include "auth/idp_service.h"
#include "auth/jwks_source.h"
#include "auth/oidc_verifier.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/work_pool.h"
#include "net/http_server.h"

namespace zebros::app {
namespace {

constexpr char kBootstrapKeyFile[] = "bootstrap-admin-key";
constexpr char kBootstrapPasswordFile[] = "bootstrap-admin-password";
// Threads for blocking work (argon2id, durable directory writes, sign-ins), and their queue.
constexpr std::size_t kBlockingThreads = 2;
constexpr std::size_t kBlockingQueue = 1000;

bool SplitListen(const std::string& listen, std::string& host, int& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  try {
    std::size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) return false;
  } catch (...) {
    return false;
  }
  return !host.empty() && port >= 0 && port <= 65535;
}

// First start: tenant `default`, an admin API key and the admin user `admin` of the built-in
// identity provider with a random password; both secrets are shown once and kept in 0600 files.
bool Bootstrap(Environment& env, auth::PasswordHasher& hasher) {
  auto tenants = env.directory->ListTenants();
  if (!tenants.ok()) return false;
  if (!tenants->empty()) return true;
  auto tenant = env.directory->CreateTenant("default");
  if (!tenant.ok()) return false;
  const std::string secret = auth::NewApiKeySecret();
  auto key = env.directory->CreateApiKey(tenant->id, "bootstrap admin", model::Role::kAdmin,
                                         auth::HashApiKeySecret(secret), std::nullopt,
                                         storage::SystemActor(tenant->id));
  if (!key.ok()) return false;
  const std::string key_path = env.data_dir + "/" + kBootstrapKeyFile;
  if (!WriteSecretFile(key_path, secret + "\n")) return false;

  const std::string password = core::Base64UrlEncode(core::RandomBytes(18));
  auto hash = hasher.Hash(password);
  if (!hash.ok()) return false;
  storage::NewUser admin;
  admin.tenant_id = tenant->id;
  admin.username = "admin";
  admin.display_name = "Administrator";
  admin.role = model::Role::kAdmin;
  admin.password_hash = std::move(hash).value();
  if (!env.identity->CreateUser(admin, storage::SystemActor(tenant->id)).ok()) return false;
  const std::string password_path = env.data_dir + "/" + kBootstrapPasswordFile;
  if (!WriteSecretFile(password_path, password + "\n")) return false;

  std::cout << "Created tenant 'default' with an admin API key (shown once, also saved in "
            << key_path << "):\n"
            << secret << "\n"
            << "and the user 'admin' with the password (shown once, also saved in " << password_path
            << "):\n"
            << password << "\n"
            << std::flush;
  return true;
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The external issuers and their claim mapping from the flags; prints the problem and returns
// nullopt when a flag is malformed.
std::optional<auth::OidcSettings> OidcSettingsFrom(const ServeConfig& config) {
  auth::OidcSettings settings;
  for (const auto& spec : config.oidc_issuers) {
    auto issuer = auth::ParseIssuerSpec(spec);
    if (!issuer.ok()) {
      std::cerr << "zebros: --oidc-issuer " << spec << ": " << issuer.error().public_message
                << "\n";
      return std::nullopt;
    }
    settings.issuers.push_back(std::move(issuer).value());
  }
  auto role_map = auth::ParseRoleMap(config.oidc_role_map);
  if (!role_map.ok()) {
    std::cerr << "zebros: --oidc-role-map: " << role_map.error().public_message << "\n";
    return std::nullopt;
  }
  settings.role_map = std::move(role_map).value();
  settings.audience = config.oidc_audience;
  settings.tenant_claim = config.oidc_tenant_claim;
  settings.roles_claim = config.oidc_roles_claim;
  if (settings.audience.empty() || settings.tenant_claim.empty() || settings.roles_claim.empty()) {
    std::cerr << "zebros: --oidc-audience, --oidc-tenant-claim and --oidc-roles-claim must not be "
                 "empty\n";
    return std::nullopt;
  }
  return settings;
}

}  // namespace

int RunServe(const ServeConfig& config) {
  std::string host;
  int port = 0;
  if (!SplitListen(config.listen, host, port)) {
    std::cerr << "zebros: --listen must be HOST:PORT\n";
    return 2;
  }
  const bool embedded = config.where.database_url.empty();
  std::optional<ServeLock> lock;
  if (embedded) {
    ::mkdir(config.where.data_dir.c_str(), 0700);  // Environment::Open reports a failure
    lock.emplace(config.where.data_dir);
    if (!lock->held()) {
      std::cerr << "zebros: " << lock->error() << "\n";
      return 1;
    }
  }
  StoreLocation where = config.where;
  where.serving = true;
  auto env = Environment::Open(where);
  if (!env) return 1;
  auth::PasswordHasher hasher;
  if (!Bootstrap(*env, hasher)) {
    std::cerr << "zebros: could not create the bootstrap tenant, key and user\n";
    return 1;
  }
  auto keys = auth::KeyRing::Open(*env->identity, env->ids, env->IdpKeyDir());
  if (!keys.ok()) {
    std::cerr << "zebros: " << keys.error().public_message << " " << keys.error().detail << "\n";
    return 1;
  }
  // The issuer needs the bound port, known only after Listen(); set before Run(), read after.
  std::string base_url = TrimSlash(config.public_url);
  auth::IdpService idp(*env->identity, *env->directory, **keys, hasher, env->clock,
                       [&base_url] { return base_url; });
  idp.SetAudit(env->audit.get());
  storage::sql::Engine& database = *env->database;
  auto oidc = OidcSettingsFrom(config);
  if (!oidc) return 2;
  const auto& clock = env->clock;
  auth::TokenVerifier tokens(std::move(*oidc), clock, [&clock](const std::string& issuer) {
    return std::make_unique<auth::HttpJwksSource>(issuer, clock);
  });
  // Tokens of the built-in realms verify against the key ring itself, so a rotation (even by
  // the CLI) is seen at once.
  auth::KeyRing& ring = **keys;
  auth::Authenticator authenticator(
      *env->authenticator, tokens,
      auth::Authenticator::BuiltinProvider{[&base_url] { return base_url + "/realms/"; },
                                           [&ring] {
                                             return std::make_unique<auth::CallbackJwksSource>(
                                                 [&ring] { return ring.PublicKeys(); });
                                           }},
      *env->directory, *env->identity, clock);
  auth::AccessResolver access(*env->directory, env->clock);
  // Blocking directory work, sign-ins and password hashing, off the I/O threads.
  core::WorkPool pool(kBlockingThreads, kBlockingQueue);
  api::IdpRoutes idp_routes(idp, pool);
  // Lists and searches that wait on a database server, off the I/O threads too.
  std::optional<core::WorkPool> reads;
  if (const int workers = database.ReadWorkers(); workers > 0) {
    reads.emplace(static_cast<std::size_t>(workers), kBlockingQueue);
  }
  // Exact on both engines: see RecordStore::WriteGeneration (on SQLite it relies on the lock).
  std::optional<api::PageCache> pages;
  if (config.page_cache_mb > 0) {
    pages.emplace(static_cast<std::size_t>(config.page_cache_mb) << 20);
  }
  api::ApiHandler handler(
      api::ApiServices{*env->records, *env->schemas, authenticator, access, *env->directory,
                       *env->identity, pool, env->clock, *env->audit,
                       [&database] {
                         auto version = database.AppliedSchemaVersion();
                         return version.ok() && *version == database.LatestSchemaVersion();
                       },
                       &idp_routes, pages ? &*pages : nullptr, reads ? &*reads : nullptr});

  net::ServerOptions options;
  options.host = host;
  options.port = port;
  // One I/O thread per core on either database (0 = the cores this process may use: its affinity
  // mask and cgroup CPU quota, core/cpu_cores.h). PostgreSQL once had two per core, while a GET
  // held its thread for the round trip; GETs now wait on the event loop
  // (storage/postgres/pg_pipeline.h), and more threads than cores cost more than they gave: two
  // nodes on two cores served GETs at 13k req/s in total with 4 threads each, 21k with 2; one
  // node 28k with 4, 32k with 2 (a filtered list read afresh, which still holds its thread, 2.8k
  // with 4 and 2.2k with 2; docs/performance.md).
  options.io_threads = config.io_threads;
  options.make_error = [](int status, std::string_view code, std::string_view detail) {
    return api::ProblemResponse(status, code, detail);
  };
  options.on_complete = [](const net::HttpRequest& request, const net::HttpResponse& response,
                           std::chrono::microseconds duration) {
    // The path only: query strings may carry filter values that are personal data. Kept and
    // written with the lines of the next few milliseconds: a write(2) per request was a sixth of
    // a GET's system calls.
    core::LogSoon(core::LogLevel::kInfo, "request",
                  {{"method", request.method},
                   {"path", request.path},
                   {"status", response.status},
                   {"duration_ms", static_cast<double>(duration.count()) / 1000.0},
                   {"request_id", request.request_id},
                   {"tenant", response.log_tenant}});
  };
  net::HttpServer server(std::move(options), handler);
  auto bound = server.Listen();
  if (!bound.ok()) {
    std::cerr << "zebros: " << bound.error().public_message << "\n";
    return 1;
  }
  const std::string url = "http://" +
                          (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                          std::to_string(*bound);
  if (base_url.empty()) base_url = url;
  tokens.WarmUp();
  core::Log(core::LogLevel::kInfo, "listening",
            {{"port", *bound},
             {"url", url},
             {"data_dir", config.where.data_dir},
             {"io_threads", server.io_threads()}});
  std::cout << "Zebros CRM is serving " << url << "  (data: " << config.where.Describe() << ")\n"
            << std::flush;
  // PostgreSQL reads wait for their answers on the server's loop (storage/postgres/pg_pipeline.h).
  env->database->AttachReactor(&server.reactor());
  server.Run();
  env->database->AttachReactor(nullptr);  // before the loop goes away with the server
  pool.Stop();                            // finishes queued work while the writer still runs
  if (reads) reads->Stop();
  core::Log(core::LogLevel::kInfo, "stopping: draining writes", {});
  env->database->Stop();
  core::Log(core::LogLevel::kInfo, "stopped", {});
  return 0;
}

}  // namespace zebros::app
