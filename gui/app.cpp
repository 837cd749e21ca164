#include "gui/app.h"

// glad before GLFW, so GLFW does not pull in the system's GL header.
#include <glad/gl.h>
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/loader/load_error.h"
#include "gui/panels.h"
#include "gui/png_writer.h"
#include "gui/state_dump.h"

namespace vtlab::gui {

namespace {

std::string g_glfw_error;
void on_glfw_error(int, const char* text) { g_glfw_error = text; }

// A panel's place as fractions of the window: x, y, width, height.
struct Tile {
  const char* title;
  float x, y, w, h;
  void (*draw)(GuiState&);
};
// Three columns: the CPU (left), code and memory (middle), the tables,
// paging and the monitor (right).
const Tile kTiles[] = {
    {"Run", 0.00f, 0.00f, 0.33f, 0.12f, draw_controls},
    {"Registers", 0.00f, 0.12f, 0.33f, 0.25f, draw_registers},
    {"Control registers", 0.00f, 0.37f, 0.33f, 0.25f, draw_control_regs},
    {"Segments", 0.00f, 0.62f, 0.33f, 0.38f, draw_segments},
    {"Disassembly", 0.33f, 0.00f, 0.33f, 0.45f, draw_disassembly},
    {"Memory", 0.33f, 0.45f, 0.33f, 0.30f, draw_memory},
    {"Console", 0.33f, 0.75f, 0.33f, 0.12f, draw_console},
    {"Faults", 0.33f, 0.87f, 0.33f, 0.13f, draw_faults},
    {"Descriptor tables", 0.66f, 0.00f, 0.34f, 0.30f, draw_tables},
    {"Paging", 0.66f, 0.30f, 0.34f, 0.38f, draw_paging},
    {"Monitor", 0.66f, 0.68f, 0.34f, 0.32f, draw_exits},
};

}  // namespace

App::~App() {
  if (imgui_ready_) {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
  }
  if (window_) glfwDestroyWindow(window_);
  glfwTerminate();
}

bool App::open() {
  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) {
    error_ = "no display (" + g_glfw_error + "): set DISPLAY, or run under xvfb-run";
    return false;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  const std::string title = "vtlab gui: " + o_.title;
  window_ = glfwCreateWindow(o_.width, o_.height, title.c_str(), nullptr, nullptr);
  if (!window_) {
    error_ = "no OpenGL 3.3 core context (" + g_glfw_error + ")";
    return false;
  }
  glfwMakeContextCurrent(window_);
  glfwSwapInterval(1);
  if (!gladLoadGL(glfwGetProcAddress)) {
    error_ = "could not load the OpenGL 3.3 functions";
    return false;
  }
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the layout comes from the window size, not a file
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window_, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  imgui_ready_ = true;
  return true;
}

void App::layout() {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  const ImGuiCond cond = st_.reset_layout ? ImGuiCond_Always : ImGuiCond_FirstUseEver;
  for (const Tile& t : kTiles) {
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + t.x * vp->WorkSize.x, vp->WorkPos.y + t.y * vp->WorkSize.y), cond);
    ImGui::SetNextWindowSize(ImVec2(t.w * vp->WorkSize.x, t.h * vp->WorkSize.y), cond);
    if (ImGui::Begin(t.title)) t.draw(st_);
    ImGui::End();
  }
  // Compare modes: a window of its own over the middle and right
  // columns, opened from the Run panel (or a script's `gui compare`).
  if (st_.compare_open) {
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + 0.33f * vp->WorkSize.x, vp->WorkPos.y + 0.05f * vp->WorkSize.y),
                            cond == ImGuiCond_Always ? ImGuiCond_Always : ImGuiCond_Appearing);
    ImGui::SetNextWindowSize(ImVec2(0.64f * vp->WorkSize.x, 0.8f * vp->WorkSize.y), ImGuiCond_Appearing);
    ImGui::SetNextWindowBgAlpha(1.0f);  // over the other panels: nothing of them shows through
    if (ImGui::Begin("Compare modes", &st_.compare_open)) draw_compare(st_);
    ImGui::End();
  }
  st_.reset_layout = false;
}

void App::frame() {
  st_.compare->step();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  layout();
  ImGui::Render();
  int w = 0, h = 0;
  glfwGetFramebufferSize(window_, &w, &h);
  glViewport(0, 0, w, h);
  glClearColor(0.08f, 0.08f, 0.10f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

void App::run() {
  while (!glfwWindowShouldClose(window_)) {
    // Poll while the guest runs; otherwise sleep until the user acts.
    if (st_.running || st_.compare->running()) glfwPollEvents();
    else glfwWaitEventsTimeout(0.25);
    frame();
    glfwSwapBuffers(window_);
    st_.tab_requests.clear();
  }
}

bool App::gui_command(const std::vector<std::string>& words) {
  const auto copy = [](char* dst, size_t size, const std::string& src) {
    const size_t n = std::min(size - 1, src.size());
    src.copy(dst, n);
    dst[n] = 0;
  };
  const std::string& what = words.size() > 1 ? words[1] : "";
  if (what == "tab" && words.size() >= 3) {  // one name, spaces allowed
    std::string name = words[2];
    for (size_t i = 3; i < words.size(); ++i) name += " " + words[i];
    st_.tab_requests.push_back(name);
  } else if (what == "tabs" && words.size() >= 3) {
    st_.tab_requests.insert(st_.tab_requests.end(), words.begin() + 2, words.end());
  } else if (what == "walk" && words.size() >= 3 && parse_hex(words[2].c_str())) {
    copy(st_.walk_addr, sizeof st_.walk_addr, words[2]);
    st_.walk_access = 0;
    st_.walk_user = false;
    for (size_t i = 3; i < words.size(); ++i) {
      if (words[i] == "w") st_.walk_access = 1;
      else if (words[i] == "x") st_.walk_access = 2;
      else if (words[i] == "user") st_.walk_user = true;
      else return false;
    }
  } else if (what == "mem" && words.size() >= 3 && parse_hex(words[2].c_str())) {
    copy(st_.memory_addr, sizeof st_.memory_addr, words[2]);
    st_.memory_physical = words.size() > 3 && words[3] == "phys";
  } else if (what == "tables" && words.size() == 3 && (words[2] == "guest" || words[2] == "real")) {
    st_.show_real_tables = words[2] == "real";
  } else if (what == "compare") {  // the modes named (all offered if none), run to their end
    st_.compare_open = true;
    if (!st_.compare->start(std::vector<std::string>(words.begin() + 2, words.end()))) return false;
    st_.compare->finish();
    const std::vector<CompareRow>& rows = st_.compare->rows();
    return std::none_of(rows.begin(), rows.end(), [](const CompareRow& r) { return !r.error.empty(); });
  } else if (what == "mode" && words.size() == 3) {
    st_.restart(words[2]);
    return st_.load_error.empty() && st_.mode == words[2];
  } else {
    return false;
  }
  return true;
}

bool App::run_script(const std::vector<std::string>& lines) {
  bool ok = true;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty() || words[0][0] == '#') continue;
    if (words[0] == "gui") {
      if (!gui_command(words)) {
        std::cerr << "vtlab gui: script: cannot do \"" << line << "\"\n";
        ok = false;
      }
      continue;
    }
    const unsigned errors = st_.target->errors();
    st_.run_command(line);
    if (st_.target->errors() != errors) {
      std::cerr << "vtlab gui: script: \"" << line << "\" failed\n";
      ok = false;
    }
  }
  return ok;
}

bool App::screenshot(const std::string& path, int frames) {
  // Window sizes and tab selections settle over the first frames.
  for (int i = 0; i < frames; ++i) {
    glfwPollEvents();
    frame();
    if (i + 1 < frames) glfwSwapBuffers(window_);
  }
  int w = 0, h = 0;
  glfwGetFramebufferSize(window_, &w, &h);
  std::vector<uint8_t> pixels(static_cast<size_t>(w) * h * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  glfwSwapBuffers(window_);
  // GL's rows run bottom-up, PNG's top-down.
  std::vector<uint8_t> flipped(pixels.size());
  const size_t row = static_cast<size_t>(w) * 4;
  for (int y = 0; y < h; ++y) std::copy_n(pixels.data() + (h - 1 - y) * row, row, flipped.data() + y * row);
  std::string err;
  if (!write_png(path, static_cast<unsigned>(w), static_cast<unsigned>(h), flipped, err)) {
    std::cerr << "vtlab gui: " << err << "\n";
    return false;
  }
  return true;
}

int run_gui(const GuiOptions& o, const TargetFactory& power_on, const MachineFactory& compare_power_on) {
  GuiState st;
  st.power_on = power_on;
  st.compare = std::make_unique<CompareRuns>(compare_power_on, o.compare_modes, o.budget);
  st.title = o.title;
  st.mode = o.mode;
  st.target = power_on(o.mode);
  st.snapshot_before();
  st.status = "powered on in " + o.mode + " mode";

  std::vector<std::string> script;
  if (!o.script.empty()) {
    std::ifstream f(o.script);
    if (!f) throw LoadError(o.script + ": cannot open");
    for (std::string line; std::getline(f, line);) script.push_back(line);
  }
  App app(o, st);
  if (!app.open()) {
    std::cerr << "vtlab gui: " << app.error() << "\n";
    return kGuiNoDisplay;
  }
  const bool headless = !o.script.empty() || !o.screenshot.empty() || !o.dump_state.empty();
  if (!headless) {
    app.run();
    return kGuiOk;
  }
  const bool script_ok = app.run_script(script);
  int status = script_ok ? kGuiOk : kGuiScriptError;
  if (!o.screenshot.empty() && !app.screenshot(o.screenshot, 4)) status = kGuiBadInput;
  if (o.screenshot.empty()) app.frame();
  if (!o.dump_state.empty()) {
    std::ofstream f(o.dump_state);
    f << dump_state(st);
    if (!f) {
      std::cerr << "vtlab gui: " << o.dump_state << ": cannot write\n";
      status = kGuiBadInput;
    }
  }
  return status;
}

}  // namespace vtlab::gui
