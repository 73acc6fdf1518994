#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "app/commands.h"

namespace {
// The most PostgreSQL connections of one kind a process may ask for.
constexpr int kMaxConnections = 1000;

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Zebros CRM server"};
  app.set_version_flag("--version", "zebros 0.1.0");
  app.require_subcommand(1);
  zebros::app::StoreLocation where;
  where.data_dir = EnvOr("ZEBROS_DATA_DIR", "./zebros-data");
  where.database_url = EnvOr("ZEBROS_DATABASE_URL", "");
  where.database_pool_size = std::atoi(EnvOr("ZEBROS_DATABASE_POOL_SIZE", "16").c_str());
  where.database_search_connections =
      std::atoi(EnvOr("ZEBROS_DATABASE_SEARCH_CONNECTIONS", "2").c_str());
  // Every command that touches the install takes the same three options.
  const auto add_location = [&where](CLI::App* command) {
    command->add_option("--data-dir", where.data_dir, "Data directory (env ZEBROS_DATA_DIR)");
    command->add_option("--database-url", where.database_url,
                        "postgres://… to use PostgreSQL instead of SQLite in the data dir (env "
                        "ZEBROS_DATABASE_URL)");
    command
        ->add_option("--database-pool-size", where.database_pool_size,
                     "PostgreSQL connections per process (env ZEBROS_DATABASE_POOL_SIZE)")
        ->check(CLI::Range(1, kMaxConnections));
    command
        ->add_option("--database-search-connections", where.database_search_connections,
                     "PostgreSQL connections for ranked searches, besides the pool: about the "
                     "database server's cores (env ZEBROS_DATABASE_SEARCH_CONNECTIONS)")
        ->check(CLI::Range(1, kMaxConnections));
  };

  zebros::app::ServeConfig serve;
  serve.listen = EnvOr("ZEBROS_LISTEN", "127.0.0.1:8080");
  auto* serve_cmd = app.add_subcommand("serve", "Run the HTTP API");
  add_location(serve_cmd);
  serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (env ZEBROS_LISTEN)");
  serve_cmd->add_option("--threads", serve.io_threads, "I/O threads (default: one per core)");
  serve.public_url = EnvOr("ZEBROS_PUBLIC_URL", "");
  serve_cmd->add_option("--public-url", serve.public_url,
                        "External base URL, for token issuers (env ZEBROS_PUBLIC_URL)");
  if (const char* issuers = std::getenv("ZEBROS_OIDC_ISSUERS"); issuers != nullptr) {
    std::string list = issuers;
    for (std::size_t start = 0; start < list.size();) {
      const std::size_t comma = std::min(list.find(',', start), list.size());
      if (comma > start) serve.oidc_issuers.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
  }
  serve_cmd->add_option("--oidc-issuer", serve.oidc_issuers,
                        "Accept access tokens of this OIDC issuer: URL[=TENANT] (repeatable; env "
                        "ZEBROS_OIDC_ISSUERS, comma-separated)");
  serve_cmd->add_option("--oidc-audience", serve.oidc_audience,
                        "Audience external tokens must carry (default zebros-api)");
  serve_cmd->add_option("--oidc-tenant-claim", serve.oidc_tenant_claim,
                        "Claim naming the tenant when the issuer pins none (default tenant)");
  serve_cmd->add_option("--oidc-roles-claim", serve.oidc_roles_claim,
                        "Dotted path of the roles array (default realm_access.roles)");
  serve_cmd->add_option("--oidc-role-map", serve.oidc_role_map,
                        "issuer-role=zebros-role,… (zebros roles: admin|sales|support|read_only)");
  serve.page_cache_mb = std::atoi(EnvOr("ZEBROS_PAGE_CACHE_MB", "32").c_str());
  serve_cmd
      ->add_option("--page-cache-mb", serve.page_cache_mb,
                   "MiB for rendered list and search pages; 0: off (env ZEBROS_PAGE_CACHE_MB, "
                   "default 32)")
      ->check(CLI::Range(0, 65536));

  auto* migrate_cmd = app.add_subcommand("migrate", "Apply database migrations");
  add_location(migrate_cmd);

  auto* admin =
      app.add_subcommand("admin", "Tenants, API keys, users, signing keys and the access policy");
  admin->require_subcommand(1);
  std::string tenant_name;
  auto* create_tenant = admin->add_subcommand("create-tenant", "Create a tenant");
  create_tenant->add_option("name", tenant_name, "Tenant name")->required();
  add_location(create_tenant);

  std::string key_tenant, key_role, key_label;
  auto* create_key = admin->add_subcommand("create-api-key", "Create an API key; prints it");
  create_key->add_option("--tenant", key_tenant, "Tenant name")->required();
  create_key->add_option("--role", key_role, "admin|sales|support|read_only")->required();
  create_key->add_option("--name", key_label, "Label");
  add_location(create_key);

  std::string user_tenant, user_email, user_role, user_name;
  bool password_stdin = false;
  auto* create_user = admin->add_subcommand("create-user", "Create a user; prints its id");
  create_user->add_option("--tenant", user_tenant, "Tenant name")->required();
  create_user->add_option("--email", user_email, "E-mail address")->required();
  create_user->add_option("--role", user_role, "admin|sales|support|read_only")->required();
  create_user->add_option("--username", user_name, "Username (default: the e-mail address)");
  create_user->add_flag("--password-stdin", password_stdin,
                        "Read the password from stdin (default: invited, no password yet)");
  add_location(create_user);

  auto* set_password = admin->add_subcommand("set-password", "Set a user's password");
  set_password->add_option("--tenant", user_tenant, "Tenant name")->required();
  set_password->add_option("--email", user_email, "E-mail address or username")->required();
  set_password->add_flag("--password-stdin", password_stdin, "Read the password from stdin")
      ->required();
  add_location(set_password);

  auto* rotate_keys =
      admin->add_subcommand("rotate-keys", "New signing key for the built-in identity provider");
  add_location(rotate_keys);

  auto* verify_audit =
      admin->add_subcommand("verify-audit", "Check the audit log's hash chains; exit 1 if broken");
  add_location(verify_audit);
  auto* print_policy = admin->add_subcommand(
      "print-policy", "Print the access policy as Markdown (the table in docs/security.md)");

  std::string transfer_from, transfer_to;
  bool transfer_resume = false;
  int transfer_batch_rows = 1000;
  auto* transfer = app.add_subcommand(
      "transfer", "Copy a whole install from SQLite into an empty PostgreSQL database");
  transfer->add_option("--from", transfer_from, "sqlite:PATH (a data dir or its zebros.db)")
      ->required();
  transfer->add_option("--to", transfer_to, "postgres://… (an empty database)")->required();
  transfer->add_flag("--resume", transfer_resume,
                     "Finish an interrupted transfer: copy into a non-empty target, skipping "
                     "rows it already has");
  transfer->add_option("--batch-rows", transfer_batch_rows, "Rows per target transaction")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // Help and version exit 0; any usage error exits 2, whatever CLI11's own code for it.
    return app.exit(error) == 0 ? 0 : 2;
  }
  // The options' ranges are checked on the command line only; the environment's values here.
  const auto in_range = [](int connections) {
    return connections >= 1 && connections <= kMaxConnections;
  };
  if (!in_range(where.database_pool_size) || !in_range(where.database_search_connections)) {
    std::cerr << "zebros: the database pool size and search connections must be 1 to "
              << kMaxConnections << "\n";
    return 2;
  }

  if (serve_cmd->parsed()) {
    serve.where = where;
    return zebros::app::RunServe(serve);
  }
  if (transfer->parsed()) {
    return zebros::app::RunTransfer(transfer_from, transfer_to, transfer_resume,
                                    transfer_batch_rows);
  }
  if (migrate_cmd->parsed()) return zebros::app::RunMigrate(where);
  if (create_tenant->parsed()) return zebros::app::RunCreateTenant(where, tenant_name);
  if (print_policy->parsed()) return zebros::app::RunPrintPolicy();
  if (create_key->parsed()) {
    return zebros::app::RunCreateApiKey(where, key_tenant, key_role, key_label);
  }
  if (create_user->parsed()) {
    return zebros::app::RunCreateUser(where, user_tenant, user_email, user_role, user_name,
                                      password_stdin);
  }
  if (set_password->parsed()) {
    return zebros::app::RunSetPassword(where, user_tenant, user_email);
  }
  if (rotate_keys->parsed()) return zebros::app::RunRotateKeys(where);
  if (verify_audit->parsed()) return zebros::app::RunVerifyAudit(where);
  return 2;
}
