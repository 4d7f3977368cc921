// reflect / reflect_wgsl: resource bindings and compute entry points, read from the parsed module.
#include "reflect.h"

#include <new>

#include "const_eval.h"
#include "lexer.h"

namespace kem {

std::string_view to_string(AddressSpace space) {
  switch (space) {
    case AddressSpace::storage: return "storage";
    case AddressSpace::uniform: return "uniform";
    case AddressSpace::handle: return "handle";
  }
  return "storage";
}

std::string_view to_string(AccessMode access) {
  switch (access) {
    case AccessMode::read: return "read";
    case AccessMode::write: return "write";
    case AccessMode::read_write: return "read_write";
  }
  return "read";
}

namespace {

using wgsl::Attribute;
using wgsl::ConstEvaluator;
using wgsl::Expr;
using wgsl::SourcePos;


const Attribute* find_attribute(const std::vector<Attribute>& attrs, std::string_view name) {
  for (const Attribute& a : attrs)
    if (a.name == name) return &a;
  return nullptr;
}

std::optional<AccessMode> access_from_word(std::string_view word) {
  if (word == "read") return AccessMode::read;
  if (word == "write") return AccessMode::write;
  if (word == "read_write") return AccessMode::read_write;
  return std::nullopt;
}

// The single argument of @group / @binding as a non-negative integer.
Result<uint32_t> index_argument(ConstEvaluator& eval, const Attribute& a) {
  if (a.args.size() != 1)
    return wgsl::compile_error_at(a.pos, "@" + a.name + " takes exactly one argument");
  Result<wgsl::IntValue> v = eval.evaluate(*a.args[0]);
  if (!v) return v.take_error();
  if (v->value < 0 || v->value > static_cast<int64_t>(UINT32_MAX))
    return wgsl::compile_error_at(a.args[0]->pos, "@" + a.name + " must be a non-negative integer, found " +
                                        std::to_string(v->value));
  return static_cast<uint32_t>(v->value);
}

Result<ResourceBinding> reflect_binding(std::string_view source, ConstEvaluator& eval,
                                        const wgsl::VarDecl& var, const Attribute* group,
                                        const Attribute* binding) {
  ResourceBinding rb;
  rb.name = var.name;
  rb.line = var.name_pos.line;
  rb.column = var.name_pos.column;
  if (!group || !binding)
    return wgsl::compile_error_at(var.name_pos, "resource variable '" + var.name +
                                      "' needs both @group and @binding");
  Result<uint32_t> g = index_argument(eval, *group);
  if (!g) return g.take_error();
  Result<uint32_t> b = index_argument(eval, *binding);
  if (!b) return b.take_error();
  rb.group = *g;
  rb.binding = *b;
  if (!var.type) return wgsl::compile_error_at(var.name_pos, "resource variable '" + var.name + "' needs a type");
  rb.type = std::string(source.substr(var.type->pos.offset, var.type->end - var.type->pos.offset));

  if (var.var_template.empty()) {
    // Textures and samplers live in the handle address space. A storage texture carries its
    // access mode as its last template argument (texture_storage_2d<rgba8unorm, write>).
    rb.address_space = AddressSpace::handle;
    rb.access = AccessMode::read;
    if (var.type->text.starts_with("texture_storage") && var.type->template_args.size() == 2) {
      if (auto mode = access_from_word(var.type->template_args[1]->text)) rb.access = *mode;
    }
    return rb;
  }
  const Expr& space = *var.var_template[0];
  if (space.text == "storage") {
    rb.address_space = AddressSpace::storage;
    rb.access = AccessMode::read;  // WGSL's default for storage
    if (var.var_template.size() > 1) {
      const Expr& mode = *var.var_template[1];
      std::optional<AccessMode> access = access_from_word(mode.text);
      if (!access || mode.kind != wgsl::ExprKind::identifier)
        return wgsl::compile_error_at(mode.pos, "expected access mode read or read_write, found '" +
                                      std::string(source.substr(mode.pos.offset,
                                                                mode.end - mode.pos.offset)) +
                                      "'");
      rb.access = *access;
    }
  } else if (space.text == "uniform") {
    rb.address_space = AddressSpace::uniform;
    rb.access = AccessMode::read;
    if (var.var_template.size() > 1)
      return wgsl::compile_error_at(var.var_template[1]->pos, "a uniform variable takes no access mode");
  } else {
    return wgsl::compile_error_at(space.pos, "resource variable '" + var.name +
                                   "' must be in the storage or uniform address space, found '" +
                                   space.text + "'");
  }
  return rb;
}

bool is_builtin(const std::vector<Attribute>& attrs, std::string_view which) {
  const Attribute* b = find_attribute(attrs, "builtin");
  return b && b->args.size() == 1 && b->args[0]->kind == wgsl::ExprKind::identifier &&
         b->args[0]->text == which;
}

// A parameter carries @builtin(num_workgroups) itself or as a member of its struct type.
bool reads_builtin(const wgsl::Module& module, const wgsl::Function& f, std::string_view which) {
  for (const wgsl::Param& p : f.params) {
    if (is_builtin(p.attributes, which)) return true;
    for (const wgsl::StructDecl& s : module.structs) {
      if (!p.type || s.name != p.type->text) continue;
      for (const wgsl::StructMember& m : s.members)
        if (is_builtin(m.attributes, which)) return true;
    }
  }
  return false;
}

Result<EntryPoint> reflect_entry(const wgsl::Module& module, ConstEvaluator& eval,
                                 const wgsl::Function& f) {
  EntryPoint ep;
  ep.name = f.name;
  ep.reads_num_workgroups = reads_builtin(module, f, "num_workgroups");
  ep.line = f.name_pos.line;
  ep.column = f.name_pos.column;
  const Attribute* size = find_attribute(f.attributes, "workgroup_size");
  if (!size)
    return wgsl::compile_error_at(f.name_pos, "compute entry point '" + f.name + "' needs @workgroup_size");
  if (size->args.empty() || size->args.size() > 3)
    return wgsl::compile_error_at(size->pos, "@workgroup_size takes one to three arguments");
  static constexpr const char* kAxis[] = {"x", "y", "z"};
  for (size_t i = 0; i < size->args.size(); ++i) {
    const Expr& arg = *size->args[i];
    Result<wgsl::IntValue> v = eval.evaluate(arg);
    if (!v) return v.take_error();
    if (v->value <= 0 || v->value > static_cast<int64_t>(UINT32_MAX))
      return wgsl::compile_error_at(arg.pos, std::string("workgroup size ") + kAxis[i] +
                                   " must be a positive integer, found " +
                                   std::to_string(v->value));
    ep.workgroup_size[i] = static_cast<uint32_t>(v->value);
  }
  return ep;
}

// The override's type as declared or, without one, from a literal default (WGSL's concretisation:
// an abstract integer becomes i32, an abstract float f32).
std::string override_type(const wgsl::VarDecl& var) {
  if (var.type) return var.type->text;
  if (!var.initializer) return {};
  const Expr& init = *var.initializer;
  if (init.kind == wgsl::ExprKind::bool_literal) return "bool";
  if (init.kind == wgsl::ExprKind::float_literal) return init.text.ends_with('h') ? "f16" : "f32";
  if (init.kind != wgsl::ExprKind::int_literal) return {};
  if (init.text.ends_with('u')) return "u32";
  return "i32";
}

Result<std::vector<OverrideDeclaration>> reflect_overrides(ConstEvaluator& eval, const wgsl::Module& module) {
  std::vector<OverrideDeclaration> out;
  for (const wgsl::VarDecl& var : module.globals) {
    if (var.keyword != "override") continue;
    OverrideDeclaration d;
    d.name = var.name;
    d.type = override_type(var);
    d.has_default = var.initializer != nullptr;
    d.line = var.name_pos.line;
    d.column = var.name_pos.column;
    if (const Attribute* id = find_attribute(var.attributes, "id")) {
      Result<uint32_t> n = index_argument(eval, *id);
      if (!n) return n.take_error();
      d.id = *n;
    }
    out.push_back(std::move(d));
  }
  return out;
}

// The request's integer and boolean values stand in for the defaults, so that a workgroup size
// written with an override is the one the pipeline will have.
void apply_overrides(ConstEvaluator& eval, std::span<const OverrideValue> values) {
  for (const OverrideValue& v : values) {
    wgsl::ConstValue c;
    const std::string& t = v.declaration->type;
    if (t == "bool") {
      c.kind = wgsl::ConstValue::Kind::boolean;
      c.boolean = v.value != 0;
    } else if (t == "i32" || t == "u32") {
      c.integer = {static_cast<int64_t>(v.value), t == "i32" ? wgsl::IntType::i32 : wgsl::IntType::u32};
    } else {
      continue;  // floats never size a workgroup; their defaults are not read either
    }
    eval.set_override(v.declaration->name, std::move(c));
  }
}

Result<Reflection> reflect_module(std::string_view source, const wgsl::Module& module,
                                  std::span<const OverrideValue> values) {
  Reflection out;
  ConstEvaluator eval(module);
  apply_overrides(eval, values);
  for (const wgsl::VarDecl& var : module.globals) {
    if (var.keyword != "var") continue;
    const Attribute* group = find_attribute(var.attributes, "group");
    const Attribute* binding = find_attribute(var.attributes, "binding");
    const bool resource_space =
        !var.var_template.empty() &&
        (var.var_template[0]->text == "storage" || var.var_template[0]->text == "uniform");
    if (!group && !binding && !resource_space) {
      if (var.var_template.empty() && var.type &&
          (var.type->text.starts_with("texture") || var.type->text.starts_with("sampler")))
        return wgsl::compile_error_at(var.name_pos, "resource variable '" + var.name +
                                          "' needs both @group and @binding");
      continue;  // private / workgroup variables
    }
    Result<ResourceBinding> rb = reflect_binding(source, eval, var, group, binding);
    if (!rb) return rb.take_error();
    out.bindings.push_back(std::move(*rb));
  }
  Result<std::vector<OverrideDeclaration>> overrides = reflect_overrides(eval, module);
  if (!overrides) return overrides.take_error();
  out.overrides = std::move(*overrides);
  for (const wgsl::Function& f : module.functions) {
    if (!find_attribute(f.attributes, "compute")) continue;
    Result<EntryPoint> ep = reflect_entry(module, eval, f);
    if (!ep) return ep.take_error();
    out.entry_points.push_back(std::move(*ep));
  }
  return out;
}

}  // namespace

Result<std::vector<OverrideDeclaration>> reflect_overrides(const wgsl::ParsedModule& parsed) {
  try {
    ConstEvaluator eval(parsed.module());
    return reflect_overrides(eval, parsed.module());
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::internal, "out of memory while reflecting WGSL");
  }
}

Result<Reflection> reflect(const wgsl::ParsedModule& parsed, std::span<const OverrideValue> overrides) {
  try {
    return reflect_module(parsed.source(), parsed.module(), overrides);
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::internal, "out of memory while reflecting WGSL");
  }
}

Result<Reflection> reflect_wgsl(std::string_view source) {
  Result<wgsl::ParsedModule> parsed = wgsl::parse_kernel(source);
  if (!parsed) return parsed.take_error();
  return reflect(*parsed);
}

}  // namespace kem
