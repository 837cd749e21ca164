// String instructions: MOVS, STOS, LODS, CMPS, SCAS (byte to quadword),
// alone or under REP / REPE / REPNE.  INS/OUTS live with port I/O (io.cpp).
//
// Addressing (SDM vol. 1, 7.3.9.1; vol. 2, MOVS and REP pages): the address
// size, not the operand size, picks the registers: SI/DI/CX at 16 bits,
// ESI/EDI/ECX at 32, RSI/RDI/RCX at 64.  At 16 bits only the low halves move,
// wrapping at 64 KiB, and the upper halves are left alone.  The source is
// DS:SI unless a segment override names another segment; the destination is
// always ES:DI, whatever the prefixes.  DF = 0 walks up, DF = 1 walks down.
//
// REP and the engine.  A repeated instruction runs its iterations inside one
// handler call, but never more than kMaxIterationsPerCall of them.  When the
// count is not exhausted by then, the handler returns Ok with next_rip set to
// the instruction's own RIP, so the engine runs it again: one call's work
// stays bounded and the engine gets a chance to take interrupts between
// chunks, as hardware takes them between iterations.  The engine counts one
// retirement per handler call that returns Ok, so a REP instruction retires
// once per chunk: max(1, ceil(count / kMaxIterationsPerCall)) times.  That
// is deterministic, which is all the instruction counts need to be.  A REP
// instruction ends its decoded block, since its next RIP may be itself.
//
// A fault in the middle of a REP (a page fault on the 300th element) leaves
// SI/DI/CX as the completed iterations left them and RIP at the instruction,
// as hardware does, so the instruction resumes where it stopped once the
// fault is handled.  Each element reads and writes memory before it moves any
// register, so the faulting element itself changes nothing.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// Upper bound on the iterations one handler call performs (see above).
constexpr unsigned kMaxIterationsPerCall = 4096;

// Index registers at the instruction's address size.
uint64_t index_reg(const Cpu& cpu, const DecodedInsn& i, Gpr r) { return cpu.reg_sized(r, i.addrsize); }

// Steps SI or DI by one element; `stride` is +size or -size as DF says.
// set_reg_sized truncates to the address size, which is the 64 KiB wrap.
void advance(Cpu& cpu, const DecodedInsn& i, Gpr r, uint64_t stride) {
  cpu.set_reg_sized(r, i.addrsize, cpu.s.gpr[r] + stride);
}

// One element of each instruction.  kCompares marks CMPS/SCAS, whose REPE
// and REPNE forms also stop on ZF.

// How many elements from `reg` on (walking up) stay within one page of
// `seg` and short of the address-size wrap, at most `max`.
template <typename T> uint64_t run_length(const Cpu& cpu, const DecodedInsn& i, unsigned seg, Gpr reg, uint64_t max) {
  const uint64_t at = index_reg(cpu, i, reg);
  const uint64_t to_page_end = (kPageSize - (cpu.linear(seg, at) & kPageMask)) / sizeof(T);
  const uint64_t to_wrap = ((all_ones(i.addrsize) - at) + 1) / sizeof(T);  // 0 for 64-bit: wraps at 2^64
  uint64_t n = std::min(max, to_page_end);
  if (i.addrsize != 8) n = std::min(n, to_wrap);
  return n;
}

struct MovsElement {
  static constexpr bool kCompares = false;
  // REP MOVS walking up: whole runs between non-overlapping host spans
  // (an overlapping run must copy element by element, as the CPU does).
  template <typename T> static uint64_t bulk(Cpu& cpu, const DecodedInsn& i, uint64_t max) {
    uint64_t n = run_length<T>(cpu, i, i.mem.seg, RSI, max);
    n = run_length<T>(cpu, i, ES, RDI, n);
    if (n == 0) return 0;
    const unsigned len = static_cast<unsigned>(n * sizeof(T));
    const uint8_t* src = cpu.host_span(i.mem.seg, index_reg(cpu, i, RSI), len, false);
    uint8_t* dst = src ? cpu.host_span(ES, index_reg(cpu, i, RDI), len, true) : nullptr;
    if (!dst || (dst < src + len && src < dst + len)) return 0;
    std::memcpy(dst, src, len);
    advance(cpu, i, RSI, len);
    advance(cpu, i, RDI, len);
    return n;
  }
  template <typename T> static Status once(Cpu& cpu, const DecodedInsn& i, uint64_t stride) {
    T v;
    TRY(cpu.read<T>(i.mem.seg, index_reg(cpu, i, RSI), v));
    TRY(cpu.write<T>(ES, index_reg(cpu, i, RDI), v));
    advance(cpu, i, RSI, stride);
    advance(cpu, i, RDI, stride);
    return Status::Ok;
  }
};

struct StosElement {
  static constexpr bool kCompares = false;
  template <typename T> static uint64_t bulk(Cpu& cpu, const DecodedInsn& i, uint64_t max) {
    const uint64_t n = run_length<T>(cpu, i, ES, RDI, max);
    if (n == 0) return 0;
    const unsigned len = static_cast<unsigned>(n * sizeof(T));
    uint8_t* dst = cpu.host_span(ES, index_reg(cpu, i, RDI), len, true);
    if (!dst) return 0;
    const T v = cpu.reg<T>(RAX);
    if constexpr (sizeof(T) == 1) {
      std::memset(dst, v, len);
    } else {
      for (uint64_t k = 0; k < n; ++k) std::memcpy(dst + k * sizeof(T), &v, sizeof(T));
    }
    advance(cpu, i, RDI, len);
    return n;
  }
  template <typename T> static Status once(Cpu& cpu, const DecodedInsn& i, uint64_t stride) {
    TRY(cpu.write<T>(ES, index_reg(cpu, i, RDI), cpu.reg<T>(RAX)));
    advance(cpu, i, RDI, stride);
    return Status::Ok;
  }
};

struct LodsElement {
  static constexpr bool kCompares = false;
  template <typename T> static Status once(Cpu& cpu, const DecodedInsn& i, uint64_t stride) {
    T v;
    TRY(cpu.read<T>(i.mem.seg, index_reg(cpu, i, RSI), v));
    cpu.set_reg<T>(RAX, v);
    advance(cpu, i, RSI, stride);
    return Status::Ok;
  }
};

// CMPS subtracts the destination from the source: [SI] - ES:[DI].  The
// silicon reads ES:[DI] first: its faults come before [SI]'s (measured:
// docs/FUZZING.md).
struct CmpsElement {
  static constexpr bool kCompares = true;
  template <typename T> static Status once(Cpu& cpu, const DecodedInsn& i, uint64_t stride) {
    T a, b;
    TRY(cpu.read<T>(ES, index_reg(cpu, i, RDI), b));
    TRY(cpu.read<T>(i.mem.seg, index_reg(cpu, i, RSI), a));
    cpu.s.flags.set_sub<T>(a, b, static_cast<T>(a - b));
    advance(cpu, i, RSI, stride);
    advance(cpu, i, RDI, stride);
    return Status::Ok;
  }
};

// SCAS compares the accumulator with ES:[DI]: AL/AX/EAX/RAX - [DI].
struct ScasElement {
  static constexpr bool kCompares = true;
  template <typename T> static Status once(Cpu& cpu, const DecodedInsn& i, uint64_t stride) {
    T b;
    TRY(cpu.read<T>(ES, index_reg(cpu, i, RDI), b));
    const T a = cpu.reg<T>(RAX);
    cpu.s.flags.set_sub<T>(a, b, static_cast<T>(a - b));
    advance(cpu, i, RDI, stride);
    return Status::Ok;
  }
};

// In 64-bit mode a REP with a 32-bit address size writes ECX (so clears
// RCX[63:32]) before its first iteration, even one that faults or a count of
// zero, and MOVS and STOS write ESI/EDI likewise.  The SDM leaves this
// open; it is what the silicon does (measured by kvm_diff64,
// docs/UNDEFINED_FLAGS.md), and what vtlab claims.
template <typename Element> void zero_extend_counters(Cpu& cpu, const DecodedInsn& i) {
  if (i.addrsize != 4 || cpu.s.code_size() != 8) return;
  cpu.s.gpr[RCX] = static_cast<uint32_t>(cpu.s.gpr[RCX]);
  if constexpr (std::is_same_v<Element, MovsElement>) cpu.s.gpr[RSI] = static_cast<uint32_t>(cpu.s.gpr[RSI]);
  if constexpr (std::is_same_v<Element, MovsElement> || std::is_same_v<Element, StosElement>)
    cpu.s.gpr[RDI] = static_cast<uint32_t>(cpu.s.gpr[RDI]);
}

// Runs one element, or as many as the REP prefix asks (SDM vol. 2, REP
// operation): while the count is not zero, do an element, decrement the
// count, and for CMPS/SCAS stop early when REPE sees ZF = 0 or REPNE sees
// ZF = 1.  A count of zero does nothing at all, flags included.
//
// F2 (REPNE) on MOVS/STOS/LODS repeats exactly like F3, as Intel processors
// do; only CMPS/SCAS tell the two apart.
template <typename Element> struct Repeat {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const uint64_t stride = cpu.s.flags.test(flag::DF) ? uint64_t{0} - sizeof(T) : uint64_t{sizeof(T)};
    if (!i.has_rep()) return Element::template once<T>(cpu, i, stride);

    const bool stop_on_zf = i.prefixes & prefix::kRepne;  // REPNE stops on ZF = 1, REPE on ZF = 0
    zero_extend_counters<Element>(cpu, i);
    // Under TF the single-step trap follows each iteration (SDM vol. 3,
    // 17.3.1.4), so one call runs one; a trap after an iteration that is not
    // the last pushes RF = 1 (17.3.1.1), which the flags carry until then.
    const bool single_step = cpu.s.flags.test(flag::TF);
    const unsigned limit = single_step ? 1 : kMaxIterationsPerCall;
    for (unsigned n = 0; n < limit; ++n) {
      const uint64_t count = cpu.reg_sized(RCX, i.addrsize);
      if (count == 0) return Status::Ok;
      // Runs the fast path can vouch for go at once: the same iterations,
      // the same registers after them, one host copy.
      if constexpr (requires { Element::template bulk<T>(cpu, i, count); }) {
        if (stride == sizeof(T)) {
          const uint64_t done = Element::template bulk<T>(cpu, i, std::min<uint64_t>(count, limit - n));
          if (done != 0) {
            cpu.set_reg_sized(RCX, i.addrsize, count - done);
            n += static_cast<unsigned>(done) - 1;
            continue;
          }
        }
      }
      TRY(Element::template once<T>(cpu, i, stride));
      cpu.set_reg_sized(RCX, i.addrsize, count - 1);
      if constexpr (Element::kCompares) {
        if (cpu.s.flags.zf() == stop_on_zf) return Status::Ok;
      }
    }
    if (cpu.reg_sized(RCX, i.addrsize) != 0) {
      cpu.next_rip = cpu.s.rip;  // more to do: run again
      if (single_step) cpu.s.flags.set(flag::RF, true);
    }
    return Status::Ok;
  }
};

template <typename Element> Handler bind_string(DecodedInsn& i, const ZydisDecodedInstruction& zi) {
  // MOVSD and CMPSD are also SSE2 mnemonics; only the string forms are ours.
  if (zi.meta.category != ZYDIS_CATEGORY_STRINGOP)
    return zi.mnemonic == ZYDIS_MNEMONIC_MOVSD ? bind_sse_movsd(i, zi) : zi.mnemonic == ZYDIS_MNEMONIC_CMPSD ? bind_sse_cmpsd(i, zi) : nullptr;
  if (i.has_rep()) i.info |= info::kEndsBlock;  // its next RIP may be itself
  return by_size<Repeat<Element>>(i.opsize);
}

}  // namespace

void register_string(InsnTable& t) {
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_MOVSB, ZYDIS_MNEMONIC_MOVSW, ZYDIS_MNEMONIC_MOVSD, ZYDIS_MNEMONIC_MOVSQ})
    t.add(m, bind_string<MovsElement>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_STOSB, ZYDIS_MNEMONIC_STOSW, ZYDIS_MNEMONIC_STOSD, ZYDIS_MNEMONIC_STOSQ})
    t.add(m, bind_string<StosElement>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_LODSB, ZYDIS_MNEMONIC_LODSW, ZYDIS_MNEMONIC_LODSD, ZYDIS_MNEMONIC_LODSQ})
    t.add(m, bind_string<LodsElement>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_CMPSB, ZYDIS_MNEMONIC_CMPSW, ZYDIS_MNEMONIC_CMPSD, ZYDIS_MNEMONIC_CMPSQ})
    t.add(m, bind_string<CmpsElement>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_SCASB, ZYDIS_MNEMONIC_SCASW, ZYDIS_MNEMONIC_SCASD, ZYDIS_MNEMONIC_SCASQ})
    t.add(m, bind_string<ScasElement>);
}

}  // namespace vtlab::isa
