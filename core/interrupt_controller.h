// What the CPU's INTR pin sees.  The CPU asks at instruction boundaries
// when it could take a maskable interrupt (EFLAGS.IF=1, no interrupt
// shadow) and, if one is pending, acknowledges it (the INTA cycle), which
// hands over the vector and moves the interrupt in service.
//
// The local APIC implements this for the CPU and forwards the 8259A's
// INTR (ExtINT through LINT0) as hardware does; tests may plug a PIC in
// directly.
#pragma once

#include <cstdint>
#include <functional>

namespace vtlab {

class InterruptController {
 public:
  virtual ~InterruptController() = default;
  // A maskable interrupt waits for the CPU.
  virtual bool intr_pending() = 0;
  // The CPU takes it: returns its vector.  Only called right after
  // intr_pending() returned true.
  virtual uint8_t acknowledge() = 0;
};

// How a device tells the CPU "my interrupt output may have changed: look
// again at the next instruction boundary".  The machine wires it to the
// engine; unit tests count calls.
using IntrChanged = std::function<void()>;

}  // namespace vtlab
