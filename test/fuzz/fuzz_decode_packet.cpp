// libFuzzer target: codec::decode_packet on arbitrary bytes. Besides "never crash", checks that
// whatever decodes re-encodes to a packet that decodes to the same messages.
#include <cstdint>
#include <cstdlib>

#include "gossip/codec.hpp"

using namespace vigil::gossip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto d = codec::decode_packet({data, size});
  if (!d) return 0;
  if (d.value->empty() || d.value->size() > codec::kMaxPartsPerPacket) std::abort();
  std::vector<Bytes> parts;
  for (const auto& m : *d.value) {
    if (codec::type_of(m) == MsgType::push_pull) std::abort();  // stream only
    parts.push_back(codec::encode_message(m));
  }
  std::vector<std::span<const std::uint8_t>> views(parts.begin(), parts.end());
  auto again = codec::decode_packet(codec::encode_packet(views));
  if (!again || again.value->size() != parts.size()) std::abort();
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (codec::encode_message((*again.value)[i]) != parts[i]) std::abort();
  return 0;
}
