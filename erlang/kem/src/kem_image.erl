%%% @doc The image call of the proof of concept (execute_kernel_with_params): a kernel over
%%% RGBA8 pixels with params [width, height, ...] bound as a uniform, output of the same size.
%%%
%%% Input is a PNG or a JPEG (decoded in C++ with libpng or libjpeg-turbo to the samples as
%%% stored; params words 0 and 1 are set to its width and height) or raw RGBA8 whose width and
%%% height are params words 0 and 1 (or the width/height options). The output is a PNG, or the
%%% raw RGBA8 bytes with output_format => raw.
%%%
%%% A PNG's 8-byte signature always means a PNG. A JPEG's is 3 bytes, which raw pixels can
%%% begin with too (255, 216, 255): raw RGBA8 of exactly the given width x height wins there.
%%% Other image formats are named in the error instead of a misleading raw-size one.
-module(kem_image).
-export([execute/3, is_png/1, is_encoded/1]).

-define(PNG_SIGNATURE, 137, $P, $N, $G, 13, 10, 26, 10).

-type opts() :: #{params => binary() | [integer()], width => pos_integer(),
                  height => pos_integer(), output_format => png | raw,
                  timeout => pos_integer(), entry => term(), workgroups => term()}.

-spec is_png(term()) -> boolean().
is_png(<<?PNG_SIGNATURE, _/binary>>) -> true;
is_png(_) -> false.

%% @doc Whether Input is an encoded image KEM decodes (PNG or JPEG), not raw pixels.
-spec is_encoded(term()) -> boolean().
is_encoded(Input) -> is_png(Input) orelse is_jpeg(Input).

%% SOI, then the first marker's 0xFF.
is_jpeg(<<16#FF, 16#D8, 16#FF, _/binary>>) -> true;
is_jpeg(_) -> false.

%% Formats people send that KEM does not decode, by signature.
other_format(<<"GIF87a", _/binary>>) -> {true, "GIF"};
other_format(<<"GIF89a", _/binary>>) -> {true, "GIF"};
other_format(<<"RIFF", _:4/binary, "WEBP", _/binary>>) -> {true, "WebP"};
other_format(<<"II", 42, 0, _/binary>>) -> {true, "TIFF"};
other_format(<<"MM", 0, 42, _/binary>>) -> {true, "TIFF"};
other_format(<<"BM", _:12/binary, HeaderSize:32/little, _/binary>>)
  when HeaderSize =:= 12; HeaderSize =:= 40; HeaderSize =:= 108; HeaderSize =:= 124 -> {true, "BMP"};
other_format(<<0, 0, 0, _, "ftyp", Brand:4/binary, _/binary>>)
  when Brand =:= <<"avif">>; Brand =:= <<"heic">>; Brand =:= <<"mif1">> -> {true, "AVIF/HEIF"};
other_format(_) -> false.

-spec execute(kem_kernels:ref(), binary(), opts()) -> {ok, binary()} | kem_err:error().
execute(KernelRef, Input, Opts) when is_binary(Input), is_map(Opts) ->
    Format = maps:get(output_format, Opts, png),
    Passed = maps:with([timeout, entry, workgroups], Opts),
    case {lists:member(Format, [png, raw]), kem_request:params(maps:get(params, Opts, <<>>))} of
        {false, _} ->
            kem_err:new(invalid_argument, "output_format must be png or raw, not ~ts", [kem_err:term(Format)]);
        {_, {error, _} = Error} ->
            Error;
        {true, {ok, Params}} ->
            case pixels(Input, Params, Opts) of
                {ok, W, H, Pixels, Params1} ->
                    run(KernelRef, W, H, Pixels, Params1, Format, Passed);
                Error ->
                    Error
            end
    end;
execute(_, Input, Opts) when is_binary(Input) ->
    kem_err:new(invalid_argument, "options must be a map, not ~ts", [kem_err:term(Opts)]);
execute(_, Input, _) ->
    kem_err:new(invalid_argument, "the input must be a binary, not ~ts", [kem_err:term(Input)]).

run(KernelRef, W, H, Pixels, Params, Format, Passed) ->
    Opts = Passed#{params => Params, output_size => byte_size(Pixels)},
    case kem:execute(KernelRef, Pixels, Opts) of
        {ok, Out} when Format =:= raw -> {ok, Out};
        {ok, Out} -> nif(fun() -> kem_nif:nif_png_encode(W, H, Out) end);
        Error -> Error
    end.

pixels(Input, Params, Opts) ->
    Max = kem_config:value(max_input_bytes),
    case {is_png(Input), is_jpeg(Input) andalso not is_raw(Input, Params, Opts)} of
        {true, _} -> decoded(nif(fun() -> kem_nif:nif_png_decode(Input, Max) end), Params);
        {_, true} -> decoded(nif(fun() -> kem_nif:nif_jpeg_decode(Input, Max) end), Params);
        _ ->
            case {raw(Input, Params, Opts), other_format(Input)} of
                {{error, _}, {true, Name}} ->
                    kem_err:new(invalid_argument,
                                "~s images are not supported: send a PNG or a JPEG, or raw RGBA8 "
                                "pixels with their width and height in params words 0 and 1", [Name]);
                {Raw, _} ->
                    Raw
            end
    end.

decoded({ok, {W, H, Pixels}}, Params) -> {ok, W, H, Pixels, with_size(W, H, Params)};
decoded(Error, _) -> Error.

is_raw(Input, Params, Opts) -> element(1, raw(Input, Params, Opts)) =:= ok.

raw(Input, Params, Opts) ->
    {W0, H0} = case Params of
                   <<PW:32/little, PH:32/little, _/binary>> -> {PW, PH};
                   _ -> {undefined, undefined}
               end,
    W = maps:get(width, Opts, W0),
    H = maps:get(height, Opts, H0),
    if
        not (is_integer(W) andalso W > 0 andalso W =< 16#FFFFFFFF andalso
             is_integer(H) andalso H > 0 andalso H =< 16#FFFFFFFF) ->
            kem_err:new(invalid_argument,
                        "raw RGBA input needs its width and height (params words 0 and 1, "
                        "or the width and height options)");
        byte_size(Input) =/= W * H * 4 ->
            kem_err:new(invalid_argument, "the input is not a PNG or a JPEG, and as raw RGBA8 its "
                        "~b bytes are not ~bx~bx4", [byte_size(Input), W, H]);
        true ->
            {ok, W, H, Input, with_size(W, H, Params)}
    end.

%% Params words 0 and 1 carry the image's size, as the proof of concept's kernels expect.
with_size(W, H, <<_:64, Rest/binary>>) -> <<W:32/little, H:32/little, Rest/binary>>;
with_size(W, H, _) -> <<W:32/little, H:32/little>>.

nif(Fun) ->
    try Fun()
    catch error:_ -> kem_err:new(no_adapter, "kem_nif is not loaded (see the log)")
    end.
