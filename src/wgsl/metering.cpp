// meter: inserts a budget check at the top of every loop body (or one charge before a loop
// of fixed trip count, or a guard around a loop whose count is fixed once it starts) and appends
// the meter's declarations after the user's last line. Inserted text never contains a line
// break, so every line of the user's kernel keeps its number; see metering.h.
#include "metering.h"

#include <algorithm>
#include <map>
#include <new>
#include <set>

#include "ast.h"
#include "lexer.h"
#include "loop_analysis.h"
#include "loop_exit.h"
#include "workgroup_usage.h"
#include "reflect.h"
#include "text_position.h"

namespace kem {

uint32_t effective_loop_budget(uint32_t operator_budget, std::optional<uint64_t> requested) {
  if (!requested) return operator_budget;
  return static_cast<uint32_t>(std::min<uint64_t>(operator_budget, *requested));
}

OriginalLocation MeteredKernel::to_original(uint64_t offset) const {
  OriginalLocation out;
  uint64_t shift = 0;  // bytes inserted before `offset`
  uint64_t original_offset = 0;
  bool resolved = false;
  for (const Insertion& ins : insertions) {
    const uint64_t start = ins.offset + shift;  // where the inserted text starts in `source`
    if (offset < start) break;
    if (offset < start + ins.length) {
      original_offset = ins.offset;
      out.in_inserted_code = true;
      resolved = true;
      break;
    }
    shift += ins.length;
  }
  if (!resolved) original_offset = offset - shift;
  original_offset = std::min<uint64_t>(original_offset, original.size());
  const wgsl::SourcePos pos = wgsl::position_of(original, static_cast<size_t>(original_offset));
  out.offset = pos.offset;
  out.line = pos.line;
  out.column = pos.column;
  return out;
}

OriginalLocation MeteredKernel::to_original(uint64_t line, uint64_t line_pos) const {
  std::optional<size_t> start = wgsl::line_start(source, static_cast<size_t>(line));
  if (!start) return to_original(static_cast<uint64_t>(source.size()));
  return to_original(*start + (line_pos > 0 ? line_pos - 1 : 0));
}

namespace {


// A prefix for KEM's names that no identifier of the kernel starts with, so they cannot clash.
std::string unused_prefix(const std::vector<wgsl::Token>& tokens) {
  for (int n = 0;; ++n) {
    std::string prefix = "kem_meter" + (n == 0 ? std::string() : std::to_string(n));
    bool used = std::any_of(tokens.begin(), tokens.end(), [&](const wgsl::Token& t) {
      return t.kind == wgsl::TokenKind::identifier && t.text.starts_with(prefix);
    });
    if (!used) return prefix;
  }
}

// The declarations appended after the user's source. P is the prefix.
std::string meter_declarations(const std::string& p, const MeteringOptions& options, bool with_uniform_exit,
                               bool with_charge, bool with_range) {
  std::string s =
      "\n// Loop metering added by KEM (issue 7). The lines above are the kernel as written.\n"
      "struct " + p + "_State { budget: u32, exceeded: atomic<u32> }\n"
      "@group(" + std::to_string(options.group) + ") @binding(" + std::to_string(options.binding) +
      ") var<storage, read_write> " + p + ": " + p + "_State;\n"
      "// Loop iterations this invocation may still start; every entry point sets it to the budget.\n"
      "var<private> " + p + "_left: u32;\n"
      "// Counts one loop iteration of this invocation; true once the budget is used up.\n"
      "fn " + p + "_tick() -> bool {\n"
      "  if " + p + "_left == 0u {\n"
      "    atomicStore(&" + p + ".exceeded, 1u);\n"
      "    return true;\n"
      "  }\n"
      "  " + p + "_left -= 1u;\n"
      "  return false;\n"
      "}\n";
  if (with_charge) {
    s += "// Counts all n iterations of a loop that always runs exactly n times, before it starts.\n"
         "fn " + p + "_charge(n: u32) {\n"
         "  if n <= " + p + "_left {\n"
         "    " + p + "_left -= n;\n"
         "  } else {\n"
         "    " + p + "_left = 0u;\n"
         "    atomicStore(&" + p + ".exceeded, 1u);\n"
         "  }\n"
         "}\n";
  }
  if (with_range) {
    s += "// Charges a loop whose counter steps from `first` by `step` while below `bound` (or equal, if\n"
         "// inclusive), in u32 order keys; false, with the budget used up, when it must not run.\n"
         "fn " + p + "_charge_range(first: u32, bound: u32, step: u32, inclusive: bool) -> bool {\n"
         "  if first > bound || (first == bound && !inclusive) {\n"
         "    return true;\n"
         "  }\n"
         "  let span = bound - first;\n"
         "  var steps = span / step;\n"
         "  if !inclusive {\n"
         "    steps = (span - 1u) / step;\n"
         "  }\n"
         "  // steps + 1 iterations; a step past the last one that wraps around never ends the loop.\n"
         "  if first + steps * step > 0xFFFFFFFFu - step || steps >= " + p + "_left {\n"
         "    " + p + "_left = 0u;\n"
         "    atomicStore(&" + p + ".exceeded, 1u);\n"
         "    return false;\n"
         "  }\n"
         "  " + p + "_left -= steps + 1u;\n"
         "  return true;\n"
         "}\n"
         "fn " + p + "_range_u32(start: u32, end: u32, step: u32, up: bool, inclusive: bool) -> bool {\n"
         "  if up {\n"
         "    return " + p + "_charge_range(start, end, step, inclusive);\n"
         "  }\n"
         "  return " + p + "_charge_range(~start, ~end, step, inclusive);\n"
         "}\n"
         "// The sign bit flipped orders i32 values as u32 values.\n"
         "fn " + p + "_range_i32(start: i32, end: i32, step: u32, up: bool, inclusive: bool) -> bool {\n"
         "  return " + p + "_range_u32(bitcast<u32>(start) ^ 0x80000000u, bitcast<u32>(end) ^ 0x80000000u, step, up,\n"
         "                          inclusive);\n"
         "}\n";
  }
  if (with_uniform_exit) {
    s += "var<workgroup> " + p + "_halt: bool;\n"
         "// For loops with barriers: the whole workgroup leaves once any invocation is over budget.\n"
         "fn " + p + "_tick_uniform() -> bool {\n"
         "  if " + p + "_tick() { " + p + "_halt = true; }\n"
         "  return workgroupUniformLoad(&" + p + "_halt);\n"
         "}\n";
  }
  return s;
}

bool has_attribute(const std::vector<wgsl::Attribute>& attrs, std::string_view name) {
  return std::any_of(attrs.begin(), attrs.end(),
                     [&](const wgsl::Attribute& a) { return a.name == name; });
}

// The transformation proper. It reads the one parse it is given and never the text again: the
// caller reflected that parse already (the same errors, at the same positions, as an unmetered
// call would give), and the tokens it needs for fresh names come with the parse.
Result<MeteredKernel> meter_parsed(const wgsl::ParsedModule& parsed, const Reflection& reflection,
                                   const MeteringOptions& options) {
  for (const ResourceBinding& b : reflection.bindings) {
    if (b.group == options.group && b.binding == options.binding)
      return wgsl::compile_error_at({0, b.line, b.column},
                      "@group(" + std::to_string(b.group) + ") @binding(" +
                          std::to_string(b.binding) + ") is reserved for KEM's loop meter; '" +
                          b.name + "' must use another binding");
  }
  const std::string_view source = parsed.source();
  const wgsl::Module& module = parsed.module();
  const std::string p = unused_prefix(parsed.tokens());

  struct Edit {
    uint32_t offset;
    std::string text;
  };
  std::vector<Edit> edits;
  MeteredKernel out;
  out.group = options.group;
  out.binding = options.binding;
  for (const wgsl::Function& f : module.functions) {
    // Every compute entry point loads the budget once into a private variable: a load in every
    // iteration could not be hoisted by the driver, since the kernel's own storage writes might
    // alias it. This use of the meter also keeps its binding in a layout derived from the
    // shader ("auto"), even for kernels without loops.
    if (has_attribute(f.attributes, "compute") && f.body)
      edits.push_back({f.body->pos.offset + 1, " " + p + "_left = " + p + ".budget;"});
  }
  const std::map<const wgsl::Stmt*, std::string> exits = wgsl::budget_exits(module, source);
  const std::vector<wgsl::LoopSite> sites = wgsl::find_loops(module);
  // Room for the workgroup flag of loops with barriers? Unknown usage counts as no room.
  // A barrier-free loop that leaves the workgroup together only because the options widen it.
  auto widenable = [](const wgsl::LoopSite& l) {
    return !l.needs_uniform_exit && l.in_uniform_function && !l.charged_trips;
  };
  auto widened = [&](const wgsl::LoopSite& l) {
    switch (options.uniform_exits) {
      case UniformExits::barrier_loops: return false;
      case UniformExits::barrier_functions: return widenable(l);
      case UniformExits::barrier_functions_outside_branches: return widenable(l) && !l.under_branch;
    }
    return false;
  };
  auto uniform_exit = [&](const wgsl::LoopSite& l) { return l.needs_uniform_exit || widened(l); };
  bool flag_fits = true;
  if (std::any_of(sites.begin(), sites.end(), [&](const wgsl::LoopSite& l) {
        return uniform_exit(l) && !l.charged_trips && !(l.range && !widened(l));
      })) {
    wgsl::ConstEvaluator constants(module);
    std::optional<uint64_t> used = wgsl::workgroup_storage_bytes(module, constants);
    flag_fits = used && *used + 16 <= options.workgroup_storage_limit;
  }
  const std::map<const wgsl::Stmt*, const wgsl::Function*> owners =
      flag_fits ? std::map<const wgsl::Stmt*, const wgsl::Function*>{} : wgsl::loop_functions(module);
  std::set<const wgsl::Function*> counted_functions;
  for (const wgsl::LoopSite& site : sites) {
    if (options.uniform_exits == UniformExits::barrier_loops ? widenable(site) : widened(site)) ++out.widened_loops;
    if (site.charged_trips) {
      // Charged once, before the statement (and its attributes); its body is left alone.
      if (*site.charged_trips == 0) continue;
      const wgsl::Stmt& loop = *site.loop;
      const uint32_t at = loop.attributes.empty() ? loop.pos.offset : loop.attributes.front().pos.offset;
      edits.push_back({at, p + "_charge(" + std::to_string(*site.charged_trips) + "u); "});
      ++out.charged_loops;
      continue;
    }
    const bool leaves_together = uniform_exit(site);
    // A range loop's guard is not workgroup-uniform: a widened one is ticked like any other.
    if (site.range && !leaves_together) {
      // Charged when it starts, skipped when its count does not fit: `if GUARD { LOOP }`, the
      // guard evaluating START and BOUND once more (they are side-effect free and invariant).
      const wgsl::RangeLoop& r = *site.range;
      const wgsl::Stmt& loop = *site.loop;
      const uint32_t at = loop.attributes.empty() ? loop.pos.offset : loop.attributes.front().pos.offset;
      const char* helper = r.type == wgsl::IntType::i32 ? "_range_i32(" : "_range_u32(";
      edits.push_back({at, "if " + p + helper + wgsl::print_expr(*r.start) + ", " + wgsl::print_expr(*r.bound) +
                               ", " + std::to_string(r.step) + "u, " + (r.up ? "true" : "false") + ", " +
                               (r.inclusive ? "true" : "false") + ") { "});
      edits.push_back({loop.end, " }"});
      ++out.range_loops;
      continue;
    }
    // Just after the body's '{': the check runs at the start of every iteration.
    const uint32_t at = site.loop->body->pos.offset + 1;
    const char* tick = leaves_together ? "_tick_uniform" : "_tick";
    auto exit = exits.find(site.loop);
    const std::string leave = exit == exits.end() ? "break;" : exit->second;
    ++out.metered_loops;
    if (leaves_together) ++out.uniform_loops;
    if (leaves_together && !flag_fits) {
      // The function-scope count (MeteringOptions): declared once at the top of the function.
      const wgsl::Function* f = owners.at(site.loop);
      if (counted_functions.insert(f).second)
        edits.push_back({f->body->pos.offset + 1, " var " + p + "_count = 0u;"});
      edits.push_back({at, " _ = " + p + "_tick(); " + p + "_count += 1u; if " + p + "_count > " +
                               std::to_string(kUniformLoopCap) + "u { " + leave + " }"});
      ++out.capped_loops;
      continue;
    }
    edits.push_back({at, " if " + p + tick + "() { " + leave + " }"});
  }
  edits.push_back({static_cast<uint32_t>(source.size()),
                   meter_declarations(p, options, out.uniform_loops > out.capped_loops, out.charged_loops > 0,
                                      out.range_loops > 0)});
  std::stable_sort(edits.begin(), edits.end(),
                   [](const Edit& a, const Edit& b) { return a.offset < b.offset; });

  out.source.reserve(source.size() + 1024);
  uint32_t copied = 0;
  for (const Edit& e : edits) {
    out.source.append(source.substr(copied, e.offset - copied));
    out.source.append(e.text);
    copied = e.offset;
    if (!out.insertions.empty() && out.insertions.back().offset == e.offset)
      out.insertions.back().length += static_cast<uint32_t>(e.text.size());
    else
      out.insertions.push_back({e.offset, static_cast<uint32_t>(e.text.size())});
  }
  out.source.append(source.substr(copied));
  out.original = std::string(source);
  return out;
}

}  // namespace

Result<MeteredKernel> meter(const wgsl::ParsedModule& parsed, const Reflection& reflection,
                            const MeteringOptions& options) {
  try {
    return meter_parsed(parsed, reflection, options);
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::internal, "out of memory while metering WGSL");
  }
}

Result<MeteredKernel> meter_wgsl(std::string_view source, const MeteringOptions& options) {
  Result<wgsl::ParsedModule> parsed = wgsl::parse_kernel(source);
  if (!parsed) return parsed.take_error();
  Result<Reflection> reflection = reflect(*parsed);
  if (!reflection) return reflection.take_error();
  return meter(*parsed, *reflection, options);
}

}  // namespace kem
