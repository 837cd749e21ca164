#include "privilege/sensitivity.h"

#include <Zydis/Zydis.h>

#include <array>
#include <cctype>
#include <string>

#include "core/decoder.h"
#include "core/cpu_state.h"
#include "core/isa/registry.h"

namespace vtlab {

namespace {

constexpr SensitivityInfo privileged(std::string_view what) { return {Sensitivity::Privileged, what}; }
constexpr SensitivityInfo iopl_sensitive(std::string_view what) { return {Sensitivity::IoplSensitive, what}; }
constexpr SensitivityInfo hole(std::string_view what) { return {Sensitivity::Hole, what}; }

constexpr SensitivityInfo kInnocuous{Sensitivity::Innocuous,
                                     "Not sensitive: it gives the same result at every privilege level."};

// Far JMP/CALL/RET, as the decoder marked them (Zydis's branch type): a
// far RET has the mnemonic, operands and width of a near one.
bool is_far_branch(const DecodedInsn& i) { return i.info & isa::info::kFarBranch; }

bool has_operand(const DecodedInsn& i, OpKind kind) {
  for (unsigned n = 0; n < i.nops && n < 3; ++n)
    if (i.op[n].kind == kind) return true;
  return false;
}

// MOV (and PUSH) with a segment register: reading CS or SS reveals the
// CPL in the RPL bits; writing any of them checks the selector against
// the CPL.
SensitivityInfo classify_mov(const DecodedInsn& i) {
  const Operand& dst = i.op[0];
  const Operand& src = i.op[1];
  if (dst.kind == OpKind::Creg || src.kind == OpKind::Creg)
    return privileged("MOV to or from a control register is privileged: the monitor keeps the guest's "
                      "CR0/CR2/CR3/CR4 and emulates each access.");
  if (dst.kind == OpKind::Dreg || src.kind == OpKind::Dreg)
    return privileged("MOV to or from a debug register is privileged: the monitor keeps the guest's DR0-DR7.");
  if (dst.kind == OpKind::Sreg)
    return hole("MOV to a segment register checks the selector against the CPL: at ring 1 the kernel's "
                "DPL-0 data segments fault (#GP) and SS must have RPL 1, so its own selectors stop loading.");
  if (src.kind == OpKind::Sreg && (src.reg == CS || src.reg == SS))
    return hole("MOV from CS or SS reads the real selector: its RPL bits show CPL 1, not the 0 the "
                "guest kernel believes it runs at.");
  return kInnocuous;
}

SensitivityInfo classify_push(const DecodedInsn& i) {
  const Operand& o = i.op[0];
  if (o.kind == OpKind::Sreg && (o.reg == CS || o.reg == SS))
    return hole("PUSH CS or SS pushes the real selector: its RPL bits show CPL 1, not the 0 the guest "
                "kernel believes it runs at.");
  return kInnocuous;
}

}  // namespace

bool is_port_io(const DecodedInsn& i) {
  switch (static_cast<ZydisMnemonic>(i.mnemonic)) {
    case ZYDIS_MNEMONIC_IN:
    case ZYDIS_MNEMONIC_OUT:
    case ZYDIS_MNEMONIC_INSB:
    case ZYDIS_MNEMONIC_INSW:
    case ZYDIS_MNEMONIC_INSD:
    case ZYDIS_MNEMONIC_OUTSB:
    case ZYDIS_MNEMONIC_OUTSW:
    case ZYDIS_MNEMONIC_OUTSD:
      return true;
    default:
      return false;
  }
}

SensitivityInfo classify(const DecodedInsn& i) {
  if (is_port_io(i))
    return iopl_sensitive("Port I/O faults when CPL > IOPL unless the TSS I/O bitmap allows the port: with "
                          "IOPL 0 and a full bitmap the monitor emulates every access.");
  switch (static_cast<ZydisMnemonic>(i.mnemonic)) {
    // --- privileged: #GP(0) above CPL 0 -----------------------------------
    case ZYDIS_MNEMONIC_HLT:
      return privileged("HLT is privileged: the monitor sees each one and idles the virtual CPU instead.");
    case ZYDIS_MNEMONIC_CLTS:
      return privileged("CLTS is privileged: it clears CR0.TS, which the monitor virtualizes.");
    case ZYDIS_MNEMONIC_LGDT:
      return privileged("LGDT is privileged: the monitor records the guest's GDT and keeps its own in GDTR.");
    case ZYDIS_MNEMONIC_LIDT:
      return privileged("LIDT is privileged: the monitor records the guest's IDT and keeps its own in IDTR.");
    case ZYDIS_MNEMONIC_LLDT:
      return privileged("LLDT is privileged: the monitor records the guest's LDT and loads a shadow of it.");
    case ZYDIS_MNEMONIC_LTR:
      return privileged("LTR is privileged: the monitor records the guest's TSS and keeps its own in TR.");
    case ZYDIS_MNEMONIC_LMSW:
      return privileged("LMSW is privileged: it writes CR0's low bits, which the monitor virtualizes.");
    case ZYDIS_MNEMONIC_INVLPG:
      return privileged("INVLPG is privileged: the monitor drops the page from its shadow page tables too.");
    case ZYDIS_MNEMONIC_WBINVD:
      return privileged("WBINVD is privileged: cache control belongs to the monitor.");
    case ZYDIS_MNEMONIC_INVD:
      return privileged("INVD is privileged: cache control belongs to the monitor.");
    case ZYDIS_MNEMONIC_RDMSR:
      return privileged("RDMSR is privileged: the monitor answers from the guest's virtual MSRs.");
    case ZYDIS_MNEMONIC_WRMSR:
      return privileged("WRMSR is privileged: the monitor keeps the guest's MSRs (SYSENTER, EFER, PAT) itself.");
    case ZYDIS_MNEMONIC_SYSEXIT:
      return privileged("SYSEXIT is privileged: only ring 0 may drop to ring 3 through it, so the monitor "
                        "emulates the guest kernel's return to user mode.");
    case ZYDIS_MNEMONIC_SYSRET:
      return privileged("SYSRET is privileged: only ring 0 may drop to ring 3 through it, so the monitor "
                        "emulates the guest kernel's return to user mode.");
    case ZYDIS_MNEMONIC_SWAPGS:
      return privileged("SWAPGS is privileged: it exchanges the GS base with IA32_KERNEL_GS_BASE, an MSR the "
                        "monitor keeps for the guest.");
    case ZYDIS_MNEMONIC_RDTSC:
      return privileged("RDTSC is privileged only while CR4.TSD is set; with TSD clear it reads the time-stamp "
                        "counter at any CPL, and timing is outside Popek and Goldberg's model.");
    case ZYDIS_MNEMONIC_MOV:
      return classify_mov(i);

    // --- IOPL-sensitive: #GP(0) when CPL > IOPL ---------------------------
    case ZYDIS_MNEMONIC_CLI:
    case ZYDIS_MNEMONIC_STI:
      return iopl_sensitive("CLI and STI fault when CPL > IOPL: with the real IOPL kept at 0 the ring-1 kernel "
                            "traps and the monitor changes its virtual IF.");

    // --- holes: sensitive, not privileged ---------------------------------
    case ZYDIS_MNEMONIC_POPF:
    case ZYDIS_MNEMONIC_POPFD:
    case ZYDIS_MNEMONIC_POPFQ:
      return hole("POPF above CPL 0 silently keeps IOPL, and keeps IF when CPL > IOPL: the ring-1 kernel's "
                  "attempt to change IF is lost without a trap.");
    case ZYDIS_MNEMONIC_PUSHF:
    case ZYDIS_MNEMONIC_PUSHFD:
    case ZYDIS_MNEMONIC_PUSHFQ:
      return hole("PUSHF pushes the real EFLAGS: the guest sees the monitor's IF and IOPL, not its virtual ones.");
    case ZYDIS_MNEMONIC_SGDT:
      return hole("SGDT stores the real GDTR: a deprivileged kernel sees the monitor's GDT, not its own.");
    case ZYDIS_MNEMONIC_SIDT:
      return hole("SIDT stores the real IDTR: a deprivileged kernel sees the monitor's IDT, not its own.");
    case ZYDIS_MNEMONIC_SLDT:
      return hole("SLDT stores the real LDTR selector: the monitor's, not the one the guest loaded.");
    case ZYDIS_MNEMONIC_STR:
      return hole("STR stores the real TR selector: the monitor's TSS, not the one the guest loaded.");
    case ZYDIS_MNEMONIC_SMSW:
      return hole("SMSW reads the real CR0 low word (PE, MP, EM, TS...), not the guest's virtual CR0.");
    case ZYDIS_MNEMONIC_LAR:
      return hole("LAR checks the descriptor's DPL against the CPL: at ring 1 a DPL-0 segment fails (ZF=0) "
                  "where the kernel at ring 0 would read its access rights.");
    case ZYDIS_MNEMONIC_LSL:
      return hole("LSL checks the descriptor's DPL against the CPL: at ring 1 a DPL-0 segment fails (ZF=0) "
                  "where the kernel at ring 0 would read its limit.");
    case ZYDIS_MNEMONIC_VERR:
      return hole("VERR checks the descriptor's DPL against the CPL: at ring 1 a DPL-0 segment reads as "
                  "not readable (ZF=0).");
    case ZYDIS_MNEMONIC_VERW:
      return hole("VERW checks the descriptor's DPL against the CPL: at ring 1 a DPL-0 data segment reads as "
                  "not writable (ZF=0).");
    case ZYDIS_MNEMONIC_PUSH:
      return classify_push(i);
    case ZYDIS_MNEMONIC_POP:
      if (has_operand(i, OpKind::Sreg))
        return hole("POP into a segment register checks the selector against the CPL: at ring 1 the kernel's "
                    "DPL-0 data segments fault (#GP) and SS must have RPL 1.");
      return kInnocuous;
    case ZYDIS_MNEMONIC_LDS:
    case ZYDIS_MNEMONIC_LES:
    case ZYDIS_MNEMONIC_LFS:
    case ZYDIS_MNEMONIC_LGS:
    case ZYDIS_MNEMONIC_LSS:
      return hole("Loading a far pointer loads a segment register, which checks the selector against the CPL: "
                  "at ring 1 the kernel's DPL-0 segments fault (#GP).");
    case ZYDIS_MNEMONIC_CALL:
      if (is_far_branch(i))
        return hole("A far CALL pushes the real CS, whose RPL shows CPL 1, and a call to the kernel's DPL-0 "
                    "code segment faults at ring 1.");
      return kInnocuous;
    case ZYDIS_MNEMONIC_JMP:
      if (is_far_branch(i))
        return hole("A far JMP sets CS.RPL to the real CPL (1, not 0), and a jump to the kernel's DPL-0 code "
                    "segment faults at ring 1.");
      return kInnocuous;
    case ZYDIS_MNEMONIC_RET:
      if (is_far_branch(i))
        return hole("A far RET compares the popped CS's RPL with the real CPL: returning to the kernel's RPL-0 "
                    "code faults at ring 1 (an 'inner' return), and RPL 1 is an intra-level one.");
      return kInnocuous;
    case ZYDIS_MNEMONIC_INT:
    case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_INTO:
    case ZYDIS_MNEMONIC_INT1:
      return hole("A software interrupt is checked and stacked by the real CPL: from ring 1 a DPL-0 gate "
                  "faults, and a ring-0 handler gets an inter-level frame (SS:ESP, CS with RPL 1).");
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ:
      return hole("IRET above CPL 0 silently keeps IOPL, and keeps IF when CPL > IOPL: the ring-1 kernel's "
                  "return cannot re-enable interrupts, and a return to RPL-0 code faults.");
    case ZYDIS_MNEMONIC_SYSCALL:
      return {Sensitivity::Innocuous,
              "SYSCALL always enters ring 0 at the IA32_LSTAR only WRMSR can set: under a monitor it enters the "
              "monitor, like a trap, whatever the CPL."};
    case ZYDIS_MNEMONIC_SYSENTER:
      return {Sensitivity::Innocuous,
              "SYSENTER always enters ring 0 at the IA32_SYSENTER_CS:EIP only WRMSR can set: under a monitor it "
              "enters the monitor, like a trap, whatever the CPL."};
    default:
      return kInnocuous;
  }
}

std::string_view insn_form(const DecodedInsn& i) {
  static const auto kNames = [] {
    std::array<std::string, ZYDIS_MNEMONIC_MAX_VALUE + 1> names;
    for (size_t m = 0; m < names.size(); ++m) {
      names[m] = mnemonic_name(static_cast<uint16_t>(m));
      for (char& c : names[m]) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return names;
  }();
  static const auto kMoves = [] {
    std::array<std::string, 3 * 2 * 16> forms;  // CR, DR, Sreg; to, from; register number
    constexpr std::array<const char*, 6> kSregs = {"ES", "CS", "SS", "DS", "FS", "GS"};
    for (unsigned n = 0; n < 16; ++n)
      for (unsigned from = 0; from < 2; ++from) {
        const char* dir = from ? "MOV from " : "MOV to ";
        forms[(0 * 2 + from) * 16 + n] = std::string(dir) + "CR" + std::to_string(n);
        forms[(1 * 2 + from) * 16 + n] = std::string(dir) + "DR" + std::to_string(n);
        forms[(2 * 2 + from) * 16 + n] = std::string(dir) + (n < kSregs.size() ? kSregs[n] : "?");
      }
    return forms;
  }();
  if (i.mnemonic == ZYDIS_MNEMONIC_MOV) {
    for (unsigned from = 0; from < 2; ++from) {
      const Operand& reg = i.op[from];
      const unsigned n = reg.reg & 0xF;
      if (reg.kind == OpKind::Creg) return kMoves[(0 * 2 + from) * 16 + n];
      if (reg.kind == OpKind::Dreg) return kMoves[(1 * 2 + from) * 16 + n];
      if (reg.kind == OpKind::Sreg) return kMoves[(2 * 2 + from) * 16 + n];
    }
  }
  return i.mnemonic < kNames.size() ? std::string_view(kNames[i.mnemonic]) : std::string_view("?");
}

std::string_view hole_effect(const DecodedInsn& i) {
  if (classify(i).kind != Sensitivity::Hole) return {};
  switch (static_cast<ZydisMnemonic>(i.mnemonic)) {
    case ZYDIS_MNEMONIC_POPF:
    case ZYDIS_MNEMONIC_POPFD:
    case ZYDIS_MNEMONIC_POPFQ: return "silently drops IF";
    case ZYDIS_MNEMONIC_PUSHF:
    case ZYDIS_MNEMONIC_PUSHFD:
    case ZYDIS_MNEMONIC_PUSHFQ: return "pushes the real IF and IOPL";
    case ZYDIS_MNEMONIC_SGDT: return "stores the monitor's GDTR";
    case ZYDIS_MNEMONIC_SIDT: return "stores the monitor's IDTR";
    case ZYDIS_MNEMONIC_SLDT: return "stores the monitor's LDTR selector";
    case ZYDIS_MNEMONIC_STR: return "stores the monitor's TR selector";
    case ZYDIS_MNEMONIC_SMSW: return "reads the real CR0";
    case ZYDIS_MNEMONIC_LAR:
    case ZYDIS_MNEMONIC_LSL:
    case ZYDIS_MNEMONIC_VERR:
    case ZYDIS_MNEMONIC_VERW: return "judges DPL-0 descriptors by the real CPL";
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ: return "silently keeps IF and IOPL";
    case ZYDIS_MNEMONIC_RET: return "compares the popped CS's RPL with the real CPL";
    case ZYDIS_MNEMONIC_CALL:
    case ZYDIS_MNEMONIC_JMP: return "DPL-0 code fails the check against the real CPL";
    case ZYDIS_MNEMONIC_INT:
    case ZYDIS_MNEMONIC_INT1:
    case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_INTO: return "a DPL-0 gate fails the check against the real CPL";
    case ZYDIS_MNEMONIC_MOV:
      if (i.op[0].kind == OpKind::Sreg) return "a ring-0 selector fails the check against the real CPL";
      return "reads the real selector, whose RPL shows the real CPL";
    case ZYDIS_MNEMONIC_PUSH: return "pushes the real selector, whose RPL shows the real CPL";
    default: return "a ring-0 selector fails the check against the real CPL";
  }
}

ExitCause deprivileged_cause(const DecodedInsn& i, unsigned cpl, unsigned iopl, uint16_t port) {
  ExitCause c;
  c.cpl = static_cast<uint8_t>(cpl);
  c.iopl = static_cast<uint8_t>(iopl);
  c.insn = insn_form(i);
  switch (classify(i).kind) {
    case Sensitivity::Privileged: c.kind = CauseKind::Privileged; break;
    case Sensitivity::IoplSensitive:
      c.kind = is_port_io(i) ? CauseKind::PortIo : CauseKind::IoplSensitive;
      c.arg = port;
      break;
    case Sensitivity::Hole:
      // What faulted is the selector check, whatever else the hole does.
      c.kind = CauseKind::RingCompression;
      switch (static_cast<ZydisMnemonic>(i.mnemonic)) {
        case ZYDIS_MNEMONIC_IRET:
        case ZYDIS_MNEMONIC_IRETD:
        case ZYDIS_MNEMONIC_IRETQ:
        case ZYDIS_MNEMONIC_RET: c.rule = "the return to RPL-0 code is below the real CPL"; break;
        case ZYDIS_MNEMONIC_CALL:
        case ZYDIS_MNEMONIC_JMP: c.rule = "DPL-0 code fails the check against the real CPL"; break;
        default: c.rule = hole_effect(i);
      }
      break;
    case Sensitivity::Innocuous:
      // SYSENTER and SYSCALL: the monitor keeps their MSRs so they fault.
      c.kind = CauseKind::RingCompression;
      c.rule = "the monitor keeps its target MSRs so that it faults";
      break;
  }
  return c;
}

// exit_cause_text (core/exits.cpp) reads the class from a callout's arg.
static_assert(static_cast<int>(Sensitivity::IoplSensitive) == 2 && static_cast<int>(Sensitivity::Hole) == 3);

ExitCause callout_cause(const DecodedInsn& i, unsigned cpl, unsigned iopl) {
  ExitCause c;
  c.kind = CauseKind::TranslatedCallout;
  c.cpl = static_cast<uint8_t>(cpl);
  c.iopl = static_cast<uint8_t>(iopl);
  c.insn = insn_form(i);
  c.arg = static_cast<uint64_t>(classify(i).kind);
  c.rule = hole_effect(i);
  return c;
}

std::string_view sensitivity_name(Sensitivity s) {
  switch (s) {
    case Sensitivity::Innocuous: return "innocuous";
    case Sensitivity::Privileged: return "privileged";
    case Sensitivity::IoplSensitive: return "iopl-sensitive";
    case Sensitivity::Hole: return "hole";
  }
  return "?";
}

}  // namespace vtlab
