#include "support/assemble.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>

namespace vtlab::test {

namespace {
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + cmd);
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error(cmd + " failed:\n" + out);
  return out;
}
}  // namespace

std::vector<uint8_t> assemble(const std::string& source, unsigned bits, uint64_t origin) {
  static std::map<std::string, std::vector<uint8_t>> cache;
  const std::string key = std::to_string(bits) + ":" + std::to_string(origin) + ":" + source;
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  char dir[] = "/tmp/vtlab-asm-XXXXXX";
  if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
  const std::string d = dir;
  {
    std::ofstream f(d + "/s.S");
    f << ".intel_syntax noprefix\n.code" << bits << "\n" << source << "\n";
  }
  std::ostringstream ld;
  const bool wide = bits == 64;
  run(std::string(wide ? "as --64" : "as --32") + " -o " + d + "/s.o " + d + "/s.S");
  ld << (wide ? "ld -m elf_x86_64" : "ld -m elf_i386") << " -Ttext=0x" << std::hex << origin << " --oformat binary -e 0 -o " << d << "/s.bin " << d
     << "/s.o";
  run(ld.str());
  std::ifstream in(d + "/s.bin", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  run("rm -rf " + d);
  cache[key] = bytes;
  return bytes;
}

}  // namespace vtlab::test
