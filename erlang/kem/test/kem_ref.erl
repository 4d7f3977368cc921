%%% @doc CPU references for the kernels the tests run, written from the kernels' comments
%%% (not from their WGSL), so a wrong GPU result cannot match a wrong reference by accident.
-module(kem_ref).
-export([double/2, add/2, histogram/1, workgroup_sum/1, pixelize/4, pad4/1]).

%% Input zero-padded to whole words, as the kernel contract binds it.
pad4(Bin) ->
    case byte_size(Bin) rem 4 of
        0 -> Bin;
        R -> <<Bin/binary, 0:((4 - R) * 8)>>
    end.

%% double-integer: each u32 doubled (wrapping); output of byte_size(Input) * Hint bytes, the
%% words past the input's staying 0.
double(Input, Hint) ->
    Words = << <<((X * 2) band 16#FFFFFFFF):32/little>> || <<X:32/little>> <= pad4(Input) >>,
    fit(Words, byte_size(Input) * Hint).

%% add-constant (test kernel): each u32 plus params[0] (wrapping).
add(Input, K) ->
    fit(<< <<((X + K) band 16#FFFFFFFF):32/little>> || <<X:32/little>> <= pad4(Input) >>,
        byte_size(Input)).

%% byte-histogram: 256 u32 counters of the input's bytes.
histogram(Input) ->
    Counts = lists:foldl(fun(B, Acc) -> setelement(B + 1, Acc, element(B + 1, Acc) + 1) end,
                         erlang:make_tuple(256, 0), binary_to_list(Input)),
    << <<C:32/little>> || C <- tuple_to_list(Counts) >>.

%% workgroup-sum: output word k = sum (wrapping) of input words [256k, 256k+256); hint 1.
workgroup_sum(Input) ->
    Words = [X || <<X:32/little>> <= pad4(Input)],
    Sums = slices(Words),
    N = byte_size(pad4(Input)) div 4,
    Out = Sums ++ lists:duplicate(N - length(Sums), 0),
    fit(<< <<S:32/little>> || S <- Out >>, byte_size(Input)).

slices([]) -> [];
slices(Words) when length(Words) =< 256 -> [lists:sum(Words) band 16#FFFFFFFF];
slices(Words) ->
    {Slice, Rest} = lists:split(256, Words),
    [lists:sum(Slice) band 16#FFFFFFFF | slices(Rest)].

%% pixelize: each Block x Block tile (clipped at the edges) takes its per-channel average,
%% rounded down.
pixelize(Rgba, W, H, Block0) ->
    Block = max(Block0, 1),
    Px = list_to_tuple([{R, G, B, A} || <<R, G, B, A>> <= Rgba]),
    At = fun(X, Y) -> element(Y * W + X + 1, Px) end,
    << <<(avg(At, X - X rem Block, Y - Y rem Block, min(X - X rem Block + Block, W),
              min(Y - Y rem Block + Block, H)))/binary>>
       || Y <- lists:seq(0, H - 1), X <- lists:seq(0, W - 1) >>.

avg(At, X0, Y0, X1, Y1) ->
    Pixels = [At(X, Y) || Y <- lists:seq(Y0, Y1 - 1), X <- lists:seq(X0, X1 - 1)],
    N = length(Pixels),
    Sum = fun(I) -> lists:sum([element(I, P) || P <- Pixels]) div N end,
    <<(Sum(1)), (Sum(2)), (Sum(3)), (Sum(4))>>.

fit(Bin, Size) when byte_size(Bin) >= Size -> binary:part(Bin, 0, Size);
fit(Bin, Size) -> <<Bin/binary, 0:((Size - byte_size(Bin)) * 8)>>.
