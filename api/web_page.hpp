#pragma once
// The web view's HTML (api/web/index.html), embedded into the binary at build time
// (api/web/embed.cmake writes it into a generated .cpp as a raw string literal).

#include <string_view>

namespace vigil::api {

/// The whole page: one self-contained UTF-8 HTML document (inline CSS and JS, no external
/// scripts, fonts or stylesheets). Static storage; valid for the life of the program.
std::string_view web_page_html();

}  // namespace vigil::api
