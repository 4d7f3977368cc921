// Heap state shared between a waiting caller and a WebGPU callback.
//
// A WebGPU callback may fire after the code that registered it has given up waiting (a timeout,
// a lost device, the instance released later). So the callback's userdata is never a pointer to
// a stack frame: it is a heap-allocated shared_ptr that the callback itself deletes, and the
// waiter keeps its own reference. Whoever finishes last frees the state.
#pragma once

#include <memory>

namespace kem::gpu {

template <class State>
struct CallbackBox {
  // Returns the waiter's reference and the userdata pointer to hand to WebGPU.
  static std::pair<std::shared_ptr<State>, void*> make() {
    auto state = std::make_shared<State>();
    return {state, new std::shared_ptr<State>(state)};
  }
  // In the callback: takes back ownership of the userdata (freed when the result dies).
  static std::unique_ptr<std::shared_ptr<State>> take(void* userdata) {
    return std::unique_ptr<std::shared_ptr<State>>(static_cast<std::shared_ptr<State>*>(userdata));
  }
};

}  // namespace kem::gpu
