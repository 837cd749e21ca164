// Flag control: CLC STC CMC CLD STD, LAHF SAHF, PUSHF/PUSHFD POPF/POPFD,
// CLI STI.
//
// The protected-mode rules (SDM vol. 2, POPF, CLI, STI; vol. 3, the EFLAGS
// system flags and the 8086-emulation chapter) in one place:
//   - CLI/STI need CPL <= IOPL, else #GP(0).  In virtual-8086 mode CPL is 3,
//     so they need IOPL = 3.
//   - POPF never faults for privilege in protected mode: above CPL 0 it
//     silently keeps IOPL, and it keeps IF unless CPL <= IOPL.  That silence
//     is one of x86's classic virtualization holes.
//   - PUSHF/POPF in virtual-8086 mode with IOPL < 3 raise #GP(0).
//   - POPF never changes VM, VIP or VIF; the 32/64-bit forms clear RF; the
//     16-bit form touches FLAGS[15:0] only.
//   - PUSHF stores the image with VM and RF cleared.
// Not modelled yet: CR4.VME (virtual-8086 mode extensions) and CR4.PVI
// (protected-mode virtual interrupts), which turn some of these #GP cases
// into updates of VIF.
#include "core/isa/operands.h"
#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

unsigned iopl(const CpuState& s) { return (s.flags.bits() & flag::IOPL) >> flag::kIoplShift; }

template <uint32_t kFlag, bool kOn> Status set_flag(Cpu& cpu, const DecodedInsn&) {
  cpu.s.flags.set(kFlag, kOn);
  return Status::Ok;
}

Status cmc(Cpu& cpu, const DecodedInsn&) {
  cpu.s.flags.set(flag::CF, !cpu.s.flags.cf());
  return Status::Ok;
}

// LAHF: AH = SF:ZF:0:AF:0:PF:1:CF, the low byte of FLAGS as Flags stores it
// (bit 1 set, bits 3 and 5 clear).
Status lahf(Cpu& cpu, const DecodedInsn&) {
  cpu.set_reg<uint8_t>(kRegAH, static_cast<uint8_t>(cpu.s.flags.bits()));
  return Status::Ok;
}

// SAHF: the reverse, for SF ZF AF PF CF; OF is not in AH and stays.
Status sahf(Cpu& cpu, const DecodedInsn&) {
  constexpr uint32_t kFromAh = flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF;
  const uint32_t ah = cpu.reg<uint8_t>(kRegAH);
  const uint32_t of = cpu.s.flags.of() ? flag::OF : 0;
  cpu.s.flags.set_arith((ah & kFromAh) | of);
  return Status::Ok;
}

// CLI and STI share the IOPL check.
Status check_iopl(Cpu& cpu) {
  const CpuState& s = cpu.s;
  if (s.real_mode() || current_cpl(s) <= iopl(s)) return Status::Ok;
  return cpu.raise(vec::GP, 0);
}

Status cli(Cpu& cpu, const DecodedInsn&) {
  TRY(check_iopl(cpu));
  cpu.s.flags.set(flag::IF, false);
  return Status::Ok;
}

// STI with IF=0 also holds off interrupts until after the next
// instruction (SDM vol. 2, STI), so "sti; hlt" cannot lose a wakeup and
// "sti; ret" returns before the handler runs.  With IF already 1 there is
// no shadow.
Status sti(Cpu& cpu, const DecodedInsn&) {
  TRY(check_iopl(cpu));
  if (!cpu.s.flags.test(flag::IF)) cpu.set_interrupt_shadow(/*blocks_debug=*/false);
  cpu.s.flags.set(flag::IF, true);
  return Status::Ok;
}

struct Pushf {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn&) {
    if (cpu.s.v8086() && iopl(cpu.s) < 3) return cpu.raise(vec::GP, 0);
    return push<T>(cpu, static_cast<T>(cpu.s.flags.bits() & ~uint64_t{flag::VM | flag::RF}));
  }
};

struct Popf {
  template <typename T> static Status run(Cpu& cpu, const DecodedInsn&) {
    const CpuState& s = cpu.s;
    if (s.v8086() && iopl(s) < 3) return cpu.raise(vec::GP, 0);
    T image;
    TRY(peek<T>(cpu, image));

    uint64_t writable = flag::kArith | flag::TF | flag::IF | flag::DF | flag::IOPL | flag::NT | flag::AC | flag::ID;
    if (s.protected_mode()) {
      if (current_cpl(s) > 0) writable &= ~uint64_t{flag::IOPL};
      if (current_cpl(s) > iopl(s)) writable &= ~uint64_t{flag::IF};
    }
    writable &= all_ones(sizeof(T));  // POPF (16-bit) reaches FLAGS[15:0] only
    uint64_t f = (s.flags.bits() & ~writable) | (image & writable);
    if (sizeof(T) > 2) f &= ~uint64_t{flag::RF};

    adjust_sp(cpu, sizeof(T));
    cpu.s.flags.set_bits(f);
    return Status::Ok;
  }
};

template <typename Op> Handler bind_by_opsize(DecodedInsn& i, const ZydisDecodedInstruction&) {
  return by_size_wdq<Op>(i.opsize);
}
template <Status (*F)(Cpu&, const DecodedInsn&)> Handler bind_fn(DecodedInsn&, const ZydisDecodedInstruction&) {
  return F;
}

}  // namespace

void register_flag_ctrl(InsnTable& t) {
  t.add(ZYDIS_MNEMONIC_CLC, bind_fn<set_flag<flag::CF, false>>);
  t.add(ZYDIS_MNEMONIC_STC, bind_fn<set_flag<flag::CF, true>>);
  t.add(ZYDIS_MNEMONIC_CMC, bind_fn<cmc>);
  t.add(ZYDIS_MNEMONIC_CLD, bind_fn<set_flag<flag::DF, false>>);
  t.add(ZYDIS_MNEMONIC_STD, bind_fn<set_flag<flag::DF, true>>);
  t.add(ZYDIS_MNEMONIC_LAHF, bind_fn<lahf>);
  t.add(ZYDIS_MNEMONIC_SAHF, bind_fn<sahf>);
  t.add(ZYDIS_MNEMONIC_CLI, bind_fn<cli>);
  // STI and POPF can set IF or TF, whose effects the engine applies between
  // blocks: end the block so it looks at once.
  t.add(ZYDIS_MNEMONIC_STI, bind_fn<sti>, info::kEndsBlock);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_PUSHF, ZYDIS_MNEMONIC_PUSHFD, ZYDIS_MNEMONIC_PUSHFQ})
    t.add(m, bind_by_opsize<Pushf>);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_POPF, ZYDIS_MNEMONIC_POPFD, ZYDIS_MNEMONIC_POPFQ})
    t.add(m, bind_by_opsize<Popf>, info::kEndsBlock);
}

}  // namespace vtlab::isa
