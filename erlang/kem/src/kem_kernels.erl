%%% @doc Kernel references in the form kem_nif takes them: {id, ArweaveId}, {source, Wgsl} or
%%% {file, Path}, each with a binary. Resolving them (pins, caches, gateways, verification,
%%% size limits) is the service's job, inside the NIF.
-module(kem_kernels).
-export([ref/1]).

-export_type([ref/0]).
-type ref() :: {id, binary() | string()} | {source, binary() | string()} | {file, file:name_all()}.

-spec ref(term()) -> {ok, {id | source | file, binary()}} | kem_err:error().
ref({Kind, Value}) when Kind =:= id; Kind =:= source; Kind =:= file ->
    case text(Value) of
        {ok, B} -> {ok, {Kind, B}};
        error -> kem_err:new(invalid_argument, "{~ts, _}: not text: ~ts", [Kind, kem_err:term(Value)])
    end;
ref(Other) ->
    kem_err:new(invalid_argument, "a kernel is {id, ArweaveId}, {source, Wgsl} or {file, Path}, not ~ts",
                [kem_err:term(Other)]).

%% Characters (a string, an atom for a file name, or any chardata) as UTF-8; error otherwise.
text(A) when is_atom(A) -> {ok, atom_to_binary(A, utf8)};
text(Chars) ->
    try unicode:characters_to_binary(Chars) of
        B when is_binary(B) -> {ok, B};
        _ -> error
    catch error:badarg -> error
    end.
