// gdb remote protocol framing: checksums, binary escapes, hex helpers and
// the byte-at-a-time reader on good, corrupt, oversized and noisy input.
#include <gtest/gtest.h>

#include "debugger/gdb_packet.h"

namespace vtlab::gdb {
namespace {

using Event = PacketReader::Event;

std::vector<Event> feed_all(PacketReader& r, std::string_view bytes) {
  std::vector<Event> events;
  for (char c : bytes) {
    const Event e = r.feed(static_cast<uint8_t>(c));
    if (e != Event::None) events.push_back(e);
  }
  return events;
}

TEST(GdbPacket, ChecksumIsTheByteSumModulo256) {
  EXPECT_EQ(checksum(""), 0);
  EXPECT_EQ(checksum("OK"), 0x9a);                  // 0x4f + 0x4b
  EXPECT_EQ(checksum(std::string(3, '\xff')), 0xfd);  // 0x2fd mod 256
  EXPECT_EQ(frame("OK"), "$OK#9a");
  EXPECT_EQ(frame(""), "$#00");
  EXPECT_EQ(frame("T05"), "$T05#b9");
}

TEST(GdbPacket, BinaryEscapesTheFourFramingBytes) {
  EXPECT_EQ(escape_binary("a$b#c}d*e"), "a}\x04" "b}\x03" "c}]d}\x0a" "e");
  EXPECT_EQ(unescape_binary("a}\x04" "b}\x03" "c}]d}\x0a" "e"), "a$b#c}d*e");
  EXPECT_EQ(unescape_binary(escape_binary(std::string("\x00\x7d\xff", 3))), std::string("\x00\x7d\xff", 3));
  EXPECT_EQ(unescape_binary("abc}"), std::nullopt);  // a lone escape at the end
}

TEST(GdbPacket, HexHelpers) {
  const uint8_t bytes[] = {0x00, 0xab, 0x7f};
  EXPECT_EQ(to_hex(bytes, 3), "00ab7f");
  EXPECT_EQ(to_hex_le(0x100010, 4), "10001000");
  EXPECT_EQ(from_hex("00AbfF"), (std::vector<uint8_t>{0x00, 0xab, 0xff}));
  EXPECT_EQ(from_hex("abc"), std::nullopt);
  EXPECT_EQ(from_hex("zz"), std::nullopt);
  EXPECT_EQ(parse_hex("100010"), 0x100010u);
  EXPECT_EQ(parse_hex("ffffffffffffffff"), ~uint64_t{0});
  EXPECT_EQ(parse_hex("10000000000000000"), std::nullopt);  // 17 digits
  EXPECT_EQ(parse_hex(""), std::nullopt);
  EXPECT_EQ(parse_hex("-1"), std::nullopt);
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string_view>{"a", "b", "", "c"}));
}

TEST(GdbPacket, ReaderYieldsPacketsAcksAndInterrupts) {
  PacketReader r;
  EXPECT_EQ(feed_all(r, "+"), std::vector<Event>{Event::Ack});
  EXPECT_EQ(feed_all(r, "-"), std::vector<Event>{Event::Nack});
  EXPECT_EQ(feed_all(r, "\x03"), std::vector<Event>{Event::Interrupt});
  EXPECT_EQ(feed_all(r, "$m100000,4#ee"), std::vector<Event>{Event::Packet});
  EXPECT_EQ(r.payload(), "m100000,4");
  // Noise between packets is skipped; the checksum's digits may be upper case.
  EXPECT_EQ(feed_all(r, "xyz\n$OK#9A"), std::vector<Event>{Event::Packet});
  EXPECT_EQ(r.payload(), "OK");
  // 0x03 inside a packet is payload (binary data), not an interrupt.
  EXPECT_EQ(feed_all(r, "$\x03#03"), std::vector<Event>{Event::Packet});
  EXPECT_EQ(r.payload(), "\x03");
}

TEST(GdbPacket, ReaderRejectsBadChecksumsAndOversizedBodies) {
  PacketReader r;
  EXPECT_EQ(feed_all(r, "$OK#9b"), std::vector<Event>{Event::BadPacket});
  EXPECT_EQ(feed_all(r, "$OK#zz"), std::vector<Event>{Event::BadPacket});
  const std::string big(kMaxPacket + 1, 'a');
  EXPECT_EQ(feed_all(r, "$" + big + "#" + frame(big).substr(big.size() + 2)), std::vector<Event>{Event::BadPacket});
  // A `$` inside a body restarts: the cut-off packet is dropped.
  EXPECT_EQ(feed_all(r, "$m10$OK#9a"), std::vector<Event>{Event::Packet});
  EXPECT_EQ(r.payload(), "OK");
  // The largest body accepted.
  const std::string most(kMaxPacket, 'b');
  EXPECT_EQ(feed_all(r, frame(most)), std::vector<Event>{Event::Packet});
  EXPECT_EQ(r.payload().size(), kMaxPacket);
}

}  // namespace
}  // namespace vtlab::gdb
