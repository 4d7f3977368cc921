%%% @doc A Cowboy stream handler in front of cowboy_stream_h that only changes Cowboy's own
%%% error replies (malformed request, headers too large or too slow: early_error/5) from an
%%% empty body to KEM's JSON ({"error", "details"}), with Retry-After where a retry may help
%%% (408). Everything else is passed on unchanged.
-module(kem_http_stream).
%% A cowboy_stream handler (no -behaviour attribute: kem compiles where Cowboy is not on
%% the code path, and warnings are errors).
-export([init/3, data/4, info/3, terminate/3, early_error/5]).

init(StreamID, Req, Opts) -> cowboy_stream:init(StreamID, Req, Opts).
data(StreamID, IsFin, Data, Next) -> cowboy_stream:data(StreamID, IsFin, Data, Next).
info(StreamID, Info, Next) -> cowboy_stream:info(StreamID, Info, Next).
terminate(StreamID, Reason, Next) -> cowboy_stream:terminate(StreamID, Reason, Next).

early_error(StreamID, Reason, PartialReq, Resp, Opts) ->
    {response, Status, Headers, _} = cowboy_stream:early_error(StreamID, Reason, PartialReq, Resp, Opts),
    kem_metrics:request(<<"unknown">>, Status, 0),
    Body = kem_http_reply:json(code(Status), details(Reason)),
    Retry = case Status of 408 -> #{<<"retry-after">> => <<"1">>}; _ -> #{} end,
    {response, Status, maps:merge(Headers#{<<"content-type">> => <<"application/json">>,
                                           <<"content-length">> => integer_to_binary(byte_size(Body))},
                                  Retry), Body}.

code(408) -> timeout;
code(413) -> limit_exceeded;
code(414) -> limit_exceeded;
code(431) -> limit_exceeded;
code(S) when S >= 500 -> internal;
code(_) -> bad_request.

%% Cowboy's reasons end in a readable sentence (an atom).
details({_, _, Text}) when is_atom(Text) -> atom_to_binary(Text, utf8);
details({_, _, Text}) when is_binary(Text) -> Text;
details(Other) -> kem_err:term(Other).
