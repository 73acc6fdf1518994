// The audit endpoints of ApiHandler: the tenant's log (admins) and one record's history (roles
// that may read the record's object). Both newest first, keyset-paged by `seq`.
#include "api/api_handler.h"
#include "api/audit_query.h"
#include "api/problem.h"
#include "auth/policy.h"
#include "core/json.h"
#include "core/time_format.h"

namespace zebros::api {
namespace {

void AppendNullableString(std::string& out, const std::string& text) {
  if (text.empty()) {
    out += "null";
  } else {
    core::AppendJsonString(out, text);
  }
}

// {"data":[{seq, at, actor, action, object, record_id, request_id, ip, details, prev_hash,
// hash}…], "next_cursor":…|null}. Absent values are null.
std::string RenderAuditPage(const storage::AuditPage& page) {
  std::string out = "{\"data\":[";
  bool first = true;
  for (const auto& entry : page.entries) {
    if (!first) out += ',';
    first = false;
    out += "{\"seq\":" + std::to_string(entry.seq) + ",\"at\":";
    core::AppendJsonString(out, core::FormatTimestamp(entry.at));
    out += ",\"actor\":";
    AppendNullableString(out, entry.actor);
    out += ",\"action\":";
    core::AppendJsonString(out, entry.action);
    out += ",\"object\":";
    AppendNullableString(out, entry.object);
    out += ",\"record_id\":";
    AppendNullableString(out, entry.record_id);
    out += ",\"request_id\":";
    AppendNullableString(out, entry.request_id);
    out += ",\"ip\":";
    AppendNullableString(out, entry.ip);
    out += ",\"details\":";
    core::AppendJson(out, entry.details);
    out += ",\"prev_hash\":";
    core::AppendJsonString(out, entry.prev_hash);
    out += ",\"hash\":";
    core::AppendJsonString(out, entry.hash);
    out += '}';
  }
  out += "],\"next_cursor\":";
  AppendNullableString(out, page.next_cursor);
  out += '}';
  return out;
}

}  // namespace

void ApiHandler::ListAudit(Call& call) {
  auto query = ParseAuditQuery(call.request.query, AuditScope::kTenant);
  if (!query.ok()) return call.Send(ProblemResponse(query.error()));
  auto page = audit_.List(call.principal.tenant_id, *query);
  if (!page.ok()) return call.Send(ProblemResponse(page.error()));
  call.Send(JsonResponse(200, RenderAuditPage(*page)));
}

void ApiHandler::RecordHistory(Call& call, const model::ObjectTypePtr& type,
                               const std::string& id) {
  auto query = ParseAuditQuery(call.request.query, AuditScope::kRecord);
  if (!query.ok()) return call.Send(ProblemResponse(query.error()));
  query->object = type->name;
  query->record_id = id;
  // The record must be one the caller can read now (live, and within any record scope the store
  // applies). A deleted record's history is served only to those who may read the whole log
  // anyway (its entries are the tenant's, so another tenant's id finds none); for anyone else a
  // fallback on entries would reveal records they cannot read. A missing record and another
  // tenant's look the same: 404.
  bool exists = records_.Get(call.principal, *type, id).ok();
  if (!exists && auth::IsAllowed(call.principal.role, "audit_log", auth::Action::kRead)) {
    storage::AuditQuery any;
    any.object = type->name;
    any.record_id = id;
    any.limit = 1;
    auto found = audit_.List(call.principal.tenant_id, any);
    if (!found.ok()) return call.Send(ProblemResponse(found.error()));
    exists = !found->entries.empty();
  }
  if (!exists) {
    return call.Send(ProblemResponse(core::MakeError(core::Code::kNotFound, "not_found",
                                                     "No " + type->singular + " has this id.")));
  }
  auto page = audit_.List(call.principal.tenant_id, *query);
  if (!page.ok()) return call.Send(ProblemResponse(page.error()));
  call.Send(JsonResponse(200, RenderAuditPage(*page)));
}

}  // namespace zebros::api
