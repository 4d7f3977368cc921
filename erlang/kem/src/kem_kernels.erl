%%% @doc Kernel references to WGSL source: {source, Wgsl} as given, {file, Path} read here,
%%% {id, ArweaveId} through the node's kernel store (pins, caches, gateways, verification).
-module(kem_kernels).
-export([source/1]).

-export_type([ref/0]).
-type ref() :: {id, binary() | string()} | {source, binary() | string()} | {file, file:name_all()}.

-spec source(term()) -> {ok, binary()} | kem_err:error().
source({source, Wgsl}) when is_binary(Wgsl) -> sized(Wgsl);
source({source, Wgsl}) when is_list(Wgsl) ->
    case text(Wgsl) of
        {ok, B} -> sized(B);
        error -> kem_err:new(invalid_argument, "{source, Wgsl}: Wgsl is not text")
    end;
source({file, Path}) when is_binary(Path); is_list(Path) ->
    case read(Path) of
        {ok, Bin} -> sized(Bin);
        {error, enoent} -> kem_err:new(not_found, "no kernel file ~ts", [kem_err:term(Path)]);
        {error, Reason} -> kem_err:new(io_error, "cannot read ~ts: ~p", [kem_err:term(Path), Reason])
    end;
source({id, Id}) when is_list(Id) ->
    case text(Id) of
        {ok, B} -> source({id, B});
        error -> kem_err:new(invalid_argument, "{id, Id}: Id is not text")
    end;
source({id, Id}) when is_binary(Id) ->
    case kem_node:ensure_store() of
        ok -> resolve(Id);
        Error -> Error
    end;
source(Other) ->
    kem_err:new(invalid_argument, "a kernel is {id, ArweaveId}, {source, Wgsl} or {file, Path}, not ~ts",
                [kem_err:term(Other)]).

resolve(Id) ->
    try kem_nif:nif_resolve(id, Id) of
        {ok, #{source := Source}} -> {ok, Source};
        {error, _} = Error -> Error
    catch
        error:badarg -> kem_err:new(invalid_argument, "malformed kernel ID")
    end.

%% Characters (a string, or any chardata) as UTF-8; error for anything else.
text(Chars) ->
    try unicode:characters_to_binary(Chars) of
        B when is_binary(B) -> {ok, B};
        _ -> error
    catch error:badarg -> error
    end.

read(Path) ->
    try file:read_file(Path)
    catch error:_ -> {error, badarg}
    end.

sized(Source) ->
    Max = kem_config:value(max_source_bytes),
    case byte_size(Source) of
        0 -> kem_err:new(invalid_argument, "the kernel source is empty");
        N when N > Max -> kem_err:new(limit_exceeded, "the kernel source has ~b bytes, over max_source_bytes (~b)", [N, Max]);
        _ -> {ok, Source}
    end.
