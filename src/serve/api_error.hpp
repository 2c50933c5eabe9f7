// OpenAI-style API errors: an HTTP status plus {"error":{"message","type","param","code"}}.
// Thrown by request parsing/validation and caught only at the HTTP boundary
// (serve/server.cpp), which turns it into the response. Plain values; any thread.
#pragma once

#include <stdexcept>
#include <string>

namespace weft::serve {

class ApiError : public std::runtime_error {
 public:
  // status: HTTP status (400, 401, 404, 413, 429, 500...). type: OpenAI's error type
  // ("invalid_request_error", ...). param: the offending field or "" (→ null).
  // code: a machine-readable code or "" (→ null).
  ApiError(int status, std::string message, std::string type = "invalid_request_error",
           std::string param = {}, std::string code = {});

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  // The response body: {"error":{"message":...,"type":...,"param":...|null,"code":...|null}}.
  std::string body() const;

 private:
  int status_;
  std::string type_, param_, code_;
};

// Shorthand for the common 400 naming a parameter.
ApiError bad_param(const std::string& param, const std::string& message,
                   const std::string& code = "invalid_value");

}  // namespace weft::serve
