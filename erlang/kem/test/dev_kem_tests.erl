%%% dev_kem handlers driven with HyperBEAM-shaped messages: binary keys, the raw HTTP body
%%% under <<"body">> in Msg2 or Msg1, or plain keys. hb_ao/hb_json are the test stand-ins.
-module(dev_kem_tests).
-include_lib("eunit/include/eunit.hrl").

-define(BASE, #{<<"device">> => <<"kem@1.0">>}).

%% The base message with more keys. A function, not ?BASE#{...}: OTP 27 rejects updating a
%% literal map under warnings_as_errors.
base(Extra) -> maps:merge(?BASE, Extra).

dev_kem_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     [fun info/0, fun body_in_msg2/0, fun body_in_msg1/0, fun base64_and_plain_keys/0,
      fun adapter_info/0, fun errors/0, {timeout, 60, fun image/0}, fun image_errors/0,
      fun without_hyperbeam/0]}.

poc_body() ->
    kem_json:encode(#{<<"kernel_id">> => kem_test_env:poc_id(), <<"input_data">> => [1, 3, 5, 7],
                      <<"output_size_hint">> => 1}).

ok_bytes(Bytes) ->
    {ok, #{<<"status">> => 200, <<"content-type">> => <<"application/octet-stream">>,
           <<"body">> => Bytes}}.

info() ->
    #{exports := Exports} = dev_kem:info(#{}),
    ?assertEqual(lists:sort([<<"info">>, <<"execute_kernel">>, <<"execute_kernel_with_params">>,
                             <<"get_adapter_info">>, <<"execute-kernel">>,
                             <<"execute-kernel-with-params">>, <<"get-adapter-info">>]),
                 lists:sort(Exports)),
    % Each name reaches a function as HyperBEAM looks it up: dashes become underscores.
    [?assert(erlang:function_exported(
               dev_kem, binary_to_atom(binary:replace(E, <<"-">>, <<"_">>, [global])), 3))
     || E <- Exports],
    {ok, #{<<"status">> := 200, <<"body">> := Json}} = dev_kem:info(?BASE, #{}, #{}),
    ?assertMatch({ok, #{<<"version">> := <<"1.0">>, <<"paths">> := #{}}}, kem_json:decode(Json)).

body_in_msg2() ->
    Msg2 = #{<<"path">> => <<"execute_kernel">>, <<"method">> => <<"POST">>, <<"body">> => poc_body()},
    ?assertEqual(ok_bytes(<<2, 6, 10, 14>>), dev_kem:execute_kernel(?BASE, Msg2, #{})).

%% The proof of concept read the body from Msg1.
body_in_msg1() ->
    Msg1 = base(#{<<"body">> => poc_body()}),
    ?assertEqual(ok_bytes(<<2, 6, 10, 14>>),
                 dev_kem:execute_kernel(Msg1, #{<<"path">> => <<"execute_kernel">>}, #{})),
    % Default hint 1; hint 2 doubles the output's size.
    Body = kem_json:encode(#{<<"kernel_id">> => kem_test_env:poc_id(), <<"input_data">> => [1, 0, 0, 0],
                             <<"output_size_hint">> => 2}),
    ?assertEqual(ok_bytes(<<2, 0, 0, 0, 0, 0, 0, 0>>),
                 dev_kem:execute_kernel(base(#{<<"body">> => Body}), #{}, #{})).

base64_and_plain_keys() ->
    Input = crypto:strong_rand_bytes(40),
    Expected = ok_bytes(kem_ref:double(Input, 1)),
    B64 = kem_json:encode(#{<<"kernel_id">> => kem_test_env:poc_id(), <<"input_base64">> => base64:encode(Input)}),
    ?assertEqual(Expected, dev_kem:execute_kernel(?BASE, #{<<"body">> => B64}, #{})),
    % Plain keys as HTTP headers bring them: dashes, text numbers.
    Plain = #{<<"kernel-id">> => kem_test_env:poc_id(), <<"input-base64">> => base64:encode(Input),
              <<"output-size-hint">> => <<"1">>},
    ?assertEqual(Expected, dev_kem:execute_kernel(?BASE, Plain, #{})),
    Plain2 = #{<<"kernel_id">> => kem_test_env:poc_id(), <<"input_data">> => Input},
    ?assertEqual(Expected, dev_kem:execute_kernel(?BASE, Plain2, #{})).

adapter_info() ->
    {ok, #{<<"status">> := 200, <<"content-type">> := <<"application/json">>, <<"body">> := Json}} =
        dev_kem:get_adapter_info(?BASE, #{}, #{}),
    ?assertEqual(kem:adapter_info(), kem_json:decode(Json)).

%% {Status, Code} of a failed call; the body is JSON with a code and readable details.
failed({error, #{<<"status">> := Status, <<"body">> := Body}}) ->
    {ok, #{<<"error">> := Code, <<"details">> := Details}} = kem_json:decode(Body),
    ?assert(is_binary(Details) andalso byte_size(Details) > 0),
    {Status, Code}.

call(Fields) ->
    failed(dev_kem:execute_kernel(?BASE, #{<<"body">> => kem_json:encode(Fields)}, #{})).

errors() ->
    Id = kem_test_env:poc_id(),
    ?assertEqual({400, <<"bad_request">>}, failed(dev_kem:execute_kernel(?BASE, #{<<"body">> => <<"{nope">>}, #{}))),
    ?assertEqual({400, <<"bad_request">>}, failed(dev_kem:execute_kernel(?BASE, #{<<"body">> => <<"[1]">>}, #{}))),
    ?assertEqual({400, <<"bad_request">>}, failed(dev_kem:execute_kernel(?BASE, #{}, #{}))),
    ?assertEqual({400, <<"bad_request">>}, failed(dev_kem:execute_kernel(not_a_map, 42, #{}))),
    ?assertEqual({400, <<"bad_request">>}, call(#{<<"input_data">> => [1]})),
    ?assertEqual({400, <<"bad_request">>}, call(#{<<"kernel_id">> => Id})),
    ?assertEqual({400, <<"bad_request">>}, call(#{<<"kernel_id">> => 7, <<"input_data">> => [1]})),
    ?assertEqual({400, <<"bad_request">>}, call(#{<<"kernel_id">> => Id, <<"input_data">> => [256]})),
    ?assertEqual({400, <<"bad_request">>},
                 call(#{<<"kernel_id">> => Id, <<"input_data">> => [1], <<"output_size_hint">> => -1})),
    ?assertEqual({400, <<"bad_request">>}, call(#{<<"kernel_id">> => Id, <<"input_base64">> => <<"%%%">>})),
    ?assertEqual({400, <<"invalid_argument">>}, call(#{<<"kernel_id">> => Id, <<"input_data">> => [1], <<"output_size_hint">> => 0})),
    ?assertEqual({400, <<"invalid_argument">>}, call(#{<<"kernel_id">> => Id, <<"input_data">> => []})),
    ?assertEqual({400, <<"invalid_argument">>}, call(#{<<"kernel_id">> => <<"short">>, <<"input_data">> => [1]})),
    ?assertEqual({404, <<"not_found">>},
                 call(#{<<"kernel_id">> => <<"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAw">>, <<"input_data">> => [1]})),
    % The gateway's bytes fail verification (kem_test_env's gateway): the gateway's fault.
    ?assertEqual({502, <<"verification_failed">>},
                 call(#{<<"kernel_id">> => kem_test_env:bad_bytes_id(), <<"input_data">> => [1]})),
    ?assertEqual({422, <<"budget_exceeded">>},
                 call(#{<<"kernel_id">> => kem_test_env:pin("byte-histogram.wgsl"), <<"input_data">> => [1, 2],
                        <<"params">> => [2], <<"output_size">> => 1024, <<"loop_budget">> => 0})),
    ?assertEqual({422, <<"limit_exceeded">>},
                 call(#{<<"kernel_id">> => Id, <<"input_data">> => [1], <<"output_size_hint">> => 1 bsl 40})),
    compile_error_position().

%% A compile error keeps LINE:COL at the start of its details and gives them as numbers too.
compile_error_position() ->
    Broken = kem_test_env:pin_source(<<"@compute @workgroup_size(1)\nfn main() {\n  let x = nope;\n}\n">>),
    {error, #{<<"status">> := 422, <<"body">> := Body}} =
        dev_kem:execute_kernel(?BASE, #{<<"body">> => kem_json:encode(#{<<"kernel_id">> => Broken,
                                                                       <<"input_data">> => [1]})}, #{}),
    ?assertMatch({ok, #{<<"error">> := <<"compile_error">>, <<"line">> := 3, <<"column">> := 11,
                        <<"details">> := <<"3:11: unresolved value 'nope'", _/binary>>}},
                 kem_json:decode(Body)).

image() ->
    {W, H, Block} = {6, 5, 2},
    Rgba = crypto:strong_rand_bytes(W * H * 4),
    Expected = kem_ref:pixelize(Rgba, W, H, Block),
    Pixelize = kem_test_env:pin("pixelize.wgsl"),
    Body = kem_json:encode(#{<<"kernel_id">> => Pixelize,
                             <<"input_data">> => binary_to_list(kem_png_ref:encode(W, H, Rgba)),
                             <<"params">> => [W, H, Block]}),
    {ok, #{<<"status">> := 200, <<"content-type">> := <<"image/png">>, <<"body">> := Png}} =
        dev_kem:execute_kernel_with_params(?BASE, #{<<"body">> => Body}, #{}),
    ?assertEqual({W, H, Expected}, kem_png_ref:decode(Png)),
    Raw = kem_json:encode(#{<<"kernel_id">> => Pixelize, <<"input_base64">> => base64:encode(Rgba),
                            <<"params">> => [W, H, Block], <<"output_format">> => <<"raw">>}),
    ?assertEqual(ok_bytes(Expected), dev_kem:execute_kernel_with_params(base(#{<<"body">> => Raw}), #{}, #{})).

image_errors() ->
    Pixelize = kem_test_env:pin("pixelize.wgsl"),
    Call = fun(F) -> failed(dev_kem:execute_kernel_with_params(?BASE, #{<<"body">> => kem_json:encode(F)}, #{})) end,
    ?assertEqual({400, <<"bad_request">>},
                 Call(#{<<"kernel_id">> => Pixelize, <<"input_data">> => [1, 2, 3, 4], <<"params">> => [<<"x">>]})),
    ?assertEqual({400, <<"bad_request">>},
                 Call(#{<<"kernel_id">> => Pixelize, <<"input_data">> => [1, 2, 3, 4], <<"params">> => [1, 1, 1],
                        <<"output_format">> => <<"gif">>})),
    ?assertEqual({400, <<"invalid_argument">>},
                 Call(#{<<"kernel_id">> => Pixelize, <<"input_data">> => [1, 2, 3, 4], <<"params">> => [2, 2, 1]})).

%% Without HyperBEAM's modules, dev_kem reads plain maps and uses kem_json itself.
without_hyperbeam() ->
    ?assertEqual(<<"v">>, kem_hb:plain_get(<<"kernel-id">>, #{<<"Kernel-ID">> => <<"v">>})),
    ?assertEqual(<<"v">>, kem_hb:plain_get(<<"body">>, #{body => <<"v">>})),
    ?assertEqual(not_found, kem_hb:plain_get(<<"body">>, not_a_map)),
    persistent_term:put({kem_hb, hyperbeam}, false),
    try
        Msg2 = #{<<"body">> => poc_body()},
        ?assertEqual(ok_bytes(<<2, 6, 10, 14>>), dev_kem:execute_kernel(?BASE, Msg2, #{}))
    after
        persistent_term:erase({kem_hb, hyperbeam})
    end.

%% Every 503 says when to try again: the service's own estimate when its message ends in
%% "(retry after N ms)" (the NIF appends Error::retry_after so), in whole seconds rounded up,
%% else 1 second; other statuses have none.
retry_after_header_test() ->
    Header = fun(Error) ->
                     {error, Reply} = dev_kem:failure(Error),
                     {maps:get(<<"status">>, Reply), maps:get(<<"retry-after">>, Reply, none)}
             end,
    ?assertEqual({503, <<"2">>}, Header({error, {unavailable, <<"the device is busy; try again later (retry after 1500 ms)">>}})),
    ?assertEqual({503, <<"1">>}, Header({error, {unavailable, <<"busy (retry after 1 ms)">>}})),
    ?assertEqual({503, <<"1">>}, Header({error, {device_lost, <<"device lost: gone">>}})),
    ?assertEqual({504, none}, Header({error, {timeout, <<"timed out (retry after 5 ms)">>}})),
    ?assertEqual({502, none}, Header({error, {verification_failed, <<"bad proof">>}})).
