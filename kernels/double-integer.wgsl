// Doubles every 32-bit little-endian integer of the input (wrapping on overflow).
// kem run kernels/double-integer.wgsl --hint 1: output has the input's length.
//
// It reads num_workgroups so that it works on any size: past the adapter's 65,535 workgroups
// per dimension, KEM spreads the dispatch over rows and the index is linearised here.
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i < arrayLength(&input) && i < arrayLength(&output)) {
    output[i] = input[i] * 2u;
  }
}
