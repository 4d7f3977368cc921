#include "executor/session/batch_layout.h"

#include "wgsl/metering.h"

namespace kem::executor {

BatchLayout lay_out(std::span<PreparedCall> calls, BindingAlignment alignment) {
  BatchLayout layout;
  for (PreparedCall& c : calls) {
    const CallShape& s = c.shape;
    c.at.input = round_up(layout.input_bytes, alignment.storage);
    layout.input_bytes = c.at.input + s.input_binding_bytes;
    c.at.output = round_up(layout.output_bytes, alignment.storage);
    layout.output_bytes = c.at.output + s.output_binding_bytes;
    c.at.readback_output = c.at.output;  // the output buffer is copied back as one range
    if (s.params_binding_bytes) {
      c.at.params = round_up(layout.params_bytes, alignment.uniform);
      layout.params_bytes = c.at.params + s.params_binding_bytes;
      layout.has_params = true;
    }
    if (c.kernel->metered) {
      c.at.meter = round_up(layout.meter_bytes, alignment.storage);
      layout.meter_bytes = c.at.meter + kMeterBufferSize;
      layout.metered = true;
    }
  }
  // The meters are read back behind the outputs, in the same mapping.
  layout.readback_meter_base = round_up(layout.output_bytes, 8);
  layout.readback_bytes = layout.metered ? layout.readback_meter_base + layout.meter_bytes : layout.output_bytes;
  for (PreparedCall& c : calls) c.at.readback_meter = layout.readback_meter_base + c.at.meter;
  return layout;
}

}  // namespace kem::executor
