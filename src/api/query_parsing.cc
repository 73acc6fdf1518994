#include "api/query_parsing.h"

#include <charconv>

namespace zebros::api {
namespace json = boost::json;

namespace {

// More than any real list needs; bounds the work one request can ask for.
constexpr std::size_t kMaxListParameters = 100;

core::Error InvalidParameter(std::string message) {
  return core::MakeError(core::Code::kBadRequest, "invalid_parameter", std::move(message));
}
core::Error InvalidFilter(std::string message) {
  return core::MakeError(core::Code::kBadRequest, "invalid_filter", std::move(message));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

core::Status ParseSortList(std::string_view text, std::vector<model::SortKey>& sort) {
  if (text.empty()) return InvalidFilter("Empty sort field.");
  for (;;) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    bool descending = false;
    // An unescaped '+' arrives decoded as a space.
    if (!item.empty() && (item.front() == '-' || item.front() == '+' || item.front() == ' ')) {
      descending = item.front() == '-';
      item.remove_prefix(1);
    }
    if (item.empty()) return InvalidFilter("Empty sort field.");
    sort.push_back({std::string(item), descending});
    if (comma == std::string_view::npos) return core::OkStatus();
    text = text.substr(comma + 1);
  }
}

core::Result<model::FilterNode> ParseFilterNode(const json::value& value, int depth) {
  if (depth > 16) return InvalidFilter("The filter is nested too deeply.");
  const json::object* object = value.if_object();
  if (object == nullptr) return InvalidFilter("Each filter node must be an object.");
  model::FilterNode node;
  const json::value* and_list = object->if_contains("and");
  const json::value* or_list = object->if_contains("or");
  if (and_list != nullptr || or_list != nullptr) {
    if (object->size() != 1) return InvalidFilter("A group holds only 'and' or 'or'.");
    const json::value* list = and_list ? and_list : or_list;
    if (!list->is_array()) return InvalidFilter("'and'/'or' must hold an array.");
    node.kind = and_list ? model::FilterNode::Kind::kAnd : model::FilterNode::Kind::kOr;
    for (const auto& child : list->get_array()) {
      auto parsed = ParseFilterNode(child, depth + 1);
      if (!parsed.ok()) return std::move(parsed).error();
      node.children.push_back(std::move(parsed).value());
    }
    return node;
  }
  node.kind = model::FilterNode::Kind::kCondition;
  for (const auto& member : *object) {
    if (member.key() != "field" && member.key() != "op" && member.key() != "value") {
      return InvalidFilter("Unknown key '" + std::string(member.key()) + "' in a condition.");
    }
  }
  const json::value* field = object->if_contains("field");
  const json::value* op = object->if_contains("op");
  if (field == nullptr || !field->is_string()) return InvalidFilter("A condition needs 'field'.");
  node.condition.field = std::string(field->get_string());
  if (op != nullptr) {
    if (!op->is_string()) return InvalidFilter("'op' must be a string.");
    auto parsed = model::ParseFilterOp(op->get_string());
    if (!parsed) return InvalidFilter("Unknown operator '" + std::string(op->get_string()) + "'.");
    node.condition.op = *parsed;
  }
  if (const json::value* v = object->if_contains("value")) {
    node.condition.value = *v;
  } else if (node.condition.op == model::FilterOp::kIsNull) {
    node.condition.value = true;
  } else {
    return InvalidFilter("A condition needs 'value'.");
  }
  return node;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

core::Result<std::vector<QueryParameter>> SplitQueryString(std::string_view query_string,
                                                           std::size_t max_parameters) {
  std::vector<QueryParameter> parameters;
  while (!query_string.empty()) {
    const auto amp = query_string.find('&');
    const std::string_view pair = query_string.substr(0, amp);
    query_string =
        amp == std::string_view::npos ? std::string_view{} : query_string.substr(amp + 1);
    if (pair.empty()) continue;
    if (parameters.size() == max_parameters) {
      return InvalidParameter("Too many query parameters.");
    }
    const auto eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return InvalidParameter("A query parameter has a bad percent-escape.");
    parameters.push_back({std::move(*key), std::move(*value)});
  }
  return parameters;
}

core::Result<int> ParseLimit(std::string_view text) {
  int limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec != std::errc() || end != text.data() + text.size() || limit < 1 ||
      limit > model::kMaxPageSize) {
    return InvalidParameter("limit must be an integer between 1 and 500.");
  }
  return limit;
}

core::Result<model::Query> ParseListQuery(std::string_view query_string) {
  model::Query query;
  model::FilterNode all;
  all.kind = model::FilterNode::Kind::kAnd;
  auto parameters = SplitQueryString(query_string, kMaxListParameters);
  if (!parameters.ok()) return std::move(parameters).error();
  for (auto& [key, value] : *parameters) {
    if (key == "limit") {
      auto limit = ParseLimit(value);
      if (!limit.ok()) return std::move(limit).error();
      query.limit = *limit;
    } else if (key == "cursor") {
      query.cursor = value;
    } else if (key == "q") {
      query.text = value;
    } else if (key == "sort") {
      auto status = ParseSortList(value, query.sort);
      if (!status.ok()) return std::move(status).error();
    } else if (key.rfind("filter[", 0) == 0) {
      // filter[field] or filter[field][op]
      const std::string_view rest = std::string_view(key).substr(7);
      const auto close = rest.find(']');
      if (close == std::string_view::npos || close == 0) {
        return InvalidFilter("Use filter[field]=value or filter[field][op]=value.");
      }
      model::FilterNode node;
      node.kind = model::FilterNode::Kind::kCondition;
      node.condition.field = std::string(rest.substr(0, close));
      std::string_view tail = rest.substr(close + 1);
      if (!tail.empty()) {
        if (tail.size() < 3 || tail.front() != '[' || tail.back() != ']') {
          return InvalidFilter("Use filter[field][op]=value.");
        }
        const std::string_view op_name = tail.substr(1, tail.size() - 2);
        auto op = model::ParseFilterOp(op_name);
        if (!op) return InvalidFilter("Unknown operator '" + std::string(op_name) + "'.");
        node.condition.op = *op;
      }
      node.condition.value = json::string(value);
      all.children.push_back(std::move(node));
    } else {
      return InvalidParameter("Unknown query parameter '" + key + "'.");
    }
  }
  if (!all.children.empty()) query.filter = std::move(all);
  return query;
}

core::Result<model::Query> ParseSearchBody(const json::object& body) {
  model::Query query;
  for (const auto& member : body) {
    const std::string_view key = member.key();
    const json::value& value = member.value();
    if (key == "filter") {
      if (value.is_null()) continue;
      auto node = ParseFilterNode(value, 0);
      if (!node.ok()) return std::move(node).error();
      query.filter = std::move(node).value();
    } else if (key == "q") {
      if (value.is_null()) continue;
      if (!value.is_string()) return InvalidParameter("'q' must be a string.");
      query.text = std::string(value.get_string());
    } else if (key == "sort") {
      if (value.is_null()) continue;
      if (!value.is_array()) return InvalidParameter("'sort' must be an array.");
      for (const auto& item : value.get_array()) {
        const json::object* spec = item.if_object();
        const json::value* field = spec ? spec->if_contains("field") : nullptr;
        const json::value* dir = spec ? spec->if_contains("dir") : nullptr;
        if (field == nullptr || !field->is_string() ||
            (dir != nullptr &&
             !(dir->is_string() && (dir->get_string() == "asc" || dir->get_string() == "desc")))) {
          return InvalidFilter("Each sort entry is {\"field\": name, \"dir\": \"asc\"|\"desc\"}.");
        }
        query.sort.push_back(
            {std::string(field->get_string()), dir != nullptr && dir->get_string() == "desc"});
      }
    } else if (key == "limit") {
      if (value.is_null()) continue;
      if (!value.is_int64() || value.get_int64() < 1 || value.get_int64() > model::kMaxPageSize) {
        return InvalidParameter("limit must be an integer between 1 and 500.");
      }
      query.limit = static_cast<int>(value.get_int64());
    } else if (key == "cursor") {
      if (value.is_null()) continue;
      if (!value.is_string()) return InvalidParameter("'cursor' must be a string.");
      query.cursor = std::string(value.get_string());
    } else {
      return InvalidParameter("Unknown search key '" + std::string(key) + "'.");
    }
  }
  return query;
}

}  // namespace zebros::api
