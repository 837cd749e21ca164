#include "tools/vtlab/debug_cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "core/loader/file.h"
#include "core/loader/load_error.h"
#include "debugger/text_views.h"
#include "debugger/views.h"
#include "mmu/walk_explain.h"
#include "privilege/interrupts.h"
#include "privilege/bt_monitor.h"
#include "privilege/ring_one_monitor.h"
#include "tools/vtlab/session.h"

namespace vtlab::cli {

namespace {

// Ctrl-C stops a running continue at the next instruction boundary
// instead of ending vtlab.
std::atomic<Debugger*> g_debugger{nullptr};
extern "C" void on_debug_interrupt(int) {
  if (Debugger* d = g_debugger.load()) d->request_stop();
}

// A command the user got wrong: one line, and the script goes on.
struct CommandError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

uint64_t number(const std::string& text) {
  if (const std::optional<uint64_t> v = parse_number(text)) return *v;
  throw CommandError("bad number: " + text);
}

const std::string& arg(const std::vector<std::string>& a, size_t i, const char* what) {
  if (i >= a.size()) throw CommandError(std::string("missing ") + what);
  return a[i];
}

std::string bit_names(const std::vector<NamedBit>& bits) {
  std::string s;
  for (const NamedBit& b : bits)
    if (b.set) s += std::string(s.empty() ? "" : " ") + b.name;
  return s;
}

const char* kHelp =
    "Running:\n"
    "  c, continue            run until a breakpoint, watchpoint, catch or machine stop\n"
    "  s, step [N]            one instruction (or one event delivery), N times\n"
    "  n, next [N]            like step, but CALL, INT n and REP string instructions run to the next one\n"
    "  until ADDR             run until CS:EIP is at linear ADDR\n"
    "  rs, reverse-step [N]   back one instruction (or event delivery), N times, by replay from the last\n"
    "                         checkpoint (--checkpoint-interval; power-on for modes without checkpoints)\n"
    "  rc, reverse-continue   back to the last breakpoint, watchpoint or catch stop (or the start)\n"
    "Stopping:\n"
    "  b ADDR                 breakpoint at linear ADDR (before the instruction there runs)\n"
    "  pb ADDR                breakpoint at physical ADDR (the instruction fetched from there)\n"
    "  watch ADDR [LEN]       stop after a write to physical [ADDR, ADDR+LEN) (LEN 1)\n"
    "  rwatch ADDR [LEN]      ... after a read; awatch ADDR [LEN]: after either\n"
    "  catch exception [VEC]  after delivering any CPU exception, or any event on vector VEC\n"
    "  catch io PORT[-LAST]   after an IN/OUT/INS/OUTS on those ports\n"
    "  catch cpl [N]          after the CPL changes (to N)\n"
    "  catch mode             after real/protected/paging/long mode changes\n"
    "  catch cr [N]           after a write to CRn (any CR)\n"
    "  catch exit [REASON]    after the monitor records an exit (of REASON: io, hlt, ...; see docs/EXITS.md)\n"
    "  d, delete ID           delete a breakpoint, watchpoint or catch\n"
    "  i, info                list them with their hit counts\n"
    "Looking:\n"
    "  r, regs                general registers, EFLAGS decoded, mode, CPL\n"
    "  sregs                  segment registers with their hidden caches, GDTR, IDTR\n"
    "  cregs                  CR0, CR2, CR3, CR4, EFER with named bits\n"
    "  gdt [FIRST [COUNT]]    GDT entries decoded; idt [FIRST [COUNT]]: IDT (IVT in real mode)\n"
    "  x/N[bhwg] ADDR         N units of memory at linear ADDR (b 1, h 2, w 4, g 8 bytes; default w)\n"
    "  xp/N[bhwg] ADDR        the same at physical ADDR\n"
    "  disas [intel|att] [N]  N instructions from CS:EIP (default 5, Intel syntax)\n"
    "  walk ADDR [r|w|x] [user]  the page walk for linear ADDR, level by level\n"
    "  tss                    the TSS that TR names, field by field\n"
    "  tlb                    the TLB's valid entries\n"
    "  vcpu                   trap/bt: the CPU as the guest believes it is (virtual CRs, tables, IF, IOPL, CPL)\n"
    "  exits [N]              the monitor's exits so far, per reason, with their modelled cycles; and the\n"
    "                         last N (at most 64), each with what caused it\n"
    "  translation            bt: the kernel block at CS:EIP beside its translation\n"
    "  why                    why the machine shut down (the triple fault's chain, event by event), or why\n"
    "                         the exception the last catch stopped after was raised (descriptor, gate, walk)\n"
    "  q, quit                leave\n"
    "Numbers: 0x1f (hex) or 31 (decimal). With --system-map FILE (or a loader's name such as linux_entry),\n"
    "an ADDR can be NAME[+OFFSET]: b takes its linear address, pb/xp/watch its physical one.\n";

}  // namespace

void add_debug_options(CLI::App* app, DebugOptions& o) {
  const std::vector<std::string>& modes = Machine::modes();
  app->add_option("--mode", o.run.mode, "How the guest runs: " + fmt::format("{}", fmt::join(modes, ", ")))
      ->check(CLI::IsMember(modes))
      ->capture_default_str();
  app->add_option("--serial", o.run.serial, "Where COM1 output goes: stdio, none or file:PATH")
      ->capture_default_str();
  app->add_option("--commands", o.commands, "Read debugger commands from FILE instead of stdin");
  app->add_option("--system-map", o.system_map,
                  "A Linux System.map (nm's ADDRESS TYPE NAME lines): its names work as addresses (b start_kernel; "
                  "pb: where the code sits in RAM, from phys_startup_32/64; boot with nokaslr)")
      ->check(CLI::ExistingFile);
  app->add_option("--checkpoint-interval", o.run.checkpoint_interval,
                  "Reverse execution: a checkpoint every this many units of virtual time (0: none, replay from "
                  "power-on; modes whose monitor state has no snapshot always replay from power-on)")
      ->capture_default_str();
}

int debug_command(const DebugOptions& o) {
  SerialSink serial(o.run.serial);
  // Replays for reverse execution run the guest again: what it printed
  // then is not printed twice.
  bool muted = false;
  std::map<std::string, uint64_t> loader_symbols;
  const auto power_on = [&o, &serial, &muted, &loader_symbols]() {
    auto session = std::make_shared<Session>(o.run, [&serial, &muted](uint8_t b) {
      if (!muted) serial.put(b);
    });
    loader_symbols = session->loader_symbols();
    return std::shared_ptr<Machine>(session, &session->machine());
  };
  std::shared_ptr<Machine> first = power_on();
  SymbolTable symbols;
  if (!o.system_map.empty()) {
    const std::vector<uint8_t> text = read_file(o.system_map);
    try {
      symbols.load_system_map(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()),
                              o.system_map);
    } catch (const std::runtime_error& e) {
      throw LoadError(e.what());
    }
  }
  for (const auto& [name, addr] : loader_symbols) symbols.define(name, addr);
  Debugger dbg(*first);
  ReverseExecution reverse(dbg, first, power_on, o.run.checkpoint_interval);
  first.reset();
  std::ifstream file;
  if (!o.commands.empty()) {
    file.open(o.commands);
    if (!file) throw LoadError(o.commands + ": cannot open");
  }
  std::istream& in = o.commands.empty() ? std::cin : file;
  const bool interactive = o.commands.empty() && isatty(STDIN_FILENO);
  g_debugger.store(&dbg);
  std::signal(SIGINT, on_debug_interrupt);
  DebugCli cli(dbg, std::cout, o.run.max_insns);
  cli.set_symbols(&symbols);
  cli.set_reverse(&reverse, [&muted](bool on) { muted = on; });
  std::cout << "vtlab debug: type help for the commands\n";
  if (o.start_at) {
    muted = true;
    dbg.cont(o.start_at);
    muted = false;
    reverse.note_stop();
    std::cout << "stopped before the first event of the triple fault (why: its chain; s: run into it; rs: back)\n";
  }
  cli.print_location();
  std::string line;
  for (;;) {
    if (interactive) std::cout << "(vtlab) " << std::flush;
    if (!std::getline(in, line)) break;
    // A script's transcript shows each command before its output.
    if (!interactive) std::cout << "(vtlab) " << line << "\n";
    if (!cli.execute(line)) break;
  }
  std::cout << std::flush;
  std::signal(SIGINT, SIG_DFL);
  g_debugger.store(nullptr);
  return cli.errors() ? 1 : 0;
}

void DebugCli::print_location() {
  const CpuState& s = d_.machine().cpu().s;
  const std::vector<DisasmLine> l = disassemble(d_, s.rip, 1, false);
  const unsigned width = s.code_size() == 2 ? 4 : 8;
  out_ << fmt::format("{:04x}:{:0{}x}  {}\n", s.seg[CS].selector, s.rip, width, l.empty() ? "" : l[0].text);
}

bool DebugCli::execute(const std::string& line) {
  std::istringstream words(line);
  Args a;
  for (std::string w; words >> w;) a.push_back(w);
  if (a.empty() || a[0][0] == '#') return true;
  const std::string cmd = a[0];
  try {
    const auto count = [&a]() -> uint64_t { return a.size() > 1 ? number(a[1]) : 1; };
    if (cmd == "q" || cmd == "quit") return false;
    if (cmd == "help" || cmd == "h") {
      out_ << kHelp;
    } else if (cmd == "c" || cmd == "continue") {
      report(d_.cont(budget_));
    } else if (cmd == "s" || cmd == "step" || cmd == "si" || cmd == "n" || cmd == "next" || cmd == "ni") {
      const bool over = cmd[0] == 'n';
      StopEvent e;
      for (uint64_t i = count(); i > 0; --i) {
        e = over ? d_.step_over(budget_) : d_.step();
        if (e.kind != StopEvent::Kind::Step) break;
      }
      report(e);
    } else if (cmd == "rs" || cmd == "reverse-step" || cmd == "rc" || cmd == "reverse-continue") {
      reverse(cmd == "rs" || cmd == "reverse-step", count());
    } else if (cmd == "until") {
      report(d_.run_to(address(arg(a, 1, "address"), false), budget_));
    } else if (cmd == "b" || cmd == "break" || cmd == "pb") {
      const bool phys = cmd == "pb";
      const std::string& where = arg(a, 1, "address");
      const uint64_t addr = address(where, phys);
      const unsigned id = d_.add_breakpoint(addr, phys);
      out_ << fmt::format("breakpoint {} at {} {:#010x}{}\n", id, phys ? "physical" : "linear", addr,
                          parse_number(where) ? "" : " (" + where + ")");
    } else if (cmd == "watch" || cmd == "rwatch" || cmd == "awatch") {
      const uint64_t addr = address(arg(a, 1, "address"), true);
      const uint64_t len = a.size() > 2 ? number(a[2]) : 1;
      if (len == 0 || len > (1u << 20)) throw CommandError("length must be 1 to 1 MiB");
      const bool r = cmd != "watch", w = cmd != "rwatch";
      const unsigned id = d_.add_watchpoint(addr, len, r, w);
      out_ << fmt::format("watchpoint {} on {} of physical {:#010x}, {} bytes\n", id,
                          r && w ? "access" : (r ? "read" : "write"), addr, len);
    } else if (cmd == "catch") {
      add_catch(a);
    } else if (cmd == "d" || cmd == "delete") {
      const uint64_t id = number(arg(a, 1, "id"));
      if (id > 0xFFFFFFFF || !d_.remove(static_cast<unsigned>(id))) throw CommandError("no breakpoint " + a[1]);
      out_ << "deleted " << id << "\n";
    } else if (cmd == "i" || cmd == "info") {
      info();
    } else if (cmd == "r" || cmd == "regs") {
      regs();
    } else if (cmd == "sregs") {
      sregs();
    } else if (cmd == "cregs") {
      cregs();
    } else if (cmd == "gdt" || cmd == "idt") {
      table(cmd == "idt", a);
    } else if (cmd.rfind("x/", 0) == 0 || cmd == "x") {
      examine(cmd.size() > 2 ? cmd.substr(2) : "", a, false);
    } else if (cmd.rfind("xp/", 0) == 0 || cmd == "xp") {
      examine(cmd.size() > 3 ? cmd.substr(3) : "", a, true);
    } else if (cmd == "disas") {
      disas(a);
    } else if (cmd == "walk") {
      walk(a);
    } else if (cmd == "tss") {
      out_ << tss_text(system_tables(d_, TablesSide::Guest));
    } else if (cmd == "tlb") {
      tlb();
    } else if (cmd == "vcpu") {
      vcpu();
    } else if (cmd == "exits") {
      exits(a.size() > 1 ? number(a[1]) : 0);
    } else if (cmd == "why") {
      why();
    } else if (cmd == "translation") {
      translation();
    } else {
      throw CommandError("unknown command \"" + cmd + "\" (try help)");
    }
  } catch (const CommandError& e) {
    ++errors_;
    out_ << "error: " << e.what() << "\n";
  }
  // Wherever a command left the run is a place for a checkpoint, if due.
  if (reverse_) reverse_->note_stop();
  return true;
}

void DebugCli::reverse(bool step, uint64_t count) {
  if (!reverse_) throw CommandError("reverse execution is not available here");
  if (count == 0) throw CommandError("count must be at least 1");
  mute_(true);
  ReverseExecution::Result r;
  for (uint64_t i = 0; i < count; ++i) {
    r = step ? reverse_->reverse_step() : reverse_->reverse_continue();
    if (!r.ok) break;
  }
  mute_(false);
  if (!r.ok) throw CommandError(r.error);
  if (!step && r.stop.kind == StopEvent::Kind::Step) out_ << "back at the start of the run\n";
  report(r.stop);
}

void DebugCli::add_catch(const Args& a) {
  const std::string& what = arg(a, 1, "what to catch (exception, io, cpl, mode, cr or exit)");
  std::optional<uint32_t> lo, hi;
  CatchKind kind;
  std::string detail;
  if (what == "exception") {
    kind = CatchKind::Exception;
    if (a.size() > 2) {
      const uint64_t v = number(a[2]);
      if (v > 255) throw CommandError("a vector is 0 to 255");
      lo = static_cast<uint32_t>(v);
      detail = fmt::format(" vector {:#04x}", v);
    }
  } else if (what == "io") {
    kind = CatchKind::Io;
    const std::string& range = arg(a, 2, "port");
    const size_t dash = range.find('-');
    const uint64_t first = number(range.substr(0, dash));
    const uint64_t last = dash == std::string::npos ? first : number(range.substr(dash + 1));
    if (first > last || last > 0xFFFF) throw CommandError("ports are 0 to 0xffff, first to last");
    lo = static_cast<uint32_t>(first);
    hi = static_cast<uint32_t>(last);
    detail = first == last ? fmt::format(" port {:#x}", first) : fmt::format(" ports {:#x}-{:#x}", first, last);
  } else if (what == "cpl") {
    kind = CatchKind::Cpl;
    if (a.size() > 2) {
      const uint64_t v = number(a[2]);
      if (v > 3) throw CommandError("a CPL is 0 to 3");
      lo = static_cast<uint32_t>(v);
      detail = fmt::format(" to {}", v);
    }
  } else if (what == "mode") {
    kind = CatchKind::Mode;
  } else if (what == "cr") {
    kind = CatchKind::CrWrite;
    if (a.size() > 2) {
      const uint64_t v = number(a[2]);
      if (v != 0 && v != 2 && v != 3 && v != 4) throw CommandError("CR 0, 2, 3 or 4");
      lo = static_cast<uint32_t>(v);
      detail = fmt::format("{}", v);
    }
  } else if (what == "exit") {
    kind = CatchKind::Exit;
    if (a.size() > 2) {
      const std::optional<ExitReason> r = exit_reason_from_name(a[2]);
      if (!r) throw CommandError("no exit reason \"" + a[2] + "\" (docs/EXITS.md lists them)");
      lo = static_cast<uint32_t>(*r);
      detail = " " + a[2];
    }
  } else {
    throw CommandError("catch what? exception, io, cpl, mode, cr or exit");
  }
  const unsigned id = d_.add_catch(kind, lo, hi);
  out_ << fmt::format("catch {}: {}{}\n", id, catch_kind_name(kind), detail);
}

void DebugCli::report(const StopEvent& e) {
  using K = StopEvent::Kind;
  caught_.reset();
  if (e.kind == K::Catch && e.catch_kind == CatchKind::Exception) caught_ = e.event;
  switch (e.kind) {
    case K::Step:
    case K::RunTo:
      break;
    case K::Breakpoint:
      out_ << fmt::format("breakpoint {}\n", e.id);
      break;
    case K::Watchpoint:
      out_ << fmt::format("watchpoint {}: {} of {} bytes at physical {:#010x}\n", e.id, e.write ? "write" : "read",
                          e.size, e.phys);
      break;
    case K::Catch:
      switch (e.catch_kind) {
        case CatchKind::Exception:
          out_ << fmt::format("catch {}: {} at {:04x}:{:08x}, delivered\n", e.id, event_text(e.event.ev),
                              e.event.cs, e.event.return_rip);
          break;
        case CatchKind::Io:
          out_ << fmt::format("catch {}: {} port {:#x}, {} bytes\n", e.id, e.write ? "out to" : "in from", e.port,
                              e.size);
          break;
        case CatchKind::Cpl:
          out_ << fmt::format("catch {}: CPL {} -> {}\n", e.id, e.before, e.after);
          break;
        case CatchKind::Mode:
          out_ << fmt::format("catch {}: mode {} -> {}\n", e.id, cpu_mode_name(static_cast<CpuMode>(e.before)),
                              cpu_mode_name(static_cast<CpuMode>(e.after)));
          break;
        case CatchKind::CrWrite:
          out_ << fmt::format("catch {}: CR{} {:#010x} -> {:#010x}\n", e.id, e.cr, e.before, e.after);
          break;
        case CatchKind::Exit:
          out_ << fmt::format("catch {}: exit {} (count {} -> {})\n", e.id, exit_reason_name(e.exit_reason),
                              e.before, e.after);
          for (const ExitRecord& x : d_.machine().exits().recent(1))
            if (const std::string why = exit_cause_text(x); !why.empty()) out_ << "  cause: " << why << "\n";
          break;
      }
      break;
    case K::Budget:
      out_ << fmt::format("stopped: the budget of {} (--max-insns) ran out\n", budget_);
      break;
    case K::Interrupted:
      out_ << "interrupted\n";
      break;
    case K::MachineStop:
      if (e.reason == StopReason::GuestExit)
        out_ << fmt::format("machine stopped: guest-exit, status {}\n", e.guest_status);
      else
        out_ << fmt::format("machine stopped: {} ({})\n", stop_reason_name(e.reason), e.detail);
      return;
  }
  print_location();
}

void DebugCli::regs() {
  const RegistersView v = registers_view(d_.machine().cpu());
  if (v.wide) {
    // IA-32e mode: all sixteen 64-bit registers, in encoding order.
    static const char* const kNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                           "r8 ", "r9 ", "r10", "r11", "r12", "r13", "r14", "r15"};
    for (unsigned i = 0; i < 16; ++i)
      out_ << fmt::format("{} {:#018x}{}", kNames[i], v.gpr[i], i % 4 == 3 ? "\n" : "  ");
    out_ << fmt::format("rip {:#018x}  rflags {:#010x} [{}] iopl {}\n", v.rip, v.rflags, bit_names(v.flags), v.iopl);
  } else {
    static const char* const kNames[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (unsigned i = 0; i < 8; ++i)
      out_ << fmt::format("{} {:#010x}{}", kNames[i], v.gpr[i] & 0xFFFFFFFF, i % 4 == 3 ? "\n" : "  ");
    out_ << fmt::format("eip {:#010x}  eflags {:#010x} [{}] iopl {}\n", v.rip, v.rflags, bit_names(v.flags), v.iopl);
  }
  out_ << fmt::format("mode {}, cpl {}, {}-bit code; {} instructions, virtual time {}\n", cpu_mode_name(v.mode),
                      v.cpl, v.code_size * 8, v.icount, v.virtual_time);
}

void DebugCli::sregs() {
  const SegmentsView v = segments_view(d_.machine().cpu().s);
  for (const SegmentView& s : v.segs) {
    out_ << fmt::format("{:<4} {:#06x} base {:#010x} limit {:#010x} dpl {}{}{}{}{} {}\n", s.name, s.selector, s.base,
                        s.limit, s.dpl, s.present ? " P" : " -", s.l ? " L" : "", s.db ? " D/B" : "", s.g ? " G" : "",
                        s.type_text);
  }
  out_ << fmt::format("gdtr base {:#010x} limit {:#06x}\n", v.gdtr.base, v.gdtr.limit);
  out_ << fmt::format("idtr base {:#010x} limit {:#06x}\n", v.idtr.base, v.idtr.limit);
}

void DebugCli::cregs() {
  const ControlView v = control_view(d_.machine().cpu().s);
  for (const ControlRegView& r : v.regs) {
    out_ << fmt::format("{:<4} {:#010x}", r.name, r.value);
    if (!r.bits.empty()) out_ << " [" << bit_names(r.bits) << "]";
    out_ << "\n";
  }
  out_ << "paging: " << paging_mode_name(v.paging) << "\n";
}

// The deprivileged guest's own view beside the real CPU's: what the trap
// and bt monitors keep for it (privilege/virtual_cpu.h).
void DebugCli::vcpu() {
  const auto* mon = dynamic_cast<const RingOneMonitor*>(&d_.machine().monitor());
  if (!mon) throw CommandError("no virtual CPU: the guest runs on the real one (try --mode trap or bt)");
  if (!mon->started()) throw CommandError("the monitor takes over when the guest first runs: step or continue first");
  const VirtualCpu& v = mon->virtual_cpu();
  const CpuState& real = d_.machine().cpu().s;
  const unsigned cpl = real.cpl();
  out_ << fmt::format("guest CPL {} (the real CPU runs it at ring {})\n", cpl == 1 ? 0 : cpl, cpl);
  CpuState guest = real;
  guest.cr0 = v.cr0, guest.cr2 = v.cr2, guest.cr3 = v.cr3, guest.cr4 = v.cr4;
  const ControlView cv = control_view(guest);
  for (const ControlRegView& r : cv.regs) {
    if (r.name == std::string_view("EFER")) continue;
    out_ << fmt::format("{:<4} {:#010x}", r.name, r.value);
    if (!r.bits.empty()) out_ << " [" << bit_names(r.bits) << "]";
    out_ << "\n";
  }
  out_ << fmt::format("GDTR base {:#010x} limit {:#06x}  (real: base {:#010x} limit {:#06x})\n", v.gdtr.base,
                      v.gdtr.limit, real.gdtr.base, real.gdtr.limit);
  out_ << fmt::format("IDTR base {:#010x} limit {:#06x}  (real: base {:#010x} limit {:#06x})\n", v.idtr.base,
                      v.idtr.limit, real.idtr.base, real.idtr.limit);
  out_ << fmt::format("LDTR {:#06x}  TR {:#06x}  (real: LDTR {:#06x}  TR {:#06x})\n", v.ldtr.selector, v.tr.selector,
                      real.ldtr.selector, real.tr.selector);
  out_ << fmt::format("IF {}  IOPL {}  (real: IF {}  IOPL {})\n", v.interrupts ? 1 : 0, v.iopl,
                      real.flags.test(flag::IF) ? 1 : 0, (real.flags.bits() & flag::IOPL) >> 12);
}

void DebugCli::translation() {
  auto* bt = dynamic_cast<BinaryTranslationMonitor*>(&d_.machine().monitor());
  if (!bt) throw CommandError("no translations: only --mode bt translates");
  Cpu& cpu = d_.machine().cpu();
  if (!bt->started() || cpu.s.cpl() != 1) throw CommandError("bt translates the guest's kernel code; CS:EIP is not in it");
  for (const BinaryTranslationMonitor::TranslatedInsn& t : bt->translate_view(cpu, cpu.s.rip))
    out_ << fmt::format("{:#010x}  {:<32} {}\n", t.lin, t.text, t.how);
}

void DebugCli::exits(uint64_t last) { out_ << exits_text(d_.machine().exits(), last); }

void DebugCli::table(bool idt, const Args& a) {
  const uint64_t first = a.size() > 1 ? number(a[1]) : 0;
  const uint64_t count = a.size() > 2 ? number(a[2]) : (idt ? 256 : 8192);
  if (first > 8191) throw CommandError("index too large");
  const unsigned n = static_cast<unsigned>(std::min<uint64_t>(count, 8192));
  out_ << descriptor_table_text(
      idt ? idt_view(d_, static_cast<unsigned>(first), n) : gdt_view(d_, static_cast<unsigned>(first), n), idt);
}

uint64_t DebugCli::address(const std::string& text, bool physical) const {
  if (const std::optional<uint64_t> v = parse_number(text)) return *v;
  if (symbols_) {
    const std::optional<uint64_t> v = physical ? symbols_->physical(text) : symbols_->linear(text);
    if (v) return *v;
  }
  const bool named = !text.empty() && (std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_');
  if (!named) throw CommandError("bad number: " + text);
  throw CommandError("no symbol " + text +
                     (symbols_ && symbols_->has_map() ? "" : " (no System.map: give vtlab debug --system-map FILE)"));
}

void DebugCli::examine(const std::string& fmt_text, const Args& a, bool physical) {
  uint64_t n = 1;
  unsigned unit = 4;
  std::string digits = fmt_text;
  if (!digits.empty() && std::string("bhwg").find(digits.back()) != std::string::npos) {
    unit = digits.back() == 'b' ? 1 : digits.back() == 'h' ? 2 : digits.back() == 'w' ? 4 : 8;
    digits.pop_back();
  }
  if (!digits.empty()) n = number(digits);
  if (n == 0 || n > 4096) throw CommandError("count must be 1 to 4096");
  const uint64_t addr = address(arg(a, 1, "address"), physical);
  out_ << memory_text(d_, addr, n, unit, physical);
}

void DebugCli::disas(const Args& a) {
  bool att = false;
  size_t i = 1;
  if (i < a.size() && (a[i] == "intel" || a[i] == "att")) att = a[i++] == "att";
  const uint64_t n = i < a.size() ? number(a[i]) : 5;
  if (n == 0 || n > 1000) throw CommandError("count must be 1 to 1000");
  const CpuState& s = d_.machine().cpu().s;
  const unsigned width = s.code_size() == 2 ? 4 : 8;
  for (const DisasmLine& l : disassemble(d_, s.rip, static_cast<unsigned>(n), att)) {
    std::string bytes;
    for (uint8_t b : l.bytes) bytes += fmt::format("{:02x} ", b);
    out_ << fmt::format("{} {:04x}:{:0{}x}  {:<24}{}\n", l.offset == s.rip ? "=>" : "  ", s.seg[CS].selector, l.offset,
                        width, bytes, l.text);
  }
}

void DebugCli::walk(const Args& a) {
  const uint64_t lin = number(arg(a, 1, "address"));
  const std::optional<WalkAccess> w = parse_walk_access(a, 2);
  if (!w) throw CommandError("walk ADDR [r|w|x] [user]");
  out_ << format_walk(explain_walk(d_, lin, w->access, w->user));
}

void DebugCli::tlb() { out_ << tlb_text(d_.machine().cpu()); }

void DebugCli::info() {
  for (const Breakpoint& b : d_.breakpoints())
    out_ << fmt::format("{} breakpoint {} {:#010x}, {} hits\n", b.id, b.physical ? "physical" : "linear", b.address,
                        b.hits);
  for (const Watchpoint& w : d_.watchpoints())
    out_ << fmt::format("{} watchpoint {} physical {:#010x}, {} bytes, {} hits\n", w.id,
                        w.on_read && w.on_write ? "access" : (w.on_read ? "read" : "write"), w.phys, w.length, w.hits);
  for (const Catch& c : d_.catches()) {
    std::string what = catch_kind_name(c.kind);
    if (c.kind == CatchKind::Io) what += fmt::format(" {:#x}-{:#x}", c.lo, c.hi);
    else if (!c.any) what += c.kind == CatchKind::Exception ? fmt::format(" {:#04x}", c.lo) : fmt::format(" {}", c.lo);
    out_ << fmt::format("{} catch {}, {} hits\n", c.id, what, c.hits);
  }
}

// The explanations of debugger/fault_explain.h: a shutdown's chain first,
// then the exception a catch stopped after, then the last double fault.
void DebugCli::why() { out_ << why_text(d_.machine(), caught_); }

}  // namespace vtlab::cli
