%%% The proof of concept's API (kem_nif) and the image call, against the real NIF.
-module(kem_nif_tests).
-include_lib("eunit/include/eunit.hrl").

kem_nif_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     [fun poc_check/0, fun poc_errors/0, fun hello/0, fun adapter_info/0,
      fun png_roundtrip/0, fun png_stored_samples/0, fun png_issue_examples/0,
      fun png_written_without_colour_chunks/0, fun png_errors/0,
      fun jpeg_against_an_independent_decoder/0, fun jpeg_exif_orientation_is_not_applied/0,
      fun jpeg_errors/0, {timeout, 60, fun jpeg_through_the_image_call/0},
      fun other_image_formats_are_named/0,
      {timeout, 60, fun pixelize_png/0}, {timeout, 60, fun pixelize_raw/0}, fun image_errors/0]}.

%% The proof of concept's own check.
poc_check() ->
    ?assertEqual(<<2, 6, 10, 14>>,
                 kem_nif:execute_kernel(<<"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg">>, <<1, 3, 5, 7>>, 1)),
    ?assertEqual(<<2, 6, 10, 14>>,
                 kem_nif:execute_kernel("btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg", <<1, 3, 5, 7>>, 1)).

poc_errors() ->
    Id = kem_test_env:poc_id(),
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:execute_kernel(Id, <<1, 3, 5, 7>>, 0)),
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:execute_kernel(Id, <<>>, 1)),
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:execute_kernel(Id, [1, 2], 1)),
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:execute_kernel(42, <<1>>, 1)),
    ?assertMatch({error, {not_found, _}},
                 kem_nif:execute_kernel(<<"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE">>, <<1>>, 1)),
    ?assertMatch({error, {limit_exceeded, _}}, kem_nif:execute_kernel(Id, <<1, 3, 5, 7>>, 1 bsl 40)).

hello() ->
    ?assertEqual(<<"Hello world!">>, kem_nif:hello()).

adapter_info() ->
    Json = kem_nif:adapter_info(),
    ?assert(is_binary(Json)),
    {ok, Info} = kem_json:decode(Json),
    % lavapipe here (KEM_ADAPTER may pick another; the keys are the same).
    ?assertMatch(#{<<"name">> := N, <<"backend">> := _, <<"limits">> := #{}} when is_binary(N), Info),
    ?assertEqual({ok, Info}, kem:adapter_info()).

png_roundtrip() ->
    {W, H} = {7, 5},
    Rgba = crypto:strong_rand_bytes(W * H * 4),
    Png = kem_png_ref:encode(W, H, Rgba),
    ?assertEqual({ok, {W, H, Rgba}}, kem_nif:nif_png_decode(Png, 1 bsl 20)),
    {ok, Encoded} = kem_nif:nif_png_encode(W, H, Rgba),
    ?assertEqual({W, H, Rgba}, kem_png_ref:decode(Encoded)).

%% Every colour type and bit depth, palettes with tRNS, gamma and colour-space chunks, Adam7:
%% the kernel must see the samples stored in the file (kem_png_ref:rgba8/1), never converted.
png_stored_samples() ->
    rand:seed(exsss, {12, 34, 56}),
    Gamma1 = {<<"gAMA">>, <<100000:32>>},
    Gamma22 = {<<"gAMA">>, <<45455:32>>},
    Srgb = {<<"sRGB">>, <<0>>},
    Iccp = {<<"iCCP">>, <<"test profile", 0, 0, (zlib:compress(binary:copy(<<7>>, 300)))/binary>>},
    Cases = [{gray, 1, []}, {gray, 2, []}, {gray, 4, [Gamma22]}, {gray, 8, [Srgb]},
             {gray, 16, [Gamma1]}, {gray_alpha, 8, []}, {gray_alpha, 16, [Iccp]},
             {rgb, 8, [Gamma1]}, {rgb, 16, [Gamma22, Srgb]}, {rgba, 8, [Iccp]}, {rgba, 16, []},
             {palette, 1, []}, {palette, 4, [Gamma22]}, {palette, 8, [Srgb]}],
    lists:foreach(
      fun({Color, Depth, Chunks}) ->
          lists:foreach(
            fun(Interlace) ->
                Image = random_image(Color, Depth, 11, 7),
                Png = kem_png_ref:encode(Image#{chunks => Chunks, interlace => Interlace}),
                ?assertEqual({{Color, Depth, Interlace}, {ok, {11, 7, kem_png_ref:rgba8(Image)}}},
                             {{Color, Depth, Interlace}, kem_nif:nif_png_decode(Png, 1 bsl 20)})
            end, [false, true])
      end, Cases).

random_image(Color, Depth, W, H) ->
    Max = (1 bsl Depth) - 1,
    S = fun() -> rand:uniform(Max + 1) - 1 end,
    {Pixel, Extra} =
        case Color of
            gray -> {fun() -> {S()} end, #{}};
            gray_alpha -> {fun() -> {S(), S()} end, #{}};
            rgb -> {fun() -> {S(), S(), S()} end, #{}};
            rgba -> {fun() -> {S(), S(), S(), S()} end, #{}};
            palette ->
                Entries = [{rand:uniform(256) - 1, rand:uniform(256) - 1, rand:uniform(256) - 1}
                           || _ <- lists:seq(0, Max)],
                % Alphas for the first half of the entries only: the rest are opaque.
                Trns = [rand:uniform(256) - 1 || _ <- lists:seq(0, Max div 2)],
                {fun() -> {S()} end, #{palette => Entries, trns => Trns}}
        end,
    Extra#{width => W, height => H, color => Color, depth => Depth,
           pixels => [[Pixel() || _ <- lists:seq(1, W)] || _ <- lists:seq(1, H)]}.

%% The values of issue 15, as the proof of concept's decoder gives them: gamma 1.0 leaves 8-bit
%% samples alone (the old decoder turned 1, 18, 64, 127 into 21, 76, 136, 186), and a 16-bit
%% sample keeps its high byte (0x1234 -> 18, 0x0080 -> 0; it gave 76 and 14).
png_issue_examples() ->
    Rgb = kem_png_ref:encode(#{width => 4, height => 1, color => rgb, depth => 8,
                               chunks => [{<<"gAMA">>, <<100000:32>>}],
                               pixels => [[{1, 1, 1}, {18, 18, 18}, {64, 64, 64}, {127, 127, 127}]]}),
    ?assertEqual({ok, {4, 1, <<1, 1, 1, 255, 18, 18, 18, 255, 64, 64, 64, 255, 127, 127, 127, 255>>}},
                 kem_nif:nif_png_decode(Rgb, 1 bsl 20)),
    Deep = kem_png_ref:encode(#{width => 2, height => 1, color => gray, depth => 16,
                                pixels => [[{16#1234}, {16#0080}]]}),
    ?assertEqual({ok, {2, 1, <<18, 18, 18, 255, 0, 0, 0, 255>>}}, kem_nif:nif_png_decode(Deep, 1 bsl 20)).

%% The output PNG has no chunk that would make a viewer change its pixels: libpng's writer adds
%% one sRGB chunk, which says the samples are sRGB, what viewers assume of an untagged image too;
%% no gAMA, iCCP or cHRM, which would have them converted.
png_written_without_colour_chunks() ->
    {ok, Png} = kem_nif:nif_png_encode(3, 2, crypto:strong_rand_bytes(24)),
    ?assertEqual([<<"IHDR">>, <<"sRGB">>, <<"IDAT">>, <<"IEND">>], kem_png_ref:chunk_types(Png)).

%% JPEG: libjpeg-turbo's pixels against jpeg-js's (test/data/make_jpeg_fixture.js made both the
%% file and the reference). Decoders differ in IDCT and colour rounding, so the bound is the one
%% measured between two correct decoders (at most 3, 0.55 on average); a wrong colour order,
%% chroma or orientation is off by tens.
jpeg_against_an_independent_decoder() ->
    {Jpeg, Reference} = jpeg_fixture(),
    {ok, {37, 23, Pixels}} = kem_nif:nif_jpeg_decode(Jpeg, 1 bsl 20),
    assert_close(Reference, Pixels).

jpeg_fixture() ->
    Dir = filename:join([kem_test_env:repo_dir(), "erlang", "kem", "test", "data"]),
    {ok, Jpeg} = file:read_file(filename:join(Dir, "gradient-37x23.jpg")),
    {ok, Reference} = file:read_file(filename:join(Dir, "gradient-37x23.rgba")),
    {Jpeg, Reference}.

assert_close(Reference, Pixels) ->
    ?assertEqual(byte_size(Reference), byte_size(Pixels)),
    Diffs = [abs(A - B) || {A, B} <- lists:zip(binary_to_list(Reference), binary_to_list(Pixels))],
    ?assert(lists:max(Diffs) =< 3),
    ?assert(lists:sum(Diffs) / length(Diffs) =< 1.0),
    % Alpha is opaque everywhere.
    ?assertEqual([255], lists:usort([A || <<_, _, _, A>> <= Pixels])).

%% An EXIF orientation (6: rotate 90 degrees) changes nothing: pixels as stored, as the proof of
%% concept's decoder (Rust's image crate) gives them.
jpeg_exif_orientation_is_not_applied() ->
    {<<16#FF, 16#D8, Rest/binary>> = Jpeg, _} = jpeg_fixture(),
    Tiff = <<"II", 42:16/little, 8:32/little, 1:16/little,
             16#0112:16/little, 3:16/little, 1:32/little, 6:16/little, 0:16, 0:32>>,
    Exif = <<"Exif", 0, 0, Tiff/binary>>,
    Rotated = <<16#FF, 16#D8, 16#FF, 16#E1, (byte_size(Exif) + 2):16, Exif/binary, Rest/binary>>,
    {ok, Plain} = kem_nif:nif_jpeg_decode(Jpeg, 1 bsl 20),
    ?assertEqual({ok, Plain}, kem_nif:nif_jpeg_decode(Rotated, 1 bsl 20)).

jpeg_errors() ->
    {Jpeg, _} = jpeg_fixture(),
    ?assertMatch({error, {limit_exceeded, _}}, kem_nif:nif_jpeg_decode(Jpeg, 37 * 23 * 4 - 1)),
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:nif_jpeg_decode(<<16#FF, 16#D8, 16#FF>>, 1000)),
    <<Head:200/binary, _/binary>> = Jpeg,
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:nif_jpeg_decode(Head, 1 bsl 20)),
    ?assertError(badarg, kem_nif:nif_jpeg_decode(not_a_binary, 1000)).

%% A JPEG through the proof of concept's image call: an identity kernel hands back the pixels
%% the kernel saw, and they are the independent decoder's (within its rounding); width and
%% height reach params words 0 and 1.
jpeg_through_the_image_call() ->
    {Jpeg, Reference} = jpeg_fixture(),
    Identity = {source, <<"
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
struct Params { width: u32, height: u32 }
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < params.width && id.y < params.height) {
    let i = id.y * params.width + id.x;
    output[i] = input[i];
  }
}
">>},
    {ok, Raw} = kem_image:execute(Identity, Jpeg, #{params => [0, 0], output_format => raw}),
    assert_close(Reference, Raw),
    {ok, Png} = kem_image:execute(Identity, Jpeg, #{params => [0, 0]}),
    ?assertEqual({37, 23, Raw}, kem_png_ref:decode(Png)).

%% GIF, WebP, TIFF and BMP get an error that names them and what is supported, not a raw-size
%% complaint; raw pixels that happen to start like a JPEG are still raw pixels.
other_image_formats_are_named() ->
    Kernel = {source, kem_test_env:kernel("pixelize.wgsl")},
    lists:foreach(
      fun({Name, Bytes}) ->
          {error, {invalid_argument, Message}} = kem_image:execute(Kernel, Bytes, #{params => [0, 0, 2]}),
          ?assertNotEqual(nomatch, binary:match(Message, [list_to_binary(Name)])),
          ?assertNotEqual(nomatch, binary:match(Message, <<"PNG or a JPEG">>))
      end,
      [{"GIF", <<"GIF89a", 2:16/little, 2:16/little, 0:80>>},
       {"WebP", <<"RIFF", 30:32/little, "WEBPVP8 ", 0:128>>},
       {"TIFF", <<"II", 42, 0, 8:32/little, 0:64>>},
       {"BMP", <<"BM", 70:32/little, 0:32, 54:32/little, 40:32/little, 0:256>>}]),
    Magenta = binary:copy(<<255, 216, 255, 7>>, 4),
    ?assertEqual({ok, kem_ref:pixelize(Magenta, 2, 2, 2)},
                 kem_image:execute(Kernel, Magenta, #{params => [2, 2, 2], output_format => raw})).

png_errors() ->
    Png = kem_png_ref:encode(4, 4, binary:copy(<<1, 2, 3, 4>>, 16)),
    ?assertMatch({error, {limit_exceeded, _}}, kem_nif:nif_png_decode(Png, 63)),
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:nif_png_decode(<<"not a png">>, 1000)),
    <<Head:40/binary, _/binary>> = Png,
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:nif_png_decode(Head, 1000)),
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:nif_png_encode(4, 4, <<1, 2, 3>>)),
    ?assertMatch({error, {invalid_argument, _}}, kem_nif:nif_png_encode(0, 0, <<>>)),
    ?assertError(badarg, kem_nif:nif_png_encode(-1, 4, <<>>)).

pixelize() -> {source, kem_test_env:kernel("pixelize.wgsl")}.

%% PNG in, PNG out, through the proof of concept's call; params [width, height, block] with
%% width and height taken from the PNG.
pixelize_png() ->
    {W, H, Block} = {13, 9, 4},
    Rgba = crypto:strong_rand_bytes(W * H * 4),
    Expected = kem_ref:pixelize(Rgba, W, H, Block),
    {ok, Png} = kem_image:execute(pixelize(), kem_png_ref:encode(W, H, Rgba), #{params => [0, 0, Block]}),
    ?assertEqual({W, H, Expected}, kem_png_ref:decode(Png)),
    {ok, Raw} = kem_image:execute(pixelize(), kem_png_ref:encode(W, H, Rgba),
                                  #{params => [Block, Block, Block], output_format => raw}),
    ?assertEqual(Expected, Raw).

%% Raw RGBA in (width and height in params), raw out.
pixelize_raw() ->
    {W, H, Block} = {10, 6, 3},
    Rgba = crypto:strong_rand_bytes(W * H * 4),
    Params = <<W:32/little, H:32/little, Block:32/little>>,
    Expected = kem_ref:pixelize(Rgba, W, H, Block),
    {ok, Raw} = kem_image:execute(pixelize(), Rgba, #{params => Params, output_format => raw}),
    ?assertEqual(Expected, Raw),
    {ok, Png} = kem_image:execute(pixelize(), Rgba, #{params => Params}),
    ?assertEqual({W, H, Expected}, kem_png_ref:decode(Png)).

image_errors() ->
    P = pixelize(),
    ?assertMatch({error, {invalid_argument, _}}, kem_image:execute(P, <<1, 2, 3, 4>>, #{})),
    ?assertMatch({error, {invalid_argument, _}},
                 kem_image:execute(P, <<1, 2, 3, 4>>, #{params => [2, 2, 1]})),
    ?assertMatch({error, {invalid_argument, _}},
                 kem_image:execute(P, <<1, 2, 3, 4>>, #{params => [1, 1, 1], output_format => gif})),
    ?assertMatch({error, {invalid_argument, _}}, kem_image:execute(P, <<137, "PNG", 13, 10, 26, 10, 0>>, #{})),
    ?assertMatch({error, {invalid_argument, _}}, kem_image:execute(P, nope, #{})),
    ?assertMatch({error, {invalid_argument, _}}, kem_image:execute(P, <<1, 2, 3, 4>>, nope)),
    ?assertMatch({error, {invalid_argument, _}},
                 kem_nif:execute_kernel_with_params(kem_test_env:poc_id(), <<1, 2, 3>>, <<>>)).
