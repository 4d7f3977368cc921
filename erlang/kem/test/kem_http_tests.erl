%%% The HTTP endpoint through a real HTTP client (httpc) on 127.0.0.1.
-module(kem_http_tests).
-include_lib("eunit/include/eunit.hrl").

http_test_() ->
    {setup, fun setup/0, fun cleanup/1,
     [fun poc_curl/0, fun aliases/0, fun info_and_adapter/0, fun plain_keys_and_query/0,
      fun errors/0, {timeout, 60, fun image/0}, fun body_limit/0, fun metrics/0,
      {timeout, 60, fun busy/0}, {timeout, 60, fun request_timeout/0}, fun timeout_cap/0,
      {timeout, 60, fun caller_timeout_capped/0}, fun limits_as_json/0,
      {timeout, 30, fun abandoned_body_released/0}, {timeout, 30, fun abandoned_call_released/0},
      {timeout, 30, fun per_address_limit/0}, {timeout, 30, fun slow_body/0}]}.

setup() ->
    kem_test_env:setup(),
    {ok, _} = application:ensure_all_started(inets),
    start(#{}).

start(Extra) ->
    {ok, Pid} = kem_http:start_link(maps:merge(#{port => 0, max_concurrency => 2, max_body => 65536}, Extra)),
    unlink(Pid),
    ok.

cleanup(_) -> kem_http:stop().

url(Path) -> "http://127.0.0.1:" ++ integer_to_list(kem_http:port()) ++ Path.

post(Path, Body) -> post(Path, [], Body).
post(Path, Headers, Body) ->
    reply(httpc:request(post, {url(Path), Headers, "application/json", Body}, [{timeout, 30000}],
                        [{body_format, binary}])).

http_get(Path) ->
    reply(httpc:request(get, {url(Path), []}, [{timeout, 30000}], [{body_format, binary}])).

reply({ok, {{_, Status, _}, Headers, Body}}) -> {Status, Headers, Body}.

json_error({Status, Headers, Body}) ->
    ?assertEqual("application/json", proplists:get_value("content-type", Headers)),
    {ok, #{<<"error">> := Code, <<"details">> := Details}} = kem_json:decode(Body),
    ?assert(is_binary(Details)),
    {Status, Code}.

poc_body() ->
    <<"{\"kernel_id\": \"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg\", \"input_data\": [1,3,5,7], \"output_size_hint\": 1}">>.

%% The proof of concept's curl example.
poc_curl() ->
    {Status, Headers, Body} = post("/~kem@1.0/execute_kernel", poc_body()),
    ?assertEqual({200, <<2, 6, 10, 14>>}, {Status, Body}),
    ?assertEqual("application/octet-stream", proplists:get_value("content-type", Headers)).

aliases() ->
    ?assertMatch({200, _, <<2, 6, 10, 14>>}, post("/~kem@1.0/execute-kernel", poc_body())),
    ?assertMatch({200, _, <<2, 6, 10, 14>>}, post("/~kem@1.0/Execute_Kernel", poc_body())),
    ?assertMatch({200, _, <<2, 6, 10, 14>>}, post("/%7Ekem@1.0/execute_kernel", poc_body())).

info_and_adapter() ->
    {200, _, Info} = http_get("/~kem@1.0/info"),
    ?assertMatch({ok, #{<<"version">> := <<"1.0">>}}, kem_json:decode(Info)),
    ?assertMatch({200, _, Info}, http_get("/~kem@1.0")),
    {200, Headers, Adapter} = http_get("/~kem@1.0/get_adapter_info"),
    ?assertEqual("application/json", proplists:get_value("content-type", Headers)),
    ?assertEqual(kem:adapter_info(), kem_json:decode(Adapter)).

%% HyperBEAM turns headers and query keys into message keys; so does the endpoint.
plain_keys_and_query() ->
    Input = crypto:strong_rand_bytes(32),
    Expected = kem_ref:double(Input, 1),
    B64 = binary_to_list(base64:encode(Input)),
    Headers = [{"kernel-id", binary_to_list(kem_test_env:poc_id())}, {"input-base64", B64}],
    ?assertMatch({200, _, Expected}, post("/~kem@1.0/execute_kernel", Headers, <<>>)),
    Query = uri_string:compose_query([{"kernel_id", binary_to_list(kem_test_env:poc_id())},
                                      {"input_base64", B64}, {"output_size_hint", "2"}]),
    ?assertMatch({200, _, _}, post("/~kem@1.0/execute_kernel?" ++ Query, <<>>)),
    {200, _, Out} = post("/~kem@1.0/execute_kernel?" ++ Query, <<>>),
    ?assertEqual(kem_ref:double(Input, 2), Out).

errors() ->
    ?assertEqual({400, <<"bad_request">>}, json_error(post("/~kem@1.0/execute_kernel", <<"{\"kernel_id\": ">>))),
    ?assertEqual({400, <<"bad_request">>}, json_error(post("/~kem@1.0/execute_kernel", <<"{}">>))),
    ?assertEqual({400, <<"invalid_argument">>},
                 json_error(post("/~kem@1.0/execute_kernel",
                                 <<"{\"kernel_id\": \"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg\", \"input_data\": []}">>))),
    ?assertEqual({404, <<"not_found">>}, json_error(http_get("/~kem@1.0/nope"))),
    ?assertEqual({404, <<"not_found">>}, json_error(http_get("/elsewhere"))),
    ?assertEqual({404, <<"not_found">>},
                 json_error(post("/~kem@1.0/execute_kernel",
                                 <<"{\"kernel_id\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ\", \"input_data\": [1]}">>))),
    ?assertEqual({422, <<"limit_exceeded">>},
                 json_error(post("/~kem@1.0/execute_kernel",
                                 <<"{\"kernel_id\": \"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg\", \"input_data\": [1],"
                                   " \"output_size_hint\": 1000000000000}">>))),
    bad_gateway_bytes().

%% Bytes from the gateway that fail verification are the gateway's fault: 502, with the
%% store's reason in the details.
bad_gateway_bytes() ->
    Body = kem_json:encode(#{<<"kernel_id">> => kem_test_env:bad_bytes_id(), <<"input_data">> => [1]}),
    {Status, Headers, Reply} = post("/~kem@1.0/execute_kernel", Body),
    ?assertEqual({502, <<"verification_failed">>}, json_error({Status, Headers, Reply})),
    {ok, #{<<"details">> := Details}} = kem_json:decode(Reply),
    ?assertNotEqual(nomatch, binary:match(Details, <<"Content-Encoding: gzip">>)).

image() ->
    {W, H, Block} = {8, 6, 3},
    Rgba = crypto:strong_rand_bytes(W * H * 4),
    Body = kem_json:encode(#{<<"kernel_id">> => kem_test_env:pin("pixelize.wgsl"),
                             <<"input_base64">> => base64:encode(kem_png_ref:encode(W, H, Rgba)),
                             <<"params">> => [0, 0, Block]}),
    {200, Headers, Png} = post("/~kem@1.0/execute_kernel_with_params", Body),
    ?assertEqual("image/png", proplists:get_value("content-type", Headers)),
    ?assertEqual({W, H, kem_ref:pixelize(Rgba, W, H, Block)}, kem_png_ref:decode(Png)).

%% Over max_body (64 KiB here): 413 with a JSON error.
body_limit() ->
    ?assertEqual({413, <<"limit_exceeded">>},
                 json_error(post("/~kem@1.0/execute_kernel", binary:copy(<<" ">>, 70000)))),
    % Just under the limit, the body reaches the device.
    Body = <<(poc_body())/binary, (binary:copy(<<" ">>, 65536 - 200))/binary>>,
    ?assertMatch({200, _, <<2, 6, 10, 14>>}, post("/~kem@1.0/execute_kernel", Body)).

metrics() ->
    Before = counter(get_metrics(), <<"info">>, <<"200">>),
    {200, _, _} = http_get("/~kem@1.0/info"),
    {200, _, _} = http_get("/~kem@1.0/info"),
    {200, Headers, Text} = http_get("/~kem@1.0/metrics"),
    ?assertEqual("text/plain; version=0.0.4", proplists:get_value("content-type", Headers)),
    ?assertEqual(Before + 2, counter(Text, <<"info">>, <<"200">>)),
    ?assertMatch({match, _}, re:run(Text, <<"^kem_http_in_flight 0$">>, [multiline])),
    ?assertMatch({match, _}, re:run(Text, <<"^# TYPE kem_executor_calls_total counter$">>, [multiline])),
    % One series per GPU device of the node; the devices' calls add up to the total.
    #{devices := Devices} = kem:stats(),
    PerDevice = [value(Text, <<"kem_gpu_calls_total\\{device=\"", (integer_to_binary(I))/binary, "\"\\}">>)
                 || #{index := I} <- Devices],
    ?assertEqual(length(Devices), length([N || N <- PerDevice, is_integer(N)])),
    ?assertEqual(value(Text, <<"kem_executor_calls_total">>), lists:sum(PerDevice)),
    [?assertEqual(1, value(Text, <<"kem_gpu_healthy\\{device=\"", (integer_to_binary(I))/binary, "\"\\}">>))
     || #{index := I, healthy := true} <- Devices].

value(Text, Series) ->
    case re:run(Text, <<"^", Series/binary, " (\\d+)$">>, [multiline, {capture, all_but_first, binary}]) of
        {match, [N]} -> binary_to_integer(N);
        nomatch -> missing
    end.

get_metrics() -> element(3, http_get("/~kem@1.0/metrics")).

counter(Text, Route, Status) ->
    Re = <<"^kem_http_requests_total\\{route=\"", Route/binary, "\",status=\"", Status/binary, "\"\\} (\\d+)$">>,
    case re:run(Text, Re, [multiline, {capture, all_but_first, binary}]) of
        {match, [N]} -> binary_to_integer(N);
        nomatch -> 0
    end.

%% max_concurrency is 2 here: with two slow calls in flight, a third is refused at once.
busy() ->
    Spin = kem_test_env:pin_source(kem_test_env:spin_source()),
    % 256 invocations of the spin kernel: about 2 s each on lavapipe, one after the other.
    Body = kem_json:encode(#{<<"kernel_id">> => Spin, <<"input_base64">> => base64:encode(binary:copy(<<1, 2, 3, 4>>, 256))}),
    Parent = self(),
    Slow = [spawn(fun() -> Parent ! {slow, raw_post("/~kem@1.0/execute_kernel", Body)} end) || _ <- [1, 2]],
    wait_in_flight(2, 200),
    {503, Headers, _} = Busy = raw_post("/~kem@1.0/execute_kernel", poc_body()),
    ?assertEqual({503, <<"busy">>}, json_error(Busy)),
    ?assertEqual("1", proplists:get_value("retry-after", Headers)),
    [receive {slow, {S, _, _}} -> ?assertEqual(200, S) after 30000 -> error(slow_call_lost) end || _ <- Slow],
    ?assertMatch({200, _, <<2, 6, 10, 14>>}, post("/~kem@1.0/execute_kernel", poc_body())).

%% A plain HTTP/1.1 exchange on a socket of its own: httpc, in this VM, holds a request back
%% while others to the same host are in flight, which would hide the refusal being tested.
raw_post(Path, Body) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, kem_http:port(), [binary, {active, false}]),
    ok = gen_tcp:send(S, [<<"POST ">>, Path, <<" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                                "Content-Type: application/json\r\nContent-Length: ">>,
                          integer_to_binary(byte_size(Body)), <<"\r\n\r\n">>, Body]),
    Response = recv_all(S, <<>>),
    gen_tcp:close(S),
    [Head, RespBody] = binary:split(Response, <<"\r\n\r\n">>),
    [<<"HTTP/1.1 ", Code:3/binary, _/binary>> | Lines] = binary:split(Head, <<"\r\n">>, [global]),
    Headers = [{string:lowercase(binary_to_list(K)), binary_to_list(string:trim(V))}
               || L <- Lines, [K, V] <- [binary:split(L, <<":">>)]],
    {binary_to_integer(Code), Headers, RespBody}.

recv_all(S, Acc) ->
    case gen_tcp:recv(S, 0, 30000) of
        {ok, Data} -> recv_all(S, <<Acc/binary, Data/binary>>);
        {error, closed} -> Acc
    end.

wait_in_flight(_, 0) -> error(calls_not_in_flight);
wait_in_flight(N, Tries) ->
    Want = integer_to_binary(N),
    case re:run(get_metrics(), <<"^kem_http_in_flight (\\d+)$">>, [multiline, {capture, all_but_first, binary}]) of
        {match, [Want]} -> ok;
        _ -> timer:sleep(20), wait_in_flight(N, Tries - 1)
    end.

%% The endpoint's own deadline (here shorter than the executor's) answers 504.
request_timeout() ->
    kem_http:stop(),
    start(#{request_timeout => 200}),
    try
        Body = kem_json:encode(#{<<"kernel_id">> => kem_test_env:pin_source(kem_test_env:spin_source()),
                                 <<"input_base64">> => base64:encode(binary:copy(<<5, 6, 7, 8>>, 64))}),
        ?assertEqual({504, <<"timeout">>}, json_error(post("/~kem@1.0/execute_kernel", Body)))
    after
        kem_http:stop(),
        start(#{})
    end,
    % Let the abandoned kernel finish before the next suite.
    timer:sleep(1500).

%% A caller's timeout lowers the deadline, never raises it past the node's cap: max_timeout
%% where libkem has that setting, else default_timeout.
timeout_cap() ->
    Cap = kem_config:max_timeout(),
    case kem_config:value(max_timeout) of
        undefined -> ?assertEqual(kem_config:value(default_timeout), Cap);
        Max -> ?assertEqual(Max, Cap)
    end,
    Margin = kem_config:value(reply_margin),
    ?assertEqual({Cap, Cap + Margin}, kem_config:call_timeout(86400000)),
    ?assertEqual({Cap, Cap + Margin}, kem_config:call_timeout(Cap + 1)),
    ?assertEqual({500, 500 + Margin}, kem_config:call_timeout(500)).

%% A call asking for 24 hours on a node whose cap is 300 ms ends after about 300 ms with a
%% 504 (the spin kernel needs a second or more), or at once when admission control knows it
%% takes longer than that.
caller_timeout_capped() ->
    Old = application:get_env(kem, max_timeout),
    application:set_env(kem, max_timeout, 300),
    try
        Body = kem_json:encode(#{<<"kernel_id">> => kem_test_env:pin_source(kem_test_env:spin_source()),
                                 <<"input_base64">> => base64:encode(binary:copy(<<9, 9, 9, 9>>, 256)),
                                 <<"timeout">> => 86400000}),
        T0 = erlang:monotonic_time(millisecond),
        {Status, Headers, Reply} = post("/~kem@1.0/execute_kernel", Body),
        Took = erlang:monotonic_time(millisecond) - T0,
        ?assertEqual({504, <<"timeout">>}, json_error({Status, Headers, Reply})),
        ?debugFmt("a 24 h timeout under a 300 ms cap answered 504 after ~b ms", [Took]),
        % The cap's deadline, not some other limit (the endpoint's request_timeout is 25 s); or
        % at once, when admission control has measured the spin kernel at more than the cap.
        {ok, #{<<"details">> := Details}} = kem_json:decode(Reply),
        case Took < 250 of
            true -> ?assertMatch(<<"refused before it ran: ", _/binary>>, Details);
            false -> ?assert(Took < 15000)
        end
    after
        case Old of
            {ok, V} -> application:set_env(kem, max_timeout, V);
            undefined -> application:unset_env(kem, max_timeout)
        end
    end,
    % Let the abandoned kernel finish before the next test.
    timer:sleep(2500).

%% The endpoint's own refusals are JSON: a declared body over max_body (413 from the head
%% alone), a chunked one that passes it, and Cowboy's own (a header line too long: 431).
limits_as_json() ->
    Head = fun(Extra) -> [<<"POST /~kem@1.0/execute_kernel HTTP/1.1\r\nhost: x\r\nconnection: close\r\n">>, Extra, <<"\r\n">>] end,
    ?assertEqual({413, <<"limit_exceeded">>}, json_error(raw(Head(<<"content-length: 70000\r\n">>)))),
    Chunk = binary:copy(<<" ">>, 40000),
    Chunked = [Head(<<"transfer-encoding: chunked\r\n">>), [[<<"9c40\r\n">>, Chunk, <<"\r\n">>] || _ <- [1, 2]], <<"0\r\n\r\n">>],
    ?assertEqual({413, <<"limit_exceeded">>}, json_error(raw(Chunked))),
    ?assertEqual({431, <<"limit_exceeded">>},
                 json_error(raw(Head([<<"x-long: ">>, binary:copy(<<"a">>, 10000), <<"\r\n">>])))).

%% A client that goes away in the middle of its body gives its reserved bytes back.
abandoned_body_released() ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, kem_http:port(), [binary, {active, false}]),
    ok = gen_tcp:send(S, <<"POST /~kem@1.0/execute_kernel HTTP/1.1\r\nhost: x\r\ncontent-length: 60000\r\n\r\n",
                           (binary:copy(<<" ">>, 1000))/binary>>),
    ?assertEqual(ok, wait_held(body_bytes, fun(N) -> N > 0 end, 100)),
    gen_tcp:close(S),
    ?assertEqual(ok, wait_held(body_bytes, fun(N) -> N =:= 0 end, 500)).

%% A client that goes away while its call runs: the call slot comes back (when the call
%% ends, or when Cowboy kills the request's process).
abandoned_call_released() ->
    Body = kem_json:encode(#{<<"kernel_id">> => kem_test_env:pin_source(kem_test_env:spin_source()),
                             <<"input_base64">> => base64:encode(binary:copy(<<7, 7, 7, 7>>, 256))}),
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, kem_http:port(), [binary, {active, false}]),
    ok = gen_tcp:send(S, [<<"POST /~kem@1.0/execute_kernel HTTP/1.1\r\nhost: x\r\ncontent-length: ">>,
                          integer_to_binary(byte_size(Body)), <<"\r\n\r\n">>, Body]),
    ?assertEqual(ok, wait_held(calls, fun(N) -> N =:= 1 end, 200)),
    gen_tcp:close(S),
    ?assertEqual(ok, wait_held(calls, fun(N) -> N =:= 0 end, 1000)),
    ?assertMatch({200, _, <<2, 6, 10, 14>>}, post("/~kem@1.0/execute_kernel", poc_body())).

wait_held(_, _, 0) -> timeout;
wait_held(Key, Pred, Tries) ->
    case Pred(atomics:get(maps:get(Key, kem_http:settings()), 1)) of
        true -> ok;
        false -> timer:sleep(10), wait_held(Key, Pred, Tries - 1)
    end.

raw(Request) -> raw(Request, {127, 0, 0, 1}).

raw(Request, From) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, kem_http:port(), [binary, {active, false}, {ip, From}]),
    _ = gen_tcp:send(S, Request),
    Response = recv_all(S, <<>>),
    gen_tcp:close(S),
    parse_raw(Response).

parse_raw(Response) ->
    [Head, RespBody] = binary:split(Response, <<"\r\n\r\n">>),
    [<<"HTTP/1.1 ", Code:3/binary, _/binary>> | Lines] = binary:split(Head, <<"\r\n">>, [global]),
    Headers = [{string:lowercase(binary_to_list(K)), binary_to_list(string:trim(V))}
               || L <- Lines, [K, V] <- [binary:split(L, <<":">>)]],
    {binary_to_integer(Code), Headers, RespBody}.

%% More connections from one address than max_connections_per_address: the extra one is
%% answered 429 with a JSON reason and Retry-After; other addresses are not affected, and
%% the address may connect again once its connections are gone.
per_address_limit() ->
    kem_http:stop(),
    start(#{max_connections_per_address => 2}),
    try
        From = {127, 0, 0, 5},
        Idle = [begin
                    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, kem_http:port(), [binary, {active, false}, {ip, From}]),
                    S
                end || _ <- [1, 2]],
        timer:sleep(100),
        {429, Headers, _} = Refused = raw(<<"GET /~kem@1.0/info HTTP/1.1\r\nhost: x\r\n\r\n">>, From),
        ?assertEqual({429, <<"busy">>}, json_error(Refused)),
        ?assertEqual("1", proplists:get_value("retry-after", Headers)),
        ?assertMatch({200, _, <<2, 6, 10, 14>>}, post("/~kem@1.0/execute_kernel", poc_body())),
        [gen_tcp:close(S) || S <- Idle],
        timer:sleep(200),
        ?assertMatch({200, _, _}, raw(<<"GET /~kem@1.0/info HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n">>, From))
    after
        kem_http:stop(),
        start(#{})
    end.

%% A body that comes a byte at a time is cut within about a second: 408, JSON, Retry-After.
slow_body() ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, kem_http:port(), [binary, {active, false}]),
    ok = gen_tcp:send(S, <<"POST /~kem@1.0/execute_kernel HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{">>),
    T0 = erlang:monotonic_time(millisecond),
    % A byte every 300 ms, until the reply is there (sending on would reset the connection).
    Drip = fun Drip(0) -> recv_all(S, <<>>);
               Drip(N) ->
                   case gen_tcp:recv(S, 0, 300) of
                       {ok, Data} -> recv_all(S, Data);
                       {error, timeout} -> ok = gen_tcp:send(S, <<" ">>), Drip(N - 1)
                   end
           end,
    Response = Drip(20),
    Took = erlang:monotonic_time(millisecond) - T0,
    gen_tcp:close(S),
    {408, Headers, _} = Reply = parse_raw(Response),
    ?assertEqual({408, <<"timeout">>}, json_error(Reply)),
    ?assertEqual("1", proplists:get_value("retry-after", Headers)),
    ?assert(Took < 5000).
