#include "nif_png.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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

// Everything the decoder keeps across libpng's calls. libpng reports errors by longjmp back to
// decode_samples(): so no C++ object lives in the frames it unwinds, and what must survive it
// (the pixels to release, the message) is here, owned by the caller, not in automatic variables
// of the function that called setjmp.
struct Decode {
  const unsigned char* data = nullptr;
  size_t size = 0;
  size_t offset = 0;
  uint64_t max_bytes = 0;
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  kem::ErrorCode code = kem::ErrorCode::invalid_argument;
  char message[200] = "";
  ErlNifBinary pixels{};
  bool have_pixels = false;
  std::vector<png_bytep> rows;
};

[[noreturn]] void fail(png_structp png, kem::ErrorCode code, const char* message) {
  auto* d = static_cast<Decode*>(png_get_error_ptr(png));
  d->code = code;
  std::snprintf(d->message, sizeof d->message, "%s", message);
  png_longjmp(png, 1);
}

void on_error(png_structp png, png_const_charp message) {
  fail(png, kem::ErrorCode::invalid_argument, message);
}
void on_warning(png_structp, png_const_charp) {}  // ancillary-chunk trouble: the pixels are fine

void on_read(png_structp png, png_bytep out, png_size_t length) {
  auto* d = static_cast<Decode*>(png_get_io_ptr(png));
  if (length > d->size - d->offset) fail(png, kem::ErrorCode::invalid_argument, "the PNG is truncated");
  std::memcpy(out, d->data + d->offset, length);
  d->offset += length;
}

// The samples stored in the file as RGBA8: no gamma, sRGB or ICC conversion (libpng's low-level
// reader converts only when asked; its simplified API, used before, always converted to sRGB).
// Palette, grey and grey+alpha are expanded, tRNS becomes alpha, a missing alpha is 255, and
// 16-bit samples keep their high byte (png_set_strip_16; the proof of concept's decoder gives
// 0x1234 -> 0x12 too). Interlaced images are de-interlaced.
bool decode_samples(Decode& d) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, on_error, on_warning);
  if (png == nullptr) {
    std::snprintf(d.message, sizeof d.message, "cannot start libpng");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(d.message, sizeof d.message, "cannot start libpng");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &d, on_read);
  png_read_info(png, info);
  d.width = png_get_image_width(png, info);
  d.height = png_get_image_height(png, info);
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (depth == 16) png_set_strip_16(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  if (!(color & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS))
    png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const uint64_t bytes = uint64_t{d.width} * d.height * 4;
  if (png_get_rowbytes(png, info) != size_t{d.width} * 4)
    fail(png, kem::ErrorCode::internal, "libpng did not expand the PNG to RGBA8");
  if (bytes > d.max_bytes) {
    char message[160];
    std::snprintf(message, sizeof message, "the PNG decodes to %llu bytes, over the limit of %llu",
                  static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(d.max_bytes));
    fail(png, kem::ErrorCode::limit_exceeded, message);
  }
  if (!enif_alloc_binary(bytes, &d.pixels))
    fail(png, kem::ErrorCode::limit_exceeded, "cannot allocate the pixels");
  d.have_pixels = true;
  d.rows.resize(d.height);
  for (png_uint_32 y = 0; y < d.height; ++y) d.rows[y] = d.pixels.data + size_t{y} * d.width * 4;
  png_read_image(png, d.rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

ERL_NIF_TERM nif_png_decode(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto png = get_bytes(env, argv[0]);
    auto max_bytes = get_u64(env, argv[1]);
    if (!png || !max_bytes) return enif_make_badarg(env);
    if (png->size() < 8 || png_sig_cmp(png->data(), 0, 8) != 0)
      return make_error(env, kem::ErrorCode::invalid_argument, "not a readable PNG: no PNG signature");
    Decode d;
    d.data = png->data();
    d.size = png->size();
    d.max_bytes = *max_bytes;
    if (!decode_samples(d)) {
      if (d.have_pixels) enif_release_binary(&d.pixels);
      const char* what = d.code == kem::ErrorCode::invalid_argument ? "cannot decode the PNG: " : "";
      return make_error(env, d.code, std::string(what) + d.message);
    }
    return make_ok(env, enif_make_tuple3(env, enif_make_uint(env, d.width),
                                         enif_make_uint(env, d.height),
                                         enif_make_binary(env, &d.pixels)));
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
