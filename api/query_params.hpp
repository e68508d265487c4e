#pragma once
// Decoded query parameters of a request, and the check of routes that take none.

#include <map>
#include <string>
#include <string_view>

namespace vigil::api {

/// Decoded query parameters (key -> value; a key may repeat), as HttpRequest::params.
using QueryParams = std::multimap<std::string, std::string>;

/// A client-supplied name quoted for an error message: 'name', cut to 64 bytes ("..."), with
/// invalid UTF-8 and control bytes shown as '?', so the message is always valid JSON text.
std::string quote_param(std::string_view name);

/// For routes that take no parameters: the error text naming the first one given, or "".
std::string reject_query_params(const QueryParams& params);

}  // namespace vigil::api
