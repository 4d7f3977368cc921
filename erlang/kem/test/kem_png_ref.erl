%%% @doc A minimal PNG writer and reader in Erlang (8-bit RGBA, no interlace), independent of
%%% libpng, to check the NIF's PNG decoding and encoding.
-module(kem_png_ref).
-export([encode/3, decode/1]).

-define(SIG, 137, $P, $N, $G, 13, 10, 26, 10).

encode(W, H, Rgba) when byte_size(Rgba) =:= W * H * 4 ->
    Rows = << <<0, Row/binary>> || <<Row:(W * 4)/binary>> <= Rgba >>,
    iolist_to_binary([<<?SIG>>,
                      chunk(<<"IHDR">>, <<W:32, H:32, 8, 6, 0, 0, 0>>),
                      chunk(<<"IDAT">>, zlib:compress(Rows)),
                      chunk(<<"IEND">>, <<>>)]).

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
