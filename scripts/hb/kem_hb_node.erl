%%% @doc Starts a real HyperBEAM node serving kem@1.0, the way docs/hyperbeam.md tells an
%%% operator to, for the main job (scripts/hb/node.sh) and the tests through the node
%%% (tests/hyperbeam/). Everything the node keeps (wallet, HyperBEAM's store, KEM's pins and
%%% kernel cache) is under one state folder, which becomes the VM's working directory because
%%% HyperBEAM's store and default key paths are relative to it.
%%%
%%% Environment: KEM_REPO_DIR (the checkout, for kernels/), KEM_HB_PORT (10001), KEM_HB_DIR
%%% (state folder, "."), KEM_HB_STORE_RESULTS
%%% ("1": HyperBEAM's default of writing every HTTP call's request and result into the store;
%%% otherwise KEM's default: HTTP calls read the store but never write into it; see
%%% docs/hyperbeam.md).
-module(kem_hb_node).
-export([start/0, start/1, node_opts/1, kem_env/1, ao_process/2, schedule/2, store_size/1]).

-define(POC_ID, <<"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg">>).

%% @doc From the command line (erl -s kem_hb_node): start the node, print where, keep serving.
start() ->
    Port = list_to_integer(os:getenv("KEM_HB_PORT", "10001")),
    Dir = os:getenv("KEM_HB_DIR", "."),
    StoreResults = os:getenv("KEM_HB_STORE_RESULTS", "0") =:= "1",
    case start(#{port => Port, dir => Dir, store_results => StoreResults}) of
        {ok, Url} ->
            io:format("kem_hb_node: serving ~~kem@1.0 at ~s (pid ~s)~n", [Url, os:getpid()]),
            os:getenv("KEM_HB_DEMO") =:= "1" andalso demo();
        {error, Reason} ->
            io:format(standard_error, "kem_hb_node: could not start: ~p~n", [Reason]),
            erlang:halt(1)
    end.

%% @doc Starts the node in this VM. Returns {ok, Url} or {error, Reason}.
start(#{dir := Dir} = Config) ->
    try
        ok = filelib:ensure_dir(filename:join(Dir, "x")),
        ok = file:set_cwd(Dir),
        Pins = filename:absname("pins"),
        ok = filelib:ensure_dir(filename:join(Pins, "x")),
        ok = pin_poc_kernel(Pins),
        _ = application:load(kem),
        [application:set_env(kem, K, V) || {K, V} <- kem_env(Pins)],
        Url = hb:start_mainnet(node_opts(Config)),
        {ok, Url}
    catch
        Class:Reason:Stack -> {error, {Class, Reason, Stack}}
    end.

%% @doc The kem application's settings for a node without network access: the proof of
%% concept's kernel from a local pin, never a gateway.
kem_env(Pins) ->
    [{pin_dir, Pins}, {offline, true}, {cache_dir, filename:absname("kernel-cache")}].

%% @doc The node's options: HyperBEAM's defaults, kem@1.0 among the preloaded devices, and
%% (unless asked for HyperBEAM's default) HTTP calls that read from the node's store but never
%% write into it. HyperBEAM's default, cache_control [always] in http_extra_opts, writes every
%% HTTP call's request and result into the store, and a device cannot say otherwise: the
%% node's options outrank a result's cache-control (hb_cache_control:derive_cache_settings/2).
%% "cache" keeps lookups on: without them a message addressed by ID over HTTP (a process's
%% /ID/now/results) is never loaded and answers 404.
node_opts(#{port := Port} = Config) ->
    Devices = hb_opts:get(preloaded_devices),
    Kem = #{<<"name">> => <<"kem@1.0">>, <<"module">> => dev_kem},
    % The key names the node's cowboy listener too: two nodes in one VM need two keys.
    Base = #{port => Port,
             priv_key_location => maps:get(key, Config, <<"hyperbeam-key.json">>),
             preloaded_devices => Devices ++ [Kem || not lists:member(Kem, Devices)]},
    case maps:get(store_results, Config, false) of
        true -> Base;
        false ->
            Base#{http_extra_opts => #{force_message => true,
                                       cache_control => [<<"no-store">>, <<"cache">>]}}
    end.


%% @doc {Files, Bytes} of the node's store (cache-mainnet, under its state folder Dir).
store_size(Dir) ->
    filelib:fold_files(filename:join(Dir, "cache-mainnet"), ".*", true,
                       fun(F, {N, B}) -> {N + 1, B + filelib:file_size(F)} end, {0, 0}).

%% The proof of concept's ID, pinned to the double-integer kernel it publishes (the node has
%% no network; a pin is the operator's trusted local copy, docs/kernel-store.md).
pin_poc_kernel(Pins) ->
    Kernel = filename:join([os:getenv("KEM_REPO_DIR", "."), "kernels", "double-integer.wgsl"]),
    Target = filename:join(Pins, binary_to_list(?POC_ID) ++ ".wgsl"),
    case file:copy(Kernel, Target) of
        {ok, _} -> ok;
        {error, Reason} -> {error, {Kernel, Reason}}
    end.

%%% The ao example

%% @doc For the main job: an ao process running lua/kem-device.lua, with one message
%% ("values" 1,3,5,7) scheduled on it. Its ID goes to demo-process-id in the state folder, for
%% a client to read /ID/now/results/output/data over HTTP (the node computes it then).
demo() ->
    Result = try
                 {ok, Process} = ao_process(os:getenv("KEM_REPO_DIR", "."), <<>>),
                 {ok, _} = schedule(Process, <<"1,3,5,7">>),
                 file:write_file("demo-process-id", hb_message:id(Process, all))
             catch Class:Reason -> {error, {Class, Reason}}
             end,
    Result =:= ok orelse io:format(standard_error, "kem_hb_node: ao example failed: ~0tp~n", [Result]).

%% @doc A signed lua@5.3a process whose module is lua/bundle.sh's script (lua/kem.lua ahead
%% of lua/kem-device.lua; Prefix before both), written into the node's store, as HyperBEAM's
%% own dev_lua tests make one.
ao_process(Repo, Prefix) ->
    Script = list_to_binary(os:cmd("sh " ++ filename:join([Repo, "lua", "bundle.sh"]))),
    Wallet = hb:wallet(),
    Process = hb_message:commit(
                #{<<"device">> => <<"process@1.0">>,
                  <<"type">> => <<"Process">>,
                  <<"scheduler-device">> => <<"scheduler@1.0">>,
                  <<"execution-device">> => <<"lua@5.3a">>,
                  <<"module">> => #{<<"content-type">> => <<"application/lua">>,
                                    <<"body">> => <<Prefix/binary, Script/binary>>},
                  <<"authority">> => [hb:address()],
                  <<"scheduler-location">> => hb_util:human_id(ar_wallet:to_address(Wallet)),
                  <<"random-seed">> => rand:uniform(1 bsl 30)},
                Wallet),
    case binary:match(Script, <<"package.loaded[\"kem\"]">>) of
        nomatch -> {error, {no_bundle, Script}};
        _ ->
            {ok, _} = hb_cache:write(Process, #{}),
            {ok, Process}
    end.

%% @doc Schedules one message carrying "values" on the process (the process's scheduler is
%% this node).
schedule(Process, Values) ->
    Wallet = hb:wallet(),
    Message = hb_message:commit(
                #{<<"path">> => <<"schedule">>,
                  <<"method">> => <<"POST">>,
                  <<"body">> => hb_message:commit(
                                  #{<<"target">> => hb_message:id(Process, all),
                                    <<"type">> => <<"Message">>,
                                    <<"values">> => Values,
                                    <<"random-seed">> => rand:uniform(1 bsl 30)},
                                  Wallet)},
                Wallet),
    hb_ao:resolve(Process, Message, #{hashpath => ignore}).
