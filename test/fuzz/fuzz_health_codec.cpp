// libFuzzer target: the health-record codec (agent/health_record.hpp) on arbitrary bytes, as
// HealthState::notify_message / merge_remote_state see them. Whatever decodes must respect
// the limits and survive an encode/decode round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "agent/health_record.hpp"

using namespace vigil::agent;

namespace {
void check(const HealthRecord& r) {
  if (r.origin.empty() || r.origin.size() > kMaxOriginBytes) std::abort();
  if (r.probe.error.size() > kMaxTextBytes || r.probe.detail.size() > kMaxTextBytes) std::abort();
  if (r.reach.size() > kMaxReachPeers) std::abort();
  auto again = decode_record(encode_record(r));
  if (!again || !(*again == r)) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  if (auto r = decode_record(bytes)) check(*r);
  if (auto s = decode_state(bytes)) {
    for (const HealthRecord& r : *s) check(r);
  }
  // The push-pull state with its per-origin summary (fmt 2), or a full fmt-1 state.
  if (auto m = decode_state_message(bytes)) {
    for (const HealthRecord& r : m->records) check(r);
    for (std::size_t i = 1; i < m->summary.size(); ++i)
      if (m->summary[i - 1].origin_hash >= m->summary[i].origin_hash) std::abort();
    std::vector<const HealthRecord*> ptrs;
    for (const HealthRecord& r : m->records) ptrs.push_back(&r);
    auto again = decode_state_message(encode_state_message(m->stage, m->summary, ptrs));
    if (!again || again->stage != m->stage || again->summary != m->summary ||
        again->records != m->records)
      std::abort();
  }
  (void)decode_clock(bytes);
  return 0;
}
