%%% @doc Error values: {error, {Code, Message}} with a snake_case atom Code (the names of
%%% kem::ErrorCode) and a readable binary Message.
-module(kem_err).
-export([new/2, new/3, term/1]).

-export_type([error/0]).
-type error() :: {error, {atom(), binary()}}.

-spec new(atom(), iodata()) -> error().
new(Code, Message) -> {error, {Code, iolist_to_binary(Message)}}.

-spec new(atom(), io:format(), [term()]) -> error().
new(Code, Format, Args) -> {error, {Code, unicode:characters_to_binary(io_lib:format(Format, Args))}}.

%% @doc A short printable form of any term (possibly huge or deep) for messages.
-spec term(term()) -> binary().
term(T) -> unicode:characters_to_binary(io_lib:format("~0tP", [T, 6])).
