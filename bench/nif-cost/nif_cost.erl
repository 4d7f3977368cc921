%%% The Erlang side of the NIF-cost measurement (issue 6, part 3): 4-byte double-integer calls
%%% through kem_nif on a warm executor, timed one by one (see nif_cost.cpp for the C++ side).
%%% Modes:
%%%   nif  kem_nif:nif_execute/6 + receive of the reply: the NIF's own call;
%%%   api  kem:execute({source, Wgsl}, Input): the public API (option checks, then the same
%%%        NIF call).
%%% main([Mode, KernelPath, Calls, Warmup, SamplesFile]) appends one duration in ns per line.
%%% concurrent([Processes, KernelPath, Seconds]): that many processes each make nif calls one
%%% after the other for Seconds; prints calls per second in all (every reply checked).
-module(nif_cost).
-export([main/1, concurrent/1]).

main([Mode, KernelPath, Calls, Warmup, SamplesFile]) ->
    {ok, Source} = file:read_file(KernelPath),
    ok = kem_node:start(),  % the service a node gets from the settings' defaults
    Input = <<1, 3, 5, 7>>,
    Opts = #{timeout => 30000},  % what kem:execute/2 passes
    Call = case Mode of
               nif -> fun() -> nif_call(Source, Input, Opts) end;
               api -> fun() -> kem:execute({source, Source}, Input) end
           end,
    {ok, <<2, 6, 10, 14>>} = Call(),
    [Call() || _ <- lists:seq(1, Warmup)],
    Samples = [time_one(Call) || _ <- lists:seq(1, Calls)],
    ok = file:write_file(SamplesFile, [[integer_to_list(S), $\n] || S <- Samples], [append]),
    Sorted = lists:sort(Samples),
    io:format("Erlang ~s: median ~.1f us over ~b calls~n",
              [Mode, lists:nth(length(Sorted) div 2 + 1, Sorted) / 1000, Calls]).

nif_call(Source, Input, Opts) ->
    Ref = make_ref(),
    {ok, _Job} = kem_nif:nif_execute(Ref, source, Source, Input, <<>>, Opts),
    receive {kem_reply, Ref, Result} -> Result end.

time_one(Call) ->
    T0 = erlang:monotonic_time(nanosecond),
    {ok, _} = Call(),
    erlang:monotonic_time(nanosecond) - T0.

concurrent([Processes, KernelPath, Seconds]) ->
    {ok, Source} = file:read_file(KernelPath),
    ok = kem_node:start(),
    Input = <<1, 3, 5, 7>>,
    Opts = #{timeout => 30000},
    {ok, <<2, 6, 10, 14>>} = nif_call(Source, Input, Opts),
    Stop = erlang:monotonic_time(millisecond) + round(Seconds * 1000),
    Parent = self(),
    Loop = fun Loop(Done, Wrong) ->
                   case erlang:monotonic_time(millisecond) < Stop of
                       false -> {Done, Wrong};
                       true ->
                           case nif_call(Source, Input, Opts) of
                               {ok, <<2, 6, 10, 14>>} -> Loop(Done + 1, Wrong);
                               _ -> Loop(Done, Wrong + 1)
                           end
                   end
           end,
    Pids = [spawn_link(fun() -> Parent ! {counted, self(), Loop(0, 0)} end) || _ <- lists:seq(1, Processes)],
    {Done, Wrong} = lists:foldl(fun(Pid, {D, W}) ->
                                        receive {counted, Pid, {D1, W1}} -> {D + D1, W + W1} end
                                end, {0, 0}, Pids),
    io:format("Erlang nif, ~b processes: ~.1f calls/s (~b calls, ~b wrong or failed)~n",
              [Processes, Done / Seconds, Done, Wrong]),
    Wrong.
