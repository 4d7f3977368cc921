// Pixelizes an RGBA8 image: every block x block tile takes the average colour of its pixels
// (per channel, rounded down). params = [width, height, block]; the dispatch is 2-D over
// width x height (8 x 8 invocations per workgroup). Output: same size as the input (hint 1).
struct Params {
  width: u32,
  height: u32,
  block: u32,
}

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

fn channel(pixel: u32, c: u32) -> u32 {
  return (pixel >> (8u * c)) & 0xffu;
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let x = id.x;
  let y = id.y;
  if (x >= params.width || y >= params.height) {
    return;
  }
  let block = max(params.block, 1u);
  let x0 = x - x % block;
  let y0 = y - y % block;
  let x1 = min(x0 + block, params.width);
  let y1 = min(y0 + block, params.height);
  var sum = vec4<u32>(0u);
  for (var yy = y0; yy < y1; yy++) {
    for (var xx = x0; xx < x1; xx++) {
      let p = input[yy * params.width + xx];
      sum += vec4<u32>(channel(p, 0u), channel(p, 1u), channel(p, 2u), channel(p, 3u));
    }
  }
  let avg = sum / ((x1 - x0) * (y1 - y0));
  output[y * params.width + x] = avg.x | (avg.y << 8u) | (avg.z << 16u) | (avg.w << 24u);
}
