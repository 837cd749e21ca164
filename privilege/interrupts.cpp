// PLACEHOLDER until the delivery code lands in this session: stops the
// machine naming the event instead of delivering it.
#include "privilege/interrupts.h"

#include <fmt/format.h>

namespace vtlab {

const char* vector_name(uint8_t v) {
  static const char* names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#09",
                                "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM"};
  return v < 20 ? names[v] : "INT";
}

void deliver_event(Cpu& cpu, const PendingEvent& ev, uint64_t) {
  cpu.request_stop(StopReason::Unsupported, fmt::format("cannot deliver {} yet", vector_name(ev.vector)));
}

}  // namespace vtlab
