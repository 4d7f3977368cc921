%%% @doc A minimal PNG writer and reader in Erlang, independent of libpng, to check the NIF's
%%% PNG decoding and encoding: encode/3 and decode/1 for 8-bit RGBA; encode/1 for every colour
%%% type and bit depth, palettes with tRNS, ancillary chunks (gAMA, sRGB, iCCP) and Adam7
%%% interlacing, with rgba8/1 the RGBA8 samples a decoder must give for it.
-module(kem_png_ref).
-export([encode/3, decode/1, encode/1, rgba8/1, chunk_types/1]).

-define(SIG, 137, $P, $N, $G, 13, 10, 26, 10).

encode(W, H, Rgba) when byte_size(Rgba) =:= W * H * 4 ->
    Rows = << <<0, Row/binary>> || <<Row:(W * 4)/binary>> <= Rgba >>,
    iolist_to_binary([<<?SIG>>,
                      chunk(<<"IHDR">>, <<W:32, H:32, 8, 6, 0, 0, 0>>),
                      chunk(<<"IDAT">>, zlib:compress(Rows)),
                      chunk(<<"IEND">>, <<>>)]).

%% @doc A PNG of Image, a map: width, height, color (gray | gray_alpha | rgb | rgba | palette),
%% depth (1, 2, 4, 8 or 16 as the colour type allows), pixels (a list of rows, each a list of
%% sample tuples: {G}, {G, A}, {R, G, B}, {R, G, B, A} or {Index}), and optionally palette
%% ([{R, G, B}]), trns (palette alphas), chunks ([{Type, Data}] before the image data) and
%% interlace (true: Adam7). Every scanline uses filter 0.
encode(#{width := W, height := H, color := Color, depth := Depth, pixels := Rows} = Image) ->
    Interlace = maps:get(interlace, Image, false),
    Grid = list_to_tuple([list_to_tuple(R) || R <- Rows]),
    At = fun(X, Y) -> element(X + 1, element(Y + 1, Grid)) end,
    Passes = case Interlace of
                 false -> [{0, 0, 1, 1}];
                 true -> [{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4},
                          {1, 0, 2, 2}, {0, 1, 1, 2}]
             end,
    Data = [[scanline([At(X, Y) || X <- lists:seq(X0, W - 1, DX)], Depth)
             || Y <- lists:seq(Y0, H - 1, DY), X0 < W]
            || {X0, Y0, DX, DY} <- Passes],
    Palette = case maps:get(palette, Image, []) of
                  [] -> [];
                  P -> [chunk(<<"PLTE">>, << <<R, G, B>> || {R, G, B} <- P >>)]
              end,
    Trns = case maps:get(trns, Image, []) of
               [] -> [];
               T -> [chunk(<<"tRNS">>, list_to_binary(T))]
           end,
    iolist_to_binary([<<?SIG>>,
                      chunk(<<"IHDR">>, <<W:32, H:32, Depth, (color_type(Color)),
                                          0, 0, (case Interlace of true -> 1; false -> 0 end)>>),
                      [chunk(Type, D) || {Type, D} <- maps:get(chunks, Image, [])],
                      Palette, Trns,
                      chunk(<<"IDAT">>, zlib:compress(Data)),
                      chunk(<<"IEND">>, <<>>)]).

color_type(gray) -> 0;
color_type(rgb) -> 2;
color_type(palette) -> 3;
color_type(gray_alpha) -> 4;
color_type(rgba) -> 6.

%% Filter byte 0, then the samples packed at Depth bits, the last byte padded with zero bits.
scanline(Pixels, Depth) ->
    Bits = << <<S:Depth>> || P <- Pixels, S <- tuple_to_list(P) >>,
    Pad = (8 - bit_size(Bits) rem 8) rem 8,
    <<0, Bits/bitstring, 0:Pad>>.

%% @doc The RGBA8 samples of encode/1's Image as stored (no gamma or colour conversion): grey
%% of 1, 2 or 4 bits scaled to 0..255, 16-bit samples cut to their high byte, palette entries
%% looked up with their tRNS alpha (255 without one), a missing alpha 255.
rgba8(#{color := Color, depth := Depth, pixels := Rows} = Image) ->
    Palette = list_to_tuple(maps:get(palette, Image, [])),
    Trns = maps:get(trns, Image, []),
    To8 = fun(V) when Depth =:= 16 -> V bsr 8;
             (V) when Depth =:= 8 -> V;
             (V) -> V * 255 div ((1 bsl Depth) - 1)
          end,
    << <<(case {Color, P} of
              {gray, {G}} -> <<(To8(G)):8, (To8(G)):8, (To8(G)):8, 255>>;
              {gray_alpha, {G, A}} -> <<(To8(G)):8, (To8(G)):8, (To8(G)):8, (To8(A)):8>>;
              {rgb, {R, G, B}} -> <<(To8(R)):8, (To8(G)):8, (To8(B)):8, 255>>;
              {rgba, {R, G, B, A}} -> <<(To8(R)):8, (To8(G)):8, (To8(B)):8, (To8(A)):8>>;
              {palette, {I}} ->
                  {R, G, B} = element(I + 1, Palette),
                  A = case I < length(Trns) of true -> lists:nth(I + 1, Trns); false -> 255 end,
                  <<R, G, B, A>>
          end)/binary>>
       || Row <- Rows, P <- Row >>.

%% @doc The chunk types of a PNG, in order.
chunk_types(<<?SIG, Chunks/binary>>) -> types(Chunks).

types(<<Len:32, Type:4/binary, _:Len/binary, _Crc:32, Rest/binary>>) -> [Type | types(Rest)];
types(<<>>) -> [].

chunk(Type, Data) ->
    [<<(byte_size(Data)):32>>, Type, Data, <<(erlang:crc32([Type, Data])):32>>].

%% @doc {W, H, Rgba} of an 8-bit RGBA, non-interlaced PNG.
decode(<<?SIG, Chunks/binary>>) ->
    {Header, Idat} = chunks(Chunks, undefined, []),
    <<W:32, H:32, 8, 6, 0, 0, 0>> = Header,
    Raw = zlib:uncompress(Idat),
    {W, H, unfilter(Raw, W * 4, binary:copy(<<0>>, W * 4), [])}.

chunks(<<Len:32, Type:4/binary, Data:Len/binary, _Crc:32, Rest/binary>>, Hdr, Idat) ->
    case Type of
        <<"IHDR">> -> chunks(Rest, Data, Idat);
        <<"IDAT">> -> chunks(Rest, Hdr, [Idat, Data]);
        <<"IEND">> -> {Hdr, iolist_to_binary(Idat)};
        _ -> chunks(Rest, Hdr, Idat)
    end.

unfilter(<<>>, _, _, Acc) -> iolist_to_binary(lists:reverse(Acc));
unfilter(<<Filter, Rest/binary>>, Stride, Prior, Acc) ->
    <<Line:Stride/binary, Next/binary>> = Rest,
    Row = row(Filter, Line, list_to_tuple(binary_to_list(Prior)), 1, []),
    unfilter(Next, Stride, Row, [Row | Acc]).

%% Byte I (1-based) of a row: A is the reconstructed byte 4 back (Done is reversed, so that is
%% its 4th element), B the prior row's byte, C the prior row's byte 4 back.
row(_, <<>>, _, _, Done) -> list_to_binary(lists:reverse(Done));
row(F, <<X, Xs/binary>>, Prior, I, Done) ->
    {A, C} = case I > 4 of
                 true -> {lists:nth(4, Done), element(I - 4, Prior)};
                 false -> {0, 0}
             end,
    V = (X + predict(F, A, element(I, Prior), C)) band 255,
    row(F, Xs, Prior, I + 1, [V | Done]).

predict(0, _, _, _) -> 0;
predict(1, A, _, _) -> A;
predict(2, _, B, _) -> B;
predict(3, A, B, _) -> (A + B) div 2;
predict(4, A, B, C) ->
    P = A + B - C,
    {PA, PB, PC} = {abs(P - A), abs(P - B), abs(P - C)},
    if PA =< PB, PA =< PC -> A; PB =< PC -> B; true -> C end.
