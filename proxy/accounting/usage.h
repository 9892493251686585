// Token usage as the upstream reports it: read from a non-streaming response body or from
// one SSE event of a streamed response. Pure functions; thread-safe (per-thread parser and
// scratch buffer). Nothing returned refers to the input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::accounting {

// OpenAI's usage object. cached_tokens is a part of prompt_tokens and reasoning_tokens a part
// of completion_tokens (as OpenAI reports them); they are never added on top.
struct Usage {
  std::int64_t prompt_tokens = 0;      // usage.prompt_tokens
  std::int64_t cached_tokens = 0;      // usage.prompt_tokens_details.cached_tokens
  std::int64_t completion_tokens = 0;  // usage.completion_tokens (absent for embeddings)
  std::int64_t reasoning_tokens = 0;   // usage.completion_tokens_details.reasoning_tokens
  bool present = false;                // a usage object was found

  friend bool operator==(const Usage&, const Usage&) = default;
};

// Usage of a chat/completions/embeddings response body. `body`'s capacity must be at least
// size + simdjson::SIMDJSON_PADDING (openai::ReservePadding); otherwise present=false.
// Missing or null counts are 0; a count that is not a non-negative integer is 0 (an
// integral float such as 12.0 is accepted). Malformed JSON, a non-object body, or a missing,
// null or non-object `usage` give present=false. Never throws.
Usage ParseUsageFromBody(const std::string& body);

// What one SSE event of a chat/completions stream says about usage.
struct StreamEventUsage {
  Usage usage;                    // present only for a chunk whose `usage` is an object
  bool usage_only_chunk = false;  // "choices":[] and `usage` an object: the final usage chunk
};

// One event as SseSplitter::ForEachEvent yields it (lines "data: ...", possibly several,
// joined by "\n" as SSE specifies; "event:", "id:" and ":" comment lines ignored; "\n" or
// "\r\n" line ends). "data: [DONE]", "usage":null, no usage, or malformed JSON: not present.
// Parses once, in a thread_local padded copy of the event's data.
StreamEventUsage InspectStreamEvent(std::string_view sse_event);

// InspectStreamEvent(e).usage.
Usage ParseUsageFromEvent(std::string_view sse_event);

// InspectStreamEvent(e).usage_only_chunk: the chunk the proxy hides from a client that did
// not ask for stream_options.include_usage itself.
bool IsUsageOnlyChunk(std::string_view sse_event);

// Appends the text a response generated, found in `json` (a response body or SSE events):
// every "content", "arguments" and "reasoning_content" string, unescaped, for estimating
// completion tokens when an upstream reports no usage. Stops at `limit` bytes in
// `out`; returns the bytes it found past that (estimated separately, never dropped).
std::size_t AppendGeneratedText(std::string_view json, std::string* out, std::size_t limit);

// Where StreamEvents records what a stream's events say: the last usage reported, and the
// generated text (at most text_limit bytes; the rest counted in *overflow).
struct StreamNotes {
  Usage* usage;
  std::string* text;
  std::size_t* overflow;
  std::size_t text_limit;
};

// One block of whole SSE events of a chat/completions stream on its way to the client: notes
// its usage and generated text, and returns the events the client gets. With `hide_usage`
// (the proxy asked for usage, the client did not) the client sees what the upstream would
// have sent it: without the usage-only chunk and without `,"usage":null` on every chunk.
// The result views `events` or `scratch`.
std::string_view StreamEvents(std::string_view events, bool hide_usage, const StreamNotes& notes,
                              std::string& scratch);

}  // namespace switchyard::accounting
