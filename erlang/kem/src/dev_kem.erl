%%% @doc kem@1.0: a HyperBEAM device that runs WGSL compute kernels published on Arweave on
%%% the node's GPU.
%%%
%%% Requests follow the proof of concept: a JSON body (from Msg2, else Msg1, where HyperBEAM
%%% puts the raw HTTP body) with kernel_id, input_data (an array of bytes) or input_base64,
%%% output_size_hint (default 1) and, for execute_kernel_with_params, params (an array of u32).
%%% The same fields may come as plain message keys instead ("kernel-id" as well).
%%% Handlers never raise: failures are {error, #{<<"status">>, <<"body">> => JSON}} with a
%%% machine-readable "error" code and readable "details".
-module(dev_kem).
-export([info/1, info/3, execute_kernel/3, execute_kernel_with_params/3, get_adapter_info/3]).
-export([status_of/1, failure/1, handle_key/4]).

-define(HANDLERS, [<<"info">>, <<"execute_kernel">>, <<"execute_kernel_with_params">>,
                   <<"get_adapter_info">>]).

%% HyperBEAM checks a key against `exports' after lowercasing only, then looks the function up
%% as sent with dashes turned into underscores (hb_ao:is_exported/2, hb_util:key_to_atom/2).
%% So each handler is listed in both spellings (`execute-kernel' reaches execute_kernel/3),
%% and a key in other case ("Execute_Kernel"), which passes the check but names no function,
%% reaches handle_key/4, HyperBEAM's `default' handler of a device.
info(_) ->
    #{exports => ?HANDLERS ++ [binary:replace(H, <<"_">>, <<"-">>, [global]) || H <- ?HANDLERS,
                                                                           H =/= <<"info">>],
      default => fun ?MODULE:handle_key/4}.

%% @doc An exported key in any case and either spelling.
handle_key(Key, Msg1, Msg2, Opts) ->
    % Byte by byte: a key is any binary, not always UTF-8 (string:lowercase/1 raises on that).
    Name = << <<(case C of $- -> $_; _ when C >= $A, C =< $Z -> C + 32; _ -> C end)>>
              || <<C>> <= key_text(Key) >>,
    case Name of
        <<"info">> -> info(Msg1, Msg2, Opts);
        <<"execute_kernel">> -> execute_kernel(Msg1, Msg2, Opts);
        <<"execute_kernel_with_params">> -> execute_kernel_with_params(Msg1, Msg2, Opts);
        <<"get_adapter_info">> -> get_adapter_info(Msg1, Msg2, Opts);
        _ -> failure({error, {not_found, <<"kem@1.0 has no key ", Name/binary>>}})
    end.

key_text(Key) when is_binary(Key) -> Key;
key_text(Key) when is_atom(Key) -> atom_to_binary(Key, utf8);
key_text(Key) -> kem_err:term(Key).

%% @doc The device's description.
info(_Msg1, _Msg2, _Opts) ->
    Info = #{<<"description">> => <<"KEM: WGSL compute kernels from Arweave on the node's GPU">>,
             <<"version">> => <<"1.0">>,
             <<"paths">> => #{
                 <<"info">> => <<"Get device info">>,
                 <<"execute_kernel">> => <<"Execute a kernel on input bytes">>,
                 <<"execute_kernel_with_params">> =>
                     <<"Execute an image kernel with params (PNG or raw RGBA8 in, PNG or raw out)">>,
                 <<"get_adapter_info">> => <<"Get GPU adapter info">>}},
    json(200, Info).

%% @doc Runs kernel_id on the input (with params, if given, as the uniform at binding 2); the
%% body of the reply is the output's bytes.
execute_kernel(Msg1, Msg2, Opts) ->
    handle(fun() ->
        Req = dev_kem_request:fields(Msg1, Msg2, Opts),
        Id = dev_kem_request:kernel_id(Req),
        Input = dev_kem_request:input(Req),
        Hint = dev_kem_request:integer(Req, <<"output_size_hint">>, 1),
        Extra = dev_kem_request:call_options(Req),
        Params = dev_kem_request:params(Req),
        reply(kem:execute({id, Id}, Input, Extra#{output_size_hint => Hint, params => Params}),
              <<"application/octet-stream">>)
    end).

%% @doc The image call: the input is a PNG or raw RGBA8 (width and height in params words 0
%% and 1); the reply is a PNG, or raw RGBA8 with "output_format": "raw".
execute_kernel_with_params(Msg1, Msg2, Opts) ->
    handle(fun() ->
        Req = dev_kem_request:fields(Msg1, Msg2, Opts),
        Id = dev_kem_request:kernel_id(Req),
        Input = dev_kem_request:input(Req),
        Params = dev_kem_request:params(Req),
        Format = dev_kem_request:output_format(Req),
        Extra = maps:with([timeout], dev_kem_request:call_options(Req)),
        Type = case Format of png -> <<"image/png">>; raw -> <<"application/octet-stream">> end,
        Opts1 = Extra#{params => Params, output_format => Format},
        reply(kem_image:execute({id, Id}, Input, Opts1), Type)
    end).

%% @doc The GPU adapter's description as JSON.
get_adapter_info(_Msg1, _Msg2, _Opts) ->
    handle(fun() ->
        case kem:adapter_info_json() of
            {ok, Json} ->
                {ok, #{<<"status">> => 200, <<"content-type">> => <<"application/json">>,
                       <<"body">> => Json}};
            {error, _} = Error ->
                failure(Error)
        end
    end).

%%% Replies

reply({ok, Output}, ContentType) ->
    {ok, #{<<"status">> => 200, <<"content-type">> => ContentType, <<"body">> => Output}};
reply({error, _} = Error, _) ->
    failure(Error).

json(Status, Term) ->
    {ok, #{<<"status">> => Status, <<"content-type">> => <<"application/json">>,
           <<"body">> => kem_hb:json_encode(Term)}}.

failure({error, {Code, Details}}) when is_atom(Code) ->
    Body = kem_hb:json_encode(maps:merge(#{<<"error">> => atom_to_binary(Code, utf8),
                                           <<"details">> => Details},
                                         position(Code, Details))),
    Reply = #{<<"status">> => status_of(Code), <<"content-type">> => <<"application/json">>,
              <<"body">> => Body},
    {error, maps:merge(Reply, retry_after(status_of(Code), Details))};
failure(_) ->
    failure({error, {internal, <<"not an error of the kem NIF">>}}).

%% Every 503 says when to try again: the seconds the service gave (its message ends in
%% "(retry after N ms)", e.g. admission control's estimate of when the work ahead will have
%% shrunk), rounded up, or 1.
retry_after(503, Details) when is_binary(Details) ->
    Seconds = case re:run(Details, <<"\\(retry after ([0-9]+) ms\\)$">>, [{capture, all_but_first, binary}]) of
                  {match, [Ms]} -> max(1, (binary_to_integer(Ms) + 999) div 1000);
                  nomatch -> 1
              end,
    #{<<"retry-after">> => integer_to_binary(Seconds)};
retry_after(503, _) ->
    #{<<"retry-after">> => <<"1">>};
retry_after(_, _) ->
    #{}.

%% A compile error's details start with the kernel's LINE:COL (the first diagnostic's): they
%% are also given as numbers, for tools.
position(compile_error, Details) when is_binary(Details) ->
    case re:run(Details, <<"^([0-9]+):([0-9]+):">>, [{capture, all_but_first, binary}]) of
        {match, [Line, Column]} ->
            #{<<"line">> => binary_to_integer(Line), <<"column">> => binary_to_integer(Column)};
        nomatch -> #{}
    end;
position(_, _) -> #{}.

%% @doc The HTTP status of an error code.
-spec status_of(atom()) -> 400 | 404 | 422 | 500 | 502 | 503 | 504.
status_of(bad_request) -> 400;
status_of(invalid_argument) -> 400;
status_of(not_found) -> 404;
status_of(compile_error) -> 422;
status_of(limit_exceeded) -> 422;
status_of(budget_exceeded) -> 422;
% The gateway sent bytes that do not match what the ID commits to: its fault, not the
% caller's nor ours, so a bad gateway (502) with the store's reason.
status_of(verification_failed) -> 502;
status_of(unavailable) -> 503;
status_of(no_adapter) -> 503;
status_of(device_lost) -> 503;
status_of(busy) -> 503;
status_of(timeout) -> 504;
status_of(_) -> 500.

%% Request errors are thrown by dev_kem_request as {bad_request, Message}; anything else
%% unexpected becomes a 500 with a readable, bounded description.
handle(Fun) ->
    try Fun()
    catch
        throw:{bad_request, Message} ->
            failure({error, {bad_request, iolist_to_binary(Message)}});
        Class:Reason:Stack ->
            logger:error("dev_kem: ~p:~0tP at ~0tP", [Class, Reason, 8, Stack, 8]),
            failure({error, {internal, <<"unexpected ", (kem_err:term(Reason))/binary>>}})
    end.
