// KernelStore: turns a kernel reference (an Arweave ID, a file path, inline source) into WGSL
// source whose every byte is checked against what the ID commits to. See docs/kernel-store.md.
//
// Resolution order for an ID: operator pins, the in-memory cache, the disk cache, then the
// gateways in their configured order. resolve() is thread-safe: one store may be shared by
// any number of threads (the Erlang NIF calls it from several schedulers at once), and several
// processes may share one cache directory.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kem/result.h"

namespace kem {

enum class VerifyPolicy {
  required,  // every byte fetched for an ID is proven against the ID, or resolve() fails
  off,       // bytes are taken as the gateway serves them (testing, trusted networks)
};

struct StoreOptions {
  // Tried in this order; "https://host[:port][/prefix]". Plain http only for loopback hosts.
  std::vector<std::string> gateways = {"https://arweave.net", "https://turbo-gateway.com"};
  std::string cache_dir;        // empty: default_cache_dir()
  bool disk_cache = true;       // false: memory cache only (nothing written to disk)
  bool offline = false;         // serve only pins and caches, never touch the network
  VerifyPolicy verify = VerifyPolicy::required;
  std::string pin_dir;          // operator-trusted "<id>.wgsl" files; empty: none
  // Owner addresses (base64url SHA-256 of the owner key) allowed to publish kernels; empty:
  // anyone. Needs verify = required, since only verification establishes the owner.
  std::vector<std::string> allowed_owners;

  std::size_t max_source_bytes = 1 << 20;       // also bounds every fetched body
  std::size_t memory_cache_bytes = 64u << 20;   // total source bytes kept in memory
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};  // whole request, body included
  std::chrono::milliseconds backoff_initial{1000};   // first pause of a failing gateway...
  std::chrono::milliseconds backoff_max{60000};      // ...doubling up to this
  std::chrono::milliseconds negative_ttl{std::chrono::minutes(5)};  // "not found"/"bad bytes"
};

struct KernelRef {
  enum class Kind { arweave_id, file, inline_source };
  Kind kind = Kind::inline_source;
  std::string value;  // the ID, the path, or the source itself

  static KernelRef id(std::string id) { return {Kind::arweave_id, std::move(id)}; }
  static KernelRef file(std::string path) { return {Kind::file, std::move(path)}; }
  static KernelRef inline_source(std::string source) { return {Kind::inline_source, std::move(source)}; }
};

// How the bytes were proven to belong to their ID.
enum class Verification {
  layer1_tx,   // "layer1-tx": signed format-2 transaction header + recomputed data_root
  ans104,      // "ans104": signed ANS-104 data item header (from a bundle) + its data
  pinned,      // "pinned": operator pin directory, trusted by configuration
  unverified,  // "unverified": verify = off, or a file / inline reference
};
std::string_view to_string(Verification verification);

// Where this resolve() found the source.
enum class Origin { gateway, memory_cache, disk_cache, pin, file, inline_source };
std::string_view to_string(Origin origin);

struct ResolvedKernel {
  std::string source;         // valid UTF-8, at most max_source_bytes
  std::string id;             // the Arweave ID; empty for file / inline references
  std::string owner_address;  // base64url SHA-256 of the owner key; empty unless verified
  Origin origin = Origin::inline_source;
  std::string gateway;        // the gateway the bytes first came from (also for cache hits)
  std::string location;       // the cache or pin file, or the source file, where one applies
  Verification verification = Verification::unverified;

  // One line for people, e.g. "ID from https://arweave.net, verified ans104, owner ADDR".
  std::string describe() const;
};

class KernelStore {
 public:
  // Checks the options (gateway URLs, policy combinations) and prepares the cache directory.
  static Result<std::unique_ptr<KernelStore>> create(StoreOptions options);
  ~KernelStore();
  KernelStore(const KernelStore&) = delete;
  KernelStore& operator=(const KernelStore&) = delete;

  // Error codes: invalid_argument (malformed ID, not UTF-8), limit_exceeded (too large),
  // not_found (no gateway has it, offline cache miss, missing file), unavailable (gateways
  // unreachable), verification_failed (bytes or signatures do not match the ID, owner not
  // allowed, or nothing could prove them under VerifyPolicy::required), io_error.
  Result<ResolvedKernel> resolve(const KernelRef& ref);

  // resolve() for what is at hand without waiting on a gateway or the disk cache: inline
  // sources, pins (one local file read) and the memory cache. nullopt when only resolve() can
  // tell: a file reference, or an ID not in memory. Lets a caller that must not block (a BEAM
  // scheduler) serve warm kernels itself and hand only the rest to threads that may wait.
  // Takes the reference by value: an inline source moves into the answer without a copy.
  std::optional<Result<ResolvedKernel>> resolve_at_hand(KernelRef ref);

  const StoreOptions& options() const;

  struct Impl;

 private:
  explicit KernelStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An Arweave ID: exactly 43 characters of base64url (no padding) encoding 32 bytes.
bool is_arweave_id(std::string_view text);
// Same test, with a message that says what is wrong (length, which character).
Status validate_arweave_id(std::string_view text);

// An ID when the text is one, otherwise a file path. Never touches the file system.
KernelRef parse_kernel_ref(std::string_view text);

// $XDG_CACHE_HOME/kem/kernels, else $HOME/.cache/kem/kernels, else ./.kem-cache/kernels.
std::string default_cache_dir();

}  // namespace kem
