// The GUI's panels, one function (and one file) each, drawn every frame
// from the debugger's views; and the colours they share.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

#include "debugger/views.h"
#include "gui/state.h"

namespace vtlab::gui {

// Colours with a meaning, the same in every panel.
inline const ImVec4 kChanged{1.0f, 0.85f, 0.25f, 1.0f};  // changed by the last step
inline const ImVec4 kSet{0.45f, 0.9f, 0.45f, 1.0f};      // a flag or bit that is set
inline const ImVec4 kClear{0.45f, 0.45f, 0.5f, 1.0f};    // ... that is clear
inline const ImVec4 kFault{1.0f, 0.4f, 0.35f, 1.0f};     // faults, not-present, NX
inline const ImVec4 kUser{0.5f, 0.75f, 1.0f, 1.0f};      // user pages
inline const ImVec4 kHere{0.35f, 0.55f, 1.0f, 0.45f};    // the instruction at RIP

// Named bits in a row, set ones lit; `wrap` breaks the row at the
// window's edge (not in table cells, which size to their content).
void draw_bits(const std::vector<NamedBit>& bits, bool wrap = true);
// A tab that a script can select by name (`gui tab NAME`).
bool begin_tab(GuiState& st, const char* name);
// Whose tables a panel shows (debugger/system_views.h), with the toggle to
// the real CPU's when the monitor keeps shadow ones.
void draw_shadow_toggle(GuiState& st, bool shadow_exists, const char* whose);

void draw_controls(GuiState& st);
void draw_registers(GuiState& st);
void draw_segments(GuiState& st);
void draw_control_regs(GuiState& st);
void draw_disassembly(GuiState& st);
void draw_memory(GuiState& st);
void draw_tables(GuiState& st);  // GDT, IDT, LDT, TSS
void draw_paging(GuiState& st);  // the walk, the page-table tree, the TLB
void draw_exits(GuiState& st);   // counters, timeline, log, holes
void draw_console(GuiState& st); // commands and the serial console
void draw_compare(GuiState& st);  // the same guest in several modes, side by side
void draw_faults(GuiState& st);   // the fault chain, the last #DF, the last segment check refused

// The page-table tree (panel_page_tree.cpp), under draw_paging.
void draw_page_tree(GuiState& st);
void draw_tlb(GuiState& st);

}  // namespace vtlab::gui
