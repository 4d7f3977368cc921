// The kem command as a user runs it: a real process, real files, exit statuses and messages.
#include <gtest/gtest.h>

#include <csignal>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class KemCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kem-cli-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return dir_ / name;
  }

  // Runs `env kem args < stdin_bytes` and captures everything.
  Outcome kem(const std::string& args, const std::string& stdin_bytes = "", const std::string& env = "") {
    write("stdin", stdin_bytes);
    std::string cmd = "cd " + std::string(KEM_SOURCE_DIR) + " && " + env + " " + KEM_BINARY + " " + args + " < " +
                      (dir_ / "stdin").string() + " > " + (dir_ / "stdout").string() + " 2> " +
                      (dir_ / "stderr").string();
    int raw = std::system(cmd.c_str());
    Outcome o;
    o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    o.out = slurp(dir_ / "stdout");
    o.err = slurp(dir_ / "stderr");
    return o;
  }

  fs::path dir_;
};

TEST_F(KemCli, TheIssueExamplePrintsDoubledBytesInHex) {
  auto o = kem("run kernels/double-integer.wgsl --hint 1 --format hex", std::string("\x01\x03\x05\x07", 4));
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "02060a0e\n");
}

TEST_F(KemCli, InputAndOutputFilesAndU32Format) {
  // Words 1, 2, 0x7fffffff, 0x80000001 doubled (wrapping): 2, 4, 4294967294, 2.
  auto in = write("in.bin", std::string("\x01\0\0\0\x02\0\0\0\xff\xff\xff\x7f\x01\0\0\x80", 16));
  auto o = kem("run kernels/double-integer.wgsl --input " + in.string() + " --format u32 --output " +
               (dir_ / "out.txt").string());
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(slurp(dir_ / "out.txt"), "2\n4\n4294967294\n2\n");
}

TEST_F(KemCli, ParamsFromTheCommandLine) {
  // pixelize with block 1 is the identity on a 3x2 image.
  std::string image;
  for (int i = 0; i < 6; ++i) image += std::string{char(i), char(10 + i), char(20 + i), char(30 + i)};
  auto o = kem("run kernels/pixelize.wgsl --param 3 --param 2 --param 1 --format raw", image);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, image);
}

TEST_F(KemCli, CheckPrintsTheReflection) {
  auto o = kem("check kernels/double-integer.wgsl");
  ASSERT_EQ(o.status, 0) << o.err;
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["entry_points"][0]["name"], "main");
  EXPECT_EQ(j["entry_points"][0]["workgroup_size"], nlohmann::json::parse("[256,1,1]"));
  ASSERT_EQ(j["bindings"].size(), 2u);
  EXPECT_EQ(j["bindings"][0]["binding"], 0);
  EXPECT_EQ(j["bindings"][0]["access"], "read");
  EXPECT_EQ(j["bindings"][1]["binding"], 1);
  EXPECT_EQ(j["bindings"][1]["access"], "read_write");
}

TEST_F(KemCli, CheckReportsCompileErrorsWithLineAndColumn) {
  auto bad = write("bad.wgsl",
                   "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
                   "@compute @workgroup_size(8)\n"
                   "fn main() {\n"
                   "  let x: u32 = input[0] + oops;\n"
                   "}\n");
  // As GCC, Clang and Tint print them: FILE:LINE:COL: error: message, the line, a caret.
  const std::string expected = bad.string() + ":4:27: error: unresolved value 'oops'\n" +
                               "      let x: u32 = input[0] + oops;\n" +
                               "                              ^\n";
  auto o = kem("check " + bad.string());
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.err, expected);
  o = kem("run " + bad.string(), "abcd");
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.err, expected);
  // For tools: the same facts as JSON on standard output.
  o = kem("check --format json " + bad.string());
  EXPECT_EQ(o.status, 1);
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j, nlohmann::json({{"error", "compile_error"},
                               {"file", bad.string()},
                               {"diagnostics", {{{"line", 4}, {"column", 27},
                                                 {"message", "unresolved value 'oops'"}}}}}));
}

TEST_F(KemCli, ATabBeforeTheColumnStaysATabUnderIt) {
  auto bad = write("tab.wgsl", "@compute @workgroup_size(1)\nfn main() {\n\tlet x = nope;\n}\n");
  auto o = kem("check " + bad.string());
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.err, bad.string() + ":3:10: error: unresolved value 'nope'\n" +
                       "    \tlet x = nope;\n" +
                       "    \t        ^\n");
}

TEST_F(KemCli, OverridesFromTheCommandLine) {
  // An override without default (the call cannot run without it) and one keyed by its @id.
  auto kernel = write("scale.wgsl",
                      "override scale: u32;\n"
                      "@id(3) override offset: u32 = 0u;\n"
                      "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
                      "@group(0) @binding(1) var<storage, read_write> dst: array<u32>;\n"
                      "@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
                      "  if (id.x < arrayLength(&dst)) { dst[id.x] = src[id.x] * scale + offset; }\n"
                      "}\n");
  const std::string words("\x01\0\0\0\x02\0\0\0\x03\0\0\0", 12);
  auto o = kem("run " + kernel.string() + " --override scale=5 --format u32", words);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "5\n10\n15\n");
  o = kem("run " + kernel.string() + " --override scale=2 --override 3=100 --format u32", words);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "102\n104\n106\n");

  o = kem("run " + kernel.string() + " --format u32", words);  // no value for scale
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("invalid_argument: override 'scale' has no default"), std::string::npos) << o.err;
  o = kem("run " + kernel.string() + " --override scale=2 --override bogus=1", words);
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("override 'bogus' is not declared"), std::string::npos) << o.err;
  o = kem("run " + kernel.string() + " --override scale=-3", words);
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("override 'scale': the value -3 is outside the range of u32"), std::string::npos) << o.err;
  // Not NAME=VALUE: a usage error, before any kernel is read.
  for (const char* bad : {"scale", "scale=", "=5", "scale=five", "scale=5x"}) {
    o = kem("run " + kernel.string() + " --override " + bad, words);
    EXPECT_EQ(o.status, 2) << bad;
    EXPECT_NE(o.err.find("--override"), std::string::npos) << o.err;
  }
}

// lavapipe's compiler divides INT_MIN by -1 on this kernel (SIGFPE). Its first compile runs in
// the kernel sandbox, so kem reports the refusal instead of dying of the signal, which it still
// does with the sandbox and the GPU worker both turned off (exit status 128 + 8 through the shell).
TEST_F(KemCli, AKernelThatKillsTheCompilerIsRefusedInsteadOfKillingKem) {
  auto fpe = write("fpe.wgsl",
                   "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
                   "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
                   "@compute @workgroup_size(1) fn main() {\n"
                   "  for (var k = 0; k >= -2147483647 - 1; k--) { output[0] = 1u; }\n"
                   "}\n");
  const std::string expected =
      fpe.string() + ": error: the kernel was refused: its first compile, in a sandbox, was killed by signal 8 (SIGFPE)\n";
  auto o = kem("check " + fpe.string());
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.err, expected);
  o = kem("run " + fpe.string(), "abcd");
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.err, expected);
  // lavapipe's bug (CI's adapter); a GPU's compiler may well take this kernel. Without the
  // sandbox the GPU worker process dies of it, and kem reports that; only with the devices in
  // kem's own process too does kem itself die of the signal.
  o = kem("check --sandbox=false " + fpe.string());
  EXPECT_EQ(o.status, 1) << o.err;
  EXPECT_NE(o.err.find("device_lost: the GPU worker process"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("killed by signal 8 (SIGFPE)"), std::string::npos) << o.err;
  o = kem("check --sandbox=false --worker-isolation=false " + fpe.string());
  // Dead of the signal; under AddressSanitizer (abort_on_error) its report ends in an abort.
  EXPECT_TRUE(o.status == 128 + SIGFPE || o.status == 128 + SIGABRT) << o.status << ": " << o.err;
}

TEST_F(KemCli, RuntimeErrorsExitWithOne) {
  auto o = kem("run kernels/double-integer.wgsl --hint 1", "");
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("invalid_argument: input is empty"), std::string::npos) << o.err;
  o = kem("run no-such-kernel.wgsl", "abcd");
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("no-such-kernel.wgsl"), std::string::npos) << o.err;
}

// issue 16: kem run used to print its timeout and then wait 114 s for the abandoned dispatch.
// Its GPU worker is killed instead, so kem exits right after the deadline.
TEST_F(KemCli, RunExitsWithinASecondOfItsDeadline) {
  const auto kernel = write("spin.wgsl",
                            "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
                            "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
                            "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
                            "  var x = id.x;\n"
                            "  for (var i = 0u; i < input[0]; i++) { x = x * 1664525u + 1013904223u; }\n"
                            "  if (id.x < arrayLength(&output)) { output[id.x] = x; }\n"
                            "}\n");
  // 16,448 invocations of 2^24 - 1 rounds: minutes on lavapipe, alone (not batched).
  std::string input(16448 * 4, '\0');
  const uint32_t rounds = (1u << 24) - 1;
  std::memcpy(input.data(), &rounds, 4);
  auto seconds_of = [&](const std::string& args, const std::string& stdin_bytes, Outcome& o) {
    const auto start = std::chrono::steady_clock::now();
    o = kem(args, stdin_bytes);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // What starting kem and its GPU worker costs here (an ASan build on a loaded machine: seconds).
  Outcome quick;
  const double startup = seconds_of("run kernels/double-integer.wgsl --format hex", "abcd", quick);
  ASSERT_EQ(quick.status, 0) << quick.err;
  Outcome o;
  const double seconds = seconds_of("run " + kernel.string() + " --timeout-ms 1000 --format hex", input, o);
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("timeout"), std::string::npos) << o.err;
  EXPECT_LT(seconds, startup + 1.0 + 1.0) << "deadline 1 s, start-up " << startup << " s; kem took " << seconds << " s";
}

TEST_F(KemCli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(kem("run").status, 2);
  EXPECT_EQ(kem("run kernels/double-integer.wgsl --format bogus", "abcd").status, 2);
  EXPECT_EQ(kem("run kernels/double-integer.wgsl --workgroups 0", "abcd").status, 2);
  EXPECT_EQ(kem("frobnicate").status, 2);
  EXPECT_EQ(kem("").status, 2);
}

TEST_F(KemCli, InfoDescribesARealVulkanAdapter) {
  auto o = kem("info");
  ASSERT_EQ(o.status, 0) << o.err;
  auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["backend"], "vulkan");
  EXPECT_FALSE(j["name"].get<std::string>().empty());
  EXPECT_GT(j["limits"]["max_storage_buffer_binding_size"].get<uint64_t>(), 0u);
}

TEST_F(KemCli, InfoListsEveryDeviceOfAPool) {
  // Two devices on the first physical adapter ("@0": Dawn's enumeration, which also reaches the
  // second of two identical GPUs), then two devices per adapter of a one-adapter list.
  for (const char* args : {"info --adapter @0,@0", "info --devices 2"}) {
    auto o = kem(args);
    ASSERT_EQ(o.status, 0) << args << ": " << o.err;
    auto j = nlohmann::json::parse(o.out);
    ASSERT_EQ(j["devices"].size(), 2u) << o.out;
    for (const auto& d : j["devices"]) {
      EXPECT_EQ(d["adapter"]["backend"], "vulkan");
      EXPECT_EQ(d["healthy"], true);
      EXPECT_EQ(d["in_rotation"], true);
      EXPECT_EQ(d["calls"], 0u);
    }
    EXPECT_EQ(j["devices"][0]["adapter"]["name"], j["devices"][1]["adapter"]["name"]);
  }
  auto bad = kem("info --adapter @0,no-such-gpu-anywhere");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("no_adapter"), std::string::npos) << bad.err;
}

TEST_F(KemCli, DawnsNullBackendIsRefused) {
  // Without any Vulkan driver, Dawn offers its Null backend as the high-performance adapter; it
  // would accept work and run none of it.
  auto o = kem("info", "", "VK_DRIVER_FILES=/nonexistent/icd.json");
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("Null backend"), std::string::npos) << o.err;
  o = kem("run kernels/double-integer.wgsl", "abcd", "VK_DRIVER_FILES=/nonexistent/icd.json");
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("no_adapter"), std::string::npos) << o.err;
  EXPECT_EQ(o.out, "");
}

}  // namespace
