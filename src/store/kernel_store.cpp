// The store facade: pins, memory cache, disk cache, negative cache, then the gateways.
#include "kem/kernel_store.h"

#include <algorithm>

#include "disk_cache.h"
#include "gateway_fetch.h"
#include "gateway_pool.h"
#include "http_client.h"
#include "memory_cache.h"
#include "negative_cache.h"
#include "single_flight.h"
#include "source_file.h"

namespace kem {

using store::CacheEntry;

struct KernelStore::Impl {
  StoreOptions options;
  std::optional<store::DiskCache> disk;
  store::MemoryCache memory;
  store::NegativeCache negative;
  store::GatewayPool pool;
  store::FetchSettings settings;
  store::SingleFlight<ResolvedKernel> flights;

  explicit Impl(StoreOptions opts)
      : options(std::move(opts)),
        memory(options.memory_cache_bytes),
        negative(options.negative_ttl),
        pool(options.gateways, options.backoff_initial, options.backoff_max) {
    settings.verify = options.verify;
    settings.max_source_bytes = options.max_source_bytes;
    settings.limits.connect_timeout = options.connect_timeout;
    settings.limits.total_timeout = options.request_timeout;
  }

  Result<ResolvedKernel> resolve_id(const std::string& id);
  // The pin for `id`, if pins are configured and one exists; nullopt otherwise.
  std::optional<Result<ResolvedKernel>> pinned(const std::string& id) const;
  Result<ResolvedKernel> fetch(const std::string& id);
  bool acceptable(const CacheEntry& entry) const {
    return options.verify == VerifyPolicy::off || entry.verification != Verification::unverified;
  }
  Status check_owner(const ResolvedKernel& kernel) const;
  // How long until the first backing-off gateway may be asked again (zero: none backs off).
  std::chrono::milliseconds soonest_back_off_end() const {
    std::chrono::milliseconds soonest{0};
    for (const store::GatewayPool::Slot& slot : pool.slots()) {
      if (slot.backing_off && (soonest.count() == 0 || slot.wait_left < soonest)) soonest = slot.wait_left;
    }
    return soonest;
  }
  // A cached or fetched entry as the caller sees it, once the owner allow-list agrees.
  Result<ResolvedKernel> serve(const CacheEntry& entry, Origin origin, std::string location) const;
};

namespace {

ResolvedKernel from_entry(const CacheEntry& entry, Origin origin, std::string location) {
  return ResolvedKernel{entry.source, entry.id, entry.owner_address, origin, entry.gateway, std::move(location), entry.verification};
}

// The most telling code among the gateways' failures: a proof that failed outranks bad
// content, which outranks size, which outranks reachability; "not found" only when every
// gateway said so.
int rank(ErrorCode code) {
  switch (code) {
    case ErrorCode::verification_failed: return 5;
    case ErrorCode::invalid_argument: return 4;
    case ErrorCode::limit_exceeded: return 3;
    case ErrorCode::unavailable:
    case ErrorCode::timeout: return 2;
    case ErrorCode::not_found: return 1;
    default: return 2;
  }
}

ErrorCode summary_code(ErrorCode worst) { return worst == ErrorCode::timeout ? ErrorCode::unavailable : worst; }

std::string trim_slashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Status KernelStore::Impl::check_owner(const ResolvedKernel& kernel) const {
  if (options.allowed_owners.empty() || kernel.verification == Verification::pinned) return {};
  if (std::find(options.allowed_owners.begin(), options.allowed_owners.end(), kernel.owner_address) !=
      options.allowed_owners.end()) {
    return {};
  }
  return make_error(ErrorCode::verification_failed, "kernel " + kernel.id + " is published by " +
                                                        (kernel.owner_address.empty() ? "an unknown owner" : kernel.owner_address) +
                                                        ", which is not among the allowed owners");
}

Result<ResolvedKernel> KernelStore::Impl::serve(const CacheEntry& entry, Origin origin, std::string location) const {
  ResolvedKernel kernel = from_entry(entry, origin, std::move(location));
  if (Status owner = check_owner(kernel); !owner) return owner.take_error();
  return kernel;
}

std::optional<Result<ResolvedKernel>> KernelStore::Impl::pinned(const std::string& id) const {
  if (options.pin_dir.empty()) return std::nullopt;
  const std::string path = options.pin_dir + "/" + id + ".wgsl";
  auto pin = store::read_file_bounded(path, options.max_source_bytes);
  if (!pin) {
    if (pin.error().code == ErrorCode::not_found) return std::nullopt;
    return Result<ResolvedKernel>(pin.take_error());
  }
  if (Status text = store::check_source(*pin, options.max_source_bytes, "pinned kernel " + path); !text) {
    return Result<ResolvedKernel>(text.take_error());
  }
  return Result<ResolvedKernel>(ResolvedKernel{std::move(*pin), id, {}, Origin::pin, {}, path, Verification::pinned});
}

Result<ResolvedKernel> KernelStore::Impl::resolve_id(const std::string& id) {
  if (auto pin = pinned(id)) return std::move(*pin);
  if (auto hit = memory.get(id); hit && acceptable(*hit)) return serve(*hit, Origin::memory_cache, {});

  std::string cache_problem;
  if (disk) {
    auto lookup = disk->load(id);
    cache_problem = lookup.problem;
    if (lookup.entry && acceptable(*lookup.entry)) {
      auto entry = std::make_shared<const CacheEntry>(std::move(*lookup.entry));
      memory.put(entry);
      return serve(*entry, Origin::disk_cache, disk->path_for(id));
    }
  }

  if (options.offline) {
    std::string message = "offline: kernel " + id + " is not in the cache" + (disk ? " " + disk->directory() : std::string());
    if (!cache_problem.empty()) message += " (" + cache_problem + ")";
    return make_error(ErrorCode::not_found, message);
  }
  if (auto remembered = negative.get(id)) {
    remembered->message += " (remembered for up to " + std::to_string(options.negative_ttl.count() / 1000) + " s)";
    return *remembered;
  }
  return flights.run(id, [&] { return fetch(id); });
}

Result<ResolvedKernel> KernelStore::Impl::fetch(const std::string& id) {
  // A flight that finished between our cache miss and this flight filled the memory cache.
  if (auto hit = memory.get(id); hit && acceptable(*hit)) return serve(*hit, Origin::memory_cache, {});
  std::string reasons;
  ErrorCode worst = ErrorCode::not_found;
  for (const store::GatewayPool::Slot& slot : pool.slots()) {
    if (!reasons.empty()) reasons += "; ";
    if (slot.backing_off) {
      reasons += slot.url + ": skipped, backing off for " + std::to_string(slot.wait_left.count()) + " ms after " + slot.last_failure;
      if (rank(ErrorCode::unavailable) > rank(worst)) worst = ErrorCode::unavailable;
      continue;
    }
    store::GatewayOutcome outcome = store::fetch_from_gateway(slot.url, id, settings);
    if (outcome.kernel) {
      pool.succeeded(slot.index);
      auto entry = std::make_shared<const CacheEntry>(
          CacheEntry{id, std::move(outcome.kernel->source), outcome.kernel->owner_address, outcome.kernel->verification, slot.url});
      // A cache that cannot be written costs a refetch later, not this resolve.
      if (disk) (void)disk->store(*entry);
      memory.put(entry);
      return serve(*entry, Origin::gateway, {});
    }
    if (outcome.back_off) pool.failed(slot.index, outcome.error.message, outcome.retry_after);
    reasons += slot.url + ": " + outcome.error.message;
    if (rank(outcome.error.code) > rank(worst)) worst = outcome.error.code;
  }
  Error error = make_error(summary_code(worst), "kernel " + id + ": no gateway could serve it: " + reasons);
  if (error.code == ErrorCode::unavailable) error.retry_after = soonest_back_off_end();
  if (error.code == ErrorCode::not_found || error.code == ErrorCode::verification_failed) negative.put(id, error);
  return error;
}

KernelStore::KernelStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KernelStore::~KernelStore() = default;

const StoreOptions& KernelStore::options() const { return impl_->options; }

Result<std::unique_ptr<KernelStore>> KernelStore::create(StoreOptions options) {
  try {
    if (options.gateways.empty() && !options.offline) {
      return make_error(ErrorCode::invalid_argument, "no gateways configured (use offline mode to serve only the cache)");
    }
    for (std::string& gateway : options.gateways) {
      gateway = trim_slashes(gateway);
      if (Status policy = store::check_url_policy(gateway); !policy) return policy.take_error();
    }
    if (!options.allowed_owners.empty() && options.verify == VerifyPolicy::off) {
      return make_error(ErrorCode::invalid_argument, "an owner allow-list needs verification: only a verified signature names the owner");
    }
    for (const std::string& owner : options.allowed_owners) {
      if (Status valid = validate_arweave_id(owner); !valid) {
        return make_error(ErrorCode::invalid_argument, "allowed owner \"" + owner + "\" is not an address (43 characters of base64url)");
      }
    }
    if (options.max_source_bytes == 0) return make_error(ErrorCode::invalid_argument, "max_source_bytes must be positive");
    auto impl = std::make_unique<Impl>(std::move(options));
    if (impl->options.disk_cache) {
      if (impl->options.cache_dir.empty()) impl->options.cache_dir = default_cache_dir();
      impl->disk.emplace(impl->options.cache_dir, impl->options.max_source_bytes);
      if (Status ready = impl->disk->prepare(); !ready) return ready.take_error();
    }
    return std::unique_ptr<KernelStore>(new KernelStore(std::move(impl)));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("cannot create the kernel store: ") + e.what());
  }
}

Result<ResolvedKernel> KernelStore::resolve(const KernelRef& ref) {
  try {
    const std::size_t max = impl_->options.max_source_bytes;
    switch (ref.kind) {
      case KernelRef::Kind::inline_source: {
        // A caller's own empty source is a mistake worth naming (not "no entry point"); an ID
        // may publish empty data, which the store serves as the ID commits to it.
        if (ref.value.empty()) return make_error(ErrorCode::invalid_argument, "the kernel source is empty");
        if (Status text = store::check_source(ref.value, max, "inline source"); !text) return text.take_error();
        return ResolvedKernel{ref.value, {}, {}, Origin::inline_source, {}, {}, Verification::unverified};
      }
      case KernelRef::Kind::file: {
        auto bytes = store::read_file_bounded(ref.value, max);
        if (!bytes) return bytes.take_error();
        if (Status text = store::check_source(*bytes, max, "kernel file " + ref.value); !text) return text.take_error();
        return ResolvedKernel{std::move(*bytes), {}, {}, Origin::file, {}, ref.value, Verification::unverified};
      }
      case KernelRef::Kind::arweave_id: {
        if (Status valid = validate_arweave_id(ref.value); !valid) return valid.take_error();
        return impl_->resolve_id(ref.value);
      }
    }
    return make_error(ErrorCode::invalid_argument, "unknown kernel reference kind");
  } catch (const std::exception& e) {
    // Allocation failures and the like: never across the API.
    return make_error(ErrorCode::internal, std::string("kernel store: ") + e.what());
  }
}

std::optional<Result<ResolvedKernel>> KernelStore::resolve_at_hand(KernelRef ref) {
  try {
    switch (ref.kind) {
      case KernelRef::Kind::inline_source: {
        if (ref.value.empty()) return Result<ResolvedKernel>(make_error(ErrorCode::invalid_argument, "the kernel source is empty"));
        if (Status text = store::check_source(ref.value, impl_->options.max_source_bytes, "inline source"); !text)
          return Result<ResolvedKernel>(text.take_error());
        return Result<ResolvedKernel>(
            ResolvedKernel{std::move(ref.value), {}, {}, Origin::inline_source, {}, {}, Verification::unverified});
      }
      case KernelRef::Kind::file:
        return std::nullopt;
      case KernelRef::Kind::arweave_id: {
        if (Status valid = validate_arweave_id(ref.value); !valid) return Result<ResolvedKernel>(valid.take_error());
        if (auto pin = impl_->pinned(ref.value)) return pin;
        auto hit = impl_->memory.get(ref.value);
        if (hit && impl_->acceptable(*hit)) return impl_->serve(*hit, Origin::memory_cache, {});
        return std::nullopt;
      }
    }
    return std::nullopt;
  } catch (const std::exception& e) {
    return Result<ResolvedKernel>(make_error(ErrorCode::internal, std::string("kernel store: ") + e.what()));
  }
}

}  // namespace kem
