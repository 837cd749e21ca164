// The framing layer of gdb's remote serial protocol (the GDB manual,
// appendix "Remote Serial Protocol": "Overview" and "Binary Data"):
// `$payload#cs` packets whose checksum is the payload's byte sum modulo
// 256 in two hex digits, `+`/`-` acknowledgements, the 0x03 interrupt
// byte, and `}` escapes (the byte XOR 0x20) for binary data.  Pure
// functions and a byte-at-a-time reader, so malformed input is tested
// without a socket; the stub (gdb_stub.h) sits on top.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vtlab::gdb {

// The largest packet the stub accepts (its body), advertised to gdb as
// PacketSize in qSupported.
inline constexpr size_t kMaxPacket = 0x4000;

uint8_t checksum(std::string_view payload);
// "$payload#cs".  The payload goes out as given: callers escape binary
// data with escape_binary first.
std::string frame(std::string_view payload);
// `}` before each of $ # } * (the last, because gdb reads a bare `*` as
// run-length encoding), the byte XOR 0x20 after it.
std::string escape_binary(std::string_view data);
// The inverse; nullopt when the data ends in a lone `}`.
std::optional<std::string> unescape_binary(std::string_view data);

// Two lowercase hex digits per byte, in memory order.
std::string to_hex(const uint8_t* data, size_t len);
// `width` bytes of `value`, least significant first (the target's order).
std::string to_hex_le(uint64_t value, unsigned width);
// Pairs of hex digits to bytes; nullopt on an odd length or a non-hex digit.
std::optional<std::vector<uint8_t>> from_hex(std::string_view text);
// A big-endian hex number as gdb writes addresses and lengths (1 to 16
// digits); nullopt on anything else.
std::optional<uint64_t> parse_hex(std::string_view text);
// Splits "a,b" or "a,b,c" on `sep`.
std::vector<std::string_view> split(std::string_view text, char sep);

// Reassembles what arrives from gdb one byte at a time.
class PacketReader {
 public:
  enum class Event : uint8_t {
    None,       // nothing complete yet
    Packet,     // a packet with a good checksum: take it with payload()
    BadPacket,  // a bad checksum, a non-hex checksum or an oversized body: answer `-`
    Ack,        // `+`
    Nack,       // `-`: resend the last reply
    Interrupt,  // 0x03 outside a packet
  };
  Event feed(uint8_t byte);
  const std::string& payload() const { return body_; }

 private:
  enum class State : uint8_t { Idle, Body, Sum1, Sum2 };
  State state_ = State::Idle;
  std::string body_;
  bool overflow_ = false;
  int sum_hi_ = 0;
};

}  // namespace vtlab::gdb
