// Writes an RGBA image as a PNG file with libpng (the window's
// screenshots: --screenshot, scripts/screenshots).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vtlab::gui {

// `rgba` holds height rows of width * 4 bytes, top row first.  False (and
// `error` set) when the file cannot be written.
bool write_png(const std::string& path, unsigned width, unsigned height, const std::vector<uint8_t>& rgba,
               std::string& error);

}  // namespace vtlab::gui
