#include "disk_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "hash.h"
#include "source_file.h"

namespace kem::store {
namespace {

constexpr int kFormatVersion = 1;
constexpr std::size_t kMaxMetadataBytes = 8192;

Verification verification_from(const std::string& name, bool& ok) {
  for (Verification v : {Verification::layer1_tx, Verification::ans104, Verification::pinned, Verification::unverified}) {
    if (to_string(v) == name) {
      ok = true;
      return v;
    }
  }
  ok = false;
  return Verification::unverified;
}

std::string errno_text() { return std::strerror(errno); }

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// Checks one file's text; returns the entry or says what is wrong with it.
std::optional<CacheEntry> decode(const std::string& id, const Bytes& file, std::string& problem) {
  const std::size_t newline = file.find('\n');
  if (newline == Bytes::npos || newline > kMaxMetadataBytes) {
    problem = "no metadata line";
    return std::nullopt;
  }
  CacheEntry entry;
  try {
    const auto meta = nlohmann::json::parse(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(newline));
    if (meta.value("kem_cache", 0) != kFormatVersion || meta.value("id", "") != id) {
      problem = "metadata is for another format or ID";
      return std::nullopt;
    }
    entry.id = id;
    entry.source = file.substr(newline + 1);
    if (meta.value("size", std::size_t{0}) != entry.source.size()) {
      problem = "size " + std::to_string(entry.source.size()) + " differs from the stored " +
                std::to_string(meta.value("size", std::size_t{0}));
      return std::nullopt;
    }
    if (meta.value("sha256", "") != to_hex(sha256(entry.source))) {
      problem = "SHA-256 of the source differs from the stored hash";
      return std::nullopt;
    }
    bool known = false;
    entry.verification = verification_from(meta.value("verification", ""), known);
    if (!known) {
      problem = "unknown verification kind";
      return std::nullopt;
    }
    entry.owner_address = meta.value("owner", "");
    entry.gateway = meta.value("gateway", "");
  } catch (const std::exception& e) {
    problem = std::string("unreadable metadata: ") + e.what();
    return std::nullopt;
  }
  return entry;
}

}  // namespace

DiskCache::DiskCache(std::string directory, std::size_t max_source_bytes)
    : directory_(std::move(directory)), max_source_bytes_(max_source_bytes) {}

std::string DiskCache::path_for(const std::string& id) const { return directory_ + "/" + id + ".kernel"; }

Status DiskCache::prepare() const {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error) return make_error(ErrorCode::io_error, "cannot create cache directory " + directory_ + ": " + error.message());
  return {};
}

DiskCache::Lookup DiskCache::load(const std::string& id) const {
  const std::string path = path_for(id);
  auto file = read_file_bounded(path, max_source_bytes_ + kMaxMetadataBytes);
  if (!file) {
    if (file.error().code == ErrorCode::not_found) return {};
    // Too large or unreadable: as good as corrupt, and a fresh fetch will replace it.
    ::unlink(path.c_str());
    return {std::nullopt, file.error().message};
  }
  std::string problem;
  auto entry = decode(id, *file, problem);
  if (!entry) {
    ::unlink(path.c_str());
    return {std::nullopt, "corrupt cache file " + path + ": " + problem};
  }
  return {std::move(entry), {}};
}

Status DiskCache::store(const CacheEntry& entry) const {
  nlohmann::json meta;
  try {
    meta = {{"kem_cache", kFormatVersion},
            {"id", entry.id},
            {"size", entry.source.size()},
            {"sha256", to_hex(sha256(entry.source))},
            {"verification", std::string(to_string(entry.verification))},
            {"owner", entry.owner_address},
            {"gateway", entry.gateway}};
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("cannot encode cache metadata: ") + e.what());
  }
  const std::string header = meta.dump() + "\n";

  std::string temp = directory_ + "/.tmp-" + entry.id + "-XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return make_error(ErrorCode::io_error, "cannot create a temp file in " + directory_ + ": " + errno_text());
  temp.assign(name.data());
  // Kernels are public data; other users sharing the directory may read them.
  ::fchmod(fd, 0644);
  // fsync before rename: after a crash the name points at whole bytes or at nothing.
  const bool written = write_all(fd, header) && write_all(fd, entry.source) && ::fsync(fd) == 0;
  const std::string write_error = written ? std::string() : errno_text();
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return make_error(ErrorCode::io_error, "cannot write cache file " + temp + ": " + write_error);
  }
  if (::rename(temp.c_str(), path_for(entry.id).c_str()) != 0) {
    const std::string rename_error = errno_text();
    ::unlink(temp.c_str());
    return make_error(ErrorCode::io_error, "cannot rename " + temp + " into place: " + rename_error);
  }
  return {};
}

}  // namespace kem::store
