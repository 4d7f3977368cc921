%%% @doc The inets httpd module behind kem_http: turns each request into the messages
%%% HyperBEAM would give dev_kem (Msg1 the device, Msg2 the request with its headers, query
%%% keys and raw body under <<"body">>) and renders the reply as HyperBEAM does: "status" is
%%% the HTTP status, "body" the body, every other top-level key a header.
-module(kem_http_mod).
-export([do/1, route/1]).

-include_lib("inets/include/httpd.hrl").

-define(DEVICE, <<"~kem@1.0">>).
-define(ROUTES, [<<"info">>, <<"execute_kernel">>, <<"execute_kernel_with_params">>,
                 <<"get_adapter_info">>, <<"metrics">>]).

do(#mod{method = Method, request_uri = Uri, parsed_header = Headers, entity_body = Body,
        socket_type = SocketType, socket = Socket}) ->
    Start = erlang:monotonic_time(microsecond),
    % httpd writes a reply's head and body separately: without nodelay, Nagle and delayed ACKs
    % hold every keep-alive reply back about 40 ms. (httpd's own {ip_comm, Opts} socket_type
    % is not passed on by OTP 25's inets.)
    _ = SocketType =:= ip_comm andalso inet:setopts(Socket, [{nodelay, true}]),
    {Route, Reply} =
        try request(Method, Uri, Headers, Body)
        catch Class:Reason:Stack ->
            logger:error("kem_http: ~p:~0tP at ~0tP", [Class, Reason, 8, Stack, 8]),
            {<<"unknown">>, error_reply(500, internal, <<"unexpected failure">>)}
        end,
    {response, Head, _} = Response = render(Reply),
    kem_metrics:request(Route, proplists:get_value(code, Head), erlang:monotonic_time(microsecond) - Start),
    {proceed, [{response, Response}]}.

request(Method, Uri, Headers, Body) ->
    {Path, Query} = split_uri(Uri),
    case route(Path) of
        {ok, <<"metrics">>} ->
            {<<"metrics">>, {ok, #{<<"status">> => 200, <<"body">> => kem_metrics:render(),
                                   <<"content-type">> => <<"text/plain; version=0.0.4">>}}};
        {ok, Route} ->
            case iolist_size(Body) > max_body() of
                true ->
                    {Route, error_reply(413, limit_exceeded, <<"the body is over the endpoint's max_body">>)};
                false ->
                    {Route, limited(fun() -> call(Route, message(Method, Route, Headers, Query, Body)) end)}
            end;
        error ->
            {<<"unknown">>, error_reply(404, not_found, <<"no such route: ", Path/binary>>)}
    end.

message(Method, Route, Headers, Query, Body) ->
    maps:merge(maps:merge(header_keys(Headers), Query),
               #{<<"path">> => Route,
                 <<"method">> => list_to_binary(Method),
                 <<"body">> => iolist_to_binary(Body)}).

max_body() -> maps:get(max_body, kem_http:settings()).

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

split_uri(Uri) ->
    {RawPath, RawQuery} = case string:split(Uri, "?") of
                              [P, Q] -> {P, Q};
                              [P] -> {P, ""}
                          end,
    Path = case uri_string:percent_decode(list_to_binary(RawPath)) of
               Decoded when is_binary(Decoded) -> Decoded;
               _ -> list_to_binary(RawPath)
           end,
    Query = case uri_string:dissect_query(RawQuery) of
                Pairs when is_list(Pairs) ->
                    maps:from_list([{to_bin(K), to_bin(V)} || {K, V} <- Pairs, V =/= true]);
                _ ->
                    #{}
            end,
    {Path, Query}.

to_bin(B) when is_binary(B) -> B;
to_bin(L) -> unicode:characters_to_binary(L).

%% HyperBEAM puts the request's headers in the message; hop-by-hop ones mean nothing there.
header_keys(Headers) ->
    maps:from_list([{list_to_binary(K), list_to_binary(V)} || {K, V} <- Headers,
                    not lists:member(K, ["content-length", "connection", "host", "keep-alive",
                                         "transfer-encoding", "accept", "user-agent"])]).

%% At most max_concurrency calls at once; one more is refused (503, Retry-After) rather than
%% queued, so that a burst cannot pile up behind the GPU.
limited(Fun) ->
    #{max_concurrency := Max, calls := Counter} = Settings = kem_http:settings(),
    case atomics:add_get(Counter, 1, 1) of
        N when N > Max ->
            atomics:sub(Counter, 1, 1),
            kem_metrics:rejected(),
            {error, Reply} = error_reply(503, busy, <<"too many calls at once; retry shortly">>),
            {error, Reply#{<<"retry-after">> => <<"1">>}};
        _ ->
            kem_metrics:in_flight(1),
            try with_deadline(Fun, Settings)
            after
                atomics:sub(Counter, 1, 1),
                kem_metrics:in_flight(-1)
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

error_reply(Status, Code, Details) ->
    {error, #{<<"status">> => Status, <<"content-type">> => <<"application/json">>,
              <<"body">> => kem_json:encode(#{<<"error">> => atom_to_binary(Code, utf8),
                                              <<"details">> => Details})}}.

%% HyperBEAM's rendering: status, body, and the other top-level keys as headers. A body that
%% is not bytes (a map) is sent as JSON.
render({_, Reply}) when is_map(Reply) ->
    Status = case maps:get(<<"status">>, Reply, 200) of
                 S when is_integer(S), S >= 100, S =< 599 -> S;
                 _ -> 200
             end,
    {Body, Type} = case maps:get(<<"body">>, Reply, <<>>) of
                       B when is_binary(B) -> {B, maps:get(<<"content-type">>, Reply, <<"application/octet-stream">>)};
                       Other -> {kem_json:encode(Other), <<"application/json">>}
                   end,
    Extra = [{header_name(K), header_value(V)}
             || {K, V} <- maps:to_list(maps:without([<<"status">>, <<"body">>, <<"content-type">>], Reply)),
                header_value(V) =/= skip],
    Head = [{code, Status}, {content_type, binary_to_list(Type)},
            {content_length, integer_to_list(byte_size(Body))} | [H || {_, V} = H <- Extra, V =/= skip]],
    {response, Head, Body};
render(_) ->
    render(error_reply(500, internal, <<"the device gave no reply">>)).

header_name(K) when is_binary(K) -> binary_to_list(K);
header_name(K) when is_atom(K) -> atom_to_list(K);
header_name(_) -> "x-unknown".

header_value(V) when is_binary(V) -> binary_to_list(V);
header_value(V) when is_integer(V) -> integer_to_list(V);
header_value(V) when is_atom(V) -> atom_to_list(V);
header_value(_) -> skip.
