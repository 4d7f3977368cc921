#include "nif_jpeg.h"

#include <turbojpeg.h>

#include <cstdint>
#include <string>

#include "nif_terms.h"

namespace kem_nif {
namespace {

// A TurboJPEG decompressor, destroyed on every path.
struct Decompressor {
  tjhandle handle = tjInitDecompress();
  ~Decompressor() {
    if (handle != nullptr) tjDestroy(handle);
  }
};

ERL_NIF_TERM jpeg_error(ErlNifEnv* env, tjhandle handle, const char* what) {
  return make_error(env, kem::ErrorCode::invalid_argument,
                    std::string(what) + ": " + tjGetErrorStr2(handle));
}

}  // namespace

ERL_NIF_TERM nif_jpeg_decode(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto jpeg = get_bytes(env, argv[0]);
    auto max_bytes = get_u64(env, argv[1]);
    if (!jpeg || !max_bytes) return enif_make_badarg(env);
    Decompressor d;
    if (d.handle == nullptr)
      return make_error(env, kem::ErrorCode::internal, "cannot start libjpeg-turbo");
    int width = 0, height = 0, subsampling = 0, colorspace = 0;
    if (tjDecompressHeader3(d.handle, jpeg->data(), jpeg->size(), &width, &height, &subsampling,
                            &colorspace) != 0)
      return jpeg_error(env, d.handle, "not a readable JPEG");
    const uint64_t bytes = uint64_t(width) * uint64_t(height) * 4;
    if (width <= 0 || height <= 0)
      return make_error(env, kem::ErrorCode::invalid_argument, "the JPEG has no pixels");
    if (bytes > *max_bytes)
      return make_error(env, kem::ErrorCode::limit_exceeded,
                        "the JPEG decodes to " + std::to_string(bytes) + " bytes, over the limit of " +
                            std::to_string(*max_bytes));
    ErlNifBinary pixels;
    if (!enif_alloc_binary(bytes, &pixels))
      return make_error(env, kem::ErrorCode::limit_exceeded, "cannot allocate the pixels");
    // The accurate integer IDCT (libjpeg's ISLOW), whichever the library would pick by itself.
    if (tjDecompress2(d.handle, jpeg->data(), jpeg->size(), pixels.data, width, 0, height, TJPF_RGBA,
                      TJFLAG_ACCURATEDCT) != 0 &&
        tjGetErrorCode(d.handle) == TJERR_FATAL) {
      enif_release_binary(&pixels);
      return jpeg_error(env, d.handle, "cannot decode the JPEG");
    }
    return make_ok(env, enif_make_tuple3(env, enif_make_uint(env, unsigned(width)),
                                         enif_make_uint(env, unsigned(height)),
                                         enif_make_binary(env, &pixels)));
  });
}

}  // namespace kem_nif
