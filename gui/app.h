// The GUI application: a GLFW window with an OpenGL 3.3 core context
// (glad loads it), Dear ImGui's GLFW and OpenGL3 backends, the panels
// tiled from the window's size, and the headless path: run a script,
// draw a few frames, save a screenshot and the state dump, exit.
#pragma once

#include <string>
#include <vector>

#include "gui/gui.h"
#include "gui/state.h"

struct GLFWwindow;

namespace vtlab::gui {

class App {
 public:
  App(const GuiOptions& o, GuiState& st) : o_(o), st_(st) {}
  ~App();
  // False, with error() set, when no window or GL context can be had.
  bool open();
  const std::string& error() const { return error_; }
  // The interactive loop, until the window closes.
  void run();
  // Runs the script's lines; false when one failed.
  bool run_script(const std::vector<std::string>& lines);
  // Draws `frames` frames and saves the last one as a PNG.
  bool screenshot(const std::string& path, int frames);
  void frame();

 private:
  // One of the script's own commands (`gui ...`, docs/GUI.md).
  bool gui_command(const std::vector<std::string>& words);
  void layout();

  const GuiOptions& o_;
  GuiState& st_;
  GLFWwindow* window_ = nullptr;
  bool imgui_ready_ = false;
  std::string error_;
};

}  // namespace vtlab::gui
