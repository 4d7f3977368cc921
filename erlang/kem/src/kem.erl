%%% @doc KEM's Erlang API: run WGSL compute kernels on the node's GPU.
%%%
%%% A call is submitted to the executor's GPU thread and its result comes back as a message,
%%% so no scheduler (normal or dirty) is held while the GPU works; the caller waits with the
%%% call's timeout and never sees a late reply. Nothing here raises on bad input: every
%%% function returns {ok, _} or {error, {Code, Message}}.
-module(kem).
-export([execute/2, execute/3, check/1, check/2, adapter_info/0, adapter_info_json/0,
         stats/0]).

-type kernel_ref() :: kem_kernels:ref().
-type opts() :: #{output_size_hint => non_neg_integer(),
                  output_size => non_neg_integer(),
                  params => binary() | [integer()],
                  workgroups => {non_neg_integer(), non_neg_integer(), non_neg_integer()},
                  entry => binary() | string() | atom(),
                  timeout => pos_integer(),
                  loop_budget => non_neg_integer()}.
-export_type([kernel_ref/0, opts/0]).
%% The allow-lists' decision alone, for tests.
-export([unmetered/2]).

-spec execute(kernel_ref(), binary()) -> {ok, binary()} | kem_err:error().
execute(KernelRef, Input) -> execute(KernelRef, Input, #{}).

%% @doc Runs a kernel on Input. The output is byte_size(Input) * output_size_hint bytes
%% (hint 1 by default) unless output_size says exactly; params are bound at @binding(2).
-spec execute(kernel_ref(), binary(), opts()) -> {ok, binary()} | kem_err:error().
execute(KernelRef, Input, Opts) ->
    guard(fun() ->
        with([fun() -> input(Input) end,
              fun() -> kem_request:options(Opts) end,
              fun() -> kem_kernels:source(KernelRef) end,
              fun() -> kem_node:ensure_executor() end],
             fun([ok, {ok, NifOpts, Params, Timeout}, {ok, Source}, ok]) ->
                 call(Source, Input, Params, NifOpts#{unmetered => trusted(KernelRef)}, Timeout)
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
              fun() -> kem_kernels:source(KernelRef) end,
              fun() -> kem_node:ensure_executor() end],
             fun([{ok, Entry}, {ok, Source}, ok]) -> kem_nif:nif_check(Source, Entry) end)
    end).

%% @doc The adapter's description (name, vendor, backend, limits...).
-spec adapter_info() -> {ok, map()} | kem_err:error().
adapter_info() ->
    case adapter_info_json() of
        {ok, Json} -> kem_json:decode(Json);
        Error -> Error
    end.

-spec adapter_info_json() -> {ok, binary()} | kem_err:error().
adapter_info_json() ->
    guard(fun() ->
        case kem_node:ensure_executor() of
            ok -> kem_nif:nif_adapter_info();
            Error -> Error
        end
    end).

%% @doc The executor's counters (calls, errors, pipeline cache hits/misses, device losses).
-spec stats() -> map().
stats() ->
    try kem_nif:nif_stats()
    catch error:_ -> #{}
    end.

%%% Internals

%% The reference is made here, right before the receive, so the VM only scans messages that
%% arrived after it (OTP's selective-receive optimisation).
call(Source, Input, Params, NifOpts, Timeout0) ->
    {Timeout, Wait} = kem_config:call_timeout(Timeout0),
    Ref = make_ref(),
    case kem_nif:nif_submit(Ref, Source, Input, Params, NifOpts#{timeout => Timeout}) of
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

%% Loop metering is skipped only for a kernel fetched by ID that the operator trusts: its ID is
%% listed in unmetered_ids, or its owner is listed in unmetered_owners. The store knows the owner
%% only once it has verified the kernel's signature, so an unverified or pinned kernel is trusted
%% by ID alone; a {source, _} or {file, _} kernel is always metered.
trusted(KernelRef) -> unmetered(KernelRef, owner(KernelRef)).

%% @doc The allow-lists' decision, given the kernel's verified owner (<<>> when unknown).
unmetered({id, Id}, Owner) when is_binary(Owner) ->
    %% Exported, so any term may arrive: what is not a kernel ID in text is never trusted.
    try text(Id) of
        IdText when is_binary(IdText) ->
            lists:member(IdText, [text(T) || T <- kem_config:value(unmetered_ids)])
                orelse (Owner =/= <<>> andalso
                        lists:member(Owner, [text(O) || O <- kem_config:value(unmetered_owners)]));
        _ ->
            false
    catch
        error:_ -> false
    end;
unmetered(_, _) ->
    false.

%% The verified owner of an {id, _} kernel, asked of the store only when some owner is listed.
%% The kernel was resolved just before, so this is a hit in the store's memory cache.
owner({id, Id}) ->
    case kem_config:value(unmetered_owners) of
        [] -> <<>>;
        _ ->
            case kem_nif:nif_resolve(id, text(Id)) of
                {ok, #{owner_address := Owner}} -> Owner;
                _ -> <<>>
            end
    end;
owner(_) ->
    <<>>.

text(T) -> unicode:characters_to_binary(T).

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
