%%% @doc A small JSON (RFC 8259) encoder and decoder, for OTP releases without the json
%%% module (OTP 25) and nodes without HyperBEAM's hb_json.
%%%
%%% Decoding gives maps with binary keys, lists, binaries, integers, floats, true, false and
%%% null. decode/1 never raises: malformed text is {error, {invalid_json, Offset}}.
-module(kem_json).
-export([encode/1, decode/1]).

-define(IS_WS(C), (C =:= $\s orelse C =:= $\t orelse C =:= $\n orelse C =:= $\r)).
%% Nesting deeper than this is refused rather than risking a huge stack.
-define(MAX_DEPTH, 512).

%%% Encoding

%% @doc Encodes maps (atom, binary or string keys), lists, binaries (UTF-8), integers,
%% floats, true, false, null and other atoms (as strings) to a JSON binary; anything else
%% raises badarg.
-spec encode(term()) -> binary().
encode(Term) ->
    try iolist_to_binary(enc(Term))
    catch error:_ -> erlang:error(badarg)  % improper lists, keys that collide...
    end.

enc(true) -> <<"true">>;
enc(false) -> <<"false">>;
enc(null) -> <<"null">>;
enc(A) when is_atom(A) -> enc_string(atom_to_binary(A, utf8));
enc(B) when is_binary(B) -> enc_string(B);
enc(I) when is_integer(I) -> integer_to_binary(I);
enc(F) when is_float(F) -> float_to_binary(F, [short]);
enc(M) when is_map(M) ->
    % Sorted by the encoded key, so the output does not depend on the keys' Erlang types.
    Fields = [[Key, $:, enc(V)] || {Key, V} <- lists:sort([{iolist_to_binary(enc_key(K)), V}
                                                          || {K, V} <- maps:to_list(M)])],
    [${, lists:join($,, Fields), $}];
enc(L) when is_list(L) -> [$[, lists:join($,, [enc(E) || E <- L]), $]];
enc(_) -> erlang:error(badarg).

enc_key(K) when is_binary(K) -> enc_string(K);
enc_key(K) when is_atom(K) -> enc_string(atom_to_binary(K, utf8));
enc_key(K) when is_list(K) -> enc_string(unicode:characters_to_binary(K));
enc_key(K) when is_integer(K) -> enc_string(integer_to_binary(K));
enc_key(_) -> erlang:error(badarg).

%% Text that is not UTF-8 (a message quoting raw bytes) is read as Latin-1, so the result is
%% always valid JSON.
enc_string(B) ->
    Utf8 = case unicode:characters_to_binary(B) of
               B -> B;
               _ -> unicode:characters_to_binary(B, latin1)
           end,
    [$", escape(Utf8, 0, Utf8, []), $"].

%% Copies runs of plain bytes as sub-binaries and escapes the rest.
escape(<<C, Rest/binary>>, Run, Orig, Acc) when C >= 16#20, C =/= $", C =/= $\\ ->
    escape(Rest, Run + 1, Orig, Acc);
escape(<<C, Rest/binary>>, Run, Orig, Acc) ->
    Start = byte_size(Orig) - byte_size(Rest) - 1 - Run,
    Plain = binary:part(Orig, Start, Run),
    escape(Rest, 0, Orig, [Acc, Plain, esc(C)]);
escape(<<>>, Run, Orig, Acc) ->
    [Acc, binary:part(Orig, byte_size(Orig) - Run, Run)].

esc($") -> <<"\\\"">>;
esc($\\) -> <<"\\\\">>;
esc($\n) -> <<"\\n">>;
esc($\r) -> <<"\\r">>;
esc($\t) -> <<"\\t">>;
esc(C) -> io_lib:format("\\u~4.16.0b", [C]).

%%% Decoding

%% @doc Decodes one JSON value surrounded by optional whitespace.
-spec decode(binary()) -> {ok, term()} | {error, {invalid_json, non_neg_integer()}}.
decode(Bin) when is_binary(Bin) ->
    try
        {Value, Rest} = value(ws(Bin), 0),
        case ws(Rest) of
            <<>> -> {ok, Value};
            Trailing -> throw({at, Trailing})
        end
    catch
        throw:{at, Where} -> {error, {invalid_json, byte_size(Bin) - byte_size(Where)}};
        error:_ -> {error, {invalid_json, 0}}
    end;
decode(_) ->
    {error, {invalid_json, 0}}.

ws(<<C, Rest/binary>>) when ?IS_WS(C) -> ws(Rest);
ws(Bin) -> Bin.

value(_, Depth) when Depth > ?MAX_DEPTH -> throw({at, <<>>});
value(<<${, Rest/binary>>, D) -> object(ws(Rest), D + 1, #{});
value(<<$[, Rest/binary>>, D) -> array(ws(Rest), D + 1, []);
value(<<$", Rest/binary>>, _) -> string(Rest, []);
value(<<"true", Rest/binary>>, _) -> {true, Rest};
value(<<"false", Rest/binary>>, _) -> {false, Rest};
value(<<"null", Rest/binary>>, _) -> {null, Rest};
value(<<C, _/binary>> = Bin, _) when C =:= $-; C >= $0, C =< $9 -> number(Bin);
value(Bin, _) -> throw({at, Bin}).

object(<<$}, Rest/binary>>, _, Acc) when map_size(Acc) =:= 0 -> {Acc, Rest};
object(<<$", Rest/binary>>, D, Acc) ->
    {Key, R1} = string(Rest, []),
    case ws(R1) of
        <<$:, R2/binary>> ->
            {Value, R3} = value(ws(R2), D),
            Acc1 = Acc#{Key => Value},
            case ws(R3) of
                <<$,, R4/binary>> -> object_key(ws(R4), D, Acc1);
                <<$}, R4/binary>> -> {Acc1, R4};
                Other -> throw({at, Other})
            end;
        Other ->
            throw({at, Other})
    end;
object(Bin, _, _) ->
    throw({at, Bin}).

object_key(<<$", _/binary>> = Bin, D, Acc) -> object(Bin, D, Acc);
object_key(Bin, _, _) -> throw({at, Bin}).

array(<<$], Rest/binary>>, _, []) -> {[], Rest};
array(Bin, D, Acc) ->
    {Value, R1} = value(Bin, D),
    case ws(R1) of
        <<$,, R2/binary>> -> array(ws(R2), D, [Value | Acc]);
        <<$], R2/binary>> -> {lists:reverse(Acc, [Value]), R2};
        Other -> throw({at, Other})
    end.

%% Strings: runs of plain bytes are kept as sub-binaries; the result must be valid UTF-8.
string(Bin, Acc) ->
    case binary:match(Bin, [<<"\"">>, <<"\\">>]) of
        nomatch ->
            throw({at, <<>>});
        {Pos, 1} ->
            <<Plain:Pos/binary, Special, Rest/binary>> = Bin,
            no_control(Plain, Bin),
            case Special of
                $" -> {utf8(iolist_to_binary(lists:reverse(Acc, [Plain])), Bin), Rest};
                $\\ -> escaped(Rest, [Plain | Acc])
            end
    end.

no_control(Plain, Where) ->
    case binary:match(Plain, [<<C>> || C <- lists:seq(0, 31)]) of
        nomatch -> ok;
        _ -> throw({at, Where})
    end.

utf8(Bin, Where) ->
    case unicode:characters_to_binary(Bin) of
        Bin -> Bin;
        _ -> throw({at, Where})
    end.

escaped(<<C, Rest/binary>>, Acc) when C =:= $"; C =:= $\\; C =:= $/ -> string(Rest, [C | Acc]);
escaped(<<$b, Rest/binary>>, Acc) -> string(Rest, [$\b | Acc]);
escaped(<<$f, Rest/binary>>, Acc) -> string(Rest, [$\f | Acc]);
escaped(<<$n, Rest/binary>>, Acc) -> string(Rest, [$\n | Acc]);
escaped(<<$r, Rest/binary>>, Acc) -> string(Rest, [$\r | Acc]);
escaped(<<$t, Rest/binary>>, Acc) -> string(Rest, [$\t | Acc]);
escaped(<<$u, H:4/binary, "\\u", L:4/binary, Rest/binary>> = Bin, Acc) ->
    case {hex(H, Bin), hex(L, Bin)} of
        {Hi, Lo} when Hi >= 16#D800, Hi =< 16#DBFF, Lo >= 16#DC00, Lo =< 16#DFFF ->
            Code = 16#10000 + ((Hi - 16#D800) bsl 10) + (Lo - 16#DC00),
            string(Rest, [<<Code/utf8>> | Acc]);
        {Hi, _} ->
            escaped(<<$u, H/binary>>, Acc, Hi, <<"\\u", L/binary, Rest/binary>>, Bin)
    end;
escaped(<<$u, H:4/binary, Rest/binary>> = Bin, Acc) ->
    escaped(<<$u, H/binary>>, Acc, hex(H, Bin), Rest, Bin);
escaped(Bin, _) ->
    throw({at, Bin}).

escaped(_, _, Code, _, Where) when Code >= 16#D800, Code =< 16#DFFF -> throw({at, Where});
escaped(_, Acc, Code, Rest, _) -> string(Rest, [<<Code/utf8>> | Acc]).

hex(H, Where) ->
    try binary_to_integer(H, 16) of
        N when N >= 0 -> N;
        _ -> throw({at, Where})
    catch
        error:badarg -> throw({at, Where})
    end.

%% Plain non-negative integers (the bulk of a byte array) take a fast path.
number(<<$0, C, _/binary>> = Bin) when C >= $0, C =< $9 ->
    throw({at, Bin});
number(<<C, _/binary>> = Bin) when C >= $0, C =< $9 ->
    case natural(Bin, 0) of
        {_, <<E, _/binary>>} when E =:= $.; E =:= $e; E =:= $E -> general_number(Bin);
        Done -> Done
    end;
number(Bin) ->
    general_number(Bin).

natural(<<C, Rest/binary>>, N) when C >= $0, C =< $9 -> natural(Rest, N * 10 + (C - $0));
natural(Rest, N) -> {N, Rest}.

general_number(Bin) ->
    {Int, R1} = int_part(Bin),
    {Frac, R2} = frac_part(R1),
    {Exp, R3} = exp_part(R2),
    Text = binary:part(Bin, 0, byte_size(Bin) - byte_size(R3)),
    case {Frac, Exp} of
        {<<>>, <<>>} ->
            {binary_to_integer(Int), R3};
        _ ->
            % Erlang's float syntax needs a fraction: 1e5 is read as 1.0e5.
            Float = iolist_to_binary([Int, case Frac of <<>> -> <<".0">>; _ -> Frac end, Exp]),
            try {binary_to_float(Float), R3}
            catch error:badarg -> throw({at, Text})
            end
    end.

int_part(<<$-, Rest/binary>> = Bin) ->
    {Digits, R} = int_digits(Rest, Bin),
    {<<$-, Digits/binary>>, R};
int_part(Bin) ->
    int_digits(Bin, Bin).

int_digits(<<$0, Rest/binary>>, _) -> {<<$0>>, Rest};
int_digits(<<C, _/binary>> = Bin, _) when C >= $1, C =< $9 -> digits(Bin);
int_digits(_, Where) -> throw({at, Where}).

frac_part(<<$., C, _/binary>> = Bin) when C >= $0, C =< $9 ->
    <<$., Rest/binary>> = Bin,
    {Digits, R} = digits(Rest),
    {<<$., Digits/binary>>, R};
frac_part(<<$., _/binary>> = Bin) -> throw({at, Bin});
frac_part(Bin) -> {<<>>, Bin}.

exp_part(<<E, Rest/binary>> = Bin) when E =:= $e; E =:= $E ->
    {Sign, R1} =
        case Rest of
            <<S, R/binary>> when S =:= $+; S =:= $- -> {<<S>>, R};
            _ -> {<<>>, Rest}
        end,
    case R1 of
        <<C, _/binary>> when C >= $0, C =< $9 ->
            {Digits, R2} = digits(R1),
            {<<$e, Sign/binary, Digits/binary>>, R2};
        _ ->
            throw({at, Bin})
    end;
exp_part(Bin) ->
    {<<>>, Bin}.

digits(Bin) -> digits(Bin, 0).
digits(Bin, N) ->
    case Bin of
        <<_:N/binary, C, _/binary>> when C >= $0, C =< $9 -> digits(Bin, N + 1);
        <<Digits:N/binary, Rest/binary>> -> {Digits, Rest}
    end.
