// Sums the input's u32 words in slices of 256: output word k = sum of input words
// [256k, 256k + 256) (wrapping). A tree reduction in workgroup memory with barriers.
// With --hint 1 the output has one word per input word; words past the last slice stay 0.
const SLICE: u32 = 256u;

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;

var<workgroup> partial: array<u32, SLICE>;

@compute @workgroup_size(SLICE)
fn main(@builtin(local_invocation_id) local: vec3<u32>,
        @builtin(workgroup_id) group: vec3<u32>) {
  let i = group.x * SLICE + local.x;
  var value = 0u;
  if (i < arrayLength(&input)) {
    value = input[i];
  }
  partial[local.x] = value;
  workgroupBarrier();
  for (var stride = SLICE / 2u; stride > 0u; stride = stride / 2u) {
    if (local.x < stride) {
      partial[local.x] = partial[local.x] + partial[local.x + stride];
    }
    workgroupBarrier();
  }
  let slices = (arrayLength(&input) + SLICE - 1u) / SLICE;
  if (local.x == 0u && group.x < slices && group.x < arrayLength(&output)) {
    output[group.x] = partial[0];
  }
}
