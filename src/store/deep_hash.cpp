#include "deep_hash.h"

#include <string>

#include "hash.h"

namespace kem::store {

Bytes deep_hash(const DeepHashItem& item) {
  if (!item.is_list) {
    const Bytes tag = sha384("blob" + std::to_string(item.blob.size()));
    return sha384(tag + sha384(item.blob));
  }
  Bytes accumulator = sha384("list" + std::to_string(item.list.size()));
  for (const DeepHashItem& child : item.list) accumulator = sha384(accumulator + deep_hash(child));
  return accumulator;
}

}  // namespace kem::store
