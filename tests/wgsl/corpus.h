// Valid WGSL programs that together use every declaration, statement and expression form of the
// grammar. Shared by the parser tests and the robustness (mutation) tests.
#pragma once

#include <array>
#include <string_view>

namespace kem::wgsl::test {

inline constexpr std::string_view kEveryForm = R"(enable f16;
requires readonly_and_readwrite_storage_textures, packed_4x8_integer_dot_product;
diagnostic(off, derivative_uniformity);
diagnostic(warning, chromium.unreachable_code,);

/* a block comment /* nested */ still a comment */
alias Index = u32;
alias Pair = array<vec2<f32>, 2>;

struct Particle {
  @align(16) position: vec3<f32>,
  @size(16) velocity: vec3<f32>,
  mass: f32,
}

struct Single { value: atomic<u32> }

const N: u32 = 64u;
const HEX = 0xFFi + 0X10i * 0i;
const FLOATS = 0x1p4f * 0.5e-3 + 1e3 + .5 + 2.f + 0x.8p1 + 1E-2f;
const HALF = 1h + 0.5h;
const_assert N > 0u && N <= 1024u;
override scale: f32 = 1.5;
@id(7) override count: u32;
var<private> seed: u32 = 1u;
var<workgroup> shared_tile: array<f32, N>;
@group(0) @binding(0) var<storage, read_write> particles: array<Particle>;
@group(0) @binding(1) var<uniform> params: vec4<f32>;
@group(0) @binding(2) var<storage, read_write> counter: Single;
@group(1) @binding(0) var tex: texture_storage_2d<rgba8unorm, write>;

@must_use
fn hash(x: u32) -> u32 {
  var h = x ^ (x >> 16u);
  h *= 0x45d9f3bu;
  h = h ^ (h >> 16u);
  return h;
}

fn pointers(p: ptr<function, u32>, q: ptr<storage, array<Particle>, read_write>) {
  *p = *p + 1u;
  (*p)++;
  (*q)[0].mass = 2.0;
  let r = &(*q)[1];
  (*r).mass -= 1.0;
}

fn no_return() {}

fn expressions(a: i32, b: i32, c: bool) -> i32 {
  let arith = a + b * 2 - (a - b) / 3 % 4;
  let shifts = (a << 2u) + (b >> 1u);
  let bits = (a & b) | (a ^ b) | ~a;
  let logic = ((a < b) && (b <= a)) || c;
  let compare = (a == b) != (a >= b);
  let neg = -a + -(-b);
  let negated = !c;
  let swz = vec4<f32>(1.0, 2.0, 3.0, 4.0).zyx.xy;
  let mat = mat2x2<f32>(vec2(1.0, 0.0), vec2(0.0, 1.0))[1][0];
  let arr = array<i32, 3>(1, 2, 3)[a];
  let conv = bitcast<u32>(a) + u32(f32(b));
  let lt_gt = select(0, 1, a<b) + select(0, 1, b>a);
  let templ_cmp = (a < b) == (b > a);
  let nested: array<vec2<f32>, 2> = array<vec2<f32>, 2>();
  let shifted = (256 >> 2u) >> 1u;
  var ge: vec2<f32>= vec2<f32>(1.0);
  _ = ge;
  _ = nested;
  return arith + shifts + bits + neg + i32(logic) + i32(compare) + i32(negated) + i32(swz.x) +
         i32(mat) + arr + i32(conv) + lt_gt + i32(templ_cmp) + shifted;
}

fn statements(x: i32) -> i32 {
  var total = 0;
  var i: i32;
  for (var k = 0; k < 10; k++) {
    if k == 3 { continue; }
    total += k;
  }
  for (;;) { break; }
  for (i = 0; i < 4; i += 1) {}
  for (no_return(); false; no_return()) {}
  while total > 100 { total -= 7; }
  while (false) {}
  loop {
    i--;
    if (i < 0) { break; } else if i == 2 { i = i - 1; } else { i = 0; }
    continuing {
      total <<= 1;
      total >>= 1;
      total %= 1000;
      total &= 0xFFFF;
      total |= 1;
      total ^= 2;
      total /= 1;
      break if i > 100;
    }
  }
  loop { break; }
  switch x {
    case 0, 1, { total = 1; }
    case 2: { total = 2; }
    case 3, default { total = 3; }
  }
  switch (x + 1) {
    default: {}
  }
  @diagnostic(off, derivative_uniformity) {
    no_return();
  }
  {
    let scoped = 1;
    _ = scoped;
  }
  ;
  const local = 4;
  const_assert local == 4;
  return total;
}

@compute @workgroup_size(N, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32,) {
  shared_tile[lid] = f32(gid.x);
  workgroupBarrier();
  let v = workgroupUniformLoad(&shared_tile[0]);
  atomicAdd(&counter.value, 1u);
  storageBarrier();
  textureStore(tex, vec2<i32>(gid.xy), vec4<f32>(v));
  var s = seed;
  pointers(&s, &particles);
  _ = hash(s) + u32(expressions(1, 2, true)) + u32(statements(3));
}

@fragment
fn fs(@location(0) @interpolate(flat) c: vec4<f32>) -> @location(0) vec4<f32> {
  if c.x < 0.0 { discard; }
  return c;
}
)";

// Smaller kernels of the shapes users write.
inline constexpr std::array<std::string_view, 4> kKernels = {
    R"(@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&input)) { output[id.x] = input[id.x] * 2u; }
})",
    R"(@group(0) @binding(0) var<storage, read_write> data: array<f32>;
var<workgroup> partial: array<f32, 256>;
@compute @workgroup_size(256)
fn reduce(@builtin(local_invocation_index) i: u32, @builtin(workgroup_id) w: vec3<u32>) {
  partial[i] = data[w.x * 256u + i];
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (i < stride) { partial[i] += partial[i + stride]; }
    workgroupBarrier();
  }
  if (i == 0u) { data[w.x] = partial[0]; }
})",
    R"(struct Params { width: u32, height: u32, iterations: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> pixels: array<u32>;
@compute @workgroup_size(8, 8)
fn mandel(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= params.width || g.y >= params.height) { return; }
  let c = vec2<f32>(f32(g.x) / f32(params.width) * 3.0 - 2.0, f32(g.y) / f32(params.height) * 2.0 - 1.0);
  var z = vec2<f32>(0.0);
  var n = 0u;
  loop {
    if (n >= params.iterations || dot(z, z) > 4.0) { break; }
    z = vec2<f32>(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
    continuing { n = n + 1u; }
  }
  pixels[g.y * params.width + g.x] = n;
})",
    R"(@group(0) @binding(0) var<storage, read_write> a: array<i32>;
fn collatz(start: i32) -> i32 {
  var n = start;
  var steps = 0;
  while (n != 1) {
    if ((n & 1) == 0) { n = n / 2; } else { n = 3 * n + 1; }
    steps++;
  }
  return steps;
}
@compute @workgroup_size(32) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  a[g.x] = collatz(a[g.x]);
})",
};

}  // namespace kem::wgsl::test
