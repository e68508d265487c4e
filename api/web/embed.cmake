# Writes the web page into a C++ source as a raw string literal (run by api/CMakeLists.txt:
# cmake -DIN=index.html -DOUT=web_page_data.cpp -P embed.cmake). The delimiter must not
# appear in the page; the build fails with a clear message if it ever does.
file(READ "${IN}" page)
set(delim "vigil_web_page")
string(FIND "${page}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )${delim}\"")
endif()
file(WRITE "${OUT}.tmp"
  "// Generated from api/web/index.html by api/web/embed.cmake. Do not edit.\n"
  "#include \"api/web_page.hpp\"\n\n"
  "namespace vigil::api {\n\n"
  "std::string_view web_page_html() {\n"
  "  static constexpr std::string_view page = R\"${delim}(${page})${delim}\";\n"
  "  return page;\n"
  "}\n\n"
  "}  // namespace vigil::api\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
