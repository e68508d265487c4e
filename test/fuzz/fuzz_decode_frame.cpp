// libFuzzer target: codec::decode_frame on arbitrary bytes; whatever decodes must round-trip.
#include <cstdint>
#include <cstdlib>

#include "gossip/codec.hpp"

using namespace vigil::gossip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto d = codec::decode_frame({data, size});
  if (!d) return 0;
  const Bytes frame = codec::encode_frame(*d.value);
  auto again = codec::decode_frame(frame);
  if (!again || codec::encode_frame(*again.value) != frame) std::abort();
  return 0;
}
