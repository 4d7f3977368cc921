#include "executor/adapter_info.h"

#include <nlohmann/json.hpp>

namespace kem::executor {

std::string adapter_info_json(const gpu::Adapter& adapter) {
  const auto& d = adapter.description;
  const auto& l = adapter.limits;
  nlohmann::json info = {
      {"name", d.device},
      {"vendor", d.vendor},
      {"architecture", d.architecture},
      {"device", d.device},
      {"vendor_id", d.vendor_id},
      {"device_id", d.device_id},
      // webgpu.h has one driver field, "description" (the driver's own version line).
      {"driver", d.description},
      {"driver_info", d.description},
      {"backend", d.backend},
      {"adapter_type", d.adapter_type},
      {"limits",
       {{"max_storage_buffer_binding_size", l.maxStorageBufferBindingSize},
        {"max_uniform_buffer_binding_size", l.maxUniformBufferBindingSize},
        {"max_buffer_size", l.maxBufferSize},
        {"max_compute_workgroups_per_dimension", l.maxComputeWorkgroupsPerDimension},
        {"max_compute_invocations_per_workgroup", l.maxComputeInvocationsPerWorkgroup},
        {"max_compute_workgroup_size_x", l.maxComputeWorkgroupSizeX},
        {"max_compute_workgroup_size_y", l.maxComputeWorkgroupSizeY},
        {"max_compute_workgroup_size_z", l.maxComputeWorkgroupSizeZ},
        {"max_compute_workgroup_storage_size", l.maxComputeWorkgroupStorageSize},
        {"max_storage_buffers_per_shader_stage", l.maxStorageBuffersPerShaderStage}}},
  };
  // Adapter strings come from the driver; replace invalid UTF-8 rather than throw.
  return info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kem::executor
