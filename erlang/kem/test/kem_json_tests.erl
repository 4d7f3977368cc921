%%% kem_json against RFC 8259's examples and hand-written cases (the regression set of the
%%% hand-written parser it replaced), and hostile text: refused by a limit, in linear time.
-module(kem_json_tests).
-include_lib("eunit/include/eunit.hrl").

%% RFC 8259, section 13 (first example, abridged to the interesting parts).
rfc_object_test() ->
    Text = <<"{\"Image\": {\"Width\": 800, \"Height\": 600, \"Title\": \"View from 15th Floor\",
              \"Thumbnail\": {\"Url\": \"http://www.example.com/image/481989943\", \"Height\": 125,
              \"Width\": 100}, \"Animated\" : false, \"IDs\": [116, 943, 234, 38793]}}">>,
    ?assertEqual({ok, #{<<"Image">> => #{<<"Width">> => 800, <<"Height">> => 600,
                                         <<"Title">> => <<"View from 15th Floor">>,
                                         <<"Thumbnail">> => #{<<"Url">> => <<"http://www.example.com/image/481989943">>,
                                                              <<"Height">> => 125, <<"Width">> => 100},
                                         <<"Animated">> => false, <<"IDs">> => [116, 943, 234, 38793]}}},
                 kem_json:decode(Text)).

rfc_array_test() ->
    {ok, [First, _]} = kem_json:decode(<<"[{\"precision\": \"zip\", \"Latitude\": 37.7668, \"Longitude\": -122.3959,
        \"Zip\": \"94107\"}, {\"Latitude\": 37.371991, \"Longitude\": -1.22026e2}]">>),
    ?assertEqual(#{<<"precision">> => <<"zip">>, <<"Latitude">> => 37.7668, <<"Longitude">> => -122.3959,
                   <<"Zip">> => <<"94107">>}, First).

scalars_test() ->
    ?assertEqual({ok, <<"Hello world!">>}, kem_json:decode(<<"\"Hello world!\"">>)),
    ?assertEqual({ok, 42}, kem_json:decode(<<" 42 ">>)),
    ?assertEqual({ok, -0.5}, kem_json:decode(<<"-5e-1">>)),
    ?assertEqual({ok, 100.0}, kem_json:decode(<<"1E2">>)),
    ?assertEqual({ok, null}, kem_json:decode(<<"null">>)),
    ?assertEqual({ok, [true, false, [], #{}]}, kem_json:decode(<<"[true,false,[],{}]">>)).

escapes_test() ->
    % \u00e9 is é; the surrogate pair d834 dd1e is U+1D11E (musical G clef).
    ?assertEqual({ok, <<"a\"\\/\b\f\n\r\t", 16#E9/utf8, 16#1D11E/utf8>>},
                 kem_json:decode(<<"\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD834\\uDD1E\"">>)).

malformed_test() ->
    Bad = [<<>>, <<"[1,]">>, <<"{\"a\":1,}">>, <<"{a:1}">>, <<"01">>, <<"1.">>, <<".5">>, <<"-">>,
           <<"[">>, <<"\"abc">>, <<"\"\\x\"">>, <<"\"\\ud800\"">>, <<"\"\\udc00\"">>, <<"\"a\nb\"">>,
           <<"\"", 255, "\"">>, <<"[1] 2">>, <<"tru">>, <<"nul">>, <<"{\"a\" 1}">>, <<"1e">>],
    [?assertMatch({error, {invalid_json, _}}, kem_json:decode(B)) || B <- Bad],
    % jiffy says where it stopped; OTP's json does not (0).
    ?assertEqual({error, {invalid_json, case kem_json:backend() of jiffy -> 3; json -> 0 end}},
                 kem_json:decode(<<"[1,]">>)),
    ?assertEqual({error, {invalid_json, 0}}, kem_json:decode(not_a_binary)).

encode_test() ->
    ?assertEqual(<<"{\"a\":[1,2.5,\"x\"],\"b\":null,\"c\":true}">>,
                 kem_json:encode(#{a => [1, 2.5, <<"x">>], <<"b">> => null, "c" => true})),
    ?assertEqual(<<"\"q\\\"\\\\\\n\\u0001\"">>, kem_json:encode(<<"q\"\\\n", 1>>)),
    % Bytes that are not UTF-8 are read as Latin-1.
    ?assertEqual(<<"\"", 16#FF/utf8, "\"">>, kem_json:encode(<<255>>)),
    ?assertError(badarg, kem_json:encode({tuple})),
    ?assertError(badarg, kem_json:encode(#{{k} => 1})).

roundtrip_test() ->
    Term = #{<<"list">> => [0, -1, 1 bsl 40, 0.25, <<"é€😀"/utf8>>, null, #{<<"k">> => []}]},
    ?assertEqual({ok, Term}, kem_json:decode(kem_json:encode(Term))).

%%% Limits (kem_json_limits). Each hostile text must be answered, by a refusal or a value, in
%%% time linear in its size: the bound asserted is generous (seconds, where the hand-written
%%% parser took 37 s for the million-digit number); the time taken is printed.

limits_test_() ->
    {timeout, 60, fun limits/0}.

limits() ->
    Digits = binary:copy(<<"9">>, 1000000),
    refused(<<"{\"a\": ", Digits/binary, "}">>, <<"a number of more than 100 characters at byte 6">>),
    refused(<<"[1.", Digits/binary, "]">>, <<"a number of more than 100 characters at byte 1">>),
    refused(<<"[1e", Digits/binary, "]">>, <<"a number of more than 100 characters at byte 1">>),
    refused(binary:copy(<<"[">>, 600), <<"nesting deeper than 512 at byte 512">>),
    refused(<<(binary:copy(<<"{\"a\":">>, 1000000))/binary, "1", (binary:copy(<<"}">>, 1000000))/binary>>,
            <<"nesting deeper than 512 at byte 2560">>),
    % 100 characters is the longest number taken; 512 the deepest nesting.
    Hundred = binary:copy(<<"1">>, 100),
    ?assertEqual({ok, [binary_to_integer(Hundred)]}, kem_json:decode(<<"[", Hundred/binary, "]">>)),
    Deepest = <<(binary:copy(<<"[">>, 512))/binary, (binary:copy(<<"]">>, 512))/binary>>,
    ?assertMatch({ok, [[_]]}, kem_json:decode(Deepest)),
    % Escapes are linear (the hand-written parser was quadratic in them): 2 M of them decode.
    Newlines = timed(<<"2M \\n escapes">>, fun() -> kem_json:decode(<<"\"", (binary:copy(<<"\\n">>, 2000000))/binary, "\"">>) end),
    ?assertEqual({ok, binary:copy(<<"\n">>, 2000000)}, Newlines),
    Quotes = timed(<<"2M \\\" escapes">>, fun() -> kem_json:decode(<<"\"", (binary:copy(<<"\\\"">>, 2000000))/binary, "\"">>) end),
    ?assertEqual({ok, binary:copy(<<"\"">>, 2000000)}, Quotes),
    % Digits inside a string are not a number.
    ?assertEqual({ok, [Digits]}, timed(<<"1M digits in a string">>, fun() -> kem_json:decode(<<"[\"", Digits/binary, "\"]">>) end)),
    % Other limits than the defaults.
    ?assertMatch({error, {json_limit, _}}, kem_json:decode(<<"[\"abcdef\"]">>, #{max_string => 5})),
    ?assertMatch({ok, [<<"abcde">>]}, kem_json:decode(<<"[\"abcde\"]">>, #{max_string => 5})),
    ?assertMatch({error, {json_limit, <<"the JSON text is 7 bytes, over the limit of 6">>}},
                 kem_json:decode(<<"[1,2,3]">>, #{max_size => 6})),
    % A large valid request (1 M input bytes as numbers, 3.5 MB) decodes as before.
    Input = [I rem 256 || I <- lists:seq(1, 1000000)],
    Big = kem_json:encode(#{<<"kernel_id">> => <<"k">>, <<"input_data">> => Input}),
    ?assertEqual({ok, #{<<"kernel_id">> => <<"k">>, <<"input_data">> => Input}},
                 timed(<<"a 3.5 MB valid request">>, fun() -> kem_json:decode(Big) end)).

refused(Text, Message) ->
    ?assertEqual({error, {json_limit, Message}},
                 timed(binary:part(Message, 0, min(30, byte_size(Message))), fun() -> kem_json:decode(Text) end)).

timed(What, Fun) ->
    {Us, Result} = timer:tc(Fun),
    ?debugFmt("kem_json ~s: ~b ms", [What, Us div 1000]),
    ?assert(Us < 5000000),
    Result.
