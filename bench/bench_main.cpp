// kem_bench: every C++ peer of issue 6 in one binary, registered in report order.
// BENCHMARK() registrations (executor_bench.cpp and any other file) run first.
#include "bench_common.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  kem::bench::register_poc_design();
  kem::bench::register_kem_warm();
  kem::bench::register_raw_dawn();
  kem::bench::register_concurrency();
  kem::bench::register_compute();
  kem::bench::register_kernel_shapes();
  kem::bench::register_transfer_sweep();
  benchmark::RunSpecifiedBenchmarks();
  kem::bench::release_transfer_sweep();
  benchmark::Shutdown();
  return 0;
}
