// kem_wgsl_front_end_bench: the cost of KEM's own passes in a metered cold compile (parse,
// reflect, meter; Dawn not included), and a dump of their results for comparing two builds
// byte for byte (issue 13). The same file builds against the commit before issue 13, whose
// compile path called meter_wgsl(source) and then reflect_wgsl(source), each parsing the text:
// compare the two binaries' output (docs in the header of each mode below).
//
//   kem_wgsl_front_end_bench time [FILE...]  median and fastest front end per kernel, in µs, for
//                                            the files and two generated kernels (2,000 loops;
//                                            200 KB)
//   kem_wgsl_front_end_bench dump FILE...    reflection and metering of each file, or the error
//   kem_wgsl_front_end_bench worst [N] [L]   one front end run, in s, of each worst case of
//                                            issue 19: a chain of N functions (default 20,000),
//                                            L loops of run-time bound (default 10,000), and
//                                            about 1 MiB each of nested loops in a function
//                                            with a barrier, statements, deep expressions
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kem/reflection.h"

#if __has_include("wgsl/parsed_module.h")
#define KEM_PARSE_ONCE 1
#include "wgsl/front_end_runs.h"
#include "wgsl/metering.h"
#include "wgsl/parsed_module.h"
#include "wgsl/reflect.h"
#else
#define KEM_PARSE_ONCE 0
#include "kem/metering.h"
#endif

namespace {

using namespace kem;

struct FrontEnd {
  Result<Reflection> reflection;
  Result<MeteredKernel> metered;
};

// What a metered cold compile runs before Dawn sees the kernel (src/executor/compiled_kernel.cpp).
FrontEnd front_end(std::string_view source) {
#if KEM_PARSE_ONCE
  Result<wgsl::ParsedModule> parsed = wgsl::parse_kernel(source);
  if (!parsed) return {parsed.error(), parsed.error()};
  Result<Reflection> reflection = reflect(*parsed);
  if (!reflection) return {reflection.error(), reflection.error()};
  Result<MeteredKernel> metered = meter(*parsed, *reflection);
  return {std::move(reflection), std::move(metered)};
#else
  Result<MeteredKernel> metered = meter_wgsl(source);
  Result<Reflection> reflection = reflect_wgsl(source);
  return {std::move(reflection), std::move(metered)};
#endif
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `functions` functions of `lines` arithmetic statements and `loops` loops each, the loops
// cycling through the kinds metering treats apart: ticked, charged before, charged as it starts.
std::string generated_kernel(int functions, int lines, int loops) {
  std::string s =
      "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> dst: array<u32>;\n";
  int loop_kind = 0;
  for (int f = 0; f < functions; ++f) {
    const std::string n = std::to_string(f);
    s += "fn f" + n + "(x: u32) -> u32 {\n  var acc = x;\n";
    for (int l = 0; l < lines; ++l)
      s += "  acc = (acc * " + std::to_string(l + 3) + "u + src[" + std::to_string(l % 7) + "]) ^ (acc >> 3u);\n";
    for (int l = 0; l < loops; ++l, ++loop_kind) {
      switch (loop_kind % 3) {
        case 0: s += "  while acc > 1000u { acc = acc / 3u; }\n"; break;
        case 1: s += "  for (var i = 0u; i < 16u; i++) { acc += i; }\n"; break;
        default: s += "  for (var i = 0u; i < src[1]; i++) { acc ^= i; }\n"; break;
      }
    }
    s += "  return acc;\n}\n";
  }
  s += "@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
       "  dst[id.x] = f0(id.x) + f" + std::to_string(functions - 1) + "(id.x);\n}\n";
  return s;
}

struct Kernel {
  std::string name;
  std::string source;
};

double micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// Repeats the front end for about a second (5 runs at least, 2,000 at most) after one warm-up.
void time_kernel(const Kernel& k) {
  FrontEnd warm = front_end(k.source);
  if (!warm.metered) {
    std::printf("%-28s error: %s\n", k.name.c_str(), warm.metered.error().message.c_str());
    return;
  }
  std::vector<double> runs;
  const auto start = std::chrono::steady_clock::now();
#if KEM_PARSE_ONCE
  const wgsl::FrontEndRuns before = wgsl::front_end_runs();
#endif
  auto more = [&] {
    return runs.size() < 5 || (runs.size() < 2000 && std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  };
  while (more()) {
    const auto t0 = std::chrono::steady_clock::now();
    FrontEnd f = front_end(k.source);
    runs.push_back(micros(std::chrono::steady_clock::now() - t0));
    if (!f.metered) std::abort();
  }
  std::string reads = "-";
#if KEM_PARSE_ONCE
  const wgsl::FrontEndRuns after = wgsl::front_end_runs();
  reads = std::to_string((after.tokenizations - before.tokenizations) / runs.size()) + "/" +
          std::to_string((after.parses - before.parses) / runs.size());
#endif
  std::sort(runs.begin(), runs.end());
  std::printf("%-28s %9zu %6u %11.1f %11.1f %6zu %9s\n", k.name.c_str(), k.source.size(),
              warm.metered->metered_loops + warm.metered->charged_loops + warm.metered->range_loops,
              runs[runs.size() / 2], runs.front(), runs.size(), reads.c_str());
}

int time_mode(const std::vector<std::string>& files) {
  std::vector<Kernel> kernels;
  for (const std::string& f : files) kernels.push_back({f.substr(f.find_last_of('/') + 1), read_file(f)});
  kernels.push_back({"generated 2,000 loops", generated_kernel(200, 2, 10)});
  kernels.push_back({"generated 200 KB", generated_kernel(560, 6, 1)});
  std::printf("%s build\n%-28s %9s %6s %11s %11s %6s %9s\n", KEM_PARSE_ONCE ? "parse-once" : "base", "kernel",
              "bytes", "loops", "median_us", "fastest_us", "runs", "lex/parse");
  for (const Kernel& k : kernels) time_kernel(k);
  return 0;
}

// f(i) calls f(i+1), the last holds a loop: "contains a loop through a call" must climb the
// chain against the order of the names (zero-padded, so a pass in name order learns one link).
std::string chained_functions(int n) {
  auto name = [](int i) {
    std::string digits = std::to_string(i);
    return "f" + std::string(digits.size() < 6 ? 6 - digits.size() : 0, '0') + digits;
  };
  std::string s = "@group(0) @binding(0) var<storage, read_write> out: array<u32>;\n";
  for (int i = 0; i + 1 < n; ++i) s += "fn " + name(i) + "() -> u32 { return " + name(i + 1) + "() + 1u; }\n";
  s += "fn " + name(n - 1) + "() -> u32 { var t = 0u; for (var i = 0u; i < out[0]; i++) { t += i; } return t; }\n";
  return s + "@compute @workgroup_size(1) fn main() { for (var k = 0u; k < 2u; k++) { out[k] = " + name(0) +
         "(); } }\n";
}

// `loops` for loops whose bound is read at run time (range loops, range_loop.h).
std::string many_range_loops(int loops) {
  std::string s = "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
                  "@group(0) @binding(1) var<storage, read_write> out: array<u32>;\n"
                  "@compute @workgroup_size(1) fn main() {\n  var t = 0u;\n";
  for (int i = 0; i < loops; ++i) s += "  for (var i = 0u; i < src[1]; i++) { t += i; }\n";
  return s + "  out[0] = t;\n}\n";
}

constexpr size_t kMiB = 1u << 20;

// Nests of `depth` loops, each inside an `if`, repeated up to about `bytes`, in a function that
// reaches a barrier: every loop is widenable and each walk of a nest is as deep as the parser
// allows (kMaxNesting is 256; an `if` and a loop take two levels each).
std::string nested_loops_near_a_barrier(int depth, size_t bytes) {
  std::string s = "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
                  "@group(0) @binding(1) var<storage, read_write> out: array<u32>;\n"
                  "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) l: u32) {\n  var t = 0u;\n";
  while (s.size() < bytes) {
    for (int d = 0; d < depth; ++d) s += "if (src[" + std::to_string(d % 7) + "] > t) { while (t < src[2]) { ";
    s += "t += 1u;";
    for (int d = 0; d < depth; ++d) s += " } }";
    s += "\n";
  }
  return s + "  if (t > 3u) { workgroupBarrier(); }\n  out[l] = t;\n}\n";
}

// About `bytes` of straight-line statements in one entry point.
std::string straight_line(size_t bytes) {
  std::string s = "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
                  "@group(0) @binding(1) var<storage, read_write> out: array<u32>;\n"
                  "@compute @workgroup_size(1) fn main() {\n  var t = src[0];\n";
  for (int i = 0; s.size() < bytes; ++i) s += "  t = (t * 3u + (t >> 2u)) ^ " + std::to_string(i) + "u;\n";
  return s + "  out[0] = t;\n}\n";
}

// Statements whose expressions are `height` operators deep (the parser allows 1,024 levels; a
// parenthesis is a statement-nesting level too, of which it allows 256),
// repeated up to about `bytes`.
std::string deep_expressions(int height, size_t bytes) {
  std::string s = "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
                  "@group(0) @binding(1) var<storage, read_write> out: array<u32>;\n"
                  "@compute @workgroup_size(1) fn main() {\n  var t = src[0];\n";
  while (s.size() < bytes) {
    s += "  t = t";  // a left-associative chain: each operator one level above the last
    for (int i = 0; i < height; ++i) s += i % 2 ? " + t" : " - t";
    s += ";\n";
  }
  return s + "  out[0] = t;\n}\n";
}

int worst_mode(int functions, int loops) {
  const Kernel cases[] = {{"chain of " + std::to_string(functions) + " functions", chained_functions(functions)},
                          {std::to_string(loops) + " range loops", many_range_loops(loops)},
                          {"nests of 60 loops, barrier", nested_loops_near_a_barrier(60, kMiB)},
                          {"1 MiB of statements", straight_line(kMiB)},
                          {"expressions 1,000 deep", deep_expressions(1000, kMiB)}};
  std::printf("%-28s %9s %9s\n", "case", "bytes", "seconds");
  for (const Kernel& k : cases) {
    const auto t0 = std::chrono::steady_clock::now();
    FrontEnd f = front_end(k.source);
    const double s = micros(std::chrono::steady_clock::now() - t0) / 1e6;
    std::printf("%-28s %9zu %9.3f %u range loops%s\n", k.name.c_str(), k.source.size(), s,
                f.metered ? f.metered->range_loops : 0u,
                f.metered ? "" : (" error: " + f.metered.error().message).c_str());
  }
  return 0;
}

// One line per fact, so that two builds' dumps compare with diff.
void dump_kernel(const std::string& path) {
  const std::string source = read_file(path);
  FrontEnd f = front_end(source);
  std::printf("== %s\n", path.c_str());
  if (!f.reflection) {
    std::printf("reflect error %d %s\n", static_cast<int>(f.reflection.error().code),
                f.reflection.error().message.c_str());
  } else {
    for (const ResourceBinding& b : f.reflection->bindings)
      std::printf("binding %u %u %s %s %s %s %u:%u\n", b.group, b.binding, b.name.c_str(),
                  std::string(to_string(b.address_space)).c_str(), std::string(to_string(b.access)).c_str(),
                  b.type.c_str(), b.line, b.column);
    for (const EntryPoint& e : f.reflection->entry_points)
      std::printf("entry %s %u %u %u %d %u:%u\n", e.name.c_str(), e.workgroup_size[0], e.workgroup_size[1],
                  e.workgroup_size[2], e.reads_num_workgroups ? 1 : 0, e.line, e.column);
  }
  if (!f.metered) {
    std::printf("meter error %d %s\n", static_cast<int>(f.metered.error().code), f.metered.error().message.c_str());
    return;
  }
  const MeteredKernel& m = *f.metered;
  std::printf("meter %u metered %u uniform %u charged %u range, group %u binding %u\n", m.metered_loops,
              m.uniform_loops, m.charged_loops, m.range_loops, m.group, m.binding);
  for (const MeteredKernel::Insertion& i : m.insertions) std::printf("insert %u %u\n", i.offset, i.length);
  // Where every 97th byte of the transformed text maps back to: the source map, sampled.
  for (uint64_t at = 0; at <= m.source.size(); at += 97) {
    const OriginalLocation o = m.to_original(at);
    std::printf("map %llu %u %u:%u %d\n", static_cast<unsigned long long>(at), o.offset, o.line, o.column,
                o.in_inserted_code ? 1 : 0);
  }
  std::printf("source %zu\n%s\n", m.source.size(), m.source.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "time";
  std::vector<std::string> files(argv + std::min(argc, 2), argv + argc);
  if (mode == "time") return time_mode(files);
  if (mode == "worst")
    return worst_mode(argc > 2 ? std::atoi(argv[2]) : 20000, argc > 3 ? std::atoi(argv[3]) : 10000);
  if (mode == "dump") {
    for (const std::string& f : files) dump_kernel(f);
    return 0;
  }
  std::fprintf(stderr, "usage: %s time [FILE...] | dump FILE...\n", argv[0]);
  return 2;
}
