// Errors that end a command: UserError and its kin become a one-line reply to the person;
// anything else is logged and answered with a generic line (never the raw exception text).
#pragma once

#include <stdexcept>
#include <string>

namespace auditbot {

// The person did something we cannot do; `what()` is shown to them as is.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parse errors in a command line; the router adds the verb's usage.
class SyntaxError : public UserError {
 public:
  using UserError::UserError;
};

// The actor's role or ownership does not allow this.
class Forbidden : public UserError {
 public:
  using UserError::UserError;
};

// An id, person or control that does not exist.
class NotFound : public UserError {
 public:
  using UserError::UserError;
};

// The item changed state since the button was drawn (stale button, double press).
class Conflict : public UserError {
 public:
  using UserError::UserError;
};

// Start-up configuration problems; the message names the key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace auditbot
