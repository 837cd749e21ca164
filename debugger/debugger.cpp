#include "debugger/debugger.h"

#include <algorithm>

#include "core/interpreter.h"

namespace vtlab {

namespace {
// Slice of a run with nothing armed: long enough to run at full speed,
// short enough that request_stop() is seen promptly.
constexpr uint64_t kSlice = 1 << 20;
}  // namespace

CpuMode cpu_mode(const CpuState& s) {
  if (s.long_mode_active()) return CpuMode::Long;
  if (s.paging()) return CpuMode::Paging;
  if (s.v8086()) return CpuMode::Virtual8086;
  return s.protected_mode() ? CpuMode::Protected : CpuMode::Real;
}

const char* cpu_mode_name(CpuMode m) {
  switch (m) {
    case CpuMode::Real: return "real";
    case CpuMode::Protected: return "protected";
    case CpuMode::Virtual8086: return "virtual-8086";
    case CpuMode::Paging: return "paging";
    case CpuMode::Long: return "long";
  }
  return "?";
}

const char* catch_kind_name(CatchKind k) {
  switch (k) {
    case CatchKind::Exception: return "exception";
    case CatchKind::Io: return "io";
    case CatchKind::Cpl: return "cpl";
    case CatchKind::Mode: return "mode";
    case CatchKind::CrWrite: return "cr";
    case CatchKind::Exit: return "exit";
  }
  return "?";
}

// Sees the CPU's data and port accesses while a watchpoint or an I/O catch
// is armed; keeps the first hit of the step under way.
class Debugger::Observer final : public AccessObserver {
 public:
  explicit Observer(Debugger& d) : d_(d) {}
  void on_memory(uint64_t phys, unsigned size, bool write) override {
    if (d_.access_hit_) return;
    for (Watchpoint& w : d_.watchpoints_) {
      if (!(write ? w.on_write : w.on_read)) continue;
      if (phys < w.phys + w.length && w.phys < phys + size) {
        ++w.hits;
        StopEvent e;
        e.kind = StopEvent::Kind::Watchpoint;
        e.id = w.id;
        e.phys = phys;
        e.size = size;
        e.write = write;
        d_.access_hit_ = e;
        return;
      }
    }
  }
  void on_port(uint16_t port, unsigned size, bool write) override {
    if (d_.access_hit_) return;
    for (Catch& c : d_.catches_) {
      if (c.kind != CatchKind::Io || !(port <= c.hi && c.lo < uint32_t{port} + size)) continue;
      ++c.hits;
      StopEvent e;
      e.kind = StopEvent::Kind::Catch;
      e.catch_kind = CatchKind::Io;
      e.id = c.id;
      e.port = port;
      e.size = size;
      e.write = write;
      d_.access_hit_ = e;
      return;
    }
  }

 private:
  Debugger& d_;
};

// Stands in front of the machine's monitor: notes each event, then lets
// that monitor decide exactly as it would have.
class Debugger::EventTap final : public Monitor {
 public:
  EventTap(Debugger& d, Monitor& inner) : d_(d), inner_(inner) {}
  std::string_view name() const override { return inner_.name(); }
  Action on_event(Cpu& cpu, const PendingEvent& ev, uint64_t return_rip) override {
    // A step delivers at most a few events (a fault, then #DF); a run
    // with nothing armed clears them per slice.
    // A Sensitive event is the engine handing an instruction to the
    // monitor, not something the guest sees.
    if (ev.kind != PendingEvent::Kind::Sensitive && d_.delivered_.size() < 16)
      d_.delivered_.push_back(DeliveredEvent{ev, return_rip, cpu.s.seg[CS].selector});
    return inner_.on_event(cpu, ev, return_rip);
  }
  void begin(Cpu& cpu) override { inner_.begin(cpu); }
  void on_block(Cpu& cpu, uint64_t lin, uint64_t phys, std::vector<DecodedInsn>& insns) override {
    inner_.on_block(cpu, lin, phys, insns);
  }
  unsigned translated_rings() const override { return inner_.translated_rings(); }
  std::vector<std::pair<std::string, uint64_t>> counters() const override { return inner_.counters(); }
  const std::vector<Hole>& holes() const override { return inner_.holes(); }

 private:
  Debugger& d_;
  Monitor& inner_;
};

Debugger::Debugger(Machine& m) : observer_(std::make_unique<Observer>(*this)) { attach(m); }

Debugger::~Debugger() { detach(); }

void Debugger::detach() {
  if (!m_) return;
  interp_->set_stop_points({}, {});
  interp_->set_monitor(inner_monitor_);
  m_->cpu().observer = nullptr;
  m_ = nullptr;
}

void Debugger::attach(Machine& m) {
  detach();
  m_ = &m;
  interp_ = &m.interpreter();
  inner_monitor_ = &m.monitor();
  tap_ = std::make_unique<EventTap>(*this, m.monitor());
  interp_->set_monitor(tap_.get());
  update_observer();
}

// --- breakpoints ------------------------------------------------------------

unsigned Debugger::add_breakpoint(uint64_t address, bool physical) {
  breakpoints_.push_back(Breakpoint{next_id_, physical, address, 0});
  return next_id_++;
}

unsigned Debugger::add_watchpoint(uint64_t phys, uint64_t length, bool on_read, bool on_write) {
  watchpoints_.push_back(Watchpoint{next_id_, phys, std::max<uint64_t>(length, 1), on_read, on_write, 0});
  update_observer();
  return next_id_++;
}

unsigned Debugger::add_catch(CatchKind kind, std::optional<uint32_t> lo, std::optional<uint32_t> hi) {
  Catch c;
  c.id = next_id_;
  c.kind = kind;
  c.any = !lo.has_value();
  c.lo = lo.value_or(0);
  c.hi = hi.value_or(c.lo);
  if (kind == CatchKind::Io && c.any) c.hi = 0xFFFF;  // every port
  catches_.push_back(c);
  update_observer();
  return next_id_++;
}

bool Debugger::remove(unsigned id) {
  const auto by_id = [id](const auto& x) { return x.id == id; };
  const size_t before = breakpoints_.size() + watchpoints_.size() + catches_.size();
  std::erase_if(breakpoints_, by_id);
  std::erase_if(watchpoints_, by_id);
  std::erase_if(catches_, by_id);
  update_observer();
  return breakpoints_.size() + watchpoints_.size() + catches_.size() != before;
}

namespace {
template <typename T>
void copy_hits(std::vector<T>& to, const std::vector<T>& from) {
  for (T& x : to)
    for (const T& y : from)
      if (y.id == x.id) x.hits = y.hits;
}
}  // namespace

void Debugger::restore_hits(const std::vector<Breakpoint>& b, const std::vector<Watchpoint>& w,
                            const std::vector<Catch>& c) {
  copy_hits(breakpoints_, b);
  copy_hits(watchpoints_, w);
  copy_hits(catches_, c);
}

void Debugger::update_observer() {
  const bool watching = !watchpoints_.empty() || has_catch(CatchKind::Io);
  m_->cpu().observer = watching ? observer_.get() : nullptr;
}

bool Debugger::has_catch(CatchKind k) const {
  return std::any_of(catches_.begin(), catches_.end(), [k](const Catch& c) { return c.kind == k; });
}

// Breakpoints and run-to targets become the interpreter's stop points in
// native mode, so `c` runs blocks at full speed up to them.  Under a monitor
// the debugger steps instead: bt charges a translation per block and shadow
// or nested paging charge TLB misses per block entry, so blocks cut at stop
// points would change the counts a run without the debugger gives.
bool Debugger::stop_points_in_engine() const { return inner_monitor_->name() == "native"; }

void Debugger::sync_stop_points(std::optional<uint64_t> target) {
  std::unordered_set<uint64_t> linear, physical;
  if (stop_points_in_engine()) {
    for (const Breakpoint& b : breakpoints_) (b.physical ? physical : linear).insert(b.address);
    if (target) linear.insert(*target);
  }
  interp_->set_stop_points(std::move(linear), std::move(physical));
}

bool Debugger::armed(bool has_target) const {
  if (!watchpoints_.empty() || !catches_.empty()) return true;
  if (stop_points_in_engine()) return false;
  return has_target || !breakpoints_.empty();
}

// --- addresses and memory -----------------------------------------------------

uint64_t Debugger::pc_linear() const { return m_->cpu().linear(CS, m_->cpu().s.rip); }

std::optional<uint64_t> peek_translate(Machine& m, uint64_t linear) {
  Cpu& cpu = m.cpu();
  if (!cpu.s.paging()) return (linear & 0xFFFFFFFF) & cpu.a20_mask;
  if (!cpu.s.long_mode_active()) linear &= 0xFFFFFFFF;
  if (const Tlb::Entry* e = cpu.tlb.lookup(linear)) return ((e->ppn << kPageShift) | (linear & kPageMask)) & cpu.a20_mask;
  const WalkExplanation w = cpu.walker.explain(cpu.walk_request(linear, Access::Read, false));
  if (!w.ok) return std::nullopt;
  return w.t.phys & cpu.a20_mask;
}

size_t peek_physical(const Machine& m, uint64_t phys, uint8_t* out, size_t len) {
  const PhysicalMemory& mem = m.memory();
  size_t done = 0;
  while (done < len) {
    const uint64_t a = phys + done;
    const size_t n = std::min<uint64_t>(len - done, kPageSize - (a & kPageMask));
    const PhysicalMemory::Kind k = mem.kind(a);
    if (a < phys || (k != PhysicalMemory::Kind::Ram && k != PhysicalMemory::Kind::Rom)) break;
    if (!mem.read_bytes(a, out + done, n)) break;
    done += n;
  }
  return done;
}

namespace {
// Linear memory a page at a time, each piece translated as the CPU would
// (peek_translate): `access(phys, done, n)` handles n bytes of it and
// returns how many it did; the walk stops at the first short piece.
size_t by_linear_pages(Machine& m, uint64_t linear, size_t len,
                       const std::function<size_t(uint64_t, size_t, size_t)>& access) {
  size_t done = 0;
  while (done < len) {
    const uint64_t a = linear + done;
    const size_t n = std::min<uint64_t>(len - done, kPageSize - (a & kPageMask));
    const std::optional<uint64_t> phys = peek_translate(m, a);
    if (!phys) break;
    const size_t got = access(*phys, done, n);
    done += got;
    if (got != n) break;
  }
  return done;
}
}  // namespace

size_t peek_linear(Machine& m, uint64_t linear, uint8_t* out, size_t len) {
  return by_linear_pages(m, linear, len, [&](uint64_t phys, size_t done, size_t n) {
    return peek_physical(m, phys, out + done, n);
  });
}

std::optional<uint64_t> Debugger::to_physical(uint64_t linear) const { return peek_translate(*m_, linear); }

size_t Debugger::read_physical(uint64_t phys, uint8_t* out, size_t len) const {
  return peek_physical(*m_, phys, out, len);
}

size_t Debugger::read_linear(uint64_t linear, uint8_t* out, size_t len) const {
  return peek_linear(*m_, linear, out, len);
}

size_t Debugger::write_physical(uint64_t phys, const uint8_t* in, size_t len) {
  PhysicalMemory& mem = m_->memory();
  size_t done = 0;
  while (done < len) {
    const uint64_t a = phys + done;
    const size_t n = std::min<uint64_t>(len - done, kPageSize - (a & kPageMask));
    if (a < phys || !mem.is_ram(a, n) || !mem.write_bytes(a, in + done, n)) break;
    mem.note_write(a, n);
    done += n;
  }
  return done;
}

size_t Debugger::write_linear(uint64_t linear, const uint8_t* in, size_t len) {
  return by_linear_pages(*m_, linear, len, [&](uint64_t phys, size_t done, size_t n) {
    return write_physical(phys, in + done, n);
  });
}

bool Debugger::decode_at_pc(DecodedInsn& d) const {
  uint8_t buf[15];
  const size_t n = read_linear(pc_linear(), buf, sizeof buf);
  return n && decoder_.decode(buf, n, m_->cpu().s.code_size(), d) == DecodeStatus::Ok;
}

std::optional<unsigned> Debugger::decoded_cr_write() const {
  DecodedInsn d;
  if (!decode_at_pc(d)) return std::nullopt;
  const auto mn = static_cast<ZydisMnemonic>(d.mnemonic);
  if (mn == ZYDIS_MNEMONIC_MOV && d.op[0].kind == OpKind::Creg) return d.op[0].reg;
  if (mn == ZYDIS_MNEMONIC_LMSW || mn == ZYDIS_MNEMONIC_CLTS) return 0u;
  return std::nullopt;
}

// --- run control --------------------------------------------------------------

Debugger::Snapshot Debugger::snapshot() const {
  const Cpu& cpu = m_->cpu();
  const CpuState& s = cpu.s;
  Snapshot snap{s.cpl(), cpu_mode(s), {s.cr0, 0, s.cr2, s.cr3, s.cr4}, cpu.icount, cpu.events, {}};
  for (size_t r = 0; r < kExitReasons; ++r) snap.exits[r] = m_->exits().count(static_cast<ExitReason>(r)).count;
  return snap;
}

namespace {
StopEvent stop_of(StopEvent::Kind k) {
  StopEvent e;
  e.kind = k;
  return e;
}
}  // namespace

StopEvent Debugger::machine_stop(const RunResult& r) const {
  StopEvent e;
  e.kind = StopEvent::Kind::MachineStop;
  e.reason = r.reason;
  e.detail = r.detail;
  e.guest_status = r.guest_status;
  return e;
}

StopEvent Debugger::machine_stop() { return machine_stop(m_->run(0)); }

std::optional<StopEvent> Debugger::breakpoint_at_pc() {
  if (breakpoints_.empty()) return std::nullopt;
  const uint64_t lin = pc_linear();
  std::optional<uint64_t> phys;
  bool translated = false;
  for (Breakpoint& b : breakpoints_) {
    if (b.physical && !translated) {
      phys = to_physical(lin);
      translated = true;
    }
    if (b.physical ? (phys && *phys == b.address) : b.address == lin) {
      ++b.hits;
      StopEvent e;
      e.kind = StopEvent::Kind::Breakpoint;
      e.id = b.id;
      return e;
    }
  }
  return std::nullopt;
}

std::optional<StopEvent> Debugger::check_catches(const Snapshot& before, std::optional<unsigned> cr_insn) {
  const Snapshot now = snapshot();
  const bool retired_alone = now.icount == before.icount + 1 && now.events == before.events;
  StopEvent e;
  e.kind = StopEvent::Kind::Catch;
  for (Catch& c : catches_) {
    e.id = c.id;
    e.catch_kind = c.kind;
    switch (c.kind) {
      case CatchKind::Exception:
        for (const DeliveredEvent& d : delivered_) {
          const bool exception = d.ev.kind == PendingEvent::Kind::Fault || d.ev.kind == PendingEvent::Kind::Trap;
          if (c.any ? exception : (d.ev.vector >= c.lo && d.ev.vector <= c.hi)) {
            e.event = d;
            ++c.hits;
            return e;
          }
        }
        break;
      case CatchKind::CrWrite:
        for (unsigned n : {0u, 2u, 3u, 4u}) {
          const bool written = now.cr[n] != before.cr[n] || (cr_insn == n && retired_alone);
          if (written && (c.any || c.lo == n)) {
            e.cr = n;
            e.before = before.cr[n];
            e.after = now.cr[n];
            ++c.hits;
            return e;
          }
        }
        break;
      case CatchKind::Mode:
        if (now.mode != before.mode) {
          e.before = static_cast<uint64_t>(before.mode);
          e.after = static_cast<uint64_t>(now.mode);
          ++c.hits;
          return e;
        }
        break;
      case CatchKind::Cpl:
        if (now.cpl != before.cpl && (c.any || now.cpl == c.lo)) {
          e.before = before.cpl;
          e.after = now.cpl;
          ++c.hits;
          return e;
        }
        break;
      case CatchKind::Io:  // seen by the observer, during the step
        break;
      case CatchKind::Exit:
        for (size_t r = 0; r < kExitReasons; ++r) {
          if (now.exits[r] == before.exits[r] || !(c.any || c.lo == r)) continue;
          e.exit_reason = static_cast<ExitReason>(r);
          e.before = before.exits[r];
          e.after = now.exits[r];
          ++c.hits;
          return e;
        }
        break;
    }
  }
  return std::nullopt;
}

uint64_t step_budget(Machine& m, uint64_t cap) {
  // A halted CPU sleeps to its next timer in one step, not one ns per step.
  const Cpu& cpu = m.cpu();
  if (!m.interpreter().halted()) return 1;
  const uint64_t deadline = cpu.clock.next_deadline(), vt = cpu.virtual_time();
  if (deadline == VirtualClock::kNever || deadline <= vt) return 1;
  return std::clamp<uint64_t>(deadline - vt, 1, cap);
}

StopEvent Debugger::step_once(uint64_t cap) {
  const Snapshot before = snapshot();
  const std::optional<unsigned> cr_insn = has_catch(CatchKind::CrWrite) ? decoded_cr_write() : std::nullopt;
  access_hit_.reset();
  delivered_.clear();
  const RunResult r = m_->run(step_budget(*m_, cap));
  if (r.reason != StopReason::BudgetExhausted) return machine_stop(r);
  if (access_hit_) return *access_hit_;
  if (!catches_.empty())
    if (std::optional<StopEvent> c = check_catches(before, cr_insn)) return *c;
  return StopEvent{};
}

StopEvent Debugger::step() {
  stop_requested_.store(false);
  if (m_->cpu().stop_requested() != StopReason::None) return machine_stop();
  return step_once(~uint64_t{0});
}

StopEvent Debugger::run(std::optional<uint64_t> target, uint64_t budget) {
  stop_requested_.store(false);
  Cpu& cpu = m_->cpu();
  const uint64_t start = cpu.virtual_time();
  sync_stop_points(target);
  for (bool first = true;; first = false) {
    if (cpu.stop_requested() != StopReason::None) return machine_stop();
    if (stop_requested_.exchange(false)) return stop_of(StopEvent::Kind::Interrupted);
    // The instruction the run starts at is stepped off, not stopped at.
    if (!first) {
      if (target && pc_linear() == *target) return stop_of(StopEvent::Kind::RunTo);
      if (std::optional<StopEvent> b = breakpoint_at_pc()) return *b;
    }
    const uint64_t used = cpu.virtual_time() - start;
    if (budget && used >= budget) return stop_of(StopEvent::Kind::Budget);
    const uint64_t cap = budget ? budget - used : ~uint64_t{0};
    if (!armed(target.has_value())) {
      delivered_.clear();
      const RunResult r = m_->run(std::min(cap, kSlice));
      if (r.reason != StopReason::BudgetExhausted) return machine_stop(r);
      continue;
    }
    StopEvent e = step_once(cap);
    if (e.kind != StopEvent::Kind::Step) return e;
  }
}

StopEvent Debugger::cont(uint64_t budget) { return run(std::nullopt, budget); }

StopEvent Debugger::run_to(uint64_t linear, uint64_t budget) { return run(linear, budget); }

StopEvent Debugger::step_over(uint64_t budget) {
  DecodedInsn d;
  if (m_->cpu().stop_requested() != StopReason::None || !decode_at_pc(d)) return step();
  bool over = false;
  switch (static_cast<ZydisMnemonic>(d.mnemonic)) {
    case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW: case ZYDIS_MNEMONIC_MOVSD:
    case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW: case ZYDIS_MNEMONIC_STOSD:
    case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW: case ZYDIS_MNEMONIC_LODSD:
    case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW: case ZYDIS_MNEMONIC_CMPSD:
    case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW: case ZYDIS_MNEMONIC_SCASD:
    case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW: case ZYDIS_MNEMONIC_INSD:
    case ZYDIS_MNEMONIC_OUTSB: case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
      over = d.has_rep();  // a REP runs many iterations; a REP on anything else means nothing
      break;
    case ZYDIS_MNEMONIC_CALL:
    case ZYDIS_MNEMONIC_INT:
    case ZYDIS_MNEMONIC_INT1:
    case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_INTO:
      over = true;
      break;
    default:
      break;
  }
  if (!over) return step();
  const CpuState& s = m_->cpu().s;
  const uint64_t next = m_->cpu().linear(CS, (s.rip + d.len) & all_ones(s.code_size()));
  StopEvent e = run_to(next, budget);
  return e.kind == StopEvent::Kind::RunTo ? StopEvent{} : e;
}

}  // namespace vtlab
