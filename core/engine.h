// How guest instructions get executed: the seam between the machine and an
// execution method (the interpreter today; KVM later).  As small as
// Dolphin's CPUCoreBase: run, step, flush, name.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/cpu.h"

namespace vtlab {

class Engine {
 public:
  virtual ~Engine() = default;
  // Runs until the machine must stop or `max_insns` more instructions have
  // retired (BudgetExhausted).
  virtual StopReason run(uint64_t max_insns) = 0;
  // Exactly one instruction (or one event delivery); StopReason::None when
  // the machine may go on.
  virtual StopReason step() = 0;
  // Drops every cached translation or decoded block.
  virtual void flush() = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace vtlab
