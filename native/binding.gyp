{
  "targets": [{
    "target_name": "civet",
    "sources": ["src/core.cc", "src/ops.cc", "src/nn.cc", "src/jit.cc", "src/dist.cc", "src/foreach.cc"],
    "include_dirs": ["<!@(node libtorch.js include)"],
    "defines": ["<!@(node libtorch.js defines)", "NAPI_VERSION=8"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++1y", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-deprecated-declarations", "-Wno-unused-parameter", "-Wno-unused-variable"],
    "libraries": ["<!@(node libtorch.js libs)"]
  }]
}
