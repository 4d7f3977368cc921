// The table itself. Defaults are not written here: they are the initial values of the option
// structs (ExecutorOptions, ExecutorPoolOptions, StoreOptions, ServiceOptions).
#include "service/setting_fields.h"

#include <array>

namespace kem::service {
namespace {

using K = SettingKind;
constexpr uint64_t kNoMax = UINT64_MAX;
constexpr uint64_t kDay = 86400000;  // ms: the longest duration any setting takes

#define KEM_FIELD(path) +[](ServiceOptions& o) -> auto& { return o.path; }

const std::array kRows = {
    // The devices
    SettingRow{{"adapters", K::text_list,
                "adapters to open devices on: `\"\"` the high-performance one, `\"cpu\"` the CPU (fallback) driver, "
                "`\"#N\"` the N-th adapter, `\"@N\"` the N-th physical GPU, otherwise part of the adapter's name; "
                "`[]`: every GPU of the machine, or the default adapter when it has none. The `KEM_ADAPTER` "
                "environment variable overrides every entry",
                "", "adapter", false, 0, "devices"},
               KEM_FIELD(devices.adapters)},
    SettingRow{{"devices_per_adapter", K::count, "devices (each with its own GPU thread) opened on each adapter", "", "devices",
                false, 64, "devices"},
               KEM_FIELD(devices.devices_per_adapter)},
    SettingRow{{"max_input_bytes", K::count, "largest input of one call", "", "", false, kNoMax, "devices"},
               KEM_FIELD(devices.executor.max_input_bytes)},
    SettingRow{{"max_output_bytes", K::count, "largest output of one call (256 MiB, as the proof of concept)", "", "",
                false, kNoMax, "devices"},
               KEM_FIELD(devices.executor.max_output_bytes)},
    SettingRow{{"default_timeout", K::milliseconds, "ms a call may take when it gives no `timeout`", "", "", false, kDay, "devices"},
               KEM_FIELD(devices.executor.default_timeout)},
    SettingRow{{"max_timeout", K::milliseconds,
                "ms a call may take at most: its own `timeout` may lower its deadline, never raise it past this "
                "(`default_timeout` may not exceed it)",
                "", "", false, kDay, "devices"},
               KEM_FIELD(devices.executor.max_timeout)},
    SettingRow{{"admission", K::flag,
                "admission control: a call that the device's measured service times say cannot finish by its "
                "deadline is refused at once (`unavailable`, with a retry-after) instead of queued to time out, and "
                "no batch grows past the deadline of a call in it",
                "", "", false, 0, "devices"},
               KEM_FIELD(devices.executor.admission)},
    SettingRow{{"reply_margin", K::milliseconds,
                "ms a waiting caller (the NIF's) keeps waiting past a call's deadline before it gives up on the reply",
                "", "", false, kDay, "devices"},
               KEM_FIELD(reply_margin)},
    SettingRow{{"pipeline_cache_capacity", K::count, "compiled kernels kept warm on each device (least recently used out)",
                "", "", false, kNoMax, "devices"},
               KEM_FIELD(devices.executor.pipeline_cache_capacity)},
    SettingRow{{"metering", K::flag,
                "loop metering: every loop of a kernel shares a per-invocation iteration budget (`budget_exceeded` "
                "past it)",
                "", "", false, 0, "devices"},
               KEM_FIELD(devices.executor.metering)},
    SettingRow{{"loop_budget", K::count, "that budget; a call may lower it (`loop_budget` option), never raise it", "",
                "", false, UINT32_MAX, "devices"},
               KEM_FIELD(devices.executor.loop_budget)},
    SettingRow{{"max_batch_calls", K::count,
                "calls queued while a device is busy go to it together, up to this many in one submission", "", "",
                false, kNoMax, "devices"},
               KEM_FIELD(devices.executor.max_batch_calls)},
    SettingRow{{"batch_call_bytes", K::count, "largest input or output of a call that may join a batch", "", "", false,
                kNoMax, "devices"},
               KEM_FIELD(devices.executor.batch_call_bytes)},
    SettingRow{{"spin_wait", K::microseconds,
                "µs a waiting thread polls before it sleeps (`auto`: 100 on GPUs, 0 on CPU adapters)", "", "", true,
                1000000, "devices"},
               KEM_FIELD(devices.executor.spin_wait)},
    SettingRow{{"direct_calls", K::flag,
                "a blocking call on an idle device drives the device from the calling thread (saves a thread "
                "hand-off)",
                "", "", false, 0, "devices"},
               KEM_FIELD(devices.executor.direct_calls)},
    SettingRow{{"staged_transfer_bytes", K::count,
                "calls with this much input or output move it through KEM's staging buffers in chunks", "", "", false,
                kNoMax, "devices"},
               KEM_FIELD(devices.executor.staged_transfer_bytes)},
    SettingRow{{"staging_chunk_bytes", K::count, "size of one staging chunk", "", "", false, kNoMax, "devices"},
               KEM_FIELD(devices.executor.staging_chunk_bytes)},
    SettingRow{{"staging_slots", K::count, "staging chunks in flight each way", "", "", false, 64, "devices"},
               KEM_FIELD(devices.executor.staging_slots)},
    SettingRow{{"staging_copy_threads", K::count,
                "threads that copy a chunk besides the caller (`auto`: the hardware threads less one, at most 15)", "",
                "", true, 256, "devices"},
               KEM_FIELD(devices.executor.staging_copy_threads)},
    SettingRow{{"affinity_slack", K::count,
                "a device that has the kernel compiled still wins while it has at most this many calls more than the "
                "least loaded one",
                "", "", false, kNoMax, "devices"},
               KEM_FIELD(devices.affinity_slack)},
    SettingRow{{"affinity_capacity", K::count, "kernels whose warm devices the pool remembers", "", "", false, kNoMax, "devices"},
               KEM_FIELD(devices.affinity_capacity)},
    SettingRow{{"reconnect_first_delay", K::milliseconds, "ms before the first attempt to bring a lost device back", "",
                "", false, kDay, "devices"},
               KEM_FIELD(devices.reconnect_first_delay)},
    SettingRow{{"reconnect_most_delay", K::milliseconds, "ms between attempts at most (the delay doubles up to it)", "",
                "", false, kDay, "devices"},
               KEM_FIELD(devices.reconnect_most_delay)},
    // Containment: the GPU worker process
    SettingRow{{"worker_isolation", K::flag,
                "drive the GPUs from a supervised worker process (`kem-gpu-worker`): a kernel that crashes, exhausts "
                "or hangs the driver costs the calls in flight there (`device_lost`), never the node",
                "", "", false, 0, "devices"},
               KEM_FIELD(worker.isolate)},
    SettingRow{{"worker_grace", K::milliseconds,
                "ms past a call's deadline before the watchdog kills a GPU worker that has not answered it", "", "",
                false, kDay, "devices"},
               KEM_FIELD(worker.grace)},
    SettingRow{{"transfer_cache_bytes", K::count,
                "shared memory kept for moving large inputs and outputs to and from the GPU worker, reused across calls",
                "", "", false, kNoMax, "devices"},
               KEM_FIELD(worker.transfer_cache_bytes)},
    // Trust
    SettingRow{{"unmetered_ids", K::text_list,
                "kernel IDs the operator trusts to run without metering (kernels called by ID only)", "",
                "unmetered-id", false, 0, "trust"},
               KEM_FIELD(trust.unmetered_ids)},
    SettingRow{{"unmetered_owners", K::text_list,
                "publisher addresses whose kernels run without metering: applies to a kernel called by ID whose "
                "signature the store verified (its owner is unknown when pinned or fetched with `verify` off); "
                "inline and file kernels are always metered",
                "", "unmetered-owner", false, 0, "trust"},
               KEM_FIELD(trust.unmetered_owners)},
    // The kernel store
    SettingRow{{"gateways", K::text_list, "Arweave gateways, tried in order (plain `http://` only for loopback hosts)",
                "", "gateway", false, 0, "store"},
               KEM_FIELD(store.gateways)},
    SettingRow{{"cache_dir", K::text,
                "kernel cache folder; `\"\"` means `$XDG_CACHE_HOME/kem/kernels` or `~/.cache/kem/kernels`", "", "",
                false, 0, "store"},
               KEM_FIELD(store.cache_dir)},
    SettingRow{{"disk_cache", K::flag, "keep fetched kernels on disk", "", "", false, 0, "store"}, KEM_FIELD(store.disk_cache)},
    SettingRow{{"offline", K::flag, "serve only pins and caches, never the network", "", "", false, 0, "store"},
               KEM_FIELD(store.offline)},
    SettingRow{{"verify", K::choice,
                "`required`: every fetched byte is proven against its ID; `off`: trust the gateway", "required|off", "",
                false, 0, "store"},
               KEM_FIELD(store.verify)},
    SettingRow{{"pin_dir", K::text, "operator-trusted kernels, one `<ID>.wgsl` file each (`\"\"`: none)", "", "", false, 0, "store"},
               KEM_FIELD(store.pin_dir)},
    SettingRow{{"allowed_owners", K::text_list, "owner addresses allowed to publish kernels (`[]`: anyone)", "",
                "allow-owner", false, 0, "store"},
               KEM_FIELD(store.allowed_owners)},
    SettingRow{{"max_source_bytes", K::count, "largest kernel source", "", "", false, kNoMax, "store"},
               KEM_FIELD(store.max_source_bytes)},
    SettingRow{{"memory_cache_bytes", K::count, "kernel sources kept in memory, in bytes", "", "", false, kNoMax, "store"},
               KEM_FIELD(store.memory_cache_bytes)},
    SettingRow{{"gateway_connect_timeout", K::milliseconds, "ms to connect to a gateway", "", "", false, kDay, "store"},
               KEM_FIELD(store.connect_timeout)},
    SettingRow{{"gateway_request_timeout", K::milliseconds, "ms for a whole gateway request, body included", "", "",
                false, kDay, "store"},
               KEM_FIELD(store.request_timeout)},
    SettingRow{{"gateway_backoff_initial", K::milliseconds, "ms a failing gateway is first left alone", "", "", false,
                kDay, "store"},
               KEM_FIELD(store.backoff_initial)},
    SettingRow{{"gateway_backoff_max", K::milliseconds, "ms a failing gateway is left alone at most (doubling)", "", "",
                false, kDay, "store"},
               KEM_FIELD(store.backoff_max)},
    SettingRow{{"negative_ttl", K::milliseconds,
                "ms an ID that was not found (or failed verification) is remembered as such", "", "", false, kDay, "store"},
               KEM_FIELD(store.negative_ttl)},
    SettingRow{{"fetch_threads", K::count,
                "threads that resolve kernels not at hand (gateways, disk cache, files), so callers never wait on them",
                "", "", false, 1024, "service"},
               KEM_FIELD(fetch_threads)},
    SettingRow{{"fetch_queue", K::count, "calls that may wait for such a resolution; past it a call is `unavailable`",
                "", "", false, kNoMax, "service"},
               KEM_FIELD(fetch_queue)},
    // Admission of new kernels (kem/kernel_admission.h)
    SettingRow{{"sandbox", K::flag,
                "a kernel's first compile runs in a sandbox process with the limits below; a kernel whose compile "
                "crashes, passes a limit or takes too long is refused (`compile_error`), and the verdict is remembered",
                "", "", false, 0, "service"},
               KEM_FIELD(sandbox.enabled)},
    SettingRow{{"sandbox_memory_bytes", K::count,
                "address space a compile may take in that process (`RLIMIT_AS`, on top of what Dawn and the driver "
                "reserved at its start)",
                "", "", false, kNoMax, "service"},
               KEM_FIELD(sandbox.address_space_bytes)},
    SettingRow{{"sandbox_cpu_seconds", K::count, "CPU time (`RLIMIT_CPU`) of that process, its start included", "", "",
                false, 86400, "service"},
               KEM_FIELD(sandbox.cpu_seconds)},
    SettingRow{{"sandbox_timeout", K::milliseconds, "ms of wall time a kernel's sandboxed compile may take", "", "",
                false, kDay, "service"},
               KEM_FIELD(sandbox.timeout)},
    SettingRow{{"sandbox_threads", K::count,
                "threads that wait for the sandbox runs of new kernels that were at hand (inline, pinned, in memory; at "
                "most this many at once); a kernel resolved on a fetch thread is admitted there",
                "", "", false, 1024, "service"},
               KEM_FIELD(sandbox_threads)},
    SettingRow{{"sandbox_spare", K::flag,
                "keep one sandbox process started ahead (Dawn up, waiting): a new kernel then waits for its compile "
                "only; costs one idle process",
                "", "", false, 0, "service"},
               KEM_FIELD(sandbox.spare)},
    SettingRow{{"sandbox_verdicts", K::count, "kernels whose verdict (admitted or refused) is remembered", "", "",
                false, kNoMax, "service"},
               KEM_FIELD(sandbox.verdict_capacity)},
};

#undef KEM_FIELD

}  // namespace

std::span<const SettingRow> setting_rows() { return kRows; }

}  // namespace kem::service
