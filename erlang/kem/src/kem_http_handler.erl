%%% @doc The Cowboy handler behind kem_http: turns each request into the messages HyperBEAM
%%% would give dev_kem (Msg1 the device, Msg2 the request with its headers, query keys and raw
%%% body under <<"body">>) and renders the reply as HyperBEAM does: "status" is the HTTP
%%% status, "body" the body, every other top-level key a header. The body is read by
%%% kem_http_body (bounded in bytes, time and rate); calls are limited to max_concurrency.
-module(kem_http_handler).
%% A cowboy_handler (no -behaviour attribute: kem compiles where Cowboy is not on the code
%% path, and warnings are errors).
-export([init/2, route/1]).

-define(DEVICE, <<"~kem@1.0">>).
-define(ROUTES, [<<"info">>, <<"execute_kernel">>, <<"execute_kernel_with_params">>,
                 <<"get_adapter_info">>, <<"metrics">>]).

init(Req0, State) ->
    Start = erlang:monotonic_time(microsecond),
    % Cowboy's shutdown of this process (its client went away) must not cut the giving back
    % of what it holds in two (kem_http_hold); the call runs to its own deadline.
    process_flag(trap_exit, true),
    {Route, Reply, Req} =
        try request(Req0)
        catch Class:Reason:Stack ->
            logger:error("kem_http: ~p:~0tP at ~0tP", [Class, Reason, 8, Stack, 8]),
            {<<"unknown">>, error_reply(500, internal, <<"unexpected failure">>), Req0}
        end,
    {Status, Req1} = render(Reply, Req),
    kem_metrics:request(Route, Status, erlang:monotonic_time(microsecond) - Start),
    {ok, Req1, State}.

request(Req) ->
    Path = case uri_string:percent_decode(cowboy_req:path(Req)) of
               Decoded when is_binary(Decoded) -> Decoded;
               _ -> cowboy_req:path(Req)
           end,
    case route(Path) of
        {ok, <<"metrics">>} ->
            {<<"metrics">>, {ok, #{<<"status">> => 200, <<"body">> => kem_metrics:render(),
                                   <<"content-type">> => <<"text/plain; version=0.0.4">>}}, Req};
        {ok, Route} ->
            Settings = kem_http:settings(),
            case kem_http_body:read(Req, Settings) of
                {ok, Body, Held, Req1} ->
                    try
                        Msg2 = message(cowboy_req:method(Req1), Route, cowboy_req:headers(Req1),
                                       query(cowboy_req:qs(Req1)), Body),
                        {Route, limited(fun() -> call(Route, Msg2) end, Settings), Req1}
                    after
                        kem_http_body:release(Held)
                    end;
                {error, Reply, Held, Req1} ->
                    kem_http_body:release(Held),
                    {Route, Reply, Req1}
            end;
        error ->
            {<<"unknown">>, error_reply(404, not_found, <<"no such route: ", Path/binary>>), Req}
    end.

message(Method, Route, Headers, Query, Body) ->
    maps:merge(maps:merge(header_keys(Headers), Query),
               #{<<"path">> => Route, <<"method">> => Method, <<"body">> => Body}).

%% @doc The device key a path names: /~kem@1.0/KEY, with "-" and "_" alike and any case.
-spec route(binary()) -> {ok, binary()} | error.
route(Path) ->
    case [normalise(S) || S <- binary:split(Path, <<"/">>, [global])] of
        [<<>>, ?DEVICE] -> {ok, <<"info">>};
        [<<>>, ?DEVICE, <<>>] -> {ok, <<"info">>};
        [<<>>, ?DEVICE, Key] -> known(Key);
        _ -> error
    end.

known(Key) ->
    case lists:member(Key, ?ROUTES) of
        true -> {ok, Key};
        false -> error
    end.

normalise(Key) ->
    << <<(case C of $- -> $_; _ when C >= $A, C =< $Z -> C + 32; _ -> C end)>> || <<C>> <= Key >>.

query(RawQuery) ->
    case uri_string:dissect_query(RawQuery) of
        Pairs when is_list(Pairs) ->
            maps:from_list([{to_bin(K), to_bin(V)} || {K, V} <- Pairs, V =/= true]);
        _ ->
            #{}
    end.

to_bin(B) when is_binary(B) -> B;
to_bin(L) -> unicode:characters_to_binary(L).

%% HyperBEAM puts the request's headers in the message; hop-by-hop ones mean nothing there.
header_keys(Headers) ->
    maps:without([<<"content-length">>, <<"connection">>, <<"host">>, <<"keep-alive">>,
                  <<"transfer-encoding">>, <<"accept">>, <<"user-agent">>], Headers).

%% At most max_concurrency calls at once; one more is refused (503, Retry-After) rather than
%% queued, so that a burst cannot pile up behind the GPU.
limited(Fun, Settings) ->
    case kem_http_hold:take_call(Settings) of
        busy ->
            kem_metrics:rejected(),
            kem_http_reply:refusal(503, busy, <<"too many calls at once; retry shortly">>);
        ok ->
            try with_deadline(Fun, Settings)
            after
                kem_http_hold:give_call(Settings)
            end
    end.

%% The call runs in a process of its own so that a request that outlives request_timeout is
%% answered 504 (the executor's deadline normally comes first).
with_deadline(Fun, Settings) ->
    Timeout = case maps:get(request_timeout, Settings, undefined) of
                  % The longest deadline a call can get (a caller's timeout never passes
                  % it: kem_config:call_timeout/1), so no call is cut short and none outlives it.
                  undefined -> kem_config:max_timeout() + kem_config:value(reply_margin) + 5000;
                  T -> T
              end,
    {Pid, Ref} = spawn_monitor(fun() -> exit({reply, Fun()}) end),
    receive
        {'DOWN', Ref, process, Pid, {reply, Reply}} -> Reply;
        {'DOWN', Ref, process, Pid, Reason} ->
            logger:error("kem_http: call failed: ~0tP", [Reason, 8]),
            error_reply(500, internal, <<"the call failed">>)
    after Timeout ->
        exit(Pid, kill),
        error_reply(504, timeout, <<"no reply within the endpoint's request_timeout">>)
    end.

call(Route, Msg2) ->
    Msg1 = #{<<"device">> => <<"kem@1.0">>},
    Handler = case Route of
                  <<"info">> -> fun dev_kem:info/3;
                  <<"execute_kernel">> -> fun dev_kem:execute_kernel/3;
                  <<"execute_kernel_with_params">> -> fun dev_kem:execute_kernel_with_params/3;
                  <<"get_adapter_info">> -> fun dev_kem:get_adapter_info/3
              end,
    Handler(Msg1, Msg2, #{}).

error_reply(Status, Code, Details) -> kem_http_reply:error(Status, Code, Details).

%% HyperBEAM's rendering: status, body, and the other top-level keys as headers (names in
%% lowercase, as HTTP/1.1 allows and Cowboy wants). A body that is not bytes (a map) is sent
%% as JSON.
render({_, Reply}, Req) when is_map(Reply) ->
    Status = case maps:get(<<"status">>, Reply, 200) of
                 S when is_integer(S), S >= 100, S =< 599 -> S;
                 _ -> 200
             end,
    {Body, Type} = case maps:get(<<"body">>, Reply, <<>>) of
                       B when is_binary(B) -> {B, maps:get(<<"content-type">>, Reply, <<"application/octet-stream">>)};
                       Other -> {kem_json:encode(Other), <<"application/json">>}
                   end,
    Extra = maps:from_list([{header_name(K), V1}
                            || {K, V} <- maps:to_list(maps:without([<<"status">>, <<"body">>, <<"content-type">>], Reply)),
                               (V1 = header_value(V)) =/= skip]),
    Headers = Extra#{<<"content-type">> => header_value(Type), <<"server">> => <<"kem">>},
    {Status, cowboy_req:reply(Status, Headers, Body, Req)};
render(_, Req) ->
    render(error_reply(500, internal, <<"the device gave no reply">>), Req).

header_name(K) when is_binary(K) -> lower(K);
header_name(K) when is_atom(K) -> lower(atom_to_binary(K, utf8));
header_name(_) -> <<"x-unknown">>.

lower(Name) -> << <<(if C >= $A, C =< $Z -> C + 32; true -> C end)>> || <<C>> <= Name >>.

header_value(V) when is_binary(V) -> V;
header_value(V) when is_integer(V) -> integer_to_binary(V);
header_value(V) when is_atom(V) -> atom_to_binary(V, utf8);
header_value(_) -> skip.
