// The exit record every mode shares: reason names, the cost model as data,
// counting per reason and sub-key, and the Monitor seam as the engine uses
// it (a test monitor that emulates what traps).
#include "core/exits.h"

#include <gtest/gtest.h>

#include <vector>

#include "privilege/monitor.h"
#include "support/cpu_harness.h"

namespace vtlab::test {
namespace {

TEST(ExitReasons, EveryReasonHasADistinctNameThatReadsBack) {
  for (size_t i = 0; i < kExitReasons; ++i) {
    const auto r = static_cast<ExitReason>(i);
    EXPECT_EQ(exit_reason_from_name(exit_reason_name(r)), r);
  }
  EXPECT_EQ(exit_reason_name(ExitReason::PrivilegedInsn), "privileged-insn");
  EXPECT_EQ(exit_reason_name(ExitReason::ExternalInterrupt), "external-interrupt");
  EXPECT_FALSE(exit_reason_from_name("vmexit").has_value());
}

TEST(CostModelTest, DefaultsAndJsonOverrides) {
  CostModel m;
  EXPECT_EQ(m.cycles(ExitReason::Io), 2000u);
  EXPECT_EQ(m.cycles(ExitReason::BtCallout), 200u);
  m.load_json(R"({"io": 1234, "hlt": 0})");
  EXPECT_EQ(m.cycles(ExitReason::Io), 1234u);
  EXPECT_EQ(m.cycles(ExitReason::Hlt), 0u);
  EXPECT_EQ(m.cycles(ExitReason::Cpuid), 1000u);  // untouched
}

TEST(CostModelTest, BadFilesAreOneLineErrorsAndChangeNothing) {
  CostModel m;
  const auto message = [&](const char* text) {
    try {
      m.load_json(text);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(R"({"io": 5, "warp": 1})"), "unknown exit reason \"warp\" (see docs/EXITS.md)");
  EXPECT_EQ(message(R"({"io": -5})"), "\"io\": cycles must be a non-negative integer");
  EXPECT_EQ(message(R"({"io": 1.5})"), "\"io\": cycles must be a non-negative integer");
  EXPECT_EQ(message(R"([1, 2])"), "a cost model is a JSON object of reason: cycles");
  EXPECT_EQ(message("{").rfind("not JSON: ", 0), 0u);
  EXPECT_EQ(m.cycles(ExitReason::Io), 2000u);  // the half-good file changed nothing
}

TEST(ExitLogTest, CountsPerReasonAndKeyChargesCostsAndFeedsTheSink) {
  CostModel costs;
  costs.set(ExitReason::Io, 100);
  ExitLog log(costs);
  std::vector<ExitRecord> seen;
  log.set_sink([&](const ExitRecord& r) { seen.push_back(r); });
  EXPECT_EQ(log.record({ExitReason::Io, 0x3F8, 0x1000, 1, 50, 0}), 100u);
  log.record({ExitReason::Io, 0x3F8, 0x1004, 1, 60, 0});
  log.record({ExitReason::Io, 0x80, 0x1008, 1, 70, 0});
  log.record({ExitReason::Hlt, 0, 0x100C, 1, 80, 0});
  EXPECT_EQ(log.total(), 4u);
  EXPECT_EQ(log.total_cycles(), 300u + 1000u);
  EXPECT_EQ(log.count(ExitReason::Io).count, 3u);
  EXPECT_EQ(log.count(ExitReason::Io).cycles, 300u);
  EXPECT_EQ(log.count(ExitReason::Io).by_key.at(0x3F8), 2u);
  EXPECT_EQ(log.count(ExitReason::Io).by_key.at(0x80), 1u);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].rip, 0x1004u);
  EXPECT_EQ(seen[1].cost, 100u);
  EXPECT_EQ(seen[3].reason, ExitReason::Hlt);
}

TEST(ExitLogTest, AGuestCannotGrowTheKeyTableWithoutBound) {
  ExitLog log;
  for (uint32_t msr = 0; msr < ExitLog::kMaxKeys + 100; ++msr) log.record({ExitReason::MsrRead, msr, 0, 0, 0, 0});
  const auto& c = log.count(ExitReason::MsrRead);
  EXPECT_EQ(c.count, ExitLog::kMaxKeys + 100);
  EXPECT_EQ(c.by_key.size(), ExitLog::kMaxKeys + 1);
  EXPECT_EQ(c.by_key.at(ExitLog::kOtherKey), 100u);
}

// A monitor that emulates UD2 as a one-byte-longer NOP (as a trap monitor
// emulates a privileged instruction) and lets everything else through.
class Ud2Emulator : public Monitor {
 public:
  std::string_view name() const override { return "ud2-emulator"; }
  Action on_event(Cpu& cpu, const PendingEvent& ev, uint64_t) override {
    ++events;
    if (ev.kind != PendingEvent::Kind::Fault || ev.vector != vec::UD) return Action::Deliver;
    exit(cpu, ExitReason::PrivilegedInsn, 0x0B0F);
    cpu.s.rip += 2;  // the emulated instruction retires
    ++cpu.icount;
    return Action::Handled;
  }
  int events = 0;
};

TEST(MonitorSeam, AHandledEventIsAnExitAndTheGuestCarriesOn) {
  CpuHarness h;
  ExitLog log;
  Ud2Emulator m;
  m.attach(log);
  h.engine.set_monitor(&m);
  h.load_asm("mov eax, 1\nud2\ninc eax\nud2\ninc eax\ncli\nhlt\n");
  EXPECT_EQ(h.run(100'000), StopReason::Halted);
  EXPECT_EQ(h.reg32(RAX), 3u);
  EXPECT_EQ(m.events, 2);
  EXPECT_EQ(log.count(ExitReason::PrivilegedInsn).count, 2u);
  EXPECT_EQ(log.count(ExitReason::PrivilegedInsn).by_key.at(0x0B0F), 2u);
  // Seven instructions retired, no event delivered, two exits' modelled
  // cost in virtual time.
  EXPECT_EQ(h.cpu.icount, 7u);
  EXPECT_EQ(h.cpu.events, 0u);
  EXPECT_EQ(h.cpu.virtual_time(), 7u + 2 * 2000u);
}

// What the monitor lets through is delivered as hardware would deliver it.
TEST(MonitorSeam, DeliveredEventsTakeTheirHardwareCourse) {
  CpuHarness h(16);
  Ud2Emulator m;
  h.engine.set_monitor(&m);
  h.write32(3 * 4, 0x3000);  // IVT: INT3 -> 0000:3000, where BX is set
  const auto handler = assemble("mov bx, 0x1234\ncli\nhlt", 16, 0x3000);
  h.mem.write_bytes(0x3000, handler.data(), handler.size());
  h.load_asm("mov sp, 0x8000\nint3\n");
  EXPECT_EQ(h.run(100), StopReason::Halted);
  EXPECT_EQ(m.events, 1);
  EXPECT_EQ(h.reg32(RBX) & 0xFFFF, 0x1234u);
  EXPECT_EQ(h.cpu.events, 1u);
}

}  // namespace
}  // namespace vtlab::test
