#include "classifiers/chat_request.h"

#include <fmt/format.h>

#include "classifiers/chat_request_json.h"

namespace switchyard::classifiers {
namespace {

namespace od = simdjson::ondemand;

Status JsonError(std::string_view where, simdjson::error_code error) {
  return Status::Error(
      fmt::format("invalid chat request: {}: {}", where, simdjson::error_message(error)));
}

// Appends the text parts of a content array ([{type: "text", text: ...}, {type: "image_url"}]).
Status ReadContentParts(od::array parts, ChatMessage* message) {
  for (auto part_result : parts) {
    od::object part;
    if (auto error = part_result.get_object().get(part)) return JsonError("content part", error);
    std::string_view type;
    bool has_text = false;
    std::string text;
    for (auto field : part) {
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return JsonError("content part key", error);
      if (key == "type") {
        if (auto error = field.value().get_string().get(type)) return JsonError("part type", error);
        if (type != "text" && type != "input_text") ++message->image_parts;
      } else if (key == "text") {
        std::string_view value;
        if (auto error = field.value().get_string().get(value))
          return JsonError("part text", error);
        text.assign(value);
        has_text = true;
      }
    }
    if (has_text) {
      if (!message->content.empty()) message->content.push_back('\n');
      message->content += text;
    }
  }
  return Status::Ok();
}

Status ReadMessage(od::object object, ChatMessage* message) {
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return JsonError("message key", error);
    od::value value;
    if (auto error = field.value().get(value)) return JsonError("message value", error);
    if (key == "role") {
      std::string_view role;
      if (auto error = value.get_string().get(role)) return JsonError("role", error);
      message->role.assign(role);
    } else if (key == "content") {
      od::json_type type;
      if (auto error = value.type().get(type)) return JsonError("content", error);
      if (type == od::json_type::string) {
        std::string_view text;
        if (auto error = value.get_string().get(text)) return JsonError("content", error);
        message->content.assign(text);
      } else if (type == od::json_type::array) {
        od::array parts;
        if (auto error = value.get_array().get(parts)) return JsonError("content", error);
        if (Status s = ReadContentParts(parts, message); !s.ok()) return s;
      }
    } else if (key == "tool_calls" || key == "function_call") {
      bool is_null = false;
      if (auto error = value.is_null().get(is_null)) return JsonError("tool_calls", error);
      message->has_tool_calls = !is_null;
    }
  }
  return Status::Ok();
}

Status ReadResponseFormat(od::value value, ChatRequest* out) {
  od::object object;
  if (value.get_object().get(object))
    return Status::Ok();  // tolerate odd shapes: not routing's job
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return JsonError("response_format", error);
    if (key != "type") continue;
    std::string_view type;
    if (field.value().get_string().get(type)) continue;
    out->has_response_format_json_schema = type == "json_schema";
    out->has_response_format_json_object = type == "json_object";
  }
  return Status::Ok();
}

}  // namespace

Status ParseChatRequest(const char* data, size_t size, size_t capacity, ChatRequest* out) {
  *out = ChatRequest();
  if (capacity < size + simdjson::SIMDJSON_PADDING) {
    return Status::Error("ParseChatRequest: buffer lacks SIMDJSON_PADDING bytes of capacity");
  }
  thread_local od::parser parser;
  od::document doc;
  if (auto error = parser.iterate(data, size, capacity).get(doc)) return JsonError("body", error);
  return ReadChatRequest(doc, out);
}

Status ReadChatRequest(od::document& doc, ChatRequest* out) {
  *out = ChatRequest();
  doc.rewind();
  od::object root;
  if (auto error = doc.get_object().get(root)) return JsonError("body", error);
  bool saw_messages = false;
  for (auto field : root) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return JsonError("key", error);
    od::value value;
    if (auto error = field.value().get(value)) return JsonError(key, error);
    if (key == "messages") {
      od::array messages;
      if (auto error = value.get_array().get(messages)) return JsonError("messages", error);
      for (auto element : messages) {
        od::object object;
        if (auto error = element.get_object().get(object)) return JsonError("message", error);
        ChatMessage& message = out->messages.emplace_back();
        if (Status s = ReadMessage(object, &message); !s.ok()) return s;
      }
      saw_messages = true;
    } else if (key == "model") {
      std::string_view model;
      if (!value.get_string().get(model)) out->model.assign(model);
    } else if (key == "tools" || key == "functions") {
      od::array tools;
      if (value.get_array().get(tools)) continue;
      for (auto tool : tools) {
        (void)tool;
        ++out->tool_count;
      }
    } else if (key == "response_format") {
      if (Status s = ReadResponseFormat(value, out); !s.ok()) return s;
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      int64_t max_tokens = 0;
      if (!value.get_int64().get(max_tokens)) out->max_tokens = max_tokens;
    } else if (key == "stream") {
      bool stream = false;
      if (!value.get_bool().get(stream)) out->stream = stream;
    }
  }
  if (!saw_messages) return Status::Error("invalid chat request: no \"messages\" array");
  return Status::Ok();
}

Status ParseChatRequest(std::string& json, ChatRequest* out) {
  const size_t size = json.size();
  json.reserve(size + simdjson::SIMDJSON_PADDING);
  return ParseChatRequest(json.data(), size, json.capacity(), out);
}

ChatRequest SingleUserRequest(std::string_view prompt) {
  ChatRequest request;
  request.messages.push_back(ChatMessage{"user", std::string(prompt), 0, false});
  return request;
}

}  // namespace switchyard::classifiers
