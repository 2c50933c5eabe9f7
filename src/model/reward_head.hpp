// The reward model's scalar head: r = w·h + b on a final hidden state h (C), and its
// file `reward_head.bin` (docs/formats.md "Reward head"), stored beside the
// transformer's model.bin. A value type that owns its (C + 1) floats; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "core/aligned_buffer.hpp"

namespace weft::model {

inline constexpr std::int32_t kRewardHeadMagic = 20261128;
inline constexpr std::int32_t kRewardHeadVersion = 1;

struct RewardHead {
  int C = 0;
  AlignedBuffer<float> params;  // (C + 1): w (C) then b

  explicit RewardHead(int C = 0);  // w = 0, b = 0
  RewardHead(const RewardHead& other);
  RewardHead& operator=(const RewardHead& other);
  float* w() { return params.data(); }
  const float* w() const { return params.data(); }
  float& b() { return params.data()[C]; }
  float b() const { return params.data()[C]; }
  std::size_t size() const { return static_cast<std::size_t>(C) + 1; }
};

// Writes the file atomically (never a half file).
void reward_head_save(const std::string& path, const RewardHead& head);
// Reads and validates (magic, version, C == expected_C, size, finite values);
// errors name the file and the field.
RewardHead reward_head_load(const std::string& path, int expected_C);

}  // namespace weft::model
