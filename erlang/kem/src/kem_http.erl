%%% @doc KEM's own HyperBEAM-compatible HTTP endpoint, for nodes that run kem without
%%% HyperBEAM: Cowboy (HTTP/1.1, the server HyperBEAM itself uses) on 127.0.0.1:10001 by
%%% default, routes /~kem@1.0/KEY handled by dev_kem exactly as HyperBEAM would hand them over
%%% (see kem_http_handler). Cowboy replaced inets httpd for issue 14: httpd has no minimum
%%% transfer rate, no header timeout shorter than its keep-alive, no per-client limit, and
%%% buffers bodies as strings (docs/hyperbeam.md has the measurements).
%%%
%%% Settings (the kem application's `http` map, or start_link/1's argument):
%%% - enabled (false), port (10001; 0 picks a free one), ip ({127,0,0,1});
%%% - max_body (16 MiB): larger bodies are answered 413 (at once when Content-Length says so);
%%% - max_body_total (4 x max_body): bytes of bodies held at once, being read or served;
%%%   beyond, 503 + Retry-After;
%%% - max_concurrency (64 calls at once; more are refused with 503 and Retry-After);
%%% - request_timeout (ms; by default the longest deadline a call can get plus 5 s);
%%% - header_timeout (5000 ms): the request line and headers must arrive within it (408);
%%% - body_timeout (60000 ms) and min_body_rate (1024 bytes/s, each second): else 408;
%%% - idle_timeout (30000 ms): an idle keep-alive connection is closed;
%%% - max_connections (1024) and max_connections_per_address (64): a connection over the
%%%   latter is answered 429 + Retry-After; at the former, new connections wait in the
%%%   listen backlog;
%%% - send_timeout (30000 ms): a client that does not read its reply is dropped.
%%% Every refusal is JSON ({"error", "details"}); those a retry may cure carry Retry-After.
-module(kem_http).
-behaviour(gen_server).
-export([start_link/0, start_link/1, stop/0, port/0, settings/0, admit/1, watch_holder/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(LISTENER, kem_http_listener).
%% Connections per client address: {Address, Count}, rows removed at 0.
-define(PEERS, kem_http_peers).
-define(DEFAULTS, #{port => 10001, ip => {127, 0, 0, 1}, max_body => 16 * 1024 * 1024,
                    max_body_total => undefined, max_concurrency => 64,
                    request_timeout => undefined, header_timeout => 5000, body_timeout => 60000,
                    min_body_rate => 1024, idle_timeout => 30000, max_connections => 1024,
                    max_connections_per_address => 64, send_timeout => 30000}).

%% Started by kem_sup when the application's `http` setting has enabled => true.
start_link() -> start_link(kem_config:value(http)).

-spec start_link(map()) -> {ok, pid()} | {error, term()}.
start_link(Settings) when is_map(Settings) ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, maps:merge(?DEFAULTS, Settings), []).

stop() -> gen_server:stop(?MODULE).

%% @doc The port the endpoint listens on.
port() -> gen_server:call(?MODULE, port).

%% @doc The running endpoint's settings (read by the handlers for every request).
settings() -> persistent_term:get({?MODULE, settings}).

%% @doc Called by each new connection (kem_http_conn): ok, and the connection is counted
%% against its address until it ends, or {refused, Max}.
-spec admit(inet:ip_address()) -> ok | {refused, pos_integer()}.
admit(Address) ->
    #{max_connections_per_address := Max} = settings(),
    case ets:update_counter(?PEERS, Address, {2, 1}, {Address, 0}) of
        N when N > Max ->
            forget(Address),
            {refused, Max};
        _ ->
            gen_server:cast(?MODULE, {watch, self(), Address})
    end.

%% @doc Called once by each request process that holds a call slot or body bytes
%% (kem_http_hold): what it holds goes back when it dies.
-spec watch_holder(pid()) -> ok.
watch_holder(Pid) -> gen_server:cast(?MODULE, {watch_holder, Pid}).

init(Settings0) ->
    process_flag(trap_exit, true),
    kem_metrics:init(),
    case application:ensure_all_started(cowboy) of
        {ok, _} -> listen(complete(Settings0));
        {error, Reason} -> {stop, {cowboy_not_available, Reason}}
    end.

complete(Settings = #{max_body := MaxBody, max_body_total := undefined}) ->
    Settings#{max_body_total => 4 * MaxBody};
complete(Settings) ->
    Settings.

listen(Settings) ->
    #{port := Port, ip := Ip, max_connections := MaxConn, header_timeout := HeaderTimeout,
      idle_timeout := Idle, send_timeout := SendTimeout} = Settings,
    _ = ets:new(?PEERS, [named_table, public, {write_concurrency, true}]),
    ok = kem_http_hold:new_table(),
    % calls: the calls being served; body_bytes: the bytes of bodies held (kem_http_body).
    persistent_term:put({?MODULE, settings},
                        Settings#{calls => atomics:new(1, [{signed, true}]),
                                  body_bytes => atomics:new(1, [{signed, true}])}),
    Transport = #{socket_opts => [{ip, Ip}, {port, Port}, {send_timeout, SendTimeout},
                                  {send_timeout_close, true}],
                  max_connections => MaxConn, num_acceptors => 4},
    Protocol = #{env => #{handler => kem_http_handler, handler_opts => #{}},
                 middlewares => [cowboy_handler],
                 stream_handlers => [kem_http_stream, cowboy_stream_h],
                 % Cowboy's request_timeout runs from the connection's start (or the end of
                 % the previous request) to the end of the headers, never reset by data.
                 request_timeout => HeaderTimeout,
                 idle_timeout => Idle,
                 % The body reader's own checks decide (kem_http_body).
                 inactivity_timeout => infinity},
    case ranch:start_listener(?LISTENER, ranch_tcp, Transport, kem_http_conn, Protocol) of
        {ok, Pid} ->
            link(Pid),
            Bound = ranch:get_port(?LISTENER),
            logger:info("kem: HTTP endpoint on ~s:~b", [inet:ntoa(Ip), Bound]),
            {ok, #{listener => Pid, port => Bound}};
        {error, Reason} ->
            {stop, Reason}
    end.

handle_call(port, _From, State = #{port := Port}) -> {reply, Port, State};
handle_call(_, _From, State) -> {reply, {error, unknown_call}, State}.

handle_cast({watch, Pid, Address}, State) ->
    _ = monitor(process, Pid, [{tag, {'DOWN', Address}}]),
    {noreply, State};
handle_cast({watch_holder, Pid}, State) ->
    _ = monitor(process, Pid, [{tag, 'HOLDER_DOWN'}]),
    {noreply, State};
handle_cast(_, State) -> {noreply, State}.

handle_info({{'DOWN', Address}, _, process, _, _}, State) ->
    forget(Address),
    {noreply, State};
handle_info({'HOLDER_DOWN', _, process, Pid, _}, State) ->
    kem_http_hold:dead(Pid),
    {noreply, State};
handle_info({'EXIT', Pid, Reason}, State = #{listener := Pid}) -> {stop, Reason, State};
handle_info(_, State) -> {noreply, State}.

terminate(_, #{listener := _}) ->
    catch ranch:stop_listener(?LISTENER),
    ok;
terminate(_, _) ->
    ok.

%% One connection fewer; the row goes at 0 (atomically: only a row that is still 0).
forget(Address) ->
    case ets:update_counter(?PEERS, Address, {2, -1}) of
        0 -> ets:delete_object(?PEERS, {Address, 0});
        _ -> ok
    end,
    ok.
