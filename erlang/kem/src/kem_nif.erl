%%% @doc The NIF over libkem, and the proof of concept's API on top of it.
%%%
%%% hello/0, adapter_info/0, execute_kernel/3 and execute_kernel_with_params/3 keep the proof
%%% of concept's names and arguments; they return the result itself (a binary) or, where the
%%% proof of concept crashed, {error, {Code, Message}}. The nif_* functions are the library's
%%% raw entry points, used by kem, kem_node, kem_config and kem_image; call those modules instead.
-module(kem_nif).
-export([hello/0, adapter_info/0, execute_kernel/3, execute_kernel_with_params/3]).
-export([nif_settings/0, nif_start/1, nif_started/0, nif_set_trust/2, nif_adapter_info/0, nif_stats/0,
         nif_simulate_device_loss/1, nif_execute/6, nif_cancel/1, nif_check/3, nif_resolve/2,
         nif_png_decode/2, nif_png_encode/3, nif_jpeg_decode/2]).
-on_load(init/0).

-define(NOT_LOADED, erlang:nif_error({not_loaded, ?MODULE})).

init() ->
    Path = filename:join(priv_dir(), "kem_nif"),
    case erlang:load_nif(Path, 0) of
        ok ->
            ok;
        {error, {Reason, Text}} = Error ->
            logger:error("kem_nif: cannot load ~ts: ~p ~ts", [Path, Reason, Text]),
            Error
    end.

%% code:priv_dir/1 needs the application in the code path; a bare ebin folder (erl -pa)
%% finds priv/ beside it.
priv_dir() ->
    case code:priv_dir(kem) of
        {error, bad_name} ->
            filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
        Dir ->
            Dir
    end.

%%% The proof of concept's API

hello() -> ?NOT_LOADED.

%% @doc The adapter's description as a JSON binary.
-spec adapter_info() -> binary() | {error, {atom(), binary()}}.
adapter_info() ->
    case kem:adapter_info_json() of
        {ok, Json} -> Json;
        Error -> Error
    end.

%% @doc Runs the kernel published under KernelId (an Arweave ID) on Input; the output has
%% byte_size(Input) * OutputSizeHint bytes.
-spec execute_kernel(binary() | string(), binary(), non_neg_integer()) ->
    binary() | {error, {atom(), binary()}}.
execute_kernel(KernelId, Input, OutputSizeHint) ->
    unwrap(kem:execute({id, KernelId}, Input, #{output_size_hint => OutputSizeHint})).

%% @doc The image call: Input is a PNG or a JPEG (the result is a PNG) or raw RGBA8 with
%% Params = <<Width:32/little, Height:32/little, ...>> (the result is raw RGBA8).
-spec execute_kernel_with_params(binary() | string(), binary(), binary()) ->
    binary() | {error, {atom(), binary()}}.
execute_kernel_with_params(KernelId, Input, Params) ->
    Format = case kem_image:is_encoded(Input) of true -> png; false -> raw end,
    unwrap(kem_image:execute({id, KernelId}, Input, #{params => Params, output_format => Format})).

unwrap({ok, Output}) -> Output;
unwrap({error, _} = Error) -> Error.

%%% NIF entry points (see c_src/)

nif_settings() -> ?NOT_LOADED.
nif_start(_Settings) -> ?NOT_LOADED.
nif_started() -> ?NOT_LOADED.
nif_set_trust(_UnmeteredIds, _UnmeteredOwners) -> ?NOT_LOADED.
nif_adapter_info() -> ?NOT_LOADED.
nif_stats() -> ?NOT_LOADED.
nif_simulate_device_loss(_Index) -> ?NOT_LOADED.
nif_execute(_Ref, _Kind, _Value, _Input, _Params, _Opts) -> ?NOT_LOADED.
nif_cancel(_Job) -> ?NOT_LOADED.
nif_check(_Kind, _Value, _Entry) -> ?NOT_LOADED.
nif_resolve(_Kind, _Value) -> ?NOT_LOADED.
nif_png_decode(_Png, _MaxBytes) -> ?NOT_LOADED.
nif_png_encode(_Width, _Height, _Rgba) -> ?NOT_LOADED.
nif_jpeg_decode(_Jpeg, _MaxBytes) -> ?NOT_LOADED.
