// The devices in the service's own process: the ExecutorPool itself.
#include "worker/devices.h"
#include "worker/worker_devices.h"

namespace kem::worker {
namespace {

class LocalDevices final : public Devices {
 public:
  explicit LocalDevices(std::unique_ptr<ExecutorPool> pool) : pool_(std::move(pool)) {}
  void submit(const KernelRequest& request, Completion done) override { pool_->submit(request, std::move(done)); }
  Result<Reflection> check(std::string_view source, std::string_view entry) override {
    return pool_->check(source, entry);
  }
  ExecutorPool::Stats stats() const override { return pool_->stats(); }
  std::string adapter_info_json() const override { return pool_->adapter_info_json(); }
  size_t size() const override { return pool_->size(); }
  void simulate_device_loss(size_t index) override { pool_->simulate_device_loss(index); }
  WorkerStats worker_stats() const override { return {}; }
  void kill_worker() override {}

 private:
  std::unique_ptr<ExecutorPool> pool_;
};

}  // namespace

Result<std::unique_ptr<Devices>> open_devices(const WorkerOptions& options, const ExecutorPoolOptions& devices) {
  if (options.isolate) return WorkerDevices::create(options, devices);
  auto pool = ExecutorPool::create(devices);
  if (!pool) return pool.take_error();
  return std::unique_ptr<Devices>(new LocalDevices(std::move(pool).value()));
}

}  // namespace kem::worker
