%%% @doc The one node-wide setup every kem test module shares (the executor and the kernel
%%% store are created once per node, from the application environment set here): pins in a
%%% temporary folder, a loopback "gateway" that answers 404 to everything, no disk cache.
-module(kem_test_env).
-export([setup/0, spin_source/0, kernel/1, kernel_path/1, poc_id/0, gateway_port/0, stop_gateway/0,
         restart_gateway/0, bad_bytes_id/0, pin/1, pin_source/1, repo_dir/0]).

-define(BAD_BYTES_PREFIX, <<"VERIFYFAIL">>).
-define(POC_ID, <<"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg">>).

poc_id() -> ?POC_ID.

%% A kernel that loops 16M times per invocation: seconds on lavapipe, for timeout tests.
spin_source() ->
    <<"
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  var x = input[0];
  for (var i = 0u; i < 16000000u; i++) { x = x * 1664525u + 1013904223u; }
  if (id.x < arrayLength(&output)) { output[id.x] = x; }
}
">>.

setup() ->
    case persistent_term:get({?MODULE, ready}, false) of
        true ->
            ok;
        false ->
            Tmp = filename:join("/tmp", "kem-eunit-" ++ os:getpid()),
            Pins = filename:join(Tmp, "pins"),
            ok = filelib:ensure_dir(filename:join(Pins, "x")),
            % The proof of concept's ID pinned to the double-integer kernel it publishes.
            {ok, _} = file:copy(kernel_path("double-integer.wgsl"),
                                filename:join(Pins, binary_to_list(?POC_ID) ++ ".wgsl")),
            Port = start_gateway(0),
            _ = application:load(kem),
            Env = [{pin_dir, Pins},
                   {cache_dir, filename:join(Tmp, "cache")},
                   {disk_cache, false},
                   {gateways, ["http://127.0.0.1:" ++ integer_to_list(Port)]},
                   {gateway_connect_timeout, 1000},
                   {gateway_request_timeout, 2000},
                   % A gateway taken down and back up (kem_tests:gateway_down) is tried
                   % again soon; nothing else depends on the back-off.
                   {gateway_backoff_initial, 50},
                   {gateway_backoff_max, 100},
                   {default_timeout, 20000},
                   % Two devices on the adapter (lavapipe here): the node's pool, as on a
                   % machine with two GPUs (kem_concurrency_tests loses one under load).
                   {devices_per_adapter, 2}],
            lists:foreach(fun({K, V}) -> application:set_env(kem, K, V) end, Env),
            persistent_term:put({?MODULE, ready}, true),
            ok
    end.

%% @doc The source of one of the repository's example kernels (kernels/NAME).
kernel(Name) ->
    {ok, Bin} = file:read_file(kernel_path(Name)),
    Bin.

kernel_path(Name) ->
    filename:join(repo_kernels(), Name).

%% @doc The repository's root folder.
repo_dir() -> filename:dirname(repo_kernels()).

%% The repository's kernels/ folder, found upwards from this file or the working directory
%% (rebar3 may compile tests from a copy under _build).
repo_kernels() ->
    Starts = [filename:dirname(?FILE), element(2, file:get_cwd())],
    case lists:filtermap(fun(D) -> up(filename:absname(D)) end, Starts) of
        [Dir | _] -> Dir;
        [] -> error(no_repository_kernels)
    end.

up("/") -> false;
up(Dir) ->
    Candidate = filename:join(Dir, "kernels"),
    case filelib:is_regular(filename:join(Candidate, "double-integer.wgsl")) of
        true -> {true, Candidate};
        false -> up(filename:dirname(Dir))
    end.

%% @doc Pins one of the repository's kernels under a made-up ID (pins are operator-trusted,
%% so any well-formed ID will do) and returns the ID.
pin(Name) -> pin_source(kernel(Name)).

pin_source(Source) ->
    Std = base64:encode(crypto:hash(sha256, Source)),
    Id = << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>> || <<C>> <= Std, C =/= $= >>,
    ok = file:write_file(filename:join(kem_config:value(pin_dir), <<Id/binary, ".wgsl">>), Source),
    Id.

%%% Loopback gateway: a listening socket that answers every request with 404, so that
%%% unknown IDs are "not found" (except bad_bytes_id/0); closing it makes the gateway "down".

gateway_port() -> persistent_term:get({?MODULE, gateway_port}).

start_gateway(Port0) ->
    Parent = self(),
    Pid = spawn(fun() ->
        {ok, L} = gen_tcp:listen(Port0, [binary, {ip, {127, 0, 0, 1}}, {active, false},
                                          {reuseaddr, true}]),
        {ok, Port} = inet:port(L),
        Parent ! {gateway, Port},
        accept(L)
    end),
    register(kem_test_gateway, Pid),
    receive {gateway, Port} -> persistent_term:put({?MODULE, gateway_port}, Port), Port
    after 5000 -> error(gateway_start)
    end.

accept(L) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            spawn(fun() -> serve(S) end),
            accept(L);
        {error, _} ->
            ok
    end.

serve(S) ->
    Reply = case gen_tcp:recv(S, 0, 2000) of
                % An ID starting with "VERIFYFAIL" gets bytes that cannot be verified (a
                % compressed body although identity was asked for): verification_failed.
                {ok, Request} when is_binary(Request) ->
                    case binary:match(Request, ?BAD_BYTES_PREFIX) of
                        nomatch -> not_found;
                        _ -> bad_bytes
                    end;
                _ -> not_found
            end,
    _ = gen_tcp:send(S, case Reply of
                            not_found -> <<"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n">>;
                            bad_bytes -> <<"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n"
                                           "Connection: close\r\n\r\nabcd">>
                        end),
    gen_tcp:close(S).

%% @doc An ID the loopback gateway answers with bytes that fail verification.
bad_bytes_id() -> <<?BAD_BYTES_PREFIX/binary, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA">>.

%% @doc Takes the gateway down: connections are refused until restart_gateway/0.
stop_gateway() ->
    case whereis(kem_test_gateway) of
        undefined -> ok;
        Pid ->
            Ref = monitor(process, Pid),
            exit(Pid, kill),
            receive {'DOWN', Ref, process, Pid, _} -> ok end
    end.

%% @doc Brings the gateway back on its port.
restart_gateway() ->
    stop_gateway(),
    start_gateway(gateway_port()),
    ok.
