// The record endpoints of ApiHandler: one implementation for every object type.
#include <charconv>

#include "api/api_handler.h"
#include "api/problem.h"
#include "api/query_parsing.h"
#include "api/render.h"
#include "core/crypto.h"

namespace zebros::api {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxIdempotencyKeyLength = 255;

core::Error BadPrecondition() {
  return core::MakeError(core::Code::kPreconditionFailed, "precondition_failed",
                         "If-Match does not name the record's current version.");
}

// "con_…-v3" (quoted, optionally W/) → 3 when it names `id`. nullopt = header absent or "*".
core::Result<std::optional<std::int64_t>> ExpectedVersion(const net::HttpRequest& request,
                                                          const std::string& id) {
  const std::string* header = request.FindHeader("if-match");
  if (header == nullptr) return std::optional<std::int64_t>{};
  std::string_view tag = *header;
  if (tag == "*") return std::optional<std::int64_t>{};
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  const std::string prefix = "\"" + id + "-v";
  if (tag.size() < prefix.size() + 2 || tag.substr(0, prefix.size()) != prefix ||
      tag.back() != '"') {
    return BadPrecondition();
  }
  tag = tag.substr(prefix.size(), tag.size() - prefix.size() - 1);
  std::int64_t version = 0;
  auto [end, ec] = std::from_chars(tag.data(), tag.data() + tag.size(), version);
  if (ec != std::errc() || end != tag.data() + tag.size()) return BadPrecondition();
  return std::optional<std::int64_t>{version};
}

// `header`: the request's If-None-Match.
bool IfNoneMatchHits(std::string_view header, const std::string& etag) {
  std::string_view list = header;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Reads the optional Idempotency-Key header. nullopt inside = no key; an error for a bad one.
// `render` builds the response to store with the key, inside the write's transaction.
core::Result<std::optional<storage::Idempotency>> IdempotencyFor(
    const net::HttpRequest& request,
    std::function<storage::StoredResponse(const std::vector<storage::ChangeResult>&)> render) {
  const std::string* key = request.FindHeader("idempotency-key");
  if (key == nullptr) return std::optional<storage::Idempotency>{};
  if (key->empty() || key->size() > kMaxIdempotencyKeyLength) {
    return core::MakeError(core::Code::kBadRequest, "invalid_parameter",
                           "Idempotency-Key must be 1 to 255 characters.");
  }
  return std::optional<storage::Idempotency>{storage::Idempotency{
      *key, core::Sha256Hex(request.method + " " + request.path + "\n" + request.body),
      std::move(render)}};
}

net::HttpResponse RecordResponse(int status, const model::ObjectType& type,
                                 const model::Record& record) {
  net::HttpResponse response = JsonResponse(status, RenderRecord(type, record));
  response.SetHeader("ETag", ETagFor(record));
  return response;
}

// Everything apart from the tenant's records and the schema that decides what a page holds:
// who sees it (tenant, role, masking, record scope) and what was asked.
std::string PageKey(const model::Principal& principal, const model::ObjectType& type,
                    std::string_view kind, std::string_view request) {
  constexpr char kSeparator = '\x1f';
  std::string key = principal.tenant_id;
  key += kSeparator;
  key += type.name;
  key += kSeparator;
  key += model::RoleName(principal.role);
  key += principal.mask_pii ? "+masked" : "";
  key += kSeparator;
  const model::RecordScope scope = principal.ScopeFor(type.name);
  key += model::RecordScopeName(scope);
  if (scope != model::RecordScope::kAll) {
    for (const auto& owner : principal.VisibleOwners(type.name)) {
      key += ',';
      key += owner;
    }
  }
  key += kSeparator;
  key += kind;
  key += kSeparator;
  key += request;
  return key;
}

net::HttpResponse ReplayResponse(const storage::StoredResponse& stored) {
  net::HttpResponse response = JsonResponse(stored.status, stored.body);
  if (!stored.location.empty()) response.SetHeader("Location", stored.location);
  if (!stored.etag.empty()) response.SetHeader("ETag", stored.etag);
  response.SetHeader("Idempotent-Replayed", "true");
  return response;
}

}  // namespace

void ApiHandler::ServePage(Call& call, const model::ObjectTypePtr& type, std::string_view kind,
                           std::string_view request, model::Query query, bool list) {
  // RFC 9111 request directives: no-cache asks for a page read afresh (which then replaces the
  // cached one), no-store for one that is not kept either.
  const std::string* directives = call.request.FindHeader("cache-control");
  const bool no_store = directives && directives->find("no-store") != std::string::npos;
  const bool no_cache = directives && directives->find("no-cache") != std::string::npos;
  PageSlot slot;
  if (pages_ == nullptr || no_store) {
    return ReadPage(call.principal, call.Defer(), type, std::move(query), list, std::move(slot));
  }
  slot.key = PageKey(call.principal, *type, kind, request);
  if (reads_ == nullptr) {
    auto answer = call.Defer();
    if (SendCachedPage(call.principal, type, no_cache, answer, slot)) return;
    return ReadPage(call.principal, std::move(answer), type, std::move(query), list,
                    std::move(slot));
  }
  // Where reads wait on a database server, so does the write generation that keys the page: on
  // a worker, with the read. On this I/O thread it would hold up every request of the
  // connections the thread serves, for as long as the server takes (a connect timeout, when it
  // hangs).
  auto answer = std::make_shared<Answer>(call.Defer());
  const bool posted =
      reads_->Post([this, principal = call.principal, answer, type, no_cache,
                    query = std::move(query), list, slot = std::move(slot)]() mutable {
        if (SendCachedPage(principal, type, no_cache, *answer, slot)) return;
        ReadPage(principal, std::move(*answer), type, std::move(query), list, std::move(slot));
      });
  if (!posted) answer->Send(ProblemResponse(core::WorkPool::BusyError()));
}

bool ApiHandler::SendCachedPage(const model::Principal& principal, const model::ObjectTypePtr& type,
                                bool no_cache, const Answer& answer, PageSlot& slot) const {
  auto generation = records_.WriteGeneration(principal);
  if (!generation.ok()) {
    if (generation.error().code == core::Code::kUnavailable) {
      answer.Send(ProblemResponse(generation.error()));
      return true;
    }
    slot.key.clear();  // unknown: neither trust nor keep a page
    return false;
  }
  slot.generation = *generation;
  if (no_cache) return false;
  auto body = pages_->Find(slot.key, slot.generation, type);
  if (!body) return false;
  answer.Send(JsonResponse(200, std::move(*body)));
  return true;
}

net::HttpResponse ApiHandler::PageResponse(const model::ObjectTypePtr& type,
                                           const core::Result<storage::Page>& page,
                                           const PageSlot& slot) const {
  if (!page.ok()) return ProblemResponse(page.error());
  std::string body = RenderPage(*type, *page);
  if (pages_ != nullptr && !slot.key.empty()) pages_->Store(slot.key, slot.generation, type, body);
  return JsonResponse(200, std::move(body));
}

// A read that waits on a database server holds a worker of `reads_`, not an I/O thread (a slow
// one would otherwise hold up every request of the connections that thread serves), or no
// thread at all (PostgreSQL's ranked searches: RecordStore::ListAsync).
void ApiHandler::ReadPage(const model::Principal& principal, Answer answer,
                          const model::ObjectTypePtr& type, model::Query query, bool list,
                          PageSlot slot) {
  records_.ListAsync(
      principal, *type, std::move(query), list, reads_,
      [this, answer = std::move(answer), type, slot = std::move(slot)](
          core::Result<storage::Page> page) { answer.Send(PageResponse(type, page, slot)); });
}

// A page is looked up only once the request has parsed, so a request that must fail never
// meets the page of one that did not.
void ApiHandler::ListRecords(Call& call, const model::ObjectTypePtr& type) {
  auto query = ParseListQuery(call.request.query);
  if (!query.ok()) return call.Send(ProblemResponse(query.error()));
  ServePage(call, type, "list", call.request.query, std::move(query).value(), true);
}

void ApiHandler::SearchRecords(Call& call, const model::ObjectTypePtr& type) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return call.Send(ProblemResponse(body.error()));
  auto query = ParseSearchBody(*body);
  if (!query.ok()) return call.Send(ProblemResponse(query.error()));
  ServePage(call, type, "search", call.request.body, std::move(query).value(), false);
}

void ApiHandler::CreateRecord(Call& call, const model::ObjectTypePtr& type) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return call.Send(ProblemResponse(body.error()));
  auto idempotency =
      IdempotencyFor(call.request, [type](const std::vector<storage::ChangeResult>& results) {
        const auto& record = results.front().record;
        return storage::StoredResponse{201, RenderRecord(*type, record),
                                       "/api/v1/" + type->name + "/" + record.id, ETagFor(record)};
      });
  if (!idempotency.ok()) return call.Send(ProblemResponse(idempotency.error()));
  records_.Create(call.principal, type, *body, std::move(idempotency).value(),
                  [call, type](storage::ApplyOutcome outcome) {
                    if (outcome.replay) return call.Send(ReplayResponse(*outcome.replay));
                    if (!outcome.results.ok()) {
                      return call.Send(ProblemResponse(outcome.results.error()));
                    }
                    const auto& record = outcome.results->front().record;
                    auto response = RecordResponse(201, *type, record);
                    response.SetHeader("Location", "/api/v1/" + type->name + "/" + record.id);
                    call.Send(std::move(response));
                  });
}

void ApiHandler::GetRecord(Call& call, const model::ObjectTypePtr& type, const std::string& id) {
  // Answered on whichever thread the read completes on (PostgreSQL: a later turn of the loop).
  const std::string* header = call.request.FindHeader("if-none-match");
  records_.GetAsync(call.principal, *type, id,
                    [answer = call.Defer(), type,
                     if_none_match = header ? std::optional<std::string>(*header)
                                            : std::nullopt](core::Result<model::Record> record) {
                      if (!record.ok()) return answer.Send(ProblemResponse(record.error()));
                      const std::string etag = ETagFor(*record);
                      if (if_none_match && IfNoneMatchHits(*if_none_match, etag)) {
                        net::HttpResponse response;
                        response.status = 304;
                        response.SetHeader("ETag", etag);
                        return answer.Send(std::move(response));
                      }
                      answer.Send(RecordResponse(200, *type, *record));
                    });
}

void ApiHandler::UpdateRecord(Call& call, const model::ObjectTypePtr& type, const std::string& id) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return call.Send(ProblemResponse(body.error()));
  auto expected = ExpectedVersion(call.request, id);
  if (!expected.ok()) return call.Send(ProblemResponse(expected.error()));
  records_.Update(call.principal, type, id, *body, *expected,
                  [call, type](storage::ApplyOutcome outcome) {
                    if (!outcome.results.ok()) {
                      return call.Send(ProblemResponse(outcome.results.error()));
                    }
                    call.Send(RecordResponse(200, *type, outcome.results->front().record));
                  });
}

void ApiHandler::DeleteRecord(Call& call, const model::ObjectTypePtr& type, const std::string& id) {
  auto expected = ExpectedVersion(call.request, id);
  if (!expected.ok()) return call.Send(ProblemResponse(expected.error()));
  records_.Delete(call.principal, type, id, *expected, [call](storage::ApplyOutcome outcome) {
    if (!outcome.results.ok()) return call.Send(ProblemResponse(outcome.results.error()));
    net::HttpResponse response;
    response.status = 204;
    call.Send(std::move(response));
  });
}

void ApiHandler::RestoreRecord(Call& call, const model::ObjectTypePtr& type,
                               const std::string& id) {
  records_.Restore(call.principal, type, id, [call, type](storage::ApplyOutcome outcome) {
    if (!outcome.results.ok()) return call.Send(ProblemResponse(outcome.results.error()));
    call.Send(RecordResponse(200, *type, outcome.results->front().record));
  });
}

void ApiHandler::BatchRecords(Call& call, const model::ObjectTypePtr& type) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return call.Send(ProblemResponse(body.error()));
  auto count = [&body](std::string_view section) -> std::size_t {
    const json::value* value = body->if_contains(section);
    if (value == nullptr) return 0;
    if (value->is_array()) return value->get_array().size();
    if (section == "upsert" && value->is_object()) {
      const json::value* records = value->get_object().if_contains("records");
      return records && records->is_array() ? records->get_array().size() : 0;
    }
    return 0;
  };
  const std::size_t creates = count("create"), updates = count("update"), upserts = count("upsert"),
                    deletes = count("delete");
  using auth::Action;
  if ((creates + upserts > 0 && !Permit(call, type->name, Action::kCreate)) ||
      (updates + upserts > 0 && !Permit(call, type->name, Action::kUpdate)) ||
      (deletes > 0 && !Permit(call, type->name, Action::kDelete)) ||
      (creates + updates + upserts + deletes == 0 && !Permit(call, type->name, Action::kRead))) {
    return;
  }
  auto render = [type, creates, updates,
                 upserts](const std::vector<storage::ChangeResult>& results) {
    std::string out = "{\"created\":[";
    std::size_t i = 0;
    auto section = [&](std::size_t n, bool ids_only) {
      for (std::size_t k = 0; k < n && i < results.size(); ++k, ++i) {
        if (k > 0) out.push_back(',');
        if (ids_only) {
          out += "\"" + results[i].record.id + "\"";
        } else {
          AppendRecord(out, *type, results[i].record);
        }
      }
    };
    section(creates, false);
    out += "],\"updated\":[";
    section(updates, false);
    out += "],\"upserted\":[";
    section(upserts, false);
    out += "],\"deleted\":[";
    section(results.size() - i, true);
    out += "]}";
    return out;
  };
  auto idempotency =
      IdempotencyFor(call.request, [render](const std::vector<storage::ChangeResult>& results) {
        return storage::StoredResponse{200, render(results), "", ""};
      });
  if (!idempotency.ok()) return call.Send(ProblemResponse(idempotency.error()));
  records_.Batch(call.principal, type, *body, std::move(idempotency).value(),
                 [call, render](storage::ApplyOutcome outcome) {
                   if (outcome.replay) return call.Send(ReplayResponse(*outcome.replay));
                   if (!outcome.results.ok()) {
                     return call.Send(ProblemResponse(outcome.results.error()));
                   }
                   call.Send(JsonResponse(200, render(*outcome.results)));
                 });
}

}  // namespace zebros::api
