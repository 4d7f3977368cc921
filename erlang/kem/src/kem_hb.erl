%%% @doc The few HyperBEAM functions dev_kem needs: hb_ao:get/4 and hb_json:encode/1 when the
%%% node is a HyperBEAM node, plain map lookups and kem_json otherwise (our own HTTP endpoint,
%%% tests). Decoding is kem_json's everywhere (it bounds what a request may cost).
-module(kem_hb).
-export([get/3, json_decode/1, json_encode/1, hyperbeam/0, plain_get/2]).

%% @doc Key of a message, or not_found. Never raises.
-spec get(binary(), term(), map()) -> term() | not_found.
get(Key, Msg, Opts) ->
    case hyperbeam() of
        true ->
            try hb_ao:get(Key, Msg, not_found, Opts)
            catch _:_ -> plain_get(Key, Msg)
            end;
        false ->
            plain_get(Key, Msg)
    end.

%% @doc Lookup in a plain map, with binary keys matched case-insensitively (HTTP header
%% names arrive in any case) and atom keys accepted.
-spec plain_get(binary(), term()) -> term() | not_found.
plain_get(Key, Msg) when is_binary(Key), is_map(Msg) ->
    case Msg of
        #{Key := V} -> V;
        _ ->
            Lower = lower(Key),
            Found = [V || {K, V} <- maps:to_list(Msg), normal_key(K) =:= Lower],
            case Found of
                [V | _] -> V;
                [] -> not_found
            end
    end;
plain_get(_, _) ->
    not_found.

normal_key(K) when is_binary(K) -> lower(K);
normal_key(K) when is_atom(K) -> lower(atom_to_binary(K, utf8));
normal_key(_) -> undefined.

%% ASCII only: keys are protocol names, and any bytes at all must be accepted.
lower(Bin) -> << <<(if C >= $A, C =< $Z -> C + 32; true -> C end)>> || <<C>> <= Bin >>.

%% kem_json on every node: on OTP 27 it is the same parser as hb_json (OTP's json), and it
%% checks the limits (kem_json_limits) that hb_json does not, which a HyperBEAM node's
%% requests need as much as those of KEM's own endpoint.
-spec json_decode(binary()) -> {ok, term()} | {error, term()}.
json_decode(Bin) -> kem_json:decode(Bin).

-spec json_encode(term()) -> binary().
json_encode(Term) ->
    case hyperbeam() of
        true ->
            try iolist_to_binary(hb_json:encode(Term))
            catch _:_ -> kem_json:encode(Term)
            end;
        false ->
            kem_json:encode(Term)
    end.

%% @doc Whether HyperBEAM's hb_ao and hb_json are present (or their test stand-ins); the
%% answer is looked up once per node.
-spec hyperbeam() -> boolean().
hyperbeam() ->
    case persistent_term:get({?MODULE, hyperbeam}, undefined) of
        undefined ->
            Present = lists:all(fun({M, F, A}) ->
                                        code:ensure_loaded(M) =:= {module, M} andalso
                                            erlang:function_exported(M, F, A)
                                end,
                                [{hb_ao, get, 4}, {hb_json, decode, 1}, {hb_json, encode, 1}]),
            persistent_term:put({?MODULE, hyperbeam}, Present),
            Present;
        Present ->
            Present
    end.
