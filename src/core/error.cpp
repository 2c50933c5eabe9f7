// Typed errors and the invariant-failure path. See error.hpp.
#include "core/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace weft {

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInput: return "input error";
    case ErrorKind::kConfig: return "configuration error";
    case ErrorKind::kIo: return "I/O error";
    case ErrorKind::kComm: return "communication error";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kRuntime: return "error";
  }
  return "error";
}

Error::Error(ErrorKind kind, std::string message, std::string hint)
    : std::runtime_error(std::move(message)), kind_(kind), hint_(std::move(hint)) {}

Error input_error(std::string message, std::string hint) {
  return Error(ErrorKind::kInput, std::move(message), std::move(hint));
}
Error config_error(std::string message, std::string hint) {
  return Error(ErrorKind::kConfig, std::move(message), std::move(hint));
}
Error io_error(std::string message, std::string hint) {
  return Error(ErrorKind::kIo, std::move(message), std::move(hint));
}
Error comm_error(std::string message, std::string hint) {
  return Error(ErrorKind::kComm, std::move(message), std::move(hint));
}
Error timeout_error(std::string message, std::string hint) {
  return Error(ErrorKind::kTimeout, std::move(message), std::move(hint));
}

int error_exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInput: return 2;
    case ErrorKind::kConfig: return 3;
    case ErrorKind::kIo: return 4;
    case ErrorKind::kComm: return 5;
    case ErrorKind::kTimeout: return 6;
    case ErrorKind::kRuntime: return 1;
  }
  return 1;
}

Error io_error_errno(std::string_view what, std::string_view path) {
  const int err = errno;
  std::string hint;
  if (err == ENOSPC) hint = "the disk is full: free space or choose another output directory";
  if (err == EACCES || err == EPERM) hint = "check the file's permissions";
  if (err == ENOENT) hint = "check that the path exists";
  return io_error(str(what, " '", path, "': ", std::strerror(err)), hint);
}

void check_failed(const char* file, int line, const char* expr, const std::string& msg) {
  std::fprintf(stderr, "weft: internal check failed at %s:%d: %s%s%s\n", file, line, expr,
               msg.empty() ? "" : ": ", msg.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace weft
