// --dump-state: the values the panels show, as text, one item a line, so
// a test can assert exactly what a student sees (registers with the ones
// the last step changed marked "*", control registers with their named
// bits, segments, the walk for the typed address, table, TLB and exit
// counts, the breakpoints, the serial output so far).
#pragma once

#include <string>

#include "gui/state.h"

namespace vtlab::gui {

std::string dump_state(GuiState& st);

}  // namespace vtlab::gui
