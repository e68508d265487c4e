// libFuzzer target: the query strings of the HTTP API. The input is the raw text after '?'
// as a client sends it; cpp-httplib splits and percent-decodes it exactly as the server does
// (httplib::detail::parse_query_text), then api::parse_history_query validates it (the
// /v1/history parameters) and api::reject_query_params answers the routes that take none.
// The answer must be a valid query or an error line that makes a JSON body {"error": "..."},
// whatever the bytes.
#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "api/history_query.hpp"

using namespace vigil::api;

namespace {

// 2026-11-23T14:05:00Z: ages resolve against a fixed clock.
constexpr std::int64_t kNowMs = 1795442700000;

// The route answers 400 with the body api::HttpResponse::error builds: {"error": message}
// serialized by nlohmann::json, whose strict dump() throws on invalid UTF-8. So the message,
// which may quote the client's bytes, must be valid UTF-8 and round-trip.
void check_error_body(const std::string& message) {
  if (message.empty()) std::abort();
  const std::string body = nlohmann::json{{"error", message}}.dump();
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || j.size() != 1 || j["error"] != message) std::abort();
}

void check_query(const HistoryQuery& q, const QueryParams& params) {
  if (q.limit < 1 || q.limit > kMaxHistoryLimit) std::abort();
  if (q.since_ms && q.until_ms && *q.since_ms >= *q.until_ms) std::abort();
  for (const auto* name : {&q.node, &q.checker}) {
    if (*name && ((*name)->empty() || (*name)->size() > kMaxHistoryNameParam)) std::abort();
  }
  const auto& types = history_event_types();
  if (q.type && std::find(types.begin(), types.end(), *q.type) == types.end()) std::abort();
  for (const auto& [k, v] : params) {
    if (params.count(k) != 1) std::abort();  // repeated parameters are refused
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  httplib::Params parsed;
  httplib::detail::parse_query_text(text, parsed);
  QueryParams params(parsed.begin(), parsed.end());

  auto h = parse_history_query(params, kNowMs);
  if (h.query) {
    if (!h.error.empty()) std::abort();
    check_query(*h.query, params);
  } else {
    check_error_body(h.error);
  }
  const std::string none = reject_query_params(params);
  if (none.empty() != params.empty()) std::abort();
  if (!none.empty()) check_error_body(none);
  return 0;
}
