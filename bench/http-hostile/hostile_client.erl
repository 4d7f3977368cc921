%%% @doc Raw HTTP/1.1 over gen_tcp for the hostile-client suite: whole requests, requests
%%% whose body is streamed (chunked or with a Content-Length) until the server answers, and
%%% connections that drip their headers or body a byte at a time. Every client socket can be
%%% bound to a loopback address of its own (127.0.0.N), since the endpoint limits connections
%%% per client address.
-module(hostile_client).
-export([request/4, stream/5, drip/5, abandon/4, parse/1]).

-define(HOST, {127, 0, 0, 1}).

%% @doc A whole request from address From; {Status, Headers, Body, Millis} or {error, Why}.
request(From, Port, Path, Body) ->
    T0 = now_ms(),
    case connect(From, Port) of
        {ok, S} ->
            ok = gen_tcp:send(S, [head(Path, [{<<"content-length">>, integer_to_binary(iolist_size(Body))}]), Body]),
            Reply = recv_reply(S, 30000),
            gen_tcp:close(S),
            with_time(Reply, T0);
        Error ->
            Error
    end.

%% @doc Sends Total bytes of body (chunked, or with {content_length, N} declared) in pieces of
%% Piece bytes, stopping as soon as the server answers; the reply and how many body bytes
%% went out before it.
stream(From, Port, Path, Framing, {Total, Piece}) ->
    T0 = now_ms(),
    {ok, S} = connect(From, Port),
    Headers = case Framing of
                  chunked -> [{<<"transfer-encoding">>, <<"chunked">>}];
                  {content_length, N} -> [{<<"content-length">>, integer_to_binary(N)}]
              end,
    ok = gen_tcp:send(S, head(Path, Headers)),
    Data = binary:copy(<<"7">>, Piece),
    Sent = send_until_reply(S, Framing, Data, 0, Total),
    Reply = recv_reply(S, 10000),
    gen_tcp:close(S),
    {with_time(Reply, T0), Sent}.

send_until_reply(S, Framing, Data, Sent, Total) when Sent < Total ->
    % A reply already there (the server refused early) ends the upload.
    case gen_tcp:recv(S, 0, 0) of
        {ok, Bytes} ->
            put(early, Bytes),
            Sent;
        {error, timeout} ->
            Frame = case Framing of
                        chunked -> [integer_to_binary(byte_size(Data), 16), <<"\r\n">>, Data, <<"\r\n">>];
                        _ -> Data
                    end,
            case gen_tcp:send(S, Frame) of
                ok -> send_until_reply(S, Framing, Data, Sent + byte_size(Data), Total);
                {error, _} -> Sent
            end;
        {error, _} ->
            Sent
    end;
send_until_reply(S, chunked, _, Sent, _) ->
    _ = gen_tcp:send(S, <<"0\r\n\r\n">>),
    Sent;
send_until_reply(_, _, _, Sent, _) ->
    Sent.

%% @doc A connection from From that sends one byte every Interval ms (What = request_line:
%% the whole head; header: the request line at once, then the header fields; body: a whole
%% head announcing Bytes, then the body) until the server answers or closes;
%% {Reply, BytesSent, Millis}.
drip(From, Port, What, Bytes, Interval) ->
    T0 = now_ms(),
    case connect(From, Port) of
        {ok, S} ->
            Head = iolist_to_binary(head(<<"/~kem@1.0/execute_kernel">>, [{<<"content-length">>, <<"2">>}])),
            [Line, Fields] = binary:split(Head, <<"\r\n">>),
            Rest = case What of
                       % The request line at once, then the header fields a byte at a time.
                       header -> ok = gen_tcp:send(S, [Line, <<"\r\n">>]), Fields;
                       request_line -> Head;
                       body -> ok = gen_tcp:send(S, head(<<"/~kem@1.0/execute_kernel">>,
                                                         [{<<"content-length">>, integer_to_binary(Bytes)}])),
                               binary:copy(<<" ">>, Bytes)
                   end,
            Sent = drip_bytes(S, Rest, Interval, 0),
            Reply = recv_reply(S, 2000),
            gen_tcp:close(S),
            {with_time(Reply, T0), Sent, now_ms() - T0};
        Error ->
            {Error, 0, now_ms() - T0}
    end.

drip_bytes(_, <<>>, _, Sent) -> Sent;
drip_bytes(S, <<C, Rest/binary>>, Interval, Sent) ->
    case gen_tcp:recv(S, 0, Interval) of
        {ok, Bytes} -> put(early, Bytes), Sent;
        {error, timeout} ->
            case gen_tcp:send(S, <<C>>) of
                ok -> drip_bytes(S, Rest, Interval, Sent + 1);
                {error, _} -> Sent
            end;
        {error, _} -> Sent
    end.

%% @doc Announces Declared body bytes, sends Sent of them, and hangs up.
abandon(From, Port, Declared, Sent) ->
    {ok, S} = connect(From, Port),
    ok = gen_tcp:send(S, [head(<<"/~kem@1.0/execute_kernel">>, [{<<"content-length">>, integer_to_binary(Declared)}]),
                          binary:copy(<<" ">>, Sent)]),
    timer:sleep(200),
    gen_tcp:close(S).

connect(From, Port) ->
    gen_tcp:connect(?HOST, Port, [binary, {active, false}, {ip, From}, {send_timeout, 5000},
                                  {send_timeout_close, true}], 5000).

head(Path, Headers) ->
    [<<"POST ">>, Path, <<" HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n"
                          "content-type: application/json\r\n">>,
     [[K, <<": ">>, V, <<"\r\n">>] || {K, V} <- Headers], <<"\r\n">>].

%% The reply: bytes received early (while sending) first, then until closed or complete.
recv_reply(S, Timeout) ->
    Early = case erase(early) of undefined -> <<>>; B -> B end,
    recv_all(S, Early, now_ms() + Timeout).

recv_all(S, Acc, Deadline) ->
    case complete(Acc) of
        true -> parse(Acc);
        false ->
            case gen_tcp:recv(S, 0, max(1, Deadline - now_ms())) of
                {ok, Data} -> recv_all(S, <<Acc/binary, Data/binary>>, Deadline);
                {error, _} when Acc =:= <<>> -> {error, no_reply};
                {error, _} -> parse(Acc)
            end
    end.

complete(Bytes) ->
    case parse(Bytes) of
        {_, Headers, Body} ->
            case proplists:get_value(<<"content-length">>, Headers) of
                undefined -> false;
                Len -> byte_size(Body) >= binary_to_integer(Len)
            end;
        _ -> false
    end.

%% @doc {Status, Headers (lowercase names), Body} or {error, Why}.
parse(Bytes) ->
    case binary:split(Bytes, <<"\r\n\r\n">>) of
        [Head, Body] ->
            case binary:split(Head, <<"\r\n">>, [global]) of
                [<<"HTTP/1.1 ", Code:3/binary, _/binary>> | Lines] ->
                    {binary_to_integer(Code),
                     [{string:lowercase(K), string:trim(V)} || L <- Lines, [K, V] <- [binary:split(L, <<":">>)]],
                     Body};
                _ -> {error, {bad_reply, Bytes}}
            end;
        _ -> {error, {incomplete_reply, byte_size(Bytes)}}
    end.

with_time({Status, Headers, Body}, T0) -> {Status, Headers, Body, now_ms() - T0};
with_time(Error, _) -> Error.

now_ms() -> erlang:monotonic_time(millisecond).
