// The CUDA device as weft sees it: how many there are, choosing one, the bf16 type of
// activations, and the one error every `--device cuda` path gives on a machine without
// a GPU. Functions here never crash without a driver: they report. Any thread.
#pragma once

#include <cuda_bf16.h>

#include <cstddef>
#include <string>

namespace weft::cuda {

using bf16 = __nv_bfloat16;  // activations and weight copies in bf16 mode

// Devices the runtime sees (0 without a driver or GPU; the sticky error is cleared).
int device_count();
// Why device_count() is 0, from the runtime ("no CUDA-capable device is detected", ...).
std::string no_device_reason();
// Throws weft::Error (kind config) "no CUDA device" with the runtime's reason and a hint
// when device_count() == 0 or `index` is out of range; else selects device `index`.
void require_device(int index, const std::string& what);
// "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" of the current device.
std::string describe_current_device();
// Free and total bytes of device memory on the current device.
void memory_info(std::size_t& free_bytes, std::size_t& total_bytes);
// Bytes allocated so far through DeviceBuffer and the high-water mark (process-wide).
std::size_t allocated_bytes();
std::size_t peak_allocated_bytes();
void note_alloc(std::ptrdiff_t bytes);

}  // namespace weft::cuda
