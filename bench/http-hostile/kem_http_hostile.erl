%%% @doc The hostile-client suite of KEM's HTTP endpoint (issue 14 item 7); run.sh runs it.
%%%
%%% One VM: the kem application with its endpoint on 127.0.0.1 (the real NIF, lavapipe, the
%%% test environment's pins and loopback gateway: kem_test_env), a stream of legitimate calls
%%% from 127.0.0.1 checked byte for byte against kem_ref, and one attack at a time from other
%%% loopback addresses (127.0.0.2...; the endpoint limits connections per address). For each
%%% case: the attack's replies are checked (status, JSON error code, Retry-After where due,
%%% or the exact result), the legitimate calls during it must all succeed, and afterwards the
%%% VM must come back to its baseline of processes and memory. Prints per case the attack's
%%% outcome and time, the legitimate calls (count, failures, p50/p99) and the VM's peak and
%%% settled memory; halts with 0 only if every check held. Speed is printed, not asserted,
%%% beyond generous bounds.
-module(kem_http_hostile).
-export([main/0, main/1]).

-define(SETTLE_MS, 20000).
-define(PIPELINE, <<"/~kem@1.0/execute_kernel">>).
%% The endpoint's settings under test: the defaults, except max_body, smaller so that the
%% oversize cases move less data (the mechanism is the same).
-define(MAX_BODY, 4 * 1024 * 1024).
-define(CAP_MS, 3000).

main() -> main([]).

main([]) ->
    Status = try run() of
                 ok -> io:format("~nhttp-hostile: all checks passed~n"), 0
             catch
                 throw:{fail, Why} -> io:format("~nhttp-hostile: FAILED: ~ts~n", [Why]), 1;
                 Class:Reason:Stack -> io:format("~nhttp-hostile: FAILED: ~p:~p~n~p~n", [Class, Reason, Stack]), 1
             end,
    erlang:halt(Status, [{flush, true}]).

run() ->
    kem_test_env:setup(),
    % The node's cap on a call's deadline (libkem's max_timeout where it exists; kem_config
    % reads it either way). libkem refuses a default above the cap, so the default is the cap.
    application:set_env(kem, max_timeout, ?CAP_MS),
    application:set_env(kem, default_timeout, ?CAP_MS),
    application:set_env(kem, http, #{enabled => true, port => 0, max_body => ?MAX_BODY}),
    {ok, _} = application:ensure_all_started(kem),
    Port = kem_http:port(),
    Spin = kem_test_env:pin_source(kem_test_env:spin_source()),
    % Warm-up: code loaded, the kernel compiled, a first reply checked.
    {ok, _} = legit_call(Port, 16),
    Legit = start_legit(Port, 2),
    Cases = [{"million-digit number", fun million_digits/1},
             {"2 M escapes", fun escapes/1},
             {"deep nesting", fun deep/1},
             {"oversize, Content-Length, head only", fun oversize_declared/1},
             {"oversize, Content-Length, 30 MB sent", fun oversize_declared_sent/1},
             {"oversize, chunked", fun oversize_chunked/1},
             {"max_body of digits, streamed", fun max_body_of_digits/1},
             {"8 large bodies at once", fun large_bodies/1},
             {"40 uploads abandoned mid-body", fun abandoned/1},
             {"300 slow bodies", fun slow_bodies/1},
             {"350 slow headers", fun slow_headers/1},
             {"100 connections from one address", fun one_address/1},
             {"a 24 h timeout", fun (P) -> day_timeout(P, Spin) end, fun batched_with_spin/1}],
    io:format("~-52s ~-44s ~8s | ~6s ~5s ~7s ~7s | ~9s ~9s~n",
              ["case", "attack outcome", "time", "legit", "fail", "p50", "p99", "peak MiB", "after"]),
    Results = [case C of
                   {Name, Fun} -> one_case(Name, Fun, fun(_) -> false end, Port, Legit);
                   {Name, Fun, Tolerated} -> one_case(Name, Fun, Tolerated, Port, Legit)
               end || C <- Cases],
    All = stop_legit(Legit),
    io:format("~nlegitimate calls over the whole run: ~s~n", [legit_summary(All)]),
    case [Name || {Name, false} <- Results] of
        [] -> ok;
        Failed -> fail("legitimate calls failed during: ~ts", [string:join(Failed, ", ")])
    end.

one_case(Name, Fun, Tolerated, Port, Legit) ->
    Base = settle(undefined),
    mark(Legit),
    Peak = peak_monitor(),
    T0 = erlang:monotonic_time(millisecond),
    Outcome = Fun(Port),
    Took = erlang:monotonic_time(millisecond) - T0,
    % A last stretch of legitimate calls after the attack, still counted to it.
    timer:sleep(500),
    Calls = collect(Legit),
    PeakBytes = stop_peak(Peak),
    After = settle(Base),
    {Known, Failures} = lists:partition(Tolerated, [F || {error, F} <- Calls]),
    io:format("~-52s ~-44s ~6b ms | ~6b ~5b ~7s ~7s | ~9.1f ~9.1f~n",
              [Name, Outcome, Took, length(Calls), length(Failures) + length(Known), pct(Calls, 50), pct(Calls, 99),
               mib(PeakBytes), mib(maps:get(memory, After))]),
    [io:format("    legit failure: ~0tp~n", [F]) || F <- lists:sublist(Failures, 3)],
    [io:format("    legit call batched with the abandoned kernel (issue 14 item 4, libkem's admission control): ~0tP~n",
               [F, 12]) || F <- Known],
    {Name, Failures =:= [] andalso length(Known) =< 2}.

%% While the 24 h call's kernel runs on past its deadline (lavapipe cannot stop a dispatch),
%% a legitimate call submitted together with it in one batch ends with it: a timeout, or a
%% 503 once libkem refuses calls whose queue wait passes their deadline (issue 14 item 4,
%% the service's half). At most 2 such calls are allowed; any other failure fails the run.
batched_with_spin({504, _, Body, _}) -> is_timeout(Body);
batched_with_spin({503, _, Body, _}) -> is_timeout(Body) orelse binary:match(Body, <<"busy">>) =/= nomatch;
batched_with_spin(_) -> false.

is_timeout(Body) ->
    case kem_json:decode(Body) of
        {ok, #{<<"error">> := <<"timeout">>}} -> true;
        _ -> false
    end.

%%% The cases: each checks its replies and returns a short description of the outcome.

%% JSON whose parse would be quadratic (the hand-written parser's 37 s): refused by the
%% linear pre-scan, 4 at once.
million_digits(Port) ->
    Body = <<"{\"kernel_id\": \"", (kem_test_env:poc_id())/binary, "\", \"input_data\": [",
             (binary:copy(<<"7">>, 1000000))/binary, "]}">>,
    Replies = parallel(4, fun(I) -> hostile_client:request(from(I), Port, ?PIPELINE, Body) end),
    [expect_error(R, 400, <<"bad_request">>, <<"number of more than 100 characters">>) || R <- Replies],
    io_lib:format("4 x 400 bad_request in ~s", [max_ms(Replies)]).

%% 2 M escapes in a field the device ignores: decoded in linear time, and the call's result
%% is exact.
escapes(Port) ->
    Input = crypto:strong_rand_bytes(64),
    Body = <<"{\"kernel_id\": \"", (kem_test_env:poc_id())/binary, "\", \"input_base64\": \"",
             (base64:encode(Input))/binary, "\", \"note\": \"", (binary:copy(<<"\\n">>, 2000000))/binary, "\"}">>,
    Replies = parallel(4, fun(I) -> hostile_client:request(from(I), Port, ?PIPELINE, Body) end),
    Want = kem_ref:double(Input, 1),
    [expect_output(R, Want) || R <- Replies],
    io_lib:format("4 x 200, exact output, in ~s", [max_ms(Replies)]).

deep(Port) ->
    Body = <<"{\"kernel_id\": \"", (kem_test_env:poc_id())/binary, "\", \"input_data\": [1], \"x\": ",
             (binary:copy(<<"[">>, 1000000))/binary, (binary:copy(<<"]">>, 1000000))/binary, "}">>,
    Replies = parallel(4, fun(I) -> hostile_client:request(from(I), Port, ?PIPELINE, Body) end),
    [expect_error(R, 400, <<"bad_request">>, <<"nesting deeper than 512">>) || R <- Replies],
    io_lib:format("4 x 400 bad_request in ~s", [max_ms(Replies)]).

%% Content-Length says 30 MB: 413 on the head alone, none of the body sent.
oversize_declared(Port) ->
    {Reply, 0} = hostile_client:stream(from(1), Port, ?PIPELINE, {content_length, 30000000}, {0, 65536}),
    expect_error(Reply, 413, <<"limit_exceeded">>, <<"max_body">>),
    io_lib:format("413 on the head alone, in ~s", [max_ms([Reply])]).

%% The same with 30 MB being sent: the 413 comes while the upload is still going.
oversize_declared_sent(Port) ->
    {Reply, Sent} = hostile_client:stream(from(1), Port, ?PIPELINE, {content_length, 30000000}, {30000000, 65536}),
    expect_error(Reply, 413, <<"limit_exceeded">>, <<"max_body">>),
    check(Sent < 30000000, "the whole 30 MB went out before the 413", []),
    io_lib:format("413 after ~.1f MiB handed to TCP, in ~s", [mib(Sent), max_ms([Reply])]).

%% Chunked, no length known: read up to max_body, then 413.
oversize_chunked(Port) ->
    {Reply, Sent} = hostile_client:stream(from(1), Port, ?PIPELINE, chunked, {30000000, 65536}),
    expect_error(Reply, 413, <<"limit_exceeded">>, <<"max_body">>),
    check(Sent < 30000000, "the whole 30 MB went out before the 413", []),
    io_lib:format("413 after ~.1f MiB sent, in ~s", [mib(Sent), max_ms([Reply])]).

%% Exactly max_body bytes, streamed in 64 KiB pieces: read whole (in bounded steps), then
%% refused by the JSON limits (it is one 4 M-digit number): 400.
max_body_of_digits(Port) ->
    N = ?MAX_BODY,
    {Reply, Sent} = hostile_client:stream(from(1), Port, ?PIPELINE, {content_length, N}, {N, 65536}),
    expect_error(Reply, 400, <<"bad_request">>, <<"number of more than 100 characters">>),
    io_lib:format("400 after ~.1f MiB, in ~s", [mib(Sent), max_ms([Reply])]).

%% 8 chunked uploads of 30 MB at once: each is cut at max_body (413), or refused while the
%% bodies held fill max_body_total (503 + Retry-After); the VM's memory stays bounded.
large_bodies(Port) ->
    Replies = parallel(8, fun(I) -> element(1, hostile_client:stream(from(I), Port, ?PIPELINE, chunked, {30000000, 65536})) end),
    Statuses = [element(1, R) || R <- Replies],
    [case R of
         {503, _, _, _} -> expect_refusal(R, 503, <<"busy">>);
         _ -> expect_error(R, 413, <<"limit_exceeded">>, <<"max_body">>)
     end || R <- Replies],
    io_lib:format("~b x 413, ~b x 503 in ~s", [count(413, Statuses), count(503, Statuses), max_ms(Replies)]).

%% 40 clients announce 3 MB, send 1 MB and hang up: the bytes they reserved of
%% max_body_total come back (checked by settle/1, as after every case).
abandoned(Port) ->
    _ = parallel(40, fun(I) -> hostile_client:abandon(from(I rem 5 + 1), Port, 3000000, 1000000) end),
    "40 hung up, their bytes given back".

%% 300 connections (60 from each of 5 addresses) sending a body byte a second: each is cut
%% by the minimum rate with 408 + Retry-After; the legitimate calls go on meanwhile.
slow_bodies(Port) ->
    Replies = parallel(300, fun(I) -> hostile_client:drip(from(I rem 5 + 1), Port, body, 1000, 1000) end),
    [expect_refusal(R, 408, <<"timeout">>) || {R, _, _} <- Replies],
    Longest = lists:max([Ms || {_, _, Ms} <- Replies]),
    io_lib:format("300 x 408, the longest held ~b ms", [Longest]).

%% 300 connections (from 7 addresses, 50 each) dripping their header fields: cut at
%% header_timeout (5 s) with 408 +
%% Retry-After; 50 more dripping the request line itself are closed at the same time
%% without a reply (there is no request yet to answer).
slow_headers(Port) ->
    Replies = parallel(350, fun(I) when I =< 300 -> {header, hostile_client:drip(from(I rem 7 + 1), Port, header, 0, 1000)};
                               (I) -> {line, hostile_client:drip(from(I rem 7 + 1), Port, request_line, 0, 1000)}
                            end),
    [expect_refusal(R, 408, <<"timeout">>) || {header, {R, _, _}} <- Replies],
    [check(R =:= {error, no_reply} andalso Ms < 8000, "a slow request line got ~0tP after ~b ms", [R, 8, Ms])
     || {line, {R, _, Ms}} <- Replies],
    Longest = lists:max([Ms || {_, {_, _, Ms}} <- Replies]),
    io_lib:format("300 x 408, 50 closed, the longest held ~b ms", [Longest]).

%% 100 slow connections from one address: 64 (max_connections_per_address) are served (and
%% cut by the minimum rate), the others answered 429 + Retry-After at once.
one_address(Port) ->
    Replies = parallel(100, fun(_) -> hostile_client:drip(from(9), Port, body, 1000, 1000) end),
    Statuses = [element(1, R) || {R, _, _} <- Replies],
    [case R of
         {429, _, _, _} -> expect_refusal(R, 429, <<"busy">>);
         _ -> expect_refusal(R, 408, <<"timeout">>)
     end || {R, _, _} <- Replies],
    check(count(429, Statuses) =:= 36, "~b connections refused, not 36", [count(429, Statuses)]),
    io_lib:format("~b x 429, ~b x 408", [count(429, Statuses), count(408, Statuses)]).

%% A call asking for 24 hours on a kernel that needs longer than the node's cap: ends at the
%% cap (504), not after the caller's day.
day_timeout(Port, Spin) ->
    Body = kem_json:encode(#{<<"kernel_id">> => Spin, <<"timeout">> => 86400000,
                             <<"input_base64">> => base64:encode(binary:copy(<<3, 1, 4, 1>>, 1024))}),
    Reply = hostile_client:request(from(1), Port, ?PIPELINE, Body),
    expect_error(Reply, 504, <<"timeout">>, <<>>),
    {504, _, _, Ms} = Reply,
    check(Ms >= ?CAP_MS - 100 andalso Ms < ?CAP_MS + 10000, "the 24 h call ended after ~b ms (cap ~b)", [Ms, ?CAP_MS]),
    % The abandoned kernel still runs on one device (lavapipe cannot stop it): wait it out.
    timer:sleep(6000),
    io_lib:format("504 after ~b ms (cap ~b ms)", [Ms, ?CAP_MS]).

%%% Checks of replies

expect_error({Status, Headers, Body, _}, Status, Code, Fragment) ->
    check(proplists:get_value(<<"content-type">>, Headers) =:= <<"application/json">>,
          "a ~b reply is not JSON: ~0tp", [Status, Headers]),
    case kem_json:decode(Body) of
        {ok, #{<<"error">> := Code, <<"details">> := Details}} when is_binary(Details) ->
            check(Fragment =:= <<>> orelse binary:match(Details, Fragment) =/= nomatch,
                  "~b ~s: details ~0tp lack ~0tp", [Status, Code, Details, Fragment]);
        Other ->
            fail("a ~b reply's body is not {error: ~s, details}: ~0tp", [Status, Code, Other])
    end;
expect_error(Other, Status, Code, _) ->
    fail("wanted ~b ~s, got ~0tP", [Status, Code, Other, 12]).

%% An error a retry may cure: JSON and Retry-After.
expect_refusal({Status, Headers, _, _} = Reply, Status, Code) ->
    expect_error(Reply, Status, Code, <<>>),
    check(proplists:get_value(<<"retry-after">>, Headers) =/= undefined,
          "a ~b ~s refusal has no Retry-After: ~0tp", [Status, Code, Headers]);
expect_refusal(Other, Status, Code) ->
    fail("wanted ~b ~s, got ~0tP", [Status, Code, Other, 12]).

expect_output({200, _, Want, _}, Want) -> ok;
expect_output(Other, Want) -> fail("wanted 200 with ~0tP, got ~0tP", [Want, 6, Other, 12]).

%%% The legitimate stream: Workers processes calling the doubling kernel back to back on
%%% random inputs from 127.0.0.1, each reply compared with kem_ref; the results of a case are
%%% collected per case (mark/1, collect/1).

start_legit(Port, Workers) ->
    Parent = self(),
    Collector = spawn_link(fun() -> collector(Parent, [], []) end),
    [spawn_link(fun() -> worker(Port, Collector) end) || _ <- lists:seq(1, Workers)],
    Collector.

worker(Port, Collector) ->
    Collector ! {call, legit_call(Port, 64)},
    receive stop -> ok after 0 -> worker(Port, Collector) end.

legit_call(Port, Bytes) ->
    Input = crypto:strong_rand_bytes(Bytes),
    Body = kem_json:encode(#{<<"kernel_id">> => kem_test_env:poc_id(), <<"input_base64">> => base64:encode(Input)}),
    Want = kem_ref:double(Input, 1),
    case hostile_client:request({127, 0, 0, 1}, Port, ?PIPELINE, Body) of
        {200, _, Want, Ms} -> {ok, Ms};
        Other -> {error, Other}
    end.

collector(Parent, Case, All) ->
    receive
        {call, R} -> collector(Parent, [R | Case], All);
        {collect, From} -> From ! {calls, Case}, collector(Parent, [], Case ++ All);
        {stop, From} -> From ! {calls, Case ++ All}
    end.

mark(Collector) -> collect(Collector), ok.

collect(Collector) ->
    Collector ! {collect, self()},
    receive {calls, Calls} -> Calls end.

stop_legit(Collector) ->
    % The workers are linked to this process and halted with it; their last calls are taken.
    Collector ! {stop, self()},
    receive {calls, Calls} -> Calls end.

legit_summary(Calls) ->
    io_lib:format("~b calls, ~b failures, p50 ~s, p99 ~s",
                  [length(Calls), length([x || {error, _} <- Calls]), pct(Calls, 50), pct(Calls, 99)]).

pct(Calls, P) ->
    case lists:sort([Ms || {ok, Ms} <- Calls]) of
        [] -> "-";
        Sorted -> integer_to_list(lists:nth(max(1, (length(Sorted) * P + 99) div 100), Sorted)) ++ " ms"
    end.

%%% The VM's footprint

%% Samples erlang:memory(total) every 20 ms while a case runs.
peak_monitor() ->
    Parent = self(),
    spawn_link(fun() -> peak_loop(Parent, 0) end).

peak_loop(Parent, Peak) ->
    receive {stop, From} -> From ! {peak, Peak}
    after 20 -> peak_loop(Parent, max(Peak, erlang:memory(total)))
    end.

stop_peak(Pid) ->
    Pid ! {stop, self()},
    receive {peak, Peak} -> Peak end.

snapshot() ->
    [erlang:garbage_collect(P) || P <- processes()],
    #{memory => erlang:memory(total), processes => length(processes()), ports => length(erlang:ports()),
      held => held()}.

%% Call slots and body bytes the endpoint counts as held: none once a case is over (the
%% legitimate stream's own calls aside, which is why this is polled with the rest).
held() ->
    #{calls := Calls, body_bytes := Bytes} = kem_http:settings(),
    {atomics:get(Calls, 1), atomics:get(Bytes, 1)}.

settle(undefined) ->
    timer:sleep(300),
    snapshot();
settle(Base) ->
    settle(Base, erlang:monotonic_time(millisecond) + ?SETTLE_MS).

%% Back to the baseline: no call slot or body byte held (but the legitimate stream's, which
%% come and go), at most 4 more processes and ports (the legitimate stream's calls
%% in flight come and go), at most 8 MiB more memory (the allocators' carriers, a case's
%% large binaries not yet released by the NIF's allocator...; a leaked 4 MiB body per case
%% would pass once, never twice).
settle(Base, Deadline) ->
    Now = snapshot(),
    Within = maps:get(held, Now) =:= {0, 0} andalso
        maps:get(processes, Now) =< maps:get(processes, Base) + 4 andalso
        maps:get(ports, Now) =< maps:get(ports, Base) + 4 andalso
        maps:get(memory, Now) =< maps:get(memory, Base) + 8 * 1024 * 1024,
    case Within of
        true -> Now;
        false ->
            case erlang:monotonic_time(millisecond) < Deadline of
                true -> timer:sleep(250), settle(Base, Deadline);
                false -> fail("the VM did not come back to its baseline within ~b ms: before ~0tp, after ~0tp",
                              [?SETTLE_MS, Base, Now])
            end
    end.

%%% Helpers

%% Attack addresses: 127.0.0.2 and up (the legitimate stream uses 127.0.0.1).
from(I) -> {127, 0, 0, 1 + I}.

parallel(N, Fun) ->
    Parent = self(),
    Pids = [spawn_link(fun() -> Parent ! {self(), Fun(I)} end) || I <- lists:seq(1, N)],
    [receive {P, R} -> R after 120000 -> fail("a client got no answer in 120 s", []) end || P <- Pids].

max_ms(Replies) ->
    integer_to_list(lists:max([Ms || {_, _, _, Ms} <- Replies])) ++ " ms".

count(X, L) -> length([Y || Y <- L, Y =:= X]).

mib(Bytes) -> Bytes / (1024 * 1024).

check(true, _, _) -> ok;
check(false, Format, Args) -> fail(Format, Args).

fail(Format, Args) -> throw({fail, lists:flatten(io_lib:format(Format, Args))}).
