// NCCL backend of the Communicator interface (GPU buffers, one device per rank), built
// only when NCCL is found (*_nccl.cpp). Bootstrap: rank 0 of an existing communicator
// (MPI across processes or nodes, threads within one process) makes an ncclUniqueId and
// broadcasts it; every member then joins with ncclCommInitRank. Owned by its rank; one
// host thread at a time, as every Communicator. No NCCL or CUDA type appears here.
//
// Streams: each operation runs on the communicator's own stream, after an event recorded
// on the compute stream given by nccl_set_compute_stream (so gradient reductions overlap
// later compute). Request::test() is cudaEventQuery on the op's completion event; wait()
// polls it and ncclCommGetAsyncError against Options::timeout and, on expiry or error,
// calls ncclCommAbort and fails the communicator (every later call throws).
// Point-to-point: NCCL matches sends and receives by order per pair; tags are checked
// (>= 0) but not matched. ibarrier is an all-reduce of one float.
#pragma once

#include <array>
#include <memory>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

inline constexpr std::size_t kNcclUniqueIdBytes = 128;  // sizeof(ncclUniqueId)
using NcclUniqueIdBytes = std::array<std::uint8_t, kNcclUniqueIdBytes>;

// Rank 0 of `bootstrap` calls ncclGetUniqueId; the id is broadcast (within bootstrap's
// timeout) and returned on every member. No GPU needed.
NcclUniqueIdBytes nccl_bootstrap_unique_id(Communicator& bootstrap);

// Collective over `bootstrap`: an NCCL communicator with the same ranks on CUDA device
// `device` (-1: rank mod the device count). Throws weft::Error (config) without a device.
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device,
                                                     Options options = {});

// The cudaStream_t (as void*) whose work later operations of `nccl` must wait for;
// nullptr = the legacy default stream. `nccl` must come from make_nccl_communicator.
void nccl_set_compute_stream(Communicator& nccl, void* stream);

// NCCL's version as "2.28.9" (the library linked).
std::string nccl_version_string();

}  // namespace weft::comm
