%%% @doc The HTTP endpoint under load and faults (issue 5); bench/http-load/run.sh runs it.
%%% With "hyperbeam" (tests/hyperbeam/run.sh), the same load goes through a real HyperBEAM
%%% node in this VM instead (kem_hb_node, kernel from a local pin, one phase), and HyperBEAM's
%%% store must not grow.
%%%
%%% This VM runs KEM's own endpoint (kem_http, started by the kem application as an operator
%%% would) with the double-integer kernel behind a loopback Arweave gateway, and wrk
%%% (load.lua) sends it a fixed number of mixed valid and invalid requests, checking every
%%% reply. Two phases: the gateway up, then down (the kernel then comes from KEM's cache).
%%% Before and after each, the VM is measured; it must come back to its baseline (see
%%% within/2 for the tolerances and why). Prints throughput and latency percentiles; halts
%%% with status 0 only if every check passed.
%%%
%%% The real transaction behind the proof of concept's ID is not available offline, so the
%%% gateway serves double-integer.wgsl under that ID and the store runs with verify = off
%%% (verification has its own tests in tests/store). Nothing is pinned: the kernel must come
%%% from the gateway, then from the cache.
-module(kem_http_load).
-export([main/1]).

-define(KERNEL_ID, <<"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg">>).
%% How long the VM may take to come back to its baseline after a phase.
-define(SETTLE_MS, 15000).
%% wrk's own duration: only a safety bound, since load.lua stops after its share.
-define(WRK_BOUND, "150s").

%% Arguments: the repository root, load.lua, total requests, concurrent connections.
main([Repo, Script, Total, Connections]) ->
    finish(fun() -> run(Repo, Script, list_to_integer(Total), list_to_integer(Connections)) end);
%% Through HyperBEAM: the node listens on Port (in a loopback-only network namespace) and
%% keeps its state in Dir.
main([Repo, Script, Total, Connections, "hyperbeam", Port, Dir]) ->
    finish(fun() -> run_hyperbeam(Repo, Script, list_to_integer(Total), list_to_integer(Connections),
                                  list_to_integer(Port), Dir) end).

finish(Run) ->
    Status = try Run() of
                 ok -> io:format("~nhttp-load: all checks passed~n"), 0
             catch
                 throw:{fail, Why} -> io:format("~nhttp-load: FAILED: ~ts~n", [Why]), 1;
                 Class:Reason:Stack -> io:format("~nhttp-load: FAILED: ~p:~p~n~p~n", [Class, Reason, Stack]), 1
             end,
    erlang:halt(Status, [{flush, true}]).

run(Repo, Script, Total, Connections) when Total >= Connections, Connections > 0 ->
    Tmp = filename:join("/tmp", "kem-http-load-" ++ os:getpid()),
    {ok, Source} = file:read_file(filename:join([Repo, "kernels", "double-integer.wgsl"])),
    Gateway = start_gateway(?KERNEL_ID, Source),
    configure(Tmp, Gateway),
    {ok, _} = application:ensure_all_started(kem),
    Url = "http://127.0.0.1:" ++ integer_to_list(kem_http:port()),
    try
        % Warm-up, with the same checks: code loaded, the kernel fetched and compiled.
        _ = wrk(Script, Url, 4 * Connections, Connections),
        check(counters:get(maps:get(hits, Gateway), 1) =:= 1,
              "the kernel was fetched from the gateway ~b times, not once", [counters:get(maps:get(hits, Gateway), 1)]),
        Up = phase("gateway up", Script, Url, Total, Connections),
        stop_gateway(Gateway),
        check(refused(maps:get(port, Gateway), 20), "the gateway still accepts connections", []),
        Down = phase("gateway down, kernel from KEM's cache", Script, Url, Total, Connections),
        summary([Up, Down])
    after
        os:cmd("rm -rf " ++ Tmp)
    end.

run_hyperbeam(_Repo, Script, Total, Connections, Port, Dir) when Total >= Connections ->
    {ok, _} = kem_hb_node:start(#{port => Port, dir => Dir}),
    Target = {hyperbeam, "http://127.0.0.1:" ++ integer_to_list(Port)},
    _ = wrk(Script, Target, 2 * Connections, Connections),
    Store0 = kem_hb_node:store_size(Dir),
    Phase = phase("through HyperBEAM", Script, Target, Total, Connections),
    Store1 = kem_hb_node:store_size(Dir),
    io:format("  store    ~b files, ~b bytes before; ~b files, ~b bytes after~n",
              [element(1, Store0), element(2, Store0), element(1, Store1), element(2, Store1)]),
    check(Store1 =:= Store0, "~b calls grew HyperBEAM's store from ~0p to ~0p (files, bytes)",
          [Total, Store0, Store1]),
    summary([Phase]).

%% The kem application's settings, as an operator's sys.config would give them.
configure(Tmp, #{port := GatewayPort}) ->
    _ = application:load(kem),
    Env = [{cache_dir, filename:join(Tmp, "cache")},
           {gateways, ["http://127.0.0.1:" ++ integer_to_list(GatewayPort)]},
           {verify, off},
           {default_timeout, 20000},
           {http, #{enabled => true, port => 0}}],
    lists:foreach(fun({K, V}) -> application:set_env(kem, K, V) end, Env).

%%% One phase

phase(Name, Script, Url, Total, Connections) ->
    io:format("~n== ~ts: ~b requests, ~b connections~n", [Name, Total, Connections]),
    % served/0 first: the modules it loads (re's Erlang part) add atoms.
    Served0 = served(Url),
    Before = settle(undefined),
    Result = wrk(Script, Url, Total, Connections),
    Served = served(Url),
    check(Served =:= unknown orelse Served - Served0 =:= Total,
          "the endpoint answered ~p requests, not ~b", [Served, Total]),
    After = settle(Before),
    report(Name, Result, Before, After),
    {Name, Result}.

%% Runs wrk until every thread has sent its share; fails on any wrong reply or socket error.
%% Url is KEM's endpoint, or {hyperbeam, Url}: load.lua then expects HyperBEAM's answers to
%% paths outside the device's keys.
wrk(Script, {hyperbeam, Url}, Total, Connections) ->
    wrk(Script, Url, Total, Connections, "hyperbeam");
wrk(Script, Url, Total, Connections) ->
    wrk(Script, Url, Total, Connections, "kem").

wrk(Script, Url, Total, Connections, Target) ->
    N = integer_to_list(Connections),
    Args = ["-t", N, "-c", N, "-d", ?WRK_BOUND, "--timeout", "10s", "--latency", "-s", Script, Url,
            "--", integer_to_list(Total), binary_to_list(?KERNEL_ID), N, Target],
    Port = open_port({spawn_executable, os:find_executable("wrk")},
                     [{args, Args}, {line, 65536}, binary, exit_status, stderr_to_stdout]),
    {os_pid, Pid} = erlang:port_info(Port, os_pid),
    {Status, Lines, Result} = collect(Port, Pid, Connections, 0, [], undefined),
    check(Status =:= 0 andalso is_map(Result), "wrk exited with ~b:~n~ts", [Status, lists:reverse(Lines)]),
    verify(Result, Total),
    Result.

%% wrk only ends at its -d duration; each load.lua thread says when it is done, and once all
%% are, wrk is interrupted (SIGINT: it then prints its results). Again every 2 s in case the
%% first one came before wrk installed its handler.
collect(Port, Pid, Threads, Done, Lines, Result) ->
    receive
        {Port, {data, {eol, <<"KEMLOAD-DONE">>}}} when Done + 1 =:= Threads ->
            interrupt(Pid),
            collect(Port, Pid, Threads, Done + 1, Lines, Result);
        {Port, {data, {eol, <<"KEMLOAD-DONE">>}}} ->
            collect(Port, Pid, Threads, Done + 1, Lines, Result);
        {Port, {data, {eol, <<"KEMLOAD-RESULT ", Json/binary>>}}} ->
            {ok, Decoded} = kem_json:decode(Json),
            collect(Port, Pid, Threads, Done, Lines, Decoded);
        {Port, {data, {_, Line}}} ->
            collect(Port, Pid, Threads, Done, [[Line, $\n] | Lines], Result);
        {Port, {exit_status, Status}} ->
            {Status, Lines, Result}
    after 2000 ->
        Done >= Threads andalso interrupt(Pid),
        collect(Port, Pid, Threads, Done, Lines, Result)
    end.

interrupt(Pid) -> os:cmd("kill -INT " ++ integer_to_list(Pid)).

verify(#{<<"answered">> := Answered, <<"classes">> := Classes, <<"failures">> := Failures,
         <<"errors">> := Errors, <<"wrk_requests">> := WrkRequests,
         <<"unfinished_threads">> := Unfinished}, Total) ->
    Wrong = lists:sum([F || #{<<"failed">> := F} <- maps:values(Classes)]),
    check(Wrong =:= 0, "~b wrong replies, for example:~n  ~ts",
          [Wrong, lists:join("\n  ", failure_list(Failures))]),
    Socket = maps:with([<<"connect">>, <<"read">>, <<"write">>, <<"timeout">>], Errors),
    check(lists:sum(maps:values(Socket)) =:= 0, "socket errors: ~0tp", [Socket]),
    check(Answered =:= Total andalso WrkRequests =:= Total andalso Unfinished =:= 0,
          "~b of ~b requests answered (wrk counted ~b; ~b threads unfinished)",
          [Answered, Total, WrkRequests, Unfinished]).

failure_list(L) when is_list(L) -> L;
failure_list(_) -> [].

%% Requests the endpoint has answered so far, by its own metrics (KEM's endpoint; through
%% HyperBEAM, wrk's own count is checked by verify/2).
served({hyperbeam, _}) -> unknown;
served(_) ->
    {match, Counts} = re:run(kem_metrics:render(), <<"^kem_http_requests_total\\{[^}]*\\} (\\d+)$">>,
                             [multiline, global, {capture, all_but_first, binary}]),
    lists:sum([binary_to_integer(C) || [C] <- Counts]).

%%% The VM's footprint

snapshot() ->
    Ended = end_hb_tracers(),
    [erlang:garbage_collect(P) || P <- processes()],
    #{memory => erlang:memory(total), processes => length(processes()),
      ports => length(erlang:ports()), atoms => erlang:system_info(atom_count), rss => rss(),
      hb_tracers_ended => Ended}.

%% HyperBEAM b2743e4 spawns one hb_tracer process per HTTP request (hb_http_server) and never
%% ends it: an idle process holding that request's trace, about 30 KB each. That leak is
%% HyperBEAM's, not KEM's, so before every measurement those processes are ended (and counted,
%% for the report); whatever KEM leaves behind still fails the run.
end_hb_tracers() ->
    Tracers = hb_tracers(),
    Refs = [monitor(process, P) || P <- Tracers],
    [exit(P, kill) || P <- Tracers],
    [receive {'DOWN', R, process, _, _} -> ok end || R <- Refs],
    % Counted over the whole run, so that a phase's count is After - Before however many
    % snapshots settling took.
    put(hb_tracers_ended, tracers_ended() + length(Tracers)),
    tracers_ended().

tracers_ended() ->
    case get(hb_tracers_ended) of undefined -> 0; N -> N end.

hb_tracers() ->
    [P || P <- processes(),
          process_info(P, current_function) =:= {current_function, {hb_tracer, trace_loop, 1}}].

%% The five largest processes: name or initial call, memory.
largest_processes() ->
    Sizes = [{case process_info(P, registered_name) of
                  {registered_name, Name} -> Name;
                  _ -> element(2, process_info(P, initial_call))
              end, M}
             || P <- processes(), {memory, M} <- [process_info(P, memory)]],
    lists:sublist(lists:reverse(lists:keysort(2, Sizes)), 5).

%% The five most common kinds of process, to tell what was left behind.
process_kinds() ->
    Kinds = [{proplists:get_value(initial_call, I), proplists:get_value(current_function, I)}
             || P <- processes(), I <- [process_info(P, [initial_call, current_function])],
                I =/= undefined],
    Counts = maps:to_list(lists:foldl(fun(K, M) -> maps:update_with(K, fun(N) -> N + 1 end, 1, M) end,
                                      #{}, Kinds)),
    lists:sublist(lists:reverse(lists:keysort(2, Counts)), 5).

%% The whole OS process (the NIF, Dawn and the Vulkan driver too), for the report only: the C
%% allocators keep freed memory, so it is not expected to go back down.
rss() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Status, <<"VmRSS:\\s+(\\d+) kB">>, [{capture, all_but_first, binary}]),
    binary_to_integer(Kb) * 1024.

%% Baseline: first a short pause, so that nothing of the previous phase is still going away.
%% After a phase: polled until within/2 holds, for at most ?SETTLE_MS.
settle(undefined) ->
    timer:sleep(1000),
    snapshot();
settle(Base) ->
    Deadline = erlang:monotonic_time(millisecond) + ?SETTLE_MS,
    settle(Base, Deadline, erlang:monotonic_time(millisecond)).

settle(Base, Deadline, Start) ->
    Now = snapshot(),
    case within(Base, Now) of
        true ->
            Now#{settled_ms => erlang:monotonic_time(millisecond) - Start};
        false ->
            case erlang:monotonic_time(millisecond) < Deadline of
                true ->
                    timer:sleep(250),
                    settle(Base, Deadline, Start);
                false ->
                    fail("the VM did not come back to its baseline within ~b ms:~n  before ~0tp~n  after  ~0tp~n"
                         "  most common processes (initial call, current function): ~0tp~n"
                         "  largest processes: ~0tp",
                         [?SETTLE_MS, maps:without([rss], Base), maps:without([rss], Now), process_kinds(),
                          largest_processes()])
            end
    end.

%% Tolerances, against 20,000 requests: any per-request leak would leave thousands of
%% processes or megabytes behind, and a per-connection one 64 processes or ports.
%% - processes, ports: at most 2 more (a log handler or timer may come and go; one process or
%%   port per connection would be 64).
%% - atoms: none more (the atom table is never collected; atoms made from requests would be
%%   a slow leak).
%% - memory (erlang:memory(total), after a garbage collection of every process): at most
%%   2 MiB more. 100 bytes kept per request would be 2 MB; the allocators' own variation
%%   between quiet moments is well under that (see docs/PERFORMANCE.md).
within(Base, Now) ->
    maps:get(processes, Now) =< maps:get(processes, Base) + 2 andalso
        maps:get(ports, Now) =< maps:get(ports, Base) + 2 andalso
        maps:get(atoms, Now) =< maps:get(atoms, Base) andalso
        maps:get(memory, Now) =< maps:get(memory, Base) + 2 * 1024 * 1024.

%%% Report

report(Name, Result, Before, After) ->
    #{<<"answered">> := Answered, <<"elapsed_us">> := Us, <<"classes">> := Classes,
      <<"latency_us">> := Lat} = Result,
    io:format("~ts: ~b requests in ~.2f s: ~b req/s~n", [Name, Answered, Us / 1.0e6, rate(Answered, Us)]),
    io:format("  latency  p50 ~ts  p90 ~ts  p99 ~ts  max ~ts~n",
              [ms(maps:get(K, Lat)) || K <- [<<"p50">>, <<"p90">>, <<"p99">>, <<"max">>]]),
    io:format("  replies  ~ts (all as expected)~n",
              [lists:join(", ", [io_lib:format("~ts ~b", [C, N]) || {C, #{<<"answered">> := N}} <- lists:sort(maps:to_list(Classes))])]),
    case maps:get(hb_tracers_ended, After) - maps:get(hb_tracers_ended, Before) of
        0 -> ok;
        Left -> io:format("  HyperBEAM's own hb_tracer processes left behind: ~b (~.1f per request), "
                          "ended before measuring~n", [Left, Left / Answered])
    end,
    io:format("  VM       memory ~.1f -> ~.1f MiB, processes ~b -> ~b, ports ~b -> ~b, atoms ~b -> ~b "
              "(back within ~b ms); OS RSS ~b -> ~b MiB~n",
              [mib(maps:get(memory, Before)), mib(maps:get(memory, After)),
               maps:get(processes, Before), maps:get(processes, After),
               maps:get(ports, Before), maps:get(ports, After),
               maps:get(atoms, Before), maps:get(atoms, After), maps:get(settled_ms, After),
               round(mib(maps:get(rss, Before))), round(mib(maps:get(rss, After)))]).

summary(Phases) ->
    io:format("~n| phase | req/s | p50 | p90 | p99 | max |~n| --- | --- | --- | --- | --- | --- |~n"),
    [io:format("| ~ts | ~b | ~ts | ~ts | ~ts | ~ts |~n",
               [Name, rate(Answered, Us) | [ms(maps:get(K, Lat)) || K <- [<<"p50">>, <<"p90">>, <<"p99">>, <<"max">>]]])
     || {Name, #{<<"answered">> := Answered, <<"elapsed_us">> := Us, <<"latency_us">> := Lat}} <- Phases],
    ok.

rate(Requests, Us) -> round(Requests / (Us / 1.0e6)).
ms(Us) -> io_lib:format("~.1f ms", [Us / 1000]).
mib(Bytes) -> Bytes / (1024 * 1024).

check(true, _, _) -> ok;
check(false, Format, Args) -> fail(Format, Args).

fail(Format, Args) -> throw({fail, io_lib:format(Format, Args)}).

%%% Loopback gateway: GET /raw/<ID> answers the kernel's source (and is counted), anything
%%% else 404. Killing its listener makes it "down": connections are refused.

start_gateway(Id, Source) ->
    Hits = counters:new(1, []),
    Parent = self(),
    Pid = spawn(fun() ->
        {ok, L} = gen_tcp:listen(0, [binary, {ip, {127, 0, 0, 1}}, {active, false},
                                     {reuseaddr, true}, {packet, http_bin}]),
        {ok, Port} = inet:port(L),
        Parent ! {gateway, self(), Port},
        accept(L, Id, Source, Hits)
    end),
    receive {gateway, Pid, Port} -> #{pid => Pid, port => Port, hits => Hits}
    after 5000 -> fail("the loopback gateway did not start", [])
    end.

accept(L, Id, Source, Hits) ->
    {ok, S} = gen_tcp:accept(L),
    Handler = spawn(fun() -> receive go -> serve(S, Id, Source, Hits) end end),
    ok = gen_tcp:controlling_process(S, Handler),
    Handler ! go,
    accept(L, Id, Source, Hits).

serve(S, Id, Source, Hits) ->
    {Status, Body} = case gen_tcp:recv(S, 0, 5000) of
                         {ok, {http_request, 'GET', {abs_path, <<"/raw/", Id/binary>>}, _}} ->
                             counters:add(Hits, 1, 1),
                             {<<"200 OK">>, Source};
                         _ ->
                             {<<"404 Not Found">>, <<>>}
                     end,
    headers_done(S),
    _ = gen_tcp:send(S, [<<"HTTP/1.1 ">>, Status, <<"\r\nContent-Length: ">>, integer_to_binary(byte_size(Body)),
                         <<"\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n">>, Body]),
    gen_tcp:close(S).

headers_done(S) ->
    case gen_tcp:recv(S, 0, 5000) of
        {ok, {http_header, _, _, _, _}} -> headers_done(S);
        _ -> ok
    end.

%% The listener closes as its owner exits, but not necessarily before the 'DOWN' arrives.
refused(_, 0) -> false;
refused(Port, Tries) ->
    case gen_tcp:connect({127, 0, 0, 1}, Port, []) of
        {error, econnrefused} -> true;
        {ok, S} -> gen_tcp:close(S), timer:sleep(50), refused(Port, Tries - 1);
        {error, _} -> timer:sleep(50), refused(Port, Tries - 1)
    end.

stop_gateway(#{pid := Pid}) ->
    Ref = monitor(process, Pid),
    exit(Pid, kill),
    receive {'DOWN', Ref, process, Pid, _} -> ok end.
