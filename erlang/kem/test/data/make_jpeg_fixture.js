// Makes the JPEG test fixture and its reference pixels with jpeg-js (a JPEG encoder and decoder
// in plain JavaScript, independent of libjpeg-turbo, which KEM decodes with):
//   gradient-37x23.jpg    a 37 x 23 image, baseline, 4:4:4, quality 90 (jpeg-js's encoder)
//   gradient-37x23.rgba   its pixels as jpeg-js's decoder gives them (RGBA8)
// Regenerate (from this folder; npm from the registry):
//   npm install --no-save jpeg-js@0.4.4 && node make_jpeg_fixture.js
// kem_nif_tests compares KEM's decoding of the .jpg with the .rgba (JPEG decoders differ in
// their IDCT and colour-conversion rounding: on this image libjpeg-turbo's djpeg and jpeg-js
// differ by at most 3 per sample, 0.55 on average).
const jpeg = require('jpeg-js');
const fs = require('fs');
const W = 37, H = 23;
const data = Buffer.alloc(W * H * 4);
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    const i = (y * W + x) * 4;
    data[i] = (x * 7 + y * 3) & 255;
    data[i + 1] = (x * y) & 255;
    data[i + 2] = (255 - x * 5) & 255;
    data[i + 3] = 255;
  }
}
const encoded = jpeg.encode({ data, width: W, height: H }, 90);
fs.writeFileSync('gradient-37x23.jpg', encoded.data);
const decoded = jpeg.decode(encoded.data, { useTArray: true, formatAsRGBA: true });
fs.writeFileSync('gradient-37x23.rgba', Buffer.from(decoded.data));
