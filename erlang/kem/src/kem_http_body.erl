%%% @doc A request body read from Cowboy in bounded steps (issue 14):
%%% - never more than max_body bytes kept for one request, counted in bytes as they arrive
%%%   (a Content-Length over it is answered 413 before anything is read);
%%% - all bodies being read or served at once within max_body_total bytes (503 + Retry-After
%%%   beyond it), the reservation held until release/1 or the process's end (kem_http_hold);
%%% - the body must keep coming: each read period (1 s) must bring min_body_rate bytes a
%%%   second, and the whole body must arrive within body_timeout ms (408 + Retry-After).
%%% Cowboy holds at most one read's worth (a period's data, at most 1 MiB) besides. A body
%%% that came in several pieces is joined into one binary at the end: for that instant its
%%% bytes are held twice (the pieces are garbage right after).
-module(kem_http_body).
-export([read/2, release/1]).

-define(PERIOD, 1000).
-define(STEP, 1024 * 1024).

%% The bytes of max_body_total this request holds.
-type reservation() :: non_neg_integer().

%% @doc {ok, Body, Reservation, Req} or {error, Reply, Reservation, Req} (the reply to send:
%% it closes the connection, whose unread body is not wanted). Release the reservation once
%% the body is no longer held, in both cases.
-spec read(cowboy_req:req(), map()) ->
    {ok, binary(), reservation(), cowboy_req:req()} | {error, {error, map()}, reservation(), cowboy_req:req()}.
read(Req, #{max_body := MaxBody} = Settings) ->
    None = 0,
    case {cowboy_req:has_body(Req), cowboy_req:body_length(Req)} of
        {false, _} ->
            {ok, <<>>, None, Req};
        {true, Length} when is_integer(Length), Length > MaxBody ->
            {error, too_large(MaxBody), None, Req};
        {true, Length} ->
            % A known length is reserved whole, at once; a chunked body as it arrives.
            case reserve(0, case Length of undefined -> 0; _ -> Length end, Settings) of
                {ok, Held} ->
                    Deadline = erlang:monotonic_time(millisecond) + maps:get(body_timeout, Settings),
                    loop(Req, [], 0, Held, Deadline, Settings);
                busy ->
                    {error, busy(Settings), None, Req}
            end
    end.

-spec release(reservation()) -> ok.
release(N) -> kem_http_hold:give_bytes(kem_http:settings(), N).

loop(Req, Acc, Got, Held, Deadline, Settings = #{max_body := MaxBody, min_body_rate := MinRate}) ->
    Start = erlang:monotonic_time(millisecond),
    Period = max(1, min(?PERIOD, Deadline - Start)),
    % One byte more than max_body is enough to know the body is too large.
    Want = max(1, min(?STEP, MaxBody + 1 - Got)),
    case read_step(Req, Want, Period) of
        {error, timeout} ->
            {error, too_slow(MinRate), Held, Req};
        {Fin, Data, Req1} ->
            Got1 = Got + byte_size(Data),
            Took = erlang:monotonic_time(millisecond) - Start,
            case Got1 > MaxBody orelse reserve(Held, Got1, Settings) of
                true ->
                    {error, too_large(MaxBody), Held, Req1};
                busy ->
                    {error, busy(Settings), Held, Req1};
                {ok, Held1} when Fin =:= ok ->
                    % One piece is the body as it is; several are joined once (for that
                    % instant the bytes are there twice).
                    Body = case Acc of
                               [] -> Data;
                               _ -> iolist_to_binary(lists:reverse(Acc, [Data]))
                           end,
                    {ok, Body, Held1, Req1};
                {ok, Held1} ->
                    Now = erlang:monotonic_time(millisecond),
                    % A period that ended by time (not by Want bytes) must have brought the
                    % minimum rate's worth.
                    Slow = Took >= Period andalso byte_size(Data) * 1000 < MinRate * Took,
                    if
                        Now >= Deadline -> {error, too_late(Settings), Held1, Req1};
                        Slow -> {error, too_slow(MinRate), Held1, Req1};
                        true -> loop(Req1, [Data | Acc], Got1, Held1, Deadline, Settings)
                    end
            end
    end.

%% cowboy_req:read_body/2 exits with timeout when no answer comes from the connection at all.
read_step(Req, Want, Period) ->
    % Period + 1 s, as Cowboy's own default: a client gone away is noticed within 2 s.
    try cowboy_req:read_body(Req, #{length => Want, period => Period, timeout => Period + 1000}) of
        {ok, Data, Req1} -> {ok, Data, Req1};
        {more, Data, Req1} -> {more, Data, Req1}
    catch exit:timeout -> {error, timeout}
    end.

%% The reservation grows to Want bytes (never shrinks): {ok, NewHeld} or busy.
reserve(Held, Want, _) when Want =< Held -> {ok, Held};
reserve(Held, Want, Settings) ->
    case kem_http_hold:take_bytes(Settings, Want - Held) of
        ok -> {ok, Want};
        busy -> busy
    end.

too_large(MaxBody) ->
    closing(kem_http_reply:error(413, limit_exceeded, iolist_to_binary(
        io_lib:format("the body is over the endpoint's max_body (~b bytes)", [MaxBody])))).

busy(#{max_body_total := Total}) ->
    closing(kem_http_reply:refusal(503, busy, iolist_to_binary(
        io_lib:format("bodies being received fill the endpoint's max_body_total (~b bytes); retry shortly", [Total])))).

too_slow(MinRate) ->
    closing(kem_http_reply:refusal(408, timeout, iolist_to_binary(
        io_lib:format("the body arrives slower than the endpoint's min_body_rate (~b bytes/s)", [MinRate])))).

too_late(#{body_timeout := Ms}) ->
    closing(kem_http_reply:refusal(408, timeout, iolist_to_binary(
        io_lib:format("the body did not arrive within the endpoint's body_timeout (~b ms)", [Ms])))).

closing({error, Reply}) -> {error, Reply#{<<"connection">> => <<"close">>}}.
