// civet native layer: shared plumbing. Every exported function takes JS values, unwraps
// tensor handles, calls ATen, and wraps the result. Errors from libtorch become JS Errors
// carrying libtorch's own message (without its C++ backtrace). Nothing here decides policy.
#pragma once
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <torch/torch.h>
#include <string>
#include <vector>

namespace civet {

struct JsError {  // thrown by argument helpers, turned into a JS TypeError
  std::string msg;
};

napi_value wrap(napi_env env, at::Tensor t);
napi_value wrapList(napi_env env, const std::vector<at::Tensor>& ts);
at::Tensor& tensorArg(napi_env env, napi_value v, const char* what = "tensor");
c10::optional<at::Tensor> optTensorArg(napi_env env, napi_value v);
bool isNullish(napi_env env, napi_value v);
bool isTensor(napi_env env, napi_value v);
std::vector<at::Tensor> tensorListArg(napi_env env, napi_value v);
std::vector<int64_t> intListArg(napi_env env, napi_value v, const char* what = "int list");
c10::optional<std::vector<int64_t>> optIntListArg(napi_env env, napi_value v);
int64_t intArg(napi_env env, napi_value v, const char* what = "integer");
double numArg(napi_env env, napi_value v, const char* what = "number");
bool boolArg(napi_env env, napi_value v);
std::string strArg(napi_env env, napi_value v, const char* what = "string");
at::Scalar scalarArg(napi_env env, napi_value v);
at::ScalarType dtypeArg(napi_env env, napi_value v);
c10::optional<at::ScalarType> optDtypeArg(napi_env env, napi_value v);
at::Device deviceArg(napi_env env, napi_value v);
c10::optional<at::Generator> genArg(napi_env env, napi_value v);
napi_value num(napi_env env, double d);
napi_value boolean(napi_env env, bool b);
napi_value str(napi_env env, const std::string& s);
napi_value undef(napi_env env);
napi_value intArray(napi_env env, at::IntArrayRef xs);

void throwJs(napi_env env, const char* code, const std::string& msg);

// Argument fetch + try/catch around the body. `argv`/`argc` are in scope in the body.
#define CIVET_FN(name)                                                           \
  static napi_value name##_impl(napi_env env, napi_value* argv, size_t argc);    \
  napi_value name(napi_env env, napi_callback_info info) {                       \
    napi_value argv[12];                                                         \
    size_t argc = 12;                                                            \
    /* N-API fills argv past the given arguments with undefined */              \
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);                  \
    try {                                                                        \
      return name##_impl(env, argv, argc);                                       \
    } catch (const civet::JsError& e) {                                          \
      civet::throwJs(env, "ERR_CIVET_ARG", e.msg);                               \
    } catch (const c10::Error& e) {                                              \
      civet::throwJs(env, "ERR_CIVET_TORCH", e.what_without_backtrace());        \
    } catch (const std::exception& e) {                                          \
      civet::throwJs(env, "ERR_CIVET_NATIVE", e.what());                         \
    } catch (...) {                                                              \
      civet::throwJs(env, "ERR_CIVET_NATIVE", "unknown native error");           \
    }                                                                            \
    return nullptr;                                                              \
  }                                                                              \
  static napi_value name##_impl(napi_env env, napi_value* argv, size_t argc)

struct Export {
  const char* name;
  napi_callback fn;
};
void registerAll(napi_env env, napi_value exports, const Export* list, size_t n);

void initCore(napi_env env, napi_value exports);
void initOps(napi_env env, napi_value exports);
void initNN(napi_env env, napi_value exports);
void initJit(napi_env env, napi_value exports);
void initDist(napi_env env, napi_value exports);
void initForeach(napi_env env, napi_value exports);

}  // namespace civet
