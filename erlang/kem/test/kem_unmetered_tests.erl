%%% The operator's allow-lists for unmetered kernels (unmetered_ids, unmetered_owners) against
%%% the real NIF and service: a pinned kernel that loops past a low loop_budget runs only when
%%% allow-listed; the owner list applies only to an owner the store has verified. The lists are
%%% edited at run time here, each edit applied with kem:update_trust/0. (The decision for a
%%% verified owner is tested in C++, tests/service, and through `kem run` in tests/cli.)
-module(kem_unmetered_tests).
-include_lib("eunit/include/eunit.hrl").

%% One invocation sums 0 + 1 + ... + (input[0] - 1): input[0] iterations of a metered loop.
-define(SUM, <<"
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(1) fn main() {
  var total = 0u;
  for (var i = 0u; i < src[0]; i++) { total += i; }
  dst[0] = total;
}
">>).

%% An owner address that signs nothing here (43 base64url characters ending 32 bytes).
-define(OWNER, <<"OWNERaddressOWNERaddressOWNERaddressOWNERaA">>).

unmetered_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     {foreach, fun() -> ok end, fun(_) -> reset() end,
      [fun by_id/0, fun pinned_kernel_has_no_owner/0, fun malformed_lists_are_refused/0,
       fun inline_and_file_never_unmetered/0]}}.

reset() -> set_lists([], []).

set_lists(Ids, Owners) ->
    application:set_env(kem, unmetered_ids, Ids),
    application:set_env(kem, unmetered_owners, Owners),
    kem:update_trust().

%% 100 iterations against a budget of 99: the sum when unmetered, budget_exceeded when metered.
run(Ref) -> kem:execute(Ref, <<100:32/little>>, #{loop_budget => 99}).
sum() -> {ok, <<4950:32/little>>}.

by_id() ->
    Id = kem_test_env:pin_source(?SUM),
    ?assertMatch({error, {budget_exceeded, _}}, run({id, Id})),
    % Exact: 100 iterations fit a budget of 100.
    ?assertEqual(sum(), kem:execute({id, Id}, <<100:32/little>>, #{loop_budget => 100})),
    ok = set_lists([kem_test_env:poc_id()], []),
    ?assertMatch({error, {budget_exceeded, _}}, run({id, Id})),
    ok = set_lists([kem_test_env:poc_id(), binary_to_list(Id)], []),
    ?assertEqual(sum(), run({id, Id})),
    ?assertEqual(sum(), run({id, binary_to_list(Id)})).

%% The store reports no owner for a pinned kernel (trusted by configuration, not by a
%% signature), so listing owners cannot unmeter it.
pinned_kernel_has_no_owner() ->
    Id = kem_test_env:pin_source(?SUM),
    ?assertMatch({ok, #{owner_address := <<>>, verification := pinned}}, kem:resolve({id, Id})),
    ok = set_lists([], [?OWNER]),
    ?assertMatch({error, {budget_exceeded, _}}, run({id, Id})).

%% Entries that are not IDs or addresses are refused, and the lists in force stay as they were.
malformed_lists_are_refused() ->
    Id = kem_test_env:pin_source(?SUM),
    ok = set_lists([Id], []),
    ?assertMatch({error, {invalid_argument, <<"unmetered_owners 'someoneElse': ", _/binary>>}},
                 set_lists([Id], ["someoneElse"])),
    ?assertEqual(sum(), run({id, Id})).

inline_and_file_never_unmetered() ->
    Id = kem_test_env:pin_source(?SUM),
    ok = set_lists([Id], [?OWNER]),
    ?assertMatch({error, {budget_exceeded, _}}, run({source, ?SUM})),
    Path = filename:join(kem_config:value(pin_dir), <<Id/binary, ".wgsl">>),
    ?assertMatch({error, {budget_exceeded, _}}, run({file, Path})),
    ?assertEqual(sum(), run({id, Id})).
