#pragma once

#include <functional>
#include <optional>
#include <string>

#include "api/idp_routes.h"
#include "api/page_cache.h"
#include "auth/access_resolver.h"
#include "auth/api_keys.h"
#include "auth/authenticator.h"
#include "auth/policy.h"
#include "core/work_pool.h"
#include "domain/record_service.h"
#include "domain/schema_registry.h"
#include "net/http_types.h"
#include "storage/audit_store.h"
#include "storage/identity_store.h"

namespace zebros::api {

// What the API is served from; every member outlives the handler.
struct ApiServices {
  domain::RecordService& records;
  domain::SchemaRegistry& schemas;
  auth::Authenticator& authenticator;
  auth::AccessResolver& access;
  storage::DirectoryStore& directory;
  storage::IdentityStore& identities;
  core::WorkPool& pool;  // for blocking directory work, off the I/O threads
  const core::Clock& clock;
  storage::AuditStore& audit;
  // Database reachable and migrated; may wait on a database server (then run on `reads`).
  std::function<bool()> ready;
  IdpRoutes* idp = nullptr;  // the built-in identity provider (/realms/…); null: none
  // Rendered list and search pages; null when another process may write the database.
  PageCache* pages = nullptr;
  // For lists and searches when they wait on a database server; null: they run where asked.
  core::WorkPool* reads = nullptr;
};

// The REST API: matches routes, authenticates, checks the policy, and calls the domain. Every
// object type is served by the same handlers; nothing here is specific to one object. Thread-safe.
class ApiHandler final : public net::HttpHandler {
 public:
  explicit ApiHandler(ApiServices services);

  void Handle(net::HttpRequest& request, net::Reply reply) override;

 private:
  enum class RouteKind {
    kHealth,
    kReady,
    kOpenApi,
    kSchemaList,
    kSchemaObject,
    kSchemaFields,
    kCollection,
    kSearch,
    kBatch,
    kRecord,
    kRestore,
    kMe,
    kUsers,
    kApiKeys,
    kTeams,
    kScopes,
    kAudit,
    kHistory,
  };
  struct Route {
    RouteKind kind;
    std::string object;
    std::string id;
    const char* allowed;
    // for 405's Allow header, e.g. "GET, POST"
  };
  // How to answer a request later, from any thread, stamping the access log's tenant.
  struct Answer {
    net::Reply reply;
    std::string tenant_id;
    void Send(net::HttpResponse response) const;
  };
  // One request on its way through: who asks, and how to answer (stamping the access log's tenant).
  struct Call {
    net::HttpRequest& request;
    net::Reply reply;
    model::Principal principal;
    void Send(net::HttpResponse response) const;
    // Moves the reply out into an Answer (cheaper to carry than the Call); the Call answers
    // nothing afterwards.
    Answer Defer() { return {std::move(reply), principal.tenant_id}; }
  };

  static std::optional<Route> Match(std::string_view path);
  static bool MethodAllowed(const Route& route, std::string_view method);

  void Dispatch(const Route& route, Call& call);
  // False after answering 403, which is sent once the denial's audit entry is durable.
  bool Permit(const Call& call, std::string_view object, auth::Action action) const;
  core::Result<boost::json::object> JsonObjectBody(const net::HttpRequest& request) const;

  // Record endpoints (record_routes.cc).
  void ListRecords(Call& call, const model::ObjectTypePtr& type);
  void SearchRecords(Call& call, const model::ObjectTypePtr& type);
  void CreateRecord(Call& call, const model::ObjectTypePtr& type);
  void GetRecord(Call& call, const model::ObjectTypePtr& type, const std::string& id);
  void UpdateRecord(Call& call, const model::ObjectTypePtr& type, const std::string& id);
  void DeleteRecord(Call& call, const model::ObjectTypePtr& type, const std::string& id);
  void RestoreRecord(Call& call, const model::ObjectTypePtr& type, const std::string& id);
  void BatchRecords(Call& call, const model::ObjectTypePtr& type);
  // Where a list or search page goes in pages_: its key, and the tenant's write generation
  // loaded before the page is read. An empty key: not cached.
  struct PageSlot {
    std::string key;
    std::uint64_t generation = 0;
  };
  // Answers with the list (`list`) or search page `query` asks for: from pages_ when it holds
  // it, else read (ReadPage). `kind` and `request` key the page.
  void ServePage(Call& call, const model::ObjectTypePtr& type, std::string_view kind,
                 std::string_view request, model::Query query, bool list);
  // Answers from pages_ when it holds the page (true); otherwise fills `slot`'s generation for
  // ReadPage (or empties its key: the generation is unknown). Reads the tenant's write
  // generation, which on PostgreSQL is a database read; when the database is unavailable,
  // answers with that (true): the page's read would wait for it a second time.
  bool SendCachedPage(const model::Principal& principal, const model::ObjectTypePtr& type,
                      bool no_cache, const Answer& answer, PageSlot& slot) const;
  // Reads a page of records and answers with it (RecordService::ListAsync; what holds a thread
  // runs on `reads_` when there is one).
  void ReadPage(const model::Principal& principal, Answer answer, const model::ObjectTypePtr& type,
                model::Query query, bool list, PageSlot slot);
  net::HttpResponse PageResponse(const model::ObjectTypePtr& type,
                                 const core::Result<storage::Page>& page,
                                 const PageSlot& slot) const;

  // Schema endpoints (schema_routes.cc).
  void ListSchemas(Call& call);
  void GetSchema(Call& call, const model::ObjectTypePtr& type);
  void AddField(Call& call, const model::ObjectTypePtr& type);
  void GetOpenApi(Call& call);

  // Access endpoints (access_routes.cc).
  void GetMe(Call& call);
  void Users(Call& call, const std::string& id);
  void ApiKeys(Call& call, const std::string& id);
  void Teams(Call& call, const std::string& id);
  void Scopes(Call& call, const std::string& role, const std::string& object);
  void OffIo(Call& call, std::function<net::HttpResponse()> work);
  // Audit endpoints (audit_routes.cc).
  void ListAudit(Call& call);
  void RecordHistory(Call& call, const model::ObjectTypePtr& type, const std::string& id);

  domain::RecordService& records_;
  domain::SchemaRegistry& schemas_;
  auth::Authenticator& authenticator_;
  auth::AccessResolver& access_;
  storage::DirectoryStore& directory_;
  storage::IdentityStore& identities_;
  core::WorkPool& pool_;
  core::WorkPool* reads_;
  const core::Clock& clock_;
  storage::AuditStore& audit_;
  std::function<bool()> ready_;
  IdpRoutes* idp_;
  PageCache* pages_;
};

}  // namespace zebros::api
