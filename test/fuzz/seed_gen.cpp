// Writes the seed corpus of every fuzz target into <dir>/<target>/ (the directory is emptied
// first): valid packets and frames from encode_*, fuzz_membership scenarios built from them,
// and text seeds for fuzz_config (config files + flags) and fuzz_http_query (query strings).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

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
void write_text(const fs::path& dir, std::string_view text) {
  write(dir, Bytes(text.begin(), text.end()));
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
                 member = root / "membership", config = root / "config",
                 query = root / "http_query";
  for (const auto& d : {packet, frame, member, config, query}) {
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

  // fuzz_config: a config file's text, then NUL-separated flags "name=value".
  using namespace std::string_literals;
  for (const std::string& c : {
           R"({"name": "n1", "bind": "127.0.0.1:7946", "http": "127.0.0.1:7947",
               "join": ["10.0.0.2", "seed.example:7946"], "tags": {"role": "master"},
               "profile": "wan", "log_level": "debug", "log_format": "json",
               "data_dir": "/tmp/v", "advertise": "10.0.0.1:7946", "keyring": "/k.json"})"s,
           R"({"join": "a:1, b:2", "gossip": {"probe_interval": "2s", "probe_timeout": "1s",
               "indirect_checks": 3, "tcp_fallback_probe": false, "suspicion_mult": 4,
               "udp_buffer_size": 1400, "max_tags_bytes": 512, "stream_timeout": "10s",
               "push_pull_interval": "0s", "dead_reap_timeout": "24h"}})"s,
           R"({"checkers": [{"type": "etcd", "name": "e", "interval": "10s", "timeout": "5s",
               "failure_threshold": 2, "severity": "warning", "endpoints": ["http://a:2379"]},
               {"type": "disk", "interval": 30, "timeout": 1.5}],
               "history": {"retention": "7d"}, "metrics": {}})"s,
           "\0name=a\0bind=[::1]:7946\0join=x:1,y\0tag=k=v\0profile=local"s,
           R"({"gossip": {"probe_interval": "1ms"}})"s + "\0log_level=trace"s,
       }) {
    write_text(config, c);
  }
  // fuzz_http_query: the raw text after '?'.
  for (const char* q :
       {"since=1h&until=2026-11-23T14:05:00Z&node=node-1&checker=etcd&type=ProbeFailed&limit=10",
        "since=2026-11-23T14:05:00.123%2B02:00&limit=10000", "since=7d&until=30m",
        "limit=0&limit=1", "type=Node%41dded&node=%E2%9C%93", "x=%zz&y=%&z", "since=1h30m500ms",
        "until=1970-01-01t00:00:00z", "node=a+b&checker=%2F%00"}) {
    write_text(query, q);
  }
  std::printf("wrote %d seeds under %s\n", written, root.c_str());
  return 0;
}
