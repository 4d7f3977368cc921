%%% @doc The node's one kem::Service (kernel store, every GPU, trust policy), inside kem_nif and
%%% created on first use from the application environment (kem_config). A call that finds it
%%% not started starts it (on a dirty scheduler) and is made again, so a warm call is one NIF
%%% call.
-module(kem_node).
-export([call/1, start/0, update_trust/0]).

%% @doc Fun() (a NIF call that answers not_started before the service exists), starting the
%% service first when needed.
-spec call(fun(() -> term())) -> term().
call(Fun) ->
    case safe(Fun) of
        not_started ->
            case start() of
                ok -> not_started_again(safe(Fun));
                Error -> Error
            end;
        Result ->
            Result
    end.

not_started_again(not_started) -> kem_err:new(internal, "the kem service did not start");
not_started_again(Result) -> Result.

%% @doc Creates the service unless it exists. A failed start is not remembered, so the next
%% call tries again (a GPU may come back).
-spec start() -> ok | kem_err:error().
start() -> safe(fun() -> kem_nif:nif_start(kem_config:service_settings()) end).

%% @doc Applies the environment's unmetered_ids and unmetered_owners to the running service
%% (they are read at start; this makes an edit take effect without a restart).
-spec update_trust() -> ok | kem_err:error().
update_trust() ->
    call(fun() -> kem_nif:nif_set_trust(kem_config:texts(kem_config:value(unmetered_ids)),
                                         kem_config:texts(kem_config:value(unmetered_owners)))
         end).

safe(Fun) ->
    try Fun()
    catch
        error:undef -> kem_err:new(no_adapter, "kem_nif is not loaded (see the log)");
        error:{not_loaded, _} -> kem_err:new(no_adapter, "kem_nif is not loaded (see the log)");
        error:badarg -> kem_err:new(invalid_argument, "the kem application's settings are malformed")
    end.
