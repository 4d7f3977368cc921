// The durable cache: one file per ID, "<dir>/<id>.kernel", holding a JSON metadata line
// (size, SHA-256 of the source, provenance) and then the source bytes. An ID's bytes never
// change, so entries never expire.
//
// Several processes may share a directory: a writer fills a private temp file and renames it
// into place, so a reader sees either no file or a whole one; concurrent writers of one ID
// write the same bytes, and whichever rename lands last wins harmlessly.
#pragma once

#include <optional>
#include <string>

#include "cache_entry.h"
#include "kem/result.h"

namespace kem::store {

class DiskCache {
 public:
  DiskCache(std::string directory, std::size_t max_source_bytes);

  // Creates the directory (and parents) when missing.
  Status prepare() const;

  struct Lookup {
    std::optional<CacheEntry> entry;
    std::string problem;  // non-empty: the file was corrupt (and has been removed)
  };
  // A missing file is a miss, not an error; a file that fails its checks is removed, so the
  // next fetch replaces it.
  Lookup load(const std::string& id) const;

  Status store(const CacheEntry& entry) const;

  std::string path_for(const std::string& id) const;
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
  std::size_t max_source_bytes_;
};

}  // namespace kem::store
