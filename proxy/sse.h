// Splits a Server-Sent Events byte stream into whole events, so the relay forwards each
// event as soon as its last byte arrives and never half of one. Not thread-safe: one
// splitter per stream.
#pragma once

#include <string>
#include <string_view>

namespace switchyard {

class SseSplitter {
 public:
  // Consumes `bytes` and returns every event completed by them, as one contiguous block
  // (possibly empty). The view is valid until the next call.
  std::string_view Feed(std::string_view bytes);

  // Bytes of an event not yet complete (what a stream cut short leaves behind).
  std::string_view partial() const { return partial_; }

  // Calls `on_event(event)` for each event of a block returned by Feed; each event view
  // excludes its terminating blank line.
  template <class F>
  static void ForEachEvent(std::string_view block, F&& on_event);

 private:
  std::string partial_;  // incomplete event carried over between reads
  std::string complete_;  // events completed by bytes that followed a partial one
};

// Position just past the first / last blank line ("\n\n" or "\n\r\n") in `s`; 0 if none.
std::size_t EndOfFirstEvent(std::string_view s);
std::size_t EndOfLastEvent(std::string_view s);

template <class F>
void SseSplitter::ForEachEvent(std::string_view block, F&& on_event) {
  for (std::size_t end; (end = EndOfFirstEvent(block)) != 0; block.remove_prefix(end)) {
    std::string_view event = block.substr(0, end);
    while (!event.empty() && (event.back() == '\n' || event.back() == '\r')) event.remove_suffix(1);
    on_event(event);
  }
}

}  // namespace switchyard
