// Reading local files (kernel files, pins, cache entries) with a size bound, so a stray huge
// file is refused by its size instead of being read into memory.
#pragma once

#include <string>

#include "bytes.h"
#include "kem/result.h"

namespace kem::store {

// not_found when the file does not exist, limit_exceeded when it is larger than max_bytes,
// io_error otherwise.
Result<Bytes> read_file_bounded(const std::string& path, std::size_t max_bytes);

// Source must be text: invalid_argument naming the first byte outside a comment that is not
// UTF-8 (comments may hold any bytes, as in Tint), limit_exceeded for size.
// `what` names the source in messages ("file x.wgsl", "kernel ID").
Status check_source(BytesView source, std::size_t max_bytes, const std::string& what);

}  // namespace kem::store
