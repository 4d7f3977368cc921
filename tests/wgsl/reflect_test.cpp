// reflect_wgsl on realistic kernels: every expected binding and size is written out by hand.
#include <gtest/gtest.h>

#include <optional>

#include "kem/reflection.h"
#include "reflect_support.h"

namespace kem {
namespace {

using test::reflect_error;
using test::reflect_ok;

void expect_binding(const ResourceBinding& b, uint32_t group, uint32_t binding,
                    std::string_view name, AddressSpace space, AccessMode access,
                    std::string_view type, uint32_t line, uint32_t column) {
  EXPECT_EQ(b.group, group);
  EXPECT_EQ(b.binding, binding);
  EXPECT_EQ(b.name, name);
  EXPECT_EQ(b.address_space, space) << to_string(b.address_space);
  EXPECT_EQ(b.access, access) << to_string(b.access);
  EXPECT_EQ(b.type, type);
  EXPECT_EQ(b.line, line);
  EXPECT_EQ(b.column, column);
}

constexpr std::string_view kDoubler = R"(@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i < arrayLength(&input)) {
    output[i] = input[i] * 2u;
  }
}
)";

TEST(Reflect, DoublerKernel) {
  Reflection r = reflect_ok(kDoubler);
  ASSERT_EQ(r.bindings.size(), 2u);
  expect_binding(r.bindings[0], 0, 0, "input", AddressSpace::storage, AccessMode::read,
                 "array<u32>", 1, 42);
  expect_binding(r.bindings[1], 0, 1, "output", AddressSpace::storage, AccessMode::read_write,
                 "array<u32>", 2, 48);
  ASSERT_EQ(r.entry_points.size(), 1u);
  EXPECT_EQ(r.entry_points[0].name, "main");
  EXPECT_EQ(r.entry_points[0].workgroup_size, (std::array<uint32_t, 3>{64, 1, 1}));
  EXPECT_EQ(r.entry_points[0].line, 5u);
  EXPECT_EQ(r.entry_points[0].column, 4u);
  ASSERT_NE(r.find_entry("main"), nullptr);
  EXPECT_EQ(r.find_entry("other"), nullptr);
}

TEST(Reflect, UniformParamsAndDefaultStorageAccess) {
  Reflection r = reflect_ok(R"(
struct Params { n: u32, scale: f32 }
@group(0) @binding(0) var<storage> data: array<f32>;
@group(0) @binding(1) var<storage, read_write> result: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(128, 1, 1) fn scale(@builtin(global_invocation_id) gid: vec3u) {
  if gid.x >= params.n { return; }
  result[gid.x] = data[gid.x] * params.scale;
}
)");
  ASSERT_EQ(r.bindings.size(), 3u);
  expect_binding(r.bindings[0], 0, 0, "data", AddressSpace::storage, AccessMode::read,
                 "array<f32>", 3, 36);
  expect_binding(r.bindings[1], 0, 1, "result", AddressSpace::storage, AccessMode::read_write,
                 "array<f32>", 4, 48);
  expect_binding(r.bindings[2], 0, 2, "params", AddressSpace::uniform, AccessMode::read, "Params",
                 5, 36);
  ASSERT_EQ(r.entry_points.size(), 1u);
  EXPECT_EQ(r.entry_points[0].name, "scale");
  EXPECT_EQ(r.entry_points[0].workgroup_size, (std::array<uint32_t, 3>{128, 1, 1}));
}

TEST(Reflect, SingleReadWriteBindingWithAtomics) {
  Reflection r = reflect_ok(R"(
@group(0) @binding(0) var<storage, read_write> counters: array<atomic<u32>, 16>;
@compute @workgroup_size(32) fn count(@builtin(local_invocation_index) i: u32) {
  atomicAdd(&counters[i % 16u], 1u);
})");
  ASSERT_EQ(r.bindings.size(), 1u);
  expect_binding(r.bindings[0], 0, 0, "counters", AddressSpace::storage, AccessMode::read_write,
                 "array<atomic<u32>, 16>", 2, 48);
}

TEST(Reflect, TexturesAndSamplers) {
  Reflection r = reflect_ok(R"(
@group(1) @binding(0) var src: texture_2d<f32>;
@group(1) @binding(1) var samp: sampler;
@group(1) @binding(2) var dst: texture_storage_2d<rgba8unorm, write>;
@group(1) @binding(3) var depth: texture_depth_2d;
@compute @workgroup_size(8, 8)
fn blur(@builtin(global_invocation_id) id: vec3<u32>) {
  let uv = vec2<f32>(id.xy) / 256.0;
  textureStore(dst, id.xy, textureSampleLevel(src, samp, uv, 0.0));
}
)");
  ASSERT_EQ(r.bindings.size(), 4u);
  expect_binding(r.bindings[0], 1, 0, "src", AddressSpace::handle, AccessMode::read,
                 "texture_2d<f32>", 2, 27);
  expect_binding(r.bindings[1], 1, 1, "samp", AddressSpace::handle, AccessMode::read, "sampler",
                 3, 27);
  expect_binding(r.bindings[2], 1, 2, "dst", AddressSpace::handle, AccessMode::write,
                 "texture_storage_2d<rgba8unorm, write>", 4, 27);
  expect_binding(r.bindings[3], 1, 3, "depth", AddressSpace::handle, AccessMode::read,
                 "texture_depth_2d", 5, 27);
  ASSERT_EQ(r.entry_points.size(), 1u);
  EXPECT_EQ(r.entry_points[0].workgroup_size, (std::array<uint32_t, 3>{8, 8, 1}));
}

TEST(Reflect, ConstAndOverrideWorkgroupSizes) {
  Reflection r = reflect_ok(R"(
const TILE = 16;
const HALF: u32 = TILE / 2;
override BLOCK: u32 = 0x20u;
override DEPTH = 2 * (HALF - 6u);
@compute @workgroup_size(TILE, HALF, 1) fn a() {}
@compute @workgroup_size(BLOCK * 2u) fn b() {}
@compute @workgroup_size(u32(TILE) << 2u, i32(3) % 2i, DEPTH) fn c() {}
@compute @workgroup_size(1 | 6, (3 ^ 1) & 7, 40 >> 3) fn d() {}
)");
  ASSERT_EQ(r.entry_points.size(), 4u);
  EXPECT_EQ(r.entry_points[0].workgroup_size, (std::array<uint32_t, 3>{16, 8, 1}));
  EXPECT_EQ(r.entry_points[1].workgroup_size, (std::array<uint32_t, 3>{64, 1, 1}));
  EXPECT_EQ(r.entry_points[2].workgroup_size, (std::array<uint32_t, 3>{64, 1, 4}));
  EXPECT_EQ(r.entry_points[3].workgroup_size, (std::array<uint32_t, 3>{7, 2, 5}));
}

TEST(Reflect, ThreeDimensionalAndSeveralEntryPoints) {
  Reflection r = reflect_ok(R"(
@group(0) @binding(0) var<storage, read_write> vol: array<f32>;
fn helper(x: u32) -> u32 { return x * 2u; }
@compute @workgroup_size(4, 4, 4) fn fill(@builtin(global_invocation_id) g: vec3<u32>) {
  vol[g.x + 4u * (g.y + 4u * g.z)] = f32(helper(g.x));
}
@vertex fn vs() -> @builtin(position) vec4<f32> { return vec4<f32>(); }
@compute @workgroup_size(256i) fn clear(@builtin(global_invocation_id) g: vec3<u32>) {
  vol[g.x] = 0.0;
}
)");
  ASSERT_EQ(r.bindings.size(), 1u);
  ASSERT_EQ(r.entry_points.size(), 2u);
  EXPECT_EQ(r.entry_points[0].name, "fill");
  EXPECT_EQ(r.entry_points[0].workgroup_size, (std::array<uint32_t, 3>{4, 4, 4}));
  EXPECT_EQ(r.entry_points[0].line, 4u);
  EXPECT_EQ(r.entry_points[1].name, "clear");
  EXPECT_EQ(r.entry_points[1].workgroup_size, (std::array<uint32_t, 3>{256, 1, 1}));
  EXPECT_EQ(r.entry_points[1].line, 8u);
  EXPECT_EQ(r.entry_points[1].column, 35u);
}

TEST(Reflect, BindingIndicesFromConstants) {
  Reflection r = reflect_ok(R"(
const G = 2;
const B = 3u;
@group(G) @binding(B + 1) var<storage, read_write> out: array<i32>;
@compute @workgroup_size(1) fn main() { out[0] = 1; }
)");
  ASSERT_EQ(r.bindings.size(), 1u);
  EXPECT_EQ(r.bindings[0].group, 2u);
  EXPECT_EQ(r.bindings[0].binding, 4u);
}

TEST(Reflect, PrivateAndWorkgroupVariablesAreNotBindings) {
  Reflection r = reflect_ok(R"(
var<private> seed: u32 = 7u;
var<workgroup> tile: array<f32, 64>;
@compute @workgroup_size(64) fn main() { seed = seed + 1u; }
)");
  EXPECT_TRUE(r.bindings.empty());
  EXPECT_EQ(r.entry_points.size(), 1u);
}

TEST(Reflect, OverrideDeclarations) {
  Reflection r = reflect_ok(R"(override scale: u32;
@id(7) override block: u32 = 16u;
override rounds = 3;
override gain = 1.5;
override flip = false;
@id(2 + 1) override half_gain = 0.5h;
override derived = rounds * 2;
@compute @workgroup_size(block) fn main() {}
)");
  ASSERT_EQ(r.overrides.size(), 7u);
  struct Want { const char* name; const char* type; bool has_default; std::optional<uint32_t> id; uint32_t line; };
  const Want want[] = {{"scale", "u32", false, std::nullopt, 1}, {"block", "u32", true, 7u, 2},
                       {"rounds", "i32", true, std::nullopt, 3},  {"gain", "f32", true, std::nullopt, 4},
                       {"flip", "bool", true, std::nullopt, 5},   {"half_gain", "f16", true, 3u, 6},
                       {"derived", "", true, std::nullopt, 7}};  // not a literal: KEM cannot tell
  for (size_t i = 0; i < 7; ++i) {
    const OverrideDeclaration& d = r.overrides[i];
    EXPECT_EQ(d.name, want[i].name);
    EXPECT_EQ(d.type, want[i].type) << d.name;
    EXPECT_EQ(d.has_default, want[i].has_default) << d.name;
    EXPECT_EQ(d.id, want[i].id) << d.name;
    EXPECT_EQ(d.line, want[i].line) << d.name;
  }
  EXPECT_EQ(r.entry_points.at(0).workgroup_size, (std::array<uint32_t, 3>{16, 1, 1}));  // the default
}

TEST(Reflect, WorkgroupSizeErrors) {
  EXPECT_EQ(reflect_error("override N: u32;\n@compute @workgroup_size(N) fn main() {}"),
            "2:26: override 'N' has no default value, so the size is not known before the "
            "pipeline is created; give it a default (override N: u32 = 64;)");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(0) fn main() {}"),
            "1:26: workgroup size x must be a positive integer, found 0");
  EXPECT_EQ(reflect_error("const K = 4;\n@compute @workgroup_size(8, K - 5) fn main() {}"),
            "2:29: workgroup size y must be a positive integer, found -1");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(1.5) fn main() {}"),
            "1:26: expected an integer, found the floating-point literal 1.5");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(WIDTH) fn main() {}"),
            "1:26: 'WIDTH' is not a module-scope const or override");
  EXPECT_EQ(reflect_error("@compute fn main() {}"),
            "1:13: compute entry point 'main' needs @workgroup_size");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(8 / 0) fn main() {}"),
            "1:26: division by zero in constant expression");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(1, 1, 1, 1) fn main() {}"),
            "1:10: @workgroup_size takes one to three arguments");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(4294967296) fn main() {}"),
            "1:26: workgroup size x must be a positive integer, found 4294967296");
  EXPECT_EQ(reflect_error("@compute @workgroup_size(2u + 3i) fn main() {}"),
            "1:26: operator '+' mixes u32 and i32");
}

TEST(Reflect, BindingErrors) {
  EXPECT_EQ(reflect_error("@group(0) var<storage> a: array<u32>;"),
            "1:24: resource variable 'a' needs both @group and @binding");
  EXPECT_EQ(reflect_error("var<storage> a: array<u32>;"),
            "1:14: resource variable 'a' needs both @group and @binding");
  EXPECT_EQ(reflect_error("@group(0) @binding(0) var<private> a: u32;"),
            "1:27: resource variable 'a' must be in the storage or uniform address space, found "
            "'private'");
  EXPECT_EQ(reflect_error("@group(0) @binding(-1) var<storage> a: array<u32>;"),
            "1:20: @binding must be a non-negative integer, found -1");
  EXPECT_EQ(reflect_error("@group(0) @binding(0) var<storage, rw> a: array<u32>;"),
            "1:36: expected access mode read or read_write, found 'rw'");
}

TEST(Reflect, SyntaxErrorPositions) {
  EXPECT_EQ(reflect_error("@compute @workgroup_size(64)\nfn main() {\n  let x = 1\n}\n"),
            "4:1: expected ';' after statement, found '}'");
  EXPECT_EQ(reflect_error("fn f() {\n  if (x { }\n}"), "2:9: expected ')' to close '(', found '{'");
  EXPECT_EQ(reflect_error("fn f() {"), "1:9: expected '}' to close the block, found end of input");
  EXPECT_EQ(reflect_error("var<storage x: u32;"),
            "1:4: expected a name for the var, found '<'");
  EXPECT_EQ(reflect_error("fn f() { let a = 1 + ; }"), "1:22: expected expression, found ';'");
  EXPECT_EQ(reflect_error("/* open /* nested */ comment"), "1:1: unterminated block comment");
  EXPECT_EQ(reflect_error("fn f() { let a = 1 $ 2; }"), "1:20: unexpected character '$'");
  EXPECT_EQ(reflect_error("fn f() { let a = 08; }"), "1:18: malformed numeric literal");
  EXPECT_EQ(reflect_error("fn fn() {}"), "1:4: expected function name, found keyword 'fn'");
  EXPECT_EQ(reflect_error("struct S {}"), "1:1: a struct needs at least one member");
  EXPECT_EQ(reflect_error("fn f() { a & b | c; }"), "1:12: expected assignment, '++' or '--', found '&'");
  EXPECT_EQ(reflect_error("fn f() { let x = a & b | c; }"),
            "1:24: expected ';' after statement, found '|'");
  EXPECT_EQ(reflect_error("fn f() { let x = a < b < c; }"),
            "1:24: expected ';' after statement, found '<'");
  EXPECT_EQ(reflect_error("fn f() { loop { break if true; } }"),
            "1:23: 'break if' is only allowed as the last statement of a continuing block");
  // Columns count characters, not bytes: 'é' is two bytes in UTF-8.
  EXPECT_EQ(reflect_error("// é\nfn f() { let é = 1 }"), "2:20: expected ';' after statement, found '}'");
}

TEST(Reflect, ReadsNumWorkgroups) {
  Reflection r = reflect_ok(R"(
struct In { @builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) n: vec3<u32> }
@compute @workgroup_size(64) fn direct(@builtin(num_workgroups) groups: vec3<u32>) {}
@compute @workgroup_size(64) fn in_struct(input: In) {}
@compute @workgroup_size(64) fn neither(@builtin(workgroup_id) w: vec3<u32>) {}
)");
  ASSERT_EQ(r.entry_points.size(), 3u);
  EXPECT_TRUE(r.entry_points[0].reads_num_workgroups);
  EXPECT_TRUE(r.entry_points[1].reads_num_workgroups);
  EXPECT_FALSE(r.entry_points[2].reads_num_workgroups);
  EXPECT_FALSE(reflect_ok(kDoubler).entry_points[0].reads_num_workgroups);
}

TEST(Reflect, ToString) {
  EXPECT_EQ(to_string(AddressSpace::storage), "storage");
  EXPECT_EQ(to_string(AddressSpace::uniform), "uniform");
  EXPECT_EQ(to_string(AddressSpace::handle), "handle");
  EXPECT_EQ(to_string(AccessMode::read), "read");
  EXPECT_EQ(to_string(AccessMode::write), "write");
  EXPECT_EQ(to_string(AccessMode::read_write), "read_write");
}

}  // namespace
}  // namespace kem
