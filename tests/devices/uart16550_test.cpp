#include "devices/uart16550.h"

#include <gtest/gtest.h>

#include <string>

namespace vtlab {
namespace {

constexpr uint64_t kCom1 = 0x3F8;
using U = Uart16550;

// The UART as a guest sees it: on an I/O bus at COM1, byte-wide IN/OUT.
class Uart16550Test : public ::testing::Test {
 protected:
  Uart16550Test() : uart([this](uint8_t b) { sent.push_back(static_cast<char>(b)); }) {
    EXPECT_TRUE(io.insert(kCom1, U::kPorts, &uart));
  }
  uint8_t in(unsigned reg) { return static_cast<uint8_t>(io.read(kCom1 + reg, 1)); }
  void out(unsigned reg, uint8_t v) { io.write(kCom1 + reg, 1, v); }
  void receive(const std::string& s) {
    for (char c : s) uart.receive(static_cast<uint8_t>(c));
  }
  void expect_power_on_state() {
    EXPECT_EQ(in(U::IER), 0x00);
    EXPECT_EQ(in(U::IIR_FCR), 0x01);
    EXPECT_EQ(in(U::LCR), 0x00);
    EXPECT_EQ(in(U::MCR), 0x00);
    EXPECT_EQ(in(U::LSR), 0x60);  // THRE | TEMT: transmit is instant
    EXPECT_EQ(in(U::MSR), 0xB0);  // CTS | DSR | DCD from the "attached terminal"
    EXPECT_EQ(in(U::SCR), 0x00);
    EXPECT_FALSE(uart.irq_line());
    EXPECT_EQ(uart.divisor(), 0);
    EXPECT_EQ(uart.rx_pending(), 0u);
  }

  std::string sent;
  Uart16550 uart;
  IoBus io{"io"};
};

TEST_F(Uart16550Test, PowerOnState) { expect_power_on_state(); }

TEST_F(Uart16550Test, ScratchRegisterRoundTrips) {
  out(U::SCR, 0x55);
  EXPECT_EQ(in(U::SCR), 0x55);
  out(U::SCR, 0xAA);
  EXPECT_EQ(in(U::SCR), 0xAA);
}

TEST_F(Uart16550Test, DivisorLatchRoundTripsBehindDlab) {
  out(U::IER, 0x05);
  out(U::LCR, 0x80);
  EXPECT_EQ(in(U::RBR_THR), 0x00);
  EXPECT_EQ(in(U::IER), 0x00);
  out(U::RBR_THR, 0x0C);  // 9600 baud from 1.8432 MHz
  out(U::IER, 0x01);
  EXPECT_EQ(in(U::RBR_THR), 0x0C);
  EXPECT_EQ(in(U::IER), 0x01);
  EXPECT_EQ(uart.divisor(), 0x010C);
  EXPECT_EQ(sent, "");  // a DLL write is not a transmission
  out(U::LCR, 0x03);    // 8N1, DLAB off
  EXPECT_EQ(in(U::LCR), 0x03);
  EXPECT_EQ(in(U::IER), 0x05);  // IER was untouched by the DLM write
  out(U::LCR, 0x83);
  EXPECT_EQ(in(U::RBR_THR), 0x0C);
  EXPECT_EQ(in(U::IER), 0x01);
}

TEST_F(Uart16550Test, TransmitCallsTheCallbackInOrder) {
  for (char c : std::string("Hi\n")) out(U::RBR_THR, static_cast<uint8_t>(c));
  EXPECT_EQ(sent, "Hi\n");
  EXPECT_EQ(in(U::LSR), 0x60);
}

TEST_F(Uart16550Test, ReceiveSetsDataReadyUntilRead) {
  uart.receive('a');
  EXPECT_EQ(in(U::LSR), 0x61);
  EXPECT_EQ(in(U::LSR), 0x61);  // DR is not cleared by reading LSR
  EXPECT_EQ(in(U::RBR_THR), 'a');
  EXPECT_EQ(in(U::LSR), 0x60);
  EXPECT_EQ(in(U::RBR_THR), 'a');  // empty: the holding register keeps its byte
}

TEST_F(Uart16550Test, OverrunWithoutFifoReplacesTheUnreadByte) {
  EXPECT_EQ(uart.rx_space(), 1u);
  receive("ab");
  EXPECT_EQ(uart.rx_space(), 0u);
  EXPECT_EQ(in(U::LSR), 0x63);  // DR | OE
  EXPECT_EQ(in(U::LSR), 0x61);  // OE cleared by the read
  EXPECT_EQ(in(U::RBR_THR), 'b');
  EXPECT_EQ(in(U::LSR), 0x60);
}

TEST_F(Uart16550Test, FifoHoldsSixteenBytesAndLosesTheSeventeenth) {
  out(U::IIR_FCR, 0x01);
  EXPECT_EQ(in(U::IIR_FCR), 0xC1);
  EXPECT_EQ(uart.rx_space(), 16u);
  receive("0123456789abcdefX");
  EXPECT_EQ(uart.rx_pending(), 16u);
  EXPECT_EQ(in(U::LSR), 0x63);
  std::string got;
  while (in(U::LSR) & 0x01) got += static_cast<char>(in(U::RBR_THR));
  EXPECT_EQ(got, "0123456789abcdef");
  EXPECT_EQ(in(U::LSR), 0x60);
}

TEST_F(Uart16550Test, FcrClearsAndOnlyProgramsWithFifoEnable) {
  out(U::IIR_FCR, 0x01);
  receive("xyz");
  out(U::IIR_FCR, 0x03);  // clear RX FIFO; the bit self-clears
  EXPECT_EQ(uart.rx_pending(), 0u);
  EXPECT_EQ(in(U::LSR), 0x60);
  EXPECT_EQ(in(U::IIR_FCR), 0xC1);
  receive("q");
  out(U::IIR_FCR, 0xC2);  // FCR0 = 0: disables the FIFO, trigger bits ignored
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
  EXPECT_EQ(uart.rx_pending(), 0u);  // leaving FIFO mode emptied it
  receive("r");
  out(U::IIR_FCR, 0x01);  // entering FIFO mode empties it too
  EXPECT_EQ(uart.rx_pending(), 0u);
}

TEST_F(Uart16550Test, UnimplementedBitsReadAsZero) {
  out(U::IER, 0xFF);
  EXPECT_EQ(in(U::IER), 0x0F);
  out(U::MCR, 0xFF);
  EXPECT_EQ(in(U::MCR), 0x1F);
  out(U::LSR, 0x00);  // writes to LSR/MSR are ignored
  out(U::MSR, 0x00);
  EXPECT_EQ(in(U::LSR) & 0x60, 0x60);
}

TEST_F(Uart16550Test, RxInterruptFollowsData) {
  out(U::IER, 0x01);
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
  EXPECT_FALSE(uart.irq_line());
  uart.receive('k');
  EXPECT_TRUE(uart.irq_line());
  EXPECT_EQ(in(U::IIR_FCR), 0x04);
  EXPECT_EQ(in(U::IIR_FCR), 0x04);  // reading IIR does not acknowledge RX data
  EXPECT_EQ(in(U::RBR_THR), 'k');
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
  EXPECT_FALSE(uart.irq_line());
}

TEST_F(Uart16550Test, ThreInterruptAcknowledgedByIirReadAndRearmedByThrWrite) {
  out(U::IER, 0x02);  // enabling with THR empty raises it at once
  EXPECT_TRUE(uart.irq_line());
  EXPECT_EQ(in(U::IIR_FCR), 0x02);
  EXPECT_FALSE(uart.irq_line());
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
  out(U::IER, 0x02);  // already enabled: no new edge
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
  out(U::RBR_THR, 'A');
  EXPECT_EQ(sent, "A");
  EXPECT_TRUE(uart.irq_line());
  EXPECT_EQ(in(U::IIR_FCR), 0x02);
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
}

TEST_F(Uart16550Test, ThreIsNotAcknowledgedWhileAHigherSourceIsReported) {
  out(U::IER, 0x03);
  uart.receive('x');
  EXPECT_EQ(in(U::IIR_FCR), 0x04);
  EXPECT_EQ(in(U::RBR_THR), 'x');
  EXPECT_EQ(in(U::IIR_FCR), 0x02);  // still pending
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
}

TEST_F(Uart16550Test, PriorityLineStatusThenRxThenThre) {
  out(U::IIR_FCR, 0x01);
  out(U::IER, 0x07);
  receive("0123456789abcdefX");  // overrun
  EXPECT_EQ(in(U::IIR_FCR), 0xC6);
  EXPECT_EQ(in(U::LSR), 0x63);  // acknowledges the line status interrupt
  EXPECT_EQ(in(U::IIR_FCR), 0xC4);
  while (in(U::LSR) & 0x01) in(U::RBR_THR);
  EXPECT_EQ(in(U::IIR_FCR), 0xC2);
  EXPECT_EQ(in(U::IIR_FCR), 0xC1);
  EXPECT_FALSE(uart.irq_line());
}

TEST_F(Uart16550Test, LineStatusInterruptNeedsItsEnableBit) {
  out(U::IER, 0x01);
  receive("ab");  // overrun in 16450 mode
  EXPECT_EQ(in(U::IIR_FCR), 0x04);
  out(U::IER, 0x05);
  EXPECT_EQ(in(U::IIR_FCR), 0x06);
}

TEST_F(Uart16550Test, BelowTriggerLevelReportsCharacterTimeout) {
  out(U::IIR_FCR, 0xC1);  // FIFO, trigger at 14 bytes
  out(U::IER, 0x01);
  uart.receive('1');
  EXPECT_EQ(in(U::IIR_FCR), 0xCC);
  receive("234567890123");
  EXPECT_EQ(in(U::IIR_FCR), 0xCC);  // 13 bytes
  uart.receive('4');
  EXPECT_EQ(in(U::IIR_FCR), 0xC4);  // 14: trigger reached
  in(U::RBR_THR);
  EXPECT_EQ(in(U::IIR_FCR), 0xCC);
  out(U::IIR_FCR, 0x41);  // trigger at 4 bytes
  EXPECT_EQ(in(U::IIR_FCR), 0xC4);
}

TEST_F(Uart16550Test, LoopbackEchoesWithoutTransmitting) {
  out(U::MCR, 0x10);
  EXPECT_TRUE(uart.loopback());
  out(U::RBR_THR, 'Z');
  EXPECT_EQ(sent, "");
  EXPECT_EQ(in(U::LSR), 0x61);
  EXPECT_EQ(in(U::RBR_THR), 'Z');
  EXPECT_EQ(in(U::LSR), 0x60);
  // The serial input is disconnected in loopback.
  EXPECT_EQ(uart.rx_space(), 0u);
  uart.receive('h');
  EXPECT_EQ(in(U::LSR), 0x60);
  out(U::MCR, 0x00);
  out(U::RBR_THR, 'Y');
  EXPECT_EQ(sent, "Y");
  EXPECT_EQ(in(U::LSR), 0x60);
}

TEST_F(Uart16550Test, LoopbackMsrMirrorsMcrWithDeltas) {
  out(U::MCR, 0x10);
  EXPECT_EQ(in(U::MSR), 0x0B);  // CTS, DSR, DCD dropped: DCTS | DDSR | DDCD
  EXPECT_EQ(in(U::MSR), 0x00);  // deltas cleared by the read
  out(U::MCR, 0x1F);
  EXPECT_EQ(in(U::MSR), 0xFB);  // RI rose: no TERI (trailing edge only)
  EXPECT_FALSE(uart.out2());    // outputs are forced inactive in loopback
  out(U::MCR, 0x1B);            // OUT1 off: RI falls
  EXPECT_EQ(in(U::MSR), 0xB4);
  out(U::MCR, 0x12);            // RTS only
  EXPECT_EQ(in(U::MSR), 0x1A);
  out(U::MCR, 0x09);            // leave loopback: the terminal is back
  EXPECT_EQ(in(U::MSR), 0xBA);  // DSR and DCD rose; CTS was already up
  EXPECT_TRUE(uart.out2());
}

TEST_F(Uart16550Test, ModemStatusInterrupt) {
  out(U::IER, 0x08);
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
  out(U::MCR, 0x10);
  EXPECT_TRUE(uart.irq_line());
  EXPECT_EQ(in(U::IIR_FCR), 0x00);
  EXPECT_EQ(in(U::MSR), 0x0B);
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
  EXPECT_FALSE(uart.irq_line());
}

TEST_F(Uart16550Test, LoopbackInterruptsStillWork) {
  out(U::MCR, 0x10);
  in(U::MSR);
  out(U::IER, 0x01);
  out(U::RBR_THR, '!');
  EXPECT_EQ(in(U::IIR_FCR), 0x04);
  EXPECT_EQ(in(U::RBR_THR), '!');
  EXPECT_EQ(in(U::IIR_FCR), 0x01);
}

TEST_F(Uart16550Test, WideAccessesSplitIntoByteRegisters) {
  out(U::LCR, 0x80);
  io.write(kCom1, 2, 0x0180);
  EXPECT_EQ(uart.divisor(), 0x0180);
  EXPECT_EQ(io.read(kCom1, 2), 0x0180u);
  out(U::LCR, 0x03);
  out(U::SCR, 0x5A);
  EXPECT_EQ(io.read(kCom1 + U::SCR, 2), 0xFF5Au);  // byte 2 is past the UART
  EXPECT_EQ(io.read(kCom1 + U::LCR, 4), 0xB0600003u);  // LCR, MCR, LSR, MSR
}

TEST_F(Uart16550Test, ResetRestoresPowerOnState) {
  out(U::LCR, 0x83);
  out(U::RBR_THR, 0x01);
  out(U::LCR, 0x03);
  out(U::IIR_FCR, 0x01);
  out(U::IER, 0x0F);
  out(U::MCR, 0x1F);
  out(U::SCR, 0x77);
  uart.receive('x');
  uart.reset();
  expect_power_on_state();
  out(U::RBR_THR, 'k');  // the tx callback survives a reset
  EXPECT_EQ(sent, "k");
}

// COM1 as Linux's 8250 driver drives it, with the board's IRQ 4 line
// recorded: '1' for each rise, '0' for each fall, in order.
class Uart16550IrqTest : public Uart16550Test {
 protected:
  Uart16550IrqTest() : wired([](uint8_t) {}, [this](bool level) { edges.push_back(level ? '1' : '0'); }) {
    EXPECT_TRUE(bus.insert(kCom1, U::kPorts, &wired));
  }
  uint8_t win(unsigned reg) { return static_cast<uint8_t>(bus.read(kCom1 + reg, 1)); }
  void wout(unsigned reg, uint8_t v) { bus.write(kCom1 + reg, 1, v); }

  std::string edges;
  Uart16550 wired;
  IoBus bus{"io"};
};

TEST_F(Uart16550IrqTest, TheBoardLineIsIntrGatedByOut2) {
  wout(U::IER, 0x02);  // THRE pending at once, but OUT2 is off
  EXPECT_TRUE(wired.irq_line());
  EXPECT_FALSE(wired.board_irq());
  EXPECT_EQ(edges, "");
  wout(U::MCR, 0x08);  // OUT2 opens the gate
  EXPECT_EQ(edges, "1");
  EXPECT_EQ(win(U::IIR_FCR), 0x02);  // acknowledges THRE: the line falls
  EXPECT_EQ(edges, "10");
  wout(U::RBR_THR, 'a');  // THR empties again at once: a new rising edge
  EXPECT_EQ(edges, "101");
  wout(U::MCR, 0x18);  // loopback forces OUT2 inactive
  EXPECT_EQ(edges, "1010");
  EXPECT_TRUE(wired.irq_line());
  wout(U::MCR, 0x08);
  EXPECT_EQ(edges, "10101");
  wout(U::IER, 0x00);
  EXPECT_EQ(edges, "101010");
}

TEST_F(Uart16550IrqTest, ReceivedBytesRaiseTheLineUntilRead) {
  wout(U::MCR, 0x0B);  // DTR | RTS | OUT2, as the driver's set_mctrl leaves it
  wout(U::IER, 0x05);  // RX data and line status
  wired.receive('x');
  EXPECT_EQ(edges, "1");
  EXPECT_EQ(win(U::IIR_FCR), 0x04);
  EXPECT_EQ(edges, "1");  // reading IIR does not acknowledge RX data
  EXPECT_EQ(win(U::RBR_THR), 'x');
  EXPECT_EQ(edges, "10");
  wired.receive('y');  // an overrun without FIFOs: line status outranks RX
  wired.receive('z');
  EXPECT_EQ(edges, "101");
  EXPECT_EQ(win(U::IIR_FCR), 0x06);
  EXPECT_EQ(win(U::LSR), 0x63);  // OE | DR, THRE | TEMT; the read clears OE
  EXPECT_EQ(win(U::IIR_FCR), 0x04);
  EXPECT_EQ(win(U::RBR_THR), 'z');
  EXPECT_EQ(edges, "1010");
}

// autoconfig() in Linux's drivers/tty/serial/8250/8250_port.c, step by
// step, with what each read must return for the driver to settle on
// PORT_16550A.
TEST_F(Uart16550IrqTest, LinuxAutoconfigFindsA16550A) {
  // The IER test: 0 reads back as 0, 0x0F as 0x0F.
  wout(U::IER, 0x00);
  EXPECT_EQ(win(U::IER) & 0x0F, 0x00);
  wout(U::IER, 0x0F);
  EXPECT_EQ(win(U::IER) & 0x0F, 0x0F);
  wout(U::IER, 0x00);
  // The loopback test: LOOP | OUT2 | RTS makes MSR's top nibble DCD | CTS.
  wout(U::MCR, 0x1A);
  EXPECT_EQ(win(U::MSR) & 0xF0, 0x90);
  wout(U::MCR, 0x00);
  // LCR 0xBF (the 16650 EFR window): offset 2 is still FCR on a 16550.
  wout(U::LCR, 0xBF);
  wout(U::IIR_FCR, 0x00);
  wout(U::LCR, 0x00);
  wout(U::IIR_FCR, 0x01);  // FIFO enable
  EXPECT_EQ(win(U::IIR_FCR) >> 6, 3);  // both FIFO bits: a 16550A
  // autoconfig_16550a: no EFR (offset 2 under LCR 0xBF reads IIR, not 0).
  wout(U::LCR, 0xBF);
  EXPECT_NE(win(U::IIR_FCR), 0x00);
  // Not a National SuperIO: LOOP does not show in "EXCR1" either way.
  wout(U::LCR, 0x00);
  const uint8_t mcr = win(U::MCR);
  wout(U::LCR, 0xE0);
  EXPECT_EQ((win(U::IIR_FCR) ^ mcr) & 0x10, 0);
  wout(U::MCR, mcr ^ 0x10);
  wout(U::LCR, 0xE0);
  EXPECT_EQ((win(U::IIR_FCR) ^ mcr) & 0x10, 0);
  wout(U::LCR, 0x00);
  wout(U::MCR, mcr);
  // Not a TI 16750: FCR bit 5 (64-byte FIFO) never shows in IIR bit 5.
  wout(U::IIR_FCR, 0x21);
  EXPECT_EQ(win(U::IIR_FCR) >> 5, 6);
  wout(U::IIR_FCR, 0x01);
  wout(U::LCR, 0x80);
  wout(U::IIR_FCR, 0x21);
  EXPECT_EQ(win(U::IIR_FCR) >> 5, 6);
  wout(U::LCR, 0x00);
  // Not an XScale: IER bit 6 (UUE) does not stick.
  wout(U::IER, 0x40);
  EXPECT_EQ(win(U::IER) & 0x40, 0);
  wout(U::IER, 0x00);
  // The driver's reset: FIFOs cleared, RBR read, IER 0.
  wout(U::IIR_FCR, 0x07);
  win(U::RBR_THR);
  EXPECT_EQ(win(U::IIR_FCR), 0xC1);
  EXPECT_EQ(edges, "");  // OUT2 was never set outside loopback
}

// serial8250_do_startup(): the "THRE re-assert" and TXEN probes decide
// whether the driver trusts the THRE interrupt (else it polls on a timer).
TEST_F(Uart16550IrqTest, LinuxStartupSeesThreReassertedOnEachIerWrite) {
  wout(U::IIR_FCR, 0x07);
  wout(U::LCR, 0x03);
  wout(U::MCR, 0x0B);
  wout(U::IER, 0x02);
  const uint8_t iir1 = win(U::IIR_FCR);
  wout(U::IER, 0x00);
  wout(U::IER, 0x02);
  const uint8_t iir = win(U::IIR_FCR);
  wout(U::IER, 0x00);
  EXPECT_EQ(iir1, 0xC2);
  EXPECT_EQ(iir, 0xC2);  // re-asserted: no UART_BUG_THRE
  // The TXEN probe: THRE enabled with TEMT set must show an interrupt.
  wout(U::IER, 0x02);
  EXPECT_EQ(win(U::LSR), 0x60);
  EXPECT_EQ(win(U::IIR_FCR), 0xC2);
  wout(U::IER, 0x00);
  // Each enable was one pulse on IRQ 4.
  EXPECT_EQ(edges, "101010");
}

// autoconfig_irq(): OUT1 | OUT2 and every IER source on must raise the
// line (THRE is pending with an empty THR), and clearing IER drop it.
TEST_F(Uart16550IrqTest, LinuxAutoconfigIrqSeesTheLineRise) {
  wout(U::MCR, 0x0C);
  wout(U::IER, 0x0F);
  EXPECT_EQ(edges, "1");
  win(U::LSR);
  win(U::RBR_THR);
  win(U::IIR_FCR);
  win(U::MSR);
  EXPECT_EQ(edges, "10");
  wout(U::IER, 0x00);
  wout(U::MCR, 0x00);
  EXPECT_EQ(edges, "10");
}

TEST_F(Uart16550IrqTest, ResetDropsTheLine) {
  wout(U::MCR, 0x08);
  wout(U::IER, 0x02);
  EXPECT_EQ(edges, "1");
  wired.reset();
  EXPECT_EQ(edges, "10");
  EXPECT_FALSE(wired.board_irq());
}

TEST(Uart16550, WorksWithoutATxCallback) {
  Uart16550 uart(nullptr);
  uart.write(U::RBR_THR, 1, 'x');
  EXPECT_EQ(uart.read(U::LSR, 1), 0x60u);
  EXPECT_EQ(uart.name(), "uart16550");
}

}  // namespace
}  // namespace vtlab
