%%% @doc JSON for KEM through a well-kept parser: OTP's json module where the release has it
%%% (OTP 27 and later: HyperBEAM's nodes), otherwise jiffy (Debian's erlang-jiffy, installed
%%% by scripts/setup.sh). Text is checked against kem_json_limits before it is parsed, so no
%%% request can make decoding super-linear (issue 14).
%%%
%%% Decoding gives maps with binary keys (the last of duplicate keys wins), lists, binaries,
%%% integers, floats, true, false and null. decode/1 raises only when the node has no JSON
%%% library at all (backend/0); malformed text is
%%% {error, {invalid_json, Offset}} (Offset where the parser stopped, where it says so: jiffy
%%% does, OTP's json does not, and 0 is given), text over a limit {error, {json_limit, Message}}.
%%%
%%% Encoding takes maps (atom, binary, string or integer keys), lists, binaries, integers,
%%% floats, true, false, null and other atoms (as strings); anything else raises badarg. Keys
%%% come out sorted with either backend; bytes that are not UTF-8 are read as Latin-1. Floats
%%% are the backend's shortest round-trip text, which differs in spelling only (jiffy: 1e+22
%%% and 0.00001, OTP: 1.0e22 and 1.0e-5; jiffy writes -0.0 as 0.0). No reply of KEM's has a
%%% float today.
-module(kem_json).
-export([encode/1, decode/1, decode/2, backend/0]).

%%% Decoding

-spec decode(binary()) -> {ok, term()} | {error, {invalid_json, non_neg_integer()} | {json_limit, binary()}}.
decode(Bin) -> decode(Bin, kem_json_limits:defaults()).

%% @doc As decode/1 under other limits (see kem_json_limits:defaults/0 for the keys).
decode(Bin, Limits) when is_binary(Bin), is_map(Limits) ->
    Defaults = kem_json_limits:defaults(),
    % Only the known limits, as byte counts; anything else keeps the default.
    Given = maps:filter(fun(K, V) -> is_map_key(K, Defaults) andalso is_integer(V) andalso V >= 0 end, Limits),
    case kem_json_limits:check(Bin, maps:merge(Defaults, Given)) of
        ok -> parse(backend(), Bin);
        {error, Message} -> {error, {json_limit, Message}}
    end;
decode(_, _) ->
    {error, {invalid_json, 0}}.

parse(json, Bin) ->
    try {ok, json:decode(Bin)}
    catch error:_ -> {error, {invalid_json, 0}}
    end;
parse(jiffy, Bin) ->
    try {ok, jiffy:decode(Bin, [return_maps])}
    catch
        % jiffy's positions count from 1.
        error:{Pos, _} when is_integer(Pos), Pos > 0 -> {error, {invalid_json, Pos - 1}};
        error:_ -> {error, {invalid_json, 0}};
        throw:_ -> {error, {invalid_json, 0}}
    end.

%%% Encoding

-spec encode(term()) -> binary().
encode(Term) ->
    Plain = try plain(Term)
            catch error:_ -> erlang:error(badarg)  % improper lists, keys that collide...
            end,
    iolist_to_binary(emit(backend(), Plain)).

%% Both backends get one form: objects as {[{BinaryKey, Value}]} sorted by key (jiffy's
%% proplist form) and strings as UTF-8 binaries.
emit(jiffy, Plain) -> jiffy:encode(Plain);
emit(json, Plain) -> json:encode(Plain, fun json_encoder/2).

json_encoder({Fields}, Encode) when is_list(Fields) -> json:encode_key_value_list(Fields, Encode);
json_encoder(Other, Encode) -> json:encode_value(Other, Encode).

plain(true) -> true;
plain(false) -> false;
plain(null) -> null;
plain(A) when is_atom(A) -> atom_to_binary(A, utf8);
plain(B) when is_binary(B) -> utf8(B);
plain(N) when is_integer(N); is_float(N) -> N;
plain(M) when is_map(M) ->
    Fields = lists:keysort(1, [{key(K), plain(V)} || {K, V} <- maps:to_list(M)]),
    ok = distinct(Fields),
    {Fields};
plain(L) when is_list(L) -> [plain(E) || E <- L];
plain(_) -> erlang:error(badarg).

key(K) when is_binary(K) -> utf8(K);
key(K) when is_atom(K) -> atom_to_binary(K, utf8);
key(K) when is_list(K) -> unicode:characters_to_binary(K);
key(K) when is_integer(K) -> integer_to_binary(K);
key(_) -> erlang:error(badarg).

%% Two keys that spell the same (the atom a and <<"a">>) would make an object with a
%% duplicate name.
distinct([{K, _}, {K, _} | _]) -> erlang:error(badarg);
distinct([_ | Rest]) -> distinct(Rest);
distinct([]) -> ok.

%% Text that is not UTF-8 (a message quoting raw bytes) is read as Latin-1, so the result is
%% always valid JSON.
utf8(B) ->
    case unicode:characters_to_binary(B) of
        B -> B;
        _ -> unicode:characters_to_binary(B, latin1)
    end.

%%% The backend

%% @doc json where OTP has it, else jiffy; looked up once per node. A node with neither
%% (OTP 25 without Debian's erlang-jiffy) raises no_json_library, which dev_kem answers as a
%% 500 naming it, rather than calling every body malformed.
-spec backend() -> json | jiffy.
backend() ->
    case persistent_term:get({?MODULE, backend}, undefined) of
        undefined ->
            Backend = find_backend(),
            persistent_term:put({?MODULE, backend}, Backend),
            Backend;
        Backend ->
            Backend
    end.

find_backend() ->
    Has = fun(M, F, A) -> code:ensure_loaded(M) =:= {module, M} andalso erlang:function_exported(M, F, A) end,
    case Has(json, encode_key_value_list, 2) of
        true -> json;
        false ->
            case Has(jiffy, decode, 2) of
                true -> jiffy;
                false -> erlang:error({no_json_library, <<"neither OTP's json (OTP 27) nor jiffy "
                                                          "(Debian's erlang-jiffy: scripts/setup.sh)">>})
            end
    end.
