// The disk cache (format, integrity checks, atomic sharing between processes), the memory
// cache's byte budget and the negative cache's expiry.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "disk_cache.h"
#include "memory_cache.h"
#include "negative_cache.h"
#include "temp_dir.h"

namespace kem::store {
namespace {

using testing::TempDir;

const std::string kId = "o3SqlL0lJaX2qImNQPLwutUO5KZPFoZAK9R9wBvmsOQ";

CacheEntry sample_entry(std::string source = "@compute @workgroup_size(1) fn main() {}\n") {
  return CacheEntry{kId, std::move(source), "OWNER-ADDRESS", Verification::ans104, "https://arweave.net"};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void overwrite(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(DiskCache, StoresAMetadataLineThenTheSource) {
  TempDir dir;
  DiskCache cache(dir.path() + "/nested/kernels", 1 << 20);
  ASSERT_TRUE(cache.prepare().ok());
  ASSERT_TRUE(cache.store(sample_entry()).ok());

  const std::string file = slurp(cache.path_for(kId));
  const std::size_t newline = file.find('\n');
  ASSERT_NE(newline, std::string::npos);
  const auto meta = nlohmann::json::parse(file.substr(0, newline));
  EXPECT_EQ(meta["id"], kId);
  EXPECT_EQ(meta["size"], sample_entry().source.size());
  // SHA-256 of the sample source, computed independently with sha256sum.
  EXPECT_EQ(meta["sha256"], "95b71646ab522e330331b56411c70cce7c13de4708d428bb1ad760d0d8fe6040");
  EXPECT_EQ(meta["verification"], "ans104");
  EXPECT_EQ(file.substr(newline + 1), sample_entry().source);

  auto lookup = cache.load(kId);
  ASSERT_TRUE(lookup.entry.has_value()) << lookup.problem;
  EXPECT_EQ(lookup.entry->source, sample_entry().source);
  EXPECT_EQ(lookup.entry->owner_address, "OWNER-ADDRESS");
  EXPECT_EQ(lookup.entry->verification, Verification::ans104);
  EXPECT_EQ(lookup.entry->gateway, "https://arweave.net");
}

TEST(DiskCache, MissingFileIsAMiss) {
  TempDir dir;
  DiskCache cache(dir.path(), 1 << 20);
  auto lookup = cache.load(kId);
  EXPECT_FALSE(lookup.entry.has_value());
  EXPECT_EQ(lookup.problem, "");
}

TEST(DiskCache, CorruptFilesAreReportedAndRemoved) {
  TempDir dir;
  DiskCache cache(dir.path(), 1 << 20);
  const std::string path = cache.path_for(kId);
  struct Case {
    const char* name;
    std::string (*damage)(std::string);
    const char* problem;
  };
  const Case cases[] = {
      {"flipped source byte", [](std::string f) { f[f.size() - 3] ^= 1; return f; },
       "SHA-256 of the source differs from the stored hash"},
      {"truncated", [](std::string f) { return f.substr(0, f.size() - 5); }, "differs from the stored"},
      {"no metadata", [](std::string) { return std::string("fn main() {}"); }, "no metadata line"},
      {"bad json", [](std::string f) { return "{oops" + f.substr(f.find('\n')); }, "unreadable metadata"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(cache.store(sample_entry()).ok());
    overwrite(path, c.damage(slurp(path)));
    auto lookup = cache.load(kId);
    EXPECT_FALSE(lookup.entry.has_value()) << c.name;
    EXPECT_NE(lookup.problem.find(c.problem), std::string::npos) << c.name << ": " << lookup.problem;
    EXPECT_NE(lookup.problem.find(path), std::string::npos) << c.name;
    EXPECT_FALSE(std::filesystem::exists(path)) << c.name;
  }
}

TEST(DiskCache, LeavesNoTempFilesBehind) {
  TempDir dir;
  DiskCache cache(dir.path(), 1 << 20);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cache.store(sample_entry()).ok());
  std::vector<std::string> names;
  for (const auto& item : std::filesystem::directory_iterator(dir.path())) names.push_back(item.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{kId + ".kernel"});
}

TEST(DiskCache, ProcessesShareOneDirectory) {
  TempDir dir;
  const std::string source(200000, 'k');  // large enough that a torn write would be seen
  constexpr int kWriters = 3;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      DiskCache cache(dir.path(), 1 << 20);
      bool ok = true;
      for (int i = 0; i < 30; ++i) ok = ok && cache.store(sample_entry(source)).ok();
      ::_exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  // Meanwhile this process reads: every read is a miss or the whole entry, never a torn one
  // (a torn read would be reported as corrupt).
  DiskCache reader(dir.path(), 1 << 20);
  int hits = 0;
  for (int i = 0; i < 200; ++i) {
    auto lookup = reader.load(kId);
    EXPECT_EQ(lookup.problem, "");
    if (lookup.entry) {
      EXPECT_EQ(lookup.entry->source, source);
      ++hits;
    }
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto last = reader.load(kId);
  ASSERT_TRUE(last.entry.has_value());
  EXPECT_EQ(last.entry->source, source);
  (void)hits;
}

std::shared_ptr<const CacheEntry> entry_of(const std::string& id, std::size_t size) {
  return std::make_shared<const CacheEntry>(CacheEntry{id, std::string(size, 'x'), "", Verification::ans104, ""});
}

TEST(MemoryCache, EvictsLeastRecentlyUsedPastItsBudget) {
  MemoryCache cache(300);
  cache.put(entry_of("a", 100));
  cache.put(entry_of("b", 100));
  cache.put(entry_of("c", 100));
  ASSERT_NE(cache.get("a"), nullptr);  // a is now the most recent
  cache.put(entry_of("d", 100));       // evicts b
  EXPECT_EQ(cache.get("b"), nullptr);
  EXPECT_NE(cache.get("a"), nullptr);
  EXPECT_NE(cache.get("c"), nullptr);
  EXPECT_NE(cache.get("d"), nullptr);
  EXPECT_EQ(cache.size_bytes(), 300u);
  cache.put(entry_of("huge", 301));  // larger than the whole budget: not kept, nothing evicted
  EXPECT_EQ(cache.get("huge"), nullptr);
  EXPECT_EQ(cache.size_bytes(), 300u);
}

TEST(NegativeCache, ForgetsAfterItsTtl) {
  NegativeCache cache(std::chrono::minutes(2));
  const auto t0 = NegativeCache::Clock::now();
  cache.put("id", Error{ErrorCode::not_found, "gone"}, t0);
  auto hit = cache.get("id", t0 + std::chrono::seconds(119));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->message, "gone");
  EXPECT_FALSE(cache.get("id", t0 + std::chrono::seconds(120)).has_value());
  EXPECT_FALSE(cache.get("id", t0).has_value());  // expired entries are dropped
}

}  // namespace
}  // namespace kem::store
