%%% @doc The kem application. The executor and kernel store need no process (they live in the
%%% NIF and start on first use); the supervisor only runs the optional HTTP endpoint.
-module(kem_app).
-behaviour(application).
-export([start/2, stop/1]).

start(_Type, _Args) -> kem_sup:start_link().

stop(_State) -> ok.
