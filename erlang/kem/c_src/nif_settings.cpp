#include "nif_settings.h"

#include <iterator>

#include "nif_terms.h"

namespace kem_nif {
namespace {

ERL_NIF_TERM atom_of(ErlNifEnv* env, std::string_view name) {
  return enif_make_atom_len(env, name.data(), name.size());
}

ERL_NIF_TERM default_term(ErlNifEnv* env, const kem::Setting& s, const kem::SettingValue& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b ? atoms.true_ : atoms.false_;
  if (auto* n = std::get_if<uint64_t>(&v)) return enif_make_uint64(env, *n);
  if (auto* t = std::get_if<std::string>(&v))
    return (s.kind == kem::SettingKind::choice || (s.automatic && *t == "auto")) ? atom_of(env, *t)
                                                                                 : make_binary(env, *t);
  ERL_NIF_TERM list = enif_make_list(env, 0);
  const auto& texts = std::get<std::vector<std::string>>(v);
  for (auto it = texts.rbegin(); it != texts.rend(); ++it) list = enif_make_list_cell(env, make_binary(env, *it), list);
  return list;
}

std::optional<kem::SettingValue> read_value(ErlNifEnv* env, ERL_NIF_TERM term) {
  if (enif_is_identical(term, atoms.true_)) return kem::SettingValue(true);
  if (enif_is_identical(term, atoms.false_)) return kem::SettingValue(false);
  if (auto n = get_u64(env, term)) return kem::SettingValue(*n);
  if (auto b = get_bytes(env, term)) return kem::SettingValue(std::string(as_chars(*b)));
  if (enif_is_atom(env, term)) {
    char name[256];
    if (enif_get_atom(env, term, name, sizeof name, ERL_NIF_LATIN1) > 0) return kem::SettingValue(std::string(name));
    return std::nullopt;
  }
  if (auto texts = get_texts(env, term)) return kem::SettingValue(std::move(*texts));
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<std::string>> get_texts(ErlNifEnv* env, ERL_NIF_TERM list) {
  std::vector<std::string> out;
  ERL_NIF_TERM head;
  while (enif_get_list_cell(env, list, &head, &list)) {
    auto bytes = get_bytes(env, head);
    if (!bytes) return std::nullopt;
    out.emplace_back(as_chars(*bytes));
  }
  if (!enif_is_empty_list(env, list)) return std::nullopt;
  return out;
}

ERL_NIF_TERM nif_settings(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return guarded(env, [&] {
    const kem::ServiceOptions defaults;
    ERL_NIF_TERM list = enif_make_list(env, 0);
    auto table = kem::settings();
    for (auto it = table.rbegin(); it != table.rend(); ++it) {
      const kem::Setting& s = *it;
      ERL_NIF_TERM keys[] = {atoms.name, enif_make_atom(env, "kind"), atoms.group, enif_make_atom(env, "default"),
                             enif_make_atom(env, "meaning")};
      ERL_NIF_TERM values[] = {atom_of(env, s.name), atom_of(env, kem::to_string(s.kind)), atom_of(env, s.group),
                               default_term(env, s, kem::setting_value(defaults, s)), make_binary(env, s.meaning)};
      ERL_NIF_TERM row;
      enif_make_map_from_arrays(env, keys, values, std::size(keys), &row);
      list = enif_make_list_cell(env, row, list);
    }
    return list;
  });
}

kem::Status apply_settings(ErlNifEnv* env, ERL_NIF_TERM map, kem::ServiceOptions& options) {
  if (!enif_is_map(env, map)) return kem::make_error(kem::ErrorCode::invalid_argument, "settings must be a map");
  ErlNifMapIterator it;
  if (!enif_map_iterator_create(env, map, &it, ERL_NIF_MAP_ITERATOR_FIRST))
    return kem::make_error(kem::ErrorCode::invalid_argument, "settings must be a map");
  kem::Status status;
  ERL_NIF_TERM key, value;
  while (status && enif_map_iterator_get_pair(env, &it, &key, &value)) {
    char name[256];
    if (enif_get_atom(env, key, name, sizeof name, ERL_NIF_LATIN1) <= 0) {
      status = kem::make_error(kem::ErrorCode::invalid_argument, "a setting's name must be an atom");
    } else if (auto v = read_value(env, value)) {
      status = kem::apply_setting(options, name, *v);
    } else {
      status = kem::make_error(kem::ErrorCode::invalid_argument, std::string("setting ") + name +
                                                                     ": a boolean, integer, text or list of texts expected");
    }
    enif_map_iterator_next(env, &it);
  }
  enif_map_iterator_destroy(env, &it);
  return status;
}

}  // namespace kem_nif
