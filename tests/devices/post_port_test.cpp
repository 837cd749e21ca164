#include "devices/post_port.h"

#include <gtest/gtest.h>

#include <vector>

namespace vtlab {
namespace {

// The machine's wiring: one instance at 0x80 and one at 0x190.
class PostPortTest : public ::testing::Test {
 protected:
  PostPortTest() {
    EXPECT_TRUE(io.insert(0x80, 1, &p80));
    EXPECT_TRUE(io.insert(0x190, 1, &p190));
  }
  PostPort p80{0x80};
  PostPort p190{0x190};
  IoBus io{"io"};
};

TEST_F(PostPortTest, ReadsAllOnesBeforeAnyWrite) {
  EXPECT_EQ(io.read(0x80, 1), 0xFFu);
  EXPECT_EQ(io.read(0x80, 2), 0xFFFFu);
  EXPECT_EQ(io.read(0x190, 1), 0xFFu);
  EXPECT_TRUE(p80.codes().empty());
}

TEST_F(PostPortTest, LogsEachWriteWithPortValueAndWidth) {
  io.write(0x80, 1, 0x01);
  io.write(0x190, 1, 0x55);
  io.write(0x80, 1, 0x02);
  io.write(0x80, 2, 0xBEEF);
  io.write(0x80, 4, 0xDEADBEEF);
  EXPECT_EQ(p80.codes(), (std::vector<PostCode>{{0x80, 0x01, 1},
                                                {0x80, 0x02, 1},
                                                {0x80, 0xBEEF, 2},
                                                {0x80, 0xDEADBEEF, 4}}));
  EXPECT_EQ(p190.codes(), (std::vector<PostCode>{{0x190, 0x55, 1}}));
  EXPECT_EQ(p80.port(), 0x80);
  EXPECT_EQ(p80.dropped(), 0u);
}

TEST_F(PostPortTest, ReadsReturnTheLastValueWritten) {
  io.write(0x80, 1, 0x42);
  EXPECT_EQ(io.read(0x80, 1), 0x42u);
  EXPECT_EQ(io.read(0x80, 2), 0x0042u);
  io.write(0x80, 2, 0x1234);
  EXPECT_EQ(io.read(0x80, 1), 0x34u);
  EXPECT_EQ(io.read(0x80, 2), 0x1234u);
  EXPECT_EQ(io.read(0x190, 1), 0xFFu);  // the instances are independent
  EXPECT_EQ(p80.codes().size(), 2u);    // reads are not logged
}

TEST_F(PostPortTest, LogIsCappedAndDropsAreCounted) {
  for (uint32_t i = 0; i < PostPort::kMaxCodes + 10; ++i) io.write(0x80, 1, i & 0xFF);
  ASSERT_EQ(p80.codes().size(), PostPort::kMaxCodes);
  EXPECT_EQ(p80.dropped(), 10u);
  EXPECT_EQ(p80.codes().back(), (PostCode{0x80, (PostPort::kMaxCodes - 1) & 0xFF, 1}));
  // The latch still follows writes past the cap.
  EXPECT_EQ(io.read(0x80, 1), (PostPort::kMaxCodes + 9) & 0xFF);
  p80.clear();
  EXPECT_TRUE(p80.codes().empty());
  EXPECT_EQ(p80.dropped(), 0u);
  io.write(0x80, 1, 0xAA);
  EXPECT_EQ(p80.codes(), (std::vector<PostCode>{{0x80, 0xAA, 1}}));
}

TEST(PostPort, MasksToTheAccessWidthWhenCalledDirectly) {
  PostPort p(0x80);
  p.write(0, 1, 0x1234);
  EXPECT_EQ(p.codes(), (std::vector<PostCode>{{0x80, 0x34, 1}}));
  EXPECT_EQ(p.read(0, 1), 0x34u);
  EXPECT_EQ(p.name(), "post_port");
}

}  // namespace
}  // namespace vtlab
