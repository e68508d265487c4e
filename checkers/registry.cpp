#include "checkers/registry.hpp"

namespace vigil::checkers {

void CheckerRegistry::add(std::string type, CheckerFactory factory) {
  factories_[std::move(type)] = std::move(factory);
}

bool CheckerRegistry::has(std::string_view type) const {
  return factories_.find(type) != factories_.end();
}

std::vector<std::string> CheckerRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [type, f] : factories_) out.push_back(type);
  return out;
}

MakeResult CheckerRegistry::make(const CheckSpec& spec, CheckerContext& ctx) const {
  auto it = factories_.find(spec.type);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [type, f] : factories_) known += (known.empty() ? "" : ", ") + type;
    return MakeResult::fail(spec.name + ": unknown checker type \"" + spec.type +
                            "\" (known: " + known + ")");
  }
  MakeResult r = it->second(spec, ctx);
  if (!r.checker && r.error.empty()) r.error = spec.name + ": factory returned no checker";
  return r;
}

}  // namespace vigil::checkers
