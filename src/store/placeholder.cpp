// Replaced by the kernel store implementation.
namespace kem::store_detail { int placeholder = 0; }
