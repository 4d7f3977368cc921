%%% @doc KEM's Erlang API: run WGSL compute kernels on the node's GPUs.
%%%
%%% A call is one NIF call: the kernel reference, input and options go to the node's
%%% kem::Service, which resolves the kernel (the source never comes to Erlang), applies the
%%% operator's trust policy and runs it on the least loaded GPU; the result comes back as a
%%% message, so no scheduler (normal or dirty) is held while the kernel is fetched or runs. The
%%% caller waits with the call's timeout and never sees a late reply. Nothing here raises on
%%% bad input: every function returns {ok, _} or {error, {Code, Message}}.
-module(kem).
-export([execute/2, execute/3, check/1, check/2, resolve/1, adapter_info/0, adapter_info_json/0,
         stats/0, update_trust/0]).

-type kernel_ref() :: kem_kernels:ref().
-type opts() :: #{output_size_hint => non_neg_integer(),
                  output_size => non_neg_integer(),
                  params => binary() | [integer()],
                  workgroups => {non_neg_integer(), non_neg_integer(), non_neg_integer()},
                  entry => binary() | string() | atom(),
                  timeout => pos_integer(),
                  loop_budget => non_neg_integer(),
                  overrides => #{atom() | binary() | string() | non_neg_integer() =>
                                     number() | boolean()}}.
-export_type([kernel_ref/0, opts/0]).

-spec execute(kernel_ref(), binary()) -> {ok, binary()} | kem_err:error().
execute(KernelRef, Input) -> execute(KernelRef, Input, #{}).

%% @doc Runs a kernel on Input. The output is byte_size(Input) * output_size_hint bytes
%% (hint 1 by default) unless output_size says exactly; params are bound at @binding(2).
-spec execute(kernel_ref(), binary(), opts()) -> {ok, binary()} | kem_err:error().
execute(KernelRef, Input, Opts) ->
    guard(fun() ->
        with([fun() -> input(Input) end,
              fun() -> kem_request:options(Opts) end,
              fun() -> kem_kernels:ref(KernelRef) end],
             fun([ok, {ok, NifOpts, Params, Timeout}, {ok, Kernel}]) ->
                 call(Kernel, Input, Params, NifOpts, Timeout)
             end)
    end).

%% @doc Compiles a kernel and returns its reflection (bindings, entry points), or the compile
%% error, whose message starts "LINE:COLUMN: ".
-spec check(kernel_ref()) -> {ok, map()} | kem_err:error().
check(KernelRef) -> check(KernelRef, #{}).

-spec check(kernel_ref(), #{entry => binary() | string() | atom()}) -> {ok, map()} | kem_err:error().
check(KernelRef, Opts) ->
    guard(fun() ->
        with([fun() -> check_opts(Opts) end,
              fun() -> kem_kernels:ref(KernelRef) end],
             fun([{ok, Entry}, {ok, {Kind, Value}}]) ->
                 kem_node:call(fun() -> kem_nif:nif_check(Kind, Value, Entry) end)
             end)
    end).

%% @doc Where the kernel comes from: #{source, id, owner_address, origin, verification,
%% description}, from the node's kernel store (pins, caches, gateways, verification).
-spec resolve(kernel_ref()) -> {ok, map()} | kem_err:error().
resolve(KernelRef) ->
    guard(fun() ->
        case kem_kernels:ref(KernelRef) of
            {ok, {Kind, Value}} -> kem_node:call(fun() -> kem_nif:nif_resolve(Kind, Value) end);
            Error -> Error
        end
    end).

%% @doc The devices' description: the first adapter's (name, vendor, backend, limits...) and,
%% under <<"devices">>, every GPU device of the node with its load, health and counters.
-spec adapter_info() -> {ok, map()} | kem_err:error().
adapter_info() ->
    case adapter_info_json() of
        {ok, Json} -> kem_json:decode(Json);
        Error -> Error
    end.

-spec adapter_info_json() -> {ok, binary()} | kem_err:error().
adapter_info_json() -> guard(fun() -> kem_node:call(fun kem_nif:nif_adapter_info/0) end).

%% @doc The service's counters (calls, errors, pipeline cache hits/misses, device losses,
%% submissions, retries) summed over its devices, and each device's under `devices`.
-spec stats() -> map().
stats() ->
    try kem_nif:nif_stats()
    catch error:_ -> #{}
    end.

%% @doc Applies unmetered_ids and unmetered_owners, as the environment has them now, to the
%% running service (they are read when it starts).
-spec update_trust() -> ok | kem_err:error().
update_trust() -> guard(fun kem_node:update_trust/0).

%%% Internals

%% The reference is made here, right before the receive, so the VM only scans messages that
%% arrived after it (OTP's selective-receive optimisation).
call({Kind, Value}, Input, Params, NifOpts, Timeout0) ->
    {Timeout, Wait} = kem_config:call_timeout(Timeout0),
    Ref = make_ref(),
    Submit = fun() -> kem_nif:nif_execute(Ref, Kind, Value, Input, Params, NifOpts#{timeout => Timeout}) end,
    case kem_node:call(Submit) of
        {ok, Job} ->
            receive
                {kem_reply, Ref, Result} -> Result
            after Wait ->
                gave_up(Ref, Job, Timeout)
            end;
        {error, _} = Error ->
            Error
    end.

%% Past the deadline: either the job is cancelled (no reply will ever come) or its reply was
%% already sent and is taken out of the mailbox here.
gave_up(Ref, Job, Timeout) ->
    case kem_nif:nif_cancel(Job) of
        cancelled ->
            kem_err:new(timeout, "no result within ~b ms", [Timeout]);
        sent ->
            receive {kem_reply, Ref, Result} -> Result
            after 5000 -> kem_err:new(timeout, "no result within ~b ms", [Timeout])
            end
    end.

input(Input) when is_binary(Input) -> ok;
input(Other) -> kem_err:new(invalid_argument, "the input must be a binary, not ~ts", [kem_err:term(Other)]).

check_opts(Opts) when is_map(Opts) ->
    case kem_request:options(maps:with([entry], Opts)) of
        {ok, NifOpts, _, _} -> {ok, maps:get(entry, NifOpts, <<"main">>)};
        Error -> Error
    end;
check_opts(Other) ->
    kem_err:new(invalid_argument, "options must be a map, not ~ts", [kem_err:term(Other)]).

%% Runs the steps in order, stopping at the first error; Then gets every step's result.
with(Steps, Then) -> with(Steps, Then, []).
with([], Then, Acc) -> Then(lists:reverse(Acc));
with([Step | Rest], Then, Acc) ->
    case Step() of
        {error, _} = Error -> Error;
        Result -> with(Rest, Then, [Result | Acc])
    end.

%% The last line of defence: a failing NIF load or a bug here is an error value, never a crash
%% of the caller.
guard(Fun) ->
    try Fun()
    catch
        error:undef:Stack ->
            case Stack of
                [{kem_nif, _, _, _} | _] -> kem_err:new(no_adapter, "kem_nif is not loaded (see the log)");
                _ -> internal(undef, Stack)
            end;
        error:{not_loaded, kem_nif} ->
            kem_err:new(no_adapter, "kem_nif is not loaded (see the log)");
        Class:Reason:Stack ->
            internal({Class, Reason}, Stack)
    end.

internal(Reason, Stack) ->
    logger:error("kem: unexpected ~0tP at ~0tP", [Reason, 8, Stack, 8]),
    kem_err:new(internal, "unexpected ~ts", [kem_err:term(Reason)]).
