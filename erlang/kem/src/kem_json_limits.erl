%%% @doc A linear pre-scan of JSON text that refuses, before any parser sees it, text over
%%% the limits on total size, nesting depth, number length and string length.
%%%
%%% Why before parsing: the parsers themselves are linear, except that a number turns into an
%%% Erlang integer or float afterwards (jiffy: list_to_integer; OTP's json: binary_to_integer),
%%% which is quadratic in its digits: one million-digit number costs ~33 s of CPU on OTP 25.
%%% Depth is bounded so no caller builds a million-deep term for the code that walks it.
%%%
%%% The scan does not validate JSON (the parser does); it only has to be right about the
%%% limits for valid JSON and stay linear for any bytes. Strings are skipped with
%%% binary:match/3 (C speed), so a large base64 string costs almost nothing; only the bytes
%%% outside strings are looked at one by one (a 3.5 MB array of a million numbers: see the
%%% timings in kem_json_tests).
-module(kem_json_limits).
-export([check/2, defaults/0]).

-type limits() :: #{max_size := non_neg_integer(), max_depth := non_neg_integer(),
                    max_number := non_neg_integer(), max_string := non_neg_integer()}.
-export_type([limits/0]).

%% max_size: the largest body KEM's endpoint takes is max_body (16 MiB by default); HyperBEAM
%% may hand over more, so the JSON limit is above that. max_depth: the hand-written parser's
%% limit, kept (requests nest 3 deep). max_number: a double needs at most 24 characters, a
%% u64 20; 100 leaves room for any sane spelling. max_string: the size itself, so that an
%% input_base64 of any allowed size passes.
-spec defaults() -> limits().
defaults() ->
    #{max_size => 64 * 1024 * 1024, max_depth => 512, max_number => 100,
      max_string => 64 * 1024 * 1024}.

%% @doc ok, or {error, Message} naming the first limit passed.
-spec check(binary(), limits()) -> ok | {error, binary()}.
check(Bin, #{max_size := MaxSize}) when byte_size(Bin) > MaxSize ->
    {error, iolist_to_binary(io_lib:format("the JSON text is ~b bytes, over the limit of ~b",
                                           [byte_size(Bin), MaxSize]))};
check(Bin, Limits) ->
    % The limits as a tuple: a map lookup per token would be a third of the scan's time.
    #{max_depth := MaxDepth, max_number := MaxNumber, max_string := MaxString} = Limits,
    try scan(Bin, 0, {MaxDepth, MaxNumber, MaxString}, Bin)
    catch throw:{limit, Message} -> {error, iolist_to_binary(Message)}
    end.

%% Walks the bytes outside strings with binary matching (the JIT keeps one match context, a
%% few ns a byte); Whole is the text, for the offsets in messages.
scan(<<C, Rest/binary>>, Depth, Limits, Whole) when C =:= ${; C =:= $[ ->
    case Depth + 1 > element(1, Limits) of
        true -> limit("nesting deeper than ~b at byte ~b", [element(1, Limits), at(Rest, Whole) - 1]);
        false -> scan(Rest, Depth + 1, Limits, Whole)
    end;
scan(<<C, Rest/binary>>, Depth, Limits, Whole) when C =:= $}; C =:= $] ->
    scan(Rest, max(Depth - 1, 0), Limits, Whole);
scan(<<$", Rest/binary>>, Depth, Limits, Whole) ->
    Len = string_length(Rest, 0),
    Max = element(3, Limits),
    case Len > Max of
        true -> limit("a string of more than ~b bytes at byte ~b", [Max, at(Rest, Whole) - 1]);
        false when Len >= byte_size(Rest) -> ok;  % unterminated: the parser says so
        false -> scan(binary_part(Rest, Len + 1, byte_size(Rest) - Len - 1), Depth, Limits, Whole)
    end;
scan(<<C, Rest/binary>>, Depth, Limits, Whole) when C =:= $-; C >= $0, C =< $9 ->
    Max = element(2, Limits),
    case number(Rest, 1, Max) of
        {more, _} -> limit("a number of more than ~b characters at byte ~b", [Max, at(Rest, Whole) - 1]);
        {ok, After} -> scan(After, Depth, Limits, Whole)
    end;
scan(<<_, Rest/binary>>, Depth, Limits, Whole) ->
    scan(Rest, Depth, Limits, Whole);
scan(<<>>, _, _, _) ->
    ok.

%% The offset of Rest in Whole.
at(Rest, Whole) -> byte_size(Whole) - byte_size(Rest).

%% The length of a string's body up to its closing quote (byte_size(Bin) if there is none):
%% the next quote is found by binary:match (C speed, whatever the escapes), and it closes the
%% string unless an odd run of backslashes precedes it. Each byte is looked at at most twice.
string_length(Bin, From) ->
    case binary:match(Bin, <<"\"">>, [{scope, {From, byte_size(Bin) - From}}]) of
        nomatch -> byte_size(Bin);
        {At, 1} ->
            case backslashes(Bin, At - 1, 0) rem 2 of
                0 -> At;
                1 -> string_length(Bin, At + 1)
            end
    end.

backslashes(Bin, Pos, N) when Pos >= 0 ->
    case binary:at(Bin, Pos) of
        $\\ -> backslashes(Bin, Pos - 1, N + 1);
        _ -> N
    end;
backslashes(_, _, N) -> N.

%% A number's characters (digits, sign, point, exponent), counted up to Max + 1 at most.
number(Bin, N, Max) when N > Max -> {more, Bin};
number(<<C, Rest/binary>>, N, Max) when C >= $0, C =< $9; C =:= $.; C =:= $e; C =:= $E; C =:= $+; C =:= $- ->
    number(Rest, N + 1, Max);
number(Bin, _, _) -> {ok, Bin}.

limit(Format, Args) -> throw({limit, io_lib:format(Format, Args)}).
