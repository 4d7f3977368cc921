%%% input_data must be an array of bytes. Found by the HTTP load test (bench/http-load): the
%%% array went to list_to_binary/1, which takes any iolist, so [1, "x"] ran on <<1, "x">>
%%% and answered 200 instead of 400.
-module(dev_kem_input_tests).
-include_lib("eunit/include/eunit.hrl").

-define(BASE, #{<<"device">> => <<"kem@1.0">>}).

input_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     [fun not_bytes_refused/0, fun bytes_accepted/0]}.

call(InputData) ->
    Body = kem_json:encode(#{<<"kernel_id">> => kem_test_env:poc_id(), <<"input_data">> => InputData}),
    dev_kem:execute_kernel(?BASE, #{<<"body">> => Body}, #{}).

not_bytes_refused() ->
    Refused = {400, #{<<"error">> => <<"bad_request">>,
                      <<"details">> => <<"input_data must be an array of bytes (0..255)">>}},
    [?assertEqual({Input, Refused}, {Input, status_and_error(call(Input))})
     || Input <- [[1, <<"x">>], [<<"abcd">>], [[1, 2], 3], [[]], [1, 2.0], [1, true], [256], [-1]]].

%% Every byte value still goes through, in the 4-byte words the kernel doubles.
bytes_accepted() ->
    Input = lists:seq(0, 255),
    Expected = kem_ref:double(list_to_binary(Input), 1),
    ?assertMatch({ok, #{<<"status">> := 200, <<"body">> := Expected}}, call(Input)).

status_and_error({error, #{<<"status">> := Status, <<"body">> := Json}}) ->
    {ok, Error} = kem_json:decode(Json),
    {Status, Error};
status_and_error(Other) ->
    Other.
