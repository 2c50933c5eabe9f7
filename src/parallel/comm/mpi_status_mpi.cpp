// MPI backend: who did not arrive? After a timeout, a rank asks every peer over
// the communicator's side channel how many collectives it has started; peers that
// are waiting inside weft answer (they service queries while polling), a dead or
// stalled peer does not. Costs nothing until a timeout: waiting ranks only probe
// the side channel every few milliseconds.
#include <algorithm>
#include <cstring>
#include <thread>

#include "parallel/comm/mpi_detail.hpp"

namespace weft::comm::detail {
namespace {

constexpr int kAskTag = 1;
constexpr int kAnswerTag = 2;

// Answer payload: fixed size so it travels as one MPI_BYTE message.
struct Answer {
  std::int64_t nonce;
  std::int64_t entered;  // collectives started on this communicator
  char last[112];        // description of the latest one
};

}  // namespace

void MpiCommunicator::service_locked() {
  while (!replies_.empty()) {
    int done = 0;
    MPI_Test(&replies_.front().first, &done, MPI_STATUS_IGNORE);
    if (!done) break;
    replies_.pop_front();
  }
  while (true) {
    int flag = 0;
    MPI_Status status;
    if (MPI_Iprobe(MPI_ANY_SOURCE, kAskTag, side_, &flag, &status) != MPI_SUCCESS || !flag) return;
    std::int64_t ask[2] = {0, 0};
    MPI_Recv(ask, 2, MPI_INT64_T, status.MPI_SOURCE, kAskTag, side_, MPI_STATUS_IGNORE);
    Answer answer{};
    answer.nonce = ask[0];
    answer.entered = static_cast<std::int64_t>(entered_);
    std::strncpy(answer.last, last_started_.c_str(), sizeof(answer.last) - 1);
    auto& slot = replies_.emplace_back(MPI_REQUEST_NULL, std::vector<char>(sizeof(Answer)));
    std::memcpy(slot.second.data(), &answer, sizeof(Answer));
    MPI_Isend(slot.second.data(), sizeof(Answer), MPI_BYTE, status.MPI_SOURCE, kAnswerTag, side_,
              &slot.first);
  }
}

std::string MpiCommunicator::diagnose_collective(std::uint64_t seq) {
  const auto timeout = options().timeout;
  const auto grace = std::clamp<std::chrono::milliseconds>(
      timeout / 4, std::chrono::milliseconds(200), std::chrono::milliseconds(5000));
  std::int64_t nonce = 0;
  {
    std::lock_guard lock(shared_->mu);
    nonce = static_cast<std::int64_t>(shared_->next_nonce++) * 4096 + shared_->world_rank;
    for (int peer = 0; peer < size_; ++peer) {
      if (peer == rank_) continue;
      // The ask buffer lives in replies_ until its send completes.
      auto& slot =
          replies_.emplace_back(MPI_REQUEST_NULL, std::vector<char>(2 * sizeof(std::int64_t)));
      const std::int64_t ask[2] = {nonce, static_cast<std::int64_t>(seq)};
      std::memcpy(slot.second.data(), ask, sizeof(ask));
      MPI_Isend(slot.second.data(), 2, MPI_INT64_T, peer, kAskTag, side_, &slot.first);
    }
  }
  std::vector<std::int64_t> entered(size_, -1);
  std::vector<std::string> last(size_);
  int answers = 0;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (answers < size_ - 1 && std::chrono::steady_clock::now() < deadline) {
    shared_->service_all();  // peers timing out at the same moment ask us too
    std::lock_guard lock(shared_->mu);
    int flag = 0;
    MPI_Status status;
    if (MPI_Iprobe(MPI_ANY_SOURCE, kAnswerTag, side_, &flag, &status) == MPI_SUCCESS && flag) {
      Answer answer{};
      MPI_Recv(&answer, sizeof(Answer), MPI_BYTE, status.MPI_SOURCE, kAnswerTag, side_,
               MPI_STATUS_IGNORE);
      if (answer.nonce == nonce && entered[status.MPI_SOURCE] < 0) {
        entered[status.MPI_SOURCE] = answer.entered;
        last[status.MPI_SOURCE] =
            std::string(answer.last, strnlen(answer.last, sizeof(answer.last)));
        ++answers;
      }
      continue;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::vector<int> missing;
  std::string details;
  for (int peer = 0; peer < size_; ++peer) {
    if (peer == rank_ || entered[peer] > static_cast<std::int64_t>(seq)) continue;
    missing.push_back(peer);
    details += entered[peer] < 0
                   ? str("; rank ", peer, " did not answer (dead, or busy outside communication)")
                   : str("; rank ", peer,
                         "'s last collective here: ", last[peer].empty() ? "none" : last[peer]);
  }
  if (missing.empty())
    return "every rank has arrived, yet MPI did not complete it (network or MPI fault?)";
  return str(format_ranks(*this, missing), missing.size() == 1 ? " has" : " have", " not arrived",
             details, shared_->hosts_of(*this, missing));
}

}  // namespace weft::comm::detail
