// OpenAI-style API errors (see api_error.hpp).
#include "serve/api_error.hpp"

#include <nlohmann/json.hpp>

namespace weft::serve {

ApiError::ApiError(int status, std::string message, std::string type, std::string param,
                   std::string code)
    : std::runtime_error(std::move(message)),
      status_(status),
      type_(std::move(type)),
      param_(std::move(param)),
      code_(std::move(code)) {}

std::string ApiError::body() const {
  nlohmann::json e;
  e["message"] = what();
  e["type"] = type_;
  e["param"] = param_.empty() ? nlohmann::json(nullptr) : nlohmann::json(param_);
  e["code"] = code_.empty() ? nlohmann::json(nullptr) : nlohmann::json(code_);
  nlohmann::json out;
  out["error"] = std::move(e);
  // Messages may quote request bytes that are not valid UTF-8: replace, never throw.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError bad_param(const std::string& param, const std::string& message, const std::string& code) {
  return ApiError(400, message, "invalid_request_error", param, code);
}

}  // namespace weft::serve
