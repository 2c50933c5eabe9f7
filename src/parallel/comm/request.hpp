// Request: the handle of one started communication operation (all backends).
// Move-only and owned by the caller, used by the thread that started it. test()
// makes progress and says whether it completed; wait() blocks until completion
// or the communicator's timeout (then throws a weft timeout error). A Request
// destroyed while pending waits for it (errors are logged, not thrown); destroyed
// during exception unwinding it abandons the operation and fails the communicator,
// so peers stop with an error instead of waiting for this rank.
#pragma once

#include <memory>

namespace weft::comm {

// What a backend implements for one pending operation.
class RequestImpl {
 public:
  virtual ~RequestImpl() = default;
  virtual bool test() = 0;     // progress; true once complete; throws on failure
  virtual void wait() = 0;     // until complete; throws on failure or timeout
  virtual void abandon() = 0;  // give up (fail the communicator); must not throw
};

class Request {
 public:
  Request() = default;  // an empty request is complete
  explicit Request(std::unique_ptr<RequestImpl> impl) : impl_(std::move(impl)) {}
  ~Request();
  Request(Request&&) noexcept = default;
  Request& operator=(Request&& other) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  bool test();
  void wait();
  bool done() const { return impl_ == nullptr; }

 private:
  void finish_pending() noexcept;
  std::unique_ptr<RequestImpl> impl_;  // null once complete
};

}  // namespace weft::comm
