// JPEG in, as RGBA8, for the image calls (execute_kernel_with_params), through libjpeg-turbo.
#pragma once

#include <erl_nif.h>

namespace kem_nif {

// jpeg_decode(Jpeg, MaxPixelBytes) -> {ok, {Width, Height, Rgba}} | {error, {Code, Message}}.
// The pixels as stored: EXIF orientation is not applied (as the proof of concept's decoder),
// alpha is 255, grey and CMYK images are converted to RGB by libjpeg-turbo.
ERL_NIF_TERM nif_jpeg_decode(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
