#include "workgroup_usage.h"

#include <map>
#include <string>

namespace kem::wgsl {
namespace {

struct Layout {
  uint64_t size = 0;
  uint64_t align = 1;
};

uint64_t round_up(uint64_t n, uint64_t k) { return (n + k - 1) / k * k; }

class Sizer {
 public:
  Sizer(const Module& module, ConstEvaluator& constants) : constants_(constants) {
    for (const Alias& a : module.aliases)
      if (a.type) aliases_.emplace(a.name, a.type.get());
    for (const StructDecl& s : module.structs) structs_.emplace(s.name, &s);
  }

  // Types nest no deeper than the parser's template limit; aliases and structs are bounded
  // by `depth` too, which also stops cyclic definitions (Dawn refuses those).
  std::optional<Layout> layout(const Expr& t, int depth) {
    if (depth > 256) return std::nullopt;
    const std::string& n = t.text;
    if (t.template_args.empty()) {
      if (n == "f32" || n == "i32" || n == "u32" || n == "bool") return Layout{4, 4};
      if (n == "f16") return Layout{2, 2};
      if (auto a = aliases_.find(n); a != aliases_.end()) return layout(*a->second, depth + 1);
      if (auto s = structs_.find(n); s != structs_.end()) return struct_layout(*s->second, depth + 1);
      return shorthand(n);
    }
    if (n == "atomic") return Layout{4, 4};
    if (n.size() == 4 && n.starts_with("vec") && t.template_args.size() == 1) {
      std::optional<Layout> e = layout(*t.template_args[0], depth + 1);
      if (!e) return std::nullopt;
      return vector(static_cast<uint64_t>(n[3] - '0'), e->size);
    }
    if (n.size() == 6 && n.starts_with("mat") && t.template_args.size() == 1) {
      std::optional<Layout> e = layout(*t.template_args[0], depth + 1);
      if (!e) return std::nullopt;
      return matrix(static_cast<uint64_t>(n[3] - '0'), static_cast<uint64_t>(n[5] - '0'), e->size);
    }
    if (n == "array" && t.template_args.size() == 2) {
      std::optional<Layout> e = layout(*t.template_args[0], depth + 1);
      Result<IntValue> count = constants_.evaluate(*t.template_args[1]);
      if (!e || !count || count->value <= 0) return std::nullopt;
      const uint64_t stride = round_up(e->size, e->align);
      return Layout{stride * static_cast<uint64_t>(count->value), e->align};
    }
    return std::nullopt;
  }

 private:
  static Layout vector(uint64_t n, uint64_t scalar) {
    return Layout{n * scalar, (n == 2 ? 2 : 4) * scalar};
  }
  static Layout matrix(uint64_t columns, uint64_t rows, uint64_t scalar) {
    const Layout column = vector(rows, scalar);
    return Layout{columns * round_up(column.size, column.align), column.align};
  }
  // vec3f, vec4u, mat4x4f, mat2x3h and the like.
  static std::optional<Layout> shorthand(const std::string& n) {
    const char suffix = n.empty() ? '\0' : n.back();
    const uint64_t scalar = suffix == 'h' ? 2 : 4;
    if (suffix != 'f' && suffix != 'h' && suffix != 'i' && suffix != 'u') return std::nullopt;
    auto digit = [&](size_t i) { return n[i] >= '2' && n[i] <= '4'; };
    if (n.size() == 5 && n.starts_with("vec") && digit(3)) return vector(static_cast<uint64_t>(n[3] - '0'), scalar);
    if (n.size() == 7 && n.starts_with("mat") && digit(3) && n[4] == 'x' && digit(5) && suffix != 'i' &&
        suffix != 'u')
      return matrix(static_cast<uint64_t>(n[3] - '0'), static_cast<uint64_t>(n[5] - '0'), scalar);
    return std::nullopt;
  }
  std::optional<Layout> struct_layout(const StructDecl& s, int depth) {
    uint64_t offset = 0;
    uint64_t align = 1;
    for (const StructMember& m : s.members) {
      if (!m.attributes.empty() || !m.type) return std::nullopt;  // @size / @align: not sized here
      std::optional<Layout> l = layout(*m.type, depth + 1);
      if (!l) return std::nullopt;
      offset = round_up(offset, l->align) + l->size;
      align = std::max(align, l->align);
    }
    return Layout{round_up(offset, align), align};
  }

  ConstEvaluator& constants_;
  std::map<std::string, const Expr*, std::less<>> aliases_;
  std::map<std::string, const StructDecl*, std::less<>> structs_;
};

}  // namespace

std::optional<uint64_t> workgroup_storage_bytes(const Module& module, ConstEvaluator& constants) {
  Sizer sizer(module, constants);
  uint64_t total = 0;
  for (const VarDecl& g : module.globals) {
    if (g.keyword != "var" || g.var_template.empty() || g.var_template[0]->text != "workgroup") continue;
    if (!g.type) return std::nullopt;
    std::optional<Layout> l = sizer.layout(*g.type, 0);
    if (!l) return std::nullopt;
    total += round_up(l->size, 16);
  }
  return total;
}

}  // namespace kem::wgsl
