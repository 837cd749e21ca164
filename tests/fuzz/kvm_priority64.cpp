// Exception priority among memory faults, measured on the silicon: a fixed
// matrix of one-instruction cases at CPL 3 in 64-bit mode, with CR0.AM set
// and (mostly) EFLAGS.AC, each built so that two faults compete: #AC
// (misaligned) against #PF (not present, U/S, R/W; the first or the second
// page of a page-crossing access), against the non-canonical #GP or #SS
// (the access's first byte, or only its last), and the same for the stack
// (SS) against data segments, for loads, stores, read-modify-writes,
// pushes and pops, string instructions and ENTER.  Each case runs in the
// KVM guest (kvm_runner64.h: the CPU itself runs CPL-3 code on this host)
// and in the interpreter; one line each: the exception the silicon raised
// (vector, error code, CR2), vtlab's, and whether the whole outcome
// (registers, frame, CR2, data page) agrees.  docs/FUZZING.md holds the
// table, tests/core/fault_priority_test.cpp a regression test per row.
//   kvm_priority64   exit 0: every case the CPU ran agrees, 1: some differ, 77: skipped
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "diff_report.h"
#include "kvm_runner64.h"

namespace {

using namespace vtlab;
using namespace vtlab::kvmtest;

// The guest's regions (kvm_cases64.h: 0-2 MiB user, 2-4 MiB user
// read-only, 4-6 MiB supervisor, nothing from 6 MiB), plus 8-10 MiB user
// (an alias of physical 0-2 MiB) so that an unmapped page lies on either
// side of a user one; nothing mapped from 10 MiB.  A second PML4 tree
// (kTop) also maps the last 2 MiB below the canonical hole and the first
// 2 MiB above it, so that an access running into the hole can start on a
// present page.
constexpr uint64_t kAlias = 8 << 20, kPastAlias = 10 << 20;
constexpr uint64_t kTop = 0x13000;  // PML4 of the second tree (its PDPT and PD follow)
constexpr uint64_t kTopLow = 0x16000;  // a third: the last 2 MiB below the hole only
constexpr uint64_t kUpperHalf = 0xFFFF800000000000ull;

void put(std::vector<uint8_t>& image, uint64_t at, uint64_t v) { std::memcpy(image.data() + at, &v, 8); }

void add_regions(std::vector<uint8_t>& image) {
  const uint64_t pdpt = kPml4 + 0x1000, pd = kPml4 + 0x2000;
  put(image, pd + 8 * 4, 0x87);  // 8-10 MiB: present, writable, user, 2 MiB page at physical 0
  const uint64_t top_pdpt = kTop + 0x1000, top_pd = kTop + 0x2000;
  put(image, kTop, pdpt | 7);
  put(image, kTop + 8 * 255, top_pdpt | 7);
  put(image, kTop + 8 * 256, top_pdpt | 7);
  put(image, top_pdpt, top_pd | 7);
  put(image, top_pdpt + 8 * 511, top_pd | 7);
  put(image, top_pd, 0x87);
  put(image, top_pd + 8 * 511, 0x87);
  put(image, kTopLow, pdpt | 7);
  put(image, kTopLow + 8 * 255, top_pdpt | 7);
}

constexpr unsigned kRcx = 1, kRsp = 4, kRbp = 5, kRsi = 6, kRdi = 7, kR11 = 11;

struct Case {
  const char* pair;  // the row of docs/FUZZING.md's table
  std::string name;
  std::vector<uint8_t> code;
  std::vector<std::pair<unsigned, uint64_t>> regs;
  bool ac = true;
  uint64_t cr3 = kPml4;
};

std::vector<Case> cases() {
  const std::vector<uint8_t> load{0x49, 0x8B, 0x03}, store{0x49, 0x89, 0x03}, rmw{0x49, 0x01, 0x03},
      load_ss{0x48, 0x8B, 0x45, 0x00}, push{0x50}, pop{0x58}, push_m{0x41, 0xFF, 0x33}, pop_m{0x41, 0x8F, 0x03},
      movs{0x48, 0xA5}, stos{0x48, 0xAB}, lods{0x48, 0xAD}, cmps{0x48, 0xA7};
  const uint64_t nc = kNonCanonical, below_hole = kNonCanonical - 4, below_upper = kUpperHalf - 4;
  std::vector<Case> c;
  const auto at = [&](const char* pair, const std::string& name, const std::vector<uint8_t>& code, uint64_t r11,
                      bool ac = true, uint64_t cr3 = kPml4) {
    c.push_back({pair, name, code, {{kR11, r11}}, ac, cr3});
  };
  // #AC against #PF on one page.
  for (const auto& [name, code] : {std::pair{"load", load}, {"store", store}, {"rmw", rmw}}) {
    const std::string n = name;
    at("AC/PF one page", n + " misaligned, not present", code, kUnmapped + 0x101);
    at("AC/PF one page", n + " misaligned, supervisor", code, kSupervisor + 0x101);
  }
  at("AC/PF one page", "store misaligned, read-only", store, kUserReadOnly + 0x101);
  at("AC/PF one page", "rmw misaligned, read-only", rmw, kUserReadOnly + 0x101);
  at("AC/PF one page", "load aligned, not present (AC=1)", load, kUnmapped + 0x100);
  // #AC against #PF on one page of two.
  for (const auto& [name, code] : {std::pair{"load", load}, {"store", store}, {"rmw", rmw}}) {
    const std::string n = name;
    at("AC/PF first page", n + " not present | user", code, kAlias - 4);
    at("AC/PF second page", n + " user | not present", code, kPastAlias - 4);
    at("AC/PF second page", n + " user | not present, AC=0", code, kPastAlias - 4, false);
    at("AC/PF first page", n + " supervisor | not present", code, kUnmapped - 4);
  }
  at("AC/PF second page", "load read-only | supervisor", load, kSupervisor - 4);
  for (unsigned k = 1; k < 8; ++k)
    at("AC/PF second page", "load read-only | supervisor, " + std::to_string(k) + " bytes before", load, kSupervisor - k);
  // With RSP in the hole (the user RSP the CPU would save), this host's KVM
  // runs a faulting instruction through its emulator: no #AC.
  const auto rsp_in_hole = [&](const std::string& name, uint64_t r11, uint64_t rsp) {
    c.push_back({"AC, RSP in the hole", name, load, {{kR11, r11}, {kRsp, rsp}}, true, kPml4});
  };
  rsp_in_hole("load read-only | supervisor, RSP in the hole", kSupervisor - 3, kNonCanonical);
  rsp_in_hole("load read-only | supervisor, RSP below the hole", kSupervisor - 3, kNonCanonical - 8);
  rsp_in_hole("load user | not present, RSP in the hole", kPastAlias - 3, kNonCanonical);
  rsp_in_hole("load misaligned, not present, RSP in the hole", kUnmapped + 0x101, kNonCanonical);
  at("AC/PF second page", "store user | read-only", store, kUserReadOnly - 4);
  at("AC/PF second page", "rmw user | read-only", rmw, kUserReadOnly - 4);
  at("AC/PF second page", "store user | read-only, AC=0", store, kUserReadOnly - 4, false);
  // #AC against the non-canonical #GP.
  for (const auto& [name, code] : {std::pair{"load", load}, {"store", store}, {"rmw", rmw}}) {
    const std::string n = name;
    at("AC/GP non-canonical", n + " misaligned in the hole", code, nc + 1);
    at("AC/GP non-canonical", n + " misaligned, hole | upper half (present)", code,
       below_upper, true, kTop);
    at("AC/GP into the hole", n + " present | hole", code, below_hole, true, kTop);
    at("AC/GP into the hole", n + " not present | hole", code, below_hole);
    at("PF/GP into the hole", n + " present | hole, AC=0", code, below_hole, false, kTop);
    at("PF/GP into the hole", n + " not present | hole, AC=0", code, below_hole, false);
  }
  // Where the part beyond the hole goes: only the page below it present.
  for (const auto& [name, code] : {std::pair{"load", load}, {"store", store}, {"rmw", rmw}})
    at("PF/GP into the hole", std::string(name) + " present | hole (beyond: not present), AC=0", code, below_hole,
       false, kTopLow);
  // The stack segment: #SS against #AC and #PF, and against data segments.
  const auto stack = [&](const char* pair, const char* name, const std::vector<uint8_t>& code, unsigned reg,
                         uint64_t v, bool ac = true, uint64_t cr3 = kPml4) {
    c.push_back({pair, name, code, {{reg, v}}, ac, cr3});
  };
  stack("AC/PF stack", "push misaligned, not present", push, kRsp, kUnmapped + 0x109);
  stack("AC/PF stack", "push misaligned, read-only", push, kRsp, kUserReadOnly + 0x109);
  stack("AC/PF stack", "pop misaligned, not present", pop, kRsp, kUnmapped + 0x101);
  stack("AC/PF stack", "pop misaligned, supervisor", pop, kRsp, kSupervisor + 0x101);
  stack("AC/PF stack", "push user | not present (second page)", push, kRsp, kPastAlias + 4);
  stack("AC/SS non-canonical", "push misaligned in the hole", push, kRsp, nc + 9);
  stack("AC/SS non-canonical", "pop misaligned in the hole", pop, kRsp, nc + 1);
  stack("AC/SS non-canonical", "mov [rbp] misaligned in the hole", load_ss, kRbp, nc + 1);
  stack("AC/SS into the hole", "push present | hole", push, kRsp, nc + 4, true, kTop);
  stack("AC/SS into the hole", "push not present | hole", push, kRsp, nc + 4);
  stack("AC/SS into the hole", "pop present | hole", pop, kRsp, below_hole, true, kTop);
  stack("AC/SS into the hole", "mov [rbp] not present | hole", load_ss, kRbp, below_hole);
  stack("PF/SS into the hole", "push not present | hole, AC=0", push, kRsp, nc + 4, false);
  stack("PF/SS into the hole", "pop not present | hole, AC=0", pop, kRsp, below_hole, false);
  stack("PF/SS into the hole", "mov [rbp] not present | hole, AC=0", load_ss, kRbp, below_hole, false);
  stack("PF/SS into the hole", "pop present | hole, AC=0", pop, kRsp, below_hole, false, kTop);
  stack("PF/SS into the hole", "push present | hole, AC=0", push, kRsp, nc + 4, false, kTop);
  stack("PF/SS into the hole", "push present | hole (beyond: not present), AC=0", push, kRsp, nc + 4, false, kTopLow);
  stack("PF/SS into the hole", "push present | hole (beyond: not present)", push, kRsp, nc + 4, true, kTopLow);
  stack("PF/SS into the hole", "push not present | hole, in the hole", push, kRsp, nc + 8, false);
  const std::vector<uint8_t> store_ss{0x48, 0x89, 0x45, 0x00}, load_rsp{0x48, 0x8B, 0x04, 0x24},
      load_fs_rbp{0x64, 0x48, 0x8B, 0x45, 0x00}, call{0xE8, 0, 0, 0, 0};
  stack("PF/SS into the hole", "mov [rbp], rax present | hole, AC=0", store_ss, kRbp, below_hole, false, kTop);
  stack("AC/SS into the hole", "mov [rbp], rax present | hole", store_ss, kRbp, below_hole, true, kTop);
  stack("PF/SS into the hole", "mov [rbp], rax present | hole (beyond: not present), AC=0", store_ss, kRbp,
        below_hole, false, kTopLow);
  stack("PF/SS into the hole", "mov rax, [rsp] present | hole, AC=0", load_rsp, kRsp, below_hole, false, kTop);
  stack("PF/GP into the hole", "mov rax, fs:[rbp] present | hole, AC=0", load_fs_rbp, kRbp, below_hole, false, kTop);
  stack("PF/SS into the hole", "call present | hole, AC=0", call, kRsp, nc + 4, false, kTop);
  stack("AC/SS into the hole", "call present | hole", call, kRsp, nc + 4, true, kTop);
  stack("AC/SS into the hole", "push16 present | hole", {0x66, 0x50}, kRsp, nc + 1, true, kTop);
  stack("AC/SS into the hole", "pop16 present | hole", {0x66, 0x58}, kRsp, nc - 1, true, kTop);
  // Two accesses of one instruction: which one's fault comes first.
  const auto two = [&](const char* pair, const char* name, const std::vector<uint8_t>& code,
                       std::vector<std::pair<unsigned, uint64_t>> regs) {
    c.push_back({pair, name, code, std::move(regs), true, kPml4});
  };
  two("source/destination", "push [m]: m not present, RSP misaligned", push_m, {{kR11, kUnmapped}, {kRsp, kStack - 3}});
  two("source/destination", "push [m]: m non-canonical, RSP misaligned", push_m, {{kR11, nc}, {kRsp, kStack - 3}});
  two("source/destination", "pop [m]: RSP misaligned, m not present", pop_m, {{kR11, kUnmapped}, {kRsp, kStack - 3}});
  two("source/destination", "pop [m]: m misaligned in the hole", pop_m, {{kR11, nc + 1}});
  two("source/destination", "movs: RSI misaligned not present", movs, {{kRsi, kUnmapped + 0x101}, {kRdi, kData}});
  two("source/destination", "movs: RDI misaligned read-only", movs, {{kRsi, kData}, {kRdi, kUserReadOnly + 0x101}});
  two("source/destination", "movs: RSI not present, RDI misaligned", movs, {{kRsi, kUnmapped}, {kRdi, kData + 1}});
  two("source/destination", "movs: RSI non-canonical, RDI not present", movs, {{kRsi, nc}, {kRdi, kUnmapped}});
  two("source/destination", "movs: RSI misaligned, RDI non-canonical", movs, {{kRsi, kData + 1}, {kRdi, nc}});
  two("source/destination", "cmps: RSI misaligned, RDI not present", cmps, {{kRsi, kData + 1}, {kRdi, kUnmapped}});
  two("source/destination", "cmps: RSI not present, RDI misaligned", cmps, {{kRsi, kUnmapped}, {kRdi, kData + 1}});
  two("AC/GP non-canonical", "stos misaligned in the hole", stos, {{kRdi, nc + 1}});
  two("AC/PF second page", "stos user | read-only", stos, {{kRdi, kUserReadOnly - 4}});
  two("AC/PF second page", "lods user | not present", lods, {{kRsi, kPastAlias - 4}});
  two("AC/PF one page", "rep stos misaligned, not present", {0xF3, 0x48, 0xAB}, {{kRdi, kUnmapped + 1}, {kRcx, 2}});
  // ENTER: the new frame pointer and the frame below it (SDM vol. 2, ENTER).
  two("ENTER", "enter 3, 0 (new RSP misaligned)", {0xC8, 3, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter 0x100, 0 (frame in a page not present)", {0xC8, 0, 1, 0}, {{kRsp, kAlias + 0x10}});
  two("ENTER", "enter 0x10, 0 (RSP misaligned)", {0xC8, 0x10, 0, 0}, {{kRsp, kStack - 3}});
  two("ENTER", "enter 8, 1 (RBP misaligned)", {0xC8, 8, 0, 1}, {{kRsp, kStack}, {kRbp, kStack + 0x41}});
  two("ENTER", "enter 4, 0", {0xC8, 4, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter16 0, 0", {0x66, 0xC8, 0, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter16 4, 0", {0x66, 0xC8, 4, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter 0x101, 0 (frame misaligned, not present)", {0xC8, 1, 1, 0}, {{kRsp, kAlias + 0x10}});
  two("ENTER", "enter 0x100, 2 (frame and [RBP-8] not present)", {0xC8, 0, 1, 2},
      {{kRsp, kAlias + 0x10}, {kRbp, kUnmapped + 0x100}});
  two("ENTER", "enter 0x100, 2 ([RBP-8] misaligned, frame not present)", {0xC8, 0, 1, 2},
      {{kRsp, kAlias + 0x10}, {kRbp, kStack + 0x101}});
  two("ENTER", "enter 2, 0", {0xC8, 2, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter 1, 0", {0xC8, 1, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter16 1, 0", {0x66, 0xC8, 1, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter16 2, 0", {0x66, 0xC8, 2, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter16 6, 0", {0x66, 0xC8, 6, 0, 0}, {{kRsp, kStack}});
  two("ENTER", "enter 0x100, 0 (frame read-only)", {0xC8, 0, 1, 0}, {{kRsp, kUserReadOnly + 0x10}});
  two("ENTER", "enter 0x100, 0 (frame supervisor)", {0xC8, 0, 1, 0}, {{kRsp, kSupervisor + 0x10}});
  two("ENTER", "enter 0xf8, 0 (RSP-8 at the page end)", {0xC8, 0xF8, 0, 0}, {{kRsp, kAlias + 0x100}});
  c.push_back({"ENTER", "enter 3, 0, AC=0", {0xC8, 3, 0, 0}, {{kRsp, kStack}}, false, kPml4});
  two("source/destination", "cmps: RSI not present, RDI not present", cmps, {{kRsi, kUnmapped}, {kRdi, kUnmapped + 0x1000}});
  two("source/destination", "cmpsb: RSI not present, RDI not present", {0xA6}, {{kRsi, kUnmapped}, {kRdi, kUnmapped + 0x1000}});
  two("source/destination", "movs: RSI not present, RDI not present", movs, {{kRsi, kUnmapped}, {kRdi, kUnmapped + 0x1000}});
  two("source/destination", "cmps: RSI non-canonical, RDI not present", cmps, {{kRsi, nc}, {kRdi, kUnmapped}});
  two("source/destination", "cmps: RSI not present, RDI non-canonical", cmps, {{kRsi, kUnmapped}, {kRdi, nc}});
  return c;
}

std::string describe(const Outcome& o) {
  const unsigned v = outcome_vector(o);
  char buf[96];
  const bool error = v == 8 || (v >= 10 && v <= 14) || v == 17;
  uint64_t code = 0;
  std::memcpy(&code, o.frame, 8);
  static const char* const kNames[32] = {"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "?", "TS",
                                         "NP", "SS", "GP", "PF", "?", "MF", "AC"};
  const char* name = v < 32 && kNames[v] ? kNames[v] : "?";
  if (v == 14)
    std::snprintf(buf, sizeof buf, "#PF(%llx) cr2=%llx", (unsigned long long)code, (unsigned long long)o.cr2);
  else if (error)
    std::snprintf(buf, sizeof buf, "#%s(%llx)", name, (unsigned long long)code);
  else
    std::snprintf(buf, sizeof buf, "#%s", name);
  return buf;
}

}  // namespace

int main() {
  Kvm64 kvm;
  if (!kvm.setup()) return skip("kvm_priority64", kvm.why_not);
  add_regions(kvm.image);
  unsigned differ = 0, emulated = 0, n = 0;
  std::set<std::string> pairs;
  std::printf("%-22s %-52s %-34s %-34s %s\n", "pair", "case", "silicon", "vtlab", "");
  for (const Case& k : cases()) {
    State in{};
    in.gpr[kRsp] = kStack;
    in.gpr[3] = kData;  // RBX
    for (const auto& [reg, v] : k.regs) in.gpr[reg] = v;
    in.flags = flag::IF | (k.ac ? flag::AC : 0);
    std::vector<uint8_t> code = k.code;
    code.insert(code.end(), {0x0F, 0x0B});  // UD2
    Outcome hw{}, emu{};
    if (kvm.run_case(code, in, hw, k.cr3) == Kvm64::Failed) return skip("kvm_priority64", kvm.why_not);
    // Beyond the handler's HLT: the CPU faulted and this host's KVM ran the
    // instruction again through its emulator, whose outcome is not the
    // silicon's (no #AC; the canonical check on the first byte only).
    const bool by_emulator = hw.emulated > 1;
    const bool halted = run_interpreter(kvm.image, code, in, emu, k.cr3);
    const bool ok = halted && same(hw, emu);
    differ += !ok && !by_emulator;
    emulated += by_emulator;
    pairs.insert(k.pair);
    ++n;
    std::printf("%-22s %-52s %-34s %-34s %-7s %s\n", k.pair, k.name.c_str(), describe(hw).c_str(),
                halted ? describe(emu).c_str() : "(did not halt)", ok ? "same" : "DIFFERS",
                by_emulator ? "KVM's emulator" : "");
  }
  // The summary line scripts/fuzz reads from kvm_diff and kvm_diff64 too.
  std::printf("kvm_priority64: %u cases, %zu forms, %u unexplained mismatches (%u run by KVM's emulator)\n", n,
              pairs.size(), differ, emulated);
  return differ ? 1 : 0;
}
