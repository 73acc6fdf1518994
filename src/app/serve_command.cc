#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "api/api_handler.h"
#include "api/problem.h"
#include "app/commands.h"
#include "app/environment.h"
#include "auth/jwks_source.h"
#include "auth/oidc_verifier.h"
#include "core/log.h"
#include "net/http_server.h"

namespace zebros::app {
namespace {

constexpr char kBootstrapKeyFile[] = "bootstrap-admin-key";

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

// First start: tenant `default` and an admin key, shown once and kept in a 0600 file.
bool Bootstrap(Environment& env) {
  auto tenants = env.directory->ListTenants();
  if (!tenants.ok()) return false;
  if (!tenants->empty()) return true;
  auto tenant = env.directory->CreateTenant("default");
  if (!tenant.ok()) return false;
  const std::string secret = auth::NewApiKeySecret();
  auto key = env.directory->CreateApiKey(tenant->id, "bootstrap admin", model::Role::kAdmin,
                                         auth::HashApiKeySecret(secret), std::nullopt);
  if (!key.ok()) return false;
  const std::string path = env.data_dir + "/" + kBootstrapKeyFile;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    const std::string line = secret + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!written) return false;
  }
  std::cout << "Created tenant 'default' with an admin API key (shown once, also saved in " << path
            << "):\n"
            << secret << "\n"
            << std::flush;
  return true;
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
  auto env = Environment::Open(config.data_dir);
  if (!env) return 1;
  if (!Bootstrap(*env)) {
    std::cerr << "zebros: could not create the bootstrap tenant and key\n";
    return 1;
  }
  storage::sqlite::Database& database = *env->database;
  auto oidc = OidcSettingsFrom(config);
  if (!oidc) return 2;
  const auto& clock = env->clock;
  auth::TokenVerifier tokens(std::move(*oidc), clock, [&clock](const std::string& issuer) {
    return std::make_unique<auth::HttpJwksSource>(issuer, clock);
  });
  // The base URL is known once the server listens (the port may be ephemeral).
  std::string base_url;
  auth::Authenticator authenticator(
      *env->authenticator, tokens,
      auth::Authenticator::BuiltinProvider{[&base_url] { return base_url + "/realms/"; },
                                           [] {
                                             return std::make_unique<auth::CallbackJwksSource>(
                                                 [] { return std::vector<auth::Jwk>{}; });
                                           }},
      *env->directory, *env->identity, clock);
  auth::AccessResolver access(*env->directory, env->clock);
  // Blocking directory work and password hashing, off the I/O threads.
  core::WorkPool pool(2, 1000);
  api::ApiHandler handler(api::ApiServices{
      *env->records, *env->schemas, authenticator, access, *env->directory, *env->identity, pool,
      env->clock, *env->audit, [&database] {
        auto version = database.AppliedSchemaVersion();
        return version.ok() && *version == storage::sqlite::Database::LatestSchemaVersion();
      }});

  net::ServerOptions options;
  options.host = host;
  options.port = port;
  options.io_threads = config.io_threads;
  options.make_error = [](int status, std::string_view code, std::string_view detail) {
    return api::ProblemResponse(status, code, detail);
  };
  options.on_complete = [](const net::HttpRequest& request, const net::HttpResponse& response,
                           std::chrono::microseconds duration) {
    // The path only: query strings may carry filter values that are personal data.
    core::Log(core::LogLevel::kInfo, "request",
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
  base_url = url;
  tokens.WarmUp();
  core::Log(core::LogLevel::kInfo, "listening",
            {{"port", *bound}, {"url", url}, {"data_dir", config.data_dir}});
  std::cout << "Zebros CRM is serving " << url << "  (data: " << config.data_dir << ")\n"
            << std::flush;
  server.Run();
  core::Log(core::LogLevel::kInfo, "stopping: draining writes", {});
  env->database->writer().Stop();
  core::Log(core::LogLevel::kInfo, "stopped", {});
  return 0;
}

}  // namespace zebros::app
