#pragma once
// Aligned plain-text tables for the CLI (`vigil members`, `vigil check`): columns padded to
// their widest cell plus two spaces, trailing blanks trimmed.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace vigil::agent {

/// Prints `rows` (each a sequence of strings with the same length) to stdout.
template <class Row>
void print_aligned(const std::vector<Row>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

}  // namespace vigil::agent
