%%% @doc Reads dev_kem's request fields from HyperBEAM messages: a JSON body (Msg2's, else
%%% Msg1's) or plain message keys, with "_" and "-" spellings alike. Malformed requests throw
%%% {bad_request, Message}, which dev_kem turns into a 400.
-module(dev_kem_request).
-export([fields/3, kernel_id/1, input/1, integer/3, params/1, output_format/1,
         call_options/1]).

-type fields() :: {map(), [term()], map()}.

%% @doc The request: the decoded JSON body (or #{}) plus the messages for plain keys.
-spec fields(term(), term(), map()) -> fields().
fields(Msg1, Msg2, Opts) ->
    Body = case body(Msg2, Opts) of
               not_found -> body(Msg1, Opts);
               Found -> Found
           end,
    {decode(Body), [Msg2, Msg1], Opts}.

body(Msg, Opts) ->
    case kem_hb:get(<<"body">>, Msg, Opts) of
        <<>> -> not_found;
        Body -> Body
    end.

decode(not_found) -> #{};
decode(Map) when is_map(Map) -> Map;
decode(Bin) when is_binary(Bin) ->
    case kem_hb:json_decode(Bin) of
        {ok, Map} when is_map(Map) -> Map;
        {ok, _} -> throw({bad_request, <<"the body must be a JSON object">>});
        {error, {json_limit, Why}} -> throw({bad_request, <<"the body's JSON is over a limit: ", Why/binary>>});
        {error, _} -> throw({bad_request, <<"the body is not valid JSON">>})
    end;
decode(_) ->
    throw({bad_request, <<"the body must be a JSON object">>}).

%% Looks a field up in the body, then in the messages; Key is given with underscores.
get(Key, {Body, Msgs, Opts}) ->
    Dashed = binary:replace(Key, <<"_">>, <<"-">>, [global]),
    Lookups = [fun() -> kem_hb:plain_get(K, Body) end || K <- [Key, Dashed]] ++
              [fun() -> kem_hb:get(K, M, Opts) end || M <- Msgs, is_map(M), K <- [Key, Dashed]],
    first(Lookups).

first([]) -> not_found;
first([L | Rest]) ->
    case L() of
        not_found -> first(Rest);
        V -> V
    end.

kernel_id(Req) ->
    case get(<<"kernel_id">>, Req) of
        Id when is_binary(Id), Id =/= <<>> -> Id;
        not_found -> throw({bad_request, <<"kernel_id is missing">>});
        _ -> throw({bad_request, <<"kernel_id must be a string">>})
    end.

%% input_data: an array of bytes (or raw bytes in a plain key); input_base64: base64 text.
input(Req) ->
    case {get(<<"input_data">>, Req), get(<<"input_base64">>, Req)} of
        {not_found, not_found} -> throw({bad_request, <<"input_data or input_base64 is missing">>});
        {not_found, B64} -> base64(B64);
        {Data, _} -> bytes(Data)
    end.

bytes(Bin) when is_binary(Bin) -> Bin;
%% Every element a byte: list_to_binary/1 alone would take any iolist, so [1, "x"] or [[1], 2]
%% (strings and arrays inside the array) would run on bytes nobody sent as bytes.
bytes(List) when is_list(List) ->
    case lists:all(fun(B) -> is_integer(B) andalso B >= 0 andalso B =< 255 end, List) of
        true -> list_to_binary(List);
        false -> throw({bad_request, <<"input_data must be an array of bytes (0..255)">>})
    end;
bytes(_) -> throw({bad_request, <<"input_data must be an array of bytes (0..255)">>}).

base64(B64) when is_binary(B64) ->
    try base64:decode(percent_decoded(B64))
    catch error:_ -> throw({bad_request, <<"input_base64 is not valid base64">>})
    end;
base64(_) -> throw({bad_request, <<"input_base64 must be a string">>}).

%% HyperBEAM hands query values on as sent, still percent-encoded (a client that encodes
%% "+", "/" and "=" as it should sends "%2B", "%2F", "%3D"). Base64 never contains "%", so
%% decoding them first changes nothing else.
percent_decoded(B64) ->
    case binary:match(B64, <<"%">>) of
        nomatch -> B64;
        _ ->
            % uri_string:percent_decode/1 returns an error tuple for some bad input and
            % throws one for other (OTP 25 and 27 alike).
            try uri_string:percent_decode(B64) of
                Decoded when is_binary(Decoded) -> Decoded;
                _ -> throw({bad_request, <<"input_base64 is not valid base64">>})
            catch
                throw:{error, _, _} -> throw({bad_request, <<"input_base64 is not valid base64">>})
            end
    end.

%% @doc An integer field: a JSON number or, from plain keys (HTTP headers), decimal text.
integer(Req, Key, Default) ->
    case get(Key, Req) of
        not_found -> Default;
        N when is_integer(N), N >= 0 -> N;
        B when is_binary(B) ->
            try binary_to_integer(trim(B)) of
                N when N >= 0 -> N;
                _ -> bad_integer(Key)
            catch error:badarg -> bad_integer(Key)
            end;
        _ -> bad_integer(Key)
    end.

%% ASCII blanks only: header values are bytes, not necessarily UTF-8.
trim(<<C, Rest/binary>>) when C =:= $\s; C =:= $\t -> trim(Rest);
trim(B) -> trim_end(B, byte_size(B)).

trim_end(B, N) when N > 0 ->
    case binary:at(B, N - 1) of
        C when C =:= $\s; C =:= $\t -> trim_end(B, N - 1);
        _ -> binary:part(B, 0, N)
    end;
trim_end(_, _) -> <<>>.

bad_integer(Key) -> throw({bad_request, [Key, <<" must be a non-negative integer">>]}).

%% @doc params: an array of u32 (or JSON text of one, from a plain key); empty when absent.
params(Req) ->
    case get(<<"params">>, Req) of
        not_found -> [];
        List when is_list(List) -> words(List);
        Bin when is_binary(Bin) ->
            case kem_hb:json_decode(Bin) of
                {ok, List} when is_list(List) -> words(List);
                _ -> throw({bad_request, <<"params must be an array of 32-bit integers">>})
            end;
        _ -> throw({bad_request, <<"params must be an array of 32-bit integers">>})
    end.

words(List) ->
    case kem_request:params(List) of
        {ok, _} -> List;
        {error, _} -> throw({bad_request, <<"params must be an array of 32-bit integers">>})
    end.

output_format(Req) ->
    case get(<<"output_format">>, Req) of
        not_found -> png;
        <<"png">> -> png;
        <<"raw">> -> raw;
        _ -> throw({bad_request, <<"output_format must be \"png\" or \"raw\"">>})
    end.

%% @doc Optional call settings: output_size, loop_budget, timeout (ms), workgroups
%% ([x, y, z]), entry, overrides ({name: number}).
call_options(Req) ->
    Sized0 = case get(<<"output_size">>, Req) of
                 not_found -> #{};
                 _ -> #{output_size => integer(Req, <<"output_size">>, 0)}
             end,
    Sized = case get(<<"loop_budget">>, Req) of
                not_found -> Sized0;
                _ -> Sized0#{loop_budget => integer(Req, <<"loop_budget">>, 0)}
            end,
    Timed = case get(<<"timeout">>, Req) of
                not_found -> Sized;
                _ -> Sized#{timeout => positive(integer(Req, <<"timeout">>, 0))}
            end,
    Grouped = case get(<<"workgroups">>, Req) of
                  not_found -> Timed;
                  [X, Y, Z] -> Timed#{workgroups => {X, Y, Z}};
                  _ -> throw({bad_request, <<"workgroups must be [x, y, z]">>})
              end,
    Entered = case get(<<"entry">>, Req) of
                  not_found -> Grouped;
                  Entry when is_binary(Entry) -> Grouped#{entry => Entry};
                  _ -> throw({bad_request, <<"entry must be a string">>})
              end,
    case overrides(Req) of
        none -> Entered;
        Overrides -> Entered#{overrides => Overrides}
    end.

%% overrides: an object name (or @id) => number or boolean, or JSON text of one from a plain
%% key. Whether the kernel declares the names and the values fit is libkem's to say.
overrides(Req) ->
    case get(<<"overrides">>, Req) of
        not_found -> none;
        Map when is_map(Map) -> override_map(Map);
        Bin when is_binary(Bin) ->
            case kem_hb:json_decode(Bin) of
                {ok, Map} when is_map(Map) -> override_map(Map);
                _ -> bad_overrides()
            end;
        _ -> bad_overrides()
    end.

override_map(Map) ->
    Valid = fun(K, V) -> is_binary(K) andalso (is_number(V) orelse is_boolean(V)) end,
    case lists:all(fun({K, V}) -> Valid(K, V) end, maps:to_list(Map)) of
        true -> Map;
        false -> bad_overrides()
    end.

bad_overrides() ->
    throw({bad_request, <<"overrides must be an object of name => number">>}).

positive(0) -> throw({bad_request, <<"timeout must be positive">>});
positive(N) -> N.
