#include "api/form_body.h"

#include <algorithm>
#include <cctype>

#include "api/query_parsing.h"

namespace zebros::api {
namespace {

constexpr std::size_t kMaxParams = 100;

core::Error InvalidRequest(std::string message) {
  return core::MakeError(core::Code::kBadRequest, "invalid_request", std::move(message));
}

}  // namespace

core::Result<FormParams> ParseForm(std::string_view text) {
  FormParams params;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    if (params.size() >= kMaxParams) return InvalidRequest("Too many parameters.");
    const auto eq = pair.find('=');
    auto name = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) return InvalidRequest("A parameter has a bad percent-escape.");
    if (!params.emplace(std::move(*name), std::move(*value)).second) {
      return InvalidRequest("A parameter is given more than once.");
    }
  }
  return params;
}

bool IsFormContentType(const net::HttpRequest& request) {
  const std::string* header = request.FindHeader("content-type");
  if (header == nullptr) return false;
  std::string type = header->substr(0, header->find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type == "application/x-www-form-urlencoded";
}

std::string FormValue(const FormParams& params, std::string_view name) {
  const auto found = params.find(name);
  return found == params.end() ? std::string() : found->second;
}

}  // namespace zebros::api
