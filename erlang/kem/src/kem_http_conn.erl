%%% @doc The Ranch protocol of KEM's HTTP endpoint: Cowboy's HTTP/1.1 (as cowboy_clear
%%% starts it), behind a limit on connections per client address, so that one client's
%%% slow or idle connections cannot take every slot of the listener (issue 14: 300 slow
%%% connections locked every other client out of the inets endpoint). A connection over the
%%% limit is answered 429 with a JSON reason and Retry-After, then closed.
-module(kem_http_conn).
%% A ranch_protocol (no -behaviour attribute: kem compiles where Ranch is not on the code
%% path, and warnings are errors).
-export([start_link/3, start_link/4, init/4]).

start_link(Ref, _Socket, Transport, Opts) -> start_link(Ref, Transport, Opts).

start_link(Ref, Transport, Opts) ->
    {ok, proc_lib:spawn_link(?MODULE, init, [self(), Ref, Transport, Opts])}.

init(Parent, Ref, Transport, Opts) ->
    {ok, Socket} = ranch:handshake(Ref),
    case Transport:peername(Socket) of
        {ok, {Address, _}} ->
            case kem_http:admit(Address) of
                ok ->
                    % As cowboy_clear does for a supervisor-type connection.
                    process_flag(trap_exit, true),
                    cowboy_http:init(Parent, Ref, Socket, Transport, undefined, Opts);
                {refused, Max} ->
                    kem_metrics:request(<<"connection">>, 429, 0),
                    refuse(Transport, Socket, Max)
            end;
        {error, _} ->
            Transport:close(Socket)
    end.

%% The reply goes out before the request is read; the request is then drained for a moment so
%% that closing with unread bytes (which makes the kernel send RST) does not destroy the
%% reply before the client has read it.
refuse(Transport, Socket, Max) ->
    Details = iolist_to_binary(io_lib:format("more than ~b connections from this address at once; "
                                             "retry shortly", [Max])),
    _ = Transport:send(Socket, kem_http_reply:raw(429, busy, Details)),
    _ = Transport:shutdown(Socket, write),
    drain(Transport, Socket, 4),
    Transport:close(Socket).

drain(_, _, 0) -> ok;
drain(Transport, Socket, N) ->
    case Transport:recv(Socket, 0, 250) of
        {ok, _} -> drain(Transport, Socket, N - 1);
        {error, _} -> ok
    end.
