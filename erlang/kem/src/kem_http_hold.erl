%%% @doc What a request process of the endpoint holds of the shared limits (a call slot of
%%% max_concurrency, bytes of max_body_total), given back by the process when it is done or,
%%% when it dies first (Cowboy kills a request's process when its client goes away), by
%%% kem_http, which monitors every holder. Without this a client that hangs up mid-call or
%%% mid-body would leak its slot or bytes for good, and the endpoint would end up refusing
%%% everyone.
%%%
%%% The counts live twice: the atomics that every request checks (fast), and one row per
%%% holder {Pid, Calls, Bytes} in a table owned by kem_http, from which a dead holder's share
%%% is taken back. The holder changes the row first, then the atomics; kem_http_handler traps
%%% exits so that Cowboy's shutdown signal cannot land between the two, only the kill that
%%% follows 5 s later.
-module(kem_http_hold).
-export([new_table/0, take_call/1, give_call/1, take_bytes/2, give_bytes/2, dead/1]).

-define(TAB, kem_http_holds).

%% @doc Made by kem_http's process, which owns it.
new_table() ->
    _ = ets:new(?TAB, [named_table, public, {write_concurrency, true}]),
    ok.

%% @doc A call slot: ok, or busy when max_concurrency calls are being served.
-spec take_call(map()) -> ok | busy.
take_call(#{max_concurrency := Max, calls := Calls}) ->
    row(2, 1),
    case atomics:add_get(Calls, 1, 1) of
        N when N > Max ->
            atomics:sub(Calls, 1, 1),
            row(2, -1),
            busy;
        _ ->
            kem_metrics:in_flight(1),
            ok
    end.

-spec give_call(map()) -> ok.
give_call(#{calls := Calls}) ->
    row(2, -1),
    atomics:sub(Calls, 1, 1),
    kem_metrics:in_flight(-1),
    ok.

%% @doc N more bytes of bodies: ok, or busy when max_body_total would be passed.
-spec take_bytes(map(), pos_integer()) -> ok | busy.
take_bytes(#{max_body_total := Total, body_bytes := Bytes}, N) ->
    row(3, N),
    case atomics:add_get(Bytes, 1, N) of
        Now when Now > Total ->
            atomics:sub(Bytes, 1, N),
            row(3, -N),
            busy;
        _ ->
            ok
    end.

-spec give_bytes(map(), non_neg_integer()) -> ok.
give_bytes(_, 0) -> ok;
give_bytes(#{body_bytes := Bytes}, N) ->
    row(3, -N),
    atomics:sub(Bytes, 1, N),
    ok.

%% @doc Called by kem_http when a holder is gone: what it still held goes back.
-spec dead(pid()) -> ok.
dead(Pid) ->
    case ets:take(?TAB, Pid) of
        [{_, Calls, Bytes}] ->
            #{calls := C, body_bytes := B} = kem_http:settings(),
            atomics:sub(C, 1, Calls),
            atomics:sub(B, 1, Bytes),
            kem_metrics:in_flight(-Calls),
            ok;
        [] ->
            ok
    end.

%% The holder's row; the first one makes kem_http watch this process.
row(Pos, N) ->
    case ets:insert_new(?TAB, {self(), 0, 0}) of
        true -> kem_http:watch_holder(self());
        false -> ok
    end,
    ets:update_counter(?TAB, self(), {Pos, N}).
