#include "nif_png.h"

#include <png.h>

#include <string>

#include "nif_terms.h"

namespace kem_nif {
namespace {

// png_image must be released on every path once begin_read succeeded.
struct ImageGuard {
  png_image& image;
  ~ImageGuard() { png_image_free(&image); }
};

ERL_NIF_TERM png_error(ErlNifEnv* env, const png_image& image, const char* what) {
  return make_error(env, kem::ErrorCode::invalid_argument,
                    std::string(what) + ": " + image.message);
}

}  // namespace

ERL_NIF_TERM nif_png_decode(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto png = get_bytes(env, argv[0]);
    auto max_bytes = get_u64(env, argv[1]);
    if (!png || !max_bytes) return enif_make_badarg(env);
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, png->data(), png->size()))
      return png_error(env, image, "not a readable PNG");
    ImageGuard guard{image};
    image.format = PNG_FORMAT_RGBA;
    const uint64_t bytes = uint64_t{image.width} * image.height * 4;
    if (bytes > *max_bytes)
      return make_error(env, kem::ErrorCode::limit_exceeded,
                        "the PNG decodes to " + std::to_string(bytes) + " bytes, over the limit of " +
                            std::to_string(*max_bytes));
    ErlNifBinary pixels;
    if (!enif_alloc_binary(bytes, &pixels))
      return make_error(env, kem::ErrorCode::limit_exceeded, "cannot allocate the pixels");
    if (!png_image_finish_read(&image, nullptr, pixels.data, 0, nullptr)) {
      enif_release_binary(&pixels);
      return png_error(env, image, "cannot decode the PNG");
    }
    return make_ok(env, enif_make_tuple3(env, enif_make_uint(env, image.width),
                                         enif_make_uint(env, image.height),
                                         enif_make_binary(env, &pixels)));
  });
}

ERL_NIF_TERM nif_png_encode(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    unsigned int width, height;
    auto rgba = get_bytes(env, argv[2]);
    if (!enif_get_uint(env, argv[0], &width) || !enif_get_uint(env, argv[1], &height) || !rgba)
      return enif_make_badarg(env);
    if (width == 0 || height == 0 || uint64_t{width} * height * 4 != rgba->size())
      return make_error(env, kem::ErrorCode::invalid_argument,
                        "RGBA data of " + std::to_string(rgba->size()) + " bytes is not " +
                            std::to_string(width) + "x" + std::to_string(height) + "x4");
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = PNG_FORMAT_RGBA;
    png_alloc_size_t size = 0;
    // First pass measures, second writes straight into the Erlang binary.
    if (!png_image_write_to_memory(&image, nullptr, &size, 0, rgba->data(), 0, nullptr))
      return png_error(env, image, "cannot encode the PNG");
    ErlNifBinary out;
    if (!enif_alloc_binary(size, &out))
      return make_error(env, kem::ErrorCode::limit_exceeded, "cannot allocate the PNG");
    if (!png_image_write_to_memory(&image, out.data, &size, 0, rgba->data(), 0, nullptr)) {
      enif_release_binary(&out);
      return png_error(env, image, "cannot encode the PNG");
    }
    if (size != out.size) enif_realloc_binary(&out, size);
    return make_ok(env, enif_make_binary(env, &out));
  });
}

}  // namespace kem_nif
