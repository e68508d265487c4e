// BroadcastQueue (memberlist TransmitLimitedQueue): order, replacement, retransmit limit,
// byte budget and the item cap.
#include <doctest/doctest.h>

#include <algorithm>

#include <string>
#include <vector>

#include "gossip/broadcast_queue.hpp"

using namespace vigil::gossip;

namespace {
Bytes msg(char c, std::size_t size = 10) {
  return Bytes(size, static_cast<std::uint8_t>(c));
}
std::vector<char> firsts(const std::vector<Bytes>& v) {
  std::vector<char> out;
  for (const auto& b : v) out.push_back(static_cast<char>(b.at(0)));
  return out;
}
}  // namespace

TEST_CASE("newest first among equally transmitted, then least transmitted first") {
  BroadcastQueue q;
  q.push("a", msg('a'));
  q.push("b", msg('b'));
  q.push("c", msg('c'));
  std::vector<Bytes> out;
  q.take(0, 1000, 10, out);
  CHECK(firsts(out) == std::vector<char>{'c', 'b', 'a'});
  // Each now has 1 transmit; a new one (0 transmits) goes first.
  q.push("d", msg('d'));
  out.clear();
  q.take(0, 25, 10, out);  // room for two 10-byte messages
  CHECK(firsts(out) == std::vector<char>{'d', 'c'});
  // Now c has 2 transmits, a, b and d 1: among those the newest first.
  out.clear();
  q.take(0, 25, 10, out);
  CHECK(firsts(out) == std::vector<char>{'d', 'b'});
  out.clear();
  q.take(0, 1000, 10, out);
  CHECK(firsts(out) == std::vector<char>{'a', 'd', 'c', 'b'});
}

TEST_CASE("a broadcast with the same key replaces the queued one") {
  BroadcastQueue q;
  CHECK(q.push("n1", msg('x')) == 0);
  CHECK(q.push("n2", msg('y')) == 0);
  CHECK(q.push("n1", msg('z')) == 1);  // x is dropped
  CHECK(q.size() == 2);
  std::vector<Bytes> out;
  q.take(0, 1000, 10, out);
  CHECK(firsts(out) == std::vector<char>{'z', 'y'});
  // The replacement starts again at 0 transmits.
  CHECK(q.push("n2", msg('w')) == 1);
  out.clear();
  q.take(0, 15, 10, out);
  CHECK(firsts(out) == std::vector<char>{'w'});
}

TEST_CASE("a broadcast is dropped once it reached the retransmit limit") {
  BroadcastQueue q;
  q.push("a", msg('a'));
  for (int i = 0; i < 3; ++i) {
    std::vector<Bytes> out;
    q.take(0, 1000, 3, out);
    CHECK(out.size() == 1);
  }
  CHECK(q.empty());
  std::vector<Bytes> out;
  q.take(0, 1000, 3, out);
  CHECK(out.empty());
}

TEST_CASE("the byte budget is respected, overhead counted per broadcast") {
  BroadcastQueue q;
  q.push("big", msg('B', 100));
  q.push("s1", msg('1', 20));
  q.push("s2", msg('2', 20));
  std::vector<Bytes> out;
  q.take(5, 60, 10, out);  // newest first: s2 (25) + s1 (25) = 50; big (105) does not fit
  CHECK(firsts(out) == std::vector<char>{'2', '1'});
  std::size_t used = 0;
  for (const auto& b : out) used += 5 + b.size();
  CHECK(used <= 60);
  CHECK(q.size() == 3);
  out.clear();
  q.take(5, 104, 10, out);  // big needs 105: skipped, the small ones fit
  CHECK(firsts(out) == std::vector<char>{'2', '1'});
  out.clear();
  q.take(5, 105, 10, out);  // big has fewer transmits: it goes first and fills the budget
  CHECK(firsts(out) == std::vector<char>{'B'});
  out.clear();
  q.take(0, 7, 10, out);  // below the smallest useful message: nothing
  CHECK(out.empty());
}

TEST_CASE("the cap drops the most transmitted, oldest broadcasts first") {
  BroadcastQueue q(3);
  q.push("a", msg('a'));
  q.push("b", msg('b'));
  std::vector<Bytes> out;
  q.take(0, 1000, 10, out);  // a and b: 1 transmit each
  q.push("c", msg('c'));
  CHECK(q.push("d", msg('d')) == 1);  // over the cap: a (oldest of the most sent) goes
  CHECK(q.size() == 3);
  out.clear();
  q.take(0, 1000, 10, out);
  CHECK(firsts(out) == std::vector<char>{'d', 'c', 'b'});
  q.set_max_items(1);
  CHECK(q.push("e", msg('e')) == 3);
  CHECK(q.size() == 1);
}

TEST_CASE("take copies: the queue keeps its messages until the limit") {
  BroadcastQueue q;
  q.push("k", msg('k', 12));
  std::vector<Bytes> out1, out2;
  q.take(0, 100, 2, out1);
  q.take(0, 100, 2, out2);
  REQUIRE(out1.size() == 1);
  REQUIRE(out2.size() == 1);
  CHECK(out1[0] == out2[0]);
  CHECK(q.empty());
}

TEST_CASE("background broadcasts go after the others and stop at the background limit") {
  BroadcastQueue q;
  q.push("bg", Bytes(10, 2), BroadcastQueue::kBackground);
  q.push("urgent", Bytes(10, 0), 0);
  std::vector<Bytes> out;
  q.take(0, 15, 10, out, 2);  // room for one: the urgent one
  REQUIRE(out.size() == 1);
  CHECK(out[0][0] == 0);
  out.clear();
  for (int i = 0; i < 5; ++i) q.take(0, 1000, 10, out, 2);
  // urgent: 10 transmits in all (1 + 5 here); background: only 2.
  CHECK(std::count_if(out.begin(), out.end(), [](const Bytes& b) { return b[0] == 2; }) == 2);
  CHECK(std::count_if(out.begin(), out.end(), [](const Bytes& b) { return b[0] == 0; }) == 5);
}
