%%% @doc Counters of the HTTP endpoint, rendered in Prometheus' text format together with the
%%% service's own counters (kem:stats/0): summed over the node's GPU devices, and per device
%%% (label `device`, its index in get_adapter_info's "devices").
-module(kem_metrics).
-export([init/0, request/3, rejected/0, in_flight/1, render/0]).

-define(TAB, kem_http_metrics).

%% The table belongs to a process of its own that is never stopped, so the counters
%% survive endpoint restarts and no request ever finds the table missing.
init() ->
    case ets:whereis(?TAB) of
        undefined ->
            Parent = self(),
            Pid = spawn(fun() ->
                            _ = ets:new(?TAB, [named_table, public, {write_concurrency, true}]),
                            Parent ! {self(), ready},
                            receive stop -> ok end
                        end),
            receive {Pid, ready} -> ok end;
        _ ->
            ok
    end.

%% @doc One finished request: route, HTTP status, duration in microseconds.
request(Route, Status, Micros) ->
    bump({requests, Route, Status}, 1),
    bump({duration_us, Route}, Micros),
    bump({count, Route}, 1).

rejected() -> bump(rejected, 1).

in_flight(Delta) -> bump(in_flight, Delta).

bump(Key, N) ->
    try ets:update_counter(?TAB, Key, N, {Key, 0}), ok
    catch error:badarg -> ok
    end.

render() ->
    Rows = try ets:tab2list(?TAB) catch error:badarg -> [] end,
    Requests = lists:sort([{R, S, N} || {{requests, R, S}, N} <- Rows]),
    Durations = lists:sort([{R, N} || {{duration_us, R}, N} <- Rows]),
    Counts = lists:sort([{R, N} || {{count, R}, N} <- Rows]),
    Stats = kem:stats(),
    iolist_to_binary([
        help(<<"kem_http_requests_total">>, <<"counter">>, <<"HTTP requests by route and status.">>),
        [[<<"kem_http_requests_total{route=\"">>, R, <<"\",status=\"">>, integer_to_binary(S),
          <<"\"} ">>, integer_to_binary(N), $\n] || {R, S, N} <- Requests],
        help(<<"kem_http_request_duration_seconds">>, <<"summary">>, <<"Time spent per request.">>),
        [[<<"kem_http_request_duration_seconds_sum{route=\"">>, R, <<"\"} ">>,
          float_to_binary(N / 1.0e6, [short]), $\n] || {R, N} <- Durations],
        [[<<"kem_http_request_duration_seconds_count{route=\"">>, R, <<"\"} ">>,
          integer_to_binary(N), $\n] || {R, N} <- Counts],
        gauge(<<"kem_http_in_flight">>, <<"Calls being served now.">>, value(in_flight, Rows)),
        counter(<<"kem_http_rejected_total">>, <<"Requests refused with 503 (busy).">>,
                value(rejected, Rows)),
        [counter(Name, Help, maps:get(Key, Stats, 0))
         || {Key, Name, Help} <- [{calls, <<"kem_executor_calls_total">>, <<"Kernel calls.">>},
                                  {errors, <<"kem_executor_errors_total">>, <<"Kernel calls that failed.">>},
                                  {pipeline_hits, <<"kem_pipeline_cache_hits_total">>, <<"Compiled kernels reused.">>},
                                  {pipeline_misses, <<"kem_pipeline_cache_misses_total">>, <<"Kernels compiled.">>},
                                  {device_losses, <<"kem_device_losses_total">>, <<"GPU devices lost and replaced.">>}]],
        per_device(maps:get(devices, Stats, [])),
        worker(maps:get(worker, Stats, #{})),
        admission(maps:get(admission, Stats, #{}))
    ]).

%% Admission of new kernels through their sandboxed first compile (docs/kernel-contract.md).
admission(A) ->
    [counter(Name, Help, maps:get(Key, A, 0))
     || {Key, Name, Help} <-
            [{sandbox_runs, <<"kem_sandbox_runs_total">>, <<"First compiles of new kernels run in a sandbox process.">>},
             {admitted, <<"kem_sandbox_admitted_total">>, <<"New kernels admitted by their sandboxed compile.">>},
             {refused, <<"kem_sandbox_refused_total">>,
              <<"New kernels refused: their sandboxed compile failed, crashed, passed a limit or took too long.">>},
             {failures, <<"kem_sandbox_failures_total">>,
              <<"Sandbox runs that reached no verdict (not the kernel's fault; not remembered).">>}]].

%% The GPU worker process (docs/ARCHITECTURE.md): how often one ended, and why.
worker(W) ->
    [counter(Name, Help, maps:get(Key, W, 0))
     || {Key, Name, Help} <-
            [{crashes, <<"kem_worker_crashes_total">>,
              <<"GPU worker processes that ended on their own (a driver crash, the OOM killer).">>},
             {watchdog_kills, <<"kem_worker_watchdog_kills_total">>,
              <<"GPU worker processes killed because a call outlived its deadline and grace.">>},
             {replacements, <<"kem_worker_replacements_total">>,
              <<"GPU worker processes replaced because a device still ran abandoned work.">>},
             {calls_lost, <<"kem_worker_calls_lost_total">>,
              <<"Calls answered with an error because their GPU worker process ended.">>}]].

%% One series per device and figure: its load, its health and its counters.
per_device(Devices) ->
    [[help(Name, Type, Help),
      [[Name, <<"{device=\"">>, integer_to_binary(I), <<"\"} ">>, integer_to_binary(number(maps:get(Key, D, 0))), $\n]
       || #{index := I} = D <- Devices]]
     || {Key, Name, Type, Help} <-
            [{calls, <<"kem_gpu_calls_total">>, <<"counter">>, <<"Kernel calls run on this device.">>},
             {errors, <<"kem_gpu_errors_total">>, <<"counter">>, <<"Kernel calls that failed on this device.">>},
             {device_losses, <<"kem_gpu_device_losses_total">>, <<"counter">>, <<"Times this device was lost.">>},
             {refused, <<"kem_gpu_refused_total">>, <<"counter">>,
              <<"Calls admission control refused on this device: they could not have finished by their deadlines.">>},
             {retried_elsewhere, <<"kem_gpu_retried_elsewhere_total">>, <<"counter">>,
              <<"Calls lost with this device and run again on another.">>},
             {queue_depth, <<"kem_gpu_queue_depth">>, <<"gauge">>, <<"Calls queued or running on this device now.">>},
             {healthy, <<"kem_gpu_healthy">>, <<"gauge">>, <<"1 while the device is usable.">>},
             {in_rotation, <<"kem_gpu_in_rotation">>, <<"gauge">>, <<"1 while the device gets new calls.">>}]].

number(true) -> 1;
number(false) -> 0;
number(N) when is_integer(N) -> N.

value(Key, Rows) -> proplists:get_value(Key, Rows, 0).

help(Name, Type, Help) ->
    [<<"# HELP ">>, Name, $\s, Help, $\n, <<"# TYPE ">>, Name, $\s, Type, $\n].

counter(Name, Help, N) -> [help(Name, <<"counter">>, Help), Name, $\s, integer_to_binary(N), $\n].
gauge(Name, Help, N) -> [help(Name, <<"gauge">>, Help), Name, $\s, integer_to_binary(N), $\n].
