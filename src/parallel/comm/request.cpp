// Request: completion bookkeeping shared by all backends. See request.hpp.
#include "parallel/comm/request.hpp"

#include <exception>

#include "core/log.hpp"

namespace weft::comm {

Request::~Request() {
  finish_pending();
}

Request& Request::operator=(Request&& other) noexcept {
  if (this != &other) {
    finish_pending();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void Request::finish_pending() noexcept {
  if (!impl_) return;
  if (std::uncaught_exceptions() > 0) {
    impl_->abandon();
  } else {
    try {
      impl_->wait();
    } catch (const std::exception& e) {
      log_error("communication request dropped without wait() failed: ", e.what());
      impl_->abandon();
    }
  }
  impl_.reset();
}

// A failed operation is abandoned at once, so its buffers are released by the
// backend before the exception reaches the caller.
bool Request::test() {
  if (!impl_) return true;
  try {
    if (!impl_->test()) return false;
  } catch (...) {
    impl_->abandon();
    impl_.reset();
    throw;
  }
  impl_.reset();
  return true;
}

void Request::wait() {
  if (!impl_) return;
  try {
    impl_->wait();
  } catch (...) {
    impl_->abandon();
    impl_.reset();
    throw;
  }
  impl_.reset();
}

}  // namespace weft::comm
