#!/usr/bin/env bash
# Installs the Debian 12 packages vtlab needs to build and test, if missing.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache gcc g++ binutils libzydis-dev libgtest-dev googletest
      libcli11-dev libfmt-dev nlohmann-json3-dev)
# The GUI (vtlab gui; CMake turns it off when these are missing): Dear ImGui
# with its backends, GLFW, glad to generate the GL loader, libpng for
# screenshots; Xvfb and Mesa's software GL run it headless in the tests.
pkgs+=(libimgui-dev libglfw3-dev python3-glad libgl-dev libpng-dev xvfb xauth libgl1-mesa-dri)
# clang and its runtimes (libFuzzer, ASan, UBSan) build the fuzz smoke; gdb drives the
# gdb stub's end-to-end test.
if [ "${1:-}" = "--test" ]; then pkgs+=(qemu-system-x86 clang libclang-rt-14-dev gdb); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "vtlab: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
