%%% @doc Checks the options of kem:execute/3 and turns them into what kem_nif:nif_execute/6
%%% takes. Every malformed option is {error, {invalid_argument, Message}}; semantic limits
%%% (hint 0, oversized output...) are left to libkem, which knows the adapter's limits.
-module(kem_request).
-export([options/1, params/1]).

-define(U32_MAX, 16#FFFFFFFF).
-define(U64_MAX, 16#FFFFFFFFFFFFFFFF).
-define(MAX_TIMEOUT, 86400000).

-type nif_opts() :: #{atom() => term()}.

%% @doc {ok, NifOpts, Params, Timeout | undefined} or an error.
-spec options(term()) ->
    {ok, nif_opts(), binary(), pos_integer() | undefined} | kem_err:error().
options(Opts) when is_map(Opts) ->
    try maps:fold(fun option/3, {#{}, <<>>, undefined}, Opts) of
        {NifOpts, Params, Timeout} -> {ok, NifOpts, Params, Timeout}
    catch
        throw:{invalid, Message} -> kem_err:new(invalid_argument, Message)
    end;
options(Opts) when is_list(Opts) ->
    case proper_list(Opts) andalso lists:all(fun(O) -> is_tuple(O) andalso tuple_size(O) =:= 2 end, Opts) of
        true -> options(maps:from_list(Opts));
        false -> kem_err:new(invalid_argument, "options must be a map or a property list")
    end;
options(Other) ->
    kem_err:new(invalid_argument, ["options must be a map, not ", kem_err:term(Other)]).

option(output_size_hint, V, {N, P, T}) -> {N#{output_size_hint => u64(output_size_hint, V)}, P, T};
option(output_size, V, {N, P, T}) -> {N#{output_size => u64(output_size, V)}, P, T};
option(entry, V, {N, P, T}) -> {N#{entry => entry(V)}, P, T};
option(loop_budget, V, {N, P, T}) -> {N#{loop_budget => u64(loop_budget, V)}, P, T};
option(workgroups, V, {N, P, T}) -> {N#{workgroups => workgroups(V)}, P, T};
option(overrides, V, {N, P, T}) -> {N#{overrides => overrides(V)}, P, T};
option(timeout, V, {N, P, _}) when is_integer(V), V > 0, V =< ?MAX_TIMEOUT ->
    {N#{timeout => V}, P, V};
option(timeout, V, _) ->
    invalid("timeout must be milliseconds between 1 and ~b, not ~ts", [?MAX_TIMEOUT, kem_err:term(V)]);
option(params, V, {N, _, T}) ->
    case params(V) of
        {ok, P} -> {N, P, T};
        {error, {_, Message}} -> throw({invalid, Message})
    end;
option(Key, _, _) ->
    invalid("unknown option ~ts (known: output_size_hint, output_size, params, workgroups, "
            "entry, timeout, loop_budget, overrides)", [kem_err:term(Key)]).

%% @doc Params as bytes: a binary whose size is a multiple of 4, or a list of 32-bit integers
%% (unsigned, or negative ones as two's complement), packed little-endian.
-spec params(term()) -> {ok, binary()} | kem_err:error().
params(B) when is_binary(B), byte_size(B) rem 4 =:= 0 -> {ok, B};
params(B) when is_binary(B) ->
    kem_err:new(invalid_argument, "params: ~b bytes is not a multiple of 4", [byte_size(B)]);
params(L) when is_list(L) ->
    case proper_list(L) andalso lists:all(fun is_word/1, L) of
        true -> {ok, << <<(W band ?U32_MAX):32/little>> || W <- L >>};
        false -> kem_err:new(invalid_argument, "params: a list of 32-bit integers expected")
    end;
params(Other) ->
    kem_err:new(invalid_argument, "params: a binary or a list of 32-bit integers, not ~ts",
                [kem_err:term(Other)]).

proper_list([_ | T]) -> proper_list(T);
proper_list([]) -> true;
proper_list(_) -> false.

is_word(W) -> is_integer(W) andalso W >= -16#80000000 andalso W =< ?U32_MAX.

u64(_, V) when is_integer(V), V >= 0, V =< ?U64_MAX -> V;
u64(Key, V) -> invalid("~ts must be a non-negative integer, not ~ts", [Key, kem_err:term(V)]).

entry(V) when is_atom(V) -> entry(atom_to_binary(V, utf8));
entry(V) when is_list(V) ->
    try unicode:characters_to_binary(V) of
        B when is_binary(B) -> entry(B);
        _ -> invalid("entry must be a name, not ~ts", [kem_err:term(V)])
    catch error:badarg -> invalid("entry must be a name, not ~ts", [kem_err:term(V)])
    end;
entry(V) when is_binary(V), byte_size(V) > 0, byte_size(V) =< 1024 -> V;
entry(V) -> invalid("entry must be a name, not ~ts", [kem_err:term(V)]).

workgroups(X) when is_integer(X) -> workgroups({X, 1, 1});
workgroups([X, Y, Z]) -> workgroups({X, Y, Z});
workgroups({X, Y, Z} = W) when is_integer(X), is_integer(Y), is_integer(Z),
                               X >= 0, Y >= 0, Z >= 0,
                               X =< ?U32_MAX, Y =< ?U32_MAX, Z =< ?U32_MAX ->
    W;
workgroups(V) -> invalid("workgroups must be {X, Y, Z} of 32-bit counts, not ~ts", [kem_err:term(V)]).

%% Override constants: #{Name => Number}, Name an atom, a binary or a string (the declared name)
%% or an integer (the @id), Number an integer, a float or a boolean. Sent to the NIF as
%% [{Binary, Float}]; whether the kernel declares them, and whether the values fit their types,
%% is libkem's to say.
overrides(M) when is_map(M) -> [override_entry(K, V) || {K, V} <- maps:to_list(M)];
overrides(V) -> invalid("overrides must be a map of name => number, not ~ts", [kem_err:term(V)]).

override_entry(K, V) -> {override_key(K), override_value(K, V)}.

override_key(K) when is_atom(K) -> override_key(atom_to_binary(K, utf8));
override_key(K) when is_integer(K), K >= 0 -> integer_to_binary(K);
override_key(K) when is_list(K) ->
    try unicode:characters_to_binary(K) of
        B when is_binary(B) -> override_key(B);
        _ -> invalid("overrides: ~ts is not a name", [kem_err:term(K)])
    catch error:badarg -> invalid("overrides: ~ts is not a name", [kem_err:term(K)])
    end;
override_key(K) when is_binary(K), byte_size(K) > 0, byte_size(K) =< 1024 -> K;
override_key(K) -> invalid("overrides: ~ts is not a name", [kem_err:term(K)]).

override_value(_, true) -> 1.0;
override_value(_, false) -> 0.0;
override_value(_, V) when is_float(V) -> V;
override_value(K, V) when is_integer(V) ->
    try float(V)
    catch error:badarg -> invalid("overrides: ~ts => ~ts is too large", [kem_err:term(K), kem_err:term(V)])
    end;
override_value(K, V) ->
    invalid("overrides: ~ts => ~ts is not a number", [kem_err:term(K), kem_err:term(V)]).

-spec invalid(io:format(), [term()]) -> no_return().
invalid(Format, Args) -> throw({invalid, io_lib:format(Format, Args)}).
