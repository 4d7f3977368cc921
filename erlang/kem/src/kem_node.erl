%%% @doc The node's one executor and one kernel store, both inside kem_nif and created on
%%% first use from the application environment (kem_config). Creating them runs on a dirty
%%% scheduler; checking that they exist is a plain NIF call (an atomic load), asked of the
%%% library itself so that a reloaded NIF library starts its own.
-module(kem_node).
-export([ensure_executor/0, ensure_store/0]).

-spec ensure_executor() -> ok | kem_err:error().
ensure_executor() ->
    ensure(fun kem_nif:nif_started/0, fun() -> kem_nif:nif_start(kem_config:executor_options()) end).

-spec ensure_store() -> ok | kem_err:error().
ensure_store() ->
    ensure(fun kem_nif:nif_store_started/0, fun() -> kem_nif:nif_store_start(kem_config:store_options()) end).

%% A failed start is not remembered, so the next call tries again (a GPU may come back).
ensure(Started, Start) ->
    case safe(Started) of
        true -> ok;
        false -> safe(Start);
        {error, _} = Error -> Error
    end.

safe(Fun) ->
    try Fun()
    catch
        error:undef -> kem_err:new(no_adapter, "kem_nif is not loaded (see the log)");
        error:{not_loaded, _} -> kem_err:new(no_adapter, "kem_nif is not loaded (see the log)");
        error:badarg -> kem_err:new(invalid_argument, "the kem application's settings are malformed")
    end.
