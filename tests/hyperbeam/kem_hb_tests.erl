%%% @doc kem@1.0 inside a real HyperBEAM node (tests/hyperbeam/run.sh runs this module).
%%%
%%% This VM is the node: kem_hb_node starts HyperBEAM b2743e4 with kem@1.0 preloaded, on
%%% 127.0.0.1 of a loopback-only network namespace, and every HTTP case below goes through
%%% HyperBEAM's own cowboy listener with a real client (httpc). The ao cases create a
%%% lua@5.3a process running lua/kem-device.lua (bundled with lua/kem.lua by lua/bundle.sh),
%%% schedule messages on it as HyperBEAM's own dev_lua tests do, and read its results over
%%% HTTP. Every result is compared with a CPU reference (kem_ref, kem_png_ref), never with
%%% the GPU's own output.
%%%
%%% The module runs twice: with the operator's one-line change to hb_opts (kem@1.0 among
%%% HyperBEAM's default devices), where ao.resolve reaches kem@1.0, and without it, where it
%%% cannot (module_not_admissable); which one is read from hb_opts itself.
%%%
%%% Environment: KEM_REPO_DIR (the checkout), KEM_HB_TEST_DIR (the node's state folder),
%%% KEM_HB_TEST_PORT (the node's port).
-module(kem_hb_tests).
-include_lib("eunit/include/eunit.hrl").

-define(POC_ID, <<"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg">>).
-define(SEED_BODY,
        <<"{\"kernel_id\": \"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg\", "
          "\"input_data\": [1,3,5,7], \"output_size_hint\": 1}">>).
%% A well-formed ID that no pin, cache or gateway has (the node is offline).
-define(UNKNOWN_ID, <<"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA">>).

kem_hb_test_() ->
    {setup, fun setup/0, fun(_) -> ok end,
     fun(Node) ->
         case kem_in_default_devices() of
             true ->
                 [{timeout, 120, {Name, fun() -> F(Node) end}} || {Name, F} <- with_change()];
             false ->
                 [{timeout, 120, {Name, fun() -> F(Node) end}} || {Name, F} <- without_change()]
         end
     end}.

%% The operator added kem@1.0 to hb_opts's default preloaded_devices (docs/hyperbeam.md).
kem_in_default_devices() ->
    lists:any(fun(D) -> maps:get(<<"name">>, D, undefined) =:= <<"kem@1.0">> end,
              hb_opts:get(preloaded_devices)).

with_change() ->
    [{"the seed's request", fun seed_request/1},
     {"random inputs and hints against the CPU", fun random_inputs/1},
     {"info and get_adapter_info", fun info_and_adapter/1},
     {"every handler in its dashed spelling", fun dashed_handlers/1},
     {"request fields as headers and query keys", fun headers_and_query/1},
     {"every error class: status and JSON body", fun error_classes/1},
     {"a call past its timeout: 504, then the next call works", fun timeout_then_recovery/1},
     {"a kernel that crashes the driver: an error naming the signal, then refused; the node lives on",
      fun driver_crash/1},
     {"execute_kernel_with_params: raw RGBA8, PNG and JPEG", fun image_calls/1},
     {"calls leave the store alone; HyperBEAM's default stores them", fun store_growth/1},
     {"ao process: ao.resolve doubles values on the GPU", fun ao_process_doubles/1},
     {"ao process: an unknown kernel is an error inside Lua", fun ao_unknown_kernel/1}].

without_change() ->
    [{"the seed's request works over HTTP", fun seed_request/1},
     {"ao process: without kem@1.0 in the defaults ao.resolve is refused",
      fun ao_without_default_devices/1}].

%%% Set-up

setup() ->
    Repo = os:getenv("KEM_REPO_DIR"),
    Dir = os:getenv("KEM_HB_TEST_DIR"),
    Port = list_to_integer(os:getenv("KEM_HB_TEST_PORT")),
    Pins = filename:join(Dir, "pins"),
    ok = filelib:ensure_dir(filename:join(Pins, "x")),
    Kernels = #{pixelize => pin(Pins, kernel(Repo, "pixelize.wgsl")),
                broken => pin(Pins, <<"@compute @workgroup_size(1)\nfn main() {\n  let x = undefined_name;\n}\n">>),
                endless => pin(Pins, endless_source()),
                spin => pin(Pins, kem_test_env:spin_source()),
                crash => pin(Pins, compiler_crash_source())},
    {ok, _} = application:ensure_all_started(inets),
    {ok, _} = kem_hb_node:start(#{port => Port, dir => Dir}),
    #{url => url(Port), port => Port, dir => Dir, repo => Repo, kernels => Kernels}.

%% 127.0.0.1, not HyperBEAM's "localhost": the namespace has no resolver for names.
url(Port) -> "http://127.0.0.1:" ++ integer_to_list(Port).

kernel(Repo, Name) ->
    {ok, Bin} = file:read_file(filename:join([Repo, "kernels", Name])),
    Bin.

%% Pins a kernel under an ID made from its text (43 base64url characters, like Arweave's).
pin(Pins, Source) ->
    Id = b64url(crypto:hash(sha256, Source)),
    ok = file:write_file(filename:join(Pins, binary_to_list(Id) ++ ".wgsl"), Source),
    Id.

b64url(Bin) ->
    << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>> || <<C>> <= base64:encode(Bin), C =/= $= >>.

%% A loop that never ends by itself: only the loop budget stops it.
endless_source() ->
    <<"@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() {\n"
      "  var x = input[0];\n"
      "  loop { x = x + 1u; if (x == 0u) { break; } }\n"
      "  output[0] = x;\n"
      "}\n">>.

%% lavapipe's shader compiler divides INT_MIN by -1 creating this pipeline (issue 16): SIGFPE in
%% whichever process holds the device. With KEM that is its GPU worker, never the node.
compiler_crash_source() ->
    <<"@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() {\n"
      "  for (var k = 0; k >= -2147483647 - 1; k--) { output[0] = 1u; }\n"
      "}\n">>.

%%% HTTP (the real client, against HyperBEAM's listener)

post(Node, Path, Body) -> post(Node, Path, [], Body).
post(#{url := Url}, Path, Headers, Body) ->
    reply(httpc:request(post, {Url ++ Path, Headers, "application/json", Body},
                        [{timeout, 60000}], [{body_format, binary}])).

get(#{url := Url}, Path) ->
    reply(httpc:request(get, {Url ++ Path, []}, [{timeout, 60000}, {autoredirect, false}],
                        [{body_format, binary}])).

reply({ok, {{_, Status, _}, Headers, Body}}) ->
    {Status, [{string:lowercase(K), V} || {K, V} <- Headers], Body}.

header(Name, Headers) -> proplists:get_value(Name, Headers).

json(Bin) -> json:decode(Bin).

call_body(Id, Input, Extra) ->
    iolist_to_binary(json:encode(Extra#{<<"kernel_id">> => Id,
                                        <<"input_base64">> => base64:encode(Input)})).

%%% HTTP cases

seed_request(Node) ->
    {Status, Headers, Body} = post(Node, "/~kem@1.0/execute_kernel", ?SEED_BODY),
    ?assertEqual({200, <<2, 6, 10, 14>>}, {Status, Body}),
    ?assertEqual("application/octet-stream", header("content-type", Headers)).

random_inputs(Node) ->
    lists:foreach(
      fun(N) ->
          Input = crypto:strong_rand_bytes(1 + rand:uniform(400)),
          Hint = 1 + N rem 3,
          Body = call_body(?POC_ID, Input, #{<<"output_size_hint">> => Hint}),
          ?assertEqual({200, kem_ref:double(Input, Hint)},
                       status_body(post(Node, "/~kem@1.0/execute_kernel", Body)))
      end, lists:seq(1, 24)),
    % The proof of concept's byte-array form, with values across the byte range.
    Bytes = [0, 1, 127, 128, 254, 255, 16#12, 16#34],
    Body = iolist_to_binary(json:encode(#{<<"kernel_id">> => ?POC_ID, <<"input_data">> => Bytes})),
    ?assertEqual({200, kem_ref:double(list_to_binary(Bytes), 1)},
                 status_body(post(Node, "/~kem@1.0/execute_kernel", Body))).

status_body({Status, _, Body}) -> {Status, Body}.

info_and_adapter(Node) ->
    {200, H1, Info} = get(Node, "/~kem@1.0/info"),
    ?assertEqual("application/json", header("content-type", H1)),
    #{<<"version">> := <<"1.0">>, <<"paths">> := Paths} = json(Info),
    ?assertEqual(lists:sort([<<"info">>, <<"execute_kernel">>, <<"execute_kernel_with_params">>,
                             <<"get_adapter_info">>]), lists:sort(maps:keys(Paths))),
    {200, H2, Adapter} = get(Node, "/~kem@1.0/get_adapter_info"),
    ?assertEqual("application/json", header("content-type", H2)),
    % The same adapter the NIF in this VM reports, asked directly.
    {ok, #{<<"name">> := Name}} = kem:adapter_info(),
    ?assertMatch(#{<<"name">> := Name}, json(Adapter)).

dashed_handlers(Node) ->
    ?assertEqual({200, <<2, 6, 10, 14>>},
                 status_body(post(Node, "/~kem@1.0/execute-kernel", ?SEED_BODY))),
    ?assertEqual(status_body(get(Node, "/~kem@1.0/get_adapter_info")),
                 status_body(get(Node, "/~kem@1.0/get-adapter-info"))),
    #{pixelize := Pixelize} = maps:get(kernels, Node),
    {W, H, Rgba} = image(5, 3),
    Body = call_body(Pixelize, Rgba, #{<<"params">> => [W, H, 2], <<"output_format">> => <<"raw">>}),
    ?assertEqual({200, kem_ref:pixelize(Rgba, W, H, 2)},
                 status_body(post(Node, "/~kem@1.0/execute-kernel-with-params", Body))),
    % Mixed case reaches the same handler: HyperBEAM lowercases keys.
    ?assertEqual({200, <<2, 6, 10, 14>>},
                 status_body(post(Node, "/~kem@1.0/Execute_Kernel", ?SEED_BODY))).

headers_and_query(Node) ->
    Input = <<1, 0, 0, 0, 255, 255, 255, 255, 7>>,
    B64 = binary_to_list(uri_string:quote(base64:encode(Input))),
    Query = "/~kem@1.0/execute_kernel?kernel_id=" ++ binary_to_list(?POC_ID) ++
            "&input_base64=" ++ B64 ++ "&output_size_hint=2",
    ?assertEqual({200, kem_ref:double(Input, 2)}, status_body(post(Node, Query, <<>>))),
    Headers = [{"kernel-id", binary_to_list(?POC_ID)},
               {"input-base64", binary_to_list(base64:encode(Input))},
               {"output-size-hint", "3"}],
    ?assertEqual({200, kem_ref:double(Input, 3)},
                 status_body(post(Node, "/~kem@1.0/execute_kernel", Headers, <<>>))).

%% Each class: the HTTP status HyperBEAM sends (the reply's "status"), a JSON body with the
%% machine-readable code and a readable reason.
error_classes(Node) ->
    #{broken := Broken, endless := Endless} = maps:get(kernels, Node),
    Cases =
        [{400, <<"bad_request">>, <<"{\"kernel_id\": \"", ?POC_ID/binary, "\", \"input_data\": [1,3">>},
         {400, <<"bad_request">>, <<"{\"kernel_id\": \"", ?POC_ID/binary, "\", \"input_data\": [256]}">>},
         {400, <<"bad_request">>, <<"{\"input_data\": [1]}">>},
         {400, <<"invalid_argument">>, <<"{\"kernel_id\": \"not-an-id\", \"input_data\": [1]}">>},
         {404, <<"not_found">>, call_body(?UNKNOWN_ID, <<1, 2, 3, 4>>, #{})},
         {422, <<"compile_error">>, call_body(Broken, <<1, 2, 3, 4>>, #{})},
         {422, <<"limit_exceeded">>,
          call_body(?POC_ID, <<1, 2, 3, 4>>, #{<<"output_size_hint">> => 1000000000000})},
         {422, <<"budget_exceeded">>,
          call_body(Endless, <<1, 2, 3, 4>>, #{<<"loop_budget">> => 1000})}],
    lists:foreach(
      fun({Status, Code, Body}) ->
          {Got, Headers, Reply} = post(Node, "/~kem@1.0/execute_kernel", Body),
          ?assertEqual({Body, Status}, {Body, Got}),
          ?assertEqual("application/json", header("content-type", Headers)),
          #{<<"error">> := GotCode, <<"details">> := Details} = json(Reply),
          ?assertEqual({Body, Code}, {Body, GotCode}),
          ?assert(is_binary(Details) andalso byte_size(Details) > 0)
      end, Cases),
    % A compile error's position, also as numbers.
    {422, _, CompileError} = post(Node, "/~kem@1.0/execute_kernel", call_body(Broken, <<1, 2, 3, 4>>, #{})),
    ?assertMatch(#{<<"line">> := 3, <<"column">> := 11,
                   <<"details">> := <<"3:11: unresolved value 'undefined_name'", _/binary>>},
                 json(CompileError)),
    % A key the device does not have is HyperBEAM's own 404.
    ?assertMatch({404, _, _}, get(Node, "/~kem@1.0/no_such_key")).

%% The spin kernel (about 1 s on lavapipe for 128 invocations) against a 300 ms timeout.
timeout_then_recovery(Node) ->
    #{spin := Spin} = maps:get(kernels, Node),
    Body = call_body(Spin, binary:copy(<<1, 2, 3, 4>>, 128), #{<<"timeout">> => 300}),
    {Status, Headers, Reply} = post(Node, "/~kem@1.0/execute_kernel", Body),
    ?assertEqual(504, Status),
    ?assertEqual("application/json", header("content-type", Headers)),
    ?assertMatch(#{<<"error">> := <<"timeout">>}, json(Reply)),
    ?assertEqual({200, <<2, 6, 10, 14>>},
                 status_body(post(Node, "/~kem@1.0/execute_kernel", ?SEED_BODY))).

driver_crash(Node) ->
    #{crash := Crash} = maps:get(kernels, Node),
    VmPid = os:getpid(),
    Call = fun() -> post(Node, "/~kem@1.0/execute_kernel", call_body(Crash, <<0, 0, 0, 0>>, #{})) end,
    % The first call crashes a GPU worker (503 device_lost). HyperBEAM may resolve the request
    % again after that error; the kernel is then refused (422: it crashed a worker), so the
    % caller sees either, each naming the signal.
    {Status, Headers, Reply} = Call(),
    ?assertEqual("application/json", header("content-type", Headers)),
    #{<<"error">> := Error, <<"details">> := Details} = json(Reply),
    ?assert(lists:member({Status, Error}, [{503, <<"device_lost">>}, {422, <<"compile_error">>}])),
    ?assertNotEqual(nomatch, binary:match(Details, <<"SIGFPE">>)),
    % Again: refused at once, without crashing another worker.
    {422, _, Again} = Call(),
    #{<<"error">> := <<"compile_error">>, <<"details">> := Refused} = json(Again),
    ?assertNotEqual(nomatch, binary:match(Refused, <<"refused">>)),
    % The same node (this VM) answers the next calls, exactly.
    ?assertEqual(VmPid, os:getpid()),
    [?assertEqual({200, <<2, 6, 10, 14>>}, status_body(post(Node, "/~kem@1.0/execute_kernel", ?SEED_BODY)))
     || _ <- lists:seq(1, 5)].

image_calls(Node) ->
    #{pixelize := Pixelize} = maps:get(kernels, Node),
    {W, H, Rgba} = image(13, 7),
    Expected = kem_ref:pixelize(Rgba, W, H, 4),
    Raw = call_body(Pixelize, Rgba, #{<<"params">> => [W, H, 4], <<"output_format">> => <<"raw">>}),
    ?assertEqual({200, Expected},
                 status_body(post(Node, "/~kem@1.0/execute_kernel_with_params", Raw))),
    % PNG in, PNG out: width and height come from the PNG (params words 0 and 1 are ignored).
    Png = call_body(Pixelize, kem_png_ref:encode(W, H, Rgba), #{<<"params">> => [0, 0, 4]}),
    {200, Headers, Out} = post(Node, "/~kem@1.0/execute_kernel_with_params", Png),
    ?assertEqual("image/png", header("content-type", Headers)),
    ?assertEqual({W, H, Expected}, kem_png_ref:decode(Out)),
    % JPEG in: pixelize with 1-pixel blocks hands back the decoded pixels, which must be the
    % independent decoder's (jpeg-js, erlang/kem/test/data) within two decoders' rounding.
    Data = filename:join([maps:get(repo, Node), "erlang", "kem", "test", "data"]),
    {ok, Jpeg} = file:read_file(filename:join(Data, "gradient-37x23.jpg")),
    {ok, Reference} = file:read_file(filename:join(Data, "gradient-37x23.rgba")),
    JpegBody = call_body(Pixelize, Jpeg, #{<<"params">> => [0, 0, 1], <<"output_format">> => <<"raw">>}),
    {200, _, Decoded} = post(Node, "/~kem@1.0/execute_kernel_with_params", JpegBody),
    ?assertEqual(byte_size(Reference), byte_size(Decoded)),
    Diffs = [abs(A - B) || {A, B} <- lists:zip(binary_to_list(Reference), binary_to_list(Decoded))],
    ?assert(lists:max(Diffs) =< 3 andalso lists:sum(Diffs) / length(Diffs) =< 1.0).

image(W, H) ->
    {W, H, << <<((X * 37 + Y * 11) rem 256), ((X * Y) rem 256), (255 - X), (Y * 9)>>
              || Y <- lists:seq(0, H - 1), X <- lists:seq(0, W - 1) >>}.

%% KEM's default (no-store/no-cache for HTTP calls) keeps calls out of HyperBEAM's store; the
%% same calls on a node with HyperBEAM's own default (cache_control [always]) grow it. The
%% second node is in this VM too, on the next port, sharing the store folder.
store_growth(#{port := Port} = Node) ->
    Calls = fun(N, Target) ->
                [?assertEqual({200, kem_ref:double(<<I:32/little>>, 1)},
                              status_body(post(Target, "/~kem@1.0/execute_kernel",
                                               call_body(?POC_ID, <<I:32/little>>, #{}))))
                 || I <- lists:seq(1, N)]
            end,
    Before = store_size(Node),
    Calls(100, Node),
    ?assertEqual(Before, store_size(Node)),
    _ = hb:start_mainnet(kem_hb_node:node_opts(#{port => Port + 1, store_results => true,
                                                 key => <<"storing-node-key.json">>})),
    Storing = Node#{url => url(Port + 1)},
    Calls(10, Storing),
    {Files, Bytes} = store_size(Node),
    {Files0, Bytes0} = Before,
    ?debugFmt("HyperBEAM's default: 10 calls added ~b files, ~b bytes to the store",
              [Files - Files0, Bytes - Bytes0]),
    ?assert(Files > Files0).

store_size(#{dir := Dir}) -> kem_hb_node:store_size(Dir).

%%% ao processes

ao_process_doubles(Node) ->
    Values = [0, 1, 2, 3, 1000000, 2147483647, 2147483648, 4294967295],
    Expected = lists:join(",", [integer_to_list((2 * V) band 16#FFFFFFFF) || V <- Values]),
    Process = lua_process(Node, <<>>),
    schedule(Process, iolist_to_binary(lists:join(",", [integer_to_list(V) || V <- Values]))),
    ?assertEqual({200, iolist_to_binary(Expected)}, process_result(Node, Process, "data")).

ao_unknown_kernel(Node) ->
    Process = lua_process(Node, <<"KernelId = \"", ?UNKNOWN_ID/binary, "\"\n">>),
    schedule(Process, <<"5,6">>),
    {200, Error} = process_result(Node, Process, "error"),
    % The device's own JSON error, as kem-device.lua hands it on.
    ?assertMatch(#{<<"error">> := <<"not_found">>}, json(Error)).

%% HyperBEAM's Lua library checks ao.resolve's device against hb_opts's defaults only
%% (dev_lua_lib:install/3 calls hb_opts:get(preloaded_devices, Opts), which takes Opts as the
%% default value), so the node's own preloaded_devices do not count. The refusal is an Erlang
%% error that Lua's pcall cannot catch: the process's whole computation fails, and reading its
%% result answers 500 naming the device.
ao_without_default_devices(Node) ->
    Process = lua_process(Node, <<>>),
    schedule(Process, <<"1,2">>),
    {Status, Error} = process_result(Node, Process, "data"),
    ?assertEqual(500, Status),
    ?assertNotEqual(nomatch, binary:match(Error, <<"module_not_admissable,<<\"kem@1.0\">>">>)).

lua_process(#{repo := Repo}, Prefix) ->
    {ok, Process} = kem_hb_node:ao_process(Repo, Prefix),
    Process.

schedule(Process, Values) ->
    {ok, _} = kem_hb_node:schedule(Process, Values).

%% The process's latest result key, read over HTTP as any client would.
process_result(Node, Process, Key) ->
    Id = binary_to_list(hb_message:id(Process, all)),
    status_body(get(Node, "/" ++ Id ++ "/now/results/output/" ++ Key)).
