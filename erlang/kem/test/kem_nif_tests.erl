%%% The proof of concept's API (kem_nif) and the image call, against the real NIF.
-module(kem_nif_tests).
-include_lib("eunit/include/eunit.hrl").

kem_nif_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     [fun poc_check/0, fun poc_errors/0, fun hello/0, fun adapter_info/0,
      fun png_roundtrip/0, fun png_errors/0,
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
