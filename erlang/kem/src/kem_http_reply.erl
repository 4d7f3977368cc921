%%% @doc The replies of KEM's HTTP endpoint that are not the device's: errors as JSON
%%% ({"error": code, "details": text}), a refusal for load or slowness with Retry-After, and
%%% the same as raw HTTP/1.1 bytes for the places that answer before Cowboy parses a request
%%% (kem_http_conn).
-module(kem_http_reply).
-export([error/3, refusal/3, raw/3, json/2]).
-compile({no_auto_import, [error/3]}).

%% Seconds a refused client is asked to wait: the endpoint's limits free up within seconds
%% (calls end, slow clients are timed out).
-define(RETRY_AFTER, <<"1">>).

%% @doc A device-style error reply (status, content-type, body) for kem_http_handler.
-spec error(100..599, atom(), binary()) -> {error, map()}.
error(Status, Code, Details) ->
    {error, #{<<"status">> => Status, <<"content-type">> => <<"application/json">>,
              <<"body">> => json(Code, Details)}}.

%% @doc An error that a retry may cure (busy, too slow, too many connections): with
%% Retry-After.
-spec refusal(100..599, atom(), binary()) -> {error, map()}.
refusal(Status, Code, Details) ->
    {error, Reply} = error(Status, Code, Details),
    {error, Reply#{<<"retry-after">> => ?RETRY_AFTER}}.

%% @doc A whole HTTP/1.1 response that closes the connection, for a refusal sent before any
%% request is read.
-spec raw(100..599, atom(), binary()) -> iodata().
raw(Status, Code, Details) ->
    Body = json(Code, Details),
    [<<"HTTP/1.1 ">>, integer_to_binary(Status), $\s, reason(Status), <<"\r\n">>,
     <<"content-type: application/json\r\ncontent-length: ">>, integer_to_binary(byte_size(Body)),
     <<"\r\nretry-after: ">>, ?RETRY_AFTER, <<"\r\nconnection: close\r\n\r\n">>, Body].

-spec json(atom(), binary()) -> binary().
json(Code, Details) ->
    kem_json:encode(#{<<"error">> => atom_to_binary(Code, utf8), <<"details">> => Details}).

reason(429) -> <<"Too Many Requests">>;
reason(503) -> <<"Service Unavailable">>;
reason(_) -> <<"Error">>.
