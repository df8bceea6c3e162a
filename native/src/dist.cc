// civet's bindings to libtorch's own distributed engine (c10d): the TCP rendezvous store, the gloo
// process group (CPU) and, in builds that have it, the NCCL one (CUDA); broadcast, all-reduce,
// all-gather and barrier; c10d::Reducer, the C++ core of PyTorch's DistributedDataParallel
// (gradient buckets filled by autograd hooks, each bucket all-reduced as soon as it is full, so
// communication overlaps the rest of backward); and, for comparison, a plain bucketed gradient
// average run after backward. reducer.hpp includes a distributed-autograd header Debian's
// libtorch-dev lacks: native/shim has civet's minimal stand-in (see there). Every collective waits
// with the group's timeout and a failure (peer gone, timeout) becomes a JS exception through
// CIVET_FN, never a crash.
#include "common.h"

#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef CIVET_NCCL
#define USE_C10D_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace civet {

namespace {

struct StoreHolder { c10::intrusive_ptr<c10d::Store> store; };
struct GroupHolder {
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  std::chrono::milliseconds timeout;
  std::string backend;
};

template <typename T>
void finalizeHolder(napi_env, void* data, void*) {
  // A process group's teardown may fail after a peer died: a
  // garbage-collection finalizer must not throw.
  try { delete static_cast<T*>(data); } catch (...) {}
}

template <typename T>
napi_value external(napi_env env, T* h) {
  napi_value out;
  napi_create_external(env, h, finalizeHolder<T>, nullptr, &out);
  return out;
}

template <typename T>
T& holderArg(napi_env env, napi_value v, const char* what) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) throw JsError{std::string("expected a ") + what};
  return *static_cast<T*>(p);
}

GroupHolder& groupArg(napi_env env, napi_value v) {
  auto& g = holderArg<GroupHolder>(env, v, "process group");
  if (!g.pg) throw JsError{"process group used after destroy()"};
  return g;
}

std::chrono::milliseconds msArg(napi_env env, napi_value v, const char* what) {
  int64_t ms = intArg(env, v, what);
  if (ms <= 0) throw JsError{std::string(what) + " must be a positive number of milliseconds"};
  return std::chrono::milliseconds(ms);
}

// Waits for a collective; gloo enforces the group timeout itself, the explicit wait bounds the
// rest. A false return (timed out without an exception) is turned into one.
void waitWork(const c10::intrusive_ptr<c10d::Work>& w, const GroupHolder& g, const char* what) {
  if (!w->wait(g.timeout)) throw std::runtime_error(std::string(what) + ": timed out after " + std::to_string(g.timeout.count()) + " ms");
}

c10d::ReduceOp reduceOpArg(const std::string& op) {
  if (op == "sum") return c10d::ReduceOp::SUM;
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  if (op == "product") return c10d::ReduceOp::PRODUCT;
  throw JsError{"unknown reduce op '" + op + "' (sum, max, min, product)"};
}

}  // namespace

// distStore(host, port, isServer, worldSize, timeoutMs): the rendezvous every rank meets at (rank 0
// serves it, like torch.distributed's env:// init).
CIVET_FN(distStore) {
  std::string host = strArg(env, argv[0], "host");
  int64_t port = intArg(env, argv[1], "port");
  if (port < 0 || port > 65535) throw JsError{"port must be in 0..65535, got " + std::to_string(port)};
  c10d::TCPStoreOptions o;
  o.port = (uint16_t)port;
  o.isServer = boolArg(env, argv[2]);
  o.numWorkers = (size_t)intArg(env, argv[3], "worldSize");
  o.waitWorkers = true;
  o.timeout = msArg(env, argv[4], "timeoutMs");
  auto store = c10::make_intrusive<c10d::TCPStore>(host, o);
  return external(env, new StoreHolder{store});
}

CIVET_FN(distStoreSet) {
  auto& s = holderArg<StoreHolder>(env, argv[0], "store");
  std::string v = strArg(env, argv[2], "value");
  s.store->set(strArg(env, argv[1], "key"), std::vector<uint8_t>(v.begin(), v.end()));
  return undef(env);
}

CIVET_FN(distStoreGet) {
  auto& s = holderArg<StoreHolder>(env, argv[0], "store");
  auto v = s.store->get(strArg(env, argv[1], "key"));
  return str(env, std::string(v.begin(), v.end()));
}

// distGroup(store, rank, size, backend, timeoutMs, prefix, hostname?): a process group over the
// store. Each group gets its own key prefix, as torch.distributed does for new_group().
CIVET_FN(distGroup) {
  auto& s = holderArg<StoreHolder>(env, argv[0], "store");
  int rank = (int)intArg(env, argv[1], "rank"), size = (int)intArg(env, argv[2], "size");
  if (size < 1 || rank < 0 || rank >= size) throw JsError{"rank " + std::to_string(rank) + " is not in 0.." + std::to_string(size - 1)};
  std::string backend = strArg(env, argv[3], "backend");
  auto timeout = msArg(env, argv[4], "timeoutMs");
  auto store = c10::make_intrusive<c10d::PrefixStore>(strArg(env, argv[5], "prefix"), s.store);
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  if (backend == "gloo") {
    auto o = c10d::ProcessGroupGloo::Options::create(timeout);
    if (!isNullish(env, argv[6])) o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(strArg(env, argv[6], "hostname")));
    else o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    o->threads = 2;
    pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, o);
  } else if (backend == "nccl") {
#ifdef CIVET_NCCL
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = timeout;
    pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, o);
#else
    throw JsError{"backend 'nccl': this civet build has no NCCL (build against a CUDA libtorch with NCCL headers via LIBTORCH)"};
#endif
  } else {
    throw JsError{"unknown backend '" + backend + "' (gloo, nccl)"};
  }
  return external(env, new GroupHolder{pg, timeout, backend});
}

CIVET_FN(distHasNccl) {
#ifdef CIVET_NCCL
  return boolean(env, true);
#else
  return boolean(env, false);
#endif
}

// Frees the group now (its threads and sockets) rather than at garbage collection.
CIVET_FN(distDestroy) {
  auto& g = holderArg<GroupHolder>(env, argv[0], "process group");
  g.pg.reset();
  return undef(env);
}

// distBroadcast(group, tensors, root): in place, every rank ends with root's values.
CIVET_FN(distBroadcast) {
  auto& g = groupArg(env, argv[0]);
  auto ts = tensorListArg(env, argv[1]);
  c10d::BroadcastOptions o;
  o.rootRank = intArg(env, argv[2], "root");
  o.timeout = g.timeout;
  // one collective per tensor: gloo broadcasts a list only when it is a list of replicas
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& t : ts) {
    std::vector<at::Tensor> one{t};
    works.push_back(g.pg->broadcast(one, o));
  }
  for (auto& w : works) waitWork(w, g, "broadcast");
  return undef(env);
}

// distAllReduce(group, tensors, op): in place on each tensor.
CIVET_FN(distAllReduce) {
  auto& g = groupArg(env, argv[0]);
  auto ts = tensorListArg(env, argv[1]);
  c10d::AllreduceOptions o;
  o.reduceOp = reduceOpArg(strArg(env, argv[2], "op"));
  o.timeout = g.timeout;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& t : ts) {
    std::vector<at::Tensor> one{t};
    works.push_back(g.pg->allreduce(one, o));
  }
  for (auto& w : works) waitWork(w, g, "allReduce");
  return undef(env);
}

// distAllGather(group, tensor): one new tensor per rank, in rank order.
CIVET_FN(distAllGather) {
  auto& g = groupArg(env, argv[0]);
  at::Tensor t = tensorArg(env, argv[1]).contiguous();
  std::vector<at::Tensor> in{t};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int i = 0; i < g.pg->getSize(); i++) out[0].push_back(at::empty_like(t));
  c10d::AllgatherOptions o;
  o.timeout = g.timeout;
  waitWork(g.pg->allgather(out, in, o), g, "allGather");
  return wrapList(env, out[0]);
}

CIVET_FN(distBarrier) {
  auto& g = groupArg(env, argv[0]);
  c10d::BarrierOptions o;
  o.timeout = g.timeout;
  waitWork(g.pg->barrier(o), g, "barrier");
  return undef(env);
}

// distAverageGrads(group, params, bucketBytes): the plain scheme, after backward: the gradients
// flattened into buckets of about bucketBytes, each bucket summed across ranks (all buckets in
// flight at once) and divided by the world size, then copied back. A parameter without a gradient
// contributes zeros so every rank's buckets have the same layout.
CIVET_FN(distAverageGrads) {
  auto& g = groupArg(env, argv[0]);
  auto ps = tensorListArg(env, argv[1]);
  int64_t cap = intArg(env, argv[2], "bucketBytes");
  torch::NoGradGuard ng;
  std::vector<at::Tensor> grads;
  for (auto& p : ps) {
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  std::vector<std::vector<size_t>> buckets;
  int64_t bytes = cap;
  for (size_t i = 0; i < grads.size(); i++) {
    auto& t = grads[i];
    bool fresh = buckets.empty() || bytes >= cap || t.scalar_type() != grads[buckets.back()[0]].scalar_type() || t.device() != grads[buckets.back()[0]].device();
    if (fresh) { buckets.emplace_back(); bytes = 0; }
    buckets.back().push_back(i);
    bytes += t.numel() * t.element_size();
  }
  c10d::AllreduceOptions o;
  o.timeout = g.timeout;
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& b : buckets) {
    std::vector<at::Tensor> parts;
    for (size_t i : b) parts.push_back(grads[i].reshape({-1}));
    std::vector<at::Tensor> one{at::cat(parts)};
    flats.push_back(one[0]);
    works.push_back(g.pg->allreduce(one, o));
  }
  double n = (double)g.pg->getSize();
  for (size_t k = 0; k < buckets.size(); k++) {
    waitWork(works[k], g, "averageGrads");
    flats[k].div_(n);
    int64_t off = 0;
    for (size_t i : buckets[k]) {
      int64_t m = grads[i].numel();
      grads[i].copy_(flats[k].narrow(0, off, m).view(grads[i].sizes()));
      off += m;
    }
  }
  return num(env, (double)buckets.size());
}


// ---- c10d::Reducer (DDP) ------------------------------------------------------------------------
// Wired as torch/nn/parallel/distributed.py (v1.13) wires it: buckets from
// compute_bucket_assignment_by_size with a small first bucket (kDefaultFirstBucketBytes, so the
// first all-reduce starts early in backward) and bucketBytes after, passed to the Reducer in
// reverse (gradients arrive roughly in reverse parameter order); prepare_for_forward +
// rebuild_buckets before each synchronised forward, prepare_for_backward(outputs) before its
// backward. The Reducer's hooks sit on the parameters' grad accumulators, i.e. in libtorch's
// autograd engine, which civet's backward() runs: after backward returns, every parameter's grad
// holds the average over ranks. A backward without prepare_for_backward is not synchronised
// (DDP's no_sync, used for the first micro-batches of gradient accumulation).
// A raw pointer on purpose: ~Reducer is noexcept(false) (it checks that its hooks come off), and an
// exception out of unique_ptr's noexcept destructor would terminate the process.
struct ReducerHolder {
  c10d::Reducer* reducer = nullptr;
  size_t buckets = 0;
  void destroy() {
    c10d::Reducer* r = reducer;
    reducer = nullptr;
    try { delete r; } catch (...) {}
  }
  ~ReducerHolder() { destroy(); }
};

// distReducer(group, params, bucketBytes, findUnused): the Reducer over these parameters (leaf
// tensors that require grad, the same list in the same order on every rank).
CIVET_FN(distReducer) {
  auto& g = groupArg(env, argv[0]);
  auto ps = tensorListArg(env, argv[1]);
  int64_t cap = intArg(env, argv[2], "bucketBytes");
  bool findUnused = boolArg(env, argv[3]);
  if (ps.empty()) throw JsError{"reducer: no parameters"};
  if (cap <= 0) throw JsError{"reducer: bucketBytes must be positive"};
  for (size_t i = 0; i < ps.size(); i++) {
    if (!ps[i].requires_grad() || !ps[i].is_leaf()) throw JsError{"reducer: parameter " + std::to_string(i) + " is not a leaf tensor that requires grad"};
  }
  std::vector<bool> sparse(ps.size(), false);
  std::vector<size_t> limits{(size_t)std::min<int64_t>(c10d::kDefaultFirstBucketBytes, cap), (size_t)cap};
  auto assigned = c10d::compute_bucket_assignment_by_size(ps, limits, sparse);
  auto indices = std::get<0>(assigned);
  auto sizes = std::get<1>(assigned);
  std::reverse(indices.begin(), indices.end());
  std::reverse(sizes.begin(), sizes.end());
  size_t n = indices.size();
  auto r = new c10d::Reducer(ps, indices, sizes, g.pg, sparse, cap, findUnused,
                                           /*gradient_as_bucket_view=*/false, std::unordered_map<size_t, std::string>{},
                                           /*first_bucket_bytes_cap=*/(int64_t)c10d::kDefaultFirstBucketBytes);
  auto h = new ReducerHolder;
  h->reducer = r;
  h->buckets = n;
  return external(env, h);
}

ReducerHolder& reducerArg(napi_env env, napi_value v) {
  auto& r = holderArg<ReducerHolder>(env, v, "reducer");
  if (!r.reducer) throw JsError{"reducer used after destroy()"};
  return r;
}

// Before a forward whose backward will be synchronised.
CIVET_FN(distReducerPrepareForward) {
  auto& r = reducerArg(env, argv[0]);
  r.reducer->prepare_for_forward();
  // after the first synchronised backward the buckets are rebuilt once in the order gradients
  // arrived (a broadcast from rank 0, so every rank must call this at the same point)
  bool rebuilt = r.reducer->rebuild_buckets();
  return boolean(env, rebuilt);
}

// distReducerPrepareBackward(reducer, outputs): arms the hooks for the next backward.
CIVET_FN(distReducerPrepareBackward) {
  auto& r = reducerArg(env, argv[0]);
  r.reducer->prepare_for_backward(tensorListArg(env, argv[1]));
  return undef(env);
}

CIVET_FN(distReducerBuckets) {
  auto& r = reducerArg(env, argv[0]);
  return num(env, (double)r.buckets);
}

// Removes the hooks now (the Reducer's destructor does; it may throw after a failed backward).
CIVET_FN(distReducerDestroy) {
  auto& r = holderArg<ReducerHolder>(env, argv[0], "reducer");
  r.destroy();
  return undef(env);
}

void initDist(napi_env env, napi_value exports) {
  static const Export list[] = {
      {"distStore", distStore}, {"distStoreSet", distStoreSet}, {"distStoreGet", distStoreGet},
      {"distGroup", distGroup}, {"distHasNccl", distHasNccl}, {"distDestroy", distDestroy},
      {"distBroadcast", distBroadcast}, {"distAllReduce", distAllReduce}, {"distAllGather", distAllGather},
      {"distBarrier", distBarrier}, {"distAverageGrads", distAverageGrads},
      {"distReducer", distReducer}, {"distReducerPrepareForward", distReducerPrepareForward},
      {"distReducerPrepareBackward", distReducerPrepareBackward}, {"distReducerBuckets", distReducerBuckets},
      {"distReducerDestroy", distReducerDestroy},
  };
  registerAll(env, exports, list, sizeof(list) / sizeof(list[0]));
}

}  // namespace civet
