// PNG in and out of RGBA8 for the image calls (execute_kernel_with_params), through libpng.
#pragma once

#include <erl_nif.h>

namespace kem_nif {

// png_decode(Png, MaxPixelBytes) -> {ok, {Width, Height, Rgba}} | {error, {Code, Message}}.
ERL_NIF_TERM nif_png_decode(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// png_encode(Width, Height, Rgba) -> {ok, Png} | {error, {Code, Message}}.
ERL_NIF_TERM nif_png_encode(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
