// ChatRequest: the parts of an OpenAI chat-completions request body that the classifier reads,
// independent of the proxy's own request type. ParseChatRequest fills one with simdjson
// on-demand; it uses a thread-local parser, so it is safe to call from any thread. A parsed
// ChatRequest owns copies of its strings (no views into the parser's buffers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/status.h"

namespace switchyard::classifiers {

struct ChatMessage {
  std::string role;     // "system", "developer", "user", "assistant", "tool", ...
  std::string content;  // the text; text parts of an array content joined with '\n'
  int image_parts = 0;  // non-text parts (image_url, input_audio, file, ...)
  bool has_tool_calls = false;
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  int tool_count = 0;  // entries of "tools" (or legacy "functions")
  bool has_response_format_json_schema = false;
  bool has_response_format_json_object = false;
  int64_t max_tokens = -1;  // max_tokens or max_completion_tokens; -1 when absent
  bool stream = false;

  bool has_tools() const { return tool_count > 0; }
};

// Parses `size` bytes at `data`. The caller guarantees that the buffer can be read up to
// `capacity` bytes, with capacity >= size + SIMDJSON_PADDING (the padding bytes' values do not
// matter). Returns an error for invalid JSON or a body that is not a chat request.
Status ParseChatRequest(const char* data, size_t size, size_t capacity, ChatRequest* out);

// Convenience overload: may grow `json`'s capacity to add the padding (contents unchanged).
Status ParseChatRequest(std::string& json, ChatRequest* out);

// A request with a single user message: how labelled prompts are scored and trained on.
ChatRequest SingleUserRequest(std::string_view prompt);

}  // namespace switchyard::classifiers
