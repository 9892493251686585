// Status: the error type of classifiers/ (no exceptions on the data plane). Either ok or a
// human-readable message saying what failed and where. A plain value type: copy it freely,
// no thread-safety concerns.
#pragma once

#include <string>
#include <utility>

namespace switchyard::classifiers {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message), true); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  Status(std::string message, bool failed) : message_(std::move(message)), failed_(failed) {}

  std::string message_;
  bool failed_ = false;
};

}  // namespace switchyard::classifiers
