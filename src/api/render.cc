#include "api/render.h"

#include <charconv>

#include "core/json.h"
#include "core/time_format.h"

namespace zebros::api {

void AppendRecord(std::string& out, const model::ObjectType& type, const model::Record& record) {
  out += "{\"id\":";
  core::AppendJsonString(out, record.id);
  // Records read from storage hold their fields in schema order: the next one is usually this
  // field, which saves a hashed lookup per field and record.
  auto next = record.values.begin();
  for (const auto& field : type.fields) {
    out.push_back(',');
    core::AppendJsonString(out, field.name);
    out.push_back(':');
    const boost::json::value* value = nullptr;
    if (next != record.values.end() && next->key() == field.name) {
      value = &next->value();
      ++next;
    } else {
      value = record.values.if_contains(field.name);
    }
    if (value == nullptr) {
      out += "null";
    } else {
      core::AppendJson(out, *value);
    }
  }
  out += ",\"created_at\":\"";
  core::AppendTimestamp(out, record.created_at);
  out += "\",\"updated_at\":\"";
  core::AppendTimestamp(out, record.updated_at);
  out += "\",\"created_by\":";
  core::AppendJsonString(out, record.created_by);
  out += ",\"version\":";
  char digits[24];
  const auto written = std::to_chars(digits, digits + sizeof digits, record.version);
  out.append(digits, written.ptr);
  if (record.deleted_at) {
    out += ",\"deleted_at\":\"";
    core::AppendTimestamp(out, *record.deleted_at);
    out.push_back('"');
  }
  out.push_back('}');
}

std::string RenderRecord(const model::ObjectType& type, const model::Record& record) {
  std::string out;
  out.reserve(1024);
  AppendRecord(out, type, record);
  return out;
}

std::string RenderPage(const model::ObjectType& type, const storage::Page& page) {
  std::string out;
  out.reserve(512 + page.records.size() * 900);
  out += "{\"data\":[";
  for (std::size_t i = 0; i < page.records.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendRecord(out, type, page.records[i]);
  }
  out += "],\"next_cursor\":";
  if (page.next_cursor.empty()) {
    out += "null";
  } else {
    core::AppendJsonString(out, page.next_cursor);
  }
  out.push_back('}');
  return out;
}

std::string ETagFor(const model::Record& record) {
  return "\"" + record.id + "-v" + std::to_string(record.version) + "\"";
}

}  // namespace zebros::api
