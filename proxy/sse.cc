#include "proxy/sse.h"

namespace switchyard {

// A blank line ends an event: '\n' preceded by "\n" or "\n\r" (SSE allows CRLF line ends).
static bool EndsBlankLine(std::string_view s, std::size_t newline) {
  if (newline >= 1 && s[newline - 1] == '\n') return true;
  return newline >= 2 && s[newline - 1] == '\r' && s[newline - 2] == '\n';
}

std::size_t EndOfFirstEvent(std::string_view s) {
  for (std::size_t i = s.find('\n'); i != std::string_view::npos; i = s.find('\n', i + 1))
    if (EndsBlankLine(s, i)) return i + 1;
  return 0;
}

std::size_t EndOfLastEvent(std::string_view s) {
  for (std::size_t i = s.rfind('\n'); i != std::string_view::npos && i > 0;
       i = s.rfind('\n', i - 1))
    if (EndsBlankLine(s, i)) return i + 1;
  return 0;
}

std::string_view SseSplitter::Feed(std::string_view bytes) {
  if (partial_.empty()) {  // the common case: events arrive whole; no copy
    std::size_t end = EndOfLastEvent(bytes);
    partial_.assign(bytes.substr(end));
    return bytes.substr(0, end);
  }
  // An event straddles reads: grow it in place; copy out only once it is complete. Only the
  // new bytes (and the two before them) can end it: rescanning all of it would be quadratic
  // in an event that arrives a byte at a time.
  const std::size_t from = partial_.size() >= 2 ? partial_.size() - 2 : 0;
  partial_.append(bytes);
  const std::size_t tail_end = EndOfLastEvent(std::string_view(partial_).substr(from));
  if (tail_end == 0) return {};
  const std::size_t end = from + tail_end;
  complete_.assign(partial_, 0, end);
  partial_.erase(0, end);
  return complete_;
}

}  // namespace switchyard
