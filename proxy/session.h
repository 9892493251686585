// One client connection: reads HTTP/1.1 requests with size limits and deadlines, answers
// the proxy's own endpoints, hands API requests to the pipeline, keeps the connection alive
// between requests. Runs on its worker's thread; the worker must outlive it.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "proxy/deadline_stream.h"

namespace switchyard {

class Worker;

boost::asio::awaitable<void> RunSession(Worker& worker, DeadlineStream stream);

// The client's x-request-id if it is a sane token, else a new random one.
std::string RequestIdFor(std::string_view client_value);

}  // namespace switchyard
