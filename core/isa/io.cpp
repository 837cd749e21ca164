// Port I/O: IN, OUT (imm8 or DX port; byte, word, dword) and the string
// forms INS, OUTS, alone or under REP.
//
// Who may touch a port (SDM vol. 1, "I/O Privilege Level" and "I/O
// Permission Bit Map"): real mode, and protected mode with CPL <= IOPL, may
// touch any port.  Otherwise, and always in virtual-8086 mode, the I/O
// permission bit map in the current 32-bit TSS decides: every bit for ports
// port..port+size-1 must be clear.  Anything else is #GP(0).  The check
// comes before any other effect: a denied IN does not read the port.
//
// INS and OUTS address memory like the string family (core/isa/string.cpp):
// the address size picks (E/R)SI, (E/R)DI and (E/R)CX, DF picks the
// direction, INS always stores to ES:DI, OUTS reads DS:SI or the segment an
// override names.  A REP form does at most kMaxIterationsPerCall elements per
// handler call and, when more remain, sets next_rip back to its own RIP so
// the engine runs it again (string.cpp explains why).  The devices are the
// bus's business (cpu.port_in / cpu.port_out).
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// The same bound as the string family uses, for the same reasons.
constexpr unsigned kMaxIterationsPerCall = 4096;

// The 32-bit TSS (SDM vol. 3, "32-Bit Task-State Segment (TSS)"): the I/O
// map base is the word at offset 0x66, and a TSS shorter than 104 bytes
// has no room for it.
constexpr uint64_t kTssIoMapBase = 0x66;
constexpr uint32_t kTss32MinLimit = 103;
constexpr uint32_t kTss32Available = 0x9, kTss32Busy = 0xB;

bool tr_is_32bit_tss(const SegmentCache& tr) {
  const uint32_t type = tr.attrs & ar::kTypeMask;
  return tr.present() && !(tr.attrs & ar::kS) && (type == kTss32Available || type == kTss32Busy) &&
         tr.limit >= kTss32MinLimit;
}

// May the current privilege level access ports [port, port + size)?
// #GP(0) if not.  The TSS is read as a supervisor access whatever the CPL
// (it is a system structure), so it may still page-fault.
Status check_io_permission(Cpu& cpu, uint16_t port, unsigned size) {
  const CpuState& s = cpu.s;
  if (s.real_mode()) return Status::Ok;
  const unsigned iopl = (s.flags.bits() & flag::IOPL) >> flag::kIoplShift;
  if (!s.v8086() && s.cpl() <= iopl) return Status::Ok;

  const SegmentCache& tr = s.tr;
  if (!tr_is_32bit_tss(tr)) return cpu.raise(vec::GP, 0);
  uint64_t map_base;
  TRY(cpu.read_linear(tr.base + kTssIoMapBase, 2, map_base, /*supervisor=*/true));
  // Two bytes are always read, since a word or dword access may span a byte
  // boundary of the map; both must lie within the TSS limit.  (This is why
  // the SDM asks for an 0xFF byte after the map.)
  const uint64_t byte = map_base + port / 8;
  if (byte + 1 > tr.limit) return cpu.raise(vec::GP, 0);
  uint64_t bits;
  TRY(cpu.read_linear(tr.base + byte, 2, bits, /*supervisor=*/true));
  const uint64_t wanted = ((uint64_t{1} << size) - 1) << (port % 8);
  return (bits & wanted) ? cpu.raise(vec::GP, 0) : Status::Ok;
}

// The port operand: an imm8 (zero-extended) or DX.
uint16_t port_operand(const Cpu& cpu, const DecodedInsn& i, unsigned n) {
  return i.op[n].kind == OpKind::Imm ? static_cast<uint16_t>(i.imm & 0xFF) : cpu.reg<uint16_t>(RDX);
}

// IN AL/AX/EAX, imm8 | DX
struct PortIn {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const uint16_t port = port_operand(cpu, i, 1);
    TRY(check_io_permission(cpu, port, sizeof(T)));
    cpu.set_reg<T>(RAX, static_cast<T>(cpu.port_in(port, sizeof(T))));
    return Status::Ok;
  }
};

// OUT imm8 | DX, AL/AX/EAX
struct PortOut {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const uint16_t port = port_operand(cpu, i, 0);
    TRY(check_io_permission(cpu, port, sizeof(T)));
    cpu.port_out(port, sizeof(T), cpu.reg<T>(RAX));
    return Status::Ok;
  }
};

// One INS element: ES:[DI] <- port.  The store is probed first, so a
// destination that faults leaves the port unread (as Bochs does too).
struct InsElement {
  template <typename T> static Status once(Cpu& cpu, const DecodedInsn& i, uint16_t port, uint64_t stride) {
    const uint64_t di = cpu.reg_sized(RDI, i.addrsize);
    TRY(probe_write(cpu, ES, di, sizeof(T)));
    const T v = static_cast<T>(cpu.port_in(port, sizeof(T)));
    TRY(cpu.write<T>(ES, di, v));
    cpu.set_reg_sized(RDI, i.addrsize, di + stride);
    return Status::Ok;
  }
};

// One OUTS element: port <- seg:[SI].
struct OutsElement {
  template <typename T> static Status once(Cpu& cpu, const DecodedInsn& i, uint16_t port, uint64_t stride) {
    const uint64_t si = cpu.reg_sized(RSI, i.addrsize);
    T v;
    TRY(cpu.read<T>(i.mem.seg, si, v));
    cpu.port_out(port, sizeof(T), v);
    cpu.set_reg_sized(RSI, i.addrsize, si + stride);
    return Status::Ok;
  }
};

// INS/OUTS, alone or repeated.  The permission check is done once, before
// the count is looked at (Bochs' order): the port is DX for every element,
// so one check covers them all.
template <typename Element> struct StringIo {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn& i) {
    const uint16_t port = cpu.reg<uint16_t>(RDX);
    TRY(check_io_permission(cpu, port, sizeof(T)));
    const uint64_t stride = cpu.s.flags.test(flag::DF) ? uint64_t{0} - sizeof(T) : uint64_t{sizeof(T)};
    if (!i.has_rep()) return Element::template once<T>(cpu, i, port, stride);

    for (unsigned n = 0; n < kMaxIterationsPerCall; ++n) {
      const uint64_t count = cpu.reg_sized(RCX, i.addrsize);
      if (count == 0) return Status::Ok;
      TRY(Element::template once<T>(cpu, i, port, stride));
      cpu.set_reg_sized(RCX, i.addrsize, count - 1);
    }
    if (cpu.reg_sized(RCX, i.addrsize) != 0) cpu.next_rip = cpu.s.rip;  // more to do: run again
    return Status::Ok;
  }
};

Handler bind_in(DecodedInsn& i, const ZydisDecodedInstruction&) { return by_size<PortIn>(i.op[0].size); }
Handler bind_out(DecodedInsn& i, const ZydisDecodedInstruction&) { return by_size<PortOut>(i.op[1].size); }

// The element size is the operand width (INSB: 1, INSW: 2, INSD: 4).
// The source segment of OUTS (DS or the override) is set by the decoder.
template <typename Element> Handler bind_string_io(DecodedInsn& i, const ZydisDecodedInstruction&) {
  if (i.has_rep()) i.info |= info::kEndsBlock;  // its next RIP may be itself
  return i.opsize <= 4 ? by_size<StringIo<Element>>(i.opsize) : nullptr;
}

}  // namespace

void register_io(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_IN, bind_in);
  t.add(ZYDIS_MNEMONIC_OUT, bind_out);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_INSB, ZYDIS_MNEMONIC_INSW, ZYDIS_MNEMONIC_INSD})
    t.add(m, bind_string_io<InsElement>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_OUTSB, ZYDIS_MNEMONIC_OUTSW, ZYDIS_MNEMONIC_OUTSD})
    t.add(m, bind_string_io<OutsElement>);
}

}  // namespace vtlab::isa
