// Reading a ChatRequest from a body someone has already parsed with simdjson on-demand: the
// proxy parses each request body once, and the classifier reads that same parse.
#pragma once

#include <simdjson.h>

#include "classifiers/chat_request.h"

namespace switchyard::classifiers {

// Rewinds `doc` and reads the chat request from its start, as ParseChatRequest does. `doc`
// must still be valid: its parser has iterated no other document since.
Status ReadChatRequest(simdjson::ondemand::document& doc, ChatRequest* out);

}  // namespace switchyard::classifiers
