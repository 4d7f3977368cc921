%%% @doc The kem application's environment, read with defaults whether or not the
%%% application was started (a HyperBEAM node may only load it).
%%%
%%% The settings and their defaults are libkem's settings table (kem/settings.h, listed by
%%% kem_nif:nif_settings/0 and by `kem settings`): no default is written here. The one setting
%%% of the Erlang side alone is `http`, KEM's own HTTP endpoint.
-module(kem_config).
-export([value/1, service_settings/0, call_timeout/1, max_timeout/0, texts/1]).

-define(ERLANG_DEFAULTS, #{http => #{enabled => false}}).

%% @doc One setting of the kem application, or its default (undefined for an unknown key, or
%% while the NIF cannot be loaded).
-spec value(atom()) -> term().
value(Key) ->
    ensure_loaded(),
    case application:get_env(kem, Key) of
        {ok, Value} -> Value;
        undefined -> default(Key)
    end.

default(Key) ->
    case ?ERLANG_DEFAULTS of
        #{Key := Value} -> Value;
        _ -> maps:get(Key, maps:get(defaults, table(), #{}), undefined)
    end.

%% @doc The settings the environment sets, as kem_nif:nif_start/1 takes them: texts as
%% binaries, text lists as lists of binaries (a single string is a list of one), choices as
%% binaries. Settings left unset keep libkem's defaults.
-spec service_settings() -> #{atom() => term()}.
service_settings() ->
    ensure_loaded(),
    maps:fold(fun(Name, Kind, Acc) ->
                      case application:get_env(kem, Name) of
                          {ok, Value} -> Acc#{Name => normalize(Kind, Value)};
                          undefined -> Acc
                      end
              end, #{}, maps:get(kinds, table(), #{})).

%% @doc The executor's deadline for a call, and how long its caller waits for the reply. A
%% caller's own timeout may lower the deadline, never raise it past max_timeout/0 (issue 14:
%% one call asking for 24 hours held the GPU while everyone else's calls failed).
-spec call_timeout(pos_integer() | undefined) -> {pos_integer(), pos_integer()}.
call_timeout(undefined) -> call_timeout(value(default_timeout));
call_timeout(Ms) ->
    Capped = min(Ms, max_timeout()),
    {Capped, Capped + value(reply_margin)}.

%% @doc The longest deadline any call gets: libkem's max_timeout setting where the NIF has it
%% (the service enforces it too), else default_timeout, which is then the cap as well.
-spec max_timeout() -> pos_integer().
max_timeout() ->
    case value(max_timeout) of
        Ms when is_integer(Ms), Ms > 0 -> Ms;
        _ -> value(default_timeout)
    end.

%% @doc A text list setting's value as binaries.
-spec texts(term()) -> [binary()].
texts(Value) -> normalize(text_list, Value).

%%% Internals

%% The table, read from the NIF once per node (persistent_term); not remembered while the
%% NIF cannot be loaded, so a later read tries again.
table() ->
    case persistent_term:get({?MODULE, table}, undefined) of
        undefined ->
            try kem_nif:nif_settings() of
                Rows when is_list(Rows) ->
                    Table = #{defaults => maps:from_list([{N, D} || #{name := N, default := D} <- Rows]),
                              kinds => maps:from_list([{N, K} || #{name := N, kind := K} <- Rows])},
                    persistent_term:put({?MODULE, table}, Table),
                    Table
            catch
                error:_ -> #{}
            end;
        Table ->
            Table
    end.

normalize(text, V) -> to_binary(V);
normalize(choice, V) -> to_binary(V);
normalize(text_list, V) when is_binary(V) -> [V];
normalize(text_list, V) when is_list(V) ->
    case io_lib:printable_unicode_list(V) andalso V =/= [] of
        true -> [to_binary(V)];
        false -> [to_binary(E) || E <- V]
    end;
normalize(_, V) -> V.

%% Anything that is not text is passed on as it is: the NIF answers with the setting's name.
to_binary(B) when is_binary(B) -> B;
to_binary(A) when is_atom(A) -> atom_to_binary(A, utf8);
to_binary(L) when is_list(L) ->
    try unicode:characters_to_binary(L) of
        B when is_binary(B) -> B;
        _ -> L
    catch error:badarg -> L
    end;
to_binary(Other) -> Other.

%% Loading reads kem.app from disk (about 19 us), and value/1 runs several times per call, so
%% it is tried once per node. An application loaded (or unloaded) later still reads its
%% environment: get_env looks at whatever is loaded now.
ensure_loaded() ->
    case persistent_term:get({?MODULE, load_tried}, false) of
        true -> ok;
        false ->
            _ = application:load(kem),
            persistent_term:put({?MODULE, load_tried}, true)
    end.
