// Reading a guest image (kernel, flat binary, ROM) from the host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vtlab {

// Images are held in host memory whole; anything bigger than this cannot be
// a sensible guest image (guest RAM is at most 3 GiB) and is refused early.
inline constexpr uint64_t kMaxImageSize = uint64_t{1} << 30;

// The whole file.  Throws LoadError "PATH: cannot open: <strerror>",
// "PATH: is a directory", "PATH: empty file" or "PATH: too large ...".
std::vector<uint8_t> read_file(const std::string& path);

}  // namespace vtlab
