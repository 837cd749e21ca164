// TCP on the loopback interface for the gdb stub: listen on
// 127.0.0.1:PORT (never another interface: whoever connects controls the
// guest), accept one gdb, and move bytes with a timeout so the stub can
// look for Ctrl-C while the guest runs.  POSIX sockets and poll().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "debugger/gdb_stub.h"

namespace vtlab::gdb {

class TcpListener {
 public:
  // Port 0 lets the kernel pick a free one (port() says which).  Throws
  // std::runtime_error with a one-line message when the port is taken.
  explicit TcpListener(uint16_t port);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  uint16_t port() const { return port_; }
  // Blocks until gdb connects; returns the connected socket.
  int accept_one();

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(int fd) : fd_(fd) {}
  ~SocketTransport() override;
  SocketTransport(const SocketTransport&) = delete;
  SocketTransport& operator=(const SocketTransport&) = delete;
  int read_byte(int timeout_ms) override;
  bool write(std::string_view bytes) override;

 private:
  int fd_;
  uint8_t buf_[4096];
  size_t have_ = 0, at_ = 0;
};

}  // namespace vtlab::gdb
