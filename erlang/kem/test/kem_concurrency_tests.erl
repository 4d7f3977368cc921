%%% 200 Erlang processes x 50 calls of mixed kernels at once, every result checked against its
%%% CPU reference, while a normal process measures how late its 1 ms timer fires (the
%%% schedulers must stay responsive: no call holds a scheduler while the GPU works).
-module(kem_concurrency_tests).
-include_lib("eunit/include/eunit.hrl").

-define(PROCESSES, 200).
-define(CALLS, 50).
%% Far above what a free scheduler shows (about 1-10 ms here, on 2 cores shared with
%% lavapipe's threads) and far below a scheduler blocked for the run (seconds).
-define(MAX_TICK_GAP_MS, 1000).

concurrency_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     [{timeout, 240, fun mixed_calls/0}, {timeout, 240, fun device_lost_under_load/0}]}.

%% The node's pool (kem_test_env opens two devices): 32 processes x 30 calls while one device is
%% destroyed. Every call is answered with its correct output (the pool retries the lost
%% device's calls on the other), both devices served calls, and the lost one comes back.
device_lost_under_load() ->
    #{devices := [_, _ | _] = Devices0, calls := Calls0} = kem:stats(),
    Losses0 = lists:sum([maps:get(device_losses, D) || D <- Devices0]),
    Removals0 = lists:sum([maps:get(removals, D) || D <- Devices0]),
    Parent = self(),
    Kernels = #{double => {source, kem_test_env:kernel("double-integer.wgsl")},
                sum => {source, kem_test_env:kernel("workgroup-sum.wgsl")},
                histogram => {source, kem_test_env:kernel("byte-histogram.wgsl")},
                poc => {id, kem_test_env:poc_id()}},
    Workers = [spawn_monitor(fun() -> Parent ! {done, self(), check_calls_with(Kernels, N, 30)} end)
               || N <- lists:seq(1, 32)],
    % Under load: once the workers have 100 calls done (of 960).
    wait_calls(Calls0 + 100, 1000),
    ok = kem_nif:nif_simulate_device_loss(1),
    Results = [receive {done, Pid, R} -> R;
                       {'DOWN', Ref, process, Pid, Why} -> {crashed, Why}
               end || {Pid, Ref} <- Workers],
    ?assertEqual([], [R || R <- Results, R =/= ok]),
    #{devices := Devices} = kem:stats(),
    ?assert(lists:sum([maps:get(removals, D) || D <- Devices]) > Removals0),
    ?assert(lists:all(fun(#{calls := C}) -> C > 0 end, Devices)),
    % The pool's reconnect thread brings the device back (a new device: one more loss counted).
    wait_healthy(100),
    #{devices := Back} = kem:stats(),
    ?assert(lists:sum([maps:get(device_losses, D) || D <- Back]) > Losses0).

wait_calls(_, 0) -> ok;
wait_calls(Target, N) ->
    case kem:stats() of
        #{calls := C} when C >= Target -> ok;
        _ -> timer:sleep(2), wait_calls(Target, N - 1)
    end.

wait_healthy(0) -> ?assert(false);
wait_healthy(N) ->
    #{devices := Devices} = kem:stats(),
    case lists:all(fun(#{healthy := H, in_rotation := R}) -> H andalso R end, Devices) of
        true -> ok;
        false -> timer:sleep(50), wait_healthy(N - 1)
    end.

check_calls_with(Kernels, Seed, Calls) ->
    rand:seed(exsss, {Seed, Seed * 3, Seed * 5}),
    check_calls(Kernels, Calls).

mixed_calls() ->
    Kernels = #{double => {source, kem_test_env:kernel("double-integer.wgsl")},
                sum => {source, kem_test_env:kernel("workgroup-sum.wgsl")},
                histogram => {source, kem_test_env:kernel("byte-histogram.wgsl")},
                poc => {id, kem_test_env:poc_id()}},
    Ticker = spawn_link(fun() -> ticker(erlang:monotonic_time(millisecond), 0, 0) end),
    Parent = self(),
    T0 = erlang:monotonic_time(millisecond),
    Workers = [spawn_monitor(fun() -> Parent ! {done, self(), worker(Kernels, N)} end)
               || N <- lists:seq(1, ?PROCESSES)],
    Results = [receive {done, Pid, R} -> R;
                       {'DOWN', Ref, process, Pid, Why} -> {crashed, Why}
               end || {Pid, Ref} <- Workers],
    Elapsed = erlang:monotonic_time(millisecond) - T0,
    Ticker ! {report, self()},
    {Ticks, MaxGap} = receive {ticks, T, G} -> {T, G} after 5000 -> {0, infinity} end,
    Bad = [R || R <- Results, R =/= ok],
    ?debugFmt("~b calls in ~b ms (~.1f calls/s); ticker: ~b ticks, longest gap ~b ms",
              [?PROCESSES * ?CALLS, Elapsed, ?PROCESSES * ?CALLS * 1000 / max(Elapsed, 1), Ticks, MaxGap]),
    ?assertEqual([], lists:sublist(Bad, 5)),
    ?assert(MaxGap =< ?MAX_TICK_GAP_MS),
    % The ticker ran all along: about one tick per millisecond of a free scheduler.
    ?assert(Ticks >= Elapsed div 20).

ticker(Last, Ticks, MaxGap) ->
    receive
        {report, To} -> To ! {ticks, Ticks, MaxGap}
    after 1 ->
        Now = erlang:monotonic_time(millisecond),
        ticker(Now, Ticks + 1, max(MaxGap, Now - Last))
    end.

worker(Kernels, N) ->
    rand:seed(exsss, {N, N * 7, N * 13}),
    check_calls(Kernels, ?CALLS).

check_calls(_, 0) -> ok;
check_calls(Kernels, Left) ->
    {Kind, Input, Opts, Expected} = call(rand:uniform(4)),
    case kem:execute(maps:get(Kind, Kernels), Input, Opts) of
        {ok, Expected} -> check_calls(Kernels, Left - 1);
        Other -> {Kind, byte_size(Input), Opts, Other}
    end.

call(1) ->
    Input = rand:bytes(rand:uniform(256)),
    Hint = rand:uniform(2),
    {double, Input, #{output_size_hint => Hint}, kem_ref:double(Input, Hint)};
call(2) ->
    Input = rand:bytes(4 * rand:uniform(600)),
    {sum, Input, #{}, kem_ref:workgroup_sum(Input)};
call(3) ->
    Input = rand:bytes(rand:uniform(300)),
    {histogram, Input, #{params => [byte_size(Input)], output_size => 1024}, kem_ref:histogram(Input)};
call(4) ->
    Input = rand:bytes(4 * rand:uniform(16)),
    {poc, Input, #{}, kem_ref:double(Input, 1)}.
