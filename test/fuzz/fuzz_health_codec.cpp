// libFuzzer target: the health-record codec (agent/health_record.hpp) on arbitrary bytes, as
// HealthState::notify_message / merge_remote_state see them. Whatever decodes must respect
// the limits and survive an encode/decode round trip unchanged.
#include <cstdint>
#include <cstdlib>

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
  (void)decode_clock(bytes);
  return 0;
}
