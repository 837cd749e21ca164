#include "privilege/bt_monitor.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include "core/isa/registry.h"
#include "privilege/sensitivity.h"

namespace vtlab {

namespace {
Status call_monitor(Cpu& cpu, const DecodedInsn& insn) { return cpu.raise_sensitive(insn); }

ExitCause because(CauseKind kind) {
  ExitCause c;
  c.kind = kind;
  return c;
}

// What an inline translation does instead, in a few words for --bt-log.
const char* inline_effect(uint16_t m) {
  switch (static_cast<ZydisMnemonic>(m)) {
    case ZYDIS_MNEMONIC_CLI: return "virtual IF := 0";
    case ZYDIS_MNEMONIC_STI: return "virtual IF := 1 (a waiting interrupt is delivered after the next instruction)";
    case ZYDIS_MNEMONIC_PUSHF:
    case ZYDIS_MNEMONIC_PUSHFD: return "pushes EFLAGS with the virtual IF and IOPL";
    case ZYDIS_MNEMONIC_POPF:
    case ZYDIS_MNEMONIC_POPFD: return "pops into EFLAGS and the virtual IF and IOPL";
    case ZYDIS_MNEMONIC_SGDT: return "stores the guest's GDTR, not the monitor's";
    case ZYDIS_MNEMONIC_SIDT: return "stores the guest's IDTR, not the monitor's";
    case ZYDIS_MNEMONIC_SLDT: return "stores the guest's LDTR selector";
    case ZYDIS_MNEMONIC_STR: return "stores the guest's TR selector";
    case ZYDIS_MNEMONIC_SMSW: return "stores the guest's CR0 low word";
    case ZYDIS_MNEMONIC_LAR:
    case ZYDIS_MNEMONIC_LSL:
    case ZYDIS_MNEMONIC_VERR:
    case ZYDIS_MNEMONIC_VERW: return "judges the guest's descriptor at the guest's CPL 0";
    default: return "runs on the virtual CPU: the guest's tables, selectors with RPL 0";
  }
}
}  // namespace

BinaryTranslationMonitor::BinaryTranslationMonitor(std::function<void()> flush_cache, size_t tc_blocks,
                                                   std::ostream* log)
    : flush_cache_(std::move(flush_cache)), tc_blocks_(tc_blocks), log_(log) {}

BinaryTranslationMonitor::Translation BinaryTranslationMonitor::translation_of(const DecodedInsn& insn) {
  switch (static_cast<ZydisMnemonic>(insn.mnemonic)) {
    case ZYDIS_MNEMONIC_INT:
    case ZYDIS_MNEMONIC_INT1:
    case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_INTO: return Translation::Ident;  // an event: the monitor delivers it
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD: return Translation::Callout;
    default: break;
  }
  switch (classify(insn).kind) {
    case Sensitivity::Innocuous: return Translation::Ident;
    case Sensitivity::Privileged: return Translation::Callout;
    case Sensitivity::IoplSensitive: return is_port_io(insn) ? Translation::Callout : Translation::Inline;
    case Sensitivity::Hole: return Translation::Inline;
  }
  return Translation::Ident;
}

void BinaryTranslationMonitor::on_block(Cpu& cpu, uint64_t lin, uint64_t phys, std::vector<DecodedInsn>& insns) {
  if (cpu.s.cpl() != 1) return;  // guest user code runs as decoded
  if (tc_blocks_ && live_blocks_ >= tc_blocks_) {
    flush_cache_();
    live_blocks_ = 0;
    trace_faults_.clear();
    ++tc_flushes_;
    note(cpu, ExitReason::TcFlush, 0, because(CauseKind::TcFull));
  }
  ++live_blocks_;
  ++blocks_;
  note(cpu, ExitReason::BtTranslate, kBlock, because(CauseKind::TranslateBlock));
  for (DecodedInsn& insn : insns) {
    switch (translation_of(insn)) {
      case Translation::Ident: ++ident_; continue;
      case Translation::Inline: ++inline_; break;
      case Translation::Callout: ++callouts_; break;
    }
    insn.original = insn.exec;
    insn.exec = &call_monitor;
  }
  if (log_) log_block(cpu, lin, phys, insns);
}

Monitor::Action BinaryTranslationMonitor::on_sensitive(Cpu& cpu, const DecodedInsn& insn) {
  if (translation_of(insn) == Translation::Callout) {
    ++callout_runs_;
    note(cpu, ExitReason::BtCallout, insn.mnemonic,
         callout_cause(insn, cpu.s.cpl(), (cpu.s.flags.bits() & flag::IOPL) >> flag::kIoplShift));
  } else {
    ++inline_runs_;
  }
  const Status st = run_virtual(cpu, insn, (cpu.s.rip + insn.len) & all_ones(cpu.s.code_size()));
  return finish(cpu, st, cpu.pending());
}

// Adaptive translation: a kernel instruction that keeps writing traced
// page tables is retranslated so that its writes call the monitor, which
// performs them and updates the shadow without a protection fault.
void BinaryTranslationMonitor::on_shadow_exit(Cpu& cpu, ExitReason reason, uint32_t key) {
  if (reason == ExitReason::PageTableWrite && !in_virtual_ && cpu.s.cpl() == 1) {
    if (trace_faults_.size() > 65536) trace_faults_.clear();  // guest-chosen sites: keep it bounded
    unsigned& faults = trace_faults_[cpu.linear(CS, cpu.s.rip)];
    if (faults >= kTraceFaultsBeforeRetranslation) {
      ++callout_runs_;
      note(cpu, ExitReason::BtCallout, kPageTableWriteCallout, because(CauseKind::TracedWrite));
      return;
    }
    if (++faults == kTraceFaultsBeforeRetranslation) {
      ++retranslations_;
      note(cpu, ExitReason::BtTranslate, kRetranslation, because(CauseKind::TracedWrite));
    }
  }
  note(cpu, reason, key, shadow_cause(reason));
}

std::vector<std::pair<std::string, uint64_t>> BinaryTranslationMonitor::counters() const {
  return {{"blocks_translated", blocks_},   {"ident_instructions", ident_},
          {"inline_instructions", inline_}, {"callout_instructions", callouts_},
          {"inline_runs", inline_runs_},    {"callout_runs", callout_runs_},
          {"retranslations", retranslations_}, {"tc_flushes", tc_flushes_}};
}

BinaryTranslationMonitor::TranslatedInsn BinaryTranslationMonitor::describe(Cpu& cpu, uint64_t ip,
                                                                            const DecodedInsn& insn) {
  TranslatedInsn t{cpu.linear(CS, ip), {}, translation_of(insn), {}};
  DecodedInsn again;
  decode_at(cpu, ip, again, &t.text);
  switch (t.kind) {
    case Translation::Ident: t.how = "ident    runs as written"; break;
    case Translation::Inline: t.how = std::string("inline   ") + inline_effect(insn.mnemonic); break;
    case Translation::Callout:
      t.how = fmt::format("callout  the monitor emulates it ({} in trap)", exit_reason_name(exit_for(cpu, insn).first));
      break;
  }
  return t;
}

void BinaryTranslationMonitor::log_block(Cpu& cpu, uint64_t lin, uint64_t phys, const std::vector<DecodedInsn>& insns) {
  *log_ << fmt::format("translated kernel block at {:#010x} (physical {:#010x}), {} instructions:\n", lin, phys,
                       insns.size());
  uint64_t ip = cpu.s.rip;
  for (const DecodedInsn& insn : insns) {
    const TranslatedInsn t = describe(cpu, ip, insn);
    *log_ << fmt::format("  {:#010x}  {:<32} {}\n", t.lin, t.text, t.how);
    ip += insn.len;
  }
}

std::vector<BinaryTranslationMonitor::TranslatedInsn> BinaryTranslationMonitor::translate_view(Cpu& cpu, uint64_t rip,
                                                                                               unsigned max_insns) {
  std::vector<TranslatedInsn> out;
  uint64_t ip = rip;
  while (out.size() < max_insns) {
    DecodedInsn insn;
    if (!decode_at(cpu, ip, insn)) break;
    out.push_back(describe(cpu, ip, insn));
    if (insn.info & isa::info::kEndsBlock) break;
    ip += insn.len;
  }
  return out;
}

}  // namespace vtlab
