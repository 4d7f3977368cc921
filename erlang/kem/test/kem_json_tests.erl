%%% kem_json against RFC 8259's examples and hand-written cases.
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
           <<"\"", 255, "\"">>, <<"[1] 2">>, <<"tru">>, <<"nul">>, <<"{\"a\" 1}">>, <<"1e">>,
           binary:copy(<<"[">>, 600)],
    [?assertMatch({error, {invalid_json, _}}, kem_json:decode(B)) || B <- Bad],
    ?assertEqual({error, {invalid_json, 3}}, kem_json:decode(<<"[1,]">>)),
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
