// Why an exchange with an upstream failed, and how that reaches the client: one place
// that maps each failure to its OpenAI-shaped error and status (502 or 504).
#pragma once

#include <string>

#include "proxy/openai/errors.h"

namespace switchyard::upstream {

enum class FailureKind {
  kNone,
  kResolve,           // DNS lookup failed
  kConnect,           // refused, unreachable
  kConnectTimeout,
  kTls,               // handshake or certificate verification failed
  kTlsTimeout,
  kPoolTimeout,       // max_connections busy for too long
  kSend,              // writing the request failed
  kFirstByteTimeout,  // no response headers in time
  kIdleTimeout,       // gap between two body reads too long
  kTotalTimeout,
  kBadResponse,       // not HTTP, or a body we cannot read
  kReset,             // connection closed or reset mid-response
  kStatus,            // answered 5xx or 429 (and another candidate was tried)
};

struct Failure {
  FailureKind kind = FailureKind::kNone;
  std::string detail;  // e.g. "connection refused"; never holds a key
  explicit operator bool() const { return kind != FailureKind::kNone; }
};

// Short stable name for logs and metrics labels: "connect_timeout", "tls", ...
const char* KindName(FailureKind kind);

// 504 for timeouts, 502 otherwise; the message names the upstream.
openai::ApiError ToApiError(const Failure& failure, const std::string& upstream_name);

}  // namespace switchyard::upstream
