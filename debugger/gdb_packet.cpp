#include "debugger/gdb_packet.h"

namespace vtlab::gdb {

namespace {
constexpr char kDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

uint8_t checksum(std::string_view payload) {
  uint8_t sum = 0;
  for (char c : payload) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  return sum;
}

std::string frame(std::string_view payload) {
  const uint8_t sum = checksum(payload);
  std::string out;
  out.reserve(payload.size() + 4);
  out += '$';
  out += payload;
  out += '#';
  out += kDigits[sum >> 4];
  out += kDigits[sum & 15];
  return out;
}

std::string escape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (char c : data) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      out += '}';
      out += static_cast<char>(c ^ 0x20);
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape_binary(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != '}') {
      out += data[i];
      continue;
    }
    if (++i == data.size()) return std::nullopt;
    out += static_cast<char>(data[i] ^ 0x20);
  }
  return out;
}

std::string to_hex(const uint8_t* data, size_t len) {
  std::string out;
  out.reserve(2 * len);
  for (size_t i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

std::string to_hex_le(uint64_t value, unsigned width) {
  uint8_t bytes[8] = {};
  for (unsigned i = 0; i < width && i < 8; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  return to_hex(bytes, width < 8 ? width : 8);
}

std::optional<std::vector<uint8_t>> from_hex(std::string_view text) {
  if (text.size() % 2) return std::nullopt;
  std::vector<uint8_t> out(text.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<uint64_t> parse_hex(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    const int d = hex_value(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

PacketReader::Event PacketReader::feed(uint8_t byte) {
  switch (state_) {
    case State::Idle:
      if (byte == '$') {
        body_.clear();
        overflow_ = false;
        state_ = State::Body;
        return Event::None;
      }
      if (byte == '+') return Event::Ack;
      if (byte == '-') return Event::Nack;
      if (byte == 0x03) return Event::Interrupt;
      return Event::None;  // line noise between packets
    case State::Body:
      if (byte == '#') {
        state_ = State::Sum1;
      } else if (byte == '$') {
        body_.clear();  // a new start: the previous packet was cut off
        overflow_ = false;
      } else if (body_.size() < kMaxPacket) {
        body_ += static_cast<char>(byte);
      } else {
        overflow_ = true;
      }
      return Event::None;
    case State::Sum1:
      sum_hi_ = hex_value(static_cast<char>(byte));
      state_ = State::Sum2;
      return Event::None;
    case State::Sum2: {
      state_ = State::Idle;
      const int lo = hex_value(static_cast<char>(byte));
      if (overflow_ || sum_hi_ < 0 || lo < 0 || checksum(body_) != (sum_hi_ << 4 | lo)) {
        body_.clear();
        return Event::BadPacket;
      }
      return Event::Packet;
    }
  }
  return Event::None;
}

}  // namespace vtlab::gdb
