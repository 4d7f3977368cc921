%%% @doc The kem application's environment, read with defaults whether or not the
%%% application was started (a HyperBEAM node may only load it).
-module(kem_config).
-export([value/1, executor_options/0, store_options/0, call_timeout/1]).

-define(DEFAULTS, #{
    adapter => "",
    max_input_bytes => 1073741824,
    max_output_bytes => 268435456,
    default_timeout => 30000,
    reply_margin => 2000,
    pipeline_cache_capacity => 256,
    metering => true,
    loop_budget => 16777216,
    unmetered_ids => [],
    unmetered_owners => [],
    gateways => ["https://arweave.net", "https://turbo-gateway.com"],
    cache_dir => "",
    disk_cache => true,
    offline => false,
    verify => required,
    pin_dir => "",
    allowed_owners => [],
    max_source_bytes => 1048576,
    gateway_connect_timeout => 5000,
    gateway_request_timeout => 30000,
    gateway_backoff_initial => 1000,
    gateway_backoff_max => 60000,
    negative_ttl => 300000,
    http => #{enabled => false}
}).

%% @doc One setting of the kem application, or its default.
-spec value(atom()) -> term().
value(Key) ->
    ensure_loaded(),
    application:get_env(kem, Key, maps:get(Key, ?DEFAULTS, undefined)).

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

%% @doc The map kem_nif:nif_start/1 takes.
executor_options() ->
    #{adapter => to_binary(value(adapter)),
      max_input_bytes => value(max_input_bytes),
      max_output_bytes => value(max_output_bytes),
      timeout => value(default_timeout),
      pipeline_cache_capacity => value(pipeline_cache_capacity),
      metering => value(metering),
      loop_budget => value(loop_budget)}.

%% @doc The map kem_nif:nif_store_start/1 takes.
store_options() ->
    #{gateways => [to_binary(G) || G <- value(gateways)],
      cache_dir => to_binary(value(cache_dir)),
      disk_cache => value(disk_cache),
      offline => value(offline),
      verify => value(verify),
      pin_dir => to_binary(value(pin_dir)),
      allowed_owners => [to_binary(O) || O <- value(allowed_owners)],
      max_source_bytes => value(max_source_bytes),
      connect_timeout => value(gateway_connect_timeout),
      request_timeout => value(gateway_request_timeout),
      backoff_initial => value(gateway_backoff_initial),
      backoff_max => value(gateway_backoff_max),
      negative_ttl => value(negative_ttl)}.

%% @doc The executor's deadline for a call, and how long its caller waits for the reply.
-spec call_timeout(pos_integer() | undefined) -> {pos_integer(), pos_integer()}.
call_timeout(undefined) -> call_timeout(value(default_timeout));
call_timeout(Ms) -> {Ms, Ms + value(reply_margin)}.

to_binary(B) when is_binary(B) -> B;
to_binary(L) when is_list(L) -> unicode:characters_to_binary(L);
to_binary(A) when is_atom(A) -> atom_to_binary(A, utf8).
