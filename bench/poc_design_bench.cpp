// (a) The proof of concept's design: a new instance, adapter, device, shader module, pipeline
// and buffers for every call, through the same Dawn. Executor::create() + one run() is exactly
// that (the executor's destruction is part of the call, as it was in the proof of concept).
#include "bench_common.h"

namespace kem::bench {
namespace {

void BM_PocDesign(benchmark::State& state) {
  const uint64_t bytes = uint64_t(state.range(0));
  if (skip_if_over_limits(state, bytes)) return;
  KernelRequest request;
  request.source = double_integer();
  request.input = input_of(bytes);
  std::vector<uint8_t> last;
  for (auto _ : state) {
    auto created = Executor::create(options());
    if (!created) {
      state.SkipWithError(created.error().message.c_str());
      break;
    }
    auto out = (*created)->run(request);
    if (!out) {
      state.SkipWithError(out.error().message.c_str());
      break;
    }
    last = std::move(*out);
  }
  if (!last.empty() && !doubled(last.data(), last.size())) state.SkipWithError("wrong output");
  count_round_trip_bytes(state, bytes);
}

}  // namespace

void register_poc_design() { register_sizes("BM_PocDesign", BM_PocDesign, true); }

}  // namespace kem::bench
