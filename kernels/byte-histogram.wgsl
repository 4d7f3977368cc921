// Counts the input's bytes into 256 bins: output word b = how many bytes equal b.
// params[0] = the input's length in bytes (the input binding is zero-padded to whole words, and
// padding must not be counted). Run with --output-size 1024 (256 u32 counters).
// Each workgroup counts into workgroup memory with atomics, then adds its bins to the output.
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: vec4<u32>;

var<workgroup> bins: array<atomic<u32>, 256>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) global: vec3<u32>,
        @builtin(local_invocation_index) local: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
  atomicStore(&bins[local], 0u);
  workgroupBarrier();
  let length = params.x;
  let stride = groups.x * 256u;
  for (var word = global.x; word * 4u < length; word += stride) {
    let packed = input[word];
    for (var b = 0u; b < 4u; b++) {
      if (word * 4u + b < length) {
        atomicAdd(&bins[(packed >> (8u * b)) & 0xffu], 1u);
      }
    }
  }
  workgroupBarrier();
  let count = atomicLoad(&bins[local]);
  if (count > 0u) {
    atomicAdd(&output[local], count);
  }
}
