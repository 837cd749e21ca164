// Register semantics follow the Intel 8259A datasheet: "Initialization
// Command Words", "Operation Command Words", "Fully Nested Mode", "End of
// Interrupt", "Automatic Rotation", "Special Mask Mode", "Poll Command",
// "Reading the 8259A Status" and "Cascade Mode"; the ELCR follows the
// Intel PIIX/PIIX3 datasheet.
#include "devices/pic8259.h"

#include "core/snapshot.h"

#include <utility>

namespace vtlab {

namespace {

// Command-port write decoding (A0 = 0).
constexpr uint8_t kIcw1 = 0x10, kOcw3 = 0x08;
// ICW1
constexpr uint8_t kIcw1Ic4 = 0x01, kIcw1Single = 0x02, kIcw1Ltim = 0x08;
// ICW4
constexpr uint8_t kIcw4Upm = 0x01, kIcw4Aeoi = 0x02, kIcw4Buf = 0x08, kIcw4Sfnm = 0x10;
// OCW2: R, SL and EOI select the command; L2-L0 the level.
constexpr uint8_t kOcw2Rotate = 0x80, kOcw2Specific = 0x40, kOcw2Eoi = 0x20;
// OCW3
constexpr uint8_t kOcw3Esmm = 0x40, kOcw3Smm = 0x20, kOcw3Poll = 0x04, kOcw3Rr = 0x02,
                  kOcw3Ris = 0x01;
// Poll word when nothing requests: I = 0.  The datasheet leaves W2-W0
// open; 7 is what the resolver defaults to, as for a spurious INTA.
constexpr uint8_t kPollNone = 0x07, kPollInterrupt = 0x80;
// ELCR bits a PIIX lets software set: IRQ 0, 1, 2 (timer, keyboard,
// cascade), 8 (RTC) and 13 (FPU error) are edge-only.
constexpr uint8_t kElcrWritable[2] = {0xF8, 0xDE};
constexpr unsigned kSpuriousIr = 7;

uint8_t bit(unsigned ir) { return static_cast<uint8_t>(1u << ir); }

}  // namespace

// --- one chip ------------------------------------------------------------

// The highest-priority IR in `bits`: the one after `lowest`, going round.
int DualPic::Chip::highest(uint8_t bits) const {
  for (unsigned i = 1; i <= 8; ++i) {
    const unsigned ir = (lowest + i) & 7;
    if (bits & bit(ir)) return static_cast<int>(ir);
  }
  return -1;
}

// The IR the chip would assert INTR for now, or -1.
int DualPic::Chip::resolve() const {
  if (!initialised) return -1;
  const int req = highest(irr & ~imr);
  if (req < 0) return -1;
  // Special mask mode: "when a mask bit is set in OCW1, it inhibits further
  // interrupts at that level and enables interrupts from all other levels
  // (lower as well as higher)": a masked level in service blocks nothing.
  const int in_service = highest(special_mask ? isr & ~imr : isr);
  if (in_service < 0) return req;
  const auto rank = [this](int ir) { return (ir - lowest - 1) & 7; };
  if (rank(req) < rank(in_service)) return req;
  // Special fully nested mode: a slave in service does not lock itself
  // out; it resolves its own priorities.
  if (sfnm && req == in_service && cascade(static_cast<unsigned>(req))) return req;
  return -1;
}

// The first INTA pulse (or a poll read): in service, request consumed.
void DualPic::Chip::take(unsigned ir) {
  if (!(level_mask() & bit(ir))) irr &= ~bit(ir);
  if (aeoi) {
    if (rotate_on_aeoi) lowest = static_cast<uint8_t>(ir);
  } else {
    isr |= bit(ir);
  }
}

void DualPic::Chip::set_line(unsigned ir, bool level) {
  const uint8_t b = bit(ir);
  if (level) {
    if (!(lines & b)) irr |= b;  // a rising edge, or a level going active
    lines |= b;
  } else {
    lines &= ~b;
    if (level_mask() & b) irr &= ~b;  // level mode: IRR follows the line
  }
}

void DualPic::Chip::write_icw1(uint8_t v) {
  needs_icw4 = v & kIcw1Ic4;
  single = v & kIcw1Single;
  ltim = v & kIcw1Ltim;
  // The datasheet's list of what the sequence resets: edge sense (a
  // request must rise again), IMR, IR7 lowest priority, slave address 7,
  // special mask off, status read = IRR, and ICW4 functions when IC4 = 0.
  // ISR is cleared too: a stale in-service bit would block every level
  // below it forever, and every emulator and BIOS relies on this.
  irr = lines & level_mask();
  imr = 0;
  isr = 0;
  lowest = 7;
  icw3 = 7;
  special_mask = read_isr = poll = false;
  rotate_on_aeoi = false;
  if (!needs_icw4) upm = aeoi = buffered = sfnm = false;
  initialised = false;
  step = InitStep::kIcw2;
}

void DualPic::Chip::write_data(uint8_t v) {
  switch (step) {
    case InitStep::kIcw2:
      vector_base = v & 0xF8;  // T7-T3; the low bits are the IR number
      step = !single ? InitStep::kIcw3 : needs_icw4 ? InitStep::kIcw4 : InitStep::kReady;
      break;
    case InitStep::kIcw3:
      icw3 = is_master ? v : v & 7;
      step = needs_icw4 ? InitStep::kIcw4 : InitStep::kReady;
      break;
    case InitStep::kIcw4:
      // uPM = 0 (8080/85 mode) is kept but INTA still answers with the
      // 8086 vector, as QEMU does: an x86 cannot use a CALL opcode.
      upm = v & kIcw4Upm;
      aeoi = v & kIcw4Aeoi;
      buffered = v & kIcw4Buf;
      sfnm = v & kIcw4Sfnm;
      step = InitStep::kReady;
      break;
    case InitStep::kReady:
      imr = v;  // OCW1
      return;
  }
  if (step == InitStep::kReady) initialised = true;
}

void DualPic::Chip::write_ocw2(uint8_t v) {
  const unsigned level = v & 7;
  const bool rotate = v & kOcw2Rotate;
  switch (v & (kOcw2Rotate | kOcw2Specific | kOcw2Eoi)) {
    case kOcw2Eoi:
    case kOcw2Rotate | kOcw2Eoi: {
      // Non-specific EOI: the highest-priority level in service.  In
      // special mask mode a masked in-service level is left alone.
      const int ir = highest(special_mask ? isr & ~imr : isr);
      if (ir < 0) return;
      isr &= ~bit(static_cast<unsigned>(ir));
      if (rotate) lowest = static_cast<uint8_t>(ir);
      break;
    }
    case kOcw2Specific | kOcw2Eoi:
    case kOcw2Rotate | kOcw2Specific | kOcw2Eoi:
      isr &= ~bit(level);
      if (rotate) lowest = static_cast<uint8_t>(level);
      break;
    case kOcw2Rotate:  // set rotate in automatic EOI mode
      rotate_on_aeoi = true;
      break;
    case 0:  // clear rotate in automatic EOI mode
      rotate_on_aeoi = false;
      break;
    case kOcw2Rotate | kOcw2Specific:  // set priority: `level` lowest
      lowest = static_cast<uint8_t>(level);
      break;
    default:  // SL alone: no operation
      break;
  }
}

void DualPic::Chip::write_ocw3(uint8_t v) {
  if (v & kOcw3Esmm) special_mask = v & kOcw3Smm;
  if (v & kOcw3Poll) poll = true;
  if (v & kOcw3Rr) read_isr = v & kOcw3Ris;
}

// --- the pair ------------------------------------------------------------

DualPic::DualPic(IntrChanged changed) : changed_(std::move(changed)) { reset(); }

void DualPic::reset() {
  chips_[kMaster] = Chip{};
  chips_[kSlave] = Chip{};
  chips_[kMaster].is_master = true;
  update();
}

void DualPic::set_irq(unsigned irq, bool level) {
  if (irq >= kIrqs) return;
  if (irq == kCascadeIr) irq = 9;
  chips_[irq / 8].set_line(irq % 8, level);
  update();
}

void DualPic::update() {
  chips_[kMaster].set_line(kCascadeIr, chips_[kSlave].intr());
  const bool intr = chips_[kMaster].intr();
  if (intr != intr_) {
    intr_ = intr;
    if (changed_) changed_();
  }
}

bool DualPic::intr_pending() { return intr_; }

uint8_t DualPic::acknowledge() {
  Chip& m = chips_[kMaster];
  Chip& s = chips_[kSlave];
  uint8_t vector;
  const int ir = m.resolve();
  if (ir < 0) {
    vector = m.vector(kSpuriousIr);
  } else {
    const unsigned mir = static_cast<unsigned>(ir);
    m.take(mir);
    if (!m.cascade(mir)) {
      vector = m.vector(mir);
    } else if (!s.initialised || s.icw3 != mir) {
      // The slave the CAS lines name is not there: nobody drives the
      // data bus in the second INTA cycle, which floats high.
      vector = 0xFF;
    } else {
      const int sir = s.resolve();
      if (sir < 0) {
        vector = s.vector(kSpuriousIr);
      } else {
        s.take(static_cast<unsigned>(sir));
        vector = s.vector(static_cast<unsigned>(sir));
      }
    }
  }
  update();
  return vector;
}

// The poll command turns the next read of either port into an INTA that
// returns the poll word instead of a vector.  A slave is not involved:
// software polls it separately when the master answers with IR2.
uint8_t DualPic::poll(Which w) {
  Chip& c = chips_[w];
  c.poll = false;
  const int ir = c.resolve();
  if (ir < 0) return kPollNone;
  c.take(static_cast<unsigned>(ir));
  update();
  return static_cast<uint8_t>(kPollInterrupt | ir);
}

uint8_t DualPic::read_port(Which w, unsigned reg) {
  Chip& c = chips_[w];
  if (c.poll) return poll(w);
  if (reg == 1) return c.imr;
  return c.read_isr ? c.isr : c.irr;
}

void DualPic::write_port(Which w, unsigned reg, uint8_t v) {
  Chip& c = chips_[w];
  if (reg == 1)
    c.write_data(v);
  else if (v & kIcw1)
    c.write_icw1(v);
  else if (v & kOcw3)
    c.write_ocw3(v);
  else
    c.write_ocw2(v);
  update();
}

void DualPic::write_elcr(Which w, uint8_t v) {
  Chip& c = chips_[w];
  c.elcr = v & kElcrWritable[w];
  // Inputs now level-triggered show their line; those now edge-triggered
  // keep what they latched.
  const uint8_t level = c.level_mask();
  c.irr = static_cast<uint8_t>((c.irr & ~level) | (c.lines & level));
  update();
}

void DualPic::save(SnapshotWriter& w) const {
  w.put(chips_);
  w.put(intr_);
}

bool DualPic::load(SnapshotReader& r) {
  Chip chips[2];
  bool intr = false;
  r.get(chips);
  r.get(intr);
  if (!r.require(chips[0].lowest < 8 && chips[1].lowest < 8)) return false;
  std::copy(std::begin(chips), std::end(chips), std::begin(chips_));
  intr_ = intr;
  return true;
}

}  // namespace vtlab
