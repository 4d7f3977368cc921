%%% Before and after in one run (issue 13): the public API only, so that the same module runs
%%% against two builds of kem (their ebin and NIF in the code path): 4-byte double-integer calls
%%% through kem:execute/2 on a warm node, timed one by one.
%%% Modes:
%%%   source  kem:execute({source, Wgsl}, Input);
%%%   id      kem:execute({id, PinnedId}, Input), the kernel pinned by the operator (a warm ID
%%%           call: before issue 13 a dirty-scheduler resolve, then the submit).
%%% main([Mode, KernelPath, PinDir, Calls, Warmup, SamplesFile]) appends one duration in ns per line.
-module(api_cost).
-export([main/1]).

-define(ID, <<"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg">>).

main([Mode, KernelPath, PinDir, Calls, Warmup, SamplesFile]) ->
    {ok, Source} = file:read_file(KernelPath),
    ok = file:write_file(filename:join(PinDir, <<?ID/binary, ".wgsl">>), Source),
    _ = application:load(kem),
    [application:set_env(kem, K, V) || {K, V} <- [{pin_dir, PinDir}, {disk_cache, false}, {offline, true}]],
    Ref = case Mode of source -> {source, Source}; id -> {id, ?ID} end,
    Input = <<1, 3, 5, 7>>,
    Call = fun() -> kem:execute(Ref, Input) end,
    {ok, <<2, 6, 10, 14>>} = Call(),
    [Call() || _ <- lists:seq(1, Warmup)],
    Samples = [time_one(Call) || _ <- lists:seq(1, Calls)],
    ok = file:write_file(SamplesFile, [[integer_to_list(S), $\n] || S <- Samples], [append]),
    Sorted = lists:sort(Samples),
    io:format("kem:execute ~s: median ~.1f us over ~b calls~n",
              [Mode, lists:nth(length(Sorted) div 2 + 1, Sorted) / 1000, Calls]).

time_one(Call) ->
    T0 = erlang:monotonic_time(nanosecond),
    {ok, _} = Call(),
    erlang:monotonic_time(nanosecond) - T0.
