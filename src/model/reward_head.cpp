// Reward head and its file. See reward_head.hpp.
#include "model/reward_head.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace weft::model {
namespace {
constexpr int kHeaderInts = 256;
}

RewardHead::RewardHead(int c) : C(c), params(static_cast<std::size_t>(c) + 1) {}

RewardHead::RewardHead(const RewardHead& other) : RewardHead(other.C) {
  std::memcpy(params.data(), other.params.data(), size() * sizeof(float));
}

RewardHead& RewardHead::operator=(const RewardHead& other) {
  if (this != &other) {
    RewardHead copy(other);
    C = copy.C;
    params = std::move(copy.params);
  }
  return *this;
}

void reward_head_save(const std::string& path, const RewardHead& head) {
  std::vector<char> bytes(kHeaderInts * 4 + head.size() * sizeof(float), 0);
  std::int32_t h[kHeaderInts] = {};
  h[0] = kRewardHeadMagic;
  h[1] = kRewardHeadVersion;
  h[2] = head.C;
  std::memcpy(bytes.data(), h, sizeof(h));
  std::memcpy(bytes.data() + sizeof(h), head.params.data(), head.size() * sizeof(float));
  file_write_atomic(path, bytes.data(), bytes.size());
}

RewardHead reward_head_load(const std::string& path, int expected_C) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error_errno("cannot open", path);
  const std::string hint = "the file is not a weft reward head: retrain it with `weft reward`";
  std::int32_t h[kHeaderInts];
  if (!in.read(reinterpret_cast<char*>(h), sizeof(h)))
    throw input_error(str(path, ": file is truncated while reading the header"), hint);
  if (h[0] != kRewardHeadMagic)
    throw input_error(str(path, ": header[0] (magic) = ", h[0], ", expected ", kRewardHeadMagic,
                          " (weft reward head)"),
                      hint);
  if (h[1] != kRewardHeadVersion)
    throw input_error(str(path, ": header[1] (version) = ", h[1], ", expected ",
                          kRewardHeadVersion),
                      hint);
  if (h[2] != expected_C)
    throw input_error(str(path, ": header[2] (C) = ", h[2], " but the model has n_embd = ",
                          expected_C),
                      "use the reward_head.bin saved beside this model.bin");
  RewardHead head(expected_C);
  if (!in.read(reinterpret_cast<char*>(head.params.data()),
               static_cast<std::streamsize>(head.size() * sizeof(float))))
    throw input_error(str(path, ": file is truncated while reading the ", head.size(),
                          " head values"),
                      hint);
  if (in.peek() != std::char_traits<char>::eof())
    throw input_error(str(path, ": trailing bytes after the ", head.size(), " head values"), hint);
  for (std::size_t i = 0; i < head.size(); ++i)
    if (!std::isfinite(head.params.data()[i]))
      throw input_error(str(path, ": head value ", i, " is not finite"), hint);
  return head;
}

}  // namespace weft::model
