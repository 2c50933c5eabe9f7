// Errors in three tiers (STYLE.md §6):
//  - a broken invariant is a bug: WEFT_CHECK prints file:line and aborts;
//  - a runtime problem (bad input, I/O, communication, timeouts) throws a typed
//    weft::Error caught only at boundaries (main → exit code, server → HTTP status);
//  - external calls are wrapped so the message says what failed, with a HINT where known.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weft {

// Concatenates any streamable arguments into one string: str("step ", 3, " of ", n).
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

enum class ErrorKind {
  kInput,    // malformed or inconsistent user input: files, flags, JSON
  kConfig,   // a configuration or parallel layout that cannot work
  kIo,       // the operating system refused a read/write/open
  kComm,     // a collective or message failed (peer gone, MPI error)
  kTimeout,  // something did not complete in time
  kRuntime,  // anything else detected at run time
};

std::string_view error_kind_name(ErrorKind kind);

// The one exception type weft throws. `what()` is the message shown to the user;
// `hint()` (may be empty) is the usual fix.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {});
  ErrorKind kind() const { return kind_; }
  const std::string& hint() const { return hint_; }

 private:
  ErrorKind kind_;
  std::string hint_;
};

// Convenience constructors so call sites read as what went wrong.
Error input_error(std::string message, std::string hint = {});
Error config_error(std::string message, std::string hint = {});
Error io_error(std::string message, std::string hint = {});
Error comm_error(std::string message, std::string hint = {});
Error timeout_error(std::string message, std::string hint = {});

// Exit code a boundary should return for an error of this kind (documented in the README).
int error_exit_code(ErrorKind kind);

// An I/O error for `what` on `path` that includes strerror(errno).
Error io_error_errno(std::string_view what, std::string_view path);

[[noreturn]] void check_failed(const char* file, int line, const char* expr, const std::string& msg);

}  // namespace weft

// Invariant check, always on (also in release builds): a failure is a bug in weft.
#define WEFT_CHECK(cond, ...)                                                    \
  do {                                                                           \
    if (!(cond)) [[unlikely]]                                                    \
      ::weft::check_failed(__FILE__, __LINE__, #cond, ::weft::str("" __VA_ARGS__)); \
  } while (0)
