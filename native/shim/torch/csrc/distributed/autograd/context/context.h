// civet's stand-in for libtorch's torch/csrc/distributed/autograd/context/context.h.
//
// WHY: c10d's reducer.hpp (DDP's C++ core, which native/src/dist.cc binds) includes this header,
// but Debian's libtorch-dev 1.13 does not ship it (the distributed-autograd/RPC headers are left
// out of the package although libtorch_cpu.so has the code). reducer.hpp needs two names from it:
//   - DistAutogradContext::GradCallback, which a static_assert in reducer.hpp requires to be
//     exactly std::function<bool(at::Tensor&)> (the real header's definition), and
//   - ContextPtr = std::shared_ptr<DistAutogradContext>, only held in a member of
//     Reducer::RpcContext (a shared_ptr and an atomic raw pointer), so an otherwise empty class
//     gives the same object layout as the real one; civet never creates or touches a context
//     (it does not use RPC / distributed autograd).
// native/libtorch.js puts native/shim on the include path ONLY when the libtorch in use lacks the
// real header (a pip/CUDA libtorch ships it, and then this file is never seen).
#pragma once
#include <functional>
#include <memory>
#include <ATen/core/Tensor.h>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
