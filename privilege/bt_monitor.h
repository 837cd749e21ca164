// `bt`: binary translation of guest kernel code, user code run direct, as
// VMware's monitor did it (Adams & Agesen, ASPLOS 2006).  The guest kernel
// still runs at ring 1 on the monitor's tables and shadow page tables
// (privilege/ring_one_monitor.h), but its code is never run as written:
// each kernel block is translated when the engine decodes it, and the
// translation keeps the guest's sensitive instructions away from the real
// CPU.  docs/BINARY_TRANSLATION.md explains it for students.
//
// The translation is a policy of the interpreter's block builder: kernel
// blocks (real CPL 1) are cached apart from user blocks of the same bytes
// (translated_rings), and in them every instruction is one of
//   ident    innocuous: runs as written (in vtlab, in place: the
//            interpreter runs guest code at its own addresses, so
//            PC-relative control flow needs no rewriting);
//   inline   sensitive but cheap (CLI/STI, PUSHF/POPF, SGDT/SIDT/SLDT/
//            STR/SMSW, segment-register reads and loads, LAR/LSL/VERR/
//            VERW, far JMP/CALL/RET): runs against the virtual CPU
//            without leaving translated code, no exit;
//   callout  heavy (the privileged instructions, port I/O, IRET): the
//            translated code calls the monitor, which emulates it
//            (bt-callout, keyed by instruction).
// A kernel instruction that keeps writing traced page tables is
// retranslated to a callout that does the write and updates the shadow
// (adaptive translation).  The translation cache is bounded: past its
// capacity every translation is dropped (tc-flush).
#pragma once

#include <functional>
#include <ostream>
#include <unordered_map>

#include "privilege/ring_one_monitor.h"

namespace vtlab {

class BinaryTranslationMonitor final : public RingOneMonitor {
 public:
  enum class Translation : uint8_t { Ident, Inline, Callout };
  // bt-translate keys: a block translated, an instruction retranslated.
  enum TranslateKey : uint32_t { kBlock = 0, kRetranslation = 1 };
  // The bt-callout key of a page-table write done by a retranslated instruction.
  static constexpr uint32_t kPageTableWriteCallout = 0x10000;
  // After this many trace faults an instruction is retranslated.
  static constexpr unsigned kTraceFaultsBeforeRetranslation = 4;

  // `flush_cache` drops the engine's decoded blocks (a TC flush);
  // `tc_blocks` bounds the kernel translations kept (0: the engine's own
  // bound only); `log`, when set, receives every translation in words.
  BinaryTranslationMonitor(std::function<void()> flush_cache, size_t tc_blocks, std::ostream* log);

  std::string_view name() const override { return "bt"; }
  // Kernel code (the guest's CPL 0, real ring 1) is translated; user code
  // runs as decoded.
  unsigned translated_rings() const override { return 1u << 1; }
  void on_block(Cpu& cpu, uint64_t lin, uint64_t phys, std::vector<DecodedInsn>& insns) override;
  std::vector<std::pair<std::string, uint64_t>> counters() const override;

  static Translation translation_of(const DecodedInsn& insn);

  // One guest instruction beside its translation, as --bt-log and the
  // debugger show it.
  struct TranslatedInsn {
    uint64_t lin;
    std::string text;  // disassembled
    Translation kind;
    std::string how;   // what the translation does, in words
  };
  // The translation the kernel block at CS:`rip` gets (decoded afresh from
  // the guest's bytes; at most `max_insns` instructions, to the first that
  // ends a block).
  std::vector<TranslatedInsn> translate_view(Cpu& cpu, uint64_t rip, unsigned max_insns = 32);

 private:
  Action on_sensitive(Cpu& cpu, const DecodedInsn& insn) override;
  // IRET and SYSEXIT are callouts, far RET inline: the monitor runs every
  // return to user mode itself and knows the IF it leaves.
  bool sees_returns_to_user() const override { return true; }
  void on_shadow_exit(Cpu& cpu, ExitReason reason, uint32_t key) override;
  void log_block(Cpu& cpu, uint64_t lin, uint64_t phys, const std::vector<DecodedInsn>& insns);
  TranslatedInsn describe(Cpu& cpu, uint64_t ip, const DecodedInsn& insn);

  std::function<void()> flush_cache_;
  size_t tc_blocks_;
  std::ostream* log_;
  size_t live_blocks_ = 0;
  std::unordered_map<uint64_t, unsigned> trace_faults_;  // guest linear address of the writer -> faults
  uint64_t blocks_ = 0, ident_ = 0, inline_ = 0, callouts_ = 0;
  uint64_t inline_runs_ = 0, callout_runs_ = 0, retranslations_ = 0, tc_flushes_ = 0;
};

}  // namespace vtlab
