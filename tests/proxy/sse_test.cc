#include "proxy/sse.h"

#include <gtest/gtest.h>

#include <vector>

namespace switchyard {
namespace {

std::vector<std::string> Events(std::string_view block) {
  std::vector<std::string> out;
  SseSplitter::ForEachEvent(block, [&](std::string_view e) { out.emplace_back(e); });
  return out;
}

TEST(SseSplitterTest, PassesWholeEventsThroughWithoutHoldingAnything) {
  SseSplitter s;
  EXPECT_EQ(s.Feed("data: a\n\ndata: b\n\n"), "data: a\n\ndata: b\n\n");
  EXPECT_TRUE(s.partial().empty());
}

TEST(SseSplitterTest, HoldsAHalfEventUntilItsBlankLineArrives) {
  SseSplitter s;
  EXPECT_EQ(s.Feed("data: a\n\ndata: {\"x\""), "data: a\n\n");
  EXPECT_EQ(s.partial(), "data: {\"x\"");
  EXPECT_EQ(s.Feed(":1}\n"), "");
  EXPECT_EQ(s.Feed("\ndata: c"), "data: {\"x\":1}\n\n");
  EXPECT_EQ(s.partial(), "data: c");
}

TEST(SseSplitterTest, AcceptsCrLfLineEnds) {
  SseSplitter s;
  EXPECT_EQ(s.Feed("data: a\r\n\r\ndata: b\r\n"), "data: a\r\n\r\n");
  EXPECT_EQ(s.Feed("\r\n"), "data: b\r\n\r\n");
}

TEST(SseSplitterTest, SplitsABlankLineCutBetweenTwoReads) {
  SseSplitter s;
  EXPECT_EQ(s.Feed("data: a\n"), "");
  EXPECT_EQ(s.Feed("\n"), "data: a\n\n");
}

TEST(SseSplitterTest, ForEachEventYieldsEventsWithoutTerminators) {
  EXPECT_EQ(Events("data: a\n\nevent: x\ndata: b\r\n\r\ndata: [DONE]\n\n"),
            (std::vector<std::string>{"data: a", "event: x\ndata: b", "data: [DONE]"}));
}

}  // namespace
}  // namespace switchyard
