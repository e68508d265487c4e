// Writes the seed corpus of every fuzz target into <dir>/<target>/ (the directory is emptied
// first): valid packets and frames from encode_*, and fuzz_membership scenarios built from them.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "test/fuzz/fuzz_inputs.hpp"

using namespace vigil::gossip;
using namespace vigil::gossip::fuzz;
namespace fs = std::filesystem;

namespace {

int written = 0;
void write(const fs::path& dir, const Bytes& b) {
  std::ofstream f(dir / ("seed-" + std::to_string(written++)), std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
Bytes tick_ms(unsigned ms) {
  return Bytes{static_cast<std::uint8_t>(ms & 0xff), static_cast<std::uint8_t>(ms >> 8)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  const fs::path packet = root / "decode_packet", frame = root / "decode_frame",
                 member = root / "membership";
  for (const auto& d : {packet, frame, member}) {
    fs::remove_all(d);
    fs::create_directories(d);
  }
  const auto msgs = sample_messages();
  std::vector<Bytes> parts;
  for (const auto& m : msgs) {
    write(frame, codec::encode_frame(m));
    if (codec::type_of(m) == MsgType::push_pull) {
      Bytes rec;
      append_record(rec, Op::stream, codec::encode_frame(m));
      write(member, rec);
      continue;
    }
    const Bytes p = codec::encode_packet(m);
    write(packet, p);
    parts.push_back(codec::encode_message(m));
    Bytes rec;
    append_record(rec, Op::datagram, p, 1);
    append_record(rec, Op::tick, tick_ms(1500));
    write(member, rec);
  }
  std::vector<std::span<const std::uint8_t>> views(parts.begin(), parts.end());
  const Bytes compound = codec::encode_packet(views);
  write(packet, compound);

  // Scenarios: a probe answered, a probe unanswered (ping-req, suspicion, death, reap), a join
  // answered with a full state, a leave, tags and user broadcasts.
  Bytes s1;
  append_record(s1, Op::tick, tick_ms(1000));
  append_record(s1, Op::datagram, codec::encode_packet(codec::Ack{1, {}}));
  append_record(s1, Op::datagram, compound);
  append_record(s1, Op::tick, tick_ms(1000));
  write(member, s1);
  Bytes s2;
  for (int k = 0; k < 40; ++k) append_record(s2, Op::tick, tick_ms(1000));
  write(member, s2);
  Bytes s3;
  append_record(s3, Op::join, {});
  append_record(s3, Op::stream_reply, codec::encode_frame(msgs[10]));
  append_record(s3, Op::stream_reply, {});
  append_record(s3, Op::tick, tick_ms(40000));
  append_record(s3, Op::stream_reply, codec::encode_frame(msgs[11]));
  write(member, s3);
  Bytes s4;
  append_record(s4, Op::set_tags, Bytes{'x'});
  append_record(s4, Op::broadcast, Bytes{1, 2});
  append_record(s4, Op::datagram, codec::encode_packet(codec::User{"k1", Bytes{1}}), 2);
  append_record(s4, Op::tick, tick_ms(300));
  append_record(s4, Op::leave, {});
  append_record(s4, Op::tick, tick_ms(60000));
  write(member, s4);
  Bytes s5;
  append_record(s5, Op::stream, codec::encode_frame(codec::Ping{9, "self", "p1", ""}));
  append_record(s5, Op::datagram,
                codec::encode_packet(codec::IndirectPing{3, "p2", "p2:1", "p1", "p1:1", true}));
  append_record(s5, Op::tick, tick_ms(600));
  write(member, s5);
  std::printf("wrote %d seeds under %s\n", written, root.c_str());
  return 0;
}
