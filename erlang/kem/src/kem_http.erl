%%% @doc KEM's own HyperBEAM-compatible HTTP endpoint, for nodes that run kem without
%%% HyperBEAM: inets httpd on 127.0.0.1:10001 by default, routes /~kem@1.0/KEY handled by
%%% dev_kem exactly as HyperBEAM would hand them over (see kem_http_mod).
%%%
%%% Settings (the kem application's `http` map, or start_link/1's argument): enabled (false),
%%% port (10001; 0 picks a free one), ip ({127,0,0,1}), max_body (16 MiB), max_concurrency
%%% (64 calls at once; more are refused with 503 and Retry-After), request_timeout (ms; the
%%% call's own deadline plus 5 s by default).
-module(kem_http).
-behaviour(gen_server).
-export([start_link/0, start_link/1, stop/0, port/0, settings/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(DEFAULTS, #{port => 10001, ip => {127, 0, 0, 1}, max_body => 16 * 1024 * 1024,
                    max_concurrency => 64, request_timeout => undefined}).

%% Started by kem_sup when the application's `http` setting has enabled => true.
start_link() -> start_link(kem_config:value(http)).

-spec start_link(map()) -> {ok, pid()} | {error, term()}.
start_link(Settings) when is_map(Settings) ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, maps:merge(?DEFAULTS, Settings), []).

stop() -> gen_server:stop(?MODULE).

%% @doc The port the endpoint listens on.
port() -> gen_server:call(?MODULE, port).

%% @doc The running endpoint's settings (read by kem_http_mod for every request).
settings() -> persistent_term:get({?MODULE, settings}).

init(Settings) ->
    process_flag(trap_exit, true),
    kem_metrics:init(),
    Root = filename:join(filename:basedir(user_cache, "kem"), "httpd"),
    ok = filelib:ensure_dir(filename:join(Root, "x")),
    #{port := Port, ip := Ip, max_body := MaxBody, max_concurrency := Max} = Settings,
    Config = [{port, Port}, {bind_address, Ip}, {ipfamily, inet},
              {server_name, "kem"}, {server_root, Root}, {document_root, Root},
              {modules, [kem_http_mod]},
              % Bodies up to max_body reach kem_http_mod, which answers a larger one 413 with
              % JSON; httpd itself drops the connection beyond twice that.
              {max_body_size, 2 * MaxBody},
              % httpd's own limit answers with HTML; ours (max_concurrency) answers first.
              {max_clients, 4 * Max + 16},
              {keep_alive, true}, {keep_alive_timeout, 30}],
    % calls: the number of calls being served, shared by all request handlers.
    persistent_term:put({?MODULE, settings}, Settings#{calls => atomics:new(1, [{signed, true}])}),
    % Under inets' own supervisor (httpd:info/2 works only there); we monitor it.
    {ok, _} = application:ensure_all_started(inets),
    case inets:start(httpd, Config) of
        {ok, Pid} ->
            link(Pid),
            [{port, Bound}] = httpd:info(Pid, [port]),
            logger:info("kem: HTTP endpoint on ~s:~b", [inet:ntoa(Ip), Bound]),
            {ok, #{httpd => Pid, port => Bound}};
        {error, Reason} ->
            {stop, Reason}
    end.

handle_call(port, _From, State = #{port := Port}) -> {reply, Port, State};
handle_call(_, _From, State) -> {reply, {error, unknown_call}, State}.

handle_cast(_, State) -> {noreply, State}.

handle_info({'EXIT', Pid, Reason}, State = #{httpd := Pid}) -> {stop, Reason, State};
handle_info(_, State) -> {noreply, State}.

terminate(_, #{httpd := Pid}) ->
    catch inets:stop(httpd, Pid),
    ok;
terminate(_, _) ->
    ok.
