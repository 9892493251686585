// Reads the few fields of an OpenAI request body that the proxy needs, in one simdjson
// on-demand pass, and records where the `model` value sits so it can be replaced by
// splicing bytes instead of re-serializing. Thread-safe (one parser per thread).
#pragma once

#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "proxy/openai/errors.h"

namespace switchyard::openai {

struct ParsedRequest {
  std::string model;  // unescaped
  bool stream = false;
  std::size_t model_offset = 0;  // the model's JSON string token, quotes included
  std::size_t model_length = 0;
};

// Grows `body`'s capacity so simdjson may read past its end (it needs SIMDJSON_PADDING).
void ReservePadding(std::string& body);

// Parses `body` (whose capacity ReservePadding has grown). Errors are 400s in OpenAI's shape:
// malformed JSON, a non-object body, a missing or non-string `model`, a non-boolean `stream`.
boost::system::result<ParsedRequest, ApiError> ParseRequest(const std::string& body);

// A body with the model value replaced: prefix + replacement + suffix, all views into
// storage that outlives the write (the request body and the route table).
struct SplicedBody {
  std::string_view prefix;
  std::string_view replacement;
  std::string_view suffix;
  std::size_t size() const { return prefix.size() + replacement.size() + suffix.size(); }
};

// `quoted_model` is the new value as a JSON string token, quotes included.
SplicedBody SpliceModel(std::string_view body, const ParsedRequest& request,
                        std::string_view quoted_model);

}  // namespace switchyard::openai
