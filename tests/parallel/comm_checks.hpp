// Collective checks against closed-form answers, shared by the thread-backend
// GoogleTest suite (test_comm_threads.cpp) and the MPI test program
// (mpi_comm_main.cpp). Each check runs on every rank of `comm` and throws
// std::runtime_error naming the first wrong element. Values are small integers
// stored in floats, so every sum is exact whatever the reduction order.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "parallel/comm/communicator.hpp"

namespace weft::comm::checks {

template <typename T>
inline void expect_eq(const std::vector<T>& got, std::size_t i, double want,
                      const std::string& what, const char* detail = "") {
  if (static_cast<double>(got[i]) != want) [[unlikely]]
    throw std::runtime_error(str(what, detail, ": element ", i, " is ", static_cast<double>(got[i]),
                                 ", expected ", want));
}

// rank r: x[i] = r + i  →  sum = n*i + n(n-1)/2; max/min over x[i] = r*(i%7).
inline void all_reduce(Communicator& comm, std::size_t count) {
  const int n = comm.size(), r = comm.rank();
  const std::string tag = str("all_reduce count ", count, " on rank ", r);
  std::vector<float> x(count);
  for (std::size_t i = 0; i < count; ++i) x[i] = static_cast<float>(r + static_cast<double>(i));
  comm.all_reduce(std::span(x), ReduceOp::kSum, "sum in place");
  for (std::size_t i = 0; i < count; ++i) expect_eq(x, i, n * double(i) + n * (n - 1) / 2.0, tag);

  std::vector<double> d(count), dout(count, -1.0);
  for (std::size_t i = 0; i < count; ++i) d[i] = double(r) * double(i % 7);
  comm.iall_reduce(d.data(), dout.data(), count, DType::kF64, ReduceOp::kMax, "max").wait();
  for (std::size_t i = 0; i < count; ++i)
    expect_eq(dout, i, double(n - 1) * double(i % 7), tag, " max f64");
  comm.iall_reduce(d.data(), dout.data(), count, DType::kF64, ReduceOp::kMin, "min").wait();
  for (std::size_t i = 0; i < count; ++i) expect_eq(dout, i, 0.0, tag, " min f64");

  std::vector<std::int64_t> k(count);
  for (std::size_t i = 0; i < count; ++i) k[i] = std::int64_t(r) << 33;  // beyond 32 bits
  comm.all_reduce(std::span(k));
  for (std::size_t i = 0; i < count; ++i)
    if (k[i] != (std::int64_t(n) * (n - 1) / 2) << 33) throw std::runtime_error(tag + " i64 sum");
  std::vector<std::uint8_t> b(count);
  for (std::size_t i = 0; i < count; ++i) b[i] = static_cast<std::uint8_t>((r + i) % n);
  comm.all_reduce(std::span(b), ReduceOp::kMax);
  for (std::size_t i = 0; i < count; ++i) expect_eq(b, i, n - 1, tag, " u8 max");
}

// send[j] = r + j over n*count  →  rank r's slice i = n*(r*count + i) + n(n-1)/2.
inline void reduce_scatter(Communicator& comm, std::size_t count) {
  const int n = comm.size(), r = comm.rank();
  const std::string tag = str("reduce_scatter count ", count, " on rank ", r);
  std::vector<float> send(count * n), recv(count, -1.f);
  for (std::size_t j = 0; j < send.size(); ++j) send[j] = static_cast<float>(r + double(j));
  comm.reduce_scatter(std::span<const float>(send), std::span(recv));
  auto want = [&](std::size_t i) { return n * double(r * count + i) + n * (n - 1) / 2.0; };
  for (std::size_t i = 0; i < count; ++i) expect_eq(recv, i, want(i), tag);
  // In place (NCCL convention): the result lands in the own slice of send.
  comm.ireduce_scatter(send.data(), send.data() + r * count, count, DType::kF32, ReduceOp::kSum,
                       "in place")
      .wait();
  std::vector<float> own(send.begin() + r * count, send.begin() + (r + 1) * count);
  for (std::size_t i = 0; i < count; ++i) expect_eq(own, i, want(i), tag, " in place");
}

// send[i] = r*count + i  →  recv[j] = j.
inline void all_gather(Communicator& comm, std::size_t count) {
  const int n = comm.size(), r = comm.rank();
  const std::string tag = str("all_gather count ", count, " on rank ", r);
  std::vector<float> send(count), recv(count * n, -1.f);
  for (std::size_t i = 0; i < count; ++i) send[i] = static_cast<float>(double(r * count + i));
  comm.all_gather(std::span<const float>(send), std::span(recv));
  for (std::size_t j = 0; j < recv.size(); ++j) expect_eq(recv, j, double(j), tag);
  std::vector<float> inplace(count * n, -1.f);
  std::copy(send.begin(), send.end(), inplace.begin() + r * count);
  comm.iall_gather(inplace.data() + r * count, inplace.data(), count, DType::kF32, "in place")
      .wait();
  for (std::size_t j = 0; j < inplace.size(); ++j)
    expect_eq(inplace, j, double(j), tag, " in place");
}

// From every root in turn: root fills x[i] = 7*root + i, the others -1.
inline void broadcast(Communicator& comm, std::size_t count) {
  const int n = comm.size(), r = comm.rank();
  for (int root = 0; root < n; ++root) {
    std::vector<double> x(count, -1.0);
    if (r == root)
      for (std::size_t i = 0; i < count; ++i) x[i] = 7.0 * root + double(i);
    comm.broadcast(std::span(x), root, "each root");
    const std::string tag = str("broadcast from ", root, " count ", count, " on rank ", r);
    for (std::size_t i = 0; i < count; ++i) expect_eq(x, i, 7.0 * root + double(i), tag);
  }
}

// Ring: rank r sends x[i] = 10r + i to r+1 and receives from r-1 (tag 3), both
// posted before either waits; then a blocking exchange with the other neighbour.
inline void send_recv_ring(Communicator& comm, std::size_t count) {
  const int n = comm.size(), r = comm.rank();
  const int next = (r + 1) % n, prev = (r + n - 1) % n;
  std::vector<float> out(count), in(count, -1.f);
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(10.0 * r + double(i));
  Request rq = comm.irecv(std::span(in), prev, 3, "ring");
  Request sq = comm.isend(std::span<const float>(out), next, 3, "ring");
  sq.wait();
  rq.wait();
  const std::string tag = str("ring count ", count, " on rank ", r);
  for (std::size_t i = 0; i < count; ++i) expect_eq(in, i, 10.0 * prev + double(i), tag);
  // Two messages on one (pair, tag) arrive in order.
  std::vector<float> a(count, 1.f), b(count, 2.f), ra(count), rb(count);
  Request s1 = comm.isend(std::span<const float>(a), next, 5);
  Request s2 = comm.isend(std::span<const float>(b), next, 5);
  comm.recv(std::span(ra), prev, 5);
  comm.recv(std::span(rb), prev, 5);
  s1.wait();
  s2.wait();
  for (std::size_t i = 0; i < count; ++i) {
    expect_eq(ra, i, 1.0, tag, " order first");
    expect_eq(rb, i, 2.0, tag, " order second");
  }
}

// Starts an all-reduce, computes while it runs (polling test()), then waits; two
// operations in flight at once, waited in reverse order.
inline void overlap(Communicator& comm, std::size_t count) {
  const int n = comm.size(), r = comm.rank();
  std::vector<float> x(count, static_cast<float>(r + 1)), y(count, 1.f);
  Request qx = comm.iall_reduce(std::span(x), ReduceOp::kSum, "overlap x");
  Request qy = comm.iall_reduce(std::span(y), ReduceOp::kSum, "overlap y");
  double acc = 0;
  for (int i = 0; i < 200000; ++i) {
    acc += std::sqrt(double(i));
    if (i % 1000 == 0) (void)qx.test();
  }
  qy.wait();
  qx.wait();
  if (acc <= 0) throw std::runtime_error("overlap: compute went wrong");
  const std::string tag = str("overlap count ", count, " on rank ", r);
  for (std::size_t i = 0; i < count; ++i) {
    expect_eq(x, i, n * (n + 1) / 2.0, tag, " x");
    expect_eq(y, i, double(n), tag, " y");
  }
  comm.barrier("after overlap");
}

// Even and odd ranks form two communicators ranked in reverse (key = -rank); a
// sub-all-reduce sums world ranks of one parity. Rank 0 also tries color < 0.
inline void split(Communicator& comm) {
  const int n = comm.size(), r = comm.rank();
  auto sub = comm.split(r % 2, -r, "parity");
  if (!sub) throw std::runtime_error("split returned no communicator");
  int members = 0, above = 0;
  double parity_sum = 0;
  for (int q = 0; q < n; ++q)
    if (q % 2 == r % 2) {
      ++members;
      parity_sum += q;
      if (q > r) ++above;
    }
  if (sub->size() != members || sub->rank() != above)
    throw std::runtime_error(str("split on rank ", r, ": size ", sub->size(), " rank ", sub->rank(),
                                 ", expected ", members, " and ", above));
  if (sub->world_rank_of(sub->rank()) != comm.world_rank_of(r))
    throw std::runtime_error(str("split on rank ", r, ": world rank mapping wrong"));
  std::vector<double> v{double(r)};
  sub->all_reduce(std::span(v));
  expect_eq(v, 0, parity_sum, str("split all_reduce on rank ", r));
  auto none = comm.split(r == 0 ? -1 : 1, 0, "some");
  if ((r == 0) != (none == nullptr)) throw std::runtime_error("split with color -1 wrong");
  if (none && none->size() != n - 1)
    throw std::runtime_error("split without rank 0 has wrong size");
}

inline void all(Communicator& comm, std::size_t large) {
  for (std::size_t count : {std::size_t(0), std::size_t(1), std::size_t(1001), large}) {
    all_reduce(comm, count);
    reduce_scatter(comm, count);
    all_gather(comm, count);
    broadcast(comm, count);
    send_recv_ring(comm, count);
  }
  overlap(comm, 1001);
  overlap(comm, large);
  split(comm);
  comm.barrier("end of checks");
}

}  // namespace weft::comm::checks
