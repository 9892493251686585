// Reads the few fields of an OpenAI request body that the proxy needs, in one simdjson
// on-demand pass, and records where the `model` value sits so it can be replaced by
// splicing bytes instead of re-serializing; bounds the body's JSON depth and message count.
// Thread-safe (one parser per thread).
#pragma once

#include <boost/system/result.hpp>
#include <simdjson.h>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/openai/errors.h"

namespace switchyard::openai {

// One change to a body: `length` bytes at `offset` become `text` (length 0: an insertion).
struct BodyEdit {
  std::size_t offset = 0;
  std::size_t length = 0;
  std::string_view text;  // a literal with static storage
};

struct ParsedRequest {
  std::string model;  // unescaped
  bool stream = false;
  std::size_t model_offset = 0;  // the model's JSON string token, quotes included
  std::size_t model_length = 0;
  std::int64_t max_tokens = -1;  // the largest max_tokens / max_completion_tokens; -1: none
  std::int64_t choices = 1;      // the largest of n and best_of: completions per prompt
  std::int64_t prompts = 1;      // /v1/completions with an array of prompts: how many
  // Whether the client asked for the stream's usage chunk (stream_options.include_usage).
  bool client_wants_usage = false;
  // For a stream whose client did not ask for usage: the edit that asks for it upstream.
  std::optional<BodyEdit> usage_edit;
};

// Bounds on one body, from config::Listener (max_messages, max_json_depth); the defaults are
// the config's.
struct RequestLimits {
  std::size_t max_messages = 2048;  // elements of a top-level `messages` array (OpenAI's limit)
  std::size_t max_depth = 128;      // arrays and objects nested in one another ({} is 1 deep)
};

// Grows `body`'s capacity so simdjson may read past its end (it needs SIMDJSON_PADDING); a
// body read by the proxy's parsers (padded_body.h) has the room already.
void ReservePadding(std::string& body);

// Parses `body` (whose capacity ReservePadding has grown). Errors are 400s in OpenAI's shape:
// malformed JSON, a non-object body, a missing or non-string `model`, a non-boolean `stream`;
// arrays and objects nested deeper than limits.max_depth anywhere in the body (checked first,
// skipped fields included: `json_too_deep`), a `messages` array longer than
// limits.max_messages (`array_above_max_length`, as OpenAI says it).
boost::system::result<ParsedRequest, ApiError> ParseRequest(const std::string& body,
                                                            const RequestLimits& limits = {});
// As above, and leaves the parse in `*doc` for another reader of the same body (the
// classifier: classifiers/chat_request_json.h), which saves parsing it twice. `*doc` is a
// view into this thread's parser: valid until the next ParseRequest on the thread, so only
// within one synchronous step.
boost::system::result<ParsedRequest, ApiError> ParseRequest(const std::string& body,
                                                            const RequestLimits& limits,
                                                            simdjson::ondemand::document* doc);

// A body with the model value replaced (and the usage edit applied, if any): pieces that
// are views into storage that outlives the write (the request body, the route table and
// literals), sent as one scatter write.
struct SplicedBody {
  std::array<std::string_view, 5> parts;
  std::size_t size() const;
  std::string ToString() const;  // for tests
};

// `quoted_model` is the new value as a JSON string token, quotes included. `ask_usage`
// applies request.usage_edit.
SplicedBody SpliceModel(std::string_view body, const ParsedRequest& request,
                        std::string_view quoted_model, bool ask_usage = false);

}  // namespace switchyard::openai
