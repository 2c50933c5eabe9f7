// pretrain_gpu for builds without CUDA: a clear error instead of a missing feature.
// (The CUDA build defines it in pretrain_gpu_cuda.cpp; this file then compiles empty.)
#include "train/pretrain_gpu.hpp"

#include "core/error.hpp"

namespace weft::train {

#ifndef WEFT_HAVE_CUDA
PretrainResult pretrain_gpu(const PretrainOptions&) {
  throw config_error("--device cuda: this weft was built without CUDA",
                     "install the CUDA toolkit and rebuild (cmake -DWEFT_CUDA=ON), or use --device cpu");
}
#endif

}  // namespace weft::train
