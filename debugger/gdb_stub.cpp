#include "debugger/gdb_stub.h"

#include "debugger/gdb_monitor.h"

#include <fmt/format.h>

#include <algorithm>

namespace vtlab::gdb {

namespace {

// Virtual time a continue runs between two looks for Ctrl-C.
constexpr uint64_t kRunSlice = 1 << 20;

// gdb's signal numbers for the stops it is told about.
constexpr int kSigInt = 2, kSigIll = 4, kSigTrap = 5, kSigSegv = 11;

// The most bytes a packet carries as hex (an m reply, an O packet).
constexpr uint64_t kMaxHexBytes = (kMaxPacket - 16) / 2;

}  // namespace

GdbStub::GdbStub(Debugger& d, Transport& t, ExitStatus exit_status, ArchPolicy policy)
    : d_(d),
      t_(t),
      exit_status_(std::move(exit_status)),
      policy_(policy),
      regs_(arch_for(d.machine().cpu().s, policy)),
      mode_arch_(regs_.arch()) {}

SessionEnd GdbStub::serve() {
  for (;;) {
    if (end_) return *end_;
    if (disconnected_) return SessionEnd::Disconnected;
    const int b = t_.read_byte(-1);
    if (b == Transport::kClosed) return SessionEnd::Disconnected;
    if (b == Transport::kTimeout) continue;
    switch (reader_.feed(static_cast<uint8_t>(b))) {
      case PacketReader::Event::Packet: {
        t_.write("+");
        const std::string reply = handle(reader_.payload());
        // k gets no reply (vKill does): the connection simply ends.
        if (end_ == SessionEnd::Killed && reader_.payload() == "k") return *end_;
        // Console text first, as many O packets as it takes.
        const std::string text = take_console();
        for (size_t at = 0; at < text.size(); at += kMaxHexBytes) {
          const size_t n = std::min<size_t>(kMaxHexBytes, text.size() - at);
          std::string packet(1, 'O');
          packet += to_hex(reinterpret_cast<const uint8_t*>(text.data() + at), n);
          if (!t_.write(frame(packet))) return SessionEnd::Disconnected;
        }
        last_sent_ = frame(reply);
        if (!t_.write(last_sent_)) return SessionEnd::Disconnected;
        break;
      }
      case PacketReader::Event::BadPacket:
        t_.write("-");
        break;
      case PacketReader::Event::Nack:
        if (!last_sent_.empty()) t_.write(last_sent_);
        break;
      case PacketReader::Event::Interrupt:  // the guest is not running: it is stopped already
      case PacketReader::Event::Ack:
      case PacketReader::Event::None:
        break;
    }
  }
}

std::string GdbStub::handle(std::string_view p) {
  if (p.empty()) return "";
  const std::string_view args = p.substr(1);
  switch (p[0]) {
    case '?': return last_reply_;
    case 'g': return read_registers();
    case 'G': return write_registers(args);
    case 'p': {
      const std::optional<uint64_t> n = parse_hex(args);
      if (!n || *n >= regs_.count()) return "E01";
      return regs_.read(d_.machine().cpu().s, static_cast<unsigned>(*n));
    }
    case 'P': {
      const size_t eq = args.find('=');
      const std::optional<uint64_t> n = parse_hex(args.substr(0, eq));
      if (eq == std::string_view::npos || !n || *n >= regs_.count()) return "E01";
      const std::optional<std::vector<uint8_t>> v = from_hex(args.substr(eq + 1));
      if (!v) return "E01";
      return regs_.write(d_.machine().cpu().s, static_cast<unsigned>(*n), *v) ? "OK" : "E01";
    }
    case 'm': return read_memory(args);
    case 'M': return write_memory(args, false);
    case 'X': return write_memory(args, true);
    case 'Z': return insert_point(args, true);
    case 'z': return insert_point(args, false);
    case 'c': case 's': case 'C': case 'S': return resume(p);
    case 'b':
      if (p == "bs" || p == "bc") return reverse(p == "bs");
      return "";
    case 'v':
      if (p == "vCont?") return "vCont;c;C;s;S";
      if (p.starts_with("vCont;")) return vcont(p.substr(6));
      if (p.starts_with("vKill")) {
        end_ = SessionEnd::Killed;
        return "OK";
      }
      return "";
    case 'k':
      end_ = SessionEnd::Killed;
      return "";
    case 'D':
      end_ = SessionEnd::Detached;
      return "OK";
    case 'H': return "OK";  // one thread: any thread selection is it
    case 'T': return "OK";  // thread 1 is alive
    case 'q': return query(p);
    default: return "";
  }
}

std::string GdbStub::query(std::string_view p) {
  if (p.starts_with("qSupported"))
    return fmt::format("PacketSize={:x};qXfer:features:read+;swbreak+;hwbreak+{}", kMaxPacket,
                       reverse_ ? ";ReverseStep+;ReverseContinue+" : "");
  if (p == "qAttached") return "1";  // attached to an existing "process": kill is not implied on quit
  if (p == "qC") return "QC1";
  if (p == "qfThreadInfo") return "m1";
  if (p == "qsThreadInfo") return "l";
  if (p.starts_with("qSymbol")) return "OK";
  if (p.starts_with("qRcmd,")) return monitor(p.substr(6));
  constexpr std::string_view kXfer = "qXfer:features:read:";
  if (p.starts_with(kXfer)) {
    const std::vector<std::string_view> f = split(p.substr(kXfer.size()), ':');
    if (f.size() != 2 || f[0] != "target.xml") return "E00";
    const std::vector<std::string_view> r = split(f[1], ',');
    const std::optional<uint64_t> off = r.size() == 2 ? parse_hex(r[0]) : std::nullopt;
    const std::optional<uint64_t> len = r.size() == 2 ? parse_hex(r[1]) : std::nullopt;
    if (!off || !len) return "E01";
    // A read from the start is gdb fetching the description: the CPU's mode picks it.
    if (*off == 0) {
      const Arch now = arch_for(d_.machine().cpu().s, policy_);
      if (now != regs_.arch()) regs_ = RegisterFile(now);
      mode_arch_ = now;
    }
    const std::string& xml = regs_.target_xml();
    if (*off >= xml.size()) return "l";
    // Escaping can double a byte: ask for half what gdb allows.
    const uint64_t n = std::min<uint64_t>({*len, xml.size() - *off, kMaxPacket / 2});
    std::string reply(1, *off + n == xml.size() ? 'l' : 'm');
    reply += escape_binary(std::string_view(xml).substr(*off, n));
    return reply;
  }
  return "";
}

std::string GdbStub::read_registers() {
  std::string out;
  for (unsigned n = 0; n < regs_.count(); ++n) out += regs_.read(d_.machine().cpu().s, n);
  return out;
}

std::string GdbStub::write_registers(std::string_view hex) {
  const std::optional<std::vector<uint8_t>> b = from_hex(hex);
  if (!b || b->size() != regs_.total_bytes()) return "E01";
  // Check every register before changing any.
  CpuState& s = d_.machine().cpu().s;
  const CpuState saved = s;
  size_t at = 0;
  for (unsigned n = 0; n < regs_.count(); ++n) {
    const unsigned w = regs_.width(n);
    if (!regs_.write(s, n, std::vector<uint8_t>(b->begin() + at, b->begin() + at + w))) {
      s = saved;
      return "E01";
    }
    at += w;
  }
  return "OK";
}

std::string GdbStub::read_memory(std::string_view args) {
  const std::vector<std::string_view> a = split(args, ',');
  const std::optional<uint64_t> addr = a.size() == 2 ? parse_hex(a[0]) : std::nullopt;
  const std::optional<uint64_t> len = a.size() == 2 ? parse_hex(a[1]) : std::nullopt;
  if (!addr || !len) return "E01";
  std::vector<uint8_t> buf(std::min(*len, kMaxHexBytes));
  const size_t got = d_.read_linear(*addr, buf.data(), buf.size());
  // A short read is a valid answer; none at all is an error.
  if (got == 0 && !buf.empty()) return "E14";  // EFAULT
  return to_hex(buf.data(), got);
}

std::string GdbStub::write_memory(std::string_view args, bool binary) {
  const size_t colon = args.find(':');
  if (colon == std::string_view::npos) return "E01";
  const std::vector<std::string_view> a = split(args.substr(0, colon), ',');
  const std::optional<uint64_t> addr = a.size() == 2 ? parse_hex(a[0]) : std::nullopt;
  const std::optional<uint64_t> len = a.size() == 2 ? parse_hex(a[1]) : std::nullopt;
  if (!addr || !len) return "E01";
  std::vector<uint8_t> data;
  if (binary) {
    const std::optional<std::string> raw = unescape_binary(args.substr(colon + 1));
    if (!raw) return "E01";
    data.assign(raw->begin(), raw->end());
  } else {
    std::optional<std::vector<uint8_t>> h = from_hex(args.substr(colon + 1));
    if (!h) return "E01";
    data = std::move(*h);
  }
  if (data.size() != *len) return "E01";
  return d_.write_linear(*addr, data.data(), data.size()) == data.size() ? "OK" : "E14";
}

std::string GdbStub::insert_point(std::string_view args, bool insert) {
  const std::vector<std::string_view> a = split(args, ',');
  if (a[0].size() != 1 || a[0][0] < '0' || a[0][0] > '4') return "";  // not a kind we know
  const char type = a[0][0];
  // Z0 may carry a condition list after the kind (";X..."): not supported, refused.
  const std::optional<uint64_t> addr = a.size() == 3 ? parse_hex(a[1]) : std::nullopt;
  const std::optional<uint64_t> len = a.size() == 3 ? parse_hex(a[2]) : std::nullopt;
  if (!addr || !len) return "E01";
  const auto same = [&](const Point& p) { return p.type == type && p.addr == *addr && p.len == *len; };
  if (!insert) {
    const auto it = std::find_if(points_.begin(), points_.end(), same);
    if (it == points_.end()) return "E01";
    for (unsigned id : it->ids) d_.remove(id);
    points_.erase(it);
    return "OK";
  }
  if (std::any_of(points_.begin(), points_.end(), same)) return "OK";
  Point p{type, *addr, *len, {}};
  if (type == '0' || type == '1') {
    p.ids.push_back(d_.add_breakpoint(*addr, false));
  } else {
    if (*len == 0 || *len > kPageSize) return "E01";
    // One core watchpoint per page the range touches, each on the
    // physical page it maps to now.
    std::vector<std::pair<uint64_t, uint64_t>> pieces;
    for (uint64_t at = *addr; at < *addr + *len;) {
      const uint64_t n = std::min(*addr + *len - at, kPageSize - (at & kPageMask));
      const std::optional<uint64_t> phys = d_.to_physical(at);
      if (!phys) return "E14";
      pieces.emplace_back(*phys, n);
      at += n;
    }
    for (const auto& [phys, n] : pieces) p.ids.push_back(d_.add_watchpoint(phys, n, type != '2', type != '3'));
  }
  points_.push_back(std::move(p));
  return "OK";
}

std::string GdbStub::resume(std::string_view p) {
  const bool step = p[0] == 's' || p[0] == 'S';
  std::string_view rest = p.substr(1);
  // C and S carry a signal first, which a bare machine has nowhere to deliver.
  if (p[0] == 'C' || p[0] == 'S') {
    const size_t semi = rest.find(';');
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
  }
  if (!rest.empty()) {
    const std::optional<uint64_t> addr = parse_hex(rest);
    if (!addr || !set_pc(d_.machine().cpu().s, *addr)) return "E01";
  }
  return stop_reply(run(step));
}

std::string GdbStub::vcont(std::string_view actions) {
  // One thread: the first action is the one that applies to it.
  const std::string_view first = split(actions, ';')[0];
  const std::string_view action = split(first, ':')[0];
  if (action.empty()) return "E01";
  if (action[0] == 'c' || action[0] == 'C') return stop_reply(run(false));
  if (action[0] == 's' || action[0] == 'S') return stop_reply(run(true));
  return "E01";
}

std::string GdbStub::reverse(bool step) {
  if (!reverse_) return "";
  const ReverseExecution::Result r = step ? reverse_->reverse_step() : reverse_->reverse_continue();
  if (!r.ok && !r.at_start) return "E01";
  // Back before a triple fault or an unmodelled instruction: alive again.
  if (r.ok) machine_dead_ = false;
  // The first state of the run: gdb's "no more reverse-execution history".
  if (r.at_start) return last_reply_ = fmt::format("T{:02x}replaylog:begin;", kSigTrap);
  return stop_reply(step ? StopEvent{} : r.stop);
}

StopEvent GdbStub::run(bool step) {
  for (;;) {
    StopEvent e = step ? d_.step() : d_.cont(kRunSlice);
    // Each slice's end is a place the run passed: a checkpoint if due.
    if (reverse_) reverse_->note_stop();
    if (step || e.kind != StopEvent::Kind::Budget) return e;
    if (interrupt_pending()) {
      e.kind = StopEvent::Kind::Interrupted;
      return e;
    }
  }
}

bool GdbStub::interrupt_pending() {
  for (;;) {
    const int b = t_.read_byte(0);
    if (b == Transport::kTimeout) return false;
    if (b == Transport::kClosed) {
      disconnected_ = true;
      return true;
    }
    if (reader_.feed(static_cast<uint8_t>(b)) == PacketReader::Event::Interrupt) return true;
  }
}

std::string GdbStub::monitor(std::string_view hex_command) {
  const std::optional<std::vector<uint8_t>> raw = from_hex(hex_command);
  if (!raw) return "E01";
  const std::string line(raw->begin(), raw->end());
  console_ += monitor_command(d_, line, regs_.arch(), arch_for(d_.machine().cpu().s, policy_));
  return "OK";
}

// A stop in a mode whose description gdb does not have: say so, once per change.
void GdbStub::note_mode_change() {
  const Arch now = arch_for(d_.machine().cpu().s, policy_);
  if (now == mode_arch_) return;
  mode_arch_ = now;
  if (now == regs_.arch()) return;
  static constexpr const char* kRuns[] = {"16-bit code", "32-bit code", "in long mode"};
  console_ += fmt::format("vtlab: the CPU now runs {}: its target description is {}, gdb has {} "
                          "(`unset tdesc filename` makes gdb read it)\n",
                          kRuns[static_cast<int>(now)], arch_name(now), arch_name(regs_.arch()));
}

std::string GdbStub::stop_reply(const StopEvent& e) {
  note_mode_change();
  std::string r;
  switch (e.kind) {
    case StopEvent::Kind::Breakpoint: {
      const auto it = std::find_if(points_.begin(), points_.end(), [&](const Point& p) {
        return std::find(p.ids.begin(), p.ids.end(), e.id) != p.ids.end();
      });
      r = fmt::format("T{:02x}{}", kSigTrap, it != points_.end() && it->type == '1' ? "hwbreak:;" : "swbreak:;");
      break;
    }
    case StopEvent::Kind::Watchpoint: {
      r = fmt::format("T{:02x}", kSigTrap);
      for (const Point& p : points_)
        if (std::find(p.ids.begin(), p.ids.end(), e.id) != p.ids.end())
          r += fmt::format("{}:{:x};", p.type == '2' ? "watch" : (p.type == '3' ? "rwatch" : "awatch"), p.addr);
      break;
    }
    case StopEvent::Kind::Interrupted:
      r = fmt::format("T{:02x}", kSigInt);
      break;
    case StopEvent::Kind::MachineStop: {
      const bool final_stop = e.reason == StopReason::GuestExit || e.reason == StopReason::Halted;
      if (final_stop || machine_dead_) {
        exit_status_value_ = exit_status_(e);
        end_ = SessionEnd::Exited;
        r = fmt::format("W{:02x}", exit_status_value_ & 0xFF);
      } else {
        // Let the user look at the state a triple fault or an unmodelled
        // instruction left; the next resume reports the exit.
        machine_dead_ = true;
        r = fmt::format("T{:02x}", e.reason == StopReason::Unsupported ? kSigIll : kSigSegv);
      }
      break;
    }
    default:
      r = fmt::format("T{:02x}", kSigTrap);
      break;
  }
  last_reply_ = r;
  return r;
}

}  // namespace vtlab::gdb
