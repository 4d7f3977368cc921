-module(kem_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).

start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).

%% The HTTP endpoint runs only when the application's `http` setting enables it.
init([]) ->
    Http = case kem_config:value(http) of
               #{enabled := true} ->
                   [#{id => kem_http, start => {kem_http, start_link, []}}];
               _ ->
                   []
           end,
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, Http}}.
